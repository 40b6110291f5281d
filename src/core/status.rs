//! What status derivation shares across kinds (reference/status.md): the derivation context,
//! the release skeleton every kind starts from, GitOps ownership, owned ReplicaSets and their
//! revisions, and the row for an object that could not be parsed. Each kind's own derivation
//! lives in its module under `core::kinds` (re-exported here under the old names). Pure.

use jiff::Timestamp;

use super::facts::{ObjectMeta, ReplicaSetFacts, UnparseableObject};
use super::model::{
    ActionFacts, GitOpsOwner, Phase, Release, ReleaseKey, ReleaseKind, Revision, RsRole, Strategy,
};
use super::text::Untrusted;

pub use super::kinds::canary::derive as canary;
pub use super::kinds::deployment::{derive as deployment, phase as deployment_phase};
pub use super::kinds::rollout::{
    derive as rollout, phase as rollout_phase, set_weight as rollout_set_weight,
};

/// What derivation needs besides the object.
pub struct Ctx<'a> {
    pub cluster: &'a str,
    /// Workload label that names the service (default `app.kubernetes.io/name`).
    pub service_label: &'a str,
    /// Explicit service for this release from the config mapping, if any.
    pub service_override: Option<&'a str>,
}

/// The release skeleton a kind's derivation fills in.
pub fn base(ctx: &Ctx<'_>, kind: ReleaseKind, meta: &ObjectMeta, strategy: Strategy) -> Release {
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
        needs_human: None,
        steps: Vec::new(),
        revisions: Vec::new(),
        service,
        images: Vec::new(),
        created: meta.created,
        since: meta.created,
        replicas: (0, 0),
        failed_checks: None,
        workloads: Vec::new(),
        gitops: gitops_owner(meta),
        owner: super::owner::OwnerRef::of(meta),
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

/// The ReplicaSets owned by `uid`.
pub fn owned<'a>(
    uid: &str,
    rs: &'a [&'a ReplicaSetFacts],
) -> impl Iterator<Item = &'a ReplicaSetFacts> {
    let uid = uid.to_string();
    rs.iter().copied().filter(move |r| r.owner_uid == uid)
}

/// Second-highest revision among owned ReplicaSets (what `undo` goes back to).
pub fn previous_revision(owned: &[&ReplicaSetFacts]) -> Option<(String, i64)> {
    let mut revs: Vec<_> = owned
        .iter()
        .filter_map(|r| r.revision.map(|v| (v, r.meta.name.clone())))
        .collect();
    revs.sort_by_key(|(v, _)| std::cmp::Reverse(*v));
    revs.get(1).map(|(v, n)| (n.clone(), *v))
}

/// Owned ReplicaSets as the detail screen lists them, newest first.
pub fn revisions(owned: &[&ReplicaSetFacts], stable: &str, canary: &str) -> Vec<Revision> {
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
            blue_green: None,
            images: r.images.clone(),
            ready: r.ready_replicas,
            desired: r.replicas,
            info: super::revisions::RevisionInfo::of(r),
        })
        .collect();
    out.sort_by_key(|r| std::cmp::Reverse(r.revision.unwrap_or(0)));
    out
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
