//! The releases panel under re-sorting: urgency order (failing > needs a human > other
//! pauses > progressing > done), the selection kept by key, and the count of urgent rows
//! scrolled out of view above the window, checked against a brute-force count.

use jiff::SignedDuration;

use super::facts::{CanaryStep, Condition, DeploymentFacts, ObjectFacts, PauseReason};
use super::layout::{self, Paging};
use super::model::{Cluster, HumanWait, Phase};
use super::msg::{Key, Msg};
use super::state::{Settings, State};
use super::testkit::*;
use super::{settle, update};

const C: &str = "c";

fn cond(reason: &str, at: i64) -> Condition {
    Condition {
        type_: "Progressing".into(),
        status: if reason == "ProgressDeadlineExceeded" {
            "False".into()
        } else {
            "True".into()
        },
        reason: reason.into(),
        message: "".into(),
        last_transition: Some(t(at)),
    }
}

/// A Deployment that exceeded its progress deadline.
fn failing(name: &str) -> DeploymentFacts {
    let mut d = deployment("shop", name, false);
    d.conditions = vec![cond("ProgressDeadlineExceeded", -100)];
    d
}

/// A Deployment rolled out a minute ago (still "recently done").
fn healthy(name: &str) -> DeploymentFacts {
    let mut d = deployment("shop", name, false);
    d.updated_replicas = d.replicas;
    d.conditions = vec![cond("NewReplicaSetAvailable", -60)];
    d
}

fn progressing(name: &str) -> DeploymentFacts {
    let mut d = deployment("shop", name, false);
    d.conditions = vec![cond("ReplicaSetUpdated", -30)];
    d
}

/// A canary Rollout paused at a timed step (30 s): it moves on by itself.
fn timed_pause(name: &str) -> super::facts::RolloutFacts {
    let mut r = paused_rollout("shop", name);
    r.current_step_index = Some(3);
    r
}

fn dep(f: DeploymentFacts) -> ObjectFacts {
    ObjectFacts::Deployment(f)
}

/// The paging the releases panel draws with (the same layout the core pages with).
fn paging(s: &State) -> Paging {
    let v = &s.view;
    layout::paging(v.order.len(), v.offset, v.selected, s.page_rows(), v.urgent)
}

/// Urgent rows above the window, counted one by one.
fn urgent_above_by_hand(s: &State, p: &Paging) -> usize {
    s.view.order[..p.shown.start]
        .iter()
        .filter(|k| s.releases[*k].is_urgent())
        .count()
}

fn resize(s: &mut State, width: u16, height: u16) {
    update(s, Msg::Resize { width, height });
    settle(s);
}

/// 24 releases at 80x24: 3 failing, 2 manually paused Deployments and 1 Rollout at an
/// indefinite step (needing a human), 2 timed pauses, 8 progressing, 8 recently done.
fn busy() -> State {
    let mut f = FleetBuilder::new(t(0), Settings::default(), vec![Cluster::new(C)], vec![]);
    for i in 0..3 {
        f.upsert(C, dep(failing(&format!("api-{i}"))));
    }
    for i in 0..2 {
        f.upsert(C, dep(deployment("shop", &format!("held-{i}"), true)));
    }
    f.upsert(C, ObjectFacts::Rollout(paused_rollout("shop", "gate-0")));
    for i in 0..2 {
        f.upsert(C, ObjectFacts::Rollout(timed_pause(&format!("timer-{i}"))));
    }
    for i in 0..8 {
        f.upsert(C, dep(progressing(&format!("move-{i}"))));
    }
    for i in 0..8 {
        f.upsert(C, dep(healthy(&format!("zdone-{i}"))));
    }
    let mut s = f.settled();
    resize(&mut s, 80, 24);
    s
}

#[test]
fn needs_a_human_sorts_below_failing_and_above_timed_pauses() {
    let s = busy();
    let names: Vec<&str> = s.view.order.iter().map(|k| k.name.as_str()).collect();
    assert_eq!(names.len(), 24);
    assert_eq!(
        &names[..8],
        // Within a level by key: Deployments before Rollouts, then by name.
        &[
            "api-0", "api-1", "api-2", "held-0", "held-1", "gate-0", "timer-0", "timer-1"
        ]
    );
    assert!(names[8..16].iter().all(|n| n.starts_with("move-")));
    assert!(names[16..].iter().all(|n| n.starts_with("zdone-")));
    let rel = |name: &str| {
        s.releases
            .values()
            .find(|r| r.key.name == name)
            .expect(name)
    };
    assert_eq!(rel("gate-0").needs_human, Some(HumanWait::StepPause));
    assert_eq!(rel("held-0").needs_human, Some(HumanWait::ManualPause));
    // Same phase as the gate, but a timer will move it: not a human's.
    assert_eq!(rel("timer-0").phase, Phase::Paused);
    assert_eq!(rel("timer-0").needs_human, None);
    assert_eq!(
        s.view.urgent, 6,
        "3 failing + 3 needing a human lead the order"
    );
}

#[test]
fn an_undo_that_makes_row_one_healthy_keeps_it_selected_and_says_what_is_above() {
    let mut s = busy();
    assert_eq!(s.view.selected, 0);
    let key = s.view.order[0].clone();
    assert_eq!(key.name, "api-0");
    // The undo went through: the Deployment rolled back and is complete again.
    let mut fixed = healthy("api-0");
    fixed.meta.resource_version = "8".into();
    update(
        &mut s,
        Msg::Upsert {
            cluster: C.into(),
            facts: dep(fixed),
        },
    );
    settle(&mut s);
    // The view keeps the object: it is selected, now among the recently done at the bottom.
    assert_eq!(s.view.order[s.view.selected], key);
    assert_eq!(s.view.selected, 15, "first of the nine done rows");
    let p = paging(&s);
    assert!(p.shown.contains(&s.view.selected), "{p:?}");
    assert!(p.shown.start > 0, "the window scrolled: {p:?}");
    // Five urgent rows remain and all are above the window: the title must say so.
    assert_eq!(s.view.urgent, 5);
    assert_eq!(p.urgent_above, 5);
    assert_eq!(p.urgent_above, urgent_above_by_hand(&s, &p));
    assert_eq!(p.total, 24);
    // Back to the top: nothing urgent is hidden any more.
    update(&mut s, Msg::Key(Key::Char('g')));
    settle(&mut s);
    let p = paging(&s);
    assert_eq!((p.shown.start, p.urgent_above), (0, 0));
}

#[test]
fn the_hidden_urgent_count_is_exact_at_every_position_and_size() {
    let mut s = busy();
    for (w, h) in [(80, 24), (120, 40), (250, 70), (80, 12)] {
        resize(&mut s, w, h);
        update(&mut s, Msg::Key(Key::Char('g')));
        settle(&mut s);
        let mut seen_hidden = 0;
        for step in 0..60 {
            // Down to the end, then back up: the window lags the selection both ways.
            let key = if step < 30 { Key::Down } else { Key::Up };
            update(&mut s, Msg::Key(key));
            settle(&mut s);
            let p = paging(&s);
            assert!(p.shown.contains(&s.view.selected), "{w}x{h} {p:?}");
            assert_eq!(
                p.urgent_above,
                urgent_above_by_hand(&s, &p),
                "{w}x{h} step {step}: {p:?}"
            );
            seen_hidden = seen_hidden.max(p.urgent_above);
        }
        // At the bottom the window starts at 24 - page: that many rows, at most the six
        // urgent ones, were hidden above.
        let deepest = 24usize.saturating_sub(s.page_rows()).min(6);
        assert_eq!(seen_hidden, deepest, "{w}x{h}");
    }
}

#[test]
fn a_pause_turning_indefinite_alone_moves_the_row_up() {
    let mut s = busy();
    let before = s.view.order.iter().position(|k| k.name == "timer-1");
    assert_eq!(before, Some(7));
    // Same phase (Paused), now at the indefinite step: only needs_human changed.
    let mut r = paused_rollout("shop", "timer-1");
    r.meta.resource_version = "101".into();
    update(
        &mut s,
        Msg::Upsert {
            cluster: C.into(),
            facts: ObjectFacts::Rollout(r),
        },
    );
    settle(&mut s);
    let after = s.view.order.iter().position(|k| k.name == "timer-1");
    assert_eq!(after, Some(6), "{:?}", s.view.order);
    assert_eq!(s.view.urgent, 7);
}

#[test]
fn timed_and_unknown_pauses_are_not_a_humans() {
    // The kind decides; this checks the table's view of it through the real update.
    let mut f = FleetBuilder::new(t(0), Settings::default(), vec![Cluster::new(C)], vec![]);
    let mut other = paused_rollout("shop", "other");
    other.pause_conditions[0].reason = PauseReason::Other;
    let mut timed = paused_rollout("shop", "timed");
    timed.steps[1] = CanaryStep::Pause(Some(SignedDuration::from_secs(60)));
    f.upsert(C, ObjectFacts::Rollout(other))
        .upsert(C, ObjectFacts::Rollout(timed));
    let s = f.settled();
    assert!(s.releases.values().all(|r| r.phase == Phase::Paused));
    assert!(s.releases.values().all(|r| r.needs_human.is_none()));
    assert_eq!(s.view.urgent, 0);
}
