//! The RBAC permissions release kinds' actions need: each kind module lists its `NEEDS`;
//! doctor reports them per cluster and the detail view checks them for the release in view.
//! Pure; no IO.

use crate::core::model::Release;

/// One RBAC permission a release kind's actions need (doctor lists them; the detail view
/// checks them for the release in view).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Need {
    pub verb: &'static str,
    /// `plural` or `plural/subresource`.
    pub resource: &'static str,
    /// API group of `resource`.
    pub group: &'static str,
    /// What it enables, for doctor.
    pub enables: &'static str,
    /// Only needed when the release has a rollback webhook configured.
    pub with_webhook: bool,
}

/// The (verb, resource) pairs to check for this release's actions.
pub fn access_needs(r: &Release) -> Vec<(&'static str, &'static str)> {
    r.key
        .kind
        .needs()
        .iter()
        .filter(|n| !n.with_webhook || r.facts.rollback_webhook.is_some())
        .map(|n| (n.verb, n.resource))
        .collect()
}
