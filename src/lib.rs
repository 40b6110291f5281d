//! shipdeck: a terminal release console for on-call engineers.
//!
//! `core` is pure (state, update, domain); `ui` renders from `&State`; `source` and `action`
//! hold the IO adapters; `term` owns the terminal; `app` is the one message pump (console
//! loop, headless collection); `config` parses and `config::resolve` decides the run's
//! choices; `wiring` starts each mode; `commands` runs console, snapshot, doctor and `wait`;
//! `logging` sets up the log file; `exit` turns signals and panics into one orderly exit. The binary (`main.rs`) only calls `commands`.

pub mod action;
pub mod app;
pub mod cli;
pub mod commands;
pub mod config;
pub mod core;
pub mod doctor;
pub mod exit;
pub mod logging;
pub mod snapshot;
pub mod source;
pub mod term;
pub mod ui;
pub mod wait;
pub mod wiring;
