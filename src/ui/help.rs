//! The help screen: the whole key map (DESIGN.md's contract) read from the key table, the
//! filter syntax and what the marks on screen mean — laid out for this width by
//! `core::keys::help` (texts wrap under themselves, nothing is cut at 80 columns) and
//! scrolled by `view.help_offset`. Names no key itself.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};

use super::grid;
use super::theme::Theme;
use crate::core::keys::help::{self, HelpLine};
use crate::core::state::State;
use crate::core::text;

fn line(l: HelpLine, theme: &Theme) -> Line<'static> {
    match l {
        HelpLine::Title(t) => Line::styled(format!(" {t}"), theme.table_header),
        HelpLine::Entry { key, text } if text.is_empty() => {
            Line::styled(format!("   {key}"), theme.key)
        }
        HelpLine::Entry { key, text } => Line::from(vec![
            Span::styled(text::pad(&format!("   {key}"), help::KEY_COLUMN), theme.key),
            Span::styled(text, theme.text),
        ]),
    }
}

pub fn render(frame: &mut Frame, area: Rect, state: &State, theme: &Theme) {
    if area.height == 0 {
        return;
    }
    let all = help::lines(area.width);
    let rows = area.height.saturating_sub(1) as usize;
    let start = state.view.help_offset.min(all.len().saturating_sub(rows));
    let below = all.len().saturating_sub(start + rows);
    let more = match (start, below) {
        (0, 0) => String::new(),
        (_, 0) => " · end".to_string(),
        (_, n) => format!(" · {n} more lines · j/k scroll"),
    };
    let extra = vec![Span::styled(format!(" — keys{more}"), theme.border)];
    let mut out = vec![grid::title_bar("Help", extra, true, theme, area.width)];
    out.extend(
        all.into_iter()
            .skip(start)
            .take(rows)
            .map(|l| line(l, theme)),
    );
    grid::draw_lines(frame, area, out);
}
