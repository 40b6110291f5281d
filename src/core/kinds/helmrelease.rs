//! helm.toolkit.fluxcd.io/v2 HelmRelease as a release: Ready, last applied revision (the
//! chart version `status.lastAttemptedRevision` / history), suspended, chart source; the same
//! suspend / resume / reconcile as a Kustomization (shared in `flux`). helm-controller is not
//! in the test environment: covered by fixture tests. Pure; no IO.

use jiff::Timestamp;

use super::flux::{self, FluxFacts};
use super::request::resource;
use super::{Kind, Need, ReleaseKind};
use crate::core::action::{ActionKind, ApiCall, Disabled, Resource};
use crate::core::model::Release;
use crate::core::status::Ctx;

pub const HELMRELEASES: Resource = resource(Kind::HelmRelease, None);

pub type HelmReleaseFacts = FluxFacts;

pub const NEEDS: &[Need] = &[Need {
    verb: "patch",
    resource: "helmreleases",
    group: HELMRELEASES.group,
    who: "HelmRelease",
    actions: &[ActionKind::Pause, ActionKind::Resume, ActionKind::Sync],
    how: "",
    with_webhook: false,
}];

pub const SUPPORTS: &[ActionKind] = flux::SUPPORTS;

pub const NOT_AVAILABLE: &str = "not available for Flux HelmReleases";

pub fn derive(ctx: &Ctx<'_>, h: &HelmReleaseFacts) -> Release {
    flux::derive(ctx, ReleaseKind::HelmRelease, h)
}

pub fn rules(action: ActionKind, r: &Release) -> Result<(), Disabled> {
    flux::rules(action, r)
}

pub fn calls(action: ActionKind, r: &Release, now: Timestamp) -> Vec<ApiCall> {
    flux::calls(HELMRELEASES, action, r, now)
}

pub fn note(action: ActionKind) -> Option<&'static str> {
    flux::note(action)
}
