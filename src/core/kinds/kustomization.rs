//! kustomize.toolkit.fluxcd.io/v1 Kustomization as a release: Ready, last applied revision,
//! suspended, source; suspend / resume on `space`, reconcile on `s` (the shared Flux rules
//! and patches in `flux`). Also the owner of what it applies (labels
//! `kustomize.toolkit.fluxcd.io/name` / `namespace`), which `core::owner` suspends first.
//! Pure; no IO.

use jiff::Timestamp;

use super::flux::{self, FluxFacts};
use super::request::resource;
use super::{Kind, Need, ReleaseKind};
use crate::core::action::{ActionKind, ApiCall, Disabled, Resource};
use crate::core::model::Release;
use crate::core::status::Ctx;

pub const KUSTOMIZATIONS: Resource = resource(Kind::Kustomization, None);

/// The labels kustomize-controller puts on every object it applies.
pub const OWNER_NAME_LABEL: &str = "kustomize.toolkit.fluxcd.io/name";
pub const OWNER_NAMESPACE_LABEL: &str = "kustomize.toolkit.fluxcd.io/namespace";

pub type KustomizationFacts = FluxFacts;

pub const NEEDS: &[Need] = &[Need {
    verb: "patch",
    resource: "kustomizations",
    group: KUSTOMIZATIONS.group,
    who: "Kustomization",
    actions: &[ActionKind::Pause, ActionKind::Resume, ActionKind::Sync],
    how: "",
    with_webhook: false,
}];

pub const SUPPORTS: &[ActionKind] = flux::SUPPORTS;

pub const NOT_AVAILABLE: &str = "not available for Flux Kustomizations";

pub fn derive(ctx: &Ctx<'_>, k: &KustomizationFacts) -> Release {
    flux::derive(ctx, ReleaseKind::Kustomization, k)
}

pub fn rules(action: ActionKind, r: &Release) -> Result<(), Disabled> {
    flux::rules(action, r)
}

pub fn calls(action: ActionKind, r: &Release, now: Timestamp) -> Vec<ApiCall> {
    flux::calls(KUSTOMIZATIONS, action, r, now)
}

pub fn note(action: ActionKind) -> Option<&'static str> {
    flux::note(action)
}
