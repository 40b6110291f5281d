#![cfg(feature = "e2e")]
//! Flagger's confirm-promotion gate on the real Flagger and loadtester (tests/env): a Canary
//! in WaitingPromotion at a closed gate is approved with `p` (the console's plan, executor
//! and audit), reaches Succeeded, and the console closes the gate again (the loadtester
//! would keep it open for the next release). The gate is read back from the loadtester's
//! own `/gate/check` each time. And `t` terminates a Rollout's running AnalysisRun on the
//! real Argo Rollouts controller. Each test works in its own `act-…` namespace and deletes it.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[allow(dead_code)]
mod actions;
#[allow(dead_code)]
#[path = "support/metric_server.rs"]
mod metric_server;
mod support;

use std::panic::AssertUnwindSafe;

use anyhow::{Context, Result, anyhow, bail};
use futures::FutureExt;
use serde_json::{Value, json};
use shipdeck::action::audit::AuditLog;
use shipdeck::action::executor::ActionTarget;
use shipdeck::core::action::{ANALYSISRUNS, ActionKind, ApiCall, CANARIES, PatchType};
use shipdeck::core::effect::Effect;
use shipdeck::core::facts::AnalysisPhase;
use shipdeck::core::gates::AUTO_CLOSE_NOTE;
use shipdeck::core::model::{Cluster, HumanWait};
use shipdeck::core::msg::{Msg, Outcome};
use shipdeck::core::state::{Settings, State};
use shipdeck::core::update::update;
use shipdeck::source::kube::project::{self, Keep, Projected};

use actions::{Console, Fixture, assert_applied};
use support::manifests::{Canary, Deployment, Rollout};
use support::wait::{Check, wait_until};

/// What the loadtester's `/gate/check` says for `podinfo` in `ns`: open (200) or closed (403).
async fn gate_open(lt: &str, ns: &str) -> Result<bool> {
    let res = reqwest::Client::new()
        .post(format!("{lt}/gate/check"))
        .json(&json!({"name": "podinfo", "namespace": ns}))
        .send()
        .await?;
    match res.status().as_u16() {
        200 => Ok(true),
        403 => Ok(false),
        other => bail!("/gate/check answered {other}"),
    }
}

/// The Canary as the watch would deliver it (the console's own projection).
async fn canary_facts(fx: &Fixture) -> Result<shipdeck::core::facts::ObjectFacts> {
    let mut v = fx.get(&CANARIES, "podinfo").await?;
    v["apiVersion"] = json!("flagger.app/v1beta1");
    v["kind"] = json!("Canary");
    match project::from_value(v, &Keep::default()).map_err(|e| anyhow!(e))? {
        Projected::Object(o) => Ok(o),
        _ => bail!("podinfo did not project"),
    }
}

fn gated_canary(fx: &Fixture, lt: &str) -> Value {
    let mut v = Canary::over("podinfo").value();
    v["metadata"]["namespace"] = json!(fx.ns);
    v["spec"]["analysis"]["webhooks"] = json!([
        {"name": "approve", "type": "confirm-promotion", "url": format!("{lt}/gate/check")},
    ]);
    v
}

#[tokio::test]
async fn a_closed_promotion_gate_is_opened_with_p_and_closed_again_after_success() -> Result<()> {
    let fx = Fixture::new("a").await?;
    let dir = tempfile::tempdir()?;
    let result = AssertUnwindSafe(gate_body(&fx, &dir.path().join("audit.jsonl")))
        .catch_unwind()
        .await;
    fx.done(result).await
}

async fn gate_body(fx: &Fixture, audit_path: &std::path::Path) -> Result<()> {
    let lt = support::TestEnv::get()?.loadtester_url("a")?;
    let lt = lt.trim_end_matches('/').to_owned();
    let deployment = |image: &str| {
        Deployment::new("podinfo", image)
            .replicas(2)
            .port(9898)
            .yaml()
    };
    fx.apply(&deployment("example.test/podinfo:1")).await?;
    support::apply::apply_value(&fx.admin, Some(&fx.ns), gated_canary(fx, &lt)).await?;
    fx.wait_release(
        "canary initialised",
        || fx.canary("podinfo"),
        |r| r.facts.flagger_phase == "Initialized",
    )
    .await?;
    assert!(
        !gate_open(&lt, &fx.ns).await?,
        "a new namespace's gate starts closed"
    );
    fx.apply(&deployment("example.test/podinfo:2")).await?;
    fx.wait_release(
        "held at the closed confirm-promotion gate",
        || fx.canary("podinfo"),
        |r| r.facts.flagger_phase == "WaitingPromotion",
    )
    .await?;

    // The console follows the Canary as the watch delivers it.
    let mut state = State::new(
        jiff::Timestamp::now(),
        Settings::default(),
        vec![Cluster::new("a")],
        vec![],
    );
    let feed = async |state: &mut State| -> Result<Vec<Effect>> {
        let facts = canary_facts(fx).await?;
        Ok(update(
            state,
            Msg::Upsert {
                cluster: "a".into(),
                facts,
            },
        ))
    };
    assert!(feed(&mut state).await?.is_empty());

    let held = fx.settled(|| fx.canary("podinfo")).await?;
    assert_eq!(held.needs_human, Some(HumanWait::PromotionGate));
    let configured = fx.oncall.clone().with_loadtester(Some(&lt));
    let log = AuditLog::open(audit_path)?;
    let mut console = Console::new("a", configured.clone(), Some(log));

    // A plan made before the Canary changed is refused on the re-read: nothing is posted.
    let stale = fx.plan(ActionKind::Promote, &held)?;
    let api: kube::Api<kube::api::DynamicObject> = kube::Api::namespaced_with(
        fx.admin.clone(),
        &fx.ns,
        &shipdeck::action::kube::request::api_resource(&CANARIES),
    );
    api.patch(
        "podinfo",
        &kube::api::PatchParams::default(),
        &kube::api::Patch::Merge(json!({"metadata": {"annotations": {"touched": "yes"}}})),
    )
    .await?;
    let conflict = console.run(1, stale).await?;
    eprintln!("stale open: {conflict:?}");
    assert!(
        matches!(&conflict, Outcome::Conflict { detail, .. } if detail.contains("resourceVersion is")),
        "{conflict:?}"
    );
    assert!(
        !gate_open(&lt, &fx.ns).await?,
        "a refused open left the gate open"
    );

    // `p` on the settled view: POST /gate/open to the configured loadtester.
    let held = fx.settled(|| fx.canary("podinfo")).await?;
    let plan = fx.plan(ActionKind::Promote, &held)?;
    let [ApiCall::LoadtesterPost { path, body, .. }] = plan.calls.as_slice() else {
        panic!("p on a gated canary: {:?}", plan.calls)
    };
    assert_eq!(path, "/gate/open");
    assert_eq!(body, &json!({"name": "podinfo", "namespace": fx.ns}));
    let dry = configured.dry_run(plan.clone()).await;
    assert!(
        dry.as_ref().is_ok_and(|d| d.contains("nothing posted")),
        "{dry:?}"
    );
    assert!(
        !gate_open(&lt, &fx.ns).await?,
        "the dry run opened the gate"
    );
    let opened = console.run(2, plan).await?;
    eprintln!("open: {opened:?}");
    assert_applied(&opened, "open the confirm-promotion gate");
    assert!(gate_open(&lt, &fx.ns).await?, "the gate did not open");

    // Flagger promotes; the console sees Succeeded and closes the gate on its own.
    let state = tokio::sync::Mutex::new(state);
    let close = wait_until(
        "Succeeded, and the close planned",
        actions::TIMEOUT,
        || async {
            let mut state = state.lock().await;
            let effects = feed(&mut state).await?;
            let phase = state
                .releases
                .values()
                .next()
                .map(|r| r.facts.flagger_phase.as_str().to_owned())
                .unwrap_or_default();
            Ok(match effects.into_iter().next() {
                Some(Effect::Execute { id, plan, .. }) => Check::Done((id, plan)),
                Some(other) => Check::NotYet(format!("unexpected effect {other:?}")),
                None => Check::NotYet(format!("phase {phase}")),
            })
        },
    )
    .await?;
    let (id, plan) = close;
    assert_eq!(plan.notes, vec![AUTO_CLOSE_NOTE.to_owned()]);
    let [ApiCall::LoadtesterPost { path, canary, .. }] = plan.calls.as_slice() else {
        panic!("close: {:?}", plan.calls)
    };
    assert_eq!(
        (path.as_str(), canary.phase.as_str()),
        ("/gate/close", "Succeeded")
    );
    assert!(gate_open(&lt, &fx.ns).await?, "still open before the close");
    let closed = console.run(id, plan).await?;
    eprintln!("close after success: {closed:?}");
    assert_applied(&closed, "close the gate after success");
    assert!(
        !gate_open(&lt, &fx.ns).await?,
        "the gate is still open after success"
    );
    let done = fx.canary("podinfo").await?;
    assert_eq!(done.facts.flagger_phase.as_str(), "Succeeded");

    // Both are in the audit log, each with its request.
    let audit = std::fs::read_to_string(audit_path).context("audit log")?;
    assert!(audit.contains("/gate/open"), "{audit}");
    assert!(audit.contains("/gate/close"), "{audit}");
    assert!(audit.contains("\"conflict\""), "{audit}");
    eprintln!(
        "audit records: {}",
        audit.lines().filter(|l| !l.trim().is_empty()).count()
    );
    Ok(())
}

#[tokio::test]
async fn t_terminates_a_running_analysisrun_on_the_real_controller() -> Result<()> {
    let fx = Fixture::new("a").await?;
    let result = AssertUnwindSafe(terminate_body(&fx)).catch_unwind().await;
    fx.done(result).await
}

async fn terminate_body(fx: &Fixture) -> Result<()> {
    // The on-call identity may patch AnalysisRuns (tests/env/manifests/rbac.yaml has it for
    // new environments; granted here in this namespace only for one already running).
    support::apply::apply_value(
        &fx.admin,
        Some(&fx.ns),
        json!({
            "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role",
            "metadata": {"name": "terminate"},
            "rules": [{"apiGroups": ["argoproj.io"], "resources": ["analysisruns"], "verbs": ["patch"]}],
        }),
    )
    .await?;
    support::apply::apply_value(
        &fx.admin,
        Some(&fx.ns),
        json!({
            "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
            "metadata": {"name": "terminate"},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "terminate"},
            "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "Group", "name": "shipdeck:oncall"}],
        }),
    )
    .await?;
    // A `web` metric answering 2: inconclusive (tolerated), so the run keeps running.
    let metrics = metric_server::MetricServer::start().await?;
    let key = format!("{}-web", fx.ns);
    metrics.set(&key, "2");
    support::apply::apply_value(
        &fx.admin,
        Some(&fx.ns),
        json!({
            "apiVersion": "argoproj.io/v1alpha1", "kind": "AnalysisTemplate",
            "metadata": {"name": "web"},
            "spec": {"metrics": [{
                "name": "web", "interval": "2s", "count": 1000,
                "successCondition": "result == 1", "failureCondition": "result == 0",
                "consecutiveSuccessLimit": 1, "inconclusiveLimit": 1000,
                "provider": {"web": {"url": metrics.url(&key), "jsonPath": "{$.value}", "timeoutSeconds": 5}},
            }]},
        }),
    )
    .await?;
    let rollout = |image: &str| {
        let mut v = Rollout::canary("shop", image).value();
        v["metadata"]["namespace"] = json!(fx.ns);
        v["spec"]["strategy"]["canary"]["steps"] = json!([
            {"setWeight": 20},
            {"analysis": {"templates": [{"templateName": "web"}]}},
            {"pause": {}},
        ]);
        v
    };
    support::apply::apply_value(&fx.admin, Some(&fx.ns), rollout("example.test/shop:1")).await?;
    fx.wait_release(
        "v1 healthy",
        || fx.rollout("shop"),
        |r| r.facts.fully_promoted,
    )
    .await?;
    support::apply::apply_value(&fx.admin, Some(&fx.ns), rollout("example.test/shop:2")).await?;
    let running = fx
        .wait_release(
            "step analysis running",
            || fx.rollout("shop"),
            |r| {
                r.analysis
                    .as_ref()
                    .is_some_and(|a| a.phase == AnalysisPhase::Running)
            },
        )
        .await?;
    let run = running
        .analysis
        .as_ref()
        .map(|a| a.name.clone())
        .unwrap_or_default();
    let plan = fx.plan(ActionKind::Terminate, &running)?;
    let [
        ApiCall::Patch {
            resource,
            name,
            patch_type,
            body,
            ..
        },
    ] = plan.calls.as_slice()
    else {
        panic!("terminate: {:?}", plan.calls)
    };
    assert_eq!(
        (resource, name, *patch_type),
        (&ANALYSISRUNS, &run, PatchType::Json)
    );
    assert!(
        body.to_string()
            .contains(r#"{"op":"add","path":"/spec/terminate","value":true}"#),
        "{body}"
    );
    assert_eq!(plan.calls[0].rbac(), ("patch", "analysisruns".to_owned()));

    let mut console = Console::new("a", fx.oncall.clone(), None);
    let outcome = console.run(1, plan.clone()).await?;
    eprintln!("terminate {run}: {outcome:?}");
    assert_applied(&outcome, "terminate the AnalysisRun");
    // As the plugin shows it: the run terminated (Successful, "Run Terminated"), and the
    // Rollout goes on to its pause step.
    let ended = wait_until(
        "run terminated by the controller",
        actions::TIMEOUT,
        || async {
            let ar = fx.get(&ANALYSISRUNS, &run).await?;
            let phase = ar["status"]["phase"].as_str().unwrap_or("").to_owned();
            let message = ar["status"]["message"].as_str().unwrap_or("").to_owned();
            Ok(
                if ar["spec"]["terminate"] == true && phase == "Successful" {
                    Check::Done((phase, message))
                } else {
                    Check::NotYet(format!(
                        "terminate {} phase {phase:?} {message:?}",
                        ar["spec"]["terminate"]
                    ))
                },
            )
        },
    )
    .await?;
    eprintln!("AnalysisRun {run} after terminate: {ended:?}");
    assert!(ended.1.to_lowercase().contains("terminated"), "{ended:?}");
    let after = fx
        .wait_release(
            "rollout past the analysis step",
            || fx.rollout("shop"),
            |r| r.step == Some((2, 3)),
        )
        .await?;
    assert!(
        rules_refuse_terminate(fx, &after),
        "terminate still offered after the run ended"
    );
    // The same plan again: the run is no longer Running, the JSON patch test refuses it.
    let again = console.run(2, plan).await?;
    eprintln!("terminate again: {again:?}");
    assert!(!again.is_applied(), "{again:?}");
    Ok(())
}

fn rules_refuse_terminate(fx: &Fixture, r: &shipdeck::core::model::Release) -> bool {
    fx.plan(ActionKind::Terminate, r).is_err()
}
