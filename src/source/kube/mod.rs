//! Live Kubernetes clusters: a client per context, watchers that project objects into compact
//! facts. The write side (action targets) lives in `action::kube`.
//!
//! Watch side, per cluster: [`spawn_cluster`] starts one supervisor task that owns six watches
//! (Deployments, ReplicaSets, Rollouts, AnalysisRuns, Canaries, Warning events) and a liveness
//! probe, and sends `Msg::Connection`, `Heard`, `ServerVersion`, `KindForbidden`, `Relisted`,
//! `Upsert`, `Delete` and `Warning` to the console's channel. Dropping the returned
//! [`ClusterHandle`] stops all of it.
//!
//! ```no_run
//! # async fn wire(tx: tokio::sync::mpsc::Sender<shipdeck::core::Msg>) -> Result<(), shipdeck::source::kube::client::KubeError> {
//! use shipdeck::source::kube::{client, spawn_cluster};
//! let client = client::client_for(Some("prod-eu")).await?;
//! let handle = spawn_cluster("prod-eu".to_string(), client, tx);
//! # drop(handle); Ok(()) }
//! ```

pub mod client;
pub mod cluster;
pub mod connect;
pub mod kinds;
pub mod liveness;
pub mod logs;
pub mod pods;
pub mod project;
mod tracker;
pub mod watch;

pub use cluster::{
    ClusterHandle, ClusterOptions, Connect, spawn_cluster, spawn_cluster_connecting,
    spawn_cluster_with,
};
