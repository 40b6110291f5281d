//! Behaviour of `update` end to end through messages and keys.

use super::action::{ActionKind, ApiCall};
use super::effect::Effect;
use super::facts::{ObjectFacts, WarningEvent};
use super::model::{AlertLevel, BurnWindow, Phase, ReleaseKind};
use super::msg::{Key, Msg, ObjectKind, Outcome, SloReport};
use super::state::{ModalFocus, Screen};
use super::testkit::*;
use super::{settle, update};

fn keys(s: &mut super::State, ks: &[Key]) -> Vec<Effect> {
    let mut out = Vec::new();
    for k in ks {
        out.extend(update(s, Msg::Key(*k)));
        settle(s);
    }
    out
}

fn chars(text: &str) -> Vec<Key> {
    text.chars().map(Key::Char).collect()
}

fn select(s: &mut super::State, name: &str) {
    let i = s.view.order.iter().position(|k| k.name == name).unwrap();
    s.view.selected = i;
}

#[test]
fn releases_are_ordered_by_urgency() {
    let s = fleet();
    // Paused (awaiting a human) comes before progressing.
    assert_eq!(s.view.order[0].name, "checkout");
    assert_eq!(s.view.order[1].name, "frontend");
    let r = s.releases.get(&s.view.order[0]).unwrap();
    assert_eq!(r.phase, Phase::Paused);
    assert_eq!(r.step, Some((1, 4)));
    assert_eq!(r.set_weight, Some(20));
    assert_eq!(r.actual_weight, Some(16)); // 1 of 6 available pods are canary
    assert_eq!(r.facts.undo_target, Some(("checkout-old".into(), 3)));
    assert_eq!(s.cluster_counts("prod-eu-1"), (1, 0));
}

#[test]
fn promote_through_modal_sends_the_status_patch_with_precondition() {
    let mut s = fleet();
    select(&mut s, "checkout");
    let fx = keys(&mut s, &[Key::Char('p')]);
    let modal = s.view.modal.as_ref().unwrap();
    assert_eq!(modal.focus, ModalFocus::Cancel);
    assert_eq!(modal.must_type, None, "promote is not destructive");
    // The modal asks for RBAC and a dry-run before anything is sent.
    assert!(fx.iter().any(
        |e| matches!(e, Effect::CheckAccess { resource, .. } if resource == "rollouts/status")
    ));
    assert!(fx.iter().any(|e| matches!(e, Effect::DryRun { .. })));
    assert!(!fx.iter().any(|e| matches!(e, Effect::Execute { .. })));
    let fx = keys(&mut s, &[Key::Char('y')]);
    let [Effect::Execute { plan, .. }] = fx.as_slice() else {
        panic!("expected one Execute, got {fx:?}");
    };
    assert_eq!(plan.kind, ActionKind::Promote);
    let ApiCall::Patch { resource, body, .. } = &plan.calls[0] else {
        panic!("expected a patch");
    };
    assert_eq!(resource.rbac(), "rollouts/status");
    assert_eq!(
        body,
        &serde_json::json!({"status": {"pauseConditions": null}, "metadata": {"resourceVersion": "100"}})
    );
    assert!(s.view.modal.is_none());
    assert_eq!(s.pending.len(), 1);
}

#[test]
fn enter_on_cancel_and_n_and_esc_cancel() {
    let mut s = fleet();
    select(&mut s, "checkout");
    for cancel in [Key::Enter, Key::Char('n'), Key::Esc] {
        keys(&mut s, &[Key::Char('p')]);
        assert!(s.view.modal.is_some());
        let fx = keys(&mut s, &[cancel]);
        assert!(fx.is_empty(), "{cancel:?} must not send");
        assert!(s.view.modal.is_none());
    }
    // Tab to Confirm, then Enter sends.
    keys(&mut s, &[Key::Char('p')]);
    let fx = keys(&mut s, &[Key::Tab, Key::Enter]);
    assert!(matches!(fx.as_slice(), [Effect::Execute { .. }]));
}

#[test]
fn double_press_sends_once_while_in_flight() {
    let mut s = fleet();
    select(&mut s, "checkout");
    let first = keys(&mut s, &[Key::Char('p'), Key::Char('y')]);
    assert_eq!(
        first
            .iter()
            .filter(|e| matches!(e, Effect::Execute { .. }))
            .count(),
        1
    );
    // (`y` outside a modal copies, with its own notice: the refusal is read before it.)
    let second = keys(&mut s, &[Key::Char('p')]);
    assert!(second.is_empty(), "{second:?}");
    assert!(s.view.notice.as_ref().unwrap().text.contains("in flight"));
    assert!(keys(&mut s, &[Key::Char('y')]).is_empty());
}

#[test]
fn destructive_on_prod_needs_the_name_typed() {
    let mut s = fleet();
    select(&mut s, "checkout");
    keys(&mut s, &[Key::Char('a')]);
    assert_eq!(
        s.view.modal.as_ref().unwrap().must_type.as_deref(),
        Some("checkout")
    );
    // y is text here, not confirm.
    let fx = keys(&mut s, &[Key::Char('y')]);
    assert!(fx.is_empty());
    assert_eq!(s.view.modal.as_ref().unwrap().typed.value(), "y");
    let fx = keys(&mut s, &[Key::Tab, Key::Enter]);
    assert!(fx.is_empty());
    assert!(s.view.modal.as_ref().unwrap().refusal.is_some());
    keys(&mut s, &[Key::Backspace]);
    let fx = keys(&mut s, &chars("checkout"));
    assert!(fx.is_empty());
    let fx = keys(&mut s, &[Key::Enter]);
    let [Effect::Execute { plan, .. }] = fx.as_slice() else {
        panic!("{fx:?}");
    };
    assert_eq!(plan.kind, ActionKind::Abort);
    assert!(plan.notes.iter().any(|n| n.contains("undo")));
}

#[test]
fn read_only_sends_nothing() {
    let mut s = fleet();
    s.settings.read_only = true;
    select(&mut s, "checkout");
    for k in ['p', 'P', 'a', 'u', 'r', ' '] {
        let fx = keys(&mut s, &[Key::Char(k)]);
        assert!(s.view.modal.is_none());
        assert!(s.view.notice.as_ref().unwrap().text.contains("read-only"));
        // (`y` outside a modal copies; it never confirms anything.)
        let fx = [fx, keys(&mut s, &[Key::Char('y')])].concat();
        assert!(fx.is_empty(), "{k}: {fx:?}");
        assert!(s.view.modal.is_none());
    }
}

#[test]
fn opening_the_detail_checks_access_unless_read_only() {
    // Writable: opening the detail asks RBAC for the release's actions.
    let mut s = fleet();
    select(&mut s, "checkout");
    let fx = keys(&mut s, &[Key::Enter]);
    assert_eq!(s.view.screen, Screen::Detail);
    assert!(
        fx.iter().any(|e| matches!(e, Effect::CheckAccess { .. })),
        "{fx:?}"
    );
    // Read-only, globally or that cluster only: no access review at all.
    for global in [true, false] {
        let mut s = fleet();
        if global {
            s.settings.read_only = true;
        } else if let Some(c) = s.clusters.iter_mut().find(|c| c.name == "prod-eu-1") {
            c.read_only = true;
        }
        select(&mut s, "checkout");
        let mut fx = keys(&mut s, &[Key::Enter]);
        assert_eq!(s.view.screen, Screen::Detail);
        for k in ['p', 'P', 'a', 'R', 'u', 'r', ' '] {
            fx.extend(keys(&mut s, &[Key::Char(k), Key::Enter, Key::Char('y')]));
            // Enter on the detail opens the pods screen (a read): back to the detail.
            if s.view.screen == Screen::Pods {
                fx.extend(keys(&mut s, &[Key::Esc]));
            }
        }
        // Reads (the release's events, its pods) are fine on a read-only cluster.
        fx.retain(|e| {
            !matches!(
                e,
                Effect::ListEvents(_) | Effect::WatchPods(_) | Effect::StopPods { .. }
            )
        });
        assert!(fx.is_empty(), "global {global}: {fx:?}");
    }
}

#[test]
fn rbac_denial_disables_the_action() {
    let mut s = fleet();
    select(&mut s, "checkout");
    update(
        &mut s,
        Msg::Access {
            cluster: "prod-eu-1".into(),
            namespace: "shop".into(),
            verb: "patch".into(),
            resource: "rollouts/status".into(),
            allowed: false,
        },
    );
    let fx = keys(&mut s, &[Key::Char('p')]);
    assert!(fx.is_empty());
    assert!(
        s.view
            .notice
            .as_ref()
            .unwrap()
            .text
            .contains("no RBAC permission")
    );
}

#[test]
fn page_level_burn_gates_promote_until_service_typed() {
    let mut s = fleet();
    update(
        &mut s,
        Msg::Slo(SloReport {
            slo: "checkout-availability".into(),
            at: t(0),
            ratios: BurnWindow::ALL
                .iter()
                .map(|w| (*w, Some(if *w <= BurnWindow::H1 { 0.0148 } else { 0.002 })))
                .collect(),
            window_ratio: Some(0.0005),
        }),
    );
    assert_eq!(s.slos[0].alert, AlertLevel::Page);
    settle(&mut s);
    select(&mut s, "checkout");
    keys(&mut s, &[Key::Char('p')]);
    let m = s.view.modal.as_ref().unwrap();
    assert_eq!(m.must_type.as_deref(), Some("checkout"));
    let gate = m.gate.clone().unwrap();
    assert_eq!(gate.window, "1h");
    assert!((gate.burn - 14.8).abs() < 1e-9);
    let fx = keys(&mut s, &[Key::Char('y'), Key::Tab, Key::Enter]);
    assert!(fx.is_empty(), "y alone must not pass the gate");
    keys(&mut s, &[Key::Backspace]);
    keys(&mut s, &chars("checkout"));
    let fx = keys(&mut s, &[Key::Enter]);
    let [Effect::Execute { gate_override, .. }] = fx.as_slice() else {
        panic!("{fx:?}");
    };
    assert_eq!(
        gate_override.as_ref().map(|g| g.service.as_str()),
        Some("checkout")
    );
    // Abort is never gated (but is destructive on prod).
    let m = keys(&mut s, &[Key::Char('a')]);
    assert!(m.is_empty() || s.view.modal.as_ref().is_none_or(|m| m.gate.is_none()));
}

#[test]
fn conflict_outcome_clears_pending_and_says_so() {
    let mut s = fleet();
    select(&mut s, "checkout");
    let fx = keys(&mut s, &[Key::Char('p'), Key::Char('y')]);
    let id = fx
        .iter()
        .find_map(|e| match e {
            Effect::Execute { id, .. } => Some(*id),
            _ => None,
        })
        .unwrap();
    let fx = update(
        &mut s,
        Msg::ActionDone {
            id,
            outcome: Outcome::Conflict {
                status: 409,
                detail: "the object has been modified".into(),
            },
        },
    );
    assert!(
        fx.is_empty(),
        "the watch delivers the current object: {fx:?}"
    );
    assert!(s.pending.is_empty());
    assert!(s.view.notice.as_ref().unwrap().text.contains("conflict"));
}

#[test]
fn filter_matches_cluster_namespace_name_and_status() {
    let mut s = fleet();
    keys(&mut s, &[Key::Char('/')]);
    keys(&mut s, &chars("checkout"));
    assert_eq!(s.view.order.len(), 1);
    keys(&mut s, &[Key::Enter]);
    assert!(!s.view.filter_editing);
    // While filtering, action keys were text; now they act again.
    keys(&mut s, &[Key::Esc]);
    assert_eq!(s.view.order.len(), 2);
    keys(&mut s, &[Key::Char('/')]);
    keys(&mut s, &chars("staging"));
    assert_eq!(s.view.order.len(), 1);
    assert_eq!(s.view.order[0].name, "frontend");
    keys(&mut s, &[Key::Esc]);
    keys(&mut s, &[Key::Char('/')]);
    keys(&mut s, &chars("paused"));
    assert_eq!(s.view.order[0].name, "checkout");
}

#[test]
fn navigation_screens_and_quit() {
    let mut s = fleet();
    keys(&mut s, &[Key::Char('j')]);
    assert_eq!(s.view.selected, 1);
    keys(&mut s, &[Key::Char('g')]);
    assert_eq!(s.view.selected, 0);
    keys(&mut s, &[Key::Char('G')]);
    assert_eq!(s.view.selected, 1);
    keys(&mut s, &[Key::Enter]);
    assert_eq!(s.view.screen, Screen::Detail);
    keys(&mut s, &[Key::Char('?')]);
    assert_eq!(s.view.screen, Screen::Help);
    keys(&mut s, &[Key::Esc]);
    assert_eq!(s.view.screen, Screen::Detail);
    keys(&mut s, &[Key::Esc]);
    assert_eq!(s.view.screen, Screen::Home);
    keys(&mut s, &[Key::Char('L')]);
    assert_eq!(s.view.screen, Screen::Audit);
    keys(&mut s, &[Key::Esc, Key::Char('c')]);
    assert_eq!(s.view.screen, Screen::Clusters);
    keys(&mut s, &[Key::Char(' '), Key::Esc]);
    assert_eq!(s.view.order.len(), 1, "prod-eu-1 hidden");
    let fx = keys(&mut s, &[Key::Char('q')]);
    assert!(fx.is_empty(), "{fx:?}");
    assert!(s.quit);
}

#[test]
fn selection_follows_the_release_when_rows_move() {
    let mut s = fleet();
    select(&mut s, "frontend");
    // frontend becomes Degraded: it moves to the top; the cursor follows it.
    let mut d = deployment("web", "frontend", false);
    d.meta.resource_version = "8".into();
    d.conditions.push(super::facts::Condition {
        type_: "Progressing".into(),
        status: "False".into(),
        reason: "ProgressDeadlineExceeded".into(),
        message: "ReplicaSet \"frontend-abc\" has timed out progressing.".into(),
        last_transition: Some(t(5)),
    });
    update(
        &mut s,
        Msg::Upsert {
            cluster: "staging".into(),
            facts: ObjectFacts::Deployment(d),
        },
    );
    settle(&mut s);
    assert_eq!(s.view.order[0].name, "frontend");
    assert_eq!(s.view.selected, 0);
    // ...and it is in the failures feed.
    assert_eq!(s.failures.items()[0].reason, "Degraded");
}

#[test]
fn relist_replaces_without_duplicates() {
    let mut s = fleet();
    let before = s.releases.len();
    update(
        &mut s,
        Msg::Relisted {
            cluster: "staging".into(),
            kind: ObjectKind::Deployment,
            objects: vec![
                ObjectFacts::Deployment(deployment("web", "api", false)),
                ObjectFacts::Deployment(deployment("web", "api", false)),
            ],
        },
    );
    settle(&mut s);
    assert_eq!(s.releases.len(), before, "frontend gone, api added once");
    assert!(
        s.releases
            .keys()
            .any(|k| k.name == "api" && k.kind == ReleaseKind::Deployment)
    );
    assert!(!s.releases.keys().any(|k| k.name == "frontend"));
}

#[test]
fn silent_cluster_goes_stale_and_recovers() {
    let mut s = fleet();
    update(
        &mut s,
        Msg::Heard {
            cluster: "staging".into(),
            at: t(0),
        },
    );
    update(
        &mut s,
        Msg::Connection {
            cluster: "staging".into(),
            connection: super::model::Connection::Connected,
        },
    );
    update(&mut s, Msg::Tick(t(16)));
    let c = s.cluster("staging").unwrap();
    assert_eq!(c.connection.label(s.now), "stale 16s");
    update(
        &mut s,
        Msg::Heard {
            cluster: "staging".into(),
            at: t(17),
        },
    );
    assert_eq!(
        s.cluster("staging").unwrap().connection.label(s.now),
        "connected"
    );
}

#[test]
fn warnings_feed_dedupes() {
    let mut s = fleet();
    for count in [3, 4] {
        update(
            &mut s,
            Msg::Warning {
                cluster: "staging".into(),
                event: WarningEvent {
                    namespace: "web".into(),
                    object_kind: "Pod".into(),
                    object_name: "frontend-abc-1".into(),
                    reason: "BackOff".into(),
                    message: "Back-off restarting failed container".into(),
                    count,
                    last_seen: Some(t(count as i64)),
                },
            },
        );
    }
    assert_eq!(s.failures.len(), 1);
    assert_eq!(s.failures.items()[0].count, 4);
}

#[test]
fn missing_slo_data_is_unknown() {
    let mut s = fleet();
    update(
        &mut s,
        Msg::SloUnavailable {
            slo: "checkout-availability".into(),
            at: t(0),
            error: "connection refused".into(),
        },
    );
    let slo = &s.slos[0];
    assert_eq!(slo.alert, AlertLevel::Unknown);
    assert!(slo.burn.values().all(Option::is_none));
    assert_eq!(slo.unknown_since, Some(t(0)));
}

#[test]
fn unparseable_non_release_goes_to_the_feed_not_the_table() {
    let mut s = fleet();
    let before = s.releases.len();
    update(
        &mut s,
        Msg::Upsert {
            cluster: "staging".into(),
            facts: ObjectFacts::Unparseable(super::facts::UnparseableObject {
                kind: "ReplicaSet".into(),
                namespace: "web".into(),
                name: "frontend-abc".into(),
                error: "invalid type: string, expected i32".into(),
            }),
        },
    );
    assert_eq!(s.releases.len(), before);
    assert_eq!(s.failures.items()[0].reason, "Unparseable");
    assert_eq!(s.failures.items()[0].object, "replicaset/frontend-abc");
}

#[test]
fn captured_clusters_never_go_stale() {
    let mut s = fleet();
    s.clusters[1].live = false;
    update(
        &mut s,
        Msg::Heard {
            cluster: "staging".into(),
            at: t(0),
        },
    );
    update(
        &mut s,
        Msg::Connection {
            cluster: "staging".into(),
            connection: super::model::Connection::Connected,
        },
    );
    update(&mut s, Msg::Tick(t(3600)));
    assert_eq!(
        s.cluster("staging").unwrap().connection.label(s.now),
        "connected"
    );
}

#[test]
fn no_access_clears_when_the_kind_lists_again() {
    let mut s = fleet();
    update(
        &mut s,
        Msg::KindForbidden {
            cluster: "staging".into(),
            kind: "rollouts.argoproj.io".into(),
            reason: "forbidden".into(),
        },
    );
    assert_eq!(
        s.cluster("staging").unwrap().forbidden_kinds,
        ["rollouts.argoproj.io"]
    );
    update(
        &mut s,
        Msg::Relisted {
            cluster: "staging".into(),
            kind: ObjectKind::Rollout,
            objects: vec![],
        },
    );
    assert!(s.cluster("staging").unwrap().forbidden_kinds.is_empty());
}

#[test]
fn warning_events_read_in_a_namespace_show_where() {
    let mut s = fleet();
    update(
        &mut s,
        Msg::KindForbidden {
            cluster: "staging".into(),
            kind: "events".into(),
            reason: "forbidden".into(),
        },
    );
    s.dirty = false;
    update(
        &mut s,
        Msg::ReadIn {
            cluster: "staging".into(),
            kind: "events".into(),
            namespace: "shop".into(),
        },
    );
    assert!(s.dirty);
    let c = s.cluster("staging").unwrap();
    assert_eq!(
        c.forbidden_kinds,
        ["events"],
        "still no access cluster-wide"
    );
    assert!(
        c.scoped_kinds
            .get("events")
            .is_some_and(|ns| ns.contains("shop")),
        "{:?}",
        c.scoped_kinds
    );
}

#[test]
fn a_cluster_wide_grant_clears_no_access_and_the_namespace_reads() {
    let mut s = fleet();
    for kind in ["events", "deployments.apps"] {
        update(
            &mut s,
            Msg::KindForbidden {
                cluster: "staging".into(),
                kind: kind.into(),
                reason: "forbidden".into(),
            },
        );
    }
    update(
        &mut s,
        Msg::RelistedIn {
            cluster: "staging".into(),
            kind: ObjectKind::Deployment,
            namespace: "shop".into(),
            objects: vec![],
        },
    );
    assert!(
        s.cluster("staging")
            .unwrap()
            .scoped_kinds
            .contains_key("deployments.apps")
    );
    // Events (never stored as objects) and Deployments, one message each.
    for kind in ["events", "deployments.apps"] {
        update(
            &mut s,
            Msg::KindAllowed {
                cluster: "staging".into(),
                kind: kind.into(),
            },
        );
    }
    let c = s.cluster("staging").unwrap();
    assert!(c.forbidden_kinds.is_empty(), "{:?}", c.forbidden_kinds);
    assert!(c.scoped_kinds.is_empty(), "{:?}", c.scoped_kinds);
}

#[test]
fn promote_on_manual_and_step_pause_sends_both_patches() {
    let mut s = fleet();
    let key = s
        .view
        .order
        .iter()
        .find(|k| k.name == "checkout")
        .cloned()
        .unwrap();
    let r = s.releases.get_mut(&key).unwrap();
    r.facts.spec_paused = true;
    let plan = super::action::plan(
        ActionKind::Promote,
        r,
        &super::model::Cluster::new("prod-eu-1"),
        false,
        t(0),
    )
    .unwrap();
    assert_eq!(plan.calls.len(), 2);
    let ApiCall::Patch { resource, body, .. } = &plan.calls[0] else {
        panic!()
    };
    assert_eq!(resource.rbac(), "rollouts");
    assert_eq!(body["spec"]["paused"], false);
    assert_eq!(body["metadata"]["resourceVersion"], "100");
    let ApiCall::Patch { resource, body, .. } = &plan.calls[1] else {
        panic!()
    };
    assert_eq!(resource.rbac(), "rollouts/status");
    assert!(body["status"]["pauseConditions"].is_null());
}
