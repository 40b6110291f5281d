//! The cluster chooser: every configured cluster with [x] shown / [ ] hidden, its
//! connection, labels and read-only flag; the cursor is `view.cluster_cursor`. Names are
//! escaped and padded by display width, so wide (CJK, emoji) names keep the columns aligned.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};

use super::grid;
use super::theme::Theme;
use crate::core::state::State;
use crate::core::text;

pub fn render(frame: &mut Frame, area: Rect, state: &State, theme: &Theme) {
    if area.height == 0 {
        return;
    }
    let extra = vec![Span::styled(
        " — space/x toggle · a show all · Enter/Esc done ",
        theme.border,
    )];
    let mut lines = vec![grid::title_bar(
        "Clusters shown",
        extra,
        true,
        theme,
        area.width,
    )];
    let rows = area.height.saturating_sub(1) as usize;
    let cursor = state.view.cluster_cursor;
    let window = grid::window(state.clusters.len(), 0, cursor, rows);
    let name_w = state
        .clusters
        .iter()
        .map(|c| text::width(&text::escape(&c.name)))
        .max()
        .unwrap_or(8)
        .min(40);
    for (i, c) in state
        .clusters
        .iter()
        .enumerate()
        .skip(window.start)
        .take(rows)
    {
        let shown = !state.view.hidden_clusters.contains(&c.name);
        let mark = if shown { "[x]" } else { "[ ]" };
        let pointer = if i == cursor { "▸ " } else { "  " };
        let labels: Vec<String> = c
            .labels
            .iter()
            .map(|(k, v)| format!("{}={}", text::escape(k), text::escape(v)))
            .collect();
        let mut spans = vec![
            Span::styled(format!("{pointer}{mark} "), theme.key),
            Span::raw(format!("{}  ", text::pad(&text::escape(&c.name), name_w))),
            Span::raw(format!("{:<14}", c.connection.label(state.now))),
            Span::styled(labels.join(" "), theme.dim),
        ];
        if c.read_only {
            spans.push(Span::styled("  read-only", theme.readonly));
        }
        lines.push(Line::from(spans));
    }
    if state.clusters.is_empty() {
        lines.push(Line::styled("  no clusters configured", theme.dim));
    }
    grid::draw_lines(frame, area, lines);
    if window.contains(&cursor) {
        let row = grid::row_rect(area, cursor - window.start + 1);
        frame.buffer_mut().set_style(row, theme.selected);
    }
}
