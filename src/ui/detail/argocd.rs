//! Argo CD in the detail screen: an Application's own state (sync / health, the automated
//! policy, target and synced revision, the operation, its history with the entry `u` rolls
//! back to), and for a release an Application manages, that app's state. Reads `&State` only.

use ratatui::text::Line;

use crate::core::kinds::application::{AppActionFacts, short_revision};
use crate::core::model::{GitOpsOwner, Release, ReleaseKind};
use crate::core::state::State;
use crate::core::text;
use crate::ui::theme::Theme;

/// History entries shown, newest first.
const HISTORY_ROWS: usize = 5;

/// An Application's lines in the steps section.
pub fn app_lines<'a>(r: &Release, theme: &Theme) -> Vec<Line<'a>> {
    let Some(f) = r.facts.argocd.as_deref() else {
        return vec![Line::styled(
            "  Argo CD application (no status yet)",
            theme.dim,
        )];
    };
    let mut lines = vec![
        Line::styled(
            format!("  Argo CD  {}", text::escape(&f.state)),
            theme.current,
        ),
        Line::raw(format!("  sync     {}", policy(f))),
        Line::raw(format!(
            "  target   {} · synced {}",
            or_dash(&text::escape(&f.target_revision)),
            or_dash(&text::escape(short_revision(&f.synced_revision)))
        )),
    ];
    if !f.op_phase.is_empty() {
        lines.push(Line::raw(format!(
            "  operation {} {}",
            text::escape(&f.op_phase),
            f.op_message.shown()
        )));
    }
    let mut history: Vec<_> = f.history.iter().collect();
    history.sort_by_key(|h| std::cmp::Reverse(h.id));
    lines.push(Line::raw(format!("  history  {} entries", history.len())));
    for h in history.iter().take(HISTORY_ROWS) {
        let mark = if Some(h.id) == f.rollback_to {
            "  ← undo (u) rolls back here"
        } else {
            ""
        };
        let by = if h.initiated_by.is_empty() {
            String::new()
        } else {
            format!(" by {}", h.initiated_by.shown())
        };
        lines.push(Line::raw(format!(
            "    {:>3} {}{by}{mark}",
            h.id,
            text::escape(short_revision(&h.revision))
        )));
    }
    lines
}

fn policy(f: &AppActionFacts) -> String {
    if f.automated_on {
        let mut flags = Vec::new();
        if f.self_heal {
            flags.push("self-heal");
        }
        if f.prune {
            flags.push("prune");
        }
        if flags.is_empty() {
            "automated".to_string()
        } else {
            format!("automated ({})", flags.join(", "))
        }
    } else if f.automated_before.is_some() {
        "manual (automated turned off by a rollback: resume turns it back on)".to_string()
    } else {
        "manual".to_string()
    }
}

fn or_dash(s: &str) -> String {
    if s.is_empty() { "-".into() } else { s.into() }
}

/// For a release an Argo CD Application manages: that app's state, when it is in view.
pub fn owner_lines<'a>(state: &State, r: &Release, theme: &Theme) -> Vec<Line<'a>> {
    let Some(app) = owning_app(state, r) else {
        return Vec::new();
    };
    let Some(f) = app.facts.argocd.as_deref() else {
        return Vec::new();
    };
    vec![Line::styled(
        format!(
            "  Argo CD app {}/{}: {}",
            text::escape(&app.key.namespace),
            text::escape(&app.key.name),
            text::escape(&f.state)
        ),
        theme.current,
    )]
}

/// The Application (same cluster) that manages `r`: named by its tracking label or
/// annotation, or listing `r` among its `status.resources`.
pub fn owning_app<'a>(state: &'a State, r: &Release) -> Option<&'a Release> {
    if r.key.kind == ReleaseKind::Application {
        return None;
    }
    let named = match &r.gitops {
        Some(GitOpsOwner::ArgoCd(name)) => Some(name.as_str()),
        _ => None,
    };
    let group = match r.key.kind {
        ReleaseKind::Deployment => "apps",
        other => other.api().group,
    };
    state.releases.values().find(|app| {
        app.key.kind == ReleaseKind::Application
            && app.key.cluster == r.key.cluster
            && (Some(app.key.name.as_str()) == named
                || app.facts.argocd.as_deref().is_some_and(|f| {
                    f.resources.iter().any(|res| {
                        res.group == group
                            && res.kind == r.key.kind.name()
                            && res.namespace == r.key.namespace
                            && res.name == r.key.name
                    })
                }))
    })
}
