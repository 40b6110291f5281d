//! Wiring only: parse the command line, install the panic hook and the signal handlers
//! (`shipdeck::exit`), start the runtime and logging, load the configuration, run the chosen
//! command (`shipdeck::commands`) until it ends or an exit is requested, and map the result
//! to an exit code (2 for bad usage, configuration, kubeconfig or files; 128 + n for signal
//! n; 101 for a panic, whose message is printed last, after the terminal is restored; `wait`
//! has its own). Must not hold any behaviour.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::process::ExitCode;
use std::time::Duration;

use clap::Parser as _;

use shipdeck::cli::{Cli, Command};
use shipdeck::config::Config;
use shipdeck::core::text::escape_lines;
use shipdeck::{commands, exit, logging, term};

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => return commands::usage(&e),
    };
    // Nothing to connect to or configure: printed before anything starts.
    match cli.command {
        Some(Command::Completions { shell }) => return commands::completions(shell),
        Some(Command::Man { ref page }) => return commands::man(page.as_deref()),
        _ => {}
    }
    exit::install_panic_hook();
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
    // A panic on this thread unwinds to here (the console's guards record what was in
    // flight and restore the terminal on the way); one elsewhere ends `run` through
    // `exit::requested`.
    let code = catch_unwind(AssertUnwindSafe(|| runtime.block_on(run(cli)))).ok();
    // Sources may still hold open watches, and requests may still be in flight: do not wait
    // for them. None of them can write a result any more (the executor is shut down).
    runtime.shutdown_timeout(Duration::from_millis(200));
    term::restore();
    exit::finish(code)
}

async fn run(cli: Cli) -> ExitCode {
    logging::init();
    if let Err(e) = exit::listen_for_signals() {
        tracing::warn!("cannot handle signals: {e}");
    }
    exit::debug_fault_trigger();
    let config = match Config::load_or_default(cli.opts.config.as_deref()) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("shipdeck: {}", escape_lines(&e.to_string()));
            return ExitCode::from(commands::EXIT_USAGE);
        }
    };
    let opts = &cli.opts;
    let command = async {
        match cli.command {
            None => commands::console(opts, &config).await,
            Some(Command::Snapshot { json, wait }) => {
                commands::snapshot(opts, &config, json, wait).await
            }
            Some(Command::Doctor) => commands::doctor(opts, &config).await,
            Some(Command::Wait(ref args)) => commands::wait(opts, &config, args).await,
            Some(Command::Completions { shell }) => Ok(commands::completions(shell)),
            Some(Command::Man { ref page }) => Ok(commands::man(page.as_deref())),
        }
    };
    // The console ends itself on an exit request (and records what was in flight); the
    // other commands are dropped where they are.
    let result = tokio::select! {
        biased;
        result = command => result,
        reason = exit::requested() => return ExitCode::from(reason.code()),
    };
    result.unwrap_or_else(|e| {
        term::restore();
        commands::failed(opts, &e)
    })
}
