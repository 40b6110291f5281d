//! The write side for live clusters: the per-cluster action target (`KubeTarget`), the exact
//! requests it sends (merge / JSON patches with preconditions, rollbacks, service-proxy posts),
//! how answers map to an `Outcome`, and the RBAC access checks. Watching lives in
//! `source::kube`; nothing here reads for display.

pub mod access;
pub mod loadtester;
mod outcome;
pub mod request;
pub mod rollback;
pub mod target;

pub use target::KubeTarget;
