//! Live Kubernetes clusters: a client per context, watchers that project objects into compact
//! facts, and the action target that sends patches to the owning API.

pub mod access;
pub mod client;
mod outcome;
pub mod request;
pub mod rollback;
pub mod target;
