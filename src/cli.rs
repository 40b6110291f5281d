//! Command line (DESIGN.md contract): the flags and subcommands, parsed by clap. Owns their
//! names, defaults and help text only; what they mean for the run is `config::resolve`.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(
    name = "shipdeck",
    version,
    about = "Release console for on-call engineers: every cluster's rollouts, canaries, SLO burn and failures on one screen, with guarded actions."
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
    Snapshot {
        /// JSON with clusters[], releases[], slos[], failures[].
        #[arg(long)]
        json: bool,
        /// Seconds to wait for every cluster's first lists (live clusters only).
        #[arg(long, default_value_t = 10)]
        wait: u64,
    },
    /// Check each cluster and Prometheus: reachability, versions, CRDs, RBAC. Non-zero exit on problems.
    Doctor,
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
    /// Colour theme: default, light, high-contrast, mono.
    #[arg(long, global = true)]
    pub theme: Option<String>,
    /// No colour (also NO_COLOR).
    #[arg(long, global = true)]
    pub no_color: bool,
    /// Global Prometheus URL (also SHIPDECK_PROMETHEUS_URL); overrides the config.
    #[arg(long, global = true, env = "SHIPDECK_PROMETHEUS_URL")]
    pub prometheus: Option<String>,
}
