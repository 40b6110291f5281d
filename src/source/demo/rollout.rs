//! A simulated Argo Rollout (canary strategy) and its controller: steps through setWeight,
//! pause and analysis steps, scales stable and canary ReplicaSets, shifts traffic, aborts on
//! a failed analysis, and writes `status.phase`/`message` as Argo Rollouts v1.x does. It
//! never derives the console's view itself — that is the core's job. This file owns the
//! object, its creation and the reconcile loop; the steps, replica sizing and status it
//! writes live in the submodules. It must not touch the terminal, the network or the core.

mod api;
mod replicas;
mod status;
mod steps;

use std::collections::BTreeMap;

use jiff::{SignedDuration, Timestamp};

use super::analysis::AnalysisRunSim;
use super::replicaset::{Quality, ReplicaSetSim, Template};
use super::rng::Rng;
use super::script::{Script, bump_image};
use super::store::{HasMeta, RvClock, Tracked, template_hash};
use crate::core::facts::{CanaryStep, ObjectMeta, PauseCondition, PauseReason, RolloutFacts};
use crate::core::msg::ObjectKind;
use crate::core::status::rollout_set_weight;
use replicas::canary_replicas;

/// Seconds the controller takes to restart all pods after `spec.restartAt`.
const RESTART_SECS: i64 = 6;

impl HasMeta for RolloutFacts {
    fn meta(&self) -> &ObjectMeta {
        &self.meta
    }
    fn meta_mut(&mut self) -> &mut ObjectMeta {
        &mut self.meta
    }
}

/// An update already in flight when the demo starts.
#[derive(Debug, Clone)]
pub struct InFlight {
    pub image: String,
    pub quality: Quality,
    pub step: i32,
    /// How long the current pause step has been paused already.
    pub paused_for_secs: i64,
}

/// How a rollout looks when the demo starts.
#[derive(Debug, Clone)]
pub struct RolloutInit {
    pub cluster: String,
    pub namespace: String,
    pub name: String,
    pub app: String,
    pub replicas: i32,
    pub steps: Vec<CanaryStep>,
    pub traffic_routing: bool,
    /// Images of earlier revisions, oldest first; the last one is stable.
    pub history: Vec<String>,
    pub in_flight: Option<InFlight>,
    pub age_secs: i64,
    /// Seconds since its last release settled (when there is none in flight): its
    /// conditions' lastTransitionTime, which the console shows as its age.
    pub settled_secs: i64,
    pub script: Script,
}

#[derive(Debug, Clone)]
pub struct RolloutSim {
    pub cluster: String,
    ro: Tracked<RolloutFacts>,
    replicasets: Vec<ReplicaSetSim>,
    runs: Vec<AnalysisRunSim>,
    /// How each template behaves once running, by pod-template-hash (simulation only).
    qualities: BTreeMap<String, Quality>,
    /// Traffic weight the router currently sends to the canary.
    traffic_weight: u32,
    /// `status.promoteFull`, until the controller has acted on it.
    promote_full: bool,
    abort_message: String,
    restart_started: Option<Timestamp>,
    /// The running Experiment of an experiment step: when it started, and whether someone
    /// set its `spec.terminate` (simulation only; Experiments are not watched).
    experiment: Option<(Timestamp, bool)>,
    script: Script,
    deleted: Vec<(ObjectKind, String)>,
}

fn hash_of(images: &[String]) -> String {
    let parts: Vec<&str> = images.iter().map(String::as_str).collect();
    template_hash(&parts)
}

impl RolloutSim {
    /// Its ReplicaSets (the pods screen's simulated pods come from them).
    pub fn replicasets(&self) -> &[ReplicaSetSim] {
        &self.replicasets
    }

    pub fn new(init: RolloutInit, now: Timestamp, clock: &mut RvClock) -> Self {
        let created = now - SignedDuration::from_secs(init.age_secs);
        let uid = super::store::uid(&[&init.cluster, "Rollout", &init.namespace, &init.name]);
        let stable_image = init.history.last().cloned().unwrap_or_default();
        let spec_image = init
            .in_flight
            .as_ref()
            .map_or(stable_image.clone(), |f| f.image.clone());
        let facts = RolloutFacts {
            meta: ObjectMeta {
                namespace: init.namespace.clone(),
                name: init.name.clone(),
                uid: uid.clone(),
                generation: 1,
                created: Some(created),
                labels: [("app.kubernetes.io/name".to_string(), init.app.clone())].into(),
                ..ObjectMeta::default()
            },
            replicas: init.replicas,
            strategy: "canary".into(),
            steps: init.steps.clone(),
            traffic_routing: init.traffic_routing,
            images: vec![spec_image],
            observed_generation: Some("1".into()),
            ..RolloutFacts::default()
        };
        let mut sim = RolloutSim {
            cluster: init.cluster.clone(),
            ro: Tracked::create(facts, clock),
            replicasets: Vec::new(),
            runs: Vec::new(),
            qualities: BTreeMap::new(),
            traffic_weight: 0,
            promote_full: false,
            abort_message: String::new(),
            restart_started: None,
            experiment: None,
            script: init.script,
            deleted: Vec::new(),
        };
        // Earlier revisions: all scaled to zero except the stable one.
        let count = init.history.len();
        for (i, image) in init.history.iter().enumerate() {
            let images = vec![image.clone()];
            let hash = hash_of(&images);
            let replicas = if i + 1 == count { init.replicas } else { 0 };
            let rs = sim.create_rs(&hash, &images, Quality::Good, i as i64 + 1, created, clock);
            sim.replicasets.push(rs.running(replicas, clock));
        }
        let stable = hash_of(&[stable_image]);
        let r = &mut sim.ro.obj;
        r.stable_rs = stable.clone();
        r.current_pod_hash = stable;
        r.current_step_index = Some(init.steps.len() as i32);
        // Conditions start when the state they describe began: the update's current step
        // (its pause) or the last release settling, not when the demo started.
        let since_secs = init
            .in_flight
            .as_ref()
            .map_or(init.settled_secs, |f| f.paused_for_secs);
        if let Some(flight) = init.in_flight {
            sim.start_in_flight(flight, now, clock);
        }
        sim.refresh_status(now - SignedDuration::from_secs(since_secs.max(0)));
        sim.refresh_status(now);
        sim.ro.commit(clock);
        sim
    }

    /// Put an update mid-way through its steps, pods already running for that step.
    fn start_in_flight(&mut self, flight: InFlight, now: Timestamp, clock: &mut RvClock) {
        let images = vec![flight.image.clone()];
        let hash = hash_of(&images);
        self.qualities.insert(hash.clone(), flight.quality);
        let revision = self.max_revision() + 1;
        let rs = self.create_rs(&hash, &images, flight.quality, revision, now, clock);
        self.replicasets.push(rs);
        let r = &mut self.ro.obj;
        r.current_pod_hash = hash;
        r.current_step_index = Some(flight.step);
        let weight = rollout_set_weight(r).unwrap_or(0);
        let canary = canary_replicas(r.replicas, weight);
        if let Some(rs) = self.replicasets.last_mut() {
            rs.scale(canary);
        }
        let ready = self.replicasets.pop().map(|rs| rs.running(canary, clock));
        self.replicasets.extend(ready);
        self.traffic_weight = weight;
        let r = &mut self.ro.obj;
        if matches!(
            r.steps.get(flight.step as usize),
            Some(CanaryStep::Pause(_))
        ) {
            r.controller_pause = true;
            r.pause_conditions = vec![PauseCondition {
                reason: PauseReason::CanaryPauseStep,
                start_time: Some(now - SignedDuration::from_secs(flight.paused_for_secs)),
            }];
        }
        self.scale_replicasets();
        for rs in &mut self.replicasets {
            rs.rs.commit(clock);
        }
    }

    fn create_rs(
        &self,
        hash: &str,
        images: &[String],
        quality: Quality,
        revision: i64,
        now: Timestamp,
        clock: &mut RvClock,
    ) -> ReplicaSetSim {
        let r = &self.ro.obj;
        let t = Template {
            owner_name: &r.meta.name,
            owner_uid: &r.meta.uid,
            owner_kind: "Rollout",
            namespace: &r.meta.namespace,
            hash,
            images,
            quality,
        };
        ReplicaSetSim::create(&t, revision, now, clock)
    }

    /// Label the Rollout (as a GitOps owner's tracking labels do).
    pub fn label(&mut self, key: &str, value: &str, clock: &mut RvClock) {
        self.ro.obj.meta.labels.insert(key.into(), value.into());
        self.ro.commit(clock);
    }

    pub fn facts(&self) -> &RolloutFacts {
        &self.ro.obj
    }

    pub fn app(&self) -> &str {
        self.ro
            .obj
            .meta
            .labels
            .get("app.kubernetes.io/name")
            .map_or("", String::as_str)
    }

    fn max_revision(&self) -> i64 {
        self.replicasets
            .iter()
            .map(ReplicaSetSim::revision)
            .max()
            .unwrap_or(0)
    }

    fn fully_promoted(&self) -> bool {
        let r = &self.ro.obj;
        !r.current_pod_hash.is_empty() && r.current_pod_hash == r.stable_rs
    }

    fn current_rs(&self) -> Option<&ReplicaSetSim> {
        self.replicasets
            .iter()
            .find(|rs| rs.hash() == self.ro.obj.current_pod_hash)
    }

    fn current_revision(&self) -> i64 {
        self.current_rs().map_or(0, ReplicaSetSim::revision)
    }

    /// Share of traffic (0..=1) that reaches the current canary version, for the SLO.
    pub fn canary_traffic_share(&self) -> f64 {
        let r = &self.ro.obj;
        if self.fully_promoted() {
            return 1.0;
        }
        if r.traffic_routing {
            return f64::from(self.traffic_weight) / 100.0;
        }
        let canary = self.current_rs().map_or(0, ReplicaSetSim::available);
        if r.available_replicas > 0 {
            f64::from(canary) / f64::from(r.available_replicas)
        } else {
            0.0
        }
    }

    /// How long an error-prone version has taken canary traffic, and its share, as the
    /// history the SLO starts from: since its current pause began (the demo starts
    /// rollouts at a pause, right after the weight was set).
    pub fn bad_traffic(&self, now: Timestamp) -> Option<(i64, f64)> {
        if self.current_quality() != Quality::ErrorProne || self.ro.obj.aborted {
            return None;
        }
        let started = self.ro.obj.pause_conditions.first()?.start_time?;
        Some((
            now.duration_since(started).as_secs(),
            self.canary_traffic_share(),
        ))
    }

    /// Quality of the version taking canary traffic.
    pub fn current_quality(&self) -> Quality {
        self.current_rs().map_or(Quality::Good, |rs| rs.quality)
    }

    /// One simulated second: pods move, then the controller reconciles.
    pub fn tick(&mut self, now: Timestamp, rng: &mut Rng, clock: &mut RvClock) {
        for rs in &mut self.replicasets {
            rs.step();
        }
        let settled = self.fully_promoted() || self.ro.obj.aborted;
        if let Some(quality) = self.script.due(now, settled, rng) {
            self.ship(quality);
        }
        self.reconcile(now, rng, clock);
    }

    /// A team pushes the next version: the template changes, as `kubectl apply` would.
    fn ship(&mut self, quality: Quality) {
        let r = &mut self.ro.obj;
        r.images = r.images.iter().map(|i| bump_image(i)).collect();
        r.meta.generation += 1;
        self.qualities.insert(hash_of(&r.images), quality);
    }

    /// The controller's reconcile: react to the spec and status as they are now.
    pub fn reconcile(&mut self, now: Timestamp, rng: &mut Rng, clock: &mut RvClock) {
        let desired = hash_of(&self.ro.obj.images);
        if desired != self.ro.obj.current_pod_hash {
            self.new_revision(desired, now, clock);
        }
        self.reconcile_restart(now);
        if self.ro.obj.aborted {
            self.reconcile_aborted();
        } else if self.promote_full {
            let r = &mut self.ro.obj;
            r.current_step_index = Some(r.steps.len() as i32);
            r.pause_conditions.clear();
            r.controller_pause = false;
        } else if !self.ro.obj.paused {
            self.run_step(now, rng, clock);
        }
        self.terminate_stale_runs();
        self.end_stale_experiment();
        self.finish_promotion();
        self.scale_replicasets();
        self.refresh_status(now);
        self.prune();
        self.ro.commit(clock);
        for rs in &mut self.replicasets {
            rs.rs.commit(clock);
        }
        for run in &mut self.runs {
            run.run.commit(clock);
        }
    }

    /// The template changed: reuse a ReplicaSet with the same template (undo) or make a new
    /// one, with the next revision number, and start the steps over. Going back to the
    /// stable template skips the steps, as Argo does for a rollback to stable.
    fn new_revision(&mut self, hash: String, now: Timestamp, clock: &mut RvClock) {
        let revision = self.max_revision() + 1;
        let quality = self.qualities.get(&hash).copied().unwrap_or(Quality::Good);
        match self.replicasets.iter_mut().find(|rs| rs.hash() == hash) {
            Some(rs) => rs.rs.obj.revision = Some(revision),
            None => {
                let images = self.ro.obj.images.clone();
                let rs = self.create_rs(&hash, &images, quality, revision, now, clock);
                self.replicasets.push(rs);
            }
        }
        let back_to_stable = hash == self.ro.obj.stable_rs;
        let r = &mut self.ro.obj;
        r.current_pod_hash = hash;
        r.current_step_index = Some(if back_to_stable {
            r.steps.len() as i32
        } else {
            0
        });
        r.aborted = false;
        r.pause_conditions.clear();
        r.controller_pause = false;
        r.step_analysis = None;
        self.traffic_weight = 0;
        self.promote_full = false;
        self.abort_message.clear();
    }

    fn reconcile_restart(&mut self, now: Timestamp) {
        let r = &mut self.ro.obj;
        if r.restart_at.is_none() || r.restart_at == r.restarted_at {
            self.restart_started = None;
            return;
        }
        let started = *self.restart_started.get_or_insert(now);
        if now.duration_since(started).as_secs() >= RESTART_SECS {
            r.restarted_at = r.restart_at.clone();
        }
    }

    /// Aborted: all traffic back to stable, canary scaled away, steps reset to 0.
    fn reconcile_aborted(&mut self) {
        let revision = self.current_revision();
        let r = &mut self.ro.obj;
        r.current_step_index = Some(0);
        r.pause_conditions.clear();
        r.controller_pause = false;
        self.traffic_weight = 0;
        if self.abort_message.is_empty() {
            self.abort_message = format!("Rollout aborted update to revision {revision}");
        }
    }
}
