#![cfg(feature = "e2e")]
//! Flagger's confirm-promotion gate on the real Flagger and loadtester (tests/env): a Canary
//! in WaitingPromotion at a closed gate is approved with `p` (the console's plan, executor
//! and audit), reaches Succeeded, and the console closes the gate again (the loadtester
//! would keep it open for the next release). The gate is read back from the loadtester's
//! own `/gate/check` each time, and the detail says what the loadtester answers (closed, then
//! open after `p`). And `t` terminates a Rollout's running AnalysisRun, or the running
//! Experiment of an experiment step (compared with what the plugin's `terminate experiment`
//! writes), on the real Argo Rollouts controller. Each test works in its own `act-…`
//! namespace and deletes it.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[allow(dead_code)]
mod actions;
#[allow(dead_code)]
#[path = "support/metric_server.rs"]
mod metric_server;
#[allow(dead_code)]
#[path = "support/plugin.rs"]
mod plugin;
mod support;

use std::panic::AssertUnwindSafe;

use anyhow::{Context, Result, anyhow, bail};
use futures::FutureExt;
use serde_json::{Value, json};
use shipdeck::action::audit::AuditLog;
use shipdeck::action::executor::ActionTarget;
use shipdeck::core::action::{ANALYSISRUNS, ActionKind, ApiCall, CANARIES, EXPERIMENTS, PatchType};
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

/// Let the on-call identity patch `resource` (argoproj.io) in the fixture's namespace.
async fn grant_patch(fx: &Fixture, resource: &str) -> Result<()> {
    support::apply::apply_value(
        &fx.admin,
        Some(&fx.ns),
        json!({
            "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role",
            "metadata": {"name": format!("patch-{resource}")},
            "rules": [{"apiGroups": ["argoproj.io"], "resources": [resource], "verbs": ["patch"]}],
        }),
    )
    .await?;
    support::apply::apply_value(
        &fx.admin,
        Some(&fx.ns),
        json!({
            "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
            "metadata": {"name": format!("patch-{resource}")},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": format!("patch-{resource}")},
            "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "Group", "name": "shipdeck:oncall"}],
        }),
    )
    .await?;
    Ok(())
}

#[tokio::test]
async fn t_terminates_a_running_experiment_as_the_plugin_does() -> Result<()> {
    let fx = Fixture::new("a").await?;
    let result = AssertUnwindSafe(experiment_body(&fx)).catch_unwind().await;
    fx.done(result).await
}

/// The fields terminate decides, as the controller leaves an Experiment.
fn terminated_fields(ex: &Value) -> (Value, String, Vec<(String, String)>) {
    let templates = ex["status"]["templateStatuses"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|t| {
            let s = |k: &str| t[k].as_str().unwrap_or("").to_owned();
            (s("name"), s("status"))
        })
        .collect();
    (
        ex["spec"]["terminate"].clone(),
        ex["status"]["phase"].as_str().unwrap_or("").to_owned(),
        templates,
    )
}

async fn experiment_body(fx: &Fixture) -> Result<()> {
    let plugin = plugin::Plugin::of(support::TestEnv::get()?, "a-admin")?;
    grant_patch(fx, "experiments").await?;
    // Two Rollouts with an experiment step that would run for an hour: shipdeck terminates
    // the Experiment of `ours`, the plugin the one of `theirs`.
    let rollout = |name: &str, image: &str| {
        let mut v = Rollout::canary(name, image).replicas(2).value();
        v["metadata"]["namespace"] = json!(fx.ns);
        v["spec"]["strategy"]["canary"]["steps"] = json!([
            {"setWeight": 20},
            {"experiment": {"duration": "1h", "templates": [
                {"name": "canary", "specRef": "canary", "replicas": 1}
            ]}},
            {"pause": {}},
        ]);
        v
    };
    let names = ["ours", "theirs"];
    for name in names {
        let v = rollout(name, &format!("example.test/{name}:1"));
        support::apply::apply_value(&fx.admin, Some(&fx.ns), v).await?;
    }
    for name in names {
        fx.wait_release(
            "v1 healthy",
            || fx.rollout(name),
            |r| r.facts.fully_promoted,
        )
        .await?;
    }
    for name in names {
        let v = rollout(name, &format!("example.test/{name}:2"));
        support::apply::apply_value(&fx.admin, Some(&fx.ns), v).await?;
    }
    let mut experiments = Vec::new();
    for name in names {
        let r = fx
            .wait_release(
                "the experiment step runs its Experiment",
                || fx.rollout(name),
                |r| r.facts.experiment.is_some(),
            )
            .await?;
        experiments.push((r.facts.experiment.clone().unwrap_or_default(), r));
    }
    let [(ours_ex, ours), (theirs_ex, _)] = experiments.as_slice() else {
        unreachable!()
    };
    assert_eq!(ours.step, Some((1, 3)), "in the experiment step");
    let ex = fx.get(&EXPERIMENTS, ours_ex).await?;
    assert_eq!(ex["spec"]["terminate"], Value::Null, "not terminated yet");

    let plan = fx.plan(ActionKind::Terminate, ours)?;
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
        (&EXPERIMENTS, ours_ex, PatchType::Json)
    );
    assert!(
        body.to_string()
            .contains(r#"{"op":"add","path":"/spec/terminate","value":true}"#),
        "{body}"
    );
    assert_eq!(plan.calls[0].rbac(), ("patch", "experiments".to_owned()));
    let mut console = Console::new("a", fx.oncall.clone(), None);
    let outcome = console.run(1, plan).await?;
    eprintln!("terminate experiment {ours_ex}: {outcome:?}");
    assert_applied(&outcome, "terminate the Experiment");
    let said = plugin
        .run(&fx.ns, &["terminate", "experiment", theirs_ex])
        .await?;
    eprintln!("plugin: {}", said.trim());

    // Both Experiments end the same way: terminated, their templates scaled down, the
    // phase the controller gives a terminated Experiment.
    let mut ended = Vec::new();
    for ex in [ours_ex, theirs_ex] {
        let fields = wait_until("experiment terminated", actions::TIMEOUT, || async {
            let v = fx.get(&EXPERIMENTS, ex).await?;
            let f = terminated_fields(&v);
            let done = f.0 == true
                && matches!(
                    f.1.as_str(),
                    "Successful" | "Failed" | "Error" | "Inconclusive"
                );
            Ok(if done {
                Check::Done(f)
            } else {
                Check::NotYet(format!("{f:?}"))
            })
        })
        .await?;
        eprintln!("Experiment {ex} after terminate: {fields:?}");
        ended.push(fields);
    }
    assert_eq!(
        ended[0], ended[1],
        "shipdeck's terminate and the plugin's differ"
    );
    assert_eq!(ended[0].1, "Successful", "{:?}", ended[0]);
    // And both Rollouts go on to the step after the experiment, as if it had passed.
    for name in names {
        let after = fx
            .wait_release(
                "past the experiment step",
                || fx.rollout(name),
                |r| r.step == Some((2, 3)),
            )
            .await?;
        assert_eq!(after.facts.experiment, None);
        assert!(
            fx.plan(ActionKind::Terminate, &after).is_err(),
            "terminate still offered for {name}"
        );
    }
    Ok(())
}

#[tokio::test]
async fn the_detail_says_what_the_loadtester_says_about_the_gate() -> Result<()> {
    let fx = Fixture::new("a").await?;
    let result = AssertUnwindSafe(gate_state_body(&fx)).catch_unwind().await;
    fx.done(result).await
}

/// The screen as the console draws it.
fn screen(state: &State) -> String {
    shipdeck::ui::screenshot(state, &shipdeck::ui::Theme::default(), 120, 40)
}

/// Carry out the gate checks among `effects` with `target` and feed the answers back.
async fn answer_checks(
    state: &mut State,
    target: &shipdeck::action::kube::KubeTarget,
    effects: Vec<Effect>,
) -> usize {
    let mut asked = 0;
    for e in effects {
        if let Effect::CheckGate(q) = e {
            let request = q.request;
            let answer = target.check_gate(q).await;
            eprintln!("gate check {request}: {answer:?}");
            update(
                state,
                Msg::GateChecked {
                    request,
                    state: answer,
                },
            );
            asked += 1;
        }
    }
    shipdeck::core::settle(state);
    asked
}

async fn gate_state_body(fx: &Fixture) -> Result<()> {
    use shipdeck::core::Key;
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
    fx.apply(&deployment("example.test/podinfo:2")).await?;
    fx.wait_release(
        "held at the closed confirm-promotion gate",
        || fx.canary("podinfo"),
        |r| r.facts.flagger_phase == "WaitingPromotion",
    )
    .await?;
    assert!(!gate_open(&lt, &fx.ns).await?, "starts closed");

    let mut state = State::new(
        jiff::Timestamp::now(),
        Settings::default(),
        vec![Cluster::new("a")],
        vec![],
    );
    state.view.width = 120;
    state.view.height = 40;
    let facts = canary_facts(fx).await?;
    update(
        &mut state,
        Msg::Upsert {
            cluster: "a".into(),
            facts,
        },
    );
    shipdeck::core::settle(&mut state);
    let target = fx.oncall.clone().with_loadtester(Some(&lt));

    // Enter opens the detail: the gate is asked once, and the answer shown.
    let effects = update(&mut state, Msg::Key(Key::Enter));
    shipdeck::core::settle(&mut state);
    assert_eq!(answer_checks(&mut state, &target, effects).await, 1);
    let s = screen(&state);
    eprintln!("{s}");
    assert!(s.contains("confirm-promotion gate: closed"), "{s}");

    // `p`, confirmed: the gate opens, and the answer to the check that follows says so.
    let effects = update(&mut state, Msg::Key(Key::Char('p')));
    assert!(
        state.view.modal.is_some(),
        "no modal: {:?}",
        state.view.notice
    );
    for e in effects {
        if let Effect::CheckAccess {
            cluster,
            namespace,
            verb,
            resource,
        } = e
        {
            let allowed = target
                .check_access(namespace.clone(), verb.clone(), resource.clone())
                .await
                .unwrap_or(false);
            update(
                &mut state,
                Msg::Access {
                    cluster,
                    namespace,
                    verb,
                    resource,
                    allowed,
                },
            );
        }
    }
    let effects = update(&mut state, Msg::Key(Key::Char('y')));
    let Some(Effect::Execute { id, plan, .. }) = effects
        .into_iter()
        .find(|e| matches!(e, Effect::Execute { .. }))
    else {
        panic!("y sent nothing: {:?}", state.view.notice)
    };
    let mut console = Console::new("a", target.clone(), None);
    let outcome = console.run(id, plan).await?;
    assert_applied(&outcome, "open the gate");
    assert!(gate_open(&lt, &fx.ns).await?, "the gate did not open");
    let effects = update(&mut state, Msg::ActionDone { id, outcome });
    assert_eq!(
        answer_checks(&mut state, &target, effects).await,
        1,
        "the gate is asked again after p"
    );
    let s = screen(&state);
    eprintln!("{s}");
    assert!(s.contains("confirm-promotion gate: open"), "{s}");

    // Through the API server's service proxy (a loadtester Service in the Canary's
    // namespace): this environment's loadtester is not a pod, so the Service has no
    // endpoints and the API server's own error comes back — read as "unknown", never as
    // the loadtester's "closed".
    support::apply::apply_value(
        &fx.admin,
        Some(&fx.ns),
        json!({
            "apiVersion": "v1", "kind": "Service",
            "metadata": {"name": "flagger-loadtester"},
            "spec": {"ports": [{"port": 80, "targetPort": 8080}], "selector": {"app": "nothing-here"}},
        }),
    )
    .await?;
    let url = format!("http://flagger-loadtester.{}:80/gate/check", fx.ns);
    let q = shipdeck::core::gates::GateQuery {
        request: 99,
        cluster: "a".into(),
        hook: shipdeck::core::facts::GateHook::ConfirmPromotion,
        to: shipdeck::core::action::Loadtester::parse(&url).expect("a service URL"),
        canary: shipdeck::core::action::CanarySeen {
            namespace: fx.ns.clone(),
            name: "podinfo".into(),
            uid: String::new(),
            phase: "WaitingPromotion".into(),
            webhook_type: "confirm-promotion".into(),
            webhook: url.clone(),
            resource_version: None,
        },
    };
    // The API server's service proxy looks services up in its own informer cache: a
    // Service just created may still be "not found" there for a moment. Wait for that to
    // pass; any other answer is the one asserted below.
    let proxied = wait_until(
        "the service proxy to know the new Service",
        actions::TIMEOUT,
        || async {
            let answer = fx.oncall.check_gate(q.clone()).await;
            Ok(match &answer {
                shipdeck::core::facts::GateState::Unknown(why)
                    if why.starts_with("404") && why.contains("not found") =>
                {
                    Check::NotYet(why.clone())
                }
                _ => Check::Done(answer),
            })
        },
    )
    .await?;
    eprintln!("through the service proxy: {proxied:?}");
    assert!(
        matches!(&proxied, shipdeck::core::facts::GateState::Unknown(why) if why.starts_with("503")),
        "{proxied:?}"
    );
    Ok(())
}
