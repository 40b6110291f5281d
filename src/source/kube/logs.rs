//! Container logs from the API server (`GET pods/{name}/log`, as `kubectl logs`): the access
//! review first (`get pods/log`, with the reason shown when refused), then the session's pods
//! (one named pod, or every pod a release's canary ReplicaSets own), then one stream per
//! container, read line by line as bytes (invalid UTF-8 stays visible) and reported as
//! `Msg::Logs`. Every stream lives inside the session's one task: aborting it (the view
//! closed) drops the connections. Owns no view state; lines are `Untrusted`.

use futures::future::{BoxFuture, join_all};
use futures::{AsyncBufReadExt, FutureExt};
use k8s_openapi::api::authorization::v1::SelfSubjectAccessReview;
use k8s_openapi::api::core::v1::Pod;
use kube::api::{Api, ListParams, LogParams, PostParams};
use tokio::sync::mpsc;

use crate::action::kube::access;
use crate::core::Msg;
use crate::core::logs::{LogEvent, LogRequest, LogSource, StreamName};
use crate::core::text::Untrusted;
use crate::source::logs::LogBackend;

/// Most pods one release's view follows (its canary ReplicaSets rarely have more).
pub const MAX_PODS: usize = 12;
/// Lines sent in one message at most (the first 200 arrive in a burst).
const BATCH: usize = 256;

/// Log streams of one cluster, through its client (built from the kubeconfig context on
/// the first view opened, so a console that never opens logs never builds it).
#[derive(Clone)]
pub struct KubeLogs {
    context: Option<String>,
    client: std::sync::Arc<tokio::sync::OnceCell<kube::Client>>,
}

impl KubeLogs {
    pub fn new(client: kube::Client) -> Self {
        KubeLogs {
            context: None,
            client: std::sync::Arc::new(tokio::sync::OnceCell::new_with(Some(client))),
        }
    }

    pub fn for_context(context: &str) -> Self {
        KubeLogs {
            context: Some(context.to_string()),
            client: std::sync::Arc::default(),
        }
    }
}

impl LogBackend for KubeLogs {
    fn stream(&self, request: LogRequest, tx: mpsc::Sender<Msg>) -> BoxFuture<'static, ()> {
        let this = self.clone();
        Box::pin(async move {
            let built = this
                .client
                .get_or_try_init(|| super::client::client_for(this.context.as_deref()))
                .await;
            match built {
                Ok(client) => run(client.clone(), request, tx).await,
                Err(e) => {
                    let error = Untrusted::new(format!("cannot build the cluster's client: {e}"));
                    let session = request.session;
                    send(&tx, LogEvent::Failed { session, error }).await;
                }
            }
        })
    }
}

async fn send(tx: &mpsc::Sender<Msg>, event: LogEvent) -> bool {
    tx.send(Msg::Logs(event)).await.is_ok()
}

/// One session: access review, pods, then every container's stream until all end.
pub async fn run(client: kube::Client, req: LogRequest, tx: mpsc::Sender<Msg>) {
    let session = req.session;
    if req.check_access
        && let Some(reason) = refusal(&client, &req.namespace).await
    {
        send(&tx, LogEvent::Refused { session, reason }).await;
        return;
    }
    let streams = match streams_of(&client, &req).await {
        Ok(s) => s,
        Err(error) => {
            send(&tx, LogEvent::Failed { session, error }).await;
            return;
        }
    };
    let names = streams.clone();
    if !send(&tx, LogEvent::Streams { session, streams }).await {
        return;
    }
    let api: Api<Pod> = Api::namespaced(client, &req.namespace);
    let pumps = names
        .into_iter()
        .enumerate()
        .map(|(i, name)| pump(&api, &req, i, name, &tx));
    join_all(pumps).await;
}

/// Why this identity may not read logs here, if the API server says it may not (None: it
/// may, or the review could not be made — the stream itself then says what is wrong).
async fn refusal(client: &kube::Client, namespace: &str) -> Option<Untrusted> {
    let api: Api<SelfSubjectAccessReview> = Api::all(client.clone());
    let answer = api
        .create(
            &PostParams::default(),
            &access::review(namespace, "get", "pods/log"),
        )
        .await
        .ok()?;
    let status = answer.status?;
    if status.allowed {
        return None;
    }
    let who = access::whoami(client.clone())
        .await
        .unwrap_or_else(|| "this identity".into());
    let why = [status.reason, status.evaluation_error]
        .into_iter()
        .flatten()
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join("; ");
    let mut text = format!(
        "RBAC: {who} may not get pods/log in namespace {namespace} (SelfSubjectAccessReview denied)"
    );
    if !why.is_empty() {
        text.push_str(": ");
        text.push_str(&why);
    }
    text.push_str(" — ask for `get` on `pods/log` there");
    Some(Untrusted::new(text))
}

/// The containers to stream: the named pod's (its default or given container), or the
/// default container of every pod the ReplicaSets own, by name.
async fn streams_of(client: &kube::Client, req: &LogRequest) -> Result<Vec<StreamName>, Untrusted> {
    let api: Api<Pod> = Api::namespaced(client.clone(), &req.namespace);
    match &req.source {
        LogSource::Pod { pod, container } => {
            let p = api.get(pod).await.map_err(|e| said(&e, "get pod"))?;
            let container = match container {
                Some(c) => c.clone(),
                None => default_container(&p)
                    .ok_or_else(|| Untrusted::new(format!("pod {pod} has no containers")))?,
            };
            Ok(vec![StreamName {
                pod: pod.clone(),
                container,
            }])
        }
        LogSource::ReplicaSets(sets) => {
            let list = api
                .list(&ListParams::default())
                .await
                .map_err(|e| said(&e, "list pods"))?;
            let mut pods: Vec<&Pod> = list.items.iter().filter(|p| owned_by(p, sets)).collect();
            pods.sort_by(|a, b| a.metadata.name.cmp(&b.metadata.name));
            let streams: Vec<StreamName> = pods
                .into_iter()
                .take(MAX_PODS)
                .filter_map(|p| {
                    Some(StreamName {
                        pod: p.metadata.name.clone()?,
                        container: default_container(p)?,
                    })
                })
                .collect();
            if streams.is_empty() {
                return Err(Untrusted::new(format!(
                    "no pods of {} in namespace {} yet",
                    sets.join(", "),
                    req.namespace
                )));
            }
            Ok(streams)
        }
    }
}

fn owned_by(pod: &Pod, sets: &[String]) -> bool {
    pod.metadata
        .owner_references
        .iter()
        .flatten()
        .any(|o| o.kind == "ReplicaSet" && sets.contains(&o.name))
}

/// `kubectl logs`'s choice: the `kubectl.kubernetes.io/default-container` annotation, else
/// the first container.
pub fn default_container(pod: &Pod) -> Option<String> {
    let annotated = pod
        .metadata
        .annotations
        .as_ref()
        .and_then(|a| a.get("kubectl.kubernetes.io/default-container"));
    let first = pod
        .spec
        .as_ref()
        .and_then(|s| s.containers.first())
        .map(|c| &c.name);
    annotated.or(first).cloned()
}

/// What the API server said, or what failed on the way.
fn said(e: &kube::Error, what: &str) -> Untrusted {
    Untrusted::new(match e {
        kube::Error::Api(s) => format!("{what}: {} ({})", s.message, s.code),
        other => format!("{what}: {other}"),
    })
}

/// Stream one container's log until it ends, in batches of lines.
async fn pump(
    api: &Api<Pod>,
    req: &LogRequest,
    stream: usize,
    name: StreamName,
    tx: &mpsc::Sender<Msg>,
) {
    let session = req.session;
    let params = LogParams {
        container: Some(name.container.clone()),
        follow: req.follow,
        previous: req.previous,
        tail_lines: Some(i64::from(req.tail)),
        ..LogParams::default()
    };
    let reader = match api.log_stream(&name.pod, &params).await {
        Ok(r) => r,
        Err(e) => {
            let error = Some(said(&e, &format!("logs of {}", name.pod)));
            send(
                tx,
                LogEvent::Ended {
                    session,
                    stream,
                    error,
                },
            )
            .await;
            return;
        }
    };
    let mut reader = std::pin::pin!(reader);
    let mut buf = Vec::new();
    let mut batch: Vec<Untrusted> = Vec::new();
    let error = loop {
        // Lines already buffered join the batch; the batch goes out before waiting.
        let read = match reader.read_until(b'\n', &mut buf).now_or_never() {
            Some(r) => r,
            None => {
                if !flush(tx, session, stream, &mut batch).await {
                    return;
                }
                reader.read_until(b'\n', &mut buf).await
            }
        };
        match read {
            Ok(0) => break None,
            Ok(_) => {
                batch.push(line_of(&buf));
                buf.clear();
                if batch.len() >= BATCH && !flush(tx, session, stream, &mut batch).await {
                    return;
                }
            }
            Err(e) => break Some(Untrusted::new(format!("log stream of {}: {e}", name.pod))),
        }
    };
    if !buf.is_empty() {
        batch.push(line_of(&buf));
    }
    flush(tx, session, stream, &mut batch).await;
    send(
        tx,
        LogEvent::Ended {
            session,
            stream,
            error,
        },
    )
    .await;
}

/// One line without its line ending, bytes kept (shown escaped later).
pub fn line_of(bytes: &[u8]) -> Untrusted {
    let bytes = bytes.strip_suffix(b"\n").unwrap_or(bytes);
    Untrusted::from_bytes(bytes)
}

async fn flush(
    tx: &mpsc::Sender<Msg>,
    session: u64,
    stream: usize,
    batch: &mut Vec<Untrusted>,
) -> bool {
    if batch.is_empty() {
        return true;
    }
    let lines = std::mem::take(batch);
    send(
        tx,
        LogEvent::Lines {
            session,
            stream,
            lines,
        },
    )
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_line_keeps_its_bytes_but_not_its_newline() {
        assert_eq!(line_of(b"boom\n").raw(), "boom");
        assert_eq!(line_of(b"a\rb").raw(), "a\rb");
        assert_eq!(line_of(b"bad \xff\n").raw(), "bad \\xff");
    }

    #[test]
    fn the_default_container_is_the_annotated_one_else_the_first() {
        let mut pod: Pod = serde_json::from_value(serde_json::json!({
            "metadata": {"name": "web-1"},
            "spec": {"containers": [{"name": "app"}, {"name": "sidecar"}]}
        }))
        .unwrap();
        assert_eq!(default_container(&pod).as_deref(), Some("app"));
        pod.metadata.annotations = Some(
            [(
                "kubectl.kubernetes.io/default-container".to_string(),
                "sidecar".to_string(),
            )]
            .into(),
        );
        assert_eq!(default_container(&pod).as_deref(), Some("sidecar"));
    }
}
