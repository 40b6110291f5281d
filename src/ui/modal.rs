//! The confirmation modal: what exactly will be sent (each call's verb, resource,
//! namespace/name and body), to which cluster (with its PROD marker), what the user saw
//! when choosing, caveats, the error-budget gate, the typed confirmation, and two buttons
//! with focus starting on Cancel. While open it shows what changed on the object since it
//! opened, or that it can no longer be confirmed. Centered; fits by compacting the JSON
//! body and, if still too tall, eliding its middle; on small terminals (down to the
//! console's minimum, `MIN_WIDTH` x `MIN_HEIGHT` in `ui`) it also shortens the notes and
//! wrapped rows, saying so — the typed field, what changed, the refusal and the buttons
//! always stay visible. Key hints come from the key table (`core::keys`).

use ratatui::Frame;
use ratatui::layout::{Position, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph};
use unicode_width::UnicodeWidthStr;

use super::{fmt, theme::Theme};
use crate::core::action::ApiCall;
use crate::core::keys::{self, HintAt};
use crate::core::revisions::{DiffLine, UndoPreview};
use crate::core::state::{Modal, ModalFocus, State};
use crate::core::text;

/// Label column width ("cluster ", "request ").
const LABEL: usize = 9;

pub fn render(frame: &mut Frame, area: Rect, _state: &State, m: &Modal, theme: &Theme) {
    // A margin around the modal only where it does not cost what the modal must show.
    let margin = |n: u16, roomy: u16| if n >= roomy { 4 } else { 0 };
    let width = area
        .width
        .saturating_sub(margin(area.width, 60))
        .clamp(20.min(area.width), 100);
    let inner_w = width.saturating_sub(4) as usize;
    let max_h = area
        .height
        .saturating_sub(margin(area.height, 16) / 2)
        .max(3.min(area.height));

    // The least compaction that leaves the request at least two rows (or the most).
    let avail = (max_h as usize).saturating_sub(2);
    let mut parts = None;
    for level in [Fit::Full, Fit::Short, Fit::Least] {
        let head = head_lines(m, theme, inner_w, level);
        let (tail, typed_row) = tail_lines(m, theme, inner_w, level);
        let fits = head.len() + tail.len() + 2 <= avail;
        parts = Some((head, tail, typed_row));
        if fits {
            break;
        }
    }
    let Some((head, tail, typed_row)) = parts else {
        return;
    };
    let room = avail.saturating_sub(head.len() + tail.len());
    // With an owner pre-step offered, its request shows as request 1 (sent only when
    // "Suspend owner first" is the choice).
    let calls = m.plan.with_owner_first().calls;
    let request = request_lines(&calls, m.undo_preview.as_ref(), theme, inner_w, room);

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

/// How much the modal shortens itself to fit: everything; notes and wrapped rows cut to
/// one row each (said); and also the dry run and the hint line dropped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fit {
    Full,
    Short,
    Least,
}

impl Fit {
    /// Rows a wrapped item may take.
    fn rows(self) -> usize {
        match self {
            Fit::Full => usize::MAX,
            Fit::Short | Fit::Least => 1,
        }
    }

    /// Rows for what must be read before confirming (a change, a refusal).
    fn must_rows(self) -> usize {
        match self {
            Fit::Full => usize::MAX,
            Fit::Short => 2,
            Fit::Least => 1,
        }
    }
}

fn labelled<'a>(label: &'static str, value: Vec<Span<'a>>, theme: &Theme) -> Line<'a> {
    let mut spans = vec![Span::styled(format!("{label:<LABEL$}"), theme.dim)];
    spans.extend(value);
    Line::from(spans)
}

/// Where and what: cluster with PROD marker, target object, what the user saw.
fn head_lines<'a>(m: &'a Modal, theme: &Theme, width: usize, level: Fit) -> Vec<Line<'a>> {
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
    // After a change the facts shown are the object's now, not what the user first saw.
    let label = if m.changed.is_empty() {
        "you saw"
    } else {
        "now"
    };
    lines.extend(wrapped(
        label,
        &seen.join(" · "),
        Style::default(),
        theme,
        width,
        level.rows(),
    ));
    // Undo: what the target revision was (rolled back before, the template just left) must
    // be read before confirming.
    for w in m.undo_preview.iter().flat_map(|p| &p.warnings) {
        lines.extend(wrapped(
            "warning",
            w,
            theme.notice_warn,
            theme,
            width,
            level.must_rows(),
        ));
    }
    lines
}

/// The exact requests, fitted into `room` lines: pretty JSON if it fits, else compact,
/// else compact with the middle elided (the describe line always shows).
fn request_lines<'a>(
    calls: &[ApiCall],
    undo: Option<&UndoPreview>,
    theme: &Theme,
    width: usize,
    room: usize,
) -> Vec<Line<'a>> {
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
            if let (ApiCall::RollbackTo { .. }, Some(p)) = (call, undo) {
                rows.extend(undo_rows(p, theme, body_w));
            }
        }
        rows
    };
    let mut rows = build(false);
    if rows.len() > room {
        rows = build(true);
    }
    if rows.len() > room && room < 2 {
        // No room for the request itself: say so rather than push the buttons off.
        let cut = rows.len();
        let said = format!("request  {cut} lines not shown: enlarge the terminal");
        let said = fmt::fit(&said, width).into_owned();
        return (room == 1)
            .then(|| Line::styled(said, theme.notice_warn))
            .into_iter()
            .collect();
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

/// What undo brings back: the warnings about the target, then the diff of the pod template
/// (`-` the revision in effect, `+` the target).
fn undo_rows(p: &UndoPreview, theme: &Theme, width: usize) -> Vec<(String, Style)> {
    let from = p.from.map_or_else(|| "?".to_string(), |n| n.to_string());
    let mut rows = vec![(
        format!(
            "pod template: - revision {from} (now)  + revision {} (undo)",
            p.to
        ),
        theme.dim,
    )];
    if p.same_summary {
        rows.push((
            "  same images, commands, env names, resources, probes and volumes: only fields not summarised differ".to_string(),
            theme.dim,
        ));
    }
    // Only what changes: the revisions screen shows the context.
    let changed: Vec<DiffLine> = p
        .lines
        .iter()
        .filter(|l| matches!(l, DiffLine::Removed(_) | DiffLine::Added(_)))
        .cloned()
        .collect();
    for l in super::revisions::diff_lines(&changed, theme, width) {
        let style = l.style;
        let text: String = l.spans.iter().map(|s| s.content.as_ref()).collect();
        rows.push((format!("  {text}"), style));
    }
    rows
}

/// `text` wrapped beside `label` (on its first row only), at most `max` rows; when cut, the
/// last row shown ends with `…`.
fn wrapped<'a>(
    label: &'static str,
    text: &str,
    style: Style,
    theme: &Theme,
    width: usize,
    max: usize,
) -> impl Iterator<Item = Line<'a>> {
    let w = width.saturating_sub(LABEL);
    let rows = cut_rows(fmt::wrap(text, w), max, w);
    rows.into_iter().enumerate().map(move |(i, row)| {
        let label = if i == 0 { label } else { "" };
        labelled(label, vec![Span::styled(row, style)], theme)
    })
}

/// At most `max` of `rows` (`width` wide); when some are cut the last one kept ends in `…`.
fn cut_rows(mut rows: Vec<String>, max: usize, width: usize) -> Vec<String> {
    if rows.len() > max && max > 0 {
        rows.truncate(max);
        if let Some(last) = rows.last_mut() {
            let cut = fmt::fit(last, width.saturating_sub(1)).into_owned();
            *last = format!("{}…", cut.trim_end_matches('…'));
        }
    }
    rows
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
    let mut spans = vec![
        Span::styled(prompt, theme.danger),
        Span::raw("["),
        Span::styled(shown, theme.input),
        Span::raw("]"),
    ];
    if m.typed.value() == expected {
        spans.push(Span::styled(" ✓", theme.phase_healthy));
    }
    (Line::from(spans), column)
}

/// Notes, gate, typed field, refusal, buttons, hint. Returns the typed field's (row,
/// column) for the cursor.
fn tail_lines<'a>(
    m: &'a Modal,
    theme: &Theme,
    width: usize,
    level: Fit,
) -> (Vec<Line<'a>>, Option<(usize, usize)>) {
    let mut lines = Vec::new();
    // What changed on the object since the modal opened, or why it cannot be confirmed:
    // first, so it is read before the buttons.
    if let Some(why) = &m.void {
        let why = text::escape(why);
        lines.extend(wrapped(
            "BLOCKED",
            &why,
            theme.notice_error,
            theme,
            width,
            level.must_rows(),
        ));
    }
    if !m.changed.is_empty() {
        let mut changed = format!("{} since you opened", m.changed.join(" · "));
        if m.void.is_none() {
            changed.push_str(" — re-checked: confirm again");
        }
        let changed = text::escape(&changed);
        lines.extend(wrapped(
            "CHANGED",
            &changed,
            theme.danger,
            theme,
            width,
            level.must_rows(),
        ));
    }
    match level {
        Fit::Full => {
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
        }
        Fit::Short if !m.plan.notes.is_empty() => {
            let n = m.plan.notes.len();
            let s = if n == 1 { "" } else { "s" };
            let hidden = format!("{n} note{s} not shown: enlarge the terminal to read");
            lines.extend(wrapped("note", &hidden, theme.notice_warn, theme, width, 1));
        }
        _ => {}
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
            level.rows(),
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
            level.rows(),
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
    // Nothing to confirm: no dry run to wait for.
    if level != Fit::Least && m.void.is_none() {
        lines.extend(wrapped(
            "dry run",
            &dry,
            dry_style,
            theme,
            width,
            level.rows().min(2),
        ));
    }
    if let Some(refusal) = &m.refusal {
        let rows = fmt::wrap(&format!("✗ {}", text::escape(refusal)), width);
        for row in cut_rows(rows, level.must_rows().min(2), width) {
            lines.push(Line::styled(row, theme.notice_error));
        }
    }
    lines.push(buttons(m, theme, width));
    if level != Fit::Least {
        let hint = keys::hint_line(if m.must_type.is_some() {
            HintAt::TypingBox
        } else {
            HintAt::ModalBox
        });
        lines.push(Line::styled(fmt::fit(&hint, width).into_owned(), theme.dim));
    }
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
    let confirm_style = if m.void.is_some() {
        theme.action_disabled
    } else if m.plan.kind.destructive() {
        theme.danger
    } else {
        theme.button
    };
    // Cannot be confirmed: the button says so in words, not only by its style.
    let confirm = if m.void.is_some() {
        "Confirm ✗"
    } else {
        "Confirm"
    };
    let mut spans = vec![
        button("Cancel", m.focus == ModalFocus::Cancel, theme.button),
        Span::raw("   "),
        button(confirm, m.focus == ModalFocus::Confirm, confirm_style),
    ];
    if m.plan.owner_first.is_some() {
        spans.push(Span::raw(" "));
        spans.push(button(
            "Suspend owner first",
            m.focus == ModalFocus::OwnerFirst,
            confirm_style,
        ));
    }
    let used: usize = spans.iter().map(Span::width).sum();
    let mut centered = vec![Span::raw(" ".repeat(width.saturating_sub(used) / 2))];
    centered.extend(spans);
    Line::from(centered)
}
