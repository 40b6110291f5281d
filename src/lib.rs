//! shipdeck: a terminal release console for on-call engineers.
//!
//! `core` is pure (state, update, domain); `ui` renders from `&State`; `source` and `action`
//! hold the IO adapters; `term` owns the terminal; `app` is the event loop.

pub mod action;
pub mod app;
pub mod cli;
pub mod config;
pub mod core;
pub mod doctor;
pub mod snapshot;
pub mod source;
pub mod term;
pub mod ui;
