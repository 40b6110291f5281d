//! What the API server and watchers see of a simulated Rollout: its writes (merge patches
//! on the object and its status subresource, undo to a ReplicaSet's template), the full
//! lists and changed objects it reports, and the kubelet's events about its canary pods.

use jiff::Timestamp;
use serde_json::Value;

use super::RolloutSim;
use crate::core::facts::ObjectFacts;
use crate::core::kinds::Kind;
use crate::core::msg::{Msg, Outcome};
use crate::source::demo::events::{EventRecorder, Warning};
use crate::source::demo::patch::{self, bool_field, field};
use crate::source::demo::replicaset::Quality;
use crate::source::demo::store::RvClock;

impl RolloutSim {
    /// Objects changed since last asked, as Upserts, and deletions.
    pub fn drain(&mut self, out: &mut Vec<Msg>) {
        let cluster = &self.cluster;
        let ns = self.ro.obj.meta.namespace.clone();
        for (kind, name) in self.deleted.drain(..) {
            out.push(Msg::Delete {
                cluster: cluster.clone(),
                kind,
                namespace: ns.clone(),
                name,
            });
        }
        let upsert = |facts| Msg::Upsert {
            cluster: cluster.clone(),
            facts,
        };
        for rs in &mut self.replicasets {
            out.extend(rs.rs.take_unsent().map(ObjectFacts::ReplicaSet).map(upsert));
        }
        for run in &mut self.runs {
            out.extend(
                run.run
                    .take_unsent()
                    .map(ObjectFacts::AnalysisRun)
                    .map(upsert),
            );
        }
        out.extend(self.ro.take_unsent().map(ObjectFacts::Rollout).map(upsert));
    }

    /// Everything, for the initial lists: (rollout, replicasets, analysis runs).
    pub fn list(&mut self) -> (ObjectFacts, Vec<ObjectFacts>, Vec<ObjectFacts>) {
        self.deleted.clear();
        let rs = self
            .replicasets
            .iter_mut()
            .map(|rs| ObjectFacts::ReplicaSet(rs.rs.snapshot()))
            .collect();
        let runs = self
            .runs
            .iter_mut()
            .map(|r| ObjectFacts::AnalysisRun(r.run.snapshot()))
            .collect();
        (ObjectFacts::Rollout(self.ro.snapshot()), rs, runs)
    }

    /// An error-prone canary fails its readiness probe now and then: the kubelet says so.
    pub fn observe_warnings(&self, rec: &mut EventRecorder, now: Timestamp, out: &mut Vec<Msg>) {
        let Some(rs) = self.current_rs() else { return };
        if self.fully_promoted() || rs.replicas() == 0 || rs.quality != Quality::ErrorProne {
            return;
        }
        let pod = crate::source::demo::store::pod_name(rs.name(), 0);
        let w = Warning {
            namespace: &self.ro.obj.meta.namespace,
            kind: "Pod",
            name: &pod,
            reason: "Unhealthy",
            message: "Readiness probe failed: HTTP probe failed with statuscode: 503".into(),
            since: rs.rs.obj.meta.created,
        };
        rec.observe(&self.cluster, w, 30, now, out);
    }

    /// Carry out a merge patch on the Rollout (`status` = the status subresource).
    pub fn patch(
        &mut self,
        status: bool,
        body: &Value,
        clock: &mut RvClock,
    ) -> Result<Outcome, Outcome> {
        let name = self.ro.obj.meta.name.clone();
        patch::check_resource_version(
            body,
            self.ro.resource_version(),
            Kind::Rollout.resource(),
            &name,
        )?;
        let r = &mut self.ro.obj;
        if status {
            // Writes to the status subresource ignore spec, and vice versa.
            if let Some(v) = field(body, &["status", "pauseConditions"])
                && (v.is_null() || v.as_array().is_some_and(Vec::is_empty))
            {
                r.pause_conditions.clear();
            }
            if let Some(v) = bool_field(body, &["status", "controllerPause"]) {
                r.controller_pause = v;
            }
            if let Some(i) = field(body, &["status", "currentStepIndex"]).and_then(Value::as_i64) {
                r.current_step_index = Some((i.max(0) as i32).min(r.steps.len() as i32));
            }
            if let Some(v) = bool_field(body, &["status", "abort"]) {
                r.aborted = v;
            }
            if let Some(v) = bool_field(body, &["status", "promoteFull"]) {
                self.promote_full = v;
            }
        } else {
            let before = (r.paused, r.restart_at.clone());
            if let Some(v) = bool_field(body, &["spec", "paused"]) {
                r.paused = v;
            }
            if let Some(v) = field(body, &["spec", "restartAt"]) {
                r.restart_at = v.as_str().map(str::to_string);
            }
            if before != (r.paused, r.restart_at.clone()) {
                r.meta.generation += 1;
            }
        }
        self.ro.commit(clock);
        Ok(patch::applied(format!("rollout {name} patched")))
    }

    /// A JSON patch on the Experiment this Rollout runs, as terminate sends it: a `test` of
    /// the owner's uid, then `add /spec/terminate true`. None when this Rollout runs no
    /// Experiment of that name (the caller answers 404).
    pub fn patch_experiment(
        &mut self,
        name: &str,
        ops: &Value,
        clock: &mut RvClock,
    ) -> Option<Result<Outcome, Outcome>> {
        if self.ro.obj.current_experiment.as_deref() != Some(name) {
            return None;
        }
        let Some(ops) = ops.as_array() else {
            return Some(Err(patch::invalid("a JSON patch is a list of operations")));
        };
        let mut terminate = false;
        for op in ops {
            let path = op.get("path").and_then(Value::as_str).unwrap_or("");
            let value = op.get("value");
            match (op.get("op").and_then(Value::as_str), path) {
                (Some("test"), "/metadata/ownerReferences/0/uid") => {
                    if value.and_then(Value::as_str) != Some(self.ro.obj.meta.uid.as_str()) {
                        return Some(Err(patch::invalid(format!(
                            "the test operation on {path} failed: experiments \"{name}\" has another owner"
                        ))));
                    }
                }
                (Some("add" | "replace"), "/spec/terminate") => {
                    terminate = value.and_then(Value::as_bool).unwrap_or(false);
                }
                _ => {
                    return Some(Err(patch::invalid(format!(
                        "the demo fleet does not simulate this operation on {path:?}"
                    ))));
                }
            }
        }
        if terminate {
            self.terminate_experiment(name);
        }
        self.ro.commit(clock);
        Some(Ok(patch::applied(format!(
            "{} {name} patched",
            Kind::Experiment.resource()
        ))))
    }

    /// Undo: the template of ReplicaSet `replicaset`, applied only to `resource_version`.
    pub fn rollback_to(
        &mut self,
        replicaset: &str,
        resource_version: &str,
        clock: &mut RvClock,
    ) -> Result<Outcome, Outcome> {
        let name = self.ro.obj.meta.name.clone();
        if resource_version != self.ro.resource_version() {
            return Err(patch::conflict(Kind::Rollout.resource(), &name));
        }
        let Some(rs) = self.replicasets.iter().find(|rs| rs.name() == replicaset) else {
            return Err(patch::not_found("replicasets.apps", replicaset));
        };
        let images = rs.rs.obj.images.clone();
        if images == self.ro.obj.images {
            return Ok(patch::applied(format!(
                "skipped rollback: rollout {name} already uses that template"
            )));
        }
        self.ro.obj.images = images;
        self.ro.obj.meta.generation += 1;
        self.ro.commit(clock);
        Ok(patch::applied(format!(
            "rollout {name} rolled back to {replicaset}"
        )))
    }
}
