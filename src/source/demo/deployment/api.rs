//! What the API server and watchers see of a simulated Deployment: its writes (merge patch,
//! undo to a ReplicaSet's template), the lists and changed objects it reports, and the
//! kubelet's and scheduler's events about the new version's pods.

use jiff::Timestamp;
use serde_json::Value;

use super::{DeploymentSim, EVENT_EVERY, PodTemplate};
use crate::core::facts::ObjectFacts;
use crate::core::kinds::Kind;
use crate::core::msg::{Msg, ObjectKind, Outcome};
use crate::source::demo::events::{EventRecorder, Warning};
use crate::source::demo::patch::{self, bool_field, field};
use crate::source::demo::replicaset::Quality;
use crate::source::demo::store::RvClock;

impl DeploymentSim {
    /// Kubelet and scheduler warnings about the new version's pods.
    pub fn observe_warnings(&self, rec: &mut EventRecorder, now: Timestamp, out: &mut Vec<Msg>) {
        let d = &self.dep.obj;
        let hash = self.template().hash();
        let Some(rs) = self.replicasets.iter().find(|rs| rs.hash() == hash) else {
            return;
        };
        let image = rs.rs.obj.images.first().cloned().unwrap_or_default();
        let container = d.meta.name.as_str();
        for pod in rs.unready_pods().iter().take(2) {
            let mut warn = |reason: &str, message: String| {
                let w = Warning {
                    namespace: &d.meta.namespace,
                    kind: "Pod",
                    name: pod,
                    reason,
                    message,
                    since: rs.rs.obj.meta.created,
                };
                rec.observe(&self.cluster, w, EVENT_EVERY, now, out);
            };
            match rs.quality {
                Quality::CrashLoop => warn("BackOff", format!("Back-off restarting failed container {container} in pod {pod}")),
                Quality::ImagePull => {
                    warn("Failed", format!("Failed to pull image \"{image}\": not found"));
                    warn("BackOff", format!("Back-off pulling image \"{image}\""));
                }
                Quality::Unschedulable => warn(
                    "FailedScheduling",
                    "0/6 nodes are available: 6 Insufficient cpu. preemption: 0/6 nodes are available: 6 No preemption victims found for incoming pod.".into(),
                ),
                Quality::Good | Quality::ErrorProne => {}
            }
        }
    }

    pub fn drain(&mut self, out: &mut Vec<Msg>) {
        let cluster = &self.cluster;
        let ns = self.dep.obj.meta.namespace.clone();
        for name in self.deleted.drain(..) {
            out.push(Msg::Delete {
                cluster: cluster.clone(),
                kind: ObjectKind::ReplicaSet,
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
        out.extend(
            self.dep
                .take_unsent()
                .map(ObjectFacts::Deployment)
                .map(upsert),
        );
    }

    pub fn list(&mut self) -> (ObjectFacts, Vec<ObjectFacts>) {
        self.deleted.clear();
        let rs = self
            .replicasets
            .iter_mut()
            .map(|rs| ObjectFacts::ReplicaSet(rs.rs.snapshot()))
            .collect();
        (ObjectFacts::Deployment(self.dep.snapshot()), rs)
    }

    /// Merge patch on the Deployment: `spec.paused` and the restart annotation.
    pub fn patch(&mut self, body: &Value, clock: &mut RvClock) -> Result<Outcome, Outcome> {
        let name = self.dep.obj.meta.name.clone();
        patch::check_resource_version(
            body,
            self.dep.resource_version(),
            Kind::Deployment.resource(),
            &name,
        )?;
        let d = &mut self.dep.obj;
        let before = (d.paused, d.restarted_at.clone());
        if let Some(v) = bool_field(body, &["spec", "paused"]) {
            d.paused = v;
        }
        let restart = [
            "spec",
            "template",
            "metadata",
            "annotations",
            "kubectl.kubernetes.io/restartedAt",
        ];
        if let Some(v) = field(body, &restart) {
            d.restarted_at = v.as_str().map(str::to_string);
        }
        if before != (d.paused, d.restarted_at.clone()) {
            d.meta.generation += 1;
        }
        self.dep.commit(clock);
        Ok(patch::applied(format!("deployment.apps/{name} patched")))
    }

    /// Undo to ReplicaSet `replicaset`'s template, applied only to `resource_version`.
    pub fn rollback_to(
        &mut self,
        replicaset: &str,
        resource_version: &str,
        clock: &mut RvClock,
    ) -> Result<Outcome, Outcome> {
        let name = self.dep.obj.meta.name.clone();
        if resource_version != self.dep.resource_version() {
            return Err(patch::conflict(Kind::Deployment.resource(), &name));
        }
        let Some(rs) = self.replicasets.iter().find(|rs| rs.name() == replicaset) else {
            return Err(patch::not_found(Kind::ReplicaSet.resource(), replicaset));
        };
        let template = self
            .templates
            .get(rs.hash())
            .cloned()
            .unwrap_or(PodTemplate {
                images: rs.rs.obj.images.clone(),
                restarted_at: None,
            });
        if template == self.template() {
            return Ok(patch::applied(format!(
                "skipped rollback (current template already matches revision of {replicaset})"
            )));
        }
        let d = &mut self.dep.obj;
        d.images = template.images;
        d.restarted_at = template.restarted_at;
        d.meta.generation += 1;
        self.dep.commit(clock);
        Ok(patch::applied(format!(
            "deployment.apps/{name} rolled back"
        )))
    }
}
