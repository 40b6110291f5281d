//! The one executor: for every confirmed action it writes an fsynced intent record, sends the
//! request through the cluster's target with a deadline, records the result, and reports back
//! as `Msg::Audit` (the record's line) and `Msg::ActionDone`. No hidden retries of mutating
//! calls: on a timeout or a dropped connection the outcome is "unknown — verify".
//! It only carries out: which actions are in flight is the core's register (`State::pending`),
//! handed to `shutdown` on exit; records and their lines are built by `audit`.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::future::BoxFuture;
use jiff::Timestamp;
use tokio::sync::mpsc;

use super::audit::{self, AuditLog};
use super::refuse::{self, ReadOnly};
use crate::core::action::ActionPlan;
use crate::core::effect::GateOverride;
use crate::core::msg::{AuditStage, Msg, Outcome};

/// Sends requests to one backend (a cluster's API server, or the simulation).
pub trait ActionTarget: Send + Sync + 'static {
    /// Send the plan's calls in order, stopping at the first that does not succeed.
    fn execute(&self, plan: ActionPlan) -> BoxFuture<'static, Outcome>;
    /// May this identity do `verb` on `resource` in `namespace`? None when it cannot be told.
    fn check_access(
        &self,
        namespace: String,
        verb: String,
        resource: String,
    ) -> BoxFuture<'static, Option<bool>>;
    /// Server-side dry-run of the plan's first call: Ok(summary) or Err(what the server said).
    fn dry_run(&self, plan: ActionPlan) -> BoxFuture<'static, Result<String, String>>;
    /// Who the API server says we are (for the audit log).
    fn identity(&self) -> BoxFuture<'static, String>;
}

/// Deadline after which an action's outcome is "unknown — verify" (P10).
pub const DEADLINE: Duration = Duration::from_secs(10);

#[derive(Clone)]
pub struct Executor {
    targets: Arc<HashMap<String, Arc<dyn ActionTarget>>>,
    audit: Option<AuditLog>,
    tx: mpsc::Sender<Msg>,
    /// Who each cluster said we are, for records written on exit.
    users: Arc<Mutex<HashMap<String, String>>>,
    deadline: Duration,
    /// Clusters whose writes this executor refuses on its own (whatever the core planned).
    read_only: Arc<ReadOnly>,
}

impl Executor {
    pub fn new(
        targets: HashMap<String, Arc<dyn ActionTarget>>,
        audit: Option<AuditLog>,
        tx: mpsc::Sender<Msg>,
    ) -> Self {
        Executor {
            targets: Arc::new(targets),
            audit,
            tx,
            users: Arc::new(Mutex::new(HashMap::new())),
            deadline: DEADLINE,
            read_only: Arc::new(ReadOnly::default()),
        }
    }

    /// Refuse every write, dry run and access review for these clusters, never sending.
    pub fn with_read_only(mut self, read_only: ReadOnly) -> Self {
        self.read_only = Arc::new(read_only);
        self
    }

    pub fn with_deadline(mut self, deadline: Duration) -> Self {
        self.deadline = deadline;
        self
    }

    /// Start carrying out an action; the result arrives as `Msg::ActionDone`.
    pub fn execute(&self, id: u64, plan: ActionPlan, gate: Option<GateOverride>) {
        let this = self.clone();
        tokio::spawn(async move {
            let outcome = this.run(id, &plan, gate.as_ref()).await;
            let record = audit::record(
                AuditStage::Result,
                id,
                "",
                &plan,
                gate.as_ref(),
                Some(&outcome),
                Timestamp::now(),
            );
            let line = record.line(Timestamp::now());
            let _ = this.tx.send(Msg::Audit(vec![line])).await;
            let _ = this.tx.send(Msg::ActionDone { id, outcome }).await;
        });
    }

    async fn run(&self, id: u64, plan: &ActionPlan, gate: Option<&GateOverride>) -> Outcome {
        if self.read_only.covers(&plan.cluster) {
            // No identity asked (a SelfSubjectReview is a create), no intent: refusal only.
            let outcome = refuse::refusal(&plan.cluster);
            let user = "not asked (read-only)";
            let written =
                self.audit_write(AuditStage::Result, id, user, plan, gate, Some(&outcome));
            return match written {
                Ok(()) => outcome,
                Err(e) => refuse::refusal_unrecorded(&plan.cluster, &e),
            };
        }
        let Some(target) = self.targets.get(&plan.cluster).cloned() else {
            return Outcome::Rejected {
                status: 0,
                detail: format!("no connection to cluster {:?}", plan.cluster),
            };
        };
        let user = match tokio::time::timeout(Duration::from_secs(2), target.identity()).await {
            Ok(u) => u,
            Err(_) => "unknown".into(),
        };
        self.lock_users().insert(plan.cluster.clone(), user.clone());
        // Intent first, fsynced: if we cannot record it, we do not send.
        if let Err(e) = self.audit_write(AuditStage::Intent, id, &user, plan, gate, None) {
            return Outcome::Rejected {
                status: 0,
                detail: format!("not sent: cannot write the audit log: {e}"),
            };
        }
        let outcome = match tokio::time::timeout(self.deadline, target.execute(plan.clone())).await
        {
            Ok(outcome) => outcome,
            Err(_) => Outcome::Unknown {
                detail: format!("no answer within {}s", self.deadline.as_secs()),
            },
        };
        let detail = self
            .audit_write(AuditStage::Result, id, &user, plan, gate, Some(&outcome))
            .err();
        match detail {
            None => outcome,
            // The request went out; say so, and that the record is missing.
            Some(e) => match outcome {
                Outcome::Applied { status, detail } => Outcome::Applied {
                    status,
                    detail: format!("{detail} (audit result not written: {e})"),
                },
                other => other,
            },
        }
    }

    fn lock_users(&self) -> std::sync::MutexGuard<'_, HashMap<String, String>> {
        self.users
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Write a record to the log (if any); an intent's line goes to the audit screen at once.
    fn audit_write(
        &self,
        stage: AuditStage,
        id: u64,
        user: &str,
        plan: &ActionPlan,
        gate: Option<&GateOverride>,
        outcome: Option<&Outcome>,
    ) -> Result<(), String> {
        let now = Timestamp::now();
        let record = audit::record(stage, id, user, plan, gate, outcome, now);
        if let Some(log) = &self.audit {
            log.write(&record).map_err(|e| e.to_string())?;
        }
        if stage == AuditStage::Intent {
            let _ = self.tx.try_send(Msg::Audit(vec![record.line(now)]));
        }
        Ok(())
    }

    /// Ask a cluster's target about RBAC; the answer arrives as `Msg::Access`.
    pub fn check_access(&self, cluster: String, namespace: String, verb: String, resource: String) {
        let Some(target) = self.targets.get(&cluster).cloned() else {
            return;
        };
        let target = self.read_only.gate(&cluster, target);
        let tx = self.tx.clone();
        tokio::spawn(async move {
            let answer = target
                .check_access(namespace.clone(), verb.clone(), resource.clone())
                .await;
            if let Some(allowed) = answer {
                let _ = tx
                    .send(Msg::Access {
                        cluster,
                        namespace,
                        verb,
                        resource,
                        allowed,
                    })
                    .await;
            }
        });
    }

    /// Dry-run a plan; the answer arrives as `Msg::DryRun`.
    pub fn dry_run(&self, plan: ActionPlan) {
        let Some(target) = self.targets.get(&plan.cluster).cloned() else {
            return;
        };
        let target = self.read_only.gate(&plan.cluster, target);
        let tx = self.tx.clone();
        tokio::spawn(async move {
            let (uid, action) = (plan.uid.clone(), plan.kind);
            let result = match tokio::time::timeout(DEADLINE, target.dry_run(plan)).await {
                Ok(r) => r,
                Err(_) => Err("dry-run: no answer within the deadline".into()),
            };
            let _ = tx
                .send(Msg::DryRun {
                    uid,
                    action,
                    result,
                })
                .await;
        });
    }

    /// On exit (quit, SIGHUP, SIGTERM): record every action the core still has in flight
    /// (`State::pending`) as outcome unknown.
    pub fn shutdown<'a>(&self, in_flight: impl IntoIterator<Item = (u64, &'a ActionPlan)>) {
        let outcome = Outcome::Unknown {
            detail: "console exited before the answer arrived — verify".into(),
        };
        for (id, plan) in in_flight {
            let user = self
                .lock_users()
                .get(&plan.cluster)
                .cloned()
                .unwrap_or_else(|| "unknown".into());
            let _ = self.audit_write(AuditStage::Result, id, &user, plan, None, Some(&outcome));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::action::{ActionKind, Seen};
    use crate::core::model::ReleaseKind;

    struct Slow;
    impl ActionTarget for Slow {
        fn execute(&self, _plan: ActionPlan) -> BoxFuture<'static, Outcome> {
            Box::pin(async {
                tokio::time::sleep(Duration::from_secs(3600)).await;
                Outcome::Applied {
                    status: 200,
                    detail: String::new(),
                }
            })
        }
        fn check_access(
            &self,
            _: String,
            _: String,
            _: String,
        ) -> BoxFuture<'static, Option<bool>> {
            Box::pin(async { Some(true) })
        }
        fn dry_run(&self, _plan: ActionPlan) -> BoxFuture<'static, Result<String, String>> {
            Box::pin(async { Ok("ok".to_string()) })
        }
        fn identity(&self) -> BoxFuture<'static, String> {
            Box::pin(async { "tester".to_string() })
        }
    }

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
        }
    }

    #[tokio::test(start_paused = true)]
    async fn deadline_gives_unknown_and_audits_intent_before_result() {
        let dir = tempfile::tempdir().unwrap();
        let log = AuditLog::open(&dir.path().join("a.jsonl")).unwrap();
        let (tx, mut rx) = mpsc::channel(16);
        let mut targets: HashMap<String, Arc<dyn ActionTarget>> = HashMap::new();
        targets.insert("c".into(), Arc::new(Slow));
        let ex = Executor::new(targets, Some(log.clone()), tx);
        ex.execute(1, plan(), None);
        let mut done = None;
        while let Some(m) = rx.recv().await {
            if let Msg::ActionDone { id, outcome } = m {
                done = Some((id, outcome));
                break;
            }
        }
        let (id, outcome) = done.unwrap();
        assert_eq!(id, 1);
        assert!(matches!(outcome, Outcome::Unknown { .. }), "{outcome:?}");
        let tail = log.tail(10);
        assert_eq!(tail.len(), 2);
        assert_eq!(tail[0].stage, AuditStage::Intent);
        assert_eq!(tail[1].stage, AuditStage::Result);
        assert_eq!(tail[1].outcome, "unknown");
    }

    #[tokio::test(start_paused = true)]
    async fn lines_come_with_the_records_and_the_result_before_done() {
        let (tx, mut rx) = mpsc::channel(16);
        let mut targets: HashMap<String, Arc<dyn ActionTarget>> = HashMap::new();
        targets.insert("c".into(), Arc::new(Slow));
        let ex = Executor::new(targets, None, tx);
        ex.execute(3, plan(), None);
        let mut stages = Vec::new();
        while let Some(m) = rx.recv().await {
            match m {
                Msg::Audit(lines) => stages.extend(lines.into_iter().map(|l| {
                    assert_eq!(l.target, "ns/web");
                    (l.stage, l.outcome)
                })),
                Msg::ActionDone { .. } => break,
                other => panic!("unexpected {other:?}"),
            }
        }
        assert_eq!(stages.len(), 2, "{stages:?}");
        assert_eq!(stages[0], (AuditStage::Intent, "sending".into()));
        assert_eq!(stages[1].0, AuditStage::Result);
        assert!(stages[1].1.starts_with("outcome unknown"), "{stages:?}");
    }

    #[tokio::test(start_paused = true)]
    async fn shutdown_records_what_the_core_still_has_in_flight() {
        let dir = tempfile::tempdir().unwrap();
        let log = AuditLog::open(&dir.path().join("a.jsonl")).unwrap();
        let (tx, mut rx) = mpsc::channel(16);
        let mut targets: HashMap<String, Arc<dyn ActionTarget>> = HashMap::new();
        targets.insert("c".into(), Arc::new(Slow));
        let ex = Executor::new(targets, Some(log.clone()), tx);
        let p = plan();
        ex.execute(5, p.clone(), None);
        // The intent is written (and shown) before the request goes out.
        assert!(matches!(rx.recv().await, Some(Msg::Audit(_))));
        ex.shutdown([(5, &p)]);
        let tail = log.tail(10);
        assert_eq!(tail.len(), 2);
        assert_eq!(tail[0].stage, AuditStage::Intent);
        assert_eq!(tail[1].stage, AuditStage::Result);
        assert_eq!(tail[1].outcome, "unknown");
        let text = std::fs::read_to_string(log.path()).unwrap();
        let last: serde_json::Value = serde_json::from_str(text.lines().last().unwrap()).unwrap();
        assert_eq!(last["user"], "tester", "the identity seen at intent");
        assert_eq!(last["seq"], 5);
    }

    #[tokio::test]
    async fn unknown_cluster_is_rejected_without_audit() {
        let (tx, mut rx) = mpsc::channel(4);
        let ex = Executor::new(HashMap::new(), None, tx);
        ex.execute(9, plan(), None);
        // No intent (nothing was sent); the audit screen still shows the refusal.
        match rx.recv().await {
            Some(Msg::Audit(lines)) => assert_eq!(lines[0].stage, AuditStage::Result),
            other => panic!("unexpected {other:?}"),
        }
        match rx.recv().await {
            Some(Msg::ActionDone {
                outcome: Outcome::Rejected { detail, .. },
                ..
            }) => {
                assert!(detail.contains("no connection"))
            }
            other => panic!("unexpected {other:?}"),
        }
    }
}
