//! The executor's behaviour: deadline, intent before result, one result per action, and
//! nothing written or sent after `shutdown`.

use super::*;
use crate::core::action::{ActionKind, Seen};
use crate::core::model::ReleaseKind;

struct Slow;
impl ActionTarget for Slow {
    fn execute(&self, _plan: ActionPlan) -> BoxFuture<'static, Outcome> {
        Box::pin(async {
            tokio::time::sleep(Duration::from_secs(3600)).await;
            Outcome::Applied {
                status: 200,
                detail: String::new(),
            }
        })
    }
    fn check_access(&self, _: String, _: String, _: String) -> BoxFuture<'static, Option<bool>> {
        Box::pin(async { Some(true) })
    }
    fn dry_run(&self, _plan: ActionPlan) -> BoxFuture<'static, Result<String, String>> {
        Box::pin(async { Ok("ok".to_string()) })
    }
    fn identity(&self) -> BoxFuture<'static, String> {
        Box::pin(async { "tester".to_string() })
    }
}

fn plan() -> ActionPlan {
    ActionPlan {
        kind: ActionKind::Pause,
        cluster: "c".into(),
        release_kind: ReleaseKind::Deployment,
        namespace: "ns".into(),
        name: "web".into(),
        uid: "u".into(),
        prod: false,
        calls: vec![],
        seen: Seen {
            phase: "Progressing".into(),
            step: None,
            revision: None,
            resource_version: "1".into(),
        },
        notes: vec![],
        owner_first: None,
    }
}

#[tokio::test(start_paused = true)]
async fn deadline_gives_unknown_and_audits_intent_before_result() {
    let dir = tempfile::tempdir().unwrap();
    let log = AuditLog::open(&dir.path().join("a.jsonl")).unwrap();
    let (tx, mut rx) = mpsc::channel(16);
    let mut targets: HashMap<String, Arc<dyn ActionTarget>> = HashMap::new();
    targets.insert("c".into(), Arc::new(Slow));
    let ex = Executor::new(targets, Some(log.clone()), tx);
    ex.execute(1, plan(), None);
    let mut done = None;
    while let Some(m) = rx.recv().await {
        if let Msg::ActionDone { id, outcome } = m {
            done = Some((id, outcome));
            break;
        }
    }
    let (id, outcome) = done.unwrap();
    assert_eq!(id, 1);
    assert!(matches!(outcome, Outcome::Unknown { .. }), "{outcome:?}");
    let tail = log.tail(10);
    assert_eq!(tail.len(), 2);
    assert_eq!(tail[0].stage, AuditStage::Intent);
    assert_eq!(tail[1].stage, AuditStage::Result);
    assert_eq!(tail[1].outcome, "unknown");
}

#[tokio::test(start_paused = true)]
async fn lines_come_with_the_records_and_the_result_before_done() {
    let (tx, mut rx) = mpsc::channel(16);
    let mut targets: HashMap<String, Arc<dyn ActionTarget>> = HashMap::new();
    targets.insert("c".into(), Arc::new(Slow));
    let ex = Executor::new(targets, None, tx);
    ex.execute(3, plan(), None);
    let mut stages = Vec::new();
    while let Some(m) = rx.recv().await {
        match m {
            Msg::Audit(lines) => stages.extend(lines.into_iter().map(|l| {
                assert_eq!(l.target, "ns/web");
                (l.stage, l.outcome)
            })),
            Msg::ActionDone { .. } => break,
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(stages.len(), 2, "{stages:?}");
    assert_eq!(stages[0], (AuditStage::Intent, "sending".into()));
    assert_eq!(stages[1].0, AuditStage::Result);
    assert!(stages[1].1.starts_with("outcome unknown"), "{stages:?}");
}

#[tokio::test(start_paused = true)]
async fn shutdown_records_what_the_core_still_has_in_flight() {
    let dir = tempfile::tempdir().unwrap();
    let log = AuditLog::open(&dir.path().join("a.jsonl")).unwrap();
    let (tx, mut rx) = mpsc::channel(16);
    let mut targets: HashMap<String, Arc<dyn ActionTarget>> = HashMap::new();
    targets.insert("c".into(), Arc::new(Slow));
    let ex = Executor::new(targets, Some(log.clone()), tx);
    ex.execute(5, plan(), None);
    // The intent is written (and shown) before the request goes out.
    assert!(matches!(rx.recv().await, Some(Msg::Audit(_))));
    assert_eq!(ex.shutdown(), 1);
    let tail = log.tail(10);
    assert_eq!(tail.len(), 2);
    assert_eq!(tail[0].stage, AuditStage::Intent);
    assert_eq!(tail[1].stage, AuditStage::Result);
    assert_eq!(tail[1].outcome, "unknown");
    let text = std::fs::read_to_string(log.path()).unwrap();
    let last: serde_json::Value = serde_json::from_str(text.lines().last().unwrap()).unwrap();
    assert_eq!(last["user"], "tester", "the identity seen at intent");
    assert_eq!(last["seq"], 5);
}

#[tokio::test]
async fn unknown_cluster_is_rejected_without_audit() {
    let (tx, mut rx) = mpsc::channel(4);
    let ex = Executor::new(HashMap::new(), None, tx);
    ex.execute(9, plan(), None);
    // No intent (nothing was sent); the audit screen still shows the refusal.
    match rx.recv().await {
        Some(Msg::Audit(lines)) => assert_eq!(lines[0].stage, AuditStage::Result),
        other => panic!("unexpected {other:?}"),
    }
    match rx.recv().await {
        Some(Msg::ActionDone {
            outcome: Outcome::Rejected { detail, .. },
            ..
        }) => {
            assert!(detail.contains("no connection"))
        }
        other => panic!("unexpected {other:?}"),
    }
}

/// A target that answers only when the test opens its gates: `identity` first, then the
/// request itself. Counts the requests that went out.
#[derive(Clone)]
struct Gated {
    who: Arc<tokio::sync::Semaphore>,
    answer: Arc<tokio::sync::Semaphore>,
    sent: Arc<std::sync::atomic::AtomicUsize>,
}

impl Default for Gated {
    fn default() -> Gated {
        Gated {
            who: Arc::new(tokio::sync::Semaphore::new(0)),
            answer: Arc::new(tokio::sync::Semaphore::new(0)),
            sent: Arc::default(),
        }
    }
}

impl Gated {
    fn open_identity() -> Gated {
        let g = Gated::default();
        g.who.add_permits(1000);
        g
    }
    fn sent(&self) -> usize {
        self.sent.load(std::sync::atomic::Ordering::SeqCst)
    }
}

impl ActionTarget for Gated {
    fn execute(&self, _plan: ActionPlan) -> BoxFuture<'static, Outcome> {
        self.sent.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let gate = self.answer.clone();
        Box::pin(async move {
            let _ = gate.acquire().await;
            Outcome::Applied {
                status: 200,
                detail: "late".into(),
            }
        })
    }
    fn check_access(&self, _: String, _: String, _: String) -> BoxFuture<'static, Option<bool>> {
        Box::pin(async { Some(true) })
    }
    fn dry_run(&self, _plan: ActionPlan) -> BoxFuture<'static, Result<String, String>> {
        Box::pin(async { Ok("ok".to_string()) })
    }
    fn identity(&self) -> BoxFuture<'static, String> {
        let gate = self.who.clone();
        Box::pin(async move {
            let _ = gate.acquire().await;
            "tester".to_string()
        })
    }
}

fn gated_executor(target: &Gated, log: &AuditLog) -> (Executor, mpsc::Receiver<Msg>) {
    let (tx, rx) = mpsc::channel(16);
    let mut targets: HashMap<String, Arc<dyn ActionTarget>> = HashMap::new();
    targets.insert("c".into(), Arc::new(target.clone()));
    // A deadline far beyond the test: the only answers are the ones the test lets through.
    let ex =
        Executor::new(targets, Some(log.clone()), tx).with_deadline(Duration::from_secs(1 << 30));
    (ex, rx)
}

#[tokio::test]
async fn an_answer_after_shutdown_writes_and_reports_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let log = AuditLog::open(&dir.path().join("a.jsonl")).unwrap();
    let target = Gated::open_identity();
    let (ex, mut rx) = gated_executor(&target, &log);
    ex.execute(2, plan(), None);
    assert!(matches!(rx.recv().await, Some(Msg::Audit(_))), "the intent");
    assert_eq!(ex.shutdown(), 1);
    assert_eq!(ex.shutdown(), 0, "a second shutdown records nothing");
    // The request answers now: its task ends without a record or a message.
    target.answer.add_permits(1);
    drop(ex);
    // The channel closes only when the action's task (holding an executor) has ended.
    assert!(rx.recv().await.is_none(), "nothing reported after shutdown");
    let tail = log.tail(10);
    let got: Vec<_> = tail.iter().map(|l| (l.stage, l.outcome.as_str())).collect();
    assert_eq!(
        got,
        [
            (AuditStage::Intent, "sending"),
            (AuditStage::Result, "unknown")
        ]
    );
    assert_eq!(target.sent(), 1);
}

#[tokio::test]
async fn an_action_not_yet_sent_at_shutdown_is_never_sent() {
    let dir = tempfile::tempdir().unwrap();
    let log = AuditLog::open(&dir.path().join("a.jsonl")).unwrap();
    let target = Gated::default();
    let (ex, mut rx) = gated_executor(&target, &log);
    ex.execute(4, plan(), None);
    // Still asking who we are: nothing written, nothing sent.
    assert_eq!(ex.shutdown(), 1);
    target.who.add_permits(1);
    ex.execute(6, plan(), None);
    drop(ex);
    assert!(rx.recv().await.is_none());
    assert_eq!(target.sent(), 0, "no request after shutdown");
    let text = std::fs::read_to_string(log.path()).unwrap();
    let records: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(records.len(), 1, "{text}");
    assert_eq!(records[0]["stage"], "result");
    assert_eq!(records[0]["seq"], 4);
    assert_eq!(records[0]["outcome"]["outcome"], "rejected");
    assert!(text.contains("not sent"), "{text}");
}
