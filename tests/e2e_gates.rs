#![cfg(feature = "e2e")]
//! Flagger's confirm-promotion gate on the real Flagger and loadtester (tests/env): a Canary
//! in WaitingPromotion at a closed gate is approved with `p` (the console's plan, executor
//! and audit), reaches Succeeded, and the console closes the gate again (the loadtester
//! would keep it open for the next release). The gate is read back from the loadtester's
//! own `/gate/check` each time. Works in its own `act-…` namespace and deletes it.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[allow(dead_code)]
mod actions;
mod support;

use std::panic::AssertUnwindSafe;

use anyhow::{Context, Result, anyhow, bail};
use futures::FutureExt;
use serde_json::{Value, json};
use shipdeck::action::audit::AuditLog;
use shipdeck::action::executor::ActionTarget;
use shipdeck::core::action::{ActionKind, ApiCall, CANARIES};
use shipdeck::core::effect::Effect;
use shipdeck::core::gates::AUTO_CLOSE_NOTE;
use shipdeck::core::model::{Cluster, HumanWait};
use shipdeck::core::msg::{Msg, Outcome};
use shipdeck::core::state::{Settings, State};
use shipdeck::core::update::update;
use shipdeck::source::kube::project::{self, Keep, Projected};

use actions::{Console, Fixture, assert_applied};
use support::manifests::{Canary, Deployment};
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
    let deployment = |image: &str| Deployment::new("podinfo", image).replicas(2).port(9898).yaml();
    fx.apply(&deployment("example.test/podinfo:1")).await?;
    support::apply::apply_value(&fx.admin, Some(&fx.ns), gated_canary(fx, &lt)).await?;
    fx.wait_release(
        "canary initialised",
        || fx.canary("podinfo"),
        |r| r.facts.flagger_phase == "Initialized",
    )
    .await?;
    assert!(!gate_open(&lt, &fx.ns).await?, "a new namespace's gate starts closed");
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
    assert!(!gate_open(&lt, &fx.ns).await?, "a refused open left the gate open");

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
    assert!(!gate_open(&lt, &fx.ns).await?, "the dry run opened the gate");
    let opened = console.run(2, plan).await?;
    eprintln!("open: {opened:?}");
    assert_applied(&opened, "open the confirm-promotion gate");
    assert!(gate_open(&lt, &fx.ns).await?, "the gate did not open");

    // Flagger promotes; the console sees Succeeded and closes the gate on its own.
    let state = tokio::sync::Mutex::new(state);
    let close = wait_until("Succeeded, and the close planned", actions::TIMEOUT, || async {
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
    })
    .await?;
    let (id, plan) = close;
    assert_eq!(plan.notes, vec![AUTO_CLOSE_NOTE.to_owned()]);
    let [ApiCall::LoadtesterPost { path, canary, .. }] = plan.calls.as_slice() else {
        panic!("close: {:?}", plan.calls)
    };
    assert_eq!((path.as_str(), canary.phase.as_str()), ("/gate/close", "Succeeded"));
    assert!(gate_open(&lt, &fx.ns).await?, "still open before the close");
    let closed = console.run(id, plan).await?;
    eprintln!("close after success: {closed:?}");
    assert_applied(&closed, "close the gate after success");
    assert!(!gate_open(&lt, &fx.ns).await?, "the gate is still open after success");
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
