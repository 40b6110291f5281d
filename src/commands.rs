//! The three things the binary does with a wiring: run the console, print a snapshot, or run
//! the doctor. Owns the order of start-up (theme and audit log before the terminal, the
//! terminal last) and must not apply messages except through `app::Pump`. Everything they
//! print goes through `core::text` (escaped text, escaped JSON).

use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context as _;
use jiff::Timestamp;

use crate::action::{Executor, ReadOnly};
use crate::app::{self, Pump};
use crate::cli::Opts;
use crate::config::Config;
use crate::config::resolve;
use crate::core::Msg;
use crate::core::text;
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
        .with_read_only(ReadOnly::of_state(&w.state));
    let mut guard = term::TerminalGuard::enter().context("cannot start the terminal UI")?;
    let size = guard.terminal.size()?;
    let mut state = w.state;
    let resize = Msg::Resize {
        width: size.width,
        height: size.height,
    };
    Pump::new(executor.clone()).apply(&mut state, resize);
    let events = crossterm::event::EventStream::new();
    let result = app::run(state, w.rx, executor, events, exit::requested(), |s| {
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
    Ok(ExitCode::SUCCESS)
}

/// Check each chosen cluster and Prometheus; the exit code says whether all is well.
pub async fn doctor(opts: &Opts, config: &Config) -> anyhow::Result<ExitCode> {
    let clusters: Vec<(String, String)> = wiring::clusters(opts, config)?
        .iter()
        .map(|c| (c.display_name().to_string(), c.context.clone()))
        .collect();
    let prometheus = resolve::doctor_prometheus(opts, config);
    let code = crate::doctor::doctor_main(&clusters, prometheus.as_deref()).await;
    Ok(ExitCode::from(u8::try_from(code).unwrap_or(1)))
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
