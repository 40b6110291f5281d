//! The API checks for one cluster, each bounded by the deadline.

use std::collections::BTreeSet;
use std::future::Future;
use std::time::Duration;

use futures::future::join_all;
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::authentication::v1::SelfSubjectReview;
use k8s_openapi::api::authorization::v1::{
    ResourceAttributes, SelfSubjectAccessReview, SelfSubjectAccessReviewSpec,
};
use kube::api::{Api, DynamicObject, ListParams, PostParams};

use super::report::{Access, ActionAccess, ClusterReport, Presence};
use crate::core::text::Untrusted;
use crate::source::kube::client::client_for;
use crate::source::kube::kinds::Watched;
use crate::source::kube::liveness;

/// Namespaces checked one by one at most (the rest are summed up by the cluster-wide answer).
const MAX_NAMESPACES: usize = 20;

/// (verb, resource, group, what it enables, CRD it needs).
const ACTIONS: &[(&str, &str, &str, &str, Option<&str>)] = &[
    (
        "patch",
        "deployments",
        "apps",
        "Deployment pause, resume, restart, undo",
        None,
    ),
    (
        "patch",
        "rollouts",
        "argoproj.io",
        "Rollout pause, restart, undo",
        Some("rollouts.argoproj.io"),
    ),
    (
        "patch",
        "rollouts/status",
        "argoproj.io",
        "Rollout promote, promote-full, abort, retry",
        Some("rollouts.argoproj.io"),
    ),
    (
        "patch",
        "canaries",
        "flagger.app",
        "Flagger suspend, resume, promote",
        Some("canaries.flagger.app"),
    ),
    (
        "create",
        "services/proxy",
        "",
        "Flagger rollback through the loadtester",
        Some("canaries.flagger.app"),
    ),
];

/// (CRD name, group/version, plural) for the kinds that come from CRDs.
const CRDS: &[(&str, &str, &str)] = &[
    ("rollouts.argoproj.io", "argoproj.io/v1alpha1", "rollouts"),
    (
        "analysisruns.argoproj.io",
        "argoproj.io/v1alpha1",
        "analysisruns",
    ),
    ("canaries.flagger.app", "flagger.app/v1beta1", "canaries"),
];

async fn bounded<T>(
    deadline: Duration,
    f: impl Future<Output = Result<T, kube::Error>>,
) -> Result<T, Untrusted> {
    match tokio::time::timeout(deadline, f).await {
        Ok(Ok(v)) => Ok(v),
        Ok(Err(e)) => Err(Untrusted::new(e.to_string())),
        Err(_) => Err(Untrusted::new(format!(
            "no answer within {} s",
            deadline.as_secs()
        ))),
    }
}

pub async fn cluster(name: &str, context: &str, deadline: Duration) -> ClusterReport {
    match client_for(Some(context)).await {
        Ok(client) => with_client(name, context, &client, deadline).await,
        Err(e) => ClusterReport::unreachable(name, context, Untrusted::new(e.to_string())),
    }
}

/// Check a cluster through an existing client (`context` is only shown).
pub async fn with_client(
    name: &str,
    context: &str,
    client: &kube::Client,
    deadline: Duration,
) -> ClusterReport {
    let client = client.clone();
    let mut report = ClusterReport::unreachable(name, context, Untrusted::default());
    report.reachable = liveness::probe(&client, deadline)
        .await
        .map_err(|f| Untrusted::new(f.reason));
    if report.reachable.is_err() {
        return report;
    }
    let (identity, crds, watch) = tokio::join!(
        whoami(&client, deadline),
        join_all(CRDS.iter().map(|(crd, gv, plural)| async {
            (*crd, crd_presence(&client, gv, plural, deadline).await)
        })),
        join_all(
            Watched::ALL
                .iter()
                .map(|k| async { (k.resource(), watch_access(&client, *k, deadline).await) })
        ),
    );
    report.identity = identity;
    report.crds = crds;
    report.watch = watch;
    report.namespaces_with_releases =
        namespaces_with_releases(&client, &report.crds, deadline).await;
    let present = |crd: Option<&str>| {
        crd.is_none_or(|crd| {
            report
                .crds
                .iter()
                .any(|(c, p)| *c == crd && *p == Presence::Present)
        })
    };
    let wanted: Vec<_> = ACTIONS.iter().filter(|a| present(a.4)).collect();
    let namespaces: Vec<&str> = report
        .namespaces_with_releases
        .iter()
        .take(MAX_NAMESPACES)
        .map(String::as_str)
        .collect();
    report.actions = join_all(
        wanted
            .into_iter()
            .map(|&(verb, resource, group, enables, _)| {
                let client = &client;
                let namespaces = &namespaces;
                async move {
                    let (cluster_wide, per_ns) = tokio::join!(
                        review(client, "", verb, group, resource, deadline),
                        join_all(namespaces.iter().map(|ns| async move {
                            (
                                ns.to_string(),
                                review(client, ns, verb, group, resource, deadline).await,
                            )
                        })),
                    );
                    ActionAccess {
                        verb,
                        resource,
                        enables,
                        cluster_wide,
                        namespaces: per_ns,
                    }
                }
            }),
    )
    .await;
    report
}

async fn whoami(client: &kube::Client, deadline: Duration) -> Option<Untrusted> {
    let api: Api<SelfSubjectReview> = Api::all(client.clone());
    let review = bounded(
        deadline,
        api.create(&PostParams::default(), &SelfSubjectReview::default()),
    )
    .await
    .ok()?;
    let info = review.status?.user_info?;
    let user = info.username.unwrap_or_default();
    let groups: Vec<String> = info
        .groups
        .unwrap_or_default()
        .into_iter()
        .filter(|g| g != "system:authenticated")
        .collect();
    Some(Untrusted::new(if groups.is_empty() {
        user
    } else {
        format!("{user} [{}]", groups.join(", "))
    }))
}

/// Discovery, not the CRD objects: every authenticated identity may read discovery.
async fn crd_presence(
    client: &kube::Client,
    group_version: &str,
    plural: &str,
    deadline: Duration,
) -> Presence {
    match bounded(deadline, client.list_api_group_resources(group_version)).await {
        Ok(list) if list.resources.iter().any(|r| r.name == plural) => Presence::Present,
        Ok(_) => Presence::Absent,
        Err(e) if e.raw().contains("404") || e.raw().contains("NotFound") => Presence::Absent,
        Err(e) => Presence::Unknown(e),
    }
}

async fn watch_access(client: &kube::Client, kind: Watched, deadline: Duration) -> Access {
    let (plural, group) = kind
        .resource()
        .split_once('.')
        .unwrap_or((kind.resource(), ""));
    let (list, watch) = tokio::join!(
        review(client, "", "list", group, plural, deadline),
        review(client, "", "watch", group, plural, deadline),
    );
    match (list, watch) {
        (Access::Allowed, Access::Allowed) => Access::Allowed,
        (Access::Unknown(e), _) | (_, Access::Unknown(e)) => Access::Unknown(e),
        _ => Access::Denied,
    }
}

/// SelfSubjectAccessReview for `verb` on `resource` (`plural` or `plural/sub`) in `namespace`
/// ("" = all namespaces).
async fn review(
    client: &kube::Client,
    namespace: &str,
    verb: &str,
    group: &str,
    resource: &str,
    deadline: Duration,
) -> Access {
    let (plural, sub) = match resource.split_once('/') {
        Some((p, s)) => (p, Some(s.to_string())),
        None => (resource, None),
    };
    let ask = SelfSubjectAccessReview {
        spec: SelfSubjectAccessReviewSpec {
            resource_attributes: Some(ResourceAttributes {
                namespace: Some(namespace.to_string()),
                verb: Some(verb.to_string()),
                group: Some(group.to_string()),
                resource: Some(plural.to_string()),
                subresource: sub,
                ..ResourceAttributes::default()
            }),
            ..SelfSubjectAccessReviewSpec::default()
        },
        ..SelfSubjectAccessReview::default()
    };
    let api: Api<SelfSubjectAccessReview> = Api::all(client.clone());
    match bounded(deadline, api.create(&PostParams::default(), &ask)).await {
        Ok(answer) => match answer.status {
            Some(s) if s.allowed => Access::Allowed,
            Some(_) => Access::Denied,
            None => Access::Unknown(Untrusted::new("no status in the review")),
        },
        Err(e) => Access::Unknown(e),
    }
}

/// Namespaces holding Deployments, Rollouts or Canaries (metadata-only lists).
async fn namespaces_with_releases(
    client: &kube::Client,
    crds: &[(&'static str, Presence)],
    deadline: Duration,
) -> Vec<String> {
    let lp = ListParams::default();
    let mut out = BTreeSet::new();
    let deployments: Api<Deployment> = Api::all(client.clone());
    if let Ok(list) = bounded(deadline, deployments.list_metadata(&lp)).await {
        out.extend(list.items.into_iter().filter_map(|m| m.metadata.namespace));
    }
    for kind in [Watched::Rollouts, Watched::Canaries] {
        let installed = crds
            .iter()
            .any(|(c, p)| *c == kind.resource() && *p == Presence::Present);
        let Some(ar) = kind.custom_resource().filter(|_| installed) else {
            continue;
        };
        let api: Api<DynamicObject> = Api::all_with(client.clone(), &ar);
        if let Ok(list) = bounded(deadline, api.list_metadata(&lp)).await {
            out.extend(list.items.into_iter().filter_map(|m| m.metadata.namespace));
        }
    }
    out.into_iter().collect()
}
