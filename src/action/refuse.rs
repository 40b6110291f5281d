//! Read-only in depth on the write side: which clusters are read-only (`ReadOnly`, the
//! executor's own gate, independent of the core's plan gate) and the action target a
//! read-only cluster gets instead of a client (`RefusingTarget`: it holds no connection, so
//! it cannot send — no write, no dry run, no access review, no identity review).

use std::collections::HashSet;
use std::sync::Arc;

use futures::future::BoxFuture;

use crate::action::ActionTarget;
use crate::core::State;
use crate::core::action::ActionPlan;
use crate::core::msg::Outcome;

/// The clusters whose writes are refused: every cluster (global `--read-only` or the
/// config's `read_only = true`) or the named ones (per-cluster `read_only = true`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReadOnly {
    all: bool,
    clusters: HashSet<String>,
}

impl ReadOnly {
    /// Every cluster is read-only.
    pub fn all() -> ReadOnly {
        ReadOnly {
            all: true,
            clusters: HashSet::new(),
        }
    }

    /// Only these clusters are read-only.
    pub fn clusters(names: impl IntoIterator<Item = String>) -> ReadOnly {
        ReadOnly {
            all: false,
            clusters: names.into_iter().collect(),
        }
    }

    /// What the state says (the most restrictive of the global setting and each cluster's).
    pub fn of_state(state: &State) -> ReadOnly {
        if state.settings.read_only {
            return ReadOnly::all();
        }
        ReadOnly::clusters(
            state
                .clusters
                .iter()
                .filter(|c| c.read_only)
                .map(|c| c.name.clone()),
        )
    }

    /// Are writes to `cluster` refused?
    pub fn covers(&self, cluster: &str) -> bool {
        self.all || self.clusters.contains(cluster)
    }

    /// `target`, or a refusing target in its place when `cluster` is read-only.
    pub fn gate(&self, cluster: &str, target: Arc<dyn ActionTarget>) -> Arc<dyn ActionTarget> {
        if self.covers(cluster) {
            Arc::new(RefusingTarget::new(cluster))
        } else {
            target
        }
    }
}

/// Why a write to a read-only cluster was not sent (the outcome's detail).
pub fn refusal_detail(cluster: &str) -> String {
    format!("refused: cluster {cluster:?} is read-only — nothing sent")
}

/// The outcome of a write refused because `cluster` is read-only.
pub fn refusal(cluster: &str) -> Outcome {
    Outcome::Rejected {
        status: 0,
        detail: refusal_detail(cluster),
    }
}

/// The refusal could not be written to the audit log: still refused, and said so.
pub fn refusal_unrecorded(cluster: &str, error: &str) -> Outcome {
    Outcome::Rejected {
        status: 0,
        detail: format!(
            "{} (audit record not written: {error})",
            refusal_detail(cluster)
        ),
    }
}

/// The action target of a read-only cluster: it has no client, so nothing it is given can
/// reach the cluster. Every call answers locally.
#[derive(Debug, Clone)]
pub struct RefusingTarget {
    cluster: String,
}

impl RefusingTarget {
    pub fn new(cluster: impl Into<String>) -> Self {
        RefusingTarget {
            cluster: cluster.into(),
        }
    }
}

impl ActionTarget for RefusingTarget {
    // Reads (pods, events) keep the trait's answer: a read-only cluster holds no client
    // besides its watches, so they say they cannot be read from this source.
    fn execute(&self, _plan: ActionPlan) -> BoxFuture<'static, Outcome> {
        let outcome = refusal(&self.cluster);
        Box::pin(async move { outcome })
    }

    fn check_access(
        &self,
        _namespace: String,
        _verb: String,
        _resource: String,
    ) -> BoxFuture<'static, Option<bool>> {
        // Not asked: a SelfSubjectAccessReview is a create on the cluster.
        Box::pin(async { None })
    }

    fn dry_run(&self, _plan: ActionPlan) -> BoxFuture<'static, Result<String, String>> {
        let detail = refusal_detail(&self.cluster);
        Box::pin(async move { Err(detail) })
    }

    fn identity(&self) -> BoxFuture<'static, String> {
        Box::pin(async { "not asked (read-only)".to_string() })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::action::{ActionKind, Seen};
    use crate::core::model::ReleaseKind;
    use crate::core::testkit::fleet;

    fn plan() -> ActionPlan {
        ActionPlan {
            kind: ActionKind::Promote,
            cluster: "prod".into(),
            release_kind: ReleaseKind::Rollout,
            namespace: "ns".into(),
            name: "web".into(),
            uid: "u".into(),
            prod: false,
            calls: vec![],
            seen: Seen {
                phase: "Paused".into(),
                step: None,
                revision: None,
                resource_version: "1".into(),
            },
            notes: vec![],
            owner_first: None,
        }
    }

    #[test]
    fn read_only_covers_all_or_the_named_clusters() {
        let all = ReadOnly::all();
        assert!(all.covers("prod-eu-1") && all.covers("anything"));
        let some = ReadOnly::clusters(["prod".to_string()]);
        assert!(some.covers("prod"));
        assert!(!some.covers("staging"));
        assert!(!ReadOnly::default().covers("prod"));
    }

    #[test]
    fn read_only_of_state_is_the_most_restrictive() {
        let mut s = fleet();
        assert_eq!(ReadOnly::of_state(&s), ReadOnly::default());
        if let Some(c) = s.clusters.iter_mut().find(|c| c.name == "staging") {
            c.read_only = true;
        }
        let ro = ReadOnly::of_state(&s);
        assert!(ro.covers("staging"));
        assert!(!ro.covers("prod-eu-1"));
        s.settings.read_only = true;
        assert!(ReadOnly::of_state(&s).covers("prod-eu-1"));
    }

    #[tokio::test]
    async fn the_refusing_target_answers_everything_locally() {
        let t = RefusingTarget::new("prod");
        let plan = plan();
        match t.execute(plan.clone()).await {
            Outcome::Rejected { status: 0, detail } => {
                assert!(detail.contains("read-only") && detail.contains("\"prod\""))
            }
            other => panic!("{other:?}"),
        }
        let dry = t.dry_run(plan).await;
        assert!(dry.is_err_and(|e| e.contains("read-only")));
        let access = t.check_access("ns".into(), "patch".into(), "deployments".into());
        assert_eq!(access.await, None);
        assert!(t.identity().await.contains("read-only"));
    }

    /// A target that counts every call that would have gone to the cluster.
    #[derive(Default)]
    struct Spy(std::sync::atomic::AtomicUsize);
    impl Spy {
        fn hit(&self) {
            self.0.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        }
    }
    impl ActionTarget for std::sync::Arc<Spy> {
        fn execute(&self, _plan: ActionPlan) -> BoxFuture<'static, Outcome> {
            self.hit();
            Box::pin(async {
                Outcome::Applied {
                    status: 200,
                    detail: "sent".into(),
                }
            })
        }
        fn check_access(
            &self,
            _: String,
            _: String,
            _: String,
        ) -> BoxFuture<'static, Option<bool>> {
            self.hit();
            Box::pin(async { Some(true) })
        }
        fn dry_run(&self, _plan: ActionPlan) -> BoxFuture<'static, Result<String, String>> {
            self.hit();
            Box::pin(async { Ok("sent".into()) })
        }
        fn identity(&self) -> BoxFuture<'static, String> {
            self.hit();
            Box::pin(async { "spy".into() })
        }
    }

    #[tokio::test]
    async fn the_executor_refuses_a_read_only_cluster_on_its_own() {
        use crate::action::Executor;
        use crate::action::audit::AuditLog;
        use crate::core::msg::{AuditStage, Msg};
        let dir = tempfile::tempdir().unwrap();
        let log = AuditLog::open(&dir.path().join("a.jsonl")).unwrap();
        let (tx, mut rx) = tokio::sync::mpsc::channel(16);
        let spy = std::sync::Arc::new(Spy::default());
        let mut targets: std::collections::HashMap<String, std::sync::Arc<dyn ActionTarget>> =
            std::collections::HashMap::new();
        // A write-capable target, as if the wiring had got it wrong: the executor still refuses.
        targets.insert("prod".into(), std::sync::Arc::new(spy.clone()));
        let ex = Executor::new(targets, Some(log.clone()), tx)
            .with_read_only(ReadOnly::clusters(["prod".to_string()]));
        ex.execute(7, plan(), None);
        let outcome = loop {
            match rx.recv().await {
                Some(Msg::ActionDone { id: 7, outcome }) => break outcome,
                Some(_) => {}
                None => panic!("channel closed"),
            }
        };
        assert_eq!(outcome, refusal("prod"));
        ex.dry_run(plan());
        match rx.recv().await {
            Some(Msg::DryRun { result: Err(e), .. }) => assert!(e.contains("read-only"), "{e}"),
            other => panic!("{other:?}"),
        }
        ex.check_access(
            "prod".into(),
            "ns".into(),
            "patch".into(),
            "rollouts".into(),
        );
        tokio::task::yield_now().await;
        assert!(rx.try_recv().is_err(), "no access answer");
        assert_eq!(
            spy.0.load(std::sync::atomic::Ordering::SeqCst),
            0,
            "nothing sent"
        );
        // The refusal is in the audit log, as a result with no intent before it.
        let tail = log.tail(10);
        assert_eq!(tail.len(), 1, "{tail:?}");
        assert_eq!(tail[0].stage, AuditStage::Result);
        assert_eq!(tail[0].outcome, "rejected", "{:?}", tail[0]);
        let text = std::fs::read_to_string(log.path()).unwrap();
        assert!(text.contains("is read-only — nothing sent"), "{text}");
    }
}
