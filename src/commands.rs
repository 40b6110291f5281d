//! What the binary does with a wiring: run the console, print a snapshot, run the doctor or
//! wait for a release (`wait`); and, without one, print completions or the man page. Owns
//! the order of start-up (theme and audit log before the terminal, the terminal last), how
//! a command's error is reported (each cause once, a hint where one helps, exit 2 for bad
//! input), and must not apply messages except through `app::Pump`. Everything they print
//! goes through `core::text` (escaped text, escaped JSON).

use std::io::Write as _;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context as _;
use jiff::Timestamp;

use crate::action::{Executor, ReadOnly};
use crate::app::{self, Pump};
use crate::cli::{Cli, Opts};
use crate::config::resolve;
use crate::config::{Config, ConfigError};
use crate::core::Msg;
use crate::core::text;
use crate::source::files::FilesError;
use crate::source::kube::client::{self as kube_client, KubeError};
use crate::source::prometheus;
use crate::wiring::{self, demo, files, live};
use crate::{exit, snapshot, term, ui};

/// The console until quit.
pub async fn console(opts: &Opts, config: &Config) -> anyhow::Result<ExitCode> {
    let theme = wiring::theme(opts, config)?;
    let mut w = wiring::for_console(opts, config).await?;
    let audit = wiring::audit_log(opts, config, &mut w.state)?;
    let _ = w.tx.try_send(Msg::Audit(audit.tail(500)));
    let executor = Executor::new(w.targets, Some(audit), w.tx.clone())
        .with_read_only(ReadOnly::of_state(&w.state))
        .with_logs(crate::source::logs::LogStreams::new(std::mem::take(
            &mut w.logs,
        )));
    let mut guard = term::TerminalGuard::enter().context("cannot start the terminal UI")?;
    let size = guard.terminal.size()?;
    let mut state = w.state;
    let resize = Msg::Resize {
        width: size.width,
        height: size.height,
    };
    Pump::new(executor.clone()).apply(&mut state, resize);
    let events = crossterm::event::EventStream::new();
    let mut copied = state.view.clip.as_ref().map_or(0, |c| c.seq);
    let result = app::run(state, w.rx, executor, events, exit::requested(), |s| {
        term::write_clip(
            guard.terminal.backend_mut(),
            s.view.clip.as_ref(),
            &mut copied,
        )?;
        guard
            .terminal
            .draw(|f| ui::render(f, s, &theme))
            .map(|_| ())
    })
    .await;
    drop(guard);
    // Cluster sources stop here, after the console.
    drop(w.clusters);
    result.map(|exit| ExitCode::from(exit.code()))
}

/// The fleet once: every cluster's first lists (up to `wait` seconds) and one SLO evaluation.
pub async fn snapshot(
    opts: &Opts,
    config: &Config,
    json: bool,
    wait: u64,
) -> anyhow::Result<ExitCode> {
    let pump = Pump::headless();
    let mut state = if opts.demo {
        demo::still(opts, config)
    } else if !opts.from_files.is_empty() {
        files::wiring(opts, config)?.state
    } else {
        let mut w = live::wiring(opts, config, false).await?;
        let assignment = prometheus::assign(config, opts.prometheus.as_deref());
        let (_, slo_msgs) = tokio::join!(
            pump.collect(&mut w.state, &mut w.rx, Duration::from_secs(wait)),
            prometheus::evaluate_all_once(&assignment)
        );
        pump.feed(&mut w.state, slo_msgs);
        w.state
    };
    state.now = Timestamp::now();
    if json {
        println!(
            "{}",
            text::json::to_string_pretty(&snapshot::to_json(&state))?
        );
    } else {
        print!("{}", text::escape_lines(&snapshot::to_table(&state)));
    }
    // A cluster that did not answer makes the snapshot incomplete: say which, and exit so a
    // script cannot read "unreachable" as "nothing in flight".
    let missing = snapshot::unanswered(&state);
    for (name, why) in &missing {
        eprintln!(
            "shipdeck: snapshot incomplete: cluster {} did not answer ({why})",
            text::escape(name)
        );
    }
    if missing.is_empty() {
        Ok(ExitCode::SUCCESS)
    } else {
        Ok(ExitCode::from(EXIT_INCOMPLETE))
    }
}

/// Check each chosen cluster and Prometheus (with `--demo`, the simulated fleet); the exit
/// code says whether all is well.
pub async fn doctor(opts: &Opts, config: &Config) -> anyhow::Result<ExitCode> {
    if opts.demo {
        let code = crate::doctor::demo_main(opts, config).await;
        return Ok(ExitCode::from(u8::try_from(code).unwrap_or(1)));
    }
    if !opts.from_files.is_empty() {
        return Err(UsageError(
            "doctor checks clusters (or --demo); captured files (--from-files) have none to check"
                .into(),
        )
        .into());
    }
    let clusters: Vec<crate::doctor::Target> = wiring::clusters(opts, config)?
        .iter()
        .map(|c| crate::doctor::Target {
            name: c.display_name().to_string(),
            context: c.context.clone(),
            namespaces: wiring::live::fallback_namespaces(c),
        })
        .collect();
    let prometheus = resolve::doctor_prometheus(opts, config);
    let code = crate::doctor::doctor_main(&clusters, prometheus.as_deref()).await;
    Ok(ExitCode::from(u8::try_from(code).unwrap_or(1)))
}

/// `shipdeck wait`: see `crate::wait`.
pub async fn wait(
    opts: &Opts,
    config: &Config,
    args: &crate::cli::WaitArgs,
) -> anyhow::Result<ExitCode> {
    crate::wait::run(opts, config, args).await
}

/// `shipdeck completions SHELL`: the completion script for `shell` on stdout.
pub fn completions(shell: clap_complete::Shell) -> ExitCode {
    let mut out = Vec::new();
    clap_complete::generate(
        shell,
        &mut <Cli as clap::CommandFactory>::command(),
        "shipdeck",
        &mut out,
    );
    write_stdout(&out)
}

/// `shipdeck man [PAGE]`: the manual page (roff) on stdout, the whole command's or one
/// subcommand's (`shipdeck-wait(1)`, as the main page refers to it).
pub fn man(page: Option<&str>) -> ExitCode {
    let mut cmd = <Cli as clap::CommandFactory>::command();
    // Global flags reach the subcommands only once built.
    cmd.build();
    let cmd = match page {
        None => cmd,
        Some(name) => match cmd.find_subcommand(name) {
            Some(sub) => sub
                .clone()
                .name(format!("shipdeck-{name}"))
                .bin_name(format!("shipdeck {name}")),
            None => {
                let names: Vec<&str> = cmd.get_subcommands().map(|c| c.get_name()).collect();
                eprintln!(
                    "shipdeck: man: no page {:?} (pages: {})",
                    text::escape(name),
                    names.join(", ")
                );
                return ExitCode::from(EXIT_USAGE);
            }
        },
    };
    let mut out = Vec::new();
    let page = clap_mangen::Man::new(cmd);
    if let Err(e) = page.render(&mut out) {
        eprintln!("shipdeck: cannot render the man page: {e}");
        return ExitCode::FAILURE;
    }
    write_stdout(&out)
}

/// Write everything to stdout; a closed pipe (`| head`) is not an error worth a panic.
fn write_stdout(bytes: &[u8]) -> ExitCode {
    let mut stdout = std::io::stdout().lock();
    match stdout.write_all(bytes).and_then(|()| stdout.flush()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("shipdeck: cannot write to stdout: {e}");
            ExitCode::FAILURE
        }
    }
}

/// A bad combination of arguments found after parsing: exit code 2, as clap's own.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct UsageError(pub String);

/// Exit code for bad usage: flags, configuration, kubeconfig, captured files (S5).
pub const EXIT_USAGE: u8 = 2;
/// `snapshot`: printed, but at least one configured cluster, or a kind on it, did not answer
/// (named on stderr).
pub const EXIT_INCOMPLETE: u8 = 3;

/// Report a command's error on stderr, escaped, and give its exit code: 2 for bad input
/// (usage, configuration, kubeconfig, captured files), 1 otherwise. Without a kubeconfig
/// the message says how to run without one.
pub fn failed(opts: &Opts, e: &anyhow::Error) -> ExitCode {
    let mut message = error_text(e);
    if is_kubeconfig_error(e) && no_cluster_to_read(opts) {
        message.push_str(
            "\nhint: there is no cluster to read without a kubeconfig (KUBECONFIG or \
             ~/.kube/config, with a current context).\n\
             hint: try `--demo` for the simulated fleet, or `--from-files DIR` for objects \
             saved with `kubectl get -o yaml`.",
        );
    }
    eprintln!("shipdeck: {}", text::escape_lines(&message));
    if is_bad_input(e) {
        ExitCode::from(EXIT_USAGE)
    } else {
        ExitCode::FAILURE
    }
}

/// The error and its causes, each said once: an error that already quotes its source (a
/// file's OS error) does not repeat it.
pub fn error_text(e: &anyhow::Error) -> String {
    let mut out = e.to_string();
    for cause in e.chain().skip(1) {
        let cause = cause.to_string();
        if !out.contains(&cause) {
            out.push_str(": ");
            out.push_str(&cause);
        }
    }
    out
}

fn is_kubeconfig_error(e: &anyhow::Error) -> bool {
    matches!(
        e.downcast_ref::<KubeError>(),
        Some(KubeError::Kubeconfig(_))
    )
}

/// No kubeconfig, or none that names a cluster this run could read (no contexts, or no
/// current context when no `--context` was given).
fn no_cluster_to_read(opts: &Opts) -> bool {
    match kube_client::kubeconfig() {
        Err(_) => true,
        Ok(kc) => {
            kc.contexts.is_empty()
                || (opts.context.is_empty() && !opts.all_contexts && kc.current_context.is_none())
        }
    }
}

/// Bad input (usage, config, kubeconfig, captured files) is a usage error: exit 2.
fn is_bad_input(e: &anyhow::Error) -> bool {
    e.downcast_ref::<KubeError>()
        .is_some_and(|k| matches!(k, KubeError::Kubeconfig(_) | KubeError::Context { .. }))
        || e.downcast_ref::<FilesError>().is_some()
        || e.downcast_ref::<ConfigError>().is_some()
        || e.downcast_ref::<UsageError>().is_some()
}

/// A command line clap refused (or `--help`/`--version`): printed as clap would, except that
/// an error, which quotes what was typed, is escaped. Exit code as clap's.
pub fn usage(e: &clap::Error) -> ExitCode {
    if e.use_stderr() {
        eprint!("{}", text::escape_lines(&e.render().to_string()));
    } else {
        let _ = e.print();
    }
    ExitCode::from(u8::try_from(e.exit_code()).unwrap_or(2))
}
