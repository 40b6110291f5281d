//! shipdeck: a terminal release console for on-call engineers.
//!
//! `core` is pure (state, update, domain); `ui` renders from `&State`; `source` and `action`
//! hold the IO adapters; `term` owns the terminal.

pub mod core;
pub mod ui;
