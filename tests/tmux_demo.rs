//! The real binary in a real terminal (tmux, 80x24): `shipdeck --demo` shows the releases,
//! SLO and failures panels; filtering to `checkout`, `p` and `y` promote it and its step
//! advances; `q` exits 0 and the terminal is restored (no alternate screen, cooked mode).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod tmux;

use std::time::Duration;

use tmux::{Tmux, audit_stages, step_of, wait_file};

const WAIT: Duration = Duration::from_secs(20);

#[test]
fn demo_promote_checkout_in_tmux_and_quit_cleanly() {
    let bin = env!("CARGO_BIN_EXE_shipdeck");
    let dir = tempfile::tempdir().unwrap();
    let status_file = dir.path().join("status");
    let audit = dir.path().join("audit.jsonl");
    let script = format!(
        "SHIPDECK_AUDIT_LOG={audit} HOME={home} {bin} --demo --seed 1; echo \"EXIT=$?\" > {status}; stty -a > {stty}; sleep 30",
        audit = audit.display(),
        home = dir.path().display(),
        status = status_file.display(),
        stty = dir.path().join("stty").display(),
    );
    let tmux = Tmux::start("demo", 80, 24, &script);

    let home = tmux.wait_for("the home screen", WAIT, |s| s.contains("checkout"));
    let lower = home.to_lowercase();
    assert!(lower.contains("slo"), "SLO panel missing:\n{home}");
    assert!(lower.contains("fail"), "failures panel missing:\n{home}");
    assert!(home.contains("prod-eu"), "cluster chips missing:\n{home}");

    tmux.keys(&["/", "checkout", "Enter"]);
    let filtered = tmux.wait_for("the filtered table", WAIT, |s| {
        step_of(s, "shop/checkout").is_some() && s.contains("Paused")
    });
    let (before, steps) = step_of(&filtered, "shop/checkout").unwrap();
    assert!(
        before >= 1 && steps >= 4,
        "checkout at {before}/{steps}:\n{filtered}"
    );

    tmux.keys(&["p"]);
    tmux.wait_for("the confirmation modal", WAIT, |s| {
        s.contains("Confirm") && s.contains("PATCH")
    });
    tmux.keys(&["y"]);
    let advanced = tmux.wait_for("the step to advance", WAIT, |s| {
        step_of(s, "shop/checkout").is_some_and(|(i, _)| i > before)
    });
    let (after, _) = step_of(&advanced, "shop/checkout").unwrap();
    assert!(after > before);

    tmux.keys(&["q"]);
    assert_eq!(
        wait_file(&status_file, Duration::from_secs(10)).trim(),
        "EXIT=0"
    );
    // Restored: out of the alternate screen, and the tty back in cooked mode with echo.
    assert!(!tmux.alternate_screen_on());
    let stty = std::fs::read_to_string(dir.path().join("stty")).unwrap();
    assert!(stty.split_whitespace().any(|w| w == "icanon"), "{stty}");
    assert!(stty.split_whitespace().any(|w| w == "echo"), "{stty}");
    // And the promote was audited: intent before result.
    let log = std::fs::read_to_string(&audit).unwrap();
    let stages: Vec<String> = audit_stages(&log).into_iter().map(|(s, _)| s).collect();
    assert_eq!(stages, ["intent", "result"], "{log}");
}
