//! Bounded polling with a clear failure message.

use std::future::Future;
use std::time::{Duration, Instant};

use anyhow::{Result, bail};
use kube::api::Api;
use serde::de::DeserializeOwned;

/// What one poll saw: done (with a value), or not yet (with a description of the state,
/// reported if the wait times out).
#[derive(Debug)]
pub enum Check<T> {
    Done(T),
    NotYet(String),
}

/// Poll interval of every wait.
pub const POLL: Duration = Duration::from_millis(250);

/// Poll `check` every [`POLL`] until it returns `Done` or `timeout` passes. A poll that
/// returns an error is treated as "not yet" (the server may be restarting) and its error
/// appears in the timeout message.
pub async fn wait_until<T, F, Fut>(what: &str, timeout: Duration, mut check: F) -> Result<T>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<Check<T>>>,
{
    let start = Instant::now();
    loop {
        let last = match check().await {
            Ok(Check::Done(v)) => return Ok(v),
            Ok(Check::NotYet(state)) => state,
            Err(e) => format!("error: {e:#}"),
        };
        if start.elapsed() >= timeout {
            bail!("timed out after {timeout:?} waiting for {what}; last state: {last}");
        }
        tokio::time::sleep(POLL).await;
    }
}

/// Wait until the object `name` exists and `ready` returns `Ok(())` for it; `ready` returns
/// `Err(state)` describing why not yet.
pub async fn wait_for_object<K, F>(
    api: &Api<K>,
    name: &str,
    timeout: Duration,
    what: &str,
    ready: F,
) -> Result<K>
where
    K: kube::Resource + Clone + DeserializeOwned + std::fmt::Debug,
    F: Fn(&K) -> std::result::Result<(), String>,
{
    wait_until(what, timeout, || async {
        Ok(match api.get_opt(name).await? {
            None => Check::NotYet(format!("{name} does not exist")),
            Some(obj) => match ready(&obj) {
                Ok(()) => Check::Done(obj),
                Err(state) => Check::NotYet(state),
            },
        })
    })
    .await
}

/// Wait until a Deployment has rolled out its current template completely: observed
/// generation current, all replicas updated, available and no old replicas left (what
/// `kubectl rollout status` checks).
pub async fn deployment_rolled_out(
    client: &kube::Client,
    namespace: &str,
    name: &str,
    timeout: Duration,
) -> Result<k8s_openapi::api::apps::v1::Deployment> {
    use k8s_openapi::api::apps::v1::Deployment;
    let api: Api<Deployment> = Api::namespaced(client.clone(), namespace);
    let what = format!("deployment {namespace}/{name} rolled out");
    wait_for_object(&api, name, timeout, &what, |d: &Deployment| {
        let want = d.spec.replicas.unwrap_or(1);
        let gen_ = d.metadata.generation.unwrap_or(0);
        let st = d.status.clone().unwrap_or_default();
        let state = format!(
            "generation {gen_} observed {:?}, replicas {:?} updated {:?} available {:?} (want {want})",
            st.observed_generation, st.replicas, st.updated_replicas, st.available_replicas
        );
        let done = st.observed_generation.unwrap_or(0) >= gen_
            && st.updated_replicas.unwrap_or(0) == want
            && st.replicas.unwrap_or(0) == want
            && st.available_replicas.unwrap_or(0) == want;
        if done { Ok(()) } else { Err(state) }
    })
    .await
}
