//! shipdeck: a terminal release console for on-call engineers.
//!
//! `core` is pure (state, update, domain); `ui` renders from `&State`; `source` and `action`
//! hold the IO adapters; `term` owns the terminal.

pub mod core;
pub mod action;
pub mod cli;
pub mod config;
pub mod doctor;
pub mod source;
