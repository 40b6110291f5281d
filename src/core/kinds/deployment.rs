//! apps/v1 Deployment as a release: its facts, status per `kubectl rollout status`, which
//! actions apply (kubectl's rules) and the exact requests, and the RBAC they need. Pure; no
//! IO. Must not touch other kinds' rules.

use jiff::Timestamp;
use serde_json::json;

use super::request::{merge, resource, rfc3339, undo};
use super::{Kind, Need, ReleaseKind};
use crate::core::action::{ActionKind, ApiCall, Disabled, Resource};
use crate::core::facts::{Condition, ObjectMeta, ReplicaSetFacts, condition};
use crate::core::model::{ActionFacts, HumanWait, Phase, Release, Strategy};
use crate::core::status::{Ctx, base, owned, previous_revision, revisions};
use crate::core::text::Untrusted;

pub const DEPLOYMENTS: Resource = resource(Kind::Deployment, None);

/// `spec.strategy.type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum DeploymentStrategy {
    #[default]
    RollingUpdate,
    Recreate,
}

impl DeploymentStrategy {
    /// As the API writes it; anything but `Recreate` rolls.
    pub fn parse(s: &str) -> Self {
        if s == "Recreate" {
            Self::Recreate
        } else {
            Self::RollingUpdate
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::RollingUpdate => "RollingUpdate",
            Self::Recreate => "Recreate",
        }
    }
}

impl From<&str> for DeploymentStrategy {
    fn from(s: &str) -> Self {
        Self::parse(s)
    }
}

/// apps/v1 Deployment.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct DeploymentFacts {
    pub meta: ObjectMeta,
    pub replicas: i32,
    pub paused: bool,
    pub strategy: DeploymentStrategy,
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

pub const NEEDS: &[Need] = &[Need {
    verb: "patch",
    resource: "deployments",
    group: DEPLOYMENTS.group,
    who: "Deployment",
    actions: &[
        ActionKind::Pause,
        ActionKind::Resume,
        ActionKind::Restart,
        ActionKind::Undo,
    ],
    how: "",
    with_webhook: false,
}];

pub const SUPPORTS: &[ActionKind] = &[
    ActionKind::Pause,
    ActionKind::Resume,
    ActionKind::Undo,
    ActionKind::Restart,
];

pub const NOT_AVAILABLE: &str = "not available for Deployments";

/// Progress per `kubectl rollout status`, plus paused and failed.
pub fn phase(d: &DeploymentFacts) -> (Phase, String) {
    let deadline = condition(&d.conditions, "Progressing")
        .is_some_and(|c| c.reason == "ProgressDeadlineExceeded");
    if d.observed_generation
        .is_some_and(|og| d.meta.generation > og)
    {
        return (
            Phase::Progressing,
            "waiting for deployment spec update to be observed".into(),
        );
    }
    if deadline {
        return (
            Phase::Degraded,
            format!(
                "deployment {:?} exceeded its progress deadline",
                d.meta.name
            ),
        );
    }
    if d.paused {
        return (Phase::Paused, "deployment is paused".into());
    }
    if d.updated_replicas < d.replicas {
        return (
            Phase::Progressing,
            format!(
                "{} out of {} new replicas have been updated",
                d.updated_replicas, d.replicas
            ),
        );
    }
    if d.status_replicas > d.updated_replicas {
        return (
            Phase::Progressing,
            format!(
                "{} old replicas are pending termination",
                i64::from(d.status_replicas) - i64::from(d.updated_replicas)
            ),
        );
    }
    if d.available_replicas < d.updated_replicas {
        return (
            Phase::Progressing,
            format!(
                "{} of {} updated replicas are available",
                d.available_replicas, d.updated_replicas
            ),
        );
    }
    (Phase::Healthy, "successfully rolled out".into())
}

pub fn derive(ctx: &Ctx<'_>, d: &DeploymentFacts, replicasets: &[&ReplicaSetFacts]) -> Release {
    let strategy = match d.strategy {
        DeploymentStrategy::Recreate => Strategy::Recreate,
        DeploymentStrategy::RollingUpdate => Strategy::RollingUpdate,
    };
    let mut rel = base(ctx, ReleaseKind::Deployment, &d.meta, strategy);
    let (phase, message) = phase(d);
    rel.phase = phase;
    // A paused Deployment stays paused until someone resumes it.
    rel.needs_human = (phase == Phase::Paused && d.paused).then_some(HumanWait::ManualPause);
    rel.message = match (phase, condition(&d.conditions, "Progressing")) {
        (Phase::Degraded, Some(c)) if !c.message.is_empty() => c.message.clone(),
        _ => Untrusted::new(message),
    };
    let owned: Vec<&ReplicaSetFacts> = owned(&d.meta.uid, replicasets).collect();
    let current_revision = d
        .meta
        .annotations
        .get("deployment.kubernetes.io/revision")
        .and_then(|v| v.parse().ok());
    let current_hash = owned
        .iter()
        .find(|rs| rs.revision.is_some() && rs.revision == current_revision)
        .map(|rs| rs.pod_template_hash.clone())
        .unwrap_or_default();
    rel.revisions = revisions(&owned, &current_hash, "");
    rel.images = d.images.clone();
    rel.replicas = (d.available_replicas, d.replicas);
    rel.since = d
        .conditions
        .iter()
        .filter_map(|c| c.last_transition)
        .max()
        .or(d.meta.created);
    rel.facts = ActionFacts {
        spec_paused: d.paused,
        undo_target: previous_revision(&owned),
        current_revision,
        ..ActionFacts::default()
    };
    rel
}

/// kubectl's rules, for the actions in `SUPPORTS`.
pub fn rules(action: ActionKind, r: &Release) -> Result<(), Disabled> {
    use ActionKind::*;
    use Disabled::NotApplicable as Na;
    let f = &r.facts;
    match action {
        Pause if f.spec_paused => Err(Na("already paused")),
        Resume if !f.spec_paused => Err(Na("not paused")),
        Undo if f.spec_paused => Err(Na("a paused deployment cannot be rolled back")),
        Undo if f.undo_target.is_none() => Err(Na("no previous revision")),
        Restart if f.spec_paused => Err(Na("a paused deployment cannot be restarted")),
        _ => Ok(()),
    }
}

/// The exact requests (empty for an action not in `SUPPORTS`).
pub fn calls(action: ActionKind, r: &Release, now: Timestamp) -> Vec<ApiCall> {
    use ActionKind::*;
    match action {
        Pause => vec![merge(DEPLOYMENTS, r, json!({"spec": {"paused": true}}))],
        Resume => vec![merge(DEPLOYMENTS, r, json!({"spec": {"paused": false}}))],
        Restart => vec![merge(
            DEPLOYMENTS,
            r,
            json!({"spec": {"template": {"metadata": {"annotations": {"kubectl.kubernetes.io/restartedAt": rfc3339(now)}}}}}),
        )],
        Undo => undo(DEPLOYMENTS, r),
        Promote | PromoteFull | Abort | Retry => Vec::new(),
    }
}
