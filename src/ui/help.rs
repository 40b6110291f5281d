//! The help screen: the whole key map (DESIGN.md's contract), read from the key table
//! (`core::keys`), and what the marks on screen mean, scrolled by `view.help_offset`.
//! Names no key itself.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};

use super::grid;
use super::theme::Theme;
use crate::core::keys::{self, Section};
use crate::core::state::State;

/// Help lines that are not keys: what typing in the confirmation means, and the marks on
/// screen. (keys, what they mean); a `None` key starts a section.
const NOTES: &[(Option<&str>, &str)] = &[
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
        Some("◆ PROD"),
        "the selected release is on a production cluster",
    ),
    (
        Some("✗ ⚑ ▲"),
        "row: failing / needs a human (no timer) / in flight",
    ),
    (
        Some("PAGE TICKET"),
        "SLO alert level (multiwindow burn rate)",
    ),
];

/// Lines of the help text (for scrolling bounds): the key table section by section, then
/// the notes.
pub fn lines(theme: &Theme) -> Vec<Line<'static>> {
    let keys = Section::ALL.into_iter().flat_map(|section| {
        std::iter::once((None, section.title()))
            .chain(keys::help(section).map(|(k, w)| (Some(k), w)))
    });
    keys.chain(NOTES.iter().copied())
        .map(|(key, what)| match key {
            None => Line::styled(format!(" {what}"), theme.table_header),
            Some(k) => Line::from(vec![
                Span::styled(format!("   {k:<14}"), theme.key),
                Span::styled(what, theme.text),
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
