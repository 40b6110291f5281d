//! The pty harness of scripts/bench (examples/ptybench), on small `sh` children whose output is
//! known: what it times, counts and reads from /proc must match what the child did.
#![allow(clippy::expect_used)]

#[allow(dead_code)]
#[path = "../examples/ptybench/pty.rs"]
mod pty;

use std::time::Duration;

use pty::{PtySession, non_blank_cells, percentile, tree_usage};

fn sh(script: &str) -> PtySession {
    PtySession::spawn("sh", &["-c".into(), script.into()], &[], 50, 200).expect("spawn sh in a pty")
}

const LONG: Duration = Duration::from_secs(10);

#[test]
fn the_child_sees_a_200x50_controlling_terminal() {
    // `stty size` reads the window size of its stdin; `tty` names it; opening /dev/tty only
    // works with a controlling terminal (what tcell programs such as k9s require).
    let mut s = sh("stty size; tty; (echo ctty-ok >/dev/tty) 2>&1; sleep 5");
    let hit = s
        .wait_until(LONG, |scr| scr.contents().contains("ctty-ok"))
        .expect("read");
    let text = s.text();
    assert!(hit.is_some(), "screen: {text}");
    assert!(text.contains("50 200"), "screen: {text}");
    assert!(text.contains("/dev/pts/"), "screen: {text}");
}

#[test]
fn the_full_view_time_follows_the_output_that_completes_it() {
    let mut s =
        sh("printf 'first screen %s' \"$(seq -s ' ' 1 60)\"; sleep 0.4; printf ' READY'; sleep 5");
    let first = s
        .wait_until(LONG, |scr| non_blank_cells(scr) > 100)
        .expect("read")
        .expect("a first frame");
    let full = s
        .wait_until(LONG, |scr| scr.contents().contains("READY"))
        .expect("read")
        .expect("the full view");
    assert!(
        first < Duration::from_millis(400),
        "first frame at {first:?}"
    );
    assert!(
        full >= first + Duration::from_millis(350),
        "first {first:?}, full {full:?}: READY came 0.4 s after the first frame"
    );
    assert!(full < Duration::from_secs(3), "full view at {full:?}");
}

#[test]
fn traffic_counts_every_byte_the_child_wrote_and_nothing_while_it_is_quiet() {
    // No newlines: the line discipline would turn each into \r\n.
    let mut s = sh("head -c 3000 /dev/zero | tr '\\0' x; sleep 0.3; printf yz; sleep 5");
    s.wait_until(LONG, |scr| scr.contents().contains("yz"))
        .expect("read")
        .expect("yz");
    assert_eq!(s.total().bytes, 3002);
    assert!(
        s.total().reads >= 2,
        "the two writes came 0.3 s apart: {:?}",
        s.total()
    );
    let quiet = s.pump(Duration::from_millis(500)).expect("pump");
    assert_eq!(quiet.bytes, 0);
    assert_eq!(quiet.reads, 0);
}

#[test]
fn a_cursor_position_query_is_answered_like_a_terminal() {
    // crossterm-style programs ask where the cursor is and block until the answer comes.
    let mut s = sh(
        "stty raw -echo; printf '\\033[3;5H\\033[6n'; ans=$(head -c 6 | cat -v); printf '\\033[10;1Hgot %s' \"$ans\"; sleep 5",
    );
    let hit = s
        .wait_until(LONG, |scr| scr.contents().contains("got ^[[3;5R"))
        .expect("read");
    assert!(hit.is_some(), "screen: {}", s.text());
}

#[test]
fn key_latencies_are_timed_until_the_predicted_screen() {
    // The pty's own echo (cooked mode) is the "frame": each z shows at once.
    let mut s = sh("sleep 10");
    s.wait_until(Duration::from_millis(200), |_| false)
        .expect("settle");
    let steps: Vec<(Vec<u8>, String)> = (1..=5).map(|i| (b"z".to_vec(), "z".repeat(i))).collect();
    let times = s
        .key_latencies(&steps, Duration::from_secs(3))
        .expect("keys");
    assert_eq!(times.len(), 5);
    for t in &times {
        let t = t.expect("every press echoed");
        assert!(t < Duration::from_millis(500), "echo took {t:?}");
    }
    // A prediction that never comes true is reported as missed, not as a time.
    let missed = s
        .key_latencies(
            &[(b"q".to_vec(), "never on screen".into())],
            Duration::from_millis(300),
        )
        .expect("keys");
    assert_eq!(missed, vec![None]);
}

#[test]
fn tree_usage_covers_the_child_and_its_descendants() {
    let mut s = sh(
        "sleep 7 & sleep 7 & i=0; while [ $i -lt 200000 ]; do i=$((i+1)); done; echo spun; wait",
    );
    s.wait_until(Duration::from_secs(30), |scr| {
        scr.contents().contains("spun")
    })
    .expect("read")
    .expect("the loop finished");
    let u = tree_usage(s.pid());
    assert_eq!(u.processes, 3, "sh and its two sleeps: {u:?}");
    assert!(u.rss_kib > 0 && u.hwm_kib >= u.rss_kib, "{u:?}");
    assert!(u.cpu_ticks > 0, "the busy loop used CPU: {u:?}");
}

#[test]
fn an_exited_child_closes_the_session_and_stops_the_wait() {
    let mut s = sh("printf bye");
    let status = s.wait_exit(LONG).expect("wait").expect("exited");
    assert!(status.success());
    let never = s
        .wait_until(LONG, |scr| scr.contents().contains("never"))
        .expect("read");
    assert_eq!(never, None);
    assert!(s.closed());
    assert!(s.text().contains("bye"));
}

#[test]
fn percentiles_use_the_nearest_rank() {
    let v: Vec<Duration> = (1..=100).map(Duration::from_millis).collect();
    assert_eq!(percentile(&v, 50.0), Some(Duration::from_millis(50)));
    assert_eq!(percentile(&v, 99.0), Some(Duration::from_millis(99)));
    assert_eq!(percentile(&v[..3], 99.0), Some(Duration::from_millis(3)));
    assert_eq!(percentile(&[], 50.0), None);
}
