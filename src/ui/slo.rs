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
    let (name, burn) = match width {
        0..90 => (13, 5),
        90..130 => (22, 5),
        _ => (24, 6),
    };
    // The trend takes what the name, budget and windows leave, keeping room for the alert
    // ("unknown since HH:MM"), so it can show its range beside the bars when it fits.
    let fixed = 2 + (name + 1) + 8 + WINDOWS.len() * (burn + 1) + 1 + 19;
    let trend = if width < 90 {
        5
    } else {
        (width as usize).saturating_sub(fixed).clamp(8, 24)
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
        urgent_above: state
            .shown_slos()
            .take(window.start)
            .filter(alerting)
            .count(),
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
    cells.push((Cow::Owned(trend(&s.trend, trend_w)), theme.sparkline));
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

/// A window's burn takes the style of its own level (`slo::window_level`: the factors of
/// the rules that window takes part in), so a hot window shows before its rule fires.
pub fn burn_style(s: &SloStatus, w: BurnWindow, theme: &Theme) -> ratatui::style::Style {
    theme.burn_level(slo::window_level(w, s.burn.get(&w).copied().flatten()))
}

/// The style of a single burn cell that stands for the whole SLO (the releases table's
/// 1h column): its window's own level, raised to the level of any rule that fires.
pub fn summary_burn_style(s: &SloStatus, w: BurnWindow, theme: &Theme) -> ratatui::style::Style {
    let own = slo::window_level(w, s.burn.get(&w).copied().flatten());
    theme.burn_level(own.map(|l| l.max(slo::firing_level(&s.burn))))
}

/// Bars of a text sparkline, lowest first.
const BARS: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];

/// The last `width` trend points as bars scaled between their own minimum and maximum, so a
/// trend is visible at any level (a high, steady burn is not a flat row of full bars). A
/// log scale would still squash 13.5x→14.4x (the climb to a page) into one bar; what the
/// on-call needs from a trend is its direction, and the absolute level is in the burn
/// cells and the range label. The span is never taken below 3 % of the largest value, so
/// jitter on a steady value stays a flat line in the middle instead of swinging from
/// bottom to top (the trend is the 1h window, which moves slowly between evaluations).
pub fn sparkline(values: &[f64], width: usize) -> String {
    let shown = &values[values.len().saturating_sub(width)..];
    let Some((lo, hi)) = range(shown) else {
        return shown.iter().map(|_| BARS[0]).collect();
    };
    if hi <= 0.0 {
        return shown.iter().map(|_| BARS[0]).collect();
    }
    // A floored span puts the middle of the values on the middle bar (4 of 0..=7).
    let least = hi * 0.03;
    let (floor, span) = if hi - lo >= least {
        (lo, hi - lo)
    } else {
        ((lo + hi) / 2.0 - least * 4.0 / 7.0, least)
    };
    shown
        .iter()
        .map(|v| {
            if !v.is_finite() {
                return BARS[0];
            }
            let i = ((v - floor) / span * (BARS.len() - 1) as f64).round();
            BARS[(i.max(0.0) as usize).min(BARS.len() - 1)]
        })
        .collect()
}

/// (min, max) of the finite values, if any.
fn range(values: &[f64]) -> Option<(f64, f64)> {
    values
        .iter()
        .copied()
        .filter(|v| v.is_finite())
        .fold(None, |acc, v| match acc {
            None => Some((v, v)),
            Some((lo, hi)) => Some((lo.min(v), hi.max(v))),
        })
}

/// A burn for the range label, as short as it can be read: 0.3, 6.3, 13, 140.
fn short_burn(b: f64) -> String {
    if b < 10.0 {
        format!("{b:.1}")
    } else {
        format!("{b:.0}")
    }
}

/// The sparkline of the last points that fit in `width` columns, followed by the range of
/// what it shows (`▂▃▅▇█ 6.3–13x`) when there is room for at least six bars beside it.
pub fn trend(values: &[f64], width: usize) -> String {
    const MIN_BARS: usize = 6;
    let label_for = |n: usize| {
        range(&values[values.len().saturating_sub(n)..]).map(|(lo, hi)| {
            let (a, b) = (short_burn(lo), short_burn(hi));
            if a == b && lo != hi {
                // 14–14x says nothing: show the tenths that differ.
                format!("{lo:.1}–{hi:.1}x")
            } else {
                format!("{a}–{b}x")
            }
        })
    };
    // The label's width decides how many points are shown, and those decide the label:
    // size the bars by the label of every point that could be shown, then check the label
    // of the points actually shown still fits.
    let fitted = label_for(width).and_then(|widest| {
        let bars = width.checked_sub(widest.chars().count() + 1)?;
        let label = label_for(bars)?;
        (bars >= MIN_BARS && bars + 1 + label.chars().count() <= width)
            .then(|| format!("{} {label}", sparkline(values, bars)))
    });
    fitted.unwrap_or_else(|| sparkline(values, width))
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_high_steady_rising_burn_shows_its_trend() {
        // 12x rising to 14x: scaled to the largest value it was a flat row of full bars.
        let rising: Vec<f64> = (0..8).map(|i| 12.0 + f64::from(i) * 2.0 / 7.0).collect();
        assert_eq!(sparkline(&rising, 8), "▁▂▃▄▅▆▇█");
        let falling: Vec<f64> = rising.iter().rev().copied().collect();
        assert_eq!(sparkline(&falling, 8), "█▇▆▅▄▃▂▁");
    }

    #[test]
    fn noise_on_a_steady_value_stays_flat() {
        // ±0.12 % around 13x: well inside the least span (3 %), so no bar swings.
        let steady = [13.0, 13.01, 12.99, 13.0, 13.015, 12.985];
        let bars = sparkline(&steady, 6);
        let distinct: std::collections::BTreeSet<char> = bars.chars().collect();
        assert_eq!(distinct.len(), 1, "{bars}");
        assert_eq!(sparkline(&[0.0, 0.0, 0.0], 3), "▁▁▁");
        assert_eq!(sparkline(&[5.0; 3], 3), "▅▅▅");
    }

    #[test]
    fn shows_the_last_points_and_survives_bad_values() {
        assert_eq!(sparkline(&[1.0, 2.0, 3.0, 4.0], 2).chars().count(), 2);
        assert_eq!(sparkline(&[], 5), "");
        assert_eq!(sparkline(&[f64::NAN, 1.0, 2.0], 3), "▁▁█");
    }

    #[test]
    fn trend_adds_the_range_when_there_is_room() {
        let values: Vec<f64> = (0..60).map(|i| 6.3 + f64::from(i) * 0.1).collect();
        let t = trend(&values, 24);
        assert!(t.chars().count() <= 24, "{t}");
        assert!(t.ends_with(" 11–12x"), "{t}");
        // Too narrow for six bars and a label: bars only.
        let narrow = trend(&values, 8);
        assert_eq!(narrow.chars().count(), 8);
        assert!(!narrow.contains('x'), "{narrow}");
        let small = trend(&[0.21, 0.34], 16);
        assert!(small.ends_with(" 0.2–0.3x"), "{small}");
        // The climb to a page: 13.5x to 14.4x is a visible rise, and its range keeps the
        // tenths that differ.
        let climb: Vec<f64> = (0..13).map(|i| 13.5 + f64::from(i) * 0.9 / 12.0).collect();
        let t = trend(&climb, 24);
        assert!(t.starts_with('▁') && t.contains('█'), "{t}");
        assert!(t.ends_with(" 13.5–14.4x"), "{t}");
    }
}
