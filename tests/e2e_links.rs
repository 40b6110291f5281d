#![cfg(feature = "e2e")]
//! Connections as they really fail, against the real test clusters (tests/env): a half-open
//! watch (the fault proxy freezes the open connections, no FIN, while new ones pass) is
//! noticed by the watch itself within 15 s although the cluster's probe keeps answering,
//! and the kinds are relisted over new connections with exactly the API server's objects.
//!
//! Run with the environment up: `cargo test --features e2e --test e2e_links`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

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
    let watch_client = kube::Client::try_from(config)?;
    let mut probe_config = env.config("a-oncall").await?;
    watch_timeouts(&mut probe_config);
    let options = ClusterOptions {
        probe_client: Some(kube::Client::try_from(probe_config)?),
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
