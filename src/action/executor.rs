//! The one executor: for every confirmed action it writes an fsynced intent record, sends the
//! request through the cluster's target with a deadline, records the result, and reports back
//! as `Msg::ActionDone`. No hidden retries of mutating calls: on a timeout or a dropped
//! connection the outcome is "unknown — verify".

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::future::BoxFuture;
use jiff::Timestamp;
use tokio::sync::mpsc;

use super::audit::{self, AuditLog};
use crate::core::action::ActionPlan;
use crate::core::effect::GateOverride;
use crate::core::msg::{AuditLine, Msg, Outcome};

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

struct InFlight {
    plan: ActionPlan,
    user: String,
}

#[derive(Clone)]
pub struct Executor {
    targets: Arc<HashMap<String, Arc<dyn ActionTarget>>>,
    audit: Option<AuditLog>,
    tx: mpsc::Sender<Msg>,
    in_flight: Arc<Mutex<HashMap<u64, InFlight>>>,
    deadline: Duration,
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
            in_flight: Arc::new(Mutex::new(HashMap::new())),
            deadline: DEADLINE,
        }
    }

    pub fn with_deadline(mut self, deadline: Duration) -> Self {
        self.deadline = deadline;
        self
    }

    /// Start carrying out an action; the result arrives as `Msg::ActionDone`.
    pub fn execute(&self, id: u64, plan: ActionPlan, gate: Option<GateOverride>) {
        let this = self.clone();
        tokio::spawn(async move {
            let outcome = this.run(id, plan, gate).await;
            let _ = this.tx.send(Msg::ActionDone { id, outcome }).await;
        });
    }

    async fn run(&self, id: u64, plan: ActionPlan, gate: Option<GateOverride>) -> Outcome {
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
        // Intent first, fsynced: if we cannot record it, we do not send.
        if let Err(e) = self.audit_write("intent", id, &user, &plan, gate.as_ref(), None) {
            return Outcome::Rejected {
                status: 0,
                detail: format!("not sent: cannot write the audit log: {e}"),
            };
        }
        self.lock().insert(
            id,
            InFlight {
                plan: plan.clone(),
                user: user.clone(),
            },
        );
        let outcome = match tokio::time::timeout(self.deadline, target.execute(plan.clone())).await
        {
            Ok(outcome) => outcome,
            Err(_) => Outcome::Unknown {
                detail: format!("no answer within {}s", self.deadline.as_secs()),
            },
        };
        self.lock().remove(&id);
        let detail = self
            .audit_write("result", id, &user, &plan, gate.as_ref(), Some(&outcome))
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

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<u64, InFlight>> {
        self.in_flight
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn audit_write(
        &self,
        stage: &str,
        id: u64,
        user: &str,
        plan: &ActionPlan,
        gate: Option<&GateOverride>,
        outcome: Option<&Outcome>,
    ) -> Result<(), String> {
        let now = Timestamp::now();
        if let Some(log) = &self.audit {
            log.write(&audit::record(stage, id, user, plan, gate, outcome, now))
                .map_err(|e| e.to_string())?;
        }
        let line = AuditLine {
            at: now,
            stage: stage.into(),
            cluster: plan.cluster.clone(),
            target: format!("{}/{}", plan.namespace, plan.name),
            action: plan.kind.label().into(),
            outcome: match outcome {
                Some(o) => o.summary(),
                None => "sending".into(),
            },
        };
        if stage == "intent" {
            let _ = self.tx.try_send(Msg::Audit(vec![line]));
        }
        Ok(())
    }

    /// Ask a cluster's target about RBAC; the answer arrives as `Msg::Access`.
    pub fn check_access(&self, cluster: String, namespace: String, verb: String, resource: String) {
        let Some(target) = self.targets.get(&cluster).cloned() else {
            return;
        };
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

    /// On exit (quit, SIGHUP, SIGTERM): record every unanswered action as outcome unknown.
    pub fn shutdown(&self) {
        let pending: Vec<(u64, InFlight)> = self.lock().drain().collect();
        for (id, f) in pending {
            let outcome = Outcome::Unknown {
                detail: "console exited before the answer arrived — verify".into(),
            };
            let _ = self.audit_write("result", id, &f.user, &f.plan, None, Some(&outcome));
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
        assert_eq!(tail[0].stage, "intent");
        assert_eq!(tail[1].stage, "result");
        assert_eq!(tail[1].outcome, "unknown");
    }

    #[tokio::test]
    async fn unknown_cluster_is_rejected_without_audit() {
        let (tx, mut rx) = mpsc::channel(4);
        let ex = Executor::new(HashMap::new(), None, tx);
        ex.execute(9, plan(), None);
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
