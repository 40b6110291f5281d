//! Wiring only: parse the command line, start the runtime and logging, load the
//! configuration, run the chosen command (`shipdeck::commands`) and map its error to an exit
//! code (2 for bad configuration, kubeconfig or files). Must not hold any behaviour.

use std::process::ExitCode;
use std::time::Duration;

use clap::Parser as _;

use shipdeck::cli::{Cli, Command};
use shipdeck::config::Config;
use shipdeck::core::text::escape_lines;
use shipdeck::source::files::FilesError;
use shipdeck::source::kube::client::KubeError;
use shipdeck::{commands, logging, term};

/// Exit code for bad configuration or kubeconfig (S5).
const EXIT_CONFIG: u8 = 2;

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => return commands::usage(&e),
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("shipdeck: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let code = runtime.block_on(run(cli));
    // Sources may still hold open watches; do not wait for them.
    runtime.shutdown_timeout(Duration::from_millis(200));
    code
}

async fn run(cli: Cli) -> ExitCode {
    logging::init();
    let config = match Config::load_or_default(cli.opts.config.as_deref()) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("shipdeck: {}", escape_lines(&e.to_string()));
            return ExitCode::from(EXIT_CONFIG);
        }
    };
    let opts = &cli.opts;
    let result = match cli.command {
        None => commands::console(opts, &config).await,
        Some(Command::Snapshot { json, wait }) => {
            commands::snapshot(opts, &config, json, wait).await
        }
        Some(Command::Doctor) => commands::doctor(opts, &config).await,
    };
    result.unwrap_or_else(|e| {
        term::restore();
        eprintln!("shipdeck: {}", escape_lines(&format!("{e:#}")));
        if is_bad_input(&e) {
            ExitCode::from(EXIT_CONFIG)
        } else {
            ExitCode::FAILURE
        }
    })
}

/// Bad input (kubeconfig, captured files) is a usage error, like a bad config.
fn is_bad_input(e: &anyhow::Error) -> bool {
    e.downcast_ref::<KubeError>()
        .is_some_and(|k| matches!(k, KubeError::Kubeconfig(_) | KubeError::Context { .. }))
        || e.downcast_ref::<FilesError>().is_some()
}
