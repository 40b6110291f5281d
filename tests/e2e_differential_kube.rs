#![cfg(feature = "e2e")]
//! Differential: shipdeck says what kubectl says, proven side by side on the real clusters.
//! Each case drives a real Deployment (Deployment controller, scheduler, kwok) or Flagger
//! Canary (Flagger, its loadtester's gates) into one state, in a namespace of its own, all
//! cases at once; then kubectl is read, the real binary's `snapshot --json` is taken, and
//! kubectl is read again: a case whose kubectl reading did not change across the snapshot is
//! compared (one that did is read again). The table `state | field | kubectl | shipdeck |
//! equal` is printed and any difference fails the test.
//!
//! - Deployments against `kubectl rollout status deployment/NAME --watch=false` (its message
//!   and exit) and `kubectl describe deployment` (NewReplicaSet, OldReplicaSets with pods).
//!   kubectl frames its message with the object's name — `Waiting for deployment "NAME"
//!   rollout to finish: MESSAGE...`, `deployment "NAME" MESSAGE`, `error: deployment "NAME"
//!   MESSAGE` — and the console keeps the message (the name is the row's): the frame is parsed
//!   strictly (an output in no known frame fails the test) and the message inside compared.
//! - Flagger canaries against `kubectl get canaries` printer columns (STATUS, WEIGHT,
//!   FAILEDCHECKS) and the target's and primary's new ReplicaSets per `kubectl describe`.
//!
//! `cargo test --features e2e --test e2e_differential_kube`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use futures::future::try_join_all;
use k8s_openapi::api::apps::v1::Deployment as K8sDeployment;
use kube::api::Api;
use kube::core::GroupVersionKind;
use serde_json::{Value, json};

use support::TestEnv;
use support::apply::{NamespaceCleanup, apply_value, dynamic_api, ensure_namespace};
use support::env::unique_name;
use support::kubectl::{Kubectl, Row, print_table, shipdeck_snapshot, snapshot_release, table};
use support::manifests::{Analysis, Canary, Deployment};
use support::wait::{Check, wait_until};

const TIMEOUT: Duration = Duration::from_secs(150);
/// Rounds of kubectl / snapshot / kubectl before a case that keeps changing fails.
const ROUNDS: usize = 6;

/// A label no kwok node has: pods stay Pending (the scheduler finds no node).
const NO_NODE: (&str, &str) = ("shipdeck.test/no-such-node", "true");

// ---------------------------------------------------------------- Deployments

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum DeployState {
    Progressing,
    Complete,
    Paused,
    DeadlineExceeded,
    ScaledToZero,
}

impl DeployState {
    const ALL: [DeployState; 5] = [
        Self::Progressing,
        Self::Complete,
        Self::Paused,
        Self::DeadlineExceeded,
        Self::ScaledToZero,
    ];

    fn label(self) -> &'static str {
        match self {
            Self::Progressing => "progressing",
            Self::Complete => "complete",
            Self::Paused => "paused",
            Self::DeadlineExceeded => "deadline exceeded",
            Self::ScaledToZero => "scaled to 0",
        }
    }
}

/// `web`, 2 replicas of `image`, as JSON to tweak.
fn web(image: &str) -> Value {
    Deployment::new("web", image).replicas(2).value()
}

fn unschedulable(v: &mut Value) {
    v["spec"]["template"]["spec"]["nodeSelector"] = json!({NO_NODE.0: NO_NODE.1});
}

fn cond_reason(d: &K8sDeployment, type_: &str) -> String {
    d.status
        .as_ref()
        .and_then(|s| s.conditions.as_ref())
        .and_then(|cs| cs.iter().find(|c| c.type_.as_deref() == Some(type_)))
        .and_then(|c| c.reason.clone())
        .unwrap_or_default()
}

/// Wait until the Deployment satisfies `done` (given a summary of its status to report).
async fn wait_deployment(
    client: &kube::Client,
    ns: &str,
    what: &str,
    done: impl Fn(&K8sDeployment) -> bool,
) -> Result<()> {
    let api: Api<K8sDeployment> = Api::namespaced(client.clone(), ns);
    wait_until(&format!("{ns}: {what}"), TIMEOUT, || async {
        let d = api.get("web").await?;
        let st = d.status.clone().unwrap_or_default();
        let observed = st.observed_generation == d.metadata.generation;
        Ok(if observed && done(&d) {
            Check::Done(())
        } else {
            Check::NotYet(format!(
                "generation {:?} observed {:?} replicas {:?} updated {:?} available {:?} progressing {}",
                d.metadata.generation,
                st.observed_generation,
                st.replicas,
                st.updated_replicas,
                st.available_replicas,
                cond_reason(&d, "Progressing")
            ))
        })
    })
    .await
}

fn counts(d: &K8sDeployment) -> (i32, i32, i32) {
    let st = d.status.clone().unwrap_or_default();
    (
        st.replicas.unwrap_or(0),
        st.updated_replicas.unwrap_or(0),
        st.available_replicas.unwrap_or(0),
    )
}

/// Drive `web` in `ns` into `state`: v1 rolled out first, then the change of the case.
async fn drive_deployment(client: &kube::Client, ns: &str, state: DeployState) -> Result<()> {
    apply_value(client, Some(ns), web("example.test/web:1")).await?;
    support::wait::deployment_rolled_out(client, ns, "web", TIMEOUT).await?;
    let mut v2 = web("example.test/web:2");
    match state {
        DeployState::Progressing => {
            // One surge pod that never schedules, well inside its deadline.
            unschedulable(&mut v2);
            v2["spec"]["progressDeadlineSeconds"] = json!(600);
            apply_value(client, Some(ns), v2).await?;
            wait_deployment(client, ns, "1 of 2 updated, stuck", |d| {
                counts(d) == (3, 1, 2)
                    && cond_reason(d, "Progressing") != "ProgressDeadlineExceeded"
            })
            .await
        }
        DeployState::Complete => {
            apply_value(client, Some(ns), v2).await?;
            support::wait::deployment_rolled_out(client, ns, "web", TIMEOUT)
                .await
                .map(|_| ())
        }
        DeployState::Paused => {
            // Paused and changed in one write: the controller makes no new ReplicaSet.
            v2["spec"]["paused"] = json!(true);
            apply_value(client, Some(ns), v2).await?;
            wait_deployment(client, ns, "paused with a new template", |d| {
                cond_reason(d, "Progressing") == "DeploymentPaused"
            })
            .await
        }
        DeployState::DeadlineExceeded => {
            unschedulable(&mut v2);
            v2["spec"]["progressDeadlineSeconds"] = json!(5);
            apply_value(client, Some(ns), v2).await?;
            wait_deployment(client, ns, "ProgressDeadlineExceeded", |d| {
                cond_reason(d, "Progressing") == "ProgressDeadlineExceeded"
            })
            .await
        }
        DeployState::ScaledToZero => {
            let mut zero = web("example.test/web:1");
            zero["spec"]["replicas"] = json!(0);
            apply_value(client, Some(ns), zero).await?;
            wait_deployment(client, ns, "scaled to 0", |d| {
                counts(d) == (0, 0, 0) && cond_reason(d, "Available") == "MinimumReplicasAvailable"
            })
            .await
        }
    }
}

/// A ReplicaSet as kubectl lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
struct KubectlRs {
    revision: String,
    desired: i64,
    ready: i64,
    images: String,
}

/// Every ReplicaSet in `ns` (`kubectl get rs -o custom-columns`).
async fn kubectl_replicasets(k: &Kubectl, ns: &str) -> Result<BTreeMap<String, KubectlRs>> {
    let columns = "NAME:.metadata.name,REV:.metadata.annotations.deployment\\.kubernetes\\.io/revision,DESIRED:.spec.replicas,READY:.status.readyReplicas,IMAGES:.spec.template.spec.containers[*].image";
    let out = k
        .ok(&[
            "get",
            "rs",
            "-n",
            ns,
            "-o",
            &format!("custom-columns={columns}"),
        ])
        .await?;
    let num = |s: &str| s.parse::<i64>().unwrap_or(0); // `<none>` is 0
    Ok(table(&out)
        .into_iter()
        .filter_map(|row| {
            let cell = |n: &str| {
                row.iter()
                    .find(|(h, _)| h == n)
                    .map(|(_, v)| v.clone())
                    .unwrap_or_default()
            };
            let name = cell("NAME");
            (!name.is_empty()).then(|| {
                let rs = KubectlRs {
                    revision: cell("REV"),
                    desired: num(&cell("DESIRED")),
                    ready: num(&cell("READY")),
                    images: cell("IMAGES"),
                };
                (name, rs)
            })
        })
        .collect())
}

/// A ReplicaSet as `kubectl describe deployment` lists it: `NAME (n/m replicas created)`.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Described {
    name: String,
    /// `m`: the ReplicaSet's desired replicas.
    desired: i64,
}

/// `NewReplicaSet:` and `OldReplicaSets:` of `kubectl describe deployment` (`<none>` is
/// none).
async fn kubectl_describe_rs(
    k: &Kubectl,
    ns: &str,
    name: &str,
) -> Result<(Vec<Described>, Vec<Described>)> {
    let out = k.ok(&["describe", "deployment", name, "-n", ns]).await?;
    let field = |key: &str| -> Result<Vec<Described>> {
        let line = out
            .lines()
            .find_map(|l| l.strip_prefix(key))
            .with_context(|| format!("no {key} in kubectl describe:\n{out}"))?;
        line.split(',')
            .map(str::trim)
            .filter(|part| !part.is_empty() && *part != "<none>")
            .map(|part| {
                let (name, rest) = part.split_once(" (").unwrap_or((part, ""));
                let desired = rest
                    .split_once('/')
                    .and_then(|(_, m)| m.split(' ').next())
                    .and_then(|m| m.parse().ok())
                    .with_context(|| format!("{key} {part:?}: no (n/m replicas created)"))?;
                Ok(Described {
                    name: name.to_owned(),
                    desired,
                })
            })
            .collect()
    };
    Ok((field("NewReplicaSet:")?, field("OldReplicaSets:")?))
}

/// What kubectl says about one Deployment, in the table's words.
#[derive(Debug, Clone, PartialEq, Eq)]
struct DeployView {
    raw: String,
    exit: String,
    message: String,
    new_rs: String,
    new_role: String,
    new_images: String,
    old_serving: String,
}

/// kubectl's rollout status output → (exit state, message inside its frame).
fn rollout_frame(name: &str, code: i32, stdout: &str, stderr: &str) -> Result<(String, String)> {
    let out = stdout.trim_end_matches('\n');
    let waiting = format!("Waiting for deployment \"{name}\" rollout to finish: ");
    let done = format!("deployment \"{name}\" ");
    let error = format!("error: deployment \"{name}\" ");
    if code != 0 {
        let err = stderr.trim_end_matches('\n');
        return match err.strip_prefix(&error) {
            Some(m) => Ok((format!("error (exit {code})"), m.to_owned())),
            None => bail!("kubectl rollout status exited {code} outside its frame: {err:?}"),
        };
    }
    if let Some(m) = out
        .strip_prefix(&waiting)
        .and_then(|m| m.strip_suffix("..."))
    {
        return Ok(("waiting (exit 0)".into(), m.to_owned()));
    }
    if let Some(m) = out
        .strip_suffix("...")
        .filter(|m| *m == "Waiting for deployment spec update to be observed")
    {
        return Ok(("waiting (exit 0)".into(), m.to_owned()));
    }
    if let Some(m) = out
        .strip_prefix(&done)
        .filter(|m| *m == "successfully rolled out")
    {
        return Ok(("done (exit 0)".into(), m.to_owned()));
    }
    bail!("kubectl rollout status printed something outside its frames: {out:?}")
}

fn rs_label(name: &str, rs: Option<&KubectlRs>) -> String {
    format!("{name} rev {}", rs.map_or("?", |r| r.revision.as_str()))
}

async fn kubectl_deployment(k: &Kubectl, ns: &str) -> Result<DeployView> {
    let ran = k
        .run(&[
            "rollout",
            "status",
            "deployment/web",
            "-n",
            ns,
            "--watch=false",
        ])
        .await?;
    let (exit, message) = rollout_frame("web", ran.code, &ran.stdout, &ran.stderr)?;
    let (new, old) = kubectl_describe_rs(k, ns, "web").await?;
    let rs = kubectl_replicasets(k, ns).await?;
    let new_rs = new.first().map(|d| &d.name);
    let done = exit.starts_with("done");
    // kubectl lists every old ReplicaSet; those with pods still serve.
    let mut old_serving: Vec<String> = old
        .iter()
        .filter(|d| d.desired > 0)
        .map(|d| rs_label(&d.name, rs.get(&d.name)))
        .collect();
    old_serving.sort();
    Ok(DeployView {
        raw: format!("{}{}", ran.stdout, ran.stderr).trim().to_owned(),
        exit,
        message,
        new_rs: new_rs.map_or("<none>".into(), |n| rs_label(n, rs.get(n))),
        // The new ReplicaSet serves once kubectl says the rollout is done.
        new_role: match new_rs {
            None => "<none>".into(),
            Some(_) if done => "Stable".into(),
            Some(_) => "New".into(),
        },
        new_images: new_rs
            .and_then(|n| rs.get(n))
            .map_or("<none>".into(), |r| r.images.clone()),
        old_serving: if old_serving.is_empty() {
            "<none>".into()
        } else {
            old_serving.join(", ")
        },
    })
}

fn revision_label(r: &Value) -> String {
    format!(
        "{} rev {}",
        r["name"].as_str().unwrap_or("?"),
        r["revision"].as_i64().map_or("?".into(), |v| v.to_string())
    )
}

fn images(v: &Value) -> String {
    v.as_array()
        .map(|a| {
            a.iter()
                .map(|i| i.as_str().unwrap_or("?").to_owned())
                .collect::<Vec<_>>()
                .join(" ")
        })
        .unwrap_or_default()
}

fn shipdeck_deployment_rows(state: &str, k: &DeployView, r: &Value) -> Vec<Row> {
    let exit = match r["phase"].as_str() {
        Some("Healthy") => "done (exit 0)",
        Some("Degraded") => "error (exit 1)",
        Some("Progressing" | "Paused") => "waiting (exit 0)",
        _ => "?",
    };
    let revisions = r["revisions"].as_array().cloned().unwrap_or_default();
    let role = |name: &'static str| revisions.iter().filter(move |v| v["role"] == name);
    // The new ReplicaSet: the one in the role New, or the stable one once done.
    let new = role("New")
        .next()
        .or_else(|| role("Stable").next().filter(|_| r["phase"] == "Healthy"));
    let mut serving: Vec<String> = role("Stable")
        .filter(|v| Some(*v) != new)
        .map(revision_label)
        .collect();
    serving.sort();
    vec![
        Row::new(state, "exit", &k.exit, exit),
        Row::new(
            state,
            "message",
            &k.message,
            r["message"].as_str().unwrap_or("?"),
        ),
        Row::new(
            state,
            "new rs",
            &k.new_rs,
            new.map_or("<none>".into(), revision_label),
        ),
        Row::new(
            state,
            "new rs role",
            &k.new_role,
            new.and_then(|v| v["role"].as_str()).unwrap_or("<none>"),
        ),
        Row::new(
            state,
            "new rs images",
            &k.new_images,
            new.map_or("<none>".into(), |v| images(&v["images"])),
        ),
        Row::new(
            state,
            "old rs serving",
            &k.old_serving,
            if serving.is_empty() {
                "<none>".into()
            } else {
                serving.join(", ")
            },
        ),
    ]
}

// ---------------------------------------------------------------- Flagger canaries

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum CanaryState {
    Initialized,
    ProgressingAtWeight,
    WaitingPromotion,
    Succeeded,
    Failed,
}

impl CanaryState {
    const ALL: [CanaryState; 5] = [
        Self::Initialized,
        Self::ProgressingAtWeight,
        Self::WaitingPromotion,
        Self::Succeeded,
        Self::Failed,
    ];

    fn label(self) -> &'static str {
        match self {
            Self::Initialized => "initialized",
            Self::ProgressingAtWeight => "progressing at 25%",
            Self::WaitingPromotion => "waiting promotion",
            Self::Succeeded => "succeeded",
            Self::Failed => "failed",
        }
    }
}

/// The Canary over `podinfo`, weights 25 % up to 50 %, with `webhooks`. Flagger's
/// `kubernetes` provider cannot shift traffic (it turns weights into iterations), so the
/// canary routes through the NGINX provider: Flagger writes the weight into a canary copy of
/// the Ingress [`ingress`] (a built-in object of this namespace; no ingress controller reads
/// it here, and none needs to for Flagger's phases and weights).
fn canary(ns: &str, webhooks: Value) -> Value {
    let mut v = Canary::over("podinfo")
        .analysis(Analysis::Weights { max: 50, step: 25 })
        .value();
    v["metadata"]["namespace"] = json!(ns);
    v["spec"]["provider"] = json!("nginx");
    v["spec"]["ingressRef"] =
        json!({"apiVersion": "networking.k8s.io/v1", "kind": "Ingress", "name": "podinfo"});
    if webhooks.as_array().is_some_and(|w| !w.is_empty()) {
        v["spec"]["analysis"]["webhooks"] = webhooks;
    }
    v
}

/// The Ingress the canary's routes are copied from.
fn ingress() -> Value {
    json!({
        "apiVersion": "networking.k8s.io/v1",
        "kind": "Ingress",
        "metadata": {"name": "podinfo"},
        "spec": {
            "ingressClassName": "nginx",
            "rules": [{"host": "podinfo.example.test", "http": {"paths": [{
                "path": "/", "pathType": "Prefix",
                "backend": {"service": {"name": "podinfo", "port": {"number": 9898}}},
            }]}}],
        },
    })
}

fn podinfo(image: &str) -> Value {
    Deployment::new("podinfo", image).replicas(2).value()
}

/// `status.phase` and `status.canaryWeight` of the Canary as the API server has it.
async fn canary_status(api: &Api<kube::api::DynamicObject>) -> Result<(String, i64)> {
    let c = api.get("podinfo").await?;
    let status = &c.data["status"];
    Ok((
        status["phase"].as_str().unwrap_or("").to_owned(),
        status["canaryWeight"].as_i64().unwrap_or(0),
    ))
}

async fn wait_canary(
    api: &Api<kube::api::DynamicObject>,
    ns: &str,
    what: &str,
    done: impl Fn(&str, i64) -> bool,
) -> Result<()> {
    wait_until(&format!("{ns}: canary {what}"), TIMEOUT, || async {
        let (phase, weight) = canary_status(api).await?;
        Ok(if done(&phase, weight) {
            Check::Done(())
        } else {
            Check::NotYet(format!("phase {phase:?} weight {weight}"))
        })
    })
    .await
}

/// The loadtester's gate for this canary: `/gate/open` or `/gate/close`.
async fn gate(loadtester: &str, ns: &str, verb: &str) -> Result<()> {
    let url = format!("{loadtester}/gate/{verb}");
    let res = reqwest::Client::new()
        .post(&url)
        .json(&json!({"name": "podinfo", "namespace": ns}))
        .send()
        .await
        .with_context(|| format!("POST {url}"))?;
    if !res.status().is_success() {
        bail!("POST {url}: {}", res.status());
    }
    Ok(())
}

/// Drive the Canary in `ns` into `state`: initialised over podinfo v1, then (except for
/// `Initialized`) podinfo v2 shipped and Flagger's analysis run to the state.
async fn drive_canary(client: &kube::Client, lt: &str, ns: &str, state: CanaryState) -> Result<()> {
    let hooks = match state {
        CanaryState::Initialized | CanaryState::Succeeded => json!([]),
        CanaryState::ProgressingAtWeight => json!([
            {"name": "step", "type": "confirm-traffic-increase", "url": format!("{lt}/gate/check")},
        ]),
        CanaryState::WaitingPromotion => json!([
            {"name": "hold", "type": "confirm-promotion", "url": format!("{lt}/gate/halt")},
        ]),
        CanaryState::Failed => json!([
            {"name": "pre", "type": "pre-rollout", "url": format!("{lt}/gate/halt")},
        ]),
    };
    let gvk = GroupVersionKind::gvk("flagger.app", "v1beta1", "Canary");
    let api = dynamic_api(client, &gvk, Some(ns)).await?;
    apply_value(client, Some(ns), podinfo("example.test/podinfo:1")).await?;
    apply_value(client, Some(ns), ingress()).await?;
    apply_value(client, Some(ns), canary(ns, hooks)).await?;
    wait_canary(&api, ns, "Initialized", |p, _| p == "Initialized").await?;
    if state == CanaryState::Initialized {
        return Ok(());
    }
    if state == CanaryState::ProgressingAtWeight {
        gate(lt, ns, "open").await?;
    }
    apply_value(client, Some(ns), podinfo("example.test/podinfo:2")).await?;
    match state {
        CanaryState::Initialized => Ok(()),
        CanaryState::ProgressingAtWeight => {
            wait_canary(&api, ns, "at weight 25", |p, w| {
                p == "Progressing" && w == 25
            })
            .await?;
            // Closed before the next interval: Flagger holds the weight.
            gate(lt, ns, "close").await
        }
        CanaryState::WaitingPromotion => {
            wait_canary(&api, ns, "WaitingPromotion", |p, _| p == "WaitingPromotion").await
        }
        CanaryState::Succeeded => wait_canary(&api, ns, "Succeeded", |p, _| p == "Succeeded").await,
        CanaryState::Failed => wait_canary(&api, ns, "Failed", |p, _| p == "Failed").await,
    }
}

/// What kubectl says about one Canary and its Deployments.
#[derive(Debug, Clone, PartialEq, Eq)]
struct CanaryView {
    status: String,
    weight: String,
    failed_checks: String,
    canary_rs: String,
    stable_rs: String,
    images: String,
    replicas: String,
}

fn rs_detail(name: Option<&String>, rs: &BTreeMap<String, KubectlRs>) -> String {
    match name {
        None => "<none>".into(),
        Some(n) => {
            let r = rs.get(n);
            format!(
                "{} {} ready {}/{}",
                rs_label(n, r),
                r.map_or("?", |r| r.images.as_str()),
                r.map_or(0, |r| r.ready),
                r.map_or(0, |r| r.desired)
            )
        }
    }
}

async fn kubectl_canary(k: &Kubectl, ns: &str) -> Result<CanaryView> {
    let out = k.ok(&["get", "canaries", "-n", ns, "-o", "wide"]).await?;
    let rows = table(&out);
    let row = rows
        .iter()
        .find(|r| r.iter().any(|(h, v)| h == "NAME" && v == "podinfo"))
        .with_context(|| format!("no podinfo in kubectl get canaries:\n{out}"))?;
    let col = |name: &str| -> Result<String> {
        row.iter()
            .find(|(h, _)| h == name)
            .map(|(_, v)| v.clone())
            .with_context(|| format!("no {name} column in kubectl get canaries:\n{out}"))
    };
    let rs = kubectl_replicasets(k, ns).await?;
    let (target_new, _) = kubectl_describe_rs(k, ns, "podinfo").await?;
    let (primary_new, _) = kubectl_describe_rs(k, ns, "podinfo-primary").await?;
    let deployments = k
        .ok(&[
            "get",
            "deployments",
            "-n",
            ns,
            "-o",
            "custom-columns=NAME:.metadata.name,DESIRED:.spec.replicas,AVAILABLE:.status.availableReplicas,IMAGES:.spec.template.spec.containers[*].image",
        ])
        .await?;
    let (mut available, mut desired, mut images) = (0, 0, String::from("<none>"));
    for d in table(&deployments) {
        let cell = |n: &str| {
            d.iter()
                .find(|(h, _)| h == n)
                .map(|(_, v)| v.clone())
                .unwrap_or_default()
        };
        let name = cell("NAME");
        if name != "podinfo" && name != "podinfo-primary" {
            continue;
        }
        available += cell("AVAILABLE").parse::<i64>().unwrap_or(0);
        desired += cell("DESIRED").parse::<i64>().unwrap_or(0);
        if name == "podinfo" {
            images = cell("IMAGES");
        }
    }
    Ok(CanaryView {
        status: col("STATUS")?,
        weight: col("WEIGHT")?,
        failed_checks: col("FAILEDCHECKS")?,
        canary_rs: rs_detail(target_new.first().map(|d| &d.name), &rs),
        stable_rs: rs_detail(primary_new.first().map(|d| &d.name), &rs),
        images,
        replicas: format!("{available}/{desired}"),
    })
}

fn shipdeck_rs_detail(r: &Value, role: &str) -> String {
    let revisions = r["revisions"].as_array().cloned().unwrap_or_default();
    match revisions.iter().find(|v| v["role"] == role) {
        None => "<none>".into(),
        Some(v) => format!(
            "{} {} ready {}/{}",
            revision_label(v),
            images(&v["images"]),
            v["ready"].as_i64().unwrap_or(-1),
            v["desired"].as_i64().unwrap_or(-1)
        ),
    }
}

fn shipdeck_canary_rows(state: &str, k: &CanaryView, r: &Value) -> Vec<Row> {
    let num = |v: &Value| v.as_i64().map_or("<none>".into(), |n| n.to_string());
    vec![
        Row::new(
            state,
            "status",
            &k.status,
            r["flagger_phase"].as_str().unwrap_or("<none>"),
        ),
        Row::new(state, "weight (set)", &k.weight, num(&r["set_weight"])),
        Row::new(
            state,
            "weight (actual)",
            &k.weight,
            num(&r["actual_weight"]),
        ),
        Row::new(
            state,
            "failed checks",
            &k.failed_checks,
            num(&r["failed_checks"]),
        ),
        Row::new(
            state,
            "canary rs (target)",
            &k.canary_rs,
            shipdeck_rs_detail(r, "Canary"),
        ),
        Row::new(
            state,
            "stable rs (primary)",
            &k.stable_rs,
            shipdeck_rs_detail(r, "Stable"),
        ),
        Row::new(state, "images", &k.images, {
            let i = images(&r["images"]);
            if i.is_empty() { "<none>".into() } else { i }
        }),
        Row::new(
            state,
            "replicas",
            &k.replicas,
            format!(
                "{}/{}",
                num(&r["replicas"]["available"]),
                num(&r["replicas"]["desired"])
            ),
        ),
    ]
}

// ---------------------------------------------------------------- comparing

/// Read kubectl for every case, take one snapshot, read kubectl again; compare the cases
/// whose kubectl reading held across the snapshot, until all are compared.
async fn compare<V, R, RF, C>(
    env: &TestEnv,
    context: &str,
    (kind, name): (&str, &str),
    cases: &[(String, String)],
    read: R,
    rows_of: C,
) -> Result<Vec<Row>>
where
    V: PartialEq + std::fmt::Debug,
    R: Fn(String) -> RF,
    RF: std::future::Future<Output = Result<V>>,
    C: Fn(&str, &V, &Value) -> Vec<Row>,
{
    let home = tempfile::tempdir()?;
    let mut pending: Vec<&(String, String)> = cases.iter().collect();
    let mut rows = Vec::new();
    for round in 1..=ROUNDS {
        let before = try_join_all(pending.iter().map(|(_, ns)| read(ns.clone()))).await?;
        let snapshot = shipdeck_snapshot(env, context, home.path()).await?;
        let after = try_join_all(pending.iter().map(|(_, ns)| read(ns.clone()))).await?;
        let mut still = Vec::new();
        for (case, (b, a)) in pending.iter().zip(before.iter().zip(&after)) {
            let (state, ns) = (case.0.as_str(), case.1.as_str());
            if b != a {
                eprintln!(
                    "round {round}: {state} changed during the snapshot, again\n  {b:?}\n  {a:?}"
                );
                still.push(*case);
                continue;
            }
            let release = snapshot_release(&snapshot, kind, ns, name)
                .with_context(|| format!("{state}: no {kind} {ns}/{name} in the snapshot"))?;
            eprintln!(
                "{state} ({ns}): kubectl {b:?}\n  shipdeck {} {}: {}",
                release["phase"], release["flagger_phase"], release["message"]
            );
            rows.extend(rows_of(state, b, release));
        }
        pending = still;
        if pending.is_empty() {
            return Ok(rows);
        }
    }
    bail!(
        "still changing after {ROUNDS} rounds: {:?}",
        pending.iter().map(|c| &c.0).collect::<Vec<_>>()
    )
}

/// A namespace of its own on `cluster` for one case, deleted when the test ends.
async fn namespace(
    client: &kube::Client,
    cluster: &str,
    prefix: &str,
) -> Result<(String, NamespaceCleanup)> {
    let ns = unique_name(prefix);
    ensure_namespace(client, &ns).await?;
    let cleanup = NamespaceCleanup::new(&format!("{cluster}-admin"), &ns);
    Ok((ns, cleanup))
}

#[tokio::test]
async fn deployments_say_what_kubectl_rollout_status_says() -> Result<()> {
    let start = Instant::now();
    let env = TestEnv::get()?;
    let admin = env.client("a-admin").await?;
    let mut cases = Vec::new();
    let mut cleanups = Vec::new();
    for state in DeployState::ALL {
        let (ns, cleanup) = namespace(&admin, "a", "diffd").await?;
        cleanups.push(cleanup);
        cases.push((state, ns));
    }
    try_join_all(cases.iter().map(|(state, ns)| async {
        drive_deployment(&admin, ns, *state)
            .await
            .with_context(|| format!("driving {}", state.label()))
    }))
    .await?;
    eprintln!("deployments driven in {:?}", start.elapsed());
    let k = Kubectl::new(env, "a-viewer")?;
    let labelled: Vec<(String, String)> = cases
        .iter()
        .map(|(s, ns)| (s.label().to_owned(), ns.clone()))
        .collect();
    let rows = compare(
        env,
        "a-viewer",
        ("Deployment", "web"),
        &labelled,
        |ns| {
            let k = k.clone();
            async move { kubectl_deployment(&k, &ns).await }
        },
        |state, view: &DeployView, r| {
            eprintln!("  kubectl rollout status: {}", view.raw);
            shipdeck_deployment_rows(state, view, r)
        },
    )
    .await?;
    let differ = print_table(
        "Deployments: kubectl rollout status / describe vs shipdeck snapshot --json",
        &rows,
    );
    eprintln!(
        "{} rows, {differ} differ, {:?} in all",
        rows.len(),
        start.elapsed()
    );
    assert_eq!(
        rows.len(),
        DeployState::ALL.len() * 6,
        "a row per field and state"
    );
    assert_eq!(differ, 0, "shipdeck differs from kubectl (table above)");
    drop(cleanups);
    Ok(())
}

#[tokio::test]
async fn canaries_say_what_kubectl_get_canaries_says() -> Result<()> {
    let start = Instant::now();
    let env = TestEnv::get()?;
    let admin = env.client("b-admin").await?;
    let lt = env.loadtester_url("b")?.trim_end_matches('/').to_owned();
    let mut cases = Vec::new();
    let mut cleanups = Vec::new();
    for state in CanaryState::ALL {
        let (ns, cleanup) = namespace(&admin, "b", "diffc").await?;
        cleanups.push(cleanup);
        cases.push((state, ns));
    }
    try_join_all(cases.iter().map(|(state, ns)| {
        let (admin, lt) = (admin.clone(), lt.clone());
        async move {
            drive_canary(&admin, &lt, ns, *state)
                .await
                .with_context(|| format!("driving {}", state.label()))
        }
    }))
    .await?;
    eprintln!("canaries driven in {:?}", start.elapsed());
    let k = Kubectl::new(env, "b-viewer")?;
    let labelled: Vec<(String, String)> = cases
        .iter()
        .map(|(s, ns)| (s.label().to_owned(), ns.clone()))
        .collect();
    let rows = compare(
        env,
        "b-viewer",
        ("Canary", "podinfo"),
        &labelled,
        |ns| {
            let k = k.clone();
            async move { kubectl_canary(&k, &ns).await }
        },
        shipdeck_canary_rows,
    )
    .await?;
    let differ = print_table(
        "Flagger canaries: kubectl get canaries / describe vs shipdeck snapshot --json",
        &rows,
    );
    eprintln!(
        "{} rows, {differ} differ, {:?} in all",
        rows.len(),
        start.elapsed()
    );
    assert_eq!(
        rows.len(),
        CanaryState::ALL.len() * 8,
        "a row per field and state"
    );
    assert_eq!(differ, 0, "shipdeck differs from kubectl (table above)");
    drop(cleanups);
    Ok(())
}
