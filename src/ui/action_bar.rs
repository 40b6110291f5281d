//! The detail screen's action bar: every action key of the key table with the core's offer
//! for it — ready, with what to expect (error-budget gate, typed name on prod, RBAC not
//! checked yet), or disabled with the reason. Shows offers only: no policy is decided here
//! (that is `core::offer`), and the keys come from `core::keys`.

use ratatui::text::{Line, Span};

use super::detail::section_title;
use super::{fmt, theme::Theme};
use crate::core::keys;
use crate::core::model::Release;
use crate::core::offer::{self, Offer};
use crate::core::state::State;

/// The action keys that apply to this release's kind (the others would only say "not
/// available for …": at 80x24 those rows are better spent on the release).
fn shown(r: &Release) -> impl Iterator<Item = (&'static str, crate::core::action::ActionKind)> {
    let supports = r.key.kind.supports();
    keys::action_keys().filter(move |(_, kind)| supports.contains(&keys::resolve(*kind, r)))
}

/// Lines the bar takes: its title and one per action key that applies to `r`.
pub fn height(r: &Release) -> u16 {
    1 + shown(r).count() as u16
}

pub fn lines<'a>(state: &State, r: &Release, theme: &Theme, width: u16) -> Vec<Line<'a>> {
    let mut lines = vec![section_title("Actions", theme, width)];
    lines.extend(shown(r).map(|(key, kind)| {
        let offer = offer::offer(state, r, keys::resolve(kind, r));
        action_line(key, &offer, theme)
    }));
    lines
}

/// What the operator should know about a ready action (empty: nothing special).
fn notes(offer: &offer::Ready) -> Vec<String> {
    let mut notes = Vec::new();
    if offer.rbac_unchecked {
        notes.push("ready (RBAC not checked yet)".to_string());
    }
    if let Some(g) = &offer.gate {
        notes.push(format!(
            "error budget gate: burn {} over {}",
            fmt::burn(Some(g.burn)),
            g.window
        ));
    }
    if offer.plan.needs_typed_name() {
        notes.push("prod: type the name".into());
    }
    notes
}

fn action_line<'a>(key: &'static str, offer: &Offer, theme: &Theme) -> Line<'a> {
    let (style, status) = match &offer.state {
        Ok(ready) => {
            let notes = notes(ready);
            // Notes are what to expect (gate, typed name); "disabled:" marks the others.
            let status = if notes.is_empty() {
                "ready".into()
            } else {
                notes.join(" · ")
            };
            (theme.action_enabled, status)
        }
        Err(why) => (theme.action_disabled, format!("disabled: {why}")),
    };
    Line::from(vec![
        Span::styled(format!("  {key:<6}"), theme.key),
        Span::styled(format!("{:<13}", offer.kind.label()), style),
        Span::styled(status, style),
    ])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::facts::{DeploymentFacts, ObjectFacts};
    use crate::core::keys::{Command, Context, TABLE};
    use crate::core::msg::Msg;
    use crate::core::state::Screen;
    use crate::core::testkit::{deployment, fleet, t};
    use crate::core::{settle, update};

    fn text(line: &Line) -> String {
        line.spans.iter().map(|s| s.content.as_ref()).collect()
    }

    /// Fleets that exercise ready, typed, read-only, RBAC-denied, in-flight and
    /// not-applicable offers on a Rollout and a (paused or running) Deployment.
    fn scenarios() -> Vec<fn(&mut State)> {
        vec![
            |_| {},
            |s| s.settings.read_only = true,
            |s| {
                for (c, ns, res) in [
                    ("prod-eu-1", "shop", "rollouts/status"),
                    ("staging", "web", "deployments"),
                ] {
                    let key = crate::core::state::AccessKey::new(c, ns, "patch", res);
                    crate::core::access::record(s, key, false);
                }
            },
            |s| {
                for (c, ns, res) in [
                    ("prod-eu-1", "shop", "rollouts/status"),
                    ("prod-eu-1", "shop", "rollouts"),
                    ("staging", "web", "deployments"),
                ] {
                    let key = crate::core::state::AccessKey::new(c, ns, "patch", res);
                    crate::core::access::record(s, key, true);
                }
            },
            |s| {
                let paused: DeploymentFacts = deployment("web", "frontend", true);
                let facts = ObjectFacts::Deployment(paused);
                update(
                    s,
                    Msg::Upsert {
                        cluster: "staging".into(),
                        facts,
                    },
                );
                settle(s);
            },
            |s| {
                let keys: Vec<_> = s.releases.keys().cloned().collect();
                for (i, key) in keys.into_iter().enumerate() {
                    let p = crate::core::testkit::pending(
                        &key,
                        crate::core::action::ActionKind::Pause,
                        t(0),
                    );
                    s.pending.insert(i as u64, p);
                }
            },
        ]
    }

    /// The bar and the key agree for every action key on every release of every scenario:
    /// a line marked disabled is exactly a key that opens no confirmation, and an enabled
    /// line names the action the confirmation is for.
    #[test]
    fn the_bar_and_the_keys_agree() {
        let theme = Theme::default();
        let action_rows = TABLE.iter().filter(|r| r.when.contains(&Context::Detail));
        let mut checked = 0;
        for scenario in scenarios() {
            for i in 0..fleet().view.order.len() {
                for row in action_rows.clone() {
                    let [(key, Command::Act(_))] = row.binds else {
                        continue;
                    };
                    let mut s = fleet();
                    scenario(&mut s);
                    s.view.screen = Screen::Detail;
                    s.view.selected = i;
                    let Some(r) = s.selected_release().cloned() else {
                        continue;
                    };
                    let bar = lines(&s, &r, &theme, 100);
                    let line = bar
                        .iter()
                        .map(text)
                        .find(|l| l.trim_start().starts_with(&format!("{} ", row.label)));
                    update(&mut s, Msg::Key(*key));
                    // A key the bar leaves out (not for this kind) opens nothing.
                    let Some(line) = line else {
                        assert!(s.view.modal.is_none(), "{} on {:?}", row.label, r.key);
                        checked += 1;
                        continue;
                    };
                    let modal = s.view.modal.as_ref();
                    assert_eq!(line.contains("disabled:"), modal.is_none(), "{line}");
                    if let Some(m) = modal {
                        assert!(
                            line.contains(&format!(" {:<13}", m.plan.kind.label())),
                            "{line}"
                        );
                        let typed = m.plan.needs_typed_name();
                        assert_eq!(line.contains("prod: type the name"), typed, "{line}");
                    }
                    checked += 1;
                }
            }
        }
        assert_eq!(checked, 6 * 2 * 10);
    }
}
