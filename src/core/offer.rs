//! Action offers: for one release, each action's state computed once — ready (with what the
//! operator should expect: typed name, error-budget gate, RBAC not yet checked) or refused
//! with the reason (in flight, read-only, not applicable, no RBAC permission). Key handling
//! opens the modal from an offer and the action bar shows offers; neither re-runs policy.
//! Builds on `core::action::{availability, plan}` as black boxes; owns no state and sends
//! no effects.

use std::collections::BTreeMap;
use std::fmt;

use jiff::Timestamp;

use super::action::{self, ActionKind, ActionPlan, Disabled};
use super::effect::GateOverride;
use super::model::{AlertLevel, BurnWindow, Release, SloStatus};
use super::owner;
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
    /// The gate could not be evaluated (the SLO's page windows have no data): said in the
    /// modal, and on prod the service name is asked for as the gate would.
    pub gate_unknown: Option<GateUnknown>,
    /// What must be typed to confirm: the object name (destructive on prod) and/or the
    /// service name (gate).
    pub must_type: Option<String>,
}

/// The error-budget gate of a gated action, not evaluated: the linked SLO has no data for
/// a page rule (Prometheus down, slow or returning no series) and no decided rule pages.
#[derive(Debug, Clone, PartialEq)]
pub struct GateUnknown {
    pub service: String,
    /// Since when the SLO has been unknown (None: never evaluated yet, or only some of the
    /// page windows missing).
    pub since: Option<Timestamp>,
}

impl GateUnknown {
    /// "SLO unknown since HH:MM — gate not evaluated" (UTC, as the header clock).
    pub fn text(&self) -> String {
        match self.since {
            Some(t) => format!(
                "SLO unknown since {} — gate not evaluated",
                t.strftime("%H:%M")
            ),
            None => "SLO unknown — gate not evaluated".to_string(),
        }
    }
}

/// Can a page rule not be decided (a window of it has no data)?
pub fn page_undecided(burn: &BTreeMap<BurnWindow, Option<f64>>) -> bool {
    slo::RULES
        .iter()
        .filter(|(severity, ..)| *severity == AlertLevel::Page)
        .any(|(_, long, short, _)| {
            [long, short]
                .iter()
                .any(|w| burn.get(w).copied().flatten().is_none())
        })
}

/// The gate for a gated action on a service with SLO `s`: it pages (override), or it could
/// not be evaluated, or neither.
pub fn gate_of(s: &SloStatus) -> (Option<GateOverride>, Option<GateUnknown>) {
    if let Some((w, burn)) = slo::paging_rule(&s.burn) {
        let gate = GateOverride {
            service: s.spec.service.clone(),
            window: w.as_str().into(),
            burn,
        };
        return (Some(gate), None);
    }
    if page_undecided(&s.burn) {
        let unknown = GateUnknown {
            service: s.spec.service.clone(),
            since: s.unknown_since,
        };
        return (None, Some(unknown));
    }
    (None, None)
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
        let key = AccessKey::new(&plan.cluster, call.namespace(), verb, &res);
        match state.access.get(&key).and_then(|a| a.current(state.now)) {
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

/// The object's name as it is typed to confirm: `cluster/name` when a release of the same
/// name exists on another cluster — any release the console knows, shown or hidden by the
/// filter or the cluster chooser — else the plain name.
pub fn typed_name(state: &State, plan: &ActionPlan) -> String {
    let elsewhere = state
        .releases
        .keys()
        .any(|k| k.name == plan.name && k.cluster != plan.cluster);
    if elsewhere {
        format!("{}/{}", plan.cluster, plan.name)
    } else {
        plan.name.clone()
    }
}

fn ready(state: &State, r: &Release, kind: ActionKind) -> Result<Ready, Refusal> {
    if state.pending.values().any(|p| p.key == r.key) {
        return Err(Refusal::InFlight);
    }
    let cluster = state.cluster(&r.key.cluster).ok_or(Refusal::NoCluster)?;
    let mut plan = action::plan(kind, r, cluster, state.settings.read_only, state.now)
        .map_err(Refusal::Unavailable)?;
    plan.owner_first = owner::pre_step(kind, r, &state.releases);
    if let Some(first) = &plan.owner_first {
        plan.notes.push(first.text());
    }
    let allowed = plan_allowed(state, &plan);
    if allowed == Some(false) {
        let (verb, resource) = plan
            .calls
            .first()
            .map_or(("patch", String::new()), |c| c.rbac());
        return Err(Refusal::NoPermission { verb, resource });
    }
    let (gate, gate_unknown) = match state.slo_for(r) {
        Some(s) if kind.gated_by_burn() => gate_of(s),
        _ => (None, None),
    };
    // The service name is typed to override a paging gate, and on prod also when the gate
    // could not be evaluated (the same prod rule as the typed object name).
    let service = gate.as_ref().map(|g| g.service.clone()).or_else(|| {
        gate_unknown
            .as_ref()
            .filter(|_| plan.prod)
            .map(|u| u.service.clone())
    });
    let must_type = match (service, plan.needs_typed_name()) {
        (Some(service), true) => Some(format!("{} {service}", typed_name(state, &plan))),
        (Some(service), false) => Some(service),
        (None, true) => Some(typed_name(state, &plan)),
        (None, false) => None,
    };
    Ok(Ready {
        plan,
        rbac_unchecked: allowed.is_none(),
        gate,
        gate_unknown,
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
        crate::core::access::record(
            &mut s,
            AccessKey::new(&r.key.cluster, &r.key.namespace, "patch", "rollouts/status"),
            false,
        );
        let refusal = offer(&s, &r, ActionKind::Promote).state.err();
        assert_eq!(
            refusal.map(|r| r.to_string()).as_deref(),
            Some("no RBAC permission: patch rollouts/status")
        );
    }

    fn slo_down(s: &mut State) {
        crate::core::update(
            s,
            crate::core::Msg::SloUnavailable {
                slo: "checkout-availability".into(),
                at: t(90),
                error: "prometheus: connection refused".into(),
            },
        );
    }

    #[test]
    fn an_unknown_slo_says_the_gate_was_not_evaluated_and_asks_for_the_service_on_prod() {
        let mut s = fleet();
        slo_down(&mut s);
        let r = checkout(&s);
        let ready = offer(&s, &r, ActionKind::Promote)
            .state
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(ready.gate, None);
        let unknown = ready
            .gate_unknown
            .clone()
            .unwrap_or_else(|| panic!("no gate_unknown"));
        assert_eq!(unknown.service, "checkout");
        assert_eq!(unknown.since, Some(t(90)));
        let hm = t(90).strftime("%H:%M").to_string();
        assert_eq!(
            unknown.text(),
            format!("SLO unknown since {hm} — gate not evaluated")
        );
        assert_eq!(
            ready.must_type.as_deref(),
            Some("checkout"),
            "prod: service name"
        );
        // Destructive on prod: the object name and the service name, as with a paging gate.
        let full = offer(&s, &r, ActionKind::PromoteFull)
            .state
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(full.must_type.as_deref(), Some("checkout checkout"));
        // Never gated: no word about the SLO.
        let abort = offer(&s, &r, ActionKind::Abort)
            .state
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(abort.gate_unknown, None);
        assert_eq!(abort.must_type.as_deref(), Some("checkout"));
    }

    #[test]
    fn off_prod_an_unknown_slo_is_said_but_nothing_is_typed() {
        let mut s = fleet();
        slo_down(&mut s);
        for c in &mut s.clusters {
            c.labels.remove("env");
        }
        let r = checkout(&s);
        let ready = offer(&s, &r, ActionKind::Promote)
            .state
            .unwrap_or_else(|e| panic!("{e}"));
        assert!(ready.gate_unknown.is_some());
        assert_eq!(ready.must_type, None);
    }

    #[test]
    fn a_calm_slo_leaves_the_gate_open_and_silent() {
        let s = fleet();
        let r = checkout(&s);
        let ready = offer(&s, &r, ActionKind::Promote)
            .state
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            (ready.gate.clone(), ready.gate_unknown.clone()),
            (None, None)
        );
    }

    #[test]
    fn a_page_rule_is_undecided_when_one_of_its_windows_is_missing() {
        let all = |v: Option<f64>| -> BTreeMap<BurnWindow, Option<f64>> {
            BurnWindow::ALL.iter().map(|w| (*w, v)).collect()
        };
        assert!(!page_undecided(&all(Some(0.1))));
        assert!(page_undecided(&all(None)));
        let mut short_missing = all(Some(0.1));
        short_missing.insert(BurnWindow::M30, None);
        assert!(page_undecided(&short_missing));
        // Only ticket windows missing: the page rules are decided.
        let mut ticket_missing = all(Some(0.1));
        ticket_missing.insert(BurnWindow::D3, None);
        assert!(!page_undecided(&ticket_missing));
        let never = crate::core::testkit::slo("x", "svc");
        assert_eq!(
            gate_of(&never).1.map(|u| u.text()).as_deref(),
            Some("SLO unknown — gate not evaluated")
        );
    }
}
