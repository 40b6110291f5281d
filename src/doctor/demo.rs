//! `doctor --demo`: the same report over the simulated fleet. Each cluster's connection,
//! version and namespaces come from the simulation's first state; identity and every action
//! permission are asked of the demo's own action targets, exactly as the console asks them
//! (a read-only cluster's refusing target is not asked, and says so). The simulator serves
//! every kind of the catalogue, so every CRD is present and every kind watchable, except a
//! kind the simulation forbids on a cluster.

use std::collections::BTreeSet;

use futures::future::join_all;

use super::checks::{actions, crd_of};
use super::report::{
    Access, ActionAccess, ClusterReport, DoctorReport, Presence, PrometheusReport,
};
use crate::action::ActionTarget;
use crate::cli::Opts;
use crate::config::Config;
use crate::core::kinds::Kind;
use crate::core::model::Connection;
use crate::core::text::Untrusted;
use crate::source::kube::kinds::{READS, WATCHED};
use crate::wiring::demo;

/// What an action target answers, as doctor shows it.
async fn ask(target: &dyn ActionTarget, namespace: &str, verb: &str, resource: &str) -> Access {
    let answer = target
        .check_access(namespace.into(), verb.into(), resource.into())
        .await;
    match answer {
        Some(true) => Access::Allowed,
        Some(false) => Access::Denied,
        None => Access::Unknown(Untrusted::new("read-only cluster: not asked")),
    }
}

/// `verb resource` as the target answers it, cluster-wide and in each namespace.
async fn access(
    target: &dyn ActionTarget,
    namespaces: &BTreeSet<&str>,
    verb: &'static str,
    resource: &'static str,
    enables: String,
) -> ActionAccess {
    let mut per_ns = Vec::new();
    for ns in namespaces {
        per_ns.push((ns.to_string(), ask(target, ns, verb, resource).await));
    }
    ActionAccess {
        verb,
        resource,
        enables,
        cluster_wide: ask(target, "", verb, resource).await,
        namespaces: per_ns,
    }
}

/// The simulated fleet's report for `opts.seed`.
pub async fn simulated(opts: &Opts, config: &Config) -> DoctorReport {
    let state = demo::still(opts, config);
    let wiring = demo::simulated(opts, config);
    let mut clusters = Vec::new();
    for c in &state.clusters {
        let mut report = ClusterReport::unreachable(
            &c.name,
            &format!("simulated, seed {}", opts.seed),
            Untrusted::default(),
        );
        report.reachable = match &c.connection {
            Connection::Connected | Connection::Stale { .. } => Ok(format!(
                "{} (simulated)",
                c.server_version.as_deref().unwrap_or("unknown")
            )),
            other => Err(Untrusted::new(other.label(state.now))),
        };
        if report.reachable.is_err() {
            clusters.push(report);
            continue;
        }
        let Some(target) = wiring.targets.get(&c.name) else {
            report.reachable = Err(Untrusted::new("no simulated API for this cluster"));
            clusters.push(report);
            continue;
        };
        report.identity = Some(Untrusted::new(target.identity().await));
        report.crds = Kind::ALL
            .into_iter()
            .filter_map(crd_of)
            .map(|crd| (crd, Presence::Present))
            .collect();
        report.watch = WATCHED
            .iter()
            .map(|k| {
                let forbidden = c.forbidden_kinds.iter().any(|f| f == k.resource());
                let access = if forbidden {
                    Access::Denied
                } else {
                    Access::Allowed
                };
                (k.resource(), access)
            })
            .collect();
        let namespaces: BTreeSet<&str> = state
            .releases
            .keys()
            .filter(|k| k.cluster == c.name)
            .map(|k| k.namespace.as_str())
            .collect();
        report.namespaces_with_releases = namespaces.iter().map(|n| n.to_string()).collect();
        let target = target.as_ref();
        let asked = |verb, resource, enables| access(target, &namespaces, verb, resource, enables);
        report.actions =
            join_all(actions().map(|(need, _)| asked(need.verb, need.resource, need.enables())))
                .await;
        // The simulator serves its reads to anyone (read-only or not): nothing to ask.
        report.reads = READS
            .iter()
            .map(|r| ActionAccess {
                verb: r.verb,
                resource: r.resource,
                enables: r.shows.to_string(),
                cluster_wide: Access::Allowed,
                namespaces: Vec::new(),
            })
            .collect();
        clusters.push(report);
    }
    DoctorReport {
        clusters,
        prometheus: Some(PrometheusReport {
            url: "simulated".into(),
            result: Ok("SLO reports from the simulation".into()),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_simulated_fleet_is_checked_not_the_kubeconfig() {
        let opts = Opts {
            demo: true,
            seed: 1,
            ..Opts::default()
        };
        let report = simulated(&opts, &Config::default()).await;
        assert!(report.clusters.len() >= 3, "{report}");
        assert_eq!(report.exit_code(), 0, "{report}");
        let text = report.to_string();
        assert!(
            text.contains("cluster prod-eu-1 (context simulated, seed 1)"),
            "{text}"
        );
        assert!(text.contains("identity     demo-operator"), "{text}");
        assert!(text.contains("rollouts.argoproj.io"), "{text}");
        let prod = report
            .clusters
            .iter()
            .find(|c| c.name == "prod-eu-1")
            .expect("prod-eu-1");
        assert!(
            prod.namespaces_with_releases.iter().any(|n| n == "shop"),
            "{text}"
        );
        assert!(!prod.actions.is_empty(), "{text}");
        assert!(
            text.contains("read         get pods/log               all namespaces: yes"),
            "{text}"
        );
        assert!(
            prod.actions
                .iter()
                .all(|a| a.cluster_wide == Access::Allowed),
            "the demo identity may do everything: {text}"
        );
    }

    #[tokio::test]
    async fn a_read_only_demo_is_not_asked_for_write_access() {
        let opts = Opts {
            demo: true,
            read_only: true,
            ..Opts::default()
        };
        let report = simulated(&opts, &Config::default()).await;
        let text = report.to_string();
        assert!(
            report.clusters.iter().all(|c| c
                .actions
                .iter()
                .all(|a| matches!(a.cluster_wide, Access::Unknown(_)))),
            "{text}"
        );
        assert!(text.contains("read-only cluster: not asked"), "{text}");
    }
}
