//! The executor's register of the actions it has started and not yet answered, so each gets
//! exactly one result record. A result is written only by whoever takes the action out of
//! the register, while holding its lock; `close` (on every way the console exits) takes all
//! of them at once and refuses every later start, intent and result. An answer that arrives
//! after the exit cannot write a second result by construction, not by timing.
//! Owns no IO: the caller passes the writes, which run under the lock.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use crate::core::action::ActionPlan;
use crate::core::effect::GateOverride;

/// An action started and not yet answered.
#[derive(Debug, Clone)]
pub struct Entry {
    pub plan: ActionPlan,
    pub gate: Option<GateOverride>,
    /// Who sent it, once its intent is written; None while it has not been sent.
    pub sent_as: Option<String>,
}

#[derive(Default)]
struct Inner {
    closed: bool,
    open: BTreeMap<u64, Entry>,
}

/// What became of an intent.
#[derive(Debug, PartialEq, Eq)]
pub enum Intent<E> {
    /// Written: the request may go out.
    Written,
    /// The write failed: nothing may be sent.
    Failed(E),
    /// The register is closed (the console is exiting) or the action is not in it: nothing
    /// may be sent, and its record is (or was) written by `close`.
    Closed,
}

#[derive(Clone, Default)]
pub struct Ledger(Arc<Mutex<Inner>>);

impl Ledger {
    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Register a started action. False once closed, or when the id is already open: then
    /// the action must not start.
    pub fn open(&self, id: u64, plan: &ActionPlan, gate: Option<&GateOverride>) -> bool {
        let mut inner = self.lock();
        if inner.closed || inner.open.contains_key(&id) {
            return false;
        }
        let entry = Entry {
            plan: plan.clone(),
            gate: gate.cloned(),
            sent_as: None,
        };
        inner.open.insert(id, entry);
        true
    }

    /// Write the intent of an open action with `write`, under the lock, as `user`.
    pub fn intent<E>(
        &self,
        id: u64,
        user: &str,
        write: impl FnOnce(&Entry) -> Result<(), E>,
    ) -> Intent<E> {
        let mut inner = self.lock();
        if inner.closed {
            return Intent::Closed;
        }
        let Some(entry) = inner.open.get_mut(&id) else {
            return Intent::Closed;
        };
        match write(entry) {
            Ok(()) => {
                entry.sent_as = Some(user.to_string());
                Intent::Written
            }
            Err(e) => Intent::Failed(e),
        }
    }

    /// Take an action out for its result, written by `write` under the lock. None when it is
    /// no longer open (closed on exit): then nothing may be written or reported.
    pub fn finish<T>(&self, id: u64, write: impl FnOnce(&Entry) -> T) -> Option<T> {
        let mut inner = self.lock();
        let entry = inner.open.remove(&id)?;
        Some(write(&entry))
    }

    /// Close for good: every open action is handed to `write` once (in id order), and every
    /// later `open`, `intent` and `finish` is refused. Returns how many were open; a second
    /// call finds none.
    pub fn close(&self, mut write: impl FnMut(u64, &Entry)) -> usize {
        let mut inner = self.lock();
        inner.closed = true;
        let open = std::mem::take(&mut inner.open);
        for (id, entry) in &open {
            write(*id, entry);
        }
        open.len()
    }

    /// How many actions are open (started, not answered).
    pub fn open_count(&self) -> usize {
        self.lock().open.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::action::{ActionKind, Seen};
    use crate::core::model::ReleaseKind;

    fn plan() -> ActionPlan {
        ActionPlan {
            kind: ActionKind::Pause,
            cluster: "c".into(),
            release_kind: ReleaseKind::Deployment,
            namespace: "ns".into(),
            name: "web".into(),
            uid: "u".into(),
            prod: false,
            calls: vec![],
            seen: Seen {
                phase: "Progressing".into(),
                step: None,
                revision: None,
                resource_version: "1".into(),
            },
            notes: vec![],
            owner_first: None,
        }
    }

    #[test]
    fn a_result_is_written_once_by_whoever_takes_the_action() {
        let l = Ledger::default();
        assert!(l.open(1, &plan(), None));
        assert_eq!(l.intent(1, "alice", |_| Ok::<(), ()>(())), Intent::Written);
        let mut writes = 0;
        assert_eq!(
            l.finish(1, |e| {
                writes += 1;
                e.sent_as.clone()
            }),
            Some(Some("alice".to_string()))
        );
        assert_eq!(l.finish(1, |_| writes += 1), None, "taken already");
        assert_eq!(l.close(|_, _| writes += 1), 0);
        assert_eq!(writes, 1);
    }

    #[test]
    fn close_takes_every_open_action_once_and_refuses_later_results() {
        let l = Ledger::default();
        for id in [3, 1, 2] {
            assert!(l.open(id, &plan(), None));
        }
        assert_eq!(l.intent(1, "bob", |_| Ok::<(), ()>(())), Intent::Written);
        let mut closed = Vec::new();
        assert_eq!(l.close(|id, e| closed.push((id, e.sent_as.is_some()))), 3);
        assert_eq!(closed, [(1, true), (2, false), (3, false)]);
        // The answer that arrives later writes nothing; nothing new starts or is sent.
        assert_eq!(l.finish(1, |_| "second result"), None);
        assert_eq!(l.intent(2, "bob", |_| Ok::<(), ()>(())), Intent::Closed);
        assert!(!l.open(4, &plan(), None));
        assert_eq!(l.close(|_, _| closed.push((0, false))), 0);
        assert_eq!(closed.len(), 3, "a second close writes nothing");
        assert_eq!(l.open_count(), 0);
    }

    #[test]
    fn a_failed_intent_keeps_the_action_unsent_and_duplicates_are_refused() {
        let l = Ledger::default();
        assert!(l.open(7, &plan(), None));
        assert!(!l.open(7, &plan(), None), "an id is open once");
        assert_eq!(
            l.intent(7, "eve", |_| Err("disk full")),
            Intent::Failed("disk full")
        );
        assert_eq!(l.finish(7, |e| e.sent_as.clone()), Some(None));
        assert_eq!(
            l.intent(8, "eve", |_| Ok::<(), ()>(())),
            Intent::Closed,
            "never opened"
        );
    }
}
