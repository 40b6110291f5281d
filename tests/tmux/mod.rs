//! Drive the real binary in a real terminal: tmux on a private socket, send-keys to type,
//! capture-pane to read the screen. Shared by the demo and live-cluster terminal tests.
#![allow(dead_code)]

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

pub struct Tmux {
    socket: String,
}

impl Tmux {
    /// Start `script` (run by sh) in a detached session of `width` x `height`.
    pub fn start(tag: &str, width: u16, height: u16, script: &str) -> Tmux {
        let tmux = Tmux {
            socket: format!("shipdeck-{tag}-{}", std::process::id()),
        };
        let (w, h) = (width.to_string(), height.to_string());
        tmux.run(&[
            "-f",
            "/dev/null",
            "new-session",
            "-d",
            "-s",
            "t",
            "-x",
            &w,
            "-y",
            &h,
            "sh",
            "-c",
            script,
        ]);
        tmux
    }

    pub fn run(&self, args: &[&str]) -> String {
        let out = Command::new("tmux")
            .arg("-L")
            .arg(&self.socket)
            .args(args)
            .output()
            .expect("tmux must be installed (scripts/test installs it)");
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    pub fn screen(&self) -> String {
        self.run(&["capture-pane", "-p", "-t", "t"])
    }

    pub fn keys(&self, keys: &[&str]) {
        for k in keys {
            self.run(&["send-keys", "-t", "t", k]);
            std::thread::sleep(Duration::from_millis(80));
        }
    }

    /// Poll the screen until `pred` holds; fail with the last screen after `timeout`.
    pub fn wait_for(&self, what: &str, timeout: Duration, pred: impl Fn(&str) -> bool) -> String {
        let start = Instant::now();
        loop {
            let s = self.screen();
            if pred(&s) {
                return s;
            }
            assert!(
                start.elapsed() < timeout,
                "timed out waiting for {what}; screen was:\n{s}"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    pub fn alternate_screen_on(&self) -> bool {
        self.run(&["display", "-p", "-t", "t", "#{alternate_on}"])
            .trim()
            == "1"
    }

    /// Whether the pane's cursor is shown (the console hides it while it draws).
    pub fn cursor_visible(&self) -> bool {
        self.run(&["display", "-p", "-t", "t", "#{cursor_flag}"])
            .trim()
            == "1"
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = Command::new("tmux")
            .args(["-L", &self.socket, "kill-server"])
            .output();
    }
}

/// The "i/n" step on the first screen line that mentions `name` (skipping ns/name words).
pub fn step_of(screen: &str, name: &str) -> Option<(u32, u32)> {
    screen
        .lines()
        .filter(|l| l.contains(name))
        .find_map(|line| {
            line.split_whitespace().find_map(|w| {
                let (a, b) = w.split_once('/')?;
                Some((a.parse().ok()?, b.parse().ok()?))
            })
        })
}

/// Wait for a file written by the wrapper script when shipdeck exits; returns its text.
pub fn wait_file(path: &Path, timeout: Duration) -> String {
    let start = Instant::now();
    while !path.exists() {
        assert!(
            start.elapsed() < timeout,
            "{} never appeared",
            path.display()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    std::thread::sleep(Duration::from_millis(200));
    std::fs::read_to_string(path).unwrap_or_default()
}

/// Poll `path` until `pred` holds for its text (a missing file reads as empty); fail with the
/// last text after `timeout`.
pub fn wait_text(
    path: &Path,
    what: &str,
    timeout: Duration,
    pred: impl Fn(&str) -> bool,
) -> String {
    let start = Instant::now();
    loop {
        let text = std::fs::read_to_string(path).unwrap_or_default();
        if pred(&text) {
            return text;
        }
        assert!(
            start.elapsed() < timeout,
            "timed out waiting for {what} in {}; it read:\n{text}",
            path.display()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Audit stages in file order, as (stage, the action's number in its session).
pub fn audit_stages(log: &str) -> Vec<(String, u64)> {
    log.lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .map(|v| {
            (
                v["stage"].as_str().unwrap_or("").to_string(),
                v["seq"].as_u64().unwrap_or(0),
            )
        })
        .collect()
}
