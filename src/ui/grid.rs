//! Column layout for the text tables (releases, SLOs, failures, audit): fixed-width cells
//! padded by display width, so a column never shifts whatever a value contains. Panels
//! build one `Line` per visible row only.

use std::borrow::Cow;

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};

use super::fmt;
use super::theme::Theme;
use crate::core::layout::Paging;
use crate::core::text;

/// How a cell's text is cut and aligned in its column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Align {
    Left,
    /// Left, cut in the middle (names whose end matters).
    Middle,
    Right,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Col {
    pub title: &'static str,
    pub width: usize,
    pub align: Align,
}

impl Col {
    pub const fn left(title: &'static str, width: usize) -> Col {
        Col {
            title,
            width,
            align: Align::Left,
        }
    }
    pub const fn middle(title: &'static str, width: usize) -> Col {
        Col {
            title,
            width,
            align: Align::Middle,
        }
    }
    pub const fn right(title: &'static str, width: usize) -> Col {
        Col {
            title,
            width,
            align: Align::Right,
        }
    }
}

/// Gives the last column whatever width is left of `total` (at least `min`).
pub fn fill_last(cols: &mut [Col], total: usize, min: usize) {
    let used: usize = cols.iter().rev().skip(1).map(|c| c.width + 1).sum();
    if let Some(last) = cols.last_mut() {
        last.width = total.saturating_sub(used).max(min);
    }
}

/// One cell: text (already escaped by the caller) and its style.
pub type Cell<'a> = (Cow<'a, str>, Style);

/// A row of cells laid out in `cols`, one space between columns.
pub fn row<'a>(cols: &[Col], cells: Vec<Cell<'a>>) -> Line<'a> {
    let mut spans = Vec::with_capacity(cells.len() * 2);
    for (i, (col, (text, style))) in cols.iter().zip(cells).enumerate() {
        if i > 0 {
            spans.push(Span::raw(" "));
        }
        let shown = match col.align {
            Align::Left => fmt::pad(&text, col.width),
            Align::Middle => fmt::pad(&fmt::fit_middle(&text, col.width), col.width),
            Align::Right => fmt::pad_left(&text, col.width),
        };
        spans.push(Span::styled(shown, style));
    }
    Line::from(spans)
}

/// The column titles as a row.
pub fn header_row(cols: &[Col], style: Style) -> Line<'static> {
    let cells = cols
        .iter()
        .map(|c| (Cow::Borrowed(c.title), style))
        .collect();
    row(cols, cells)
}

/// A panel's title bar: a focus marker (text, so it shows without colour), the name, extra
/// spans, then a rule to the edge. Focused panels use `border_focus`.
pub fn title_bar<'a>(
    name: &'a str,
    extra: Vec<Span<'a>>,
    focused: bool,
    theme: &Theme,
    width: u16,
) -> Line<'a> {
    let style = if focused {
        theme.border_focus
    } else {
        theme.border
    };
    let marker = if focused { "▸ " } else { "─ " };
    let mut spans = vec![Span::styled(marker, style), Span::styled(name, style)];
    spans.extend(extra);
    let used: usize = spans.iter().map(|s| s.width()).sum();
    let rest = (width as usize).saturating_sub(used + 1);
    if rest > 0 {
        spans.push(Span::styled(format!(" {}", "─".repeat(rest)), theme.border));
    }
    Line::from(spans)
}

/// A panel title's position in its list: "1–11 of 24" ("rows 1–11 of 24" when `wide`)
/// and, when `p.urgent_above` rows are scrolled out of view above, "↑ 3 {above}" — the
/// longest forms that fit `room` columns, giving up position detail before the count above.
/// Spans are separated by a space and start without one; empty when nothing fits.
pub fn position<'a>(
    p: &Paging,
    above: &str,
    wide: bool,
    room: usize,
    theme: &Theme,
) -> Vec<Span<'a>> {
    let (a, b) = p.first_last();
    let n = p.total;
    let mut places = Vec::with_capacity(4);
    if n > 0 {
        if wide {
            places.push(format!("rows {a}–{b} of {n}"));
        }
        places.push(format!("{a}–{b} of {n}"));
        places.push(format!("{a}–{b}/{n}"));
    }
    places.push(n.to_string());
    let k = p.urgent_above;
    let aboves: Vec<String> = if k == 0 {
        vec![String::new()]
    } else {
        vec![
            format!(" ↑ {k} {above}"),
            format!(" ↑{k} {above}"),
            format!(" ↑{k}"),
        ]
    };
    for up in &aboves {
        for place in &places {
            if text::width(place) + text::width(up) <= room {
                let mut out = vec![Span::styled(place.clone(), theme.border)];
                if !up.is_empty() {
                    out.push(Span::styled(up.clone(), theme.phase_degraded));
                }
                return out;
            }
        }
    }
    Vec::new()
}

/// The column titles as a panel's title bar (SLOs, failures: a line saved at 80x24), with
/// `tail` (its position) right-aligned in the last column when it fits beside its title.
pub fn header_title<'a>(
    cols: &[Col],
    style: Style,
    focused: bool,
    tail: impl FnOnce(usize) -> Vec<Span<'a>>,
) -> Line<'a> {
    let marker = if focused { "▸ " } else { "─ " };
    let mut line = header_row(cols, style);
    line.spans.insert(0, Span::styled(marker, style));
    let Some(last) = cols.last() else {
        return line;
    };
    let title_w = text::width(last.title);
    let tail = tail(last.width.saturating_sub(title_w + 1));
    let tail_w: usize = tail.iter().map(Span::width).sum();
    if tail.is_empty() || title_w + 1 + tail_w > last.width {
        return line;
    }
    line.spans.pop();
    line.spans.push(Span::styled(
        fmt::pad(last.title, last.width - tail_w),
        style,
    ));
    line.spans.extend(tail);
    line
}

/// Draw `lines` top to bottom in `area`, one per row (extra lines and columns are
/// clipped). Writes straight into the buffer: cheaper than a `Paragraph`, which reflows.
pub fn draw_lines(frame: &mut Frame, area: Rect, lines: Vec<Line<'_>>) {
    let buf = frame.buffer_mut();
    for (i, line) in lines.iter().take(area.height as usize).enumerate() {
        buf.set_line(area.x, area.y.saturating_add(i as u16), line, area.width);
    }
}

/// The rectangle of row `i` inside `area`.
pub fn row_rect(area: Rect, i: usize) -> Rect {
    Rect {
        x: area.x,
        y: area.y.saturating_add(i as u16),
        width: area.width,
        height: 1,
    }
    .intersection(area)
}

pub use crate::core::layout::window;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_keep_columns_in_place() {
        let cols = [Col::left("a", 4), Col::right("b", 3), Col::middle("c", 5)];
        let line = row(
            &cols,
            vec![
                ("toolong".into(), Style::default()),
                ("1".into(), Style::default()),
                ("abcdefgh".into(), Style::default()),
            ],
        );
        assert_eq!(line.to_string(), "too…   1 ab…gh");
    }
}
