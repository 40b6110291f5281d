use jiff::Timestamp;
use serde_json::json;

use super::*;
use crate::core::action::{self, PatchType};
use crate::core::model::Cluster;

fn ctx() -> Ctx<'static> {
    Ctx {
        cluster: "a",
        service_label: "app.kubernetes.io/name",
        service_override: None,
    }
}

fn now() -> Timestamp {
    Timestamp::from_second(1_800_000_000).unwrap_or(Timestamp::UNIX_EPOCH)
}

fn entry(id: i64, revision: &str) -> HistoryEntry {
    HistoryEntry {
        id,
        revision: revision.into(),
        deployed_at: None,
        deploy_started_at: None,
        initiated_by: Untrusted::new("alice"),
        source: json!({"repoURL": "file:///git/app", "path": "app", "targetRevision": revision}),
    }
}

/// Synced twice (A then B), manual sync, no operation running.
fn app() -> ApplicationFacts {
    ApplicationFacts {
        meta: ObjectMeta {
            namespace: "argocd".into(),
            name: "web".into(),
            uid: "u1".into(),
            resource_version: "42".into(),
            ..ObjectMeta::default()
        },
        target_revision: "HEAD".into(),
        source: json!({"repoURL": "file:///git/app", "path": "app", "targetRevision": "HEAD"}),
        sync_status: "Synced".into(),
        sync_revision: "bbbbbbbbbb".into(),
        health: "Healthy".into(),
        op_phase: "Succeeded".into(),
        history: vec![entry(0, "aaaaaaaaaa"), entry(1, "bbbbbbbbbb")],
        ..ApplicationFacts::default()
    }
}

fn plan(a: &ApplicationFacts, kind: ActionKind) -> Result<action::ActionPlan, Disabled> {
    action::plan(kind, &derive(&ctx(), a), &Cluster::new("a"), false, now())
}

fn body(call: &ApiCall) -> &Value {
    match call {
        ApiCall::Patch {
            body,
            patch_type: PatchType::Merge,
            resource,
            ..
        } => {
            assert_eq!(
                (resource.group, resource.plural),
                ("argoproj.io", "applications")
            );
            body
        }
        other => panic!("not a merge patch: {other:?}"),
    }
}

#[test]
fn state_reads_as_argocd_shows_it() {
    let mut a = app();
    a.sync_status = "OutOfSync".into();
    a.health = "Suspended".into();
    let r = derive(&ctx(), &a);
    assert!(
        r.message.raw().starts_with("OutOfSync / Suspended"),
        "{}",
        r.message.raw()
    );
    assert_eq!(r.phase, Phase::Paused);
    a.health = "Degraded".into();
    assert_eq!(phase(&a), Phase::Degraded);
    a.op_phase = "Running".into();
    assert_eq!(phase(&a), Phase::Progressing);
    a.op_phase = "Failed".into();
    a.health = "Healthy".into();
    assert_eq!(phase(&a), Phase::Degraded);
    a.op_phase = "Succeeded".into();
    a.automated = Some(json!({"selfHeal": true}));
    assert_eq!(phase(&a), Phase::Progressing, "automated sync will sync it");
    a.automated = Some(json!({"enabled": false}));
    assert!(!a.automated_on());
    assert_eq!(phase(&a), Phase::Paused);
}

#[test]
fn sync_writes_the_operation_argo_cd_writes() {
    let p = plan(&app(), ActionKind::Sync).expect("sync offered");
    assert_eq!(p.calls.len(), 1);
    assert_eq!(
        body(&p.calls[0]),
        &json!({
            "metadata": {"resourceVersion": "42"},
            "operation": {
                "sync": {"revision": "bbbbbbbbbb", "source": app().source},
                "initiatedBy": {"username": SENDER},
            },
            "status": {"operationState": null},
        })
    );
}

#[test]
fn sync_and_rollback_are_refused_while_an_operation_runs() {
    let mut a = app();
    a.op_phase = "Running".into();
    for kind in [ActionKind::Sync, ActionKind::Undo] {
        assert_eq!(
            plan(&a, kind).err(),
            Some(Disabled::NotApplicable(
                "another operation is already in progress"
            ))
        );
    }
    let mut requested = app();
    requested.operation_requested = true;
    assert!(plan(&requested, ActionKind::Sync).is_err());
    // ...and terminate is offered only then.
    assert!(plan(&app(), ActionKind::Terminate).is_err());
    let t = plan(&a, ActionKind::Terminate).expect("terminate offered");
    assert_eq!(
        body(&t.calls[0]),
        &json!({"metadata": {"resourceVersion": "42"},
                "status": {"operationState": {"phase": "Terminating"}}})
    );
    assert!(t.needs_typed_name() == t.prod);
}

#[test]
fn hard_refresh_sets_the_annotation() {
    let p = plan(&app(), ActionKind::Refresh).expect("refresh offered");
    let b = body(&p.calls[0]);
    assert_eq!(
        b.pointer("/metadata/annotations/argocd.argoproj.io~1refresh"),
        Some(&json!("hard"))
    );
    assert_eq!(b.pointer("/metadata/resourceVersion"), Some(&json!("42")));
    let stamp = b
        .pointer("/metadata/annotations/argocd.argoproj.io~1refresh-timestamp")
        .and_then(Value::as_str)
        .unwrap_or_default();
    assert!(stamp.starts_with("2027-01-15T08:00:00"), "{stamp}");
}

#[test]
fn rollback_goes_to_the_previous_history_entry_with_the_apply_strategy() {
    let p = plan(&app(), ActionKind::Undo).expect("rollback offered");
    assert_eq!(p.calls.len(), 1, "manual sync: one write");
    let b = body(&p.calls[0]);
    assert_eq!(
        b.pointer("/operation/sync/revision"),
        Some(&json!("aaaaaaaaaa"))
    );
    assert_eq!(
        b.pointer("/operation/sync/source"),
        Some(&entry(0, "aaaaaaaaaa").source)
    );
    assert_eq!(
        b.pointer("/operation/sync/syncStrategy"),
        Some(&json!({"apply": {}}))
    );
    assert_eq!(b.pointer("/status/operationState"), Some(&Value::Null));
    let mut only_one = app();
    only_one.history.truncate(1);
    assert!(plan(&only_one, ActionKind::Undo).is_err());
}

#[test]
fn rollback_with_automated_sync_is_the_two_step_and_resume_turns_it_back_on() {
    let mut a = app();
    a.automated = Some(json!({"prune": true, "selfHeal": true}));
    let p = plan(&a, ActionKind::Undo).expect("two-step offered");
    assert_eq!(p.calls.len(), 2);
    assert!(
        p.notes
            .iter()
            .any(|n| n.contains("turns automated sync off")),
        "{:?}",
        p.notes
    );
    assert!(p.notes.iter().any(|n| n == action::CHAINED_NOTE));
    let off = body(&p.calls[0]);
    assert_eq!(
        off.pointer("/spec/syncPolicy/automated"),
        Some(&Value::Null)
    );
    let saved = off
        .pointer("/metadata/annotations/shipdeck.dev~1automated-before-rollback")
        .and_then(Value::as_str)
        .unwrap_or_default();
    assert_eq!(serde_json::from_str::<Value>(saved).ok(), a.automated);
    assert_eq!(
        body(&p.calls[1]).pointer("/operation/sync/revision"),
        Some(&json!("aaaaaaaaaa"))
    );
    // The second write follows the first's resourceVersion.
    let chained = action::after_write(&p.calls[1], &p.calls[0], "43");
    assert_eq!(
        body(&chained).pointer("/metadata/resourceVersion"),
        Some(&json!("43"))
    );
    // Resume is not offered before, and is offered after, the two-step.
    assert!(plan(&a, ActionKind::Resume).is_err());
    let mut after = app();
    after.automated_before = a.automated.clone();
    let r = derive(&ctx(), &after);
    assert!(r.facts.spec_paused, "space resolves to resume");
    let resume = plan(&after, ActionKind::Resume).expect("turn it back on");
    let b = body(&resume.calls[0]);
    assert_eq!(
        b.pointer("/spec/syncPolicy/automated"),
        a.automated.as_ref()
    );
    assert_eq!(
        b.pointer("/metadata/annotations/shipdeck.dev~1automated-before-rollback"),
        Some(&Value::Null)
    );
}

#[test]
fn the_sender_is_filled_in_only_where_planned() {
    let p = plan(&app(), ActionKind::Sync).expect("sync");
    let mut b = body(&p.calls[0]).clone();
    assert!(needs_sender(&b));
    fill_sender(&mut b, "oncall-a");
    assert_eq!(
        b.pointer("/operation/initiatedBy/username"),
        Some(&json!("oncall-a"))
    );
    assert!(!needs_sender(&b));
    let mut other = json!({"operation": {"initiatedBy": {"username": "bob"}}});
    fill_sender(&mut other, "oncall-a");
    assert_eq!(
        other.pointer("/operation/initiatedBy/username"),
        Some(&json!("bob"))
    );
}

#[test]
fn other_kinds_do_not_offer_the_argo_cd_actions() {
    for kind in [ActionKind::Sync, ActionKind::Refresh, ActionKind::Terminate] {
        for rk in [
            ReleaseKind::Deployment,
            ReleaseKind::Rollout,
            ReleaseKind::Canary,
        ] {
            // Terminate on a Rollout stops its running AnalysisRun (its own row there).
            if rk == ReleaseKind::Rollout && kind == ActionKind::Terminate {
                assert!(rk.supports().contains(&kind));
                continue;
            }
            assert!(!rk.supports().contains(&kind), "{rk:?} {kind:?}");
        }
    }
}

/// The app with three history entries (A, B, C; C deployed now) in a console on cluster a.
fn console_with_history() -> crate::core::state::State {
    use crate::core::facts::ObjectFacts;
    use crate::core::state::Settings;
    use crate::core::testkit::{FleetBuilder, t};
    let mut a = app();
    a.history = vec![
        entry(0, "aaaaaaaaaa"),
        entry(1, "bbbbbbbbbb"),
        entry(2, "cccccccccc"),
    ];
    let mut f = FleetBuilder::new(t(0), Settings::default(), vec![Cluster::new("a")], vec![]);
    f.upsert("a", ObjectFacts::Application(a));
    let mut s = f.settled();
    s.view.history = true;
    s.view.order_dirty = true;
    crate::core::settle(&mut s);
    let at = s.view.order.iter().position(|k| k.name == "web");
    s.view.selected = at.unwrap_or_else(|| panic!("the app is listed"));
    s
}

fn press(s: &mut crate::core::state::State, k: crate::core::msg::Key) {
    crate::core::update(s, crate::core::msg::Msg::Key(k));
    crate::core::settle(s);
}

#[test]
fn the_history_chooser_rolls_back_to_the_entry_picked_not_only_the_previous() {
    use crate::core::msg::Key;
    use crate::core::state::Screen;
    let mut s = console_with_history();
    // `u` alone: the previous entry (1).
    let r = s
        .selected_release()
        .cloned()
        .unwrap_or_else(|| panic!("selected"));
    assert_eq!(r.facts.undo_target, Some(("bbbbbbb".into(), 1)));
    press(&mut s, Key::Char('v'));
    assert_eq!(s.view.screen, Screen::Revisions);
    assert_eq!(
        crate::core::revisions::choices(s.selected_release().unwrap_or(&r)),
        ["2", "1", "0"],
        "newest first, by history id"
    );
    // Row 0 is deployed now: nothing sent, and said.
    press(&mut s, Key::Enter);
    assert!(s.view.modal.is_none());
    let said = s
        .view
        .notice
        .as_ref()
        .map(|n| n.text.clone())
        .unwrap_or_default();
    assert!(said.contains("deployed now — nothing sent"), "{said}");
    // Row 2 is history 0 (A): the modal's write is A's revision and source.
    press(&mut s, Key::Char('j'));
    press(&mut s, Key::Char('j'));
    press(&mut s, Key::Char('u'));
    let m = s
        .view
        .modal
        .as_ref()
        .unwrap_or_else(|| panic!("rollback modal: {:?}", s.view.notice));
    assert_eq!(m.plan.kind, ActionKind::Undo);
    assert_eq!(m.undo_to.as_deref(), Some("0"));
    assert_eq!(m.plan.calls.len(), 1, "manual sync: one write");
    let b = body(&m.plan.calls[0]);
    assert_eq!(b["operation"]["sync"]["revision"], json!("aaaaaaaaaa"));
    assert_eq!(
        b["operation"]["sync"]["source"]["targetRevision"],
        json!("aaaaaaaaaa"),
        "the entry's own source"
    );
    assert_eq!(b["operation"]["sync"]["syncStrategy"], json!({"apply": {}}));
    assert_eq!(b["metadata"]["resourceVersion"], json!("42"));
    // The modal's diff: deployed now (C) → the chosen entry (A).
    let p = m
        .undo_preview
        .as_ref()
        .unwrap_or_else(|| panic!("a preview"));
    assert_eq!((p.from, p.to), (Some(2), 0));
    assert!(
        p.lines.contains(&crate::core::revisions::DiffLine::Added(
            "revision aaaaaaaaaa".into()
        )),
        "{:?}",
        p.lines
    );
    assert!(
        p.lines.contains(&crate::core::revisions::DiffLine::Removed(
            "revision cccccccccc".into()
        )),
        "{:?}",
        p.lines
    );
}

#[test]
fn a_chosen_entry_that_leaves_the_history_voids_nothing_silently() {
    let r = derive(&ctx(), &app());
    assert!(chosen(&r, 7).is_none(), "no such entry");
    let c = chosen(&r, 0).unwrap_or_else(|| panic!("entry 0"));
    assert_eq!(c.facts.undo_target, Some(("aaaaaaa".into(), 0)));
    let calls = calls(ActionKind::Undo, &c, now());
    assert_eq!(
        body(&calls[0])["operation"]["sync"]["revision"],
        json!("aaaaaaaaaa")
    );
}
