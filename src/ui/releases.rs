//! The releases table: most urgent first (the core's `view.order`). Rows are built only
//! for the visible window; columns are chosen by terminal width (80 columns keeps cluster,
//! name, phase, step, weight, burn, age and a short message; wide terminals add kind,
//! strategy and analysis and give the message the rest).

use std::borrow::Cow;

use ratatui::Frame;
use ratatui::layout::{Position, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use unicode_width::UnicodeWidthStr;

use super::grid::{self, Col};
use super::{fmt, marks, theme::Theme};
use crate::core::facts::AnalysisPhase;
use crate::core::layout::{self, Paging};
use crate::core::model::{Connection, Release};
use crate::core::state::{Panel, Screen, State};
use crate::core::text;

/// Which column a `Col` is, so a row can be built for any column set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Field {
    /// The row's mark (`marks::release`): failing, needs a human, in flight.
    Mark,
    Cluster,
    Name,
    Kind,
    Strategy,
    Phase,
    Step,
    Weight,
    Analysis,
    Burn,
    Age,
    Message,
}

/// Columns for a table `width` columns wide; the message takes what is left.
fn columns(width: u16) -> Vec<(Field, Col)> {
    use Field::*;
    let mut cols: Vec<(Field, Col)> = if width < 120 {
        vec![
            (Mark, Col::left("", 1)),
            (Cluster, Col::middle("CLUSTER", 10)),
            (Name, Col::middle("NAMESPACE/NAME", 16)),
            (Phase, Col::left("PHASE", 11)),
            (Step, Col::right("STEP", 5)),
            (Weight, Col::right("WEIGHT", 7)),
            (Burn, Col::right("BURN", 5)),
            (Age, Col::right("AGE", 4)),
            (Message, Col::left("MESSAGE", 0)),
        ]
    } else if width < 170 {
        vec![
            (Mark, Col::left("", 1)),
            (Cluster, Col::middle("CLUSTER", 12)),
            (Name, Col::middle("NAMESPACE/NAME", 22)),
            (Kind, Col::left("KIND", 7)),
            (Phase, Col::left("PHASE", 11)),
            (Step, Col::right("STEP", 5)),
            (Weight, Col::right("WEIGHT", 7)),
            (Analysis, Col::left("ANALYSIS", 12)),
            (Burn, Col::right("BURN 1h", 7)),
            (Age, Col::right("AGE", 4)),
            (Message, Col::left("MESSAGE", 0)),
        ]
    } else {
        vec![
            (Mark, Col::left("", 1)),
            (Cluster, Col::middle("CLUSTER", 14)),
            (Name, Col::middle("NAMESPACE/NAME", 30)),
            (Kind, Col::left("KIND", 7)),
            (Strategy, Col::left("STRATEGY", 9)),
            (Phase, Col::left("PHASE", 11)),
            (Step, Col::right("STEP", 5)),
            (Weight, Col::right("SET/ACTUAL", 10)),
            (Analysis, Col::left("ANALYSIS", 16)),
            (Burn, Col::right("BURN 1h", 7)),
            (Age, Col::right("AGE", 4)),
            (Message, Col::left("MESSAGE", 0)),
        ]
    };
    let mut just: Vec<Col> = cols.iter().map(|(_, c)| *c).collect();
    grid::fill_last(&mut just, width as usize, 8);
    for ((_, c), fitted) in cols.iter_mut().zip(just) {
        *c = fitted;
    }
    cols
}

pub fn render(frame: &mut Frame, area: Rect, state: &State, theme: &Theme) {
    if area.height == 0 {
        return;
    }
    let focused = state.view.screen == Screen::Home && state.view.panel == Panel::Releases;
    let cols = columns(area.width);
    let just: Vec<Col> = cols.iter().map(|(_, c)| *c).collect();
    let rows_h = area.height.saturating_sub(2) as usize;

    let v = &state.view;
    let paging = layout::paging(v.order.len(), v.offset, v.selected, rows_h, v.urgent);
    let window = paging.shown.clone();
    let (title, cursor) = title(state, &paging, theme, area, focused);
    let mut lines = Vec::with_capacity(rows_h + 2);
    lines.push(title);
    lines.push(grid::header_row(&just, theme.table_header));
    // Only the visible window: `order` may hold 100k keys.
    for key in &v.order[window.clone()] {
        if let Some(r) = state.releases.get(key) {
            lines.push(release_row(state, r, &cols, theme));
        }
    }
    if v.order.is_empty() {
        lines.push(Line::styled(empty_text(state), theme.dim));
    }
    grid::draw_lines(frame, area, lines);

    if window.contains(&v.selected) {
        let i = v.selected - window.start + 2;
        let style = if focused {
            theme.selected
        } else {
            // Still visible when another panel has focus, without claiming it.
            theme
                .selected
                .remove_modifier(ratatui::style::Modifier::BOLD)
        };
        frame.buffer_mut().set_style(grid::row_rect(area, i), style);
    }
    if let Some(pos) = cursor {
        frame.set_cursor_position(pos);
    }
}

fn empty_text(state: &State) -> &'static str {
    if !state.view.filter.value().is_empty() {
        "  no release matches the filter (Esc clears it)"
    } else if state
        .clusters
        .iter()
        .all(|c| matches!(c.connection, Connection::Connecting))
    {
        "  connecting to clusters…"
    } else if !state.any_answered() {
        // Nothing answered: not "all quiet" (the chooser says why each is down).
        "  no cluster answered: nothing is known (c shows why)"
    } else {
        "  nothing in flight and nothing finished recently"
    }
}

/// Title bar: focus marker, the window's place ("1–11 of 24", "↑ 3 more urgent"), filter
/// (with its cursor while editing), hidden clusters.
fn title<'a>(
    state: &'a State,
    paging: &Paging,
    theme: &Theme,
    area: Rect,
    focused: bool,
) -> (Line<'a>, Option<Position>) {
    let v = &state.view;
    // Room for the place first: what is hidden above must be said before the filter.
    let room = (area.width as usize).saturating_sub("▸ Releases ".width() + 2);
    let mut extra = vec![Span::raw(" ")];
    extra.extend(grid::position(
        paging,
        "more urgent",
        area.width >= 120,
        room,
        theme,
    ));
    let mut cursor = None;
    if v.filter_editing || !v.filter.value().is_empty() {
        let label = if v.filter_editing {
            "  filter /"
        } else {
            "  filter: "
        };
        extra.push(Span::styled(label, theme.key));
        let used: usize = "▸ Releases".width() + extra.iter().map(Span::width).sum::<usize>();
        // Room for the value; long filters scroll so the cursor stays in view.
        let room = (area.width as usize).saturating_sub(used + 8).max(8);
        let scroll = v.filter.visual_scroll(room);
        let value = text::escape(v.filter.value());
        let shown: String = value.chars().skip(scroll).collect();
        let shown = fmt::fit(&shown, room).into_owned();
        if v.filter_editing {
            let x = used + v.filter.visual_cursor().saturating_sub(scroll);
            let x = u16::try_from(x).unwrap_or(u16::MAX);
            cursor = Some(Position::new(area.x.saturating_add(x), area.y));
        }
        extra.push(Span::styled(shown, theme.input));
        if !v.filter_editing {
            extra.push(Span::styled(" (Esc clears)", theme.dim));
        }
    }
    if !v.hidden_clusters.is_empty() {
        extra.push(Span::styled(
            format!("  {} cluster(s) hidden (c)", v.hidden_clusters.len()),
            theme.dim,
        ));
    }
    (
        grid::title_bar("Releases", extra, focused, theme, area.width),
        cursor,
    )
}

fn release_row<'a>(
    state: &State,
    r: &'a Release,
    cols: &[(Field, Col)],
    theme: &Theme,
) -> Line<'a> {
    let just: Vec<Col> = cols.iter().map(|(_, c)| *c).collect();
    let cells = cols
        .iter()
        .map(|(field, _)| cell(state, r, *field, theme))
        .collect();
    grid::row(&just, cells)
}

fn cell<'a>(state: &State, r: &'a Release, field: Field, theme: &Theme) -> grid::Cell<'a> {
    let plain = theme.text;
    match field {
        Field::Mark => mark_cell(r, theme),
        Field::Cluster => cluster_cell(state, r, theme),
        Field::Name => (
            Cow::Owned(format!(
                "{}/{}",
                text::escape(&r.key.namespace),
                text::escape(&r.key.name)
            )),
            plain,
        ),
        Field::Kind => (Cow::Borrowed(r.key.kind.short()), plain),
        Field::Strategy => (Cow::Borrowed(r.strategy.as_str()), plain),
        Field::Phase => (Cow::Borrowed(r.phase.as_str()), theme.phase(r.phase)),
        Field::Step => (
            Cow::Owned(
                r.step
                    .map_or_else(|| "-".into(), |(i, n)| format!("{i}/{n}")),
            ),
            plain,
        ),
        Field::Weight => (Cow::Owned(weight(r)), plain),
        Field::Analysis => analysis_cell(r, theme),
        Field::Burn => burn_cell(state, r, theme),
        Field::Age => (
            Cow::Owned(fmt::age(state.now, r.since.or(r.created))),
            theme.dim,
        ),
        Field::Message => (message(state, r), plain),
    }
}

/// The row's mark, styled like its phase (needing a human also bold, to stand out).
fn mark_cell<'a>(r: &Release, theme: &Theme) -> grid::Cell<'a> {
    let style = theme.phase(r.phase);
    let style = if r.needs_human.is_some() {
        style.add_modifier(ratatui::style::Modifier::BOLD)
    } else {
        style
    };
    (Cow::Borrowed(marks::release(r)), style)
}

/// Rows of a cluster we have not heard from lately may be out of date: say so.
fn cluster_cell<'a>(state: &State, r: &'a Release, theme: &Theme) -> grid::Cell<'a> {
    let name = text::escape(&r.key.cluster);
    let stale = state
        .cluster(&r.key.cluster)
        .is_some_and(|c| !matches!(c.connection, Connection::Connected));
    if stale {
        (Cow::Owned(format!("{name}?")), theme.chip_warn)
    } else {
        (name, theme.text)
    }
}

fn weight(r: &Release) -> String {
    match (r.set_weight, r.actual_weight) {
        (None, None) => "-".into(),
        (s, a) => format!(
            "{}/{}",
            s.map_or("?".into(), |w| w.to_string()),
            a.map_or("?".into(), |w| w.to_string())
        ),
    }
}

pub fn analysis_style(phase: AnalysisPhase, theme: &Theme) -> Style {
    match phase {
        AnalysisPhase::Successful => theme.phase_healthy,
        AnalysisPhase::Failed | AnalysisPhase::Error => theme.phase_degraded,
        AnalysisPhase::Inconclusive => theme.phase_paused,
        AnalysisPhase::Pending | AnalysisPhase::Running | AnalysisPhase::Unknown => {
            theme.phase_progressing
        }
    }
}

fn analysis_cell<'a>(r: &Release, theme: &Theme) -> grid::Cell<'a> {
    match &r.analysis {
        Some(a) => (
            Cow::Borrowed(a.phase.as_str()),
            analysis_style(a.phase, theme),
        ),
        None => (Cow::Borrowed("-"), theme.dim),
    }
}

/// The linked SLO's 1h burn, styled by its level (`ui::slo::summary_burn_style`); "?" when
/// unknown, "-" when no SLO is linked.
fn burn_cell<'a>(state: &State, r: &Release, theme: &Theme) -> grid::Cell<'a> {
    match state.slo_for(r) {
        Some(slo) => {
            let w = crate::core::model::BurnWindow::H1;
            let b = slo.burn.get(&w).copied().flatten();
            let style = super::slo::summary_burn_style(slo, w, theme);
            (Cow::Owned(fmt::burn(b)), style)
        }
        None => (Cow::Borrowed("-"), theme.dim),
    }
}

/// The message, escaped, with a timed pause's countdown in front (it is what the operator
/// waits for).
fn message<'a>(state: &State, r: &'a Release) -> Cow<'a, str> {
    let shown = r.message.shown();
    // An owner suspended so a manual change sticks: said until it is resumed.
    let shown = match crate::core::owner::owner_state(r, &state.releases) {
        Some(crate::core::owner::OwnerState::Suspended { owner }) => Cow::Owned(format!(
            "owner suspended ({}) · {shown}",
            text::escape(&owner)
        )),
        _ => shown,
    };
    // An action sent and not yet answered comes first: the row may be about to change.
    let pending = state.pending.values().find(|p| p.key == r.key);
    let countdown = r.pause.as_ref().and_then(|p| p.remaining(state.now));
    match (pending, countdown) {
        (Some(p), _) => Cow::Owned(format!("{} sent… · {shown}", p.kind.label())),
        (None, Some(left)) => Cow::Owned(format!("{} left · {shown}", fmt::duration(left))),
        (None, None) => shown,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_fill_the_width_exactly() {
        for w in [80u16, 100, 120, 169, 170, 250] {
            let cols = columns(w);
            let total: usize = cols.iter().map(|(_, c)| c.width).sum::<usize>() + cols.len() - 1;
            assert_eq!(total, w as usize, "width {w}");
        }
    }

    #[test]
    fn eighty_columns_keep_the_essentials() {
        let fields: Vec<Field> = columns(80).into_iter().map(|(f, _)| f).collect();
        for f in [
            Field::Cluster,
            Field::Name,
            Field::Phase,
            Field::Burn,
            Field::Message,
        ] {
            assert!(fields.contains(&f));
        }
        assert!(columns(80).last().is_some_and(|(_, c)| c.width >= 12));
    }
}
