//! Compact projections of the objects shipdeck watches: only the fields that status
//! derivation, the detail screen and the actions need (a few hundred bytes per object).
//! Sources (kube watchers, the demo simulator, captured files) build these; the core derives
//! everything else from them. Strings from the cluster are `Untrusted`; names and namespaces
//! are kept as plain strings because they are validated by the API server (DNS labels), and
//! still pass through `text::escape` when shown.

use std::collections::BTreeMap;

use jiff::{SignedDuration, Timestamp};

use super::text::Untrusted;

/// Identity and bookkeeping shared by every object.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ObjectMeta {
    pub namespace: String,
    pub name: String,
    pub uid: String,
    pub resource_version: String,
    pub generation: i64,
    pub created: Option<Timestamp>,
    pub labels: BTreeMap<String, String>,
    /// Only the annotations shipdeck reads (revision, restartedAt, GitOps tracking).
    pub annotations: BTreeMap<String, String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Condition {
    pub type_: String,
    pub status: String,
    pub reason: String,
    pub message: Untrusted,
    pub last_transition: Option<Timestamp>,
}

pub fn condition<'a>(conds: &'a [Condition], type_: &str) -> Option<&'a Condition> {
    conds.iter().find(|c| c.type_ == type_)
}

/// apps/v1 Deployment.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct DeploymentFacts {
    pub meta: ObjectMeta,
    pub replicas: i32,
    pub paused: bool,
    pub strategy: String,
    pub images: Vec<String>,
    /// Pod template annotation `kubectl.kubernetes.io/restartedAt`.
    pub restarted_at: Option<String>,
    pub observed_generation: Option<i64>,
    pub status_replicas: i32,
    pub updated_replicas: i32,
    pub ready_replicas: i32,
    pub available_replicas: i32,
    pub conditions: Vec<Condition>,
}

/// One step of an Argo Rollouts canary strategy.
#[derive(Debug, Clone, PartialEq)]
pub enum CanaryStep {
    SetWeight(u32),
    /// `pause: {}` waits for a human; `pause: {duration}` counts down.
    Pause(Option<SignedDuration>),
    Analysis(Vec<String>),
    Experiment,
    SetCanaryScale,
    Other(String),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PauseReason {
    CanaryPauseStep,
    BlueGreenPause,
    InconclusiveAnalysisRun,
    InconclusiveExperiment,
    Other,
}

impl PauseReason {
    pub fn parse(s: &str) -> Self {
        match s {
            "CanaryPauseStep" => Self::CanaryPauseStep,
            "BlueGreenPause" => Self::BlueGreenPause,
            "InconclusiveAnalysisRun" => Self::InconclusiveAnalysisRun,
            "InconclusiveExperiment" => Self::InconclusiveExperiment,
            _ => Self::Other,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::CanaryPauseStep => "CanaryPauseStep",
            Self::BlueGreenPause => "BlueGreenPause",
            Self::InconclusiveAnalysisRun => "InconclusiveAnalysisRun",
            Self::InconclusiveExperiment => "InconclusiveExperiment",
            Self::Other => "Paused",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct PauseCondition {
    pub reason: PauseReason,
    pub start_time: Option<Timestamp>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
pub enum AnalysisPhase {
    Pending,
    Running,
    Successful,
    Failed,
    Error,
    Inconclusive,
    Unknown,
}

impl AnalysisPhase {
    pub fn parse(s: &str) -> Self {
        match s {
            "Pending" => Self::Pending,
            "Running" => Self::Running,
            "Successful" => Self::Successful,
            "Failed" => Self::Failed,
            "Error" => Self::Error,
            "Inconclusive" => Self::Inconclusive,
            _ => Self::Unknown,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "Pending",
            Self::Running => "Running",
            Self::Successful => "Successful",
            Self::Failed => "Failed",
            Self::Error => "Error",
            Self::Inconclusive => "Inconclusive",
            Self::Unknown => "Unknown",
        }
    }

    pub fn is_bad(self) -> bool {
        matches!(self, Self::Failed | Self::Error)
    }
}

/// `status.canary.current{Step,Background}AnalysisRunStatus`.
#[derive(Debug, Clone, PartialEq)]
pub struct AnalysisRef {
    pub name: String,
    pub phase: AnalysisPhase,
    pub message: Untrusted,
}

/// argoproj.io/v1alpha1 Rollout.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct RolloutFacts {
    pub meta: ObjectMeta,
    pub replicas: i32,
    pub paused: bool,
    /// "canary" or "blueGreen".
    pub strategy: String,
    pub steps: Vec<CanaryStep>,
    pub traffic_routing: bool,
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
    /// Blue-green: `status.blueGreen.activeSelector`.
    pub active_selector: Option<String>,
    pub conditions: Vec<Condition>,
}

/// flagger.app/v1beta1 Canary.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct CanaryFacts {
    pub meta: ObjectMeta,
    pub target: String,
    pub suspend: bool,
    pub skip_analysis: bool,
    pub max_weight: Option<u32>,
    pub step_weight: Option<u32>,
    pub threshold: Option<u32>,
    pub phase: String,
    pub canary_weight: u32,
    pub failed_checks: u32,
    pub iterations: u32,
    pub last_transition: Option<Timestamp>,
    pub message: Untrusted,
    /// Loadtester URL from a `rollback` webhook, if one is configured.
    pub rollback_webhook: Option<String>,
}

/// apps/v1 ReplicaSet, linked to its owner by uid.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ReplicaSetFacts {
    pub meta: ObjectMeta,
    pub owner_uid: String,
    pub owner_kind: String,
    /// `deployment.kubernetes.io/revision` or `rollout.argoproj.io/revision`.
    pub revision: Option<i64>,
    /// `pod-template-hash` / `rollouts-pod-template-hash` label.
    pub pod_template_hash: String,
    pub images: Vec<String>,
    pub replicas: i32,
    pub ready_replicas: i32,
    pub available_replicas: i32,
}

/// argoproj.io/v1alpha1 AnalysisRun (summary).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct AnalysisRunFacts {
    pub meta: ObjectMeta,
    pub owner_uid: String,
    pub phase: String,
    pub message: Untrusted,
    pub metrics: Vec<MetricResult>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct MetricResult {
    pub name: String,
    pub phase: String,
    pub successful: u32,
    pub failed: u32,
    pub inconclusive: u32,
    pub last_value: Untrusted,
}

/// core/v1 Event of type Warning.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct WarningEvent {
    pub namespace: String,
    /// Involved object: kind and name.
    pub object_kind: String,
    pub object_name: String,
    pub reason: String,
    pub message: Untrusted,
    pub count: u32,
    pub last_seen: Option<Timestamp>,
}

/// Any object a source can report.
// Facts move by value through one channel and are stored as they are; boxing the larger
// variants would only add an allocation per object.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq)]
pub enum ObjectFacts {
    Deployment(DeploymentFacts),
    Rollout(RolloutFacts),
    Canary(CanaryFacts),
    ReplicaSet(ReplicaSetFacts),
    AnalysisRun(AnalysisRunFacts),
    /// An object that could not be parsed: shown as such, the watch goes on.
    Unparseable(UnparseableObject),
}

#[derive(Debug, Clone, PartialEq)]
pub struct UnparseableObject {
    pub kind: String,
    pub namespace: String,
    pub name: String,
    pub error: Untrusted,
}

impl ObjectFacts {
    pub fn meta_name(&self) -> (&str, &str) {
        match self {
            Self::Deployment(d) => (&d.meta.namespace, &d.meta.name),
            Self::Rollout(r) => (&r.meta.namespace, &r.meta.name),
            Self::Canary(c) => (&c.meta.namespace, &c.meta.name),
            Self::ReplicaSet(r) => (&r.meta.namespace, &r.meta.name),
            Self::AnalysisRun(a) => (&a.meta.namespace, &a.meta.name),
            Self::Unparseable(u) => (&u.namespace, &u.name),
        }
    }
}
