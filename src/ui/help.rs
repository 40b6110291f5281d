//! The help screen: the whole key map (DESIGN.md's contract) and what the marks on screen
//! mean, scrolled by `view.help_offset`.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};

use super::grid;
use super::theme::Theme;
use crate::core::state::State;

/// (keys, what they do); a `None` key starts a section.
const KEYS: &[(Option<&str>, &str)] = &[
    (None, "Move"),
    (Some("j / k, ↓ / ↑"), "move the selection"),
    (Some("PgDn / PgUp"), "move a page"),
    (Some("g / G"), "first / last"),
    (Some("Tab"), "next panel (releases, SLOs, failures)"),
    (Some("Enter"), "open the selected release's detail"),
    (Some("Esc"), "back; close the modal; clear the filter"),
    (None, "Views"),
    (
        Some("/"),
        "filter by cluster, namespace, name, status (Esc clears)",
    ),
    (Some("c"), "choose the clusters shown"),
    (Some("L"), "audit log of this console's actions"),
    (Some("?"), "this help"),
    (Some("q, Ctrl-c"), "quit (restores the terminal)"),
    (
        None,
        "Actions on the selected release (each opens a confirmation)",
    ),
    (Some("space"), "pause / resume (manual pause)"),
    (
        Some("p"),
        "promote / resume: go to the next step (releases a step pause)",
    ),
    (
        Some("P"),
        "promote fully: skip the remaining steps and analysis",
    ),
    (
        Some("a"),
        "abort (weight back to 0; the template keeps the new version)",
    ),
    (Some("R"), "retry an aborted rollout"),
    (Some("u"), "undo: roll back to the previous revision"),
    (Some("r"), "restart pods"),
    (None, "In the confirmation"),
    (Some("y"), "confirm"),
    (Some("n, Esc"), "cancel"),
    (
        Some("Tab"),
        "move focus between Cancel and Confirm (focus starts on Cancel)",
    ),
    (Some("Enter"), "activate the focused button"),
    (
        Some("(typing)"),
        "destructive actions on prod clusters (abort, undo, promote-full) need the object name typed; y and n are then text",
    ),
    (
        Some("(gate)"),
        "promote while the service's SLO pages needs the service name typed",
    ),
    (None, "What the marks mean"),
    (Some("▸"), "the focused panel / button"),
    (Some("▶ ✓"), "current step / done step"),
    (Some("?"), "unknown (no data) — never shown as 0"),
    (
        Some("cluster?"),
        "rows from a cluster not heard from lately (stale)",
    ),
    (Some("N▲ N✗"), "releases in flight / failing on a cluster"),
    (
        Some("▲ PROD"),
        "the selected release is on a production cluster",
    ),
    (
        Some("PAGE TICKET"),
        "SLO alert level (multiwindow burn rate)",
    ),
];

/// Lines of the help text (for scrolling bounds).
pub fn lines(theme: &Theme) -> Vec<Line<'static>> {
    KEYS.iter()
        .map(|(key, what)| match key {
            None => Line::styled(format!(" {what}"), theme.table_header),
            Some(k) => Line::from(vec![
                Span::styled(format!("   {k:<14}"), theme.key),
                Span::styled(*what, theme.text),
            ]),
        })
        .collect()
}

pub fn render(frame: &mut Frame, area: Rect, state: &State, theme: &Theme) {
    if area.height == 0 {
        return;
    }
    let all = lines(theme);
    let rows = area.height.saturating_sub(1) as usize;
    let start = state.view.help_offset.min(all.len().saturating_sub(rows));
    let more = if start + rows < all.len() {
        " · j/k scroll"
    } else {
        ""
    };
    let extra = vec![Span::styled(format!(" — keys{more}"), theme.border)];
    let mut out = vec![grid::title_bar("Help", extra, true, theme, area.width)];
    out.extend(all.into_iter().skip(start).take(rows));
    grid::draw_lines(frame, area, out);
}
