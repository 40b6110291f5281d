//! Every row of the key table does something in key handling, in every context it is
//! listed for; and key handling opens exactly the actions the offers say are ready.

use crate::core::action::ActionKind;
use crate::core::keys::{self, Command, Context};
use crate::core::msg::{AuditLine, Key, Msg};
use crate::core::offer;
use crate::core::state::{Screen, State};
use crate::core::testkit::{fleet, t};
use crate::core::{settle, update};

fn press(s: &mut State, k: Key) -> usize {
    let fx = update(s, Msg::Key(k)).len();
    settle(s);
    fx
}

/// A state in `ctx` where every command of that context has something to do: the cursor
/// mid-list, a filter typed with the cursor mid-text, a modal open.
fn state_in(ctx: Context) -> State {
    let mut s = fleet();
    for i in 0..3 {
        s.audit.push(AuditLine {
            at: t(i),
            stage: crate::core::msg::AuditStage::Result,
            id: format!("s#{i}"),
            own: true,
            cluster: "staging".into(),
            target: "web/frontend".into(),
            action: "pause".into(),
            outcome: "applied".into(),
        });
    }
    s.view.selected = 1;
    s.view.help_offset = 1;
    s.view.audit_offset = 1;
    let checkout = s.view.order.iter().position(|k| k.name == "checkout");
    let to_checkout = |s: &mut State| s.view.selected = checkout.unwrap_or(0);
    match ctx {
        Context::Home => {}
        Context::Detail => s.view.screen = Screen::Detail,
        Context::Help => s.view.screen = Screen::Help,
        Context::Audit => s.view.screen = Screen::Audit,
        Context::Clusters => s.view.screen = Screen::Clusters,
        Context::Modal => {
            to_checkout(&mut s);
            press(&mut s, Key::Char('p'));
        }
        Context::Typing => {
            to_checkout(&mut s);
            press(&mut s, Key::Char('a'));
        }
        Context::Filter => {
            for k in [Key::Char('/'), Key::Char('a'), Key::Char('b'), Key::Left] {
                press(&mut s, k);
            }
        }
        Context::Pods => {
            to_checkout(&mut s);
            press(&mut s, Key::Enter);
            press(&mut s, Key::Enter);
            // Three pods, the cursor in the middle: every move changes it.
            let watch = s.view.pods.as_ref().map_or(0, |p| p.query.watch);
            let pods = ["a", "b", "c"]
                .map(|n| crate::core::kinds::pod::PodFacts {
                    name: n.into(),
                    ..Default::default()
                })
                .to_vec();
            let change = crate::core::kinds::pod::PodsChange::Listed(pods);
            crate::core::update(&mut s, crate::core::Msg::Pods { watch, change });
            if let Some(p) = s.view.pods.as_mut() {
                p.selected = 1;
            }
        }
        Context::Logs => {
            to_checkout(&mut s);
            press(&mut s, Key::Char('l'));
            crate::core::logs::fixture_lines(&mut s, 100);
            for k in [Key::Char('/'), Key::Char('x'), Key::Enter, Key::Char('g')] {
                press(&mut s, k);
            }
            for _ in 0..3 {
                press(&mut s, Key::Char('j'));
            }
        }
        Context::LogSearch => {
            to_checkout(&mut s);
            for k in [Key::Char('l'), Key::Char('/'), Key::Char('x')] {
                press(&mut s, k);
            }
        }
        Context::Revisions => {
            to_checkout(&mut s);
            press(&mut s, Key::Char('v'));
        }
        Context::Yaml | Context::YamlSearch => {
            to_checkout(&mut s);
            press(&mut s, Key::Char('o'));
            let lines: Vec<String> = (0..60).map(|i| format!("line {i} x")).collect();
            let y = s.view.yaml.as_ref().expect("yaml view open");
            let (cluster, namespace, name) =
                (y.cluster.clone(), y.namespace.clone(), y.name.clone());
            let msg = crate::core::msg::Msg::Object {
                cluster,
                namespace,
                name,
                result: Ok(serde_json::json!({"metadata": {"managedFields": [1]}, "lines": lines})),
            };
            crate::core::update(&mut s, msg);
            if ctx == Context::YamlSearch {
                press(&mut s, Key::Char('/'));
            }
        }
        Context::Message => {
            to_checkout(&mut s);
            press(&mut s, Key::Char('m'));
            // Longer than a page, so every scroll key moves it.
            let m = s.view.message.as_mut().expect("message view open");
            m.paras = (0..60)
                .map(|i| crate::core::message::Para {
                    tone: crate::core::message::Tone::Text,
                    indent: 0,
                    text: format!("line {i}"),
                })
                .collect();
        }
    }
    assert_eq!(keys::context(&s), ctx, "fixture for {ctx:?}");
    s
}

/// What a key can change, to tell a handled key from an ignored one.
fn fingerprint(s: &State) -> String {
    let v = &s.view;
    format!(
        "{:?} {:?} {:?} {} {} {} {} {} {} {:?} {} {} {:?} {:?} {} {:?} {} {:?} {} {:?} {:?}",
        v.screen,
        v.previous,
        v.panel,
        v.selected,
        v.help_offset,
        v.audit_offset,
        v.audit_all,
        v.filter.value(),
        v.filter.cursor(),
        v.filter_editing,
        v.cluster_cursor,
        v.hidden_clusters.len(),
        v.modal
            .as_ref()
            .map(|m| (m.focus, m.typed.value().to_string())),
        v.notice.as_ref().map(|n| n.text.clone()),
        s.quit,
        s.pending.len(),
        v.modal.as_ref().map_or(0, |m| m.typed.cursor()),
        v.modal.as_ref().map(|m| m.refusal.clone()),
        v.rs_selected,
        v.pods.as_ref().map(|p| p.selected),
        s.logs.as_ref().map(|l| {
            (
                (l.session, l.follow, l.top, l.wrap, l.only, l.previous),
                (
                    l.search.value().to_string(),
                    l.search_editing,
                    l.found,
                    l.not_found,
                ),
            )
        }),
    ) + &format!(
        " {} {} {:?} {:?}",
        v.revisions_selected,
        v.history,
        v.message.as_ref().map(|m| m.offset),
        v.yaml
            .as_ref()
            .map(|y| (y.offset, y.searching, y.query.value().to_string())),
    )
}

#[test]
fn every_row_of_the_key_table_is_reachable() {
    for row in keys::TABLE {
        for &ctx in row.when {
            for &(key, cmd) in row.binds {
                let mut s = state_in(ctx);
                if ctx == Context::Clusters && cmd == Command::ShowAll {
                    s.view.hidden_clusters.insert("staging".into());
                }
                if ctx == Context::Clusters && cmd == Command::Up {
                    s.view.cluster_cursor = 1;
                }
                if ctx == Context::Audit && cmd == Command::Last {
                    s.view.audit_offset = 0;
                }
                // Tab in the detail moves between ReplicaSets: a release with two.
                if ctx == Context::Detail && matches!(cmd, Command::NextPanel | Command::PrevPanel)
                {
                    let two = s.view.order.iter().position(|k| k.name == "checkout");
                    s.view.selected = two.unwrap_or(0);
                }
                if ctx == Context::Home && cmd == Command::Back {
                    s.view.filter = "x".into();
                }
                let back = matches!(cmd, Command::Up | Command::PageUp | Command::First);
                if ctx == Context::Revisions && back {
                    s.view.revisions_selected = 1;
                }
                if ctx == Context::Yaml && back {
                    s.view.yaml.as_mut().expect("yaml").offset = 1;
                }
                if ctx == Context::Message && back {
                    s.view.message.as_mut().expect("message").offset = 1;
                }
                if ctx == Context::Yaml && matches!(cmd, Command::NextMatch | Command::PrevMatch) {
                    s.view.yaml.as_mut().expect("yaml").query = "x".into();
                }
                let main = matches!(ctx, Context::Home | Context::Detail);
                if main && matches!(cmd, Command::Down | Command::PageDown | Command::Last) {
                    s.view.selected = 0;
                }
                assert_eq!(keys::command(ctx, key), Some(cmd), "{key:?} in {ctx:?}");
                let before = fingerprint(&s);
                let effects = press(&mut s, key);
                assert!(
                    effects > 0 || fingerprint(&s) != before,
                    "{key:?} ({cmd:?}) does nothing in {ctx:?}"
                );
            }
        }
    }
}

#[test]
fn unbound_keys_are_ignored_on_the_main_screens() {
    let mut s = state_in(Context::Home);
    let before = fingerprint(&s);
    assert_eq!(press(&mut s, Key::Char('z')), 0);
    assert_eq!(fingerprint(&s), before);
    assert!(!s.dirty);
}

/// start_action opens a modal exactly when the offer is ready, and otherwise leaves a
/// notice; for every action kind on every release of the fleet, read-only or not.
#[test]
fn start_action_follows_the_offer_for_every_kind() {
    for read_only in [false, true] {
        for i in 0..fleet().view.order.len() {
            for kind in ActionKind::ALL {
                let mut s = fleet();
                s.settings.read_only = read_only;
                s.view.selected = i;
                let Some(r) = s.selected_release().cloned() else {
                    continue;
                };
                let offered = offer::offer(&s, &r, kind).state;
                super::modal::start_action(&mut s, kind);
                let modal = s.view.modal.as_ref();
                match &offered {
                    Ok(ready) => {
                        assert_eq!(modal.map(|m| &m.plan), Some(&ready.plan), "{kind}");
                        assert_eq!(modal.and_then(|m| m.must_type.clone()), ready.must_type);
                    }
                    Err(why) => {
                        assert!(modal.is_none(), "{kind} on {}: {why}", r.key.name);
                        assert!(s.view.notice.is_some(), "{kind}: refusal says why");
                    }
                }
            }
        }
    }
}
