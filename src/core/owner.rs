//! "Suspend the owner first": a manual pause, undo or restart on an object that a GitOps
//! owner reconciles (a Flux Kustomization that is not suspended, an Argo CD application
//! with automated sync) is reverted at the owner's next reconcile. The plan of such an
//! action carries an owner pre-step — the owner's own write that stops it (Flux:
//! `spec.suspend: true`, as `flux suspend kustomization`; Argo CD: automated sync off, the
//! spec change `argocd app set --sync-policy none` makes) — which the modal offers as an
//! explicit first request, sent (and audited) before the action's own, with its own
//! resourceVersion precondition. Generic over owners: an owner is found from the object's
//! tracking labels, looked up among the releases the console knows, and asked for its
//! pre-step by its kind. Pure; no IO.

use serde::Serialize;
use serde_json::json;

use super::action::{ActionKind, ApiCall, PatchType, Resource};
use super::facts::ObjectMeta;
use super::kinds::flux;
use super::kinds::kustomization::{KUSTOMIZATIONS, OWNER_NAME_LABEL, OWNER_NAMESPACE_LABEL};
use super::model::{Release, ReleaseKey, ReleaseKind};

/// The actions an owner's self-heal would undo.
pub const REVERTED_BY_OWNER: &[ActionKind] =
    &[ActionKind::Pause, ActionKind::Undo, ActionKind::Restart];

/// What reconciles an object, from its tracking labels and annotations.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum OwnerRef {
    /// `kustomize.toolkit.fluxcd.io/name` / `namespace` labels.
    FluxKustomization { namespace: String, name: String },
    /// `argocd.argoproj.io/tracking-id` (`<app>:<group>/<kind>:<ns>/<name>`; an app in a
    /// namespace other than Argo CD's own is written `<ns>_<app>`).
    ArgoCdApplication {
        namespace: Option<String>,
        name: String,
    },
}

impl OwnerRef {
    /// The owner of an object with this metadata, if any.
    pub fn of(meta: &ObjectMeta) -> Option<OwnerRef> {
        if let Some(name) = meta.labels.get(OWNER_NAME_LABEL) {
            let namespace = meta
                .labels
                .get(OWNER_NAMESPACE_LABEL)
                .cloned()
                .unwrap_or_else(|| meta.namespace.clone());
            return Some(OwnerRef::FluxKustomization {
                namespace,
                name: name.clone(),
            });
        }
        let id = meta.annotations.get("argocd.argoproj.io/tracking-id")?;
        let app = id.split(':').next().filter(|a| !a.is_empty())?;
        Some(match app.split_once('_') {
            Some((ns, name)) => OwnerRef::ArgoCdApplication {
                namespace: Some(ns.to_string()),
                name: name.to_string(),
            },
            None => OwnerRef::ArgoCdApplication {
                namespace: None,
                name: app.to_string(),
            },
        })
    }

    /// `Flux Kustomization flux-system/apps`, `Argo CD application shop`.
    pub fn describe(&self) -> String {
        match self {
            Self::FluxKustomization { namespace, name } => {
                format!("Flux Kustomization {namespace}/{name}")
            }
            Self::ArgoCdApplication {
                namespace: Some(ns),
                name,
            } => format!("Argo CD application {ns}/{name}"),
            Self::ArgoCdApplication { name, .. } => format!("Argo CD application {name}"),
        }
    }

    /// The owner's release, when the console knows it (Flux Kustomizations are watched).
    pub fn key(&self, cluster: &str) -> Option<ReleaseKey> {
        match self {
            Self::FluxKustomization { namespace, name } => Some(ReleaseKey {
                cluster: cluster.to_string(),
                kind: ReleaseKind::Kustomization,
                namespace: namespace.clone(),
                name: name.clone(),
            }),
            // Argo CD applications are read by the Argo CD kind; until it is in the
            // catalogue the owner is named but not looked up.
            Self::ArgoCdApplication { .. } => None,
        }
    }
}

/// The owner's state as far as a manual action on what it owns is concerned.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum OwnerState {
    /// It reconciles: the pre-step is offered.
    Reconciling { owner: String, first: Box<ApiCall> },
    /// Suspended already (until someone resumes it): the action stays.
    Suspended { owner: String },
    /// Named by the object but not seen (not watched, no access, another cluster):
    /// nothing can be suspended from here.
    Unseen { owner: String },
}

impl OwnerState {
    /// One line for the modal and the row.
    pub fn text(&self) -> String {
        match self {
            Self::Reconciling { owner, .. } => {
                format!(
                    "{owner} reconciles this object: its next reconcile reverts a manual change"
                )
            }
            Self::Suspended { owner } => format!("{owner} is suspended until it is resumed"),
            Self::Unseen { owner } => {
                format!("managed by {owner} (not visible here): it may revert a manual change")
            }
        }
    }
}

/// The owner of `r` and whether it reconciles, looked up in `releases`.
pub fn owner_state<'a>(
    r: &Release,
    lookup: impl Fn(&ReleaseKey) -> Option<&'a Release>,
) -> Option<OwnerState> {
    let owner = r.owner.as_ref()?;
    let describe = owner.describe();
    let key = owner.key(&r.key.cluster);
    let Some(found) = key.as_ref().and_then(&lookup) else {
        return Some(OwnerState::Unseen { owner: describe });
    };
    if found.facts.spec_paused {
        return Some(OwnerState::Suspended { owner: describe });
    }
    Some(OwnerState::Reconciling {
        owner: describe,
        first: Box::new(suspend_call(owner, found)),
    })
}

/// The pre-step for `action` on `r`: Some only for an action an owner's reconcile would
/// revert, on an object whose owner is known and reconciling.
pub fn pre_step<'a>(
    action: ActionKind,
    r: &Release,
    lookup: impl Fn(&ReleaseKey) -> Option<&'a Release>,
) -> Option<OwnerFirst> {
    if !REVERTED_BY_OWNER.contains(&action) {
        return None;
    }
    match owner_state(r, lookup)? {
        OwnerState::Reconciling { owner, first } => Some(OwnerFirst {
            owner,
            call: *first,
        }),
        OwnerState::Suspended { .. } | OwnerState::Unseen { .. } => None,
    }
}

/// The owner's write that stops it reconciling, with its resourceVersion precondition.
fn suspend_call(owner: &OwnerRef, found: &Release) -> ApiCall {
    match owner {
        OwnerRef::FluxKustomization { .. } => flux::suspend(KUSTOMIZATIONS, found),
        OwnerRef::ArgoCdApplication { .. } => argocd_sync_off(
            &found.key.namespace,
            &found.key.name,
            &found.resource_version,
        ),
    }
}

/// Argo CD's applications (the Application kind's own module names it once it is in the
/// catalogue; the pre-step only needs the CRD's coordinates).
pub const APPLICATIONS: Resource = Resource {
    group: "argoproj.io",
    version: "v1alpha1",
    plural: "applications",
    subresource: None,
};

/// Automated sync off, as `argocd app set --sync-policy none` leaves the spec
/// (`spec.syncPolicy.automated` removed; self-heal and prune go with it), guarded by the
/// application's resourceVersion.
pub fn argocd_sync_off(namespace: &str, name: &str, resource_version: &str) -> ApiCall {
    ApiCall::Patch {
        resource: APPLICATIONS,
        namespace: namespace.to_string(),
        name: name.to_string(),
        patch_type: PatchType::Merge,
        body: json!({
            "metadata": {"resourceVersion": resource_version},
            "spec": {"syncPolicy": {"automated": null}},
        }),
    }
}

/// The owner pre-step a plan offers: who, and the exact request sent first.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OwnerFirst {
    pub owner: String,
    pub call: ApiCall,
}

impl OwnerFirst {
    /// The modal's line for it.
    pub fn text(&self) -> String {
        format!(
            "{} reconciles this object and would revert this change. \"Suspend owner first\" sends request 1 (the owner's suspend) before the action; the owner stays suspended until you resume it.",
            self.owner
        )
    }
}

#[cfg(test)]
mod tests;
