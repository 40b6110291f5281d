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
use shipdeck::core::model::{Cluster, Phase, Release};
use shipdeck::core::msg::{Msg, Outcome};
use shipdeck::core::state::{Settings, State};

use actions::{Console, Fixture, assert_applied};
use support::manifests::{Canary, Deployment, Rollout};
use support::wait::{Check, wait_until};

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
    // The pause is written before the controller has finished the step: it still writes the
    // status while the canary pod turns ready and the stable set scales down. A plan made on
    // that view carries a resourceVersion the next status write makes stale (a 409, as it
    // should be). Plans are made on the settled step: every replica counted, one updated.
    wait_until("step 1 settled", actions::TIMEOUT, || async {
        let raw = fx.get(&ROLLOUTS, name).await?;
        Ok(if step_settled(&raw) {
            Check::Done(())
        } else {
            Check::NotYet(format!("status {}", raw["status"]))
        })
    })
    .await
}

/// Rollout `raw` (5 replicas, first step setWeight 20) done with that step: the controller has
/// observed its generation, 5 replicas exist, all ready and available, 1 of them updated.
fn step_settled(raw: &Value) -> bool {
    let s = &raw["status"];
    // Argo writes observedGeneration as a string; compare the text either way.
    let text = |v: &Value| match v {
        Value::String(t) => Some(t.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    };
    text(&s["observedGeneration"]).is_some_and(|g| Some(g) == text(&raw["metadata"]["generation"]))
        && [
            ("replicas", 5),
            ("readyReplicas", 5),
            ("availableReplicas", 5),
            ("updatedReplicas", 1),
        ]
        .iter()
        .all(|(k, n)| s[*k].as_i64() == Some(*n))
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

/// This suite's Deployment: `team` annotated (undo brings it back), podinfo's port declared.
fn deployment_yaml(name: &str, image: &str, replicas: u32, team: &str) -> String {
    Deployment::new(name, image)
        .replicas(replicas)
        .team(team)
        .port(9898)
        .yaml()
}

/// Patch `spec.paused` of Rollout `name` as admin (someone with kubectl).
async fn set_spec_paused(fx: &Fixture, name: &str, paused: bool) -> Result<()> {
    let api: kube::Api<kube::api::DynamicObject> = kube::Api::namespaced_with(
        fx.admin.clone(),
        &fx.ns,
        &shipdeck::action::kube::request::api_resource(&ROLLOUTS),
    );
    api.patch(
        name,
        &kube::api::PatchParams::default(),
        &kube::api::Patch::Merge(json!({"spec": {"paused": paused}})),
    )
    .await?;
    Ok(())
}

#[tokio::test]
async fn a_change_between_promotes_two_calls_is_a_conflict_not_a_second_write() -> Result<()> {
    let fx = Fixture::new("a").await?;
    let result = AssertUnwindSafe(chained_body(&fx)).catch_unwind().await;
    fx.done(result).await
}

async fn chained_body(fx: &Fixture) -> Result<()> {
    use shipdeck::action::kube::{request, target};
    rollout_paused_at_first_step(fx, "chain").await?;
    // A manual pause on top of the step pause: promote then needs two calls.
    set_spec_paused(fx, "chain", true).await?;
    fx.wait_release(
        "manual pause on the step pause",
        || fx.rollout("chain"),
        |r| r.facts.spec_paused && r.facts.pause_conditions,
    )
    .await?;
    let seen = fx.settled(|| fx.rollout("chain")).await?;
    let plan = fx.plan(ActionKind::Promote, &seen)?;
    let [first, second] = &plan.calls[..] else {
        panic!("promote over a manual + step pause: {:?}", plan.calls)
    };
    // The real request code, one call at a time: the first applies...
    let client = fx.oncall.client();
    let sent = request::send(client, first, false, None)
        .await
        .map_err(|o| anyhow::anyhow!("first call: {o:?}"))?;
    let written = sent
        .resource_version
        .clone()
        .context("no resourceVersion")?;
    assert_ne!(written, seen.resource_version);
    // ...then someone pauses it again before the second call goes out.
    set_spec_paused(fx, "chain", true).await?;
    let wire = target::next_call(second, Some((first, &sent)));
    let ApiCall::Patch { body, .. } = &wire else {
        panic!("{wire:?}")
    };
    assert_eq!(body["metadata"]["resourceVersion"], written.as_str());
    let answer = request::send(client, &wire, false, None).await;
    eprintln!("second call after a change: {answer:?}");
    assert!(
        matches!(answer, Err(Outcome::Conflict { status: 409, .. })),
        "{answer:?}"
    );
    // No second write: the step pause still holds, at the same step.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let after = fx.rollout("chain").await?;
    assert!(after.facts.pause_conditions, "{:?}", after.facts);
    assert_eq!(after.step, Some((1, 4)));
    Ok(())
}

/// The Canary `podinfo` held in phase WaitingPromotion by a halting confirm-promotion gate
/// (Flagger checks rollback webhooks there; a confirm-rollout halt returns before them),
/// with its rollback webhook at `rollback`.
fn held_canary(fx: &Fixture, loadtester: &str, rollback: &str) -> Value {
    let mut v = Canary::over("podinfo").value();
    v["metadata"]["namespace"] = json!(fx.ns);
    v["spec"]["analysis"]["webhooks"] = json!([
        {"name": "hold", "type": "confirm-promotion", "url": format!("{loadtester}/gate/halt")},
        {"name": "rollback", "type": "rollback", "url": rollback},
    ]);
    v
}

async fn canary_with_webhook(fx: &Fixture, lt: &str, rollback: &str) -> Result<Release> {
    support::apply::apply_value(&fx.admin, Some(&fx.ns), held_canary(fx, lt, rollback)).await?;
    fx.wait_release(
        "webhook in place, canary held",
        || fx.canary("podinfo"),
        |r| {
            r.facts.rollback_webhook.as_deref() == Some(rollback)
                && r.facts.flagger_phase == "WaitingPromotion"
        },
    )
    .await
}

#[tokio::test]
async fn flagger_rollback_goes_only_to_its_own_namespace_or_the_configured_loadtester() -> Result<()>
{
    let fx = Fixture::new("a").await?;
    let dir = tempfile::tempdir()?;
    let result = AssertUnwindSafe(rollback_body(&fx, &dir.path().join("audit.jsonl")))
        .catch_unwind()
        .await;
    fx.done(result).await
}

async fn rollback_body(fx: &Fixture, audit_path: &std::path::Path) -> Result<()> {
    let lt = support::TestEnv::get()?.loadtester_url("a")?;
    let lt = lt.trim_end_matches('/').to_owned();
    fx.apply(&deployment_yaml(
        "podinfo",
        "example.test/podinfo:1",
        2,
        "x",
    ))
    .await?;
    let own = format!("http://flagger-loadtester.{}:80/rollback/check", fx.ns);
    support::apply::apply_value(&fx.admin, Some(&fx.ns), held_canary(fx, &lt, &own)).await?;
    fx.wait_release(
        "canary initialised",
        || fx.canary("podinfo"),
        |r| r.facts.flagger_phase == "Initialized",
    )
    .await?;
    fx.apply(&deployment_yaml(
        "podinfo",
        "example.test/podinfo:2",
        2,
        "x",
    ))
    .await?;
    let held = canary_with_webhook(fx, &lt, &own).await?;
    let log = AuditLog::open(audit_path)?;
    let configured = fx.oncall.clone().with_loadtester(Some(&lt));
    let mut console = Console::new("a", configured.clone(), Some(log));

    // Its own namespace: posted through the API server's service proxy (no endpoints here,
    // the proxy answers 503 — the request was sent, not refused).
    fx.apply(&support::manifests::service("flagger-loadtester", 80, 8080))
        .await?;
    let plan = fx.plan(ActionKind::Undo, &held)?;
    assert_eq!(
        plan.calls[0].rbac(),
        ("create", "services/proxy".to_owned())
    );
    let own_ns = console.run(1, plan.clone()).await?;
    eprintln!("own namespace: {own_ns:?}");
    assert!(
        matches!(own_ns, Outcome::Rejected { status: 503, .. }),
        "{own_ns:?}"
    );
    let viewer = fx.viewer.execute(plan).await;
    assert!(
        matches!(viewer, Outcome::Forbidden { status: 403, .. }),
        "{viewer:?}"
    );

    // Another namespace: refused before any request, the reason names that namespace.
    let foreign = canary_with_webhook(
        fx,
        &lt,
        "http://flagger-loadtester.kube-system:80/rollback/check",
    )
    .await?;
    let plan = fx.plan(ActionKind::Undo, &foreign)?;
    let dry = configured.dry_run(plan.clone()).await;
    assert!(
        dry.as_ref()
            .is_err_and(|e| e.contains("into namespace kube-system")),
        "{dry:?}"
    );
    let refused = console.run(2, plan).await?;
    eprintln!("other namespace: {refused:?}");
    match &refused {
        Outcome::Rejected { status: 0, detail } => {
            assert!(detail.contains("into namespace kube-system"), "{detail}");
            assert!(detail.contains(&fx.ns), "{detail}");
        }
        other => panic!("expected a refusal, got {other:?}"),
    }

    // The configured loadtester, but the Canary changed after the plan was made: conflict.
    let direct = format!("{lt}/rollback/check");
    let ready = canary_with_webhook(fx, &lt, &direct).await?;
    let stale = fx.plan(ActionKind::Undo, &ready)?;
    canary_with_webhook(fx, &lt, &own).await?;
    let conflict = console.run(3, stale).await?;
    eprintln!("changed canary: {conflict:?}");
    assert!(
        matches!(&conflict, Outcome::Conflict { detail, .. } if detail.contains("rollback webhook is")),
        "{conflict:?}"
    );

    // The configured loadtester, unchanged: the gate opens and Flagger rolls back.
    let ready = canary_with_webhook(fx, &lt, &direct).await?;
    let plan = fx.plan(ActionKind::Undo, &ready)?;
    let rolled = console.run(4, plan).await?;
    eprintln!("configured loadtester: {rolled:?}");
    assert_applied(&rolled, "rollback through the configured loadtester");
    fx.wait_release(
        "rolled back",
        || fx.canary("podinfo"),
        |r| r.facts.flagger_phase == "Failed",
    )
    .await?;
    let audit = std::fs::read_to_string(audit_path)?;
    assert!(audit.contains("into namespace kube-system"), "{audit}");
    assert!(audit.contains("\"conflict\""), "{audit}");
    Ok(())
}
