//! Carrying out actions: the executor (deadline, audit, one result per action) and the
//! per-backend targets that send the requests (kube API, demo simulation).

pub mod audit;
pub mod executor;

pub use executor::{ActionTarget, Executor};
