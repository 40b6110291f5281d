use super::*;
use crate::core::facts::WarningEvent;
use crate::core::kinds::pod::{ContainerFacts, PodsChange, Termination};
use crate::core::msg::{Key, Msg};
use crate::core::testkit::{fleet, t};
use crate::core::{settle, update};

fn press(s: &mut State, key: Key) -> Vec<Effect> {
    let e = update(s, Msg::Key(key));
    settle(s);
    e
}

fn select(s: &mut State, name: &str) {
    let i = s.view.order.iter().position(|k| k.name == name).unwrap();
    s.view.selected = i;
}

/// A long message: many words, one 300-character token, a newline, a tab and an escape.
fn long_message() -> String {
    let words = (0..120).map(|i| format!("word{i}")).collect::<Vec<_>>();
    format!(
        "{} {}\n\tat the end \u{1b}[31mred END-OF-MESSAGE",
        words.join(" "),
        "x".repeat(300)
    )
}

fn shown_text(s: &State) -> String {
    let m = s.view.message.as_ref().unwrap();
    rows(m, s.view.width)
        .iter()
        .map(|r| r.text.clone())
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn m_on_a_failure_shows_its_whole_message_wrapped_and_esc_goes_back() {
    let mut s = fleet();
    update(
        &mut s,
        Msg::Warning {
            cluster: "prod-eu-1".into(),
            event: WarningEvent {
                namespace: "shop".into(),
                object_kind: "Pod".into(),
                object_name: "checkout-new-x2k4q".into(),
                reason: "BackOff".into(),
                message: Untrusted::new(long_message()),
                count: 7,
                last_seen: Some(t(5)),
            },
        },
    );
    settle(&mut s);
    s.view.panel = Panel::Failures;
    press(&mut s, Key::Char('m'));
    assert_eq!(s.view.screen, Screen::Message);
    let m = s.view.message.as_ref().unwrap();
    assert!(m.title.contains("BackOff"), "{}", m.title);
    let all = rows(m, 80);
    assert!(all.iter().all(|r| text::width(&r.text) <= 80), "{all:?}");
    let text = shown_text(&s);
    // Every word, the long token (broken over rows) and the end are there; the escape is
    // made visible, the tab is spaces.
    for i in 0..120 {
        assert!(
            text.contains(&format!("word{i}")),
            "word{i} missing:\n{text}"
        );
    }
    let xs: usize = text.matches('x').count();
    assert!(xs >= 300, "the long token is all there ({xs})");
    assert!(text.contains("\\x1b[31mred END-OF-MESSAGE"), "{text}");
    assert!(!text.contains('\u{1b}') && !text.contains('\t'));
    assert!(text.contains("    at the end"), "{text}");
    // Scrolling stops with the last row at the bottom; Esc goes back to the feed.
    let page = page(&s);
    press(&mut s, Key::Char('G'));
    let last = all.len().saturating_sub(page);
    assert!(last > 0, "longer than a page at 80x24");
    assert_eq!(s.view.message.as_ref().unwrap().offset, last);
    press(&mut s, Key::Char('j'));
    assert_eq!(s.view.message.as_ref().unwrap().offset, last, "stops");
    press(&mut s, Key::Char('k'));
    assert_eq!(s.view.message.as_ref().unwrap().offset, last - 1);
    press(&mut s, Key::Char('g'));
    assert_eq!(s.view.message.as_ref().unwrap().offset, 0);
    press(&mut s, Key::PageDown);
    assert_eq!(s.view.message.as_ref().unwrap().offset, page.min(last));
    press(&mut s, Key::Esc);
    assert_eq!(
        (s.view.screen, s.view.panel),
        (Screen::Home, Panel::Failures)
    );
    assert!(s.view.message.is_none());
    println!("failure message: {} rows at 80 columns", all.len());
}

#[test]
fn m_on_a_release_shows_its_message_conditions_and_events() {
    let mut s = fleet();
    select(&mut s, "checkout");
    press(&mut s, Key::Enter);
    assert_eq!(s.view.screen, Screen::Detail);
    press(&mut s, Key::Char('m'));
    assert_eq!(s.view.screen, Screen::Message);
    let text = shown_text(&s);
    assert!(text.starts_with("Message · Paused"), "{text}");
    assert!(
        text.contains("Events"),
        "the detail's events section: {text}"
    );
    press(&mut s, Key::Char('q'));
    assert_eq!(s.view.screen, Screen::Detail, "back to the detail");
}

#[test]
fn m_on_a_pod_shows_its_last_termination_message_in_full() {
    let mut s = fleet();
    select(&mut s, "checkout");
    press(&mut s, Key::Enter);
    let effects = press(&mut s, Key::Enter);
    let watch = effects
        .iter()
        .find_map(|e| match e {
            Effect::WatchPods(q) => Some(q.watch),
            _ => None,
        })
        .unwrap();
    let trace: Vec<String> = (0..40)
        .map(|i| format!("   {i}: frame::number_{i}\n             at ./src/lib.rs:{i}:1"))
        .collect();
    let pod = PodFacts {
        name: "checkout-new-abcde".into(),
        namespace: "shop".into(),
        containers: vec![ContainerFacts {
            name: "app".into(),
            state: ContainerState::Waiting {
                reason: Untrusted::new("CrashLoopBackOff"),
                message: Untrusted::new("back-off 5m0s restarting failed container"),
            },
            last: Some(Termination {
                reason: Untrusted::new("Error"),
                message: Untrusted::new(format!(
                    "thread 'main' panicked\n{}\nnote: LAST LINE OF THE TRACE",
                    trace.join("\n")
                )),
                exit_code: 101,
                finished: Some(t(3)),
            }),
            ..ContainerFacts::default()
        }],
        ..PodFacts::default()
    };
    update(
        &mut s,
        Msg::Pods {
            watch,
            change: PodsChange::Listed(vec![pod]),
        },
    );
    press(&mut s, Key::Char('m'));
    assert_eq!(s.view.screen, Screen::Message);
    let text = shown_text(&s);
    assert!(text.contains("waiting CrashLoopBackOff"), "{text}");
    assert!(text.contains("last termination: Error exit 101"), "{text}");
    for i in 0..40 {
        assert!(text.contains(&format!("frame::number_{i}")), "{text}");
    }
    // The trace keeps its lines and their indentation.
    assert!(
        text.contains("\n    ")
            && text.contains(&format!("\n{}at ./src/lib.rs:39:1", " ".repeat(17))),
        "{text}"
    );
    press(&mut s, Key::Char('G'));
    let m = s.view.message.as_ref().unwrap();
    let all = rows(m, s.view.width);
    let on_screen = &all[m.offset..];
    assert!(
        on_screen
            .iter()
            .any(|r| r.text.contains("note: LAST LINE OF THE TRACE")),
        "the trace's last line is on the last page"
    );
    press(&mut s, Key::Esc);
    assert_eq!(s.view.screen, Screen::Pods, "back to the pods");
    assert!(s.view.pods.is_some(), "the pods screen kept its state");
}

#[test]
fn nothing_selected_says_so_and_stays() {
    let mut s = State::new(
        t(0),
        Default::default(),
        vec![crate::core::model::Cluster::new("a")],
        vec![],
    );
    settle(&mut s);
    press(&mut s, Key::Char('m'));
    assert_eq!(s.view.screen, Screen::Home);
    assert!(s.view.notice.as_ref().unwrap().text.contains("no message"));
}

#[test]
fn wrapping_breaks_long_tokens_and_hangs_continuations() {
    let view = MessageView {
        title: "t".into(),
        paras: vec![Para {
            tone: Tone::Text,
            indent: 2,
            text: format!("short {} tail", "y".repeat(50)),
        }],
        offset: 0,
        from: Screen::Home,
        at: t(0),
    };
    let r = rows(&view, 20);
    let texts: Vec<&str> = r.iter().map(|r| r.text.as_str()).collect();
    assert_eq!(texts[0], "  short");
    assert!(
        texts[1..].iter().all(|l| l.starts_with("    ")),
        "{texts:?}"
    );
    assert!(texts.iter().all(|l| text::width(l) <= 20), "{texts:?}");
    let ys: usize = texts.iter().map(|l| l.matches('y').count()).sum();
    assert_eq!(ys, 50);
    assert!(texts.last().unwrap().ends_with("tail"));
}

#[test]
fn hostile_and_huge_messages_are_escaped_in_full() {
    let huge = "a\u{202e}b".repeat(5_000);
    let shown = shown_full(&huge);
    assert_eq!(shown.len(), 1);
    assert_eq!(shown[0].matches("\\u{202e}").count(), 5_000, "none cut");
    assert!(!shown[0].contains('\u{202e}'));
    assert_eq!(shown_full("a\r\nb\tc"), vec!["a", "b    c"]);
}
