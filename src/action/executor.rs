//! The one executor: for every confirmed action it writes an fsynced intent record, sends the
//! request through the cluster's target with a deadline, records the result, and reports back
//! as `Msg::Audit` (the record's line) and `Msg::ActionDone`. No hidden retries of mutating
//! calls: on a timeout or a dropped connection the outcome is "unknown — verify".
//! It only carries out: what the console shows in flight is the core's register
//! (`State::pending`); which started actions may still write a result is the `ledger`, closed
//! by `shutdown` on every exit path so each action has exactly one result record. Records
//! and their lines are built by `audit`.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use futures::future::BoxFuture;
use jiff::Timestamp;
use tokio::sync::mpsc;

use super::audit::{self, AuditLog};
use super::ledger::{Entry, Intent, Ledger};
use super::refuse::{self, ReadOnly};
use crate::core::action::{ActionPlan, Resource};
use crate::core::effect::GateOverride;
use crate::core::kinds::flux_source::{FluxSourceFacts, FluxSourceQuery};
use crate::core::kinds::pod::{EventsQuery, ObjectEvent, PodQuery, PodsChange};
use crate::core::msg::{AuditLine, AuditStage, Msg, Outcome};
use crate::core::text::Untrusted;

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
    /// List and then watch one ReplicaSet's pods, sending `Msg::Pods` to `tx`, until the
    /// future is dropped (the pods screen closed). Reads only; a backend that cannot read
    /// pods says so once.
    fn watch_pods(&self, q: PodQuery, tx: mpsc::Sender<Msg>) -> BoxFuture<'static, ()> {
        Box::pin(async move {
            let change = PodsChange::Failed(Untrusted::new(
                "pods cannot be read from this cluster's source (read-only clusters hold no client besides their watches)",
            ));
            let _ = tx
                .send(Msg::Pods {
                    watch: q.watch,
                    change,
                })
                .await;
        })
    }
    /// The events of a release, its ReplicaSets and their pods, listed once.
    fn list_events(
        &self,
        _q: EventsQuery,
    ) -> BoxFuture<'static, Result<Vec<ObjectEvent>, Untrusted>> {
        Box::pin(async {
            Err(Untrusted::new(
                "events cannot be read from this cluster's source (read-only clusters hold no client besides their watches)",
            ))
        })
    }

    /// Ask a loadtester whether a Canary's confirm gate is open (`/gate/check`); a backend
    /// that cannot ask says why.
    fn check_gate(
        &self,
        _q: crate::core::gates::GateQuery,
    ) -> BoxFuture<'static, crate::core::facts::GateState> {
        Box::pin(async {
            crate::core::facts::GateState::Unknown(
                "the gate cannot be asked from this cluster's source (read-only clusters hold no client besides their watches)".into(),
            )
        })
    }

    /// A Flux source (GitRepository / OCIRepository) read once, projected. A read.
    fn flux_source(
        &self,
        q: FluxSourceQuery,
    ) -> BoxFuture<'static, Result<FluxSourceFacts, Untrusted>> {
        let kind = q.kind.api().name;
        let asked = self.get_object(q.resource(), q.namespace, q.name);
        Box::pin(async move {
            let mut v = asked.await.map_err(Untrusted::new)?;
            if let Some(o) = v.as_object_mut() {
                o.entry("kind").or_insert_with(|| kind.into());
            }
            crate::source::kube::project::flux_source(&v).map_err(Untrusted::new)
        })
    }

    /// GET one object as JSON (the YAML view). A read: allowed on read-only clusters too.
    fn get_object(
        &self,
        _resource: Resource,
        _namespace: String,
        _name: String,
    ) -> BoxFuture<'static, Result<serde_json::Value, String>> {
        Box::pin(async { Err("this source cannot read objects".to_string()) })
    }
}

/// Deadline after which an action's outcome is "unknown — verify" (P10).
pub const DEADLINE: Duration = Duration::from_secs(10);

#[derive(Clone)]
pub struct Executor {
    targets: Arc<HashMap<String, Arc<dyn ActionTarget>>>,
    audit: Option<AuditLog>,
    tx: mpsc::Sender<Msg>,
    /// The actions started and not answered: one result each, none after `shutdown`.
    ledger: Ledger,
    deadline: Duration,
    /// Clusters whose writes this executor refuses on its own (whatever the core planned).
    read_only: Arc<ReadOnly>,
    /// The pods screen's watches that run (at most one: the screen's), by watch id.
    pods: super::pods::PodWatches,
    /// The log viewer's streams (reads, carried here because effects come through here).
    logs: crate::source::logs::LogStreams,
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
            ledger: Ledger::default(),
            deadline: DEADLINE,
            read_only: Arc::new(ReadOnly::default()),
            pods: super::pods::PodWatches::default(),
            logs: Default::default(),
        }
    }

    /// Start the pods screen's watch (`Effect::WatchPods`); reads, so never gated by
    /// read-only.
    pub fn watch_pods(&self, q: PodQuery) {
        let Some(target) = self.targets.get(&q.cluster).cloned() else {
            return;
        };
        self.pods
            .start(q.watch, target.watch_pods(q, self.tx.clone()));
    }

    /// Stop it (`Effect::StopPods`).
    pub fn stop_pods(&self, watch: u64) {
        self.pods.stop(watch);
    }

    /// How many pods watches run now (the steady state: none).
    pub fn pod_watches(&self) -> usize {
        self.pods.running()
    }

    /// List events once (`Effect::ListEvents`); the answer arrives as `Msg::ObjectEvents`.
    pub fn list_events(&self, q: EventsQuery) {
        let Some(target) = self.targets.get(&q.cluster).cloned() else {
            return;
        };
        let tx = self.tx.clone();
        tokio::spawn(async move {
            let request = q.request;
            let result = match tokio::time::timeout(DEADLINE, target.list_events(q)).await {
                Ok(r) => r,
                Err(_) => Err(Untrusted::new("events: no answer within the deadline")),
            };
            let _ = tx.send(Msg::ObjectEvents { request, result }).await;
        });
    }

    /// Ask a loadtester about a Canary's gate (`Effect::CheckGate`); the answer arrives as
    /// `Msg::GateChecked`. It changes nothing, so it is not an action: no audit record.
    pub fn check_gate(&self, q: crate::core::gates::GateQuery) {
        let Some(target) = self.targets.get(&q.cluster).cloned() else {
            return;
        };
        let tx = self.tx.clone();
        tokio::spawn(async move {
            let request = q.request;
            let state = match tokio::time::timeout(DEADLINE, target.check_gate(q)).await {
                Ok(s) => s,
                Err(_) => crate::core::facts::GateState::Unknown(
                    "the loadtester did not answer within the deadline".into(),
                ),
            };
            let _ = tx.send(Msg::GateChecked { request, state }).await;
        });
    }

    /// Refuse every write, dry run and access review for these clusters, never sending.
    pub fn with_read_only(mut self, read_only: ReadOnly) -> Self {
        self.read_only = Arc::new(read_only);
        self
    }

    /// Where the log viewer's streams come from.
    pub fn with_logs(mut self, logs: crate::source::logs::LogStreams) -> Self {
        self.logs = logs;
        self
    }

    /// Open or close log streams; reports arrive as `Msg::Logs`.
    pub fn logs(&self, command: crate::core::logs::LogCommand) {
        self.logs.carry_out(command, &self.tx);
    }

    pub fn with_deadline(mut self, deadline: Duration) -> Self {
        self.deadline = deadline;
        self
    }

    /// Start carrying out an action; the result arrives as `Msg::ActionDone`. Nothing starts
    /// once `shutdown` ran.
    pub fn execute(&self, id: u64, plan: ActionPlan, gate: Option<GateOverride>) {
        if !self.ledger.open(id, &plan, gate.as_ref()) {
            tracing::warn!(
                id,
                "action not started: the console is exiting or the id is taken"
            );
            return;
        }
        let this = self.clone();
        tokio::spawn(async move {
            let outcome = this.run(id, &plan).await;
            // Only the one who takes the action from the ledger writes and reports its result.
            let finished = this
                .ledger
                .finish(id, |entry| this.result(id, entry, outcome));
            let Some((outcome, line)) = finished else {
                return;
            };
            let _ = this.tx.send(Msg::Audit(vec![line])).await;
            let _ = this.tx.send(Msg::ActionDone { id, outcome }).await;
        });
    }

    async fn run(&self, id: u64, plan: &ActionPlan) -> Outcome {
        if self.read_only.covers(&plan.cluster) {
            // No identity asked (a SelfSubjectReview is a create), no intent: refusal only.
            let outcome = refuse::refusal(&plan.cluster);
            let user = "not asked (read-only)";
            let written =
                self.audit_write(AuditStage::Result, id, user, plan, None, Some(&outcome));
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
        // Intent first, fsynced: if we cannot record it, we do not send.
        let intent = self.ledger.intent(id, &user, |e| {
            self.audit_write(
                AuditStage::Intent,
                id,
                &user,
                &e.plan,
                e.gate.as_ref(),
                None,
            )
        });
        match intent {
            Intent::Written => {}
            Intent::Failed(e) => {
                return Outcome::Rejected {
                    status: 0,
                    detail: format!("not sent: cannot write the audit log: {e}"),
                };
            }
            Intent::Closed => return not_sent(),
        }
        match tokio::time::timeout(self.deadline, target.execute(plan.clone())).await {
            Ok(outcome) => outcome,
            Err(_) => Outcome::Unknown {
                detail: format!("no answer within {}s", self.deadline.as_secs()),
            },
        }
    }

    /// The result record of an action taken from the ledger (written only when its intent
    /// was: nothing else was sent) and its audit-screen line.
    fn result(&self, id: u64, entry: &Entry, outcome: Outcome) -> (Outcome, AuditLine) {
        let (plan, gate) = (&entry.plan, entry.gate.as_ref());
        let failed = entry.sent_as.as_ref().and_then(|user| {
            self.audit_write(AuditStage::Result, id, user, plan, gate, Some(&outcome))
                .err()
        });
        let outcome = match (failed, outcome) {
            // The request went out; say so, and that the record is missing.
            (Some(e), Outcome::Applied { status, detail }) => Outcome::Applied {
                status,
                detail: format!("{detail} (audit result not written: {e})"),
            },
            (_, other) => other,
        };
        let now = Timestamp::now();
        let user = entry.sent_as.as_deref().unwrap_or("");
        let line = audit::record(
            AuditStage::Result,
            id,
            user,
            plan,
            gate,
            Some(&outcome),
            now,
        )
        .line(now);
        (outcome, line)
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

    /// GET an object for the YAML view (not through the read-only gate: it is a read); the
    /// answer arrives as `Msg::Object`.
    pub fn fetch_object(
        &self,
        cluster: String,
        resource: Resource,
        namespace: String,
        name: String,
    ) {
        let Some(target) = self.targets.get(&cluster).cloned() else {
            return;
        };
        let tx = self.tx.clone();
        tokio::spawn(async move {
            let asked = target.get_object(resource, namespace.clone(), name.clone());
            let result = match tokio::time::timeout(DEADLINE, asked).await {
                Ok(r) => r,
                Err(_) => Err("no answer within the deadline".into()),
            };
            let _ = tx
                .send(Msg::Object {
                    cluster,
                    namespace,
                    name,
                    result,
                })
                .await;
        });
    }

    /// GET a Flux source for the detail screen; the answer arrives as `Msg::FluxSource`.
    pub fn fetch_flux_source(&self, query: FluxSourceQuery) {
        let Some(target) = self.targets.get(&query.cluster).cloned() else {
            return;
        };
        let tx = self.tx.clone();
        tokio::spawn(async move {
            let result =
                match tokio::time::timeout(DEADLINE, target.flux_source(query.clone())).await {
                    Ok(r) => r,
                    Err(_) => Err(Untrusted::new("no answer within the deadline")),
                };
            let _ = tx.send(Msg::FluxSource { query, result }).await;
        });
    }

    /// GET AnalysisRuns by name and send each, projected, as `Msg::Upsert` (what a watch
    /// would send). A run that cannot be read is left out: the detail screen shows the
    /// runs it has, the row's analysis comes from the Rollout's status anyway.
    pub fn fetch_analysis_runs(&self, cluster: String, namespace: String, names: Vec<String>) {
        let Some(target) = self.targets.get(&cluster).cloned() else {
            return;
        };
        let tx = self.tx.clone();
        tokio::spawn(async move {
            for name in names {
                let asked = target.get_object(
                    crate::core::action::ANALYSISRUNS,
                    namespace.clone(),
                    name.clone(),
                );
                let Ok(Ok(mut v)) = tokio::time::timeout(DEADLINE, asked).await else {
                    continue;
                };
                if let Some(o) = v.as_object_mut() {
                    o.entry("apiVersion")
                        .or_insert_with(|| "argoproj.io/v1alpha1".into());
                    o.entry("kind").or_insert_with(|| "AnalysisRun".into());
                }
                let keep = crate::source::kube::project::Keep::default();
                if let Ok(crate::source::kube::project::Projected::Object(facts)) =
                    crate::source::kube::project::from_value(v, &keep)
                {
                    let cluster = cluster.clone();
                    if tx.send(Msg::Upsert { cluster, facts }).await.is_err() {
                        return;
                    }
                }
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
            let resource_version = plan.seen.resource_version.clone();
            let result = match tokio::time::timeout(DEADLINE, target.dry_run(plan)).await {
                Ok(r) => r,
                Err(_) => Err("dry-run: no answer within the deadline".into()),
            };
            let _ = tx
                .send(Msg::DryRun {
                    uid,
                    action,
                    resource_version,
                    result,
                })
                .await;
        });
    }

    /// On every way out of the console: each action still open gets its one result record
    /// now — outcome unknown when its request went out, "not sent" when it had not — and
    /// from then on nothing starts, nothing is sent, and a late answer writes nothing.
    /// Returns how many were open; a second call records nothing.
    pub fn shutdown(&self) -> usize {
        self.ledger.close(|id, entry| {
            let (outcome, user) = match &entry.sent_as {
                Some(user) => (exited_unknown(), user.as_str()),
                None => (not_sent(), "unknown"),
            };
            let (plan, gate) = (&entry.plan, entry.gate.as_ref());
            let written =
                self.audit_write(AuditStage::Result, id, user, plan, gate, Some(&outcome));
            if let Err(e) = written {
                tracing::error!(id, "exit: the result of action {id} not written: {e}");
            }
        })
    }
}

/// The result of an action whose request went out and whose answer the console did not wait for.
fn exited_unknown() -> Outcome {
    Outcome::Unknown {
        detail: "console exited before the answer arrived — verify".into(),
    }
}

/// The result of an action the console exited before sending.
fn not_sent() -> Outcome {
    Outcome::Rejected {
        status: 0,
        detail: "not sent: the console exited before the request went out".into(),
    }
}

#[cfg(test)]
#[path = "executor_tests.rs"]
mod tests;
