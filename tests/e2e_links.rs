#![cfg(feature = "e2e")]
//! Connections as they really fail, against the real test clusters (tests/env): a half-open
//! watch (the fault proxy freezes the open connections, no FIN, while new ones pass) is
//! noticed by the watch itself within 15 s although the cluster's probe keeps answering,
//! and the kinds are relisted over new connections with exactly the API server's objects.
//!
//! Run with the environment up: `cargo test --features e2e --test e2e_links`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;
mod tmux;

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use jiff::Timestamp;
use k8s_openapi::api::apps::v1::Deployment;
use kube::api::{Api, DeleteParams, ListParams};
use tokio::sync::mpsc;

use shipdeck::app;
use shipdeck::core::model::{Cluster, Connection, ReleaseKind};
use shipdeck::core::msg::Msg;
use shipdeck::core::state::{Settings, State};
use shipdeck::source::kube::client::watch_timeouts;
use shipdeck::source::kube::{ClusterOptions, spawn_cluster_with};
use support::TestEnv;
use support::apply::{NamespaceCleanup, apply_yaml, ensure_namespace};
use support::env::unique_name;
use support::manifests;
use support::proxy::{FaultProxy, Mode};
use support::wait::{Check, wait_until};

fn deployment_yaml(name: &str) -> String {
    manifests::Deployment::new(name, "example.test/x:1")
        .replicas(1)
        .yaml()
}

fn rows(state: &State, ns: &str) -> BTreeSet<String> {
    state
        .releases
        .keys()
        .filter(|k| k.cluster == "a" && k.namespace == ns && k.kind == ReleaseKind::Deployment)
        .map(|k| k.name.clone())
        .collect()
}

async fn server_names(admin: &kube::Client, ns: &str) -> Result<BTreeSet<String>> {
    let api: Api<Deployment> = Api::namespaced(admin.clone(), ns);
    Ok(api
        .list(&ListParams::default())
        .await?
        .items
        .into_iter()
        .filter_map(|d| d.metadata.name)
        .collect())
}

fn connection(state: &Arc<Mutex<State>>) -> Connection {
    state
        .lock()
        .unwrap()
        .cluster("a")
        .unwrap()
        .connection
        .clone()
}

async fn wait_state<T>(
    what: &str,
    timeout: Duration,
    state: &Arc<Mutex<State>>,
    check: impl Fn(&State) -> std::result::Result<T, String>,
) -> Result<T> {
    wait_until(what, timeout, || async {
        let s = state.lock().unwrap();
        Ok(match check(&s) {
            Ok(v) => Check::Done(v),
            Err(why) => Check::NotYet(why),
        })
    })
    .await
}

#[tokio::test]
async fn half_open_watches_are_stale_within_15s_and_relist_exactly() -> Result<()> {
    let _ = tracing_subscriber::fmt()
        .with_env_filter("shipdeck=info")
        .with_test_writer()
        .try_init();
    let env = TestEnv::get()?;
    let admin = env.client("a-admin").await?;
    let ns = unique_name("hl");
    ensure_namespace(&admin, &ns).await?;
    let _cleanup = NamespaceCleanup::new("a-admin", &ns);
    for name in ["keep", "gone"] {
        apply_yaml(&admin, Some(&ns), &deployment_yaml(name)).await?;
    }

    // The watches go through the proxy with the console's watch timeouts; the probe goes
    // straight to the apiserver, so only the watches themselves can notice the freeze.
    let proxy = FaultProxy::start(env.apiserver_addr("a")?).await?;
    let mut config = env.config("a-oncall").await?;
    config.cluster_url = proxy.url().parse()?;
    watch_timeouts(&mut config);
    let watch_client = shipdeck::source::kube::connect::client(config)?;
    let mut probe_config = env.config("a-oncall").await?;
    watch_timeouts(&mut probe_config);
    let options = ClusterOptions {
        probe_client: Some(shipdeck::source::kube::connect::client(probe_config)?),
        ..ClusterOptions::default()
    };
    let state = Arc::new(Mutex::new(State::new(
        Timestamp::now(),
        Settings::default(),
        vec![Cluster::new("a")],
        Vec::new(),
    )));
    let (tx, rx) = mpsc::channel::<Msg>(1024);
    let _cluster = spawn_cluster_with("a".into(), watch_client, tx, options);
    let _pump = app::spawn_shared(state.clone(), rx, Duration::from_millis(100));

    let want: BTreeSet<String> = ["gone", "keep"].map(String::from).into();
    wait_state(
        "listed and connected",
        Duration::from_secs(60),
        &state,
        |s| {
            let c = &s.cluster("a").unwrap().connection;
            let r = rows(s, &ns);
            if *c == Connection::Connected && r == want {
                Ok(())
            } else {
                Err(format!("{c:?} {r:?}"))
            }
        },
    )
    .await?;
    // Let the watches settle into their steady state (connections idle between events).
    tokio::time::sleep(Duration::from_secs(3)).await;

    proxy.set_mode(Mode::Freeze);
    let frozen = Instant::now();
    // Change things while the open watches are deaf.
    Api::<Deployment>::namespaced(admin.clone(), &ns)
        .delete("gone", &DeleteParams::default())
        .await?;
    apply_yaml(&admin, Some(&ns), &deployment_yaml("born")).await?;

    let marked = wait_state(
        "the frozen watches marked stale",
        Duration::from_secs(15),
        &state,
        |s| match &s.cluster("a").unwrap().connection {
            Connection::Stale { .. } => Ok(frozen.elapsed()),
            other => Err(format!("{other:?}")),
        },
    )
    .await
    .context("a half-open watch must be marked stale within 15 s")?;
    eprintln!("[figure] half-open watches: time to stale {marked:?} (probe healthy throughout)");
    assert!(marked <= Duration::from_secs(15));

    // New connections pass: every kind lists again and the rows are exactly the server's.
    let server = server_names(&admin, &ns).await?;
    assert_eq!(server, ["born", "keep"].map(String::from).into());
    let relisted = wait_state(
        "relisted over new connections",
        Duration::from_secs(35),
        &state,
        |s| {
            let c = &s.cluster("a").unwrap().connection;
            let r = rows(s, &ns);
            if *c == Connection::Connected && r == server {
                Ok(frozen.elapsed())
            } else {
                Err(format!("{c:?} {r:?}"))
            }
        },
    )
    .await?;
    eprintln!("[figure] half-open watches: relisted and connected {relisted:?} after the freeze");

    // The frozen connections flow again: nothing stale or doubled comes out of them.
    proxy.set_mode(Mode::Pass);
    apply_yaml(&admin, Some(&ns), &deployment_yaml("after")).await?;
    let server = server_names(&admin, &ns).await?;
    wait_state(
        "a change after the thaw",
        Duration::from_secs(30),
        &state,
        |s| {
            let r = rows(s, &ns);
            if r == server {
                Ok(())
            } else {
                Err(format!("{r:?} vs {server:?}"))
            }
        },
    )
    .await?;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let now = rows(&state.lock().unwrap(), &ns);
    assert_eq!(now, server, "no missing or extra rows");
    assert_eq!(connection(&state), Connection::Connected);
    Ok(())
}

/// An exec credential plugin as slow and rude as real ones: it takes 2 s, writes a screen
/// clear and a marker to stderr, tries to read stdin (recording what it got), and issues a
/// client certificate for `who` (`(organization, common name)`), signed by the test CA, valid
/// for `valid` seconds; the ExecCredential says it expires after `claimed` seconds (a plugin
/// that says more than its certificate holds gets 401s before the client renews).
fn write_plugin(
    dir: &std::path::Path,
    ca_dir: &std::path::Path,
    who: (&str, &str),
    valid: u32,
    claimed: u32,
) -> std::path::PathBuf {
    let cnf = dir.join("ca.cnf");
    std::fs::write(
        &cnf,
        "[ca]\ndefault_ca = d\n[d]\ndatabase = index.txt\nnew_certs_dir = .\nserial = serial\n\
         default_md = sha256\npolicy = p\nunique_subject = no\n[p]\norganizationName = optional\n\
         commonName = supplied\n[ext]\nkeyUsage = critical,digitalSignature,keyEncipherment\n\
         extendedKeyUsage = clientAuth\n",
    )
    .unwrap();
    let script = dir.join("plugin.sh");
    let body = format!(
        r#"#!/bin/sh
set -e
sleep 2
printf '\033[2JPLUGIN-STDERR-MARK' >&2
if read -r line; then echo "read:$line" >> {dir}/stdin; else echo eof >> {dir}/stdin; fi
w=$(mktemp -d {dir}/issue.XXXXXX)
cd "$w"
: > index.txt
openssl rand -hex 8 > serial
now=$(date +%s)
openssl ecparam -name prime256v1 -genkey -noout 2>/dev/null | openssl pkcs8 -topk8 -nocrypt -out k.pem
openssl req -new -key k.pem -subj "/O={org}/CN={cn}" -out r.csr 2>/dev/null
openssl ca -batch -config {cnf} -cert {ca}/ca.crt -keyfile {ca}/ca.key -in r.csr -out c.pem \
  -notext -extensions ext -startdate $(date -u -d @$((now - 5)) +%Y%m%d%H%M%SZ) \
  -enddate $(date -u -d @$((now + {valid})) +%Y%m%d%H%M%SZ) 2>/dev/null
openssl x509 -in c.pem -out c2.pem
exp=$(date -u -d @$((now + {claimed})) +%Y-%m-%dT%H:%M:%SZ)
echo "$now $exp $((now + {valid}))" >> {dir}/calls
cert=$(awk '{{printf "%s\\n", $0}}' c2.pem)
key=$(awk '{{printf "%s\\n", $0}}' k.pem)
printf '{{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","status":{{"clientCertificateData":"%s","clientKeyData":"%s","expirationTimestamp":"%s"}}}}\n' "$cert" "$key" "$exp"
"#,
        dir = dir.display(),
        cnf = cnf.display(),
        ca = ca_dir.display(),
        org = who.0,
        cn = who.1,
    );
    std::fs::write(&script, body).unwrap();
    script
}

fn calls(dir: &std::path::Path) -> Vec<String> {
    std::fs::read_to_string(dir.join("calls"))
        .unwrap_or_default()
        .lines()
        .map(String::from)
        .collect()
}

/// A kubeconfig in `dir` whose one context, `a-exec`, authenticates to cluster a with
/// `plugin` (as a terminal-hungry plugin would ask: `interactiveMode: IfAvailable`).
fn exec_kubeconfig(
    env: &TestEnv,
    dir: &std::path::Path,
    ca_dir: &std::path::Path,
    plugin: &std::path::Path,
) -> Result<std::path::PathBuf> {
    let out = std::process::Command::new("base64")
        .arg("-w0")
        .arg(ca_dir.join("ca.crt"))
        .output()?;
    let ca_b64 = String::from_utf8(out.stdout)?;
    anyhow::ensure!(!ca_b64.is_empty(), "the test CA is there");
    let kubeconfig = dir.join("kubeconfig");
    std::fs::write(
        &kubeconfig,
        format!(
            "apiVersion: v1\nkind: Config\ncurrent-context: a-exec\nclusters:\n- name: a\n  cluster:\n    server: {url}\n    certificate-authority-data: {ca_b64}\nusers:\n- name: exec\n  user:\n    exec:\n      apiVersion: client.authentication.k8s.io/v1\n      command: /bin/sh\n      args: [{plugin}]\n      interactiveMode: IfAvailable\ncontexts:\n- name: a-exec\n  context:\n    cluster: a\n    user: exec\n",
            url = env.apiserver_url("a")?,
            plugin = plugin.display(),
        ),
    )?;
    Ok(kubeconfig)
}

#[tokio::test]
async fn exec_plugins_never_touch_the_terminal_and_expiring_certificates_are_renewed() -> Result<()>
{
    let env = TestEnv::get()?;
    let dir = tempfile::tempdir()?;
    let ca_dir = env.dir.join("pki").join("a");
    let plugin = write_plugin(dir.path(), &ca_dir, ("shipdeck:viewer", "viewer"), 30, 30);
    let kubeconfig = exec_kubeconfig(env, dir.path(), &ca_dir, &plugin)?;
    let t0 = dir.path().join("t0");
    let raw = dir.path().join("raw");
    let script = format!(
        "date +%s%N > {t0}; KUBECONFIG={kc} SHIPDECK_AUDIT_LOG={home}/audit.jsonl HOME={home} exec {bin} --context a-exec --read-only",
        t0 = t0.display(),
        kc = kubeconfig.display(),
        home = dir.path().display(),
        bin = env!("CARGO_BIN_EXE_shipdeck"),
    );
    let tmux = tmux::Tmux::start("exec", 120, 30, &script);
    tmux.run(&[
        "pipe-pane",
        "-o",
        "-t",
        "t",
        &format!("cat >> {}", raw.display()),
    ]);
    // The first frame, while the plugin is still sleeping.
    let polling = Instant::now();
    let first = loop {
        let s = tmux.screen();
        if [
            "a-exec connecting",
            "a-exec connected",
            "a-exec unreachable",
        ]
        .iter()
        .any(|l| s.contains(l))
        {
            let now = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)?
                .as_nanos();
            let start: u128 = std::fs::read_to_string(&t0)?.trim().parse()?;
            break Duration::from_nanos(u64::try_from(now - start)?);
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
        anyhow::ensure!(
            polling.elapsed() < Duration::from_secs(10),
            "no first frame"
        );
    };
    let plugin_done_at_first_frame = calls(dir.path()).len();
    eprintln!(
        "[figure] exec plugin (2 s): first frame {first:?} after launch; plugin runs finished by then: {plugin_done_at_first_frame}"
    );
    assert_eq!(
        plugin_done_at_first_frame, 0,
        "the first frame did not wait for the plugin"
    );

    tmux.wait_for("connected", Duration::from_secs(30), |s| {
        s.contains("a-exec connected")
    });
    let connected_at = Instant::now();
    // Three expiries of 30-s certificates; the chip must say connected all along.
    let mut not_connected = Vec::new();
    let issued_before = calls(dir.path()).len();
    while connected_at.elapsed() < Duration::from_secs(100) {
        let s = tmux.screen();
        if !s.contains("a-exec connected") {
            let line = s.lines().next().unwrap_or("").to_string();
            not_connected.push(format!("{:?}: {line}", connected_at.elapsed()));
        }
        assert!(
            !s.contains("PLUGIN-STDERR-MARK"),
            "plugin bytes on screen:\n{s}"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    let issued = calls(dir.path());
    let now = jiff::Timestamp::now();
    let expired = issued
        .iter()
        .filter_map(|l| l.split_whitespace().nth(1))
        .filter_map(|t| t.parse::<jiff::Timestamp>().ok())
        .filter(|t| *t < now)
        .count();
    eprintln!(
        "[figure] exec plugin: {} certificates issued ({} during the 100 s watched), {expired} expired during the session, chip not 'connected' in {} of ~400 samples: {not_connected:?}",
        issued.len(),
        issued.len() - issued_before,
        not_connected.len()
    );
    assert!(expired >= 3, "three expiries: {issued:?}");
    assert!(not_connected.is_empty(), "{not_connected:?}");
    let stdin = std::fs::read_to_string(dir.path().join("stdin"))?;
    assert!(
        stdin.lines().all(|l| l == "eof"),
        "the plugin read from stdin: {stdin}"
    );
    let bytes = std::fs::read(&raw)?;
    let shown = String::from_utf8_lossy(&bytes);
    assert!(
        !shown.contains("PLUGIN-STDERR-MARK"),
        "plugin bytes reached the terminal"
    );
    assert!(!bytes.is_empty(), "the pane's output was captured");
    Ok(())
}

/// The audit's result records, in order.
fn results(audit: &std::path::Path) -> Vec<serde_json::Value> {
    std::fs::read_to_string(audit)
        .unwrap_or_default()
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|v| v["stage"] == "result")
        .collect()
}

/// Credentials the server stops accepting before the client expects (the plugin claims an
/// hour; the certificate holds 25 s): an action answered 401 is not applied, says so, and
/// has the action client rebuilt — the plugin runs again — so that the same action, asked
/// again, lands with the fresh certificate.
#[tokio::test]
async fn an_action_refused_with_401_rebuilds_the_action_client_and_the_retry_lands() -> Result<()> {
    const VALID: i64 = 25;
    let env = TestEnv::get()?;
    let admin = env.client("a-admin").await?;
    let ns = unique_name("cred");
    ensure_namespace(&admin, &ns).await?;
    let _gone = NamespaceCleanup::new("a-admin", &ns);
    apply_yaml(&admin, Some(&ns), &deployment_yaml("web")).await?;

    let dir = tempfile::tempdir()?;
    let ca_dir = env.dir.join("pki").join("a");
    let plugin = write_plugin(
        dir.path(),
        &ca_dir,
        ("shipdeck:oncall", "oncall"),
        u32::try_from(VALID)?,
        3600,
    );
    let kubeconfig = exec_kubeconfig(env, dir.path(), &ca_dir, &plugin)?;
    let audit = dir.path().join("audit.jsonl");
    let script = format!(
        "KUBECONFIG={kc} SHIPDECK_AUDIT_LOG={audit} HOME={home} XDG_CACHE_HOME={home}/cache exec {bin} --context a-exec",
        kc = kubeconfig.display(),
        audit = audit.display(),
        home = dir.path().display(),
        bin = env!("CARGO_BIN_EXE_shipdeck"),
    );
    let tmux = tmux::Tmux::start("exec-401", 120, 30, &script);
    let screen = Duration::from_secs(60);
    let row = format!("{ns}/web");
    tmux.wait_for("the deployment on screen", screen, |s| s.contains(&row));
    tmux.keys(&["/", &ns, "Enter"]);
    tmux.wait_for("only this namespace", screen, |s| s.contains(&row));

    // Wait until every certificate issued so far has expired on the server's clock.
    let not_after = |dir: &std::path::Path| -> Vec<i64> {
        calls(dir)
            .iter()
            .filter_map(|l| l.split_whitespace().nth(2)?.parse().ok())
            .collect()
    };
    let issued = not_after(dir.path());
    assert!(
        issued.len() >= 2,
        "a watch and an action client: {issued:?}"
    );
    let last = issued.iter().copied().max().unwrap_or_default();
    let wait = last + 2 - Timestamp::now().as_second();
    if wait > 0 {
        tokio::time::sleep(Duration::from_secs(wait.unsigned_abs())).await;
    }
    let before = calls(dir.path()).len();

    let pause = |attempt: usize| {
        tmux.keys(&["Space"]);
        tmux.wait_for("the pause modal", screen, |s| {
            s.contains("Confirm") && s.contains("pause")
        });
        tmux.keys(&["y"]);
        wait_until_sync(screen, || results(&audit).len() >= attempt)
    };
    assert!(pause(1), "the first pause's result");
    let first = results(&audit);
    println!("first: {}", first[0]);
    let said = first[0].to_string();
    assert!(said.contains("401"), "{said}");
    assert!(said.contains("credentials refused"), "{said}");
    let api: Api<Deployment> = Api::namespaced(admin.clone(), &ns);
    assert_ne!(
        api.get("web").await?.spec.paused,
        Some(true),
        "a refused request changes nothing"
    );

    // The action client is rebuilt: the plugin runs again, and the console's log says when
    // the fresh client is in place (its second "ready").
    let log = dir.path().join("cache/shipdeck/shipdeck.log");
    let ready = || {
        std::fs::read_to_string(&log)
            .unwrap_or_default()
            .matches("action client ready")
            .count()
    };
    let rebuilt = wait_until_sync(screen, || ready() >= 2);
    let text = std::fs::read_to_string(&log).unwrap_or_default();
    assert!(
        rebuilt,
        "the action client was not rebuilt after the 401:\n{text}"
    );
    assert!(text.contains("action credentials refused (401)"), "{text}");
    assert!(calls(dir.path()).len() > before, "the plugin ran again");
    assert!(pause(2), "the second pause's result");
    let second = results(&audit);
    println!("second: {}", second[1]);
    assert!(
        second[1].to_string().contains("applied"),
        "{}\n{}\n{:?}",
        second[1],
        std::fs::read_to_string(&log).unwrap_or_default(),
        calls(dir.path())
    );
    let paused = api.get("web").await?.spec.paused;
    assert_eq!(paused, Some(true), "the retried pause landed");
    println!(
        "[figure] 401 on an action: plugin runs {} before, {} after",
        before,
        calls(dir.path()).len()
    );
    tmux.keys(&["q"]);
    Ok(())
}

/// Poll `cond` every 200 ms until it holds (true) or `limit` passes (false).
fn wait_until_sync(limit: Duration, mut cond: impl FnMut() -> bool) -> bool {
    let start = Instant::now();
    while start.elapsed() < limit {
        if cond() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    cond()
}
