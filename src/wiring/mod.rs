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
use std::sync::Arc;

use anyhow::Context as _;
use tokio::sync::mpsc;

use crate::action::ActionTarget;
use crate::action::audit::AuditLog;
use crate::cli::Opts;
use crate::config::resolve::{self, ThemeChoice};
use crate::config::{ClusterConfig, Config};
use crate::core::model::{SloSpec, SloStatus};
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

/// The audit log from `SHIPDECK_AUDIT_LOG`, the config or the data directory.
pub fn audit_log(config: &Config) -> anyhow::Result<AuditLog> {
    let env = std::env::var_os("SHIPDECK_AUDIT_LOG");
    let path = resolve::audit_path(env.as_deref(), config, AuditLog::default_path())
        .context("no data directory for the audit log; set audit_log in the config")?;
    AuditLog::open(&path).map_err(|e| anyhow::anyhow!("{e}"))
}
