//! The live mode: per chosen cluster a watch source and a kube action target (clients built
//! side by side), and Prometheus for the SLOs. A cluster whose client cannot be built is
//! shown unreachable, not fatal. Must not build requests (that is `action::kube`).

use std::sync::Arc;

use jiff::Timestamp;

use super::{Wiring, initial_slos};
use crate::action::kube::KubeTarget;
use crate::cli::Opts;
use crate::config::Config;
use crate::config::resolve;
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
    let mut w = Wiring::new(State::new(Timestamp::now(), settings, clusters, slos), 8192);
    // Clients are built side by side: a slow exec plugin on one must not delay the others.
    let builds = chosen.iter().map(|c| async move {
        let watch = kube_client::client_for(Some(&c.context)).await;
        let act = KubeTarget::connect(Some(&c.context))
            .await
            .map(|t| t.with_loadtester(c.loadtester.as_deref()));
        (c.display_name().to_string(), watch, act)
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
        if let Ok(target) = act {
            w.targets.insert(name, Arc::new(target));
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
