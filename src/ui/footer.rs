//! The footer: the latest notice (escaped, with its level in words) and key hints for
//! the current screen and selection, shortened on narrow terminals. Hints come from the key
//! table with what is enabled for the selected release (`core::keys::footer`); nothing here
//! names a key.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};

use super::{fmt, theme::Theme};
use crate::core::keys;
use crate::core::state::{Level, State};
use crate::core::text;

pub fn render(frame: &mut Frame, area: Rect, state: &State, theme: &Theme) {
    if area.height == 0 {
        return;
    }
    let width = area.width as usize;
    let mut spans = Vec::new();
    let mut used = 0;
    if let Some(n) = &state.view.notice {
        let (prefix, style) = match n.level {
            Level::Info => ("", theme.notice_info),
            Level::Warn => ("warning: ", theme.notice_warn),
            Level::Error => ("error: ", theme.notice_error),
        };
        let text = format!(" {prefix}{} ", text::escape(&n.text));
        let text = fmt::fit(&text, width).into_owned();
        used += unicode_width::UnicodeWidthStr::width(text.as_str());
        spans.push(Span::styled(text, style));
    }
    let footer = keys::footer(state, width < 120);
    let room = width.saturating_sub(used + 1);
    // Hints after a notice only when they fit whole enough to be useful.
    if room >= 16 || spans.is_empty() {
        spans.push(Span::raw(" "));
        spans.extend(hint_spans(&footer, room, theme));
    }
    super::grid::draw_lines(frame, area, vec![Line::from(spans)]);
}

/// Display width of one hint after its separator.
fn hint_width(first: bool, (key, what): (&str, &str)) -> usize {
    let sep = if first { 0 } else { 3 };
    sep + text::width(key) + 1 + text::width(what)
}

/// As many hints as fit in `room` columns, in order, then the footer's last hint (`? help`),
/// for which room is always kept.
fn hint_spans<'a>(footer: &keys::Footer, room: usize, theme: &Theme) -> Vec<Span<'a>> {
    let reserve = footer.last.map_or(0, |h| hint_width(false, h));
    let mut left = room.saturating_sub(reserve);
    let mut chosen = Vec::new();
    for h in &footer.hints {
        let w = hint_width(chosen.is_empty(), *h);
        if w > left {
            break;
        }
        left -= w;
        chosen.push(*h);
    }
    if let Some(last) = footer.last
        && hint_width(chosen.is_empty(), last) <= left + reserve
    {
        chosen.push(last);
    }
    let mut spans = Vec::new();
    for (i, (key, what)) in chosen.into_iter().enumerate() {
        if i > 0 {
            spans.push(Span::styled(" · ", theme.dim));
        }
        spans.push(Span::styled(key, theme.key));
        spans.push(Span::styled(format!(" {what}"), theme.dim));
    }
    spans
}
