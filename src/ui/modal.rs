//! The confirmation modal: what exactly will be sent (each call's verb, resource,
//! namespace/name and body), to which cluster (with its PROD marker), what the user saw
//! when choosing, caveats, the error-budget gate, the typed confirmation, and two buttons
//! with focus starting on Cancel. Centered; fits 80x24 by compacting the JSON body and,
//! if still too tall, eliding its middle — the buttons and hint always stay visible.
//! Key hints come from the key table (`core::keys`).

use ratatui::Frame;
use ratatui::layout::{Position, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph};
use unicode_width::UnicodeWidthStr;

use super::{fmt, theme::Theme};
use crate::core::action::ApiCall;
use crate::core::keys::{self, HintAt};
use crate::core::state::{Modal, ModalFocus, State};
use crate::core::text;

/// Label column width ("cluster ", "request ").
const LABEL: usize = 9;

pub fn render(frame: &mut Frame, area: Rect, _state: &State, m: &Modal, theme: &Theme) {
    let width = area.width.saturating_sub(4).clamp(20.min(area.width), 100);
    let inner_w = width.saturating_sub(4) as usize;
    let max_h = area.height.saturating_sub(2).max(3.min(area.height));

    let head = head_lines(m, theme, inner_w);
    let (tail, typed_row) = tail_lines(m, theme, inner_w);
    let room = (max_h as usize).saturating_sub(2 + head.len() + tail.len());
    let request = request_lines(&m.plan.calls, theme, inner_w, room);

    let typed_row = typed_row.map(|(row, col)| (head.len() + request.len() + row, col));
    let mut lines = head;
    lines.extend(request);
    lines.extend(tail);

    let height = u16::try_from(lines.len())
        .unwrap_or(u16::MAX)
        .saturating_add(2)
        .min(max_h);
    let rect = Rect {
        x: area.x + (area.width.saturating_sub(width)) / 2,
        y: area.y + (area.height.saturating_sub(height)) / 2,
        width,
        height,
    };
    let prod = if m.plan.prod { " — PROD" } else { "" };
    let title = format!(" Confirm {}{prod} ", m.plan.kind.label());
    let border = if m.plan.prod {
        theme.danger
    } else {
        theme.modal_title
    };
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(border)
        .title(Span::styled(title, border))
        .style(theme.modal);
    let inner = block.inner(rect);
    let padded = Rect {
        x: inner.x + 1,
        width: inner.width.saturating_sub(2),
        ..inner
    };
    frame.render_widget(Clear, rect);
    frame.render_widget(block, rect);
    frame.render_widget(Paragraph::new(lines).style(theme.modal), padded);
    if let Some((row, col)) = typed_row
        && let (Ok(row), Ok(col)) = (u16::try_from(row), u16::try_from(col))
        && row < padded.height
        && col < padded.width
    {
        let (x, y) = (padded.x.saturating_add(col), padded.y.saturating_add(row));
        frame.set_cursor_position(Position::new(x, y));
    }
}

fn labelled<'a>(label: &'static str, value: Vec<Span<'a>>, theme: &Theme) -> Line<'a> {
    let mut spans = vec![Span::styled(format!("{label:<LABEL$}"), theme.dim)];
    spans.extend(value);
    Line::from(spans)
}

/// Where and what: cluster with PROD marker, target object, what the user saw.
fn head_lines<'a>(m: &'a Modal, theme: &Theme, width: usize) -> Vec<Line<'a>> {
    let p = &m.plan;
    let mut cluster = vec![Span::styled(text::escape(&p.cluster), theme.table_header)];
    if p.prod {
        cluster.push(Span::raw(" "));
        cluster.push(Span::styled(
            format!(" {} PROD ", super::marks::PROD),
            theme.prod_banner,
        ));
    }
    let target = format!(
        "{} {}/{}",
        p.release_kind.short(),
        text::escape(&p.namespace),
        text::escape(&p.name)
    );
    let s = &p.seen;
    let mut seen = vec![format!("phase {}", text::escape(&s.phase))];
    if let Some((i, n)) = s.step {
        seen.push(format!("step {i}/{n}"));
    }
    if let Some(rev) = s.revision {
        seen.push(format!("revision {rev}"));
    }
    seen.push(format!(
        "resourceVersion {}",
        text::escape(&s.resource_version)
    ));
    let mut lines = vec![
        labelled("cluster", cluster, theme),
        labelled("target", vec![Span::raw(target)], theme),
    ];
    for (i, row) in fmt::wrap(&seen.join(" · "), width.saturating_sub(LABEL))
        .into_iter()
        .enumerate()
    {
        let label = if i == 0 { "you saw" } else { "" };
        lines.push(labelled(label, vec![Span::raw(row)], theme));
    }
    lines
}

/// The exact requests, fitted into `room` lines: pretty JSON if it fits, else compact,
/// else compact with the middle elided (the describe line always shows).
fn request_lines<'a>(calls: &[ApiCall], theme: &Theme, width: usize, room: usize) -> Vec<Line<'a>> {
    let body_w = width.saturating_sub(2);
    let build = |compact: bool| -> Vec<(String, Style)> {
        let mut rows = Vec::new();
        for (i, call) in calls.iter().enumerate() {
            let label = if calls.len() > 1 {
                format!("request {}/{}", i + 1, calls.len())
            } else {
                "request".to_string()
            };
            rows.push((label, theme.dim));
            for r in fmt::wrap(&text::escape(&call.describe()), body_w) {
                rows.push((format!("  {r}"), theme.table_header));
            }
            let body = call.body_text();
            let body_rows: Vec<String> = if compact {
                let joined: Vec<&str> = body.lines().map(str::trim).collect();
                vec![joined.join(" ")]
            } else {
                body.lines().map(str::to_string).collect()
            };
            for line in body_rows {
                for r in fmt::wrap(&text::escape(&line), body_w) {
                    rows.push((format!("  {r}"), theme.input));
                }
            }
        }
        rows
    };
    let mut rows = build(false);
    if rows.len() > room {
        rows = build(true);
    }
    if rows.len() > room && room >= 2 {
        let cut = rows.len() - (room - 1);
        let keep_head = (room - 1) / 2 + (room - 1) % 2;
        let tail = rows.split_off(keep_head + cut);
        rows.truncate(keep_head);
        rows.push((format!("  … {cut} more lines …"), theme.dim));
        rows.extend(tail);
    }
    rows.into_iter().map(|(t, s)| Line::styled(t, s)).collect()
}

/// `text` wrapped beside `label` (on its first row only), at most `max` rows.
fn wrapped<'a>(
    label: &'static str,
    text: &str,
    style: Style,
    theme: &Theme,
    width: usize,
    max: usize,
) -> impl Iterator<Item = Line<'a>> {
    let rows = fmt::wrap(text, width.saturating_sub(LABEL));
    rows.into_iter().take(max).enumerate().map(move |(i, row)| {
        let label = if i == 0 { label } else { "" };
        labelled(label, vec![Span::styled(row, style)], theme)
    })
}

/// The field for the name to type, and the cursor's column in it.
fn typed_field<'a>(m: &Modal, expected: &str, theme: &Theme, width: usize) -> (Line<'a>, usize) {
    let prompt = format!("type '{}' to confirm: ", text::escape(expected));
    let field_w = expected.width().max(8) + 1;
    let room = width.saturating_sub(prompt.width() + 2).max(4);
    let field_w = field_w.min(room);
    let scroll = m.typed.visual_scroll(field_w);
    let value: String = text::escape(m.typed.value()).chars().skip(scroll).collect();
    let shown = fmt::pad(&value, field_w);
    let column = prompt.width() + 1 + m.typed.visual_cursor().saturating_sub(scroll);
    let line = Line::from(vec![
        Span::styled(prompt, theme.danger),
        Span::raw("["),
        Span::styled(shown, theme.input),
        Span::raw("]"),
    ]);
    (line, column)
}

/// Notes, gate, typed field, refusal, buttons, hint. Returns the typed field's (row,
/// column) for the cursor.
fn tail_lines<'a>(
    m: &'a Modal,
    theme: &Theme,
    width: usize,
) -> (Vec<Line<'a>>, Option<(usize, usize)>) {
    let mut lines = Vec::new();
    for note in &m.plan.notes {
        let note = text::escape(note);
        lines.extend(wrapped(
            "note",
            &note,
            theme.notice_warn,
            theme,
            width,
            usize::MAX,
        ));
    }
    if let Some(g) = &m.gate {
        let gate = format!(
            "burn {} over {} — type the service name to {} anyway",
            fmt::burn(Some(g.burn)),
            text::escape(&g.window),
            m.plan.kind.label()
        );
        lines.extend(wrapped(
            "GATE",
            &gate,
            theme.danger,
            theme,
            width,
            usize::MAX,
        ));
    }
    if let Some(u) = &m.gate_unknown {
        let mut gate = u.text();
        if m.plan.prod {
            gate.push_str(&format!(
                " — type the service name to {} anyway",
                m.plan.kind.label()
            ));
        }
        let gate = text::escape(&gate);
        lines.extend(wrapped(
            "GATE",
            &gate,
            theme.notice_warn,
            theme,
            width,
            usize::MAX,
        ));
    }
    let mut cursor = None;
    if let Some(expected) = &m.must_type {
        let (line, column) = typed_field(m, expected, theme, width);
        cursor = Some((lines.len(), column));
        lines.push(line);
    }
    // The API server's dry run of the first call: proof the request would be accepted.
    let (dry, dry_style) = match &m.dry_run {
        None => ("waiting for the API server…".to_string(), theme.dim),
        Some(Ok(summary)) => (
            format!("accepted — {}", text::escape(summary)),
            theme.phase_healthy,
        ),
        Some(Err(error)) => (format!("refused — {}", text::escape(error)), theme.danger),
    };
    lines.extend(wrapped("dry run", &dry, dry_style, theme, width, 2));
    if let Some(refusal) = &m.refusal {
        lines.push(Line::styled(
            format!("✗ {}", text::escape(refusal)),
            theme.notice_error,
        ));
    }
    lines.push(buttons(m, theme, width));
    let hint = keys::hint_line(if m.must_type.is_some() {
        HintAt::TypingBox
    } else {
        HintAt::ModalBox
    });
    lines.push(Line::styled(fmt::fit(&hint, width).into_owned(), theme.dim));
    (lines, cursor)
}

/// [ Cancel ]  [ Confirm ], centered; the focused one is styled and marked with ▸ ◂ so
/// focus shows without colour too.
fn buttons<'a>(m: &Modal, theme: &Theme, width: usize) -> Line<'a> {
    let button = |label: &str, focused: bool, base: Style| -> Span<'a> {
        if focused {
            Span::styled(format!("▸[ {label} ]◂"), theme.button_focus)
        } else {
            Span::styled(format!(" [ {label} ] "), base)
        }
    };
    let confirm_style = if m.plan.kind.destructive() {
        theme.danger
    } else {
        theme.button
    };
    let spans = vec![
        button("Cancel", m.focus == ModalFocus::Cancel, theme.button),
        Span::raw("   "),
        button("Confirm", m.focus == ModalFocus::Confirm, confirm_style),
    ];
    let used: usize = spans.iter().map(Span::width).sum();
    let mut centered = vec![Span::raw(" ".repeat(width.saturating_sub(used) / 2))];
    centered.extend(spans);
    Line::from(centered)
}
