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
    /// The confirm gates (`confirm-rollout`, `confirm-promotion`, `confirm-traffic-increase`
    /// webhooks), in the order the Canary lists them.
    pub gates: Vec<Gate>,
}

/// Which of Flagger's confirm webhooks a gate is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum GateHook {
    ConfirmRollout,
    ConfirmPromotion,
    ConfirmTrafficIncrease,
}

impl GateHook {
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "confirm-rollout" => Some(Self::ConfirmRollout),
            "confirm-promotion" => Some(Self::ConfirmPromotion),
            "confirm-traffic-increase" => Some(Self::ConfirmTrafficIncrease),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::ConfirmRollout => "confirm-rollout",
            Self::ConfirmPromotion => "confirm-promotion",
            Self::ConfirmTrafficIncrease => "confirm-traffic-increase",
        }
    }

    /// The hook Flagger waits on in this phase (Waiting: rollout, WaitingPromotion:
    /// promotion, Progressing: each traffic increase).
    pub fn of_phase(phase: &FlaggerPhase) -> Option<Self> {
        match phase {
            FlaggerPhase::Waiting => Some(Self::ConfirmRollout),
            FlaggerPhase::WaitingPromotion => Some(Self::ConfirmPromotion),
            FlaggerPhase::Progressing => Some(Self::ConfirmTrafficIncrease),
            _ => None,
        }
    }
}

/// One confirm webhook of a Canary.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Gate {
    pub hook: GateHook,
    pub url: String,
}

impl Gate {
    /// The loadtester's gate (`…/gate/check`): one a person can open and close. Flagger's
    /// other answers (`/gate/halt` never opens, any other service) are not gates we drive.
    pub fn openable(&self) -> bool {
        Loadtester::parse(&self.url).is_some() && path_of(&self.url) == "/gate/check"
    }
}

/// The path of an `http://host[:port]/path` URL ("" when there is none).
fn path_of(url: &str) -> &str {
    let rest = url.strip_prefix("http://").unwrap_or(url);
    rest.find('/').map_or("", |i| {
        let path = &rest[i..];
        path.split(['?', '#']).next().unwrap_or(path)
    })
}

/// What the loadtester said about a Canary's gate (`/gate/check`): open, closed, or not
/// known (not asked yet, or the check failed: the reason).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GateState {
    Open,
    Closed,
    Unknown(String),
}

impl GateState {
    pub fn as_str(&self) -> &str {
        match self {
            Self::Open => "open",
            Self::Closed => "closed",
            Self::Unknown(_) => "unknown",
        }
    }
}

/// The gate this Canary waits at now, by its phase (None: no gate in the way).
pub fn current_gate<'a>(phase: &FlaggerPhase, gates: &'a [Gate]) -> Option<&'a Gate> {
    let hook = GateHook::of_phase(phase)?;
    gates.iter().find(|g| g.hook == hook)
}

/// The gate to close once the Canary has succeeded (the loadtester keeps an opened gate
/// open, so the next release would sail through): its first openable confirm gate.
pub fn gate_to_close(gates: &[Gate]) -> Option<&Gate> {
    gates.iter().find(|g| g.openable())
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
    ActionKind::Promote,
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
        gates: c.gates.clone(),
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
pub fn note(action: ActionKind, r: &Release) -> Option<&'static str> {
    let gated = current_gate(&r.facts.flagger_phase, &r.facts.gates).is_some_and(Gate::openable);
    match action {
        ActionKind::PromoteFull => {
            Some("Flagger skips the analysis; it still rolls back on the progress deadline.")
        }
        ActionKind::Promote if gated => Some(
            "Opens the loadtester's gate for this Canary; Flagger goes on at its next interval. The console closes the gate again when the Canary succeeds.",
        ),
        ActionKind::Pause if gated => {
            Some("Closes the loadtester's gate for this Canary: Flagger waits at it again.")
        }
        _ => None,
    }
}

/// Flagger's rules, for the actions in `SUPPORTS`.
pub fn rules(action: ActionKind, r: &Release) -> Result<(), Disabled> {
    use ActionKind::*;
    use Disabled::NotApplicable as Na;
    let f = &r.facts;
    let in_flight = f.flagger_phase.in_flight();
    let gate = current_gate(&f.flagger_phase, &f.gates);
    match action {
        Promote => match gate {
            None => Err(Na(
                "no confirm gate to open (confirm-rollout / confirm-promotion / confirm-traffic-increase webhook) in this phase",
            )),
            Some(g) if !g.openable() => Err(Na(
                "its gate webhook is not a loadtester /gate/check: nothing to open",
            )),
            Some(_) => Ok(()),
        },
        // On a gate a person can drive, space closes it (suspend stays on a Canary without).
        Pause if gate.is_some_and(Gate::openable) => Ok(()),
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
    let gate = current_gate(&r.facts.flagger_phase, &r.facts.gates).filter(|g| g.openable());
    match action {
        Promote => gate.map_or_else(Vec::new, |g| gate_call(r, g, "/gate/open")),
        Pause if gate.is_some() => gate.map_or_else(Vec::new, |g| gate_call(r, g, "/gate/close")),
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
                        webhook_type: "rollback".into(),
                        webhook: webhook.to_string(),
                        resource_version: None,
                    },
                }],
                None => Vec::new(),
            },
            None => Vec::new(),
        },
        Abort | Retry | Restart | Terminate | Sync | Refresh => Vec::new(),
    }
}

/// POST `path` (`/gate/open`, `/gate/close`) to the loadtester of `gate`, for this Canary as
/// the user saw it (phase, webhook and resourceVersion are compared on a re-read first).
fn gate_call(r: &Release, gate: &Gate, path: &str) -> Vec<ApiCall> {
    let Some(to) = Loadtester::parse(&gate.url) else {
        return Vec::new();
    };
    vec![ApiCall::LoadtesterPost {
        to,
        path: path.into(),
        body: json!({"name": r.key.name, "namespace": r.key.namespace}),
        canary: CanarySeen {
            namespace: r.key.namespace.clone(),
            name: r.key.name.clone(),
            uid: r.uid.clone(),
            phase: r.facts.flagger_phase.as_str().to_string(),
            webhook_type: gate.hook.as_str().into(),
            webhook: gate.url.clone(),
            resource_version: Some(r.resource_version.clone()),
        },
    }]
}

/// The automatic close once a Canary has succeeded: `/gate/close` to its first openable
/// confirm gate (the phase seen is Succeeded). None without such a gate.
pub fn close_after_success(r: &Release) -> Option<Vec<ApiCall>> {
    if r.key.kind != ReleaseKind::Canary || r.facts.flagger_phase != FlaggerPhase::Succeeded {
        return None;
    }
    let gate = gate_to_close(&r.facts.gates)?;
    Some(gate_call(r, gate, "/gate/close")).filter(|c| !c.is_empty())
}

/// The Canary a loadtester call is for, as the user saw it: the target re-reads the Canary
/// and compares these before it posts anything.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CanarySeen {
    pub namespace: String,
    pub name: String,
    pub uid: String,
    pub phase: String,
    /// The webhook's type (`rollback`, `confirm-promotion`, ...) and URL (where Flagger
    /// checks the gate): the re-read Canary must still have that webhook there.
    pub webhook_type: String,
    pub webhook: String,
    /// When set, the re-read Canary must still be at this resourceVersion.
    pub resource_version: Option<String>,
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

    fn gated(phase: &str, url: &str) -> Release {
        let mut c = podinfo(phase, 50);
        c.gates = vec![
            Gate {
                hook: GateHook::ConfirmRollout,
                url: "http://flagger-loadtester.ns/gate/halt".into(),
            },
            Gate {
                hook: GateHook::ConfirmPromotion,
                url: url.into(),
            },
        ];
        derive(&ctx(), &c)
    }

    #[test]
    fn p_opens_and_space_closes_the_gate_the_phase_waits_at() {
        let url = "http://flagger-loadtester.ns:80/gate/check";
        let r = gated("WaitingPromotion", url);
        assert_eq!(r.needs_human, Some(HumanWait::PromotionGate));
        assert!(rules(ActionKind::Promote, &r).is_ok());
        assert!(rules(ActionKind::Pause, &r).is_ok());
        for (action, path) in [
            (ActionKind::Promote, "/gate/open"),
            (ActionKind::Pause, "/gate/close"),
        ] {
            let sent_calls = calls(action, &r);
            let [
                ApiCall::LoadtesterPost {
                    to,
                    path: sent,
                    body,
                    canary,
                },
            ] = sent_calls.as_slice()
            else {
                panic!("{action}: {sent_calls:?}")
            };
            assert_eq!(sent, path);
            assert_eq!(to.namespace(), Some("ns"));
            assert_eq!(body, &json!({"name": "podinfo", "namespace": "ns"}));
            assert_eq!(canary.webhook_type, "confirm-promotion");
            assert_eq!(canary.webhook, url);
            assert_eq!(canary.phase, "WaitingPromotion");
            assert_eq!(canary.resource_version.as_deref(), Some("5"));
        }
        assert!(note(ActionKind::Promote, &r).is_some_and(|n| n.contains("closes the gate again")));
        // Waiting at confirm-rollout, whose webhook is /gate/halt: nothing a person can open.
        let halted = gated("Waiting", url);
        assert_eq!(
            rules(ActionKind::Promote, &halted),
            Err(Disabled::NotApplicable(
                "its gate webhook is not a loadtester /gate/check: nothing to open"
            ))
        );
        // No gate in this phase: p is refused, space suspends as before.
        let done = gated("Succeeded", url);
        assert!(rules(ActionKind::Promote, &done).is_err());
        assert!(matches!(
            calls(ActionKind::Pause, &done).as_slice(),
            [ApiCall::Patch { .. }]
        ));
    }

    #[test]
    fn the_gate_closed_after_success_is_the_first_openable_one() {
        let url = "http://flagger-loadtester.ns:80/gate/check";
        assert!(close_after_success(&gated("WaitingPromotion", url)).is_none());
        let calls = close_after_success(&gated("Succeeded", url)).unwrap_or_default();
        let [ApiCall::LoadtesterPost { path, canary, .. }] = calls.as_slice() else {
            panic!("{calls:?}")
        };
        assert_eq!(
            (path.as_str(), canary.webhook.as_str()),
            ("/gate/close", url)
        );
        assert!(close_after_success(&gated("Succeeded", "http://lt.ns/gate/halt")).is_none());
    }

    #[test]
    fn only_a_loadtester_gate_check_is_openable() {
        let g = |url: &str| Gate {
            hook: GateHook::ConfirmPromotion,
            url: url.into(),
        };
        assert!(g("http://flagger-loadtester.test/gate/check").openable());
        assert!(g("http://127.0.0.1:24517/gate/check?x=1").openable());
        assert!(!g("http://flagger-loadtester.test/gate/halt").openable());
        assert!(!g("https://flagger-loadtester.test/gate/check").openable());
        assert!(!g("http://bare/gate/check").openable());
    }
}
