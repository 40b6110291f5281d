//! The live mode: per chosen cluster a watch source and a kube action target, and Prometheus
//! for the SLOs. Nothing here waits for a client: each cluster's clients are built on its own
//! tasks (exec plugins included), side by side and after the console has drawn its first
//! frame; a client that cannot be built is shown unreachable with the reason and tried
//! again with backoff, and rebuilt before its credentials expire. A read-only cluster (global `--read-only`, the config's
//! `read_only`, or the cluster's own; the most restrictive wins) gets a `RefusingTarget`: no
//! write-capable client is built for it, only the watch. Must not build requests (that is
//! `action::kube`).

use std::sync::{Arc, RwLock};
use std::time::Duration;

use futures::future::BoxFuture;
use jiff::Timestamp;
use tokio::sync::Notify;
use tokio::task::JoinHandle;

use super::{Wiring, initial_slos};
use crate::action::kube::KubeTarget;
use crate::action::{ActionTarget, RefusingTarget};
use crate::cli::Opts;
use crate::config::resolve;
use crate::config::{ClusterConfig, Config};
use crate::core::State;
use crate::core::action::ActionPlan;
use crate::core::model::Cluster;
use crate::core::msg::Outcome;
use crate::source::kube::client as kube_client;
use crate::source::kube::cluster::renewal;
use crate::source::kube::project::Keep;
use crate::source::kube::{ClusterHandle, ClusterOptions, Connect, spawn_cluster_connecting};
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
    for c in &chosen {
        let name = c.display_name().to_string();
        let options = ClusterOptions {
            namespaces: fallback_namespaces(c),
            ..options.clone()
        };
        w.clusters.push(spawn_cluster_connecting(
            name.clone(),
            watch_connect(&c.context),
            w.tx.clone(),
            options,
        ));
        let (target, builder) = action_target(c, all_read_only || c.read_only);
        if let Some(task) = builder {
            w.clusters.push(ClusterHandle::for_task(name.clone(), task));
        }
        w.targets.insert(name.clone(), target);
        let logs = crate::source::kube::logs::KubeLogs::for_context(&c.context);
        w.logs.insert(name, Arc::new(logs));
    }
    if prometheus_task {
        prometheus::spawn_all(
            prometheus::assign(config, opts.prometheus.as_deref()),
            w.tx.clone(),
        );
    }
    Ok(w)
}

/// Where a kind this identity may not list cluster-wide is watched instead: the cluster's
/// configured `namespaces`, else the kubeconfig context's namespace when it names one (what
/// a namespace-scoped identity can name without listing namespaces, which it may not).
pub fn fallback_namespaces(c: &ClusterConfig) -> Vec<String> {
    if !c.namespaces.is_empty() {
        return c.namespaces.clone();
    }
    kube_client::context_namespace(&c.context)
        .into_iter()
        .collect()
}

/// Builds `context`'s watch client (exec plugin included) whenever the cluster asks.
fn watch_connect(context: &str) -> Connect {
    let context = context.to_string();
    Arc::new(move || {
        let context = context.clone();
        Box::pin(async move { kube_client::client_for(Some(&context)).await })
    })
}

/// `context`'s action client: kube's retries off (P10), reads inside the deadline.
async fn action_client(context: &str) -> Result<kube::Client, kube_client::KubeError> {
    let mut config = kube_client::config_for(Some(context)).await?;
    crate::action::kube::target::no_retries(&mut config);
    kube_client::build(config, context).await
}

/// The action target for one cluster: a refusing one (no client at all) when read-only,
/// else one whose client is built (and renewed) by the returned task.
fn action_target(
    c: &ClusterConfig,
    read_only: bool,
) -> (Arc<dyn ActionTarget>, Option<JoinHandle<()>>) {
    if read_only {
        return (Arc::new(RefusingTarget::new(c.display_name())), None);
    }
    let slot = Arc::new(RwLock::new(Err(
        "its client is still being built".to_string()
    )));
    let refused = Arc::new(Notify::new());
    let task = tokio::spawn(keep_built(
        c.context.clone(),
        c.loadtester.clone(),
        slot.clone(),
        refused.clone(),
    ));
    (Arc::new(LiveTarget { slot, refused }), Some(task))
}

const BUILD_RETRY_FIRST: Duration = Duration::from_secs(1);
const BUILD_RETRY_MAX: Duration = Duration::from_secs(60);

/// Build the action client, again with backoff while it fails, again before its
/// credentials expire, and again at once when the server refused them (401, `refused`).
async fn keep_built(context: String, loadtester: Option<String>, slot: Slot, refused: Arc<Notify>) {
    let mut wait = BUILD_RETRY_FIRST;
    loop {
        match action_client(&context).await {
            Ok(client) => {
                tracing::info!(%context, "action client ready");
                let due = renewal(&client);
                let target = KubeTarget::new(client).with_loadtester(loadtester.as_deref());
                *slot
                    .write()
                    .unwrap_or_else(std::sync::PoisonError::into_inner) = Ok(target);
                wait = BUILD_RETRY_FIRST;
                let expiry = async {
                    match due {
                        Some(at) => tokio::time::sleep_until(at).await,
                        None => std::future::pending().await,
                    }
                };
                tokio::select! {
                    () = expiry => {}
                    () = refused.notified() => {
                        tracing::info!(%context, "action credentials refused (401): rebuilding the action client");
                    }
                }
            }
            Err(e) => {
                tracing::info!(%context, error = %e, "cannot build the action client; trying again in {wait:?}");
                {
                    let mut current = slot
                        .write()
                        .unwrap_or_else(std::sync::PoisonError::into_inner);
                    // A client that still works is kept until a fresh one is built.
                    if current.is_err() {
                        *current = Err(e.to_string());
                    }
                }
                tokio::time::sleep(wait).await;
                wait = (wait * 2).min(BUILD_RETRY_MAX);
            }
        }
    }
}

type Slot = Arc<RwLock<Result<KubeTarget, String>>>;

/// A cluster's action target whose client is built in the background: until it is, every
/// request is refused (nothing sent) with the reason.
struct LiveTarget {
    slot: Slot,
    /// Wakes the builder: the server answered 401 (credentials no longer accepted).
    refused: Arc<Notify>,
}

impl LiveTarget {
    fn current(&self) -> Result<KubeTarget, String> {
        self.slot
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }
}

fn not_sent(why: &str) -> String {
    format!("not sent: no client for this cluster ({why})")
}

/// A 401 from an action: the client is rebuilt (the request was not applied: authentication
/// comes before anything else), and the outcome says to try again.
fn after_unauthorized(outcome: Outcome, refused: &Notify) -> Outcome {
    match outcome {
        Outcome::Forbidden {
            status: 401,
            detail,
        } => {
            refused.notify_one();
            Outcome::Forbidden {
                status: 401,
                detail: format!(
                    "{detail} (credentials refused: the client is being rebuilt; try again)"
                ),
            }
        }
        other => other,
    }
}

impl ActionTarget for LiveTarget {
    fn execute(&self, plan: ActionPlan) -> BoxFuture<'static, Outcome> {
        match self.current() {
            Ok(t) => {
                let refused = self.refused.clone();
                let sent = t.execute(plan);
                Box::pin(async move { after_unauthorized(sent.await, &refused) })
            }
            Err(why) => Box::pin(async move {
                Outcome::Rejected {
                    status: 0,
                    detail: not_sent(&why),
                }
            }),
        }
    }

    fn check_access(
        &self,
        namespace: String,
        verb: String,
        resource: String,
    ) -> BoxFuture<'static, Option<bool>> {
        match self.current() {
            Ok(t) => t.check_access(namespace, verb, resource),
            Err(_) => Box::pin(async { None }),
        }
    }

    fn dry_run(&self, plan: ActionPlan) -> BoxFuture<'static, Result<String, String>> {
        match self.current() {
            Ok(t) => t.dry_run(plan),
            Err(why) => Box::pin(async move { Err(not_sent(&why)) }),
        }
    }

    fn identity(&self) -> BoxFuture<'static, String> {
        match self.current() {
            Ok(t) => t.identity(),
            Err(_) => Box::pin(async { "unknown".to_string() }),
        }
    }

    fn watch_pods(
        &self,
        q: crate::core::kinds::pod::PodQuery,
        tx: tokio::sync::mpsc::Sender<crate::core::Msg>,
    ) -> BoxFuture<'static, ()> {
        match self.current() {
            Ok(t) => t.watch_pods(q, tx),
            Err(why) => Box::pin(async move {
                let change =
                    crate::core::kinds::pod::PodsChange::Failed(crate::core::text::Untrusted::new(
                        format!("pods not read: no client for this cluster ({why})"),
                    ));
                let _ = tx
                    .send(crate::core::Msg::Pods {
                        watch: q.watch,
                        change,
                    })
                    .await;
            }),
        }
    }

    fn list_events(
        &self,
        q: crate::core::kinds::pod::EventsQuery,
    ) -> BoxFuture<
        'static,
        Result<Vec<crate::core::kinds::pod::ObjectEvent>, crate::core::text::Untrusted>,
    > {
        match self.current() {
            Ok(t) => t.list_events(q),
            Err(why) => Box::pin(async move {
                Err(crate::core::text::Untrusted::new(format!(
                    "events not read: no client for this cluster ({why})"
                )))
            }),
        }
    }

    fn get_object(
        &self,
        resource: crate::core::action::Resource,
        namespace: String,
        name: String,
    ) -> BoxFuture<'static, Result<serde_json::Value, String>> {
        match self.current() {
            Ok(t) => t.get_object(resource, namespace, name),
            Err(why) => Box::pin(async move { Err(format!("no client for this cluster ({why})")) }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::action::{ActionKind, Seen};
    use crate::core::model::ReleaseKind;

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
            owner_first: None,
        }
    }

    #[tokio::test]
    async fn a_read_only_cluster_gets_a_target_without_a_client() {
        // No such context anywhere: a client would fail to build; the refusing one needs none.
        let c = ClusterConfig {
            name: Some("prod".into()),
            ..ClusterConfig::for_context("no-such-context-anywhere")
        };
        let (target, builder) = action_target(&c, true);
        assert!(
            builder.is_none(),
            "no client is built for a read-only cluster"
        );
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
