//! Actions as values: which are allowed on a release (and why not), and the exact API request
//! each one makes (reference/actions.md), with its precondition. The executor carries them out;
//! the modal shows them; tests assert them.

use std::fmt;

use jiff::Timestamp;
use serde::Serialize;
use serde_json::{Value, json};

use super::facts::PauseReason;
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
}

impl ActionKind {
    pub const ALL: [ActionKind; 8] = [
        Self::Pause,
        Self::Resume,
        Self::Promote,
        Self::PromoteFull,
        Self::Abort,
        Self::Retry,
        Self::Undo,
        Self::Restart,
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
        }
    }

    /// Needs the object name typed on a production cluster.
    pub fn destructive(self) -> bool {
        matches!(self, Self::Abort | Self::Undo | Self::PromoteFull)
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

pub const DEPLOYMENTS: Resource = Resource {
    group: "apps",
    version: "v1",
    plural: "deployments",
    subresource: None,
};
pub const ROLLOUTS: Resource = Resource {
    group: "argoproj.io",
    version: "v1alpha1",
    plural: "rollouts",
    subresource: None,
};
pub const ROLLOUTS_STATUS: Resource = Resource {
    group: "argoproj.io",
    version: "v1alpha1",
    plural: "rollouts",
    subresource: Some("status"),
};
pub const CANARIES: Resource = Resource {
    group: "flagger.app",
    version: "v1beta1",
    plural: "canaries",
    subresource: None,
};

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
    /// POST through the API server's service proxy to a Flagger loadtester.
    ProxyPost {
        namespace: String,
        service: String,
        port: String,
        path: String,
        body: Value,
    },
}

impl ApiCall {
    pub fn verb(&self) -> &'static str {
        match self {
            Self::Patch { .. } | Self::RollbackTo { .. } => "PATCH",
            Self::ProxyPost { .. } => "POST",
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
            Self::ProxyPost {
                namespace,
                service,
                port,
                path,
                ..
            } => format!("POST v1 services/proxy {namespace}/{service}:{port}{path}"),
        }
    }

    /// The body as it will be sent (pretty JSON), or a description for `RollbackTo`.
    pub fn body_text(&self) -> String {
        match self {
            Self::Patch { body, .. } | Self::ProxyPost { body, .. } => {
                serde_json::to_string_pretty(body).unwrap_or_default()
            }
            Self::RollbackTo {
                replicaset,
                revision,
                resource_version,
                ..
            } => format!(
                "[{{\"op\":\"test\",\"path\":\"/metadata/resourceVersion\",\"value\":\"{resource_version}\"}},\n {{\"op\":\"replace\",\"path\":\"/spec/template\",\"value\":<template of ReplicaSet {replicaset} (revision {revision}) minus its pod-template-hash label>}}]"
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
            Self::ProxyPost { .. } => ("create", "services/proxy".to_string()),
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
}

impl ActionPlan {
    /// The typed confirmation needed: the object name on prod for destructive actions.
    pub fn needs_typed_name(&self) -> bool {
        self.prod && self.kind.destructive()
    }
}

/// Is `kind` possible on this release right now, by the object's own state
/// (Argo CD's rule table for Rollouts, kubectl's rules for Deployments, Flagger's phases)?
pub fn applicable(kind: ActionKind, r: &Release) -> Result<(), Disabled> {
    use ActionKind::*;
    use Disabled::NotApplicable as Na;
    let f = &r.facts;
    if r.phase == Phase::Unparseable {
        return Err(Na("object could not be parsed"));
    }
    match r.key.kind {
        ReleaseKind::Rollout => {
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
                PromoteFull if f.fully_promoted && !f.spec_paused => {
                    Err(Na("already fully promoted"))
                }
                Abort if f.fully_promoted => Err(Na("already fully promoted")),
                Abort if f.aborted => Err(Na("already aborted")),
                Retry if !f.aborted => Err(Na("only an aborted rollout can be retried")),
                Retry if f.fully_promoted => Err(Na("already fully promoted")),
                Undo if f.undo_target.is_none() => Err(Na("no previous revision")),
                _ => Ok(()),
            }
        }
        ReleaseKind::Deployment => match kind {
            Pause if f.spec_paused => Err(Na("already paused")),
            Resume if !f.spec_paused => Err(Na("not paused")),
            Undo if f.spec_paused => Err(Na("a paused deployment cannot be rolled back")),
            Undo if f.undo_target.is_none() => Err(Na("no previous revision")),
            Restart if f.spec_paused => Err(Na("a paused deployment cannot be restarted")),
            Promote | PromoteFull | Abort | Retry => Err(Na("not available for Deployments")),
            _ => Ok(()),
        },
        ReleaseKind::Canary => {
            let phase = f.flagger_phase.as_str();
            match kind {
                Pause if r.facts.spec_paused => Err(Na("already suspended")),
                Resume if !r.facts.spec_paused => Err(Na("not suspended")),
                PromoteFull if f.skip_analysis => Err(Na("analysis already skipped")),
                PromoteFull if !matches!(phase, "Progressing" | "Waiting" | "WaitingPromotion") => {
                    Err(Na("nothing in flight to promote"))
                }
                Undo if f.rollback_webhook.is_none() => {
                    Err(Na("no rollback webhook (loadtester) configured"))
                }
                Undo if !matches!(phase, "Progressing" | "Waiting" | "WaitingPromotion") => Err(
                    Na("Flagger cannot roll back after promotion: revert the target's spec"),
                ),
                Promote | Abort | Retry | Restart => Err(Na("not available for Flagger canaries")),
                _ => Ok(()),
            }
        }
    }
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

fn merge(resource: Resource, r: &Release, body: Value) -> ApiCall {
    let mut body = body;
    // Precondition: the write applies only to the resourceVersion the user saw.
    if let Some(obj) = body.as_object_mut() {
        obj.insert(
            "metadata".into(),
            json!({ "resourceVersion": r.resource_version }),
        );
    }
    ApiCall::Patch {
        resource,
        namespace: r.key.namespace.clone(),
        name: r.key.name.clone(),
        patch_type: PatchType::Merge,
        body,
    }
}

fn rollout_calls(kind: ActionKind, r: &Release, now: Timestamp) -> Vec<ApiCall> {
    use ActionKind::*;
    let f = &r.facts;
    let next_step = || {
        let i = f.current_step_index.unwrap_or(0).max(0) as u32 + 1;
        i.min(f.steps)
    };
    match kind {
        Pause => vec![merge(ROLLOUTS, r, json!({"spec": {"paused": true}}))],
        Resume => vec![merge(ROLLOUTS, r, json!({"spec": {"paused": false}}))],
        Promote => {
            if f.spec_paused {
                // Upstream sends both when a manual pause sits on top of a step pause; the
                // second patch follows the first, whose write moved the resourceVersion on.
                let mut calls = vec![merge(ROLLOUTS, r, json!({"spec": {"paused": false}}))];
                if f.pause_conditions {
                    calls.push(strip_rv(merge(
                        ROLLOUTS_STATUS,
                        r,
                        json!({"status": {"pauseConditions": null}}),
                    )));
                }
                calls
            } else if f.controller_pause && (!f.pause_conditions || inconclusive(r)) {
                vec![merge(
                    ROLLOUTS_STATUS,
                    r,
                    json!({"status": {"pauseConditions": null, "controllerPause": false, "currentStepIndex": next_step()}}),
                )]
            } else if f.pause_conditions {
                vec![merge(
                    ROLLOUTS_STATUS,
                    r,
                    json!({"status": {"pauseConditions": null}}),
                )]
            } else {
                vec![merge(
                    ROLLOUTS_STATUS,
                    r,
                    json!({"status": {"pauseConditions": null, "currentStepIndex": next_step()}}),
                )]
            }
        }
        PromoteFull => {
            let mut calls = Vec::new();
            if f.spec_paused {
                calls.push(merge(ROLLOUTS, r, json!({"spec": {"paused": false}})));
            }
            if !f.fully_promoted {
                let call = merge(ROLLOUTS_STATUS, r, json!({"status": {"promoteFull": true}}));
                // After the spec patch the resourceVersion moves on: the status patch is then
                // guarded by the executor re-reading it, so drop the stale precondition here.
                calls.push(if f.spec_paused { strip_rv(call) } else { call });
            }
            calls
        }
        Abort => vec![merge(
            ROLLOUTS_STATUS,
            r,
            json!({"status": {"abort": true}}),
        )],
        Retry => vec![merge(
            ROLLOUTS_STATUS,
            r,
            json!({"status": {"abort": false}}),
        )],
        Restart => vec![merge(
            ROLLOUTS,
            r,
            json!({"spec": {"restartAt": rfc3339(now)}}),
        )],
        Undo => undo_call(ROLLOUTS, r),
    }
}

/// Paused on an inconclusive analysis or experiment: promote must also step past it
/// (upstream promote.go), or the rollout stays stuck on that step.
fn inconclusive(r: &Release) -> bool {
    r.pause.as_ref().is_some_and(|p| {
        matches!(
            p.reason,
            PauseReason::InconclusiveAnalysisRun | PauseReason::InconclusiveExperiment
        )
    })
}

fn strip_rv(call: ApiCall) -> ApiCall {
    match call {
        ApiCall::Patch {
            resource,
            namespace,
            name,
            patch_type,
            mut body,
        } => {
            if let Some(obj) = body.as_object_mut() {
                obj.remove("metadata");
            }
            ApiCall::Patch {
                resource,
                namespace,
                name,
                patch_type,
                body,
            }
        }
        other => other,
    }
}

fn undo_call(resource: Resource, r: &Release) -> Vec<ApiCall> {
    match &r.facts.undo_target {
        Some((rs, revision)) => vec![ApiCall::RollbackTo {
            resource,
            namespace: r.key.namespace.clone(),
            name: r.key.name.clone(),
            replicaset: rs.clone(),
            revision: *revision,
            resource_version: r.resource_version.clone(),
        }],
        None => Vec::new(),
    }
}

fn rfc3339(now: Timestamp) -> String {
    now.strftime("%Y-%m-%dT%H:%M:%SZ").to_string()
}

fn deployment_calls(kind: ActionKind, r: &Release, now: Timestamp) -> Vec<ApiCall> {
    use ActionKind::*;
    match kind {
        Pause => vec![merge(DEPLOYMENTS, r, json!({"spec": {"paused": true}}))],
        Resume => vec![merge(DEPLOYMENTS, r, json!({"spec": {"paused": false}}))],
        Restart => vec![merge(
            DEPLOYMENTS,
            r,
            json!({"spec": {"template": {"metadata": {"annotations": {"kubectl.kubernetes.io/restartedAt": rfc3339(now)}}}}}),
        )],
        Undo => undo_call(DEPLOYMENTS, r),
        _ => Vec::new(),
    }
}

fn canary_calls(kind: ActionKind, r: &Release) -> Vec<ApiCall> {
    use ActionKind::*;
    match kind {
        Pause => vec![merge(CANARIES, r, json!({"spec": {"suspend": true}}))],
        Resume => vec![merge(CANARIES, r, json!({"spec": {"suspend": false}}))],
        PromoteFull => vec![merge(CANARIES, r, json!({"spec": {"skipAnalysis": true}}))],
        Undo => match r
            .facts
            .rollback_webhook
            .as_deref()
            .and_then(loadtester_service)
        {
            Some((service, namespace, port)) => vec![ApiCall::ProxyPost {
                namespace,
                service,
                port,
                path: "/rollback/open".into(),
                body: json!({"name": r.key.name, "namespace": r.key.namespace}),
            }],
            None => Vec::new(),
        },
        _ => Vec::new(),
    }
}

/// Parse a loadtester webhook URL like `http://flagger-loadtester.test:80/rollback/open`
/// (or `http://svc.ns.svc.cluster.local/...`) into (service, namespace, port).
pub fn loadtester_service(url: &str) -> Option<(String, String, String)> {
    let rest = url.strip_prefix("http://")?;
    let hostport = rest.split('/').next()?;
    let (host, port) = match hostport.split_once(':') {
        Some((h, p)) => (h, p.to_string()),
        None => (hostport, "80".to_string()),
    };
    let mut parts = host.split('.');
    let service = parts.next()?.to_string();
    let namespace = parts.next()?.to_string();
    if service.is_empty() || namespace.is_empty() {
        return None;
    }
    Some((service, namespace, port))
}

/// Build the plan for `kind` on `r`, or say why it is not possible.
pub fn plan(
    kind: ActionKind,
    r: &Release,
    cluster: &Cluster,
    read_only: bool,
    now: Timestamp,
) -> Result<ActionPlan, Disabled> {
    availability(kind, r, cluster, read_only)?;
    let calls = match r.key.kind {
        ReleaseKind::Rollout => rollout_calls(kind, r, now),
        ReleaseKind::Deployment => deployment_calls(kind, r, now),
        ReleaseKind::Canary => canary_calls(kind, r),
    };
    if calls.is_empty() {
        return Err(Disabled::NotApplicable("nothing to send"));
    }
    let mut notes = Vec::new();
    if kind == ActionKind::Abort {
        notes.push("Abort sets the canary weight to 0 and returns to step 0; the template still holds the new version — a full revert also needs undo (u).".into());
    }
    if r.key.kind == ReleaseKind::Canary && kind == ActionKind::PromoteFull {
        notes.push(
            "Flagger skips the analysis; it still rolls back on the progress deadline.".into(),
        );
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
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::facts::{CanaryFacts, ObjectMeta, PauseCondition, RolloutFacts};
    use crate::core::status::{self, Ctx};

    fn ctx() -> Ctx<'static> {
        Ctx {
            cluster: "a",
            service_label: "app.kubernetes.io/name",
            service_override: None,
        }
    }

    fn paused_rollout(reason: PauseReason) -> Release {
        let facts = RolloutFacts {
            meta: ObjectMeta {
                namespace: "shop".into(),
                name: "web".into(),
                uid: "u1".into(),
                resource_version: "7".into(),
                ..ObjectMeta::default()
            },
            strategy: "canary".into(),
            steps: vec![
                crate::core::facts::CanaryStep::SetWeight(20),
                crate::core::facts::CanaryStep::Analysis(vec!["ok".into()]),
                crate::core::facts::CanaryStep::SetWeight(50),
            ],
            controller_pause: true,
            pause_conditions: vec![PauseCondition {
                reason,
                start_time: None,
            }],
            current_step_index: Some(1),
            current_pod_hash: "new".into(),
            stable_rs: "old".into(),
            ..RolloutFacts::default()
        };
        status::rollout(&ctx(), &facts, &[])
    }

    fn body(plan: &ActionPlan) -> &Value {
        match &plan.calls[0] {
            ApiCall::Patch { body, .. } => body,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn promote_on_a_step_pause_only_clears_the_conditions() {
        let r = paused_rollout(PauseReason::CanaryPauseStep);
        let p = plan(
            ActionKind::Promote,
            &r,
            &Cluster::new("a"),
            false,
            Timestamp::UNIX_EPOCH,
        )
        .unwrap();
        assert_eq!(
            body(&p),
            &json!({"status": {"pauseConditions": null}, "metadata": {"resourceVersion": "7"}})
        );
    }

    #[test]
    fn promote_on_an_inconclusive_analysis_steps_past_it() {
        let r = paused_rollout(PauseReason::InconclusiveAnalysisRun);
        let p = plan(
            ActionKind::Promote,
            &r,
            &Cluster::new("a"),
            false,
            Timestamp::UNIX_EPOCH,
        )
        .unwrap();
        assert_eq!(
            body(&p),
            &json!({"status": {"pauseConditions": null, "controllerPause": false, "currentStepIndex": 2},
                    "metadata": {"resourceVersion": "7"}})
        );
    }

    #[test]
    fn loadtester_post_needs_create_on_services_proxy() {
        let facts = CanaryFacts {
            meta: ObjectMeta {
                namespace: "shop".into(),
                name: "web".into(),
                ..ObjectMeta::default()
            },
            phase: "Progressing".into(),
            rollback_webhook: Some("http://flagger-loadtester.test:80/rollback/check".into()),
            ..CanaryFacts::default()
        };
        let r = status::canary(&ctx(), &facts);
        let p = plan(
            ActionKind::Undo,
            &r,
            &Cluster::new("a"),
            false,
            Timestamp::UNIX_EPOCH,
        )
        .unwrap();
        assert_eq!(p.calls[0].rbac(), ("create", "services/proxy".to_string()));
    }
}
