//! Smoke tests of the loopback control plane (tests/env): real apiservers, controllers,
//! Argo Rollouts and Flagger. Run with `scripts/test`, or by hand after `tests/env/up`:
//! `cargo test --features e2e --test e2e_env`.
#![cfg(feature = "e2e")]

mod support;

use std::time::Duration;

use anyhow::{Context, Result, ensure};
use k8s_openapi::api::apps::v1::{Deployment, ReplicaSet};
use k8s_openapi::api::authorization::v1::SelfSubjectAccessReview;
use kube::api::{Api, DynamicObject, ListParams, Patch, PatchParams, PostParams};
use kube::core::GroupVersionKind;
use serde_json::json;

use support::TestEnv;
use support::apply::{NamespaceCleanup, apply_yaml, dynamic_api, ensure_namespace};
use support::env::unique_name;
use support::manifests::{self, Canary, PAUSE_THEN_10S, Rollout};
use support::wait::{Check, deployment_rolled_out, wait_until};

const TIMEOUT: Duration = Duration::from_secs(90);

/// This suite's Deployment: podinfo's port declared.
fn deployment_yaml(name: &str, image: &str, replicas: u32) -> String {
    manifests::Deployment::new(name, image)
        .replicas(replicas)
        .port(9898)
        .yaml()
}

async fn admin(cluster: &str) -> Result<(kube::Client, String, NamespaceCleanup)> {
    let env = TestEnv::get()?;
    let context = format!("{cluster}-admin");
    let client = env.client(&context).await?;
    let ns = unique_name("e2e");
    ensure_namespace(&client, &ns).await?;
    let cleanup = NamespaceCleanup::new(&context, &ns);
    Ok((client, ns, cleanup))
}

#[tokio::test]
async fn deployment_becomes_available_then_rolls_to_new_image() -> Result<()> {
    let (client, ns, _gone) = admin("a").await?;
    apply_yaml(
        &client,
        Some(&ns),
        &deployment_yaml("web", "example.test/web:1", 3),
    )
    .await?;
    let d = deployment_rolled_out(&client, &ns, "web", TIMEOUT).await?;
    let status = d.status.context("no status")?;
    assert_eq!(
        status.available_replicas,
        Some(3),
        "first rollout: {status:?}"
    );

    apply_yaml(
        &client,
        Some(&ns),
        &deployment_yaml("web", "example.test/web:2", 3),
    )
    .await?;
    deployment_rolled_out(&client, &ns, "web", TIMEOUT).await?;

    // Every replica now runs the new image: the only ReplicaSet with replicas is the new one.
    let rs_api: Api<ReplicaSet> = Api::namespaced(client.clone(), &ns);
    let sets = rs_api
        .list(&ListParams::default().labels("app=web"))
        .await?;
    let live: Vec<(String, i32)> = sets
        .items
        .iter()
        .filter(|rs| rs.spec.replicas.unwrap_or(0) > 0)
        .map(|rs| {
            let image = rs
                .spec
                .template
                .as_ref()
                .and_then(|t| t.spec.as_ref())
                .map(|p| p.containers[0].image.clone().unwrap_or_default())
                .unwrap_or_default();
            (
                image,
                rs.status
                    .as_ref()
                    .map_or(0, |s| s.ready_replicas.unwrap_or(0)),
            )
        })
        .collect();
    assert_eq!(
        live,
        vec![("example.test/web:2".to_owned(), 3)],
        "ReplicaSets: {live:?}"
    );
    assert_eq!(sets.items.len(), 2, "old ReplicaSet kept for rollback");
    Ok(())
}

/// This suite's Rollout `shop`: one promote, then a 10 s pause that ends by itself.
fn rollout_yaml(image: &str) -> String {
    Rollout::canary("shop", image).steps(PAUSE_THEN_10S).yaml()
}

fn rollout_state(r: &DynamicObject) -> (i64, usize, String, String, String) {
    let st = &r.data["status"];
    (
        st["currentStepIndex"].as_i64().unwrap_or(-1),
        st["pauseConditions"].as_array().map_or(0, Vec::len),
        st["phase"].as_str().unwrap_or("").to_owned(),
        st["currentPodHash"].as_str().unwrap_or("").to_owned(),
        st["stableRS"].as_str().unwrap_or("").to_owned(),
    )
}

async fn wait_rollout(
    api: &Api<DynamicObject>,
    what: &str,
    timeout: Duration,
    done: impl Fn(i64, usize, &str, bool) -> bool,
) -> Result<DynamicObject> {
    wait_until(what, timeout, || async {
        let r = api.get("shop").await?;
        let (step, pauses, phase, pod_hash, stable) = rollout_state(&r);
        let observed = r.data["status"]["observedGeneration"].as_str().map(str::to_owned)
            == r.metadata.generation.map(|g| g.to_string());
        let state = format!(
            "step {step}, {pauses} pause conditions, phase {phase:?}, podHash {pod_hash}, stableRS {stable}, status {}",
            r.data["status"]
        );
        Ok(if done(step, pauses, &phase, observed && pod_hash == stable) {
            Check::Done(r)
        } else {
            Check::NotYet(state)
        })
    })
    .await
}

#[tokio::test]
async fn argo_canary_pauses_then_advances_when_pause_condition_cleared() -> Result<()> {
    let env = TestEnv::get()?;
    let (admin, ns, _gone) = admin("a").await?;
    let gvk = GroupVersionKind::gvk("argoproj.io", "v1alpha1", "Rollout");
    let api = dynamic_api(&admin, &gvk, Some(&ns)).await?;

    // First revision: no stable version yet, so Argo promotes it straight to healthy.
    apply_yaml(&admin, Some(&ns), &rollout_yaml("example.test/shop:1")).await?;
    wait_rollout(
        &api,
        "first revision healthy",
        TIMEOUT,
        |_, _, phase, promoted| phase == "Healthy" && promoted,
    )
    .await?;

    // Second revision walks the canary steps and stops at the indefinite pause (step 1).
    apply_yaml(&admin, Some(&ns), &rollout_yaml("example.test/shop:2")).await?;
    let paused = wait_rollout(
        &api,
        "canary paused at step 1",
        TIMEOUT,
        |step, pauses, _, _| step == 1 && pauses > 0,
    )
    .await?;
    let conds = &paused.data["status"]["pauseConditions"];
    assert_eq!(
        conds[0]["reason"], "CanaryPauseStep",
        "pause conditions: {conds}"
    );
    assert_eq!(paused.data["status"]["phase"], "Paused");

    // It stays there: nothing advances a `pause: {}` step on its own.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let still = api.get("shop").await?;
    assert_eq!(
        rollout_state(&still).0,
        1,
        "advanced without a promote: {}",
        still.data["status"]
    );

    // Promote as the on-call user: the status merge patch from shared/reference/actions.md.
    let oncall = env.client("a-oncall").await?;
    let oncall_api = dynamic_api(&oncall, &gvk, Some(&ns)).await?;
    oncall_api
        .patch_status(
            "shop",
            &PatchParams::default(),
            &Patch::Merge(json!({"status": {"pauseConditions": null}})),
        )
        .await
        .context("promote (clear pauseConditions) as a-oncall")?;

    // Step 2 (setWeight 50), then the timed pause at step 3...
    wait_rollout(
        &api,
        "canary at timed pause (step 3)",
        TIMEOUT,
        |step, _, _, _| step >= 3,
    )
    .await?;
    // ...which ends by itself after 10 s; then the canary is promoted to stable.
    let done = wait_rollout(
        &api,
        "rollout completed",
        TIMEOUT,
        |step, pauses, phase, promoted| step == 4 && pauses == 0 && phase == "Healthy" && promoted,
    )
    .await?;
    assert_eq!(done.data["status"]["currentStepIndex"], 4);
    Ok(())
}

#[tokio::test]
async fn flagger_canary_initialises_primary() -> Result<()> {
    let (client, ns, _gone) = admin("a").await?;
    apply_yaml(
        &client,
        Some(&ns),
        &deployment_yaml("podinfo", "example.test/podinfo:1", 2),
    )
    .await?;
    apply_yaml(&client, Some(&ns), &Canary::over("podinfo").yaml()).await?;
    let gvk = GroupVersionKind::gvk("flagger.app", "v1beta1", "Canary");
    let canaries = dynamic_api(&client, &gvk, Some(&ns)).await?;
    wait_until("canary podinfo phase Initialized", TIMEOUT, || async {
        let c = canaries.get("podinfo").await?;
        let phase = c.data["status"]["phase"].as_str().unwrap_or("").to_owned();
        Ok(if phase == "Initialized" {
            Check::Done(())
        } else {
            Check::NotYet(format!("status {}", c.data["status"]))
        })
    })
    .await?;
    let deployments: Api<Deployment> = Api::namespaced(client.clone(), &ns);
    let primary = deployments
        .get("podinfo-primary")
        .await
        .context("primary Deployment")?;
    let ready = primary.status.and_then(|s| s.ready_replicas).unwrap_or(0);
    ensure!(
        ready == 2,
        "podinfo-primary has {ready} ready replicas, want 2"
    );
    // Flagger scales the target to zero once the primary serves.
    let target = deployments.get("podinfo").await?;
    assert_eq!(target.spec.replicas, Some(0));
    Ok(())
}

async fn can_i(context: &str, verb: &str, group: &str, resource: &str, sub: &str) -> Result<bool> {
    let client = TestEnv::get()?.client(context).await?;
    let api: Api<SelfSubjectAccessReview> = Api::all(client);
    let review: SelfSubjectAccessReview = serde_json::from_value(json!({
        "apiVersion": "authorization.k8s.io/v1",
        "kind": "SelfSubjectAccessReview",
        "spec": {"resourceAttributes": {
            "namespace": "default", "verb": verb, "group": group,
            "resource": resource, "subresource": sub
        }}
    }))?;
    let out = api.create(&PostParams::default(), &review).await?;
    Ok(out.status.context("no status")?.allowed)
}

#[tokio::test]
async fn viewer_cannot_patch_rollouts_and_oncall_can() -> Result<()> {
    for c in ["a", "b"] {
        let (viewer, oncall) = (format!("{c}-viewer"), format!("{c}-oncall"));
        assert!(
            !can_i(&viewer, "patch", "argoproj.io", "rollouts", "").await?,
            "{viewer} patch rollouts"
        );
        assert!(
            !can_i(&viewer, "patch", "argoproj.io", "rollouts", "status").await?,
            "{viewer} patch rollouts/status"
        );
        assert!(
            can_i(&viewer, "list", "argoproj.io", "rollouts", "").await?,
            "{viewer} list rollouts"
        );
        assert!(
            can_i(&oncall, "patch", "argoproj.io", "rollouts", "").await?,
            "{oncall} patch rollouts"
        );
        assert!(
            can_i(&oncall, "patch", "argoproj.io", "rollouts", "status").await?,
            "{oncall} patch rollouts/status"
        );
        assert!(
            can_i(&oncall, "patch", "flagger.app", "canaries", "").await?,
            "{oncall} patch canaries"
        );
        assert!(
            can_i(&oncall, "patch", "apps", "deployments", "").await?,
            "{oncall} patch deployments"
        );
        assert!(
            !can_i(&oncall, "delete", "apps", "deployments", "").await?,
            "{oncall} delete deployments"
        );
    }

    // And for real: a dry-run patch of a Deployment is refused for viewer, accepted for oncall.
    let (admin, ns, _gone) = admin("a").await?;
    apply_yaml(
        &admin,
        Some(&ns),
        &deployment_yaml("rbac", "example.test/rbac:1", 1),
    )
    .await?;
    let env = TestEnv::get()?;
    let patch = Patch::Merge(json!({"spec": {"paused": true}}));
    let dry = PatchParams {
        dry_run: true,
        ..PatchParams::default()
    };
    let viewer: Api<Deployment> = Api::namespaced(env.client("a-viewer").await?, &ns);
    match viewer.patch("rbac", &dry, &patch).await {
        Err(kube::Error::Api(e)) => assert_eq!(e.code, 403, "viewer patch: {e:?}"),
        other => panic!("viewer patch should be forbidden, got {other:?}"),
    }
    let oncall: Api<Deployment> = Api::namespaced(env.client("a-oncall").await?, &ns);
    let patched = oncall
        .patch("rbac", &dry, &patch)
        .await
        .context("oncall dry-run patch")?;
    assert_eq!(patched.spec.paused, Some(true));
    Ok(())
}
