//! The YAML view (`o`): the object as the API server returned it, managedFields dropped,
//! every line escaped (`core::text`), from `YamlView::offset`; matches of the search are
//! highlighted and the title says which match is shown and how many there are.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};

use super::fmt;
use super::grid;
use super::theme::Theme;
use crate::core::state::State;
use crate::core::text;
use crate::core::yaml;

pub fn render(frame: &mut Frame, area: Rect, state: &State, theme: &Theme) {
    if area.height == 0 {
        return;
    }
    let width = area.width as usize;
    let Some(y) = state.view.yaml.as_ref() else {
        return;
    };
    let matches = yaml::matches(y);
    let mut extra = Vec::new();
    let rows = (area.height as usize).saturating_sub(2);
    if let Some(Ok(lines)) = &y.lines {
        let end = (y.offset + rows).min(lines.len());
        extra.push(Span::styled(
            format!(
                " — lines {}–{end} of {}",
                (y.offset + 1).min(end),
                lines.len()
            ),
            theme.border,
        ));
    }
    if !y.query.value().is_empty() {
        let at = matches.iter().filter(|i| **i < y.offset).count();
        let said = if matches.is_empty() {
            " · no match".to_string()
        } else {
            format!(
                " · match {} of {}",
                (at + 1).min(matches.len()),
                matches.len()
            )
        };
        extra.push(Span::styled(said, theme.border));
    }
    let title = text::escape(&y.title).into_owned();
    let mut out = vec![grid::title_bar(&title, extra, true, theme, area.width)];
    match &y.lines {
        None => out.push(Line::styled("  reading the object…", theme.dim)),
        Some(Err(e)) => out.push(Line::styled(
            fmt::fit(&format!("  could not read it: {}", text::escape(e)), width).into_owned(),
            theme.notice_error,
        )),
        Some(Ok(lines)) => {
            let q = y.query.value().to_lowercase();
            for (i, l) in lines.iter().enumerate().skip(y.offset).take(rows) {
                let shown = fmt::fit(&l.shown(), width).into_owned();
                let hit = !q.is_empty() && matches.binary_search(&i).is_ok();
                let style = if hit { theme.selected } else { theme.text };
                out.push(Line::styled(shown, style));
            }
        }
    }
    while out.len() < rows + 1 {
        out.push(Line::raw(""));
    }
    let bottom = if y.searching {
        Line::from(vec![
            Span::styled("/", theme.key),
            Span::styled(text::escape(y.query.value()).into_owned(), theme.input),
            Span::styled("▏", theme.input),
        ])
    } else {
        Line::styled("", theme.dim)
    };
    out.push(bottom);
    grid::draw_lines(frame, area, out);
}
