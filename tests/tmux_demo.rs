//! The real binary in a real terminal (tmux, 80x24): `shipdeck --demo` shows the releases,
//! SLO and failures panels; filtering to `checkout`, `p` and `y` promote it and its step
//! advances; `q` exits 0 and the terminal is restored (no alternate screen, cooked mode).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

struct Tmux {
    socket: String,
}

impl Tmux {
    fn run(&self, args: &[&str]) -> String {
        let out = Command::new("tmux")
            .arg("-L")
            .arg(&self.socket)
            .args(args)
            .output()
            .expect("tmux must be installed (scripts/test installs it)");
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    fn screen(&self) -> String {
        self.run(&["capture-pane", "-p", "-t", "t"])
    }

    fn keys(&self, keys: &[&str]) {
        for k in keys {
            self.run(&["send-keys", "-t", "t", k]);
            std::thread::sleep(Duration::from_millis(80));
        }
    }

    fn wait_for(&self, what: &str, pred: impl Fn(&str) -> bool) -> String {
        let start = Instant::now();
        loop {
            let s = self.screen();
            if pred(&s) {
                return s;
            }
            assert!(
                start.elapsed() < Duration::from_secs(20),
                "timed out waiting for {what}; screen was:\n{s}"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = Command::new("tmux")
            .args(["-L", &self.socket, "kill-server"])
            .output();
    }
}

/// The "i/n" step shown on the checkout row.
fn checkout_step(screen: &str) -> Option<(u32, u32)> {
    let line = screen
        .lines()
        .find(|l| l.contains("checkout") && l.contains('/'))?;
    line.split_whitespace().find_map(|w| {
        let (a, b) = w.split_once('/')?;
        Some((a.parse().ok()?, b.parse().ok()?))
    })
}

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
    let tmux = Tmux {
        socket: format!("shipdeck-test-{}", std::process::id()),
    };
    tmux.run(&[
        "-f",
        "/dev/null",
        "new-session",
        "-d",
        "-s",
        "t",
        "-x",
        "80",
        "-y",
        "24",
        "sh",
        "-c",
        &script,
    ]);

    let home = tmux.wait_for("the home screen", |s| s.contains("checkout"));
    let lower = home.to_lowercase();
    assert!(lower.contains("slo"), "SLO panel missing:\n{home}");
    assert!(lower.contains("fail"), "failures panel missing:\n{home}");
    assert!(home.contains("prod-eu"), "cluster chips missing:\n{home}");

    tmux.keys(&["/", "checkout", "Enter"]);
    let filtered = tmux.wait_for("the filtered table", |s| {
        checkout_step(s).is_some() && s.contains("Paused")
    });
    let (before, steps) = checkout_step(&filtered).unwrap();
    assert!(
        before >= 1 && steps >= 4,
        "checkout at {before}/{steps}:\n{filtered}"
    );

    tmux.keys(&["p"]);
    tmux.wait_for("the confirmation modal", |s| {
        s.contains("Confirm") && s.contains("PATCH")
    });
    tmux.keys(&["y"]);
    let advanced = tmux.wait_for("the step to advance", |s| {
        checkout_step(s).is_some_and(|(i, _)| i > before)
    });
    let (after, _) = checkout_step(&advanced).unwrap();
    assert!(after > before);

    tmux.keys(&["q"]);
    let start = Instant::now();
    while !status_file.exists() {
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "shipdeck did not exit"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    std::thread::sleep(Duration::from_millis(200));
    assert_eq!(
        std::fs::read_to_string(&status_file).unwrap().trim(),
        "EXIT=0"
    );
    // Restored: out of the alternate screen, and the tty back in cooked mode with echo.
    assert_eq!(
        tmux.run(&["display", "-p", "-t", "t", "#{alternate_on}"])
            .trim(),
        "0"
    );
    let stty = std::fs::read_to_string(dir.path().join("stty")).unwrap();
    assert!(stty.split_whitespace().any(|w| w == "icanon"), "{stty}");
    assert!(stty.split_whitespace().any(|w| w == "echo"), "{stty}");
    // And the promote was audited: intent before result.
    let log = std::fs::read_to_string(Path::new(&audit)).unwrap();
    let stages: Vec<&str> = log
        .lines()
        .filter_map(|l| l.split("\"stage\":\"").nth(1)?.split('"').next())
        .collect();
    assert_eq!(stages, ["intent", "result"], "{log}");
}
