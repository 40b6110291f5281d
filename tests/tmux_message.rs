//! The real binary in a real terminal (tmux, 80x24), in the demo: the crash-looping
//! release's pod, then `m` — its full message — and the end of the message (`G`) shows the
//! last line of the crash's stack trace (its last termination's message). Esc comes back to
//! the pods screen.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod tmux;

use std::time::Duration;

use tmux::{Tmux, wait_file};

const WAIT: Duration = Duration::from_secs(20);

/// The last line of the demo's crash-looping container's stack trace.
const LAST_LINE: &str =
    "note: Some details are omitted, run with `RUST_BACKTRACE=full` for a verbose backtrace.";

/// The screen's words, one space apart (a wrapped line reads as one).
fn flat(screen: &str) -> String {
    screen.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The message view's title line (it names the rows shown).
fn title(screen: &str) -> String {
    screen
        .lines()
        .find(|l| l.contains("rows ") && l.contains("as of"))
        .unwrap_or_default()
        .to_string()
}

#[test]
fn demo_m_on_the_crash_looping_pod_shows_its_whole_stack_trace() {
    let bin = env!("CARGO_BIN_EXE_shipdeck");
    let dir = tempfile::tempdir().unwrap();
    let status_file = dir.path().join("status");
    let script = format!(
        "HOME={home} {bin} --demo --seed 1; echo \"EXIT=$?\" > {status}; sleep 30",
        home = dir.path().display(),
        status = status_file.display(),
    );
    let tmux = Tmux::start("message", 80, 24, &script);
    tmux.wait_for("the demo's releases", WAIT, |s| s.contains("indexer"));
    // Filter to the release, open its detail (the crash-looping ReplicaSet is the row the
    // cursor starts on), then its pods.
    tmux.keys(&["/"]);
    tmux.keys(&[
        "s", "e", "a", "r", "c", "h", "-", "i", "n", "d", "e", "x", "e", "r",
    ]);
    tmux.keys(&["Enter", "Enter"]);
    tmux.wait_for("the detail", WAIT, |s| s.contains("▸ rev"));
    tmux.keys(&["Enter"]);
    tmux.wait_for("the pods screen", WAIT, |s| {
        s.contains("Pods of search/search-indexer") && s.contains("CrashLoopBackOff")
    });
    tmux.keys(&["m"]);
    let top = tmux.wait_for("the message view", WAIT, |s| {
        s.contains("Pod search/search-indexer-") && s.contains("last termination: Error exit 1")
    });
    assert!(top.contains("waiting CrashLoopBackOff"), "{top}");
    assert!(
        top.contains("thread 'main' panicked at src/index/schema.rs:118:14:"),
        "the trace starts on the first page:\n{top}"
    );
    // Page down until the trace's last line is on screen (wrapped at 80 columns, but
    // whole, word by word); each page is waited for by its title's row range.
    let mut screen = top;
    let mut pages = 0;
    while !flat(&screen).contains(LAST_LINE) {
        assert!(pages < 8, "the trace's last line never showed:\n{screen}");
        let before = title(&screen);
        tmux.keys(&["NPage"]);
        screen = tmux.wait_for("the next page", WAIT, |s| title(s) != before);
        pages += 1;
    }
    assert!(screen.contains("at ./src/main.rs:21:1"), "{screen}");
    println!(
        "pages down to the trace's last line: {pages}; title: {}",
        title(&screen)
    );
    tmux.keys(&["Escape"]);
    tmux.wait_for("back on the pods screen", WAIT, |s| {
        s.contains("Pods of search/search-indexer")
    });
    tmux.keys(&["Escape", "q"]);
    assert_eq!(
        wait_file(&status_file, Duration::from_secs(10)).trim(),
        "EXIT=0"
    );
}
