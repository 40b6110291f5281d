//! Projections: Kubernetes objects in, compact `core::facts` out. Pure functions, no IO.
//!
//! Only what the core reads survives: managedFields, most annotations and labels, pod specs
//! and everything else not displayed are dropped here, before anything is kept or sent.
//! Built-in kinds come in as `k8s_openapi` types; the CRDs (Argo Rollouts, Flagger) come in
//! as JSON and are read through small lenient serde shapes, so a malformed object becomes
//! `ObjectFacts::Unparseable` with the error instead of failing the whole watch.

mod analysis;
mod canary;
mod common;
mod deployment;
mod dispatch;
mod duration;
mod event;
mod rollout;

pub use analysis::analysis_run;
pub use canary::canary;
pub use common::Keep;
pub use deployment::{deployment, replica_set};
pub use dispatch::{Projected, from_value};
pub use event::warning_event;
pub use rollout::rollout;

#[cfg(test)]
mod tests;
