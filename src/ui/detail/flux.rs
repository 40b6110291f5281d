//! A Flux Kustomization's or HelmRelease's source in the detail screen: its Ready, message
//! and artifact revision, read with one GET when the detail opened (`core::flux_reads`).
//! Reads `&State` only; every string from the cluster is escaped. The first line is the
//! state, the next the source's name, so both fit the 80-column detail's narrow column.

use ratatui::text::Line;

use crate::core::kinds::flux::Ready;
use crate::core::model::Release;
use crate::core::state::State;
use crate::core::text;
use crate::ui::theme::Theme;

pub fn source_lines<'a>(state: &State, r: &Release, theme: &Theme) -> Vec<Line<'a>> {
    let Some(v) = state
        .view
        .flux_source
        .as_ref()
        .filter(|v| v.release == r.key)
    else {
        return Vec::new();
    };
    let name = Line::raw(format!(
        "    {}",
        text::escape(&v.source.describe()).into_owned()
    ));
    let head = |text: String, style| Line::styled(format!("  source   {text}"), style);
    if v.query.is_none() {
        return vec![
            head(
                "not read (shipdeck reads Git and OCI repositories)".into(),
                theme.dim,
            ),
            name,
        ];
    }
    match &v.result {
        None => vec![head("reading…".into(), theme.dim), name],
        Some(Err(why)) => vec![
            head(format!("not read: {}", why.shown()), theme.notice_warn),
            name,
        ],
        Some(Ok(s)) => {
            let style = match s.ready {
                Ready::True => theme.phase_healthy,
                Ready::False => theme.phase_degraded,
                Ready::Unknown => theme.phase_progressing,
            };
            let suspended = if s.suspend { " · suspended" } else { "" };
            let rev = if s.artifact_revision.is_empty() {
                "-".into()
            } else {
                text::escape(&s.artifact_revision).into_owned()
            };
            let mut lines = vec![
                head(format!("Ready={}{suspended}", s.ready.as_str()), style),
                name,
                Line::raw(format!("    artifact {rev}")),
            ];
            if !s.ready_message.is_empty() {
                lines.push(Line::raw(format!("    {}", s.ready_message.shown())));
            }
            lines
        }
    }
}
