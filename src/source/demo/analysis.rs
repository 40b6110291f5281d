//! A simulated Argo AnalysisRun: one `error-rate` metric measured every few seconds against
//! `result < 0.01`. An error-prone version fails measurements; past the failure limit the
//! run is Failed, and its owner rollout aborts.

use jiff::{SignedDuration, Timestamp};

use super::replicaset::Quality;
use super::rng::Rng;
use super::store::{RvClock, Tracked};
use crate::core::facts::{AnalysisPhase, AnalysisRef, AnalysisRunFacts, MetricResult, ObjectMeta};
use crate::core::text::Untrusted;

const METRIC: &str = "error-rate";
const INTERVAL_SECS: i64 = 10;
/// Successful measurements needed (`count`).
const COUNT: u32 = 3;
/// Failed measurements tolerated (`failureLimit`).
const FAILURE_LIMIT: u32 = 1;

#[derive(Debug, Clone)]
pub struct AnalysisRunSim {
    pub run: Tracked<AnalysisRunFacts>,
    next_measurement: Timestamp,
}

impl AnalysisRunSim {
    /// Named like Argo names step runs: `<rollout>-<pod-hash>-<revision>-<step>`.
    pub fn start(
        owner: (&str, &str, &str),
        hash: &str,
        revision: i64,
        step: i32,
        now: Timestamp,
        clock: &mut RvClock,
    ) -> Self {
        let (namespace, name, uid) = owner;
        let run_name = format!("{name}-{hash}-{revision}-{step}");
        let facts = AnalysisRunFacts {
            meta: ObjectMeta {
                namespace: namespace.to_string(),
                uid: super::store::uid(&[uid, &run_name]),
                name: run_name,
                generation: 1,
                created: Some(now),
                ..ObjectMeta::default()
            },
            owner_uid: uid.to_string(),
            phase: "Running".into(),
            message: Untrusted::default(),
            metrics: vec![MetricResult {
                name: METRIC.into(),
                phase: "Running".into(),
                successful: 0,
                failed: 0,
                inconclusive: 0,
                last_value: Untrusted::default(),
                success_condition: Untrusted::new("result < 0.01"),
                failure_condition: Untrusted::new("result >= 0.05"),
                recent: Vec::new(),
            }],
            last_measured: None,
        };
        AnalysisRunSim {
            run: Tracked::create(facts, clock),
            next_measurement: now + SignedDuration::from_secs(INTERVAL_SECS),
        }
    }

    pub fn phase(&self) -> AnalysisPhase {
        self.run.obj.phase
    }

    pub fn name(&self) -> &str {
        &self.run.obj.meta.name
    }

    /// What the rollout's `status.canary.currentStepAnalysisRunStatus` says about this run.
    pub fn status_ref(&self) -> AnalysisRef {
        AnalysisRef {
            name: self.run.obj.meta.name.clone(),
            phase: self.phase(),
            message: self.run.obj.message.clone(),
        }
    }

    /// Stop measuring: Argo marks a terminated run Successful ("Run Terminated").
    pub fn terminate(&mut self) {
        let run = &mut self.run.obj;
        run.phase = "Successful".into();
        run.message = Untrusted::new("Run Terminated".to_string());
        if let Some(metric) = run.metrics.first_mut() {
            metric.phase = "Successful".into();
        }
    }

    /// Take the measurements due by `now`; returns the phase once the run has finished.
    pub fn measure(&mut self, now: Timestamp, quality: Quality, rng: &mut Rng) -> AnalysisPhase {
        while self.phase() == AnalysisPhase::Running && now >= self.next_measurement {
            self.run.obj.last_measured = Some(self.next_measurement);
            self.next_measurement += SignedDuration::from_secs(INTERVAL_SECS);
            // Error ratio the canary answers with: a healthy version stays well under 1 %.
            let value = match quality {
                Quality::ErrorProne => 0.12 + rng.unit() * 0.06,
                _ => 0.001 + rng.unit() * 0.003,
            };
            let run = &mut self.run.obj;
            let Some(metric) = run.metrics.first_mut() else {
                break;
            };
            metric.last_value = Untrusted::new(format!("{value:.4}"));
            metric.recent.push(metric.last_value.clone());
            let extra = metric
                .recent
                .len()
                .saturating_sub(crate::core::facts::MEASUREMENTS_KEPT);
            metric.recent.drain(..extra);
            if value < 0.01 {
                metric.successful += 1;
            } else {
                metric.failed += 1;
            }
            if metric.failed > FAILURE_LIMIT {
                metric.phase = "Failed".into();
                run.phase = "Failed".into();
                run.message = Untrusted::new(format!(
                    "Metric \"{METRIC}\" assessed Failed due to failed ({}) > failureLimit ({FAILURE_LIMIT})",
                    metric.failed
                ));
            } else if metric.successful + metric.failed >= COUNT + FAILURE_LIMIT
                || metric.successful >= COUNT
            {
                metric.phase = "Successful".into();
                run.phase = "Successful".into();
                run.message = Untrusted::new("Metric assessed Successful".to_string());
            }
        }
        self.phase()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run() -> AnalysisRunSim {
        let mut clock = RvClock::new();
        AnalysisRunSim::start(
            ("ns", "web", "uid"),
            "abc",
            3,
            2,
            Timestamp::UNIX_EPOCH,
            &mut clock,
        )
    }

    #[test]
    fn error_prone_version_fails_past_the_limit() {
        let mut a = run();
        let mut rng = Rng::new(1);
        let end = Timestamp::UNIX_EPOCH + SignedDuration::from_secs(60);
        assert_eq!(
            a.measure(end, Quality::ErrorProne, &mut rng),
            AnalysisPhase::Failed
        );
        assert!(a.run.obj.message.raw().contains("failureLimit"));
        assert_eq!(a.name(), "web-abc-3-2");
    }

    #[test]
    fn good_version_succeeds_after_count() {
        let mut a = run();
        let mut rng = Rng::new(1);
        let t = |s| Timestamp::UNIX_EPOCH + SignedDuration::from_secs(s);
        assert_eq!(
            a.measure(t(15), Quality::Good, &mut rng),
            AnalysisPhase::Running
        );
        assert_eq!(
            a.measure(t(30), Quality::Good, &mut rng),
            AnalysisPhase::Successful
        );
    }
}
