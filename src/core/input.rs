//! Keys → state changes and effects: navigation, filter, screens, the confirmation modal and
//! starting actions. The key map is DESIGN.md's contract.

use tui_input::{Input, InputRequest};

use super::action::{self, ActionKind, ActionPlan};
use super::effect::{Effect, GateOverride};
use super::model::ReleaseKind;
use super::msg::{AuditLine, Key, Outcome};
use super::slo;
use super::state::{AccessKey, Level, Modal, ModalFocus, Notice, Panel, Pending, Screen, State};

pub fn on_key(state: &mut State, key: Key) -> Vec<Effect> {
    state.dirty = true;
    if key == Key::Ctrl('c') {
        state.quit = true;
        return vec![Effect::Quit];
    }
    if state.view.modal.is_some() {
        return modal_key(state, key);
    }
    if state.view.filter_editing {
        filter_key(state, key);
        return Vec::new();
    }
    match state.view.screen {
        Screen::Help => {
            match key {
                Key::Esc | Key::Char('?') | Key::Char('q') => back(state),
                Key::Char('j') | Key::Down => state.view.help_offset += 1,
                Key::Char('k') | Key::Up => {
                    state.view.help_offset = state.view.help_offset.saturating_sub(1)
                }
                Key::Char('g') | Key::Home => state.view.help_offset = 0,
                _ => {}
            }
            Vec::new()
        }
        Screen::Audit => {
            match key {
                Key::Esc | Key::Char('L') | Key::Char('q') => back(state),
                Key::Char('j') | Key::Down => {
                    let max = state.audit.len().saturating_sub(1);
                    state.view.audit_offset = (state.view.audit_offset + 1).min(max);
                }
                Key::Char('k') | Key::Up => {
                    state.view.audit_offset = state.view.audit_offset.saturating_sub(1)
                }
                Key::Char('g') | Key::Home => state.view.audit_offset = 0,
                Key::Char('G') | Key::End => {
                    state.view.audit_offset = state.audit.len().saturating_sub(1)
                }
                _ => {}
            }
            Vec::new()
        }
        Screen::Clusters => {
            clusters_key(state, key);
            Vec::new()
        }
        Screen::Home | Screen::Detail => main_key(state, key),
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

fn main_key(state: &mut State, key: Key) -> Vec<Effect> {
    let detail = state.view.screen == Screen::Detail;
    match key {
        Key::Char('q') => {
            state.quit = true;
            return vec![Effect::Quit];
        }
        Key::Esc if detail => state.view.screen = Screen::Home,
        Key::Esc if !state.view.filter.value().is_empty() => {
            state.view.filter.reset();
            state.view.order_dirty = true;
        }
        Key::Enter if !detail && state.view.panel == Panel::Releases => {
            if state.selected_release().is_some() {
                state.view.screen = Screen::Detail;
                return access_checks(state);
            }
        }
        Key::Tab if !detail => state.view.panel = next_panel(state.view.panel, 1),
        Key::BackTab if !detail => state.view.panel = next_panel(state.view.panel, 2),
        Key::Char('/') => {
            state.view.screen = Screen::Home;
            state.view.panel = Panel::Releases;
            state.view.filter_editing = true;
        }
        Key::Char('c') => open(state, Screen::Clusters),
        Key::Char('?') => open(state, Screen::Help),
        Key::Char('L') => open(state, Screen::Audit),
        Key::Char('j') | Key::Down => move_cursor(state, 1),
        Key::Char('k') | Key::Up => move_cursor(state, -1),
        Key::PageDown => move_cursor(state, state.view.page_rows() as isize),
        Key::PageUp => move_cursor(state, -(state.view.page_rows() as isize)),
        Key::Char('g') | Key::Home => move_cursor(state, isize::MIN / 2),
        Key::Char('G') | Key::End => move_cursor(state, isize::MAX / 2),
        Key::Char(c) => {
            if let Some(kind) = action_for_key(state, c) {
                return start_action(state, kind);
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

/// Which action a key means for the selected release (space toggles pause / resume).
fn action_for_key(state: &State, c: char) -> Option<ActionKind> {
    let r = state.selected_release()?;
    Some(match c {
        ' ' if r.facts.spec_paused => ActionKind::Resume,
        ' ' => ActionKind::Pause,
        // On a manually paused Deployment `p` resumes it: the nearest thing to "promote".
        'p' if r.key.kind == ReleaseKind::Deployment && r.facts.spec_paused => ActionKind::Resume,
        'p' => ActionKind::Promote,
        'P' => ActionKind::PromoteFull,
        'a' => ActionKind::Abort,
        'R' => ActionKind::Retry,
        'u' => ActionKind::Undo,
        'r' => ActionKind::Restart,
        _ => return None,
    })
}

fn move_cursor(state: &mut State, by: isize) {
    let v = &mut state.view;
    let (len, cur) = match v.panel {
        _ if v.screen == Screen::Detail => (v.order.len(), &mut v.selected),
        Panel::Releases => (v.order.len(), &mut v.selected),
        Panel::Slos => (state.slos.len(), &mut v.slo_selected),
        Panel::Failures => (state.failures.len(), &mut v.failure_selected),
    };
    if len == 0 {
        *cur = 0;
        return;
    }
    let next = (*cur as isize)
        .saturating_add(by)
        .clamp(0, len as isize - 1);
    *cur = next as usize;
    clamp_scroll(state);
}

/// Keep the selected row inside the visible window of the releases table.
pub fn clamp_scroll(state: &mut State) {
    let v = &mut state.view;
    if v.order.is_empty() {
        v.selected = 0;
        v.offset = 0;
        return;
    }
    v.selected = v.selected.min(v.order.len() - 1);
    let page = v.page_rows().max(1);
    if v.selected < v.offset {
        v.offset = v.selected;
    } else if v.selected >= v.offset + page {
        v.offset = v.selected + 1 - page;
    }
    v.offset = v.offset.min(v.order.len().saturating_sub(1));
}

fn filter_key(state: &mut State, key: Key) {
    let v = &mut state.view;
    let req = match key {
        Key::Enter => {
            v.filter_editing = false;
            return;
        }
        Key::Esc => {
            v.filter.reset();
            v.filter_editing = false;
            v.order_dirty = true;
            return;
        }
        Key::Char(c) => InputRequest::InsertChar(c),
        Key::Backspace => InputRequest::DeletePrevChar,
        Key::Delete => InputRequest::DeleteNextChar,
        Key::Left => InputRequest::GoToPrevChar,
        Key::Right => InputRequest::GoToNextChar,
        Key::Home => InputRequest::GoToStart,
        Key::End => InputRequest::GoToEnd,
        Key::Ctrl('u') => InputRequest::DeleteLine,
        Key::Ctrl('w') => InputRequest::DeletePrevWord,
        _ => return,
    };
    v.filter.handle(req);
    v.selected = 0;
    v.offset = 0;
    v.order_dirty = true;
}

fn clusters_key(state: &mut State, key: Key) {
    let n = state.clusters.len();
    match key {
        Key::Esc | Key::Enter | Key::Char('c') | Key::Char('q') => back(state),
        Key::Char('j') | Key::Down if n > 0 => {
            state.view.cluster_cursor = (state.view.cluster_cursor + 1).min(n - 1)
        }
        Key::Char('k') | Key::Up => {
            state.view.cluster_cursor = state.view.cluster_cursor.saturating_sub(1)
        }
        Key::Char(' ') | Key::Char('x') => {
            if let Some(c) = state.clusters.get(state.view.cluster_cursor) {
                let name = c.name.clone();
                if !state.view.hidden_clusters.remove(&name) {
                    state.view.hidden_clusters.insert(name);
                }
                state.view.order_dirty = true;
            }
        }
        Key::Char('a') => {
            state.view.hidden_clusters.clear();
            state.view.order_dirty = true;
        }
        _ => {}
    }
}

/// RBAC checks for every action on the release in view, unless already answered.
fn access_checks(state: &State) -> Vec<Effect> {
    let Some(r) = state.selected_release() else {
        return Vec::new();
    };
    super::kinds::access_needs(r)
        .into_iter()
        .filter(|(verb, res)| {
            !state
                .access
                .contains_key(&AccessKey::new(&r.key.cluster, &r.key.namespace, verb, res))
        })
        .map(|(verb, res)| Effect::CheckAccess {
            cluster: r.key.cluster.clone(),
            namespace: r.key.namespace.clone(),
            verb: verb.into(),
            resource: res.into(),
        })
        .collect()
}

/// RBAC answer for every call of a plan: Some(false) if any is denied, None if unknown.
pub fn plan_allowed(state: &State, plan: &ActionPlan) -> Option<bool> {
    let mut all = Some(true);
    for call in &plan.calls {
        let (verb, res) = call.rbac();
        let key = AccessKey::new(&plan.cluster, &plan.namespace, verb, &res);
        match state.access.get(&key) {
            Some(false) => return Some(false),
            Some(true) => {}
            None => all = None,
        }
    }
    all
}

fn notice(state: &mut State, level: Level, text: String) {
    state.view.notice = Some(Notice {
        text,
        level,
        at: state.now,
    });
}

fn start_action(state: &mut State, kind: ActionKind) -> Vec<Effect> {
    let Some(r) = state.selected_release() else {
        return Vec::new();
    };
    let key = r.key.clone();
    if state.pending.values().any(|p| p.key == key) {
        notice(
            state,
            Level::Warn,
            format!("{kind}: an action on {} is still in flight", key.name),
        );
        return Vec::new();
    }
    let Some(cluster) = state.cluster(&key.cluster) else {
        return Vec::new();
    };
    let plan = match action::plan(kind, r, cluster, state.settings.read_only, state.now) {
        Ok(plan) => plan,
        Err(why) => {
            notice(
                state,
                Level::Warn,
                format!("{kind} unavailable for {}: {why}", key.name),
            );
            return Vec::new();
        }
    };
    if plan_allowed(state, &plan) == Some(false) {
        let (verb, res) = plan
            .calls
            .first()
            .map(|c| c.rbac())
            .unwrap_or(("patch", String::new()));
        notice(
            state,
            Level::Warn,
            format!(
                "{kind} unavailable for {}: no RBAC permission to {verb} {res}",
                key.name
            ),
        );
        return Vec::new();
    }
    let gate = if kind.gated_by_burn() {
        state.slo_for(r).and_then(|s| {
            slo::paging_rule(&s.burn).map(|(w, burn)| GateOverride {
                service: s.spec.service.clone(),
                window: w.as_str().into(),
                burn,
            })
        })
    } else {
        None
    };
    let must_type = match (&gate, plan.needs_typed_name()) {
        (Some(g), true) => Some(format!("{} {}", plan.name, g.service)),
        (Some(g), false) => Some(g.service.clone()),
        (None, true) => Some(plan.name.clone()),
        (None, false) => None,
    };
    let mut effects: Vec<Effect> = Vec::new();
    if plan_allowed(state, &plan).is_none() {
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
    state.view.modal = Some(Modal {
        plan,
        focus: ModalFocus::Cancel,
        typed: Input::default(),
        must_type,
        gate,
        refusal: None,
        dry_run: None,
    });
    if let Some(m) = &state.view.modal {
        effects.push(Effect::DryRun {
            plan: m.plan.clone(),
        });
    }
    effects
}

fn modal_key(state: &mut State, key: Key) -> Vec<Effect> {
    let Some(modal) = state.view.modal.as_mut() else {
        return Vec::new();
    };
    let typing = modal.must_type.is_some();
    match key {
        Key::Esc => {
            state.view.modal = None;
            return Vec::new();
        }
        Key::Char('n') if !typing => {
            state.view.modal = None;
            return Vec::new();
        }
        Key::Char('y') if !typing => return confirm(state),
        Key::Tab | Key::BackTab | Key::Left | Key::Right
            if !typing || key == Key::Tab || key == Key::BackTab =>
        {
            modal.focus = match modal.focus {
                ModalFocus::Cancel => ModalFocus::Confirm,
                ModalFocus::Confirm => ModalFocus::Cancel,
            };
        }
        Key::Enter => match modal.focus {
            ModalFocus::Cancel => {
                state.view.modal = None;
                return Vec::new();
            }
            ModalFocus::Confirm => return confirm(state),
        },
        Key::Char(c) if typing => {
            modal.typed.handle(InputRequest::InsertChar(c));
            modal.refusal = None;
        }
        Key::Backspace if typing => {
            modal.typed.handle(InputRequest::DeletePrevChar);
            modal.refusal = None;
        }
        Key::Left if typing => {
            modal.typed.handle(InputRequest::GoToPrevChar);
        }
        Key::Right if typing => {
            modal.typed.handle(InputRequest::GoToNextChar);
        }
        _ => {}
    }
    Vec::new()
}

fn confirm(state: &mut State) -> Vec<Effect> {
    let allowed = match state.view.modal.as_ref() {
        Some(m) => plan_allowed(state, &m.plan),
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
    let key = super::model::ReleaseKey {
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
    state.audit.push(AuditLine {
        at: state.now,
        stage: "result".into(),
        cluster: p.key.cluster.clone(),
        target: format!("{}/{}", p.key.namespace, p.key.name),
        action: p.kind.label().into(),
        outcome: outcome.summary(),
    });
    match outcome {
        Outcome::Conflict { .. } | Outcome::Unknown { .. } => vec![Effect::Refresh {
            cluster: p.key.cluster,
            namespace: p.key.namespace,
            name: p.key.name,
        }],
        _ => Vec::new(),
    }
}
