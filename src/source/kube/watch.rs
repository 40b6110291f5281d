//! One watch of one catalogued kind on one cluster (addressed from its catalogue row): kube-rs `watcher` with its default backoff, events
//! projected on arrival, a full list sent as one `Msg::Relisted` (so a relist after 410 Gone
//! replaces what was there: no duplicates, deleted objects dropped).
//!
//! A kind whose API is missing (404: CRD not installed) is simply absent: no message, checked
//! again after a minute (a CRD installed later shows up). A 404 on a kind that was listed
//! before is most likely an API server that has just restarted and not loaded its CRDs yet, so
//! it is retried within seconds and its rows are kept (a deleted CRD deletes its objects
//! first, and those deletes arrive as such). A kind we may not list (403) is reported once and
//! checked again every 30 s.
//!
//! Liveness per watch (R3): the server ends every watch after
//! [`client::WATCH_TIMEOUT_SECS`] and the watcher re-watches from the last resourceVersion,
//! so a healthy connection carries bytes at least that often; the watch client's read
//! timeout ([`client::WATCH_READ_TIMEOUT`]) fails a connection that stops carrying any. A
//! watch that fails below HTTP (read timeout, reset, refused) reports `Signal::Lost` (the
//! supervisor marks the cluster stale) and starts over with a fresh list after a backoff, so
//! what changed while it was deaf arrives as one `Relisted`. The liveness probe still owns
//! reachability.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use futures::{Stream, StreamExt};
use k8s_openapi::api::core::v1::Event as K8sEvent;
use kube::ResourceExt;
use kube::api::{Api, DynamicObject};
use kube::runtime::WatchStreamExt;
use kube::runtime::watcher::{self, Event};
use tokio::sync::mpsc;

use super::client;
use super::kinds::{Kind, api_resource};
use super::project::{self, Keep};
use crate::core::facts::{ObjectFacts, WarningEvent};
use crate::core::msg::Msg;

/// How long a kind waits before it is tried again: missing, missing after it was listed,
/// forbidden.
const RECHECK_ABSENT: Duration = Duration::from_secs(60);
const RECHECK_VANISHED: Duration = Duration::from_secs(5);
/// Short enough that a 403 from an API server whose authorizer has not caught up after a
/// restart heals by itself soon; a 403 answer costs the server next to nothing.
const RECHECK_FORBIDDEN: Duration = Duration::from_secs(30);
/// A lost watch starts over after this, doubling up to [`RELIST_MAX`] while it keeps being
/// lost before it lists again (a dead server is not hammered).
const RELIST_FIRST: Duration = Duration::from_secs(1);
const RELIST_MAX: Duration = Duration::from_secs(30);

/// What a watch tells its cluster's supervisor (besides the `Msg`s it sends itself).
#[derive(Debug, Clone, PartialEq)]
pub enum Signal {
    /// A full list of this kind arrived: the cluster answers and we may read.
    Listed(Kind),
    /// 403 on the list.
    Forbidden(Kind, String),
    /// The watch's connection failed below HTTP (no bytes within the read timeout, reset,
    /// refused): what this kind shows may be out of date until it has listed again.
    Lost(Kind, String),
    /// The liveness probe's answer: the server version, or why it failed.
    Probe(Result<String, super::liveness::ProbeFailure>),
    /// 401 on a list or watch: these credentials are no longer accepted (rebuild the client).
    Unauthorized(Kind, String),
    /// This kind's watch is through its first pass: its first full list is in the console's
    /// channel, or it said why there is none (absent, forbidden, failing, lost). Sent once
    /// per started watch, after every `Msg` of that pass.
    Settled(Kind),
}

/// Where a watch sends: the console's channel and its supervisor.
#[derive(Clone)]
pub struct Sink {
    pub cluster: String,
    pub tx: mpsc::Sender<Msg>,
    pub signals: mpsc::UnboundedSender<Signal>,
    /// The first pass of the watch this sink serves (None: nobody waits for it).
    pub pass: Option<Arc<FirstPass>>,
}

/// One scope's first pass of a kind's watch, said once as `Signal::Settled` when every
/// scope of the kind is through it (one scope, or the namespaces of a kind watched
/// namespace by namespace).
#[derive(Debug)]
pub struct FirstPass {
    kind: Kind,
    done: AtomicBool,
    /// Scopes of the kind not through their first pass yet (shared by its namespaces).
    left: Arc<AtomicUsize>,
}

impl FirstPass {
    fn new(kind: Kind, left: Arc<AtomicUsize>) -> Arc<FirstPass> {
        Arc::new(FirstPass {
            kind,
            done: AtomicBool::new(false),
            left,
        })
    }
}

/// The console went away: stop.
struct Closed;

impl Sink {
    async fn send(&self, msg: Msg) -> Result<(), Closed> {
        self.tx.send(msg).await.map_err(|_| Closed)
    }

    fn signal(&self, s: Signal) {
        // The supervisor outlives its watches; if it is gone, so are we.
        let _ = self.signals.send(s);
    }

    /// This sink for a fresh watch of `kind`, whose first pass is said once.
    pub fn for_kind(&self, kind: Kind) -> Sink {
        Sink {
            pass: Some(FirstPass::new(kind, Arc::new(AtomicUsize::new(1)))),
            ..self.clone()
        }
    }

    /// Sinks for `n` (≥ 1) namespace watches that replace this sink's scope before its first
    /// pass: the kind is settled when the last of them is.
    fn split(&self, n: usize) -> Vec<Sink> {
        let Some(pass) = &self.pass else {
            return vec![self.clone(); n];
        };
        pass.left.fetch_add(n.saturating_sub(1), Ordering::SeqCst);
        (0..n)
            .map(|_| Sink {
                pass: Some(FirstPass::new(pass.kind, pass.left.clone())),
                ..self.clone()
            })
            .collect()
    }

    /// This scope is through its first pass (later calls do nothing): called after the
    /// pass's messages are in the channel.
    fn passed(&self) {
        if let Some(pass) = &self.pass
            && !pass.done.swap(true, Ordering::SeqCst)
            && pass.left.fetch_sub(1, Ordering::SeqCst) == 1
        {
            self.signal(Signal::Settled(pass.kind));
        }
    }
}

/// Why one watcher stream ended.
enum Stop {
    Closed,
    Absent,
    Forbidden,
    Lost,
    /// 401: the supervisor rebuilds the client; until then, back off like a lost watch.
    Unauthorized,
    /// Another error (5xx, an answer that cannot be decoded): reported, then listed afresh
    /// after the same backoff as a lost watch.
    Failed,
}

/// Where a watch lists: the whole cluster, or one namespace (the fallback for a kind this
/// identity may not list cluster-wide).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    All,
    Namespace(String),
}

/// At most this many namespaces are watched per kind when a cluster-wide list is forbidden
/// (so a namespace-scoped identity costs at most 6 × this many watches; config validation
/// holds `clusters[].namespaces` to it).
pub const MAX_FALLBACK_NAMESPACES: usize = 10;

/// Run the watch for `kind` until the console's channel closes: cluster-wide, and when that
/// is forbidden (403) and `fallback` names namespaces, one watch per namespace instead (at
/// most [`MAX_FALLBACK_NAMESPACES`]). Meanwhile the API server is asked every
/// [`RECHECK_FORBIDDEN`] whether this identity may now list and watch the kind everywhere
/// (a SelfSubjectAccessReview, not a list): once granted, the namespace watches stop and one
/// cluster-wide watch takes over, its first list replacing what they had shown.
pub async fn run(kind: Kind, client: kube::Client, sink: Sink, keep: Keep, fallback: Vec<String>) {
    let fallback: Vec<String> = fallback.into_iter().take(MAX_FALLBACK_NAMESPACES).collect();
    let mut sink = sink;
    loop {
        let fall_back = !fallback.is_empty();
        if run_in(kind, &Scope::All, &client, &sink, &keep, fall_back).await {
            return;
        }
        tracing::info!(cluster = %sink.cluster, kind = kind.resource(), namespaces = ?fallback, "forbidden cluster-wide: watching namespace by namespace");
        let mut namespaces = tokio::task::JoinSet::new();
        for (ns, sink) in fallback.iter().cloned().zip(sink.split(fallback.len())) {
            let (client, keep) = (client.clone(), keep.clone());
            namespaces.spawn(async move {
                run_in(kind, &Scope::Namespace(ns), &client, &sink, &keep, false).await;
            });
        }
        loop {
            tokio::select! {
                ended = namespaces.join_next() => if ended.is_none() {
                    return;
                },
                () = tokio::time::sleep(RECHECK_FORBIDDEN) => {
                    if may_watch_everywhere(&client, kind).await {
                        break;
                    }
                }
            }
        }
        tracing::info!(cluster = %sink.cluster, kind = kind.resource(), "allowed cluster-wide now: one watch for the whole cluster");
        namespaces.shutdown().await;
        let allowed = Msg::KindAllowed {
            cluster: sink.cluster.clone(),
            kind: kind.resource().to_string(),
        };
        if sink.send(allowed).await.is_err() {
            return;
        }
        // The first pass was said long ago; nobody waits for this one.
        sink.pass = None;
    }
}

/// May this identity list and watch `kind` in every namespace? False when the server says
/// no or cannot be asked.
async fn may_watch_everywhere(client: &kube::Client, kind: Kind) -> bool {
    for verb in ["list", "watch"] {
        let allowed =
            crate::action::kube::access::allowed(client.clone(), "", verb, kind.api().plural);
        if allowed.await != Some(true) {
            return false;
        }
    }
    true
}

/// One scope's watch until the console goes away (true), or — when `fall_back` — until the
/// scope is forbidden (false: the caller watches namespace by namespace).
async fn run_in(
    kind: Kind,
    scope: &Scope,
    client: &kube::Client,
    sink: &Sink,
    keep: &Keep,
    fall_back: bool,
) -> bool {
    let mut listed_before = false;
    let mut relist_after = RELIST_FIRST;
    // Warning events already sent (uid → resourceVersion), across restarts of this watch.
    let mut sent: HashMap<String, String> = HashMap::new();
    loop {
        let keep = keep.clone();
        let config = watcher::Config::default().timeout(client::WATCH_TIMEOUT_SECS);
        // Did this start list at all (then a loss afterwards starts the backoff afresh)?
        let mut listed = false;
        let stop = if kind == Kind::Event {
            let api: Api<K8sEvent> = match scope {
                Scope::All => Api::all(client.clone()),
                Scope::Namespace(ns) => Api::namespaced(client.clone(), ns),
            };
            let s = stream(api, config.fields("type=Warning"), |e| {
                let key = (
                    e.uid().unwrap_or_default(),
                    e.resource_version().unwrap_or_default(),
                );
                (key, project::warning_event(&e))
            });
            warnings(s, scope, sink, &mut sent, &mut listed).await
        } else {
            // Every other kind through its catalogue row, projected by the dispatch.
            let resource = api_resource(kind);
            let api: Api<DynamicObject> = match scope {
                Scope::All => Api::all_with(client.clone(), &resource),
                Scope::Namespace(ns) => Api::namespaced_with(client.clone(), ns, &resource),
            };
            let s = stream(api, config, move |o: DynamicObject| {
                project::from_dynamic(kind, o, &keep)
            });
            let scoped = Scoped { kind, scope };
            objects(scoped, s, sink, &mut listed_before, &mut listed).await
        };
        let retry = matches!(stop, Stop::Lost | Stop::Unauthorized | Stop::Failed);
        let wait = match stop {
            Stop::Closed => return true,
            // The namespace watches take this scope's first pass over.
            Stop::Forbidden if fall_back => return false,
            Stop::Lost | Stop::Unauthorized | Stop::Failed => relist_after,
            Stop::Absent if listed_before => RECHECK_VANISHED,
            Stop::Absent => RECHECK_ABSENT,
            Stop::Forbidden => RECHECK_FORBIDDEN,
        };
        // Whatever this start said (absent, forbidden, failing, lost) is in the channel.
        sink.passed();
        tokio::time::sleep(wait).await;
        relist_after = next_relist(relist_after, retry && !listed);
    }
}

/// A kind and where it is listed.
#[derive(Debug, Clone, Copy)]
struct Scoped<'a> {
    kind: Kind,
    scope: &'a Scope,
}

impl From<Kind> for Scoped<'static> {
    fn from(kind: Kind) -> Self {
        Scoped {
            kind,
            scope: &Scope::All,
        }
    }
}

/// The wait before the next start after a lost watch: doubled while starts keep failing
/// before they list, back to the first step once a list went through.
fn next_relist(current: Duration, failed_again: bool) -> Duration {
    if failed_again {
        (current * 2).min(RELIST_MAX)
    } else {
        RELIST_FIRST
    }
}

/// A watcher stream with default backoff, each object projected as soon as it arrives (the
/// whole object is dropped right there).
fn stream<K, P>(
    api: Api<K>,
    config: watcher::Config,
    project: impl Fn(K) -> P + Send + 'static,
) -> impl Stream<Item = Result<Event<P>, watcher::Error>> + Send
where
    K: kube::Resource + Clone + serde::de::DeserializeOwned + std::fmt::Debug + Send + 'static,
    P: Send + 'static,
{
    watcher::watcher(api, config)
        .default_backoff()
        .map(move |r| r.map(|e| map_event(e, &project)))
}

fn map_event<K, P>(e: Event<K>, project: &impl Fn(K) -> P) -> Event<P> {
    match e {
        Event::Apply(k) => Event::Apply(project(k)),
        Event::Delete(k) => Event::Delete(project(k)),
        Event::Init => Event::Init,
        Event::InitApply(k) => Event::InitApply(project(k)),
        Event::InitDone => Event::InitDone,
    }
}

async fn objects<'a>(
    scoped: impl Into<Scoped<'a>>,
    stream: impl Stream<Item = Result<Event<ObjectFacts>, watcher::Error>>,
    sink: &Sink,
    listed_before: &mut bool,
    listed: &mut bool,
) -> Stop {
    let Scoped { kind, scope } = scoped.into();
    let object_kind = kind;
    let cluster = || sink.cluster.clone();
    let mut buffer: Vec<ObjectFacts> = Vec::new();
    let mut stream = std::pin::pin!(stream);
    while let Some(item) = stream.next().await {
        let msg = match item {
            Ok(Event::Init) => {
                buffer.clear();
                continue;
            }
            Ok(Event::InitApply(o)) => {
                buffer.push(o);
                continue;
            }
            Ok(Event::InitDone) => {
                *listed_before = true;
                *listed = true;
                sink.signal(Signal::Listed(kind));
                let objects = std::mem::take(&mut buffer);
                match scope {
                    Scope::All => Msg::Relisted {
                        cluster: cluster(),
                        kind: object_kind,
                        objects,
                    },
                    Scope::Namespace(ns) => Msg::RelistedIn {
                        cluster: cluster(),
                        kind: object_kind,
                        namespace: ns.clone(),
                        objects,
                    },
                }
            }
            Ok(Event::Apply(o)) => Msg::Upsert {
                cluster: cluster(),
                facts: o,
            },
            Ok(Event::Delete(o)) => {
                let (namespace, name) = o.meta_name();
                Msg::Delete {
                    cluster: cluster(),
                    kind: object_kind,
                    namespace: namespace.to_string(),
                    name: name.to_string(),
                }
            }
            Err(e) => match on_error(kind, &e, sink).await {
                Some(stop) => return stop,
                None => continue,
            },
        };
        let relisted = matches!(msg, Msg::Relisted { .. } | Msg::RelistedIn { .. });
        if sink.send(msg).await.is_err() {
            return Stop::Closed;
        }
        if relisted {
            sink.passed();
        }
    }
    Stop::Closed
}

type EventKey = (String, String);

async fn warnings(
    stream: impl Stream<Item = Result<Event<(EventKey, Option<WarningEvent>)>, watcher::Error>>,
    scope: &Scope,
    sink: &Sink,
    sent: &mut HashMap<String, String>,
    listed: &mut bool,
) -> Stop {
    // `sent`: events already sent (uid → resourceVersion): a relist must not count them twice.
    let mut relisted: HashMap<String, String> = HashMap::new();
    let mut stream = std::pin::pin!(stream);
    while let Some(item) = stream.next().await {
        let event = match item {
            Ok(Event::Init) => {
                relisted.clear();
                continue;
            }
            Ok(Event::InitApply(((uid, rv), e))) => {
                let fresh = sent.get(&uid) != Some(&rv);
                relisted.insert(uid, rv);
                e.filter(|_| fresh)
            }
            Ok(Event::InitDone) => {
                *sent = std::mem::take(&mut relisted);
                *listed = true;
                sink.signal(Signal::Listed(Kind::Event));
                // Read in this namespace although forbidden cluster-wide: the chip says so.
                if let Scope::Namespace(ns) = scope {
                    let read_in = Msg::ReadIn {
                        cluster: sink.cluster.clone(),
                        kind: Kind::Event.resource().to_string(),
                        namespace: ns.clone(),
                    };
                    if sink.send(read_in).await.is_err() {
                        return Stop::Closed;
                    }
                }
                // The listed warnings were sent as they came.
                sink.passed();
                None
            }
            Ok(Event::Apply(((uid, rv), e))) => {
                sent.insert(uid, rv);
                e
            }
            Ok(Event::Delete(((uid, _), _))) => {
                sent.remove(&uid);
                None
            }
            Err(e) => match on_error(Kind::Event, &e, sink).await {
                Some(stop) => return stop,
                None => continue,
            },
        };
        if let Some(event) = event
            && sink
                .send(Msg::Warning {
                    cluster: sink.cluster.clone(),
                    event,
                })
                .await
                .is_err()
        {
            return Stop::Closed;
        }
    }
    Stop::Closed
}

/// The HTTP status behind a watcher error, when the API server answered at all.
fn status_of(e: &watcher::Error) -> Option<(u16, String)> {
    match e {
        watcher::Error::InitialListFailed(k)
        | watcher::Error::WatchStartFailed(k)
        | watcher::Error::WatchFailed(k) => match k {
            kube::Error::Api(s) => Some((s.code, s.message.clone())),
            _ => None,
        },
        watcher::Error::WatchError(s) => Some((s.code, s.message.clone())),
        watcher::Error::NoResourceVersion => None,
    }
}

/// The request failed below HTTP: no answer at all (read timeout, reset, refused, TLS).
fn lost_connection(e: &watcher::Error) -> bool {
    match e {
        watcher::Error::InitialListFailed(k)
        | watcher::Error::WatchStartFailed(k)
        | watcher::Error::WatchFailed(k) => matches!(
            k,
            kube::Error::HyperError(_) | kube::Error::Service(_) | kube::Error::ReadEvents(_)
        ),
        watcher::Error::WatchError(_) | watcher::Error::NoResourceVersion => false,
    }
}

/// What a watcher error means for the watch.
#[derive(Debug, Clone, PartialEq)]
pub enum Class {
    /// 404: the API is not served here.
    Absent,
    /// 403, with the server's words.
    Forbidden(String),
    /// 401: the credentials are no longer accepted.
    Unauthorized(String),
    /// 410 Gone: the watcher lists again by itself.
    Expired,
    /// No answer at all (read timeout, reset, refused).
    Lost,
    /// Anything else (a 5xx, an answer that cannot be decoded): `status` is short ("500",
    /// "decode"), `detail` says what the server or the decoder said.
    Failing { status: String, detail: String },
}

/// Classify one watcher error (pure; see [`on_error`] for what each class does).
pub fn classify(e: &watcher::Error) -> Class {
    match status_of(e) {
        Some((404, _)) => Class::Absent,
        Some((403, message)) => Class::Forbidden(message),
        Some((401, message)) => Class::Unauthorized(message),
        Some((410, _)) => Class::Expired,
        Some((code, message)) => Class::Failing {
            status: code.to_string(),
            detail: message,
        },
        None if lost_connection(e) => Class::Lost,
        None => Class::Failing {
            status: if decode_failure(e) { "decode" } else { "error" }.to_string(),
            detail: e.to_string(),
        },
    }
}

/// The answer came but could not be read as the kind's objects.
fn decode_failure(e: &watcher::Error) -> bool {
    match e {
        watcher::Error::InitialListFailed(k)
        | watcher::Error::WatchStartFailed(k)
        | watcher::Error::WatchFailed(k) => matches!(k, kube::Error::SerdeError(_)),
        watcher::Error::WatchError(_) | watcher::Error::NoResourceVersion => false,
    }
}

/// Some(stop) when this stream should end; None when the watcher's own retry is the answer.
async fn on_error(kind: Kind, e: &watcher::Error, sink: &Sink) -> Option<Stop> {
    match classify(e) {
        Class::Absent => {
            tracing::debug!(cluster = %sink.cluster, kind = kind.resource(), "not served here: kind absent");
            Some(Stop::Absent)
        }
        Class::Forbidden(message) => {
            tracing::info!(cluster = %sink.cluster, kind = kind.resource(), %message, "forbidden");
            sink.signal(Signal::Forbidden(kind, message));
            Some(Stop::Forbidden)
        }
        Class::Unauthorized(message) => {
            tracing::warn!(cluster = %sink.cluster, kind = kind.resource(), %message, "credentials refused (401): the client is rebuilt");
            sink.signal(Signal::Unauthorized(kind, message));
            Some(Stop::Unauthorized)
        }
        Class::Expired => {
            tracing::debug!(cluster = %sink.cluster, kind = kind.resource(), "resourceVersion expired: listing again");
            None
        }
        Class::Lost => {
            tracing::info!(cluster = %sink.cluster, kind = kind.resource(), error = %e, "watch connection lost; listing again");
            sink.signal(Signal::Lost(kind, e.to_string()));
            Some(Stop::Lost)
        }
        Class::Failing { status, detail } => {
            tracing::warn!(cluster = %sink.cluster, kind = kind.resource(), %status, %detail, "list or watch failing; listing again after a backoff");
            let msg = Msg::KindFailing {
                cluster: sink.cluster.clone(),
                kind: kind.resource().to_string(),
                status,
                detail: crate::core::text::Untrusted::new(detail),
            };
            if sink.send(msg).await.is_err() {
                return Some(Stop::Closed);
            }
            Some(Stop::Failed)
        }
    }
}

#[cfg(test)]
#[path = "watch_tests.rs"]
mod tests;
