//! Sources: everything that feeds the core with `Msg` values. Each runs on its own task and
//! never touches UI state.

pub mod demo;
pub mod files;
pub mod kube;
pub mod logs;
pub mod prometheus;
