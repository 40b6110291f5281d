//! The pods screen: one ReplicaSet's pods (ready n/m, status reason, restarts, last
//! termination, node, age), then the selected pod's containers — waiting/terminated reason
//! and message, last termination with exit code and when — and its events, newest first.
//! Renders from `State::view.pods` and the detail's events only.

use std::borrow::Cow;

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};

use super::grid::{self, Col};
use super::{fmt, theme::Theme};
use crate::core::inspect::{self, PodsView};
use crate::core::kinds::pod::{ContainerState, PodFacts, Termination};
use crate::core::state::State;
use crate::core::text;

pub fn render(frame: &mut Frame, area: Rect, state: &State, theme: &Theme) {
    let Some(view) = state.view.pods.as_ref() else {
        let msg = "  no pods screen open — Esc goes back";
        grid::draw_lines(frame, area, vec![Line::styled(msg, theme.dim)]);
        return;
    };
    let table_h = (view.pods.len() as u16 + 3).clamp(4, (area.height / 2).max(4));
    let top = Rect {
        height: table_h.min(area.height),
        ..area
    };
    let bottom = Rect {
        y: area.y + top.height,
        height: area.height.saturating_sub(top.height),
        ..area
    };
    grid::draw_lines(frame, top, table(state, view, theme, top.width, top.height));
    grid::draw_lines(frame, bottom, selected(state, view, theme, bottom.width));
}

fn columns(width: u16) -> Vec<Col> {
    let mut cols = vec![
        Col::middle("POD", 20),
        Col::left("READY", 5),
        Col::left("STATUS", 17),
        Col::right("RESTARTS", 8),
        Col::left("LAST TERMINATION", 18),
    ];
    if width >= 100 {
        cols.push(Col::left("NODE", 16));
    }
    cols.push(Col::right("AGE", 5));
    // The pod's name takes what is left.
    let rest: usize = cols.iter().skip(1).map(|c| c.width + 1).sum();
    cols[0].width = (width as usize).saturating_sub(rest + 2).max(12);
    cols
}

fn last_text(now: jiff::Timestamp, t: Option<&Termination>) -> String {
    t.map_or_else(
        || "-".into(),
        |t| {
            format!(
                "{} exit {} {}",
                t.reason.shown(),
                t.exit_code,
                fmt::age(now, t.finished)
            )
        },
    )
}

fn table<'a>(
    state: &'a State,
    v: &'a PodsView,
    theme: &Theme,
    width: u16,
    height: u16,
) -> Vec<Line<'a>> {
    let q = &v.query;
    let extra = vec![Span::styled(
        format!(
            " of {}/{} · {} · {} · {} pod{}",
            text::escape(&q.namespace),
            text::escape(&q.replicaset),
            text::escape(&q.cluster),
            text::escape(&q.selector),
            v.pods.len(),
            if v.pods.len() == 1 { "" } else { "s" }
        ),
        theme.dim,
    )];
    let mut lines = vec![grid::title_bar("Pods", extra, true, theme, width)];
    if let Some(e) = &v.error {
        lines.push(Line::styled(
            format!("  {}", e.shown()),
            theme.phase_degraded,
        ));
    }
    if !v.listed {
        lines.push(Line::styled("  listing pods…", theme.dim));
        return lines;
    }
    if v.pods.is_empty() {
        lines.push(Line::styled(
            "  no pods (scaled to zero, or all gone)",
            theme.dim,
        ));
        return lines;
    }
    let cols = columns(width);
    lines.push(grid::header_row(&cols, theme.table_header));
    let room = (height as usize).saturating_sub(lines.len()).max(1);
    let start = v.selected.saturating_sub(room.saturating_sub(1));
    for (i, p) in v.pods.iter().enumerate().skip(start).take(room) {
        let (ready, all) = p.ready();
        let status_style = if p.failing() {
            theme.phase_degraded
        } else {
            theme.phase_healthy
        };
        let mut cells: Vec<grid::Cell<'a>> = vec![
            (text::escape(&p.name), Style::default()),
            (Cow::Owned(format!("{ready}/{all}")), Style::default()),
            (text::escape(p.status()), status_style),
            (Cow::Owned(p.restarts().to_string()), Style::default()),
            (
                Cow::Owned(last_text(state.now, p.last_termination())),
                theme.dim,
            ),
        ];
        if cols.len() == 7 {
            cells.push((text::escape(&p.node), theme.dim));
        }
        cells.push((Cow::Owned(fmt::age(state.now, p.created)), theme.dim));
        let mut line = grid::row(&cols, cells);
        if i == v.selected {
            line = line.style(theme.selected);
        }
        lines.push(line);
    }
    lines
}

fn container_state(s: &ContainerState) -> (String, String) {
    match s {
        ContainerState::Running { .. } => ("Running".into(), String::new()),
        ContainerState::Waiting { reason, message } => (
            format!("waiting {}", reason.shown()),
            message.shown().into_owned(),
        ),
        ContainerState::Terminated {
            reason,
            message,
            exit_code,
        } => (
            format!("terminated {} exit {exit_code}", reason.shown()),
            message.shown().into_owned(),
        ),
        ContainerState::Unknown => ("no status yet".into(), String::new()),
    }
}

/// The selected pod's containers and events.
fn selected<'a>(state: &'a State, v: &'a PodsView, theme: &Theme, width: u16) -> Vec<Line<'a>> {
    let Some(p) = v.selected_pod() else {
        return Vec::new();
    };
    let mut lines = vec![super::detail::section_title("Containers", theme, width)];
    lines.extend(containers(state, p, theme));
    lines.push(super::detail::section_title(
        "Events of this pod",
        theme,
        width,
    ));
    let mut any = false;
    for e in inspect::events_of(state, &p.name).take(30) {
        any = true;
        lines.push(super::detail::event_line(state, e, theme, false));
    }
    if !any {
        let text = match state.view.events.as_ref() {
            Some(ev) if ev.error.is_some() => ev
                .error
                .as_ref()
                .map(|e| format!("  {}", e.shown()))
                .unwrap_or_default(),
            Some(ev) if !ev.listed => "  listing events…".into(),
            _ => "  none recorded (events expire after an hour)".into(),
        };
        lines.push(Line::styled(text, theme.dim));
    }
    lines
}

fn containers<'a>(state: &State, p: &PodFacts, theme: &Theme) -> Vec<Line<'a>> {
    let mut lines = Vec::new();
    if p.containers.is_empty() && !p.reason.is_empty() {
        lines.push(Line::styled(
            format!("  {} {}", p.reason.shown(), p.message.shown()),
            theme.phase_degraded,
        ));
    }
    for c in &p.containers {
        let (st, message) = container_state(&c.state);
        let style = if c.ready {
            theme.phase_healthy
        } else {
            theme.phase_degraded
        };
        lines.push(Line::from(vec![
            Span::raw(format!("  {} ", text::escape(&c.name))),
            Span::styled(st, style),
            Span::styled(
                format!(" · restarts {} · {}", c.restarts, text::escape(&c.image)),
                theme.dim,
            ),
        ]));
        if !message.is_empty() {
            lines.push(Line::raw(format!("    {message}")));
        }
        if let Some(t) = &c.last {
            lines.push(Line::styled(
                format!("    last termination: {}", last_text(state.now, Some(t))),
                theme.dim,
            ));
        }
    }
    if !p.node.is_empty() {
        lines.push(Line::styled(
            format!(
                "  node {} · phase {}",
                text::escape(&p.node),
                text::escape(&p.phase)
            ),
            theme.dim,
        ));
    }
    lines
}
