//! Compact projections of the objects shipdeck watches: only the fields that status
//! derivation, the detail screen and the actions need (a few hundred bytes per object).
//! Sources (kube watchers, the demo simulator, captured files) build these; the core derives
//! everything else from them. Strings from the cluster are `Untrusted`; names and namespaces
//! are kept as plain strings because they are validated by the API server (DNS labels), and
//! still pass through `text::escape` when shown.
//!
//! The facts of each release kind live in its module under `core::kinds` (re-exported
//! here); this module keeps what kinds share and the supporting objects.

use std::collections::BTreeMap;

use jiff::{SignedDuration, Timestamp};

use super::text::Untrusted;

pub use super::kinds::ObjectFacts;
pub use super::kinds::canary::{CanaryFacts, FlaggerPhase, Gate, GateHook, GateState};
pub use super::kinds::deployment::{DeploymentFacts, DeploymentStrategy};
pub use super::kinds::rollout::{RolloutFacts, RolloutStrategy};

/// Identity and bookkeeping shared by every object.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ObjectMeta {
    pub namespace: String,
    pub name: String,
    pub uid: String,
    pub resource_version: String,
    pub generation: i64,
    pub created: Option<Timestamp>,
    pub labels: MetaMap,
    /// Only the annotations shipdeck reads (revision, restartedAt, GitOps tracking).
    pub annotations: MetaMap,
    /// The field manager of the last change to `spec.template` (from managedFields; only
    /// for objects that own a pod template).
    pub template_manager: Option<String>,
}

/// The few labels or annotations kept of an object, sorted by key in one allocation: a
/// `BTreeMap` spends a whole node (over 500 bytes) on one entry, and every watched object
/// keeps one or two of these (P3).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct MetaMap(Vec<(String, String)>);

impl MetaMap {
    fn find(&self, key: &str) -> Result<usize, usize> {
        self.0.binary_search_by(|(k, _)| k.as_str().cmp(key))
    }

    pub fn get(&self, key: &str) -> Option<&String> {
        self.find(key).ok().map(|i| &self.0[i].1)
    }

    pub fn contains_key(&self, key: &str) -> bool {
        self.find(key).is_ok()
    }

    /// Set `key` to `value`; returns the value it replaced.
    pub fn insert(&mut self, key: String, value: String) -> Option<String> {
        match self.find(&key) {
            Ok(i) => Some(std::mem::replace(&mut self.0[i].1, value)),
            Err(i) => {
                self.0.insert(i, (key, value));
                self.0.shrink_to_fit();
                None
            }
        }
    }

    pub fn remove(&mut self, key: &str) -> Option<String> {
        let i = self.find(key).ok()?;
        Some(self.0.remove(i).1)
    }

    pub fn clear(&mut self) {
        self.0 = Vec::new();
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// (key, value) in key order.
    pub fn iter(&self) -> impl Iterator<Item = (&String, &String)> {
        self.0.iter().map(|(k, v)| (k, v))
    }

    pub fn keys(&self) -> impl Iterator<Item = &String> {
        self.0.iter().map(|(k, _)| k)
    }
}

/// As a JSON object (the YAML view of demo objects), keys in order.
impl serde::Serialize for MetaMap {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_map(self.iter())
    }
}

impl FromIterator<(String, String)> for MetaMap {
    fn from_iter<I: IntoIterator<Item = (String, String)>>(iter: I) -> Self {
        // Through a BTreeMap: sorted, a later value for a key wins (as inserts would).
        let sorted: BTreeMap<String, String> = iter.into_iter().collect();
        MetaMap(sorted.into_iter().collect())
    }
}

impl<const N: usize> From<[(String, String); N]> for MetaMap {
    fn from(pairs: [(String, String); N]) -> Self {
        pairs.into_iter().collect()
    }
}

impl From<BTreeMap<String, String>> for MetaMap {
    fn from(map: BTreeMap<String, String>) -> Self {
        MetaMap(map.into_iter().collect())
    }
}

impl<'a> IntoIterator for &'a MetaMap {
    type Item = (&'a String, &'a String);
    type IntoIter = std::iter::Map<
        std::slice::Iter<'a, (String, String)>,
        fn(&'a (String, String)) -> (&'a String, &'a String),
    >;
    fn into_iter(self) -> Self::IntoIter {
        self.0.iter().map(|(k, v)| (k, v))
    }
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

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default, serde::Serialize)]
pub enum AnalysisPhase {
    #[default]
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

impl From<&str> for AnalysisPhase {
    fn from(s: &str) -> Self {
        Self::parse(s)
    }
}

impl PartialEq<&str> for AnalysisPhase {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

/// `status.canary.current{Step,Background}AnalysisRunStatus`.
#[derive(Debug, Clone, PartialEq)]
pub struct AnalysisRef {
    pub name: String,
    pub phase: AnalysisPhase,
    pub message: Untrusted,
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
    /// Digest of the pod template without its `pod-template-hash` label (0: not known): equal
    /// to its Deployment's [`DeploymentFacts::template_digest`] when it is that Deployment's
    /// new ReplicaSet (kubectl's `EqualIgnoreHash`).
    pub template_digest: u64,
    /// The pod template's summary lines (`core::revisions::summarize`), for the undo diff.
    pub template: Vec<Untrusted>,
}

/// argoproj.io/v1alpha1 AnalysisRun (summary).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct AnalysisRunFacts {
    pub meta: ObjectMeta,
    pub owner_uid: String,
    pub phase: AnalysisPhase,
    pub message: Untrusted,
    pub metrics: Vec<MetricResult>,
    /// When its latest measurement finished (`measurements[].finishedAt`): when a failed
    /// run failed, for the failures feed's age.
    pub last_measured: Option<Timestamp>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct MetricResult {
    pub name: String,
    pub phase: String,
    pub successful: u32,
    pub failed: u32,
    pub inconclusive: u32,
    pub last_value: Untrusted,
    /// The metric's `successCondition` / `failureCondition` from the run's spec (empty when
    /// unset): what the measured values are judged against.
    pub success_condition: Untrusted,
    pub failure_condition: Untrusted,
    /// The values of the last few measurements, oldest first (at most
    /// [`MEASUREMENTS_KEPT`]): enough to read a trend, small enough to keep per run.
    pub recent: Vec<Untrusted>,
}

/// How many measured values a metric keeps ([`MetricResult::recent`]).
pub const MEASUREMENTS_KEPT: usize = 3;

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

#[derive(Debug, Clone, PartialEq)]
pub struct UnparseableObject {
    pub kind: String,
    pub namespace: String,
    pub name: String,
    pub error: Untrusted,
}

#[cfg(test)]
mod tests {
    use super::MetaMap;

    #[test]
    fn a_meta_map_reads_like_the_sorted_map_it_replaces() {
        let s = |v: &str| v.to_string();
        let mut m: MetaMap = [(s("b"), s("2")), (s("a"), s("1")), (s("b"), s("3"))].into();
        assert_eq!(m.len(), 2, "a later value for a key wins");
        assert_eq!(m.get("b"), Some(&s("3")));
        assert_eq!(m.keys().collect::<Vec<_>>(), [&s("a"), &s("b")]);
        assert_eq!(m.insert(s("c"), s("4")), None);
        assert_eq!(m.insert(s("0"), s("5")), None);
        assert_eq!(m.insert(s("a"), s("6")), Some(s("1")));
        let pairs: Vec<(&String, &String)> = (&m).into_iter().collect();
        assert_eq!(
            pairs,
            [
                (&s("0"), &s("5")),
                (&s("a"), &s("6")),
                (&s("b"), &s("3")),
                (&s("c"), &s("4"))
            ]
        );
        assert!(m.contains_key("c") && !m.contains_key("d"));
        assert_eq!(m.remove("0"), Some(s("5")));
        assert_eq!(m.remove("0"), None);
        assert_eq!(m.get("zz"), None);
        m.clear();
        assert!(m.is_empty());
    }
}
