//! Warning events as the kubelet and controllers record them: one Event per
//! (object, reason), its count going up each time the condition is seen again, re-sent only
//! every so often so the failures feed stays readable rather than flickering.

use std::collections::BTreeMap;

use jiff::Timestamp;

use crate::core::facts::WarningEvent;
use crate::core::msg::Msg;
use crate::core::text::Untrusted;

/// One warning to record: (namespace, kind, name, reason, message).
pub struct Warning<'a> {
    pub namespace: &'a str,
    pub kind: &'a str,
    pub name: &'a str,
    pub reason: &'a str,
    pub message: String,
    /// Since when the condition has held: a warning first seen long after it started
    /// (at demo start) gets the count the event aggregator would have reached by now.
    pub since: Option<Timestamp>,
}

#[derive(Debug, Clone)]
struct Recorded {
    event: WarningEvent,
    last_sent: Timestamp,
}

#[derive(Debug, Clone, Default)]
pub struct EventRecorder {
    events: BTreeMap<(String, String, String, String), Recorded>,
}

impl EventRecorder {
    /// The warnings recorded so far on `cluster` (the detail's events come from them).
    pub fn recorded<'a>(&'a self, cluster: &'a str) -> impl Iterator<Item = &'a WarningEvent> {
        self.events
            .iter()
            .filter(move |(k, _)| k.0 == cluster)
            .map(|(_, r)| &r.event)
    }

    /// Observe `w` at `now`; send it when new or when `every_secs` passed since it was last
    /// sent (with its count increased, as the event aggregator does).
    pub fn observe(
        &mut self,
        cluster: &str,
        w: Warning<'_>,
        every_secs: i64,
        now: Timestamp,
        out: &mut Vec<Msg>,
    ) {
        let key = (
            cluster.to_string(),
            w.namespace.to_string(),
            w.name.to_string(),
            w.reason.to_string(),
        );
        match self.events.get_mut(&key) {
            Some(r) if now.duration_since(r.last_sent).as_secs() < every_secs => {}
            Some(r) => {
                r.event.count += 1;
                r.event.last_seen = Some(now);
                r.event.message = Untrusted::new(w.message);
                r.last_sent = now;
                out.push(Msg::Warning {
                    cluster: cluster.to_string(),
                    event: r.event.clone(),
                });
            }
            None => {
                let elapsed = w
                    .since
                    .map_or(0, |t| now.duration_since(t).as_secs().max(0));
                let count = 1 + u32::try_from(elapsed / every_secs.max(1)).unwrap_or(u32::MAX);
                let event = WarningEvent {
                    namespace: w.namespace.to_string(),
                    object_kind: w.kind.to_string(),
                    object_name: w.name.to_string(),
                    reason: w.reason.to_string(),
                    message: Untrusted::new(w.message),
                    count,
                    last_seen: Some(now),
                };
                out.push(Msg::Warning {
                    cluster: cluster.to_string(),
                    event: event.clone(),
                });
                self.events.insert(
                    key,
                    Recorded {
                        event,
                        last_sent: now,
                    },
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn warn() -> Warning<'static> {
        Warning {
            namespace: "ns",
            kind: "Pod",
            name: "web-abc",
            reason: "BackOff",
            message: "Back-off restarting failed container".into(),
            since: None,
        }
    }

    #[test]
    fn repeats_are_rate_limited_and_counted() {
        let mut rec = EventRecorder::default();
        let mut out = Vec::new();
        let t0 = Timestamp::UNIX_EPOCH;
        rec.observe("c", warn(), 30, t0, &mut out);
        rec.observe(
            "c",
            warn(),
            30,
            t0 + jiff::SignedDuration::from_secs(10),
            &mut out,
        );
        assert_eq!(out.len(), 1);
        rec.observe(
            "c",
            warn(),
            30,
            t0 + jiff::SignedDuration::from_secs(31),
            &mut out,
        );
        assert_eq!(out.len(), 2);
        match &out[1] {
            Msg::Warning { event, .. } => assert_eq!(event.count, 2),
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn a_long_running_condition_starts_with_its_count() {
        let mut rec = EventRecorder::default();
        let mut out = Vec::new();
        let t0 = Timestamp::UNIX_EPOCH;
        let now = t0 + jiff::SignedDuration::from_secs(300);
        let w = Warning {
            since: Some(t0),
            ..warn()
        };
        rec.observe("c", w, 30, now, &mut out);
        match &out[0] {
            Msg::Warning { event, .. } => assert_eq!(event.count, 11),
            other => panic!("unexpected {other:?}"),
        }
    }
}
