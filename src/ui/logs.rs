//! The log viewer: a title bar (what is streamed, following or paused, wrap, previous
//! container), the lines of the window (`core::logs` decides which), each labelled by its
//! pod when several are interleaved, and a status line (access refused, stream errors, the
//! search being typed). Every line is shown escaped (`Untrusted::shown`): escape sequences,
//! CR and other controls from a container appear as visible `\x1b` text.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};

use super::grid;
use super::theme::Theme;
use crate::core::logs::{LogLine, LogView};
use crate::core::state::State;
use crate::core::text;

pub fn render(frame: &mut Frame, area: Rect, state: &State, theme: &Theme) {
    if area.height == 0 {
        return;
    }
    let Some(view) = &state.logs else {
        return;
    };
    let width = usize::from(area.width);
    let rows = usize::from(area.height.saturating_sub(2));
    let mut lines = vec![title(view, theme, area.width)];
    let body = body(view, rows, width, theme);
    let shown = body.len();
    lines.extend(body);
    lines.extend((shown..rows).map(|_| Line::raw("")));
    lines.push(status(view, width, theme));
    grid::draw_lines(frame, area, lines);
}

fn title<'a>(view: &'a LogView, theme: &Theme, width: u16) -> Line<'a> {
    let mut extra = Vec::new();
    let where_ = format!(
        " {}/{} ",
        text::escape(&view.cluster),
        text::escape(&view.namespace)
    );
    extra.push(Span::styled(where_, theme.border));
    if view.streams.len() > 1 {
        let pods = match view.only {
            Some(i) => format!(" pod {}/{}: {} ", i + 1, view.streams.len(), view.label(i)),
            None => format!(" {} pods ", view.streams.len()),
        };
        extra.push(Span::styled(text::escape(&pods).into_owned(), theme.border));
    }
    let mode = if view.previous {
        Span::styled(" previous container ", theme.phase_paused)
    } else if view.follow {
        Span::styled(" following ", theme.phase_healthy)
    } else if view.unseen > 0 {
        Span::styled(format!(" PAUSED +{} new ", view.unseen), theme.phase_paused)
    } else {
        Span::styled(" PAUSED ", theme.phase_paused)
    };
    extra.push(mode);
    if view.wrap {
        extra.push(Span::styled(" wrap ", theme.border));
    }
    if view.dropped > 0 {
        let kept = format!(" last {} lines kept ", view.lines.len());
        extra.push(Span::styled(kept, theme.dim));
    }
    grid::title_bar(&view.title, extra, true, theme, width)
}

/// Styles the streams' labels cycle through.
fn label_style(theme: &Theme, stream: usize) -> Style {
    let styles = [
        theme.phase_progressing,
        theme.phase_healthy,
        theme.phase_paused,
        theme.key,
        theme.current,
    ];
    styles[stream % styles.len()]
}

/// Width of the pod label column: none for one stream.
fn label_width(view: &LogView, width: usize) -> usize {
    if view.streams.len() < 2 || view.only.is_some() {
        return 0;
    }
    let longest = (0..view.streams.len())
        .map(|i| text::width(&text::escape(&view.label(i))))
        .max()
        .unwrap_or(0);
    longest.min(width / 3).min(28)
}

/// The window's rows: the last page while following, from `top` while paused.
fn body<'a>(view: &'a LogView, rows: usize, width: usize, theme: &Theme) -> Vec<Line<'a>> {
    if rows == 0 {
        return Vec::new();
    }
    if view.lines.is_empty() {
        let said = if let Some(r) = &view.refused {
            format!("  no logs: {}", r.shown())
        } else if !view.started && view.error.is_none() {
            "  connecting…".to_string()
        } else if view.error.is_some() {
            String::new()
        } else if view.previous {
            "  the previous container left no log lines".to_string()
        } else {
            "  no log lines yet — new lines appear here as the containers write them".to_string()
        };
        return text::wrap(&said, width)
            .into_iter()
            .take(rows)
            .map(|s| Line::styled(s, theme.dim))
            .collect();
    }
    let label_w = label_width(view, width);
    let text_w = if label_w > 0 {
        width.saturating_sub(label_w + 3).max(1)
    } else {
        width.max(1)
    };
    let rows_of = |seq: u64, l: &'a LogLine| -> Vec<Line<'a>> {
        render_line(view, seq, l, label_w, text_w, theme)
    };
    if view.follow {
        let mut out: Vec<Line> = Vec::new();
        for (seq, l) in view.shown_before(view.end()) {
            let mut r = rows_of(seq, l);
            if out.len() + r.len() > rows {
                // The oldest line on screen: its last rows only.
                let keep = rows - out.len();
                r.drain(..r.len() - keep);
                r.reverse();
                out.extend(r);
                break;
            }
            r.reverse();
            out.extend(r);
            if out.len() == rows {
                break;
            }
        }
        out.reverse();
        out
    } else {
        let mut out = Vec::new();
        for (seq, l) in view.shown_from(view.top) {
            out.extend(rows_of(seq, l));
            if out.len() >= rows {
                out.truncate(rows);
                break;
            }
        }
        out
    }
}

fn render_line<'a>(
    view: &'a LogView,
    seq: u64,
    l: &LogLine,
    label_w: usize,
    text_w: usize,
    theme: &Theme,
) -> Vec<Line<'a>> {
    let shown = l.text.shown();
    let pieces: Vec<String> = if view.wrap {
        text::wrap(&shown, text_w)
    } else {
        vec![text::fit(&shown, text_w).into_owned()]
    };
    let found = view.found == Some(seq);
    let query = view.search.value();
    pieces
        .into_iter()
        .enumerate()
        .map(|(i, piece)| {
            let mut spans = Vec::new();
            if label_w > 0 {
                let label = if i == 0 {
                    let name = text::escape(&view.label(l.stream)).into_owned();
                    text::pad(text::take_width_end(&name, label_w), label_w)
                } else {
                    " ".repeat(label_w)
                };
                spans.push(Span::styled(label, label_style(theme, l.stream)));
                spans.push(Span::styled(" │ ", theme.border));
            }
            let base = if found { theme.selected } else { theme.text };
            spans.extend(highlight(piece, query, base, theme.current));
            Line::from(spans)
        })
        .collect()
}

/// `piece` with every (ASCII case-insensitive) occurrence of `query` in `hit` style.
fn highlight(piece: String, query: &str, base: Style, hit: Style) -> Vec<Span<'static>> {
    if query.is_empty() {
        return vec![Span::styled(piece, base)];
    }
    let hay = piece.to_ascii_lowercase();
    let needle = query.to_ascii_lowercase();
    let mut spans = Vec::new();
    let mut at = 0;
    while let Some(i) = hay[at..].find(&needle) {
        let start = at + i;
        let end = start + needle.len();
        if start > at {
            spans.push(Span::styled(piece[at..start].to_string(), base));
        }
        spans.push(Span::styled(piece[start..end].to_string(), hit));
        at = end;
    }
    if at < piece.len() {
        spans.push(Span::styled(piece[at..].to_string(), base));
    }
    spans
}

/// The last body line: the search being typed, else what went wrong, else the streams.
fn status<'a>(view: &'a LogView, width: usize, theme: &Theme) -> Line<'a> {
    if view.search_editing {
        let typed = format!(" search: {}▏", text::escape(view.search.value()));
        return Line::styled(text::fit(&typed, width).into_owned(), theme.input);
    }
    if view.not_found {
        let said = format!(" no match for \"{}\"", text::escape(view.search.value()));
        return Line::styled(text::fit(&said, width).into_owned(), theme.notice_warn);
    }
    if let Some(r) = &view.refused {
        let said = format!(" refused: {}", r.shown());
        return Line::styled(text::fit(&said, width).into_owned(), theme.notice_error);
    }
    if let Some(e) = &view.error {
        let said = format!(" error: {}", e.shown());
        return Line::styled(text::fit(&said, width).into_owned(), theme.notice_error);
    }
    let failed: Vec<String> = view
        .streams
        .iter()
        .filter_map(|s| s.ended.as_ref()?.as_ref().map(|e| e.shown().into_owned()))
        .collect();
    if let Some(first) = failed.first() {
        let more = if failed.len() > 1 {
            format!(" (+{} more)", failed.len() - 1)
        } else {
            String::new()
        };
        let said = format!(" stream error: {first}{more}");
        return Line::styled(text::fit(&said, width).into_owned(), theme.notice_warn);
    }
    let ended = view.streams.iter().filter(|s| s.ended.is_some()).count();
    let said = if view.streams.is_empty() {
        String::new()
    } else if ended == view.streams.len() {
        format!(" {} lines · every stream ended", view.lines.len())
    } else {
        format!(
            " {} lines · {} of {} streams open",
            view.lines.len(),
            view.streams.len() - ended,
            view.streams.len()
        )
    };
    Line::styled(text::fit(&said, width).into_owned(), theme.dim)
}
