#![cfg(feature = "e2e")]
//! The live watch source against the real test clusters (tests/env): objects applied to
//! clusters `a` and `b` appear as releases with the phase, step and weights their controllers
//! report; deletes remove them; a read-only identity still watches; a partitioned cluster is
//! marked within 15 s while the other keeps updating, and recovers.
//!
//! Everything this suite creates lives in namespaces named `kw-…` and is deleted at the end.
//! Run with the environment up: `cargo test --features e2e --test e2e_kube_watch`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use jiff::Timestamp;
use k8s_openapi::api::apps::v1::Deployment;
use kube::api::{Api, DeleteParams, DynamicObject, Patch, PatchParams};
use kube::core::GroupVersionKind;
use serde_json::json;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use shipdeck::app::{self, Pump};
use shipdeck::core::model::{Cluster, Connection, Phase, Release, ReleaseKey, ReleaseKind};
use shipdeck::core::msg::Msg;
use shipdeck::core::state::{Settings, State};
use shipdeck::source::kube::{ClusterHandle, spawn_cluster};
use support::TestEnv;
use support::apply::{NamespaceCleanup, apply_yaml, dynamic_api, ensure_namespace};
use support::env::unique_name;
use support::manifests::{self, Analysis, Canary, PAUSE_THEN_10S, Rollout, Step};
use support::proxy::{FaultProxy, Mode};
use support::wait::{Check, wait_until};

const TIMEOUT: Duration = Duration::from_secs(90);

/// The core fed by live cluster sources, as the console runs it (minus the terminal).
struct Console {
    state: Arc<Mutex<State>>,
    _clusters: Vec<ClusterHandle>,
    pump: JoinHandle<()>,
}

impl Console {
    fn start(clusters: Vec<(&str, kube::Client)>) -> Console {
        // The sources log with tracing; show it with the test's output.
        let _ = tracing_subscriber::fmt()
            .with_env_filter("shipdeck=info")
            .with_test_writer()
            .try_init();
        let names = clusters.iter().map(|(n, _)| Cluster::new(*n)).collect();
        let state = Arc::new(Mutex::new(State::new(
            Timestamp::now(),
            Settings::default(),
            names,
            Vec::new(),
        )));
        let (tx, rx) = mpsc::channel::<Msg>(1024);
        let handles = clusters
            .into_iter()
            .map(|(name, client)| spawn_cluster(name.to_string(), client, tx.clone()))
            .collect();
        let pump = app::spawn_shared(state.clone(), rx, Duration::from_millis(250));
        Console {
            state,
            _clusters: handles,
            pump,
        }
    }

    fn connection(&self, cluster: &str) -> Connection {
        self.state
            .lock()
            .unwrap()
            .cluster(cluster)
            .unwrap()
            .connection
            .clone()
    }

    /// Wait until `check` sees what it wants in the console's state.
    async fn wait<T>(
        &self,
        what: &str,
        timeout: Duration,
        check: impl Fn(&State) -> std::result::Result<T, String>,
    ) -> Result<T> {
        wait_until(what, timeout, || async {
            let s = self.state.lock().unwrap();
            Ok(match check(&s) {
                Ok(v) => Check::Done(v),
                Err(state) => Check::NotYet(state),
            })
        })
        .await
    }

    async fn wait_release(
        &self,
        what: &str,
        key: (&str, ReleaseKind, &str, &str),
        done: impl Fn(&Release) -> bool,
    ) -> Result<Release> {
        let (cluster, kind, ns, name) = key;
        let key = ReleaseKey {
            cluster: cluster.into(),
            kind,
            namespace: ns.into(),
            name: name.into(),
        };
        self.wait(what, TIMEOUT, |s| match s.releases.get(&key) {
            Some(r) if done(r) => Ok(r.clone()),
            Some(r) => Err(format!(
                "{:?} {:?} step {:?} weight {:?}/{:?}",
                r.phase, r.message, r.step, r.set_weight, r.actual_weight
            )),
            None => Err(format!("no release {key}")),
        })
        .await
    }

    async fn wait_connection(
        &self,
        cluster: &str,
        timeout: Duration,
        want: impl Fn(&Connection) -> bool,
    ) -> Result<Duration> {
        let started = Instant::now();
        self.wait(&format!("cluster {cluster} connection"), timeout, |s| {
            let c = &s.cluster(cluster).unwrap().connection;
            if want(c) {
                Ok(())
            } else {
                Err(format!("{c:?}"))
            }
        })
        .await?;
        Ok(started.elapsed())
    }
}

impl Drop for Console {
    fn drop(&mut self) {
        self.pump.abort();
    }
}

/// This suite's Rollout: labelled with its service, one promote, then a 10 s pause.
fn rollout(name: &str, image: &str) -> Rollout {
    Rollout::canary(name, image)
        .steps(PAUSE_THEN_10S)
        .service_label()
}

fn rollout_yaml(name: &str, image: &str) -> String {
    rollout(name, image).yaml()
}

fn deployment_yaml(name: &str, image: &str, replicas: u32) -> String {
    manifests::Deployment::new(name, image)
        .replicas(replicas)
        .yaml()
}

fn rollouts(
    client: &kube::Client,
    ns: &str,
) -> impl std::future::Future<Output = Result<Api<DynamicObject>>> {
    let gvk = GroupVersionKind::gvk("argoproj.io", "v1alpha1", "Rollout");
    let client = client.clone();
    let ns = ns.to_string();
    async move { dynamic_api(&client, &gvk, Some(&ns)).await }
}

async fn namespace(cluster: &str) -> Result<(kube::Client, String, NamespaceCleanup)> {
    let context = format!("{cluster}-admin");
    let client = TestEnv::get()?.client(&context).await?;
    let ns = unique_name("kw");
    ensure_namespace(&client, &ns).await?;
    let cleanup = NamespaceCleanup::new(&context, &ns);
    Ok((client, ns, cleanup))
}

#[tokio::test]
async fn releases_on_both_clusters_match_what_the_controllers_report() -> Result<()> {
    let env = TestEnv::get()?;
    let (a, ns_a, _gone_a) = namespace("a").await?;
    let (b, ns_b, _gone_b) = namespace("b").await?;
    let console = Console::start(vec![
        ("a", env.client("a-oncall").await?),
        ("b", env.client("b-oncall").await?),
    ]);

    // a: a canary Rollout, first revision straight to healthy, second paused at step 1.
    apply_yaml(
        &a,
        Some(&ns_a),
        &rollout_yaml("shop", "example.test/shop:1"),
    )
    .await?;
    let healthy = console
        .wait_release(
            "rollout healthy",
            ("a", ReleaseKind::Rollout, &ns_a, "shop"),
            |r| r.phase == Phase::Healthy,
        )
        .await?;
    assert_eq!(healthy.set_weight, Some(100));
    apply_yaml(
        &a,
        Some(&ns_a),
        &rollout_yaml("shop", "example.test/shop:2"),
    )
    .await?;
    let paused = console
        .wait_release(
            "rollout paused at step 1",
            ("a", ReleaseKind::Rollout, &ns_a, "shop"),
            |r| r.phase == Phase::Paused && r.step == Some((1, 4)),
        )
        .await?;
    // Compare with the object as the controller wrote it.
    let obj = rollouts(&a, &ns_a).await?.get("shop").await?;
    let status = &obj.data["status"];
    assert_eq!(status["phase"], "Paused");
    assert_eq!(status["currentStepIndex"], 1);
    assert_eq!(paused.set_weight, Some(20));
    assert_eq!(paused.actual_weight, Some(20), "1 of 5 pods is canary");
    assert_eq!(
        paused.revisions.len(),
        2,
        "stable and canary ReplicaSets linked"
    );
    assert_eq!(paused.images, vec!["example.test/shop:2"]);

    // b: a Deployment rolled out, then a Flagger canary initialised over another one.
    apply_yaml(
        &b,
        Some(&ns_b),
        &deployment_yaml("web", "example.test/web:1", 3),
    )
    .await?;
    let web = console
        .wait_release(
            "deployment available",
            ("b", ReleaseKind::Deployment, &ns_b, "web"),
            |r| r.phase == Phase::Healthy && r.replicas == (3, 3),
        )
        .await?;
    let d: Deployment = Api::namespaced(b.clone(), &ns_b).get("web").await?;
    assert_eq!(
        web.facts.current_revision,
        d.metadata
            .annotations
            .as_ref()
            .and_then(|a| a.get("deployment.kubernetes.io/revision"))
            .and_then(|v| v.parse().ok())
    );
    apply_yaml(
        &b,
        Some(&ns_b),
        &deployment_yaml("podinfo", "example.test/podinfo:1", 2),
    )
    .await?;
    apply_yaml(
        &b,
        Some(&ns_b),
        &Canary::over("podinfo")
            .analysis(Analysis::Weights { max: 50, step: 10 })
            .yaml(),
    )
    .await?;
    let canary = console
        .wait_release(
            "canary initialised",
            ("b", ReleaseKind::Canary, &ns_b, "podinfo"),
            |r| r.facts.flagger_phase == "Initialized",
        )
        .await?;
    assert_eq!(canary.phase, Phase::Healthy);
    assert_eq!(canary.step, Some((0, 5)));

    for c in ["a", "b"] {
        assert_eq!(console.connection(c), Connection::Connected, "cluster {c}");
        let s = console.state.lock().unwrap();
        let cluster = s.cluster(c).unwrap();
        assert!(
            cluster
                .server_version
                .as_deref()
                .is_some_and(|v| v.starts_with("v1."))
        );
        assert!(
            cluster.forbidden_kinds.is_empty(),
            "{:?}",
            cluster.forbidden_kinds
        );
    }
    Ok(())
}

#[tokio::test]
async fn deleting_an_object_removes_its_release() -> Result<()> {
    let env = TestEnv::get()?;
    let (a, ns, _gone_a) = namespace("a").await?;
    let console = Console::start(vec![("a", env.client("a-oncall").await?)]);
    apply_yaml(
        &a,
        Some(&ns),
        &deployment_yaml("gone", "example.test/gone:1", 1),
    )
    .await?;
    console
        .wait_release(
            "deployment appears",
            ("a", ReleaseKind::Deployment, &ns, "gone"),
            |_| true,
        )
        .await?;
    Api::<Deployment>::namespaced(a.clone(), &ns)
        .delete("gone", &DeleteParams::default())
        .await?;
    console
        .wait("release removed", TIMEOUT, |s| {
            let gone = !s
                .releases
                .keys()
                .any(|k| k.namespace == ns && k.name == "gone");
            if gone {
                Ok(())
            } else {
                Err("still listed".into())
            }
        })
        .await?;
    Ok(())
}

#[tokio::test]
async fn a_read_only_identity_still_watches() -> Result<()> {
    let env = TestEnv::get()?;
    let (a, ns, _gone_a) = namespace("a").await?;
    let console = Console::start(vec![("a", env.client("a-viewer").await?)]);
    apply_yaml(
        &a,
        Some(&ns),
        &rollout_yaml("viewed", "example.test/viewed:1"),
    )
    .await?;
    console
        .wait_release(
            "rollout seen by the viewer",
            ("a", ReleaseKind::Rollout, &ns, "viewed"),
            |r| r.phase == Phase::Healthy,
        )
        .await?;
    assert_eq!(console.connection("a"), Connection::Connected);
    let forbidden = console
        .state
        .lock()
        .unwrap()
        .cluster("a")
        .unwrap()
        .forbidden_kinds
        .clone();
    assert!(forbidden.is_empty(), "{forbidden:?}");
    Ok(())
}

#[tokio::test]
async fn clusters_unreachable_at_start_are_marked_within_5s() -> Result<()> {
    let env = TestEnv::get()?;
    // Refused (nothing listens on port 1), unresolvable, and blackholed from the start.
    let refused = env.client_via("a-oncall", "https://127.0.0.1:1").await?;
    let dns = env
        .client_via("a-oncall", "https://no-such-apiserver.invalid:6443")
        .await?;
    let proxy = FaultProxy::start(env.apiserver_addr("a")?).await?;
    proxy.set_mode(Mode::Blackhole);
    let blackholed = env.client_via("a-oncall", &proxy.url()).await?;
    let started = Instant::now();
    let console = Console::start(vec![
        ("refused", refused),
        ("dns", dns),
        ("blackholed", blackholed),
        ("a", env.client("a-oncall").await?),
    ]);
    for c in ["refused", "dns", "blackholed"] {
        console
            .wait_connection(
                c,
                Duration::from_secs(5).saturating_sub(started.elapsed()),
                |c| matches!(c, Connection::Unreachable { .. }),
            )
            .await
            .with_context(|| format!("{c} marked unreachable within 5 s"))?;
        eprintln!("[figure] {c}: unreachable after {:?}", started.elapsed());
    }
    console
        .wait_connection("a", Duration::from_secs(10), |c| {
            *c == Connection::Connected
        })
        .await
        .context("the healthy cluster is unaffected")?;
    Ok(())
}

#[tokio::test]
async fn a_partitioned_cluster_is_marked_within_15s_and_recovers() -> Result<()> {
    let env = TestEnv::get()?;
    let proxy = FaultProxy::start(env.apiserver_addr("a")?).await?;
    let (a, ns_a, _gone_a) = namespace("a").await?;
    let (b, ns_b, _gone_b) = namespace("b").await?;
    apply_yaml(
        &a,
        Some(&ns_a),
        &deployment_yaml("before", "example.test/x:1", 1),
    )
    .await?;
    apply_yaml(
        &b,
        Some(&ns_b),
        &deployment_yaml("steady", "example.test/y:1", 1),
    )
    .await?;
    let console = Console::start(vec![
        ("a", env.client_via("a-oncall", &proxy.url()).await?),
        ("b", env.client("b-oncall").await?),
    ]);
    for c in ["a", "b"] {
        console
            .wait_connection(c, TIMEOUT, |c| *c == Connection::Connected)
            .await?;
    }
    console
        .wait_release(
            "a's deployment listed",
            ("a", ReleaseKind::Deployment, &ns_a, "before"),
            |_| true,
        )
        .await?;

    // Partition a: no FIN, no RST — packets just stop.
    proxy.set_mode(Mode::Blackhole);
    let cut = Instant::now();
    let marked = console
        .wait_connection("a", Duration::from_secs(15), |c| {
            matches!(c, Connection::Unreachable { .. } | Connection::Stale { .. })
        })
        .await
        .context("partitioned cluster marked within 15 s")?;
    eprintln!(
        "[figure] blackholed cluster marked {:?} after {marked:?}",
        console.connection("a")
    );

    // b keeps updating meanwhile.
    let t = Instant::now();
    apply_yaml(
        &b,
        Some(&ns_b),
        &deployment_yaml("during", "example.test/y:2", 1),
    )
    .await?;
    console
        .wait_release(
            "b updates during a's partition",
            ("b", ReleaseKind::Deployment, &ns_b, "during"),
            |_| true,
        )
        .await?;
    eprintln!(
        "[figure] other cluster's new object applied and shown after {:?}",
        t.elapsed()
    );
    assert_eq!(console.connection("b"), Connection::Connected);

    // While a is cut off, its objects change: one deleted, one added.
    Api::<Deployment>::namespaced(a.clone(), &ns_a)
        .delete("before", &DeleteParams::default())
        .await?;
    apply_yaml(
        &a,
        Some(&ns_a),
        &deployment_yaml("after", "example.test/x:2", 1),
    )
    .await?;
    tokio::time::sleep(Duration::from_secs(2)).await;

    // Heal: connected again well within 35 s, and the relist shows exactly the new state.
    proxy.set_mode(Mode::Pass);
    let healed = Instant::now();
    let back = console
        .wait_connection("a", Duration::from_secs(35), |c| {
            *c == Connection::Connected
        })
        .await
        .context("reconnect within 35 s")?;
    console
        .wait(
            "a relisted after the partition",
            Duration::from_secs(35),
            |s| {
                let names: Vec<&str> = s
                    .releases
                    .keys()
                    .filter(|k| k.cluster == "a" && k.namespace == ns_a)
                    .map(|k| k.name.as_str())
                    .collect();
                if names == ["after"] {
                    Ok(())
                } else {
                    Err(format!("{names:?}"))
                }
            },
        )
        .await?;
    eprintln!(
        "[figure] partition healed: connected after {back:?}, relisted after {:?} (cut for {:?})",
        healed.elapsed(),
        healed.duration_since(cut)
    );
    Ok(())
}

#[tokio::test]
async fn a_promoted_rollout_moves_on_in_the_console() -> Result<()> {
    let env = TestEnv::get()?;
    let (a, ns, _gone_a) = namespace("a").await?;
    let console = Console::start(vec![("a", env.client("a-oncall").await?)]);
    let key = ("a", ReleaseKind::Rollout, ns.as_str(), "steps");
    apply_yaml(
        &a,
        Some(&ns),
        &rollout_yaml("steps", "example.test/steps:1"),
    )
    .await?;
    console
        .wait_release("first revision healthy", key, |r| r.phase == Phase::Healthy)
        .await?;
    apply_yaml(
        &a,
        Some(&ns),
        &rollout_yaml("steps", "example.test/steps:2"),
    )
    .await?;
    console
        .wait_release("paused at step 1", key, |r| {
            r.phase == Phase::Paused && r.step == Some((1, 4))
        })
        .await?;
    // Let the controller finish writing the pause (promoting within the same second can leave
    // `controllerPause` set with no pause condition, which Argo never resumes from).
    tokio::time::sleep(Duration::from_secs(3)).await;
    // Promote with the patch the console's action would send (actions.md), as on-call.
    rollouts(&env.client("a-oncall").await?, &ns)
        .await?
        .patch_status(
            "steps",
            &PatchParams::default(),
            &Patch::Merge(json!({"status": {"pauseConditions": null}})),
        )
        .await?;
    let timed = console
        .wait_release("timed pause at step 3", key, |r| {
            r.step == Some((3, 4)) && r.pause.is_some()
        })
        .await;
    let status = rollouts(&a, &ns).await?.get("steps").await?.data["status"].clone();
    let timed = timed.with_context(|| format!("the Rollout's status: {status}"))?;
    assert_eq!(timed.set_weight, Some(50));
    assert_eq!(
        timed.pause.as_ref().and_then(|p| p.duration),
        Some(jiff::SignedDuration::from_secs(10))
    );
    let done = console
        .wait_release("fully promoted", key, |r| {
            r.phase == Phase::Healthy && r.step == Some((4, 4))
        })
        .await?;
    if done.set_weight != Some(100) || !done.facts.fully_promoted {
        bail!("not fully promoted: {done:?}");
    }
    Ok(())
}

#[tokio::test]
async fn doctor_tells_oncall_from_viewer() -> Result<()> {
    use shipdeck::doctor::{Access, Presence, check_cluster};
    let env = TestEnv::get()?;
    let (a, ns, _gone_a) = namespace("a").await?;
    apply_yaml(&a, Some(&ns), &rollout_yaml("doc", "example.test/doc:1")).await?;
    // The report lists namespaces with releases: wait until the Rollout is there to be listed.
    tokio::time::sleep(Duration::from_secs(1)).await;

    let action = |r: &shipdeck::doctor::ClusterReport, resource: &str| {
        r.actions
            .iter()
            .find(|a| a.resource == resource)
            .cloned()
            .unwrap()
    };
    let oncall = check_cluster("a", "a-oncall", &env.client("a-oncall").await?).await;
    println!("{oncall}");
    assert!(
        oncall
            .reachable
            .as_ref()
            .is_ok_and(|v| v.starts_with("v1."))
    );
    assert!(oncall.problems().is_empty(), "{:?}", oncall.problems());
    assert!(
        oncall
            .identity
            .as_ref()
            .unwrap()
            .raw()
            .contains("shipdeck:oncall")
    );
    // Every CRD the environment installs is found; HelmRelease's is not installed (there is
    // no helm-controller here), and doctor says so.
    for (crd, presence) in &oncall.crds {
        let want = if crd.starts_with("helmreleases.") {
            Presence::Absent
        } else {
            Presence::Present
        };
        assert_eq!(*presence, want, "{crd}: {:?}", oncall.crds);
    }
    assert!(
        oncall.watch.iter().all(|(_, a)| *a == Access::Allowed),
        "{:?}",
        oncall.watch
    );
    assert!(oncall.namespaces_with_releases.contains(&ns));
    // The reads made when something is shown are checked too, as the adapters make them.
    let reads: Vec<String> = oncall
        .reads
        .iter()
        .map(|r| format!("{} {}", r.verb, r.resource))
        .collect();
    for read in [
        "get analysisruns",
        "get gitrepositories",
        "get ocirepositories",
        "list pods",
        "watch pods",
        "get pods/log",
    ] {
        assert!(reads.iter().any(|r| r == read), "{read}: {reads:?}");
    }
    assert!(
        oncall
            .reads
            .iter()
            .all(|r| r.cluster_wide == Access::Allowed),
        "{:?}",
        oncall.reads
    );
    for resource in [
        "deployments",
        "rollouts",
        "rollouts/status",
        "canaries",
        "services/proxy",
    ] {
        let a = action(&oncall, resource);
        assert_eq!(a.cluster_wide, Access::Allowed, "oncall {resource}");
        assert!(
            a.namespaces
                .iter()
                .any(|(n, acc)| *n == ns && *acc == Access::Allowed)
        );
    }

    let viewer = check_cluster("a", "a-viewer", &env.client("a-viewer").await?).await;
    println!("{viewer}");
    assert!(
        viewer.problems().is_empty(),
        "a read-only identity is not a problem"
    );
    assert!(viewer.watch.iter().all(|(_, a)| *a == Access::Allowed));
    for resource in ["deployments", "rollouts", "rollouts/status", "canaries"] {
        let a = action(&viewer, resource);
        assert_eq!(a.cluster_wide, Access::Denied, "viewer {resource}");
        assert!(a.namespaces.iter().all(|(_, acc)| *acc == Access::Denied));
    }

    // A cluster that is not there is a problem, and says so.
    let dead = check_cluster(
        "gone",
        "a-oncall",
        &env.client_via("a-oncall", "https://127.0.0.1:1").await?,
    )
    .await;
    assert_eq!(dead.problems().len(), 1, "{dead}");
    Ok(())
}

#[tokio::test]
async fn a_malformed_rollout_is_a_row_and_the_watch_goes_on() -> Result<()> {
    let env = TestEnv::get()?;
    let (a, ns, _gone_a) = namespace("a").await?;
    let console = Console::start(vec![("a", env.client("a-oncall").await?)]);
    // The CRD schema accepts a negative weight; shipdeck cannot read it as a weight.
    let bad = rollout("odd", "example.test/odd:1")
        .steps(&[
            Step::Weight(-5),
            Step::Pause,
            Step::Weight(50),
            Step::PauseFor("10s"),
        ])
        .yaml();
    apply_yaml(&a, Some(&ns), &bad).await?;
    let odd = console
        .wait_release(
            "malformed rollout shown",
            ("a", ReleaseKind::Rollout, &ns, "odd"),
            |r| r.phase == Phase::Unparseable,
        )
        .await?;
    assert!(odd.message.raw().contains("-5"), "{:?}", odd.message);
    // The same watch keeps delivering.
    apply_yaml(&a, Some(&ns), &rollout_yaml("fine", "example.test/fine:1")).await?;
    console
        .wait_release(
            "next rollout still arrives",
            ("a", ReleaseKind::Rollout, &ns, "fine"),
            |r| r.phase == Phase::Healthy,
        )
        .await?;
    Ok(())
}

#[tokio::test]
async fn a_kubectl_capture_reads_as_the_live_watch_does() -> Result<()> {
    let env = TestEnv::get()?;
    let (a, ns, _gone_a) = namespace("a").await?;
    let console = Console::start(vec![("a", env.client("a-viewer").await?)]);
    let key = ("a", ReleaseKind::Rollout, ns.as_str(), "captured");
    apply_yaml(&a, Some(&ns), &rollout_yaml("captured", "example.test/c:1")).await?;
    console
        .wait_release("first revision healthy", key, |r| r.phase == Phase::Healthy)
        .await?;
    apply_yaml(&a, Some(&ns), &rollout_yaml("captured", "example.test/c:2")).await?;
    let live = console
        .wait_release("paused at step 1", key, |r| {
            r.phase == Phase::Paused && r.step == Some((1, 4))
        })
        .await?;
    // Let the ReplicaSets settle so the capture and the live view see the same counts.
    tokio::time::sleep(Duration::from_secs(2)).await;

    let dir = tempfile::tempdir()?;
    let path = dir.path().join("a.yaml");
    let out = std::process::Command::new("kubectl")
        .env("KUBECONFIG", &env.kubeconfig)
        .args([
            "--context",
            "a-viewer",
            "-n",
            &ns,
            "get",
            "rollouts,replicasets,deployments",
            "-o",
            "yaml",
        ])
        .output()
        .context("running kubectl")?;
    if !out.status.success() {
        bail!(
            "kubectl get failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    std::fs::write(&path, &out.stdout)?;
    let capture = shipdeck::source::files::load(&[path])?;
    let mut offline = State::new(
        Timestamp::now(),
        Settings::default(),
        vec![Cluster::new("a")],
        Vec::new(),
    );
    Pump::headless().feed(&mut offline, capture.messages);
    let key = ReleaseKey {
        cluster: "a".into(),
        kind: ReleaseKind::Rollout,
        namespace: ns.clone(),
        name: "captured".into(),
    };
    let captured = offline.releases.get(&key).context("captured rollout")?;
    let live_now = console
        .state
        .lock()
        .unwrap()
        .releases
        .get(&key)
        .cloned()
        .context("live rollout")?;
    for (what, from_file, from_watch) in [
        (
            "phase",
            format!("{:?}", captured.phase),
            format!("{:?}", live_now.phase),
        ),
        (
            "step",
            format!("{:?}", captured.step),
            format!("{:?}", live_now.step),
        ),
        (
            "set weight",
            format!("{:?}", captured.set_weight),
            format!("{:?}", live_now.set_weight),
        ),
        (
            "actual weight",
            format!("{:?}", captured.actual_weight),
            format!("{:?}", live_now.actual_weight),
        ),
        (
            "revisions",
            format!("{}", captured.revisions.len()),
            format!("{}", live_now.revisions.len()),
        ),
    ] {
        assert_eq!(from_file, from_watch, "{what}: file vs live");
    }
    assert_eq!(live.step, Some((1, 4)));
    Ok(())
}
