//! A cluster's API server dies mid-session and comes back (R2, P12): the console marks it
//! unreachable or stale within 15 s while the other cluster keeps updating, and reconnects
//! after the restart. Its own test binary: stopping an apiserver must not disturb other tests.
#![cfg(feature = "e2e")]
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::Result;
use jiff::Timestamp;
use tokio::sync::mpsc;

use shipdeck::app;
use shipdeck::core::model::{Cluster, Connection, ReleaseKind};
use shipdeck::core::state::Settings;
use shipdeck::core::{Msg, State};
use shipdeck::source::kube::spawn_cluster;
use support::TestEnv;
use support::apply::{apply_yaml, delete_namespace, ensure_namespace};
use support::env::unique_name;
use support::manifests::Deployment;
use support::wait::{Check, wait_until};

/// One replica of `example.test/{name}:1`, no labels on the object.
fn deployment(name: &str) -> String {
    Deployment::new(name, &format!("example.test/{name}:1"))
        .unlabelled()
        .yaml()
}

async fn wait_state(
    state: &Arc<Mutex<State>>,
    what: &str,
    timeout: Duration,
    check: impl Fn(&State) -> bool,
) -> Result<Duration> {
    let start = Instant::now();
    wait_until(what, timeout, || async {
        let s = state.lock().unwrap();
        Ok(if check(&s) {
            Check::Done(())
        } else {
            Check::NotYet(format!(
                "{:?}",
                s.clusters
                    .iter()
                    .map(|c| (&c.name, &c.connection))
                    .collect::<Vec<_>>()
            ))
        })
    })
    .await?;
    Ok(start.elapsed())
}

fn has(s: &State, cluster: &str, ns: &str, name: &str) -> bool {
    s.releases.keys().any(|k| {
        k.cluster == cluster
            && k.kind == ReleaseKind::Deployment
            && k.namespace == ns
            && k.name == name
    })
}

#[tokio::test(flavor = "multi_thread")]
async fn a_dead_apiserver_is_marked_and_reconnects_after_restart() -> Result<()> {
    let env = TestEnv::get()?;
    let clusters = vec![Cluster::new("a"), Cluster::new("b")];
    let state = Arc::new(Mutex::new(State::new(
        Timestamp::now(),
        Settings::default(),
        clusters,
        Vec::new(),
    )));
    let (tx, rx) = mpsc::channel::<Msg>(4096);
    let _a = spawn_cluster("a".into(), env.client("a-oncall").await?, tx.clone());
    let _b = spawn_cluster("b".into(), env.client("b-oncall").await?, tx.clone());
    let pump = app::spawn_shared(state.clone(), rx, Duration::from_millis(250));
    let connected = |name: &'static str| {
        move |s: &State| {
            s.cluster(name)
                .is_some_and(|c| c.connection == Connection::Connected)
        }
    };
    wait_state(&state, "both connected", Duration::from_secs(30), |s| {
        connected("a")(s) && connected("b")(s)
    })
    .await?;

    let admin_a = env.client("a-admin").await?;
    let admin_b = env.client("b-admin").await?;
    let ns = unique_name("rs");
    ensure_namespace(&admin_a, &ns).await?;
    ensure_namespace(&admin_b, &ns).await?;

    let stop_began = Instant::now();
    env.stop_apiserver("b").await?;
    let stopped_in = stop_began.elapsed();
    let marked = wait_state(
        &state,
        "b unreachable or stale",
        Duration::from_secs(15),
        |s| {
            s.cluster("b").is_some_and(|c| {
                matches!(
                    c.connection,
                    Connection::Unreachable { .. } | Connection::Stale { .. }
                )
            })
        },
    )
    .await;
    // Whatever happened, bring the apiserver back before judging, so other suites are unharmed.
    let during_a = async {
        apply_yaml(&admin_a, Some(&ns), &deployment("during")).await?;
        wait_state(&state, "a keeps updating", Duration::from_secs(15), |s| {
            has(s, "a", &ns, "during")
        })
        .await
    }
    .await;
    let restart_at = Instant::now();
    env.start_apiserver("b").await?;
    let marked = marked?;
    let during_a = during_a?;
    println!(
        "b marked unreachable/stale {:?} after its apiserver was told to stop (stopping took {stopped_in:?}); a updated meanwhile in {during_a:?}",
        stopped_in + marked
    );
    let back = wait_state(
        &state,
        "b connected again",
        Duration::from_secs(35),
        connected("b"),
    )
    .await?;
    apply_yaml(&admin_b, Some(&ns), &deployment("after")).await?;
    wait_state(
        &state,
        "b shows new objects",
        Duration::from_secs(35),
        |s| has(s, "b", &ns, "after"),
    )
    .await?;
    println!(
        "b reconnected {:?} after its apiserver was ready again ({:?} after the restart began)",
        back,
        restart_at.elapsed()
    );
    pump.abort();
    delete_namespace(&admin_a, &ns).await?;
    delete_namespace(&admin_b, &ns).await?;
    Ok(())
}
