//! flagger.app/v1beta1 Canary as a release: its facts, status from Flagger's own phase,
//! which actions apply (Flagger's phases) and the exact requests (spec patches, rollback
//! through the loadtester), and the RBAC they need. Pure; no IO. Must not touch other kinds'
//! rules.

use jiff::Timestamp;
use serde::Serialize;
use serde_json::json;

use super::deployment::{self, DeploymentFacts};
use super::request::{merge, resource};
use super::{Kind, Need, ReleaseKind};
use crate::core::action::{ActionKind, ApiCall, Disabled, Resource};
use crate::core::facts::{AnalysisPhase, ObjectMeta, ReplicaSetFacts};
use crate::core::model::{
    ActionFacts, Analysis, HumanWait, Phase, Release, Revision, RsRole, Strategy,
};
use crate::core::status::{Ctx, base, owned};
use crate::core::text::Untrusted;

pub const CANARIES: Resource = resource(Kind::Canary, None);

/// `status.phase` as Flagger writes it; an empty phase is Flagger still initialising.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum FlaggerPhase {
    #[default]
    Initializing,
    Initialized,
    Waiting,
    Progressing,
    WaitingPromotion,
    Promoting,
    Finalising,
    Succeeded,
    Failed,
    Terminating,
    Terminated,
    /// A phase this console does not know (shown as written).
    Other(String),
}

impl FlaggerPhase {
    pub fn parse(s: &str) -> Self {
        match s {
            "" | "Initializing" => Self::Initializing,
            "Initialized" => Self::Initialized,
            "Waiting" => Self::Waiting,
            "Progressing" => Self::Progressing,
            "WaitingPromotion" => Self::WaitingPromotion,
            "Promoting" => Self::Promoting,
            "Finalising" => Self::Finalising,
            "Succeeded" => Self::Succeeded,
            "Failed" => Self::Failed,
            "Terminating" => Self::Terminating,
            "Terminated" => Self::Terminated,
            other => Self::Other(other.to_string()),
        }
    }

    pub fn as_str(&self) -> &str {
        match self {
            Self::Initializing => "Initializing",
            Self::Initialized => "Initialized",
            Self::Waiting => "Waiting",
            Self::Progressing => "Progressing",
            Self::WaitingPromotion => "WaitingPromotion",
            Self::Promoting => "Promoting",
            Self::Finalising => "Finalising",
            Self::Succeeded => "Succeeded",
            Self::Failed => "Failed",
            Self::Terminating => "Terminating",
            Self::Terminated => "Terminated",
            Self::Other(s) => s,
        }
    }

    /// The console's phase (waiting for a human shows as Paused).
    pub fn phase(&self) -> Phase {
        match self {
            Self::Failed => Phase::Degraded,
            Self::Waiting | Self::WaitingPromotion => Phase::Paused,
            Self::Succeeded | Self::Initialized | Self::Terminated => Phase::Healthy,
            Self::Initializing
            | Self::Progressing
            | Self::Promoting
            | Self::Finalising
            | Self::Terminating
            | Self::Other(_) => Phase::Progressing,
        }
    }

    /// An analysis is in flight: something to promote or roll back.
    pub fn in_flight(&self) -> bool {
        matches!(
            self,
            Self::Progressing | Self::Waiting | Self::WaitingPromotion
        )
    }
}

impl From<&str> for FlaggerPhase {
    fn from(s: &str) -> Self {
        Self::parse(s)
    }
}

impl From<String> for FlaggerPhase {
    fn from(s: String) -> Self {
        Self::parse(&s)
    }
}

impl PartialEq<&str> for FlaggerPhase {
    fn eq(&self, other: &&str) -> bool {
        *self == Self::parse(other)
    }
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
    pub phase: FlaggerPhase,
    pub canary_weight: u32,
    pub failed_checks: u32,
    pub iterations: u32,
    pub last_transition: Option<Timestamp>,
    pub message: Untrusted,
    /// Loadtester URL from a `rollback` webhook, if one is configured.
    pub rollback_webhook: Option<String>,
}

pub const NEEDS: &[Need] = &[
    Need {
        verb: "patch",
        resource: "canaries",
        group: CANARIES.group,
        who: "Flagger",
        actions: &[
            ActionKind::Pause,
            ActionKind::Resume,
            ActionKind::PromoteFull,
        ],
        how: "",
        with_webhook: false,
    },
    Need {
        verb: "create",
        resource: "services/proxy",
        group: "",
        who: "Flagger",
        actions: &[ActionKind::Undo],
        how: "(rollback through the loadtester)",
        with_webhook: true,
    },
];

pub const SUPPORTS: &[ActionKind] = &[
    ActionKind::Pause,
    ActionKind::Resume,
    ActionKind::PromoteFull,
    ActionKind::Undo,
];

pub const NOT_AVAILABLE: &str = "not available for Flagger canaries";

/// The Canary on its own: phase, weight, checks (no Deployments known).
pub fn derive(ctx: &Ctx<'_>, c: &CanaryFacts) -> Release {
    let mut rel = base(ctx, ReleaseKind::Canary, &c.meta, Strategy::Progressive);
    let phase = c.phase.phase();
    rel.phase = if c.suspend && phase == Phase::Progressing {
        Phase::Paused
    } else {
        phase
    };
    rel.needs_human = needs_human(c, rel.phase);
    let mut message = c.phase.as_str().to_string();
    if c.suspend {
        message.push_str(" (suspended)");
    }
    if !c.message.is_empty() {
        message.push_str(": ");
        message.push_str(c.message.raw());
    }
    rel.message = Untrusted::new(message);
    rel.set_weight = Some(c.canary_weight);
    rel.actual_weight = Some(c.canary_weight);
    if let (Some(step), Some(max)) = (c.step_weight, c.max_weight)
        && step > 0
    {
        let steps = max.div_ceil(step);
        rel.step = Some(((c.canary_weight / step).min(steps), steps));
    }
    let failed = c.phase == FlaggerPhase::Failed;
    if c.failed_checks > 0 || failed || c.phase == FlaggerPhase::Progressing {
        let phase = if failed {
            AnalysisPhase::Failed
        } else if c.failed_checks > 0 {
            AnalysisPhase::Inconclusive
        } else {
            AnalysisPhase::Running
        };
        rel.analysis = Some(Analysis {
            name: format!("checks {} failed", c.failed_checks),
            phase,
            message: Untrusted::new(format!(
                "{} failed checks (threshold {})",
                c.failed_checks,
                c.threshold.map_or("?".into(), |t| t.to_string())
            )),
        });
    }
    rel.since = c.last_transition.or(c.meta.created);
    rel.failed_checks = Some(c.failed_checks);
    rel.facts = ActionFacts {
        spec_paused: c.suspend,
        flagger_phase: c.phase.clone(),
        rollback_webhook: c.rollback_webhook.clone(),
        skip_analysis: c.skip_analysis,
        ..ActionFacts::default()
    };
    rel
}

/// Does this paused Canary wait on a person? A closed confirm-rollout gate (Waiting), a
/// closed confirm-promotion gate (WaitingPromotion) or a suspended analysis does.
pub fn needs_human(c: &CanaryFacts, phase: Phase) -> Option<HumanWait> {
    if phase != Phase::Paused {
        return None;
    }
    match c.phase {
        FlaggerPhase::Waiting => Some(HumanWait::RolloutGate),
        FlaggerPhase::WaitingPromotion => Some(HumanWait::PromotionGate),
        _ if c.suspend => Some(HumanWait::ManualPause),
        _ => None,
    }
}

/// The name of the Deployment `spec.targetRef` names (`Deployment/NAME`, or a bare name);
/// None for another kind (a DaemonSet target has no ReplicaSets).
pub fn target_deployment(c: &CanaryFacts) -> Option<&str> {
    match c.target.split_once('/') {
        Some(("Deployment", name)) => Some(name),
        Some(_) => None,
        None => Some(c.target.as_str()),
    }
    .filter(|n| !n.is_empty())
}

/// The Deployment Flagger makes to serve while the target is analysed.
pub fn primary_name(target: &str) -> String {
    format!("{target}-primary")
}

/// The Canary joined with the Deployments Flagger runs it with (already watched as
/// Deployments, with their ReplicaSets): the target (the version under test, its current
/// ReplicaSet the canary) and `<target>-primary` (what serves, its current ReplicaSet the
/// stable one). Images are the target's; replicas count the pods of both.
pub fn derive_joined(
    ctx: &Ctx<'_>,
    c: &CanaryFacts,
    deployments: &[&DeploymentFacts],
    replicasets: &[&ReplicaSetFacts],
) -> Release {
    let mut rel = derive(ctx, c);
    let Some(target) = target_deployment(c) else {
        return rel;
    };
    let primary = primary_name(target);
    let find = |name: &str| {
        deployments
            .iter()
            .copied()
            .find(|d| d.meta.name == name && d.meta.namespace == c.meta.namespace)
    };
    let mut replicas = (0, 0);
    for (d, role) in [
        (find(target), RsRole::Canary),
        (find(&primary), RsRole::Stable),
    ] {
        let Some(d) = d else { continue };
        rel.workloads.push(d.meta.name.clone());
        replicas.0 += d.available_replicas;
        replicas.1 += d.replicas;
        if role == RsRole::Canary {
            rel.images = d.images.clone();
        }
        let owned: Vec<&ReplicaSetFacts> = owned(&d.meta.uid, replicasets).collect();
        if let Some(rs) = deployment::new_replicaset(d, &owned) {
            rel.revisions.push(Revision {
                name: rs.meta.name.clone(),
                revision: rs.revision,
                role,
                blue_green: None,
                images: rs.images.clone(),
                ready: rs.ready_replicas,
                desired: rs.replicas,
                info: crate::core::revisions::RevisionInfo::of(rs),
            });
        }
    }
    rel.replicas = replicas;
    rel
}

/// The modal's caveat for an action.
pub fn note(action: ActionKind) -> Option<&'static str> {
    (action == ActionKind::PromoteFull)
        .then_some("Flagger skips the analysis; it still rolls back on the progress deadline.")
}

/// Flagger's rules, for the actions in `SUPPORTS`.
pub fn rules(action: ActionKind, r: &Release) -> Result<(), Disabled> {
    use ActionKind::*;
    use Disabled::NotApplicable as Na;
    let f = &r.facts;
    let in_flight = f.flagger_phase.in_flight();
    match action {
        Pause if f.spec_paused => Err(Na("already suspended")),
        Resume if !f.spec_paused => Err(Na("not suspended")),
        PromoteFull if f.skip_analysis => Err(Na("analysis already skipped")),
        PromoteFull if !in_flight => Err(Na("nothing in flight to promote")),
        Undo if f.rollback_webhook.is_none() => {
            Err(Na("no rollback webhook (loadtester) configured"))
        }
        Undo if !in_flight => Err(Na(
            "Flagger cannot roll back after promotion: revert the target's spec",
        )),
        _ => Ok(()),
    }
}

/// The exact requests (empty for an action not in `SUPPORTS`).
pub fn calls(action: ActionKind, r: &Release) -> Vec<ApiCall> {
    use ActionKind::*;
    match action {
        Pause => vec![merge(CANARIES, r, json!({"spec": {"suspend": true}}))],
        Resume => vec![merge(CANARIES, r, json!({"spec": {"suspend": false}}))],
        PromoteFull => vec![merge(CANARIES, r, json!({"spec": {"skipAnalysis": true}}))],
        Undo => match r.facts.rollback_webhook.as_deref() {
            Some(webhook) => match Loadtester::parse(webhook) {
                Some(to) => vec![ApiCall::LoadtesterPost {
                    to,
                    path: "/rollback/open".into(),
                    body: json!({"name": r.key.name, "namespace": r.key.namespace}),
                    canary: CanarySeen {
                        namespace: r.key.namespace.clone(),
                        name: r.key.name.clone(),
                        uid: r.uid.clone(),
                        phase: r.facts.flagger_phase.as_str().to_string(),
                        webhook: webhook.to_string(),
                    },
                }],
                None => Vec::new(),
            },
            None => Vec::new(),
        },
        Promote | Abort | Retry | Restart => Vec::new(),
    }
}

/// The Canary a loadtester call is for, as the user saw it: the target re-reads the Canary
/// and compares these before it posts anything.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CanarySeen {
    pub namespace: String,
    pub name: String,
    pub uid: String,
    pub phase: String,
    /// The `rollback` webhook's URL (where Flagger checks the gate).
    pub webhook: String,
}

/// Where a loadtester webhook points: a Service (reached through the API server's service
/// proxy, with the operator's credentials) or a plain address (an IP or `localhost`, posted
/// to directly; only ever used when it is the cluster's configured loadtester).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Loadtester {
    Service {
        namespace: String,
        service: String,
        port: String,
    },
    Url {
        /// `http://host:port`, no path.
        base: String,
    },
}

impl Loadtester {
    /// Parse a webhook URL like `http://flagger-loadtester.test:80/rollback/open` (or
    /// `http://svc.ns.svc.cluster.local/...`, or `http://127.0.0.1:8080/...`). A bare host
    /// (`http://svc/...`) names no namespace: None.
    pub fn parse(url: &str) -> Option<Loadtester> {
        let rest = url.strip_prefix("http://")?;
        let hostport = rest.split('/').next()?;
        let (host, port) = match hostport.split_once(':') {
            Some((h, p)) => (h, p),
            None => (hostport, "80"),
        };
        if host.is_empty() || port.is_empty() || !port.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        if host == "localhost" || host.parse::<std::net::IpAddr>().is_ok() {
            return Some(Loadtester::Url {
                base: format!("http://{host}:{port}"),
            });
        }
        let mut parts = host.split('.');
        let service = parts.next()?.to_string();
        let namespace = parts.next()?.to_string();
        if service.is_empty() || namespace.is_empty() {
            return None;
        }
        Some(Loadtester::Service {
            namespace,
            service,
            port: port.to_string(),
        })
    }

    /// The namespace of a Service address (None for a plain address).
    pub fn namespace(&self) -> Option<&str> {
        match self {
            Self::Service { namespace, .. } => Some(namespace),
            Self::Url { .. } => None,
        }
    }

    /// `service <ns>/<svc>:<port>` or the address, for messages.
    pub fn describe(&self) -> String {
        match self {
            Self::Service {
                namespace,
                service,
                port,
            } => format!("service {namespace}/{service}:{port}"),
            Self::Url { base } => base.clone(),
        }
    }
}

/// (service, namespace, port) of a Service webhook URL (None for any other address).
pub fn loadtester_service(url: &str) -> Option<(String, String, String)> {
    match Loadtester::parse(url)? {
        Loadtester::Service {
            namespace,
            service,
            port,
        } => Some((service, namespace, port)),
        Loadtester::Url { .. } => None,
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

    /// Deployment `name` done at revision `rev` running `image` on `pods` pods, and its
    /// ReplicaSet.
    fn workload(
        name: &str,
        rev: i64,
        image: &str,
        pods: i32,
    ) -> (DeploymentFacts, ReplicaSetFacts) {
        let mut d = deployment("ns", name, false);
        d.meta
            .annotations
            .insert("deployment.kubernetes.io/revision".into(), rev.to_string());
        d.images = vec![image.into()];
        d.replicas = pods;
        (d.status_replicas, d.updated_replicas) = (pods, pods);
        (d.ready_replicas, d.available_replicas) = (pods, pods);
        let rs = replicaset_of(
            meta("ns", &format!("{name}-h{rev}"), "1"),
            &d.meta.uid,
            &format!("h{rev}"),
            rev,
            image,
            pods,
        );
        (d, rs)
    }

    fn podinfo(phase: &str, weight: u32) -> CanaryFacts {
        CanaryFacts {
            meta: meta("ns", "podinfo", "5"),
            target: "Deployment/podinfo".into(),
            max_weight: Some(50),
            step_weight: Some(25),
            phase: phase.into(),
            canary_weight: weight,
            failed_checks: 1,
            ..CanaryFacts::default()
        }
    }

    #[test]
    fn a_canary_shows_the_target_as_canary_and_the_primary_as_stable() {
        let (target, target_rs) = workload("podinfo", 2, "podinfo:2", 2);
        let (primary, primary_rs) = workload("podinfo-primary", 1, "podinfo:1", 2);
        let (other, other_rs) = workload("unrelated", 7, "x:7", 3);
        let c = podinfo("Progressing", 50);
        let rel = derive_joined(
            &ctx(),
            &c,
            &[&other, &primary, &target],
            &[&primary_rs, &other_rs, &target_rs],
        );
        let seen: Vec<_> = rel
            .revisions
            .iter()
            .map(|r| {
                (
                    r.name.as_str(),
                    r.revision,
                    r.role,
                    r.images.clone(),
                    r.ready,
                    r.desired,
                )
            })
            .collect();
        assert_eq!(
            seen,
            [
                (
                    "podinfo-h2",
                    Some(2),
                    RsRole::Canary,
                    vec!["podinfo:2".to_string()],
                    2,
                    2
                ),
                (
                    "podinfo-primary-h1",
                    Some(1),
                    RsRole::Stable,
                    vec!["podinfo:1".to_string()],
                    2,
                    2
                ),
            ]
        );
        assert_eq!(rel.images, ["podinfo:2"]);
        assert_eq!(rel.replicas, (4, 4));
        assert_eq!(rel.failed_checks, Some(1));
        assert_eq!((rel.set_weight, rel.phase), (Some(50), Phase::Progressing));
    }

    #[test]
    fn without_its_deployments_a_canary_shows_what_it_knows() {
        let rel = derive_joined(&ctx(), &podinfo("Initialized", 0), &[], &[]);
        assert!(rel.revisions.is_empty());
        assert_eq!(rel.replicas, (0, 0));
        // Only the primary seen (the target scaled to zero and not listed yet).
        let (primary, rs) = workload("podinfo-primary", 1, "podinfo:1", 3);
        let rel = derive_joined(&ctx(), &podinfo("Initialized", 0), &[&primary], &[&rs]);
        assert_eq!(rel.replicas, (3, 3));
        assert_eq!(rel.revisions.len(), 1);
        assert_eq!(rel.revisions[0].role, RsRole::Stable);
        assert!(rel.images.is_empty(), "the images are the target's");
    }

    #[test]
    fn the_console_joins_them_whatever_arrives_first_and_follows_each_change() {
        use crate::core::facts::ObjectFacts as O;
        use crate::core::model::{Cluster, ReleaseKey};
        use crate::core::msg::{Msg, ObjectKind};
        use crate::core::state::Settings;
        use crate::core::testkit::{FleetBuilder, t};
        let (target, mut target_rs) = workload("podinfo", 2, "podinfo:2", 2);
        let (primary, primary_rs) = workload("podinfo-primary", 1, "podinfo:1", 2);
        let mut f = FleetBuilder::new(t(0), Settings::default(), vec![Cluster::new("a")], vec![]);
        // Deployments and ReplicaSets both before and after the Canary.
        f.upsert("a", O::Deployment(primary))
            .upsert("a", O::Canary(podinfo("Progressing", 25)))
            .upsert("a", O::ReplicaSet(primary_rs))
            .upsert("a", O::ReplicaSet(target_rs.clone()))
            .upsert("a", O::Deployment(target));
        let key = ReleaseKey {
            cluster: "a".into(),
            kind: ReleaseKind::Canary,
            namespace: "ns".into(),
            name: "podinfo".into(),
        };
        let rel = |f: &mut FleetBuilder| f.state_mut().releases.get(&key).cloned();
        let seen = rel(&mut f).map(|r| r.revisions.len());
        assert_eq!(seen, Some(2), "target and primary ReplicaSets joined");
        // A pod of the canary goes unready: its ReplicaSet changes, the Canary follows.
        target_rs.ready_replicas = 1;
        f.upsert("a", O::ReplicaSet(target_rs));
        let ready = rel(&mut f).map(|r| (r.revisions[0].role, r.revisions[0].ready));
        assert_eq!(ready, Some((RsRole::Canary, 1)));
        // The target goes: only the primary is left.
        f.send(Msg::Delete {
            cluster: "a".into(),
            kind: ObjectKind::Deployment,
            namespace: "ns".into(),
            name: "podinfo".into(),
        });
        let left: Option<Vec<RsRole>> =
            rel(&mut f).map(|r| r.revisions.iter().map(|v| v.role).collect());
        assert_eq!(left, Some(vec![RsRole::Stable]));
    }

    #[test]
    fn the_target_is_a_deployment_by_name() {
        let with = |t: &str| CanaryFacts {
            target: t.into(),
            ..CanaryFacts::default()
        };
        assert_eq!(target_deployment(&with("Deployment/web")), Some("web"));
        assert_eq!(target_deployment(&with("web")), Some("web"));
        assert_eq!(target_deployment(&with("DaemonSet/web")), None);
        assert_eq!(target_deployment(&with("")), None);
        assert_eq!(primary_name("web"), "web-primary");
    }
}
