//! The failures feed: Warning events, failed analyses, aborted or degraded releases —
//! de-duplicated by (cluster, object, reason) with a count, newest first, bounded.

use jiff::Timestamp;

use super::facts::{Condition, ObjectFacts};
use super::model::Failure;
use super::text::Untrusted;

/// Condition reasons and types that say a release failed (what the controllers write).
const FAILING_REASONS: [&str; 3] = [
    "ProgressDeadlineExceeded",
    "RolloutAborted",
    "ReplicaSetCreateError",
];
const FAILING_TYPES: [&str; 2] = ["InvalidSpec", "ReplicaFailure"];

fn failing(c: &Condition) -> bool {
    FAILING_REASONS.contains(&c.reason.as_str())
        || (FAILING_TYPES.contains(&c.type_.as_str()) && c.status == "True")
}

/// When a failure derived from an object's status happened, as the object says: the
/// lastTransitionTime of its failing condition (ProgressDeadlineExceeded, RolloutAborted,
/// InvalidSpec, ...), or of a Flagger canary's phase. None when the object does not say,
/// so a five-day-old failure is never shown as just seen.
pub fn failed_since(facts: &ObjectFacts) -> Option<Timestamp> {
    let latest = |conds: &[Condition]| {
        conds
            .iter()
            .filter(|c| failing(c))
            .filter_map(|c| c.last_transition)
            .max()
    };
    match facts {
        ObjectFacts::Deployment(d) => latest(&d.conditions),
        ObjectFacts::Rollout(r) => latest(&r.conditions),
        ObjectFacts::Canary(c) => c.last_transition,
        ObjectFacts::Kustomization(f) | ObjectFacts::HelmRelease(f) => (f.ready
            == crate::core::kinds::flux::Ready::False)
            .then_some(f.ready_since)
            .flatten(),
        ObjectFacts::Application(a) => matches!(a.op_phase.as_str(), "Failed" | "Error")
            .then_some(a.op_finished)
            .flatten(),
        ObjectFacts::ReplicaSet(_) | ObjectFacts::AnalysisRun(_) | ObjectFacts::Unparseable(_) => {
            None
        }
    }
}

/// Most lines kept; older ones fall off.
pub const MAX_FAILURES: usize = 500;

#[derive(Debug, Default, Clone)]
pub struct FailureFeed {
    /// Newest first.
    items: Vec<Failure>,
    /// Bumped by every change, so views built from the feed know when to rebuild.
    generation: u64,
}

/// One observation of a failure.
pub struct Observed<'a> {
    pub cluster: &'a str,
    pub namespace: &'a str,
    pub object: &'a str,
    pub reason: &'a str,
    pub message: &'a Untrusted,
    /// How many times the source counted it (Event.count); at least 1.
    pub count: u32,
    pub at: Timestamp,
}

impl FailureFeed {
    pub fn items(&self) -> &[Failure] {
        &self.items
    }

    pub fn generation(&self) -> u64 {
        self.generation
    }

    pub fn len(&self) -> usize {
        self.items.len()
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// Drop one failure (an observation to be replaced by a better one: a failed analysis
    /// first seen in its Rollout's status, then read from the AnalysisRun itself, which
    /// says when it failed). True when one was dropped.
    pub fn forget(&mut self, cluster: &str, namespace: &str, object: &str, reason: &str) -> bool {
        let before = self.items.len();
        self.items.retain(|f| {
            !(f.cluster == cluster
                && f.namespace == namespace
                && f.object == object
                && f.reason == reason)
        });
        let dropped = self.items.len() != before;
        if dropped {
            self.generation += 1;
        }
        dropped
    }

    /// Record an observation; returns true when the feed changed.
    pub fn record(&mut self, o: Observed<'_>) -> bool {
        let pos = self.items.iter().position(|f| {
            f.cluster == o.cluster
                && f.namespace == o.namespace
                && f.object == o.object
                && f.reason == o.reason
        });
        let failure = match pos {
            Some(i) => {
                let mut f = self.items.remove(i);
                // Event counts are cumulative; our own observations add one each.
                f.count = if o.count > 1 {
                    o.count.max(f.count)
                } else {
                    f.count.saturating_add(1)
                };
                f.message = o.message.clone();
                f.last_seen = f.last_seen.max(o.at);
                f
            }
            None => Failure {
                cluster: o.cluster.to_string(),
                namespace: o.namespace.to_string(),
                object: o.object.to_string(),
                reason: o.reason.to_string(),
                message: o.message.clone(),
                count: o.count.max(1),
                first_seen: o.at,
                last_seen: o.at,
            },
        };
        let at = self
            .items
            .iter()
            .position(|f| f.last_seen <= failure.last_seen)
            .unwrap_or(self.items.len());
        self.items.insert(at, failure);
        self.items.truncate(MAX_FAILURES);
        self.generation += 1;
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn obs<'a>(
        object: &'a str,
        reason: &'a str,
        msg: &'a Untrusted,
        at: i64,
        count: u32,
    ) -> Observed<'a> {
        Observed {
            cluster: "c",
            namespace: "ns",
            object,
            reason,
            message: msg,
            count,
            at: Timestamp::from_second(at).unwrap(),
        }
    }

    #[test]
    fn duplicates_merge_with_count_and_newest_first() {
        let m = Untrusted::new("boom");
        let mut feed = FailureFeed::default();
        feed.record(obs("pod/a", "BackOff", &m, 100, 1));
        feed.record(obs("pod/b", "Failed", &m, 110, 1));
        feed.record(obs("pod/a", "BackOff", &m, 120, 1));
        assert_eq!(feed.len(), 2);
        assert_eq!(feed.items()[0].object, "pod/a");
        assert_eq!(feed.items()[0].count, 2);
        assert_eq!(feed.items()[0].first_seen.as_second(), 100);
        assert_eq!(feed.items()[1].object, "pod/b");
    }

    #[test]
    fn event_counts_are_taken_not_added() {
        let m = Untrusted::new("x");
        let mut feed = FailureFeed::default();
        feed.record(obs("pod/a", "BackOff", &m, 100, 5));
        feed.record(obs("pod/a", "BackOff", &m, 130, 7));
        assert_eq!(feed.items()[0].count, 7);
    }

    #[test]
    fn feed_is_bounded() {
        let m = Untrusted::new("x");
        let mut feed = FailureFeed::default();
        let names: Vec<String> = (0..MAX_FAILURES + 20).map(|i| format!("pod/{i}")).collect();
        for (i, n) in names.iter().enumerate() {
            feed.record(obs(n, "BackOff", &m, i as i64, 1));
        }
        assert_eq!(feed.len(), MAX_FAILURES);
        assert_eq!(feed.items()[0].object, format!("pod/{}", MAX_FAILURES + 19));
    }

    fn cond(type_: &str, status: &str, reason: &str, at: i64) -> Condition {
        Condition {
            type_: type_.into(),
            status: status.into(),
            reason: reason.into(),
            message: Untrusted::new(""),
            last_transition: Timestamp::from_second(at).ok(),
        }
    }

    #[test]
    fn failed_since_is_the_failing_conditions_transition() {
        use crate::core::facts::{DeploymentFacts, RolloutFacts};
        let d = ObjectFacts::Deployment(DeploymentFacts {
            conditions: vec![
                cond("Progressing", "False", "ProgressDeadlineExceeded", 1_000),
                // A later, unrelated transition does not move the failure's time.
                cond("Available", "True", "MinimumReplicasAvailable", 5_000),
            ],
            ..DeploymentFacts::default()
        });
        assert_eq!(failed_since(&d).map(|t| t.as_second()), Some(1_000));
        let r = ObjectFacts::Rollout(RolloutFacts {
            conditions: vec![
                cond("Progressing", "False", "RolloutAborted", 2_000),
                cond("InvalidSpec", "True", "InvalidSpec", 3_000),
            ],
            ..RolloutFacts::default()
        });
        assert_eq!(failed_since(&r).map(|t| t.as_second()), Some(3_000));
        let fine = ObjectFacts::Rollout(RolloutFacts {
            conditions: vec![
                cond("Progressing", "True", "NewReplicaSetAvailable", 2_000),
                cond("InvalidSpec", "False", "", 3_000),
            ],
            ..RolloutFacts::default()
        });
        assert_eq!(failed_since(&fine), None);
    }

    #[test]
    fn a_five_day_old_deadline_is_five_days_old_in_the_feed() {
        use crate::core::testkit::{deployment, fleet};
        use crate::core::{Msg, settle, update};
        let mut s = fleet();
        let five_days_ago = s.now - jiff::SignedDuration::from_hours(120);
        let mut d = deployment("web", "frontend", false);
        d.meta.resource_version = "8".into();
        d.conditions
            .push(cond("Available", "True", "MinimumReplicasAvailable", 0));
        d.conditions[0].last_transition = Some(s.now - jiff::SignedDuration::from_hours(1));
        d.conditions
            .push(cond("Progressing", "False", "ProgressDeadlineExceeded", 0));
        d.conditions[1].last_transition = Some(five_days_ago);
        update(
            &mut s,
            Msg::Upsert {
                cluster: "staging".into(),
                facts: ObjectFacts::Deployment(d),
            },
        );
        settle(&mut s);
        let f = s
            .failures
            .items()
            .iter()
            .find(|f| f.object.ends_with("/frontend") && f.reason == "Degraded")
            .expect("the failure is in the feed");
        assert_eq!(f.last_seen, five_days_ago);
        assert_eq!(f.first_seen, five_days_ago);
    }
}
