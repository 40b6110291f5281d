//! One live cluster: a supervisor task that owns the cluster's watches and liveness probe,
//! keeps its connection state, and sends everything to the console as `Msg`s. Each cluster
//! runs on its own tasks: a dead, slow or forbidden cluster never blocks another, and the
//! console never waits on any of them.

use std::sync::Arc;
use std::time::Duration;

use futures::future::BoxFuture;
use jiff::Timestamp;
use tokio::sync::mpsc;
use tokio::task::{JoinHandle, JoinSet};

use super::client::{self, KubeError};
use super::kinds::WATCHED;
use super::liveness;
use super::project::Keep;
use super::tracker::{Decision, Tracker};
use super::watch::{self, Signal, Sink};
use crate::core::model::Connection;
use crate::core::msg::Msg;
use crate::core::text::Untrusted;

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
    /// Where a kind this identity may not list cluster-wide is watched instead, namespace by
    /// namespace (`clusters[].namespaces`, else the context's namespace; at most
    /// [`watch::MAX_FALLBACK_NAMESPACES`]). Empty: such a kind is not watched.
    pub namespaces: Vec<String>,
}

impl std::fmt::Debug for ClusterOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClusterOptions")
            .field("probe_every", &self.probe_every)
            .field("probe_deadline", &self.probe_deadline)
            .field("keep", &self.keep)
            .field("own_probe_client", &self.probe_client.is_some())
            .field("namespaces", &self.namespaces)
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
            namespaces: Vec::new(),
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
    /// A handle over another task of the cluster's (e.g. the one building its action
    /// client): dropping it stops that task.
    pub fn for_task(name: String, task: JoinHandle<()>) -> ClusterHandle {
        ClusterHandle { name, task }
    }

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

/// Builds the cluster's client (again when its credentials expire or are refused).
pub type Connect =
    Arc<dyn Fn() -> BoxFuture<'static, Result<kube::Client, KubeError>> + Send + Sync>;

/// A failed client build is tried again after this, doubling up to [`BUILD_RETRY_MAX`].
const BUILD_RETRY_FIRST: Duration = Duration::from_secs(1);
const BUILD_RETRY_MAX: Duration = Duration::from_secs(60);

/// Watch one cluster with default options. Must be called within a tokio runtime.
pub fn spawn_cluster(name: String, client: kube::Client, tx: mpsc::Sender<Msg>) -> ClusterHandle {
    spawn_cluster_with(name, client, tx, ClusterOptions::default())
}

/// Watch one cluster through a client built already (it is never rebuilt).
pub fn spawn_cluster_with(
    name: String,
    client: kube::Client,
    tx: mpsc::Sender<Msg>,
    options: ClusterOptions,
) -> ClusterHandle {
    let connect: Connect = Arc::new(move || {
        let client = client.clone();
        Box::pin(async move { Ok(client) })
    });
    spawn_cluster_connecting(name, connect, tx, options)
}

/// Watch one cluster whose client `connect` builds, on the cluster's own task: the caller
/// (the console) never waits for it. A build that fails is shown (unreachable, with the
/// reason) and tried again with backoff; a client whose credentials expire
/// ([`kube::Client::valid_until`]) is rebuilt before they do, and one the server refuses
/// (401) is rebuilt at once; the watches then resume on the new client.
pub fn spawn_cluster_connecting(
    name: String,
    connect: Connect,
    tx: mpsc::Sender<Msg>,
    options: ClusterOptions,
) -> ClusterHandle {
    let task = tokio::spawn(supervise(name.clone(), connect, tx, options));
    ClusterHandle { name, task }
}

fn start_watches(
    tasks: &mut JoinSet<()>,
    client: &kube::Client,
    sink: &Sink,
    options: &ClusterOptions,
) {
    for kind in WATCHED {
        tasks.spawn(watch::run(
            kind,
            client.clone(),
            sink.for_kind(kind),
            options.keep.clone(),
            options.namespaces.clone(),
        ));
    }
}

/// The probe and the watches of one client.
struct Running {
    probe: JoinSet<()>,
    watches: JoinSet<()>,
}

impl Running {
    fn start(client: &kube::Client, sink: &Sink, options: &ClusterOptions) -> Running {
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
        start_watches(&mut watches, client, sink, options);
        Running { probe, watches }
    }
}

/// The client, built with backoff; every failure shown as the cluster's reason. None when
/// the console went away.
async fn first_client(
    name: &str,
    connect: &Connect,
    tx: &mpsc::Sender<Msg>,
) -> Option<kube::Client> {
    let mut wait = BUILD_RETRY_FIRST;
    loop {
        match connect().await {
            Ok(client) => return Some(client),
            Err(e) => {
                tracing::info!(cluster = %name, error = %e, "cannot build the client; trying again in {wait:?}");
                let msg = Msg::Connection {
                    cluster: name.to_string(),
                    connection: Connection::Unreachable {
                        reason: Untrusted::new(format!("{e} (retrying in {} s)", wait.as_secs())),
                    },
                };
                tx.send(msg).await.ok()?;
                tokio::time::sleep(wait).await;
                wait = (wait * 2).min(BUILD_RETRY_MAX);
            }
        }
    }
}

/// When to build this client's successor (None: its credentials do not expire).
pub fn renewal(client: &kube::Client) -> Option<tokio::time::Instant> {
    let until = (*client.valid_until())?;
    let now = Timestamp::now();
    let at = client::renew_at(now, until);
    let wait = at.duration_since(now).unsigned_abs();
    Some(tokio::time::Instant::now() + wait)
}

async fn supervise(name: String, connect: Connect, tx: mpsc::Sender<Msg>, options: ClusterOptions) {
    let (signals, mut signal_rx) = mpsc::unbounded_channel();
    let sink = Sink {
        cluster: name.clone(),
        tx: tx.clone(),
        signals,
        pass: None,
    };
    let mut tracker = Tracker::new(name.clone());
    let Decision::Send(hello) = tracker.start() else {
        return;
    };
    if tx.send(hello).await.is_err() {
        return;
    }
    let Some(mut client) = first_client(&name, &connect, &tx).await else {
        return;
    };
    let mut running = Running::start(&client, &sink, &options);
    let mut renew_at = renewal(&client);
    let mut rebuild_wait = BUILD_RETRY_FIRST;
    let mut refused_wait = Duration::ZERO;
    tracing::info!(cluster = %name, "cluster source started");

    loop {
        let renew = async {
            match renew_at {
                Some(at) => tokio::time::sleep_until(at).await,
                None => std::future::pending().await,
            }
        };
        let signal = tokio::select! {
            signal = signal_rx.recv() => match signal {
                Some(s) => Some(s),
                None => return,
            },
            () = renew => None,
        };
        let Some(signal) = signal else {
            // Credentials about to expire, or refused: a fresh client; the old one keeps
            // running until the new one is there.
            match connect().await {
                Ok(fresh) => {
                    tracing::info!(cluster = %name, "client rebuilt with fresh credentials; watches resume");
                    client = fresh;
                    running.probe.abort_all();
                    running.watches.abort_all();
                    running = Running::start(&client, &sink, &options);
                    renew_at = renewal(&client);
                    rebuild_wait = BUILD_RETRY_FIRST;
                }
                Err(e) => {
                    tracing::warn!(cluster = %name, error = %e, "cannot rebuild the client; trying again in {rebuild_wait:?}");
                    renew_at = Some(tokio::time::Instant::now() + rebuild_wait);
                    rebuild_wait = (rebuild_wait * 2).min(BUILD_RETRY_MAX);
                }
            }
            continue;
        };
        // A 401 from the probe or from any watch: the credentials are no longer accepted.
        let refused = match &signal {
            Signal::Probe(Err(f)) => f.unauthorized(),
            Signal::Unauthorized(..) => true,
            _ => false,
        };
        if matches!(&signal, Signal::Probe(Ok(_))) {
            refused_wait = Duration::ZERO;
        }
        for decision in tracker.on(signal, Timestamp::now()) {
            match decision {
                Decision::Send(msg) => {
                    if tx.send(msg).await.is_err() {
                        return;
                    }
                }
                Decision::RestartWatches => {
                    tracing::info!(cluster = %name, "cluster answers again: restarting watches");
                    running.watches.abort_all();
                    running.watches = JoinSet::new();
                    start_watches(&mut running.watches, &client, &sink, &options);
                }
            }
        }
        // 401: the credentials are no longer accepted; rebuild now (unless already due), and
        // after growing pauses while the server keeps refusing the fresh ones too.
        let at = tokio::time::Instant::now() + refused_wait;
        if refused && renew_at.is_none_or(|due| due > at) {
            renew_at = Some(at);
            refused_wait = (refused_wait * 2).clamp(BUILD_RETRY_FIRST, BUILD_RETRY_MAX);
        }
        if tx.is_closed() {
            return;
        }
    }
}
