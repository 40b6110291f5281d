//! The watches a cluster gets: one per kind in the core's catalogue (six today; P11 budgets
//! six per cluster, so a new catalogue row is a new watch to account for), named and
//! addressed from its row. Must not name a group, version or plural itself.

use kube::core::{ApiResource, GroupVersionKind};

pub use crate::core::kinds::Kind;

/// Every kind the catalogue lists is watched.
pub const WATCHED: [Kind; Kind::ALL.len()] = Kind::ALL;

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
        assert_eq!(WATCHED.len(), Kind::ALL.len());
    }
}
