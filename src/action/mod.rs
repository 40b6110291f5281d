//! Carrying out actions: the executor (deadline, audit, one result per action) and the
//! per-backend targets that send the requests (kube API, demo simulation).

pub mod audit;
pub mod demo;
pub mod executor;
pub mod kube;
pub mod ledger;

pub use demo::{DemoRequest, DemoTarget};
pub use executor::{ActionTarget, Executor};
