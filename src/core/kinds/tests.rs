//! Tests of the kind catalogue and the kind modules' action rules and requests.

use serde_json::{Value, json};

use super::*;
use crate::core::action::{ActionKind, ApiCall, Disabled};
use crate::core::action::{ActionPlan, plan};
use crate::core::facts::PauseReason;
use crate::core::facts::{CanaryFacts, ObjectMeta, PauseCondition, RolloutFacts};
use crate::core::model::Cluster;
use crate::core::status::{self, Ctx};

fn ctx() -> Ctx<'static> {
    Ctx {
        cluster: "a",
        service_label: "app.kubernetes.io/name",
        service_override: None,
    }
}

fn paused_rollout(reason: PauseReason) -> Release {
    let facts = RolloutFacts {
        meta: ObjectMeta {
            namespace: "shop".into(),
            name: "web".into(),
            uid: "u1".into(),
            resource_version: "7".into(),
            ..ObjectMeta::default()
        },
        strategy: "canary".into(),
        steps: vec![
            crate::core::facts::CanaryStep::SetWeight(20),
            crate::core::facts::CanaryStep::Analysis(vec!["ok".into()]),
            crate::core::facts::CanaryStep::SetWeight(50),
        ],
        controller_pause: true,
        pause_conditions: vec![PauseCondition {
            reason,
            start_time: None,
        }],
        current_step_index: Some(1),
        current_pod_hash: "new".into(),
        stable_rs: "old".into(),
        ..RolloutFacts::default()
    };
    status::rollout(&ctx(), &facts, &[])
}

fn body(plan: &ActionPlan) -> &Value {
    match &plan.calls[0] {
        ApiCall::Patch { body, .. } => body,
        other => panic!("{other:?}"),
    }
}

#[test]
fn promote_on_a_step_pause_only_clears_the_conditions() {
    let r = paused_rollout(PauseReason::CanaryPauseStep);
    let p = plan(
        ActionKind::Promote,
        &r,
        &Cluster::new("a"),
        false,
        Timestamp::UNIX_EPOCH,
    )
    .unwrap();
    assert_eq!(
        body(&p),
        &json!({"status": {"pauseConditions": null}, "metadata": {"resourceVersion": "7"}})
    );
}

#[test]
fn promote_on_an_inconclusive_analysis_steps_past_it() {
    let r = paused_rollout(PauseReason::InconclusiveAnalysisRun);
    let p = plan(
        ActionKind::Promote,
        &r,
        &Cluster::new("a"),
        false,
        Timestamp::UNIX_EPOCH,
    )
    .unwrap();
    assert_eq!(
        body(&p),
        &json!({"status": {"pauseConditions": null, "controllerPause": false, "currentStepIndex": 2},
                "metadata": {"resourceVersion": "7"}})
    );
}

#[test]
fn loadtester_post_needs_create_on_services_proxy() {
    let facts = CanaryFacts {
        meta: ObjectMeta {
            namespace: "shop".into(),
            name: "web".into(),
            ..ObjectMeta::default()
        },
        phase: "Progressing".into(),
        rollback_webhook: Some("http://flagger-loadtester.test:80/rollback/check".into()),
        ..CanaryFacts::default()
    };
    let r = status::canary(&ctx(), &facts);
    let p = plan(
        ActionKind::Undo,
        &r,
        &Cluster::new("a"),
        false,
        Timestamp::UNIX_EPOCH,
    )
    .unwrap();
    assert_eq!(p.calls[0].rbac(), ("create", "services/proxy".to_string()));
}

#[test]
fn catalogue_rows_are_in_kind_order_and_resources_match_their_parts() {
    for (i, api) in CATALOGUE.iter().enumerate() {
        assert_eq!(api.kind as usize, i, "{api:?}");
        let resource = if api.group.is_empty() {
            api.plural.to_string()
        } else {
            format!("{}.{}", api.plural, api.group)
        };
        assert_eq!(api.resource, resource);
        assert_eq!(Kind::named(api.name), Some(api.kind));
        assert_eq!(Kind::by_plural(api.plural), Some(api.kind));
        assert_eq!(Kind::by_group(api.group, api.name), Some(api.kind));
    }
    assert_eq!(Kind::ALL.len(), CATALOGUE.len());
}

#[test]
fn release_kinds_and_their_rows_agree() {
    for rk in ReleaseKind::ALL {
        assert_eq!(rk.kind().release(), Some(rk));
        assert_eq!(rk.kind().role(), Role::Release(rk));
    }
    assert_eq!(Kind::ReplicaSet.release(), None);
    assert_eq!(Kind::Rollout.resource(), "rollouts.argoproj.io");
    assert_eq!(Kind::Event.resource(), "events");
    assert_eq!(Kind::Canary.api_version(), "flagger.app/v1beta1");
    assert_eq!(Kind::named("NoSuchKind"), None);
}

#[test]
fn an_action_a_kind_does_not_list_is_not_available() {
    let r = status::canary(&ctx(), &CanaryFacts::default());
    assert_eq!(
        applicable(ActionKind::Restart, &r),
        Err(Disabled::NotApplicable(
            "not available for Flagger canaries"
        ))
    );
    for rk in ReleaseKind::ALL {
        for a in rk.supports() {
            assert!(ActionKind::ALL.contains(a));
        }
    }
}

#[test]
fn typed_strategies_and_phases_parse_what_the_api_writes() {
    use super::canary::FlaggerPhase;
    use super::deployment::DeploymentStrategy;
    use super::rollout::RolloutStrategy;
    assert_eq!(
        DeploymentStrategy::parse("Recreate"),
        DeploymentStrategy::Recreate
    );
    assert_eq!(
        DeploymentStrategy::parse("RollingUpdate"),
        DeploymentStrategy::RollingUpdate
    );
    assert_eq!(
        RolloutStrategy::parse("blueGreen"),
        RolloutStrategy::BlueGreen
    );
    assert_eq!(RolloutStrategy::parse("canary").as_str(), "canary");
    assert_eq!(FlaggerPhase::parse(""), FlaggerPhase::Initializing);
    assert_eq!(FlaggerPhase::parse("Odd").as_str(), "Odd");
    assert!(FlaggerPhase::parse("WaitingPromotion").in_flight());
    let initialized = FlaggerPhase::from("Initialized");
    assert!(initialized == "Initialized");
}

#[test]
fn access_needs_follow_the_kind_module() {
    let mut r = status::canary(&ctx(), &CanaryFacts::default());
    assert_eq!(access_needs(&r), vec![("patch", "canaries")]);
    r.facts.rollback_webhook = Some("http://lt.test/".into());
    assert_eq!(
        access_needs(&r),
        vec![("patch", "canaries"), ("create", "services/proxy")]
    );
}

#[test]
fn extreme_replica_counts_derive_without_overflow() {
    use crate::core::testkit;
    let mut r = testkit::paused_rollout("shop", "checkout");
    r.available_replicas = 1;
    let big = testkit::replicaset("shop", "checkout", "new", 2, "i:2", i32::MAX);
    let big2 = testkit::replicaset("shop", "checkout", "new", 3, "i:2", i32::MAX);
    let rel = status::rollout(&ctx(), &r, &[&big, &big2]);
    assert_eq!(rel.actual_weight, Some(100));
    r.available_replicas = i32::MAX;
    let small = testkit::replicaset("shop", "checkout", "new", 2, "i:2", 1);
    assert_eq!(
        status::rollout(&ctx(), &r, &[&small]).actual_weight,
        Some(0)
    );

    let mut d = testkit::deployment("web", "frontend", false);
    (d.replicas, d.status_replicas, d.updated_replicas) = (i32::MIN, i32::MAX, i32::MIN);
    d.observed_generation = Some(d.meta.generation);
    let rel = status::deployment(&ctx(), &d, &[]);
    assert!(
        rel.message.raw().contains("4294967295"),
        "{:?}",
        rel.message
    );
}

#[test]
fn a_later_call_on_the_same_object_carries_the_version_the_first_returned() {
    let mut r = paused_rollout(PauseReason::CanaryPauseStep);
    r.facts.spec_paused = true;
    r.facts.controller_pause = false;
    let p = plan(
        ActionKind::Promote,
        &r,
        &Cluster::new("a"),
        false,
        jiff::Timestamp::UNIX_EPOCH,
    )
    .unwrap();
    let [first, second] = &p.calls[..] else {
        panic!("two calls: {:?}", p.calls)
    };
    assert!(
        p.notes
            .iter()
            .any(|n| n == crate::core::action::CHAINED_NOTE)
    );
    // Planned with the version the user saw; sent with the one the first write returned.
    let ApiCall::Patch { body, .. } = second else {
        panic!()
    };
    assert_eq!(body["metadata"]["resourceVersion"], "7");
    let ApiCall::Patch { body, resource, .. } = request::after_write(second, first, "8") else {
        panic!()
    };
    assert_eq!(resource.rbac(), "rollouts/status");
    assert_eq!(body["metadata"]["resourceVersion"], "8");
    assert!(body["status"]["pauseConditions"].is_null());
    // Another object, or a call without a resourceVersion, is left as it is.
    let ApiCall::Patch {
        resource,
        patch_type,
        body,
        ..
    } = second.clone()
    else {
        panic!()
    };
    let other = ApiCall::Patch {
        resource: resource.clone(),
        namespace: "shop".into(),
        name: "other".into(),
        patch_type,
        body: body.clone(),
    };
    assert_eq!(request::after_write(&other, first, "8"), other);
    let bare = ApiCall::Patch {
        resource,
        namespace: "shop".into(),
        name: "web".into(),
        patch_type,
        body: json!({"status": {"abort": true}}),
    };
    assert_eq!(request::after_write(&bare, first, "8"), bare);
}

#[test]
fn promote_full_after_a_spec_patch_keeps_a_precondition() {
    let mut r = paused_rollout(PauseReason::CanaryPauseStep);
    r.facts.spec_paused = true;
    let p = plan(
        ActionKind::PromoteFull,
        &r,
        &Cluster::new("a"),
        false,
        jiff::Timestamp::UNIX_EPOCH,
    )
    .unwrap();
    assert_eq!(p.calls.len(), 2);
    for call in &p.calls {
        let ApiCall::Patch { body, .. } = call else {
            panic!("{call:?}")
        };
        assert_eq!(body["metadata"]["resourceVersion"], "7", "{body}");
    }
}

#[test]
fn loadtester_addresses_parse_as_services_or_plain_addresses() {
    use crate::core::action::Loadtester;
    assert_eq!(
        Loadtester::parse("http://flagger-loadtester.test:80/rollback/check"),
        Some(Loadtester::Service {
            namespace: "test".into(),
            service: "flagger-loadtester".into(),
            port: "80".into()
        })
    );
    assert_eq!(
        Loadtester::parse("http://lt.tools.svc.cluster.local/rollback/check")
            .and_then(|l| l.namespace().map(str::to_string)),
        Some("tools".into())
    );
    // An IP is no `service.namespace` (it used to parse as service "127" in namespace "0").
    assert_eq!(
        Loadtester::parse("http://127.0.0.1:24517/rollback/check"),
        Some(Loadtester::Url {
            base: "http://127.0.0.1:24517".into()
        })
    );
    assert_eq!(
        crate::core::action::loadtester_service("http://127.0.0.1:24517/"),
        None
    );
    for bad in [
        "http://bare/rollback",
        "https://lt.ns/",
        "http://lt.ns:x/",
        "ftp://lt.ns/",
    ] {
        assert_eq!(Loadtester::parse(bad), None, "{bad}");
    }
}

#[test]
fn rollback_carries_what_the_user_saw_of_the_canary() {
    let facts = CanaryFacts {
        meta: ObjectMeta {
            namespace: "shop".into(),
            name: "web".into(),
            uid: "u9".into(),
            ..ObjectMeta::default()
        },
        phase: "WaitingPromotion".into(),
        rollback_webhook: Some("http://lt.tools:80/rollback/check".into()),
        ..CanaryFacts::default()
    };
    let r = status::canary(&ctx(), &facts);
    let p = plan(
        ActionKind::Undo,
        &r,
        &Cluster::new("a"),
        false,
        Timestamp::UNIX_EPOCH,
    )
    .unwrap();
    let ApiCall::LoadtesterPost {
        to, canary, body, ..
    } = &p.calls[0]
    else {
        panic!("{:?}", p.calls)
    };
    assert_eq!(to.namespace(), Some("tools"));
    assert_eq!(
        (
            canary.uid.as_str(),
            canary.phase.as_str(),
            canary.webhook.as_str()
        ),
        (
            "u9",
            "WaitingPromotion",
            "http://lt.tools:80/rollback/check"
        )
    );
    assert_eq!(body, &json!({"name": "web", "namespace": "shop"}));
    assert_eq!(
        p.calls[0].describe(),
        "POST v1 services/proxy tools/lt:80/rollback/open"
    );
}

// panels: which releases wait on a person (`Release::needs_human`), decided per kind.
mod needs_human {
    use super::*;
    use crate::core::facts::{CanaryStep, Condition, DeploymentFacts};
    use crate::core::model::{HumanWait, Phase};
    use crate::core::testkit::{self, deployment};

    fn rollout(edit: impl FnOnce(&mut RolloutFacts)) -> Release {
        let mut r = testkit::paused_rollout("shop", "web");
        edit(&mut r);
        status::rollout(&ctx(), &r, &[])
    }

    #[test]
    fn an_indefinite_pause_step_needs_a_human_and_a_timed_one_does_not() {
        let r = rollout(|_| {});
        assert_eq!(
            (r.phase, r.needs_human),
            (Phase::Paused, Some(HumanWait::StepPause))
        );
        // Step 3 is `pause: {duration: 30s}`: it resumes by itself.
        let r = rollout(|r| r.current_step_index = Some(3));
        assert_eq!((r.phase, r.needs_human), (Phase::Paused, None));
        assert!(r.pause.as_ref().is_some_and(|p| p.duration.is_some()));
    }

    #[test]
    fn a_manual_pause_needs_a_human_even_at_a_timed_step() {
        let r = rollout(|r| {
            r.current_step_index = Some(3);
            r.paused = true;
        });
        assert_eq!(r.needs_human, Some(HumanWait::ManualPause));
        // Older controllers without status.phase: "manually paused" by spec alone.
        let r = rollout(|r| {
            r.phase = None;
            r.pause_conditions.clear();
            r.paused = true;
        });
        assert_eq!(
            (r.phase, r.needs_human),
            (Phase::Paused, Some(HumanWait::ManualPause))
        );
    }

    #[test]
    fn inconclusive_analysis_and_blue_green_pauses_need_a_human() {
        for (reason, want) in [
            (
                PauseReason::InconclusiveAnalysisRun,
                Some(HumanWait::InconclusiveAnalysis),
            ),
            (
                PauseReason::InconclusiveExperiment,
                Some(HumanWait::InconclusiveAnalysis),
            ),
            (PauseReason::BlueGreenPause, Some(HumanWait::StepPause)),
            (PauseReason::Other, None),
        ] {
            let r = rollout(|r| r.pause_conditions[0].reason = reason);
            assert_eq!(r.needs_human, want, "{reason:?}");
        }
    }

    #[test]
    fn rollouts_that_are_not_paused_never_need_a_human() {
        let progressing = rollout(|r| {
            r.phase = Some("Progressing".into());
            r.pause_conditions.clear();
        });
        assert_eq!(progressing.needs_human, None);
        // Aborted while at the indefinite step: failing outranks waiting.
        let degraded = rollout(|r| {
            r.phase = Some("Degraded".into());
            r.aborted = true;
        });
        assert_eq!(
            (degraded.phase, degraded.needs_human),
            (Phase::Degraded, None)
        );
        // A step list whose current step is not a pause: no countdown, but it is the
        // controller's pause condition that holds it.
        let r = rollout(|r| r.steps[1] = CanaryStep::SetWeight(30));
        assert_eq!(r.needs_human, Some(HumanWait::StepPause));
    }

    fn deploy(edit: impl FnOnce(&mut DeploymentFacts)) -> Release {
        let mut d = deployment("shop", "api", false);
        edit(&mut d);
        status::deployment(&ctx(), &d, &[])
    }

    #[test]
    fn a_paused_deployment_needs_a_human_unless_it_is_failing() {
        assert_eq!(deploy(|_| {}).needs_human, None);
        let paused = deploy(|d| d.paused = true);
        assert_eq!(
            (paused.phase, paused.needs_human),
            (Phase::Paused, Some(HumanWait::ManualPause))
        );
        let failing = deploy(|d| {
            d.paused = true;
            d.conditions = vec![Condition {
                type_: "Progressing".into(),
                status: "False".into(),
                reason: "ProgressDeadlineExceeded".into(),
                message: "".into(),
                last_transition: None,
            }];
        });
        assert_eq!(
            (failing.phase, failing.needs_human),
            (Phase::Degraded, None)
        );
    }

    fn canary(phase: &str, suspend: bool) -> Release {
        let facts = CanaryFacts {
            meta: ObjectMeta {
                namespace: "shop".into(),
                name: "web".into(),
                ..ObjectMeta::default()
            },
            phase: phase.into(),
            suspend,
            ..CanaryFacts::default()
        };
        status::canary(&ctx(), &facts)
    }

    #[test]
    fn flagger_gates_and_a_suspended_analysis_need_a_human() {
        let cases = [
            ("Waiting", false, Some(HumanWait::RolloutGate)),
            ("WaitingPromotion", false, Some(HumanWait::PromotionGate)),
            ("WaitingPromotion", true, Some(HumanWait::PromotionGate)),
            ("Progressing", true, Some(HumanWait::ManualPause)),
            ("Progressing", false, None),
            ("Promoting", false, None),
            ("Succeeded", true, None),
            ("Failed", false, None),
        ];
        for (phase, suspend, want) in cases {
            let r = canary(phase, suspend);
            assert_eq!(r.needs_human, want, "{phase} suspend={suspend}");
            // Only ever on a paused release.
            assert_eq!(r.needs_human.is_some(), r.phase == Phase::Paused, "{phase}");
        }
    }
}
