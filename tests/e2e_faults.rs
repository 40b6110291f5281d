//! The harness's fault tools work against the real apiservers: the TCP fault proxy
//! (pass / delay / blackhole / reset, switched at runtime) and stopping and restarting one
//! cluster's apiserver.
#![cfg(feature = "e2e")]

mod support;

use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use k8s_openapi::api::core::v1::Namespace;
use kube::api::{Api, ListParams};

use support::TestEnv;
use support::apply::ensure_namespace;
use support::env::unique_name;
use support::proxy::{FaultProxy, Mode};
use support::wait::{Check, wait_until};

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
