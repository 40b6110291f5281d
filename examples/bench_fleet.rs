//! The fleet of scripts/bench (issue 15): seeds, then churns, the namespace each kubeconfig
//! context is pinned to. Loopback test clusters only; the controllers of the bench environment
//! are stopped, so every object (and its status) is exactly what this program wrote.
//!
//! ```text
//! bench_fleet seed  --contexts bench-00,... [--rollouts 10] [--deployments 2] [--revisions 2]
//!                   [--canaries 1] [--events 10] [--concurrency 48]
//! bench_fleet churn --contexts bench-00,... [--rate 20] [--rollouts 10] [--deployments 2]
//!                   [--revisions 2]
//! ```
//! seed: per namespace, Rollouts `ro-NNN` (canary, status written with a phase), Deployments
//! `dep-NNN`, `--revisions` ReplicaSets per workload (owned by it, revision annotations, the
//! last one current), Flagger Canaries `cn-NNN` over the first Deployments, and Events about the
//! Rollouts. Prints the object count and how long the seeding took.
//!
//! churn: `--rate` updates/s per context (one context = one simulated cluster), round-robin:
//! a Rollout's status phase (Healthy → Progressing → Paused → Degraded → Healthy: phases
//! change), a Deployment's annotation, a ReplicaSet's annotation (ReplicaSet churn), in the
//! ratio 2:1:1. Prints "churning" once it starts and its achieved rate on SIGINT.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use futures::StreamExt;
use kube::Client;
use kube::api::{Api, DynamicObject, Patch, PatchParams, PostParams};
use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::core::{ApiResource, GroupVersionKind};
use serde_json::{Value, json};

struct Args {
    mode: String,
    contexts: Vec<String>,
    rollouts: usize,
    deployments: usize,
    revisions: usize,
    canaries: usize,
    events: usize,
    concurrency: usize,
    rate: f64,
}

fn args() -> Result<Args> {
    let mut it = std::env::args().skip(1);
    let mode = it
        .next()
        .context("usage: bench_fleet seed|churn --contexts ...")?;
    let mut a = Args {
        mode,
        contexts: Vec::new(),
        rollouts: 10,
        deployments: 2,
        revisions: 2,
        canaries: 1,
        events: 10,
        concurrency: 48,
        rate: 20.0,
    };
    while let Some(flag) = it.next() {
        let v = it.next().with_context(|| format!("{flag} needs a value"))?;
        match flag.as_str() {
            "--contexts" => a.contexts = v.split(',').map(str::to_owned).collect(),
            "--rollouts" => a.rollouts = v.parse()?,
            "--deployments" => a.deployments = v.parse()?,
            "--revisions" => a.revisions = v.parse()?,
            "--canaries" => a.canaries = v.parse()?,
            "--events" => a.events = v.parse()?,
            "--concurrency" => a.concurrency = v.parse()?,
            "--rate" => a.rate = v.parse()?,
            other => bail!("unknown flag {other}"),
        }
    }
    if a.contexts.is_empty() || a.revisions == 0 || a.concurrency == 0 || a.rate <= 0.0 {
        bail!("--contexts, and positive --revisions, --concurrency and --rate, are required");
    }
    if a.mode != "seed" && a.mode != "churn" {
        bail!("mode must be seed or churn, not {:?}", a.mode);
    }
    Ok(a)
}

/// A client for `context` and the namespace the context is pinned to.
async fn client(kubeconfig: &Kubeconfig, context: &str) -> Result<(Client, String)> {
    let options = KubeConfigOptions {
        context: Some(context.to_owned()),
        ..Default::default()
    };
    let config = kube::Config::from_custom_kubeconfig(kubeconfig.clone(), &options).await?;
    let host = config.cluster_url.host().unwrap_or("").to_owned();
    if host != "127.0.0.1" && host != "localhost" {
        bail!("{context}: {host} is not loopback; the bench only talks to 127.0.0.1");
    }
    let ns = config.default_namespace.clone();
    Ok((Client::try_from(config)?, ns))
}

fn ar(group: &str, version: &str, kind: &str, plural: &str) -> ApiResource {
    ApiResource::from_gvk_with_plural(&GroupVersionKind::gvk(group, version, kind), plural)
}

struct Kinds {
    rollout: ApiResource,
    deployment: ApiResource,
    replicaset: ApiResource,
    canary: ApiResource,
    event: ApiResource,
    namespace: ApiResource,
}

fn kinds() -> Kinds {
    Kinds {
        rollout: ar("argoproj.io", "v1alpha1", "Rollout", "rollouts"),
        deployment: ar("apps", "v1", "Deployment", "deployments"),
        replicaset: ar("apps", "v1", "ReplicaSet", "replicasets"),
        canary: ar("flagger.app", "v1beta1", "Canary", "canaries"),
        event: ar("", "v1", "Event", "events"),
        namespace: ar("", "v1", "Namespace", "namespaces"),
    }
}

const PHASES: [&str; 4] = ["Healthy", "Progressing", "Paused", "Degraded"];

fn hash(name: &str, rev: usize) -> String {
    // A stable 10-hex pod-template-hash per (workload, revision).
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in name.bytes().chain(rev.to_le_bytes()) {
        h = (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
    }
    format!("{:010x}", h & 0xff_ffff_ffff)
}

fn image(rev: usize) -> String {
    format!("registry.example.test/app:1.{rev}.0")
}

fn pod_template(app: &str, rev: usize) -> Value {
    json!({
        "metadata": {"labels": {"app": app}},
        "spec": {"containers": [{"name": "app", "image": image(rev)}]}
    })
}

fn rollout(name: &str, revisions: usize) -> Value {
    json!({
        "apiVersion": "argoproj.io/v1alpha1", "kind": "Rollout",
        "metadata": {"name": name, "labels": {"bench": "1"}},
        "spec": {
            "replicas": 0, "revisionHistoryLimit": revisions + 5,
            "selector": {"matchLabels": {"app": name}},
            "template": pod_template(name, revisions),
            "strategy": {"canary": {"steps": [{"setWeight": 20}, {"pause": {}}, {"setWeight": 60}, {"pause": {"duration": "10m"}}]}}
        }
    })
}

fn rollout_status(name: &str, revisions: usize, phase: &str) -> Value {
    let current = hash(name, revisions);
    let message = match phase {
        "Paused" => "CanaryPauseStep",
        "Degraded" => "RolloutAborted: bench churn",
        "Progressing" => "more replicas need to be updated",
        _ => "",
    };
    json!({"status": {
        "phase": phase, "message": message, "observedGeneration": "1",
        "currentPodHash": current, "stableRS": current, "currentStepIndex": 4,
        "replicas": 0, "updatedReplicas": 0, "readyReplicas": 0, "availableReplicas": 0,
        "conditions": [{"type": "Available", "status": "True", "reason": "AvailableReason", "message": "bench",
            "lastTransitionTime": "2026-12-01T00:00:00Z", "lastUpdateTime": "2026-12-01T00:00:00Z"}]
    }})
}

fn deployment(name: &str, revisions: usize) -> Value {
    json!({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": name, "labels": {"bench": "1"}, "annotations": {"deployment.kubernetes.io/revision": revisions.to_string()}},
        "spec": {
            "replicas": 0, "revisionHistoryLimit": revisions + 5,
            "selector": {"matchLabels": {"app": name}},
            "template": pod_template(name, revisions)
        }
    })
}

fn replicaset(owner_kind: &str, owner: &DynamicObject, rev: usize) -> Value {
    let name = owner.metadata.name.clone().unwrap_or_default();
    let uid = owner.metadata.uid.clone().unwrap_or_default();
    let h = hash(&name, rev);
    let (api_version, rev_key, hash_key) = if owner_kind == "Rollout" {
        (
            "argoproj.io/v1alpha1",
            "rollout.argoproj.io/revision",
            "rollouts-pod-template-hash",
        )
    } else {
        (
            "apps/v1",
            "deployment.kubernetes.io/revision",
            "pod-template-hash",
        )
    };
    let mut template = pod_template(&name, rev);
    template["metadata"]["labels"][hash_key] = json!(h);
    json!({
        "apiVersion": "apps/v1", "kind": "ReplicaSet",
        "metadata": {
            "name": format!("{name}-{h}"),
            "labels": {"app": name, hash_key: h, "bench": "1"},
            "annotations": {rev_key: rev.to_string()},
            "ownerReferences": [{"apiVersion": api_version, "kind": owner_kind, "name": name, "uid": uid, "controller": true, "blockOwnerDeletion": true}]
        },
        "spec": {"replicas": 0, "selector": {"matchLabels": {"app": name, hash_key: h}}, "template": template}
    })
}

fn canary(name: &str, target: &str) -> Value {
    json!({
        "apiVersion": "flagger.app/v1beta1", "kind": "Canary",
        "metadata": {"name": name, "labels": {"bench": "1"}},
        "spec": {
            "targetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": target},
            "service": {"port": 80},
            "analysis": {"interval": "1m", "threshold": 5, "maxWeight": 50, "stepWeight": 10}
        }
    })
}

fn event(ns: &str, i: usize, rollout: &str) -> Value {
    json!({
        "apiVersion": "v1", "kind": "Event",
        "metadata": {"name": format!("bench-ev-{i:05}")},
        "involvedObject": {"apiVersion": "argoproj.io/v1alpha1", "kind": "Rollout", "name": rollout, "namespace": ns},
        "reason": "RolloutUpdated", "message": format!("bench event {i} for {rollout}"),
        "type": "Normal", "source": {"component": "bench_fleet"},
        "firstTimestamp": "2026-12-01T00:00:00Z", "lastTimestamp": "2026-12-01T00:00:00Z", "count": 1
    })
}

async fn create(api: &Api<DynamicObject>, v: Value) -> Result<DynamicObject> {
    let obj: DynamicObject = serde_json::from_value(v)?;
    let name = obj.metadata.name.clone().unwrap_or_default();
    api.create(&PostParams::default(), &obj)
        .await
        .with_context(|| format!("create {name}"))
}

/// One unit of seeding work: a workload with its ReplicaSets, or a lone object.
enum Job {
    Rollout(usize),
    Deployment(usize),
    Canary(usize),
    Event(usize),
}

async fn seed_job(client: Client, ns: String, a: Arc<Args>, job: Job) -> Result<u64> {
    let k = kinds();
    let api = |r: &ApiResource| Api::<DynamicObject>::namespaced_with(client.clone(), &ns, r);
    match job {
        Job::Rollout(i) => {
            let name = format!("ro-{i:03}");
            let ro = create(&api(&k.rollout), rollout(&name, a.revisions)).await?;
            let phase = PHASES[i % 3]; // Healthy, Progressing, Paused: Degraded comes with churn.
            api(&k.rollout)
                .patch_status(
                    &name,
                    &PatchParams::default(),
                    &Patch::Merge(rollout_status(&name, a.revisions, phase)),
                )
                .await
                .with_context(|| format!("status of {name}"))?;
            for rev in 1..=a.revisions {
                create(&api(&k.replicaset), replicaset("Rollout", &ro, rev)).await?;
            }
            Ok(1 + a.revisions as u64)
        }
        Job::Deployment(i) => {
            let d = create(
                &api(&k.deployment),
                deployment(&format!("dep-{i:03}"), a.revisions),
            )
            .await?;
            for rev in 1..=a.revisions {
                create(&api(&k.replicaset), replicaset("Deployment", &d, rev)).await?;
            }
            Ok(1 + a.revisions as u64)
        }
        Job::Canary(i) => {
            create(
                &api(&k.canary),
                canary(&format!("cn-{i:03}"), &format!("dep-{i:03}")),
            )
            .await?;
            Ok(1)
        }
        Job::Event(i) => {
            let ro = format!("ro-{:03}", i % a.rollouts.max(1));
            create(&api(&k.event), event(&ns, i, &ro)).await?;
            Ok(1)
        }
    }
}

async fn seed(a: Arc<Args>, clients: Vec<(String, Client, String)>) -> Result<()> {
    let started = Instant::now();
    let k = kinds();
    for (context, client, ns) in &clients {
        let nsapi = Api::<DynamicObject>::all_with(client.clone(), &k.namespace);
        let obj: DynamicObject = serde_json::from_value(
            json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}}),
        )?;
        match nsapi.create(&PostParams::default(), &obj).await {
            Ok(_) => {}
            Err(kube::Error::Api(e)) if e.code == 409 => {
                bail!("{context}: namespace {ns} exists; seed a fresh environment")
            }
            Err(e) => return Err(e).with_context(|| format!("{context}: namespace {ns}")),
        }
    }
    let mut jobs = Vec::new();
    // Interleave contexts so every namespace fills at the same pace.
    let max = a
        .rollouts
        .max(a.deployments)
        .max(a.canaries.min(a.deployments))
        .max(a.events);
    for i in 0..max {
        for (_, client, ns) in &clients {
            let mut push = |j: Job| jobs.push((client.clone(), ns.clone(), j));
            if i < a.rollouts {
                push(Job::Rollout(i));
            }
            if i < a.deployments {
                push(Job::Deployment(i));
            }
            if i < a.canaries.min(a.deployments) {
                push(Job::Canary(i));
            }
            if i < a.events {
                push(Job::Event(i));
            }
        }
    }
    let total = AtomicU64::new(0);
    let mut results = futures::stream::iter(jobs)
        .map(|(c, ns, j)| seed_job(c, ns, a.clone(), j))
        .buffer_unordered(a.concurrency);
    let mut next_report = Instant::now() + Duration::from_secs(15);
    while let Some(r) = results.next().await {
        let n = r?;
        let t = total.fetch_add(n, Ordering::Relaxed) + n;
        if Instant::now() >= next_report {
            eprintln!(
                "bench_fleet: {t} objects so far ({:.0} s)",
                started.elapsed().as_secs_f64()
            );
            next_report += Duration::from_secs(15);
        }
    }
    let t = total.load(Ordering::Relaxed);
    let secs = started.elapsed().as_secs_f64();
    println!(
        "bench_fleet: seeded {t} objects in {} namespaces in {secs:.1} s ({:.0} objects/s)",
        clients.len(),
        t as f64 / secs
    );
    Ok(())
}

#[derive(Default)]
struct Counts {
    ok: AtomicU64,
    failed: AtomicU64,
    skipped: AtomicU64,
}

/// One context's churn: a tick every 1/rate s, at most 16 requests in flight (a tick finding
/// no slot is counted as skipped and lowers the achieved rate).
async fn churn_one(client: Client, ns: String, a: Arc<Args>, counts: Arc<Counts>) {
    let k = kinds();
    let rollouts = Api::<DynamicObject>::namespaced_with(client.clone(), &ns, &k.rollout);
    let deployments = Api::<DynamicObject>::namespaced_with(client.clone(), &ns, &k.deployment);
    let replicasets = Api::<DynamicObject>::namespaced_with(client, &ns, &k.replicaset);
    let slots = Arc::new(tokio::sync::Semaphore::new(16));
    let mut tick = tokio::time::interval(Duration::from_secs_f64(1.0 / a.rate));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    let mut n: usize = 0;
    loop {
        tick.tick().await;
        let Ok(permit) = slots.clone().try_acquire_owned() else {
            counts.skipped.fetch_add(1, Ordering::Relaxed);
            continue;
        };
        n += 1;
        let (rollouts, deployments, replicasets, counts, a) = (
            rollouts.clone(),
            deployments.clone(),
            replicasets.clone(),
            counts.clone(),
            a.clone(),
        );
        tokio::spawn(async move {
            let pp = PatchParams::default();
            let mark =
                json!({"metadata": {"annotations": {"bench.shipdeck.dev/tick": n.to_string()}}});
            let r = match n % 4 {
                0 | 2 if a.rollouts > 0 => {
                    let i = (n / 2) % a.rollouts;
                    let name = format!("ro-{i:03}");
                    let phase = PHASES[(n / 2 / a.rollouts + i) % PHASES.len()];
                    rollouts
                        .patch_status(
                            &name,
                            &pp,
                            &Patch::Merge(rollout_status(&name, a.revisions, phase)),
                        )
                        .await
                        .map(drop)
                }
                1 if a.deployments > 0 => {
                    let name = format!("dep-{:03}", (n / 4) % a.deployments);
                    deployments
                        .patch(&name, &pp, &Patch::Merge(&mark))
                        .await
                        .map(drop)
                }
                _ if a.rollouts > 0 => {
                    let i = (n / 4) % a.rollouts;
                    let name = format!("ro-{i:03}");
                    let rs = format!(
                        "{name}-{}",
                        hash(&name, 1 + (n / 4 / a.rollouts) % a.revisions)
                    );
                    replicasets
                        .patch(&rs, &pp, &Patch::Merge(&mark))
                        .await
                        .map(drop)
                }
                _ => Ok(()),
            };
            let c = if r.is_ok() {
                &counts.ok
            } else {
                &counts.failed
            };
            c.fetch_add(1, Ordering::Relaxed);
            drop(permit);
        });
    }
}

async fn churn(a: Arc<Args>, clients: Vec<(String, Client, String)>) -> Result<()> {
    let counts: Vec<Arc<Counts>> = clients.iter().map(|_| Arc::default()).collect();
    for ((_, client, ns), c) in clients.iter().zip(&counts) {
        tokio::spawn(churn_one(client.clone(), ns.clone(), a.clone(), c.clone()));
    }
    let started = Instant::now();
    println!(
        "bench_fleet: churning {} updates/s on each of {} contexts",
        a.rate,
        clients.len()
    );
    tokio::signal::ctrl_c().await?;
    let secs = started.elapsed().as_secs_f64();
    let sum = |f: fn(&Counts) -> &AtomicU64| {
        counts
            .iter()
            .map(|c| f(c).load(Ordering::Relaxed))
            .sum::<u64>()
    };
    let (ok, failed, skipped) = (sum(|c| &c.ok), sum(|c| &c.failed), sum(|c| &c.skipped));
    println!(
        "bench_fleet: achieved {:.1} updates/s per context ({ok} ok, {failed} failed, {skipped} ticks skipped, {} contexts, {secs:.0} s)",
        ok as f64 / secs / clients.len() as f64,
        clients.len()
    );
    Ok(())
}

#[tokio::main]
async fn main() -> Result<()> {
    let a = Arc::new(args()?);
    let kubeconfig = Kubeconfig::read()?;
    let mut clients = Vec::new();
    for context in &a.contexts {
        let (c, ns) = client(&kubeconfig, context).await?;
        clients.push((context.clone(), c, ns));
    }
    if a.mode == "seed" {
        seed(a, clients).await
    } else {
        churn(a, clients).await
    }
}
