//! Simulated container logs for `--demo`, answered the way the API server's pods/log would:
//! a release's canary ReplicaSet has two pods (`<rs>-<suffix>`), each tailing a plausible
//! log and following it in real time. The crash-looping `search-indexer` starts, panics with
//! a stack trace and exits (its previous container shows the last crash); `payments-worker`'s
//! new pods never started (the API server's "waiting to start" answer). Deterministic from
//! the names; nothing here touches the fleet's state.

use std::time::Duration;

use futures::future::{BoxFuture, join_all};
use jiff::Timestamp;
use tokio::sync::mpsc;

use crate::core::Msg;
use crate::core::logs::{LogEvent, LogRequest, LogSource, StreamName};
use crate::core::text::Untrusted;
use crate::source::logs::LogBackend;

/// How often a healthy simulated container writes a line.
const EVERY: Duration = Duration::from_millis(1500);

#[derive(Clone, Copy, Default)]
pub struct DemoLogs;

impl LogBackend for DemoLogs {
    fn stream(&self, request: LogRequest, tx: mpsc::Sender<Msg>) -> BoxFuture<'static, ()> {
        Box::pin(run(request, tx))
    }
}

/// How a simulated container behaves, from its workload's name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Behaviour {
    Healthy,
    CrashLoop,
    ImagePull,
}

pub fn behaviour(workload: &str) -> Behaviour {
    match workload {
        "search-indexer" => Behaviour::CrashLoop,
        "payments-worker" => Behaviour::ImagePull,
        _ => Behaviour::Healthy,
    }
}

/// `web-7d9c5f8b6c` → `web` (a ReplicaSet's owner: a 10-character template hash),
/// `web-7d9c5f8b6c-x2kq9` → `web` (a pod's: plus a 5-character suffix).
fn workload_of(name: &str) -> &str {
    let mut w = name;
    if let Some((head, tail)) = w.rsplit_once('-')
        && tail.len() == 5
    {
        w = head;
    }
    if let Some((head, tail)) = w.rsplit_once('-')
        && tail.len() == 10
    {
        w = head;
    }
    w
}

/// The simulated pods of a ReplicaSet: two, suffixed deterministically from its name.
pub fn pods_of(rs: &str) -> Vec<String> {
    let mut h: u32 = 2166136261;
    for b in rs.bytes() {
        h = (h ^ u32::from(b)).wrapping_mul(16777619);
    }
    let alphabet = b"bcdfghjklmnpqrstvwxz2456789";
    (0..2u32)
        .map(|i| {
            let mut x = h.rotate_left(i * 7) ^ (i + 1).wrapping_mul(0x9e37_79b9);
            let suffix: String = (0..5)
                .map(|_| {
                    let c = alphabet[(x % alphabet.len() as u32) as usize] as char;
                    x /= alphabet.len() as u32;
                    c
                })
                .collect();
            format!("{rs}-{suffix}")
        })
        .collect()
}

fn streams(req: &LogRequest) -> Vec<StreamName> {
    match &req.source {
        LogSource::Pod { pod, container } => vec![StreamName {
            pod: pod.clone(),
            container: container.clone().unwrap_or_else(|| "app".into()),
        }],
        LogSource::ReplicaSets(sets) => sets
            .iter()
            .flat_map(|rs| pods_of(rs))
            .map(|pod| StreamName {
                pod,
                container: "app".into(),
            })
            .collect(),
    }
}

async fn run(req: LogRequest, tx: mpsc::Sender<Msg>) {
    let session = req.session;
    let names = streams(&req);
    let event = LogEvent::Streams {
        session,
        streams: names.clone(),
    };
    if tx.send(Msg::Logs(event)).await.is_err() {
        return;
    }
    let pumps = names.into_iter().enumerate().map(|(i, name)| {
        let tx = tx.clone();
        let req = req.clone();
        async move { pump(&req, i, &name, &tx).await }
    });
    join_all(pumps).await;
}

async fn pump(req: &LogRequest, stream: usize, name: &StreamName, tx: &mpsc::Sender<Msg>) {
    let session = req.session;
    let send = |event: LogEvent| async move { tx.send(Msg::Logs(event)).await.is_ok() };
    let now = Timestamp::now();
    let (lines, error) = script(behaviour(workload_of(&name.pod)), req.previous, name, now);
    let tail = lines.len().saturating_sub(req.tail as usize);
    let lines: Vec<Untrusted> = lines.into_iter().skip(tail).map(Untrusted::new).collect();
    let ended = error.is_some() || req.previous || !req.follow;
    if !lines.is_empty()
        && !send(LogEvent::Lines {
            session,
            stream,
            lines,
        })
        .await
    {
        return;
    }
    if ended || behaviour(workload_of(&name.pod)) != Behaviour::Healthy {
        let error = error.map(Untrusted::new);
        send(LogEvent::Ended {
            session,
            stream,
            error,
        })
        .await;
        return;
    }
    let mut n: u64 = 0;
    let mut tick = tokio::time::interval(EVERY + Duration::from_millis(stream as u64 * 370));
    tick.tick().await;
    loop {
        tick.tick().await;
        n += 1;
        let line = Untrusted::new(request_line(Timestamp::now(), n, stream));
        let lines = vec![line];
        if !send(LogEvent::Lines {
            session,
            stream,
            lines,
        })
        .await
        {
            return;
        }
    }
}

fn stamp(t: Timestamp) -> String {
    t.strftime("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()
}

fn request_line(t: Timestamp, n: u64, stream: usize) -> String {
    let paths = [
        "/api/v1/orders",
        "/healthz",
        "/api/v1/cart",
        "/api/v1/search?q=boots",
    ];
    let codes = [200, 200, 204, 200, 304, 200, 499, 200];
    let path = paths[(n as usize + stream) % paths.len()];
    let code = codes[(n as usize * 3 + stream) % codes.len()];
    let ms = 3 + (n * 37 + stream as u64 * 11) % 180;
    format!(
        "{} INFO  http: {} GET {} {}ms trace_id={:016x}",
        stamp(t),
        code,
        path,
        ms,
        n.wrapping_mul(0x9e37_79b9_7f4a_7c15) ^ stream as u64
    )
}

/// The line the crash-looping container dies on.
pub const CRASH_LINE: &str = "thread 'main' panicked at src/index/schema.rs:118:14:";

/// What the crash-looping container prints after its panic line: the error and the stack
/// trace. Its log ends with it, and so does its last termination's message (the kubelet's
/// `FallbackToLogsOnError`).
pub const PANIC_TRACE: &[&str] = &[
    "called `Result::unwrap()` on an `Err` value: SchemaMismatch { expected: 42, found: 41, table: \"documents\" }",
    "stack backtrace:",
    "   0: rust_begin_unwind",
    "             at /rustc/library/std/src/panicking.rs:665:5",
    "   1: core::panicking::panic_fmt",
    "   2: core::result::unwrap_failed",
    "             at /rustc/library/core/src/result.rs:1699:5",
    "   3: search_indexer::index::schema::check",
    "             at ./src/index/schema.rs:118:14",
    "   4: search_indexer::index::Index::open",
    "             at ./src/index/mod.rs:57:9",
    "   5: search_indexer::main::{{closure}}",
    "             at ./src/main.rs:44:17",
    "   6: tokio::runtime::park::CachedParkThread::block_on",
    "   7: search_indexer::main",
    "             at ./src/main.rs:21:1",
    "note: Some details are omitted, run with `RUST_BACKTRACE=full` for a verbose backtrace.",
];

/// The lines a container has written by `now`, and the API server's error if it cannot
/// serve them.
pub fn script(
    behaviour: Behaviour,
    previous: bool,
    name: &StreamName,
    now: Timestamp,
) -> (Vec<String>, Option<String>) {
    let at = |secs_ago: i64| stamp(now - jiff::SignedDuration::from_secs(secs_ago));
    match behaviour {
        Behaviour::ImagePull => (
            Vec::new(),
            Some(format!(
                "container \"{}\" in pod \"{}\" is waiting to start: trying and failing to pull image",
                name.container, name.pod
            )),
        ),
        Behaviour::Healthy if previous => (
            Vec::new(),
            Some(format!(
                "previous terminated container \"{}\" in pod \"{}\" not found",
                name.container, name.pod
            )),
        ),
        Behaviour::Healthy => (
            (0..240)
                .map(|i| request_line(now - jiff::SignedDuration::from_secs(240 - i), i as u64, 0))
                .collect(),
            None,
        ),
        Behaviour::CrashLoop => {
            let secs = if previous { 95 } else { 12 };
            let mut lines = vec![
                format!("{} INFO  search-indexer 2.0.4 starting (pid 1)", at(secs)),
                format!(
                    "{} INFO  config: loaded /etc/indexer/indexer.toml",
                    at(secs - 1)
                ),
                format!(
                    "{} INFO  connecting to postgres://search-db:5432/catalog",
                    at(secs - 1)
                ),
                format!(
                    "{} INFO  schema version 41 (index expects 42)",
                    at(secs - 2)
                ),
                format!(
                    "{} WARN  migrations disabled (INDEXER_MIGRATE unset)",
                    at(secs - 2)
                ),
                format!("{} ERROR {CRASH_LINE}", at(secs - 3)),
            ];
            lines.extend(PANIC_TRACE.iter().map(|l| l.to_string()));
            if previous {
                lines.insert(
                    0,
                    format!("{} INFO  restart 5 after back-off 2m40s", at(secs + 1)),
                );
            }
            (lines, None)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn name(pod: &str) -> StreamName {
        StreamName {
            pod: pod.into(),
            container: "app".into(),
        }
    }

    #[test]
    fn workloads_come_from_replicaset_and_pod_names() {
        assert_eq!(workload_of("search-indexer-6c9d4bcdfg"), "search-indexer");
        assert_eq!(
            workload_of("search-indexer-6c9d4bcdfg-x2kq9"),
            "search-indexer"
        );
        assert_eq!(
            behaviour(workload_of("payments-worker-7f5b8bcdfg-bbbbb")),
            Behaviour::ImagePull
        );
        let pods = pods_of("search-indexer-6c9d4bcdfg");
        assert_eq!(pods.len(), 2);
        assert_ne!(pods[0], pods[1]);
        assert_eq!(pods, pods_of("search-indexer-6c9d4bcdfg"), "deterministic");
        assert_eq!(workload_of(&pods[0]), "search-indexer");
    }

    #[test]
    fn the_crash_looping_canary_ends_in_a_stack_trace() {
        let now = Timestamp::from_second(1_800_000_000).unwrap();
        let (lines, error) = script(
            Behaviour::CrashLoop,
            false,
            &name("search-indexer-6c9d4-bbbbb"),
            now,
        );
        assert!(error.is_none());
        assert!(
            lines
                .iter()
                .any(|l| l.contains("panicked at src/index/schema.rs"))
        );
        assert!(lines.last().unwrap().contains("RUST_BACKTRACE"));
        let (prev, _) = script(Behaviour::CrashLoop, true, &name("x"), now);
        assert!(
            prev[0].contains("restart 5"),
            "the previous container is another run"
        );
    }

    #[test]
    fn a_pod_that_never_started_says_so_like_the_api_server() {
        let now = Timestamp::from_second(1_800_000_000).unwrap();
        let (lines, error) = script(
            Behaviour::ImagePull,
            false,
            &name("payments-worker-1-bbbbb"),
            now,
        );
        assert!(lines.is_empty());
        assert!(error.unwrap().contains("is waiting to start"));
        let (_, error) = script(Behaviour::Healthy, true, &name("web-1-bbbbb"), now);
        assert!(error.unwrap().contains("previous terminated container"));
    }

    #[tokio::test(start_paused = true)]
    async fn a_healthy_pod_tails_200_and_follows() {
        let (tx, mut rx) = mpsc::channel(64);
        let req = LogRequest {
            session: 7,
            cluster: "c".into(),
            namespace: "shop".into(),
            source: LogSource::ReplicaSets(vec!["frontend-5d8f9bcdfg".into()]),
            tail: 200,
            follow: true,
            previous: false,
            check_access: true,
        };
        let task = tokio::spawn(run(req, tx));
        let Some(Msg::Logs(LogEvent::Streams { streams, .. })) = rx.recv().await else {
            panic!("streams first");
        };
        assert_eq!(streams.len(), 2);
        let mut first = Vec::new();
        while first.len() < 2 {
            if let Some(Msg::Logs(LogEvent::Lines { lines, .. })) = rx.recv().await {
                first.push(lines.len());
            }
        }
        assert_eq!(first, [200, 200], "tail 200 of each pod");
        // Then one line at a time, as the container writes it.
        let Some(Msg::Logs(LogEvent::Lines { lines, .. })) = rx.recv().await else {
            panic!("a followed line");
        };
        assert_eq!(lines.len(), 1);
        task.abort();
    }
}
