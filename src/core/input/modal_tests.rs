//! The confirmation modal under stress: a typed name that matches makes Enter confirm, an
//! Enter before it matches says what is missing, every cancel says nothing was sent, the
//! name is qualified by cluster when it is ambiguous, the open modal follows its object,
//! and notices go when the next thing starts.

use crate::core::action::{ActionKind, Watched};
use crate::core::effect::Effect;
use crate::core::facts::{ObjectFacts, RolloutFacts};
use crate::core::kinds::Kind;
use crate::core::msg::{Key, Msg};
use crate::core::state::{Level, ModalFocus, State};
use crate::core::testkit::{self, fleet, paused_rollout};
use crate::core::{settle, update};

fn press(s: &mut State, k: Key) -> Vec<Effect> {
    let fx = update(s, Msg::Key(k));
    settle(s);
    fx
}

fn type_text(s: &mut State, text: &str) {
    for c in text.chars() {
        press(s, Key::Char(c));
    }
}

fn select(s: &mut State, cluster: &str, name: &str) {
    let i = s
        .view
        .order
        .iter()
        .position(|k| k.name == name && k.cluster == cluster)
        .unwrap_or_else(|| panic!("{cluster}/{name} is listed"));
    s.view.selected = i;
}

/// The fleet with the abort confirmation of prod-eu-1's checkout open.
fn abort_open() -> State {
    let mut s = fleet();
    select(&mut s, "prod-eu-1", "checkout");
    press(&mut s, Key::Char('a'));
    assert_eq!(
        s.view.modal.as_ref().and_then(|m| m.must_type.as_deref()),
        Some("checkout")
    );
    s
}

/// The fleet with promote (no name to type) on checkout open.
fn promote_open() -> State {
    let mut s = fleet();
    select(&mut s, "prod-eu-1", "checkout");
    press(&mut s, Key::Char('p'));
    let m = s
        .view
        .modal
        .as_ref()
        .unwrap_or_else(|| panic!("promote opens"));
    assert_eq!(m.must_type, None);
    s
}

fn focus(s: &State) -> Option<ModalFocus> {
    s.view.modal.as_ref().map(|m| m.focus)
}

fn refusal(s: &State) -> String {
    s.view
        .modal
        .as_ref()
        .and_then(|m| m.refusal.clone())
        .unwrap_or_default()
}

fn notice(s: &State) -> String {
    s.view
        .notice
        .as_ref()
        .map(|n| n.text.clone())
        .unwrap_or_default()
}

fn executed(fx: &[Effect]) -> Option<&crate::core::action::ActionPlan> {
    fx.iter().find_map(|e| match e {
        Effect::Execute { plan, .. } => Some(plan),
        _ => None,
    })
}

fn dry_run_rv(fx: &[Effect]) -> Option<String> {
    fx.iter().find_map(|e| match e {
        Effect::DryRun { plan } => Some(plan.seen.resource_version.clone()),
        _ => None,
    })
}

#[test]
fn enter_confirms_once_the_typed_name_matches_and_focus_shows_it() {
    let mut s = abort_open();
    assert_eq!(
        focus(&s),
        Some(ModalFocus::Cancel),
        "focus starts on Cancel"
    );
    type_text(&mut s, "checkou");
    assert_eq!(focus(&s), Some(ModalFocus::Cancel), "no match yet");
    press(&mut s, Key::Char('t'));
    assert_eq!(focus(&s), Some(ModalFocus::Confirm), "a match moves focus");
    let fx = press(&mut s, Key::Enter);
    let plan = executed(&fx).unwrap_or_else(|| panic!("Enter sends: {fx:?}"));
    assert_eq!(
        (plan.kind, plan.cluster.as_str()),
        (ActionKind::Abort, "prod-eu-1")
    );
    assert!(s.view.modal.is_none());
    assert_eq!(s.pending.len(), 1);
    assert!(
        notice(&s).contains("abort checkout: sent"),
        "{}",
        notice(&s)
    );
}

#[test]
fn enter_before_the_name_matches_says_what_is_still_needed() {
    let mut s = abort_open();
    let fx = press(&mut s, Key::Enter);
    assert!(fx.is_empty());
    assert!(s.view.modal.is_some(), "Enter did not cancel");
    assert_eq!(refusal(&s), "type 'checkout' to confirm (Esc cancels)");
    type_text(&mut s, "chec");
    assert_eq!(refusal(&s), "", "typing clears the refusal");
    assert!(press(&mut s, Key::Enter).is_empty());
    assert_eq!(
        refusal(&s),
        "4 more characters to type: 'checkout' (Esc cancels)"
    );
    press(&mut s, Key::Char('x'));
    assert!(press(&mut s, Key::Enter).is_empty());
    assert_eq!(
        refusal(&s),
        "'checx' does not match 'checkout' (Backspace fixes, Esc cancels)"
    );
    // Tab to Confirm and Enter before the match: refused, with the same words.
    press(&mut s, Key::Tab);
    assert_eq!(focus(&s), Some(ModalFocus::Confirm));
    assert!(executed(&press(&mut s, Key::Enter)).is_none());
    assert!(refusal(&s).contains("does not match"), "{}", refusal(&s));
    assert!(s.pending.is_empty() && s.view.notice.is_none());
}

#[test]
fn losing_the_match_takes_focus_back_to_cancel() {
    let mut s = abort_open();
    type_text(&mut s, "checkout");
    assert_eq!(focus(&s), Some(ModalFocus::Confirm));
    press(&mut s, Key::Backspace);
    assert_eq!(focus(&s), Some(ModalFocus::Cancel));
    assert!(press(&mut s, Key::Enter).is_empty());
    assert!(
        s.view.modal.is_some(),
        "Enter on the modal's own focus is not a cancel"
    );
    assert_eq!(
        refusal(&s),
        "1 more character to type: 'checkout' (Esc cancels)"
    );
}

#[test]
fn cancel_chosen_with_tab_is_a_cancel_and_says_nothing_was_sent() {
    let mut s = abort_open();
    type_text(&mut s, "chec");
    press(&mut s, Key::Tab);
    press(&mut s, Key::Tab);
    assert_eq!(focus(&s), Some(ModalFocus::Cancel));
    let fx = press(&mut s, Key::Enter);
    assert!(fx.is_empty() && s.view.modal.is_none() && s.pending.is_empty());
    assert_eq!(notice(&s), "abort checkout: cancelled — nothing sent");
    assert_eq!(s.view.notice.as_ref().map(|n| &n.level), Some(&Level::Warn));
}

#[test]
fn every_cancel_says_nothing_was_sent() {
    type Open = fn() -> State;
    let cases: [(&str, Open, Key, &str); 4] = [
        ("Esc while typing", abort_open, Key::Esc, "abort"),
        ("Esc", promote_open, Key::Esc, "promote"),
        ("n", promote_open, Key::Char('n'), "promote"),
        ("Enter on Cancel", promote_open, Key::Enter, "promote"),
    ];
    for (what, open, key, kind) in cases {
        let mut s = open();
        assert_eq!(focus(&s), Some(ModalFocus::Cancel), "{what}");
        let fx = press(&mut s, key);
        assert!(fx.is_empty(), "{what}: {fx:?}");
        assert!(s.view.modal.is_none(), "{what}: closed");
        assert!(s.pending.is_empty(), "{what}: nothing in flight");
        assert_eq!(
            notice(&s),
            format!("{kind} checkout: cancelled — nothing sent"),
            "{what}"
        );
    }
}

#[test]
fn an_ambiguous_name_is_typed_with_its_cluster() {
    let mut s = fleet();
    // The same name on another cluster (not prod, and hidden by the chooser: still known).
    update(
        &mut s,
        Msg::Upsert {
            cluster: "staging".into(),
            facts: ObjectFacts::Rollout(paused_rollout("shop", "checkout")),
        },
    );
    s.view.hidden_clusters.insert("staging".into());
    s.view.order_dirty = true;
    settle(&mut s);
    select(&mut s, "prod-eu-1", "checkout");
    press(&mut s, Key::Char('a'));
    let m = s
        .view
        .modal
        .as_ref()
        .unwrap_or_else(|| panic!("abort opens"));
    assert_eq!(m.must_type.as_deref(), Some("prod-eu-1/checkout"));
    type_text(&mut s, "checkout");
    assert_eq!(
        focus(&s),
        Some(ModalFocus::Cancel),
        "the plain name is not enough"
    );
    assert!(press(&mut s, Key::Enter).is_empty());
    assert_eq!(
        refusal(&s),
        "'checkout' does not match 'prod-eu-1/checkout' (Backspace fixes, Esc cancels)"
    );
    for _ in 0.."checkout".len() {
        press(&mut s, Key::Backspace);
    }
    type_text(&mut s, "prod-eu-1/checkout");
    assert_eq!(focus(&s), Some(ModalFocus::Confirm));
    assert!(executed(&press(&mut s, Key::Enter)).is_some());
}

#[test]
fn a_name_on_one_cluster_only_is_typed_plain() {
    let s = abort_open();
    let m = s.view.modal.as_ref().unwrap_or_else(|| panic!("open"));
    assert_eq!(m.must_type.as_deref(), Some("checkout"));
}

/// prod-eu-1's checkout as the fleet has it, changed by `edit`, at resourceVersion `rv`.
fn checkout_changed(s: &mut State, rv: &str, edit: impl FnOnce(&mut RolloutFacts)) -> Vec<Effect> {
    let mut r = paused_rollout("shop", "checkout");
    r.meta.resource_version = rv.into();
    edit(&mut r);
    let fx = update(
        s,
        Msg::Upsert {
            cluster: "prod-eu-1".into(),
            facts: ObjectFacts::Rollout(r),
        },
    );
    settle(s);
    fx
}

/// The rollout moved on to the timed pause two steps later (paused there).
fn advance(r: &mut RolloutFacts) {
    r.current_step_index = Some(3);
}

#[test]
fn the_open_modal_follows_a_step_change_and_asks_again() {
    let mut s = promote_open();
    let opened = s.view.modal.as_ref().map(|m| m.plan.seen.clone());
    assert_eq!(opened.as_ref().and_then(|o| o.step), Some((1, 4)));
    press(&mut s, Key::Tab);
    update(
        &mut s,
        Msg::DryRun {
            uid: "uid-shop-checkout".into(),
            action: ActionKind::Promote,
            resource_version: "100".into(),
            result: Ok("accepted".into()),
        },
    );
    assert_eq!(focus(&s), Some(ModalFocus::Confirm));
    let fx = checkout_changed(&mut s, "105", advance);
    // Re-planned on the new object, and its dry run asked again.
    assert_eq!(dry_run_rv(&fx).as_deref(), Some("105"), "{fx:?}");
    let m = s
        .view
        .modal
        .as_ref()
        .unwrap_or_else(|| panic!("still open"));
    assert_eq!(m.plan.seen.step, Some((3, 4)));
    assert_eq!(m.plan.seen.resource_version, "105");
    assert_eq!(
        m.dry_run, None,
        "the old dry run is not shown as the new one's"
    );
    assert_eq!(
        m.changed,
        ["step 1→3", "set weight 20%→50%"],
        "said what changed"
    );
    assert_eq!(m.focus, ModalFocus::Cancel, "asks again");
    // The old plan's dry-run answer, arriving late, is not the new plan's.
    let late = |rv: &str, text: &str| Msg::DryRun {
        uid: "uid-shop-checkout".into(),
        action: ActionKind::Promote,
        resource_version: rv.into(),
        result: Ok(text.into()),
    };
    update(&mut s, late("100", "old"));
    assert_eq!(s.view.modal.as_ref().and_then(|m| m.dry_run.clone()), None);
    update(&mut s, late("105", "new"));
    assert_eq!(
        s.view.modal.as_ref().and_then(|m| m.dry_run.clone()),
        Some(Ok("new".into()))
    );
    // Confirming now sends the new plan (the precondition is the new resourceVersion).
    let fx = press(&mut s, Key::Char('y'));
    let plan = executed(&fx).unwrap_or_else(|| panic!("y confirms: {fx:?}"));
    assert_eq!(plan.seen.resource_version, "105");
    assert_eq!(plan.seen.step, Some((3, 4)));
}

#[test]
fn a_change_keeps_the_typed_name_but_puts_focus_back_on_cancel() {
    let mut s = abort_open();
    type_text(&mut s, "checkout");
    assert_eq!(focus(&s), Some(ModalFocus::Confirm));
    checkout_changed(&mut s, "106", advance);
    let m = s
        .view
        .modal
        .as_ref()
        .unwrap_or_else(|| panic!("still open"));
    assert_eq!(m.typed.value(), "checkout", "the typed name stays");
    assert_eq!(m.focus, ModalFocus::Cancel);
    assert!(!m.changed.is_empty());
    // Enter now is on Cancel: a cancel, said, never the old plan.
    let fx = press(&mut s, Key::Enter);
    assert!(executed(&fx).is_none());
    assert_eq!(notice(&s), "abort checkout: cancelled — nothing sent");
}

#[test]
fn after_a_change_tab_and_enter_confirm_the_new_plan() {
    let mut s = abort_open();
    type_text(&mut s, "checkout");
    checkout_changed(&mut s, "107", advance);
    press(&mut s, Key::Tab);
    let fx = press(&mut s, Key::Enter);
    let plan = executed(&fx).unwrap_or_else(|| panic!("confirmed: {fx:?}"));
    assert_eq!(plan.seen.resource_version, "107");
}

#[test]
fn a_new_resource_version_alone_replans_without_asking_again() {
    let mut s = promote_open();
    press(&mut s, Key::Tab);
    let fx = checkout_changed(&mut s, "101", |_| {});
    assert_eq!(dry_run_rv(&fx).as_deref(), Some("101"));
    let m = s.view.modal.as_ref().unwrap_or_else(|| panic!("open"));
    assert_eq!(
        m.plan.seen.resource_version, "101",
        "the precondition follows"
    );
    assert!(m.changed.is_empty(), "nothing the user saw changed");
    assert_eq!(m.focus, ModalFocus::Confirm, "not asked again");
    // The same object again: nothing to do.
    assert!(checkout_changed(&mut s, "101", |_| {}).is_empty());
}

#[test]
fn other_objects_leave_the_modal_alone() {
    let mut s = promote_open();
    press(&mut s, Key::Tab);
    let mut d = testkit::deployment("web", "frontend", false);
    d.meta.resource_version = "999".into();
    d.updated_replicas = 2;
    let fx = update(
        &mut s,
        Msg::Upsert {
            cluster: "staging".into(),
            facts: ObjectFacts::Deployment(d),
        },
    );
    assert!(fx.is_empty(), "{fx:?}");
    let m = s.view.modal.as_ref().unwrap_or_else(|| panic!("open"));
    assert_eq!((m.focus, m.changed.len()), (ModalFocus::Confirm, 0));
}

#[test]
fn a_deleted_object_cannot_be_confirmed() {
    let mut s = promote_open();
    press(&mut s, Key::Tab);
    update(
        &mut s,
        Msg::Delete {
            cluster: "prod-eu-1".into(),
            kind: Kind::Rollout,
            namespace: "shop".into(),
            name: "checkout".into(),
        },
    );
    let m = s
        .view
        .modal
        .as_ref()
        .unwrap_or_else(|| panic!("still open, saying so"));
    assert_eq!(
        m.void.as_deref(),
        Some("checkout is gone from prod-eu-1 since you opened: nothing to confirm")
    );
    assert_eq!(m.focus, ModalFocus::Cancel);
    for key in [Key::Char('y'), Key::Tab, Key::Enter] {
        assert!(executed(&press(&mut s, key)).is_none(), "{key:?}");
    }
    assert!(refusal(&s).contains("is gone"), "{}", refusal(&s));
    assert!(s.pending.is_empty());
    press(&mut s, Key::Esc);
    assert_eq!(notice(&s), "promote checkout: cancelled — nothing sent");
}

#[test]
fn an_object_created_again_under_the_same_name_is_not_the_one_seen() {
    let mut s = promote_open();
    checkout_changed(&mut s, "200", |r| r.meta.uid = "uid-new".into());
    let m = s.view.modal.as_ref().unwrap_or_else(|| panic!("open"));
    assert!(
        m.void
            .as_deref()
            .is_some_and(|v| v.contains("deleted and created again")),
        "{:?}",
        m.void
    );
    assert!(executed(&press(&mut s, Key::Char('y'))).is_none());
}

#[test]
fn an_action_no_longer_possible_says_why_and_cannot_be_confirmed() {
    let mut s = promote_open();
    // Someone else aborted it: promote does not apply to an aborted rollout.
    checkout_changed(&mut s, "300", |r| {
        r.aborted = true;
        r.phase = Some("Degraded".into());
    });
    let m = s.view.modal.as_ref().unwrap_or_else(|| panic!("open"));
    let void = m.void.clone().unwrap_or_default();
    assert!(
        void.starts_with("promote is no longer possible: "),
        "{void}"
    );
    assert!(
        m.changed.iter().any(|c| c == "phase Paused→Degraded"),
        "{:?}",
        m.changed
    );
    assert!(m.changed.iter().any(|c| c == "aborted"), "{:?}", m.changed);
    assert!(executed(&press(&mut s, Key::Char('y'))).is_none());
    // And it comes back: possible again, asked again.
    let fx = checkout_changed(&mut s, "301", |_| {});
    let m = s.view.modal.as_ref().unwrap_or_else(|| panic!("open"));
    assert_eq!(m.void, None);
    assert_eq!(dry_run_rv(&fx).as_deref(), Some("301"));
    assert!(executed(&press(&mut s, Key::Char('y'))).is_some());
}

#[test]
fn watched_changes_are_said_in_words() {
    let before = Watched {
        phase: "Paused".into(),
        step: Some((3, 6)),
        revision: Some(7),
        pause: Some("CanaryPauseStep".into()),
        aborted: false,
        weight: (Some(20), Some(20)),
        undo_revision: Some(6),
    };
    assert!(before.changes(&before).is_empty());
    let after = Watched {
        phase: "Degraded".into(),
        step: Some((5, 6)),
        revision: Some(8),
        pause: None,
        aborted: true,
        weight: (Some(50), Some(0)),
        undo_revision: Some(7),
    };
    assert_eq!(
        before.changes(&after),
        [
            "step 3→5",
            "phase Paused→Degraded",
            "resumed",
            "aborted",
            "revision 7→8",
            "weight 20%→0%",
            "rollback target revision 6→7",
        ]
    );
    let more_steps = Watched {
        step: Some((1, 8)),
        weight: (Some(50), Some(20)),
        ..before.clone()
    };
    assert_eq!(
        before.changes(&more_steps),
        ["step 3/6→1/8", "set weight 20%→50%"]
    );
}

// Notices go when the next thing starts.

fn with_warning() -> State {
    let mut s = fleet();
    select(&mut s, "staging", "frontend");
    // Retry does not apply to a Deployment: a warning notice.
    press(&mut s, Key::Char('R'));
    assert!(
        s.view
            .notice
            .as_ref()
            .is_some_and(|n| n.level == Level::Warn),
        "{:?}",
        s.view.notice
    );
    s
}

#[test]
fn typing_a_filter_clears_an_old_warning() {
    let mut s = with_warning();
    press(&mut s, Key::Char('/'));
    assert!(s.view.notice.is_none(), "starting the filter");
    let mut s = with_warning();
    s.view.filter_editing = true;
    press(&mut s, Key::Char('c'));
    assert!(s.view.notice.is_none(), "typing in the filter");
}

#[test]
fn starting_another_action_or_opening_a_release_replaces_the_notice() {
    let mut s = with_warning();
    select(&mut s, "prod-eu-1", "checkout");
    press(&mut s, Key::Char('p'));
    assert!(s.view.modal.is_some());
    assert!(s.view.notice.is_none(), "{:?}", s.view.notice);
    let mut s = with_warning();
    press(&mut s, Key::Enter);
    assert!(s.view.notice.is_none(), "opening the detail");
    let mut s = with_warning();
    press(&mut s, Key::Char('c'));
    assert!(s.view.notice.is_none(), "choosing clusters");
}

#[test]
fn moving_the_cursor_or_reading_help_keeps_the_notice() {
    for key in [Key::Down, Key::Up, Key::Tab, Key::Char('?'), Key::Char('L')] {
        let mut s = with_warning();
        let before = notice(&s);
        press(&mut s, key);
        assert_eq!(notice(&s), before, "{key:?}");
    }
}

#[test]
fn typing_the_name_of_a_gone_object_leaves_focus_on_cancel() {
    let mut s = abort_open();
    update(
        &mut s,
        Msg::Delete {
            cluster: "prod-eu-1".into(),
            kind: Kind::Rollout,
            namespace: "shop".into(),
            name: "checkout".into(),
        },
    );
    type_text(&mut s, "checkout");
    assert_eq!(focus(&s), Some(ModalFocus::Cancel));
    press(&mut s, Key::Tab);
    assert!(executed(&press(&mut s, Key::Enter)).is_none());
    assert!(refusal(&s).contains("is gone"), "{}", refusal(&s));
}
