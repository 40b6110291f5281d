//! The shape of a catalogue row: a kind's API coordinates, its role and origin. The rows
//! themselves are the table in `kinds/mod.rs`. Pure data; no IO.

use super::{Kind, ReleaseKind};

/// Kinds that are not releases but feed them (owned objects, events).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Support {
    ReplicaSet,
    AnalysisRun,
    Event,
    /// Flux GitRepository / OCIRepository: read on demand, never watched.
    FluxSource,
}

/// What a kind is to the console.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    Release(ReleaseKind),
    Supporting(Support),
    /// Read only while a screen that shows it is open (pods): never a permanent watch.
    OnDemand,
}

/// Where the API comes from: built into Kubernetes or installed by a CRD.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    BuiltIn,
    Custom,
}

/// One catalogue row: a kind's API coordinates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Api {
    pub kind: Kind,
    /// API group ("" for core/v1).
    pub group: &'static str,
    /// The one version shipdeck reads.
    pub version: &'static str,
    /// The `kind` field as the API server writes it.
    pub name: &'static str,
    pub plural: &'static str,
    /// `plural.group` (`plural` for the core group): how RBAC, CRDs and `kubectl` name it.
    pub resource: &'static str,
    pub subresources: &'static [&'static str],
    /// Short label for the table.
    pub short: &'static str,
    pub role: Role,
    pub origin: Origin,
}
