//! `app::run`'s ways out with an action in flight: a draw error (EIO), an exit request (a
//! signal), the terminal's input ending and a panic in the loop each record the action once
//! as outcome unknown, and the answer that arrives afterwards writes nothing.

use std::collections::HashMap;
use std::io;
use std::sync::atomic::{AtomicBool, Ordering};

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use futures::FutureExt;
use futures::channel::mpsc::{UnboundedReceiver, UnboundedSender, unbounded};
use futures::future::BoxFuture;
use tokio::sync::Semaphore;

use super::*;
use crate::action::ActionTarget;
use crate::action::audit::AuditLog;
use crate::core::action::ActionPlan;
use crate::core::msg::Outcome;
use crate::core::testkit::fleet;

/// Answers who we are at once, and the request only when the test lets it.
struct Held(Arc<Semaphore>);

impl ActionTarget for Held {
    fn execute(&self, _plan: ActionPlan) -> BoxFuture<'static, Outcome> {
        let gate = self.0.clone();
        Box::pin(async move {
            let _ = gate.acquire().await;
            Outcome::Applied {
                status: 200,
                detail: "late answer".into(),
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
        Box::pin(async { "oncall".to_string() })
    }
}

type Events = UnboundedReceiver<io::Result<Event>>;

/// What the test keeps while the console runs.
struct Harness {
    _dir: tempfile::TempDir,
    log: AuditLog,
    /// Alive while anything (the executor's tasks) can still send a message.
    alive: mpsc::WeakSender<Msg>,
    gate: Arc<Semaphore>,
    keys: UnboundedSender<io::Result<Event>>,
}

/// What `run` takes.
type Parts = (Executor, mpsc::Receiver<Msg>, Events);

fn harness() -> (Harness, Parts) {
    let dir = tempfile::tempdir().unwrap();
    let log = AuditLog::open(&dir.path().join("audit.jsonl")).unwrap();
    let gate = Arc::new(Semaphore::new(0));
    let mut targets: HashMap<String, Arc<dyn ActionTarget>> = HashMap::new();
    targets.insert("prod-eu-1".into(), Arc::new(Held(gate.clone())));
    let (tx, rx) = mpsc::channel(1024);
    let alive = tx.downgrade();
    // No deadline within the test: the only answer is the one the test lets through.
    let executor =
        Executor::new(targets, Some(log.clone()), tx).with_deadline(Duration::from_secs(1 << 30));
    let (keys, events) = unbounded();
    let h = Harness {
        _dir: dir,
        log,
        alive,
        gate,
        keys,
    };
    (h, (executor, rx, events))
}

fn key(keys: &UnboundedSender<io::Result<Event>>, c: char) {
    let ev = Event::Key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE));
    keys.unbounded_send(Ok(ev)).unwrap();
}

fn stages(log: &AuditLog) -> Vec<(String, String)> {
    log.tail(100)
        .into_iter()
        .map(|l| (l.stage.as_str().to_string(), l.outcome))
        .collect()
}

/// Promote `shop/checkout` (the fleet's first row) from the keyboard and wait until its
/// intent is on disk: the request is then in flight, held by the target.
async fn promote_in_flight(keys: &UnboundedSender<io::Result<Event>>, log: &AuditLog) {
    key(keys, 'p');
    key(keys, 'y');
    let written = async {
        while stages(log).is_empty() {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    };
    tokio::time::timeout(Duration::from_secs(20), written)
        .await
        .expect("the promote's intent is written");
    assert_eq!(stages(log), [("intent".into(), "sending".into())]);
}

/// After `run` ended: the held request answers now; wait until the action's task is over
/// (nothing can send any more) and check it wrote nothing.
async fn late_answer_writes_nothing(h: &Harness) {
    h.gate.add_permits(1);
    let over = async {
        while h.alive.upgrade().is_some() {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    };
    tokio::time::timeout(Duration::from_secs(20), over)
        .await
        .expect("the action's task ends");
    let got = stages(&h.log);
    assert_eq!(got.len(), 2, "one intent, one result: {got:?}");
    assert_eq!(got[1].0, "result");
    assert_eq!(got[1].1, "unknown", "{got:?}");
    let text = std::fs::read_to_string(h.log.path()).unwrap();
    assert!(
        text.contains("console exited before the answer arrived"),
        "{text}"
    );
    assert!(!text.contains("late answer"), "{text}");
}

#[tokio::test]
async fn a_draw_error_with_an_action_in_flight_records_one_unknown_and_returns() {
    let (h, (executor, rx, events)) = harness();
    let failing = Arc::new(AtomicBool::new(false));
    let fail = failing.clone();
    let draw = move |_: &State| {
        if fail.load(Ordering::SeqCst) {
            Err(io::Error::from_raw_os_error(5)) // EIO: the SSH connection dropped
        } else {
            Ok(())
        }
    };
    let console = run(fleet(), rx, executor, events, std::future::pending(), draw);
    let drive = async {
        promote_in_flight(&h.keys, &h.log).await;
        failing.store(true, Ordering::SeqCst);
        key(&h.keys, 'j'); // a key draws at once
    };
    let (result, ()) = tokio::join!(console, drive);
    let err = result.expect_err("a draw error ends the console with the error");
    assert!(format!("{err:#}").contains("cannot draw"), "{err:#}");
    assert_eq!(stages(&h.log).len(), 2, "recorded before run returned");
    late_answer_writes_nothing(&h).await;
}

#[tokio::test]
async fn an_exit_request_ends_the_loop_with_its_reason_and_records_once() {
    let (h, (executor, rx, events)) = harness();
    let (signal, stop) = tokio::sync::oneshot::channel();
    let stop = async move { stop.await.unwrap_or(Exit::Quit) };
    let console = run(fleet(), rx, executor, events, stop, |_: &State| Ok(()));
    let drive = async {
        promote_in_flight(&h.keys, &h.log).await;
        let _ = signal.send(Exit::Signal(crate::exit::Signal::Terminate));
    };
    let (result, ()) = tokio::join!(console, drive);
    assert_eq!(
        result.unwrap(),
        Exit::Signal(crate::exit::Signal::Terminate)
    );
    late_answer_writes_nothing(&h).await;
}

#[tokio::test]
async fn the_terminal_going_away_ends_the_loop_and_records_once() {
    let (h, (executor, rx, events)) = harness();
    let console = run(
        fleet(),
        rx,
        executor,
        events,
        std::future::pending(),
        |_: &State| Ok(()),
    );
    let keys = h.keys.clone();
    let drive = async {
        promote_in_flight(&keys, &h.log).await;
        keys.close_channel(); // stdin gone
    };
    let (result, ()) = tokio::join!(console, drive);
    assert_eq!(result.unwrap(), Exit::TerminalLost);
    late_answer_writes_nothing(&h).await;
}

#[tokio::test]
async fn a_panic_in_the_loop_still_records_once_while_unwinding() {
    let (h, (executor, rx, events)) = harness();
    let panicking = Arc::new(AtomicBool::new(false));
    let armed = panicking.clone();
    let draw = move |_: &State| {
        assert!(
            !armed.load(Ordering::SeqCst),
            "injected panic while drawing"
        );
        Ok(())
    };
    let console = std::panic::AssertUnwindSafe(run(
        fleet(),
        rx,
        executor,
        events,
        std::future::pending(),
        draw,
    ))
    .catch_unwind();
    let drive = async {
        promote_in_flight(&h.keys, &h.log).await;
        panicking.store(true, Ordering::SeqCst);
        key(&h.keys, 'j');
    };
    let (result, ()) = tokio::join!(console, drive);
    assert!(result.is_err(), "the panic unwound out of run");
    late_answer_writes_nothing(&h).await;
}
