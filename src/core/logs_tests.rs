use super::*;
use crate::core::model::ReleaseKind;
use crate::core::msg::{Key, Msg};
use crate::core::testkit::fleet;
use crate::core::update;

fn rollout_selected() -> State {
    let mut s = fleet();
    let i = s
        .view
        .order
        .iter()
        .position(|k| k.kind == ReleaseKind::Rollout)
        .expect("the fleet has a rollout");
    s.view.selected = i;
    s
}

fn opened(effects: &[Effect]) -> &LogRequest {
    effects
        .iter()
        .find_map(|e| match e {
            Effect::Logs(LogCommand::Open(r)) => Some(r),
            _ => None,
        })
        .expect("an Open effect")
}

fn closed(effects: &[Effect]) -> Vec<u64> {
    effects
        .iter()
        .filter_map(|e| match e {
            Effect::Logs(LogCommand::Close { session }) => Some(*session),
            _ => None,
        })
        .collect()
}

fn key(s: &mut State, k: Key) -> Vec<Effect> {
    update(s, Msg::Key(k))
}

fn streams(s: &mut State, pods: &[&str]) {
    let session = s.logs.as_ref().unwrap().session;
    let streams = pods
        .iter()
        .map(|p| StreamName {
            pod: p.to_string(),
            container: "app".into(),
        })
        .collect();
    update(s, Msg::Logs(LogEvent::Streams { session, streams }));
}

fn lines(s: &mut State, stream: usize, texts: &[&str]) {
    let session = s.logs.as_ref().unwrap().session;
    let lines = texts.iter().map(|t| Untrusted::new(*t)).collect();
    update(
        s,
        Msg::Logs(LogEvent::Lines {
            session,
            stream,
            lines,
        }),
    );
}

fn view(s: &State) -> &LogView {
    s.logs.as_ref().expect("the log view is open")
}

#[test]
fn l_on_a_rollout_follows_its_canary_replicasets_pods() {
    let mut s = rollout_selected();
    let effects = key(&mut s, Key::Char('l'));
    assert_eq!(s.view.screen, Screen::Logs);
    let r = opened(&effects);
    let release = s.selected_release().unwrap();
    let canary: Vec<String> = release
        .revisions
        .iter()
        .filter(|r| r.role == RsRole::Canary)
        .map(|r| r.name.clone())
        .collect();
    assert!(
        !canary.is_empty(),
        "the fleet's paused rollout has a canary"
    );
    assert_eq!(r.source, LogSource::ReplicaSets(canary));
    assert_eq!((r.tail, r.follow, r.previous), (200, true, false));
    assert!(r.check_access, "get pods/log is reviewed first");
    assert_eq!(r.cluster, release.key.cluster);
    assert_eq!(r.namespace, release.key.namespace);
}

#[test]
fn a_read_only_console_skips_the_access_review() {
    let mut s = rollout_selected();
    s.settings.read_only = true;
    let effects = key(&mut s, Key::Char('l'));
    assert!(!opened(&effects).check_access);
}

#[test]
fn l_from_the_detail_screen_returns_there_and_esc_stops_the_streams() {
    let mut s = rollout_selected();
    key(&mut s, Key::Enter);
    assert_eq!(s.view.screen, Screen::Detail);
    key(&mut s, Key::Char('l'));
    let session = view(&s).session;
    let effects = key(&mut s, Key::Esc);
    assert_eq!(closed(&effects), [session]);
    assert_eq!(s.view.screen, Screen::Detail);
    assert!(s.logs.is_none());
}

#[test]
fn open_pod_names_the_container() {
    let mut s = fleet();
    let effects = open_pod(&mut s, "staging", "web", "frontend-abc-x1", Some("app"));
    let r = opened(&effects);
    assert_eq!(
        r.source,
        LogSource::Pod {
            pod: "frontend-abc-x1".into(),
            container: Some("app".into())
        }
    );
    assert_eq!(view(&s).title, "pod frontend-abc-x1 (app)");
    // Opening another closes the first.
    let first = view(&s).session;
    let effects = open_pod(&mut s, "staging", "web", "frontend-abc-x2", None);
    assert_eq!(closed(&effects), [first]);
    assert_ne!(opened(&effects).session, first);
}

#[test]
fn the_ring_keeps_the_newest_10000_lines() {
    let mut s = fleet();
    open_pod(&mut s, "staging", "web", "p", None);
    streams(&mut s, &["p"]);
    let texts: Vec<String> = (0..RING + 50).map(|i| format!("line {i}")).collect();
    for chunk in texts.chunks(1000) {
        let refs: Vec<&str> = chunk.iter().map(String::as_str).collect();
        lines(&mut s, 0, &refs);
    }
    let v = view(&s);
    assert_eq!(v.lines.len(), RING);
    assert_eq!(v.dropped, 50);
    assert_eq!(v.lines.front().unwrap().text.raw(), "line 50");
    assert_eq!(
        v.lines.back().unwrap().text.raw(),
        format!("line {}", RING + 49)
    );
    assert_eq!(v.line(50).unwrap().text.raw(), "line 50");
    assert!(v.line(49).is_none(), "fell off the front");
}

#[test]
fn hostile_lines_are_kept_raw_and_shown_escaped() {
    let mut s = fleet();
    open_pod(&mut s, "staging", "web", "p", None);
    streams(&mut s, &["p"]);
    lines(
        &mut s,
        0,
        &["clear\x1b[2J", "osc\x1b]52;c;aGk=\x07", "over\rwrite"],
    );
    let v = view(&s);
    let shown: Vec<String> = v
        .lines
        .iter()
        .map(|l| l.text.shown().into_owned())
        .collect();
    assert_eq!(
        shown,
        ["clear\\x1b[2J", "osc\\x1b]52;c;aGk=\\x07", "over\\x0dwrite"]
    );
    assert!(
        shown
            .iter()
            .all(|l| !l.contains('\x1b') && !l.contains('\r'))
    );
    assert_eq!(
        v.lines[0].text.raw(),
        "clear\x1b[2J",
        "the stored value is whole"
    );
}

#[test]
fn reports_for_a_closed_session_are_dropped() {
    let mut s = fleet();
    open_pod(&mut s, "staging", "web", "p", None);
    let old = view(&s).session;
    open_pod(&mut s, "staging", "web", "q", None);
    update(
        &mut s,
        Msg::Logs(LogEvent::Lines {
            session: old,
            stream: 0,
            lines: vec![Untrusted::new("late")],
        }),
    );
    assert!(view(&s).lines.is_empty());
}

#[test]
fn space_pauses_new_lines_are_counted_and_g_end_follows_again() {
    let mut s = fleet();
    open_pod(&mut s, "staging", "web", "p", None);
    streams(&mut s, &["p"]);
    let texts: Vec<String> = (0..100).map(|i| format!("l{i}")).collect();
    lines(
        &mut s,
        0,
        &texts.iter().map(String::as_str).collect::<Vec<_>>(),
    );
    key(&mut s, Key::Char(' '));
    let page = page(&s) as u64;
    assert!(!view(&s).follow);
    assert_eq!(
        view(&s).top,
        100 - page,
        "paused on the page that was shown"
    );
    lines(&mut s, 0, &["new1", "new2"]);
    assert_eq!(view(&s).unseen, 2);
    assert_eq!(view(&s).top, 100 - page, "the window stays put");
    key(&mut s, Key::Char('k'));
    assert_eq!(view(&s).top, 99 - page);
    key(&mut s, Key::Char('G'));
    assert!(view(&s).follow);
    assert_eq!(view(&s).unseen, 0);
    // Scrolling up from following pauses too.
    key(&mut s, Key::Char('k'));
    assert!(!view(&s).follow);
    key(&mut s, Key::Char('g'));
    assert_eq!(view(&s).top, 0);
}

#[test]
fn search_finds_matches_back_and_forth() {
    let mut s = fleet();
    open_pod(&mut s, "staging", "web", "p", None);
    streams(&mut s, &["p"]);
    lines(&mut s, 0, &["ok", "ERROR one", "ok", "error two", "ok"]);
    key(&mut s, Key::Char('/'));
    for c in "error".chars() {
        key(&mut s, Key::Char(c));
    }
    assert_eq!(
        crate::core::keys::context(&s),
        crate::core::keys::Context::LogSearch
    );
    key(&mut s, Key::Enter);
    assert_eq!(view(&s).found, Some(3), "Enter finds the newest match");
    assert!(!view(&s).follow, "paused on the match");
    key(&mut s, Key::Char('N'));
    assert_eq!(view(&s).found, Some(1), "N goes back (case-insensitive)");
    key(&mut s, Key::Char('N'));
    assert_eq!(view(&s).found, Some(1));
    assert!(view(&s).not_found);
    key(&mut s, Key::Char('n'));
    assert_eq!(view(&s).found, Some(3));
    assert!(!view(&s).not_found);
}

#[test]
fn w_wraps_and_tab_cycles_pods() {
    let mut s = rollout_selected();
    key(&mut s, Key::Char('l'));
    streams(&mut s, &["web-1", "web-2"]);
    key(&mut s, Key::Char('w'));
    assert!(view(&s).wrap);
    let mut seen = Vec::new();
    for _ in 0..3 {
        key(&mut s, Key::Tab);
        seen.push(view(&s).only);
    }
    assert_eq!(seen, [Some(0), Some(1), None]);
    lines(&mut s, 0, &["a"]);
    lines(&mut s, 1, &["b"]);
    key(&mut s, Key::Tab);
    let v = view(&s);
    let only: Vec<&str> = v.shown_from(0).map(|(_, l)| l.text.raw()).collect();
    assert_eq!(only, ["a"]);
    assert_eq!(v.label(1), "web-2");
}

#[test]
fn p_switches_to_the_previous_container_and_back() {
    let mut s = fleet();
    open_pod(&mut s, "staging", "web", "p", None);
    let first = view(&s).session;
    let effects = key(&mut s, Key::Char('p'));
    assert_eq!(closed(&effects), [first]);
    let r = opened(&effects);
    assert!(r.previous && !r.follow, "a finished log is not followed");
    assert!(view(&s).previous);
    let effects = key(&mut s, Key::Char('p'));
    let r = opened(&effects);
    assert!(!r.previous && r.follow);
    assert_eq!(s.view.screen, Screen::Logs);
}

#[test]
fn a_refusal_and_failures_are_kept_for_the_view() {
    let mut s = fleet();
    open_pod(&mut s, "staging", "web", "p", None);
    let session = view(&s).session;
    let reason = Untrusted::new("RBAC: viewer may not get pods/log in namespace web");
    update(
        &mut s,
        Msg::Logs(LogEvent::Refused {
            session,
            reason: reason.clone(),
        }),
    );
    assert_eq!(view(&s).refused.as_ref(), Some(&reason));
    streams(&mut s, &["p"]);
    let error = Some(Untrusted::new("container is waiting to start"));
    update(
        &mut s,
        Msg::Logs(LogEvent::Ended {
            session,
            stream: 0,
            error: error.clone(),
        }),
    );
    assert_eq!(view(&s).streams[0].ended, Some(error));
}

#[test]
fn the_canary_pods_fall_back_to_the_newest_stable_replicaset() {
    let s = fleet();
    let dep = s
        .releases
        .values()
        .find(|r| r.key.kind == ReleaseKind::Deployment)
        .unwrap();
    let mut r = dep.clone();
    for rev in &mut r.revisions {
        rev.role = RsRole::Stable;
    }
    let newest = r
        .revisions
        .iter()
        .max_by_key(|x| x.revision)
        .map(|x| x.name.clone());
    assert_eq!(
        canary_replicasets(&r),
        newest.into_iter().collect::<Vec<_>>()
    );
    r.revisions.clear();
    assert!(canary_replicasets(&r).is_empty());
}

#[test]
fn the_log_keys_are_in_help_and_ctrl_c_still_quits() {
    let views: Vec<&str> = crate::core::keys::help(crate::core::keys::Section::Logs)
        .map(|(k, _)| k)
        .collect();
    for k in ["l", "g / G", "space · / n N", "w", "Tab", "p"] {
        assert!(views.contains(&k), "{k} missing from help: {views:?}");
    }
    let mut s = fleet();
    open_pod(&mut s, "staging", "web", "p", None);
    key(&mut s, Key::Ctrl('c'));
    assert!(s.quit);
}
