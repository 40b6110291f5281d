//! The embedded demo fleet behind `shipdeck --demo`: a deterministic simulation (`--seed`)
//! of three clusters with Deployments, Argo Rollouts and Flagger canaries progressing in
//! real time, Warning events and SLO error ratios — and actions answered the way the API
//! server and the controllers would. It simulates controller state (spec and status) only;
//! the console's phases are derived by `core::status` from what it sends, exactly as for a
//! real cluster. Nothing here touches the terminal, the network or the core's state.

mod analysis;
mod application;
mod canary;
mod conditions;
mod deployment;
mod events;
mod fleet;
mod kustomization;
pub mod logs;
mod patch;
mod pods;
mod replicaset;
mod rng;
mod rollout;
mod runner;
mod scenario;
mod script;
mod slo;
mod store;

#[cfg(test)]
mod console_tests;
#[cfg(test)]
mod tests;

pub use fleet::Fleet;
pub use runner::{run, run_with_reads};
pub use scenario::{PROD_EU, PROD_US, STAGING};
