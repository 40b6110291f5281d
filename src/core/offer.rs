//! Action offers: for one release, each action's state computed once — ready (with what the
//! operator should expect: typed name, error-budget gate, RBAC not yet checked) or refused
//! with the reason (in flight, read-only, not applicable, no RBAC permission). Key handling
//! opens the modal from an offer and the action bar shows offers; neither re-runs policy.
//! Builds on `core::action::{availability, plan}` as black boxes; owns no state and sends
//! no effects.

use std::fmt;

use super::action::{self, ActionKind, ActionPlan, Disabled};
use super::effect::GateOverride;
use super::model::Release;
use super::slo;
use super::state::{AccessKey, State};

/// Why an action is not offered.
#[derive(Debug, Clone, PartialEq)]
pub enum Refusal {
    /// The release's cluster is not in the configuration (nothing to act on).
    NoCluster,
    /// An action on this release is still in flight.
    InFlight,
    /// Read-only, or not possible in the object's state.
    Unavailable(Disabled),
    /// RBAC denied the first call's (verb, resource).
    NoPermission {
        verb: &'static str,
        resource: String,
    },
}

impl fmt::Display for Refusal {
    /// The reason as the action bar shows it.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NoCluster => f.write_str("cluster not configured"),
            Self::InFlight => Disabled::Pending.fmt(f),
            Self::Unavailable(why) => why.fmt(f),
            Self::NoPermission { verb, resource } => {
                write!(f, "no RBAC permission: {verb} {resource}")
            }
        }
    }
}

/// An action that can be taken, and what taking it involves.
#[derive(Debug, Clone, PartialEq)]
pub struct Ready {
    pub plan: ActionPlan,
    /// RBAC has not answered for every call yet (checks go out with the modal).
    pub rbac_unchecked: bool,
    /// The service's SLO pages: confirming overrides the error-budget gate.
    pub gate: Option<GateOverride>,
    /// What must be typed to confirm: the object name (destructive on prod) and/or the
    /// service name (gate).
    pub must_type: Option<String>,
}

/// One action's state on one release.
#[derive(Debug, Clone, PartialEq)]
pub struct Offer {
    pub kind: ActionKind,
    pub state: Result<Ready, Refusal>,
}

/// RBAC answer for every call of a plan: Some(false) if any is denied, None if unknown.
pub fn plan_allowed(state: &State, plan: &ActionPlan) -> Option<bool> {
    let mut all = Some(true);
    for call in &plan.calls {
        let (verb, res) = call.rbac();
        let key = AccessKey::new(&plan.cluster, &plan.namespace, verb, &res);
        match state.access.get(&key) {
            Some(false) => return Some(false),
            Some(true) => {}
            None => all = None,
        }
    }
    all
}

/// The offer of `kind` on `r`: in flight first, then the cluster, the object's state and
/// read-only (`action::plan`), then RBAC; a ready offer says what confirming involves.
pub fn offer(state: &State, r: &Release, kind: ActionKind) -> Offer {
    Offer {
        kind,
        state: ready(state, r, kind),
    }
}

/// Every action's offer on `r`, in `ActionKind::ALL` order.
pub fn offers(state: &State, r: &Release) -> Vec<Offer> {
    ActionKind::ALL
        .iter()
        .map(|&kind| offer(state, r, kind))
        .collect()
}

fn ready(state: &State, r: &Release, kind: ActionKind) -> Result<Ready, Refusal> {
    if state.pending.values().any(|p| p.key == r.key) {
        return Err(Refusal::InFlight);
    }
    let cluster = state.cluster(&r.key.cluster).ok_or(Refusal::NoCluster)?;
    let plan = action::plan(kind, r, cluster, state.settings.read_only, state.now)
        .map_err(Refusal::Unavailable)?;
    let allowed = plan_allowed(state, &plan);
    if allowed == Some(false) {
        let (verb, resource) = plan
            .calls
            .first()
            .map_or(("patch", String::new()), |c| c.rbac());
        return Err(Refusal::NoPermission { verb, resource });
    }
    let gate = if kind.gated_by_burn() {
        state.slo_for(r).and_then(|s| {
            slo::paging_rule(&s.burn).map(|(w, burn)| GateOverride {
                service: s.spec.service.clone(),
                window: w.as_str().into(),
                burn,
            })
        })
    } else {
        None
    };
    let must_type = match (&gate, plan.needs_typed_name()) {
        (Some(g), true) => Some(format!("{} {}", plan.name, g.service)),
        (Some(g), false) => Some(g.service.clone()),
        (None, true) => Some(plan.name.clone()),
        (None, false) => None,
    };
    Ok(Ready {
        plan,
        rbac_unchecked: allowed.is_none(),
        gate,
        must_type,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::testkit;
    use crate::core::testkit::{fleet, t};

    fn checkout(s: &State) -> Release {
        s.releases
            .values()
            .find(|r| r.key.name == "checkout")
            .cloned()
            .unwrap_or_else(|| panic!("fleet has checkout"))
    }

    #[test]
    fn a_paused_rollout_offers_promote_and_abort_with_typed_name_on_prod() {
        let s = fleet();
        let r = checkout(&s);
        let promote = offer(&s, &r, ActionKind::Promote);
        let ready = promote.state.as_ref().unwrap_or_else(|e| panic!("{e}"));
        assert!(ready.rbac_unchecked);
        assert_eq!(ready.must_type, None);
        let abort = offer(&s, &r, ActionKind::Abort);
        let ready = abort.state.as_ref().unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(ready.must_type.as_deref(), Some("checkout"));
    }

    #[test]
    fn read_only_and_in_flight_are_refusals() {
        let mut s = fleet();
        let r = checkout(&s);
        s.settings.read_only = true;
        assert_eq!(
            offer(&s, &r, ActionKind::Promote).state,
            Err(Refusal::Unavailable(Disabled::ReadOnly))
        );
        s.pending
            .insert(1, testkit::pending(&r.key, ActionKind::Pause, t(0)));
        assert_eq!(
            offer(&s, &r, ActionKind::Promote).state,
            Err(Refusal::InFlight)
        );
        assert!(offers(&s, &r).iter().all(|o| o.state.is_err()));
    }

    #[test]
    fn a_denied_call_refuses_with_the_verb_and_resource() {
        let mut s = fleet();
        let r = checkout(&s);
        s.access.insert(
            AccessKey::new(&r.key.cluster, &r.key.namespace, "patch", "rollouts/status"),
            false,
        );
        let refusal = offer(&s, &r, ActionKind::Promote).state.err();
        assert_eq!(
            refusal.map(|r| r.to_string()).as_deref(),
            Some("no RBAC permission: patch rollouts/status")
        );
    }
}
