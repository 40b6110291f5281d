//! The real binary in a real terminal (tmux, 80x24): in `shipdeck --demo` the bad search
//! canary on prod-us-1 burns its error budget until the page rule fires, and while it
//! still takes traffic its promote is gated — the detail screen's action bar says so and
//! `p` opens a modal that asks for the service name to override the gate. The demo has no
//! speed option (`shipdeck --help`), so the screen is polled against a deadline: the gate
//! is due within about a minute of simulated — here real — time.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod tmux;

use std::time::{Duration, Instant};

use tmux::{Tmux, wait_file};

const WAIT: Duration = Duration::from_secs(20);
/// The scenario pages after ~14.1 minutes of 60x burn and starts with 13–14 of them done:
/// at most ~60 s, plus start-up. The deadline leaves a margin for a loaded machine.
const GATE_DEADLINE: Duration = Duration::from_secs(180);

#[test]
fn demo_gates_the_bad_canarys_promote_within_minutes() {
    let bin = env!("CARGO_BIN_EXE_shipdeck");
    let dir = tempfile::tempdir().unwrap();
    let status_file = dir.path().join("status");
    let script = format!(
        "HOME={home} {bin} --demo --seed 1; echo \"EXIT=$?\" > {status}; sleep 30",
        home = dir.path().display(),
        status = status_file.display(),
    );
    let started = Instant::now();
    let tmux = Tmux::start("burn", 80, 24, &script);
    tmux.wait_for("the home screen", WAIT, |s| s.contains("search"));

    // Only prod-us-1's search rollout matches (staging has one too).
    tmux.keys(&["/", "prod-us-1", "Enter"]);
    tmux.wait_for("the filtered table", WAIT, |s| s.contains("search/search"));
    // Select it: move down until the selected row is search/search, then open it.
    let mut opened = false;
    for _ in 0..12 {
        tmux.keys(&["Enter"]);
        let s = tmux.wait_for("the detail screen", WAIT, |s| s.contains("SLO"));
        if s.lines().take(4).any(|l| l.contains("search/search")) {
            opened = true;
            break;
        }
        tmux.keys(&["Escape", "j"]);
    }
    assert!(opened, "could not open search/search:\n{}", tmux.screen());

    let gated = tmux.wait_for("the error budget gate", GATE_DEADLINE, |s| {
        s.contains("error budget gate: burn")
    });
    let took = started.elapsed();
    assert!(gated.contains("PAGE"), "the SLO pages:\n{gated}");
    println!("gate shown after {:.0}s:\n{gated}", took.as_secs_f64());

    tmux.keys(&["p"]);
    let modal = tmux.wait_for("the gated modal", WAIT, |s| s.contains("GATE"));
    assert!(
        modal.contains("type the service name"),
        "the override is typed:\n{modal}"
    );
    tmux.keys(&["Escape", "q", "q"]);
    assert_eq!(
        wait_file(&status_file, Duration::from_secs(10)).trim(),
        "EXIT=0"
    );
}
