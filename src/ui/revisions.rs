//! The revisions screen (`v`): every revision of the selected release, newest first —
//! revision, role, age, images, what changed it (the Argo CD sync that made it, change
//! cause, the field manager of the last template change) and marks for the one in effect
//! and those rolled back or aborted — then, as room allows, the diff of the pod template
//! that undo to the row under the cursor would bring back (`core::revisions`). For an Argo CD application the rows are its history
//! entries and a row's rollback writes back that entry's revision and source. Every
//! cluster string is escaped (`core::text`).

use std::borrow::Cow;

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::Line;

use super::fmt;
use super::grid::{self, Col};
use super::theme::Theme;
use crate::core::kinds::application::HistoryEntry;
use crate::core::kinds::application::{self, AppActionFacts};
use crate::core::model::{Revision, RsRole};
use crate::core::revisions::{self, DiffLine};
use crate::core::state::State;
use crate::core::text;

fn role(r: &Revision, newest: Option<i64>) -> &'static str {
    if r.revision.is_some() && r.revision == newest {
        return "current";
    }
    match r.role {
        RsRole::Canary => "canary",
        RsRole::Stable => "stable",
        RsRole::New => "new",
        _ => "",
    }
}

/// "change cause · by manager", escaped.
fn changed_by(r: &Revision, aborted: bool, synced: Option<&HistoryEntry>) -> String {
    let mut parts = Vec::new();
    if let Some(h) = synced {
        parts.push(format!(
            "argocd {}",
            text::escape(revisions::short_revision(&h.revision))
        ));
    }
    if let Some(c) = &r.info.change_cause {
        parts.push(c.shown().into_owned());
    }
    if let Some(m) = &r.info.manager {
        parts.push(format!("by {}", m.shown()));
    }
    if r.info.rolled_back {
        parts.push("rolled back".to_string());
    }
    if aborted {
        parts.push("aborted".to_string());
    }
    if !r.info.history.is_empty() {
        let was: Vec<String> = r.info.history.iter().map(i64::to_string).collect();
        parts.push(format!("was revision {}", was.join(",")));
    }
    if parts.is_empty() {
        "—".to_string()
    } else {
        parts.join(" · ")
    }
}

/// The diff lines as the modal and this screen show them: `-` now, `+` brought back.
pub fn diff_lines<'a>(lines: &[DiffLine], theme: &Theme, width: usize) -> Vec<Line<'a>> {
    lines
        .iter()
        .map(|l| {
            let (mark, t, style) = match l {
                DiffLine::Same(t) => (" ", t.shown().into_owned(), theme.text),
                DiffLine::Removed(t) => ("-", t.shown().into_owned(), theme.phase_degraded),
                DiffLine::Added(t) => ("+", t.shown().into_owned(), theme.phase_healthy),
                DiffLine::Skipped(n) => (" ", format!("… {n} unchanged"), theme.dim),
            };
            let row = format!("{mark} {t}");
            Line::styled(fmt::fit(&row, width).into_owned(), style)
        })
        .collect()
}

pub fn render(frame: &mut Frame, area: Rect, state: &State, theme: &Theme) {
    if area.height == 0 {
        return;
    }
    let width = area.width as usize;
    let Some(r) = state.selected_release() else {
        grid::draw_lines(
            frame,
            area,
            vec![Line::styled("  no release selected", theme.dim)],
        );
        return;
    };
    let name = format!(
        "Revisions of {} {}/{} on {}",
        r.key.kind.short(),
        text::escape(&r.key.namespace),
        text::escape(&r.key.name),
        text::escape(&r.key.cluster)
    );
    let mut lines = vec![grid::title_bar(&name, Vec::new(), true, theme, area.width)];
    if let Some(f) = r.facts.argocd.as_deref() {
        history(&mut lines, state, f, theme, area);
        grid::draw_lines(frame, area, lines);
        return;
    }
    let newest = r.revisions.iter().filter_map(|v| v.revision).max();
    let aborts = revisions::aborts_seen(state, r);
    let aborted = |v: &Revision| {
        v.info.aborted.is_some()
            || aborts
                .iter()
                .any(|m| v.revision.is_some() && revisions::aborted_revision(m.raw()) == v.revision)
    };
    // The Argo CD application that syncs this release: its history names each revision's sync.
    let history: &[HistoryEntry] = super::detail::argocd::owning_app(state, r)
        .and_then(|app| app.facts.argocd.as_deref())
        .map_or(&[], |f| f.history.as_slice());
    let mut cols = vec![
        Col::left("", 1),
        Col::right("REV", 4),
        Col::left("ROLE", 7),
        Col::right("AGE", 5),
        Col::left("IMAGES", 30),
        Col::left("CHANGED BY", 10),
    ];
    if width < 100 {
        cols[4].width = 22;
    }
    grid::fill_last(&mut cols, width, 10);
    lines.push(grid::header_row(&cols, theme.table_header));
    let len = r.revisions.len();
    let cursor = state.view.revisions_selected.min(len.saturating_sub(1));
    // The table takes what it needs up to half the screen; the diff takes the rest.
    let room = (area.height as usize).saturating_sub(2);
    let table_rows = len.min(room.div_ceil(2).max(3)).min(room);
    let window = grid::window(len, 0, cursor, table_rows);
    for (i, v) in r
        .revisions
        .iter()
        .enumerate()
        .skip(window.start)
        .take(table_rows)
    {
        let style = if i == cursor {
            theme.selected
        } else {
            theme.text
        };
        let images: Vec<Cow<'_, str>> = v.images.iter().map(|s| text::escape(s)).collect();
        let rev = v
            .revision
            .map_or_else(|| "?".to_string(), |n| n.to_string());
        let mark = if i == cursor { "▸" } else { " " };
        lines.push(grid::row(
            &cols,
            vec![
                (Cow::Borrowed(mark), style),
                (Cow::Owned(rev), style),
                (Cow::Borrowed(role(v, newest)), style),
                (Cow::Owned(fmt::age(state.now, v.info.created)), style),
                (Cow::Owned(images.join(", ")), style),
                (
                    Cow::Owned(changed_by(
                        v,
                        aborted(v),
                        revisions::sync_entry(history, v.info.created),
                    )),
                    style,
                ),
            ],
        ));
    }
    if len == 0 {
        lines.push(Line::styled(
            "  no ReplicaSets seen for this release",
            theme.dim,
        ));
    }
    let left = (area.height as usize).saturating_sub(lines.len());
    if let Some(v) = r.revisions.get(cursor)
        && left >= 3
    {
        let to = v.revision.unwrap_or(0);
        let head = if v.revision == newest {
            format!("revision {to} is the template in effect: undo to it sends nothing")
        } else {
            format!("undo to revision {to} (Enter/u) brings back: - now  + revision {to}")
        };
        lines.push(Line::styled(fmt::fit(&head, width).into_owned(), theme.dim));
        if let Some(p) = revisions::preview(&r.revisions, to, &aborts)
            && v.revision != newest
        {
            for w in &p.warnings {
                lines.push(Line::styled(
                    fmt::fit(&format!("! {w}"), width).into_owned(),
                    theme.notice_warn,
                ));
            }
            if p.same_summary {
                lines.push(Line::styled(
                    "  the summaries match: the templates differ only in fields not summarised (env values, other fields)",
                    theme.dim,
                ));
            }
            lines.extend(diff_lines(&p.lines, theme, width));
        }
    }
    grid::draw_lines(frame, area, lines);
}

/// An Argo CD application's history (newest first: id, age, revision, source, who), and
/// under it what a rollback to the entry under the cursor writes back.
fn history<'a>(
    lines: &mut Vec<Line<'a>>,
    state: &State,
    f: &'a AppActionFacts,
    theme: &Theme,
    area: Rect,
) {
    let width = area.width as usize;
    let entries = application::history_newest_first(f);
    let mut cols = vec![
        Col::left("", 1),
        Col::right("ID", 4),
        Col::left("ROLE", 7),
        Col::right("AGE", 5),
        Col::left("REVISION", 8),
        Col::left("SOURCE", 24),
        Col::left("INITIATED BY", 12),
    ];
    if width < 100 {
        cols[5].width = 16;
    }
    grid::fill_last(&mut cols, width, 12);
    lines.push(grid::header_row(&cols, theme.table_header));
    let len = entries.len();
    let cursor = state.view.revisions_selected.min(len.saturating_sub(1));
    let room = (area.height as usize).saturating_sub(2);
    let table_rows = len.min(room.div_ceil(2).max(3)).min(room);
    let window = grid::window(len, 0, cursor, table_rows);
    for (i, h) in entries
        .iter()
        .enumerate()
        .skip(window.start)
        .take(table_rows)
    {
        let style = if i == cursor {
            theme.selected
        } else {
            theme.text
        };
        let role = if i == 0 {
            "current"
        } else if Some(h.id) == f.rollback_to {
            "u→here"
        } else {
            ""
        };
        let s = |key: &str| h.source.get(key).and_then(serde_json::Value::as_str);
        let source = match (s("path").or(s("chart")), s("targetRevision")) {
            (Some(p), Some(t)) => format!("{p}@{t}"),
            (Some(p), None) => p.to_string(),
            (None, t) => t.unwrap_or("—").to_string(),
        };
        let by = if h.initiated_by.is_empty() {
            Cow::Borrowed("—")
        } else {
            h.initiated_by.shown()
        };
        lines.push(grid::row(
            &cols,
            vec![
                (Cow::Borrowed(if i == cursor { "▸" } else { " " }), style),
                (Cow::Owned(h.id.to_string()), style),
                (Cow::Borrowed(role), style),
                (Cow::Owned(fmt::age(state.now, h.deployed_at)), style),
                (
                    text::escape(application::short_revision(&h.revision)),
                    style,
                ),
                (Cow::Owned(text::escape(&source).into_owned()), style),
                (Cow::Owned(by.into_owned()), style),
            ],
        ));
    }
    if len == 0 {
        lines.push(Line::styled("  no history yet (never synced)", theme.dim));
    }
    let left = (area.height as usize).saturating_sub(lines.len());
    let Some(h) = entries.get(cursor).filter(|_| left >= 3) else {
        return;
    };
    if cursor == 0 {
        let head = format!(
            "history {} is deployed now: a rollback to it sends nothing",
            h.id
        );
        lines.push(Line::styled(fmt::fit(&head, width).into_owned(), theme.dim));
        return;
    }
    let head = format!(
        "rollback to history {} (Enter/u) writes back: - deployed now  + history {}",
        h.id, h.id
    );
    lines.push(Line::styled(fmt::fit(&head, width).into_owned(), theme.dim));
    let chosen = f.history.iter().find(|e| e.id == h.id);
    let now = entries.first();
    if let (Some(chosen), Some(now)) = (chosen, now) {
        let diff = revisions::diff(
            &application::entry_lines(now),
            &application::entry_lines(chosen),
            2,
        );
        lines.extend(diff_lines(&diff, theme, width));
    }
}
