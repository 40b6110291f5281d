//! The detail screen's action bar: every action with its key, and either what to expect
//! (error-budget gate, typed name on prod, RBAC not checked yet) or why it is disabled
//! (read-only, no RBAC permission, not applicable to the object's state, in flight).
//! Uses the core's own rules (`availability`, `plan`, `plan_allowed`, `paging_rule`) so
//! the bar never disagrees with what the key would do.

use ratatui::style::Style;
use ratatui::text::{Line, Span};

use super::detail::section_title;
use super::{fmt, theme::Theme};
use crate::core::action::{self, ActionKind};
use crate::core::input::plan_allowed;
use crate::core::model::{Cluster, Release, ReleaseKind};
use crate::core::slo;
use crate::core::state::State;

/// The keys the action bar lists, in key-map order. Space and `p` mean what `input.rs`
/// makes them mean for this release (resume when manually paused).
fn key_actions(r: &Release) -> [(&'static str, ActionKind); 7] {
    let space = if r.facts.spec_paused {
        ActionKind::Resume
    } else {
        ActionKind::Pause
    };
    let p = if r.key.kind == ReleaseKind::Deployment && r.facts.spec_paused {
        ActionKind::Resume
    } else {
        ActionKind::Promote
    };
    [
        ("space", space),
        ("p", p),
        ("P", ActionKind::PromoteFull),
        ("a", ActionKind::Abort),
        ("R", ActionKind::Retry),
        ("u", ActionKind::Undo),
        ("r", ActionKind::Restart),
    ]
}

/// Whether an action can be taken, and what the operator should know either way.
enum Availability {
    Enabled(Vec<String>),
    Disabled(String),
}

fn availability(
    state: &State,
    r: &Release,
    cluster: Option<&Cluster>,
    kind: ActionKind,
) -> Availability {
    let Some(cluster) = cluster else {
        return Availability::Disabled("cluster not configured".into());
    };
    if let Err(why) = action::availability(kind, r, cluster, state.settings.read_only) {
        return Availability::Disabled(why.to_string());
    }
    if state.pending.values().any(|p| p.key == r.key) {
        return Availability::Disabled(action::Disabled::Pending.to_string());
    }
    // Building the plan is cheap and only done for the one release on screen.
    let plan = match action::plan(kind, r, cluster, state.settings.read_only, state.now) {
        Ok(plan) => plan,
        Err(why) => return Availability::Disabled(why.to_string()),
    };
    let mut notes = Vec::new();
    match plan_allowed(state, &plan) {
        Some(false) => {
            let (verb, res) = plan
                .calls
                .first()
                .map_or(("patch", String::new()), |c| c.rbac());
            return Availability::Disabled(format!("no RBAC permission: {verb} {res}"));
        }
        None => notes.push("ready (RBAC not checked yet)".to_string()),
        Some(true) => {}
    }
    if kind.gated_by_burn()
        && let Some(s) = state.slo_for(r)
        && let Some((w, burn)) = slo::paging_rule(&s.burn)
    {
        notes.push(format!(
            "error budget gate: burn {} over {}",
            fmt::burn(Some(burn)),
            w.as_str()
        ));
    }
    if plan.needs_typed_name() {
        notes.push("prod: type the name".into());
    }
    Availability::Enabled(notes)
}

pub fn lines<'a>(
    state: &State,
    r: &Release,
    cluster: Option<&Cluster>,
    theme: &Theme,
    width: u16,
) -> Vec<Line<'a>> {
    let mut lines = vec![section_title("Actions", theme, width)];
    lines.extend(
        key_actions(r).into_iter().map(|(key, kind)| {
            action_line(key, kind, availability(state, r, cluster, kind), theme)
        }),
    );
    lines
}

fn action_line<'a>(
    key: &'static str,
    kind: ActionKind,
    availability: Availability,
    theme: &Theme,
) -> Line<'a> {
    let (label_style, status, status_style): (Style, String, Style) = match availability {
        Availability::Enabled(notes) if notes.is_empty() => {
            (theme.action_enabled, "ready".into(), theme.action_enabled)
        }
        // Notes are what to expect (gate, typed name); "disabled:" marks the others.
        Availability::Enabled(notes) => (
            theme.action_enabled,
            notes.join(" · "),
            theme.action_enabled,
        ),
        Availability::Disabled(why) => (
            theme.action_disabled,
            format!("disabled: {why}"),
            theme.action_disabled,
        ),
    };
    Line::from(vec![
        Span::styled(format!("  {key:<6}"), theme.key),
        Span::styled(format!("{:<13}", kind.label()), label_style),
        Span::styled(status, status_style),
    ])
}
