//! The watch event mapping, driven by synthetic watcher streams: a relist is one `Relisted`
//! (R4), changes are upserts and deletes, 403 and 404 end the stream as documented.

use futures::stream;
use kube::core::Status;
use kube::runtime::watcher::{self, Event};
use tokio::sync::mpsc;

use super::*;
use crate::core::facts::{DeploymentFacts, ObjectMeta, WarningEvent};
use crate::core::msg::ObjectKind;

fn deployment(name: &str) -> ObjectFacts {
    ObjectFacts::Deployment(DeploymentFacts {
        meta: ObjectMeta {
            namespace: "ns".into(),
            name: name.into(),
            ..ObjectMeta::default()
        },
        ..DeploymentFacts::default()
    })
}

fn api_error(code: u16) -> watcher::Error {
    let status = Status {
        code,
        message: format!("status {code}"),
        ..Status::default()
    };
    watcher::Error::InitialListFailed(kube::Error::Api(status.boxed()))
}

fn sink() -> (Sink, mpsc::Receiver<Msg>, mpsc::UnboundedReceiver<Signal>) {
    let (tx, rx) = mpsc::channel(64);
    let (signals, signal_rx) = mpsc::unbounded_channel();
    (
        Sink {
            cluster: "a".into(),
            tx,
            signals,
            pass: None,
        },
        rx,
        signal_rx,
    )
}

fn drain<T>(rx: &mut mpsc::Receiver<T>) -> Vec<T> {
    let mut out = Vec::new();
    while let Ok(m) = rx.try_recv() {
        out.push(m);
    }
    out
}

#[tokio::test]
async fn a_relist_is_one_message_and_changes_follow() {
    let (sink, mut rx, mut signals) = sink();
    let events = vec![
        Ok(Event::Init),
        Ok(Event::InitApply(deployment("one"))),
        Ok(Event::InitApply(deployment("two"))),
        Ok(Event::InitDone),
        Ok(Event::Apply(deployment("three"))),
        Ok(Event::Delete(deployment("one"))),
        // 410 Gone: the watcher relists; only what is listed now survives.
        Ok(Event::Init),
        Ok(Event::InitApply(deployment("three"))),
        Ok(Event::InitDone),
    ];
    let mut listed = false;
    let stop = objects(
        Kind::Deployment,
        stream::iter(events),
        &sink,
        &mut listed,
        &mut false,
    )
    .await;
    assert!(matches!(stop, Stop::Closed));
    let msgs = drain(&mut rx);
    assert_eq!(msgs.len(), 4, "{msgs:#?}");
    assert!(
        matches!(&msgs[0], Msg::Relisted { kind: ObjectKind::Deployment, objects, .. } if objects.len() == 2)
    );
    assert!(matches!(&msgs[1], Msg::Upsert { .. }));
    assert!(
        matches!(&msgs[2], Msg::Delete { name, kind: ObjectKind::Deployment, .. } if name == "one")
    );
    assert!(
        matches!(&msgs[3], Msg::Relisted { objects, .. } if objects == &vec![deployment("three")])
    );
    assert_eq!(
        signals.try_recv().ok(),
        Some(Signal::Listed(Kind::Deployment))
    );
}

#[tokio::test]
async fn forbidden_is_signalled_and_ends_the_stream() {
    let (sink, mut rx, mut signals) = sink();
    let events = vec![Err(api_error(403)), Ok(Event::InitDone)];
    let mut listed = false;
    let stop = objects(
        Kind::Rollout,
        stream::iter(events),
        &sink,
        &mut listed,
        &mut false,
    )
    .await;
    assert!(matches!(stop, Stop::Forbidden));
    assert!(drain(&mut rx).is_empty());
    assert!(matches!(
        signals.try_recv(),
        Ok(Signal::Forbidden(Kind::Rollout, _))
    ));
}

#[tokio::test]
async fn a_missing_crd_is_silent_and_keeps_what_was_listed() {
    let (sink, mut rx, mut signals) = sink();
    let mut listed = false;
    let stop = objects(
        Kind::Canary,
        stream::iter(vec![Err(api_error(404))]),
        &sink,
        &mut listed,
        &mut false,
    )
    .await;
    assert!(matches!(stop, Stop::Absent));
    assert!(drain(&mut rx).is_empty(), "no error spam, no rows");
    assert!(signals.try_recv().is_err());

    // Listed, then 404 (an API server restarting before its CRDs are loaded): rows stay.
    let events = vec![
        Ok(Event::Init),
        Ok(Event::InitApply(deployment("c"))),
        Ok(Event::InitDone),
        Err(api_error(404)),
    ];
    let stop = objects(
        Kind::Canary,
        stream::iter(events),
        &sink,
        &mut listed,
        &mut false,
    )
    .await;
    assert!(matches!(stop, Stop::Absent));
    assert!(listed, "retried within seconds");
    let msgs = drain(&mut rx);
    assert_eq!(msgs.len(), 1);
    assert!(matches!(&msgs[0], Msg::Relisted { objects, .. } if objects.len() == 1));
}

#[tokio::test]
async fn a_500_is_shown_as_failing_and_ends_the_stream_for_a_fresh_list() {
    let (sink, mut rx, mut signals) = sink();
    let events = vec![Err(api_error(500)), Ok(Event::Init), Ok(Event::InitDone)];
    let mut listed = false;
    let stop = objects(
        Kind::Rollout,
        stream::iter(events),
        &sink,
        &mut listed,
        &mut false,
    )
    .await;
    assert!(matches!(stop, Stop::Failed));
    let msgs = drain(&mut rx);
    assert_eq!(
        msgs,
        vec![Msg::KindFailing {
            cluster: "a".into(),
            kind: "rollouts.argoproj.io".into(),
            status: "500".into(),
            detail: "status 500".into(),
        }],
        "the kind is failing, nothing listed from this stream"
    );
    assert!(signals.try_recv().is_err(), "the connection is fine");
    assert!(!listed);
}

#[tokio::test]
async fn a_401_asks_for_a_fresh_client() {
    let (sink, mut rx, mut signals) = sink();
    let stop = objects(
        Kind::Deployment,
        stream::iter(vec![Err(api_error(401))]),
        &sink,
        &mut false,
        &mut false,
    )
    .await;
    assert!(matches!(stop, Stop::Unauthorized));
    assert!(drain(&mut rx).is_empty());
    assert!(matches!(
        signals.try_recv(),
        Ok(Signal::Unauthorized(Kind::Deployment, _))
    ));
}

#[test]
fn watch_errors_are_classified_by_what_they_mean() {
    assert_eq!(classify(&api_error(404)), Class::Absent);
    assert_eq!(
        classify(&api_error(403)),
        Class::Forbidden("status 403".into())
    );
    assert_eq!(
        classify(&api_error(401)),
        Class::Unauthorized("status 401".into())
    );
    assert_eq!(classify(&api_error(410)), Class::Expired);
    assert_eq!(
        classify(&api_error(503)),
        Class::Failing {
            status: "503".into(),
            detail: "status 503".into()
        }
    );
    assert_eq!(classify(&lost("read timed out")), Class::Lost);
    let undecodable = serde_json::from_str::<serde_json::Value>("{not json")
        .err()
        .unwrap_or_else(|| panic!("that is not JSON"));
    let decode = watcher::Error::WatchFailed(kube::Error::SerdeError(undecodable));
    assert!(
        matches!(classify(&decode), Class::Failing { status, .. } if status == "decode"),
        "{:?}",
        classify(&decode)
    );
    let status = Status {
        code: 500,
        message: "conversion webhook failed".into(),
        ..Status::default()
    };
    assert_eq!(
        classify(&watcher::Error::WatchError(status.boxed())),
        Class::Failing {
            status: "500".into(),
            detail: "conversion webhook failed".into()
        }
    );
}

#[tokio::test]
async fn a_namespace_watch_relists_its_namespace_only() {
    let (sink, mut rx, mut signals) = sink();
    let events = vec![
        Ok(Event::Init),
        Ok(Event::InitApply(deployment("one"))),
        Ok(Event::InitDone),
    ];
    let scope = Scope::Namespace("ns".into());
    let scoped = Scoped {
        kind: Kind::Deployment,
        scope: &scope,
    };
    objects(scoped, stream::iter(events), &sink, &mut false, &mut false).await;
    let msgs = drain(&mut rx);
    assert!(
        matches!(&msgs[..], [Msg::RelistedIn { namespace, objects, .. }] if namespace == "ns" && objects.len() == 1),
        "{msgs:?}"
    );
    assert_eq!(
        signals.try_recv().ok(),
        Some(Signal::Listed(Kind::Deployment))
    );
}

#[tokio::test]
async fn a_namespace_warnings_watch_says_where_it_read() {
    let (sink, mut rx, _signals) = sink();
    let key = |uid: &str| (uid.to_string(), "1".to_string());
    let events = vec![
        Ok(Event::Init),
        Ok(Event::InitApply((key("e1"), warning("BackOff")))),
        Ok(Event::InitDone),
    ];
    let scope = Scope::Namespace("shop".into());
    warnings(
        stream::iter(events),
        &scope,
        &sink,
        &mut HashMap::new(),
        &mut false,
    )
    .await;
    let msgs = drain(&mut rx);
    assert!(
        matches!(&msgs[..], [Msg::Warning { .. }, Msg::ReadIn { kind, namespace, .. }]
            if kind == "events" && namespace == "shop"),
        "{msgs:?}"
    );
    // Cluster-wide, nothing to say beyond the warnings.
    let events = vec![Ok(Event::Init), Ok(Event::InitDone)];
    warnings(
        stream::iter(events),
        &Scope::All,
        &sink,
        &mut HashMap::new(),
        &mut false,
    )
    .await;
    assert!(drain(&mut rx).is_empty());
}

fn warning(reason: &str) -> Option<WarningEvent> {
    Some(WarningEvent {
        reason: reason.into(),
        count: 1,
        ..WarningEvent::default()
    })
}

#[tokio::test]
async fn warnings_are_not_sent_twice_across_a_relist() {
    let (sink, mut rx, mut signals) = sink();
    let key = |uid: &str, rv: &str| (uid.to_string(), rv.to_string());
    let events = vec![
        Ok(Event::Init),
        Ok(Event::InitApply((key("e1", "1"), warning("BackOff")))),
        Ok(Event::InitDone),
        Ok(Event::Apply((key("e2", "5"), warning("FailedCreate")))),
        Ok(Event::Init),
        Ok(Event::InitApply((key("e1", "1"), warning("BackOff")))),
        Ok(Event::InitApply((key("e2", "6"), warning("FailedCreate")))),
        Ok(Event::InitDone),
    ];
    let mut sent = HashMap::new();
    warnings(
        stream::iter(events),
        &Scope::All,
        &sink,
        &mut sent,
        &mut false,
    )
    .await;
    let reasons: Vec<String> = drain(&mut rx)
        .into_iter()
        .filter_map(|m| match m {
            Msg::Warning { event, .. } => Some(event.reason),
            _ => None,
        })
        .collect();
    assert_eq!(
        reasons,
        vec!["BackOff", "FailedCreate", "FailedCreate"],
        "e1 unchanged, e2 counted again"
    );
    assert_eq!(signals.try_recv().ok(), Some(Signal::Listed(Kind::Event)));
}

fn lost(what: &str) -> watcher::Error {
    let io = std::io::Error::new(std::io::ErrorKind::TimedOut, what.to_string());
    watcher::Error::WatchFailed(kube::Error::ReadEvents(io))
}

#[tokio::test]
async fn a_dead_connection_is_lost_and_ends_the_stream_for_a_fresh_list() {
    let (sink, mut rx, mut signals) = sink();
    let events = vec![
        Ok(Event::Init),
        Ok(Event::InitApply(deployment("one"))),
        Ok(Event::InitDone),
        Err(lost("read timed out")),
        Ok(Event::Apply(deployment("never"))),
    ];
    let (mut listed_before, mut listed) = (false, false);
    let stop = objects(
        Kind::Deployment,
        stream::iter(events),
        &sink,
        &mut listed_before,
        &mut listed,
    )
    .await;
    assert!(matches!(stop, Stop::Lost));
    assert!(listed, "it had listed before it was lost");
    assert_eq!(
        drain(&mut rx).len(),
        1,
        "the list only: nothing after the loss"
    );
    assert_eq!(
        signals.try_recv().ok(),
        Some(Signal::Listed(Kind::Deployment))
    );
    assert!(matches!(
        signals.try_recv(),
        Ok(Signal::Lost(Kind::Deployment, reason)) if reason.contains("read timed out")
    ));
    // An API answer (500) is not a lost connection: backoff within the same watcher.
    assert!(!lost_connection(&api_error(500)));
    assert!(lost_connection(&lost("reset")));
}

#[tokio::test]
async fn warnings_sent_before_a_lost_watch_are_not_sent_again() {
    let (sink, mut rx, _signals) = sink();
    let key = |uid: &str, rv: &str| (uid.to_string(), rv.to_string());
    let mut sent = HashMap::new();
    let first = vec![
        Ok(Event::Init),
        Ok(Event::InitApply((key("e1", "1"), warning("BackOff")))),
        Ok(Event::InitDone),
        Err(lost("read timed out")),
    ];
    let stop = warnings(
        stream::iter(first),
        &Scope::All,
        &sink,
        &mut sent,
        &mut false,
    )
    .await;
    assert!(matches!(stop, Stop::Lost));
    let again = vec![
        Ok(Event::Init),
        Ok(Event::InitApply((key("e1", "1"), warning("BackOff")))),
        Ok(Event::InitApply((key("e3", "9"), warning("Unhealthy")))),
        Ok(Event::InitDone),
    ];
    warnings(
        stream::iter(again),
        &Scope::All,
        &sink,
        &mut sent,
        &mut false,
    )
    .await;
    let reasons: Vec<String> = drain(&mut rx)
        .into_iter()
        .filter_map(|m| match m {
            Msg::Warning { event, .. } => Some(event.reason),
            _ => None,
        })
        .collect();
    assert_eq!(reasons, vec!["BackOff", "Unhealthy"]);
}

#[test]
fn a_lost_watch_backs_off_until_a_list_goes_through() {
    let mut d = RELIST_FIRST;
    let mut seen = vec![d];
    for _ in 0..7 {
        d = next_relist(d, true);
        seen.push(d);
    }
    assert_eq!(seen[1], RELIST_FIRST * 2);
    assert_eq!(*seen.last().unwrap_or(&Duration::ZERO), RELIST_MAX);
    assert_eq!(next_relist(RELIST_MAX, false), RELIST_FIRST);
}

/// Signals until the first `Settled`, or None when the channel closes first.
async fn until_settled(signals: &mut mpsc::UnboundedReceiver<Signal>) -> Option<Kind> {
    while let Some(s) = signals.recv().await {
        if let Signal::Settled(kind) = s {
            return Some(kind);
        }
    }
    None
}

#[tokio::test]
async fn the_first_pass_is_settled_once_after_its_list_is_in_the_channel() {
    let (base, mut rx, mut signals) = sink();
    let sink = base.for_kind(Kind::Deployment);
    drop(base);
    let events = vec![
        Ok(Event::Init),
        Ok(Event::InitApply(deployment("one"))),
        Ok(Event::InitDone),
        Ok(Event::Init),
        Ok(Event::InitDone),
    ];
    // The stream stays open after its lists, as a live watch does.
    let s = stream::iter(events).chain(stream::pending());
    let task = tokio::spawn(async move {
        objects(Kind::Deployment, s, &sink, &mut false, &mut false).await;
    });
    assert_eq!(until_settled(&mut signals).await, Some(Kind::Deployment));
    assert!(
        matches!(rx.try_recv(), Ok(Msg::Relisted { objects, .. }) if objects.len() == 1),
        "the list is in the channel before the kind is settled"
    );
    // The second list (a relist) arrives, but says nothing more.
    assert!(matches!(rx.recv().await, Some(Msg::Relisted { objects, .. }) if objects.is_empty()));
    task.abort();
    let _ = task.await;
    assert_eq!(until_settled(&mut signals).await, None, "settled once");
}

#[tokio::test]
async fn warnings_settle_after_the_listed_ones_are_sent() {
    let (sink, mut rx, mut signals) = sink();
    let sink = sink.for_kind(Kind::Event);
    let key = |uid: &str| (uid.to_string(), "1".to_string());
    let events = vec![
        Ok(Event::Init),
        Ok(Event::InitApply((key("e1"), warning("BackOff")))),
        Ok(Event::InitDone),
    ];
    let s = stream::iter(events).chain(stream::pending());
    let task = tokio::spawn(async move {
        let mut sent = HashMap::new();
        warnings(s, &Scope::All, &sink, &mut sent, &mut false).await
    });
    assert_eq!(until_settled(&mut signals).await, Some(Kind::Event));
    assert!(matches!(rx.try_recv(), Ok(Msg::Warning { .. })));
    task.abort();
}

#[test]
fn a_kind_watched_namespace_by_namespace_settles_with_its_last_namespace() {
    let (sink, _rx, mut signals) = sink();
    let sink = sink.for_kind(Kind::Canary);
    let namespaces = sink.split(3);
    namespaces[0].passed();
    namespaces[0].passed();
    namespaces[2].passed();
    assert!(signals.try_recv().is_err(), "one namespace still listing");
    namespaces[1].passed();
    assert_eq!(signals.try_recv().ok(), Some(Signal::Settled(Kind::Canary)));
    assert!(signals.try_recv().is_err(), "once");
    // A sink nobody waits on (tests, tools) says nothing.
    let (plain, _rx, mut signals) = self::sink();
    plain.passed();
    assert!(signals.try_recv().is_err());
}
