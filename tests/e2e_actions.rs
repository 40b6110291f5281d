#![cfg(feature = "e2e")]
//! Actions against the real test clusters (tests/env): the console's path — Release derived
//! by the core from the object read back, `core::action::plan`, the executor — sending to
//! the real API server through `KubeTarget` as the on-call (or viewer) identity.
//! Each test works in its own `act-…` namespace and deletes it.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod actions;
mod support;

use std::os::unix::fs::PermissionsExt;
use std::panic::AssertUnwindSafe;
use std::time::Duration;

use anyhow::{Context, Result};
use futures::FutureExt;
use serde_json::{Value, json};
use shipdeck::action::audit::AuditLog;
use shipdeck::action::executor::ActionTarget;
use shipdeck::app::Pump;
use shipdeck::core::action::{
    self, ActionKind, ApiCall, DEPLOYMENTS, Disabled, PatchType, ROLLOUTS,
};
use shipdeck::core::model::{Cluster, Phase};
use shipdeck::core::msg::{Msg, Outcome};
use shipdeck::core::state::{Settings, State};

use actions::{Console, Fixture, assert_applied};
use support::manifests::{self, Canary, Deployment, Rollout};

/// Rollout `name` at v1 (healthy), then v2 walking to its first `pause: {}` (step 1).
async fn rollout_paused_at_first_step(fx: &Fixture, name: &str) -> Result<()> {
    fx.apply(&Rollout::canary(name, "example.test/shop:1").yaml())
        .await?;
    fx.wait_release(
        "v1 healthy",
        || fx.rollout(name),
        |r| r.phase == Phase::Healthy && r.facts.fully_promoted,
    )
    .await?;
    fx.apply(&Rollout::canary(name, "example.test/shop:2").yaml())
        .await?;
    fx.wait_release(
        "v2 paused at step 1",
        || fx.rollout(name),
        |r| r.phase == Phase::Paused && r.step == Some((1, 4)) && r.facts.pause_conditions,
    )
    .await?;
    Ok(())
}

#[tokio::test]
async fn promote_releases_one_pause_and_a_repeat_conflicts() -> Result<()> {
    let fx = Fixture::new("a").await?;
    let dir = tempfile::tempdir()?;
    let result = AssertUnwindSafe(promote_body(&fx, &dir.path().join("audit.jsonl")))
        .catch_unwind()
        .await;
    fx.done(result).await
}

async fn promote_body(fx: &Fixture, audit_path: &std::path::Path) -> Result<()> {
    rollout_paused_at_first_step(fx, "shop").await?;
    let paused = fx.rollout("shop").await?;
    let plan = fx.plan(ActionKind::Promote, &paused)?;
    match &plan.calls[..] {
        [ApiCall::Patch { resource, body, .. }] => {
            assert_eq!(resource.subresource, Some("status"));
            assert_eq!(body["status"], json!({"pauseConditions": null}));
        }
        other => panic!("promote on a step pause: {other:?}"),
    }
    // The modal's dry run: accepted, nothing changes.
    let dry = fx.oncall.dry_run(plan.clone()).await;
    let dry = dry
        .map_err(anyhow::Error::msg)
        .context("dry-run as oncall")?;
    assert!(dry.starts_with("server accepted (dry run)"), "{dry}");
    assert_eq!(
        fx.rollout("shop").await?.resource_version,
        paused.resource_version
    );

    let log = AuditLog::open(audit_path)?;
    let mut console = Console::new("a", fx.oncall.clone(), Some(log));
    let first = console.run(1, plan.clone()).await?;
    assert_applied(&first, "promote");
    let next = fx
        .wait_release(
            "stopped at the next pause (step 3)",
            || fx.rollout("shop"),
            |r| r.step == Some((3, 4)) && r.facts.pause_conditions,
        )
        .await?;
    assert_eq!(next.set_weight, Some(50));

    // The same promote again (double press, or a retry after a lost response): the
    // resourceVersion it carries is stale, so it must not release the second pause.
    let second = console.run(2, plan.clone()).await?;
    assert!(
        matches!(second, Outcome::Conflict { status: 409, .. }),
        "second promote: {second:?}"
    );
    tokio::time::sleep(Duration::from_secs(3)).await;
    let still = fx.rollout("shop").await?;
    assert_eq!(
        still.step,
        Some((3, 4)),
        "second pause released: {:?}",
        still.facts
    );
    assert!(still.facts.pause_conditions);
    eprintln!("promote: first {first:?}; repeat {second:?}");

    check_audit(audit_path, 2, "oncall")
}

/// Intent before result for ids 1..=n, mode 0600, the identity recorded, no secrets.
fn check_audit(path: &std::path::Path, n: u64, user: &str) -> Result<()> {
    let mode = std::fs::metadata(path)?.permissions().mode() & 0o777;
    assert_eq!(mode, 0o600, "audit log mode {mode:o}");
    let text = std::fs::read_to_string(path)?;
    let records: Vec<Value> = text
        .lines()
        .map(serde_json::from_str)
        .collect::<Result<_, _>>()?;
    assert_eq!(records.len() as u64, 2 * n, "{text}");
    for id in 1..=n {
        let at = |stage: &str| {
            records
                .iter()
                .position(|r| r["seq"] == id && r["stage"] == stage)
                .unwrap_or_else(|| panic!("no {stage} record for {id}: {text}"))
        };
        assert!(at("intent") < at("result"), "intent after result for {id}");
        let intent = &records[at("intent")];
        assert!(
            intent["user"].as_str().unwrap_or("").contains(user),
            "user: {intent}"
        );
        assert!(!intent["uid"].as_str().unwrap_or("").is_empty());
        assert!(
            !intent["precondition"]["resourceVersion"]
                .as_str()
                .unwrap_or("")
                .is_empty()
        );
        assert!(records[at("result")]["http_status"].is_number());
    }
    // Nothing from the credentials: no key or cert material, no bearer tokens.
    let kubeconfig = std::fs::read_to_string(&support::TestEnv::get()?.kubeconfig)?;
    for line in kubeconfig.lines() {
        for key in ["client-key-data:", "client-certificate-data:", "token:"] {
            if let Some(secret) = line.trim().strip_prefix(key) {
                let secret = secret.trim();
                assert!(
                    secret.len() < 16 || !text.contains(&secret[..16]),
                    "{key} in audit log"
                );
            }
        }
    }
    for needle in [
        "PRIVATE KEY",
        "BEGIN CERTIFICATE",
        "Bearer",
        "Authorization",
    ] {
        assert!(!text.contains(needle), "{needle} in audit log");
    }
    Ok(())
}

#[tokio::test]
async fn abort_degrades_and_retry_starts_again_from_step_zero() -> Result<()> {
    let fx = Fixture::new("a").await?;
    let result = AssertUnwindSafe(abort_body(&fx)).catch_unwind().await;
    fx.done(result).await
}

async fn abort_body(fx: &Fixture) -> Result<()> {
    rollout_paused_at_first_step(fx, "cart").await?;
    let mut console = Console::new("a", fx.oncall.clone(), None);
    let plan = fx.plan(ActionKind::Abort, &fx.rollout("cart").await?)?;
    assert_applied(&console.run(1, plan).await?, "abort");
    let aborted = fx
        .wait_release(
            "controller reports the abort",
            || fx.rollout("cart"),
            |r| r.phase == Phase::Degraded && r.facts.aborted,
        )
        .await?;
    let raw = fx.get(&ROLLOUTS, "cart").await?;
    eprintln!(
        "aborted: phase {:?} message {:?} step {:?} weight {:?}",
        aborted.phase,
        aborted.message.raw(),
        raw["status"]["currentStepIndex"],
        aborted.set_weight
    );
    assert_eq!(aborted.set_weight, Some(0), "weight after abort");
    // The template still holds v2: abort is not undo.
    assert_eq!(aborted.images, vec!["example.test/shop:2".to_owned()]);
    // Nothing but retry (and undo) is offered on an aborted rollout.
    assert!(fx.plan(ActionKind::Promote, &aborted).is_err());

    // The controller keeps writing status after an abort (scaling the canary down): plan
    // retry from the settled object, as the operator would from a settled row.
    let settled = fx.settled(|| fx.rollout("cart")).await?;
    let retry = fx.plan(ActionKind::Retry, &settled)?;
    assert_applied(&console.run(2, retry).await?, "retry");
    let again = fx
        .wait_release(
            "canary walking its steps again",
            || fx.rollout("cart"),
            |r| !r.facts.aborted && r.phase != Phase::Degraded,
        )
        .await?;
    eprintln!("after retry: phase {:?} step {:?}", again.phase, again.step);
    assert!(
        again.step.is_some_and(|(i, _)| i <= 1),
        "retry restarts the steps: {:?}",
        again.step
    );
    fx.wait_release(
        "paused at step 1 again",
        || fx.rollout("cart"),
        |r| r.phase == Phase::Paused && r.step == Some((1, 4)),
    )
    .await?;
    Ok(())
}

#[tokio::test]
async fn rollout_undo_restores_the_previous_template() -> Result<()> {
    let fx = Fixture::new("a").await?;
    let result = AssertUnwindSafe(rollout_undo_body(&fx))
        .catch_unwind()
        .await;
    fx.done(result).await
}

async fn rollout_undo_body(fx: &Fixture) -> Result<()> {
    rollout_paused_at_first_step(fx, "pay").await?;
    let before = fx.rollout("pay").await?;
    let plan = fx.plan(ActionKind::Undo, &before)?;
    assert!(
        matches!(plan.calls[0], ApiCall::RollbackTo { revision: 1, .. }),
        "{:?}",
        plan.calls
    );
    let dry = fx
        .oncall
        .dry_run(plan.clone())
        .await
        .map_err(anyhow::Error::msg)?;
    assert!(dry.contains("example.test/shop:1"), "dry run: {dry}");

    let mut console = Console::new("a", fx.oncall.clone(), None);
    let outcome = console.run(1, plan.clone()).await?;
    assert_applied(&outcome, "undo");
    let raw = fx.get(&ROLLOUTS, "pay").await?;
    assert_eq!(
        actions::images(&raw),
        vec!["example.test/shop:1".to_owned()]
    );
    let labels = &raw["spec"]["template"]["metadata"]["labels"];
    assert!(
        labels.get("rollouts-pod-template-hash").is_none(),
        "hash label copied: {labels}"
    );
    fx.wait_release(
        "back on the stable version",
        || fx.rollout("pay"),
        |r| r.phase == Phase::Healthy && r.facts.fully_promoted,
    )
    .await?;

    // The same undo again is stale: refused before anything is written.
    let again = console.run(2, plan).await?;
    assert!(
        matches!(again, Outcome::Conflict { .. }),
        "repeat undo: {again:?}"
    );

    // And the server-side guard: a JSON patch whose `test` op fails.
    let stale = ApiCall::Patch {
        resource: ROLLOUTS,
        namespace: fx.ns.clone(),
        name: "pay".into(),
        patch_type: PatchType::Json,
        body: json!([
            {"op": "test", "path": "/metadata/resourceVersion", "value": before.resource_version},
            {"op": "replace", "path": "/spec/paused", "value": true}
        ]),
    };
    let mut guarded = fx.plan(ActionKind::Restart, &fx.rollout("pay").await?)?;
    guarded.calls = vec![stale];
    let outcome = console.run(3, guarded).await?;
    eprintln!("failed JSON-patch test op: {outcome:?}");
    assert!(
        matches!(outcome, Outcome::Conflict { .. }),
        "failed test op: {outcome:?}"
    );
    assert!(!fx.rollout("pay").await?.facts.spec_paused);
    Ok(())
}

#[tokio::test]
async fn deployment_undo_restores_template_and_annotations() -> Result<()> {
    let fx = Fixture::new("b").await?;
    let result = AssertUnwindSafe(deployment_undo_body(&fx))
        .catch_unwind()
        .await;
    fx.done(result).await
}

async fn deployment_undo_body(fx: &Fixture) -> Result<()> {
    fx.apply(&deployment_yaml("web", "example.test/web:1", 2, "first"))
        .await?;
    support::wait::deployment_rolled_out(&fx.admin, &fx.ns, "web", actions::TIMEOUT).await?;
    fx.apply(&deployment_yaml("web", "example.test/web:2", 2, "second"))
        .await?;
    support::wait::deployment_rolled_out(&fx.admin, &fx.ns, "web", actions::TIMEOUT).await?;
    let rel = fx
        .wait_release(
            "v2 healthy with two revisions",
            || fx.deployment("web"),
            |r| r.phase == Phase::Healthy && r.facts.undo_target.is_some(),
        )
        .await?;
    let plan = fx.plan(ActionKind::Undo, &rel)?;
    let mut console = Console::new("b", fx.oncall.clone(), None);
    assert_applied(&console.run(1, plan).await?, "undo");
    support::wait::deployment_rolled_out(&fx.admin, &fx.ns, "web", actions::TIMEOUT).await?;
    let raw = fx.get(&DEPLOYMENTS, "web").await?;
    assert_eq!(actions::images(&raw), vec!["example.test/web:1".to_owned()]);
    let ann = &raw["metadata"]["annotations"];
    assert_eq!(
        ann["team"], "first",
        "annotations come back from the ReplicaSet: {ann}"
    );
    assert_eq!(ann["deployment.kubernetes.io/revision"], "3", "{ann}");
    let labels = &raw["spec"]["template"]["metadata"]["labels"];
    assert!(labels.get("pod-template-hash").is_none(), "{labels}");
    // The v1 ReplicaSet was reused (now revision 3), no third one made.
    let rs = fx.replicasets().await?;
    assert_eq!(rs.len(), 2, "{rs:?}");
    Ok(())
}

#[tokio::test]
async fn deployment_pause_resume_restart() -> Result<()> {
    let fx = Fixture::new("b").await?;
    let result = AssertUnwindSafe(pause_resume_restart_body(&fx))
        .catch_unwind()
        .await;
    fx.done(result).await
}

async fn pause_resume_restart_body(fx: &Fixture) -> Result<()> {
    fx.apply(&deployment_yaml("api", "example.test/api:1", 2, "x"))
        .await?;
    support::wait::deployment_rolled_out(&fx.admin, &fx.ns, "api", actions::TIMEOUT).await?;
    let mut console = Console::new("b", fx.oncall.clone(), None);
    let healthy = fx
        .wait_release(
            "healthy",
            || fx.deployment("api"),
            |r| r.phase == Phase::Healthy,
        )
        .await?;

    assert_applied(
        &console
            .run(1, fx.plan(ActionKind::Pause, &healthy)?)
            .await?,
        "pause",
    );
    let paused = fx
        .wait_release(
            "paused",
            || fx.deployment("api"),
            |r| r.phase == Phase::Paused,
        )
        .await?;
    assert!(matches!(
        fx.plan(ActionKind::Restart, &paused),
        Err(e) if e.to_string().contains("paused")
    ));
    // A pause plan made before is now stale.
    let stale = fx.plan(ActionKind::Pause, &healthy)?;
    assert!(matches!(
        console.run(2, stale).await?,
        Outcome::Conflict { status: 409, .. }
    ));

    assert_applied(
        &console
            .run(3, fx.plan(ActionKind::Resume, &paused)?)
            .await?,
        "resume",
    );
    let resumed = fx
        .wait_release(
            "resumed",
            || fx.deployment("api"),
            |r| !r.facts.spec_paused && r.phase == Phase::Healthy,
        )
        .await?;

    let restart = fx.plan(ActionKind::Restart, &resumed)?;
    assert_applied(&console.run(4, restart).await?, "restart");
    let raw = fx.get(&DEPLOYMENTS, "api").await?;
    let at =
        raw["spec"]["template"]["metadata"]["annotations"]["kubectl.kubernetes.io/restartedAt"]
            .as_str()
            .unwrap_or("")
            .to_owned();
    assert!(at.ends_with('Z') && at.len() == 20, "restartedAt {at:?}");
    support::wait::deployment_rolled_out(&fx.admin, &fx.ns, "api", actions::TIMEOUT).await?;
    let rs = fx.replicasets().await?;
    assert_eq!(rs.len(), 2, "a new ReplicaSet rolled: {rs:?}");
    let newest = rs
        .iter()
        .max_by_key(|r| r.revision)
        .context("no ReplicaSet")?;
    assert_eq!(
        (newest.revision, newest.replicas, newest.available_replicas),
        (Some(2), 2, 2)
    );
    Ok(())
}

#[tokio::test]
async fn flagger_canary_suspend_and_resume() -> Result<()> {
    let fx = Fixture::new("a").await?;
    let result = AssertUnwindSafe(flagger_body(&fx)).catch_unwind().await;
    fx.done(result).await
}

async fn flagger_body(fx: &Fixture) -> Result<()> {
    fx.apply(&deployment_yaml(
        "podinfo",
        "example.test/podinfo:1",
        2,
        "x",
    ))
    .await?;
    fx.apply(&Canary::over("podinfo").yaml()).await?;
    let ready = fx
        .wait_release(
            "canary initialised",
            || fx.canary("podinfo"),
            |r| r.facts.flagger_phase == "Initialized",
        )
        .await?;
    let mut console = Console::new("a", fx.oncall.clone(), None);
    let suspend = fx.plan(ActionKind::Pause, &ready)?;
    assert_applied(&console.run(1, suspend).await?, "suspend");
    let suspended = fx.canary("podinfo").await?;
    assert!(suspended.facts.spec_paused, "spec.suspend not set");
    assert!(
        fx.plan(ActionKind::Pause, &suspended).is_err(),
        "suspend offered twice"
    );
    assert_applied(
        &console
            .run(2, fx.plan(ActionKind::Resume, &suspended)?)
            .await?,
        "resume",
    );
    let resumed = fx.get(&action::CANARIES, "podinfo").await?;
    assert_eq!(resumed["spec"]["suspend"], false);
    Ok(())
}

#[tokio::test]
async fn viewer_is_refused_and_a_forced_patch_is_forbidden() -> Result<()> {
    let fx = Fixture::new("a").await?;
    let dir = tempfile::tempdir()?;
    let result = AssertUnwindSafe(viewer_body(&fx, &dir.path().join("audit.jsonl")))
        .catch_unwind()
        .await;
    fx.done(result).await
}

async fn viewer_body(fx: &Fixture, audit_path: &std::path::Path) -> Result<()> {
    fx.apply(&deployment_yaml("web", "example.test/web:1", 1, "x"))
        .await?;
    support::wait::deployment_rolled_out(&fx.admin, &fx.ns, "web", actions::TIMEOUT).await?;
    let rel = fx.deployment("web").await?;

    // Read-only (flag or cluster) wins before anything else.
    let mut ro = Cluster::new("a");
    ro.read_only = true;
    let now = jiff::Timestamp::now();
    assert_eq!(
        action::plan(ActionKind::Pause, &rel, &ro, false, now),
        Err(Disabled::ReadOnly)
    );
    assert_eq!(
        action::plan(ActionKind::Pause, &rel, &Cluster::new("a"), true, now),
        Err(Disabled::ReadOnly)
    );

    // RBAC through the console's path: executor → Msg::Access → core state → refused.
    let log = AuditLog::open(audit_path)?;
    let mut console = Console::new("a", fx.viewer.clone(), Some(log));
    let plan = fx.plan(ActionKind::Pause, &rel)?;
    let (verb, res) = plan.calls[0].rbac();
    let answer = console.access("a", &fx.ns, verb, &res).await?;
    assert!(
        matches!(answer, Msg::Access { allowed: false, .. }),
        "{answer:?}"
    );
    let mut state = State::new(now, Settings::default(), vec![Cluster::new("a")], vec![]);
    Pump::headless().apply(&mut state, answer);
    assert_eq!(
        shipdeck::core::input::plan_allowed(&state, &plan),
        Some(false)
    );
    assert_eq!(
        fx.oncall
            .check_access(fx.ns.clone(), verb.into(), res.clone())
            .await,
        Some(true)
    );
    assert_eq!(
        fx.oncall
            .check_access(fx.ns.clone(), "patch".into(), "rollouts/status".into())
            .await,
        Some(true)
    );
    assert_eq!(
        fx.viewer
            .check_access(fx.ns.clone(), "patch".into(), "rollouts/status".into())
            .await,
        Some(false)
    );

    // Were the patch sent anyway, the server says no, and nothing changes.
    let dry = fx.viewer.dry_run(plan.clone()).await;
    assert!(
        matches!(&dry, Err(e) if e.contains("403")),
        "viewer dry run: {dry:?}"
    );
    let outcome = console.run(1, plan).await?;
    match &outcome {
        Outcome::Forbidden {
            status: 403,
            detail,
        } => {
            assert!(
                detail.contains("forbidden") && detail.contains("patch"),
                "{detail}"
            )
        }
        other => panic!("viewer patch: {other:?}"),
    }
    let after = fx.deployment("web").await?;
    assert_eq!(
        after.resource_version, rel.resource_version,
        "object changed"
    );
    assert!(!after.facts.spec_paused);
    let who = fx.viewer.identity().await;
    assert!(who.contains("viewer"), "identity {who:?}");
    check_audit(audit_path, 1, "viewer")?;
    let text = std::fs::read_to_string(audit_path)?;
    assert!(text.contains("\"forbidden\""), "{text}");
    Ok(())
}

#[tokio::test]
async fn loadtester_post_goes_through_the_service_proxy() -> Result<()> {
    let fx = Fixture::new("a").await?;
    let result = AssertUnwindSafe(proxy_body(&fx)).catch_unwind().await;
    fx.done(result).await
}

async fn proxy_body(fx: &Fixture) -> Result<()> {
    // A Service with no endpoints: the request reaches the API server's proxy, which answers
    // 503 (the real loadtester runs on loopback, which the proxy refuses by design).
    fx.apply(&manifests::service("flagger-loadtester", 80, 8080))
        .await?;
    let call = ApiCall::ProxyPost {
        namespace: fx.ns.clone(),
        service: "flagger-loadtester".into(),
        port: "80".into(),
        path: "/rollback/open".into(),
        body: json!({"name": "podinfo", "namespace": fx.ns}),
    };
    assert_eq!(call.rbac(), ("create", "services/proxy".to_owned()));
    assert_eq!(
        fx.oncall
            .check_access(fx.ns.clone(), "create".into(), "services/proxy".into())
            .await,
        Some(true)
    );
    assert_eq!(
        fx.viewer
            .check_access(fx.ns.clone(), "create".into(), "services/proxy".into())
            .await,
        Some(false)
    );
    let rel = fx.deployment_or_placeholder().await?;
    let mut plan = fx.plan(ActionKind::Pause, &rel)?;
    plan.calls = vec![call];
    assert_eq!(
        fx.oncall.dry_run(plan.clone()).await,
        Err("dry-run not supported by the loadtester".to_owned())
    );
    let outcome = fx.oncall.execute(plan.clone()).await;
    eprintln!("service proxy without endpoints (oncall): {outcome:?}");
    assert!(
        matches!(outcome, Outcome::Rejected { status: 503, .. }),
        "{outcome:?}"
    );
    let outcome = fx.viewer.execute(plan).await;
    assert!(
        matches!(outcome, Outcome::Forbidden { status: 403, .. }),
        "viewer: {outcome:?}"
    );
    Ok(())
}

impl Fixture {
    /// Any release to hang a hand-made plan on (its calls are replaced).
    async fn deployment_or_placeholder(&self) -> Result<shipdeck::core::model::Release> {
        self.apply(&deployment_yaml("holder", "example.test/holder:1", 1, "x"))
            .await?;
        self.deployment("holder").await
    }
}

/// This suite's Deployment: `team` annotated (undo brings it back), podinfo's port declared.
fn deployment_yaml(name: &str, image: &str, replicas: u32, team: &str) -> String {
    Deployment::new(name, image)
        .replicas(replicas)
        .team(team)
        .port(9898)
        .yaml()
}
