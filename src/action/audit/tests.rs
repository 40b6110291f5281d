//! The audit log's tests: records and their ids, the file's safety (links refused, mode,
//! rotation), two writers on one file, and the executor refusing to send without an intent.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use super::*;
use crate::core::action::{ActionKind, ApiCall, PatchType, ROLLOUTS_STATUS, Seen};
use crate::core::model::ReleaseKind;
use std::os::unix::fs::PermissionsExt;

fn plan() -> ActionPlan {
    ActionPlan {
        kind: ActionKind::Promote,
        cluster: "prod-eu-1".into(),
        release_kind: ReleaseKind::Rollout,
        namespace: "shop".into(),
        name: "checkout".into(),
        uid: "u-1".into(),
        prod: true,
        calls: vec![ApiCall::Patch {
            resource: ROLLOUTS_STATUS,
            namespace: "shop".into(),
            name: "checkout".into(),
            patch_type: PatchType::Merge,
            body: serde_json::json!({"status": {"pauseConditions": null}, "metadata": {"resourceVersion": "42"}}),
        }],
        seen: Seen {
            phase: "Paused".into(),
            step: Some((1, 6)),
            revision: Some(3),
            resource_version: "42".into(),
        },
        notes: vec![],
        owner_first: None,
    }
}

#[test]
fn tail_reads_intents_and_results_and_skips_anything_else() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("audit.jsonl");
    let log = AuditLog::open(&path).unwrap();
    let at = Timestamp::from_second(1_800_000_000).unwrap();
    log.write(&record(AuditStage::Intent, 1, "a", &plan(), None, None, at))
        .unwrap();
    let mut text = std::fs::read_to_string(&path).unwrap();
    text.push_str("{\"stage\":\"bogus\",\"cluster\":\"x\"}\nnot json\n");
    std::fs::write(&path, text).unwrap();
    let tail = log.tail(10);
    assert_eq!(tail.len(), 1, "{tail:?}");
    assert_eq!(tail[0].stage, AuditStage::Intent);
}

#[test]
fn intent_then_result_with_mode_0600() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sub/audit.jsonl");
    let log = AuditLog::open(&path).unwrap();
    let p = plan();
    let at = Timestamp::from_second(1_800_000_000).unwrap();
    log.write(&record(AuditStage::Intent, 7, "alice", &p, None, None, at))
        .unwrap();
    let outcome = Outcome::Applied {
        status: 200,
        detail: "ok".into(),
    };
    log.write(&record(
        AuditStage::Result,
        7,
        "alice",
        &p,
        None,
        Some(&outcome),
        at,
    ))
    .unwrap();
    let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
    let text = std::fs::read_to_string(&path).unwrap();
    let lines: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[0]["stage"], "intent");
    assert_eq!(lines[0]["precondition"]["resourceVersion"], "42");
    assert_eq!(lines[0]["uid"], "u-1");
    assert_eq!(lines[1]["stage"], "result");
    assert_eq!(lines[1]["http_status"], 200);
    let tail = log.tail(10);
    assert_eq!(tail.len(), 2);
    assert_eq!(tail[1].outcome, "applied");
    assert_eq!(tail[0].target, "shop/checkout");
}

#[test]
fn existing_file_mode_is_tightened() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("audit.jsonl");
    std::fs::write(&path, "").unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
    let _log = AuditLog::open(&path).unwrap();
    let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
}

fn at() -> Timestamp {
    Timestamp::from_second(1_800_000_000).unwrap()
}

fn records(path: &Path) -> Vec<Value> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[test]
fn every_record_names_its_session_and_a_unique_id() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("audit.jsonl");
    let log = AuditLog::open(&path).unwrap();
    log.write(&record(
        AuditStage::Intent,
        4,
        "a",
        &plan(),
        None,
        None,
        at(),
    ))
    .unwrap();
    let r = &records(&path)[0];
    assert_eq!(r["session"], session());
    assert_eq!(r["seq"], 4);
    assert_eq!(r["id"], format!("{}#4", session()));
    let tail = log.tail(10);
    assert!(tail[0].own, "this session's record");
    assert_eq!(tail[0].id, format!("{}#4", session()));
}

#[test]
fn session_ids_carry_time_and_pid_and_differ() {
    let a = new_session_id();
    let b = new_session_id();
    assert_ne!(a, b);
    let pid = std::process::id().to_string();
    let parts: Vec<&str> = a.split('-').collect();
    assert_eq!(parts.len(), 3, "{a}");
    assert_eq!(parts[0].len(), "20261201T210748Z".len(), "{a}");
    assert!(parts[0].ends_with('Z'), "{a}");
    assert_eq!(parts[1], pid);
    assert_eq!(session(), session(), "one per process");
}

/// Two consoles appending to one file at once: every line whole, every id distinct,
/// although both count their actions from 1.
#[test]
fn two_writers_on_one_file_write_distinct_ids() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("audit.jsonl");
    let sessions = [new_session_id(), new_session_id()];
    let writers: Vec<_> = sessions
        .iter()
        .map(|s| {
            let (log, s) = (AuditLog::open(&path).unwrap(), s.clone());
            std::thread::spawn(move || {
                let p = plan();
                for seq in 1..=50 {
                    for stage in [AuditStage::Intent, AuditStage::Result] {
                        let r = record(stage, seq, "u", &p, None, None, at()).in_session(&s);
                        log.write(&r).unwrap();
                    }
                }
            })
        })
        .collect();
    for w in writers {
        w.join().unwrap();
    }
    let all = records(&path);
    assert_eq!(all.len(), 200);
    let intents: Vec<&str> = all
        .iter()
        .filter(|r| r["stage"] == "intent")
        .map(|r| r["id"].as_str().unwrap())
        .collect();
    let distinct: std::collections::BTreeSet<&str> = intents.iter().copied().collect();
    assert_eq!(distinct.len(), 100, "ids collide");
    for s in &sessions {
        assert_eq!(all.iter().filter(|r| r["session"] == *s).count(), 100);
    }
}

#[test]
fn a_symlink_at_the_path_is_refused_and_not_followed() {
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("elsewhere.jsonl");
    let path = dir.path().join("audit.jsonl");
    std::os::unix::fs::symlink(&target, &path).unwrap();
    let err = AuditLog::open(&path).err().expect("a link is refused");
    let text = err.to_string();
    assert!(text.contains("symbolic link"), "{text}");
    assert!(text.contains("audit.jsonl"), "{text}");
    assert!(!target.exists(), "the link's target was created");
    // Also when the link points at an existing file: nothing is appended to it.
    std::fs::write(&target, "").unwrap();
    assert!(AuditLog::open(&path).is_err());
    assert_eq!(std::fs::read_to_string(&target).unwrap(), "");
}

#[test]
fn a_directory_or_fifo_at_the_path_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let sub = dir.path().join("adir");
    std::fs::create_dir(&sub).unwrap();
    assert!(AuditLog::open(&sub).is_err());
    let fifo = dir.path().join("fifo");
    let made = std::process::Command::new("mkfifo").arg(&fifo).status();
    if made.is_ok_and(|s| s.success()) {
        // Refused at once (no reader: ENXIO from the non-blocking open; with a reader:
        // "not a regular file"), never blocking the console's start.
        let err = AuditLog::open(&fifo).err().expect("a fifo is refused");
        assert!(err.to_string().contains("fifo"), "{err}");
    }
}

#[test]
fn a_new_file_is_0600_in_a_created_directory_made_durable() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("a/b/audit.jsonl");
    let _log = AuditLog::open(&path).unwrap();
    let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
    // The directory fsync the creation relies on works on the parent, and fails (so the
    // open fails) when there is no parent to sync.
    file::sync_parent(&path).unwrap();
    assert!(file::sync_parent(&dir.path().join("missing/x.jsonl")).is_err());
}

#[test]
fn a_rotated_file_is_reopened_before_the_next_write() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("audit.jsonl");
    let rotated = dir.path().join("audit.jsonl.1");
    let log = AuditLog::open(&path).unwrap();
    let p = plan();
    log.write(&record(AuditStage::Intent, 1, "u", &p, None, None, at()))
        .unwrap();
    std::fs::rename(&path, &rotated).unwrap();
    log.write(&record(AuditStage::Intent, 2, "u", &p, None, None, at()))
        .unwrap();
    assert_eq!(
        records(&rotated).len(),
        1,
        "the old inode got the new record"
    );
    let now = records(&path);
    assert_eq!(now.len(), 1);
    assert_eq!(now[0]["seq"], 2);
    let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
    // Removed (logrotate's "create" after a move, or by hand): created again.
    std::fs::remove_file(&path).unwrap();
    log.write(&record(AuditStage::Intent, 3, "u", &p, None, None, at()))
        .unwrap();
    assert_eq!(records(&path)[0]["seq"], 3);
}

#[test]
fn a_link_put_in_place_of_the_open_file_refuses_the_write() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("audit.jsonl");
    let target = dir.path().join("other");
    std::fs::write(&target, "").unwrap();
    let log = AuditLog::open(&path).unwrap();
    std::fs::remove_file(&path).unwrap();
    std::os::unix::fs::symlink(&target, &path).unwrap();
    let err = log
        .write(&record(
            AuditStage::Intent,
            1,
            "u",
            &plan(),
            None,
            None,
            at(),
        ))
        .expect_err("refused");
    assert!(err.to_string().contains("symbolic link"), "{err}");
    assert_eq!(std::fs::read_to_string(&target).unwrap(), "");
}

#[test]
fn an_unavailable_log_refuses_writes_and_still_reads_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("audit.jsonl");
    AuditLog::open(&path)
        .unwrap()
        .write(&record(
            AuditStage::Intent,
            1,
            "u",
            &plan(),
            None,
            None,
            at(),
        ))
        .unwrap();
    let log = AuditLog::unavailable(&path, "read-only home");
    let err = log
        .write(&record(
            AuditStage::Intent,
            2,
            "u",
            &plan(),
            None,
            None,
            at(),
        ))
        .expect_err("refused");
    assert!(err.to_string().contains("read-only home"), "{err}");
    assert_eq!(log.tail(10).len(), 1);
    assert_eq!(records(&path).len(), 1);
    assert!(
        AuditLog::unavailable(Path::new(""), "none")
            .tail(10)
            .is_empty()
    );
}

#[test]
fn records_without_a_unique_id_are_read_but_never_this_sessions() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("audit.jsonl");
    let old = format!(
        "{{\"ts\":\"2026-01-01T00:00:00Z\",\"stage\":\"intent\",\"id\":1,\"session\":\"{}\"}}\n",
        session()
    );
    std::fs::write(&path, old).unwrap();
    let tail = AuditLog::open(&path).unwrap().tail(10);
    assert_eq!(tail.len(), 1);
    assert_eq!(tail[0].id, "");
    assert!(!tail[0].own);
}

#[test]
fn the_demo_log_sits_beside_the_real_one() {
    assert_eq!(
        demo_path(Path::new("/d/shipdeck/audit.jsonl")),
        PathBuf::from("/d/shipdeck/audit-demo.jsonl")
    );
    assert_eq!(demo_path(Path::new("/d/log")), PathBuf::from("/d/log-demo"));
}

mod refusal {
    //! The executor/audit boundary: no intent written, no request sent, and the user is
    //! told why (the action's outcome and its audit line).
    use std::collections::HashMap;
    use std::sync::atomic::{AtomicUsize, Ordering};

    use futures::future::BoxFuture;
    use tokio::sync::mpsc;

    use super::*;
    use crate::action::{ActionTarget, DemoTarget, Executor};
    use crate::core::msg::Msg;

    /// Counts the plans it is asked to send.
    struct Counting(Arc<AtomicUsize>);
    impl ActionTarget for Counting {
        fn execute(&self, _plan: ActionPlan) -> BoxFuture<'static, Outcome> {
            self.0.fetch_add(1, Ordering::SeqCst);
            Box::pin(async {
                Outcome::Applied {
                    status: 200,
                    detail: String::new(),
                }
            })
        }
        fn check_access(
            &self,
            _: String,
            _: String,
            _: String,
        ) -> BoxFuture<'static, Option<bool>> {
            Box::pin(async { Some(true) })
        }
        fn dry_run(&self, _plan: ActionPlan) -> BoxFuture<'static, Result<String, String>> {
            Box::pin(async { Ok(String::new()) })
        }
        fn identity(&self) -> BoxFuture<'static, String> {
            Box::pin(async { "tester".to_string() })
        }
    }

    /// A log opened fine whose path then became a symbolic link: the intent cannot be written.
    fn broken_log(dir: &Path) -> AuditLog {
        let path = dir.join("audit.jsonl");
        let log = AuditLog::open(&path).unwrap();
        std::fs::remove_file(&path).unwrap();
        std::os::unix::fs::symlink(dir.join("x"), &path).unwrap();
        log
    }

    /// Run one action through `ex`; the outcome and the audit lines shown.
    async fn run(ex: &Executor, rx: &mut mpsc::Receiver<Msg>) -> (Outcome, Vec<AuditLine>) {
        ex.execute(1, plan(), None);
        let mut lines = Vec::new();
        while let Some(m) = rx.recv().await {
            match m {
                Msg::Audit(mut l) => lines.append(&mut l),
                Msg::ActionDone { outcome, .. } => return (outcome, lines),
                other => panic!("unexpected {other:?}"),
            }
        }
        panic!("the executor stopped");
    }

    fn assert_refused(outcome: &Outcome, lines: &[AuditLine]) {
        match outcome {
            Outcome::Rejected { detail, .. } => {
                assert!(
                    detail.starts_with("not sent: cannot write the audit log"),
                    "{detail}"
                );
                assert!(detail.contains("symbolic link"), "{detail}");
            }
            other => panic!("sent anyway: {other:?}"),
        }
        assert_eq!(lines.len(), 1, "{lines:?}");
        assert_eq!(lines[0].stage, AuditStage::Result);
        assert!(lines[0].outcome.contains("not sent"), "{lines:?}");
    }

    #[tokio::test]
    async fn an_intent_that_cannot_be_written_is_not_sent() {
        let dir = tempfile::tempdir().unwrap();
        let sent = Arc::new(AtomicUsize::new(0));
        let mut targets: HashMap<String, Arc<dyn ActionTarget>> = HashMap::new();
        targets.insert("prod-eu-1".into(), Arc::new(Counting(sent.clone())));
        let (tx, mut rx) = mpsc::channel(16);
        let ex = Executor::new(targets.clone(), Some(broken_log(dir.path())), tx);
        let (outcome, lines) = run(&ex, &mut rx).await;
        assert_refused(&outcome, &lines);
        assert_eq!(sent.load(Ordering::SeqCst), 0, "a request went out");
        // The same executor with a log that can be written sends it.
        let (tx, mut rx) = mpsc::channel(16);
        let log = AuditLog::open(&dir.path().join("ok.jsonl")).unwrap();
        let ex = Executor::new(targets, Some(log), tx);
        let (outcome, _) = run(&ex, &mut rx).await;
        assert!(matches!(outcome, Outcome::Applied { .. }), "{outcome:?}");
        assert_eq!(sent.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn the_demo_does_not_simulate_an_action_it_could_not_record() {
        let dir = tempfile::tempdir().unwrap();
        let (req_tx, mut req_rx) = mpsc::channel(4);
        let mut targets: HashMap<String, Arc<dyn ActionTarget>> = HashMap::new();
        targets.insert("prod-eu-1".into(), Arc::new(DemoTarget::new(req_tx, false)));
        let (tx, mut rx) = mpsc::channel(16);
        let ex = Executor::new(targets, Some(broken_log(dir.path())), tx);
        let (outcome, lines) = run(&ex, &mut rx).await;
        assert_refused(&outcome, &lines);
        assert!(req_rx.try_recv().is_err(), "the simulation got the request");
    }
}

#[test]
fn tail_of_a_100_mb_file_reads_only_its_end() {
    use std::io::Write;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("audit.jsonl");
    let log = AuditLog::open(&path).unwrap();
    let at = Timestamp::from_second(1_800_000_000).unwrap();
    let p = plan();
    log.write(&record(AuditStage::Intent, 1, "a", &p, None, None, at))
        .unwrap();
    let one = std::fs::read(&path).unwrap();
    // A shift's worth (and more) of old records, then 600 numbered ones at the end.
    {
        let mut f = std::io::BufWriter::new(
            std::fs::OpenOptions::new()
                .append(true)
                .open(&path)
                .unwrap(),
        );
        let mut written = one.len();
        while written < 100 << 20 {
            f.write_all(&one).unwrap();
            written += one.len();
        }
    }
    for seq in 1000..1600 {
        log.write(&record(AuditStage::Intent, seq, "a", &p, None, None, at))
            .unwrap();
    }
    let size = std::fs::metadata(&path).unwrap().len();
    assert!(size >= 100 << 20);
    let started = std::time::Instant::now();
    let (tail, bytes) = log.tail_read(500);
    let took = started.elapsed();
    eprintln!(
        "audit tail: {} lines from a {size}-byte file: {bytes} bytes read in {took:?}",
        tail.len()
    );
    assert_eq!(tail.len(), 500);
    assert_eq!(tail[0].id, record_id(session(), 1100));
    assert_eq!(tail[499].id, record_id(session(), 1599));
    assert!(bytes <= MAX_TAIL_BYTES, "{bytes}");
    // 500 records and at most one chunk more.
    assert!(
        bytes <= 500 * one.len() as u64 + TAIL_CHUNK + one.len() as u64,
        "{bytes}"
    );
}

#[test]
fn tail_stops_at_its_byte_bound_and_drops_the_cut_line() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("audit.jsonl");
    let log = AuditLog::open(&path).unwrap();
    let at = Timestamp::from_second(1_800_000_000).unwrap();
    // Three-digit numbers: every record the same length.
    for seq in 100..300 {
        log.write(&record(
            AuditStage::Intent,
            seq,
            "a",
            &plan(),
            None,
            None,
            at,
        ))
        .unwrap();
    }
    let size = std::fs::metadata(&path).unwrap().len();
    let each = size / 200;
    // A bound of 10.5 records: the 10 whole ones, the cut one dropped.
    let mut file = File::open(&path).unwrap();
    let bytes = last_lines(&mut file, 500, each * 21 / 2).unwrap();
    assert_eq!(bytes.len() as u64, each * 10);
    assert!(bytes.starts_with(b"{"));
    // A file smaller than the bound: read whole.
    let mut file = File::open(&path).unwrap();
    assert_eq!(
        last_lines(&mut file, 500, size * 2).unwrap().len() as u64,
        size
    );
}
