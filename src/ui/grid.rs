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

/// The window of a scrolled list that keeps `selected` visible: start at the core's
/// `offset`, then move just enough. The core's offset assumes its own page size; ours
/// may differ, so we adjust locally and never mutate state.
pub fn window(len: usize, offset: usize, selected: usize, rows: usize) -> std::ops::Range<usize> {
    if len == 0 || rows == 0 {
        return 0..0;
    }
    let selected = selected.min(len - 1);
    let mut start = offset.min(len - 1);
    if selected < start {
        start = selected;
    } else if selected >= start + rows {
        start = selected + 1 - rows;
    }
    // Fill the page when scrolled past the end (e.g. after rows disappeared).
    start = start.min(len.saturating_sub(rows));
    start..(start + rows).min(len)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn window_keeps_selection_visible_with_any_page_size() {
        assert_eq!(window(100, 0, 0, 10), 0..10);
        assert_eq!(window(100, 0, 15, 10), 6..16);
        assert_eq!(window(100, 50, 40, 10), 40..50);
        assert_eq!(window(100, 95, 99, 10), 90..100);
        assert_eq!(window(5, 3, 4, 10), 0..5);
        assert_eq!(window(0, 3, 4, 10), 0..0);
        // The core paged with a bigger page than ours: still visible.
        assert_eq!(window(10_000, 9_000, 9_030, 20), 9_011..9_031);
    }

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
