//! Starting an action from its offer, the confirmation modal's keys, following the modal's
//! object while it is open, sending the confirmed plan, and taking the result back. Action
//! policy is `core::offer`'s; this module only turns an offer into a modal (or a notice
//! saying why not) and must not re-check rules.
//!
//! The rules of the modal:
//! - Focus starts on Cancel. When a name must be typed, focus moves to Confirm by itself
//!   once the text matches (and back to Cancel if it stops matching), so Enter confirms.
//!   Before it matches, Enter on the Cancel focus the modal started with confirms nothing
//!   and cancels nothing: it says what is still needed. Focus moved there with Tab is the
//!   user's choice and Enter activates it.
//! - Every cancel (Esc, `n`, Enter on Cancel) leaves the notice "cancelled — nothing sent".
//! - While open, the modal follows its object (`follow_modal`): when what the user saw
//!   changes it says what ("step 3→5 since you opened"), re-plans, re-runs the dry run,
//!   puts focus back on Cancel and so asks again; a typed name stays typed. A new
//!   resourceVersion alone re-plans (the precondition follows the object) without asking
//!   again. If the object disappears or the action is no longer possible, the modal says
//!   so and cannot be confirmed.

use std::borrow::Cow;

use tui_input::{Input, InputRequest};

use crate::core::action::{ActionKind, ActionPlan, Watched};
use crate::core::effect::Effect;
use crate::core::keys::Command;
use crate::core::kinds::application;
use crate::core::model::{Release, ReleaseKey};
use crate::core::msg::{Key, Outcome};
use crate::core::offer::{self, Refusal};
use crate::core::revisions;
use crate::core::state::{Level, Modal, ModalFocus, Notice, Pending, State};

fn notice(state: &mut State, level: Level, text: String) {
    state.view.notice = Some(Notice {
        text,
        level,
        at: state.now,
    });
}

/// The release as an undo to ReplicaSet `to` sees it: its undo target is that ReplicaSet at
/// the revision it has now. None when `to` is no longer one of its revisions.
fn undo_chosen<'a>(r: &'a Release, to: Option<&str>) -> Option<Cow<'a, Release>> {
    let Some(to) = to else {
        return Some(Cow::Borrowed(r));
    };
    if r.facts.argocd.is_some() {
        let id = to.parse().ok()?;
        return application::chosen(r, id).map(Cow::Owned);
    }
    let rev = r
        .revisions
        .iter()
        .find(|v| v.name == to)
        .and_then(|v| v.revision)?;
    let mut chosen = r.clone();
    chosen.facts.undo_target = Some((to.to_string(), rev));
    Some(Cow::Owned(chosen))
}

/// The undo modal's diff and warnings for the undo `r`'s facts point at.
fn undo_preview(state: &State, r: &Release, kind: ActionKind) -> Option<revisions::UndoPreview> {
    if kind != ActionKind::Undo {
        return None;
    }
    if r.facts.argocd.is_some() {
        return application::preview(r);
    }
    let (_, to) = r.facts.undo_target.as_ref()?;
    revisions::preview(&r.revisions, *to, &revisions::aborts_seen(state, r))
}

/// Open the confirmation for `kind` on the selected release, or say why it is refused.
pub(super) fn start_action(state: &mut State, kind: ActionKind) -> Vec<Effect> {
    start(state, kind, None)
}

/// Undo to ReplicaSet `to` (a row of the revisions screen). Undo to the template already in
/// effect sends nothing and says so (`kubectl rollout undo --to-revision` skips it too).
pub(super) fn start_undo_to(state: &mut State, to: &str) -> Vec<Effect> {
    let Some(r) = state.selected_release() else {
        return Vec::new();
    };
    if let Some(f) = r.facts.argocd.as_deref() {
        // The newest entry is what is deployed: Argo CD's UI offers no rollback to it.
        let newest = application::history_newest_first(f).first().map(|h| h.id);
        if newest.is_some_and(|id| id.to_string() == to) {
            let text = format!(
                "rollback {} to history {to}: that entry is the one deployed now — nothing sent",
                r.key.name
            );
            notice(state, Level::Info, text);
            return Vec::new();
        }
        return start(state, ActionKind::Undo, Some(to));
    }
    let newest = r.revisions.iter().max_by_key(|v| v.revision.unwrap_or(0));
    if let Some(now) = newest.filter(|v| v.name == to) {
        let text = format!(
            "undo {} to revision {}: already at that template — nothing sent",
            r.key.name,
            now.revision.unwrap_or(0)
        );
        notice(state, Level::Info, text);
        return Vec::new();
    }
    start(state, ActionKind::Undo, Some(to))
}

fn start(state: &mut State, kind: ActionKind, to: Option<&str>) -> Vec<Effect> {
    let Some(r) = state.selected_release() else {
        return Vec::new();
    };
    let name = r.key.name.clone();
    let Some(r) = undo_chosen(r, to) else {
        let text = format!("undo unavailable for {name}: that revision (or history entry) is gone");
        notice(state, Level::Warn, text);
        return Vec::new();
    };
    let r: &Release = &r;
    let ready = match offer::offer(state, r, kind).state {
        Ok(ready) => ready,
        Err(Refusal::NoCluster) => return Vec::new(),
        Err(Refusal::InFlight) => {
            let text = format!("{kind}: an action on {name} is still in flight");
            notice(state, Level::Warn, text);
            return Vec::new();
        }
        Err(Refusal::Unavailable(why)) => {
            let text = format!("{kind} unavailable for {name}: {why}");
            notice(state, Level::Warn, text);
            return Vec::new();
        }
        Err(Refusal::NoPermission { verb, resource }) => {
            let text =
                format!("{kind} unavailable for {name}: no RBAC permission to {verb} {resource}");
            notice(state, Level::Warn, text);
            return Vec::new();
        }
    };
    let watched = Watched::of(r);
    let effects = checks(&ready);
    let preview = undo_preview(state, r, kind);
    state.view.modal = Some(Modal {
        plan: ready.plan,
        focus: ModalFocus::Cancel,
        typed: Input::default(),
        must_type: ready.must_type,
        gate: ready.gate,
        gate_unknown: ready.gate_unknown,
        refusal: None,
        dry_run: None,
        focus_chosen: false,
        opened: watched.clone(),
        watched,
        undo_to: to.map(str::to_string),
        undo_preview: preview,
        changed: Vec::new(),
        void: None,
    });
    effects
}

/// What a modal asks of the outside world for a ready offer: RBAC checks not yet answered,
/// then the dry run of its plan.
fn checks(ready: &offer::Ready) -> Vec<Effect> {
    let plan = &ready.plan;
    let mut effects: Vec<Effect> = Vec::new();
    if ready.rbac_unchecked || plan.owner_first.is_some() {
        let first = plan.owner_first.as_ref().map(|o| &o.call);
        for call in plan.calls.iter().chain(first) {
            let (verb, res) = call.rbac();
            effects.push(Effect::CheckAccess {
                cluster: plan.cluster.clone(),
                namespace: call.namespace().to_string(),
                verb: verb.into(),
                resource: res,
            });
        }
    }
    effects.push(Effect::DryRun { plan: plan.clone() });
    effects
}

/// The open modal follows its object: after every object message, compare the release
/// and the offer with what the modal shows, and re-plan when they differ (see the module
/// rules). Returns the dry run (and RBAC checks) of a new plan.
pub fn follow_modal(state: &mut State) -> Vec<Effect> {
    let Some(m) = state.view.modal.as_ref() else {
        return Vec::new();
    };
    let key = ReleaseKey {
        cluster: m.plan.cluster.clone(),
        kind: m.plan.release_kind,
        namespace: m.plan.namespace.clone(),
        name: m.plan.name.clone(),
    };
    let (kind, name) = (m.plan.kind, m.plan.name.clone());
    let undo_to = m.undo_to.clone();
    let release = state.releases.get(&key).filter(|r| r.uid == m.plan.uid);
    let Some(r) = release else {
        let why = if state.releases.contains_key(&key) {
            format!("{name} was deleted and created again since you opened: nothing to confirm")
        } else {
            format!(
                "{name} is gone from {} since you opened: nothing to confirm",
                key.cluster
            )
        };
        return void(state, why);
    };
    let Some(r) = undo_chosen(r, undo_to.as_deref()) else {
        let why = format!("the revision you chose is gone from {name}: nothing to confirm");
        return void(state, why);
    };
    let r: &Release = &r;
    let watched = Watched::of(r);
    let preview = undo_preview(state, r, kind);
    let ready = match offer::offer(state, r, kind).state {
        Ok(ready) => ready,
        Err(why) => {
            let now = watched.clone();
            let text = format!("{kind} is no longer possible: {why}");
            if let Some(m) = state.view.modal.as_mut() {
                m.changed = m.opened.changes(&now);
                m.watched = now;
            }
            return void(state, text);
        }
    };
    let Some(m) = state.view.modal.as_mut() else {
        return Vec::new();
    };
    let was_void = m.void.take().is_some();
    let asks_again = was_void || watched != m.watched || ready.must_type != m.must_type;
    // Only the object (its resourceVersion) or the gate re-plans without asking again: a
    // plan that differs by the time alone (a restart's timestamp) is not a new plan.
    let replan = asks_again
        || ready.plan.seen.resource_version != m.plan.seen.resource_version
        || ready.gate != m.gate;
    if !replan {
        return Vec::new();
    }
    state.dirty = true;
    m.changed = m.opened.changes(&watched);
    if ready.must_type != m.must_type
        && let Some(expected) = &ready.must_type
    {
        m.changed
            .push(format!("the name to type is now '{expected}'"));
    }
    m.watched = watched;
    m.gate = ready.gate.clone();
    m.gate_unknown = ready.gate_unknown.clone();
    m.must_type = ready.must_type.clone();
    m.plan = ready.plan.clone();
    m.undo_preview = preview;
    m.dry_run = None;
    if asks_again {
        m.focus = ModalFocus::Cancel;
        m.focus_chosen = false;
        m.refusal = None;
    }
    checks(&ready)
}

/// The modal can no longer be confirmed: say why, focus on Cancel.
fn void(state: &mut State, why: String) -> Vec<Effect> {
    if let Some(m) = state.view.modal.as_mut()
        && m.void.as_deref() != Some(why.as_str())
    {
        m.void = Some(why);
        m.focus = ModalFocus::Cancel;
        m.focus_chosen = false;
        m.refusal = None;
        state.dirty = true;
    }
    Vec::new()
}

/// Close the modal: nothing is sent, and the notice says so.
fn cancel(state: &mut State) {
    if let Some(m) = state.view.modal.take() {
        let text = format!("{} {}: cancelled — nothing sent", m.plan.kind, m.plan.name);
        notice(state, Level::Warn, text);
    }
}

/// Does the typed text match what must be typed (true when nothing must be)?
fn typed_matches(m: &Modal) -> bool {
    m.must_type.as_deref().is_none_or(|e| m.typed.value() == e)
}

/// What is still needed before the typed confirmation matches.
fn still_needed(expected: &str, typed: &str) -> String {
    if typed.is_empty() {
        return format!("type '{expected}' to confirm (Esc cancels)");
    }
    match expected.strip_prefix(typed) {
        Some(rest) => {
            let n = rest.chars().count();
            let s = if n == 1 { "" } else { "s" };
            format!("{n} more character{s} to type: '{expected}' (Esc cancels)")
        }
        None => format!("'{typed}' does not match '{expected}' (Backspace fixes, Esc cancels)"),
    }
}

/// Keys in the modal: the table's commands, else text for the name to type.
pub(super) fn modal_key(state: &mut State, key: Key, cmd: Option<Command>) -> Vec<Effect> {
    let Some(modal) = state.view.modal.as_mut() else {
        return Vec::new();
    };
    let typing = modal.must_type.is_some();
    match cmd {
        Some(Command::Cancel) => cancel(state),
        Some(Command::Confirm) => return confirm(state),
        Some(Command::Focus) => {
            modal.focus = match modal.focus {
                ModalFocus::Cancel => ModalFocus::Confirm,
                ModalFocus::Confirm if modal.plan.owner_first.is_some() => ModalFocus::OwnerFirst,
                ModalFocus::Confirm | ModalFocus::OwnerFirst => ModalFocus::Cancel,
            };
            modal.focus_chosen = true;
        }
        Some(Command::Activate) => match modal.focus {
            // Before the name matches, Enter on the focus the modal gave is not a choice.
            ModalFocus::Cancel if !modal.focus_chosen && !typed_matches(modal) => {
                if let Some(expected) = &modal.must_type {
                    modal.refusal = Some(still_needed(expected, modal.typed.value()));
                }
            }
            ModalFocus::Cancel => cancel(state),
            ModalFocus::Confirm | ModalFocus::OwnerFirst => return confirm(state),
        },
        _ if typing => {
            let req = match key {
                Key::Char(c) => InputRequest::InsertChar(c),
                Key::Backspace => InputRequest::DeletePrevChar,
                Key::Left => InputRequest::GoToPrevChar,
                Key::Right => InputRequest::GoToNextChar,
                _ => return Vec::new(),
            };
            if matches!(
                req,
                InputRequest::InsertChar(_) | InputRequest::DeletePrevChar
            ) {
                modal.refusal = None;
            }
            modal.typed.handle(req);
            // A match puts focus on Confirm (Enter confirms); losing it takes it back,
            // unless the user put focus where it is. Nothing to confirm: it stays put.
            if typed_matches(modal) && modal.void.is_none() {
                modal.focus = ModalFocus::Confirm;
                modal.focus_chosen = false;
            } else if !modal.focus_chosen {
                modal.focus = ModalFocus::Cancel;
            }
        }
        _ => {}
    }
    Vec::new()
}

/// The plan a confirmation sends: with the owner pre-step first when that is the focused
/// choice (`core::owner`), else the action alone.
fn chosen_plan(m: &Modal) -> ActionPlan {
    if m.focus == ModalFocus::OwnerFirst {
        m.plan.with_owner_first()
    } else {
        let mut plan = m.plan.clone();
        plan.owner_first = None;
        plan
    }
}

fn confirm(state: &mut State) -> Vec<Effect> {
    let allowed = match state.view.modal.as_ref() {
        Some(m) => offer::plan_allowed(state, &chosen_plan(m)),
        None => return Vec::new(),
    };
    let Some(modal) = state.view.modal.as_mut() else {
        return Vec::new();
    };
    if let Some(why) = &modal.void {
        modal.refusal = Some(why.clone());
        return Vec::new();
    }
    if let Some(expected) = &modal.must_type
        && modal.typed.value() != expected
    {
        modal.refusal = Some(still_needed(expected, modal.typed.value()));
        return Vec::new();
    }
    if allowed == Some(false) {
        modal.refusal = Some("no RBAC permission for this request".into());
        return Vec::new();
    }
    let Some(mut modal) = state.view.modal.take() else {
        return Vec::new();
    };
    modal.plan = chosen_plan(&modal);
    let id = state.next_action_id;
    state.next_action_id += 1;
    let key = ReleaseKey {
        cluster: modal.plan.cluster.clone(),
        kind: modal.plan.release_kind,
        namespace: modal.plan.namespace.clone(),
        name: modal.plan.name.clone(),
    };
    let kind = modal.plan.kind;
    state.pending.insert(
        id,
        Pending {
            key: key.clone(),
            kind,
            sent: state.now,
            plan: modal.plan.clone(),
        },
    );
    notice(
        state,
        Level::Info,
        format!("{kind} {}: sent, waiting for the API server…", key.name),
    );
    vec![Effect::Execute {
        id,
        plan: modal.plan,
        gate_override: modal.gate,
    }]
}

pub fn on_action_done(state: &mut State, id: u64, outcome: Outcome) -> Vec<Effect> {
    state.dirty = true;
    let Some(p) = state.pending.remove(&id) else {
        return Vec::new();
    };
    let level = match &outcome {
        Outcome::Applied { .. } => Level::Info,
        Outcome::Unknown { .. } | Outcome::Conflict { .. } => Level::Warn,
        _ => Level::Error,
    };
    notice(
        state,
        level,
        format!("{} {}: {}", p.kind, p.key.name, outcome.summary()),
    );
    // The server refused a real request: what the RBAC cache believed about this namespace
    // is not to be trusted (`core::access`); the screen in view asks again at once.
    if matches!(outcome, Outcome::Forbidden { status: 403, .. }) {
        crate::core::access::forget(state, &p.key.cluster, &p.key.namespace);
        if state.view.screen == crate::core::state::Screen::Detail {
            return super::access_checks(state);
        }
    }
    // The result's audit line arrives from the executor (`Msg::Audit`), built with the record.
    // No re-read: the watch delivers the current object on its own. A gate lives in the
    // loadtester's memory, not in an object: it is asked again.
    crate::core::gates::after_gate_action(state, &p.plan)
}
