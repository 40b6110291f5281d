//! apps/v1 Deployment as a release: its facts, status per `kubectl rollout status`, which
//! actions apply (kubectl's rules) and the exact requests, and the RBAC they need. Pure; no
//! IO. Must not touch other kinds' rules.

use jiff::Timestamp;
use serde_json::json;

use super::request::{merge, resource, rfc3339, undo};
use super::{Kind, Need, ReleaseKind};
use crate::core::action::{ActionKind, ApiCall, Disabled, Resource};
use crate::core::facts::{Condition, ObjectMeta, ReplicaSetFacts, condition};
use crate::core::model::{ActionFacts, HumanWait, Phase, Release, Revision, RsRole, Strategy};
use crate::core::status::{Ctx, base, owned, previous_revision};
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
    /// Digest of `spec.template` (0: not known), compared with its ReplicaSets'
    /// [`ReplicaSetFacts::template_digest`] to find the new one.
    pub template_digest: u64,
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

/// What `kubectl rollout status --watch=false` reports, inside its frame: kubectl prints
/// `Waiting for deployment "NAME" rollout to finish: MESSAGE...` while waiting,
/// `deployment "NAME" MESSAGE` when done, and fails with `deployment "NAME" MESSAGE` when the
/// progress deadline passed; the name is the row's, so the console keeps the message only.
/// `Done` is kubectl's exit 0 with the rollout finished.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RolloutStatus {
    /// Generation not observed yet (kubectl: `Waiting for deployment spec update to be
    /// observed...`, no name).
    SpecNotObserved,
    Waiting(String),
    Done,
    DeadlineExceeded,
}

impl RolloutStatus {
    /// kubectl's message without its frame.
    pub fn message(&self) -> String {
        match self {
            Self::SpecNotObserved => "Waiting for deployment spec update to be observed".into(),
            Self::Waiting(m) => m.clone(),
            Self::Done => "successfully rolled out".into(),
            Self::DeadlineExceeded => "exceeded its progress deadline".into(),
        }
    }
}

/// kubectl's rollout status (pkg/kubectl/polymorphichelpers/rollout_status.go, in its order;
/// kubectl does not look at `spec.paused`).
pub fn rollout_status(d: &DeploymentFacts) -> RolloutStatus {
    if d.observed_generation
        .is_some_and(|og| d.meta.generation > og)
    {
        return RolloutStatus::SpecNotObserved;
    }
    if condition(&d.conditions, "Progressing")
        .is_some_and(|c| c.reason == "ProgressDeadlineExceeded")
    {
        return RolloutStatus::DeadlineExceeded;
    }
    if d.updated_replicas < d.replicas {
        return RolloutStatus::Waiting(format!(
            "{} out of {} new replicas have been updated",
            d.updated_replicas, d.replicas
        ));
    }
    if d.status_replicas > d.updated_replicas {
        return RolloutStatus::Waiting(format!(
            "{} old replicas are pending termination",
            i64::from(d.status_replicas) - i64::from(d.updated_replicas)
        ));
    }
    if d.available_replicas < d.updated_replicas {
        return RolloutStatus::Waiting(format!(
            "{} of {} updated replicas are available",
            d.available_replicas, d.updated_replicas
        ));
    }
    RolloutStatus::Done
}

/// The console's phase and kubectl's message: failed past the progress deadline, paused
/// while `spec.paused` (the message still says where the rollout stands), progressing until
/// kubectl says done.
pub fn phase(d: &DeploymentFacts) -> (Phase, String) {
    let status = rollout_status(d);
    let phase = match status {
        RolloutStatus::DeadlineExceeded => Phase::Degraded,
        RolloutStatus::SpecNotObserved => Phase::Progressing,
        _ if d.paused => Phase::Paused,
        RolloutStatus::Done => Phase::Healthy,
        RolloutStatus::Waiting(_) => Phase::Progressing,
    };
    (phase, status.message())
}

/// kubectl's new ReplicaSet (deploymentutil.FindNewReplicaSet): the oldest owned one whose
/// pod template is the Deployment's, ignoring `pod-template-hash`. A paused Deployment whose
/// template changed has none. Without template digests (a source that cannot tell), the one
/// at the Deployment's revision.
pub fn new_replicaset<'a>(
    d: &DeploymentFacts,
    owned: &[&'a ReplicaSetFacts],
) -> Option<&'a ReplicaSetFacts> {
    let mut candidates: Vec<&ReplicaSetFacts> =
        if d.template_digest != 0 && owned.iter().all(|rs| rs.template_digest != 0) {
            owned
                .iter()
                .copied()
                .filter(|rs| rs.template_digest == d.template_digest)
                .collect()
        } else {
            let revision = current_revision(d);
            owned
                .iter()
                .copied()
                .filter(|rs| rs.revision.is_some() && rs.revision == revision)
                .collect()
        };
    candidates.sort_by(|a, b| (a.meta.created, &a.meta.name).cmp(&(b.meta.created, &b.meta.name)));
    candidates.first().copied()
}

fn current_revision(d: &DeploymentFacts) -> Option<i64> {
    d.meta
        .annotations
        .get("deployment.kubernetes.io/revision")
        .and_then(|v| v.parse().ok())
}

/// Owned ReplicaSets, newest first, with their roles: the new one is stable once kubectl
/// says the rollout is done, and new before; while it is not done, the old ones that still
/// have pods are the stable (serving) ones; the rest are old.
pub fn replicaset_roles(
    d: &DeploymentFacts,
    owned: &[&ReplicaSetFacts],
    done: bool,
) -> Vec<Revision> {
    let new = new_replicaset(d, owned).map(|rs| rs.meta.name.as_str());
    let mut out: Vec<Revision> = owned
        .iter()
        .map(|rs| {
            let role = match (Some(rs.meta.name.as_str()) == new, done) {
                (true, true) => RsRole::Stable,
                (true, false) => RsRole::New,
                (false, false) if rs.replicas > 0 => RsRole::Stable,
                (false, _) => RsRole::Old,
            };
            Revision {
                name: rs.meta.name.clone(),
                revision: rs.revision,
                role,
                blue_green: None,
                images: rs.images.clone(),
                ready: rs.ready_replicas,
                desired: rs.replicas,
                info: crate::core::revisions::RevisionInfo::of(rs),
            }
        })
        .collect();
    out.sort_by_key(|r| std::cmp::Reverse(r.revision.unwrap_or(0)));
    out
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
    rel.message = Untrusted::new(message);
    let owned: Vec<&ReplicaSetFacts> = owned(&d.meta.uid, replicasets).collect();
    let done = rollout_status(d) == RolloutStatus::Done;
    rel.revisions = replicaset_roles(d, &owned, done);
    crate::core::revisions::annotate(&mut rel.revisions, d.meta.template_manager.as_deref());
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
        current_revision: current_revision(d),
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
        Promote | PromoteFull | Abort | Retry | Terminate | Sync | Refresh => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::testkit::{deployment, meta, replicaset_of};

    fn ctx() -> Ctx<'static> {
        Ctx {
            cluster: "a",
            service_label: "app.kubernetes.io/name",
            service_override: None,
        }
    }

    /// `web` at revision `rev` with `replicas`, template digest `digest`, status counts
    /// (replicas, updated, available).
    fn web(rev: i64, replicas: i32, digest: u64, status: (i32, i32, i32)) -> DeploymentFacts {
        let mut d = deployment("ns", "web", false);
        d.meta
            .annotations
            .insert("deployment.kubernetes.io/revision".into(), rev.to_string());
        d.replicas = replicas;
        d.template_digest = digest;
        (d.status_replicas, d.updated_replicas, d.available_replicas) = status;
        d.ready_replicas = status.2;
        d
    }

    /// A ReplicaSet of `web` at `rev` with `desired` pods of which `ready` are ready.
    fn rs(rev: i64, digest: u64, desired: i32, ready: i32, created: i64) -> ReplicaSetFacts {
        let mut m = meta("ns", &format!("web-{rev}"), "1");
        m.created = Some(crate::core::testkit::t(created));
        let mut r = replicaset_of(m, "uid-ns-web", &format!("h{rev}"), rev, "img", desired);
        (r.ready_replicas, r.available_replicas) = (ready, ready);
        r.owner_kind = "Deployment".into();
        r.template_digest = digest;
        r
    }

    fn roles(rel: &Release) -> Vec<(Option<i64>, RsRole)> {
        rel.revisions.iter().map(|r| (r.revision, r.role)).collect()
    }

    fn deadline(d: &mut DeploymentFacts) {
        d.conditions = vec![Condition {
            type_: "Progressing".into(),
            status: "False".into(),
            reason: "ProgressDeadlineExceeded".into(),
            message: Untrusted::new("ReplicaSet \"web-2\" has timed out progressing."),
            last_transition: None,
        }];
    }

    #[test]
    fn a_failing_new_replicaset_is_new_and_the_old_one_still_serving_is_stable() {
        let mut d = web(2, 2, 22, (3, 1, 2));
        deadline(&mut d);
        let (new, old) = (rs(2, 22, 1, 0, 10), rs(1, 11, 2, 2, 0));
        let rel = derive(&ctx(), &d, &[&old, &new]);
        assert_eq!(rel.phase, Phase::Degraded);
        assert_eq!(rel.message.raw(), "exceeded its progress deadline");
        assert_eq!(
            roles(&rel),
            [(Some(2), RsRole::New), (Some(1), RsRole::Stable)]
        );
    }

    #[test]
    fn once_kubectl_says_done_the_new_replicaset_is_stable_and_the_rest_old() {
        let d = web(2, 2, 22, (2, 2, 2));
        let (new, old) = (rs(2, 22, 2, 2, 10), rs(1, 11, 0, 0, 0));
        let rel = derive(&ctx(), &d, &[&old, &new]);
        assert_eq!(rel.phase, Phase::Healthy);
        assert_eq!(rel.message.raw(), "successfully rolled out");
        assert_eq!(
            roles(&rel),
            [(Some(2), RsRole::Stable), (Some(1), RsRole::Old)]
        );
        // Scaled to zero: still done, the new (empty) one is stable.
        let zero = web(2, 0, 22, (0, 0, 0));
        let (new, old) = (rs(2, 22, 0, 0, 10), rs(1, 11, 0, 0, 0));
        let rel = derive(&ctx(), &zero, &[&old, &new]);
        assert_eq!(
            (rel.phase, rel.message.raw()),
            (Phase::Healthy, "successfully rolled out")
        );
        assert_eq!(roles(&rel)[0], (Some(2), RsRole::Stable));
    }

    #[test]
    fn a_paused_deployment_whose_template_changed_has_no_new_replicaset_yet() {
        // The controller keeps the revision at 1 and makes no ReplicaSet while paused.
        let mut d = web(1, 2, 22, (2, 0, 2));
        d.paused = true;
        let old = rs(1, 11, 2, 2, 0);
        let rel = derive(&ctx(), &d, &[&old]);
        assert_eq!(rel.phase, Phase::Paused);
        assert_eq!(
            rel.message.raw(),
            "0 out of 2 new replicas have been updated"
        );
        assert_eq!(new_replicaset(&d, &[&old]), None);
        assert_eq!(roles(&rel), [(Some(1), RsRole::Stable)]);
        // Without digests the revision decides (and would call it new).
        let (mut d0, mut old0) = (d.clone(), old.clone());
        (d0.template_digest, old0.template_digest) = (0, 0);
        assert_eq!(
            new_replicaset(&d0, &[&old0]).map(|r| r.meta.name.as_str()),
            Some("web-1")
        );
    }

    #[test]
    fn the_oldest_replicaset_with_the_template_is_the_new_one() {
        let d = web(3, 2, 22, (2, 2, 2));
        let (a, b) = (rs(3, 22, 2, 2, 5), rs(2, 22, 0, 0, 1));
        assert_eq!(
            new_replicaset(&d, &[&a, &b]).map(|r| r.meta.name.as_str()),
            Some("web-2")
        );
    }

    #[test]
    fn rollout_status_follows_kubectls_order_and_words() {
        let mut d = web(2, 4, 22, (5, 2, 2));
        assert_eq!(
            rollout_status(&d),
            RolloutStatus::Waiting("2 out of 4 new replicas have been updated".into())
        );
        d.updated_replicas = 4;
        assert_eq!(
            rollout_status(&d).message(),
            "1 old replicas are pending termination"
        );
        d.status_replicas = 4;
        assert_eq!(
            rollout_status(&d).message(),
            "2 of 4 updated replicas are available"
        );
        d.available_replicas = 4;
        assert_eq!(rollout_status(&d), RolloutStatus::Done);
        deadline(&mut d);
        assert_eq!(rollout_status(&d), RolloutStatus::DeadlineExceeded);
        d.meta.generation = 9;
        assert_eq!(
            phase(&d),
            (
                Phase::Progressing,
                "Waiting for deployment spec update to be observed".into()
            )
        );
    }
}
