//! The six watches a cluster gets (P11: ≤ 6 per cluster): what each lists and how it is named.

use kube::core::{ApiResource, GroupVersionKind};

use crate::core::msg::ObjectKind;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Watched {
    Deployments,
    ReplicaSets,
    Rollouts,
    AnalysisRuns,
    Canaries,
    /// core/v1 Events with `type=Warning`.
    Warnings,
}

impl Watched {
    pub const ALL: [Watched; 6] = [
        Self::Deployments,
        Self::ReplicaSets,
        Self::Rollouts,
        Self::AnalysisRuns,
        Self::Canaries,
        Self::Warnings,
    ];

    /// `resource.group` as RBAC and `kubectl` name it (what "no access" shows).
    pub fn resource(self) -> &'static str {
        match self {
            Self::Deployments => "deployments.apps",
            Self::ReplicaSets => "replicasets.apps",
            Self::Rollouts => "rollouts.argoproj.io",
            Self::AnalysisRuns => "analysisruns.argoproj.io",
            Self::Canaries => "canaries.flagger.app",
            Self::Warnings => "events",
        }
    }

    /// The kind of facts this watch produces (None for events).
    pub fn object_kind(self) -> Option<ObjectKind> {
        match self {
            Self::Deployments => Some(ObjectKind::Deployment),
            Self::ReplicaSets => Some(ObjectKind::ReplicaSet),
            Self::Rollouts => Some(ObjectKind::Rollout),
            Self::AnalysisRuns => Some(ObjectKind::AnalysisRun),
            Self::Canaries => Some(ObjectKind::Canary),
            Self::Warnings => None,
        }
    }

    /// The custom resource behind this watch, for the kinds that come from a CRD.
    pub fn custom_resource(self) -> Option<ApiResource> {
        let (group, version, kind, plural) = match self {
            Self::Rollouts => ("argoproj.io", "v1alpha1", "Rollout", "rollouts"),
            Self::AnalysisRuns => ("argoproj.io", "v1alpha1", "AnalysisRun", "analysisruns"),
            Self::Canaries => ("flagger.app", "v1beta1", "Canary", "canaries"),
            _ => return None,
        };
        Some(ApiResource::from_gvk_with_plural(
            &GroupVersionKind::gvk(group, version, kind),
            plural,
        ))
    }
}
