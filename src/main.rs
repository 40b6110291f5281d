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
use shipdeck::action::kube::KubeTarget;
use shipdeck::action::{ActionTarget, Executor};
use shipdeck::cli::{Cli, Command, Opts};
use shipdeck::config::ClusterConfig;
use shipdeck::config::Config;
use shipdeck::core::model::Connection;
use shipdeck::core::model::{Cluster, SloSpec};
use shipdeck::core::slo_eval;
use shipdeck::core::state::Settings;
use shipdeck::core::{self, Msg, State};
use shipdeck::source::kube::client::{self as kube_client, KubeError};
use shipdeck::source::kube::project::Keep;
use shipdeck::source::kube::{ClusterHandle, ClusterOptions, spawn_cluster_with};
use shipdeck::source::{demo, files, prometheus};
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
        Some(Command::Snapshot { json, wait }) => {
            snapshot_cmd(&cli.opts, &config, json, wait).await
        }
        Some(Command::Doctor) => doctor_cmd(&cli.opts, &config).await,
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            term::restore();
            eprintln!("shipdeck: {e:#}");
            // Bad input (kubeconfig, captured files) is a usage error, like a bad config.
            let bad_input = e
                .downcast_ref::<KubeError>()
                .is_some_and(|k| matches!(k, KubeError::Kubeconfig(_) | KubeError::Context { .. }))
                || e.downcast_ref::<files::FilesError>().is_some();
            if bad_input {
                ExitCode::from(EXIT_CONFIG)
            } else {
                ExitCode::FAILURE
            }
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
    /// Cluster sources stop when these are dropped.
    _clusters: Vec<ClusterHandle>,
}

fn initial_slos(specs: Vec<SloSpec>) -> Vec<shipdeck::core::model::SloStatus> {
    specs.into_iter().map(slo_eval::initial).collect()
}

fn demo_wiring(
    opts: &Opts,
    config: &Config,
    run_simulation: bool,
) -> (Wiring, Option<demo::Fleet>) {
    let now = Timestamp::now();
    let fleet = demo::Fleet::new(opts.seed, now);
    let settings = settings(opts, config, "DEMO");
    let read_only = settings.read_only;
    let clusters: Vec<Cluster> = fleet.clusters();
    let state = State::new(
        now,
        settings,
        clusters.clone(),
        initial_slos(fleet.slo_specs()),
    );
    let (tx, rx) = mpsc::channel(8192);
    let mut targets: HashMap<String, Arc<dyn ActionTarget>> = HashMap::new();
    if !run_simulation {
        return (
            Wiring {
                state,
                rx,
                tx,
                targets,
                _clusters: Vec::new(),
            },
            Some(fleet),
        );
    }
    let (req_tx, req_rx) = mpsc::channel(16);
    let target = Arc::new(shipdeck::action::DemoTarget::new(req_tx, read_only));
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
            _clusters: Vec::new(),
        },
        None,
    )
}

/// The clusters to show: `--context`, `--all-contexts`, the config's clusters, or the
/// kubeconfig's current context. Labels and read-only come from the config when it names
/// the same context.
fn choose_clusters(opts: &Opts, config: &Config) -> Result<Vec<ClusterConfig>, KubeError> {
    let from_config = |context: &str| {
        config
            .clusters
            .iter()
            .find(|c| c.context == context)
            .cloned()
            .unwrap_or_else(|| ClusterConfig {
                context: context.to_string(),
                name: None,
                labels: Default::default(),
                read_only: false,
                prometheus: None,
                loadtester: None,
            })
    };
    if !opts.context.is_empty() || opts.all_contexts || config.clusters.is_empty() {
        let (all, current) = kube_client::contexts()?;
        let wanted: Vec<String> = if opts.all_contexts {
            all.clone()
        } else if !opts.context.is_empty() {
            opts.context.clone()
        } else {
            vec![current.ok_or_else(|| {
                KubeError::Kubeconfig(
                    "no current context; pass --context or configure clusters".into(),
                )
            })?]
        };
        for c in &wanted {
            if !all.contains(c) {
                return Err(KubeError::Kubeconfig(format!(
                    "context {c:?} is not in the kubeconfig (it has: {})",
                    all.join(", ")
                )));
            }
        }
        return Ok(wanted.iter().map(|c| from_config(c)).collect());
    }
    Ok(config.clusters.clone())
}

/// Live clusters: a watch source and an action target per cluster, Prometheus for the SLOs.
async fn live_wiring(
    opts: &Opts,
    config: &Config,
    prometheus_task: bool,
) -> anyhow::Result<Wiring> {
    let chosen = choose_clusters(opts, config)?;
    let now = Timestamp::now();
    let settings = settings(opts, config, "");
    let clusters: Vec<Cluster> = chosen
        .iter()
        .map(|c| {
            let mut cluster = Cluster::new(c.display_name());
            cluster.labels = c.labels.clone();
            cluster.read_only = c.read_only;
            cluster
        })
        .collect();
    let slos = initial_slos(prometheus::slo_specs(&config.slos));
    let state = State::new(now, settings.clone(), clusters, slos);
    let (tx, rx) = mpsc::channel(8192);
    let mut targets: HashMap<String, Arc<dyn ActionTarget>> = HashMap::new();
    let mut handles = Vec::new();
    let options = ClusterOptions {
        keep: Keep {
            service_label: Some(settings.service_label.clone()),
        },
        ..ClusterOptions::default()
    };
    // Clients are built side by side: a slow exec plugin on one must not delay the others.
    let builds = chosen.iter().map(|c| async move {
        let watch = kube_client::client_for(Some(&c.context)).await;
        let act = KubeTarget::connect(Some(&c.context)).await;
        (c.display_name().to_string(), watch, act)
    });
    for (name, watch, act) in futures::future::join_all(builds).await {
        match watch {
            Ok(client) => handles.push(spawn_cluster_with(
                name.clone(),
                client,
                tx.clone(),
                options.clone(),
            )),
            Err(e) => {
                let _ = tx.try_send(Msg::Connection {
                    cluster: name.clone(),
                    connection: Connection::Unreachable {
                        reason: e.to_string().into(),
                    },
                });
            }
        }
        if let Ok(target) = act {
            targets.insert(name, Arc::new(target));
        }
    }
    if prometheus_task {
        prometheus::spawn_all(
            prometheus::assign(config, opts.prometheus.as_deref()),
            tx.clone(),
        );
    }
    Ok(Wiring {
        state,
        rx,
        tx,
        targets,
        _clusters: handles,
    })
}

/// Captured objects as read-only clusters (no action targets at all).
fn files_wiring(opts: &Opts, config: &Config) -> anyhow::Result<Wiring> {
    let capture = files::load(&opts.from_files)?;
    let clusters = capture
        .clusters
        .iter()
        .map(|name| {
            let mut c = Cluster::new(name.clone());
            c.read_only = true;
            c.live = false;
            c
        })
        .collect();
    let mut settings = settings(opts, config, "FILES");
    settings.read_only = true;
    let slos = initial_slos(prometheus::slo_specs(&config.slos));
    let mut state = State::new(Timestamp::now(), settings, clusters, slos);
    for msg in capture.messages {
        core::update(&mut state, msg);
    }
    let (tx, rx) = mpsc::channel(1024);
    Ok(Wiring {
        state,
        rx,
        tx,
        targets: HashMap::new(),
        _clusters: Vec::new(),
    })
}

async fn wiring(opts: &Opts, config: &Config) -> anyhow::Result<Wiring> {
    if opts.demo {
        Ok(demo_wiring(opts, config, true).0)
    } else if !opts.from_files.is_empty() {
        files_wiring(opts, config)
    } else {
        live_wiring(opts, config, true).await
    }
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
        guard
            .terminal
            .draw(|f| ui::render(f, s, &theme))
            .map(|_| ())
    })
    .await;
    drop(guard);
    result.map(|()| ExitCode::SUCCESS)
}

/// Apply messages until every cluster has answered and things went quiet, or `wait` passes.
async fn collect_initial(w: &mut Wiring, wait: Duration) {
    let deadline = tokio::time::Instant::now() + wait;
    let quiet = Duration::from_millis(1500);
    loop {
        let settled = w
            .state
            .clusters
            .iter()
            .all(|c| !matches!(c.connection, Connection::Connecting));
        let timeout = if settled {
            quiet
        } else {
            Duration::from_millis(250)
        };
        let until = (tokio::time::Instant::now() + timeout).min(deadline);
        match tokio::time::timeout_at(until, w.rx.recv()).await {
            Ok(Some(msg)) => {
                core::update(&mut w.state, msg);
            }
            Ok(None) => return,
            Err(_) if settled || tokio::time::Instant::now() >= deadline => return,
            Err(_) => {}
        }
        if tokio::time::Instant::now() >= deadline {
            return;
        }
    }
}

async fn snapshot_cmd(
    opts: &Opts,
    config: &Config,
    json: bool,
    wait: u64,
) -> anyhow::Result<ExitCode> {
    let mut state = if opts.demo {
        let (w, fleet) = demo_wiring(opts, config, false);
        let mut state = w.state;
        if let Some(mut fleet) = fleet {
            for msg in fleet.initial() {
                core::update(&mut state, msg);
            }
        }
        state
    } else if !opts.from_files.is_empty() {
        files_wiring(opts, config)?.state
    } else {
        let mut w = live_wiring(opts, config, false).await?;
        let assignment = prometheus::assign(config, opts.prometheus.as_deref());
        let (_, slo_msgs) = tokio::join!(
            collect_initial(&mut w, Duration::from_secs(wait)),
            prometheus::evaluate_all_once(&assignment)
        );
        for msg in slo_msgs {
            core::update(&mut w.state, msg);
        }
        w.state
    };
    state.now = Timestamp::now();
    core::settle(&mut state);
    if json {
        println!(
            "{}",
            serde_json::to_string_pretty(&snapshot::to_json(&state))?
        );
    } else {
        print!("{}", snapshot::to_table(&state));
    }
    Ok(ExitCode::SUCCESS)
}

async fn doctor_cmd(opts: &Opts, config: &Config) -> anyhow::Result<ExitCode> {
    let clusters: Vec<(String, String)> = choose_clusters(opts, config)?
        .iter()
        .map(|c| (c.display_name().to_string(), c.context.clone()))
        .collect();
    let prometheus = opts
        .prometheus
        .clone()
        .or_else(|| config.prometheus.as_ref().map(|p| p.url.clone()));
    let code = shipdeck::doctor::doctor_main(&clusters, prometheus.as_deref()).await;
    Ok(ExitCode::from(u8::try_from(code).unwrap_or(1)))
}
