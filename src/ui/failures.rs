//! The failures feed: newest first, de-duplicated by the core, with count, age, cluster,
//! object, reason and message (all escaped). The message takes the width the other columns
//! leave, and where the panel has rows to spare (few failures, a tall terminal) a row wraps
//! onto up to three lines (`core::layout::failure_message_lines`); a message still cut
//! makes the column's title say that `m` shows it in full. Only the visible window is built.

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

/// The columns for the panel's inner width (`core::layout::failure_widths`); `title` is
/// the message column's (it carries the `m` hint when a message is cut).
fn columns(width: u16, title: &'static str) -> Vec<Col> {
    let w = layout::failure_widths(width);
    let mut cols = vec![
        Col::right("Failures", w[0]),
        Col::right("age", w[1]),
        Col::middle("cluster", w[2]),
    ];
    if w.len() == 6 {
        cols.push(Col::middle("namespace", w[3]));
    }
    cols.push(Col::middle("object", w[w.len() - 2]));
    cols.push(Col::left("reason", w[w.len() - 1]));
    cols.push(Col::left(title, 0));
    grid::fill_last(&mut cols, width as usize, 8);
    cols
}

/// The message column's title: says `m` opens the full message when one shown is cut, in
/// words that leave the title's position ("1–6 of 6") its room.
fn message_title(cut: bool, room: usize) -> &'static str {
    const POSITION: usize = 10;
    if !cut {
        return "message";
    }
    let said = ["message · m: full message", "m: full message", "m: full"];
    said.into_iter()
        .find(|t| text::width(t) + POSITION <= room)
        .unwrap_or("m: full")
}

pub fn render(frame: &mut Frame, area: Rect, state: &State, theme: &Theme) {
    if area.height == 0 {
        return;
    }
    let focused = state.view.screen == Screen::Home && state.view.panel == Panel::Failures;
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
    // Rows the window leaves free let messages wrap, newest first (`core::layout`).
    let t = layout::failure_text(area.width);
    let mut spare = rows.saturating_sub(window.len());
    let mut laid = Vec::with_capacity(window.len());
    let mut cut = false;
    for f in shown[window.clone()].iter().filter_map(|i| items.get(*i)) {
        let max = (1 + spare).min(layout::FAILURE_MAX_LINES);
        let (lines, c) = layout::failure_message_lines(&f.message.shown(), t, max);
        spare -= lines.len() - 1;
        cut |= c;
        laid.push((f, lines));
    }
    let title_room = t.first;
    let cols = columns(
        area.width.saturating_sub(layout::FAILURE_LEAD),
        message_title(cut, title_room),
    );
    let wide = area.width >= 120;
    let title = grid::header_title(&cols, style, focused, |room| {
        if shown.is_empty() {
            return Vec::new();
        }
        grid::position(&paging, "newer", wide, room, theme)
    });
    let mut lines = vec![title];
    let mut selected_lines = None;
    for (i, (f, message)) in laid.into_iter().enumerate() {
        if window.start + i == sel {
            selected_lines = Some((lines.len(), message.len()));
        }
        let mut rest = message.into_iter();
        let first = rest.next().unwrap_or_default();
        let mut line = failure_row(state, f, first, &cols, theme);
        line.spans.insert(0, Span::raw("  "));
        lines.push(line);
        for more in rest {
            lines.push(Line::from(vec![
                Span::raw(" ".repeat(t.rest_x)),
                Span::styled(more, theme.text),
            ]));
        }
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
    if focused && let Some((at, n)) = selected_lines {
        for k in 0..n {
            let row = grid::row_rect(area, at + k);
            frame.buffer_mut().set_style(row, theme.selected);
        }
    }
}

fn failure_row<'a>(
    state: &State,
    f: &'a Failure,
    message: String,
    cols: &[Col],
    theme: &Theme,
) -> Line<'a> {
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
    cells.push((Cow::Owned(message), theme.text));
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
