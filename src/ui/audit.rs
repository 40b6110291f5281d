//! The audit screen: this session's actions (or every session's, `view.audit_all`), each
//! intent with its result under it, oldest first, scrolled by `view.audit_offset`; the
//! title says which and names the file records go to. Every field is escaped: targets and
//! outcomes carry text from the API server.

use std::borrow::Cow;

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};

use super::grid::{self, Col};
use super::theme::Theme;
use crate::core::audit;
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
    let len = audit::visible_len(state);
    // Scroll, but keep the page full once the end is reached.
    let start = state.view.audit_offset.min(len.saturating_sub(rows));
    let lines_word = if len == 1 { "line" } else { "lines" };
    let mut extra = vec![Span::styled(
        format!(
            " {len} {lines_word} · {}–{} ",
            (start + 1).min(len),
            (start + rows).min(len)
        ),
        theme.border,
    )];
    let file = state.audit_file.describe(wide);
    if !file.is_empty() {
        let style = if state.audit_file.warns() {
            theme.notice_warn
        } else {
            theme.border
        };
        extra.push(Span::styled(format!(" {} ", text::escape(&file)), style));
    }
    let name = if state.view.audit_all {
        "Audit log · all sessions"
    } else {
        "Audit log · this session"
    };
    let mut lines = vec![
        grid::title_bar(name, extra, true, theme, area.width),
        grid::header_row(&cols, theme.table_header),
    ];
    for a in audit::visible(state).skip(start).take(rows) {
        lines.push(audit_row(a, &cols, wide, theme));
    }
    if len == 0 {
        let empty = if state.view.audit_all {
            "  no actions recorded yet: confirmed actions appear here with their outcome"
        } else {
            "  no actions in this session yet: confirmed actions appear here with their outcome"
        };
        lines.push(Line::styled(empty, theme.dim));
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
