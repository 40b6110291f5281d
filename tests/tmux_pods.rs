//! The real binary in a real terminal (tmux, 80x24), in the demo: from the home screen to
//! the pods of the crash-looping release and that pod's events in at most four keys — Tab,
//! Tab (the failures feed), at most one `j` to its BackOff row, Enter — then Escape back to
//! the release's detail, which lists its events.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod tmux;

use std::time::Duration;

use tmux::{Tmux, wait_file};

const WAIT: Duration = Duration::from_secs(20);

/// The rows of the failures panel, top first.
fn failure_rows(screen: &str) -> Vec<&str> {
    let lines: Vec<&str> = screen.lines().collect();
    let Some(title) = lines.iter().position(|l| l.contains("Failures")) else {
        return Vec::new();
    };
    // Up to the footer (the last line).
    lines[title + 1..lines.len().saturating_sub(1)].to_vec()
}

/// Index of the crash loop's BackOff row among the failures shown.
fn backoff_row(screen: &str) -> Option<usize> {
    failure_rows(screen)
        .iter()
        .position(|l| l.contains("pod/search") && l.contains("BackOff"))
}

#[test]
fn demo_home_to_the_crash_looping_pod_and_its_events_in_four_keys() {
    let bin = env!("CARGO_BIN_EXE_shipdeck");
    let dir = tempfile::tempdir().unwrap();
    let status_file = dir.path().join("status");
    let script = format!(
        "HOME={home} {bin} --demo --seed 1; echo \"EXIT=$?\" > {status}; sleep 30",
        home = dir.path().display(),
        status = status_file.display(),
    );
    let tmux = Tmux::start("pods", 80, 24, &script);
    // The feed is newest first and the kubelet's BackOff comes back every 40 s: wait until
    // it is one of the top two rows, so one `j` at most reaches it.
    let home = tmux.wait_for(
        "the crash loop's BackOff near the top",
        Duration::from_secs(90),
        |s| backoff_row(s).is_some_and(|i| i <= 1),
    );
    let row = backoff_row(&home).unwrap();
    let mut keys = vec!["Tab", "Tab"];
    keys.extend(std::iter::repeat_n("j", row));
    keys.push("Enter");
    assert!(keys.len() <= 4, "{keys:?}");
    tmux.keys(&keys);
    let pods = tmux.wait_for("the pods screen with the pod's events", WAIT, |s| {
        s.contains("Pods of search/search-indexer")
            && s.contains("CrashLoopBackOff")
            && s.contains("Events of this pod")
            && s.contains("Warning BackOff")
    });
    assert!(pods.contains("Error exit 1"), "last termination:\n{pods}");
    assert!(pods.contains("0/1"), "ready n/m:\n{pods}");
    assert!(
        pods.contains("Normal  Started"),
        "Normal events too:\n{pods}"
    );
    println!("keys from home to the pod and its events: {}", keys.len());

    // Escape: the release's detail, its ReplicaSet row selected and its events listed.
    tmux.keys(&["Escape"]);
    tmux.wait_for("the detail", WAIT, |s| {
        s.contains("search/search-indexer") && s.contains("▸ rev") && s.contains("Events")
    });
    tmux.keys(&["q", "q"]);
    assert_eq!(
        wait_file(&status_file, Duration::from_secs(10)).trim(),
        "EXIT=0"
    );
}
