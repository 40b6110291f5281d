//! Harness for the end-to-end tests against the loopback control plane in `tests/env`.
//!
//! Use from an e2e test crate (`tests/e2e_*.rs`, gated by `#![cfg(feature = "e2e")]`) as
//! `mod support;`. Entry point: [`env::TestEnv::get`]. What the suites apply comes from
//! [`manifests`] (Deployments, Rollouts, Canaries, Services), never from a local copy.
// Each test crate compiles this module separately and uses a different subset of it.
#![allow(dead_code)]

pub mod apply;
pub mod env;
pub mod kubectl;
pub mod manifests;
pub mod promwrite;
pub mod proxy;
pub mod wait;

pub use env::TestEnv;
