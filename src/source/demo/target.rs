//! What the executor hands the demo runner: a plan and where to send the simulated API
//! server's answer. (The lead's branch extends this file with `DemoTarget`, the executor's
//! `ActionTarget` for the demo fleet.)

use tokio::sync::oneshot;

use crate::core::action::ActionPlan;
use crate::core::msg::Outcome;

/// A plan and where to send the simulation's answer.
pub type Request = (ActionPlan, oneshot::Sender<Outcome>);
