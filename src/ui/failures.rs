//! The failures feed: newest first, de-duplicated by the core, with count, age, cluster,
//! object, reason and message (all escaped). Only the visible window is built.

use std::borrow::Cow;

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};

use super::grid::{self, Col};
use super::{fmt, theme::Theme};
use crate::core::layout;
use crate::core::model::Failure;
use crate::core::state::{Panel, Screen, State};
use crate::core::text;

fn columns(width: u16) -> Vec<Col> {
    let mut cols = if width < 96 {
        vec![
            Col::right("Failures", 8),
            Col::right("age", 4),
            Col::middle("cluster", 9),
            Col::middle("object", 20),
            Col::left("reason", 14),
            Col::left("message", 0),
        ]
    } else if width < 140 {
        vec![
            Col::right("Failures", 8),
            Col::right("age", 4),
            Col::middle("cluster", 10),
            Col::middle("object", 26),
            Col::left("reason", 16),
            Col::left("message", 0),
        ]
    } else {
        vec![
            Col::right("Failures", 8),
            Col::right("age", 4),
            Col::middle("cluster", 12),
            Col::middle("namespace", 12),
            Col::middle("object", 28),
            Col::left("reason", 22),
            Col::left("message", 0),
        ]
    };
    grid::fill_last(&mut cols, width as usize, 8);
    cols
}

pub fn render(frame: &mut Frame, area: Rect, state: &State, theme: &Theme) {
    if area.height == 0 {
        return;
    }
    let focused = state.view.screen == Screen::Home && state.view.panel == Panel::Failures;
    let cols = columns(area.width.saturating_sub(2));
    let style = if focused {
        theme.border_focus
    } else {
        theme.table_header
    };
    let items = state.failures.items();
    let shown = &state.view.shown.failures;
    let rows = area.height.saturating_sub(1) as usize;
    let sel = state.view.failure_selected;
    // Newest first: what is scrolled away above is newer. Only the failures the filter and
    // the cluster chooser show (`core::filter`).
    let paging = layout::paging(shown.len(), 0, sel, rows, shown.len());
    let window = paging.shown.clone();
    let wide = area.width >= 120;
    let title = grid::header_title(&cols, style, focused, |room| {
        if shown.is_empty() {
            return Vec::new();
        }
        grid::position(&paging, "newer", wide, room, theme)
    });
    let mut lines = vec![title];
    for f in shown[window.clone()].iter().filter_map(|i| items.get(*i)) {
        let mut line = failure_row(state, f, &cols, theme);
        line.spans.insert(0, Span::raw("  "));
        lines.push(line);
    }
    if items.is_empty() {
        lines.push(Line::styled("  no failures seen", theme.dim));
    } else if shown.is_empty() {
        lines.push(Line::styled(
            "  no failure for the releases shown",
            theme.dim,
        ));
    }
    grid::draw_lines(frame, area, lines);
    if focused && window.contains(&sel) {
        let row = grid::row_rect(area, sel - window.start + 1);
        frame.buffer_mut().set_style(row, theme.selected);
    }
}

fn failure_row<'a>(state: &State, f: &'a Failure, cols: &[Col], theme: &Theme) -> Line<'a> {
    let wide = cols.len() == 7;
    let mut cells: Vec<grid::Cell> = vec![
        (Cow::Owned(format!("×{}", f.count)), theme.text),
        (
            Cow::Owned(fmt::age(state.now, Some(f.last_seen))),
            theme.dim,
        ),
        (text::escape(&f.cluster), theme.text),
    ];
    if wide {
        cells.push((text::escape(&f.namespace), theme.text));
    }
    cells.push((text::escape(&f.object), theme.text));
    cells.push((text::escape(&f.reason), theme.phase_degraded));
    cells.push((f.message.shown(), theme.text));
    grid::row(cols, cells)
}

/// Failures about one release (for the detail screen): same cluster and namespace, and
/// an object name containing the release's name (its pods, ReplicaSets, analysis runs).
pub fn for_release<'a>(
    state: &'a State,
    r: &crate::core::model::Release,
) -> impl Iterator<Item = &'a Failure> {
    let key = r.key.clone();
    state.failures.items().iter().filter(move |f| {
        f.cluster == key.cluster && f.namespace == key.namespace && f.object.contains(&key.name)
    })
}
