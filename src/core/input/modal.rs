//! Starting an action from its offer, the confirmation modal's keys, sending the confirmed
//! plan, and taking the result back. Action policy is `core::offer`'s; this module only
//! turns an offer into a modal (or a notice saying why not) and must not re-check rules.

use tui_input::{Input, InputRequest};

use crate::core::action::ActionKind;
use crate::core::effect::Effect;
use crate::core::keys::Command;
use crate::core::model::ReleaseKey;
use crate::core::msg::{Key, Outcome};
use crate::core::offer::{self, Refusal};
use crate::core::state::{Level, Modal, ModalFocus, Notice, Pending, State};

fn notice(state: &mut State, level: Level, text: String) {
    state.view.notice = Some(Notice {
        text,
        level,
        at: state.now,
    });
}

/// Open the confirmation for `kind` on the selected release, or say why it is refused.
pub(super) fn start_action(state: &mut State, kind: ActionKind) -> Vec<Effect> {
    let Some(r) = state.selected_release() else {
        return Vec::new();
    };
    let name = r.key.name.clone();
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
    let plan = ready.plan;
    let mut effects: Vec<Effect> = Vec::new();
    if ready.rbac_unchecked {
        for call in &plan.calls {
            let (verb, res) = call.rbac();
            effects.push(Effect::CheckAccess {
                cluster: plan.cluster.clone(),
                namespace: plan.namespace.clone(),
                verb: verb.into(),
                resource: res,
            });
        }
    }
    effects.push(Effect::DryRun { plan: plan.clone() });
    state.view.modal = Some(Modal {
        plan,
        focus: ModalFocus::Cancel,
        typed: Input::default(),
        must_type: ready.must_type,
        gate: ready.gate,
        gate_unknown: ready.gate_unknown,
        refusal: None,
        dry_run: None,
    });
    effects
}

/// Keys in the modal: the table's commands, else text for the name to type.
pub(super) fn modal_key(state: &mut State, key: Key, cmd: Option<Command>) -> Vec<Effect> {
    let Some(modal) = state.view.modal.as_mut() else {
        return Vec::new();
    };
    let typing = modal.must_type.is_some();
    match cmd {
        Some(Command::Cancel) => state.view.modal = None,
        Some(Command::Confirm) => return confirm(state),
        Some(Command::Focus) => {
            modal.focus = match modal.focus {
                ModalFocus::Cancel => ModalFocus::Confirm,
                ModalFocus::Confirm => ModalFocus::Cancel,
            };
        }
        Some(Command::Activate) => match modal.focus {
            ModalFocus::Cancel => state.view.modal = None,
            ModalFocus::Confirm => return confirm(state),
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
        }
        _ => {}
    }
    Vec::new()
}

fn confirm(state: &mut State) -> Vec<Effect> {
    let allowed = match state.view.modal.as_ref() {
        Some(m) => offer::plan_allowed(state, &m.plan),
        None => return Vec::new(),
    };
    let Some(modal) = state.view.modal.as_mut() else {
        return Vec::new();
    };
    if let Some(expected) = &modal.must_type
        && modal.typed.value() != expected
    {
        modal.refusal = Some(format!("type {expected:?} to confirm"));
        return Vec::new();
    }
    if allowed == Some(false) {
        modal.refusal = Some("no RBAC permission for this request".into());
        return Vec::new();
    }
    let Some(modal) = state.view.modal.take() else {
        return Vec::new();
    };
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
    // The result's audit line arrives from the executor (`Msg::Audit`), built with the record.
    // No re-read: the watch delivers the current object on its own.
    Vec::new()
}
