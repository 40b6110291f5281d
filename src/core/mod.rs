//! The pure core: domain model, status derivation, burn maths, action rules and the
//! `update` function. No IO, no clock, no async here: time arrives as a value in `Msg::Tick`.

pub mod access;
pub mod action;
pub mod analysis;
pub mod audit;
pub mod copy;
pub mod effect;
pub mod facts;
pub mod failures;
pub mod filter;
pub mod flux_reads;
pub mod gates;
pub mod input;
pub mod inspect;
pub mod inventory;
pub mod keys;
pub mod kinds;
pub mod layout;
pub mod logs;
pub mod message;
pub mod model;
pub mod msg;
mod objects;
pub mod offer;
pub mod owner;
pub mod revisions;
pub mod slo;
pub mod slo_eval;
pub mod state;
pub mod status;
pub mod text;
pub mod update;
pub mod yaml;

#[cfg(test)]
mod panels_tests;
#[cfg(any(test, feature = "testkit"))]
#[doc(hidden)]
pub mod testkit;
#[cfg(test)]
mod tests;

pub use effect::Effect;
pub use msg::{Key, Msg};
pub use state::State;
pub use update::{settle, update};
