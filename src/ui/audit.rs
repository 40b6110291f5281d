//! The audit screen: this console's past actions (intent and result lines), oldest first,
//! scrolled by `view.audit_offset`. Every field is escaped: targets and outcomes carry
//! text from the API server.

use std::borrow::Cow;

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::Line;

use super::grid::{self, Col};
use super::theme::Theme;
use crate::core::msg::{AuditLine, AuditStage};
use crate::core::state::State;
use crate::core::text;

fn columns(width: u16) -> Vec<Col> {
    let wide = width >= 120;
    let mut cols = vec![
        Col::left(
            if wide { "TIME (UTC)" } else { "TIME" },
            if wide { 19 } else { 8 },
        ),
        Col::left("STAGE", 6),
        Col::middle("CLUSTER", if wide { 14 } else { 9 }),
        Col::middle("TARGET", if wide { 36 } else { 22 }),
        Col::left("ACTION", if wide { 12 } else { 8 }),
        Col::left("OUTCOME", 0),
    ];
    grid::fill_last(&mut cols, width as usize, 8);
    cols
}

pub fn render(frame: &mut Frame, area: Rect, state: &State, theme: &Theme) {
    if area.height == 0 {
        return;
    }
    let cols = columns(area.width);
    let wide = area.width >= 120;
    let rows = area.height.saturating_sub(2) as usize;
    let len = state.audit.len();
    // Scroll, but keep the page full once the end is reached.
    let start = state.view.audit_offset.min(len.saturating_sub(rows));
    let extra = vec![ratatui::text::Span::styled(
        format!(
            " {len} lines · {}–{} ",
            (start + 1).min(len),
            (start + rows).min(len)
        ),
        theme.border,
    )];
    let mut lines = vec![
        grid::title_bar("Audit log", extra, true, theme, area.width),
        grid::header_row(&cols, theme.table_header),
    ];
    for a in state.audit.iter().skip(start).take(rows) {
        lines.push(audit_row(a, &cols, wide, theme));
    }
    if len == 0 {
        lines.push(Line::styled(
            "  no actions recorded yet: confirmed actions appear here with their outcome",
            theme.dim,
        ));
    }
    grid::draw_lines(frame, area, lines);
}

fn audit_row<'a>(a: &'a AuditLine, cols: &[Col], wide: bool, theme: &Theme) -> Line<'a> {
    let time = if wide {
        a.at.strftime("%Y-%m-%d %H:%M:%S").to_string()
    } else {
        a.at.strftime("%H:%M:%S").to_string()
    };
    let outcome_style = if a.outcome.starts_with("applied") {
        theme.phase_healthy
    } else if a.outcome.is_empty() || a.stage == AuditStage::Intent {
        theme.text
    } else {
        theme.notice_warn
    };
    let cells = vec![
        (Cow::Owned(time), theme.dim),
        (a.stage.as_str().into(), theme.text),
        (text::escape(&a.cluster), theme.text),
        (text::escape(&a.target), theme.text),
        (text::escape(&a.action), theme.key),
        (text::escape(&a.outcome), outcome_style),
    ];
    grid::row(cols, cells)
}
