//! Wiring only: parse the command line, load the configuration, start the sources and the
//! executor for the chosen mode (demo, files, live clusters), then run the console, a
//! snapshot or the doctor.

use std::collections::HashMap;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use clap::Parser;
use jiff::Timestamp;
use tokio::sync::mpsc;

use shipdeck::action::audit::AuditLog;
use shipdeck::action::{ActionTarget, Executor};
use shipdeck::cli::{Cli, Command, Opts};
use shipdeck::config::Config;
use shipdeck::core::model::{Cluster, SloSpec};
use shipdeck::core::slo_eval;
use shipdeck::core::state::Settings;
use shipdeck::core::{self, Msg, State};
use shipdeck::source::demo;
use shipdeck::ui::theme::Theme;
use shipdeck::{app, snapshot, term, ui};

/// Exit code for bad configuration or kubeconfig (S5).
const EXIT_CONFIG: u8 = 2;

fn main() -> ExitCode {
    let cli = Cli::parse();
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
    init_logging();
    let config = match load_config(&cli.opts) {
        Ok(c) => c,
        Err(message) => {
            eprintln!("shipdeck: {message}");
            return ExitCode::from(EXIT_CONFIG);
        }
    };
    let result = match cli.command {
        None => console(&cli.opts, &config).await,
        Some(Command::Snapshot { json, wait }) => snapshot_cmd(&cli.opts, &config, json, wait).await,
        Some(Command::Doctor) => doctor_cmd(&cli.opts, &config).await,
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            term::restore();
            eprintln!("shipdeck: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// Logs go to a file, never to the terminal.
fn init_logging() {
    let Some(dirs) = directories::ProjectDirs::from("dev", "shipdeck", "shipdeck") else {
        return;
    };
    let dir = dirs.cache_dir();
    if std::fs::create_dir_all(dir).is_err() {
        return;
    }
    let Ok(file) = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(dir.join("shipdeck.log"))
    else {
        return;
    };
    let filter = tracing_subscriber::EnvFilter::try_from_env("SHIPDECK_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(false)
        .with_writer(std::sync::Mutex::new(file))
        .try_init();
}

/// `--config PATH` must exist; the default location is optional.
fn load_config(opts: &Opts) -> Result<Config, String> {
    let path = match &opts.config {
        Some(p) => p.clone(),
        None => match Config::default_path() {
            Some(p) if p.exists() => p,
            _ => return Ok(Config::default()),
        },
    };
    Config::load(&path).map_err(|e| e.to_string())
}

fn settings(opts: &Opts, config: &Config, source_label: &str) -> Settings {
    Settings {
        read_only: opts.read_only || config.read_only,
        service_label: config
            .service_label
            .clone()
            .unwrap_or_else(|| Settings::default().service_label),
        service_map: config.service_map.clone(),
        source_label: source_label.to_string(),
        ..Settings::default()
    }
}

fn theme(opts: &Opts, config: &Config) -> anyhow::Result<Theme> {
    let no_color = opts.no_color || std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
    if no_color {
        return Ok(Theme::no_color());
    }
    let name = opts
        .theme
        .as_deref()
        .or(config.theme.as_deref())
        .unwrap_or("default");
    Theme::load(name).map_err(|e| anyhow::anyhow!("{e}"))
}

fn audit_log(config: &Config) -> anyhow::Result<AuditLog> {
    let path: PathBuf = std::env::var_os("SHIPDECK_AUDIT_LOG")
        .map(PathBuf::from)
        .or_else(|| config.audit_log.clone())
        .or_else(AuditLog::default_path)
        .context("no data directory for the audit log; set audit_log in the config")?;
    AuditLog::open(&path).map_err(|e| anyhow::anyhow!("{e}"))
}

/// Everything a mode sets up: the initial state, where messages arrive, and the action targets.
struct Wiring {
    state: State,
    rx: mpsc::Receiver<Msg>,
    tx: mpsc::Sender<Msg>,
    targets: HashMap<String, Arc<dyn ActionTarget>>,
}

fn initial_slos(specs: Vec<SloSpec>) -> Vec<shipdeck::core::model::SloStatus> {
    specs.into_iter().map(slo_eval::initial).collect()
}

fn demo_wiring(opts: &Opts, config: &Config, run_simulation: bool) -> (Wiring, Option<demo::Fleet>) {
    let now = Timestamp::now();
    let fleet = demo::Fleet::new(opts.seed, now);
    let settings = settings(opts, config, "DEMO");
    let read_only = settings.read_only;
    let clusters: Vec<Cluster> = fleet.clusters();
    let state = State::new(now, settings, clusters.clone(), initial_slos(fleet.slo_specs()));
    let (tx, rx) = mpsc::channel(8192);
    let mut targets: HashMap<String, Arc<dyn ActionTarget>> = HashMap::new();
    if !run_simulation {
        return (
            Wiring {
                state,
                rx,
                tx,
                targets,
            },
            Some(fleet),
        );
    }
    let (req_tx, req_rx) = mpsc::channel(16);
    let target = Arc::new(demo::DemoTarget::new(req_tx, read_only));
    for c in &clusters {
        targets.insert(c.name.clone(), target.clone());
    }
    tokio::spawn(demo::run(fleet, tx.clone(), req_rx));
    (
        Wiring {
            state,
            rx,
            tx,
            targets,
        },
        None,
    )
}

async fn wiring(opts: &Opts, config: &Config) -> anyhow::Result<Wiring> {
    if opts.demo {
        return Ok(demo_wiring(opts, config, true).0);
    }
    anyhow::bail!(
        "live clusters and --from-files are not wired yet; run with --demo"
    )
}

async fn console(opts: &Opts, config: &Config) -> anyhow::Result<ExitCode> {
    let theme = theme(opts, config)?;
    let w = wiring(opts, config).await?;
    let audit = audit_log(config)?;
    let _ = w.tx.try_send(Msg::Audit(audit.tail(500)));
    let executor = Executor::new(w.targets, Some(audit), w.tx.clone());
    let mut guard = term::TerminalGuard::enter().context("cannot start the terminal UI")?;
    let size = guard.terminal.size()?;
    let mut state = w.state;
    core::update(
        &mut state,
        Msg::Resize {
            width: size.width,
            height: size.height,
        },
    );
    let result = app::run(state, w.rx, executor, |s| {
        guard.terminal.draw(|f| ui::render(f, s, &theme)).map(|_| ())
    })
    .await;
    drop(guard);
    result.map(|()| ExitCode::SUCCESS)
}

async fn snapshot_cmd(opts: &Opts, config: &Config, json: bool, _wait: u64) -> anyhow::Result<ExitCode> {
    let mut state = if opts.demo {
        let (w, fleet) = demo_wiring(opts, config, false);
        let mut state = w.state;
        if let Some(mut fleet) = fleet {
            for msg in fleet.initial() {
                core::update(&mut state, msg);
            }
        }
        state
    } else {
        anyhow::bail!("live clusters and --from-files are not wired yet; use --demo")
    };
    core::settle(&mut state);
    if json {
        println!("{}", serde_json::to_string_pretty(&snapshot::to_json(&state))?);
    } else {
        print!("{}", snapshot::to_table(&state));
    }
    Ok(ExitCode::SUCCESS)
}

async fn doctor_cmd(_opts: &Opts, _config: &Config) -> anyhow::Result<ExitCode> {
    anyhow::bail!("doctor is not wired yet")
}
