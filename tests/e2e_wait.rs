//! `shipdeck wait` against the real cluster `a` (tests/env): the binary itself, its exit
//! codes and lines, on a real Argo Rollout. The Rollout's state is set up and checked through
//! the API server directly (not through shipdeck), in a namespace of its own.
#![cfg(feature = "e2e")]
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::process::Stdio;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use kube::api::{Api, ApiResource, DynamicObject, GroupVersionKind, Patch, PatchParams};
use serde_json::json;
use tokio::io::{AsyncBufReadExt, BufReader};

use support::TestEnv;
use support::apply::{NamespaceCleanup, apply_yaml, ensure_namespace};
use support::env::unique_name;
use support::manifests::Rollout;
use support::wait::{Check, wait_until};

/// Set-up waits on the controller (a loaded machine is slow to schedule pods).
const SETUP: Duration = Duration::from_secs(120);

fn rollouts(client: &kube::Client, ns: &str) -> Api<DynamicObject> {
    let gvk = GroupVersionKind::gvk("argoproj.io", "v1alpha1", "Rollout");
    Api::namespaced_with(
        client.clone(),
        ns,
        &ApiResource::from_gvk_with_plural(&gvk, "rollouts"),
    )
}

/// Wait through the API until the Rollout's own status says `phase` (and, if given, the step).
async fn status_is(
    api: &Api<DynamicObject>,
    name: &str,
    phase: &str,
    step: Option<i64>,
) -> Result<()> {
    wait_until(&format!("{name} {phase} {step:?}"), SETUP, || async {
        let r = api.get(name).await?;
        let s = &r.data["status"];
        let done =
            s["phase"] == phase && step.is_none_or(|i| s["currentStepIndex"].as_i64() == Some(i));
        Ok(if done {
            Check::Done(())
        } else {
            Check::NotYet(format!("status {s}"))
        })
    })
    .await
}

/// `shipdeck wait ARGS` with the test kubeconfig and an empty home.
fn wait_cmd(env: &TestEnv, home: &std::path::Path, args: &[&str]) -> tokio::process::Command {
    let mut cmd = tokio::process::Command::new(env!("CARGO_BIN_EXE_shipdeck"));
    cmd.arg("wait")
        .args(args)
        .env("KUBECONFIG", &env.kubeconfig)
        .env("HOME", home)
        .env("XDG_DATA_HOME", home.join("data"))
        .env("XDG_CONFIG_HOME", home.join("config"))
        .env_remove("SHIPDECK_PROMETHEUS_URL")
        .kill_on_drop(true);
    cmd
}

struct Ran {
    code: Option<i32>,
    stdout: String,
    stderr: String,
    took: Duration,
}

async fn run(env: &TestEnv, home: &std::path::Path, args: &[&str]) -> Result<Ran> {
    let start = Instant::now();
    let out = wait_cmd(env, home, args).output().await?;
    let ran = Ran {
        code: out.status.code(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        took: start.elapsed(),
    };
    eprintln!(
        "shipdeck wait {}: exit {:?} after {:.1}s\n{}{}",
        args.join(" "),
        ran.code,
        ran.took.as_secs_f64(),
        ran.stdout,
        ran.stderr
    );
    Ok(ran)
}

#[tokio::test]
async fn wait_for_paused_timeout_promotion_and_missing() -> Result<()> {
    let env = TestEnv::get()?;
    let client = env.client("a-admin").await?;
    let ns = unique_name("wait");
    ensure_namespace(&client, &ns).await?;
    let _cleanup = NamespaceCleanup::new("a-admin", &ns);
    let home = tempfile::tempdir()?;
    let api = rollouts(&client, &ns);

    // v1 rolls out fully; v2 stops at the indefinite `pause: {}` of step 1.
    apply_yaml(
        &client,
        Some(&ns),
        &Rollout::canary("web", "example.test/web:1").yaml(),
    )
    .await?;
    status_is(&api, "web", "Healthy", None).await?;
    apply_yaml(
        &client,
        Some(&ns),
        &Rollout::canary("web", "example.test/web:2").yaml(),
    )
    .await?;
    status_is(&api, "web", "Paused", Some(1)).await?;

    // 1. Paused: reached at once, on the cluster named by its context.
    let target = format!("a-admin/{ns}/web");
    let paused = run(
        env,
        home.path(),
        &[&target, "--for", "paused", "--timeout", "60s"],
    )
    .await?;
    assert_eq!(paused.code, Some(0), "{}", paused.stderr);
    let last = paused.stdout.lines().last().unwrap_or("");
    assert!(
        last.starts_with(&format!("done: a-admin/{ns}/web Rollout: Paused, step 1/4")),
        "{}",
        paused.stdout
    );

    // 2. Healthy within 5 s: it stays paused (nobody promotes), so the timeout's code; the
    //    plain NS/NAME form on `--context` (a read-only identity may wait: it only watches).
    let short = run(
        env,
        home.path(),
        &[
            &format!("{ns}/web"),
            "--context",
            "a-viewer",
            "--for",
            "healthy",
            "--timeout",
            "5s",
        ],
    )
    .await?;
    assert_eq!(short.code, Some(3), "{}", short.stderr);
    assert!(
        short.stderr.contains("timed out after 5s waiting for")
            && short.stderr.contains("last: a-viewer/")
            && short.stderr.contains("Paused"),
        "{}",
        short.stderr
    );
    assert!(short.took >= Duration::from_secs(5), "{:?}", short.took);
    // The progress line showed where it stood.
    assert!(
        short
            .stdout
            .lines()
            .any(|l| l.contains(&format!("{ns}/web Rollout: Paused, step 1/4"))),
        "{}",
        short.stdout
    );

    // 3. Promoted fully while a wait for healthy runs: it ends with 0 once the Rollout is
    //    healthy. The promotion is sent after the wait has printed the paused state (so it
    //    is watching), as `kubectl argo rollouts promote --full` does (status.promoteFull).
    let start = Instant::now();
    let mut child = wait_cmd(
        env,
        home.path(),
        &[&target, "--for", "healthy", "--timeout", "150s"],
    )
    .stdout(Stdio::piped())
    .stderr(Stdio::piped())
    .spawn()?;
    let mut lines = BufReader::new(child.stdout.take().context("stdout")?).lines();
    let mut seen = Vec::new();
    let watching = tokio::time::timeout(SETUP, async {
        while let Some(line) = lines.next_line().await? {
            let paused = line.contains("Rollout: Paused");
            seen.push(line);
            if paused {
                return Ok::<bool, anyhow::Error>(true);
            }
        }
        Ok(false)
    })
    .await;
    assert!(
        matches!(watching, Ok(Ok(true))),
        "wait never printed the paused state: {seen:?}"
    );
    api.patch_status(
        "web",
        &PatchParams::default(),
        &Patch::Merge(json!({"status": {"promoteFull": true}})),
    )
    .await?;
    let promoted_at = start.elapsed();
    while let Some(line) = lines.next_line().await? {
        seen.push(line);
    }
    let status = child.wait().await?;
    let mut err = String::new();
    if let Some(mut e) = child.stderr.take() {
        tokio::io::AsyncReadExt::read_to_string(&mut e, &mut err).await?;
    }
    eprintln!(
        "promoted after {:.1}s; wait ended after {:.1}s: {status}\n{}\n{err}",
        promoted_at.as_secs_f64(),
        start.elapsed().as_secs_f64(),
        seen.join("\n")
    );
    assert_eq!(status.code(), Some(0), "{seen:?} {err}");
    let last = seen.last().map(String::as_str).unwrap_or("");
    assert!(
        last.starts_with(&format!("done: a-admin/{ns}/web Rollout: Healthy")),
        "{seen:?}"
    );
    // The controller agrees.
    let r = api.get("web").await?;
    assert_eq!(r.data["status"]["phase"], "Healthy", "{}", r.data["status"]);

    // 4. A Rollout that does not exist: not found, long before the timeout.
    let missing = run(
        env,
        home.path(),
        &[&format!("a-admin/{ns}/nope"), "--timeout", "100s"],
    )
    .await?;
    assert_eq!(missing.code, Some(5), "{}", missing.stderr);
    assert!(
        missing.stderr.contains(&format!(
            "not found: no Rollout or Canary or Deployment a-admin/{ns}/nope"
        )),
        "{}",
        missing.stderr
    );
    assert!(
        missing.took < Duration::from_secs(100),
        "{:?}",
        missing.took
    );
    Ok(())
}
