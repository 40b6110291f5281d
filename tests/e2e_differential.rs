#![cfg(feature = "e2e")]
//! Differential: shipdeck says exactly what the Argo Rollouts plugin says. Real Rollouts on
//! the real controller are driven through the states an on-call engineer meets (pauses,
//! analysis running/successful/failed/inconclusive, background analysis, experiments, progress
//! deadline, invalid spec, abort and retry, manual pause, restart, full promotion, blue-green
//! before and after promotion, workloadRef); in each settled state the plugin's
//! `get rollout` and `list rollouts` output is compared field by field with the real binary's
//! `shipdeck snapshot --json`. The test prints `state | field | plugin | shipdeck | equal` and
//! fails on any difference. Analysis metrics use the `web` provider against an HTTP server
//! this test runs on 127.0.0.1, answering the values each state needs.
//!
//! Each state has its own namespace, and the states run concurrently.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "support/metric_server.rs"]
mod metric_server;
#[path = "support/plugin.rs"]
mod plugin;
mod support;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail, ensure};
use k8s_openapi::api::apps::v1::ReplicaSet;
use kube::api::{Api, DynamicObject, ListParams};
use kube::core::GroupVersionKind;
use serde_json::{Value, json};

use metric_server::MetricServer;
use plugin::{GetView, ListRow, Plugin};
use support::TestEnv;
use support::apply::{NamespaceCleanup, apply_value, dynamic_api, ensure_namespace};
use support::env::unique_name;
use support::manifests;
use support::wait::POLL;

const CONTEXT: &str = "a-admin";
const IMG1: &str = "registry.local/web:1";
const IMG2: &str = "registry.local/web:2";
/// How long one state may take to settle (the progress deadline state needs ~10 s of it).
const SETTLE: Duration = Duration::from_secs(150);

/// What every state shares.
struct Ctx {
    env: &'static TestEnv,
    client: kube::Client,
    plugin: Plugin,
    metrics: MetricServer,
    home: PathBuf,
}

/// One compared field.
#[derive(Debug, Clone)]
struct Row {
    state: String,
    field: String,
    plugin: String,
    shipdeck: String,
    /// false: printed for the record, not compared (said why in the field name).
    compared: bool,
}

impl Row {
    fn equal(&self) -> bool {
        self.plugin == self.shipdeck
    }
}

fn gvk(kind: &str) -> GroupVersionKind {
    GroupVersionKind::gvk("argoproj.io", "v1alpha1", kind)
}

impl Ctx {
    async fn api(&self, kind: &str, ns: &str) -> Result<Api<DynamicObject>> {
        dynamic_api(&self.client, &gvk(kind), Some(ns)).await
    }

    async fn namespace(&self, prefix: &str) -> Result<(String, NamespaceCleanup)> {
        let ns = unique_name(prefix);
        ensure_namespace(&self.client, &ns).await?;
        let cleanup = NamespaceCleanup::new(CONTEXT, &ns);
        Ok((ns, cleanup))
    }

    async fn apply(&self, ns: &str, v: Value) -> Result<()> {
        apply_value(&self.client, Some(ns), v).await.map(|_| ())
    }

    async fn rollout(&self, ns: &str, name: &str) -> Result<Value> {
        let ro = self.api("Rollout", ns).await?.get(name).await?;
        Ok(serde_json::to_value(ro)?)
    }

    /// What the plugin and shipdeck read, summarised: the Rollout's resourceVersion, every
    /// ReplicaSet's, and the phase of every AnalysisRun and Experiment in the namespace. Equal
    /// before and after both reads means both read the same objects.
    async fn fingerprint(&self, ns: &str, name: &str) -> Result<String> {
        let ro = self.rollout(ns, name).await?;
        let mut parts = vec![format!(
            "ro:{}",
            ro["metadata"]["resourceVersion"].as_str().unwrap_or("")
        )];
        let rs: Api<ReplicaSet> = Api::namespaced(self.client.clone(), ns);
        for r in rs.list(&ListParams::default()).await? {
            parts.push(format!(
                "rs:{}:{}",
                r.metadata.name.unwrap_or_default(),
                r.metadata.resource_version.unwrap_or_default()
            ));
        }
        for kind in ["AnalysisRun", "Experiment"] {
            for o in self
                .api(kind, ns)
                .await?
                .list(&ListParams::default())
                .await?
            {
                let v = serde_json::to_value(&o)?;
                parts.push(format!(
                    "{kind}:{}:{}",
                    o.metadata.name.unwrap_or_default(),
                    v["status"]["phase"].as_str().unwrap_or("")
                ));
            }
        }
        parts.sort();
        Ok(parts.join(" "))
    }

    /// Wait until the Rollout's spec is observed, `ready` holds, and nothing in the namespace
    /// changed between two polls a second apart (the controller stopped writing).
    async fn settle<F>(&self, ns: &str, name: &str, what: &str, ready: F) -> Result<Value>
    where
        F: Fn(&Value) -> std::result::Result<(), String>,
    {
        let start = Instant::now();
        let mut last;
        let mut quiet: Option<(String, Instant)> = None;
        loop {
            match self.rollout(ns, name).await {
                Ok(ro) => {
                    let observed = ro["status"]["observedGeneration"].as_str().unwrap_or("");
                    let generation = ro["metadata"]["generation"].to_string();
                    let state = ready(&ro).and_then(|()| {
                        if observed == generation {
                            Ok(())
                        } else {
                            Err(format!("generation {generation} observed {observed:?}"))
                        }
                    });
                    match state {
                        Ok(()) => {
                            let fp = self.fingerprint(ns, name).await?;
                            match &quiet {
                                Some((prev, since))
                                    if *prev == fp && since.elapsed() >= Duration::from_secs(1) =>
                                {
                                    return Ok(ro);
                                }
                                Some((prev, _)) if *prev == fp => {}
                                _ => quiet = Some((fp, Instant::now())),
                            }
                            last = "ready, waiting for the controller to stop writing".into();
                        }
                        Err(s) => {
                            quiet = None;
                            last = format!("{s}; status {}", ro["status"]);
                        }
                    }
                }
                Err(e) => last = format!("error: {e:#}"),
            }
            if start.elapsed() >= SETTLE {
                bail!("{ns}/{name}: timed out after {SETTLE:?} waiting for {what}; last: {last}");
            }
            tokio::time::sleep(POLL).await;
        }
    }

    /// `shipdeck snapshot --json` of the test cluster, as a user runs it.
    async fn snapshot(&self, extra: &[&str]) -> Result<Value> {
        let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_shipdeck"))
            .args(["snapshot", "--json", "--wait", "30"])
            .args(extra)
            .env("HOME", &self.home)
            .env("XDG_CONFIG_HOME", self.home.join(".config"))
            .env("XDG_DATA_HOME", self.home.join(".local/share"))
            .env("XDG_CACHE_HOME", self.home.join(".cache"))
            .env("KUBECONFIG", &self.env.kubeconfig)
            .env_remove("SHIPDECK_PROMETHEUS_URL")
            .output()
            .await?;
        ensure!(
            out.status.success(),
            "shipdeck snapshot {extra:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        Ok(serde_json::from_slice(&out.stdout)?)
    }

    /// The plugin's and shipdeck's view of the same settled objects, compared.
    async fn observe(&self, state: &str, ns: &str, name: &str) -> Result<Vec<Row>> {
        let (view, list, release, ro) = self.read_both(ns, name).await?;
        let row = list
            .iter()
            .find(|r| r.name == name)
            .with_context(|| format!("{name} not in `list rollouts`: {list:?}"))?;
        Ok(compare(state, &view, row, &release, &ro))
    }

    async fn read_both(
        &self,
        ns: &str,
        name: &str,
    ) -> Result<(GetView, Vec<ListRow>, Value, Value)> {
        let start = Instant::now();
        loop {
            let before = self.fingerprint(ns, name).await?;
            let ro = self.rollout(ns, name).await?;
            let view = self.plugin.get(ns, name).await?;
            let list = self.plugin.list(ns).await?;
            let snap = self.snapshot(&["--context", CONTEXT]).await?;
            let after = self.fingerprint(ns, name).await?;
            if before == after {
                let release = find_release(&snap, ns, name)?;
                return Ok((view, list, release, ro));
            }
            if start.elapsed() >= SETTLE {
                bail!("{ns}/{name} kept changing while being read: {before} → {after}");
            }
        }
    }

    /// Spot check: the objects captured with `kubectl get -o yaml` and read back with
    /// `shipdeck snapshot --from-files` give the live projection.
    async fn spot_check(&self, state: &str, ns: &str, name: &str) -> Result<Vec<Row>> {
        let dir = tempfile::tempdir()?;
        let start = Instant::now();
        loop {
            let before = self.fingerprint(ns, name).await?;
            let out = tokio::process::Command::new("kubectl")
                .arg("--kubeconfig")
                .arg(&self.env.kubeconfig)
                .args(["--context", CONTEXT, "-n", ns, "get"])
                .args([
                    "rollouts.argoproj.io,replicasets,analysisruns.argoproj.io",
                    "-o",
                    "yaml",
                ])
                .output()
                .await?;
            ensure!(
                out.status.success(),
                "kubectl get: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            std::fs::write(dir.path().join("objects.yaml"), &out.stdout)?;
            let live = self.snapshot(&["--context", CONTEXT]).await?;
            let after = self.fingerprint(ns, name).await?;
            if before != after {
                ensure!(start.elapsed() < SETTLE, "{ns}/{name} kept changing");
                continue;
            }
            let path = dir.path().to_string_lossy().into_owned();
            let files = self.snapshot(&["--from-files", &path]).await?;
            let live = find_release(&live, ns, name)?;
            let files = find_release(&files, ns, name)?;
            let state = format!("{state} [live vs --from-files]");
            return Ok([
                "phase",
                "message",
                "strategy",
                "step",
                "steps",
                "set_weight",
                "actual_weight",
                "analysis",
                "images",
                "revisions",
            ]
            .iter()
            .map(|f| Row {
                state: state.clone(),
                field: f.to_string(),
                plugin: live[*f].to_string(),
                shipdeck: files[*f].to_string(),
                compared: true,
            })
            .collect());
        }
    }

    async fn plugin_do(&self, ns: &str, args: &[&str]) -> Result<()> {
        self.plugin.run(ns, args).await.map(|_| ())
    }
}

fn find_release(snap: &Value, ns: &str, name: &str) -> Result<Value> {
    snap["releases"]
        .as_array()
        .and_then(|rs| {
            rs.iter()
                .find(|r| r["namespace"] == ns && r["name"] == name && r["kind"] == "Rollout")
        })
        .cloned()
        .with_context(|| format!("{ns}/{name} not in shipdeck's snapshot"))
}

// ---- comparison -------------------------------------------------------------------------

fn text(v: &Value) -> String {
    match v {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// A shipdeck ReplicaSet's tags, in the order the plugin prints them.
fn tags(rev: &Value) -> Vec<&'static str> {
    let mut t = Vec::new();
    match rev["role"].as_str() {
        Some("Stable") => t.push("stable"),
        Some("Canary") => t.push("canary"),
        _ => {}
    }
    match rev["blue_green"].as_str() {
        Some("Active") if !t.contains(&"canary") => t.push("active"),
        Some("Preview") if !t.contains(&"canary") => t.push("preview"),
        _ => {}
    }
    t
}

fn image_line(image: &str, tags: &[String]) -> String {
    if tags.is_empty() {
        image.to_string()
    } else {
        format!("{image} ({})", tags.join(", "))
    }
}

/// shipdeck's running images as the plugin lists them (`info.Images`): the images of every
/// ReplicaSet with replicas, sorted by image; one ReplicaSet's tags in the order canary,
/// stable, active, preview; an image several ReplicaSets run gets their tags merged and sorted.
fn shipdeck_images(release: &Value) -> Vec<String> {
    let mut images: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for rev in release["revisions"].as_array().into_iter().flatten() {
        if rev["desired"].as_i64().unwrap_or(0) <= 0 {
            continue;
        }
        let mut own: Vec<String> = Vec::new();
        if rev["role"] == "Canary" {
            own.push("canary".into());
        }
        if rev["role"] == "Stable" {
            own.push("stable".into());
        }
        match rev["blue_green"].as_str() {
            Some("Active") => own.push("active".into()),
            Some("Preview") => own.push("preview".into()),
            _ => {}
        }
        for image in rev["images"].as_array().into_iter().flatten() {
            match images.get_mut(&text(image)) {
                None => {
                    images.insert(text(image), own.clone());
                }
                Some(tags) => {
                    tags.extend(own.iter().cloned());
                    tags.sort();
                    tags.dedup();
                }
            }
        }
    }
    images
        .iter()
        .map(|(image, tags)| image_line(image, tags))
        .collect()
}

/// The plugin's image lines split into the Rollout's own (tags stable/canary/active/preview)
/// and those only an Experiment's ReplicaSets run (tags `Σ:<template>`).
fn plugin_images(view: &GetView) -> (Vec<String>, Vec<String>) {
    let (mut own, mut experiment) = (Vec::new(), Vec::new());
    for line in &view.images {
        let (image, tags) = match line.rsplit_once(" (") {
            Some((i, t)) if t.ends_with(')') => (
                i.to_string(),
                t.trim_end_matches(')')
                    .split(", ")
                    .map(str::to_string)
                    .collect::<Vec<_>>(),
            ),
            _ => (line.clone(), Vec::new()),
        };
        let (sigma, rest): (Vec<String>, Vec<String>) =
            tags.iter().cloned().partition(|t| t.starts_with("Σ:"));
        if !sigma.is_empty() {
            experiment.push(image_line(&image, &sigma));
        }
        if sigma.is_empty() || !rest.is_empty() {
            own.push(image_line(&image, &rest));
        }
    }
    (own, experiment)
}

fn shipdeck_replicasets(release: &Value) -> Vec<String> {
    let mut revs: Vec<(i64, String, String)> = release["revisions"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|r| {
            (
                r["revision"].as_i64().unwrap_or(0),
                text(&r["name"]),
                tags(r).join(","),
            )
        })
        .collect();
    revs.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    revs.into_iter()
        .map(|(rev, name, tags)| format!("{name} rev:{rev} [{tags}]"))
        .collect()
}

fn plugin_replicasets(view: &GetView) -> Vec<String> {
    let mut revs: Vec<(i64, String, String)> = view
        .replicasets()
        .map(|r| {
            let tags: Vec<&str> = r
                .info
                .split(',')
                .filter(|t| !t.is_empty() && !t.starts_with("delay:"))
                .collect();
            (r.revision.unwrap_or(0), r.name.clone(), tags.join(","))
        })
        .collect();
    revs.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    revs.into_iter()
        .map(|(rev, name, tags)| format!("{name} rev:{rev} [{tags}]"))
        .collect()
}

fn compare(state: &str, view: &GetView, list: &ListRow, rel: &Value, ro: &Value) -> Vec<Row> {
    let mut rows = Vec::new();
    let mut push = |field: &str, plugin: String, shipdeck: String| {
        rows.push(Row {
            state: state.to_string(),
            field: field.to_string(),
            plugin,
            shipdeck,
            compared: true,
        });
    };
    let strategy = match rel["strategy"].as_str() {
        Some("canary") => "Canary",
        Some("bluegreen") => "BlueGreen",
        other => other.unwrap_or(""),
    }
    .to_string();
    let step = match (rel["step"].as_u64(), rel["steps"].as_u64()) {
        (Some(i), Some(n)) => format!("{i}/{n}"),
        _ => String::new(),
    };
    push("status", view.status.clone(), text(&rel["phase"]));
    push("message", view.message.clone(), text(&rel["message"]));
    push("strategy", view.strategy.clone(), strategy.clone());
    push("step", view.step.clone(), step.clone());
    push(
        "set weight",
        view.set_weight.clone(),
        text(&rel["set_weight"]),
    );
    push(
        "actual weight",
        view.actual_weight.clone(),
        text(&rel["actual_weight"]),
    );
    let (own_images, experiment_images) = plugin_images(view);
    push(
        "images",
        own_images.join("; "),
        shipdeck_images(rel).join("; "),
    );
    push(
        "replicasets (revision, role)",
        plugin_replicasets(view).join("; "),
        shipdeck_replicasets(rel).join("; "),
    );
    // The AnalysisRun the Rollout reports as current (step first, else background): its
    // status in the plugin's tree against shipdeck's analysis.
    let canary = &ro["status"]["canary"];
    let current_run = [
        &canary["currentStepAnalysisRunStatus"],
        &canary["currentBackgroundAnalysisRunStatus"],
    ]
    .into_iter()
    .find_map(|s| s["name"].as_str().filter(|n| !n.is_empty()));
    let plugin_analysis = current_run.map_or("-".to_string(), |n| {
        let status = view.row(n).map_or("(not in tree)", |r| r.status.as_str());
        format!("{n} {status}")
    });
    let shipdeck_analysis = if rel["analysis"].is_null() {
        "-".to_string()
    } else {
        format!(
            "{} {}",
            text(&rel["analysis"]["name"]),
            text(&rel["analysis"]["phase"])
        )
    };
    push("analysis run", plugin_analysis, shipdeck_analysis);
    // `list rollouts` columns shipdeck shows.
    let dash = |s: String| if s.is_empty() { "-".to_string() } else { s };
    push("list STRATEGY", list.strategy.clone(), strategy);
    push("list STATUS", list.status.clone(), text(&rel["phase"]));
    push("list STEP", list.step.clone(), dash(step));
    push(
        "list SET-WEIGHT",
        list.set_weight.clone(),
        dash(text(&rel["set_weight"])),
    );
    push(
        "list DESIRED",
        list.desired.clone(),
        text(&rel["replicas"]["desired"]),
    );
    push(
        "list AVAILABLE",
        list.available.clone(),
        text(&rel["replicas"]["available"]),
    );
    if !experiment_images.is_empty() {
        rows.push(Row {
            state: state.to_string(),
            field: "experiment images (Experiment's own ReplicaSets; shipdeck does not watch Experiments)"
                .into(),
            plugin: experiment_images.join("; "),
            shipdeck: "-".into(),
            compared: false,
        });
    }
    rows
}

// ---- manifests ----------------------------------------------------------------------------

fn canary_rollout(name: &str, image: &str, replicas: u32, steps: Value) -> Value {
    let mut v = manifests::Rollout::canary(name, image)
        .replicas(replicas)
        .value();
    v["spec"]["strategy"]["canary"]["steps"] = steps;
    v
}

fn set_image(v: &mut Value, image: &str) {
    v["spec"]["template"]["spec"]["containers"][0]["image"] = json!(image);
}

/// Pods of this template never schedule: no kwok node has this label.
fn unschedulable(v: &mut Value) {
    v["spec"]["template"]["spec"]["nodeSelector"] = json!({"shipdeck.test/none": "true"});
}

/// A `web` AnalysisTemplate measuring `url` every 2 s (at most 1000 times): 1 is a success
/// (one is enough), 0 a failure, anything else inconclusive (tolerated `inconclusive_limit`
/// times).
fn analysis_template(url: &str, inconclusive_limit: u32) -> Value {
    json!({
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "AnalysisTemplate",
        "metadata": {"name": "web"},
        "spec": {"metrics": [{
            "name": "web",
            "interval": "2s",
            // A step analysis must end: far more measurements than any state takes.
            "count": 1000,
            "successCondition": "result == 1",
            "failureCondition": "result == 0",
            "consecutiveSuccessLimit": 1,
            "inconclusiveLimit": inconclusive_limit,
            "provider": {"web": {"url": url, "jsonPath": "{$.value}", "timeoutSeconds": 5}},
        }]},
    })
}

fn phase_is<'a>(
    phase: &'a str,
    extra: impl Fn(&Value) -> bool + 'a,
) -> impl Fn(&Value) -> std::result::Result<(), String> + 'a {
    move |ro: &Value| {
        let st = &ro["status"];
        if st["phase"] == phase && extra(ro) {
            Ok(())
        } else {
            Err(format!("want {phase}"))
        }
    }
}

fn step_index(ro: &Value) -> Option<i64> {
    ro["status"]["currentStepIndex"].as_i64()
}

fn fully_promoted(ro: &Value) -> bool {
    let st = &ro["status"];
    st["stableRS"].is_string() && st["stableRS"] == st["currentPodHash"]
}

fn pause_reason(ro: &Value) -> Option<&str> {
    ro["status"]["pauseConditions"][0]["reason"].as_str()
}

// ---- the states ---------------------------------------------------------------------------

type Rows = Result<Vec<Row>>;

/// A canary Rollout at v1, healthy; then v2 (`update` shapes it).
async fn healthy_then_update(
    c: &Ctx,
    ns: &str,
    mut v: Value,
    update: impl FnOnce(&mut Value),
) -> Result<()> {
    c.apply(ns, v.clone()).await?;
    c.settle(ns, "web", "v1 healthy", phase_is("Healthy", fully_promoted))
        .await?;
    set_image(&mut v, IMG2);
    update(&mut v);
    c.apply(ns, v).await
}

async fn indefinite_pause_then_full_promotion(c: &Ctx) -> Rows {
    let (ns, _gone) = c.namespace("dr-pause").await?;
    let steps = json!([{"setWeight": 20}, {"pause": {}}]);
    healthy_then_update(c, &ns, canary_rollout("web", IMG1, 5, steps), |_| {}).await?;
    c.settle(
        &ns,
        "web",
        "paused at step 1",
        phase_is("Paused", |r| step_index(r) == Some(1)),
    )
    .await?;
    let mut rows = c
        .observe("canary at an indefinite pause", &ns, "web")
        .await?;
    c.plugin_do(&ns, &["promote", "web", "--full"]).await?;
    c.settle(
        &ns,
        "web",
        "fully promoted",
        phase_is("Healthy", fully_promoted),
    )
    .await?;
    rows.extend(c.observe("fully promoted, Healthy", &ns, "web").await?);
    Ok(rows)
}

async fn timed_pause(c: &Ctx) -> Rows {
    let (ns, _gone) = c.namespace("dr-timed").await?;
    let steps = json!([{"setWeight": 20}, {"pause": {"duration": "1h"}}]);
    healthy_then_update(c, &ns, canary_rollout("web", IMG1, 5, steps), |_| {}).await?;
    c.settle(
        &ns,
        "web",
        "timed pause",
        phase_is("Paused", |r| step_index(r) == Some(1)),
    )
    .await?;
    c.observe("canary at a timed pause", &ns, "web").await
}

async fn between_steps(c: &Ctx) -> Rows {
    let (ns, _gone) = c.namespace("dr-between").await?;
    let steps = json!([{"setWeight": 20}, {"pause": {}}, {"setWeight": 60}, {"pause": {}}]);
    let mut v = canary_rollout("web", IMG1, 5, steps);
    v["spec"]["progressDeadlineSeconds"] = json!(3600);
    healthy_then_update(c, &ns, v, unschedulable).await?;
    c.settle(
        &ns,
        "web",
        "progressing at step 0 (canary pods Pending)",
        phase_is("Progressing", |r| {
            step_index(r) == Some(0) && r["status"]["updatedReplicas"].as_i64() == Some(1)
        }),
    )
    .await?;
    c.observe("progressing between steps", &ns, "web").await
}

async fn analysis_running_then_successful(c: &Ctx) -> Rows {
    let (ns, _gone) = c.namespace("dr-an-ok").await?;
    let key = format!("{ns}-step");
    c.metrics.set(&key, "2"); // inconclusive while the test waits
    c.apply(&ns, analysis_template(&c.metrics.url(&key), 1000))
        .await?;
    let steps = json!([{"setWeight": 20}, {"analysis": {"templates": [{"templateName": "web"}]}}, {"pause": {}}]);
    healthy_then_update(c, &ns, canary_rollout("web", IMG1, 5, steps), |_| {}).await?;
    c.settle(
        &ns,
        "web",
        "step analysis running",
        phase_is("Progressing", |r| {
            step_index(r) == Some(1)
                && r["status"]["canary"]["currentStepAnalysisRunStatus"]["status"] == "Running"
        }),
    )
    .await?;
    let mut rows = c.observe("analysis step running", &ns, "web").await?;
    c.metrics.set(&key, "1");
    c.settle(
        &ns,
        "web",
        "analysis passed, paused at step 2",
        phase_is("Paused", |r| step_index(r) == Some(2)),
    )
    .await?;
    rows.extend(c.observe("analysis step successful", &ns, "web").await?);
    Ok(rows)
}

async fn analysis_failed_aborts(c: &Ctx) -> Rows {
    let (ns, _gone) = c.namespace("dr-an-fail").await?;
    let key = format!("{ns}-step");
    c.metrics.set(&key, "0");
    c.apply(&ns, analysis_template(&c.metrics.url(&key), 0))
        .await?;
    let steps = json!([{"setWeight": 20}, {"analysis": {"templates": [{"templateName": "web"}]}}, {"pause": {}}]);
    healthy_then_update(c, &ns, canary_rollout("web", IMG1, 5, steps), |_| {}).await?;
    c.settle(
        &ns,
        "web",
        "aborted by the analysis",
        phase_is("Degraded", |r| r["status"]["abort"] == true),
    )
    .await?;
    let mut rows = c.observe("analysis failed, aborted", &ns, "web").await?;
    rows.extend(c.spot_check("analysis failed, aborted", &ns, "web").await?);
    Ok(rows)
}

async fn analysis_inconclusive(c: &Ctx) -> Rows {
    let (ns, _gone) = c.namespace("dr-an-inc").await?;
    let key = format!("{ns}-step");
    c.metrics.set(&key, "2");
    c.apply(&ns, analysis_template(&c.metrics.url(&key), 0))
        .await?;
    let steps = json!([{"setWeight": 20}, {"analysis": {"templates": [{"templateName": "web"}]}}, {"pause": {}}]);
    healthy_then_update(c, &ns, canary_rollout("web", IMG1, 5, steps), |_| {}).await?;
    c.settle(
        &ns,
        "web",
        "paused on an inconclusive analysis",
        phase_is("Paused", |r| {
            pause_reason(r) == Some("InconclusiveAnalysisRun")
        }),
    )
    .await?;
    c.observe("inconclusive analysis", &ns, "web").await
}

async fn background_analysis_fails(c: &Ctx) -> Rows {
    let (ns, _gone) = c.namespace("dr-an-bg").await?;
    let key = format!("{ns}-bg");
    c.metrics.set(&key, "0");
    c.apply(&ns, analysis_template(&c.metrics.url(&key), 0))
        .await?;
    let steps = json!([{"setWeight": 20}, {"pause": {}}]);
    let mut v = canary_rollout("web", IMG1, 5, steps);
    v["spec"]["strategy"]["canary"]["analysis"] = json!({"templates": [{"templateName": "web"}]});
    healthy_then_update(c, &ns, v, |_| {}).await?;
    c.settle(
        &ns,
        "web",
        "aborted by the background analysis",
        phase_is("Degraded", |r| r["status"]["abort"] == true),
    )
    .await?;
    c.observe("background analysis failed", &ns, "web").await
}

async fn experiment_step(c: &Ctx) -> Rows {
    let (ns, _gone) = c.namespace("dr-exp").await?;
    let steps = json!([
        {"setWeight": 25},
        {"experiment": {"duration": "1h", "templates": [{"name": "canary", "specRef": "canary", "replicas": 1}]}},
        {"pause": {}}
    ]);
    healthy_then_update(c, &ns, canary_rollout("web", IMG1, 4, steps), |_| {}).await?;
    let exps = c.api("Experiment", &ns).await?;
    c.settle(&ns, "web", "experiment step, experiment running", |ro| {
        if step_index(ro) != Some(1) {
            return Err("not at step 1".into());
        }
        let name = ro["status"]["canary"]["currentExperiment"]
            .as_str()
            .unwrap_or("");
        if name.is_empty() {
            return Err("no current experiment".into());
        }
        Ok(())
    })
    .await?;
    // ...and the experiment itself is running (its pods ready).
    support::wait::wait_until("experiment Running", SETTLE, || async {
        let list = exps.list(&ListParams::default()).await?;
        let phases: Vec<Value> = list
            .iter()
            .map(|e| serde_json::to_value(e).map(|v| v["status"]["phase"].clone()))
            .collect::<Result<_, _>>()?;
        Ok(if phases.iter().any(|p| p == "Running") {
            support::wait::Check::Done(())
        } else {
            support::wait::Check::NotYet(format!("experiments {phases:?}"))
        })
    })
    .await?;
    c.settle(
        &ns,
        "web",
        "experiment step settled",
        phase_is("Progressing", |r| step_index(r) == Some(1)),
    )
    .await?;
    c.observe("experiment step", &ns, "web").await
}

async fn progress_deadline_exceeded(c: &Ctx) -> Rows {
    let (ns, _gone) = c.namespace("dr-deadline").await?;
    let steps = json!([{"setWeight": 20}, {"pause": {}}]);
    let mut v = canary_rollout("web", IMG1, 5, steps);
    v["spec"]["progressDeadlineSeconds"] = json!(10);
    healthy_then_update(c, &ns, v, unschedulable).await?;
    c.settle(
        &ns,
        "web",
        "progress deadline exceeded",
        phase_is("Degraded", |_| true),
    )
    .await?;
    c.observe("progress deadline exceeded", &ns, "web").await
}

async fn invalid_spec(c: &Ctx) -> Rows {
    let (ns, _gone) = c.namespace("dr-invalid").await?;
    let mut v = canary_rollout("web", IMG1, 2, json!([{"setWeight": 20}, {"pause": {}}]));
    v["spec"]["selector"] = json!({"matchLabels": {"app": "not-web"}});
    c.apply(&ns, v).await?;
    c.settle(&ns, "web", "invalid spec", phase_is("Degraded", |_| true))
        .await?;
    let mut rows = c
        .observe("invalid spec (selector does not match labels)", &ns, "web")
        .await?;
    // Without steps there is no current step: the plugin reports the full weight.
    let mut v = canary_rollout("stepless", IMG1, 2, json!([]));
    v["spec"]["selector"] = json!({"matchLabels": {"app": "not-stepless"}});
    c.apply(&ns, v).await?;
    c.settle(
        &ns,
        "stepless",
        "invalid spec",
        phase_is("Degraded", |_| true),
    )
    .await?;
    rows.extend(
        c.observe("invalid spec without steps", &ns, "stepless")
            .await?,
    );
    Ok(rows)
}

async fn aborted_then_retried(c: &Ctx) -> Rows {
    let (ns, _gone) = c.namespace("dr-abort").await?;
    let steps = json!([{"setWeight": 20}, {"pause": {}}]);
    healthy_then_update(c, &ns, canary_rollout("web", IMG1, 5, steps), |_| {}).await?;
    c.settle(
        &ns,
        "web",
        "paused at step 1",
        phase_is("Paused", |r| step_index(r) == Some(1)),
    )
    .await?;
    c.plugin_do(&ns, &["abort", "web"]).await?;
    c.settle(
        &ns,
        "web",
        "aborted",
        phase_is("Degraded", |r| r["status"]["abort"] == true),
    )
    .await?;
    let mut rows = c.observe("aborted", &ns, "web").await?;
    rows.extend(c.spot_check("aborted", &ns, "web").await?);
    c.plugin_do(&ns, &["retry", "rollout", "web"]).await?;
    c.settle(
        &ns,
        "web",
        "retried, paused at step 1 again",
        phase_is("Paused", |r| {
            step_index(r) == Some(1) && r["status"]["abort"] != true
        }),
    )
    .await?;
    rows.extend(c.observe("aborted then retried", &ns, "web").await?);
    Ok(rows)
}

async fn manually_paused(c: &Ctx) -> Rows {
    let (ns, _gone) = c.namespace("dr-manual").await?;
    let steps = json!([{"setWeight": 20}, {"pause": {}}]);
    c.apply(&ns, canary_rollout("web", IMG1, 3, steps)).await?;
    c.settle(&ns, "web", "healthy", phase_is("Healthy", fully_promoted))
        .await?;
    c.plugin_do(&ns, &["pause", "web"]).await?;
    c.settle(
        &ns,
        "web",
        "manually paused",
        phase_is("Paused", |r| r["spec"]["paused"] == true),
    )
    .await?;
    c.observe("manually paused (spec.paused)", &ns, "web").await
}

async fn restarted(c: &Ctx) -> Rows {
    let (ns, _gone) = c.namespace("dr-restart").await?;
    let steps = json!([{"setWeight": 20}, {"pause": {}}]);
    c.apply(&ns, canary_rollout("web", IMG1, 3, steps)).await?;
    c.settle(&ns, "web", "healthy", phase_is("Healthy", fully_promoted))
        .await?;
    c.plugin_do(&ns, &["restart", "web"]).await?;
    c.settle(
        &ns,
        "web",
        "restarted",
        phase_is("Healthy", |r| {
            r["spec"]["restartAt"].is_string()
                && r["spec"]["restartAt"] == r["status"]["restartedAt"]
        }),
    )
    .await?;
    c.observe("restarted", &ns, "web").await
}

async fn blue_green(c: &Ctx) -> Rows {
    let (ns, _gone) = c.namespace("dr-bg").await?;
    for svc in ["web-active", "web-preview"] {
        let mut s: Value = serde_yaml::from_str(&manifests::service("web", 80, 8080))?;
        s["metadata"]["name"] = json!(svc);
        c.apply(&ns, s).await?;
    }
    let mut v = manifests::Rollout::canary("web", IMG1).replicas(2).value();
    v["spec"]["strategy"] = json!({"blueGreen": {
        "activeService": "web-active",
        "previewService": "web-preview",
        "autoPromotionEnabled": false,
        "scaleDownDelaySeconds": 600,
    }});
    c.apply(&ns, v.clone()).await?;
    c.settle(
        &ns,
        "web",
        "v1 healthy",
        phase_is("Healthy", fully_promoted),
    )
    .await?;
    set_image(&mut v, IMG2);
    c.apply(&ns, v).await?;
    c.settle(
        &ns,
        "web",
        "paused before promotion",
        phase_is("Paused", |r| pause_reason(r) == Some("BlueGreenPause")),
    )
    .await?;
    let mut rows = c
        .observe("blue-green paused before promotion", &ns, "web")
        .await?;
    c.plugin_do(&ns, &["promote", "web"]).await?;
    c.settle(&ns, "web", "promoted", phase_is("Healthy", fully_promoted))
        .await?;
    rows.extend(
        c.observe(
            "blue-green promoted (old ReplicaSet in its scale-down delay)",
            &ns,
            "web",
        )
        .await?,
    );
    rows.extend(c.spot_check("blue-green promoted", &ns, "web").await?);
    Ok(rows)
}

async fn workload_ref(c: &Ctx) -> Rows {
    let (ns, _gone) = c.namespace("dr-wref").await?;
    let mut d = manifests::Deployment::new("web-template", IMG1).value();
    d["spec"]["replicas"] = json!(0);
    d["spec"]["selector"] = json!({"matchLabels": {"app": "web"}});
    d["spec"]["template"]["metadata"]["labels"] = json!({"app": "web"});
    c.apply(&ns, d.clone()).await?;
    let mut v = canary_rollout("web", IMG1, 2, json!([{"setWeight": 50}, {"pause": {}}]));
    let spec = v["spec"].as_object_mut().context("spec")?;
    spec.remove("template");
    spec.insert(
        "workloadRef".into(),
        json!({"apiVersion": "apps/v1", "kind": "Deployment", "name": "web-template"}),
    );
    c.apply(&ns, v).await?;
    c.settle(&ns, "web", "healthy", phase_is("Healthy", fully_promoted))
        .await?;
    let mut rows = c
        .observe("workloadRef Rollout, Healthy", &ns, "web")
        .await?;
    d["spec"]["template"]["spec"]["containers"][0]["image"] = json!(IMG2);
    c.apply(&ns, d).await?;
    c.settle(
        &ns,
        "web",
        "paused at step 1",
        phase_is("Paused", |r| step_index(r) == Some(1)),
    )
    .await?;
    rows.extend(
        c.observe("workloadRef Rollout at a pause", &ns, "web")
            .await?,
    );
    Ok(rows)
}

fn print_table(rows: &[Row]) {
    let w = |f: fn(&Row) -> usize| rows.iter().map(f).max().unwrap_or(0);
    let (ws, wf, wp, wd) = (
        w(|r| r.state.chars().count()).max(5),
        w(|r| r.field.chars().count()).max(5),
        w(|r| r.plugin.chars().count()).max(6),
        w(|r| r.shipdeck.chars().count()).max(8),
    );
    let pad = |s: &str, n: usize| format!("{s}{}", " ".repeat(n.saturating_sub(s.chars().count())));
    println!(
        "{} | {} | {} | {} | equal",
        pad("state", ws),
        pad("field", wf),
        pad("plugin", wp),
        pad("shipdeck", wd)
    );
    for r in rows {
        let eq = match (r.compared, r.equal()) {
            (false, _) => "n/a",
            (true, true) => "yes",
            (true, false) => "NO",
        };
        println!(
            "{} | {} | {} | {} | {eq}",
            pad(&r.state, ws),
            pad(&r.field, wf),
            pad(&r.plugin, wp),
            pad(&r.shipdeck, wd)
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn shipdeck_says_what_the_argo_rollouts_plugin_says() -> Result<()> {
    let env = TestEnv::get()?;
    let home = tempfile::tempdir()?;
    let c = Ctx {
        env,
        client: env.client(CONTEXT).await?,
        plugin: Plugin::of(env, CONTEXT)?,
        metrics: MetricServer::start().await?,
        home: home.path().to_path_buf(),
    };
    let start = Instant::now();
    let names = [
        "indefinite pause + full promotion",
        "timed pause",
        "between steps",
        "analysis running/successful",
        "analysis failed",
        "analysis inconclusive",
        "background analysis",
        "experiment",
        "progress deadline",
        "invalid spec",
        "abort/retry",
        "manual pause",
        "restart",
        "blue-green",
        "workloadRef",
    ];
    let results = futures::future::join_all([
        Box::pin(indefinite_pause_then_full_promotion(&c))
            as std::pin::Pin<Box<dyn std::future::Future<Output = Rows> + Send + '_>>,
        Box::pin(timed_pause(&c)),
        Box::pin(between_steps(&c)),
        Box::pin(analysis_running_then_successful(&c)),
        Box::pin(analysis_failed_aborts(&c)),
        Box::pin(analysis_inconclusive(&c)),
        Box::pin(background_analysis_fails(&c)),
        Box::pin(experiment_step(&c)),
        Box::pin(progress_deadline_exceeded(&c)),
        Box::pin(invalid_spec(&c)),
        Box::pin(aborted_then_retried(&c)),
        Box::pin(manually_paused(&c)),
        Box::pin(restarted(&c)),
        Box::pin(blue_green(&c)),
        Box::pin(workload_ref(&c)),
    ])
    .await;
    let mut rows = Vec::new();
    let mut errors = Vec::new();
    for (name, r) in names.iter().zip(results) {
        match r {
            Ok(r) => rows.extend(r),
            Err(e) => errors.push(format!("{name}: {e:#}")),
        }
    }
    print_table(&rows);
    let states: std::collections::BTreeSet<&str> = rows.iter().map(|r| r.state.as_str()).collect();
    let differ: Vec<&Row> = rows.iter().filter(|r| r.compared && !r.equal()).collect();
    println!(
        "{} states, {} rows compared, {} differ, {} scenarios failed; wall time {:.0?}",
        states.len(),
        rows.iter().filter(|r| r.compared).count(),
        differ.len(),
        errors.len(),
        start.elapsed()
    );
    ensure!(
        errors.is_empty(),
        "scenarios failed:\n{}",
        errors.join("\n")
    );
    ensure!(
        differ.is_empty(),
        "shipdeck differs from the plugin:\n{}",
        differ
            .iter()
            .map(|r| format!("{} | {} | {} | {}", r.state, r.field, r.plugin, r.shipdeck))
            .collect::<Vec<_>>()
            .join("\n")
    );
    // Every state the suite promises was compared.
    ensure!(
        states.len() >= 20,
        "only {} states compared: {states:?}",
        states.len()
    );
    Ok(())
}
