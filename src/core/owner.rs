//! "Suspend the owner first": a manual pause, undo or restart on an object that a GitOps
//! owner reconciles (a Flux Kustomization that is not suspended, an Argo CD application
//! with automated sync) is reverted at the owner's next reconcile. The plan of such an
//! action carries an owner pre-step — the owner's own write that stops it (Flux:
//! `spec.suspend: true`, as `flux suspend kustomization`; Argo CD: automated sync off, the
//! spec change `argocd app set --sync-policy none` makes, written as the rollback two-step
//! writes it so that resume turns it back on) — which the modal offers as an explicit first
//! request, sent (and audited) before the action's own, with its own resourceVersion
//! precondition. Generic over owners: an owner is found from the object's
//! tracking labels, looked up among the releases the console knows, and asked for its
//! pre-step by its kind. Pure; no IO.

use std::collections::BTreeMap;

use serde::Serialize;

use super::action::{ActionKind, ApiCall};
use super::facts::ObjectMeta;
use super::kinds::kustomization::{KUSTOMIZATIONS, OWNER_NAME_LABEL, OWNER_NAMESPACE_LABEL};
use super::kinds::{application, flux};
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

    /// The owner's release among the releases the console knows on `cluster`: a Flux
    /// Kustomization by its key; an Argo CD application by its name (in the namespace the
    /// tracking id names, else in any namespace — Argo CD's own is not known here), the one
    /// that lists `object` among its resources first when two share the name.
    pub fn find<'a>(
        &self,
        cluster: &str,
        object: &ReleaseKey,
        known: &'a BTreeMap<ReleaseKey, Release>,
    ) -> Option<&'a Release> {
        match self {
            Self::FluxKustomization { namespace, name } => known.get(&ReleaseKey {
                cluster: cluster.to_string(),
                kind: ReleaseKind::Kustomization,
                namespace: namespace.clone(),
                name: name.clone(),
            }),
            Self::ArgoCdApplication { namespace, name } => {
                let mut apps = apps_on(cluster, known)
                    .filter(|r| &r.key.name == name)
                    .filter(|r| namespace.as_ref().is_none_or(|ns| &r.key.namespace == ns));
                let first = apps.next()?;
                let manages = |r: &Release| {
                    r.facts.argocd.as_deref().is_some_and(|f| {
                        f.resources
                            .iter()
                            .any(|x| x.namespace == object.namespace && x.name == object.name)
                    })
                };
                if manages(first) {
                    return Some(first);
                }
                Some(apps.find(|r| manages(r)).unwrap_or(first))
            }
        }
    }
}

/// Every Argo CD application the console knows on `cluster` (the map is ordered by
/// cluster, kind, namespace, name: one contiguous run).
fn apps_on<'a>(
    cluster: &str,
    known: &'a BTreeMap<ReleaseKey, Release>,
) -> impl Iterator<Item = &'a Release> {
    let first = ReleaseKey {
        cluster: cluster.to_string(),
        kind: ReleaseKind::Application,
        namespace: String::new(),
        name: String::new(),
    };
    let cluster = cluster.to_string();
    known
        .range(first..)
        .take_while(move |(k, _)| k.cluster == cluster && k.kind == ReleaseKind::Application)
        .map(|(_, r)| r)
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

/// The owner of `r` and whether it reconciles, looked up among the releases the console
/// knows.
pub fn owner_state(r: &Release, known: &BTreeMap<ReleaseKey, Release>) -> Option<OwnerState> {
    let owner = r.owner.as_ref()?;
    let describe = owner.describe();
    let Some(found) = owner.find(&r.key.cluster, &r.key, known) else {
        return Some(OwnerState::Unseen { owner: describe });
    };
    match owner {
        OwnerRef::FluxKustomization { .. } if found.facts.spec_paused => {
            Some(OwnerState::Suspended { owner: describe })
        }
        OwnerRef::FluxKustomization { .. } => Some(OwnerState::Reconciling {
            owner: describe,
            first: Box::new(flux::suspend(KUSTOMIZATIONS, found)),
        }),
        OwnerRef::ArgoCdApplication { .. } => argocd_state(describe, found),
    }
}

/// An Argo CD application reverts a manual change only with automated sync and self-heal
/// (without self-heal it syncs again only on a new commit): then the pre-step is automated
/// sync off. Automated sync that shipdeck turned off (the app's `spec_paused`) is the
/// owner suspended until resume turns it back on. An app synced by hand reverts nothing:
/// no owner state to tell.
fn argocd_state(owner: String, app: &Release) -> Option<OwnerState> {
    let f = app.facts.argocd.as_deref()?;
    if f.automated_on && f.self_heal {
        let first = application::automated_off(app)?;
        return Some(OwnerState::Reconciling {
            owner,
            first: Box::new(first),
        });
    }
    app.facts
        .spec_paused
        .then_some(OwnerState::Suspended { owner })
}

/// The pre-step for `action` on `r`: Some only for an action an owner's reconcile would
/// revert, on an object whose owner is known and reconciling.
pub fn pre_step(
    action: ActionKind,
    r: &Release,
    known: &BTreeMap<ReleaseKey, Release>,
) -> Option<OwnerFirst> {
    if !REVERTED_BY_OWNER.contains(&action) {
        return None;
    }
    match owner_state(r, known)? {
        OwnerState::Reconciling { owner, first } => Some(OwnerFirst {
            owner,
            call: *first,
        }),
        OwnerState::Suspended { .. } | OwnerState::Unseen { .. } => None,
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
