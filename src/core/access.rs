//! The RBAC answers the console asked for (SelfSubjectAccessReview per cluster, namespace,
//! verb and resource), and when they stop being trusted: five minutes after they were given
//! (P11 caches them that long, and a break-glass grant made mid-incident is honoured within
//! that), and at once for a cluster's namespace when a real request there was refused (403):
//! the server has just said what the cache believed is wrong.

use jiff::{SignedDuration, Timestamp};

use super::state::{AccessKey, State};

/// How long an answer is used before it is asked again.
pub const ACCESS_TTL: SignedDuration = SignedDuration::from_mins(5);

/// One answer and when it came.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AccessAnswer {
    pub allowed: bool,
    pub at: Timestamp,
    /// The order answers came in (the oldest is forgotten first when the cache is full).
    pub seq: u64,
}

impl AccessAnswer {
    /// The answer while it is fresh at `now`, else None (ask again).
    pub fn current(&self, now: Timestamp) -> Option<bool> {
        (now.duration_since(self.at) < ACCESS_TTL).then_some(self.allowed)
    }
}

/// Record an answer given at `now`.
pub fn record(state: &mut State, key: AccessKey, allowed: bool) {
    let at = state.now;
    let seq = state.access.values().map(|a| a.seq + 1).max().unwrap_or(0);
    state.access.insert(key, AccessAnswer { allowed, at, seq });
    state.dirty = true;
}

/// Drop the answers that have expired; true when any was dropped.
pub fn expire(state: &mut State) -> bool {
    let now = state.now;
    let before = state.access.len();
    state.access.retain(|_, a| a.current(now).is_some());
    let dropped = state.access.len() != before;
    state.dirty |= dropped;
    dropped
}

/// A real request on `cluster` in `namespace` was refused (403): forget every answer there.
pub fn forget(state: &mut State, cluster: &str, namespace: &str) {
    let before = state.access.len();
    state
        .access
        .retain(|k, _| !(k.cluster == cluster && k.namespace == namespace));
    state.dirty |= state.access.len() != before;
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::effect::Effect;
    use crate::core::msg::{Key, Msg, Outcome};
    use crate::core::offer::{Refusal, offer};
    use crate::core::state::Screen;
    use crate::core::testkit::{fleet, t};
    use crate::core::{action::ActionKind, settle, update};

    /// The fleet with checkout's detail screen open; the access checks it asked for.
    fn checkout_open() -> (State, Vec<Effect>) {
        let mut s = fleet();
        settle(&mut s);
        let i = s
            .view
            .order
            .iter()
            .position(|k| k.name == "checkout")
            .unwrap_or_else(|| panic!("fleet has checkout"));
        s.view.selected = i;
        let asked = update(&mut s, Msg::Key(Key::Enter));
        assert_eq!(s.view.screen, Screen::Detail);
        (s, asked)
    }

    fn asked(effects: &[Effect]) -> Vec<(String, String)> {
        effects
            .iter()
            .filter_map(|e| match e {
                Effect::CheckAccess { verb, resource, .. } => {
                    Some((verb.clone(), resource.clone()))
                }
                _ => None,
            })
            .collect()
    }

    fn answer(s: &mut State, effects: &[Effect], allowed: bool) {
        for e in effects {
            if let Effect::CheckAccess {
                cluster,
                namespace,
                verb,
                resource,
            } = e.clone()
            {
                update(
                    s,
                    Msg::Access {
                        cluster,
                        namespace,
                        verb,
                        resource,
                        allowed,
                    },
                );
            }
        }
    }

    fn promote(s: &State) -> Result<(), Refusal> {
        let r = s
            .releases
            .values()
            .find(|r| r.key.name == "checkout")
            .unwrap_or_else(|| panic!("fleet has checkout"));
        offer(s, r, ActionKind::Promote).state.map(|_| ())
    }

    #[test]
    fn answers_expire_after_five_minutes_and_the_open_screen_asks_again() {
        let (mut s, first) = checkout_open();
        assert!(!asked(&first).is_empty(), "the detail screen asks");
        answer(&mut s, &first, false);
        assert!(matches!(promote(&s), Err(Refusal::NoPermission { .. })));
        // Reopening within the five minutes asks nothing: the answers are cached.
        update(&mut s, Msg::Key(Key::Esc));
        update(&mut s, Msg::Tick(t(60)));
        assert!(asked(&update(&mut s, Msg::Key(Key::Enter))).is_empty());
        let just_before = t(0) + ACCESS_TTL - jiff::SignedDuration::from_secs(1);
        assert!(update(&mut s, Msg::Tick(just_before)).is_empty());
        assert!(matches!(promote(&s), Err(Refusal::NoPermission { .. })));
        // Five minutes after they came: dropped, and the screen in view asks again.
        let again = update(&mut s, Msg::Tick(t(0) + ACCESS_TTL));
        assert_eq!(asked(&again), asked(&first));
        assert!(s.access.is_empty());
        assert!(promote(&s).is_ok(), "unknown meanwhile: not refused");
        // The RoleBinding granted meanwhile: the fresh answer enables the action.
        answer(&mut s, &again, true);
        assert!(promote(&s).is_ok());
        assert!(s.access.values().all(|a| a.allowed));
    }

    #[test]
    fn a_403_from_a_real_request_forgets_that_namespace_at_once() {
        let (mut s, first) = checkout_open();
        answer(&mut s, &first, true);
        let cluster = s
            .releases
            .values()
            .find(|r| r.key.name == "checkout")
            .map(|r| r.key.cluster.clone())
            .unwrap_or_default();
        // An answer elsewhere is kept.
        let other = AccessKey::new("staging", "web", "patch", "deployments");
        record(&mut s, other.clone(), true);
        let effects = update(&mut s, Msg::Key(Key::Char('p')));
        assert!(effects.is_empty() || s.view.modal.is_some());
        let confirm = update(&mut s, Msg::Key(Key::Char('y')));
        let id = confirm
            .iter()
            .find_map(|e| match e {
                Effect::Execute { id, .. } => Some(*id),
                _ => None,
            })
            .unwrap_or_else(|| panic!("promote sent: {confirm:?}"));
        let done = update(
            &mut s,
            Msg::ActionDone {
                id,
                outcome: Outcome::Forbidden {
                    status: 403,
                    detail: "cannot patch".into(),
                },
            },
        );
        assert!(
            !s.access
                .keys()
                .any(|k| k.cluster == cluster && k.namespace == "shop"),
            "no answer for the refused namespace is kept"
        );
        assert!(s.access.contains_key(&other));
        assert_eq!(asked(&done), asked(&first), "asked again at once");
        answer(&mut s, &done, false);
        assert!(matches!(promote(&s), Err(Refusal::NoPermission { .. })));
    }
}
