//! A simulated Argo Rollout (canary strategy) and its controller: steps through setWeight,
//! pause and analysis steps, scales stable and canary ReplicaSets, shifts traffic, aborts on
//! a failed analysis, and writes `status.phase`/`message` as Argo Rollouts v1.x does. It
//! never derives the console's view itself — that is the core's job.

mod api;

use std::collections::BTreeMap;

use jiff::{SignedDuration, Timestamp};

use super::analysis::AnalysisRunSim;
use super::conditions;
use super::replicaset::{Quality, ReplicaSetSim, Template};
use super::rng::Rng;
use super::script::{Script, bump_image};
use super::store::{HasMeta, RvClock, Tracked, template_hash};
use crate::core::facts::{
    AnalysisPhase, CanaryStep, ObjectMeta, PauseCondition, PauseReason, RolloutFacts,
};
use crate::core::msg::ObjectKind;
use crate::core::status::rollout_set_weight;
use crate::core::text::Untrusted;

/// Old ReplicaSets kept besides stable and canary (`revisionHistoryLimit`, kept small).
const HISTORY: usize = 2;
/// AnalysisRuns kept per rollout.
const RUNS_KEPT: usize = 3;
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
    script: Script,
    deleted: Vec<(ObjectKind, String)>,
}

fn hash_of(images: &[String]) -> String {
    let parts: Vec<&str> = images.iter().map(String::as_str).collect();
    template_hash(&parts)
}

impl RolloutSim {
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
        if let Some(flight) = init.in_flight {
            sim.start_in_flight(flight, now, clock);
        }
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

    /// Work on the current step; complete at most one step per reconcile.
    fn run_step(&mut self, now: Timestamp, rng: &mut Rng, clock: &mut RvClock) {
        let idx = self.ro.obj.current_step_index.unwrap_or(0).max(0);
        let Some(step) = self.ro.obj.steps.get(idx as usize).cloned() else {
            return;
        };
        let done = match step {
            CanaryStep::SetWeight(weight) => {
                let r = &self.ro.obj;
                let want = canary_replicas(r.replicas, weight);
                let ready = self.current_rs().is_some_and(|rs| rs.available() >= want);
                // Traffic shifts only once the canary can take it.
                if ready {
                    self.traffic_weight = weight;
                }
                ready
            }
            CanaryStep::Pause(duration) => self.run_pause(duration, now),
            CanaryStep::Analysis(_) => self.run_analysis(idx, now, rng, clock),
            _ => true,
        };
        if done {
            self.ro.obj.current_step_index = Some(idx + 1);
        }
    }

    /// A pause step: set the pause condition once; the step completes when a timed pause
    /// runs out, or when someone removed the condition (promote) while the controller still
    /// holds `controllerPause` — that is how Argo tells "released" from "not yet paused".
    fn run_pause(&mut self, duration: Option<SignedDuration>, now: Timestamp) -> bool {
        let r = &mut self.ro.obj;
        if r.pause_conditions.is_empty() {
            if r.controller_pause {
                r.controller_pause = false;
                return true;
            }
            r.controller_pause = true;
            r.pause_conditions.push(PauseCondition {
                reason: PauseReason::CanaryPauseStep,
                start_time: Some(now),
            });
            return false;
        }
        let started = r.pause_conditions.first().and_then(|p| p.start_time);
        match (duration, started) {
            (Some(d), Some(start)) if now.duration_since(start) >= d => {
                r.pause_conditions.clear();
                r.controller_pause = false;
                true
            }
            _ => false,
        }
    }

    fn run_analysis(
        &mut self,
        idx: i32,
        now: Timestamp,
        rng: &mut Rng,
        clock: &mut RvClock,
    ) -> bool {
        let hash = self.ro.obj.current_pod_hash.clone();
        let revision = self.current_revision();
        let quality = self.current_quality();
        let name = format!("{}-{hash}-{revision}-{idx}", self.ro.obj.meta.name);
        let current = self
            .runs
            .iter()
            .position(|run| run.name() == name && run.phase() == AnalysisPhase::Running);
        let pos = match current {
            Some(pos) => pos,
            None => {
                let r = &self.ro.obj;
                let owner = (
                    r.meta.namespace.as_str(),
                    r.meta.name.as_str(),
                    r.meta.uid.as_str(),
                );
                // A finished run for this very step means a retry: start a fresh one.
                self.runs.retain(|run| run.name() != name);
                self.runs.push(AnalysisRunSim::start(
                    owner, &hash, revision, idx, now, clock,
                ));
                self.runs.len() - 1
            }
        };
        let Some(run) = self.runs.get_mut(pos) else {
            return false;
        };
        let phase = run.measure(now, quality, rng);
        self.ro.obj.step_analysis = Some(run.status_ref());
        match phase {
            AnalysisPhase::Successful => true,
            AnalysisPhase::Failed | AnalysisPhase::Error => {
                let msg = run.run.obj.message.raw().to_string();
                self.ro.obj.aborted = true;
                self.abort_message =
                    format!("Rollout aborted update to revision {revision}: {msg}");
                self.reconcile_aborted();
                false
            }
            _ => false,
        }
    }

    /// A run still measuring a step the rollout has left (promoted past it, aborted, new
    /// revision) is terminated, as Argo does, rather than left running forever.
    fn terminate_stale_runs(&mut self) {
        let r = &self.ro.obj;
        let idx = r.current_step_index.unwrap_or(0);
        let in_analysis = !r.aborted
            && matches!(
                r.steps.get(idx.max(0) as usize),
                Some(CanaryStep::Analysis(_))
            );
        let expected = in_analysis.then(|| {
            format!(
                "{}-{}-{}-{idx}",
                r.meta.name,
                r.current_pod_hash,
                self.current_revision()
            )
        });
        for run in &mut self.runs {
            if run.phase() == AnalysisPhase::Running && Some(run.name()) != expected.as_deref() {
                run.terminate();
                let r = &mut self.ro.obj;
                if r.step_analysis
                    .as_ref()
                    .is_some_and(|a| a.name == run.name())
                {
                    r.step_analysis = Some(run.status_ref());
                }
            }
        }
    }

    /// Past the last step and the canary fully available: it becomes stable.
    fn finish_promotion(&mut self) {
        let r = &self.ro.obj;
        if r.aborted || self.fully_promoted() {
            return;
        }
        let past_end = r.current_step_index.unwrap_or(0) as usize >= r.steps.len();
        let available = self
            .current_rs()
            .is_some_and(|rs| rs.available() >= r.replicas);
        if past_end && available {
            let r = &mut self.ro.obj;
            r.stable_rs = r.current_pod_hash.clone();
            self.promote_full = false;
            self.traffic_weight = 0;
        }
    }

    /// Desired replicas per ReplicaSet for the current weight. With traffic routing the
    /// stable stays at full size; without it, replicas are the only way to split traffic.
    fn scale_replicasets(&mut self) {
        let r = &self.ro.obj;
        let total = r.replicas;
        let fully = self.fully_promoted();
        let weight = if fully {
            100
        } else {
            rollout_set_weight(r).unwrap_or(0)
        };
        let canary_want = canary_replicas(total, weight);
        let canary_avail = self.current_rs().map_or(0, ReplicaSetSim::available);
        let stable_want = if r.traffic_routing {
            total
        } else {
            (total - canary_avail.min(canary_want)).max(0)
        };
        let (current, stable) = (r.current_pod_hash.clone(), r.stable_rs.clone());
        for rs in &mut self.replicasets {
            if rs.hash() == current {
                rs.scale(canary_want);
            } else if rs.hash() == stable {
                rs.scale(stable_want);
            } else {
                rs.scale(0);
            }
        }
    }

    /// Status the controller writes after each reconcile.
    fn refresh_status(&mut self, now: Timestamp) {
        let fully = self.fully_promoted();
        let (current, sum) = {
            let current = self.current_rs().map(|rs| rs.replicas()).unwrap_or(0);
            let mut sum = (0, 0, 0);
            for rs in &self.replicasets {
                sum.0 += rs.replicas();
                sum.1 += rs.rs.obj.ready_replicas;
                sum.2 += rs.available();
            }
            (current, sum)
        };
        let traffic = self.traffic_weight;
        let abort_message = self.abort_message.clone();
        let r = &mut self.ro.obj;
        r.observed_generation = Some(r.meta.generation.to_string());
        r.status_replicas = sum.0;
        r.updated_replicas = current;
        r.ready_replicas = sum.1;
        r.available_replicas = sum.2;
        r.traffic_canary_weight = (r.traffic_routing && !fully).then_some(traffic);
        if !r.aborted {
            self.abort_message.clear();
        }
        let (phase, message) = controller_phase(r, fully, &abort_message);
        let (status, reason, cond_msg) = match phase {
            "Degraded" => ("False", "RolloutAborted", abort_message.as_str()),
            "Paused" => ("Unknown", "RolloutPaused", "Rollout is paused"),
            "Healthy" => (
                "True",
                "NewReplicaSetAvailable",
                "Rollout has completed update",
            ),
            _ => ("True", "ReplicaSetUpdated", "Rollout is progressing"),
        };
        conditions::set(
            &mut r.conditions,
            "Progressing",
            status,
            reason,
            cond_msg,
            now,
        );
        let available = if r.available_replicas >= r.replicas {
            "True"
        } else {
            "False"
        };
        conditions::set(
            &mut r.conditions,
            "Available",
            available,
            "AvailableReason",
            "Rollout has minimum availability",
            now,
        );
        r.phase = Some(phase.to_string());
        r.message = Untrusted::new(message);
    }

    /// Drop old ReplicaSets beyond the history limit and old AnalysisRuns (sent as deletes).
    fn prune(&mut self) {
        let r = &self.ro.obj;
        let keep = |rs: &ReplicaSetSim| rs.hash() == r.current_pod_hash || rs.hash() == r.stable_rs;
        let mut old: Vec<(i64, String)> = self
            .replicasets
            .iter()
            .filter(|rs| !keep(rs) && rs.replicas() == 0)
            .map(|rs| (rs.revision(), rs.name().to_string()))
            .collect();
        old.sort();
        let excess = old.len().saturating_sub(HISTORY);
        for (_, name) in old.into_iter().take(excess) {
            self.replicasets.retain(|rs| rs.name() != name);
            self.deleted.push((ObjectKind::ReplicaSet, name));
        }
        while self.runs.len() > RUNS_KEPT {
            let run = self.runs.remove(0);
            self.deleted
                .push((ObjectKind::AnalysisRun, run.name().to_string()));
        }
    }
}

/// Replicas the canary needs for `weight` percent (at least one for any weight > 0).
fn canary_replicas(total: i32, weight: u32) -> i32 {
    ((i64::from(total) * i64::from(weight) + 99) / 100) as i32
}

/// `status.phase` and `status.message` as Argo's `CalculateRolloutPhase` writes them.
fn controller_phase(r: &RolloutFacts, fully: bool, abort_message: &str) -> (&'static str, String) {
    if r.aborted {
        return ("Degraded", format!("RolloutAborted: {abort_message}"));
    }
    if r.paused {
        return ("Paused", "manually paused".into());
    }
    if let Some(pc) = r.pause_conditions.first() {
        return ("Paused", pc.reason.as_str().into());
    }
    if r.restart_at.is_some() && r.restart_at != r.restarted_at {
        return ("Progressing", "rollout is restarting".into());
    }
    if r.updated_replicas < r.replicas {
        return ("Progressing", "more replicas need to be updated".into());
    }
    if r.available_replicas < r.updated_replicas {
        return (
            "Progressing",
            "updated replicas are still becoming available".into(),
        );
    }
    if !fully {
        return ("Progressing", "waiting for all steps to complete".into());
    }
    ("Healthy", String::new())
}
