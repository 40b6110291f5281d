//! The detail screen's SLO section: the linked SLO's budget, alert, trend sparkline and
//! burn per window, packed to the width. Reads `&State` only; computes no burn itself.

use ratatui::style::Style;
use ratatui::text::{Line, Span};

use super::section_title;
use crate::core::model::Release;
use crate::core::state::State;
use crate::core::text;
use crate::ui::{fmt, grid, slo as slo_panel, theme::Theme};

pub(super) fn lines<'a>(state: &'a State, r: &Release, theme: &Theme, width: u16) -> Vec<Line<'a>> {
    let Some(s) = state.slo_for(r) else {
        let why = match &r.service {
            Some(svc) => format!("  no SLO for service {}", text::escape(svc)),
            None => format!(
                "  no SLO linked (label {})",
                text::escape(&state.settings.service_label)
            ),
        };
        return vec![
            section_title("SLO", theme, width),
            Line::styled(why, theme.dim),
        ];
    };
    let mut lines = vec![grid::title_bar(
        "SLO ",
        vec![Span::styled(text::escape(&s.spec.name), theme.border)],
        false,
        theme,
        width,
    )];
    let spark_w = (width as usize).saturating_sub(30).clamp(8, 60);
    lines.push(Line::from(vec![
        Span::raw(format!("  budget {} · ", slo_panel::budget(s))),
        Span::styled(slo_panel::alert_text(s, false), theme.burn(s.alert)),
        Span::raw(" · trend "),
        if s.trend.is_empty() {
            Span::styled("no data", theme.burn_unknown)
        } else {
            Span::styled(slo_panel::trend(&s.trend, spark_w), theme.sparkline)
        },
    ]));
    let burns: Vec<(String, String, Style)> = slo_panel::WINDOWS
        .iter()
        .map(|w| {
            (
                w.as_str().to_string(),
                fmt::burn(s.burn.get(w).copied().flatten()),
                slo_panel::burn_style(s, *w, theme),
            )
        })
        .collect();
    let items: Vec<String> = burns.iter().map(|(w, b, _)| format!("{w} {b}")).collect();
    for row in pack("burn", &items, (width as usize).saturating_sub(2)) {
        lines.push(styled_row(&row, &burns));
    }
    lines
}

/// A packed row of `window value` items with each value in its level's style.
fn styled_row<'a>(row: &str, burns: &[(String, String, Style)]) -> Line<'a> {
    let mut spans = vec![Span::raw("  ")];
    let mut rest = row;
    for (w, b, style) in burns {
        let item = format!("{w} {b}");
        let Some(at) = rest.find(&item) else {
            continue;
        };
        spans.push(Span::raw(format!("{}{w} ", &rest[..at])));
        spans.push(Span::styled(b.clone(), *style));
        rest = &rest[at + item.len()..];
    }
    spans.push(Span::raw(rest.to_string()));
    Line::from(spans)
}

/// `label item  item  item` packed into rows of `width` columns without splitting an
/// item (a window's name stays next to its value); continuation rows are indented.
fn pack(label: &str, items: &[String], width: usize) -> Vec<String> {
    let indent = " ".repeat(label.chars().count() + 1);
    let mut rows = Vec::new();
    let mut row = label.to_string();
    for item in items {
        let fresh = row.chars().count() == indent.chars().count();
        if !fresh && row.chars().count() + 2 + item.chars().count() > width {
            rows.push(std::mem::replace(&mut row, indent.clone()));
        }
        row.push_str(if row.trim().is_empty() { " " } else { "  " });
        row.push_str(item);
    }
    rows.push(row);
    rows
}

#[cfg(test)]
mod tests {
    use super::{pack, styled_row};
    use ratatui::style::{Color, Style};

    #[test]
    fn pack_keeps_items_whole() {
        let items: Vec<String> = ["5m 20.1x", "30m 12.1x", "1h 14.8x"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        assert_eq!(
            pack("burn", &items, 26),
            vec!["burn  5m 20.1x  30m 12.1x", "      1h 14.8x"]
        );
    }

    #[test]
    fn each_value_keeps_its_own_style_and_the_row_its_text() {
        let red = Style::default().bg(Color::Red);
        let plain = Style::default();
        let burns = vec![
            ("5m".to_string(), "70.1x".to_string(), red),
            ("30m".to_string(), "2.0x".to_string(), plain),
        ];
        let row = "burn  5m 70.1x  30m 2.0x";
        let line = styled_row(row, &burns);
        let text: String = line.spans.iter().map(|s| s.content.as_ref()).collect();
        assert_eq!(text, format!("  {row}"));
        let hot = line.spans.iter().find(|s| s.content == "70.1x").unwrap();
        assert_eq!(hot.style, red);
        let calm = line.spans.iter().find(|s| s.content == "2.0x").unwrap();
        assert_eq!(calm.style, plain);
    }
}
