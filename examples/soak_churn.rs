//! Churn generator for `scripts/soak`: in a namespace of its own on each given kubeconfig
//! context, `--objects` Deployments (0 replicas: no pods, no controller work beyond the
//! event), then `--rate` metadata updates per second per cluster (an annotation patch,
//! round-robin over the objects) for `--seconds`, printing the rate achieved every minute.
//! The namespaces are deleted at the end (and on Ctrl-C). Loopback test clusters only.
//!
//!     cargo run --example soak_churn -- --contexts a-admin,b-admin --rate 200 --seconds 1800

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::Namespace;
use kube::Client;
use kube::api::{Api, DeleteParams, Patch, PatchParams, PostParams};
use kube::config::{KubeConfigOptions, Kubeconfig};
use serde_json::json;

struct Args {
    contexts: Vec<String>,
    rate: u64,
    seconds: u64,
    objects: usize,
    namespace: String,
}

fn args() -> Result<Args> {
    let mut a = Args {
        contexts: vec!["a-admin".into(), "b-admin".into()],
        rate: 200,
        seconds: 1800,
        objects: 100,
        namespace: format!("soak-{}", std::process::id()),
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let value = it.next().with_context(|| format!("{flag} needs a value"))?;
        match flag.as_str() {
            "--contexts" => a.contexts = value.split(',').map(str::to_owned).collect(),
            "--rate" => a.rate = value.parse()?,
            "--seconds" => a.seconds = value.parse()?,
            "--objects" => a.objects = value.parse()?,
            "--namespace" => a.namespace = value,
            other => bail!("unknown flag {other}"),
        }
    }
    if a.rate == 0 || a.objects == 0 {
        bail!("--rate and --objects must be positive");
    }
    Ok(a)
}

async fn client(context: &str) -> Result<Client> {
    let options = KubeConfigOptions {
        context: Some(context.to_owned()),
        ..Default::default()
    };
    let config = kube::Config::from_custom_kubeconfig(Kubeconfig::read()?, &options).await?;
    let host = config.cluster_url.host().unwrap_or("").to_owned();
    if host != "127.0.0.1" && host != "localhost" {
        bail!("{context}: {host} is not loopback; the soak only talks to 127.0.0.1");
    }
    Ok(Client::try_from(config)?)
}

fn deployment(name: &str) -> Deployment {
    let value = json!({
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "labels": {"app.kubernetes.io/name": name}},
        "spec": {
            "replicas": 0,
            "selector": {"matchLabels": {"app": name}},
            "template": {
                "metadata": {"labels": {"app": name}},
                "spec": {"containers": [{"name": "app", "image": "example.test/soak:1"}]}
            }
        }
    });
    serde_json::from_value(value).unwrap_or_default()
}

async fn setup(client: &Client, ns: &str, objects: usize) -> Result<()> {
    let namespaces: Api<Namespace> = Api::all(client.clone());
    let namespace: Namespace = serde_json::from_value(json!({"metadata": {"name": ns}}))?;
    namespaces
        .create(&PostParams::default(), &namespace)
        .await?;
    let api: Api<Deployment> = Api::namespaced(client.clone(), ns);
    for i in 0..objects {
        api.create(&PostParams::default(), &deployment(&format!("churn-{i}")))
            .await?;
    }
    Ok(())
}

async fn cleanup(clients: &[(String, Client)], ns: &str) {
    for (context, client) in clients {
        let namespaces: Api<Namespace> = Api::all(client.clone());
        if let Err(e) = namespaces.delete(ns, &DeleteParams::default()).await {
            eprintln!("soak_churn: {context}: delete namespace {ns}: {e}");
        }
    }
}

/// Requests in flight per cluster at most; an update due while all are taken is dropped.
const IN_FLIGHT: usize = 64;

#[derive(Default)]
struct Counts {
    ok: AtomicU64,
    failed: AtomicU64,
    /// Updates that were due but found `IN_FLIGHT` requests in flight: the server is the limit.
    no_slot: AtomicU64,
}

/// One cluster's updates, kept to a schedule: update k is due at k/rate s after the start.
/// On every wake (every 1/rate s) each update now due is sent, so a late wake (a loaded
/// machine delays timers) is caught up rather than lost; only an update that finds
/// `IN_FLIGHT` requests in flight is dropped, and counted as `no_slot` (the server is the limit).
async fn churn(client: Client, ns: String, args: Arc<Args>, counts: Arc<Counts>) {
    let api: Api<Deployment> = Api::namespaced(client, &ns);
    let slots = Arc::new(tokio::sync::Semaphore::new(IN_FLIGHT));
    let period = Duration::from_secs_f64(1.0 / args.rate as f64).max(Duration::from_millis(1));
    let mut tick = tokio::time::interval(period);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let start = tokio::time::Instant::now();
    let end = start + Duration::from_secs(args.seconds);
    let mut n: u64 = 0;
    while tokio::time::Instant::now() < end {
        tick.tick().await;
        let due = (start.elapsed().as_secs_f64() * args.rate as f64) as u64;
        while n < due {
            n += 1;
            let Ok(permit) = slots.clone().try_acquire_owned() else {
                counts.no_slot.fetch_add(due - n + 1, Ordering::Relaxed);
                n = due;
                break;
            };
            let name = format!("churn-{}", n % args.objects as u64);
            let patch =
                json!({"metadata": {"annotations": {"soak.shipdeck.dev/tick": n.to_string()}}});
            let (api, counts) = (api.clone(), counts.clone());
            tokio::spawn(async move {
                let result = api
                    .patch(&name, &PatchParams::default(), &Patch::Merge(&patch))
                    .await;
                let counter = if result.is_ok() {
                    &counts.ok
                } else {
                    &counts.failed
                };
                counter.fetch_add(1, Ordering::Relaxed);
                drop(permit);
            });
        }
    }
}

#[tokio::main]
async fn main() -> Result<()> {
    let args = Arc::new(args()?);
    let mut clients = Vec::new();
    for context in &args.contexts {
        clients.push((context.clone(), client(context).await?));
    }
    for (context, client) in &clients {
        if let Err(e) = setup(client, &args.namespace, args.objects).await {
            cleanup(&clients, &args.namespace).await;
            return Err(e.context(format!("{context}: setup")));
        }
    }
    println!(
        "soak_churn: {} Deployments in {} on {:?}; {} updates/s per cluster for {} s",
        args.objects, args.namespace, args.contexts, args.rate, args.seconds
    );
    let counts: Vec<Arc<Counts>> = clients.iter().map(|_| Arc::default()).collect();
    let mut tasks = Vec::new();
    for ((_, client), counts) in clients.iter().zip(&counts) {
        tasks.push(tokio::spawn(churn(
            client.clone(),
            args.namespace.clone(),
            args.clone(),
            counts.clone(),
        )));
    }
    let started = Instant::now();
    let mut last: Vec<u64> = vec![0; clients.len()];
    let mut report = tokio::time::interval(Duration::from_secs(60));
    report.tick().await;
    let all = futures::future::join_all(tasks);
    tokio::pin!(all);
    loop {
        tokio::select! {
            _ = &mut all => break,
            _ = report.tick() => {
                let mut line = format!("soak_churn: minute {:.0}:", started.elapsed().as_secs_f64() / 60.0);
                for (i, ((context, _), c)) in clients.iter().zip(&counts).enumerate() {
                    let ok = c.ok.load(Ordering::Relaxed);
                    line += &format!(
                        " {context} {:.0}/s ({} failed, {} dropped: no slot)",
                        (ok - last[i]) as f64 / 60.0,
                        c.failed.load(Ordering::Relaxed),
                        c.no_slot.load(Ordering::Relaxed)
                    );
                    last[i] = ok;
                }
                println!("{line}");
            }
            _ = tokio::signal::ctrl_c() => break,
        }
    }
    let secs = started.elapsed().as_secs_f64();
    for ((context, _), c) in clients.iter().zip(&counts) {
        let ok = c.ok.load(Ordering::Relaxed);
        println!(
            "soak_churn: {context}: {ok} updates in {secs:.0} s = {:.1}/s, {} failed, {} dropped with {IN_FLIGHT} in flight",
            ok as f64 / secs,
            c.failed.load(Ordering::Relaxed),
            c.no_slot.load(Ordering::Relaxed)
        );
    }
    cleanup(&clients, &args.namespace).await;
    Ok(())
}
