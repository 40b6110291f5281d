//! The demo fleet as an action target: the executor sends plans here exactly as it sends them
//! to an API server, and gets the simulated server's answer back.

use futures::future::BoxFuture;
use tokio::sync::{mpsc, oneshot};

use crate::action::ActionTarget;
use crate::core::action::ActionPlan;
use crate::core::kinds::flux_source::{FluxSourceFacts, FluxSourceQuery};
use crate::core::kinds::pod::{EventsQuery, ObjectEvent, PodFacts, PodQuery, PodsChange};
use crate::core::msg::{Msg, Outcome};
use crate::core::text::Untrusted;

/// A plan and where to send the simulation's answer.
pub type DemoRequest = (ActionPlan, oneshot::Sender<Outcome>);

/// A read of the simulation for the pods screen and the detail's events.
pub enum DemoRead {
    /// The pods of a ReplicaSet now (None: the simulation has no such ReplicaSet).
    Pods(PodQuery, oneshot::Sender<Option<Vec<PodFacts>>>),
    Events(EventsQuery, oneshot::Sender<Vec<ObjectEvent>>),
    /// A Flux source of the simulation (None: it has no such source).
    FluxSource(FluxSourceQuery, oneshot::Sender<Option<FluxSourceFacts>>),
    /// What the simulated loadtester says about a Canary's gate.
    Gate(
        crate::core::gates::GateQuery,
        oneshot::Sender<crate::core::facts::GateState>,
    ),
    /// One object as JSON (the YAML view): (cluster, resource, namespace, name).
    Object(
        ObjectRead,
        oneshot::Sender<Result<serde_json::Value, String>>,
    ),
}

/// Which object a [`DemoRead::Object`] asks for.
#[derive(Debug, Clone)]
pub struct ObjectRead {
    pub cluster: String,
    pub resource: crate::core::action::Resource,
    pub namespace: String,
    pub name: String,
}

/// How often the simulated pods watch looks again.
const PODS_EVERY: std::time::Duration = std::time::Duration::from_secs(1);

#[derive(Clone)]
pub struct DemoTarget {
    requests: mpsc::Sender<DemoRequest>,
    read_only: bool,
    reads: Option<mpsc::Sender<DemoRead>>,
    /// The cluster this target answers for (object reads name it).
    cluster: String,
}

impl DemoTarget {
    pub fn new(requests: mpsc::Sender<DemoRequest>, read_only: bool) -> Self {
        DemoTarget {
            requests,
            read_only,
            reads: None,
            cluster: String::new(),
        }
    }

    /// The same target, reading objects of `cluster` (the YAML view).
    pub fn for_cluster(mut self, cluster: &str) -> Self {
        self.cluster = cluster.to_string();
        self
    }

    /// The same target, answering reads (pods, events) from the simulation.
    pub fn with_reads(mut self, reads: mpsc::Sender<DemoRead>) -> Self {
        self.reads = Some(reads);
        self
    }
}

impl ActionTarget for DemoTarget {
    fn execute(&self, plan: ActionPlan) -> BoxFuture<'static, Outcome> {
        let requests = self.requests.clone();
        Box::pin(async move {
            let (tx, rx) = oneshot::channel();
            if requests.send((plan, tx)).await.is_err() {
                return Outcome::Unknown {
                    detail: "the simulation stopped".into(),
                };
            }
            rx.await.unwrap_or(Outcome::Unknown {
                detail: "the simulation dropped the request".into(),
            })
        })
    }

    fn check_access(
        &self,
        _namespace: String,
        _verb: String,
        _resource: String,
    ) -> BoxFuture<'static, Option<bool>> {
        // The demo identity may patch everything unless the console runs read-only.
        let allowed = !self.read_only;
        Box::pin(async move { Some(allowed) })
    }

    fn dry_run(&self, plan: ActionPlan) -> BoxFuture<'static, Result<String, String>> {
        Box::pin(async move {
            Ok(format!(
                "simulated API server accepts {} on {}/{} (dry run)",
                plan.kind, plan.namespace, plan.name
            ))
        })
    }

    fn identity(&self) -> BoxFuture<'static, String> {
        Box::pin(async { "demo-operator".to_string() })
    }

    /// Lists the simulated pods, then again every second, sending what changed as a new
    /// list (the simulation has no watch of its own).
    fn watch_pods(&self, q: PodQuery, tx: mpsc::Sender<Msg>) -> BoxFuture<'static, ()> {
        let reads = self.reads.clone();
        Box::pin(async move {
            let watch = q.watch;
            let Some(reads) = reads else {
                let change = PodsChange::Failed(Untrusted::new("the simulation serves no pods"));
                let _ = tx.send(Msg::Pods { watch, change }).await;
                return;
            };
            let mut last = None;
            loop {
                let (reply, answer) = oneshot::channel();
                if reads.send(DemoRead::Pods(q.clone(), reply)).await.is_err() {
                    return;
                }
                let change = match answer.await {
                    Ok(Some(pods)) => PodsChange::Listed(pods),
                    Ok(None) => PodsChange::Failed(Untrusted::new(format!(
                        "replicasets \"{}\" not found",
                        q.replicaset
                    ))),
                    Err(_) => return,
                };
                if last.as_ref() != Some(&change) {
                    last = Some(change.clone());
                    if tx.send(Msg::Pods { watch, change }).await.is_err() {
                        return;
                    }
                }
                tokio::time::sleep(PODS_EVERY).await;
            }
        })
    }

    fn check_gate(
        &self,
        q: crate::core::gates::GateQuery,
    ) -> BoxFuture<'static, crate::core::facts::GateState> {
        use crate::core::facts::GateState;
        let reads = self.reads.clone();
        Box::pin(async move {
            let gone = || GateState::Unknown("the simulation stopped".into());
            let Some(reads) = reads else {
                return GateState::Unknown("the simulation serves no loadtester".into());
            };
            let (reply, answer) = oneshot::channel();
            if reads.send(DemoRead::Gate(q, reply)).await.is_err() {
                return gone();
            }
            answer.await.unwrap_or_else(|_| gone())
        })
    }

    fn flux_source(
        &self,
        q: FluxSourceQuery,
    ) -> BoxFuture<'static, Result<FluxSourceFacts, Untrusted>> {
        let reads = self.reads.clone();
        Box::pin(async move {
            let gone = || Untrusted::new("the simulation stopped");
            let reads = reads.ok_or_else(|| Untrusted::new("the simulation serves no sources"))?;
            let (reply, answer) = oneshot::channel();
            let what = format!("{} {}/{}", q.kind.api().name, q.namespace, q.name);
            reads
                .send(DemoRead::FluxSource(q, reply))
                .await
                .map_err(|_| gone())?;
            answer
                .await
                .map_err(|_| gone())?
                .ok_or_else(|| Untrusted::new(format!("{what} not found")))
        })
    }

    fn list_events(
        &self,
        q: EventsQuery,
    ) -> BoxFuture<'static, Result<Vec<ObjectEvent>, Untrusted>> {
        let reads = self.reads.clone();
        Box::pin(async move {
            let gone = || Untrusted::new("the simulation stopped");
            let reads = reads.ok_or_else(|| Untrusted::new("the simulation serves no events"))?;
            let (reply, answer) = oneshot::channel();
            reads
                .send(DemoRead::Events(q, reply))
                .await
                .map_err(|_| gone())?;
            answer.await.map_err(|_| gone())
        })
    }

    /// The simulation's object, as the API server would return it.
    fn get_object(
        &self,
        resource: crate::core::action::Resource,
        namespace: String,
        name: String,
    ) -> BoxFuture<'static, Result<serde_json::Value, String>> {
        let reads = self.reads.clone();
        let cluster = self.cluster.clone();
        Box::pin(async move {
            let reads = reads.ok_or("the simulation serves no objects")?;
            let (reply, answer) = oneshot::channel();
            let read = ObjectRead {
                cluster,
                resource,
                namespace,
                name,
            };
            reads
                .send(DemoRead::Object(read, reply))
                .await
                .map_err(|_| "the simulation stopped".to_string())?;
            answer
                .await
                .map_err(|_| "the simulation stopped".to_string())?
        })
    }
}
