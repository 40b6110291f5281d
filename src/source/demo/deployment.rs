//! A simulated apps/v1 Deployment and its controller: rolling updates with 25 % surge and
//! unavailability, revisions on ReplicaSets, pause, restart through the pod template's
//! `restartedAt` annotation, and `ProgressDeadlineExceeded` when new pods never become ready.
//! This file owns the object, its creation, the reconcile loop and the rolling-update
//! arithmetic; the status it writes lives in `status`, the API side in `api`. It must not
//! touch the terminal, the network or the core's state.

mod api;
mod status;

use std::collections::BTreeMap;

use jiff::{SignedDuration, Timestamp};

use super::replicaset::{Quality, ReplicaSetSim, Template};
use super::rng::Rng;
use super::script::{Script, bump_image};
use super::store::{HasMeta, RvClock, Tracked, template_hash};
use crate::core::facts::{DeploymentFacts, ObjectMeta};

const REVISION: &str = "deployment.kubernetes.io/revision";
const HISTORY: usize = 3;
/// Seconds between repeats of the same Warning event.
const EVENT_EVERY: i64 = 40;

impl HasMeta for DeploymentFacts {
    fn meta(&self) -> &ObjectMeta {
        &self.meta
    }
    fn meta_mut(&mut self) -> &mut ObjectMeta {
        &mut self.meta
    }
}

/// A pod template as the simulation remembers it (to hash and to roll back to).
#[derive(Debug, Clone, PartialEq)]
struct PodTemplate {
    images: Vec<String>,
    restarted_at: Option<String>,
}

impl PodTemplate {
    fn hash(&self) -> String {
        let mut parts: Vec<&str> = self.images.iter().map(String::as_str).collect();
        parts.push(self.restarted_at.as_deref().unwrap_or(""));
        template_hash(&parts)
    }
}

/// A rollout already under way when the demo starts.
#[derive(Debug, Clone)]
pub struct Update {
    pub image: String,
    pub quality: Quality,
    pub started_secs_ago: i64,
}

#[derive(Debug, Clone)]
pub struct DeploymentInit {
    pub cluster: String,
    pub namespace: String,
    pub name: String,
    pub app: String,
    pub replicas: i32,
    /// Images of earlier revisions, oldest first; the last one runs now.
    pub history: Vec<String>,
    pub update: Option<Update>,
    pub progress_deadline_secs: i64,
    pub age_secs: i64,
    /// Seconds since its last rollout completed (when none is under way): its conditions'
    /// lastTransitionTime, which the console shows as its age.
    pub settled_secs: i64,
    pub script: Script,
}

#[derive(Debug, Clone)]
pub struct DeploymentSim {
    pub cluster: String,
    dep: Tracked<DeploymentFacts>,
    replicasets: Vec<ReplicaSetSim>,
    templates: BTreeMap<String, PodTemplate>,
    qualities: BTreeMap<String, Quality>,
    progress_deadline: SignedDuration,
    last_progress: Timestamp,
    /// (new RS replicas, new RS available) at the last progress check.
    last_seen: (i32, i32),
    script: Script,
    deleted: Vec<String>,
}

impl DeploymentSim {
    /// Its ReplicaSets (the pods screen's simulated pods come from them).
    pub fn replicasets(&self) -> &[ReplicaSetSim] {
        &self.replicasets
    }

    pub fn new(init: DeploymentInit, now: Timestamp, clock: &mut RvClock) -> Self {
        let created = now - SignedDuration::from_secs(init.age_secs);
        let uid = super::store::uid(&[&init.cluster, "Deployment", &init.namespace, &init.name]);
        let current = init.history.last().cloned().unwrap_or_default();
        let facts = DeploymentFacts {
            meta: ObjectMeta {
                namespace: init.namespace.clone(),
                name: init.name.clone(),
                uid,
                generation: 1,
                created: Some(created),
                labels: [("app.kubernetes.io/name".to_string(), init.app.clone())].into(),
                ..ObjectMeta::default()
            },
            replicas: init.replicas,
            strategy: "RollingUpdate".into(),
            images: vec![current],
            observed_generation: Some(1),
            ..DeploymentFacts::default()
        };
        let mut sim = DeploymentSim {
            cluster: init.cluster.clone(),
            dep: Tracked::create(facts, clock),
            replicasets: Vec::new(),
            templates: BTreeMap::new(),
            qualities: BTreeMap::new(),
            progress_deadline: SignedDuration::from_secs(init.progress_deadline_secs),
            last_progress: created,
            last_seen: (0, 0),
            script: init.script,
            deleted: Vec::new(),
        };
        let count = init.history.len();
        for (i, image) in init.history.iter().enumerate() {
            let template = PodTemplate {
                images: vec![image.clone()],
                restarted_at: None,
            };
            let replicas = if i + 1 == count { init.replicas } else { 0 };
            let rs = sim.create_rs(&template, Quality::Good, i as i64 + 1, created, clock);
            sim.replicasets.push(rs.running(replicas, clock));
            sim.templates.insert(template.hash(), template);
        }
        sim.dep
            .obj
            .meta
            .annotations
            .insert(REVISION.into(), count.to_string());
        // Settle the starting state, then replay an update that began earlier, second by
        // second, so its pods, conditions and deadline are exactly where they would be.
        let mut warmup = Rng::new(0);
        let start = now
            - SignedDuration::from_secs(
                init.update
                    .as_ref()
                    .map_or(init.settled_secs, |u| u.started_secs_ago)
                    .max(0),
            );
        sim.reconcile(start, clock);
        if let Some(update) = init.update {
            sim.ship_image(update.image, update.quality);
            let mut t = start;
            while t < now {
                sim.tick(t, &mut warmup, clock);
                t += SignedDuration::from_secs(1);
            }
        }
        sim.reconcile(now, clock);
        sim
    }

    fn create_rs(
        &self,
        t: &PodTemplate,
        quality: Quality,
        revision: i64,
        now: Timestamp,
        clock: &mut RvClock,
    ) -> ReplicaSetSim {
        let d = &self.dep.obj;
        let hash = t.hash();
        let template = Template {
            owner_name: &d.meta.name,
            owner_uid: &d.meta.uid,
            owner_kind: "Deployment",
            namespace: &d.meta.namespace,
            hash: &hash,
            images: &t.images,
            quality,
        };
        ReplicaSetSim::create(&template, revision, now, clock)
    }

    fn template(&self) -> PodTemplate {
        PodTemplate {
            images: self.dep.obj.images.clone(),
            restarted_at: self.dep.obj.restarted_at.clone(),
        }
    }

    pub fn facts(&self) -> &DeploymentFacts {
        &self.dep.obj
    }

    /// A new pod template from outside (Flagger copying the target's spec to the primary,
    /// or a team shipping the target): rolled out like any other.
    pub fn set_image(&mut self, image: String, quality: Quality) {
        if self.dep.obj.images.first() != Some(&image) {
            self.ship_image(image, quality);
        }
    }

    /// `spec.replicas` written from outside (Flagger scaling its target up and to zero).
    pub fn set_replicas(&mut self, replicas: i32) {
        let d = &mut self.dep.obj;
        if d.replicas != replicas {
            d.replicas = replicas;
            d.meta.generation += 1;
        }
    }

    fn ship_image(&mut self, image: String, quality: Quality) {
        let d = &mut self.dep.obj;
        d.images = vec![image];
        d.meta.generation += 1;
        let t = self.template();
        self.qualities.insert(t.hash(), quality);
    }

    fn complete(&self) -> bool {
        let d = &self.dep.obj;
        d.updated_replicas == d.replicas
            && d.status_replicas == d.replicas
            && d.available_replicas == d.replicas
    }

    pub fn tick(&mut self, now: Timestamp, rng: &mut Rng, clock: &mut RvClock) {
        for rs in &mut self.replicasets {
            rs.step();
        }
        let settled = self.complete() && !self.dep.obj.paused;
        if let Some(quality) = self.script.due(now, settled, rng) {
            let next = self
                .dep
                .obj
                .images
                .iter()
                .map(|i| bump_image(i))
                .collect::<Vec<_>>();
            self.ship_image(next.into_iter().next().unwrap_or_default(), quality);
        }
        self.reconcile(now, clock);
    }

    /// The Deployment controller's reconcile.
    pub fn reconcile(&mut self, now: Timestamp, clock: &mut RvClock) {
        let template = self.template();
        let hash = template.hash();
        if !self.replicasets.iter().any(|rs| rs.hash() == hash)
            || self.revision_of(&hash) != self.current_revision()
        {
            self.adopt_template(template, now, clock);
        }
        if !self.dep.obj.paused {
            self.scale(&hash);
        }
        self.refresh_status(&hash, now);
        self.prune(&hash);
        self.dep.commit(clock);
        for rs in &mut self.replicasets {
            rs.rs.commit(clock);
        }
    }

    fn revision_of(&self, hash: &str) -> i64 {
        self.replicasets
            .iter()
            .find(|rs| rs.hash() == hash)
            .map_or(0, ReplicaSetSim::revision)
    }

    fn current_revision(&self) -> i64 {
        self.dep
            .obj
            .meta
            .annotations
            .get(REVISION)
            .and_then(|v| v.parse().ok())
            .unwrap_or(0)
    }

    /// A new template: its ReplicaSet (reused when an older one matches, as on undo) gets
    /// the next revision; the progress clock restarts.
    fn adopt_template(&mut self, template: PodTemplate, now: Timestamp, clock: &mut RvClock) {
        let hash = template.hash();
        let revision = self
            .replicasets
            .iter()
            .map(ReplicaSetSim::revision)
            .max()
            .unwrap_or(0)
            + 1;
        let current = self.current_revision();
        let existing = self.replicasets.iter_mut().find(|rs| rs.hash() == hash);
        match existing {
            Some(rs) if rs.revision() == current => return,
            Some(rs) => rs.rs.obj.revision = Some(revision),
            None => {
                let quality = self.qualities.get(&hash).copied().unwrap_or(Quality::Good);
                let rs = self.create_rs(&template, quality, revision, now, clock);
                self.replicasets.push(rs);
            }
        }
        self.templates.insert(hash, template);
        self.dep
            .obj
            .meta
            .annotations
            .insert(REVISION.into(), revision.to_string());
        self.last_progress = now;
        self.last_seen = (-1, -1);
    }

    /// Rolling update with maxSurge 25 % (rounded up) and maxUnavailable 25 % (rounded
    /// down): old pods go only as new ones become available.
    fn scale(&mut self, hash: &str) {
        let total = self.dep.obj.replicas;
        let surge = (total + 3) / 4;
        let unavailable = total / 4;
        let new_avail = self
            .replicasets
            .iter()
            .find(|rs| rs.hash() == hash)
            .map_or(0, ReplicaSetSim::available);
        let mut old_budget = (total - unavailable - new_avail).max(0);
        let mut olds: Vec<&mut ReplicaSetSim> = self
            .replicasets
            .iter_mut()
            .filter(|rs| rs.hash() != hash)
            .collect();
        olds.sort_by_key(|rs| std::cmp::Reverse(rs.revision()));
        let mut old_total = 0;
        for rs in olds {
            let keep = rs.replicas().min(old_budget);
            old_budget -= keep;
            old_total += keep;
            rs.scale(keep);
        }
        let new_want = (total + surge - old_total).clamp(0, total);
        if let Some(rs) = self.replicasets.iter_mut().find(|rs| rs.hash() == hash) {
            rs.scale(new_want);
        }
    }

    fn prune(&mut self, hash: &str) {
        let mut old: Vec<(i64, String)> = self
            .replicasets
            .iter()
            .filter(|rs| rs.hash() != hash && rs.replicas() == 0)
            .map(|rs| (rs.revision(), rs.name().to_string()))
            .collect();
        old.sort();
        let excess = old.len().saturating_sub(HISTORY);
        for (_, name) in old.into_iter().take(excess) {
            self.replicasets.retain(|rs| rs.name() != name);
            self.deleted.push(name);
        }
    }
}
