//! The message view (`m`): the selected thing's messages in full, wrapped to the width by
//! the core (`core::message::rows`, the same rows it scrolls by), from the view's offset.
//! The title says what it is about, when it was written and which rows are shown.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};

use super::theme::Theme;
use super::{fmt, grid};
use crate::core::message::{self, Tone};
use crate::core::state::State;
use crate::core::text;

pub fn render(frame: &mut Frame, area: Rect, state: &State, theme: &Theme) {
    if area.height == 0 {
        return;
    }
    let Some(m) = state.view.message.as_ref() else {
        return;
    };
    let rows = message::rows(m, area.width);
    let page = usize::from(area.height).saturating_sub(1);
    let start = m.offset.min(rows.len().saturating_sub(page));
    let end = (start + page).min(rows.len());
    // The rows shown first (they must fit), then what it is about, cut to what is left.
    let place = format!(
        " · rows {}–{end} of {} · as of {} · ",
        (start + 1).min(end),
        rows.len(),
        m.at.strftime("%H:%M:%S")
    );
    let room = usize::from(area.width).saturating_sub(text::width(&place) + 12);
    let extra = vec![
        Span::styled(place, theme.border),
        Span::styled(fmt::fit(&m.title, room).into_owned(), theme.table_header),
    ];
    let mut out = vec![grid::title_bar("Message", extra, true, theme, area.width)];
    for r in &rows[start..end] {
        let style = match r.tone {
            Tone::Heading => theme.table_header,
            Tone::Text => theme.text,
            Tone::Dim => theme.dim,
            Tone::Bad => theme.phase_degraded,
        };
        out.push(Line::styled(r.text.clone(), style));
    }
    grid::draw_lines(frame, area, out);
}
