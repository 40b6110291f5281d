//! Start-up for each mode: the initial state, the inbound message channel, the sources and
//! the action targets for the demo (`demo`), captured files (`files`) or live clusters
//! (`live`), plus the IO around the pure choices in `config::resolve` (reading the
//! environment, the kubeconfig's contexts, the theme file, the audit log).
//! Owns no behaviour of its own: it must not decide what `config::resolve` decides, nor
//! apply messages other than through `app::Pump`.

pub mod demo;
pub mod files;
pub mod live;

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

use tokio::sync::mpsc;

use crate::action::ActionTarget;
use crate::action::audit::{self, AuditLog};
use crate::cli::Opts;
use crate::config::resolve::{self, ThemeChoice};
use crate::config::{ClusterConfig, Config};
use crate::core::audit::AuditFile;
use crate::core::model::{SloSpec, SloStatus};
use crate::core::state::{Level, Notice};
use crate::core::{Msg, State, slo_eval};
use crate::source::kube::ClusterHandle;
use crate::source::kube::client::{self as kube_client, KubeError};
use crate::ui::theme::Theme;

/// Everything a mode sets up: the initial state, where messages arrive, and the action targets.
pub struct Wiring {
    pub state: State,
    pub rx: mpsc::Receiver<Msg>,
    pub tx: mpsc::Sender<Msg>,
    pub targets: HashMap<String, Arc<dyn ActionTarget>>,
    /// Cluster sources stop when these are dropped.
    pub clusters: Vec<ClusterHandle>,
    /// Where the log viewer's streams come from, per cluster (`source::logs`).
    pub logs: HashMap<String, Arc<dyn crate::source::logs::LogBackend>>,
}

impl Wiring {
    fn new(state: State, capacity: usize) -> Wiring {
        let (tx, rx) = mpsc::channel(capacity);
        Wiring {
            state,
            rx,
            tx,
            targets: HashMap::new(),
            clusters: Vec::new(),
            logs: HashMap::new(),
        }
    }
}

/// The console's wiring for the chosen mode, with its sources running.
pub async fn for_console(opts: &Opts, config: &Config) -> anyhow::Result<Wiring> {
    if opts.demo {
        Ok(demo::simulated(opts, config))
    } else if !opts.from_files.is_empty() {
        files::wiring(opts, config)
    } else {
        live::wiring(opts, config, true).await
    }
}

fn initial_slos(specs: Vec<SloSpec>) -> Vec<SloStatus> {
    specs.into_iter().map(slo_eval::initial).collect()
}

/// The clusters to show, reading the kubeconfig only when the choice needs it.
pub fn clusters(opts: &Opts, config: &Config) -> Result<Vec<ClusterConfig>, KubeError> {
    let (contexts, current) = if resolve::uses_kubeconfig(opts, config) {
        kube_client::contexts()?
    } else {
        (Vec::new(), None)
    };
    resolve::choose_clusters(opts, config, &contexts, current.as_deref())
        .map_err(KubeError::Kubeconfig)
}

/// The theme from the flags, `NO_COLOR` and the config.
pub fn theme(opts: &Opts, config: &Config) -> anyhow::Result<Theme> {
    let no_color = std::env::var_os("NO_COLOR");
    match resolve::theme(opts, config, no_color.as_deref()) {
        ThemeChoice::NoColor => Ok(Theme::no_color()),
        ThemeChoice::Named(name) => Theme::load(&name).map_err(|e| anyhow::anyhow!("{e}")),
    }
}

/// This session's audit log, said in `state.audit_file`. Live sessions write to
/// `SHIPDECK_AUDIT_LOG`, the config's `audit_log` or the data directory; the demo to its own
/// file beside that one (`audit-demo.jsonl`); `--from-files` sends nothing and writes
/// nothing. A session that can never write (`--read-only`, every cluster read-only) starts
/// without a writable audit path, with a warning; any other session refuses to start.
pub fn audit_log(opts: &Opts, config: &Config, state: &mut State) -> anyhow::Result<AuditLog> {
    if !opts.from_files.is_empty() {
        let reason = "--from-files sends nothing, so records nothing";
        state.audit_file = AuditFile::Off {
            reason: reason.into(),
            warn: false,
        };
        return Ok(AuditLog::unavailable(Path::new(""), reason));
    }
    let env = std::env::var_os("SHIPDECK_AUDIT_LOG");
    let path = resolve::audit_path(env.as_deref(), config, AuditLog::default_path())
        .map(|p| if opts.demo { audit::demo_path(&p) } else { p });
    let never_writes = crate::core::audit::never_writes(state);
    let opened = match &path {
        Some(path) => AuditLog::open(path).map_err(|e| e.to_string()),
        None => Err("no data directory for the audit log; set audit_log in the config".into()),
    };
    match (opened, path) {
        (Ok(log), _) => {
            state.audit_file = AuditFile::Writing(log.path().display().to_string());
            Ok(log)
        }
        (Err(why), path) if never_writes => {
            let reason = format!("read-only session, nothing to record; not writable: {why}");
            state.view.notice = Some(Notice {
                text: format!("read-only session without an audit log: {why}"),
                level: Level::Warn,
                at: state.now,
            });
            state.audit_file = AuditFile::Off {
                reason: reason.clone(),
                warn: true,
            };
            Ok(AuditLog::unavailable(
                path.as_deref().unwrap_or(Path::new("")),
                reason,
            ))
        }
        (Err(why), _) => Err(anyhow::anyhow!(why)),
    }
}
