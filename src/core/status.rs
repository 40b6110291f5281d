//! Status derivation that agrees with the controllers' own tools (reference/status.md):
//! `kubectl argo rollouts get` for Rollouts, `kubectl rollout status` for Deployments,
//! Flagger's own phase for canaries.

use jiff::Timestamp;

use super::facts::{
    AnalysisPhase, CanaryFacts, CanaryStep, DeploymentFacts, ObjectMeta, ReplicaSetFacts,
    RolloutFacts, UnparseableObject, condition,
};
use super::model::{
    ActionFacts, Analysis, GitOpsOwner, Pause, Phase, Release, ReleaseKey, ReleaseKind, Revision,
    RsRole, Strategy,
};
use super::text::Untrusted;

/// What derivation needs besides the object.
pub struct Ctx<'a> {
    pub cluster: &'a str,
    /// Workload label that names the service (default `app.kubernetes.io/name`).
    pub service_label: &'a str,
    /// Explicit service for this release from the config mapping, if any.
    pub service_override: Option<&'a str>,
}

fn base(ctx: &Ctx<'_>, kind: ReleaseKind, meta: &ObjectMeta, strategy: Strategy) -> Release {
    let service = ctx
        .service_override
        .map(str::to_string)
        .or_else(|| meta.labels.get(ctx.service_label).cloned());
    Release {
        key: ReleaseKey {
            cluster: ctx.cluster.to_string(),
            kind,
            namespace: meta.namespace.clone(),
            name: meta.name.clone(),
        },
        uid: meta.uid.clone(),
        resource_version: meta.resource_version.clone(),
        strategy,
        phase: Phase::Healthy,
        message: Untrusted::default(),
        step: None,
        set_weight: None,
        actual_weight: None,
        analysis: None,
        pause: None,
        steps: Vec::new(),
        revisions: Vec::new(),
        service,
        images: Vec::new(),
        created: meta.created,
        since: meta.created,
        replicas: (0, 0),
        gitops: gitops_owner(meta),
        facts: ActionFacts::default(),
    }
}

fn gitops_owner(meta: &ObjectMeta) -> Option<GitOpsOwner> {
    if let Some(app) = meta.labels.get("app.kubernetes.io/instance").filter(|_| {
        meta.annotations
            .contains_key("argocd.argoproj.io/tracking-id")
            || meta.labels.contains_key("argocd.argoproj.io/instance")
    }) {
        return Some(GitOpsOwner::ArgoCd(app.clone()));
    }
    if let Some(id) = meta.annotations.get("argocd.argoproj.io/tracking-id") {
        let app = id.split(':').next().unwrap_or(id).to_string();
        return Some(GitOpsOwner::ArgoCd(app));
    }
    for key in [
        "kustomize.toolkit.fluxcd.io/name",
        "helm.toolkit.fluxcd.io/name",
    ] {
        if let Some(name) = meta.labels.get(key) {
            return Some(GitOpsOwner::Flux(name.clone()));
        }
    }
    None
}

fn owned<'a>(
    uid: &str,
    rs: &'a [&'a ReplicaSetFacts],
) -> impl Iterator<Item = &'a ReplicaSetFacts> {
    let uid = uid.to_string();
    rs.iter().copied().filter(move |r| r.owner_uid == uid)
}

/// Second-highest revision among owned ReplicaSets (what `undo` goes back to).
fn previous_revision(owned: &[&ReplicaSetFacts]) -> Option<(String, i64)> {
    let mut revs: Vec<_> = owned
        .iter()
        .filter_map(|r| r.revision.map(|v| (v, r.meta.name.clone())))
        .collect();
    revs.sort_by_key(|(v, _)| std::cmp::Reverse(*v));
    revs.get(1).map(|(v, n)| (n.clone(), *v))
}

fn revisions(owned: &[&ReplicaSetFacts], stable: &str, canary: &str) -> Vec<Revision> {
    let mut out: Vec<Revision> = owned
        .iter()
        .map(|r| Revision {
            name: r.meta.name.clone(),
            revision: r.revision,
            role: if !canary.is_empty() && r.pod_template_hash == canary && canary != stable {
                RsRole::Canary
            } else if !stable.is_empty() && r.pod_template_hash == stable {
                RsRole::Stable
            } else {
                RsRole::Old
            },
            images: r.images.clone(),
            ready: r.ready_replicas,
            desired: r.replicas,
        })
        .collect();
    out.sort_by_key(|r| std::cmp::Reverse(r.revision.unwrap_or(0)));
    out
}

/// Set weight (desired canary traffic), as Argo's `GetCurrentSetWeight`: 0 when aborted,
/// 100 past the last step (or with no steps), else the nearest preceding `setWeight`.
pub fn rollout_set_weight(r: &RolloutFacts) -> Option<u32> {
    if r.strategy != "canary" {
        return None;
    }
    if r.aborted {
        return Some(0);
    }
    let idx = r.current_step_index.unwrap_or(0).max(0) as usize;
    if idx >= r.steps.len() {
        return Some(100);
    }
    let weight = r.steps[..=idx].iter().rev().find_map(|s| match s {
        CanaryStep::SetWeight(w) => Some(*w),
        _ => None,
    });
    Some(weight.unwrap_or(0))
}

/// Phase and message exactly in `CalculateRolloutPhase`'s order.
pub fn rollout_phase(r: &RolloutFacts) -> (Phase, String) {
    let progressing = |m: &str| (Phase::Progressing, m.to_string());
    // 1. spec change not yet observed
    if let Some(og) = &r.observed_generation
        && let Ok(og) = og.parse::<i64>()
        && og != r.meta.generation
    {
        return progressing("waiting for rollout spec update to be observed");
    }
    // 2. controller pause without pause conditions
    if r.controller_pause && r.pause_conditions.is_empty() {
        return progressing("waiting for rollout to unpause");
    }
    // 3. workloadRef generation not observed
    if r.workload_ref
        && r.workload_generation.is_some()
        && r.workload_generation != r.workload_observed_generation
    {
        return progressing("waiting for rollout spec update to be observed");
    }
    // 4. the controller's own phase (v1.0+)
    if let Some(phase) = r.phase.as_deref().filter(|p| !p.is_empty()) {
        let p = match phase {
            "Healthy" => Phase::Healthy,
            "Paused" => Phase::Paused,
            "Degraded" => Phase::Degraded,
            _ => Phase::Progressing,
        };
        return (p, r.message.raw().to_string());
    }
    // 5. older controllers: work it out from spec and status
    if let Some(c) = condition(&r.conditions, "InvalidSpec")
        && c.status == "True"
    {
        return (Phase::Degraded, c.message.raw().to_string());
    }
    for c in &r.conditions {
        if c.reason == "RolloutAborted" || c.reason == "ProgressDeadlineExceeded" {
            return (Phase::Degraded, c.message.raw().to_string());
        }
    }
    if r.paused {
        return (Phase::Paused, "manually paused".into());
    }
    if let Some(pc) = r.pause_conditions.first() {
        return (Phase::Paused, pc.reason.as_str().into());
    }
    if r.restart_at.is_some() && r.restart_at != r.restarted_at {
        return progressing("rollout is restarting");
    }
    if r.updated_replicas < r.replicas {
        return progressing("more replicas need to be updated");
    }
    if r.available_replicas < r.updated_replicas {
        return progressing("updated replicas are still becoming available");
    }
    if r.strategy == "blueGreen" {
        if r.active_selector.as_deref() != Some(r.current_pod_hash.as_str()) {
            return progressing("active service cutover pending");
        }
    } else if r.stable_rs.is_empty() || r.stable_rs != r.current_pod_hash {
        return progressing("waiting for all steps to complete");
    }
    (Phase::Healthy, String::new())
}

pub fn rollout(ctx: &Ctx<'_>, r: &RolloutFacts, replicasets: &[&ReplicaSetFacts]) -> Release {
    let strategy = if r.strategy == "blueGreen" {
        Strategy::BlueGreen
    } else {
        Strategy::Canary
    };
    let mut rel = base(ctx, ReleaseKind::Rollout, &r.meta, strategy);
    let (phase, message) = rollout_phase(r);
    rel.phase = phase;
    rel.message = Untrusted::new(message);
    let owned: Vec<&ReplicaSetFacts> = owned(&r.meta.uid, replicasets).collect();
    let fully_promoted = !r.current_pod_hash.is_empty() && r.current_pod_hash == r.stable_rs;

    if let (Some(idx), false) = (r.current_step_index, r.steps.is_empty()) {
        rel.step = Some((idx.max(0) as u32, r.steps.len() as u32));
    }
    rel.set_weight = rollout_set_weight(r);
    rel.actual_weight = if r.strategy != "canary" {
        None
    } else if r.traffic_routing {
        r.traffic_canary_weight.or(rel.set_weight)
    } else if fully_promoted {
        Some(100)
    } else if r.available_replicas > 0 {
        let canary_avail: i32 = owned
            .iter()
            .filter(|rs| rs.pod_template_hash == r.current_pod_hash)
            .map(|rs| rs.available_replicas)
            .sum();
        Some((canary_avail.max(0) as u32 * 100) / r.available_replicas as u32)
    } else {
        Some(0)
    };
    rel.analysis = r
        .step_analysis
        .as_ref()
        .or(r.background_analysis.as_ref())
        .map(|a| Analysis {
            name: a.name.clone(),
            phase: a.phase,
            message: a.message.clone(),
        });
    if let Some(pc) = r.pause_conditions.first() {
        let duration = r
            .current_step_index
            .and_then(|i| r.steps.get(i.max(0) as usize))
            .and_then(|s| match s {
                CanaryStep::Pause(d) => *d,
                _ => None,
            });
        rel.pause = Some(Pause {
            reason: pc.reason,
            started: pc.start_time,
            duration,
        });
    }
    rel.steps = r.steps.clone();
    rel.revisions = revisions(&owned, &r.stable_rs, &r.current_pod_hash);
    rel.images = r.images.clone();
    rel.replicas = (r.available_replicas, r.replicas);
    rel.since = r
        .conditions
        .iter()
        .filter_map(|c| c.last_transition)
        .max()
        .or(r.meta.created);
    let in_analysis_step = r
        .current_step_index
        .and_then(|i| r.steps.get(i.max(0) as usize))
        .is_some_and(|s| matches!(s, CanaryStep::Analysis(_) | CanaryStep::Experiment));
    let current_revision = owned
        .iter()
        .find(|rs| rs.pod_template_hash == r.current_pod_hash)
        .and_then(|rs| rs.revision);
    rel.facts = ActionFacts {
        spec_paused: r.paused,
        pause_conditions: !r.pause_conditions.is_empty(),
        controller_pause: r.controller_pause,
        aborted: r.aborted,
        fully_promoted,
        current_step_index: r.current_step_index,
        steps: r.steps.len() as u32,
        in_analysis_step,
        undo_target: previous_revision(&owned),
        current_revision,
        ..ActionFacts::default()
    };
    rel
}

/// Progress per `kubectl rollout status`, plus paused and failed.
pub fn deployment_phase(d: &DeploymentFacts) -> (Phase, String) {
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
                d.status_replicas - d.updated_replicas
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

pub fn deployment(ctx: &Ctx<'_>, d: &DeploymentFacts, replicasets: &[&ReplicaSetFacts]) -> Release {
    let strategy = if d.strategy == "Recreate" {
        Strategy::Recreate
    } else {
        Strategy::RollingUpdate
    };
    let mut rel = base(ctx, ReleaseKind::Deployment, &d.meta, strategy);
    let (phase, message) = deployment_phase(d);
    rel.phase = phase;
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

/// Flagger's phase mapped onto the console's phases (waiting for a human shows as Paused).
pub fn canary_phase(phase: &str) -> Phase {
    match phase {
        "Failed" => Phase::Degraded,
        "Waiting" | "WaitingPromotion" => Phase::Paused,
        "Succeeded" | "Initialized" | "Terminated" => Phase::Healthy,
        "" => Phase::Progressing,
        _ => Phase::Progressing,
    }
}

pub fn canary(ctx: &Ctx<'_>, c: &CanaryFacts) -> Release {
    let mut rel = base(ctx, ReleaseKind::Canary, &c.meta, Strategy::Progressive);
    rel.phase = if c.suspend && canary_phase(&c.phase) == Phase::Progressing {
        Phase::Paused
    } else {
        canary_phase(&c.phase)
    };
    let phase = if c.phase.is_empty() {
        "Initializing"
    } else {
        &c.phase
    };
    let mut message = phase.to_string();
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
    if c.failed_checks > 0 || matches!(c.phase.as_str(), "Progressing" | "Failed") {
        let phase = match c.phase.as_str() {
            "Failed" => AnalysisPhase::Failed,
            _ if c.failed_checks > 0 => AnalysisPhase::Inconclusive,
            _ => AnalysisPhase::Running,
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
    rel.facts = ActionFacts {
        spec_paused: c.suspend,
        flagger_phase: c.phase.clone(),
        rollback_webhook: c.rollback_webhook.clone(),
        skip_analysis: c.skip_analysis,
        ..ActionFacts::default()
    };
    rel
}

pub fn unparseable(
    ctx: &Ctx<'_>,
    kind: ReleaseKind,
    u: &UnparseableObject,
    now: Timestamp,
) -> Release {
    let meta = ObjectMeta {
        namespace: u.namespace.clone(),
        name: u.name.clone(),
        ..ObjectMeta::default()
    };
    let mut rel = base(ctx, kind, &meta, Strategy::RollingUpdate);
    rel.phase = Phase::Unparseable;
    rel.message = Untrusted::new(format!("cannot parse {}: {}", u.kind, u.error.raw()));
    rel.since = Some(now);
    rel
}
