//! Exit paths of the live console in a real terminal (tmux) against the real cluster `a`,
//! with an action held in flight: the console talks to the apiserver through a fault proxy,
//! which is switched to Blackhole once the console has loaded; a pause is confirmed and its
//! intent written; then the console gets SIGHUP, SIGTERM, SIGINT or SIGQUIT, or a panic in a
//! background task or OS thread (the debug-build trigger, `SHIPDECK_DEBUG_PANIC` + SIGUSR1).
//! Each time: the process is gone with the expected code, the terminal is restored (normal
//! screen, cursor shown, cooked mode with echo), and the audit file holds exactly the intent
//! and one "unknown" result for the action, nothing after it. A panic's message is printed
//! escaped on the normal screen after the terminal is restored, and logged.
#![cfg(feature = "e2e")]
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;
mod tmux;

use std::path::Path;
use std::time::Duration;

use anyhow::Result;

use support::TestEnv;
use support::apply::{apply_yaml, delete_namespace, ensure_namespace};
use support::env::unique_name;
use support::manifests::Deployment;
use support::proxy::{FaultProxy, Mode};
use tmux::{Tmux, wait_file, wait_text};

const SCREEN: Duration = Duration::from_secs(40);

/// How the console is ended.
#[derive(Clone, Copy)]
enum Ending {
    /// `kill -<name>`; the exit code a shell reports for it.
    Signal(&'static str, i32),
    /// The debug-build trigger: a panic in a spawned tokio `task` or an OS `thread`.
    Panic(&'static str),
}

impl Ending {
    fn label(self) -> String {
        match self {
            Ending::Signal(sig, _) => format!("sig{}", sig.to_lowercase()),
            Ending::Panic(place) => format!("panic-{place}"),
        }
    }
}

/// The console's kubeconfig: every context as in the test env, cluster `a` reached through
/// `proxy` (same CA and credentials: the apiserver's certificate is valid on any port).
fn kubeconfig_via(env: &TestEnv, proxy: &FaultProxy, dir: &Path) -> Result<std::path::PathBuf> {
    let text = std::fs::read_to_string(&env.kubeconfig)?;
    let direct = format!("server: {}", env.apiserver_url("a")?);
    assert!(text.contains(&direct), "kubeconfig has no {direct}");
    let path = dir.join("kubeconfig");
    std::fs::write(
        &path,
        text.replace(&direct, &format!("server: {}", proxy.url())),
    )?;
    Ok(path)
}

/// The audit records as JSON, in file order.
fn records(text: &str) -> Vec<serde_json::Value> {
    text.lines()
        .map(|l| serde_json::from_str(l).expect("an audit line is JSON"))
        .collect()
}

async fn end_with_an_action_in_flight(ending: Ending) -> Result<()> {
    let env = TestEnv::get()?;
    let admin = env.client("a-admin").await?;
    // Short, so the table shows it whole and the filter matches only this namespace.
    let ns = format!(
        "ex-{}",
        unique_name("x").chars().skip(2).take(7).collect::<String>()
    );
    ensure_namespace(&admin, &ns).await?;
    let name = "web";
    apply_yaml(
        &admin,
        Some(&ns),
        &Deployment::new(name, "example.test/web:1").yaml(),
    )
    .await?;

    let proxy = FaultProxy::start(env.apiserver_addr("a")?).await?;
    let dir = tempfile::tempdir()?;
    let kc = kubeconfig_via(env, &proxy, dir.path())?;
    let (audit, status, pid, stty) = (
        dir.path().join("audit.jsonl"),
        dir.path().join("status"),
        dir.path().join("pid"),
        dir.path().join("stty"),
    );
    let log = dir.path().join("cache/shipdeck/shipdeck.log");
    let trigger = match ending {
        Ending::Panic(place) => format!("SHIPDECK_DEBUG_PANIC={place} "),
        Ending::Signal(..) => String::new(),
    };
    // The inner shell writes its pid and becomes shipdeck (exec): that pid gets the signal.
    let script = format!(
        "KUBECONFIG={kc} SHIPDECK_AUDIT_LOG={audit} HOME={home} XDG_CACHE_HOME={home}/cache {trigger}sh -c 'echo $$ > {pid}; exec {bin} --context a-oncall'; echo \"EXIT=$?\" > {status}; stty -a > {stty}; sleep 60",
        kc = kc.display(),
        audit = audit.display(),
        home = dir.path().display(),
        pid = pid.display(),
        bin = env!("CARGO_BIN_EXE_shipdeck"),
        status = status.display(),
        stty = stty.display(),
    );
    // One tmux server per console: the tests of this crate run side by side.
    let tmux = Tmux::start(&format!("exit-{}", ending.label()), 160, 40, &script);
    let row = format!("{ns}/{name}");
    tmux.wait_for("the deployment on screen", SCREEN, |s| s.contains(&row));
    tmux.keys(&["/", &ns, "Enter"]);
    tmux.wait_for("only this namespace listed", SCREEN, |s| s.contains(&row));
    assert!(
        tmux.alternate_screen_on(),
        "the console draws on the alternate screen"
    );

    // From here on nothing reaches the apiserver and nothing comes back: held in flight.
    proxy.set_mode(Mode::Blackhole);
    tmux.keys(&["Space"]);
    tmux.wait_for("the pause modal", SCREEN, |s| {
        s.contains("Confirm") && s.contains("pause")
    });
    tmux.keys(&["y"]);
    let intent = wait_text(&audit, "the pause's intent", SCREEN, |t| {
        t.contains("\"stage\":\"intent\"")
    });
    let intent = records(&intent);
    assert_eq!(intent.len(), 1, "{intent:?}");
    let id = intent[0]["seq"].as_u64().expect("an id");
    assert_eq!(intent[0]["action"], "pause");

    let pid = std::fs::read_to_string(&pid)?.trim().to_string();
    let (how, want) = match ending {
        Ending::Signal(sig, code) => (format!("-{sig}"), code),
        Ending::Panic(_) => ("-USR1".to_string(), 101),
    };
    let killed = std::process::Command::new("kill")
        .args([&how, &pid])
        .status()?;
    assert!(killed.success(), "kill {how} {pid}");

    // Gone, with the code a shell reports for the ending.
    let exit = wait_file(&status, SCREEN);
    assert_eq!(exit.trim(), format!("EXIT={want}"));
    let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
    assert!(
        !String::from_utf8_lossy(&cmdline).contains("shipdeck"),
        "process {pid} still runs"
    );
    // Restored: normal screen, cursor shown, cooked mode with echo.
    let after = tmux.screen();
    assert!(
        !tmux.alternate_screen_on(),
        "still on the alternate screen:\n{after}"
    );
    assert!(tmux.cursor_visible(), "the cursor is still hidden");
    let stty = wait_text(&stty, "stty output", SCREEN, |t| t.contains("echo"));
    let words: Vec<&str> = stty.split_whitespace().collect();
    assert!(
        words.contains(&"icanon") && words.contains(&"echo"),
        "{stty}"
    );

    // Exactly the intent and one unknown result for the action; nothing after it.
    let text = std::fs::read_to_string(&audit)?;
    let all = records(&text);
    assert_eq!(all.len(), 2, "one intent, one result:\n{text}");
    assert_eq!(all[1]["stage"], "result", "{text}");
    assert_eq!(all[1]["seq"].as_u64(), Some(id), "{text}");
    assert_eq!(all[1]["outcome"]["outcome"], "unknown", "{text}");
    let detail = all[1]["outcome"]["detail"].as_str().unwrap_or("");
    assert!(detail.contains("console exited"), "{text}");

    if let Ending::Panic(place) = ending {
        // Printed after the terminal was restored (on the normal screen), escaped.
        let shown = format!("injected panic \\x1b[2J\\x07\\u{{202e}} ({place})");
        assert!(after.contains("shipdeck: panicked at"), "{after}");
        assert!(after.contains(&shown), "{after}");
        let logged = std::fs::read(&log)?;
        assert!(
            String::from_utf8_lossy(&logged).contains("injected panic"),
            "the log has the panic"
        );
        assert!(!logged.contains(&0x1b), "no raw escape in the log");
        let line = after.lines().find(|l| l.contains("shipdeck: panicked"));
        println!(
            "after exit the screen shows: {}",
            line.unwrap_or_default().trim()
        );
    }
    println!(
        "{}: EXIT={want}, audit: intent + 1 unknown result for id {id}, terminal restored",
        ending.label()
    );
    drop(proxy);
    delete_namespace(&admin, &ns).await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sighup_with_an_action_in_flight() -> Result<()> {
    end_with_an_action_in_flight(Ending::Signal("HUP", 129)).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_with_an_action_in_flight() -> Result<()> {
    end_with_an_action_in_flight(Ending::Signal("TERM", 143)).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigint_with_an_action_in_flight() -> Result<()> {
    end_with_an_action_in_flight(Ending::Signal("INT", 130)).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigquit_with_an_action_in_flight() -> Result<()> {
    end_with_an_action_in_flight(Ending::Signal("QUIT", 131)).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_panic_in_a_background_task_with_an_action_in_flight() -> Result<()> {
    end_with_an_action_in_flight(Ending::Panic("task")).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_panic_in_an_os_thread_with_an_action_in_flight() -> Result<()> {
    end_with_an_action_in_flight(Ending::Panic("thread")).await
}
