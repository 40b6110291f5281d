//! The detail screen's events section: the events of the release, its ReplicaSets and their
//! pods (Normal and Warning), newest first with counts, as listed when the detail opened.

use ratatui::text::{Line, Span};

use super::super::{fmt, theme::Theme};
use crate::core::kinds::pod::ObjectEvent;
use crate::core::model::Release;
use crate::core::state::State;
use crate::core::text;

/// One event: `×count age Type reason kind/name message`.
pub fn event_line<'a>(state: &State, e: &ObjectEvent, theme: &Theme, object: bool) -> Line<'a> {
    let style = if e.is_warning() {
        theme.phase_degraded
    } else {
        theme.dim
    };
    let mut spans = vec![
        Span::raw(format!(
            "  ×{:<3} {:>4} ",
            e.count,
            fmt::age(state.now, e.last_seen)
        )),
        Span::styled(format!("{:<7} ", text::escape(&e.type_)), style),
        Span::styled(e.reason.shown().into_owned(), style),
    ];
    if object {
        spans.push(Span::raw(format!(
            " {}/{}",
            text::escape(&e.object_kind.to_lowercase()),
            text::escape(&e.object_name)
        )));
    }
    spans.push(Span::raw(format!(" {}", e.message.shown())));
    Line::from(spans)
}

pub fn lines<'a>(state: &State, r: &Release, theme: &Theme, width: u16) -> Vec<Line<'a>> {
    let mut lines = vec![super::section_title("Events", theme, width)];
    let Some(ev) = state.view.events.as_ref().filter(|e| e.release == r.key) else {
        lines.push(Line::styled("  not listed", theme.dim));
        return lines;
    };
    if let Some(e) = &ev.error {
        lines.push(Line::styled(
            format!("  {}", e.shown()),
            theme.phase_degraded,
        ));
    } else if !ev.listed {
        lines.push(Line::styled("  listing events…", theme.dim));
    } else if ev.events.is_empty() {
        lines.push(Line::styled(
            "  none recorded (events expire after an hour)",
            theme.dim,
        ));
    }
    for e in ev.events.iter().take(30) {
        lines.push(event_line(state, e, theme, true));
    }
    lines
}
