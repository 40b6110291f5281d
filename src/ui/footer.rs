//! The footer: the latest notice (escaped, with its level in words) and key hints for
//! the current screen, shortened on narrow terminals. Hints come from the key table
//! (`core::keys`); nothing here names a key.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};

use super::{fmt, theme::Theme};
use crate::core::keys::{self, HintAt};
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
    let hints = hints(state, width < 120);
    let room = width.saturating_sub(used + 1);
    // Hints after a notice only when they fit whole enough to be useful.
    if room >= 16 || spans.is_empty() {
        spans.push(Span::raw(" "));
        let mut left = room;
        for (i, (key, what)) in hints.iter().enumerate() {
            let sep = if i == 0 { "" } else { " · " };
            let w = sep.len() + key.chars().count() + 1 + what.chars().count();
            if w > left {
                break;
            }
            left -= w;
            spans.push(Span::styled(sep, theme.dim));
            spans.push(Span::styled(*key, theme.key));
            spans.push(Span::styled(format!(" {what}"), theme.dim));
        }
    }
    super::grid::draw_lines(frame, area, vec![Line::from(spans)]);
}

/// Key hints for the current screen from the key table (most useful first; the tail is
/// dropped when short).
fn hints(state: &State, short: bool) -> Vec<(&'static str, &'static str)> {
    keys::hints(HintAt::of(keys::context(state), short))
}
