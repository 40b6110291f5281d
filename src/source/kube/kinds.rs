//! The watches a cluster gets: one per kind in the core's catalogue (six today; P11 budgets
//! six per cluster, so a new catalogue row is a new watch to account for), named and
//! addressed from its row. Must not name a group, version or plural itself.

use kube::core::{ApiResource, GroupVersionKind};

pub use crate::core::kinds::Kind;
use crate::core::kinds::Role;

/// Every kind the catalogue lists is watched, except the on-demand ones (pods: only while
/// the pods screen is open, by `pods`).
pub const WATCHED: [Kind; watched_len()] = {
    let mut out = [Kind::Deployment; watched_len()];
    let (mut i, mut n) = (0, 0);
    while i < Kind::ALL.len() {
        if !matches!(Kind::ALL[i].api().role, Role::OnDemand) {
            out[n] = Kind::ALL[i];
            n += 1;
        }
        i += 1;
    }
    out
};

const fn watched_len() -> usize {
    let (mut i, mut n) = (0, 0);
    while i < Kind::ALL.len() {
        if !matches!(Kind::ALL[i].api().role, Role::OnDemand) {
            n += 1;
        }
        i += 1;
    }
    n
}

/// The API resource behind `kind`'s watch, from its catalogue row.
pub fn api_resource(kind: Kind) -> ApiResource {
    let api = kind.api();
    ApiResource::from_gvk_with_plural(
        &GroupVersionKind::gvk(api.group, api.version, api.name),
        api.plural,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn watches_are_addressed_from_the_catalogue() {
        let ar = api_resource(Kind::Rollout);
        assert_eq!(ar.api_version, "argoproj.io/v1alpha1");
        assert_eq!(ar.plural, "rollouts");
        assert_eq!(api_resource(Kind::Event).api_version, "v1");
        assert!(
            !WATCHED.contains(&Kind::Pod),
            "pods are watched on demand only"
        );
        // P11: at most six permanent watches per cluster without GitOps CRDs, eight with.
        assert!(WATCHED.len() <= 8, "{} permanent watches", WATCHED.len());
        assert_eq!(
            WATCHED.len(),
            Kind::ALL.len() - 1,
            "only pods are on demand"
        );
    }
}
