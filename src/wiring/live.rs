//! The live mode: per chosen cluster a watch source and a kube action target (clients built
//! side by side), and Prometheus for the SLOs. A cluster whose client cannot be built is
//! shown unreachable, not fatal. A read-only cluster (global `--read-only`, the config's
//! `read_only`, or the cluster's own; the most restrictive wins) gets a `RefusingTarget`: no
//! write-capable client is built for it, only the watch. Must not build requests (that is
//! `action::kube`).

use std::sync::Arc;

use jiff::Timestamp;

use super::{Wiring, initial_slos};
use crate::action::kube::KubeTarget;
use crate::action::{ActionTarget, RefusingTarget};
use crate::cli::Opts;
use crate::config::resolve;
use crate::config::{ClusterConfig, Config};
use crate::core::State;
use crate::core::model::{Cluster, Connection};
use crate::core::msg::Msg;
use crate::source::kube::client as kube_client;
use crate::source::kube::project::Keep;
use crate::source::kube::{ClusterOptions, spawn_cluster_with};
use crate::source::prometheus;

/// Start the chosen clusters' sources; the Prometheus task only when `prometheus_task`
/// (snapshot evaluates the SLOs once instead).
pub async fn wiring(opts: &Opts, config: &Config, prometheus_task: bool) -> anyhow::Result<Wiring> {
    let chosen = super::clusters(opts, config)?;
    let settings = resolve::settings(opts, config, "");
    let clusters: Vec<Cluster> = chosen
        .iter()
        .map(|c| {
            let mut cluster = Cluster::new(c.display_name());
            cluster.labels = c.labels.clone();
            cluster.read_only = c.read_only;
            cluster
        })
        .collect();
    let slos = initial_slos(prometheus::slo_specs(&config.slos));
    let options = ClusterOptions {
        keep: Keep {
            service_label: Some(settings.service_label.clone()),
        },
        ..ClusterOptions::default()
    };
    let all_read_only = settings.read_only;
    let mut w = Wiring::new(State::new(Timestamp::now(), settings, clusters, slos), 8192);
    // Clients are built side by side: a slow exec plugin on one must not delay the others.
    let builds = chosen.iter().map(|c| async move {
        let name = c.display_name();
        let (watch, act) = futures::future::join(
            kube_client::client_for(Some(&c.context)),
            action_target(c, all_read_only || c.read_only),
        )
        .await;
        (name.to_string(), watch, act)
    });
    for (name, watch, act) in futures::future::join_all(builds).await {
        match watch {
            Ok(client) => w.clusters.push(spawn_cluster_with(
                name.clone(),
                client,
                w.tx.clone(),
                options.clone(),
            )),
            Err(e) => {
                let _ = w.tx.try_send(Msg::Connection {
                    cluster: name.clone(),
                    connection: Connection::Unreachable {
                        reason: e.to_string().into(),
                    },
                });
            }
        }
        if let Some(target) = act {
            w.targets.insert(name, target);
        }
    }
    if prometheus_task {
        prometheus::spawn_all(
            prometheus::assign(config, opts.prometheus.as_deref()),
            w.tx.clone(),
        );
    }
    Ok(w)
}

/// The action target for one cluster: a refusing one (no client at all) when read-only, else
/// a kube client for `context` (None when it cannot be built: actions then say so).
async fn action_target(c: &ClusterConfig, read_only: bool) -> Option<Arc<dyn ActionTarget>> {
    if read_only {
        return Some(Arc::new(RefusingTarget::new(c.display_name())));
    }
    let target = KubeTarget::connect(Some(&c.context)).await.ok()?;
    Some(Arc::new(target.with_loadtester(c.loadtester.as_deref())))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::action::{ActionKind, ActionPlan, Seen};
    use crate::core::model::ReleaseKind;
    use crate::core::msg::Outcome;

    fn any_plan() -> ActionPlan {
        ActionPlan {
            kind: ActionKind::Restart,
            cluster: "prod".into(),
            release_kind: ReleaseKind::Deployment,
            namespace: "ns".into(),
            name: "web".into(),
            uid: "u".into(),
            prod: true,
            calls: vec![],
            seen: Seen {
                phase: "Healthy".into(),
                step: None,
                revision: None,
                resource_version: "1".into(),
            },
            notes: vec![],
        }
    }

    #[tokio::test]
    async fn a_read_only_cluster_gets_a_target_without_a_client() {
        // No such context anywhere: a client would fail to build; the refusing one needs none.
        let c = ClusterConfig {
            name: Some("prod".into()),
            ..ClusterConfig::for_context("no-such-context-anywhere")
        };
        let target = action_target(&c, true).await;
        let Some(target) = target else {
            panic!("a read-only cluster still gets a (refusing) target");
        };
        let access = target.check_access("ns".into(), "patch".into(), "rollouts".into());
        assert_eq!(access.await, None);
        assert!(matches!(
            target.dry_run(any_plan()).await,
            Err(e) if e.contains("read-only")
        ));
        assert!(matches!(
            target.execute(any_plan()).await,
            Outcome::Rejected { status: 0, .. }
        ));
    }
}
