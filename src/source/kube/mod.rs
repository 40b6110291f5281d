//! Live Kubernetes clusters: a client per context, watchers that project objects into compact
//! facts, and the action target that sends patches to the owning API.
//!
//! Entry point for the watch side: [`spawn_cluster`], one per cluster.

pub mod client;
pub mod cluster;
pub mod kinds;
pub mod liveness;
pub mod project;
mod tracker;
pub mod watch;

pub use cluster::{ClusterHandle, ClusterOptions, spawn_cluster, spawn_cluster_with};
