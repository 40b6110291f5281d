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
