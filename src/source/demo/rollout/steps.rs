//! The canary steps of a simulated Rollout: setWeight, pause and analysis steps worked one
//! per reconcile, stale AnalysisRuns terminated, and the promotion to stable once past the
//! last step. It must not write status (see `status`) or size ReplicaSets (see `replicas`).

use jiff::{SignedDuration, Timestamp};

use super::RolloutSim;
use super::replicas::canary_replicas;
use crate::core::facts::{AnalysisPhase, CanaryStep, PauseCondition, PauseReason};
use crate::source::demo::analysis::AnalysisRunSim;
use crate::source::demo::rng::Rng;
use crate::source::demo::store::RvClock;

/// How long a simulated Experiment runs before it succeeds on its own.
pub const EXPERIMENT_SECS: i64 = 90;

impl RolloutSim {
    /// Work on the current step; complete at most one step per reconcile.
    pub(super) fn run_step(&mut self, now: Timestamp, rng: &mut Rng, clock: &mut RvClock) {
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
            CanaryStep::Experiment => self.run_experiment(idx, now),
            _ => true,
        };
        if done {
            self.ro.obj.current_step_index = Some(idx + 1);
        }
    }

    /// A pause step: set the pause condition once; the step completes when a timed pause
    /// runs out, or when someone removed the condition (promote) while the controller still
    /// holds `controllerPause` — that is how Argo tells "released" from "not yet paused".
    pub(super) fn run_pause(&mut self, duration: Option<SignedDuration>, now: Timestamp) -> bool {
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

    pub(super) fn run_analysis(
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

    /// The Experiment of an experiment step, named like Argo names it
    /// (`<rollout>-<pod-hash>-<revision>-<step>`).
    fn experiment_name(&self, idx: i32) -> String {
        let r = &self.ro.obj;
        format!(
            "{}-{}-{}-{idx}",
            r.meta.name,
            r.current_pod_hash,
            self.current_revision()
        )
    }

    /// An experiment step: start its Experiment (`status.canary.currentExperiment`); the
    /// step completes when it has run [`EXPERIMENT_SECS`] or someone terminated it (Argo
    /// marks a terminated Experiment Successful and the Rollout goes on).
    pub(super) fn run_experiment(&mut self, idx: i32, now: Timestamp) -> bool {
        let name = self.experiment_name(idx);
        if self.ro.obj.current_experiment.as_deref() != Some(name.as_str()) {
            self.ro.obj.current_experiment = Some(name);
            self.experiment = Some((now, false));
            return false;
        }
        let done = self.experiment.is_none_or(|(started, terminated)| {
            terminated || now.duration_since(started).as_secs() >= EXPERIMENT_SECS
        });
        if done {
            self.ro.obj.current_experiment = None;
            self.experiment = None;
        }
        done
    }

    /// Terminate the running Experiment `name` (`spec.terminate: true`); false when this
    /// Rollout runs no Experiment of that name.
    pub fn terminate_experiment(&mut self, name: &str) -> bool {
        if self.ro.obj.current_experiment.as_deref() != Some(name) {
            return false;
        }
        if let Some((_, terminated)) = self.experiment.as_mut() {
            *terminated = true;
        }
        true
    }

    /// The rollout left its experiment step (promoted past it, aborted, a new revision):
    /// Argo cancels the Experiment and clears `currentExperiment`.
    pub(super) fn end_stale_experiment(&mut self) {
        let r = &self.ro.obj;
        let idx = r.current_step_index.unwrap_or(0);
        let in_step = !r.aborted
            && matches!(
                r.steps.get(idx.max(0) as usize),
                Some(CanaryStep::Experiment)
            );
        let expected = in_step.then(|| self.experiment_name(idx));
        if r.current_experiment.is_some() && r.current_experiment != expected {
            self.ro.obj.current_experiment = None;
            self.experiment = None;
        }
    }

    /// A run still measuring a step the rollout has left (promoted past it, aborted, new
    /// revision) is terminated, as Argo does, rather than left running forever.
    pub(super) fn terminate_stale_runs(&mut self) {
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
    pub(super) fn finish_promotion(&mut self) {
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
}
