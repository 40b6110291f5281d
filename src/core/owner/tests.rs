//! "Suspend the owner first" through the real update loop: a paused-by-hand Rollout owned
//! by a reconciling Kustomization offers the pre-step; Tab reaches it; confirming with it
//! sends the owner's suspend first, then the pause; the row then says the owner is
//! suspended; an owner already suspended or unseen offers nothing.

use serde_json::json;

use super::*;
use crate::core::action::ApiCall;
use crate::core::effect::Effect;
use crate::core::facts::ObjectFacts;
use crate::core::kinds::flux::{FluxFacts, Ready};
use crate::core::model::Cluster;
use crate::core::msg::{Key, Msg};
use crate::core::state::{ModalFocus, Settings, State};
use crate::core::testkit::{FleetBuilder, meta, paused_rollout, t};
use crate::core::{settle, update};

fn kustomization(suspend: bool, rv: &str) -> FluxFacts {
    FluxFacts {
        meta: meta("flux-system", "apps", rv),
        suspend,
        ready: Ready::True,
        observed_generation: Some(0),
        last_applied_revision: "main@sha1:abc".into(),
        ..FluxFacts::default()
    }
}

/// A Rollout applied by Kustomization flux-system/apps, not paused by hand.
fn owned_rollout() -> ObjectFacts {
    let mut r = paused_rollout("shop", "web");
    // At a weight step, not paused: pause applies.
    r.pause_conditions.clear();
    r.current_step_index = Some(0);
    r.phase = Some("Progressing".into());
    r.message = String::new().into();
    r.meta.labels.insert(OWNER_NAME_LABEL.into(), "apps".into());
    r.meta
        .labels
        .insert(OWNER_NAMESPACE_LABEL.into(), "flux-system".into());
    ObjectFacts::Rollout(r)
}

fn fleet(owner: Option<FluxFacts>) -> State {
    let mut f = FleetBuilder::new(t(0), Settings::default(), vec![Cluster::new("a")], vec![]);
    f.upsert("a", owned_rollout());
    if let Some(k) = owner {
        f.upsert("a", ObjectFacts::Kustomization(k));
    }
    f.settled()
}

fn press(s: &mut State, k: Key) -> Vec<Effect> {
    let fx = update(s, Msg::Key(k));
    settle(s);
    fx
}

fn select(s: &mut State, name: &str) {
    let i = s.view.order.iter().position(|k| k.name == name);
    s.view.selected = i.unwrap_or_else(|| panic!("{name} is listed"));
}

fn web(s: &State) -> &Release {
    let key = ReleaseKey {
        cluster: "a".into(),
        kind: ReleaseKind::Rollout,
        namespace: "shop".into(),
        name: "web".into(),
    };
    s.releases
        .get(&key)
        .unwrap_or_else(|| panic!("web is a release"))
}

#[test]
fn the_owner_is_read_from_the_flux_and_argo_cd_tracking_metadata() {
    let mut m = meta("shop", "web", "1");
    assert_eq!(OwnerRef::of(&m), None);
    m.labels.insert(OWNER_NAME_LABEL.into(), "apps".into());
    assert_eq!(
        OwnerRef::of(&m),
        Some(OwnerRef::FluxKustomization {
            namespace: "shop".into(),
            name: "apps".into()
        }),
        "no namespace label: the object's own namespace"
    );
    let mut m = meta("shop", "web", "1");
    m.annotations.insert(
        "argocd.argoproj.io/tracking-id".into(),
        "team_shop:argoproj.io/Rollout:shop/web".into(),
    );
    assert_eq!(
        OwnerRef::of(&m).map(|o| o.describe()),
        Some("Argo CD application team/shop".into())
    );
}

#[test]
fn argo_cd_sync_off_removes_automated_sync_under_a_precondition() {
    let ApiCall::Patch { body, resource, .. } = argocd_sync_off("argocd", "shop", "42") else {
        panic!("a patch")
    };
    assert_eq!(resource.plural, "applications");
    assert_eq!(
        body,
        json!({"metadata": {"resourceVersion": "42"}, "spec": {"syncPolicy": {"automated": null}}})
    );
}

#[test]
fn pause_offers_suspending_a_reconciling_owner_and_sends_it_first() {
    let mut s = fleet(Some(kustomization(false, "7")));
    assert!(matches!(
        owner_state(web(&s), |k| s.releases.get(k)),
        Some(OwnerState::Reconciling { .. })
    ));
    select(&mut s, "web");
    press(&mut s, Key::Char(' '));
    let m = s
        .view
        .modal
        .as_ref()
        .unwrap_or_else(|| panic!("pause opens"));
    let first = m
        .plan
        .owner_first
        .clone()
        .unwrap_or_else(|| panic!("pre-step offered"));
    assert_eq!(first.owner, "Flux Kustomization flux-system/apps");
    let ApiCall::Patch {
        namespace,
        name,
        body,
        ..
    } = &first.call
    else {
        panic!("a patch")
    };
    assert_eq!((namespace.as_str(), name.as_str()), ("flux-system", "apps"));
    assert_eq!(
        body,
        &json!({"metadata": {"resourceVersion": "7"}, "spec": {"suspend": true}})
    );
    // Cancel → Confirm → Suspend owner first.
    press(&mut s, Key::Tab);
    press(&mut s, Key::Tab);
    assert_eq!(
        s.view.modal.as_ref().map(|m| m.focus),
        Some(ModalFocus::OwnerFirst)
    );
    let fx = press(&mut s, Key::Enter);
    let sent: Vec<_> = fx
        .iter()
        .filter_map(|e| match e {
            Effect::Execute { plan, .. } => Some(plan.calls.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(sent.len(), 1, "one plan executed: {fx:?}");
    let plurals: Vec<&str> = sent[0]
        .iter()
        .map(|c| match c {
            ApiCall::Patch { resource, .. } => resource.plural,
            _ => "other",
        })
        .collect();
    assert_eq!(
        plurals,
        ["kustomizations", "rollouts"],
        "owner first, then the pause"
    );
}

#[test]
fn plain_confirm_sends_the_action_alone() {
    let mut s = fleet(Some(kustomization(false, "7")));
    select(&mut s, "web");
    press(&mut s, Key::Char(' '));
    let fx = press(&mut s, Key::Char('y'));
    let calls: Vec<usize> = fx
        .iter()
        .filter_map(|e| match e {
            Effect::Execute { plan, .. } => Some(plan.calls.len()),
            _ => None,
        })
        .collect();
    assert_eq!(calls, [1]);
}

#[test]
fn a_suspended_owner_is_said_on_the_row_and_offers_nothing() {
    let mut s = fleet(Some(kustomization(true, "8")));
    assert_eq!(
        owner_state(web(&s), |k| s.releases.get(k)).map(|o| o.text()),
        Some("Flux Kustomization flux-system/apps is suspended until it is resumed".into())
    );
    select(&mut s, "web");
    press(&mut s, Key::Char(' '));
    let m = s
        .view
        .modal
        .as_ref()
        .unwrap_or_else(|| panic!("pause opens"));
    assert_eq!(m.plan.owner_first, None);
}

#[test]
fn an_unseen_owner_is_named_and_nothing_is_offered() {
    let mut s = fleet(None);
    assert!(matches!(
        owner_state(web(&s), |k| s.releases.get(k)),
        Some(OwnerState::Unseen { .. })
    ));
    select(&mut s, "web");
    press(&mut s, Key::Char(' '));
    assert_eq!(
        s.view.modal.as_ref().map(|m| m.plan.owner_first.is_some()),
        Some(false)
    );
}

#[test]
fn only_actions_a_reconcile_reverts_get_the_pre_step() {
    let s = fleet(Some(kustomization(false, "7")));
    let r = web(&s);
    for action in ActionKind::ALL {
        let offered = pre_step(action, r, |k| s.releases.get(k)).is_some();
        assert_eq!(offered, REVERTED_BY_OWNER.contains(&action), "{action}");
    }
}
