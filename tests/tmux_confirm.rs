//! The prod confirmation in a real terminal (tmux, 80x24, `shipdeck --demo`): abort on a
//! prod checkout — a name the demo has on three clusters, so it is typed as
//! `cluster/checkout` — Esc says "cancelled — nothing sent"; typing the name puts focus on
//! Confirm and Enter sends the abort, which the audit screen shows. A terminal resized
//! below 40x12 says it is too small, and the console comes back when it grows again.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod tmux;

use std::time::Duration;

use tmux::{Tmux, audit_stages, wait_file};

const WAIT: Duration = Duration::from_secs(20);

/// Start the demo in tmux with its own home and audit log; returns the session, the
/// temporary directory and the file the wrapper writes the exit status to.
fn demo(tag: &str) -> (Tmux, tempfile::TempDir, std::path::PathBuf) {
    let bin = env!("CARGO_BIN_EXE_shipdeck");
    let dir = tempfile::tempdir().unwrap();
    let status = dir.path().join("status");
    let script = format!(
        "SHIPDECK_AUDIT_LOG={audit} HOME={home} {bin} --demo --seed 1; echo \"EXIT=$?\" > {status}; sleep 30",
        audit = dir.path().join("audit.jsonl").display(),
        home = dir.path().display(),
        status = status.display(),
    );
    let tmux = Tmux::start(tag, 80, 24, &script);
    tmux.wait_for("the home screen", WAIT, |s| s.contains("checkout"));
    (tmux, dir, status)
}

/// The name the modal asks for, from its "type '…' to confirm" line.
fn name_to_type(screen: &str) -> Option<String> {
    let line = screen.lines().find(|l| l.contains("to confirm: ["))?;
    let (_, rest) = line.split_once("type '")?;
    let (name, _) = rest.split_once("' to confirm")?;
    Some(name.to_string())
}

#[test]
fn prod_abort_cancel_says_nothing_sent_and_typed_enter_sends() {
    let (tmux, dir, status) = demo("confirm");
    tmux.keys(&["/", "checkout", "Enter"]);
    tmux.wait_for("the filtered table", WAIT, |s| {
        s.contains("shop/checkout") && s.contains("Paused")
    });
    // The first checkout row that is on a prod cluster (its abort asks for the name).
    let mut modal = String::new();
    for _ in 0..3 {
        tmux.keys(&["a"]);
        modal = tmux.wait_for("the abort confirmation", WAIT, |s| {
            s.contains("Confirm abort")
        });
        if modal.contains("PROD") {
            break;
        }
        tmux.keys(&["Escape"]);
        tmux.wait_for("the modal to close", WAIT, |s| !s.contains("Confirm abort"));
        tmux.keys(&["j"]);
    }
    assert!(modal.contains("PROD"), "no prod checkout:\n{modal}");
    let name = name_to_type(&modal).unwrap_or_else(|| panic!("no name field:\n{modal}"));
    let (cluster, object) = name
        .split_once('/')
        .unwrap_or_else(|| panic!("checkout is on three clusters: {name:?}\n{modal}"));
    assert!(cluster.starts_with("prod-"), "{name}");
    assert_eq!(object, "checkout");
    assert!(
        modal.contains("▸[ Cancel ]◂"),
        "focus starts on Cancel:\n{modal}"
    );
    eprintln!("prod abort asks for {name:?}");

    // Esc: closed, and the footer says nothing was sent.
    tmux.keys(&["Escape"]);
    let cancelled = tmux.wait_for("the cancelled notice", WAIT, |s| {
        s.contains("cancelled — nothing sent") && !s.contains("Confirm abort")
    });
    let footer = cancelled.lines().rfind(|l| !l.trim().is_empty()).unwrap();
    assert!(
        footer.contains("abort checkout: cancelled — nothing sent"),
        "{cancelled}"
    );

    // Again, typing the name: focus moves to Confirm (shown), and Enter sends the abort.
    tmux.keys(&["a"]);
    tmux.wait_for("the abort confirmation", WAIT, |s| {
        s.contains("Confirm abort") && !s.contains("cancelled — nothing sent")
    });
    tmux.keys(&[&name]);
    let typed = tmux.wait_for("the name to match", WAIT, |s| {
        s.contains("▸[ Confirm ]◂") && s.contains("✓")
    });
    assert!(!typed.contains("▸[ Cancel ]◂"), "{typed}");
    tmux.keys(&["Enter"]);
    tmux.wait_for("the abort to be sent", WAIT, |s| {
        !s.contains("Confirm abort") && s.contains("abort checkout:") && !s.contains("cancelled")
    });

    // The audit screen shows this session's abort.
    tmux.keys(&["L"]);
    let audit = tmux.wait_for("the audit screen", WAIT, |s| {
        s.contains("this session") && s.contains("abort") && s.contains(cluster)
    });
    assert!(audit.contains("shop/checkout"), "{audit}");
    let line = audit
        .lines()
        .find(|l| l.contains("abort"))
        .unwrap_or_default();
    eprintln!("audit screen: {}", line.trim());
    tmux.keys(&["q", "q"]);
    assert_eq!(wait_file(&status, Duration::from_secs(10)).trim(), "EXIT=0");
    let log = std::fs::read_to_string(dir.path().join("audit-demo.jsonl")).unwrap();
    let stages: Vec<String> = audit_stages(&log).into_iter().map(|(s, _)| s).collect();
    assert_eq!(stages, ["intent", "result"], "one abort, sent once:\n{log}");
    assert!(log.contains("\"abort\""), "{log}");
}

#[test]
fn a_terminal_below_40x12_says_so_and_comes_back() {
    let (tmux, _dir, status) = demo("confirm-small");
    tmux.keys(&["/", "checkout", "Enter", "a"]);
    tmux.wait_for("the abort confirmation", WAIT, |s| {
        s.contains("Confirm abort")
    });
    tmux.run(&["resize-window", "-t", "t", "-x", "36", "-y", "10"]);
    let small = tmux.wait_for("the too-small line", WAIT, |s| {
        s.contains("terminal too small (needs 40x12)")
    });
    let shown: Vec<&str> = small.lines().filter(|l| !l.trim().is_empty()).collect();
    assert_eq!(shown.len(), 1, "one line only:\n{small}");
    tmux.run(&["resize-window", "-t", "t", "-x", "80", "-y", "24"]);
    let back = tmux.wait_for("the modal again", WAIT, |s| {
        s.contains("Confirm abort") && s.contains("[ Cancel ]")
    });
    assert!(!back.contains("terminal too small"), "{back}");
    tmux.keys(&["Escape"]);
    tmux.wait_for("the cancelled notice", WAIT, |s| {
        s.contains("cancelled — nothing sent")
    });
    tmux.keys(&["q"]);
    assert_eq!(wait_file(&status, Duration::from_secs(10)).trim(), "EXIT=0");
}

/// The demo's cart (prod-eu-1) sits in a 20 s timed pause at step 3: promote it, and while
/// the modal is open the pause runs out and the rollout moves on. The modal says what
/// changed since it opened, puts focus back on Cancel, and Esc still says nothing was sent.
#[test]
fn the_open_modal_says_what_changed_in_the_demo() {
    let (tmux, _dir, status) = demo("confirm-live");
    tmux.keys(&["/", "cart", "Enter"]);
    let row = tmux.wait_for("cart in its step pause", WAIT, |s| {
        tmux::step_of(s, "shop/cart").is_some_and(|(i, _)| i == 3)
    });
    assert!(row.contains("prod-eu"), "{row}");
    tmux.keys(&["p"]);
    let opened = tmux.wait_for("the promote confirmation", WAIT, |s| {
        s.contains("Confirm promote") && s.contains("step 3/")
    });
    assert!(opened.contains("you saw"), "{opened}");
    // The timed pause is 20 s long; wait on the modal, not on a clock.
    let changed = tmux.wait_for(
        "the modal to say what changed",
        Duration::from_secs(40),
        |s| s.contains("CHANGED") && s.contains("step 3→") && s.contains("since you opened"),
    );
    assert!(changed.contains("▸[ Cancel ]◂"), "asks again:\n{changed}");
    let line = changed.lines().find(|l| l.contains("CHANGED")).unwrap();
    eprintln!(
        "live modal: {}",
        line.trim_matches(|c| c == ' ' || c == '│')
    );
    tmux.keys(&["Escape"]);
    tmux.wait_for("the cancelled notice", WAIT, |s| {
        s.contains("promote cart: cancelled — nothing sent")
    });
    tmux.keys(&["q"]);
    assert_eq!(wait_file(&status, Duration::from_secs(10)).trim(), "EXIT=0");
}
