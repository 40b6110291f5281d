//! The SLO panel: per SLO its budget remaining, burn per window, a trend sparkline and the
//! alert level. Missing data is written as "?" / "unknown since HH:MM", never as 0.

use std::borrow::Cow;

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};

use super::grid::{self, Col};
use super::{fmt, theme::Theme};
use crate::core::model::{AlertLevel, BurnWindow, SloStatus};
use crate::core::state::{Panel, Screen, State};
use crate::core::{slo, text};

/// Windows shown, shortest first (2h is used by a ticket rule but left out for space).
pub const WINDOWS: [BurnWindow; 6] = [
    BurnWindow::M5,
    BurnWindow::M30,
    BurnWindow::H1,
    BurnWindow::H6,
    BurnWindow::D1,
    BurnWindow::D3,
];

fn columns(width: u16) -> Vec<Col> {
    let (name, burn, trend) = match width {
        0..90 => (13, 5, 5),
        90..130 => (22, 5, 8),
        _ => (24, 6, 16),
    };
    let mut cols = vec![Col::left("SLOs", name), Col::right("budget", 7)];
    for w in WINDOWS {
        cols.push(Col::right(w.as_str(), burn));
    }
    cols.push(Col::left("trend", trend));
    cols.push(Col::left("alert", 0));
    grid::fill_last(&mut cols, width as usize, 6);
    cols
}

pub fn render(frame: &mut Frame, area: Rect, state: &State, theme: &Theme) {
    if area.height == 0 {
        return;
    }
    let focused = state.view.screen == Screen::Home && state.view.panel == Panel::Slos;
    let cols = columns(area.width.saturating_sub(2));
    let rows = area.height.saturating_sub(1) as usize;
    let sel = state.view.slo_selected;
    // Only the SLOs the filter and the cluster chooser show (`core::filter`).
    let window = grid::window(state.view.shown.slos.len(), 0, sel, rows);
    let mut lines = vec![title(state, &cols, &window, area.width, focused, theme)];
    for s in state.shown_slos().skip(window.start).take(window.len()) {
        let mut line = slo_row(s, &cols, theme);
        line.spans.insert(0, Span::raw("  "));
        lines.push(line);
    }
    if state.slos.is_empty() {
        lines.push(Line::styled("  no SLOs configured", theme.dim));
    } else if state.view.shown.slos.is_empty() {
        lines.push(Line::styled("  no SLO for the releases shown", theme.dim));
    }
    grid::draw_lines(frame, area, lines);
    if focused && window.contains(&sel) {
        let row = grid::row_rect(area, sel - window.start + 1);
        frame.buffer_mut().set_style(row, theme.selected);
    }
}

/// The title bar doubles as the column header, saving a line at 80x24; the window's place
/// ("1–3 of 5", "↑ 1 more urgent": SLOs alerting above it) ends the last column's title.
fn title<'a>(
    state: &State,
    cols: &[Col],
    window: &std::ops::Range<usize>,
    width: u16,
    focused: bool,
    theme: &Theme,
) -> Line<'a> {
    let style = if focused {
        theme.border_focus
    } else {
        theme.table_header
    };
    let alerting = |s: &&SloStatus| matches!(s.alert, AlertLevel::Page | AlertLevel::Ticket);
    let paging = crate::core::layout::Paging {
        shown: window.clone(),
        total: state.view.shown.slos.len(),
        urgent_above: state.shown_slos().take(window.start).filter(alerting).count(),
    };
    grid::header_title(cols, style, focused, |room| {
        if paging.total == 0 {
            return Vec::new();
        }
        grid::position(&paging, "more urgent", width >= 120, room, theme)
    })
}

fn slo_row<'a>(s: &'a SloStatus, cols: &[Col], theme: &Theme) -> Line<'a> {
    let alert_style = theme.burn(s.alert);
    let mut cells: Vec<grid::Cell> = vec![
        (text::escape(&s.spec.name), theme.text),
        (Cow::Owned(budget(s)), budget_style(s, theme)),
    ];
    for w in WINDOWS {
        let b = s.burn.get(&w).copied().flatten();
        cells.push((Cow::Owned(fmt::burn(b)), burn_style(s, w, theme)));
    }
    let trend_w = cols
        .get(cols.len().saturating_sub(2))
        .map_or(6, |c| c.width);
    cells.push((
        Cow::Owned(fmt::sparkline(&s.trend, trend_w)),
        theme.sparkline,
    ));
    let alert_w = cols.last().map_or(0, |c| c.width);
    let long = alert_text(s, false);
    let alert = if long.chars().count() > alert_w {
        alert_text(s, true)
    } else {
        long
    };
    cells.push((Cow::Owned(alert), alert_style));
    grid::row(cols, cells)
}

/// "62.3%", or "?" while unknown (never "0%").
pub fn budget(s: &SloStatus) -> String {
    s.budget_remaining
        .map_or_else(|| "?".into(), |b| format!("{:.1}%", b * 100.0))
}

fn budget_style(s: &SloStatus, theme: &Theme) -> ratatui::style::Style {
    match s.budget_remaining {
        None => theme.burn_unknown,
        Some(b) if b <= 0.0 => theme.burn_page,
        Some(b) if b < 0.25 => theme.burn_ticket,
        Some(_) => theme.burn_ok,
    }
}

/// A window's burn takes the style of the most severe alert rule that fires with it
/// (reference/slo.md), so the firing long/short pair stands out.
fn burn_style(s: &SloStatus, w: BurnWindow, theme: &Theme) -> ratatui::style::Style {
    if s.burn.get(&w).copied().flatten().is_none() {
        return theme.burn_unknown;
    }
    let get = |w: BurnWindow| s.burn.get(&w).copied().flatten();
    let level = slo::RULES
        .iter()
        .filter(|(_, long, short, _)| *long == w || *short == w)
        .filter(|(_, long, short, factor)| {
            get(*long).is_some_and(|b| b > *factor) && get(*short).is_some_and(|b| b > *factor)
        })
        .map(|(severity, ..)| *severity)
        .max();
    match level {
        Some(l) => theme.burn(l),
        None => theme.text,
    }
}

/// PAGE / TICKET / none, or "unknown since HH:MM" while data is missing.
pub fn alert_text(s: &SloStatus, short: bool) -> String {
    match (s.alert, s.unknown_since) {
        (_, Some(since)) => {
            let prefix = if short { "unknown" } else { "unknown since" };
            format!("{prefix} {}", fmt::hour_minute(since))
        }
        (AlertLevel::Page, _) => "PAGE".into(),
        (AlertLevel::Ticket, _) => "TICKET".into(),
        (AlertLevel::None, _) => "none".into(),
        (AlertLevel::Unknown, _) => "unknown".into(),
    }
}
