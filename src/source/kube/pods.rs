//! On-demand reads for the pods screen and the detail's events: one ReplicaSet's pods,
//! listed and then watched in its namespace with its label selector only while the screen
//! is open (the caller aborts the future on Esc), and the events of a release, its
//! ReplicaSets and their pods, listed once (field selector `involvedObject.uid`). Nothing here
//! is a permanent watch: the steady state keeps the cluster's five to eight (`kinds::WATCHED`).

use futures::StreamExt;
use k8s_openapi::api::core::v1::{Event as K8sEvent, Pod};
use kube::api::{Api, ListParams};
use kube::runtime::WatchStreamExt;
use kube::runtime::watcher::{self, Event};
use tokio::sync::mpsc;

use super::client;
use super::project::pod::{object_event, pod};
use crate::core::kinds::pod::{EventsQuery, ObjectEvent, PodQuery, PodsChange};
use crate::core::msg::Msg;
use crate::core::text::Untrusted;

/// Watch the query's pods until the console goes away or the future is dropped; every
/// change goes to `tx` as `Msg::Pods`. A failed list or watch is reported (shown on the
/// screen) and retried by the watcher's backoff.
pub async fn watch(client: kube::Client, q: PodQuery, tx: mpsc::Sender<Msg>) {
    let api: Api<Pod> = Api::namespaced(client, &q.namespace);
    let config = watcher::Config::default()
        .labels(&q.selector)
        .timeout(client::WATCH_TIMEOUT_SECS);
    let stream = watcher::watcher(api, config).default_backoff();
    futures::pin_mut!(stream);
    let mut listing = Vec::new();
    while let Some(item) = stream.next().await {
        let change = match item {
            Ok(Event::Init) => {
                listing.clear();
                continue;
            }
            Ok(Event::InitApply(p)) => {
                listing.push(pod(&p));
                continue;
            }
            Ok(Event::InitDone) => PodsChange::Listed(std::mem::take(&mut listing)),
            Ok(Event::Apply(p)) => PodsChange::Upsert(pod(&p)),
            Ok(Event::Delete(p)) => PodsChange::Deleted(p.metadata.name.unwrap_or_default()),
            Err(e) => PodsChange::Failed(Untrusted::new(format!(
                "cannot read pods {} in {}: {e}",
                q.selector, q.namespace
            ))),
        };
        let msg = Msg::Pods {
            watch: q.watch,
            change,
        };
        if tx.send(msg).await.is_err() {
            return;
        }
    }
}

/// The events of the query's objects (by uid) and of the pods of its ReplicaSets (by name,
/// from the namespace's Pod events), each once.
pub async fn events(client: kube::Client, q: EventsQuery) -> Result<Vec<ObjectEvent>, Untrusted> {
    let api: Api<K8sEvent> = Api::namespaced(client, &q.namespace);
    let failed = |what: &str, e: kube::Error| {
        Untrusted::new(format!(
            "cannot list events of {what} in {}: {e}",
            q.namespace
        ))
    };
    let mut out = Vec::new();
    for o in &q.objects {
        let lp = ListParams::default().fields(&format!("involvedObject.uid={}", o.uid));
        let list = api
            .list(&lp)
            .await
            .map_err(|e| failed(&format!("{} {}", o.kind, o.name), e))?;
        out.extend(list.items.iter().map(object_event));
    }
    if !q.pods_of.is_empty() {
        let lp = ListParams::default().fields("involvedObject.kind=Pod");
        let list = api.list(&lp).await.map_err(|e| failed("its pods", e))?;
        out.extend(
            list.items
                .iter()
                .map(object_event)
                .filter(|e| q.wants_pod(&e.object_name)),
        );
    }
    Ok(out)
}
