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
fn pause_offers_suspending_a_reconciling_owner_and_sends_it_first() {
    let mut s = fleet(Some(kustomization(false, "7")));
    assert!(matches!(
        owner_state(web(&s), &s.releases),
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
        owner_state(web(&s), &s.releases).map(|o| o.text()),
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
        owner_state(web(&s), &s.releases),
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
        let offered = pre_step(action, r, &s.releases).is_some();
        assert_eq!(offered, REVERTED_BY_OWNER.contains(&action), "{action}");
    }
}

/// Argo CD application argocd/shop managing shop/web, automated sync as given.
fn argocd_app(
    automated: Option<serde_json::Value>,
    before: Option<serde_json::Value>,
) -> ObjectFacts {
    use crate::core::kinds::application::{AppResource, ApplicationFacts};
    let self_heal = automated
        .as_ref()
        .and_then(|a| a.get("selfHeal"))
        .and_then(serde_json::Value::as_bool)
        .unwrap_or(false);
    ObjectFacts::Application(ApplicationFacts {
        meta: meta("argocd", "shop", "31"),
        automated,
        self_heal,
        automated_before: before,
        sync_status: "Synced".into(),
        health: "Healthy".into(),
        resources: vec![AppResource {
            group: "argoproj.io".into(),
            kind: "Rollout".into(),
            namespace: "shop".into(),
            name: "web".into(),
        }],
        ..ApplicationFacts::default()
    })
}

/// The Rollout shop/web tracked by Argo CD application `shop` (annotation tracking).
fn argo_owned_rollout() -> ObjectFacts {
    let mut r = paused_rollout("shop", "web");
    r.pause_conditions.clear();
    r.current_step_index = Some(0);
    r.phase = Some("Progressing".into());
    r.message = String::new().into();
    r.meta.annotations.insert(
        "argocd.argoproj.io/tracking-id".into(),
        "shop:argoproj.io/Rollout:shop/web".into(),
    );
    ObjectFacts::Rollout(r)
}

fn argo_fleet(app: Option<ObjectFacts>) -> State {
    let mut f = FleetBuilder::new(t(0), Settings::default(), vec![Cluster::new("a")], vec![]);
    f.upsert("a", argo_owned_rollout());
    if let Some(app) = app {
        f.upsert("a", app);
    }
    f.settled()
}

#[test]
fn a_self_healing_argo_cd_app_offers_automated_sync_off_first_and_it_is_sent_first() {
    let automated = json!({"prune": true, "selfHeal": true});
    let mut s = argo_fleet(Some(argocd_app(Some(automated.clone()), None)));
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
        .unwrap_or_else(|| panic!("pre-step offered for a self-healing app"));
    assert_eq!(first.owner, "Argo CD application shop");
    let ApiCall::Patch {
        namespace,
        name,
        body,
        resource,
        ..
    } = &first.call
    else {
        panic!("a patch")
    };
    assert_eq!(resource.plural, "applications");
    assert_eq!((namespace.as_str(), name.as_str()), ("argocd", "shop"));
    // The rollback two-step's step 1: automated off, what it was kept for resume.
    assert_eq!(
        body,
        &json!({
            "metadata": {
                "resourceVersion": "31",
                "annotations": {
                    crate::core::kinds::application::AUTOMATED_BEFORE: automated.to_string()
                }
            },
            "spec": {"syncPolicy": {"automated": null}},
        })
    );
    press(&mut s, Key::Tab);
    press(&mut s, Key::Tab);
    let fx = press(&mut s, Key::Enter);
    let plurals: Vec<Vec<&str>> = fx
        .iter()
        .filter_map(|e| match e {
            Effect::Execute { plan, .. } => Some(
                plan.calls
                    .iter()
                    .map(|c| match c {
                        ApiCall::Patch { resource, .. } => resource.plural,
                        _ => "other",
                    })
                    .collect(),
            ),
            _ => None,
        })
        .collect();
    assert_eq!(
        plurals,
        [["applications", "rollouts"]],
        "app first, then the pause"
    );
}

#[test]
fn undo_and_restart_get_the_argo_cd_pre_step_too() {
    let s = argo_fleet(Some(argocd_app(Some(json!({"selfHeal": true})), None)));
    let r = web(&s);
    for action in ActionKind::ALL {
        let offered = pre_step(action, r, &s.releases).is_some();
        assert_eq!(offered, REVERTED_BY_OWNER.contains(&action), "{action}");
    }
}

#[test]
fn argo_cd_without_self_heal_or_automated_sync_reverts_nothing() {
    for automated in [Some(json!({"prune": true})), None] {
        let s = argo_fleet(Some(argocd_app(automated.clone(), None)));
        assert_eq!(
            owner_state(web(&s), &s.releases),
            None,
            "automated {automated:?}: a manual change stays until the next sync"
        );
        assert_eq!(pre_step(ActionKind::Pause, web(&s), &s.releases), None);
    }
}

#[test]
fn an_argo_cd_app_shipdeck_turned_off_is_suspended_on_the_row_until_resumed() {
    let before = json!({"selfHeal": true});
    let s = argo_fleet(Some(argocd_app(None, Some(before.clone()))));
    assert_eq!(
        owner_state(web(&s), &s.releases).map(|o| o.text()),
        Some("Argo CD application shop is suspended until it is resumed".into())
    );
    let rows = crate::ui::screenshot(&s, &crate::ui::theme::Theme::no_color(), 250, 30);
    assert!(
        rows.contains("owner suspended (Argo CD application shop)"),
        "{rows}"
    );
    // Resumed: automated sync with self-heal is back, the pre-step offered again.
    let s = argo_fleet(Some(argocd_app(Some(before), None)));
    assert!(matches!(
        owner_state(web(&s), &s.releases),
        Some(OwnerState::Reconciling { .. })
    ));
}

#[test]
fn an_argo_cd_owner_is_found_in_the_namespace_its_tracking_id_names() {
    let mut s = argo_fleet(Some(argocd_app(Some(json!({"selfHeal": true})), None)));
    let r = web(&s).clone();
    let mut elsewhere = r.clone();
    elsewhere.owner = Some(OwnerRef::ArgoCdApplication {
        namespace: Some("team".into()),
        name: "shop".into(),
    });
    assert!(matches!(
        owner_state(&elsewhere, &s.releases),
        Some(OwnerState::Unseen { .. })
    ));
    // Without the app among the known releases the owner is named but unseen.
    s.releases.retain(|k, _| k.kind != ReleaseKind::Application);
    assert!(matches!(
        owner_state(&r, &s.releases),
        Some(OwnerState::Unseen { .. })
    ));
}
