//! argoproj.io/v1alpha1 Rollout as a release: facts, status in Argo's `CalculateRolloutPhase`
//! order, which actions apply (Argo CD's rule table), the exact requests (as the Argo plugin
//! sends them) and the RBAC they need. Pure; no IO. Must not touch other kinds' rules.

use super::request::resource;
use super::{Kind, Need, ReleaseKind};
use crate::core::action::{ActionKind, Disabled, Resource};
use crate::core::facts::PauseReason;
use crate::core::facts::{
    AnalysisPhase, AnalysisRef, CanaryStep, Condition, ObjectMeta, PauseCondition, ReplicaSetFacts,
};
use crate::core::model::{
    ActionFacts, Analysis, BlueGreenRole, HumanWait, Pause, Phase, Release, RsRole, Strategy,
};
use crate::core::status::{Ctx, base, owned, previous_revision, revisions};
use crate::core::text::Untrusted;

mod calls;
#[cfg(test)]
mod tests;

pub use calls::calls;

pub const ROLLOUTS: Resource = resource(Kind::Rollout, None);
pub const ROLLOUTS_STATUS: Resource = resource(Kind::Rollout, Some("status"));
pub const ANALYSISRUNS: Resource = resource(Kind::AnalysisRun, None);
pub const EXPERIMENTS: Resource = resource(Kind::Experiment, None);

/// `spec.strategy`: canary unless only `blueGreen` is set.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum RolloutStrategy {
    #[default]
    Canary,
    BlueGreen,
}

impl RolloutStrategy {
    pub fn parse(s: &str) -> Self {
        if s == "blueGreen" {
            Self::BlueGreen
        } else {
            Self::Canary
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Canary => "canary",
            Self::BlueGreen => "blueGreen",
        }
    }
}

impl From<&str> for RolloutStrategy {
    fn from(s: &str) -> Self {
        Self::parse(s)
    }
}

/// argoproj.io/v1alpha1 Rollout.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct RolloutFacts {
    pub meta: ObjectMeta,
    pub replicas: i32,
    pub paused: bool,
    pub strategy: RolloutStrategy,
    pub steps: Vec<CanaryStep>,
    pub traffic_routing: bool,
    /// `spec.strategy.canary.trafficRouting.maxTrafficWeight` (the plugin's weight scale;
    /// 100 when unset).
    pub max_traffic_weight: Option<u32>,
    /// Blue-green: `spec.strategy.blueGreen.postPromotionAnalysis` is set.
    pub post_promotion_analysis: bool,
    pub images: Vec<String>,
    pub restart_at: Option<String>,
    /// `spec.workloadRef` is set (template lives in a Deployment).
    pub workload_ref: bool,
    /// Annotation `rollout.argoproj.io/workload-generation`.
    pub workload_generation: Option<String>,

    /// `status.observedGeneration` as the controller writes it (a string).
    pub observed_generation: Option<String>,
    pub workload_observed_generation: Option<String>,
    pub phase: Option<String>,
    pub message: Untrusted,
    pub controller_pause: bool,
    pub pause_conditions: Vec<PauseCondition>,
    pub aborted: bool,
    pub current_step_index: Option<i32>,
    pub current_pod_hash: String,
    pub stable_rs: String,
    pub restarted_at: Option<String>,
    pub status_replicas: i32,
    pub updated_replicas: i32,
    pub ready_replicas: i32,
    pub available_replicas: i32,
    /// `status.canary.weights.canary.weight` when traffic routing reports it.
    pub traffic_canary_weight: Option<u32>,
    pub step_analysis: Option<AnalysisRef>,
    pub background_analysis: Option<AnalysisRef>,
    /// `status.canary.currentExperiment`: the Experiment of the experiment step, set by the
    /// controller only while that Experiment runs.
    pub current_experiment: Option<String>,
    /// Blue-green: `status.blueGreen.activeSelector`.
    pub active_selector: Option<String>,
    /// Blue-green: `status.blueGreen.previewSelector`.
    pub preview_selector: Option<String>,
    /// Blue-green: `status.blueGreen.postPromotionAnalysisRunStatus.status`.
    pub post_promotion_analysis_status: Option<AnalysisPhase>,
    pub conditions: Vec<Condition>,
}

pub const NEEDS: &[Need] = &[
    Need {
        verb: "patch",
        resource: "rollouts",
        group: ROLLOUTS.group,
        who: "Rollout",
        actions: &[
            ActionKind::Pause,
            ActionKind::Resume,
            ActionKind::Restart,
            ActionKind::Undo,
        ],
        how: "",
        with_webhook: false,
    },
    Need {
        verb: "patch",
        resource: "rollouts/status",
        group: ROLLOUTS.group,
        who: "Rollout",
        actions: &[
            ActionKind::Promote,
            ActionKind::PromoteFull,
            ActionKind::Abort,
            ActionKind::Retry,
        ],
        how: "",
        with_webhook: false,
    },
    Need {
        verb: "patch",
        resource: "analysisruns",
        group: ANALYSISRUNS.group,
        who: "Rollout",
        actions: &[ActionKind::Terminate],
        how: "(its running AnalysisRun)",
        with_webhook: false,
    },
    Need {
        verb: "patch",
        resource: "experiments",
        group: EXPERIMENTS.group,
        who: "Rollout",
        actions: &[ActionKind::Terminate],
        how: "(its running Experiment, in an experiment step)",
        with_webhook: false,
    },
];

pub const SUPPORTS: &[ActionKind] = &[
    ActionKind::Pause,
    ActionKind::Resume,
    ActionKind::Promote,
    ActionKind::PromoteFull,
    ActionKind::Abort,
    ActionKind::Retry,
    ActionKind::Undo,
    ActionKind::Restart,
    ActionKind::Terminate,
];

pub const NOT_AVAILABLE: &str = "not available for Rollouts";

/// The plugin's traffic scale (`weightutil.MaxTrafficWeight`): 100 unless traffic routing
/// sets `maxTrafficWeight`.
fn max_traffic_weight(r: &RolloutFacts) -> u32 {
    r.max_traffic_weight
        .filter(|_| r.traffic_routing)
        .unwrap_or(100)
}

/// The step the rollout is on (`GetCurrentCanaryStep`): None with no steps or past the last.
fn current_step(r: &RolloutFacts) -> Option<&CanaryStep> {
    let idx = r.current_step_index.unwrap_or(0);
    usize::try_from(idx).ok().and_then(|i| r.steps.get(i))
}

/// Set weight (desired canary traffic), as Argo's `GetCurrentSetWeight`: 0 when aborted,
/// the max traffic weight past the last step (or with no steps), else the nearest preceding
/// `setWeight`.
pub fn set_weight(r: &RolloutFacts) -> Option<u32> {
    if r.strategy != RolloutStrategy::Canary {
        return None;
    }
    if r.aborted {
        return Some(0);
    }
    if current_step(r).is_none() {
        return Some(max_traffic_weight(r));
    }
    let idx = r.current_step_index.unwrap_or(0).max(0) as usize;
    let weight = r.steps[..=idx].iter().rev().find_map(|s| match s {
        CanaryStep::SetWeight(w) => Some(*w),
        _ => None,
    });
    Some(weight.unwrap_or(0))
}

/// Phase and message as the plugin reports them (`GetRolloutPhase`, then
/// `CalculateRolloutPhase` for controllers older than v1.0).
pub fn phase(r: &RolloutFacts) -> (Phase, String) {
    let progressing = |m: &str| (Phase::Progressing, m.to_string());
    // 1. spec change not yet observed (a non-numeric or newer observedGeneration counts as
    //    observed, as `isGenerationObserved` has it)
    if let Some(og) = &r.observed_generation
        && let Ok(og) = og.parse::<i64>()
        && og < r.meta.generation
    {
        return progressing("waiting for rollout spec update to be observed");
    }
    // 2. controller pause without pause conditions
    if r.controller_pause && r.pause_conditions.is_empty() {
        return progressing("waiting for rollout to unpause");
    }
    // (Upstream's workloadRef check reads `spec.templateResolvedFromRef`, a field that is
    // never serialised (`json:"-"`): a client reading the API never takes it, so neither do we.)
    // 3. the controller's own phase (v1.0+)
    if let Some(phase) = r.phase.as_deref().filter(|p| !p.is_empty()) {
        let p = match phase {
            "Healthy" => Phase::Healthy,
            "Paused" => Phase::Paused,
            "Degraded" => Phase::Degraded,
            _ => Phase::Progressing,
        };
        return (p, r.message.raw().to_string());
    }
    // 4. older controllers: work it out from spec and status, the condition reason first
    for c in &r.conditions {
        if c.type_ == "InvalidSpec" {
            return (Phase::Degraded, format!("InvalidSpec: {}", c.message.raw()));
        }
        if c.reason == "RolloutAborted" || c.reason == "ProgressDeadlineExceeded" {
            return (
                Phase::Degraded,
                format!("{}: {}", c.reason, c.message.raw()),
            );
        }
    }
    if r.paused {
        return (Phase::Paused, "manually paused".into());
    }
    if let Some(pc) = r.pause_conditions.first() {
        return (Phase::Paused, pc.reason.as_str().into());
    }
    if r.restart_at.is_some() && r.restart_at != r.restarted_at {
        return progressing("rollout is restarting");
    }
    if r.updated_replicas < r.replicas {
        return progressing("more replicas need to be updated");
    }
    if r.available_replicas < r.updated_replicas {
        return progressing("updated replicas are still becoming available");
    }
    let fully_promoted = !r.stable_rs.is_empty() && r.stable_rs == r.current_pod_hash;
    if r.strategy == RolloutStrategy::BlueGreen {
        if r.active_selector.as_deref().unwrap_or("").is_empty()
            || r.active_selector.as_deref() != Some(r.current_pod_hash.as_str())
        {
            return progressing("active service cutover pending");
        }
        if !fully_promoted {
            let analysis_done = matches!(
                r.post_promotion_analysis_status,
                Some(
                    AnalysisPhase::Successful
                        | AnalysisPhase::Failed
                        | AnalysisPhase::Error
                        | AnalysisPhase::Inconclusive
                )
            );
            if r.post_promotion_analysis && !analysis_done {
                return progressing("waiting for analysis to complete");
            }
            return progressing("waiting for post-promotion verification to complete");
        }
    } else {
        // Only basic canary: traffic routing keeps old replicas up on purpose.
        if !r.traffic_routing && r.status_replicas > r.updated_replicas {
            return progressing("old replicas are pending termination");
        }
        if !fully_promoted {
            return progressing("waiting for all steps to complete");
        }
    }
    (Phase::Healthy, String::new())
}

/// Traffic the canary actually gets, as the plugin's `ActualWeight`: the max traffic weight
/// with no current step; 0 until the rollout has available replicas; then as traffic routing
/// reports it (else the set weight), or without routing the canary ReplicaSet's share of the
/// available replicas.
fn actual_weight(
    r: &RolloutFacts,
    owned: &[&ReplicaSetFacts],
    set_weight: Option<u32>,
) -> Option<u32> {
    if r.strategy != RolloutStrategy::Canary {
        return None;
    }
    let max = max_traffic_weight(r);
    if current_step(r).is_none() {
        return Some(max);
    }
    if r.available_replicas <= 0 {
        return Some(0);
    }
    if r.traffic_routing {
        return r.traffic_canary_weight.or(set_weight);
    }
    // The canary ReplicaSet is the current one unless it is also the stable one (then there
    // is none, and the weight stays 0). Counts from the cluster: computed wide, capped.
    let canary_avail = owned
        .iter()
        .filter(|rs| {
            rs.pod_template_hash == r.current_pod_hash && rs.pod_template_hash != r.stable_rs
        })
        .map(|rs| i64::from(rs.available_replicas.max(0)))
        .next_back()
        .unwrap_or(0);
    let pct = canary_avail * i64::from(max) / i64::from(r.available_replicas);
    Some(u32::try_from(pct.min(i64::from(max))).unwrap_or(0))
}

/// Blue-green: the plugin's roles. Stable is the `stableRS` ReplicaSet (never "canary"); the
/// active service's and the preview service's ReplicaSets are tagged as such.
fn blue_green_roles(r: &RolloutFacts, owned: &[&ReplicaSetFacts], rel: &mut Release) {
    for rev in &mut rel.revisions {
        let Some(rs) = owned.iter().find(|rs| rs.meta.name == rev.name) else {
            continue;
        };
        let hash = rs.pod_template_hash.as_str();
        if rev.role == RsRole::Canary {
            rev.role = RsRole::Old;
        }
        rev.blue_green = if r.active_selector.as_deref() == Some(hash) {
            Some(BlueGreenRole::Active)
        } else if r.preview_selector.as_deref() == Some(hash) {
            Some(BlueGreenRole::Preview)
        } else {
            None
        };
    }
}

pub fn derive(ctx: &Ctx<'_>, r: &RolloutFacts, replicasets: &[&ReplicaSetFacts]) -> Release {
    let strategy = match r.strategy {
        RolloutStrategy::BlueGreen => Strategy::BlueGreen,
        RolloutStrategy::Canary => Strategy::Canary,
    };
    let mut rel = base(ctx, ReleaseKind::Rollout, &r.meta, strategy);
    let (phase, message) = phase(r);
    rel.phase = phase;
    rel.message = Untrusted::new(message);
    let owned: Vec<&ReplicaSetFacts> = owned(&r.meta.uid, replicasets).collect();
    let fully_promoted = !r.current_pod_hash.is_empty() && r.current_pod_hash == r.stable_rs;

    if let (Some(idx), false) = (r.current_step_index, r.steps.is_empty()) {
        rel.step = Some((idx.max(0) as u32, r.steps.len() as u32));
    }
    rel.set_weight = set_weight(r);
    rel.actual_weight = actual_weight(r, &owned, rel.set_weight);
    rel.analysis = r
        .step_analysis
        .as_ref()
        .or(r.background_analysis.as_ref())
        .map(|a| Analysis {
            name: a.name.clone(),
            phase: a.phase,
            message: a.message.clone(),
        });
    if let Some(pc) = r.pause_conditions.first() {
        let duration = r
            .current_step_index
            .and_then(|i| r.steps.get(i.max(0) as usize))
            .and_then(|s| match s {
                CanaryStep::Pause(d) => *d,
                _ => None,
            });
        rel.pause = Some(Pause {
            reason: pc.reason,
            started: pc.start_time,
            duration,
        });
    }
    rel.needs_human = needs_human(r, rel.phase, rel.pause.as_ref());
    rel.steps = r.steps.clone();
    rel.revisions = revisions(&owned, &r.stable_rs, &r.current_pod_hash);
    crate::core::revisions::annotate(&mut rel.revisions, r.meta.template_manager.as_deref());
    mark_aborts(r, &owned, &mut rel);
    if r.strategy == RolloutStrategy::BlueGreen {
        blue_green_roles(r, &owned, &mut rel);
    }
    // A workloadRef Rollout has no template of its own: its images are the current
    // ReplicaSet's (the template the controller copied from the Deployment).
    rel.images = if r.images.is_empty() && r.workload_ref {
        owned
            .iter()
            .find(|rs| rs.pod_template_hash == r.current_pod_hash)
            .map(|rs| rs.images.clone())
            .unwrap_or_default()
    } else {
        r.images.clone()
    };
    rel.replicas = (r.available_replicas, r.replicas);
    rel.since = r
        .conditions
        .iter()
        .filter_map(|c| c.last_transition)
        .max()
        .or(r.meta.created);
    let in_analysis_step = r
        .current_step_index
        .and_then(|i| r.steps.get(i.max(0) as usize))
        .is_some_and(|s| matches!(s, CanaryStep::Analysis(_) | CanaryStep::Experiment));
    let current_revision = owned
        .iter()
        .find(|rs| rs.pod_template_hash == r.current_pod_hash)
        .and_then(|rs| rs.revision);
    let in_experiment_step = r
        .current_step_index
        .and_then(|i| r.steps.get(i.max(0) as usize))
        .is_some_and(|s| matches!(s, CanaryStep::Experiment));
    let experiment = r
        .current_experiment
        .clone()
        .filter(|e| in_experiment_step && !e.is_empty());
    rel.facts = ActionFacts {
        spec_paused: r.paused,
        pause_conditions: !r.pause_conditions.is_empty(),
        controller_pause: r.controller_pause,
        aborted: r.aborted,
        fully_promoted,
        current_step_index: r.current_step_index,
        steps: r.steps.len() as u32,
        in_analysis_step,
        undo_target: previous_revision(&owned),
        current_revision,
        experiment,
        ..ActionFacts::default()
    };
    rel
}

/// Mark the revisions Argo aborted: the one the `RolloutAborted` condition names and, while
/// `status.abort` is set, the current one (its canary ReplicaSet is what the abort scaled
/// down), even before the controller has written the condition.
fn mark_aborts(r: &RolloutFacts, owned: &[&ReplicaSetFacts], rel: &mut Release) {
    use crate::core::revisions::{ROLLOUT_ABORTED, mark_aborted};
    let said = r
        .conditions
        .iter()
        .filter(|c| c.reason == ROLLOUT_ABORTED)
        .map(|c| &c.message);
    mark_aborted(&mut rel.revisions, said);
    if !r.aborted {
        return;
    }
    let current = owned
        .iter()
        .find(|rs| rs.pod_template_hash == r.current_pod_hash)
        .and_then(|rs| rs.revision);
    if let Some(n) = current {
        let said = Untrusted::new(format!("Rollout aborted update to revision {n}"));
        mark_aborted(&mut rel.revisions, [&said]);
    }
}

/// Does this paused Rollout wait on a person? A manual pause, a pause step without a
/// duration, a blue-green pause (no auto-promotion delay is projected, so it is taken as
/// waiting for promote) and an inconclusive analysis do; a timed pause step does not.
pub fn needs_human(r: &RolloutFacts, phase: Phase, pause: Option<&Pause>) -> Option<HumanWait> {
    if phase != Phase::Paused {
        return None;
    }
    if r.paused {
        return Some(HumanWait::ManualPause);
    }
    match pause?.reason {
        PauseReason::CanaryPauseStep if pause?.duration.is_none() => Some(HumanWait::StepPause),
        PauseReason::BlueGreenPause => Some(HumanWait::StepPause),
        PauseReason::InconclusiveAnalysisRun | PauseReason::InconclusiveExperiment => {
            Some(HumanWait::InconclusiveAnalysis)
        }
        PauseReason::CanaryPauseStep | PauseReason::Other => None,
    }
}

/// The modal's caveat for an action.
pub fn note(action: ActionKind, r: &Release) -> Option<&'static str> {
    match action {
        ActionKind::Terminate if experiment_running(r) => Some(TERMINATE_EXPERIMENT_NOTE),
        ActionKind::Abort => Some(
            "Abort sets the canary weight to 0 and returns to step 0; the template still holds the new version — a full revert also needs undo (u).",
        ),
        ActionKind::Terminate => Some(
            "Terminate stops the AnalysisRun as `kubectl argo rollouts terminate` does: the controller ends it (phase Successful, \"Run Terminated\") and the Rollout goes on as if it had passed — abort (a) if the release must not go on.",
        ),
        _ => None,
    }
}

/// The modal's caveat for terminating the Experiment of an experiment step.
pub const TERMINATE_EXPERIMENT_NOTE: &str = "Terminate stops the Experiment as `kubectl argo rollouts terminate experiment` does: the controller scales its ReplicaSets down, ends its AnalysisRuns and marks it Successful, and the Rollout goes on to the next step as if it had passed — abort (a) if the release must not go on.";

/// The Rollout's experiment step has a running Experiment: terminate stops it.
pub fn experiment_running(r: &Release) -> bool {
    r.facts.experiment.is_some()
}

/// The Rollout's analysis is still going (Pending or Running): there is something to
/// terminate.
pub fn analysis_running(r: &Release) -> bool {
    r.analysis
        .as_ref()
        .is_some_and(|a| matches!(a.phase, AnalysisPhase::Pending | AnalysisPhase::Running))
}

/// Argo CD's rule table for Rollouts.
pub fn rules(kind: ActionKind, r: &Release) -> Result<(), Disabled> {
    use ActionKind::*;
    use Disabled::NotApplicable as Na;
    let f = &r.facts;
    let paused = f.pause_conditions || f.spec_paused;
    match kind {
        Pause if f.fully_promoted => Err(Na("already fully promoted")),
        Pause if f.aborted => Err(Na("rollout is aborted")),
        Pause if paused => Err(Na("already paused")),
        Resume if !f.spec_paused => Err(Na("not manually paused (use promote)")),
        Promote if f.fully_promoted => Err(Na("already fully promoted")),
        Promote if f.aborted => Err(Na("rollout is aborted (retry first)")),
        Promote if !paused && !f.controller_pause && !f.in_analysis_step => {
            Err(Na("not paused at a step"))
        }
        PromoteFull if f.fully_promoted && !f.spec_paused => Err(Na("already fully promoted")),
        Abort if f.fully_promoted => Err(Na("already fully promoted")),
        Abort if f.aborted => Err(Na("already aborted")),
        Retry if !f.aborted => Err(Na("only an aborted rollout can be retried")),
        Retry if f.fully_promoted => Err(Na("already fully promoted")),
        Undo if f.undo_target.is_none() => Err(Na("no previous revision")),
        Terminate if !analysis_running(r) && !experiment_running(r) => {
            Err(Na("no running AnalysisRun or Experiment to terminate"))
        }
        _ => Ok(()),
    }
}
