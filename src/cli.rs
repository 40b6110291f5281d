//! Command line (DESIGN.md contract): the flags and subcommands, parsed by clap. Owns their
//! names, defaults and help text only; what they mean for the run is `config::resolve`.

use std::path::PathBuf;
use std::time::Duration;

use clap::builder::PossibleValuesParser;
use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::ui::theme::Theme;

/// `--version`: the package version and, when built from a git checkout, its commit
/// (`-dirty` when tracked files differed from it); see build.rs.
pub const VERSION: &str = env!("SHIPDECK_VERSION");

/// Exit codes of every command, for `--help` and the man page.
const EXIT_STATUS: &str = "\
Exit status:
  0    success (wait: the condition was reached)
  1    the command failed (doctor: problems found; a terminal that went away)
  2    bad usage: a flag, the configuration file, the kubeconfig or --from-files
  3    wait: timed out; snapshot: a cluster, or a kind on it, did not answer within --wait
  4    wait: the release degraded while waiting for healthy or paused
  5    wait: the release was not found, or its cluster could not be reached
  101  a bug (panic)
  128+n  ended by signal n (130 Ctrl-c, 143 SIGTERM)";

/// `wait`'s exit codes in its own help.
const WAIT_STATUS: &str = "\
Exit status (as `kubectl argo rollouts status`, with a code per outcome):
  0  the release reached the state
  2  bad usage (target, flags, configuration, kubeconfig)
  3  --timeout passed first
  4  the release degraded while waiting for healthy or paused
  5  not found (after the cluster's first lists, or deleted while waiting), or its
     cluster unreachable or forbidden before the release was seen
Progress and the final `done:` line go to stdout; why a wait failed goes to stderr.";

#[derive(Debug, Parser)]
#[command(
    name = "shipdeck",
    version = VERSION,
    about = "Release console for on-call engineers: every cluster's rollouts, canaries, SLO burn and failures on one screen, with guarded actions.",
    after_help = EXIT_STATUS
)]
pub struct Cli {
    #[command(flatten)]
    pub opts: Opts,
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Print the fleet once (table or JSON) and exit.
    /// Exit 0 when every cluster answered; 3 when any did not (each named on stderr; the JSON's
    /// clusters[] has every cluster's state); 2 on bad usage.
    Snapshot {
        /// JSON with clusters[], releases[], slos[], failures[].
        #[arg(long)]
        json: bool,
        /// Seconds to wait for every cluster's first lists, and for a kind whose list failed to
        /// list again on its retry (live clusters only).
        #[arg(long, default_value_t = 10)]
        wait: u64,
    },
    /// Check each cluster and Prometheus: reachability, versions, CRDs, RBAC. Non-zero exit on problems.
    /// With --demo, the simulated fleet.
    Doctor,
    /// Wait until a release is healthy, paused or degraded (for CI and chat-ops).
    #[command(after_help = WAIT_STATUS)]
    Wait(WaitArgs),
    /// Print a shell completion script: `source <(shipdeck completions bash)`.
    Completions {
        /// The shell to complete for.
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the manual page (roff): `shipdeck man | man -l -`; `shipdeck man wait` for a
    /// subcommand's own page.
    Man {
        /// A subcommand whose page to print (snapshot, doctor, wait, completions, man).
        page: Option<String>,
    },
}

/// `shipdeck wait`'s arguments.
#[derive(Debug, Args, Clone)]
pub struct WaitArgs {
    /// CLUSTER/NAMESPACE/NAME, or NAMESPACE/NAME on the only cluster shown (the kubeconfig's
    /// current context, or --context).
    pub target: String,
    /// The state to wait for.
    #[arg(long = "for", value_enum, default_value_t = WaitFor::Healthy)]
    pub condition: WaitFor,
    /// Give up after this long: 90s, 10m, 1h30m (at most 24h).
    #[arg(long, default_value = "10m", value_parser = parse_timeout)]
    pub timeout: Duration,
    /// Which kind, when several releases share the name (default: Rollout, then Canary,
    /// then Deployment).
    #[arg(long, ignore_case = true, value_parser = PossibleValuesParser::new(["rollout", "canary", "deployment"]))]
    pub kind: Option<String>,
}

/// What `wait` waits for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum WaitFor {
    /// Fully rolled out and available.
    Healthy,
    /// Paused: a step pause, a manual pause, or waiting for promotion.
    Paused,
    /// Failed: aborted, degraded, progress deadline exceeded.
    Degraded,
}

/// The longest `--timeout` accepted.
const MAX_TIMEOUT: Duration = Duration::from_secs(24 * 3600);

/// `--timeout`: a positive duration such as `90s`, `10m` or `1h30m`, at most a day.
fn parse_timeout(s: &str) -> Result<Duration, String> {
    let bad = || format!("{s:?} is not a duration like 90s, 10m or 1h30m");
    let d: jiff::SignedDuration = s.trim().parse().map_err(|_| bad())?;
    let d = Duration::try_from(d).map_err(|_| bad())?;
    if d.is_zero() || d > MAX_TIMEOUT {
        return Err(format!("{s:?} must be more than 0 and at most 24h"));
    }
    Ok(d)
}

/// `--theme`: a built-in theme's name, offered to completion. Not clap's own possible-values
/// check: its error drops escape sequences from the value it quotes, and ours quotes the
/// value whole (Rust-escaped), as every other error naming a hostile value does.
#[derive(Debug, Clone, Copy)]
struct ThemeName;

impl clap::builder::TypedValueParser for ThemeName {
    type Value = String;

    fn parse_ref(
        &self,
        cmd: &clap::Command,
        arg: Option<&clap::Arg>,
        value: &std::ffi::OsStr,
    ) -> Result<String, clap::Error> {
        let value = value.to_string_lossy();
        let names = Theme::names();
        if names.contains(&value.as_ref()) {
            return Ok(value.into_owned());
        }
        let flag = arg.map_or_else(|| "--theme".to_string(), ToString::to_string);
        let message = format!(
            "invalid value {value:?} for '{flag}': valid themes are {}\n",
            names.join(", ")
        );
        Err(clap::Error::raw(clap::error::ErrorKind::InvalidValue, message).with_cmd(cmd))
    }

    fn possible_values(
        &self,
    ) -> Option<Box<dyn Iterator<Item = clap::builder::PossibleValue> + '_>> {
        Some(Box::new(
            Theme::names()
                .into_iter()
                .map(clap::builder::PossibleValue::new),
        ))
    }
}

/// `--prometheus` (and `SHIPDECK_PROMETHEUS_URL`): an http(s) URL, as in the config.
fn parse_prometheus(s: &str) -> Result<String, String> {
    if s.starts_with("http://") || s.starts_with("https://") {
        Ok(s.to_string())
    } else {
        Err(format!("{s:?} is not an http(s) URL"))
    }
}

#[derive(Debug, Args, Clone, Default)]
pub struct Opts {
    /// Run over the embedded simulated fleet: no cluster needed.
    #[arg(long, global = true)]
    pub demo: bool,
    /// Seed for the demo simulation (deterministic).
    #[arg(long, global = true, default_value_t = 1)]
    pub seed: u64,
    /// Kubeconfig contexts to show, comma-separated (overrides the config's clusters).
    #[arg(long, global = true, value_delimiter = ',')]
    pub context: Vec<String>,
    /// Every context in the kubeconfig.
    #[arg(long, global = true)]
    pub all_contexts: bool,
    /// Read Kubernetes objects from YAML/JSON files or directories as a read-only cluster.
    #[arg(long = "from-files", global = true, num_args = 1..)]
    pub from_files: Vec<PathBuf>,
    /// Never send a write request.
    #[arg(long, global = true)]
    pub read_only: bool,
    /// Configuration file (default: the platform config dir's shipdeck/config.toml).
    #[arg(long, global = true)]
    pub config: Option<PathBuf>,
    /// Colour theme.
    #[arg(long, global = true, value_parser = ThemeName)]
    pub theme: Option<String>,
    /// No colour (also NO_COLOR).
    #[arg(long, global = true)]
    pub no_color: bool,
    /// Global Prometheus URL (also SHIPDECK_PROMETHEUS_URL); overrides the config.
    #[arg(long, global = true, env = "SHIPDECK_PROMETHEUS_URL", value_parser = parse_prometheus)]
    pub prometheus: Option<String>,
}
