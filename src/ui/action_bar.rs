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

/// Lines the bar takes: its title and one per action key.
pub fn height() -> u16 {
    1 + keys::action_keys().count() as u16
}

pub fn lines<'a>(state: &State, r: &Release, theme: &Theme, width: u16) -> Vec<Line<'a>> {
    let mut lines = vec![section_title("Actions", theme, width)];
    lines.extend(keys::action_keys().map(|(key, kind)| {
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
