//! Who we are and what we may do, as the API server says: SelfSubjectAccessReview
//! (authorization.k8s.io/v1) and SelfSubjectReview (authentication.k8s.io/v1).

use k8s_openapi::api::authentication::v1::SelfSubjectReview;
use k8s_openapi::api::authorization::v1::{
    ResourceAttributes, SelfSubjectAccessReview, SelfSubjectAccessReviewSpec,
};
use kube::api::{Api, PostParams};

use crate::core::kinds::Kind;

/// API group of a resource shipdeck acts on, from its plural name in the kind catalogue
/// ("" — the core group — for anything else, e.g. `services`).
pub fn group_of(plural: &str) -> &'static str {
    Kind::by_plural(plural).map_or("", |k| k.api().group)
}

/// The access review for `verb` on `resource` (`plural` or `plural/subresource`).
pub fn review(namespace: &str, verb: &str, resource: &str) -> SelfSubjectAccessReview {
    let (plural, sub) = match resource.split_once('/') {
        Some((p, s)) => (p, Some(s.to_string())),
        None => (resource, None),
    };
    SelfSubjectAccessReview {
        spec: SelfSubjectAccessReviewSpec {
            resource_attributes: Some(ResourceAttributes {
                namespace: Some(namespace.to_string()),
                verb: Some(verb.to_string()),
                group: Some(group_of(plural).to_string()),
                resource: Some(plural.to_string()),
                subresource: sub,
                ..ResourceAttributes::default()
            }),
            ..SelfSubjectAccessReviewSpec::default()
        },
        ..SelfSubjectAccessReview::default()
    }
}

/// May we? None when the server could not be asked.
pub async fn allowed(
    client: kube::Client,
    namespace: &str,
    verb: &str,
    resource: &str,
) -> Option<bool> {
    let api: Api<SelfSubjectAccessReview> = Api::all(client);
    let answer = api
        .create(&PostParams::default(), &review(namespace, verb, resource))
        .await
        .ok()?;
    answer.status.map(|s| s.allowed)
}

/// `user [group, …]` as the API server authenticated us (system:authenticated left out).
pub async fn whoami(client: kube::Client) -> Option<String> {
    let api: Api<SelfSubjectReview> = Api::all(client);
    let answer = api
        .create(&PostParams::default(), &SelfSubjectReview::default())
        .await
        .ok()?;
    let info = answer.status?.user_info?;
    let user = info.username.filter(|u| !u.is_empty())?;
    let groups: Vec<String> = info
        .groups
        .unwrap_or_default()
        .into_iter()
        .filter(|g| g != "system:authenticated")
        .collect();
    Some(if groups.is_empty() {
        user
    } else {
        format!("{user} [{}]", groups.join(", "))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reviews_carry_group_and_subresource() {
        let r = review("shop", "patch", "rollouts/status");
        let a = r.spec.resource_attributes.unwrap();
        assert_eq!(a.group.as_deref(), Some("argoproj.io"));
        assert_eq!(a.resource.as_deref(), Some("rollouts"));
        assert_eq!(a.subresource.as_deref(), Some("status"));
        assert_eq!(a.namespace.as_deref(), Some("shop"));
        let p = review("test", "create", "services/proxy")
            .spec
            .resource_attributes
            .unwrap();
        assert_eq!(p.group.as_deref(), Some(""));
        assert_eq!(p.subresource.as_deref(), Some("proxy"));
        assert_eq!(group_of("deployments"), "apps");
        assert_eq!(group_of("canaries"), "flagger.app");
    }
}
