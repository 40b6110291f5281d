//! The cluster chooser: every configured cluster with [x] shown / [ ] hidden, its
//! connection, why it is down or refusing (the source's reason, escaped and fitted), labels
//! and read-only flag; the cursor is `view.cluster_cursor`. Names are
//! escaped and padded by display width, so wide (CJK, emoji) names keep the columns aligned.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};

use super::grid;
use super::theme::Theme;
use crate::core::model::{Cluster, Connection};
use crate::core::state::State;
use crate::core::text;

/// Width of the connection state column ("stale 1234s", "unreachable").
const STATE_W: usize = 13;
const READ_ONLY: &str = "  read-only";

/// Foreground only: a whole row on a red background would hide the text it explains.
fn state_style(c: &Connection, theme: &Theme) -> Style {
    match c {
        Connection::Connected => theme.chip_ok,
        Connection::Connecting | Connection::Stale { .. } => theme.chip_warn,
        Connection::Unreachable { .. } | Connection::NoAccess { .. } => theme.phase_degraded,
    }
}

/// `key=value` labels, escaped.
fn labels_of(c: &Cluster) -> String {
    let labels: Vec<String> = c
        .labels
        .iter()
        .map(|(k, v)| format!("{}={}", text::escape(k), text::escape(v)))
        .collect();
    labels.join(" ")
}

/// Why the cluster is down or refusing (escaped), which kinds it may not list (and where
/// they are read instead), and which kinds keep failing.
fn why(c: &Cluster) -> String {
    let mut parts = Vec::new();
    if let Some(r) = super::header::reason(&c.connection)
        && !r.is_empty()
    {
        parts.push(r.shown().into_owned());
    }
    parts.extend(super::header::kind_problems(c));
    parts.join(" · ")
}

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
    let labels: Vec<String> = state.clusters.iter().map(labels_of).collect();
    let labels_w = state
        .clusters
        .iter()
        .zip(&labels)
        .map(|(c, l)| text::width(l) + if c.read_only { READ_ONLY.len() } else { 0 })
        .max()
        .unwrap_or(0);
    // pointer + mark, name, state, then the reason (and forbidden kinds) and the labels.
    // The reason column is as wide as the longest reason that still leaves the labels room;
    // a longer reason takes its whole row (its labels follow if they still fit), because
    // the reason is what the operator came here for.
    let whys: Vec<String> = state.clusters.iter().map(why).collect();
    let fixed = 6 + name_w + 2 + STATE_W;
    let rest = (area.width as usize).saturating_sub(fixed);
    let longest = whys.iter().map(|w| text::width(w)).max().unwrap_or(0);
    let reason_w = longest.min(rest.saturating_sub(labels_w + 2));
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
        let style = state_style(&c.connection, theme);
        let mut spans = vec![
            Span::styled(format!("{pointer}{mark} "), theme.key),
            Span::raw(format!("{}  ", text::pad(&text::escape(&c.name), name_w))),
            Span::styled(text::pad(&c.connection.label(state.now), STATE_W), style),
        ];
        let why = &whys[i];
        let why_w = text::width(why);
        let own_labels = text::width(&labels[i]) + if c.read_only { READ_ONLY.len() } else { 0 };
        let labels_fit = if why_w <= reason_w {
            if longest > 0 {
                spans.push(Span::styled(
                    format!("{}  ", text::pad(why, reason_w)),
                    style,
                ));
            }
            true
        } else {
            spans.push(Span::styled(text::fit(why, rest).into_owned(), style));
            why_w + 2 + own_labels <= rest
        };
        if labels_fit {
            if why_w > reason_w {
                spans.push(Span::raw("  "));
            }
            spans.push(Span::styled(labels[i].clone(), theme.dim));
            if c.read_only {
                spans.push(Span::styled(READ_ONLY, theme.readonly));
            }
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

#[cfg(test)]
mod tests {
    use ratatui::Terminal;
    use ratatui::backend::TestBackend;

    use crate::core::model::Cluster;
    use crate::core::state::{Settings, State};
    use crate::core::testkit::t;
    use crate::ui::theme::Theme;

    /// Wide (CJK, emoji) and escaped names: the connection column starts at the same screen
    /// column on every row, and nothing raw is drawn.
    #[test]
    fn wide_names_keep_the_connection_column_aligned() {
        let names = ["日本-prod", "a", "🚀🚀", "evil\u{1b}[2J\u{202e}"];
        let clusters = names.iter().map(|n| Cluster::new(*n)).collect();
        let state = State::new(t(0), Settings::default(), clusters, Vec::new());
        let Ok(mut terminal) = Terminal::new(TestBackend::new(80, 8));
        terminal
            .draw(|f| super::render(f, f.area(), &state, &Theme::default()))
            .unwrap();
        let buf = terminal.backend().buffer();
        let label = state.clusters[0].connection.label(state.now);
        let first = label.chars().next().unwrap().to_string();
        let starts: Vec<u16> = (1..=names.len() as u16)
            .map(|y| {
                let row: String = (0..80).map(|x| buf[(x, y)].symbol()).collect();
                assert!(
                    !row.contains('\u{1b}') && !row.contains('\u{202e}'),
                    "{row}"
                );
                (0..80)
                    .rev()
                    .find(|x| {
                        buf[(*x, y)].symbol() == first && {
                            let rest: String = (*x..80).map(|x| buf[(x, y)].symbol()).collect();
                            rest.starts_with(&label)
                        }
                    })
                    .unwrap_or_else(|| panic!("no {label} in {row:?}"))
            })
            .collect();
        assert!(starts.iter().all(|x| *x == starts[0]), "{starts:?}");
    }
}
