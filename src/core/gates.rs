//! Flagger's loadtester keeps a gate open after it was opened: once a Canary with a confirm
//! gate has gone to Succeeded, the next release would sail through it. When this console
//! sees a Canary turn Succeeded it closes that gate, as an action of its own (planned here,
//! executed and audited like any other). Pure; no IO.

use super::action::{ActionKind, ActionPlan, Seen};
use super::effect::Effect;
use super::facts::FlaggerPhase;
use super::kinds::{ReleaseKind, canary};
use super::model::{Release, ReleaseKey};
use super::state::{Pending, State};

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
