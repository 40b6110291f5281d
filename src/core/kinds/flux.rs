//! What Flux's reconciled kinds share (Kustomization, HelmRelease): their facts, status from
//! the Ready condition as `flux get` shows it, the rules of suspend / resume / reconcile and
//! their exact patches, as the `flux` CLI writes them (`flux suspend`: `spec.suspend: true`;
//! `flux reconcile`: the `reconcile.fluxcd.io/requestedAt` annotation set to now, then it
//! waits until `status.lastHandledReconcileAt` equals it and Ready is decided again). Pure;
//! no IO. The kind modules (`kustomization`, `helmrelease`) pick their rows from here.

use jiff::Timestamp;
use serde_json::json;

use super::ReleaseKind;
use crate::core::action::{ActionKind, ApiCall, Disabled, PatchType, Resource};
use crate::core::facts::ObjectMeta;
use crate::core::model::{ActionFacts, HumanWait, Phase, Release, Strategy};
use crate::core::status::{Ctx, base};
use crate::core::text::Untrusted;

/// The annotation `flux reconcile` sets (fluxcd/pkg/apis/meta `ReconcileRequestAnnotation`).
pub const REQUESTED_AT: &str = "reconcile.fluxcd.io/requestedAt";

/// `status.conditions[type=Ready].status`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Ready {
    True,
    False,
    /// Unknown, or no Ready condition yet: the controller is (still) working on it.
    #[default]
    Unknown,
}

impl Ready {
    pub fn parse(s: &str) -> Self {
        match s {
            "True" => Self::True,
            "False" => Self::False,
            _ => Self::Unknown,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::True => "True",
            Self::False => "False",
            Self::Unknown => "Unknown",
        }
    }
}

/// Where a Kustomization or HelmRelease takes its source from (`spec.sourceRef`, or for a
/// HelmRelease the chart's `sourceRef` / `chartRef`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SourceRef {
    /// `GitRepository`, `OCIRepository`, `HelmRepository`, `Bucket`, `HelmChart`, ...
    pub kind: String,
    pub namespace: String,
    pub name: String,
}

impl SourceRef {
    /// `GitRepository/ns/name`.
    pub fn describe(&self) -> String {
        format!("{}/{}/{}", self.kind, self.namespace, self.name)
    }
}

/// A Flux Kustomization or HelmRelease as the console reads it.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct FluxFacts {
    pub meta: ObjectMeta,
    pub suspend: bool,
    pub source: SourceRef,
    /// `spec.interval` as written (`1m`, `30s`).
    pub interval: String,
    pub ready: Ready,
    pub ready_reason: String,
    pub ready_message: Untrusted,
    pub ready_since: Option<Timestamp>,
    /// `status.lastAppliedRevision` (`main@sha1:…`).
    pub last_applied_revision: String,
    pub last_attempted_revision: String,
    /// The `reconcile.fluxcd.io/requestedAt` annotation, if set.
    pub requested_at: Option<String>,
    /// `status.lastHandledReconcileAt`.
    pub last_handled_reconcile_at: Option<String>,
    /// `status.observedGeneration` (-1 or absent: never reconciled).
    pub observed_generation: Option<i64>,
}

impl FluxFacts {
    /// A reconcile was requested that the controller has not handled yet, or handled it and
    /// has not decided Ready again (what `flux reconcile` waits for).
    pub fn reconciling(&self) -> bool {
        let unhandled =
            self.requested_at.is_some() && self.requested_at != self.last_handled_reconcile_at;
        let stale = self
            .observed_generation
            .is_none_or(|g| g < self.meta.generation);
        unhandled || stale || self.ready == Ready::Unknown
    }
}

/// The release a Flux object is: Ready decides the phase (suspended is paused by hand;
/// a pending reconcile is progressing); the message is Ready's, with the revision.
pub fn derive(ctx: &Ctx<'_>, kind: ReleaseKind, f: &FluxFacts) -> Release {
    let mut rel = base(ctx, kind, &f.meta, Strategy::Reconcile);
    rel.phase = if f.suspend {
        Phase::Paused
    } else if f.ready == Ready::False && !f.reconciling() {
        Phase::Degraded
    } else if f.reconciling() {
        Phase::Progressing
    } else {
        Phase::Healthy
    };
    rel.needs_human = (rel.phase == Phase::Paused).then_some(HumanWait::ManualPause);
    rel.message = Untrusted::new(message(f));
    rel.since = f.ready_since.or(f.meta.created);
    rel.facts = ActionFacts {
        spec_paused: f.suspend,
        ..ActionFacts::default()
    };
    rel
}

/// `Ready=<status>: <message> · rev <revision> · from <source>` (and `suspended`).
fn message(f: &FluxFacts) -> String {
    let mut out = String::new();
    if f.suspend {
        out.push_str("suspended · ");
    }
    let pending = f.requested_at.is_some() && f.requested_at != f.last_handled_reconcile_at;
    if pending {
        out.push_str("reconcile requested · ");
    }
    out.push_str("Ready=");
    out.push_str(f.ready.as_str());
    if !f.ready_message.is_empty() {
        out.push_str(": ");
        out.push_str(f.ready_message.raw());
    }
    if !f.last_applied_revision.is_empty() {
        out.push_str(" · rev ");
        out.push_str(&f.last_applied_revision);
    }
    if !f.source.name.is_empty() {
        out.push_str(" · from ");
        out.push_str(&f.source.describe());
    }
    out
}

/// Flux's rules for suspend (space), resume (space) and reconcile (s). `flux reconcile`
/// refuses a suspended object ("resource is suspended"); so does this.
pub fn rules(action: ActionKind, r: &Release) -> Result<(), Disabled> {
    use ActionKind::*;
    use Disabled::NotApplicable as Na;
    let suspended = r.facts.spec_paused;
    match action {
        Pause if suspended => Err(Na("already suspended")),
        Resume if !suspended => Err(Na("not suspended")),
        Sync if suspended => Err(Na(
            "suspended: Flux does not reconcile a suspended object — resume it first",
        )),
        _ => Ok(()),
    }
}

/// A merge patch on `r` with `metadata.resourceVersion` (the precondition) and, when
/// given, annotations: built here because the shared `merge` replaces `metadata` whole.
fn patch(
    resource: Resource,
    r: &Release,
    spec: Option<serde_json::Value>,
    annotation: Option<(&str, String)>,
) -> ApiCall {
    let mut metadata = json!({ "resourceVersion": r.resource_version });
    if let Some((k, v)) = annotation {
        metadata["annotations"] = json!({ k: v });
    }
    let mut body = json!({ "metadata": metadata });
    if let Some(spec) = spec {
        body["spec"] = spec;
    }
    ApiCall::Patch {
        resource,
        namespace: r.key.namespace.clone(),
        name: r.key.name.clone(),
        patch_type: PatchType::Merge,
        body,
    }
}

/// `flux suspend`: `spec.suspend: true`.
pub fn suspend(resource: Resource, r: &Release) -> ApiCall {
    patch(resource, r, Some(json!({ "suspend": true })), None)
}

/// The requestedAt value as `flux reconcile` writes it (RFC 3339 with nanoseconds, UTC).
pub fn requested_at(now: Timestamp) -> String {
    // jiff prints RFC 3339 in UTC with the fraction trimmed, as Go's RFC3339Nano does.
    now.to_string()
}

/// The exact requests for an action in `SUPPORTS` (empty for any other).
pub fn calls(resource: Resource, action: ActionKind, r: &Release, now: Timestamp) -> Vec<ApiCall> {
    match action {
        ActionKind::Pause => vec![suspend(resource, r)],
        ActionKind::Resume => vec![patch(resource, r, Some(json!({ "suspend": false })), None)],
        ActionKind::Sync => vec![patch(
            resource,
            r,
            None,
            Some((REQUESTED_AT, requested_at(now))),
        )],
        _ => Vec::new(),
    }
}

/// The modal's caveat.
pub fn note(action: ActionKind) -> Option<&'static str> {
    match action {
        ActionKind::Pause => Some(
            "Flux stops applying new revisions until it is resumed; nothing already applied changes.",
        ),
        ActionKind::Sync => Some(
            "Done when the controller has handled the request (status.lastHandledReconcileAt) and Ready is decided again, as `flux reconcile` waits.",
        ),
        _ => None,
    }
}

/// The actions Flux objects offer.
pub const SUPPORTS: &[ActionKind] = &[ActionKind::Pause, ActionKind::Resume, ActionKind::Sync];
