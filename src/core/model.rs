//! The domain model the console shows: clusters, releases, SLOs and failures. Releases are
//! derived from `facts` by `status`; nothing here does IO or reads a clock.

use std::collections::BTreeMap;
use std::fmt;

use jiff::{SignedDuration, Timestamp};
use serde::Serialize;

use super::facts::{AnalysisPhase, CanaryStep, FlaggerPhase, Gate, PauseReason};
use super::text::Untrusted;

pub use super::kinds::ReleaseKind;

/// Identifies one release across the fleet.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ReleaseKey {
    pub cluster: String,
    pub kind: ReleaseKind,
    pub namespace: String,
    pub name: String,
}

impl fmt::Display for ReleaseKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}/{}", self.cluster, self.namespace, self.name)
    }
}

/// What a release is doing, agreed with the controllers' own tools (reference/status.md).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub enum Phase {
    Healthy,
    Progressing,
    Paused,
    Degraded,
    /// The object could not be parsed; shown so the operator knows it exists.
    Unparseable,
}

impl Phase {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Healthy => "Healthy",
            Self::Progressing => "Progressing",
            Self::Paused => "Paused",
            Self::Degraded => "Degraded",
            Self::Unparseable => "Unparseable",
        }
    }

    /// Most urgent first by phase alone: failing > paused > progressing > done
    /// ([`Release::urgency`] also puts a release that needs a human above a timed pause).
    pub fn urgency(self) -> u8 {
        match self {
            Self::Degraded => 0,
            Self::Unparseable => 1,
            Self::Paused => 2,
            Self::Progressing => 3,
            Self::Healthy => 4,
        }
    }
}

/// Why a paused release waits on a person: nothing will move it on its own (an indefinite
/// pause, a closed gate, an inconclusive analysis). Decided per kind by its module in
/// `core::kinds`; a timed pause is never one. Only ever set on a `Phase::Paused` release.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum HumanWait {
    /// An Argo Rollouts pause step without a duration (or a blue-green pause before
    /// promotion): it waits for promote.
    StepPause,
    /// Paused by hand: `spec.paused` (Rollout, Deployment) or Flagger's `spec.suspend`.
    ManualPause,
    /// Argo paused on an inconclusive AnalysisRun or Experiment: promote or abort.
    InconclusiveAnalysis,
    /// Flagger's confirm-rollout gate is closed (phase Waiting).
    RolloutGate,
    /// Flagger's confirm-promotion gate is closed (phase WaitingPromotion).
    PromotionGate,
    /// Flagger halted at a closed confirm-traffic-increase gate (phase Progressing; the
    /// loadtester's `/gate/check` said closed: `core::gates`).
    TrafficGate,
}

impl HumanWait {
    /// What the person is expected to do, in a few words (table, detail, JSON).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::StepPause => "indefinite pause step",
            Self::ManualPause => "paused by hand",
            Self::InconclusiveAnalysis => "inconclusive analysis",
            Self::RolloutGate => "confirm-rollout gate closed",
            Self::PromotionGate => "confirm-promotion gate closed",
            Self::TrafficGate => "confirm-traffic-increase gate closed",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Strategy {
    RollingUpdate,
    Recreate,
    Canary,
    BlueGreen,
    /// Flagger progressive delivery.
    Progressive,
    /// Flux: reconciled from a source (Kustomization, HelmRelease).
    Reconcile,
    /// An Argo CD Application: its controller syncs from git.
    GitOps,
}

impl Strategy {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::RollingUpdate => "rolling",
            Self::Recreate => "recreate",
            Self::Canary => "canary",
            Self::BlueGreen => "bluegreen",
            Self::Progressive => "flagger",
            Self::Reconcile => "flux",
            Self::GitOps => "argocd",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Analysis {
    pub name: String,
    pub phase: AnalysisPhase,
    pub message: Untrusted,
}

/// A pause the release is in, with enough to count down a timed pause.
#[derive(Debug, Clone, PartialEq)]
pub struct Pause {
    pub reason: PauseReason,
    pub started: Option<Timestamp>,
    pub duration: Option<SignedDuration>,
}

impl Pause {
    /// Time left on a timed pause at `now` (never negative); None for an indefinite pause.
    pub fn remaining(&self, now: Timestamp) -> Option<SignedDuration> {
        let (started, duration) = (self.started?, self.duration?);
        // Saturating: a duration from the cluster may be anything a SignedDuration holds.
        let left = duration.saturating_sub(now.duration_since(started));
        Some(if left.is_negative() {
            SignedDuration::ZERO
        } else {
            left
        })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum RsRole {
    Stable,
    Canary,
    /// A Deployment's new ReplicaSet (kubectl's word) while its rollout is not done; the old
    /// ones still serving are `Stable`.
    New,
    Old,
}

/// Which service of a blue-green Rollout selects a ReplicaSet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum BlueGreenRole {
    Active,
    Preview,
}

/// A ReplicaSet as the detail screen shows it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Revision {
    pub name: String,
    pub revision: Option<i64>,
    pub role: RsRole,
    /// Blue-green Rollouts: which service selects it (`status.blueGreen.activeSelector` /
    /// `previewSelector`), as the Argo plugin tags it; None for every other strategy.
    pub blue_green: Option<BlueGreenRole>,
    pub images: Vec<String>,
    pub ready: i32,
    pub desired: i32,
    /// Created, change cause, template summary, rolled back (`core::revisions`).
    #[serde(skip)]
    pub info: super::revisions::RevisionInfo,
}

/// Which GitOps controller would revert a manual change (warned about in the modal).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum GitOpsOwner {
    ArgoCd(String),
    Flux(String),
}

/// Facts the action rules read (reference/actions.md), kept on the release.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ActionFacts {
    pub spec_paused: bool,
    pub pause_conditions: bool,
    pub controller_pause: bool,
    pub aborted: bool,
    pub fully_promoted: bool,
    pub current_step_index: Option<i32>,
    pub steps: u32,
    /// Flagger: its phase and whether a rollback webhook is configured.
    pub flagger_phase: FlaggerPhase,
    pub rollback_webhook: Option<String>,
    pub skip_analysis: bool,
    /// The step the release is in is an analysis or experiment step (Argo).
    pub in_analysis_step: bool,
    /// Argo: the running Experiment of the experiment step the Rollout is in.
    pub experiment: Option<String>,
    /// Previous revision available for undo: (ReplicaSet name, revision).
    pub undo_target: Option<(String, i64)>,
    pub current_revision: Option<i64>,
    /// Flagger: the confirm gates (webhooks) of the Canary.
    pub gates: Vec<Gate>,
    /// Argo CD Applications: what their rules and requests read.
    pub argocd: Option<Box<super::kinds::application::AppActionFacts>>,
}

/// One release as the console shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct Release {
    pub key: ReleaseKey,
    pub uid: String,
    pub resource_version: String,
    pub strategy: Strategy,
    pub phase: Phase,
    pub message: Untrusted,
    /// (current step index, number of steps), only when both exist.
    pub step: Option<(u32, u32)>,
    pub set_weight: Option<u32>,
    pub actual_weight: Option<u32>,
    pub analysis: Option<Analysis>,
    pub pause: Option<Pause>,
    /// Set when nothing but a person will move this release on (`HumanWait`).
    pub needs_human: Option<HumanWait>,
    pub steps: Vec<CanaryStep>,
    pub revisions: Vec<Revision>,
    /// Service name used to link an SLO (from the workload label or the config mapping).
    pub service: Option<String>,
    pub images: Vec<String>,
    pub created: Option<Timestamp>,
    /// When the release last changed state (for "recently done" and age).
    pub since: Option<Timestamp>,
    pub replicas: (i32, i32),
    /// Flagger: `status.failedChecks` (None for other kinds).
    pub failed_checks: Option<u32>,
    /// Flagger: the Deployments this canary runs (its target and `<target>-primary`). The
    /// console shows them through the canary's row, not as rows of their own.
    pub workloads: Vec<String>,
    pub gitops: Option<GitOpsOwner>,
    /// The GitOps object that reconciles this one (`core::owner`), from its labels.
    pub owner: Option<super::owner::OwnerRef>,
    pub facts: ActionFacts,
}

impl Release {
    /// Most urgent first: failing > needs a human > other pauses > progressing > done. The
    /// one ordering key of the table, `snapshot` and the "more urgent" counts.
    pub fn urgency(&self) -> u8 {
        match self.phase {
            Phase::Degraded => 0,
            Phase::Unparseable => 1,
            Phase::Paused if self.needs_human.is_some() => 2,
            Phase::Paused => 3,
            Phase::Progressing => 4,
            Phase::Healthy => 5,
        }
    }

    /// Urgent enough that a panel must say when such rows are scrolled out of view: failing
    /// or waiting on a person.
    pub fn is_urgent(&self) -> bool {
        self.urgency() <= 2
    }

    /// In flight, or finished within `recent` of `now`.
    pub fn is_interesting(&self, now: Timestamp, recent: SignedDuration) -> bool {
        self.phase != Phase::Healthy || self.since.is_some_and(|t| now.duration_since(t) <= recent)
    }
}

/// How a cluster's connection looks on its chip.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum Connection {
    Connecting,
    Connected,
    /// Nothing heard since `since`; the rows shown may be out of date.
    Stale {
        since: Timestamp,
    },
    Unreachable {
        reason: Untrusted,
    },
    NoAccess {
        reason: Untrusted,
    },
}

impl Connection {
    pub fn label(&self, now: Timestamp) -> String {
        match self {
            Self::Connecting => "connecting".into(),
            Self::Connected => "connected".into(),
            Self::Stale { since } => {
                format!("stale {}s", now.duration_since(*since).as_secs().max(0))
            }
            Self::Unreachable { .. } => "unreachable".into(),
            Self::NoAccess { .. } => "no access".into(),
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Cluster {
    pub name: String,
    pub labels: BTreeMap<String, String>,
    pub read_only: bool,
    pub connection: Connection,
    pub last_heard: Option<Timestamp>,
    /// Kinds this identity may not list on this cluster ("no access" shown once).
    pub forbidden_kinds: Vec<String>,
    pub server_version: Option<String>,
    /// Fed by a live source that must keep talking; captured files never go stale.
    pub live: bool,
    /// Kinds forbidden cluster-wide that are watched namespace by namespace instead:
    /// kind → the namespaces that listed.
    pub scoped_kinds: BTreeMap<String, std::collections::BTreeSet<String>>,
    /// Kinds whose list or watch keeps failing (not 403/404), until they list again.
    pub failing_kinds: Vec<KindFailure>,
}

/// A kind whose list or watch fails on a cluster for another reason than access (a 500,
/// an answer that cannot be decoded): what its rows show may be out of date.
#[derive(Debug, Clone, PartialEq)]
pub struct KindFailure {
    /// `plural.group`, as the catalogue names it.
    pub kind: String,
    /// Short: the HTTP status ("500") or what failed ("decode").
    pub status: String,
    pub detail: Untrusted,
    pub since: Timestamp,
}

impl Cluster {
    pub fn new(name: impl Into<String>) -> Self {
        Cluster {
            name: name.into(),
            labels: BTreeMap::new(),
            read_only: false,
            connection: Connection::Connecting,
            last_heard: None,
            forbidden_kinds: Vec::new(),
            server_version: None,
            live: true,
            scoped_kinds: BTreeMap::new(),
            failing_kinds: Vec::new(),
        }
    }

    pub fn is_prod(&self) -> bool {
        self.labels
            .get("env")
            .is_some_and(|v| v == "prod" || v == "production")
    }
}

/// SLO burn windows, shortest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum BurnWindow {
    M5,
    M30,
    H1,
    H2,
    H6,
    D1,
    D3,
}

impl BurnWindow {
    pub const ALL: [BurnWindow; 7] = [
        Self::M5,
        Self::M30,
        Self::H1,
        Self::H2,
        Self::H6,
        Self::D1,
        Self::D3,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::M5 => "5m",
            Self::M30 => "30m",
            Self::H1 => "1h",
            Self::H2 => "2h",
            Self::H6 => "6h",
            Self::D1 => "1d",
            Self::D3 => "3d",
        }
    }

    pub fn seconds(self) -> i64 {
        match self {
            Self::M5 => 300,
            Self::M30 => 1800,
            Self::H1 => 3600,
            Self::H2 => 7200,
            Self::H6 => 21600,
            Self::D1 => 86400,
            Self::D3 => 259200,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AlertLevel {
    None,
    Ticket,
    Page,
    Unknown,
}

impl AlertLevel {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::None => "none",
            Self::Ticket => "ticket",
            Self::Page => "page",
            Self::Unknown => "unknown",
        }
    }
}

/// An SLO definition (from config).
#[derive(Debug, Clone, PartialEq)]
pub struct SloSpec {
    pub name: String,
    pub service: String,
    /// e.g. 99.9 (percent).
    pub objective: f64,
    /// SLO window, e.g. 30 days.
    pub window: SignedDuration,
    pub window_label: String,
}

impl SloSpec {
    /// The error budget as a ratio: 1 - objective.
    pub fn budget(&self) -> f64 {
        1.0 - self.objective / 100.0
    }
}

/// An SLO's current evaluation.
#[derive(Debug, Clone, PartialEq)]
pub struct SloStatus {
    pub spec: SloSpec,
    /// Burn rate per window; None when unknown (never shown as 0).
    pub burn: BTreeMap<BurnWindow, Option<f64>>,
    pub budget_remaining: Option<f64>,
    pub alert: AlertLevel,
    /// Recent 1h burn samples, oldest first, for the sparkline.
    pub trend: Vec<f64>,
    /// When the newest trend sample began (samples are `slo_eval::TREND_STEP` apart).
    pub trend_at: Option<Timestamp>,
    pub evaluated_at: Option<Timestamp>,
    /// Set while data is missing: when it went missing, and why.
    pub unknown_since: Option<Timestamp>,
    pub error: Option<Untrusted>,
}

/// One line of the failures feed, de-duplicated by (cluster, object, reason).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Failure {
    pub cluster: String,
    pub namespace: String,
    pub object: String,
    pub reason: String,
    pub message: Untrusted,
    pub count: u32,
    #[serde(serialize_with = "ser_ts")]
    pub first_seen: Timestamp,
    #[serde(serialize_with = "ser_ts")]
    pub last_seen: Timestamp,
}

fn ser_ts<S: serde::Serializer>(t: &Timestamp, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&t.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn remaining_saturates_on_extreme_durations() {
        let t = |s| Timestamp::from_second(s).unwrap_or(Timestamp::UNIX_EPOCH);
        let pause = |secs: i64| Pause {
            reason: PauseReason::CanaryPauseStep,
            started: Some(t(0)),
            duration: Some(SignedDuration::from_secs(secs)),
        };
        assert_eq!(pause(i64::MIN).remaining(t(1)), Some(SignedDuration::ZERO));
        let far = pause(i64::MAX).remaining(t(-9)).map(|d| d.as_secs());
        assert_eq!(far, Some(i64::MAX));
    }
}
