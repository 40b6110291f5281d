//! The harness's fault tools work against the real apiservers: the TCP fault proxy
//! (pass / delay / blackhole / reset, switched at runtime) and stopping and restarting one
//! cluster's apiserver. And a real apiserver's 500: a stored object it cannot decode, as the
//! console, doctor and snapshot show it. Runs alone (scripts/test: last): while the stored
//! object is there, nothing on cluster a can list Rollouts.
#![cfg(feature = "e2e")]
#![allow(clippy::expect_used)]

#[path = "support/etcd.rs"]
mod etcd;
mod support;
mod tmux;

use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use k8s_openapi::api::core::v1::Namespace;
use kube::api::{Api, ListParams};

use support::TestEnv;
use support::apply::{NamespaceCleanup, apply_yaml, ensure_namespace};
use support::env::unique_name;
use support::manifests::Rollout;
use support::proxy::{FaultProxy, Mode};
use support::wait::{Check, wait_until};
use tmux::Tmux;

async fn list_namespaces(client: &kube::Client) -> Result<usize> {
    let api: Api<Namespace> = Api::all(client.clone());
    Ok(api.list(&ListParams::default()).await?.items.len())
}

/// Run a request with a deadline; Err(()) if it did not finish in time.
async fn within<T>(
    d: Duration,
    f: impl std::future::Future<Output = T>,
) -> std::result::Result<T, ()> {
    tokio::time::timeout(d, f).await.map_err(|_| ())
}

#[tokio::test]
async fn fault_proxy_modes_switch_at_runtime() -> Result<()> {
    let env = TestEnv::get()?;
    let proxy = FaultProxy::start(env.apiserver_addr("a")?).await?;
    let client = env.client_via("a-admin", &proxy.url()).await?;

    // pass
    assert!(list_namespaces(&client).await? > 0);

    // delay: a request is at least one delayed chunk each way slower
    proxy.set_mode(Mode::Delay(Duration::from_millis(700)));
    let t = Instant::now();
    list_namespaces(&client)
        .await
        .context("request through delay")?;
    assert!(
        t.elapsed() >= Duration::from_millis(1400),
        "delay mode took only {:?}",
        t.elapsed()
    );

    // blackhole: the request hangs (no answer, no error) ...
    proxy.set_mode(Mode::Blackhole);
    let r = within(Duration::from_secs(3), list_namespaces(&client)).await;
    assert!(r.is_err(), "request through a blackhole returned: {r:?}");

    // ... and traffic flows again once the partition heals.
    proxy.set_mode(Mode::Pass);
    let r = within(Duration::from_secs(20), list_namespaces(&client)).await;
    assert!(matches!(r, Ok(Ok(n)) if n > 0), "after blackhole: {r:?}");

    // reset: requests fail fast with a connection error (not a hang)
    proxy.set_mode(Mode::Reset);
    let t = Instant::now();
    let r = within(Duration::from_secs(5), list_namespaces(&client)).await;
    assert!(matches!(r, Ok(Err(_))), "request through reset mode: {r:?}");
    assert!(t.elapsed() < Duration::from_secs(5));

    proxy.set_mode(Mode::Pass);
    let r = within(Duration::from_secs(20), list_namespaces(&client)).await;
    assert!(matches!(r, Ok(Ok(n)) if n > 0), "after reset: {r:?}");
    Ok(())
}

#[tokio::test]
async fn apiserver_stops_and_restarts_with_its_data() -> Result<()> {
    let env = TestEnv::get()?;
    let client = env.client("b-admin").await?;
    let ns = unique_name("restart");
    ensure_namespace(&client, &ns).await?;

    env.stop_apiserver("b").await?;
    let down = within(Duration::from_secs(10), list_namespaces(&client)).await;
    let restart = env.start_apiserver("b").await;
    assert!(
        matches!(down, Ok(Err(_))),
        "request to a stopped apiserver: {down:?}"
    );
    restart?;

    // Same port, same certs (the old client works), same data.
    let api: Api<Namespace> = Api::all(client.clone());
    wait_until(
        "namespace visible after restart",
        Duration::from_secs(30),
        || async {
            Ok(match api.get_opt(&ns).await? {
                Some(_) => Check::Done(()),
                None => Check::NotYet(format!("{ns} missing")),
            })
        },
    )
    .await?;
    Ok(())
}

/// `shipdeck <args>` on the environment's kubeconfig with its own home and no Prometheus:
/// (exit code, stdout, stderr).
async fn shipdeck(
    env: &TestEnv,
    home: &std::path::Path,
    args: &[&str],
) -> Result<(Option<i32>, String, String)> {
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_shipdeck"))
        .args(args)
        .env("KUBECONFIG", &env.kubeconfig)
        .env("HOME", home)
        .env("XDG_CONFIG_HOME", home)
        .env_remove("SHIPDECK_PROMETHEUS_URL")
        .output()
        .await?;
    Ok((
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    ))
}

/// `shipdeck snapshot --json --context a-admin`.
async fn snapshot(env: &TestEnv, home: &std::path::Path) -> Result<(Option<i32>, String, String)> {
    shipdeck(env, home, &["snapshot", "--json", "--context", "a-admin"]).await
}

/// The words kube-apiserver answers a list with when a stored object is not JSON (its own,
/// from encoding/json); the console must show them, not guess.
const UNDECODABLE: &str = "invalid character 'n' looking for beginning of object key string";

#[tokio::test]
async fn an_object_the_apiserver_cannot_decode_shows_as_its_500_in_the_console_doctor_and_snapshot()
-> Result<()> {
    let env = TestEnv::get()?;
    let admin = env.client("a-admin").await?;
    let ns = unique_name("undecodable");
    ensure_namespace(&admin, &ns).await?;
    let _cleanup = NamespaceCleanup::new("a-admin", &ns);
    let home = tempfile::tempdir()?;

    // Before: the cluster answers for every kind.
    let (code, _, stderr) = snapshot(env, home.path()).await?;
    assert_eq!(code, Some(0), "before: {stderr}");

    // A good Rollout ahead of the broken one (keys sort by namespace, then name): a check
    // that reads only the first object of the list would pass.
    apply_yaml(
        &admin,
        Some(&ns),
        &Rollout::canary("a-good", "example.test/good:1")
            .steps(&[])
            .yaml(),
    )
    .await?;
    let stored = etcd::RawKey::put(
        env,
        "a",
        &format!("/argoproj.io/rollouts/{ns}/broken"),
        b"{not json",
    )?;
    let started = Instant::now();

    // snapshot: the kind's failure on stderr, in the JSON, and exit 3 (incomplete). The
    // watch cache may answer 429 ("storage is (re)initializing") while it relists; the
    // server's own words are in both answers.
    let (stdout, stderr) = wait_until(
        "snapshot exits 3 naming rollouts",
        Duration::from_secs(60),
        || async {
            let (code, stdout, stderr) = snapshot(env, home.path()).await?;
            Ok(
                if code == Some(3) && stderr.contains("rollouts.argoproj.io: ") {
                    Check::Done((stdout, stderr))
                } else {
                    Check::NotYet(format!("exit {code:?}: {stderr}"))
                },
            )
        },
    )
    .await?;
    println!("snapshot stderr after {:?}: {stderr}", started.elapsed());
    assert!(stderr.contains(UNDECODABLE), "{stderr}");
    let v: serde_json::Value = serde_json::from_str(&stdout)?;
    let failing = &v["clusters"][0]["failing_kinds"];
    assert_eq!(failing[0]["kind"], "rollouts.argoproj.io", "{v}");
    let status = failing[0]["status"].as_str().unwrap_or_default().to_owned();
    assert!(status == "500" || status == "429", "{failing}");
    assert_eq!(v["clusters"][0]["connection"]["state"], "connected", "{v}");

    // doctor: lists as the console does, names the kind and the server's 500.
    let (code, text, _) = shipdeck(env, home.path(), &["doctor", "--context", "a-admin"]).await?;
    println!("doctor (exit {code:?}):\n{text}");
    assert_ne!(code, Some(0), "{text}");
    assert!(
        text.contains(&format!(
            "a-admin: listing rollouts.argoproj.io fails: 500 {UNDECODABLE}"
        )),
        "{text}"
    );

    // The console, 80x24: the chip says which kind fails, how, and since when.
    let script = format!(
        "KUBECONFIG={kc} HOME={home} XDG_CONFIG_HOME={home} {bin} --context a-admin; sleep 30",
        kc = env.kubeconfig.display(),
        home = home.path().display(),
        bin = env!("CARGO_BIN_EXE_shipdeck"),
    );
    let console = Tmux::start("undecodable", 80, 24, &script);
    let screen = console.wait_for(
        "the failing kind on the chip",
        Duration::from_secs(30),
        |s| {
            s.contains("a-admin connected · rollouts: 500 since")
                || s.contains("a-admin connected · rollouts: 429 since")
        },
    );
    println!("console:\n{screen}");

    // Gone again: the console's chip clears, and snapshot is complete.
    stored.delete()?;
    let healed = Instant::now();
    let screen = console.wait_for(
        "the chip without the failure",
        Duration::from_secs(60),
        |s| s.contains("a-admin connected") && !s.contains("rollouts:"),
    );
    println!("console after {:?}:\n{screen}", healed.elapsed());
    console.keys(&["q"]);
    wait_until(
        "snapshot complete again",
        Duration::from_secs(60),
        || async {
            let (code, _, stderr) = snapshot(env, home.path()).await?;
            Ok(if code == Some(0) {
                Check::Done(())
            } else {
                Check::NotYet(format!("exit {code:?}: {stderr}"))
            })
        },
    )
    .await?;
    Ok(())
}
