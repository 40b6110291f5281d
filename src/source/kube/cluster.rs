//! One live cluster: a supervisor task that owns the cluster's watches and liveness probe,
//! keeps its connection state, and sends everything to the console as `Msg`s. Each cluster
//! runs on its own tasks: a dead, slow or forbidden cluster never blocks another, and the
//! console never waits on any of them.

use std::time::Duration;

use jiff::Timestamp;
use tokio::sync::mpsc;
use tokio::task::{JoinHandle, JoinSet};

use super::kinds::WATCHED;
use super::liveness;
use super::project::Keep;
use super::tracker::{Decision, Tracker};
use super::watch::{self, Sink};
use crate::core::msg::Msg;

/// Timing and trimming for one cluster's source.
#[derive(Clone)]
pub struct ClusterOptions {
    /// Liveness probe period (the core marks a cluster stale after 15 s without `Heard`).
    pub probe_every: Duration,
    /// How long a probe may take before the cluster is called unreachable (R1: ≤ 5 s).
    pub probe_deadline: Duration,
    /// Labels to keep besides the fixed ones (the configured service label).
    pub keep: Keep,
    /// Probe through this client instead of the watches' one (tests: a healthy probe beside
    /// half-open watches). None: the watches' client.
    pub probe_client: Option<kube::Client>,
}

impl std::fmt::Debug for ClusterOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClusterOptions")
            .field("probe_every", &self.probe_every)
            .field("probe_deadline", &self.probe_deadline)
            .field("keep", &self.keep)
            .field("own_probe_client", &self.probe_client.is_some())
            .finish()
    }
}

impl Default for ClusterOptions {
    fn default() -> Self {
        ClusterOptions {
            probe_every: Duration::from_secs(5),
            probe_deadline: Duration::from_secs(4),
            keep: Keep::default(),
            probe_client: None,
        }
    }
}

/// A running cluster source. Dropping it stops every task of the cluster.
#[derive(Debug)]
pub struct ClusterHandle {
    name: String,
    task: JoinHandle<()>,
}

impl ClusterHandle {
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Stop the cluster's tasks now.
    pub fn abort(&self) {
        self.task.abort();
    }
}

impl Drop for ClusterHandle {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Watch one cluster with default options. Must be called within a tokio runtime.
pub fn spawn_cluster(name: String, client: kube::Client, tx: mpsc::Sender<Msg>) -> ClusterHandle {
    spawn_cluster_with(name, client, tx, ClusterOptions::default())
}

pub fn spawn_cluster_with(
    name: String,
    client: kube::Client,
    tx: mpsc::Sender<Msg>,
    options: ClusterOptions,
) -> ClusterHandle {
    let task = tokio::spawn(supervise(name.clone(), client, tx, options));
    ClusterHandle { name, task }
}

fn start_watches(tasks: &mut JoinSet<()>, client: &kube::Client, sink: &Sink, keep: &Keep) {
    for kind in WATCHED {
        tasks.spawn(watch::run(kind, client.clone(), sink.clone(), keep.clone()));
    }
}

async fn supervise(
    name: String,
    client: kube::Client,
    tx: mpsc::Sender<Msg>,
    options: ClusterOptions,
) {
    let (signals, mut signal_rx) = mpsc::unbounded_channel();
    let sink = Sink {
        cluster: name.clone(),
        tx: tx.clone(),
        signals,
    };
    let mut tracker = Tracker::new(name.clone());
    let Decision::Send(hello) = tracker.start() else {
        return;
    };
    if tx.send(hello).await.is_err() {
        return;
    }
    // Dropping a JoinSet aborts its tasks: when this task is aborted, so are they.
    let mut probe = JoinSet::new();
    probe.spawn(liveness::run(
        options
            .probe_client
            .clone()
            .unwrap_or_else(|| client.clone()),
        sink.clone(),
        options.probe_every,
        options.probe_deadline,
    ));
    let mut watches = JoinSet::new();
    start_watches(&mut watches, &client, &sink, &options.keep);
    tracing::info!(cluster = %name, "cluster source started");

    while let Some(signal) = signal_rx.recv().await {
        for decision in tracker.on(signal, Timestamp::now()) {
            match decision {
                Decision::Send(msg) => {
                    if tx.send(msg).await.is_err() {
                        return;
                    }
                }
                Decision::RestartWatches => {
                    tracing::info!(cluster = %name, "cluster answers again: restarting watches");
                    watches.abort_all();
                    watches = JoinSet::new();
                    start_watches(&mut watches, &client, &sink, &options.keep);
                }
            }
        }
        if tx.is_closed() {
            return;
        }
    }
}
