//! The API checks for one cluster, each bounded by the deadline. What to check (CRDs,
//! watches, the RBAC each action needs) comes from the kind catalogue and its modules.

use std::collections::BTreeSet;
use std::future::Future;
use std::time::Duration;

use futures::future::join_all;
use k8s_openapi::api::authentication::v1::SelfSubjectReview;
use k8s_openapi::api::authorization::v1::{
    ResourceAttributes, SelfSubjectAccessReview, SelfSubjectAccessReviewSpec,
};
use kube::api::{Api, DynamicObject, ListParams, PostParams};

use super::report::{Access, ActionAccess, ClusterReport, Presence};
use crate::core::kinds::{Kind, Need, Origin, ReleaseKind};
use crate::core::text::Untrusted;
use crate::source::kube::client::client_for;
use crate::source::kube::kinds::{READS, WATCHED, api_resource};
use crate::source::kube::liveness;

/// Namespaces checked one by one at most (the rest are summed up by the cluster-wide answer).
const MAX_NAMESPACES: usize = 20;

/// The RBAC needs of every release kind's actions, with the CRD each needs (None for a
/// built-in kind), from the kind modules.
pub(super) fn actions() -> impl Iterator<Item = (&'static Need, Option<&'static str>)> {
    ReleaseKind::ALL.into_iter().flat_map(|rk| {
        let crd = crd_of(rk.kind());
        rk.needs().iter().map(move |n| (n, crd))
    })
}

/// The CRD behind a kind (`plural.group`), None for a built-in one.
pub(super) fn crd_of(kind: Kind) -> Option<&'static str> {
    match kind.api().origin {
        Origin::Custom => Some(kind.resource()),
        Origin::BuiltIn => None,
    }
}

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

pub async fn cluster(
    name: &str,
    context: &str,
    namespaces: &[String],
    deadline: Duration,
) -> ClusterReport {
    match client_for(Some(context)).await {
        Ok(client) => with_client(name, context, &client, namespaces, deadline).await,
        Err(e) => ClusterReport::unreachable(name, context, Untrusted::new(e.to_string())),
    }
}

/// Check a cluster through an existing client (`context` is only shown); `namespaces` are
/// where the console watches a kind it may not watch cluster-wide.
pub async fn with_client(
    name: &str,
    context: &str,
    client: &kube::Client,
    namespaces: &[String],
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
        crds(&client, deadline),
        join_all(
            WATCHED
                .iter()
                .map(|k| async { (k.resource(), watch_access(&client, *k, deadline).await) })
        ),
    );
    report.identity = identity;
    report.crds = crds;
    report.watch = watch;
    report.fallback_namespaces = namespaces.to_vec();
    let denied: Vec<Kind> = WATCHED
        .into_iter()
        .filter(|k| report.no_access().contains(&k.resource()))
        .collect();
    report.watch_in = join_all(denied.iter().map(|k| {
        let client = &client;
        async move {
            let per = join_all(namespaces.iter().map(|ns| async move {
                (ns.clone(), watch_access_in(client, *k, ns, deadline).await)
            }))
            .await;
            (k.resource(), per)
        }
    }))
    .await;
    report.list_errors = list_errors(&client, &report, deadline).await;
    let mut found = namespaces_with_releases(&client, &report.crds, deadline).await;
    for ns in namespaces {
        if !found.contains(ns) {
            found.push(ns.clone());
        }
    }
    report.namespaces_with_releases = found;
    let present = |crd: Option<&str>| {
        crd.is_none_or(|crd| {
            report
                .crds
                .iter()
                .any(|(c, p)| *c == crd && *p == Presence::Present)
        })
    };
    let wanted: Vec<_> = actions().filter(|(_, crd)| present(*crd)).collect();
    let namespaces: Vec<&str> = report
        .namespaces_with_releases
        .iter()
        .take(MAX_NAMESPACES)
        .map(String::as_str)
        .collect();
    let (actions, reads) = tokio::join!(
        join_all(wanted.into_iter().map(|(need, _)| {
            let Need {
                verb,
                resource,
                group,
                ..
            } = *need;
            access(
                &client,
                verb,
                group,
                resource,
                need.enables(),
                &namespaces,
                deadline,
            )
        })),
        join_all(
            READS
                .iter()
                .filter(|r| present(crd_of(r.kind)))
                .map(|r| access(
                    &client,
                    r.verb,
                    r.kind.api().group,
                    r.resource,
                    r.shows.to_string(),
                    &namespaces,
                    deadline
                ))
        ),
    );
    report.actions = actions;
    report.reads = reads;
    report
}

/// May we `verb` `resource` cluster-wide, and in each of `namespaces`?
async fn access(
    client: &kube::Client,
    verb: &'static str,
    group: &'static str,
    resource: &'static str,
    enables: String,
    namespaces: &[&str],
    deadline: Duration,
) -> ActionAccess {
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

/// Which of the catalogue's CRDs this cluster serves.
async fn crds(client: &kube::Client, deadline: Duration) -> Vec<(&'static str, Presence)> {
    let checks = Kind::ALL
        .into_iter()
        .filter_map(|k| crd_of(k).map(|crd| (k, crd)))
        .map(|(k, crd)| async move {
            let gv = k.api_version();
            (
                crd,
                crd_presence(client, &gv, k.api().plural, deadline).await,
            )
        });
    join_all(checks).await
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

async fn watch_access(client: &kube::Client, kind: Kind, deadline: Duration) -> Access {
    watch_access_in(client, kind, "", deadline).await
}

/// May we list and watch `kind` in `namespace` ("" = all namespaces)?
async fn watch_access_in(
    client: &kube::Client,
    kind: Kind,
    namespace: &str,
    deadline: Duration,
) -> Access {
    let (plural, group) = (kind.api().plural, kind.api().group);
    let (list, watch) = tokio::join!(
        review(client, namespace, "list", group, plural, deadline),
        review(client, namespace, "watch", group, plural, deadline),
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

/// Each kind we may read, listed as the console lists it (every page of whole objects,
/// cluster-wide or in the first namespace we may read it in): a kind whose list fails for
/// another reason than access or absence (a 500, e.g. a failing conversion webhook; an
/// answer that cannot be decoded) is named with the server's words.
async fn list_errors(
    client: &kube::Client,
    report: &ClusterReport,
    deadline: Duration,
) -> Vec<(&'static str, Untrusted)> {
    let checks = WATCHED.into_iter().filter_map(|kind| {
        let resource = kind.resource();
        if !crd_of(kind).is_none_or(|crd| {
            report
                .crds
                .iter()
                .any(|(c, p)| *c == crd && *p == Presence::Present)
        }) {
            return None;
        }
        let allowed = report
            .watch
            .iter()
            .any(|(r, a)| *r == resource && *a == Access::Allowed);
        let ar = api_resource(kind);
        let api: Api<DynamicObject> = if allowed {
            Api::all_with(client.clone(), &ar)
        } else {
            let ns = report.watched_in(resource).into_iter().next()?;
            Api::namespaced_with(client.clone(), ns, &ar)
        };
        Some(async move {
            match tokio::time::timeout(deadline, list_every_page(&api)).await {
                Ok(Ok(())) => None,
                Ok(Err(kube::Error::Api(s))) if matches!(s.code, 403 | 404) => None,
                Ok(Err(kube::Error::Api(s))) => Some((
                    resource,
                    Untrusted::new(format!("{} {}", s.code, s.message)),
                )),
                Ok(Err(e @ kube::Error::SerdeError(_))) => {
                    Some((resource, Untrusted::new(format!("decode: {e}"))))
                }
                // Not answered at all: the reachability check says so already.
                Ok(Err(_)) | Err(_) => None,
            }
        })
    });
    join_all(checks).await.into_iter().flatten().collect()
}

/// Every page of a kind, as the watcher's first list reads it (pages of 500 whole objects):
/// one object the server cannot decode (or we cannot) fails the list wherever it is, so
/// the first page alone would miss it.
async fn list_every_page(api: &Api<DynamicObject>) -> kube::Result<()> {
    let mut lp = ListParams::default().limit(500);
    loop {
        let page = api.list(&lp).await?;
        match page.metadata.continue_.filter(|c| !c.is_empty()) {
            Some(token) => lp = lp.continue_token(&token),
            None => return Ok(()),
        }
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
    for kind in ReleaseKind::ALL.map(ReleaseKind::kind) {
        let installed = crd_of(kind).is_none_or(|crd| {
            crds.iter()
                .any(|(c, p)| *c == crd && *p == Presence::Present)
        });
        if !installed {
            continue;
        }
        let api: Api<DynamicObject> = Api::all_with(client.clone(), &api_resource(kind));
        if let Ok(list) = bounded(deadline, api.list_metadata(&lp)).await {
            out.extend(list.items.into_iter().filter_map(|m| m.metadata.namespace));
        }
    }
    out.into_iter().collect()
}
