#![cfg(feature = "e2e")]
//! Argo CD Applications against the real components of the test environment: the
//! application-controller and repo-server (Argo CD v3.6.1, tests/env/argocd.sh) syncing from a
//! git repository served on loopback, and the real API server's Application CRD. Every write
//! goes the console's path: the Release derived by the core from the object read back,
//! `core::action::plan`, the executor, `KubeTarget` as the on-call identity.
//! Each test has its own namespace (the destination) and its own Application and repository.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[allow(dead_code)]
mod actions;
#[path = "support/argocd_cli.rs"]
mod argocd_cli;
mod support;
mod tmux;

use std::panic::AssertUnwindSafe;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use anyhow::{Context, Result, anyhow, bail};
use futures::FutureExt;
use kube::api::{Api, DeleteParams, DynamicObject, Patch, PatchParams};
use serde_json::{Value, json};
use shipdeck::action::executor::ActionTarget;
use shipdeck::action::kube::request::api_resource;
use shipdeck::core::action::{ActionKind, Disabled};
use shipdeck::core::facts::ObjectFacts;
use shipdeck::core::kinds::application::{
    APPLICATIONS, AUTOMATED_BEFORE, ApplicationFacts, SENDER, chosen, derive,
};
use shipdeck::core::model::Release;
use shipdeck::core::msg::Outcome;
use shipdeck::core::status::Ctx;
use shipdeck::source::kube::project::{self, Keep, Projected};

use actions::{Console, Fixture, assert_applied};
use argocd_cli::{AppGet, ArgocdCli, sync_policy};
use support::TestEnv;
use support::apply::apply_yaml;
use support::wait::{Check, wait_until};

/// A sync on the loaded 2-core machine: repo-server fetch, diff, apply, health.
const SYNC_TIMEOUT: Duration = Duration::from_secs(120);

fn apps(fx: &Fixture, ns: &str) -> Api<DynamicObject> {
    Api::namespaced_with(fx.admin.clone(), ns, &api_resource(&APPLICATIONS))
}

fn argocd_ns(env: &TestEnv) -> Result<String> {
    env.var("SHIPDECK_TESTENV_ARGOCD_NAMESPACE")
        .map(str::to_owned)
        .ok_or_else(|| {
            anyhow!(
                "no Argo CD in this test environment: build it (tests/env/build argocd) and run a private env (SHIPDECK_TESTENV_DIR=/root/env-argocd tests/env/up)"
            )
        })
}

/// The Application read back and derived by the core, as the console shows it.
async fn app(fx: &Fixture, ns: &str, name: &str) -> Result<(Value, Release)> {
    let (v, _, r) = app_facts(fx, ns, name).await?;
    Ok((v, r))
}

/// `app`, with the facts the core derived the row from.
async fn app_facts(
    fx: &Fixture,
    ns: &str,
    name: &str,
) -> Result<(Value, ApplicationFacts, Release)> {
    let obj = apps(fx, ns)
        .get(name)
        .await
        .with_context(|| format!("get application {name}"))?;
    let mut v = serde_json::to_value(obj)?;
    if let Some(o) = v.as_object_mut() {
        o.entry("apiVersion")
            .or_insert_with(|| "argoproj.io/v1alpha1".into());
        o.entry("kind").or_insert_with(|| "Application".into());
    }
    let Projected::Object(ObjectFacts::Application(a)) =
        project::from_value(v.clone(), &Keep::default()).map_err(|e| anyhow!(e))?
    else {
        bail!("{name} did not project as an Application: {v}");
    };
    let ctx = Ctx {
        cluster: &fx.cluster,
        service_label: "app.kubernetes.io/name",
        service_override: None,
    };
    let r = derive(&ctx, &a);
    Ok((v, a, r))
}

/// Wait until the raw Application satisfies `done`; the timeout names the last state seen.
async fn wait_app(
    fx: &Fixture,
    ns: &str,
    name: &str,
    what: &str,
    done: impl Fn(&Value) -> bool,
) -> Result<Release> {
    wait_until(what, SYNC_TIMEOUT, || async {
        let (v, r) = app(fx, ns, name).await?;
        Ok(if done(&v) {
            Check::Done(r)
        } else {
            Check::NotYet(format!(
                "sync {} health {} operationState {} history {}",
                v["status"]["sync"],
                v["status"]["health"],
                v["status"]["operationState"],
                v["status"]["history"].as_array().map_or(0, Vec::len)
            ))
        })
    })
    .await
}

/// The Application once it stops changing (two reads a second apart agree), as a user looks
/// at a settled row before pressing a key: a plan on an older view is a 409, as it should be.
async fn settled(fx: &Fixture, ns: &str, name: &str) -> Result<Release> {
    fx.settled(|| async { Ok(app(fx, ns, name).await?.1) })
        .await
}

/// Plan `kind` on the settled view and send it, as an operator would: the controller writes
/// the Application's status on its own schedule, so a write can meet a newer version (409,
/// nothing written). Then the operator looks again and confirms again: at most 4 tries,
/// each conflict printed.
async fn act(
    fx: &Fixture,
    console: &mut Console,
    id: u64,
    kind: ActionKind,
    ns: &str,
    name: &str,
) -> Result<Outcome> {
    act_chosen(fx, console, id, kind, ns, name, None).await
}

/// `act`, with a rollback to history entry `entry` chosen on the history screen (`v`).
async fn act_chosen(
    fx: &Fixture,
    console: &mut Console,
    id: u64,
    kind: ActionKind,
    ns: &str,
    name: &str,
    entry: Option<i64>,
) -> Result<Outcome> {
    for attempt in 0..4u64 {
        let mut seen = settled(fx, ns, name).await?;
        if let Some(e) = entry {
            seen = chosen(&seen, e).ok_or_else(|| anyhow!("no history entry {e}"))?;
        }
        let outcome = console
            .run(id * 10 + attempt, fx.plan(kind, &seen)?)
            .await?;
        match outcome {
            Outcome::Conflict { .. } => {
                println!("argocd {kind}: 409 on try {}, looking again", attempt + 1)
            }
            other => return Ok(other),
        }
    }
    bail!("{kind}: four conflicts in a row")
}

fn history(v: &Value) -> Vec<Value> {
    v.pointer("/status/history")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default()
}

fn op_phase(v: &Value) -> &str {
    v.pointer("/status/operationState/phase")
        .and_then(Value::as_str)
        .unwrap_or("")
}

/// A bare git repository under the env's git root (served by its git daemon) and a work
/// tree to commit into.
struct Repo {
    bare: PathBuf,
    work: PathBuf,
    url: String,
}

fn git(dir: &Path, args: &[&str]) -> Result<String> {
    let out = Command::new("git")
        .args([
            "-c",
            "user.name=shipdeck-e2e",
            "-c",
            "user.email=e2e@shipdeck.test",
        ])
        .args(args)
        .current_dir(dir)
        .output()
        .context("run git")?;
    if !out.status.success() {
        bail!("git {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    }
    Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
}

impl Repo {
    fn new(env: &TestEnv, name: &str) -> Result<Repo> {
        let root = PathBuf::from(
            env.var("SHIPDECK_TESTENV_ARGOCD_GIT_ROOT")
                .context("no git root in env.sh")?,
        );
        let base = env
            .var("SHIPDECK_TESTENV_ARGOCD_GIT_URL")
            .context("no git URL in env.sh")?;
        let bare = root.join(format!("{name}.git"));
        let work = std::env::temp_dir().join(format!("shipdeck-e2e-{name}"));
        let _ = std::fs::remove_dir_all(&work);
        std::fs::create_dir_all(&bare)?;
        std::fs::create_dir_all(&work)?;
        git(&bare, &["init", "--bare", "-q", "-b", "main"])?;
        git(&work, &["init", "-q", "-b", "main"])?;
        git(
            &work,
            &["remote", "add", "origin", bare.to_str().context("path")?],
        )?;
        Ok(Repo {
            bare,
            work,
            url: format!("{base}/{name}.git"),
        })
    }

    /// Write `files` (path, content) under `app/`, commit and push; returns the commit.
    fn commit(&self, message: &str, files: &[(&str, String)]) -> Result<String> {
        let dir = self.work.join("app");
        std::fs::create_dir_all(&dir)?;
        for (path, content) in files {
            std::fs::write(dir.join(path), content)?;
        }
        git(&self.work, &["add", "-A"])?;
        git(&self.work, &["commit", "-q", "-m", message])?;
        git(&self.work, &["push", "-q", "origin", "main"])?;
        git(&self.work, &["rev-parse", "HEAD"])
    }
}

impl Drop for Repo {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.work);
        let _ = std::fs::remove_dir_all(&self.bare);
    }
}

fn deployment(image: &str) -> String {
    format!(
        "apiVersion: apps/v1\nkind: Deployment\nmetadata: {{name: web, labels: {{app.kubernetes.io/name: web}}}}\nspec:\n  replicas: 1\n  selector: {{matchLabels: {{app: web}}}}\n  template:\n    metadata: {{labels: {{app: web}}}}\n    spec:\n      containers: [{{name: web, image: \"{image}\"}}]\n"
    )
}

/// The Application; `server` is the destination (the env's cluster secret for this same API
/// server, `SHIPDECK_TESTENV_ARGOCD_DEST_A`).
fn application(name: &str, ns: &str, repo: &str, dest: &str, server: &str) -> String {
    format!(
        "apiVersion: argoproj.io/v1alpha1\nkind: Application\nmetadata: {{name: {name}, namespace: {ns}}}\nspec:\n  project: default\n  source: {{repoURL: \"{repo}\", path: app, targetRevision: main}}\n  destination: {{server: \"{server}\", namespace: {dest}}}\n"
    )
}

fn dest(env: &TestEnv) -> Result<String> {
    env.var("SHIPDECK_TESTENV_ARGOCD_DEST_A")
        .map(str::to_owned)
        .context("no Argo CD destination in env.sh")
}

async fn deployment_image(fx: &Fixture) -> Result<String> {
    let v = fx.get(&shipdeck::core::action::DEPLOYMENTS, "web").await?;
    Ok(actions::images(&v).join(","))
}

async fn wait_image(fx: &Fixture, image: &str) -> Result<()> {
    wait_until("deployment image", SYNC_TIMEOUT, || async {
        let now = deployment_image(fx).await.unwrap_or_else(|e| e.to_string());
        Ok(if now == image {
            Check::Done(())
        } else {
            Check::NotYet(now)
        })
    })
    .await
}

async fn oncall_user(fx: &Fixture) -> String {
    let who = fx.oncall.identity().await;
    who.split(" [").next().unwrap_or_default().to_string()
}

#[tokio::test]
async fn sync_a_then_b_rollback_to_a_and_the_automated_two_step() -> Result<()> {
    let env = TestEnv::get()?;
    let argocd = argocd_ns(env)?;
    let fx = Fixture::new("a").await?;
    let result = AssertUnwindSafe(sync_body(env, &fx, &argocd))
        .catch_unwind()
        .await;
    let _ = apps(&fx, &argocd)
        .delete(&fx.ns, &DeleteParams::default())
        .await;
    fx.done(result).await
}

async fn sync_body(env: &TestEnv, fx: &Fixture, argocd: &str) -> Result<()> {
    let name = fx.ns.clone();
    let repo = Repo::new(env, &name)?;
    let a = repo.commit("A", &[("deploy.yaml", deployment("example.test/web:A"))])?;
    apply_yaml(
        &fx.admin,
        Some(argocd),
        &application(&name, argocd, &repo.url, &fx.ns, &dest(env)?),
    )
    .await?;
    let user = oncall_user(fx).await;
    assert!(!user.is_empty() && user != "unknown", "identity: {user:?}");
    let mut console = Console::new("a", fx.oncall.clone(), None);

    // Synced to A: the controller resolved main to A; `s` writes the operation.
    let seen = wait_app(fx, argocd, &name, "main resolved to A", |v| {
        v.pointer("/status/sync/revision") == Some(&json!(a))
    })
    .await?;
    assert!(
        seen.message.raw().starts_with("OutOfSync"),
        "{}",
        seen.message.raw()
    );
    let _ = seen.clone();
    let sync = fx.plan(ActionKind::Sync, &settled(fx, argocd, &name).await?)?;
    let body = serde_json::to_string(&sync.calls[0]).unwrap_or_default();
    assert!(
        body.contains(&a) && body.contains(SENDER),
        "the modal shows the write: {body}"
    );
    let _ = sync;
    assert_applied(
        &act(fx, &mut console, 1, ActionKind::Sync, argocd, &name).await?,
        "sync to A",
    );
    let synced = wait_app(fx, argocd, &name, "synced to A", |v| {
        op_phase(v) == "Succeeded" && history(v).len() == 1
    })
    .await?;
    wait_image(fx, "example.test/web:A").await?;
    assert_eq!(
        history(&app(fx, argocd, &name).await?.0)[0]["revision"],
        json!(a)
    );
    // Another operation while one runs is refused by the core (Argo CD's own rule).
    let (_, again) = app(fx, argocd, &name).await?;
    assert!(
        fx.plan(ActionKind::Terminate, &again).is_err(),
        "nothing to terminate"
    );

    // B: hard refresh (`f`) makes the controller resolve main again, then sync.
    let b = repo.commit("B", &[("deploy.yaml", deployment("example.test/web:B"))])?;
    let _ = synced;
    let refresh = fx.plan(ActionKind::Refresh, &settled(fx, argocd, &name).await?)?;
    assert!(refresh.calls[0].body_text().contains("hard"));
    assert_applied(
        &act(fx, &mut console, 2, ActionKind::Refresh, argocd, &name).await?,
        "hard refresh",
    );
    let seen_b = wait_app(fx, argocd, &name, "main resolved to B", |v| {
        v.pointer("/status/sync/revision") == Some(&json!(b)) && op_phase(v) != "Running"
    })
    .await?;
    let _ = seen_b;
    assert_applied(
        &act(fx, &mut console, 3, ActionKind::Sync, argocd, &name).await?,
        "sync to B",
    );
    let at_b = wait_app(fx, argocd, &name, "synced to B", |v| {
        op_phase(v) == "Succeeded" && history(v).len() == 2
    })
    .await?;
    wait_image(fx, "example.test/web:B").await?;

    // Rollback (`u`) to the entry before the newest: A, with the shipdeck user recorded.
    let _ = at_b;
    let rollback = fx.plan(ActionKind::Undo, &settled(fx, argocd, &name).await?)?;
    assert_eq!(rollback.calls.len(), 1, "manual sync: one write");
    assert_applied(
        &act(fx, &mut console, 4, ActionKind::Undo, argocd, &name).await?,
        "rollback to A",
    );
    let (v, _) = {
        wait_app(fx, argocd, &name, "rolled back to A", |v| {
            op_phase(v) == "Succeeded" && history(v).len() == 3
        })
        .await?;
        app(fx, argocd, &name).await?
    };
    wait_image(fx, "example.test/web:A").await?;
    let h = history(&v);
    println!(
        "argocd history after rollback: {:?}",
        h.iter()
            .map(|e| (e["id"].clone(), e["revision"].clone()))
            .collect::<Vec<_>>()
    );
    assert_eq!(h.len(), 3);
    assert_eq!(h[2]["revision"], json!(a), "rollback landed A");
    assert_eq!(
        v.pointer("/status/operationState/operation/initiatedBy/username"),
        Some(&json!(user)),
        "initiatedBy is the shipdeck user"
    );
    assert_eq!(
        v.pointer("/status/operationState/operation/sync/syncStrategy"),
        Some(&json!({"apply": {}}))
    );

    // Automated sync on: Argo CD syncs to B by itself; a rollback is then the two-step.
    // (Without self-heal: Argo CD v3 heals with a partial sync of the drifted resources,
    // which writes no history entry; a plain automated sync to a new revision does.)
    let automated = json!({"prune": true});
    apps(fx, argocd)
        .patch(
            &name,
            &PatchParams::default(),
            &Patch::Merge(json!({"spec": {"syncPolicy": {"automated": automated}}})),
        )
        .await?;
    let auto = wait_app(fx, argocd, &name, "automated sync to B", |v| {
        op_phase(v) == "Succeeded" && history(v).len() == 4
    })
    .await?;
    wait_image(fx, "example.test/web:B").await?;
    let auto = {
        let _ = auto;
        settled(fx, argocd, &name).await?
    };
    // History is A(0) B(1) A(2) B(3): `u` alone goes to 2; the chooser picks 0 instead.
    assert_eq!(auto.facts.undo_target.as_ref().map(|t| t.1), Some(2));
    let two_step = fx.plan(
        ActionKind::Undo,
        &chosen(&auto, 0).ok_or_else(|| anyhow!("no entry 0"))?,
    )?;
    assert_eq!(
        two_step.calls.len(),
        2,
        "automated on: off first, then the rollback"
    );
    assert!(
        two_step
            .notes
            .iter()
            .any(|n| n.contains("Argo CD refuses a rollback")),
        "{:?}",
        two_step.notes
    );
    // The rollback alone (the second write) is what Argo CD refuses while automated is on:
    // the core never sends it without the first.
    assert_eq!(
        two_step.calls[0].describe(),
        format!(
            "PATCH (application/merge-patch+json) argoproj.io/v1alpha1 applications {argocd}/{name}"
        )
    );
    assert!(
        fx.plan(ActionKind::Resume, &auto).is_err(),
        "nothing to turn back on yet"
    );
    assert!(
        two_step.calls[1].body_text().contains(&a),
        "entry 0's revision: {}",
        two_step.calls[1].body_text()
    );
    assert_applied(
        &act_chosen(
            fx,
            &mut console,
            5,
            ActionKind::Undo,
            argocd,
            &name,
            Some(0),
        )
        .await?,
        "two-step rollback to the chosen entry 0",
    );
    let (v, after) = {
        wait_app(fx, argocd, &name, "two-step rolled back to A", |v| {
            op_phase(v) == "Succeeded" && history(v).len() == 5
        })
        .await?;
        app(fx, argocd, &name).await?
    };
    wait_image(fx, "example.test/web:A").await?;
    assert_eq!(history(&v)[4]["revision"], json!(a));
    assert_eq!(
        v.pointer("/status/operationState/operation/sync/source"),
        history(&v)[0].get("source"),
        "the chosen entry's source written back"
    );
    println!(
        "argocd rollback to chosen entry 0 (not the previous, 2): history {:?}",
        history(&v)
            .iter()
            .map(|e| (e["id"].clone(), e["revision"].clone()))
            .collect::<Vec<_>>()
    );
    assert_eq!(
        v.pointer("/spec/syncPolicy/automated"),
        None,
        "automated sync is off"
    );
    let saved = v["metadata"]["annotations"][AUTOMATED_BEFORE]
        .as_str()
        .unwrap_or_default();
    assert_eq!(
        serde_json::from_str::<Value>(saved).ok(),
        Some(automated.clone())
    );
    // A's image stays: nothing syncs it back while automated sync is off.
    assert_eq!(deployment_image(fx).await?, "example.test/web:A");

    // "Turn it back on" (space = resume): automated as it was, and Argo CD syncs to B.
    let _ = after;
    let resume = fx.plan(ActionKind::Resume, &settled(fx, argocd, &name).await?)?;
    assert!(resume.calls[0].body_text().contains("prune"));
    assert_applied(
        &act(fx, &mut console, 6, ActionKind::Resume, argocd, &name).await?,
        "automated back on",
    );
    let (v, _) = app(fx, argocd, &name).await?;
    assert_eq!(v.pointer("/spec/syncPolicy/automated"), Some(&automated));
    assert_eq!(v["metadata"]["annotations"].get(AUTOMATED_BEFORE), None);
    wait_image(fx, "example.test/web:B").await?;
    Ok(())
}

#[tokio::test]
async fn terminate_stops_a_sync_waiting_on_a_wave() -> Result<()> {
    let env = TestEnv::get()?;
    let argocd = argocd_ns(env)?;
    let fx = Fixture::new("a").await?;
    let result = AssertUnwindSafe(terminate_body(env, &fx, &argocd))
        .catch_unwind()
        .await;
    let _ = apps(&fx, &argocd)
        .delete(&fx.ns, &DeleteParams::default())
        .await;
    fx.done(result).await
}

async fn terminate_body(env: &TestEnv, fx: &Fixture, argocd: &str) -> Result<()> {
    let name = fx.ns.clone();
    let repo = Repo::new(env, &name)?;
    // Wave 0: a claim no provisioner ever binds (Pending = Progressing to Argo CD), so the
    // sync waits before wave 1 for as long as nobody stops it.
    let pvc = "apiVersion: v1\nkind: PersistentVolumeClaim\nmetadata:\n  name: never-bound\n  annotations: {argocd.argoproj.io/sync-wave: \"0\"}\nspec:\n  storageClassName: shipdeck-none\n  accessModes: [ReadWriteOnce]\n  resources: {requests: {storage: 1Mi}}\n".to_string();
    let cm = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: after-the-wait\n  annotations: {argocd.argoproj.io/sync-wave: \"1\"}\ndata: {k: v}\n".to_string();
    let c = repo.commit("slow", &[("pvc.yaml", pvc), ("cm.yaml", cm)])?;
    apply_yaml(
        &fx.admin,
        Some(argocd),
        &application(&name, argocd, &repo.url, &fx.ns, &dest(env)?),
    )
    .await?;
    let seen = wait_app(fx, argocd, &name, "main resolved", |v| {
        v.pointer("/status/sync/revision") == Some(&json!(c))
    })
    .await?;
    let mut console = Console::new("a", fx.oncall.clone(), None);
    assert_applied(
        &console.run(1, fx.plan(ActionKind::Sync, &seen)?).await?,
        "sync",
    );
    let running = wait_app(fx, argocd, &name, "sync running, waiting on wave 0", |v| {
        op_phase(v) == "Running"
            && v.pointer("/status/operationState/syncResult/resources")
                .and_then(Value::as_array)
                .is_some_and(|r| r.iter().any(|r| r["name"] == "never-bound"))
    })
    .await?;
    let refused = fx
        .plan(ActionKind::Sync, &running)
        .err()
        .map(|e| e.to_string());
    let why = Disabled::NotApplicable("another operation is already in progress").to_string();
    assert!(
        refused.as_deref().is_some_and(|r| r.ends_with(&why)),
        "{refused:?}"
    );
    // Terminate on the view as it is now (the controller keeps writing the running state).
    let running = settled(fx, argocd, &name).await?;
    assert_eq!(
        op_phase(&app(fx, argocd, &name).await?.0),
        "Running",
        "still waiting"
    );
    let started = std::time::Instant::now();
    assert_applied(
        &console
            .run(2, fx.plan(ActionKind::Terminate, &running)?)
            .await?,
        "terminate",
    );
    let (v, ended) = {
        wait_app(fx, argocd, &name, "operation terminated", |v| {
            matches!(op_phase(v), "Failed" | "Error")
        })
        .await?;
        app(fx, argocd, &name).await?
    };
    println!(
        "argocd terminate: phase {} message {:?} after {:.1}s",
        op_phase(&v),
        v.pointer("/status/operationState/message"),
        started.elapsed().as_secs_f64()
    );
    let message = v
        .pointer("/status/operationState/message")
        .and_then(Value::as_str)
        .unwrap_or("");
    assert!(message.to_lowercase().contains("terminat"), "{message}");
    assert!(
        fx.plan(ActionKind::Terminate, &ended).is_err(),
        "nothing left to terminate"
    );
    // Wave 1 never ran.
    let cms: Api<DynamicObject> = Api::namespaced_with(
        fx.admin.clone(),
        &fx.ns,
        &kube::api::ApiResource::erase::<k8s_openapi::api::core::v1::ConfigMap>(&()),
    );
    assert!(
        cms.get_opt("after-the-wait").await?.is_none(),
        "wave 1 was applied"
    );
    Ok(())
}

/// The writes against the real API server's Application CRD (schema, resourceVersion
/// precondition, RBAC), on an Application in the test's own namespace, which no controller
/// watches (the controller reads only its `argocd` namespace): its status is set by hand.
#[tokio::test]
async fn writes_are_accepted_by_the_application_crd_and_guarded() -> Result<()> {
    let fx = Fixture::new("a").await?;
    let result = AssertUnwindSafe(crd_body(&fx)).catch_unwind().await;
    fx.done(result).await
}

async fn crd_body(fx: &Fixture) -> Result<()> {
    let ns = fx.ns.clone();
    apply_yaml(
        &fx.admin,
        Some(&ns),
        &application(
            "web",
            &ns,
            "git://127.0.0.1:1/none.git",
            &ns,
            "https://kubernetes.default.svc",
        ),
    )
    .await?;
    let api = apps(fx, &ns);
    let source =
        json!({"repoURL": "git://127.0.0.1:1/none.git", "path": "app", "targetRevision": "main"});
    api.patch(
        "web",
        &PatchParams::default(),
        &Patch::Merge(json!({"status": {
            "sync": {"status": "OutOfSync", "revision": "b".repeat(40)},
            "health": {"status": "Suspended"},
            "operationState": {"phase": "Running", "message": "waiting", "startedAt": "2026-01-01T00:00:00Z",
                               "operation": {"sync": {"revision": "b".repeat(40)}}},
            "history": [
                {"id": 0, "revision": "a".repeat(40), "deployedAt": "2026-01-01T00:00:00Z", "source": source},
                {"id": 1, "revision": "b".repeat(40), "deployedAt": "2026-01-01T00:01:00Z", "source": source},
            ],
        }})),
    )
    .await?;
    let (_, running) = app(fx, &ns, "web").await?;
    assert!(
        running.message.raw().starts_with("OutOfSync / Suspended"),
        "{}",
        running.message.raw()
    );
    let mut console = Console::new("a", fx.oncall.clone(), None);
    // Refused while an operation runs; terminate writes the phase the controller acts on.
    assert!(fx.plan(ActionKind::Sync, &running).is_err());
    assert!(fx.plan(ActionKind::Undo, &running).is_err());
    assert_applied(
        &console
            .run(1, fx.plan(ActionKind::Terminate, &running)?)
            .await?,
        "terminate",
    );
    let (v, _) = app(fx, &ns, "web").await?;
    assert_eq!(op_phase(&v), "Terminating");
    // A stale view is a 409, never a blind write.
    let stale = fx.plan(ActionKind::Refresh, &running)?;
    let outcome = console.run(2, stale).await?;
    assert!(
        matches!(outcome, Outcome::Conflict { status: 409, .. }),
        "{outcome:?}"
    );
    // Done: rollback to id 0 and refresh are accepted by the schema as Argo CD writes them.
    api.patch(
        "web",
        &PatchParams::default(),
        &Patch::Merge(json!({"status": {"operationState": {"phase": "Failed"}}})),
    )
    .await?;
    let (_, done) = app(fx, &ns, "web").await?;
    assert_applied(
        &console.run(3, fx.plan(ActionKind::Refresh, &done)?).await?,
        "refresh",
    );
    let (v, done) = app(fx, &ns, "web").await?;
    assert_eq!(
        v["metadata"]["annotations"]["argocd.argoproj.io/refresh"],
        json!("hard")
    );
    assert_applied(
        &console.run(4, fx.plan(ActionKind::Undo, &done)?).await?,
        "rollback",
    );
    let (v, _) = app(fx, &ns, "web").await?;
    let user = oncall_user(fx).await;
    assert_eq!(
        v.pointer("/operation/sync/revision"),
        Some(&json!("a".repeat(40)))
    );
    assert_eq!(v.pointer("/operation/sync/source"), Some(&source));
    assert_eq!(
        v.pointer("/operation/initiatedBy/username"),
        Some(&json!(user))
    );
    assert_eq!(
        v.pointer("/status/operationState"),
        None,
        "cleared as Argo CD clears it"
    );
    // The viewer may not write applications: the API server says so.
    let mut viewer = Console::new("a", fx.viewer.clone(), None);
    let (_, now) = app(fx, &ns, "web").await?;
    let outcome = viewer.run(5, fx.plan(ActionKind::Refresh, &now)?).await?;
    assert!(
        matches!(outcome, Outcome::Forbidden { status: 403, .. }),
        "{outcome:?}"
    );
    Ok(())
}

/// The Rollout `web` as git says it: `paused: false` written out, so Argo CD owns that field
/// and its self-heal reverts a manual pause. `pending`: the new version's pods cannot be
/// scheduled, so the update stays in flight at its first step, where pause applies.
fn rollout(image: &str, pending: bool) -> Result<String> {
    let mut v = support::manifests::Rollout::canary("web", image).value();
    v["spec"]["paused"] = json!(false);
    if pending {
        v["spec"]["template"]["spec"]["nodeSelector"] = json!({"shipdeck.test/none": "x"});
    }
    Ok(serde_yaml::to_string(&v)?)
}

fn rollout_paused(v: &Value) -> bool {
    v["spec"]["paused"] == json!(true)
}

fn reconciled_at(v: &Value) -> Option<jiff::Timestamp> {
    v.pointer("/status/reconciledAt")?.as_str()?.parse().ok()
}

#[tokio::test]
async fn suspend_the_app_first_then_pause_survives_its_reconcile() -> Result<()> {
    let env = TestEnv::get()?;
    let argocd = argocd_ns(env)?;
    let fx = Fixture::new("a").await?;
    let result = AssertUnwindSafe(owner_first_body(env, &fx, &argocd))
        .catch_unwind()
        .await;
    let _ = apps(&fx, &argocd)
        .delete(&fx.ns, &DeleteParams::default())
        .await;
    fx.done(result).await
}

async fn owner_first_body(env: &TestEnv, fx: &Fixture, argocd: &str) -> Result<()> {
    use shipdeck::core::owner;
    let name = fx.ns.clone();
    let repo = Repo::new(env, &name)?;
    repo.commit(
        "v1",
        &[("rollout.yaml", rollout("example.test/shop:1", false)?)],
    )?;
    // Automated sync with self-heal: what the app owns is put back as git says.
    let automated = json!({"selfHeal": true});
    let mut manifest: Value =
        serde_yaml::from_str(&application(&name, argocd, &repo.url, &fx.ns, &dest(env)?))?;
    manifest["spec"]["syncPolicy"] = json!({"automated": automated});
    apply_yaml(&fx.admin, Some(argocd), &serde_yaml::to_string(&manifest)?).await?;
    fx.wait_release(
        "web v1 synced and healthy",
        || fx.rollout("web"),
        |r| r.phase == shipdeck::core::model::Phase::Healthy && r.facts.fully_promoted,
    )
    .await?;
    let v2 = repo.commit(
        "v2",
        &[("rollout.yaml", rollout("example.test/shop:2", true)?)],
    )?;
    // The controller re-reads git at its own interval; a refresh request makes it now.
    apps(fx, argocd)
        .patch(
            &name,
            &PatchParams::default(),
            &Patch::Merge(
                json!({"metadata": {"annotations": {"argocd.argoproj.io/refresh": "normal"}}}),
            ),
        )
        .await?;
    wait_app(fx, argocd, &name, "v2 synced by automated sync", |v| {
        v.pointer("/status/sync/revision") == Some(&json!(v2))
            && op_phase(v) == "Succeeded"
            && v.pointer("/status/operationState/syncResult/revision") == Some(&json!(v2))
    })
    .await?;
    let r = fx
        .wait_release(
            "web v2 in flight",
            || fx.rollout("web"),
            |r| {
                r.phase == shipdeck::core::model::Phase::Progressing
                    && !r.facts.fully_promoted
                    && !r.facts.spec_paused
            },
        )
        .await?;
    assert_eq!(
        r.owner,
        Some(owner::OwnerRef::ArgoCdApplication {
            namespace: None,
            name: name.clone()
        }),
        "the Rollout names its app by its tracking id"
    );
    let mut console = Console::new("a", fx.oncall.clone(), None);

    // Control: a pause alone is reverted by the app's self-heal.
    let r = fx.settled(|| fx.rollout("web")).await?;
    assert_applied(
        &console.run(1, fx.plan(ActionKind::Pause, &r)?).await?,
        "pause alone",
    );
    let paused_at = std::time::Instant::now();
    wait_until(
        "manual pause reverted by self-heal",
        SYNC_TIMEOUT,
        || async {
            let v = fx.get(&shipdeck::core::action::ROLLOUTS, "web").await?;
            Ok(if rollout_paused(&v) {
                Check::NotYet(format!("paused {}", v["spec"]["paused"]))
            } else {
                Check::Done(())
            })
        },
    )
    .await?;
    let reverted_in = paused_at.elapsed();

    // Suspend the owner first, then pause: one plan, the app's automated sync off first.
    // (Before the write: what the controller does with the app from here on is after it.)
    let written = jiff::Timestamp::now();
    let mut sent = None;
    for attempt in 0..4u64 {
        let r = fx.settled(|| fx.rollout("web")).await?;
        let app_row = settled(fx, argocd, &name).await?;
        let known = std::collections::BTreeMap::from([(app_row.key.clone(), app_row)]);
        assert!(
            matches!(
                owner::owner_state(&r, &known),
                Some(owner::OwnerState::Reconciling { .. })
            ),
            "a self-healing app reconciles the Rollout"
        );
        let mut plan = fx.plan(ActionKind::Pause, &r)?;
        plan.owner_first = owner::pre_step(ActionKind::Pause, &r, &known);
        let first = plan
            .owner_first
            .clone()
            .ok_or_else(|| anyhow!("no owner pre-step for {:?}", r.owner))?;
        assert_eq!(first.owner, format!("Argo CD application {name}"));
        assert_eq!(
            first.call.describe(),
            format!(
                "PATCH (application/merge-patch+json) argoproj.io/v1alpha1 applications {argocd}/{name}"
            )
        );
        let plan = plan.with_owner_first();
        assert_eq!(
            plan.calls.len(),
            2,
            "step 1 of 2: the app; step 2: the pause"
        );
        match console.run(10 + attempt, plan).await? {
            // The controller writes the app's status on its own schedule: look again.
            Outcome::Conflict { .. } => println!("owner first: 409 on try {}", attempt + 1),
            other => {
                sent = Some(other);
                break;
            }
        }
    }
    let outcome = sent.ok_or_else(|| anyhow!("four conflicts in a row"))?;
    assert_applied(&outcome, "automated sync off, then pause");
    let written_i = std::time::Instant::now();
    let (v, app_row) = app(fx, argocd, &name).await?;
    assert_eq!(
        v.pointer("/spec/syncPolicy/automated"),
        None,
        "automated sync off"
    );
    assert_eq!(
        v["metadata"]["annotations"][AUTOMATED_BEFORE]
            .as_str()
            .and_then(|s| serde_json::from_str::<Value>(s).ok()),
        Some(automated.clone()),
        "kept for resume"
    );
    assert!(app_row.facts.spec_paused, "the app row is suspended");

    // The app controller reconciles again after the pause (reconciledAt past the write),
    // sees the drift and, with automated sync off, leaves it: still paused.
    let after = wait_app(fx, argocd, &name, "app reconciled after the pause", |v| {
        // Evidence the controller compared the app after the write: its reconciledAt, or
        // the health it derived from the paused Rollout (Suspended) set since.
        let after =
            |t: Option<jiff::Timestamp>| t.is_some_and(|t| t.as_second() >= written.as_second());
        let health_since = v
            .pointer("/status/health/lastTransitionTime")
            .and_then(Value::as_str)
            .and_then(|t| t.parse().ok());
        (after(reconciled_at(v)) || after(health_since))
            && v.pointer("/status/sync/status") == Some(&json!("OutOfSync"))
            && v.pointer("/status/health/status") == Some(&json!("Suspended"))
    })
    .await?;
    let waited = written_i.elapsed();
    let live = fx.get(&shipdeck::core::action::ROLLOUTS, "web").await?;
    assert!(
        rollout_paused(&live),
        "pause reverted although the app is suspended"
    );
    // Also for as long again as the revert took without the pre-step (at least 10 s).
    let window = (reverted_in * 3).max(Duration::from_secs(10));
    let since = std::time::Instant::now();
    while since.elapsed() < window {
        let live = fx.get(&shipdeck::core::action::ROLLOUTS, "web").await?;
        assert!(
            rollout_paused(&live),
            "pause reverted although the app is suspended"
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    assert!(
        after.message.raw().starts_with("OutOfSync / Suspended"),
        "the app row as argocd words it: {}",
        after.message.raw()
    );
    // And argocd itself (`app get`, `history`, `list`) says what the console says.
    let cli = ArgocdCli::of(TestEnv::get()?, "a-admin", argocd)?;
    agree(
        fx,
        &cli,
        argocd,
        &name,
        "owner suspended first, Rollout paused",
    )
    .await?;
    let r = fx.rollout("web").await?;
    assert_eq!(
        r.phase,
        shipdeck::core::model::Phase::Paused,
        "{}",
        r.message.raw()
    );
    let known = std::collections::BTreeMap::from([(after.key.clone(), after)]);
    assert_eq!(
        owner::owner_state(&r, &known).map(|s| s.text()),
        Some(format!(
            "Argo CD application {name} is suspended until it is resumed"
        ))
    );
    assert_eq!(
        owner::pre_step(ActionKind::Pause, &r, &known),
        None,
        "nothing more to suspend"
    );
    println!(
        "argocd owner first: without it the pause was reverted in {:.1} s; with it, the app reconciled {:.1} s after the write (OutOfSync / Suspended) and the Rollout was still paused {:.1} s later",
        reverted_in.as_secs_f64(),
        waited.as_secs_f64(),
        window.as_secs_f64()
    );

    // Resume the app (space on its row): automated sync with self-heal is back, and it
    // puts the Rollout back as git says.
    assert_applied(
        &act(fx, &mut console, 3, ActionKind::Resume, argocd, &name).await?,
        "automated sync back on",
    );
    wait_until(
        "self-heal resumes and reverts the pause",
        SYNC_TIMEOUT,
        || async {
            let v = fx.get(&shipdeck::core::action::ROLLOUTS, "web").await?;
            Ok(if rollout_paused(&v) {
                Check::NotYet("still paused".into())
            } else {
                Check::Done(())
            })
        },
    )
    .await?;
    Ok(())
}

/// Issue 14's check as a person does it, in tmux against the real Argo CD: a Rollout owned by
/// a self-healing app; space (pause) on its row, Tab Tab to "Suspend owner first", Enter; the
/// app's automated sync goes off first, the pause stays after the app controller compared
/// again, and the app's row reads "OutOfSync / Suspended" as `argocd app get` says it.
#[tokio::test(flavor = "multi_thread")]
async fn tmux_pause_with_the_owner_suspended_first_stays_paused() -> Result<()> {
    let env = TestEnv::get()?;
    let argocd = argocd_ns(env)?;
    let fx = Fixture::new("a").await?;
    let result = AssertUnwindSafe(tmux_owner_first_body(env, &fx, &argocd))
        .catch_unwind()
        .await;
    let _ = apps(&fx, &argocd)
        .delete(&fx.ns, &DeleteParams::default())
        .await;
    fx.done(result).await
}

async fn tmux_owner_first_body(env: &TestEnv, fx: &Fixture, argocd: &str) -> Result<()> {
    let name = fx.ns.clone();
    let repo = Repo::new(env, &name)?;
    repo.commit(
        "v1",
        &[("rollout.yaml", rollout("example.test/shop:1", false)?)],
    )?;
    let mut manifest: Value =
        serde_yaml::from_str(&application(&name, argocd, &repo.url, &fx.ns, &dest(env)?))?;
    manifest["spec"]["syncPolicy"] = json!({"automated": {"selfHeal": true}});
    apply_yaml(&fx.admin, Some(argocd), &serde_yaml::to_string(&manifest)?).await?;
    fx.wait_release(
        "web v1 synced and healthy",
        || fx.rollout("web"),
        |r| r.phase == shipdeck::core::model::Phase::Healthy && r.facts.fully_promoted,
    )
    .await?;
    let v2 = repo.commit(
        "v2",
        &[("rollout.yaml", rollout("example.test/shop:2", true)?)],
    )?;
    apps(fx, argocd)
        .patch(
            &name,
            &PatchParams::default(),
            &Patch::Merge(
                json!({"metadata": {"annotations": {"argocd.argoproj.io/refresh": "normal"}}}),
            ),
        )
        .await?;
    wait_app(fx, argocd, &name, "v2 synced by automated sync", |v| {
        v.pointer("/status/sync/revision") == Some(&json!(v2)) && op_phase(v) == "Succeeded"
    })
    .await?;
    fx.wait_release(
        "web v2 in flight",
        || fx.rollout("web"),
        |r| r.phase == shipdeck::core::model::Phase::Progressing && !r.facts.spec_paused,
    )
    .await?;

    let dir = tempfile::tempdir()?;
    let audit = dir.path().join("audit.jsonl");
    let status = dir.path().join("status");
    let script = format!(
        "KUBECONFIG={kc} SHIPDECK_AUDIT_LOG={audit} HOME={home} {bin} --context a-oncall; echo \"EXIT=$?\" > {status}; sleep 30",
        kc = env.kubeconfig.display(),
        audit = audit.display(),
        home = dir.path().display(),
        bin = env!("CARGO_BIN_EXE_shipdeck"),
        status = status.display(),
    );
    let tmux = tmux::Tmux::start("argocd-owner", 160, 40, &script);
    let screen_wait = Duration::from_secs(60);
    tmux.wait_for("the cluster connected", screen_wait, |s| {
        s.contains("connected")
    });
    // Only the Rollout: its path as the filter.
    let path = format!("{}/web", fx.ns);
    tmux.keys(&["/", &path, "Enter"]);
    tmux.wait_for("the Rollout alone, owned by its app", screen_wait, |s| {
        s.contains(&path) && s.contains("Progressing")
    });
    let mut attempts = 0;
    loop {
        attempts += 1;
        tmux.keys(&["Space"]);
        let modal = tmux.wait_for("the pause modal", screen_wait, |s| {
            s.contains("Confirm pause") && s.contains("[ Confirm ]")
        });
        if attempts == 1 {
            println!("the modal:\n{modal}");
        }
        if modal.contains("Suspend owner first") {
            // Focus starts on Cancel: Tab to Confirm, Tab to "Suspend owner first", Enter.
            tmux.keys(&["Tab", "Tab", "Enter"]);
        } else {
            // Only after a try whose owner step landed and whose pause did not (the
            // controller wrote the Rollout in between): the owner is suspended, so the
            // modal offers the pause alone. Tab to Confirm, Enter.
            let app = serde_json::to_value(apps(fx, argocd).get(&name).await?)?;
            assert!(
                attempts > 1 && app.pointer("/spec/syncPolicy/automated").is_none(),
                "the pause modal offers no owner step while the app self-heals:\n{modal}"
            );
            tmux.keys(&["Tab", "Enter"]);
        }
        let outcome = tmux.wait_for("the outcome", screen_wait, |s| {
            s.contains("applied") || s.contains("conflict")
        });
        let paused = rollout_paused(&fx.get(&shipdeck::core::action::ROLLOUTS, "web").await?);
        if paused || attempts == 3 {
            break;
        }
        // The controller wrote the app's status between the read and the write (409):
        // the console says so and nothing was written; a person looks and asks again.
        println!(
            "try {attempts}: {}",
            outcome.lines().rev().nth(1).unwrap_or_default()
        );
        tokio::time::sleep(Duration::from_secs(2)).await;
    }
    let written = jiff::Timestamp::now();
    let v = apps(fx, argocd).get(&name).await?;
    let v = serde_json::to_value(&v)?;
    assert_eq!(
        v.pointer("/spec/syncPolicy/automated"),
        None,
        "automated sync off"
    );
    // The app controller compares again and, with automated sync off, leaves the pause.
    wait_app(
        fx,
        argocd,
        &name,
        "OutOfSync / Suspended after the pause",
        |v| {
            v.pointer("/status/sync/status") == Some(&json!("OutOfSync"))
                && v.pointer("/status/health/status") == Some(&json!("Suspended"))
        },
    )
    .await?;
    let since = std::time::Instant::now();
    while since.elapsed() < Duration::from_secs(10) {
        let live = fx.get(&shipdeck::core::action::ROLLOUTS, "web").await?;
        assert!(rollout_paused(&live), "the pause was reverted");
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    // The rows, as argocd says them: both, with the namespace as the filter.
    tmux.keys(&["Escape", "/", &fx.ns, "Enter"]);
    let rows = tmux.wait_for("the app row OutOfSync / Suspended", screen_wait, |s| {
        s.lines()
            .any(|l| l.contains(&format!("argocd/{name}")) && l.contains("OutOfSync / Suspended"))
    });
    println!(
        "after ({:.0} s since the write):\n{rows}",
        jiff::Timestamp::now().duration_since(written).as_secs_f64()
    );
    assert!(
        rows.lines()
            .any(|l| l.contains(&path) && l.contains("owner suspended")),
        "the Rollout's row says its owner is suspended:\n{rows}"
    );
    tmux.keys(&["q"]);
    assert_eq!(
        tmux::wait_file(&status, Duration::from_secs(15)).trim(),
        "EXIT=0"
    );
    let log = std::fs::read_to_string(&audit)?;
    assert!(
        log.contains("applications"),
        "the app's write audited: {log}"
    );
    Ok(())
}

/// One comparison: a field as the argocd CLI printed it and as the console derived it.
type Row = (&'static str, String, String);

/// `app get --show-operation` and the console, field by field: sync status (status, target,
/// the revision compared with), health, sync policy, the operation (phase, message, synced
/// revision), the source, the managed resources, and the row's "sync / health" state.
fn get_rows(g: &AppGet, a: &ApplicationFacts, r: &Release) -> Result<Vec<Row>> {
    let sync = g.sync_status();
    let (automated, prune) = sync_policy(g.field("Sync Policy"))?;
    let ours_target = match a.sync_status.as_str() {
        "Synced" | "OutOfSync" => a.target_revision.clone(),
        _ => String::new(),
    };
    let ours_short = a.sync_revision.get(..7).unwrap_or_default().to_string();
    let cli_resources = g
        .resources
        .iter()
        .map(|r| {
            format!(
                "{}/{}/{}/{}",
                r["GROUP"], r["KIND"], r["NAMESPACE"], r["NAME"]
            )
        })
        .collect::<Vec<_>>()
        .join(" ");
    let ours_resources = a
        .resources
        .iter()
        .map(|r| format!("{}/{}/{}/{}", r.group, r.kind, r.namespace, r.name))
        .collect::<Vec<_>>()
        .join(" ");
    let cli_state = format!("{} / {}", sync.status, g.field("Health Status"));
    let ours_state = r.message.raw().split(';').next().unwrap_or_default();
    Ok(vec![
        ("sync status", sync.status, a.sync_status.clone()),
        ("sync target", sync.target, ours_target),
        ("sync revision", sync.revision, ours_short),
        ("health", g.field("Health Status").into(), a.health.clone()),
        (
            "automated",
            automated.to_string(),
            a.automated_on().to_string(),
        ),
        (
            "prune",
            prune.to_string(),
            (a.automated_on() && a.prune).to_string(),
        ),
        (
            "operation phase",
            g.field("Phase").into(),
            a.op_phase.clone(),
        ),
        (
            "operation message",
            g.field("Message").into(),
            a.op_message.raw().into(),
        ),
        (
            "synced revision",
            g.field("Sync Revision").into(),
            a.synced_revision.clone(),
        ),
        ("repo", g.field("- Repo").into(), a.repo_url.raw().into()),
        ("path", g.field("Path").into(), a.path.raw().into()),
        (
            "target",
            g.field("Target").into(),
            a.target_revision.clone(),
        ),
        ("resources", cli_resources, ours_resources),
        ("row state", cli_state, ours_state.to_string()),
    ])
}

/// `app history` and the console's history (the revisions screen), entry by entry: id and
/// `target (first 7 of the revision)`, as the CLI prints it.
fn history_rows(
    h: &[std::collections::BTreeMap<String, String>],
    a: &ApplicationFacts,
) -> Vec<Row> {
    let cli = h
        .iter()
        .map(|e| format!("{}: {}", e["ID"], e["REVISION"]))
        .collect::<Vec<_>>()
        .join(", ");
    let mut ours: Vec<_> = a.history.iter().collect();
    ours.sort_by_key(|e| e.id);
    let ours = ours
        .iter()
        .map(|e| {
            let target = e.source["targetRevision"].as_str().unwrap_or_default();
            format!(
                "{}: {target} ({})",
                e.id,
                e.revision.get(..7).unwrap_or(&e.revision)
            )
        })
        .collect::<Vec<_>>()
        .join(", ");
    vec![("history", cli, ours)]
}

/// `app list -o wide`'s row for the app and the console.
fn list_rows(
    l: &std::collections::BTreeMap<String, String>,
    a: &ApplicationFacts,
) -> Result<Vec<Row>> {
    let (automated, prune) = sync_policy(&l["SYNCPOLICY"])?;
    Ok(vec![
        ("list status", l["STATUS"].clone(), a.sync_status.clone()),
        ("list health", l["HEALTH"].clone(), a.health.clone()),
        (
            "list sync policy",
            format!("automated {automated}, prune {prune}"),
            format!(
                "automated {}, prune {}",
                a.automated_on(),
                a.automated_on() && a.prune
            ),
        ),
        ("list repo", l["REPO"].clone(), a.repo_url.raw().into()),
        ("list path", l["PATH"].clone(), a.path.raw().into()),
        (
            "list target",
            l["TARGET"].clone(),
            a.target_revision.clone(),
        ),
    ])
}

/// Run `cli` (one argocd invocation) between two reads of the Application that return the
/// same resourceVersion, so both sides saw the same version (the controller writes status
/// every reconciliation, 15 s here); the facts and the row of that version.
async fn same_version<T, F, Fut>(
    fx: &Fixture,
    ns: &str,
    name: &str,
    what: &str,
    cli: F,
) -> Result<(T, ApplicationFacts, Release)>
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = Result<T>>,
{
    wait_until(what, SYNC_TIMEOUT, || async {
        let (before, _, _) = app_facts(fx, ns, name).await?;
        let out = cli().await?;
        let (after, a, r) = app_facts(fx, ns, name).await?;
        let rv = |v: &Value| v["metadata"]["resourceVersion"].clone();
        Ok(if rv(&before) == rv(&after) {
            Check::Done((out, a, r))
        } else {
            Check::NotYet(format!(
                "resourceVersion {} → {} while argocd ran",
                rv(&before),
                rv(&after)
            ))
        })
    })
    .await
}

/// In a settled state, `argocd app get`, `app history` and `app list` print what the console
/// derived from the same object version. Prints `state | field | argocd | shipdeck | equal`;
/// returns the console's row (of the `app get` read).
async fn agree(
    fx: &Fixture,
    cli: &ArgocdCli,
    argocd: &str,
    name: &str,
    state: &str,
) -> Result<Release> {
    let (g, a, r) = same_version(
        fx,
        argocd,
        name,
        &format!("{state}: argocd app get"),
        || cli.get(name),
    )
    .await?;
    let mut rows = get_rows(&g, &a, &r)?;
    let (h, a, _) = same_version(
        fx,
        argocd,
        name,
        &format!("{state}: argocd app history"),
        || cli.history(name),
    )
    .await?;
    rows.extend(history_rows(&h, &a));
    let (l, a, _) = same_version(
        fx,
        argocd,
        name,
        &format!("{state}: argocd app list"),
        || cli.list(),
    )
    .await?;
    let qualified = format!("{argocd}/{name}");
    let row = l
        .get(&qualified)
        .or_else(|| l.get(name))
        .ok_or_else(|| anyhow!("{state}: argocd app list has no {qualified}: {l:?}"))?;
    rows.extend(list_rows(row, &a)?);
    for (field, theirs, ours) in &rows {
        println!("{state} | {field} | {theirs} | {ours} | {}", theirs == ours);
    }
    let differ: Vec<_> = rows.iter().filter(|(_, t, o)| t != o).collect();
    assert!(
        differ.is_empty(),
        "{state}: argocd and shipdeck differ: {differ:?}"
    );
    Ok(r)
}

/// shipdeck and the argocd CLI (v3.6.1, the release of the environment's controller, in core
/// mode) agree on an Application: in each settled state `argocd app get`, `app history` and
/// `app list` print what the console derived; a write by either is read the same by both.
/// Manual and OutOfSync at A; synced to A by the console; automated sync (with prune)
/// turned on by `argocd app set`; Argo CD's own automated sync to B; the console's two-step
/// rollback to A (automated off, then the rollback); automated turned back on by the console
/// and Argo CD syncing B again.
#[tokio::test]
async fn shipdeck_and_the_argocd_cli_agree_on_applications() -> Result<()> {
    let env = TestEnv::get()?;
    let argocd = argocd_ns(env)?;
    let cli = ArgocdCli::of(env, "a-admin", &argocd)?;
    let fx = Fixture::new("a").await?;
    let result = AssertUnwindSafe(cli_body(env, &fx, &cli, &argocd))
        .catch_unwind()
        .await;
    let _ = apps(&fx, &argocd)
        .delete(&fx.ns, &DeleteParams::default())
        .await;
    fx.done(result).await
}

async fn cli_body(env: &TestEnv, fx: &Fixture, cli: &ArgocdCli, argocd: &str) -> Result<()> {
    let name = fx.ns.clone();
    let repo = Repo::new(env, &name)?;
    let a = repo.commit("A", &[("deploy.yaml", deployment("example.test/web:A"))])?;
    apply_yaml(
        &fx.admin,
        Some(argocd),
        &application(&name, argocd, &repo.url, &fx.ns, &dest(env)?),
    )
    .await?;
    let mut console = Console::new("a", fx.oncall.clone(), None);

    wait_app(fx, argocd, &name, "main resolved to A", |v| {
        v.pointer("/status/sync/revision") == Some(&json!(a))
            && v.pointer("/status/health/status").is_some()
    })
    .await?;
    let r = agree(fx, cli, argocd, &name, "manual, OutOfSync at A").await?;
    assert!(
        r.message.raw().starts_with("OutOfSync"),
        "{}",
        r.message.raw()
    );

    assert_applied(
        &act(fx, &mut console, 1, ActionKind::Sync, argocd, &name).await?,
        "sync to A",
    );
    wait_app(fx, argocd, &name, "synced to A", |v| {
        op_phase(v) == "Succeeded" && history(v).len() == 1
    })
    .await?;
    wait_image(fx, "example.test/web:A").await?;
    agree(fx, cli, argocd, &name, "synced to A by shipdeck").await?;

    // The CLI turns automated sync on (`--validate=false`: validating the repository would
    // need the repo-server through a pod port-forward, and it runs as a process here).
    cli.run(&[
        "app",
        "set",
        &name,
        "--sync-policy",
        "automated",
        "--auto-prune",
        "--validate=false",
    ])
    .await?;
    let r = agree(fx, cli, argocd, &name, "automated on by argocd app set").await?;
    let f = r.facts.argocd.as_deref().context("app facts")?;
    assert!(
        f.automated_on && f.prune,
        "the console reads the CLI's write"
    );

    // B: Argo CD's own automated sync, once the controller reads main again (the repo-server
    // keeps a resolved revision for minutes): `argocd app get --refresh` asks for that.
    let b = repo.commit("B", &[("deploy.yaml", deployment("example.test/web:B"))])?;
    cli.run(&["app", "get", &name, "--refresh"]).await?;
    wait_app(fx, argocd, &name, "automated sync to B", |v| {
        op_phase(v) == "Succeeded"
            && history(v).len() == 2
            && v.pointer("/status/sync/revision") == Some(&json!(b))
    })
    .await?;
    wait_image(fx, "example.test/web:B").await?;
    agree(fx, cli, argocd, &name, "automated sync to B").await?;

    // The console's two-step rollback to entry 0 (A): automated off, then the rollback.
    assert_applied(
        &act_chosen(
            fx,
            &mut console,
            2,
            ActionKind::Undo,
            argocd,
            &name,
            Some(0),
        )
        .await?,
        "two-step rollback to A",
    );
    wait_app(fx, argocd, &name, "rolled back to A", |v| {
        op_phase(v) == "Succeeded" && history(v).len() == 3
    })
    .await?;
    wait_image(fx, "example.test/web:A").await?;
    let r = agree(fx, cli, argocd, &name, "rolled back to A by shipdeck").await?;
    assert!(
        r.facts.argocd.as_deref().is_some_and(|f| !f.automated_on),
        "automated sync is off after the two-step"
    );

    // "Turn it back on" from the console: automated (with prune) as before, and B again.
    assert_applied(
        &act(fx, &mut console, 3, ActionKind::Resume, argocd, &name).await?,
        "automated back on",
    );
    wait_app(fx, argocd, &name, "automated sync to B again", |v| {
        op_phase(v) == "Succeeded" && history(v).len() == 4
    })
    .await?;
    wait_image(fx, "example.test/web:B").await?;
    agree(fx, cli, argocd, &name, "automated back on by shipdeck, B").await?;
    Ok(())
}
