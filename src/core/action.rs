//! Actions as values: which are allowed on a release (and why not), and the exact API request
//! each one makes (reference/actions.md), with its precondition. The executor carries them out;
//! the modal shows them; tests assert them.

use std::fmt;

use jiff::Timestamp;
use serde::Serialize;
use serde_json::Value;

use super::kinds;
use super::model::{Cluster, Phase, Release, ReleaseKind};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ActionKind {
    Pause,
    Resume,
    Promote,
    PromoteFull,
    Abort,
    Retry,
    Undo,
    Restart,
    /// Stop what is running for the release: an Argo Rollouts AnalysisRun or Experiment
    /// (`spec.terminate: true`), an Argo CD operation.
    Terminate,
    /// Argo CD sync; Flux reconcile (`s`).
    Sync,
    /// Argo CD: hard refresh (re-read git and the live state).
    Refresh,
}

impl ActionKind {
    pub const ALL: [ActionKind; 11] = [
        Self::Pause,
        Self::Resume,
        Self::Promote,
        Self::PromoteFull,
        Self::Abort,
        Self::Retry,
        Self::Undo,
        Self::Restart,
        Self::Terminate,
        Self::Sync,
        Self::Refresh,
    ];

    pub fn label(self) -> &'static str {
        match self {
            Self::Pause => "pause",
            Self::Resume => "resume",
            Self::Promote => "promote",
            Self::PromoteFull => "promote-full",
            Self::Abort => "abort",
            Self::Retry => "retry",
            Self::Undo => "undo",
            Self::Restart => "restart",
            Self::Terminate => "terminate",
            Self::Sync => "sync",
            Self::Refresh => "hard-refresh",
        }
    }

    /// Needs the object name typed on a production cluster.
    pub fn destructive(self) -> bool {
        matches!(
            self,
            Self::Abort | Self::Undo | Self::PromoteFull | Self::Terminate
        )
    }

    /// Subject to the SLO error-budget gate (reference/slo.md).
    pub fn gated_by_burn(self) -> bool {
        matches!(self, Self::Promote | Self::PromoteFull)
    }
}

impl fmt::Display for ActionKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

/// Why an action is not offered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Disabled {
    ReadOnly,
    NoPermission(String),
    NotApplicable(&'static str),
    Pending,
}

impl fmt::Display for Disabled {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::ReadOnly => f.write_str("read-only"),
            Self::NoPermission(what) => write!(f, "no RBAC permission: {what}"),
            Self::NotApplicable(why) => f.write_str(why),
            Self::Pending => f.write_str("an action on this release is in flight"),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum PatchType {
    #[serde(rename = "merge")]
    Merge,
    #[serde(rename = "json")]
    Json,
}

impl PatchType {
    pub fn content_type(self) -> &'static str {
        match self {
            Self::Merge => "application/merge-patch+json",
            Self::Json => "application/json-patch+json",
        }
    }
}

/// The API resource an action writes to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Resource {
    pub group: &'static str,
    pub version: &'static str,
    pub plural: &'static str,
    pub subresource: Option<&'static str>,
}

impl Resource {
    /// RBAC resource string, e.g. `rollouts/status`.
    pub fn rbac(&self) -> String {
        match self.subresource {
            Some(sub) => format!("{}/{sub}", self.plural),
            None => self.plural.to_string(),
        }
    }
}

pub use super::kinds::canary::{CANARIES, CanarySeen, Loadtester, loadtester_service};
pub use super::kinds::deployment::DEPLOYMENTS;
pub use super::kinds::request::after_write;
pub use super::kinds::rollout::{ANALYSISRUNS, EXPERIMENTS, ROLLOUTS, ROLLOUTS_STATUS};

/// One HTTP request an action makes.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ApiCall {
    /// PATCH with `fieldManager=shipdeck`. The body carries the precondition
    /// (`metadata.resourceVersion` for merge patches, a `test` op for JSON patches).
    Patch {
        resource: Resource,
        namespace: String,
        name: String,
        patch_type: PatchType,
        body: Value,
    },
    /// Undo: JSON Patch whose template comes from `replicaset` at send time; the executor
    /// reads that ReplicaSet, strips the pod-template-hash label and sends
    /// `test /metadata/resourceVersion`, `replace /spec/template` (and annotations for
    /// Deployments), so the write only applies to the version the user saw.
    RollbackTo {
        resource: Resource,
        namespace: String,
        name: String,
        replicaset: String,
        revision: i64,
        resource_version: String,
    },
    /// POST to a Flagger loadtester (the rollback gate). The target first re-reads the Canary
    /// and compares it with `canary`, and posts only to a loadtester in the Canary's own
    /// namespace (through the API server's service proxy) or the cluster's configured
    /// `loadtester`; otherwise it refuses, naming the webhook's namespace.
    LoadtesterPost {
        to: Loadtester,
        path: String,
        body: Value,
        canary: CanarySeen,
    },
}

impl ApiCall {
    pub fn verb(&self) -> &'static str {
        match self {
            Self::Patch { .. } | Self::RollbackTo { .. } => "PATCH",
            Self::LoadtesterPost { .. } => "POST",
        }
    }

    /// `verb group/version resource[/sub] namespace/name`, for the modal and the audit log.
    pub fn describe(&self) -> String {
        match self {
            Self::Patch {
                resource,
                namespace,
                name,
                patch_type,
                ..
            } => format!(
                "PATCH ({}) {}/{} {} {namespace}/{name}",
                patch_type.content_type(),
                resource.group,
                resource.version,
                resource.rbac()
            ),
            Self::RollbackTo {
                resource,
                namespace,
                name,
                ..
            } => format!(
                "PATCH (application/json-patch+json) {}/{} {} {namespace}/{name}",
                resource.group,
                resource.version,
                resource.rbac()
            ),
            Self::LoadtesterPost {
                to:
                    Loadtester::Service {
                        namespace,
                        service,
                        port,
                    },
                path,
                ..
            } => format!("POST v1 services/proxy {namespace}/{service}:{port}{path}"),
            Self::LoadtesterPost {
                to: Loadtester::Url { base },
                path,
                ..
            } => format!("POST {base}{path} (loadtester, not through the API server)"),
        }
    }

    /// The namespace the request is made in (RBAC is checked there).
    pub fn namespace(&self) -> &str {
        match self {
            Self::Patch { namespace, .. } | Self::RollbackTo { namespace, .. } => namespace,
            Self::LoadtesterPost { canary, .. } => &canary.namespace,
        }
    }

    /// The body as it will be sent (pretty JSON), or a description for `RollbackTo`.
    pub fn body_text(&self) -> String {
        match self {
            Self::Patch { body, .. } | Self::LoadtesterPost { body, .. } => {
                serde_json::to_string_pretty(body).unwrap_or_default()
            }
            Self::RollbackTo {
                replicaset,
                revision,
                resource_version,
                ..
            } => format!(
                "test resourceVersion {resource_version}; replace /spec/template with revision {revision}'s (ReplicaSet {replicaset}, hash label removed)"
            ),
        }
    }

    /// RBAC (verb, resource) this call needs.
    pub fn rbac(&self) -> (&'static str, String) {
        match self {
            Self::Patch { resource, .. } | Self::RollbackTo { resource, .. } => {
                ("patch", resource.rbac())
            }
            // RBAC sees a POST through the service proxy as `create` on services/proxy.
            Self::LoadtesterPost {
                to: Loadtester::Service { .. },
                ..
            } => ("create", "services/proxy".to_string()),
            // Posted directly: the only API request is the re-read of the Canary.
            Self::LoadtesterPost {
                to: Loadtester::Url { .. },
                ..
            } => ("get", "canaries".to_string()),
        }
    }
}

/// What the user saw when they chose the action (shown in the modal and audited).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Seen {
    pub phase: String,
    pub step: Option<(u32, u32)>,
    pub revision: Option<i64>,
    pub resource_version: String,
}

/// What the open confirmation follows on its object: the facts a user decides on. When
/// any of them changes while the modal is open, the modal says what (`changes`), re-plans
/// and asks again; a new resourceVersion alone only re-plans (the precondition follows).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Watched {
    pub phase: String,
    pub step: Option<(u32, u32)>,
    pub revision: Option<i64>,
    /// The pause in effect, in words (`CanaryPauseStep`, `paused`), or None.
    pub pause: Option<String>,
    pub aborted: bool,
    pub weight: (Option<u32>, Option<u32>),
    /// The revision an undo would roll back to.
    pub undo_revision: Option<i64>,
}

impl Watched {
    pub fn of(r: &Release) -> Watched {
        let f = &r.facts;
        let pause = match &r.pause {
            Some(p) => Some(p.reason.as_str().to_string()),
            None if f.spec_paused || f.pause_conditions || f.controller_pause => {
                Some("paused".to_string())
            }
            None => None,
        };
        Watched {
            phase: r.phase.as_str().to_string(),
            step: r.step,
            revision: f.current_revision,
            pause,
            aborted: f.aborted,
            weight: (r.set_weight, r.actual_weight),
            undo_revision: f.undo_target.as_ref().map(|(_, rev)| *rev),
        }
    }

    /// What changed from `self` to `now`, each as the modal says it ("step 3→5").
    pub fn changes(&self, now: &Watched) -> Vec<String> {
        fn opt<T: fmt::Display>(v: &Option<T>) -> String {
            v.as_ref()
                .map_or_else(|| "none".to_string(), ToString::to_string)
        }
        fn pct(v: Option<u32>) -> String {
            v.map_or_else(|| "?".to_string(), |w| format!("{w}%"))
        }
        let mut out = Vec::new();
        if self.step != now.step {
            out.push(match (self.step, now.step) {
                (Some((a, n)), Some((b, m))) if n == m => format!("step {a}→{b}"),
                (Some((a, n)), Some((b, m))) => format!("step {a}/{n}→{b}/{m}"),
                (Some((a, n)), None) => format!("step {a}/{n}→none"),
                (None, Some((b, m))) => format!("step none→{b}/{m}"),
                (None, None) => String::new(),
            });
        }
        if self.phase != now.phase {
            out.push(format!("phase {}→{}", self.phase, now.phase));
        }
        if self.pause != now.pause {
            out.push(match (&self.pause, &now.pause) {
                (Some(_), None) => "resumed".to_string(),
                (None, Some(p)) => format!("paused ({p})"),
                (a, b) => format!("pause {}→{}", opt(a), opt(b)),
            });
        }
        if self.aborted != now.aborted {
            out.push(
                if now.aborted {
                    "aborted"
                } else {
                    "no longer aborted"
                }
                .to_string(),
            );
        }
        if self.revision != now.revision {
            out.push(format!(
                "revision {}→{}",
                opt(&self.revision),
                opt(&now.revision)
            ));
        }
        if self.weight != now.weight {
            let (a, b) = (self.weight, now.weight);
            out.push(if a.1 == b.1 {
                format!("set weight {}→{}", pct(a.0), pct(b.0))
            } else {
                format!("weight {}→{}", pct(a.1), pct(b.1))
            });
        }
        if self.undo_revision != now.undo_revision {
            out.push(format!(
                "rollback target revision {}→{}",
                opt(&self.undo_revision),
                opt(&now.undo_revision)
            ));
        }
        out
    }
}

/// A fully-specified action: what the modal shows and the executor sends.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ActionPlan {
    pub kind: ActionKind,
    pub cluster: String,
    pub release_kind: ReleaseKind,
    pub namespace: String,
    pub name: String,
    pub uid: String,
    pub prod: bool,
    pub calls: Vec<ApiCall>,
    pub seen: Seen,
    /// Caveats to show (abort keeps the new template; GitOps reverts; no rollback after promotion).
    pub notes: Vec<String>,
    /// The owner pre-step offered ("suspend the owner first", `core::owner`); sent before
    /// `calls` only when the user confirms with it.
    pub owner_first: Option<super::owner::OwnerFirst>,
}

impl ActionPlan {
    /// The plan with its owner pre-step first (itself when it offers none): what is sent
    /// when the user confirms "suspend owner first".
    pub fn with_owner_first(&self) -> ActionPlan {
        let mut plan = self.clone();
        if let Some(first) = plan.owner_first.take() {
            plan.calls.insert(0, first.call.clone());
            plan.notes.insert(
                0,
                format!("Step 1 suspends {}: resume it when done.", first.owner),
            );
            plan.owner_first = Some(first);
        }
        plan
    }

    /// The typed confirmation needed: the object name on prod for destructive actions.
    pub fn needs_typed_name(&self) -> bool {
        self.prod && self.kind.destructive()
    }
}

/// Is `kind` possible on this release right now, by the object's own state
/// (Argo CD's rule table for Rollouts, kubectl's rules for Deployments, Flagger's phases)?
/// The kind module decides; an action it does not list is "not available".
pub fn applicable(kind: ActionKind, r: &Release) -> Result<(), Disabled> {
    if r.phase == Phase::Unparseable {
        return Err(Disabled::NotApplicable("object could not be parsed"));
    }
    kinds::applicable(kind, r)
}

/// Is `kind` allowed for this release on this cluster (read-only first, then object state)?
pub fn availability(
    kind: ActionKind,
    r: &Release,
    cluster: &Cluster,
    read_only: bool,
) -> Result<(), Disabled> {
    if read_only || cluster.read_only {
        return Err(Disabled::ReadOnly);
    }
    applicable(kind, r)
}

/// The modal's note for a plan of several calls on one object.
pub const CHAINED_NOTE: &str = "Each later request carries the resourceVersion the one before it returned: if the object changes in between, it is refused (409), never sent blind.";

/// Build the plan for `kind` on `r`, or say why it is not possible.
pub fn plan(
    kind: ActionKind,
    r: &Release,
    cluster: &Cluster,
    read_only: bool,
    now: Timestamp,
) -> Result<ActionPlan, Disabled> {
    availability(kind, r, cluster, read_only)?;
    let calls = kinds::calls(kind, r, now);
    if calls.is_empty() {
        return Err(Disabled::NotApplicable("nothing to send"));
    }
    let mut notes: Vec<String> = kinds::note(kind, r).map(String::from).into_iter().collect();
    if calls.len() > 1 {
        notes.push(CHAINED_NOTE.into());
    }
    if let Some(owner) = &r.gitops {
        let who = match owner {
            super::model::GitOpsOwner::ArgoCd(app) => format!("Argo CD application {app}"),
            super::model::GitOpsOwner::Flux(k) => format!("Flux ({k})"),
        };
        notes.push(format!(
            "Managed by {who}: a self-heal may revert a manual change."
        ));
    }
    Ok(ActionPlan {
        kind,
        cluster: r.key.cluster.clone(),
        release_kind: r.key.kind,
        namespace: r.key.namespace.clone(),
        name: r.key.name.clone(),
        uid: r.uid.clone(),
        prod: cluster.is_prod(),
        calls,
        seen: Seen {
            phase: r.phase.as_str().into(),
            step: r.step,
            revision: r.facts.current_revision,
            resource_version: r.resource_version.clone(),
        },
        notes,
        owner_first: None,
    })
}
