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
        Context::Logs => return super::logs::on_key(state, cmd),
        Context::LogSearch => super::logs::on_search_key(state, key, cmd),
        Context::Home | Context::Detail => return main_key(state, cmd),
        Context::Pods => return super::inspect::pods_key(state, cmd),
        Context::Revisions => return revisions_key(state, cmd),
        Context::Yaml | Context::YamlSearch => {
            return super::yaml::on_key(state, ctx, key, cmd);
        }
        Context::Message => return super::message::on_key(state, cmd),
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
            Some(
                Command::Filter
                    | Command::Act(_)
                    | Command::Open
                    | Command::Clusters
                    | Command::History
                    | Command::Yaml
            )
        ),
        Context::Clusters => matches!(cmd, Some(Command::Toggle | Command::ShowAll)),
        Context::Revisions => matches!(cmd, Some(Command::Act(_) | Command::Yaml)),
        Context::Help
        | Context::Audit
        | Context::Modal
        | Context::Typing
        | Context::Pods
        | Context::Yaml
        | Context::YamlSearch
        | Context::Message => false,
        Context::Logs | Context::LogSearch => false,
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

pub(super) fn back(state: &mut State) {
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
        Some(Command::Open) if detail => return super::inspect::open_pods(state),
        Some(Command::Open) if state.view.panel == Panel::Releases => {
            if state.selected_release().is_some() {
                return open_detail(state);
            }
        }
        // Enter on a failure: the detail of the release its object belongs to.
        Some(Command::Open) if state.view.panel == Panel::Failures => {
            if super::inspect::select_failure(state) {
                let mut effects = open_detail(state);
                effects.extend(super::inspect::open_failed_pod(state));
                return effects;
            }
        }
        Some(Command::NextPanel) if detail => super::inspect::move_revision(state, 1),
        Some(Command::PrevPanel) if detail => super::inspect::move_revision(state, -1),
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
        Some(Command::Copy) => super::copy::copy_selected(state, false),
        Some(Command::CopyKubectl) => super::copy::copy_selected(state, true),
        Some(Command::Logs) => return super::logs::open_release(state),
        Some(Command::Revisions) if state.selected_release().is_some() => {
            state.view.revisions_selected = 0;
            open(state, Screen::Revisions);
            return access_checks(state);
        }
        Some(Command::Yaml) => return super::yaml::open(state),
        Some(Command::Message) => return super::message::open(state),
        Some(Command::History) => {
            state.view.history = !state.view.history;
            state.view.order_dirty = true;
            let text = if state.view.history {
                "history: every release".to_string()
            } else {
                let mins = state.settings.recent.as_mins();
                format!("history off: in flight and finished in the last {mins} min")
            };
            state.view.notice = Some(super::state::Notice {
                text,
                level: super::state::Level::Info,
                at: state.now,
            });
        }
        Some(Command::Down) => return moved(state, detail, 1),
        Some(Command::Up) => return moved(state, detail, -1),
        Some(Command::PageDown) => return moved(state, detail, page),
        Some(Command::PageUp) => return moved(state, detail, -page),
        Some(Command::First) => return moved(state, detail, isize::MIN / 2),
        Some(Command::Last) => return moved(state, detail, isize::MAX / 2),
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

/// Open the selected release's detail: RBAC checks for its actions and its events.
fn open_detail(state: &mut State) -> Vec<Effect> {
    state.view.screen = Screen::Detail;
    let mut effects = access_checks(state);
    effects.extend(super::inspect::detail_opened(state));
    effects.extend(super::analysis::detail_opened(state));
    effects.extend(super::flux_reads::detail_opened(state));
    effects
}

/// Move the cursor; in the detail screen another release is now shown: its events.
fn moved(state: &mut State, detail: bool, by: isize) -> Vec<Effect> {
    let before = state.view.selected;
    nav::move_cursor(state, by);
    if detail && state.view.selected != before {
        return open_detail(state);
    }
    Vec::new()
}

/// The revisions screen: move over the release's revisions (newest first), undo to the one
/// under the cursor, open the YAML view, go back.
fn revisions_key(state: &mut State, cmd: Option<Command>) -> Vec<Effect> {
    let Some(r) = state.selected_release() else {
        back(state);
        return Vec::new();
    };
    let rows = super::revisions::choices(r);
    let last = rows.len().saturating_sub(1);
    let at = state.view.revisions_selected.min(last);
    let page = state.page_rows();
    state.view.revisions_selected = match cmd {
        Some(Command::Back) => {
            back(state);
            return Vec::new();
        }
        Some(Command::Down) => (at + 1).min(last),
        Some(Command::Up) => at.saturating_sub(1),
        Some(Command::PageDown) => (at + page).min(last),
        Some(Command::PageUp) => at.saturating_sub(page),
        Some(Command::First) => 0,
        Some(Command::Last) => last,
        Some(Command::Act(_)) => {
            let Some(name) = rows.get(at).cloned() else {
                return Vec::new();
            };
            return modal::start_undo_to(state, &name);
        }
        Some(Command::Yaml) => return super::yaml::open(state),
        _ => {
            state.dirty = false;
            at
        }
    };
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
