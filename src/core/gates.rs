//! Flagger's confirm gates as the console follows them. The loadtester keeps a gate open
//! after it was opened: once a Canary with a confirm gate has gone to Succeeded, the next
//! release would sail through it. When this console sees a Canary turn Succeeded it closes
//! that gate, as an action of its own (planned here, executed and audited like any other).
//!
//! The gate's state lives only in the loadtester's memory: it is asked (`POST /gate/check`,
//! 200 open, 403 closed) when the detail of a Canary with an openable confirm gate opens and
//! after a gate action on it finishes — never polled. A Canary Flagger holds at a closed
//! confirm-traffic-increase gate stays Progressing in its status (only a Warning event says
//! it halted); once the check says closed it is shown as waiting on a person like the
//! other gates. Pure; no IO.

use std::collections::HashMap;

use jiff::Timestamp;

use super::action::{ActionKind, ActionPlan, ApiCall, Seen};
use super::effect::Effect;
use super::facts::{FlaggerPhase, Gate, GateHook, GateState};
use super::kinds::canary::{CanarySeen, Loadtester, current_gate};
use super::kinds::{ReleaseKind, canary};
use super::model::{HumanWait, Phase, Release, ReleaseKey};
use super::state::{Pending, State};

/// One question to a loadtester: is this Canary's gate open (`POST /gate/check` with
/// `{"name","namespace"}`)? The adapter asks only a loadtester in the Canary's namespace or
/// the cluster's configured one, as for the gate actions.
#[derive(Debug, Clone, PartialEq)]
pub struct GateQuery {
    pub request: u64,
    pub cluster: String,
    pub hook: GateHook,
    pub to: Loadtester,
    /// The Canary as the console saw it (namespace, name, the webhook asked).
    pub canary: CanarySeen,
}

/// What the console last heard about a Canary's gate.
#[derive(Debug, Clone, PartialEq)]
pub struct GateCheck {
    pub request: u64,
    pub hook: GateHook,
    /// None while the question is out.
    pub state: Option<GateState>,
    /// The Canary's resourceVersion when asked: the answer holds for that version (Flagger
    /// writes the Canary when it moves on).
    pub resource_version: String,
    pub at: Timestamp,
}

/// The gate of `r` worth asking about: the one its phase waits at when a person can drive
/// it, else its first openable confirm gate (the loadtester keeps one gate per Canary).
pub fn gate_to_check(r: &Release) -> Option<&Gate> {
    if r.key.kind != ReleaseKind::Canary {
        return None;
    }
    current_gate(&r.facts.flagger_phase, &r.facts.gates)
        .filter(|g| g.openable())
        .or_else(|| canary::gate_to_close(&r.facts.gates))
}

/// Ask the loadtester about the gate of the release under `key` (nothing for a release
/// without an openable confirm gate).
pub fn check(state: &mut State, key: &ReleaseKey) -> Vec<Effect> {
    let Some(r) = state.releases.get(key) else {
        return Vec::new();
    };
    let Some(gate) = gate_to_check(r) else {
        return Vec::new();
    };
    let Some(to) = Loadtester::parse(&gate.url) else {
        return Vec::new();
    };
    let hook = gate.hook;
    let canary = CanarySeen {
        namespace: r.key.namespace.clone(),
        name: r.key.name.clone(),
        uid: r.uid.clone(),
        phase: r.facts.flagger_phase.as_str().to_string(),
        webhook_type: hook.as_str().into(),
        webhook: gate.url.clone(),
        resource_version: None,
    };
    let resource_version = r.resource_version.clone();
    state.view.next_request += 1;
    let request = state.view.next_request;
    state.gate_checks.insert(
        key.clone(),
        GateCheck {
            request,
            hook,
            state: None,
            resource_version,
            at: state.now,
        },
    );
    state.dirty = true;
    vec![Effect::CheckGate(GateQuery {
        request,
        cluster: key.cluster.clone(),
        hook,
        to,
        canary,
    })]
}

/// The loadtester's answer to check `request` (an answer to an older question is dropped).
pub fn on_checked(state: &mut State, request: u64, answer: GateState) {
    let Some((key, check)) = state
        .gate_checks
        .iter_mut()
        .find(|(_, c)| c.request == request)
    else {
        return;
    };
    check.state = Some(answer);
    check.at = state.now;
    let key = key.clone();
    super::objects::rederive(state, &key);
    state.dirty = true;
}

/// A gate action on a Canary finished: ask its gate again, so what the detail says follows.
pub fn after_gate_action(state: &mut State, plan: &ActionPlan) -> Vec<Effect> {
    let gated = plan
        .calls
        .iter()
        .any(|c| matches!(c, ApiCall::LoadtesterPost { path, .. } if path.starts_with("/gate/")));
    if !gated {
        return Vec::new();
    }
    let key = ReleaseKey {
        cluster: plan.cluster.clone(),
        kind: plan.release_kind,
        namespace: plan.namespace.clone(),
        name: plan.name.clone(),
    };
    check(state, &key)
}

/// A Canary held at a closed confirm-traffic-increase gate waits on a person: Paused, with
/// the ⚑ of the other gates — while the check holds (made on this version of the Canary,
/// in the phase that waits at that gate).
pub fn apply_check(checks: &HashMap<ReleaseKey, GateCheck>, rel: &mut Release) {
    let Some(check) = checks.get(&rel.key) else {
        return;
    };
    let halted = check.hook == GateHook::ConfirmTrafficIncrease
        && check.state == Some(GateState::Closed)
        && check.resource_version == rel.resource_version
        && rel.facts.flagger_phase == FlaggerPhase::Progressing
        && rel.phase == Phase::Progressing;
    if halted {
        rel.phase = Phase::Paused;
        rel.needs_human = Some(HumanWait::TrafficGate);
    }
}

/// The note the audit record and the notice carry for the automatic close.
pub const AUTO_CLOSE_NOTE: &str = "automatic: the Canary succeeded and the loadtester keeps an opened gate open; closed so the next release waits at it again";

/// The Flagger phase of the release under `key` now (None: not a Canary, or unknown).
pub fn phase_of(state: &State, key: &ReleaseKey) -> Option<FlaggerPhase> {
    state
        .releases
        .get(key)
        .filter(|r| r.key.kind == ReleaseKind::Canary)
        .map(|r| r.facts.flagger_phase.clone())
}

/// The plan that closes the gate of `r`, a Canary that has just succeeded (None: no
/// openable gate, or the cluster is read-only).
pub fn close_plan(state: &State, r: &Release) -> Option<ActionPlan> {
    let cluster = state.clusters.iter().find(|c| c.name == r.key.cluster)?;
    if state.settings.read_only || cluster.read_only {
        return None;
    }
    let calls = canary::close_after_success(r)?;
    Some(ActionPlan {
        kind: ActionKind::Pause,
        cluster: r.key.cluster.clone(),
        release_kind: r.key.kind,
        namespace: r.key.namespace.clone(),
        name: r.key.name.clone(),
        uid: r.uid.clone(),
        prod: cluster.is_prod(),
        calls,
        seen: Seen {
            phase: r.phase.as_str().into(),
            step: r.step,
            revision: r.facts.current_revision,
            resource_version: r.resource_version.clone(),
        },
        notes: vec![AUTO_CLOSE_NOTE.into()],
        owner_first: None,
    })
}

/// After an update: close the gate of the Canary under `key` if it went from another phase
/// (`before`) to Succeeded. The close is pending like any action (its answer is a notice).
pub fn after_update(
    state: &mut State,
    key: &ReleaseKey,
    before: Option<FlaggerPhase>,
) -> Vec<Effect> {
    let Some(before) = before else {
        return Vec::new();
    };
    if before == FlaggerPhase::Succeeded {
        return Vec::new();
    }
    let Some(r) = state.releases.get(key) else {
        return Vec::new();
    };
    if r.facts.flagger_phase != FlaggerPhase::Succeeded {
        return Vec::new();
    }
    let Some(plan) = close_plan(state, r) else {
        return Vec::new();
    };
    let id = state.next_action_id;
    state.next_action_id += 1;
    state.pending.insert(
        id,
        Pending {
            key: key.clone(),
            kind: plan.kind,
            sent: state.now,
            plan: plan.clone(),
        },
    );
    state.dirty = true;
    vec![Effect::Execute {
        id,
        plan,
        gate_override: None,
    }]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::action::ApiCall;
    use crate::core::facts::{CanaryFacts, Gate, GateHook, ObjectFacts};
    use crate::core::model::Cluster;
    use crate::core::msg::Msg;
    use crate::core::state::Settings;
    use crate::core::testkit::meta;
    use crate::core::update::update;
    use jiff::Timestamp;

    fn canary(phase: &str, rv: &str) -> ObjectFacts {
        ObjectFacts::Canary(CanaryFacts {
            meta: meta("shop", "web", rv),
            target: "Deployment/web".into(),
            phase: phase.into(),
            gates: vec![Gate {
                hook: GateHook::ConfirmPromotion,
                url: "http://flagger-loadtester.shop:80/gate/check".into(),
            }],
            ..CanaryFacts::default()
        })
    }

    fn upsert(s: &mut State, phase: &str, rv: &str) -> Vec<Effect> {
        update(
            s,
            Msg::Upsert {
                cluster: "a".into(),
                facts: canary(phase, rv),
            },
        )
    }

    fn state() -> State {
        State::new(
            Timestamp::UNIX_EPOCH,
            Settings::default(),
            vec![Cluster::new("a")],
            vec![],
        )
    }

    #[test]
    fn a_canary_turning_succeeded_has_its_gate_closed_once() {
        let mut s = state();
        assert!(upsert(&mut s, "WaitingPromotion", "1").is_empty());
        assert!(upsert(&mut s, "Promoting", "2").is_empty());
        let fx = upsert(&mut s, "Succeeded", "3");
        let [Effect::Execute { plan, .. }] = fx.as_slice() else {
            panic!("{fx:?}")
        };
        assert_eq!(plan.notes, vec![AUTO_CLOSE_NOTE.to_string()]);
        let [
            ApiCall::LoadtesterPost {
                path, body, canary, ..
            },
        ] = plan.calls.as_slice()
        else {
            panic!("{:?}", plan.calls)
        };
        assert_eq!(path, "/gate/close");
        assert_eq!(
            body,
            &serde_json::json!({"name": "web", "namespace": "shop"})
        );
        assert_eq!(canary.phase, "Succeeded");
        assert_eq!(canary.webhook_type, "confirm-promotion");
        assert_eq!(canary.resource_version.as_deref(), Some("3"));
        assert_eq!(s.pending.len(), 1);
        // Still Succeeded (a status rewrite): no second close.
        assert!(upsert(&mut s, "Succeeded", "4").is_empty());
    }

    fn gated(phase: &str, hook: GateHook, rv: &str) -> ObjectFacts {
        let ObjectFacts::Canary(mut c) = canary(phase, rv) else {
            unreachable!()
        };
        c.gates[0].hook = hook;
        ObjectFacts::Canary(c)
    }

    fn key() -> ReleaseKey {
        ReleaseKey {
            cluster: "a".into(),
            kind: ReleaseKind::Canary,
            namespace: "shop".into(),
            name: "web".into(),
        }
    }

    #[test]
    fn the_gate_is_asked_and_a_closed_traffic_gate_waits_on_a_person() {
        let mut s = state();
        update(
            &mut s,
            Msg::Upsert {
                cluster: "a".into(),
                facts: gated("Progressing", GateHook::ConfirmTrafficIncrease, "1"),
            },
        );
        assert_eq!(s.releases[&key()].phase, Phase::Progressing);
        let fx = check(&mut s, &key());
        let [Effect::CheckGate(q)] = fx.as_slice() else {
            panic!("{fx:?}")
        };
        assert_eq!(q.hook, GateHook::ConfirmTrafficIncrease);
        assert_eq!(
            q.canary.webhook,
            "http://flagger-loadtester.shop:80/gate/check"
        );
        assert_eq!(
            q.to,
            Loadtester::parse("http://flagger-loadtester.shop:80/gate/check").unwrap()
        );
        // An answer to another question changes nothing.
        update(
            &mut s,
            Msg::GateChecked {
                request: q.request + 7,
                state: GateState::Closed,
            },
        );
        assert_eq!(s.gate_checks[&key()].state, None);
        update(
            &mut s,
            Msg::GateChecked {
                request: q.request,
                state: GateState::Closed,
            },
        );
        let r = &s.releases[&key()];
        assert_eq!(
            (r.phase, r.needs_human),
            (Phase::Paused, Some(HumanWait::TrafficGate))
        );
        // Flagger moved on (a new version of the Canary): the answer no longer holds.
        update(
            &mut s,
            Msg::Upsert {
                cluster: "a".into(),
                facts: gated("Progressing", GateHook::ConfirmTrafficIncrease, "2"),
            },
        );
        let r = &s.releases[&key()];
        assert_eq!((r.phase, r.needs_human), (Phase::Progressing, None));
    }

    #[test]
    fn a_gate_action_asks_again_and_other_actions_do_not() {
        let mut s = state();
        update(
            &mut s,
            Msg::Upsert {
                cluster: "a".into(),
                facts: gated("WaitingPromotion", GateHook::ConfirmPromotion, "1"),
            },
        );
        let r = s.releases[&key()].clone();
        let cluster = Cluster::new("a");
        let open = crate::core::action::plan(ActionKind::Promote, &r, &cluster, false, s.now)
            .expect("p opens the gate");
        let fx = after_gate_action(&mut s, &open);
        assert!(
            matches!(fx.as_slice(), [Effect::CheckGate(q)] if q.hook == GateHook::ConfirmPromotion),
            "{fx:?}"
        );
        let suspend = ActionPlan {
            calls: Vec::new(),
            ..open
        };
        assert!(after_gate_action(&mut s, &suspend).is_empty());
        // No openable gate (a /gate/halt webhook): nothing to ask.
        let ObjectFacts::Canary(mut c) = gated("WaitingPromotion", GateHook::ConfirmPromotion, "2")
        else {
            unreachable!()
        };
        c.gates[0].url = "http://flagger-loadtester.shop:80/gate/halt".into();
        update(
            &mut s,
            Msg::Upsert {
                cluster: "a".into(),
                facts: ObjectFacts::Canary(c),
            },
        );
        assert!(check(&mut s, &key()).is_empty());
    }

    #[test]
    fn no_close_when_first_seen_succeeded_or_read_only() {
        let mut s = state();
        assert!(upsert(&mut s, "Succeeded", "1").is_empty());
        let mut ro = state();
        ro.settings.read_only = true;
        assert!(upsert(&mut ro, "WaitingPromotion", "1").is_empty());
        assert!(upsert(&mut ro, "Succeeded", "2").is_empty());
    }
}
