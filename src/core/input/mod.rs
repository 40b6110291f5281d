//! Keys → state changes and effects. The key table (`core::keys`) says which command a key
//! triggers where; this module carries commands out for the screens. The modal and starting
//! actions live in `modal`, cursor/filter/cluster-list handling in `nav`. Decides no action
//! policy (that is `core::offer`) and does no IO.

mod modal;
mod nav;

use super::effect::Effect;
use super::keys::{self, Command, Context};
use super::msg::Key;
use super::state::{AccessKey, Panel, Screen, State};

pub use super::offer::plan_allowed;
pub use modal::{follow_modal, on_action_done};
pub use nav::clamp_scroll;

pub fn on_key(state: &mut State, key: Key) -> Vec<Effect> {
    state.dirty = true;
    let ctx = keys::context(state);
    let cmd = keys::command(ctx, key);
    if cmd == Some(Command::Quit) {
        state.quit = true;
        return Vec::new();
    }
    if starts_something(ctx, cmd) {
        state.view.notice = None;
    }
    match ctx {
        Context::Modal | Context::Typing => return modal::modal_key(state, key, cmd),
        Context::Filter => nav::filter_key(state, key, cmd),
        Context::Help => help_key(state, cmd),
        Context::Audit => audit_key(state, cmd),
        Context::Clusters => nav::clusters_key(state, cmd),
        Context::Home | Context::Detail => return main_key(state, cmd),
    }
    Vec::new()
}

/// Does this key start something else, so the last notice (about what came before) goes?
/// Editing the filter, starting an action, opening a release, choosing clusters: yes.
/// Moving the cursor or reading help and the audit log: no — a result stays readable.
/// The handler may leave a new notice of its own (a refusal, "cancelled — nothing sent").
fn starts_something(ctx: Context, cmd: Option<Command>) -> bool {
    match ctx {
        Context::Filter => true,
        Context::Home | Context::Detail => matches!(
            cmd,
            Some(Command::Filter | Command::Act(_) | Command::Open | Command::Clusters)
        ),
        Context::Clusters => matches!(cmd, Some(Command::Toggle | Command::ShowAll)),
        Context::Help | Context::Audit | Context::Modal | Context::Typing => false,
    }
}

/// Scrolls within the help text as laid out for this terminal (`keys::help`), so the last
/// line stops at the bottom and `k` moves at once after `G`.
fn help_key(state: &mut State, cmd: Option<Command>) {
    let (w, h) = (state.view.width, state.view.height);
    let last = keys::help::max_offset(w, h);
    let page = keys::help::page(h);
    let offset = state.view.help_offset.min(last);
    state.view.help_offset = match cmd {
        Some(Command::Back) => return back(state),
        Some(Command::Down) => (offset + 1).min(last),
        Some(Command::Up) => offset.saturating_sub(1),
        Some(Command::PageDown) => (offset + page).min(last),
        Some(Command::PageUp) => offset.saturating_sub(page),
        Some(Command::First) => 0,
        Some(Command::Last) => last,
        _ => offset,
    };
}

fn audit_key(state: &mut State, cmd: Option<Command>) {
    let last = super::audit::visible_len(state).saturating_sub(1);
    let offset = state.view.audit_offset;
    match cmd {
        Some(Command::Back) => back(state),
        Some(Command::Down) => state.view.audit_offset = (offset + 1).min(last),
        Some(Command::Up) => state.view.audit_offset = offset.saturating_sub(1),
        Some(Command::First) => state.view.audit_offset = 0,
        Some(Command::Last) => state.view.audit_offset = last,
        // This session's records, or every session's: a different list, from its top.
        Some(Command::ShowAll) => {
            state.view.audit_all = !state.view.audit_all;
            state.view.audit_offset = 0;
        }
        _ => {}
    }
}

fn back(state: &mut State) {
    state.view.screen = state.view.previous;
    state.view.previous = Screen::Home;
}

fn open(state: &mut State, screen: Screen) {
    if state.view.screen != screen {
        state.view.previous = match state.view.screen {
            Screen::Detail => Screen::Detail,
            _ => Screen::Home,
        };
        state.view.screen = screen;
    }
}

fn main_key(state: &mut State, cmd: Option<Command>) -> Vec<Effect> {
    let detail = state.view.screen == Screen::Detail;
    let page = state.page_rows() as isize;
    match cmd {
        Some(Command::Back) if detail => state.view.screen = Screen::Home,
        Some(Command::Back) if !state.view.filter.value().is_empty() => {
            state.view.filter.reset();
            state.view.order_dirty = true;
        }
        Some(Command::Open) if state.view.panel == Panel::Releases => {
            if state.selected_release().is_some() {
                state.view.screen = Screen::Detail;
                return access_checks(state);
            }
        }
        Some(Command::NextPanel) => state.view.panel = next_panel(state.view.panel, 1),
        Some(Command::PrevPanel) => state.view.panel = next_panel(state.view.panel, 2),
        Some(Command::Filter) => {
            state.view.screen = Screen::Home;
            state.view.panel = Panel::Releases;
            state.view.filter_editing = true;
        }
        Some(Command::Clusters) => open(state, Screen::Clusters),
        Some(Command::Help) => open(state, Screen::Help),
        Some(Command::Audit) => open(state, Screen::Audit),
        Some(Command::Down) => nav::move_cursor(state, 1),
        Some(Command::Up) => nav::move_cursor(state, -1),
        Some(Command::PageDown) => nav::move_cursor(state, page),
        Some(Command::PageUp) => nav::move_cursor(state, -page),
        Some(Command::First) => nav::move_cursor(state, isize::MIN / 2),
        Some(Command::Last) => nav::move_cursor(state, isize::MAX / 2),
        Some(Command::Act(kind)) => {
            if let Some(r) = state.selected_release() {
                let kind = keys::resolve(kind, r);
                return modal::start_action(state, kind);
            }
            state.dirty = false;
        }
        _ => state.dirty = false,
    }
    Vec::new()
}

fn next_panel(p: Panel, by: usize) -> Panel {
    let all = [Panel::Releases, Panel::Slos, Panel::Failures];
    let i = all.iter().position(|x| *x == p).unwrap_or(0);
    all[(i + by) % all.len()]
}

/// RBAC checks for every action on the release in view, unless answered and still fresh
/// (`core::access`). None on a read-only cluster (global or its own): no action can be taken
/// there, and an access review is a create on the API server.
pub(crate) fn access_checks(state: &State) -> Vec<Effect> {
    let Some(r) = state.selected_release() else {
        return Vec::new();
    };
    let cluster_read_only = state.cluster(&r.key.cluster).is_some_and(|c| c.read_only);
    if state.settings.read_only || cluster_read_only {
        return Vec::new();
    }
    super::kinds::access_needs(r)
        .into_iter()
        .filter(|(verb, res)| {
            state
                .access
                .get(&AccessKey::new(&r.key.cluster, &r.key.namespace, verb, res))
                .and_then(|a| a.current(state.now))
                .is_none()
        })
        .map(|(verb, res)| Effect::CheckAccess {
            cluster: r.key.cluster.clone(),
            namespace: r.key.namespace.clone(),
            verb: verb.into(),
            resource: res.into(),
        })
        .collect()
}

#[cfg(test)]
mod tests;

#[cfg(test)]
mod modal_tests;
