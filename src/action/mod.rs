//! Carrying out actions: the executor (deadline, audit, one result per action, its own
//! read-only gate) and the per-backend targets that send the requests (kube API, demo
//! simulation) or refuse to (`refuse`, for read-only clusters).

pub mod audit;
pub mod demo;
pub mod executor;
pub mod kube;
pub mod ledger;
pub mod pods;
pub mod refuse;

pub use demo::{DemoRead, DemoRequest, DemoTarget, ObjectRead};
pub use executor::{ActionTarget, Executor};
pub use refuse::{ReadOnly, RefusingTarget};
