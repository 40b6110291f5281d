use super::*;
use crate::core::kinds::pod::{ContainerFacts, ContainerState};
use crate::core::msg::{Key, Msg};
use crate::core::state::Panel;
use crate::core::testkit::{fleet, t};
use crate::core::{settle, update};

fn press(s: &mut State, key: Key) -> Vec<Effect> {
    let e = update(s, Msg::Key(key));
    settle(s);
    e
}

fn open_checkout(s: &mut State) -> Vec<Effect> {
    let i = s
        .view
        .order
        .iter()
        .position(|k| k.name == "checkout")
        .unwrap();
    s.view.selected = i;
    press(s, Key::Enter)
}

fn pod(name: &str, ready: bool) -> PodFacts {
    PodFacts {
        name: name.into(),
        namespace: "shop".into(),
        containers: vec![ContainerFacts {
            name: "app".into(),
            ready,
            state: if ready {
                ContainerState::Running { since: None }
            } else {
                ContainerState::Waiting {
                    reason: Untrusted::new("CrashLoopBackOff"),
                    message: Untrusted::default(),
                }
            },
            ..ContainerFacts::default()
        }],
        ..PodFacts::default()
    }
}

#[test]
fn opening_the_detail_lists_the_events_of_the_release_and_its_replicasets() {
    let mut s = fleet();
    let effects = open_checkout(&mut s);
    let q = effects
        .iter()
        .find_map(|e| match e {
            Effect::ListEvents(q) => Some(q.clone()),
            _ => None,
        })
        .expect("events listed on open");
    assert_eq!(
        (q.cluster.as_str(), q.namespace.as_str()),
        ("prod-eu-1", "shop")
    );
    let kinds: Vec<&str> = q.objects.iter().map(|o| o.kind.as_str()).collect();
    assert_eq!(kinds, ["Rollout", "ReplicaSet", "ReplicaSet"]);
    assert!(q.pods_of.contains(&"checkout-new".to_string()));
    assert!(
        !effects.iter().any(|e| matches!(e, Effect::WatchPods(_))),
        "no pod watch yet"
    );
    // An answer for this request fills the section; an older one is dropped.
    update(
        &mut s,
        Msg::ObjectEvents {
            request: q.request + 7,
            result: Ok(vec![ObjectEvent::default()]),
        },
    );
    assert!(!s.view.events.as_ref().unwrap().listed);
    let ev = |uid: &str, at| ObjectEvent {
        uid: uid.into(),
        last_seen: Some(t(at)),
        ..ObjectEvent::default()
    };
    update(
        &mut s,
        Msg::ObjectEvents {
            request: q.request,
            result: Ok(vec![ev("old", 1), ev("new", 5)]),
        },
    );
    let shown = &s.view.events.as_ref().unwrap().events;
    assert_eq!(
        shown.iter().map(|e| e.uid.as_str()).collect::<Vec<_>>(),
        ["new", "old"]
    );
}

#[test]
fn enter_on_a_replicaset_watches_its_pods_until_esc() {
    let mut s = fleet();
    open_checkout(&mut s);
    let r = s.selected_release().unwrap();
    assert_eq!(
        r.revisions[s.view.rs_selected].role,
        RsRole::Canary,
        "starts on the canary"
    );
    let effects = press(&mut s, Key::Enter);
    assert_eq!(s.view.screen, Screen::Pods);
    let q = effects
        .iter()
        .find_map(|e| match e {
            Effect::WatchPods(q) => Some(q.clone()),
            _ => None,
        })
        .expect("a pods watch");
    assert_eq!(q.selector, "rollouts-pod-template-hash=new");
    assert_eq!(q.replicaset, "checkout-new");
    assert!(
        effects.iter().any(|e| matches!(e, Effect::ListEvents(_))),
        "events relisted"
    );
    // The first list puts the cursor on the failing pod; answers of other watches are dropped.
    update(
        &mut s,
        Msg::Pods {
            watch: q.watch + 1,
            change: PodsChange::Listed(vec![pod("zz", false)]),
        },
    );
    assert!(!s.view.pods.as_ref().unwrap().listed);
    let listed = PodsChange::Listed(vec![
        pod("checkout-new-b", false),
        pod("checkout-new-a", true),
    ]);
    update(
        &mut s,
        Msg::Pods {
            watch: q.watch,
            change: listed,
        },
    );
    let p = s.view.pods.as_ref().unwrap();
    assert_eq!(p.selected_pod().unwrap().name, "checkout-new-b");
    let r = p.selected_ref().unwrap();
    assert_eq!(
        (r.cluster.as_str(), r.namespace.as_str()),
        ("prod-eu-1", "shop")
    );
    assert_eq!(r.containers, ["app"]);
    update(
        &mut s,
        Msg::Pods {
            watch: q.watch,
            change: PodsChange::Deleted("checkout-new-a".into()),
        },
    );
    assert_eq!(s.view.pods.as_ref().unwrap().pods.len(), 1);
    assert_eq!(
        s.view.pods.as_ref().unwrap().selected,
        0,
        "cursor kept on its pod"
    );
    // Esc stops exactly this watch and goes back to the detail.
    let effects = press(&mut s, Key::Esc);
    assert_eq!(effects, vec![Effect::StopPods { watch: q.watch }]);
    assert_eq!(s.view.screen, Screen::Detail);
    assert!(s.view.pods.is_none());
}

#[test]
fn tab_moves_the_replicaset_cursor_and_wraps() {
    let mut s = fleet();
    open_checkout(&mut s);
    let n = s.selected_release().unwrap().revisions.len();
    assert_eq!(n, 2);
    let start = s.view.rs_selected;
    press(&mut s, Key::Tab);
    assert_eq!(s.view.rs_selected, (start + 1) % n);
    press(&mut s, Key::Tab);
    assert_eq!(s.view.rs_selected, start);
    press(&mut s, Key::BackTab);
    assert_eq!(s.view.rs_selected, (start + 1) % n);
    assert_eq!(s.view.screen, Screen::Detail, "Tab stays in the detail");
}

#[test]
fn enter_on_a_failure_opens_the_detail_of_its_release() {
    let mut s = fleet();
    update(
        &mut s,
        Msg::Warning {
            cluster: "prod-eu-1".into(),
            event: crate::core::facts::WarningEvent {
                namespace: "shop".into(),
                object_kind: "Pod".into(),
                object_name: "checkout-new-x2k4q".into(),
                reason: "BackOff".into(),
                message: Untrusted::new("Back-off restarting failed container"),
                count: 3,
                last_seen: Some(t(0)),
            },
        },
    );
    settle(&mut s);
    // Select another release first: Enter must move to the failing one.
    let other = s
        .view
        .order
        .iter()
        .position(|k| k.name != "checkout")
        .unwrap();
    s.view.selected = other;
    press(&mut s, Key::Tab);
    press(&mut s, Key::Tab);
    assert_eq!(s.view.panel, Panel::Failures);
    let effects = press(&mut s, Key::Enter);
    assert_eq!(s.selected_release().unwrap().key.name, "checkout");
    assert!(effects.iter().any(|e| matches!(e, Effect::ListEvents(_))));
    // A pod's failure goes on to that pod on its ReplicaSet's pods screen.
    assert_eq!(s.view.screen, Screen::Pods);
    let p = s.view.pods.as_ref().unwrap();
    assert_eq!(p.query.replicaset, "checkout-new");
    let watch = p.query.watch;
    assert!(effects.contains(&Effect::WatchPods(p.query.clone())));
    let listed = vec![
        pod("checkout-new-a", false),
        pod("checkout-new-x2k4q", false),
    ];
    update(
        &mut s,
        Msg::Pods {
            watch,
            change: PodsChange::Listed(listed),
        },
    );
    let p = s.view.pods.as_ref().unwrap();
    assert_eq!(
        p.selected_pod().unwrap().name,
        "checkout-new-x2k4q",
        "the failing pod"
    );
    press(&mut s, Key::Esc);
    assert_eq!(s.view.screen, Screen::Detail, "Esc: the release's detail");
}

#[test]
fn a_failure_of_no_shown_release_says_so() {
    let mut s = fleet();
    update(
        &mut s,
        Msg::Warning {
            cluster: "prod-eu-1".into(),
            event: crate::core::facts::WarningEvent {
                namespace: "other".into(),
                object_kind: "Pod".into(),
                object_name: "lonely-1".into(),
                reason: "BackOff".into(),
                count: 1,
                last_seen: Some(t(0)),
                ..Default::default()
            },
        },
    );
    settle(&mut s);
    press(&mut s, Key::Tab);
    press(&mut s, Key::Tab);
    let effects = press(&mut s, Key::Enter);
    assert!(effects.is_empty());
    assert_eq!(s.view.screen, Screen::Home);
    let n = s.view.notice.as_ref().expect("a notice says why");
    assert!(n.text.contains("pod/lonely-1"), "{}", n.text);
}

#[test]
fn l_on_a_pod_opens_its_log_and_esc_comes_back_to_the_pods() {
    let mut s = fleet();
    open_checkout(&mut s);
    let effects = press(&mut s, Key::Enter);
    let watch = effects
        .iter()
        .find_map(|e| match e {
            Effect::WatchPods(q) => Some(q.watch),
            _ => None,
        })
        .expect("a pods watch");
    let listed = PodsChange::Listed(vec![pod("checkout-new-b", false)]);
    update(
        &mut s,
        Msg::Pods {
            watch,
            change: listed,
        },
    );
    let effects = press(&mut s, Key::Char('l'));
    assert_eq!(s.view.screen, Screen::Logs);
    assert!(
        effects.iter().any(|e| matches!(e, Effect::Logs(_))),
        "the log stream is asked for: {effects:?}"
    );
    let title = &s.logs.as_ref().expect("log view").title;
    assert!(
        title.contains("checkout-new-b") && title.contains("app"),
        "{title}"
    );
    press(&mut s, Key::Esc);
    assert_eq!(s.view.screen, Screen::Pods, "back where `l` was pressed");
    assert!(s.view.pods.is_some(), "the pods screen is still open");
}
