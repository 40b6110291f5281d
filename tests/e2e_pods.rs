#![cfg(feature = "e2e")]
//! The pods screen and the detail's events against the real test cluster (tests/env): a
//! Rollout whose canary pod crash-loops (kwok runs the pods; the kubelet's part — the
//! container's CrashLoopBackOff, restarts and last termination, and its BackOff event — is
//! written through the API server as the kubelet would), then the console's path: the
//! cluster's watches, the message pump, Enter on the release and Enter on its canary
//! ReplicaSet, the executor reading as the on-call identity. The pods shown must equal
//! `kubectl get pods`, the events `kubectl get events --field-selector`, and the pods watch
//! must be gone after Escape. Works in its own `pods-…` namespace and deletes it.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use serde_json::{Value, json};
use shipdeck::action::Executor;
use shipdeck::action::executor::ActionTarget;
use shipdeck::app::{Pump, dispatch};
use shipdeck::core::kinds::ReleaseKind;
use shipdeck::core::model::{Cluster, ReleaseKey, RsRole};
use shipdeck::core::msg::{Key, Msg};
use shipdeck::core::state::{Screen, Settings, State};
use shipdeck::source::kube::spawn_cluster;
use tokio::sync::mpsc;
use tokio::time::Instant;

use support::TestEnv;
use support::apply::{NamespaceCleanup, apply_value, ensure_namespace};
use support::env::unique_name;
use support::kubectl::Kubectl;
use support::manifests::Rollout;

const TIMEOUT: Duration = Duration::from_secs(90);

/// The console's loop without a terminal: messages through the pump, effects to the
/// executor, until `done` holds.
struct Console {
    state: State,
    rx: mpsc::Receiver<Msg>,
    executor: Executor,
    pump: Pump,
}

impl Console {
    async fn until(&mut self, what: &str, done: impl Fn(&State) -> bool) -> Result<()> {
        let deadline = Instant::now() + TIMEOUT;
        while !done(&self.state) {
            let msg = tokio::time::timeout_at(deadline, self.rx.recv())
                .await
                .with_context(|| format!("waiting for {what}"))?
                .context("the sources stopped")?;
            let effects = self.pump.feed(&mut self.state, [msg]);
            dispatch(&self.executor, effects);
        }
        Ok(())
    }

    fn key(&mut self, key: Key) {
        let effects = self.pump.feed(&mut self.state, [Msg::Key(key)]);
        dispatch(&self.executor, effects);
    }
}

/// What the kubelet writes for a container that crashed `restarts` times and backs off.
fn crash_status(pod: &Value, restarts: u32) -> Value {
    let image = pod["spec"]["containers"][0]["image"].clone();
    let name = pod["spec"]["containers"][0]["name"].clone();
    json!({"status": {"containerStatuses": [{
        "name": name, "image": image, "imageID": "", "ready": false, "started": false,
        "restartCount": restarts,
        "state": {"waiting": {"reason": "CrashLoopBackOff",
            "message": format!("back-off 2m40s restarting failed container={} pod={}",
                name.as_str().unwrap_or_default(), pod["metadata"]["name"].as_str().unwrap_or_default())}},
        "lastState": {"terminated": {"reason": "Error", "exitCode": 1,
            "startedAt": "2026-01-01T00:00:00Z", "finishedAt": "2026-01-01T00:00:05Z"}}
    }]}})
}

async fn json_of(k: &Kubectl, args: &[&str]) -> Result<Value> {
    let ran = k.run(args).await?;
    if ran.code != 0 {
        bail!("kubectl {args:?}: {}", ran.stderr);
    }
    Ok(serde_json::from_str(&ran.stdout)?)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn canary_pods_and_events_equal_kubectl_and_the_watch_ends_on_escape() -> Result<()> {
    let env = TestEnv::get()?;
    let cluster = "a";
    let admin = env.client(&format!("{cluster}-admin")).await?;
    let ns = unique_name("pods");
    ensure_namespace(&admin, &ns).await?;
    let _cleanup = NamespaceCleanup::new(&format!("{cluster}-admin"), &ns);
    let kubectl = Kubectl::new(env, &format!("{cluster}-admin"))?;
    let name = "crashy";
    let rollout = |image: &str| Rollout::canary(name, image).replicas(2).value();
    apply_value(&admin, Some(&ns), rollout("example.test/crashy:1")).await?;

    // The console: the cluster's watches and the on-call identity's reads.
    let (tx, rx) = mpsc::channel(4096);
    let watch_client = env.client(&format!("{cluster}-oncall")).await?;
    let _source = spawn_cluster(cluster.to_string(), watch_client, tx.clone());
    let mut config = env.config(&format!("{cluster}-oncall")).await?;
    shipdeck::action::kube::target::no_retries(&mut config);
    let oncall =
        shipdeck::action::kube::KubeTarget::new(shipdeck::source::kube::connect::client(config)?);
    let mut targets: HashMap<String, Arc<dyn ActionTarget>> = HashMap::new();
    targets.insert(cluster.into(), Arc::new(oncall));
    let executor = Executor::new(targets, None, tx);
    let state = State::new(
        jiff::Timestamp::now(),
        Settings::default(),
        vec![Cluster::new(cluster)],
        vec![],
    );
    let mut c = Console {
        state,
        rx,
        executor,
        pump: Pump::headless(),
    };
    let key = ReleaseKey {
        cluster: cluster.into(),
        kind: ReleaseKind::Rollout,
        namespace: ns.clone(),
        name: name.into(),
    };
    c.until("v1 stable", |s| {
        s.releases
            .get(&key)
            .is_some_and(|r| r.revisions.len() == 1 && r.revisions[0].ready == 2)
    })
    .await?;
    apply_value(&admin, Some(&ns), rollout("example.test/crashy:2")).await?;
    c.until("a canary ReplicaSet", |s| {
        s.releases.get(&key).is_some_and(|r| {
            r.revisions
                .iter()
                .any(|v| v.role == RsRole::Canary && v.desired >= 1)
        })
    })
    .await?;
    let canary = c.state.releases[&key]
        .revisions
        .iter()
        .find(|v| v.role == RsRole::Canary)
        .unwrap()
        .name
        .clone();
    let hash = canary.rsplit_once('-').unwrap().1.to_string();
    let selector = format!("rollouts-pod-template-hash={hash}");

    // The canary pod exists and is running (kwok); then it crash-loops.
    let pod = support::wait::wait_until("the canary pod running", TIMEOUT, || async {
        let pods = json_of(
            &kubectl,
            &["-n", &ns, "get", "pods", "-l", &selector, "-o", "json"],
        )
        .await?;
        let running = pods["items"].as_array().and_then(|items| {
            items
                .iter()
                .find(|p| p["status"]["podIP"].is_string())
                .cloned()
        });
        Ok(match running {
            Some(p) => support::wait::Check::Done(p),
            None => support::wait::Check::NotYet(format!("{}", pods["items"])),
        })
    })
    .await?;
    let pod_name = pod["metadata"]["name"].as_str().unwrap().to_string();
    let body = crash_status(&pod, 4).to_string();
    let ran = kubectl
        .run(&[
            "-n",
            &ns,
            "patch",
            "pod",
            &pod_name,
            "--subresource=status",
            "--type=merge",
            "-p",
            &body,
        ])
        .await?;
    assert_eq!(ran.code, 0, "{}", ran.stderr);
    let pod_uid = pod["metadata"]["uid"].as_str().unwrap().to_string();
    let event = json!({
        "apiVersion": "v1", "kind": "Event",
        "metadata": {"name": format!("{pod_name}.backoff"), "namespace": ns},
        "involvedObject": {"kind": "Pod", "name": pod_name, "namespace": ns, "uid": pod_uid,
            "apiVersion": "v1"},
        "type": "Warning", "reason": "BackOff", "count": 7,
        "message": "Back-off restarting failed container crashy",
        "source": {"component": "kubelet"},
        "firstTimestamp": "2026-01-01T00:00:00Z", "lastTimestamp": "2026-01-01T00:00:05Z"
    });
    apply_value(&admin, Some(&ns), event).await?;

    // Enter on the release: its detail lists the events of it, its ReplicaSets and pods.
    c.until("the release in the table", |s| s.view.order.contains(&key))
        .await?;
    c.state.view.selected = c.state.view.order.iter().position(|k| *k == key).unwrap();
    c.key(Key::Enter);
    assert_eq!(c.state.view.screen, Screen::Detail);
    c.until("the events listed", |s| {
        s.view
            .events
            .as_ref()
            .is_some_and(|e| e.listed || e.error.is_some())
    })
    .await?;
    let ev = c.state.view.events.clone().unwrap();
    assert!(ev.error.is_none(), "{:?}", ev.error);
    let shown = |object: &str| -> BTreeMap<(String, String), u32> {
        ev.events
            .iter()
            .filter(|e| e.object_name == object)
            .map(|e| ((e.type_.clone(), e.reason.raw().to_string()), e.count))
            .collect()
    };
    for object in [pod_name.as_str(), canary.as_str(), name] {
        let field = format!("involvedObject.name={object}");
        let listed = json_of(
            &kubectl,
            &[
                "-n",
                &ns,
                "get",
                "events",
                "--field-selector",
                &field,
                "-o",
                "json",
            ],
        )
        .await?;
        let want: BTreeMap<(String, String), u32> = listed["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| {
                let k = (
                    e["type"].as_str().unwrap_or_default().to_string(),
                    e["reason"].as_str().unwrap_or_default().to_string(),
                );
                (k, e["count"].as_u64().unwrap_or(1).max(1) as u32)
            })
            .collect();
        // Events keep coming (the controller scales): everything listed when the detail
        // opened is still listed by kubectl, with a count no smaller.
        let got = shown(object);
        println!("events of {object}: console {got:?} · kubectl {want:?}");
        for (k, n) in &got {
            let w = want
                .get(k)
                .with_context(|| format!("{object}: {k:?} not in kubectl's list"))?;
            assert!(w >= n, "{object} {k:?}: kubectl {w}, console {n}");
        }
        if object == pod_name {
            // Nothing else happens to the pod now: the lists are equal.
            assert_eq!(got, want, "{object}");
            assert_eq!(got.get(&("Warning".into(), "BackOff".into())), Some(&7));
            assert!(
                got.keys().any(|(t, _)| t == "Normal"),
                "Normal events too: {got:?}"
            );
        }
    }
    let newest: Vec<_> = ev.events.iter().map(|e| e.last_seen).collect();
    assert!(newest.windows(2).all(|w| w[0] >= w[1]), "newest first");

    // Enter on the canary ReplicaSet: its pods, as kubectl lists them.
    assert_eq!(
        c.executor.pod_watches(),
        0,
        "no pods watch in the steady state"
    );
    c.key(Key::Enter);
    assert_eq!(c.state.view.screen, Screen::Pods);
    assert_eq!(c.state.view.pods.as_ref().unwrap().query.selector, selector);
    c.until("the crash-looping pod on the pods screen", |s| {
        s.view.pods.as_ref().is_some_and(|p| {
            p.pods
                .iter()
                .any(|x| x.name == pod_name && x.status() == "CrashLoopBackOff")
        })
    })
    .await?;
    assert_eq!(
        c.executor.pod_watches(),
        1,
        "one selector-scoped watch while open"
    );
    let listed = json_of(
        &kubectl,
        &["-n", &ns, "get", "pods", "-l", &selector, "-o", "json"],
    )
    .await?;
    let want: BTreeMap<String, (u64, String)> = listed["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            let cs = &p["status"]["containerStatuses"][0];
            let reason = cs["state"]["waiting"]["reason"].as_str().map_or_else(
                || {
                    p["status"]["phase"]
                        .as_str()
                        .unwrap_or_default()
                        .to_string()
                },
                str::to_string,
            );
            let n = cs["restartCount"].as_u64().unwrap_or(0);
            (
                p["metadata"]["name"].as_str().unwrap().to_string(),
                (n, reason),
            )
        })
        .collect();
    let p = c.state.view.pods.as_ref().unwrap();
    let got: BTreeMap<String, (u64, String)> = p
        .pods
        .iter()
        .map(|x| {
            (
                x.name.clone(),
                (u64::from(x.restarts()), x.status().to_string()),
            )
        })
        .collect();
    println!("pods: console {got:?} · kubectl {want:?}");
    assert_eq!(got, want);
    let crashing = p.pods.iter().find(|x| x.name == pod_name).unwrap();
    let last = crashing.last_termination().unwrap();
    assert_eq!((last.reason.raw(), last.exit_code), ("Error", 1));
    assert!(!crashing.node.is_empty(), "scheduled on a kwok node");
    let r = p.selected_ref().unwrap();
    assert_eq!(
        (r.cluster.as_str(), r.namespace.as_str()),
        (cluster, ns.as_str())
    );

    // Escape: back to the detail, and the watch's task is gone.
    c.key(Key::Esc);
    assert_eq!(c.state.view.screen, Screen::Detail);
    support::wait::wait_until("the pods watch to end", Duration::from_secs(10), || async {
        Ok(match c.executor.pod_watches() {
            0 => support::wait::Check::Done(()),
            n => support::wait::Check::NotYet(format!("{n} running")),
        })
    })
    .await?;
    println!("pods watches after Escape: {}", c.executor.pod_watches());
    Ok(())
}
