//! Cursor movement and scrolling over the releases, SLO and failure lists; filter text
//! editing; the cluster chooser. Reads commands from the key table; starts no actions.

use tui_input::InputRequest;

use crate::core::keys::Command;
use crate::core::msg::Key;
use crate::core::state::{Panel, Screen, State};

pub(super) fn move_cursor(state: &mut State, by: isize) {
    let v = &mut state.view;
    let (len, cur) = match v.panel {
        _ if v.screen == Screen::Detail => (v.order.len(), &mut v.selected),
        Panel::Releases => (v.order.len(), &mut v.selected),
        Panel::Slos => (v.shown.slos.len(), &mut v.slo_selected),
        Panel::Failures => (v.shown.failures.len(), &mut v.failure_selected),
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
    let page = state.page_rows();
    let v = &mut state.view;
    if v.order.is_empty() {
        v.selected = 0;
        v.offset = 0;
        return;
    }
    v.selected = v.selected.min(v.order.len() - 1);
    if v.selected < v.offset {
        v.offset = v.selected;
    } else if v.selected >= v.offset + page {
        v.offset = v.selected + 1 - page;
    }
    v.offset = v.offset.min(v.order.len().saturating_sub(1));
}

/// Enter keeps the filter, Esc clears it; every other key edits the text.
pub(super) fn filter_key(state: &mut State, key: Key, cmd: Option<Command>) {
    let v = &mut state.view;
    match cmd {
        Some(Command::KeepFilter) => {
            v.filter_editing = false;
            return;
        }
        Some(Command::ClearFilter) => {
            v.filter.reset();
            v.filter_editing = false;
            v.order_dirty = true;
            return;
        }
        _ => {}
    }
    let req = match key {
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

pub(super) fn clusters_key(state: &mut State, cmd: Option<Command>) {
    let n = state.clusters.len();
    match cmd {
        Some(Command::Back) => super::back(state),
        Some(Command::Down) if n > 0 => {
            state.view.cluster_cursor = (state.view.cluster_cursor + 1).min(n - 1)
        }
        Some(Command::Up) => {
            state.view.cluster_cursor = state.view.cluster_cursor.saturating_sub(1)
        }
        Some(Command::Toggle) => {
            if let Some(c) = state.clusters.get(state.view.cluster_cursor) {
                let name = c.name.clone();
                if !state.view.hidden_clusters.remove(&name) {
                    state.view.hidden_clusters.insert(name);
                }
                state.view.order_dirty = true;
            }
        }
        Some(Command::ShowAll) => {
            state.view.hidden_clusters.clear();
            state.view.order_dirty = true;
        }
        _ => {}
    }
}
