//! The real binary in a real terminal (tmux, 80x24): `shipdeck --demo` shows the releases,
//! SLO and failures panels; filtering to `checkout`, `p` and `y` promote it and its step
//! advances; `q` exits 0 and the terminal is restored (no alternate screen, cooked mode).
//! The demo records to its own `audit-demo.jsonl`, never to the real log; read-only
//! sessions start with no writable audit path; an action whose intent cannot be recorded
//! is not sent, and the console says why.
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

    // The audit screen names the demo's own file and shows this session's promote.
    tmux.keys(&["L"]);
    tmux.wait_for("the audit screen", WAIT, |s| {
        s.contains("this session") && s.contains("audit-demo.jsonl") && s.contains("promote")
    });
    tmux.keys(&["q", "q"]);
    assert_eq!(
        wait_file(&status_file, Duration::from_secs(10)).trim(),
        "EXIT=0"
    );
    // Restored: out of the alternate screen, and the tty back in cooked mode with echo.
    assert!(!tmux.alternate_screen_on());
    let stty = std::fs::read_to_string(dir.path().join("stty")).unwrap();
    assert!(stty.split_whitespace().any(|w| w == "icanon"), "{stty}");
    assert!(stty.split_whitespace().any(|w| w == "echo"), "{stty}");
    // And the promote was audited, intent before result, in the demo's own file: no
    // simulated record in the real audit trail.
    assert!(!audit.exists(), "the demo wrote to the real audit log");
    let log = std::fs::read_to_string(dir.path().join("audit-demo.jsonl")).unwrap();
    let stages: Vec<String> = audit_stages(&log).into_iter().map(|(s, _)| s).collect();
    assert_eq!(stages, ["intent", "result"], "{log}");
}

/// A home whose data directory cannot be created, even by root: `XDG_DATA_HOME` lies under
/// a regular file, and HOME itself is mode 0555 (a read-only home on a jump host).
fn unwritable_home(dir: &std::path::Path) -> String {
    use std::os::unix::fs::PermissionsExt;
    let home = dir.join("home");
    std::fs::create_dir(&home).unwrap();
    let blocker = dir.join("not-a-dir");
    std::fs::write(&blocker, "").unwrap();
    std::fs::set_permissions(&home, std::fs::Permissions::from_mode(0o555)).unwrap();
    format!(
        "env -u SHIPDECK_AUDIT_LOG HOME={home} XDG_CONFIG_HOME={home}/.config XDG_DATA_HOME={data}",
        home = home.display(),
        data = blocker.join("share").display(),
    )
}

/// `--read-only` (demo) and `--from-files` start although no audit path is writable: the
/// read-only demo warns in the header and names why on the audit screen; `--from-files`
/// says it records nothing. A session that could write refuses to start instead.
#[test]
fn read_only_sessions_start_without_a_writable_audit_path() {
    let bin = env!("CARGO_BIN_EXE_shipdeck");
    let dir = tempfile::tempdir().unwrap();
    let env = unwritable_home(dir.path());
    let fixture = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/rollouts/healthy.yaml"
    );
    let runs: [(&str, &str, &[&str]); 2] = [
        (
            "ro-demo",
            "--demo --seed 1 --read-only",
            &["NO AUDIT LOG", "READ-ONLY"],
        ),
        ("ro-files", &format!("--from-files {fixture}"), &["FILES"]),
    ];
    for (tag, args, header) in runs {
        let status = dir.path().join(format!("status-{tag}"));
        let script = format!(
            "{env} {bin} {args} 2> {err}; echo \"EXIT=$?\" > {status}; sleep 30",
            err = dir.path().join(format!("err-{tag}")).display(),
            status = status.display(),
        );
        let tmux = Tmux::start(tag, 80, 24, &script);
        let home = tmux.wait_for("the console", WAIT, |s| {
            header
                .iter()
                .all(|h| s.lines().next().is_some_and(|l| l.contains(h)))
        });
        assert!(!status.exists(), "{tag} exited:\n{home}");
        tmux.keys(&["L"]);
        tmux.wait_for("the audit screen", WAIT, |s| {
            s.contains("Audit log") && s.contains("no file")
        });
        tmux.keys(&["q", "q"]);
        assert_eq!(
            wait_file(&status, Duration::from_secs(10)).trim(),
            "EXIT=0",
            "{tag}"
        );
    }
    // The same home refuses a session that could write: it must not act unrecorded.
    let out = std::process::Command::new("sh")
        .arg("-c")
        .arg(format!("{env} {bin} --demo --seed 1 < /dev/null"))
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("audit-demo.jsonl"), "{err}");
}

/// The audit file turns into a symbolic link while the demo runs: the next promote's intent
/// cannot be written, so it is not sent (the step stays) and the footer says why.
#[test]
fn demo_refuses_an_action_whose_intent_cannot_be_recorded() {
    let bin = env!("CARGO_BIN_EXE_shipdeck");
    let dir = tempfile::tempdir().unwrap();
    let status_file = dir.path().join("status");
    let demo_log = dir.path().join("audit-demo.jsonl");
    let script = format!(
        "SHIPDECK_AUDIT_LOG={audit} HOME={home} {bin} --demo --seed 1; echo \"EXIT=$?\" > {status}; sleep 30",
        audit = dir.path().join("audit.jsonl").display(),
        home = dir.path().display(),
        status = status_file.display(),
    );
    let tmux = Tmux::start("refuse", 80, 24, &script);
    tmux.keys(&["/", "checkout", "Enter"]);
    let filtered = tmux.wait_for("the filtered table", WAIT, |s| {
        step_of(s, "shop/checkout").is_some() && s.contains("Paused")
    });
    let (before, _) = step_of(&filtered, "shop/checkout").unwrap();
    std::fs::remove_file(&demo_log).unwrap();
    std::os::unix::fs::symlink(dir.path().join("elsewhere"), &demo_log).unwrap();
    tmux.keys(&["p"]);
    tmux.wait_for("the confirmation modal", WAIT, |s| s.contains("Confirm"));
    tmux.keys(&["y"]);
    let refused = tmux.wait_for("the refusal", WAIT, |s| s.contains("not sent"));
    assert_eq!(
        step_of(&refused, "shop/checkout").map(|(i, _)| i),
        Some(before),
        "{refused}"
    );
    assert!(
        !dir.path().join("elsewhere").exists(),
        "the link was followed"
    );
    tmux.keys(&["q"]);
    assert_eq!(
        wait_file(&status_file, Duration::from_secs(10)).trim(),
        "EXIT=0"
    );
}
