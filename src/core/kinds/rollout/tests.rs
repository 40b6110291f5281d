//! Rollout status, weights and ReplicaSet roles as the Argo Rollouts plugin reports them
//! (`kubectl argo rollouts get rollout`; tests/e2e_differential.rs compares them live).

use super::*;
use crate::core::facts::{AnalysisPhase, Condition, PauseReason};
use crate::core::model::{BlueGreenRole, Phase, RsRole};
use crate::core::status::Ctx;
use crate::core::testkit::{paused_rollout, replicaset, t};

fn ctx() -> Ctx<'static> {
    Ctx {
        cluster: "a",
        service_label: "app.kubernetes.io/name",
        service_override: None,
    }
}

/// A Rollout as a pre-v1.0 controller leaves it: no `status.phase`, so the client works the
/// phase out itself.
fn without_phase() -> RolloutFacts {
    let mut r = paused_rollout("shop", "web");
    r.phase = None;
    r.message = Untrusted::default();
    r.pause_conditions.clear();
    r
}

fn cond(type_: &str, status: &str, reason: &str, message: &str) -> Condition {
    Condition {
        type_: type_.into(),
        status: status.into(),
        reason: reason.into(),
        message: message.into(),
        last_transition: Some(t(0)),
    }
}

#[test]
fn degraded_messages_lead_with_the_condition_reason() {
    let mut r = without_phase();
    r.conditions = vec![cond(
        "Progressing",
        "False",
        "ProgressDeadlineExceeded",
        "ReplicaSet \"web-abc\" has timed out progressing.",
    )];
    assert_eq!(
        phase(&r),
        (
            Phase::Degraded,
            "ProgressDeadlineExceeded: ReplicaSet \"web-abc\" has timed out progressing.".into()
        )
    );
    r.conditions = vec![cond(
        "Progressing",
        "False",
        "RolloutAborted",
        "Rollout aborted update to revision 2: metric \"web\" assessed Failed",
    )];
    assert_eq!(
        phase(&r).1,
        "RolloutAborted: Rollout aborted update to revision 2: metric \"web\" assessed Failed"
    );
    // InvalidSpec by its type, whatever its status says, as upstream checks it.
    r.conditions = vec![cond(
        "InvalidSpec",
        "False",
        "InvalidSpec",
        "The Rollout \"web\" is invalid: spec.selector: Invalid value",
    )];
    assert_eq!(
        phase(&r),
        (
            Phase::Degraded,
            "InvalidSpec: The Rollout \"web\" is invalid: spec.selector: Invalid value".into()
        )
    );
}

#[test]
fn conditions_are_read_in_their_order_not_by_kind() {
    // Upstream walks the conditions once: an abort listed before InvalidSpec wins.
    let mut r = without_phase();
    r.conditions = vec![
        cond("Progressing", "False", "RolloutAborted", "aborted"),
        cond("InvalidSpec", "True", "InvalidSpec", "bad"),
    ];
    assert_eq!(phase(&r).1, "RolloutAborted: aborted");
    r.conditions.reverse();
    assert_eq!(phase(&r).1, "InvalidSpec: bad");
}

#[test]
fn the_controllers_phase_and_message_are_shown_verbatim() {
    let mut r = paused_rollout("shop", "web");
    r.phase = Some("Degraded".into());
    r.message = "ProgressDeadlineExceeded: ReplicaSet \"x\" has timed out progressing.".into();
    assert_eq!(
        phase(&r),
        (
            Phase::Degraded,
            "ProgressDeadlineExceeded: ReplicaSet \"x\" has timed out progressing.".into()
        )
    );
}

#[test]
fn a_newer_observed_generation_counts_as_observed() {
    let mut r = paused_rollout("shop", "web");
    r.observed_generation = Some("4".into()); // generation is 3
    assert_eq!(phase(&r).0, Phase::Paused);
    r.observed_generation = Some("2".into());
    assert_eq!(
        phase(&r),
        (
            Phase::Progressing,
            "waiting for rollout spec update to be observed".into()
        )
    );
    // A v0.9 hash is not a number: observed.
    r.observed_generation = Some("7c8d9f".into());
    assert_eq!(phase(&r).0, Phase::Paused);
}

#[test]
fn a_workload_ref_generation_annotation_does_not_hold_the_phase() {
    // The plugin never takes upstream's workloadRef branch (its flag is not serialised).
    let mut r = paused_rollout("shop", "web");
    r.workload_ref = true;
    r.workload_generation = Some("5".into());
    r.workload_observed_generation = Some("4".into());
    assert_eq!(phase(&r), (Phase::Paused, "CanaryPauseStep".into()));
}

#[test]
fn basic_canary_with_old_replicas_left_is_progressing() {
    let mut r = without_phase();
    r.stable_rs = "new".into(); // fully promoted
    r.current_step_index = Some(4);
    (r.updated_replicas, r.available_replicas, r.status_replicas) = (5, 5, 6);
    assert_eq!(
        phase(&r),
        (
            Phase::Progressing,
            "old replicas are pending termination".into()
        )
    );
    r.status_replicas = 5;
    assert_eq!(phase(&r), (Phase::Healthy, String::new()));
    // With traffic routing old replicas may stay up (scale-down delay).
    r.status_replicas = 10;
    r.traffic_routing = true;
    assert_eq!(phase(&r).0, Phase::Healthy);
}

fn blue_green() -> RolloutFacts {
    let mut r = without_phase();
    r.strategy = RolloutStrategy::BlueGreen;
    r.steps.clear();
    r.current_step_index = None;
    (r.updated_replicas, r.available_replicas, r.status_replicas) = (5, 5, 10);
    r
}

#[test]
fn blue_green_waits_for_cutover_then_verification_or_analysis() {
    let mut r = blue_green();
    r.active_selector = Some("old".into());
    assert_eq!(phase(&r).1, "active service cutover pending");
    r.active_selector = Some("new".into());
    assert_eq!(
        phase(&r).1,
        "waiting for post-promotion verification to complete"
    );
    r.post_promotion_analysis = true;
    r.post_promotion_analysis_status = Some(AnalysisPhase::Running);
    assert_eq!(phase(&r).1, "waiting for analysis to complete");
    r.post_promotion_analysis_status = Some(AnalysisPhase::Successful);
    assert_eq!(
        phase(&r).1,
        "waiting for post-promotion verification to complete"
    );
    r.stable_rs = "new".into();
    assert_eq!(phase(&r), (Phase::Healthy, String::new()));
}

#[test]
fn actual_weight_is_the_max_with_no_current_step() {
    // Past the last step (or no steps at all): the plugin says 100, whatever the pods.
    let mut r = paused_rollout("shop", "web");
    r.current_step_index = Some(4);
    r.available_replicas = 0;
    let rel = derive(&ctx(), &r, &[]);
    assert_eq!((rel.set_weight, rel.actual_weight), (Some(100), Some(100)));
    r.steps.clear();
    r.current_step_index = None;
    let rel = derive(&ctx(), &r, &[]);
    assert_eq!((rel.set_weight, rel.actual_weight), (Some(100), Some(100)));
    // A traffic router's own scale.
    r.traffic_routing = true;
    r.max_traffic_weight = Some(1000);
    let rel = derive(&ctx(), &r, &[]);
    assert_eq!(
        (rel.set_weight, rel.actual_weight),
        (Some(1000), Some(1000))
    );
}

#[test]
fn actual_weight_is_the_canarys_share_of_available_replicas() {
    let mut r = paused_rollout("shop", "web");
    let canary = replicaset("shop", "web", "new", 2, "i:2", 1);
    let stable = replicaset("shop", "web", "old", 1, "i:1", 4);
    r.available_replicas = 5;
    let rel = derive(&ctx(), &r, &[&canary, &stable]);
    assert_eq!((rel.set_weight, rel.actual_weight), (Some(20), Some(20)));
    // No available replicas yet: 0, even when the step's weight is set.
    r.available_replicas = 0;
    assert_eq!(
        derive(&ctx(), &r, &[&canary, &stable]).actual_weight,
        Some(0)
    );
    // Integer division, as the plugin does: 1 of 3.
    r.available_replicas = 3;
    assert_eq!(
        derive(&ctx(), &r, &[&canary, &stable]).actual_weight,
        Some(33)
    );
}

#[test]
fn an_experiment_step_weighs_the_canary_replicas_it_has() {
    // setWeight 25 then an experiment: the canary keeps its 25 % of the pods.
    let mut r = paused_rollout("shop", "web");
    r.steps = vec![CanaryStep::SetWeight(25), CanaryStep::Experiment];
    r.pause_conditions.clear();
    r.phase = Some("Progressing".into());
    r.current_step_index = Some(1);
    (r.replicas, r.available_replicas) = (4, 4);
    let canary = replicaset("shop", "web", "new", 2, "i:2", 1);
    let stable = replicaset("shop", "web", "old", 1, "i:1", 3);
    let rel = derive(&ctx(), &r, &[&canary, &stable]);
    assert_eq!(rel.step, Some((1, 2)));
    assert_eq!((rel.set_weight, rel.actual_weight), (Some(25), Some(25)));
}

#[test]
fn a_fully_promoted_rollout_inside_its_steps_has_no_canary_weight() {
    // Stable == current while a step is current (e.g. rolled back to the stable template):
    // there is no canary ReplicaSet, so the plugin reports 0.
    let mut r = paused_rollout("shop", "web");
    r.stable_rs = "new".into();
    let rs = replicaset("shop", "web", "new", 2, "i:2", 6);
    assert_eq!(derive(&ctx(), &r, &[&rs]).actual_weight, Some(0));
}

#[test]
fn traffic_routing_reports_its_weight_or_the_set_weight() {
    let mut r = paused_rollout("shop", "web");
    r.traffic_routing = true;
    assert_eq!(derive(&ctx(), &r, &[]).actual_weight, Some(20));
    r.traffic_canary_weight = Some(7);
    assert_eq!(derive(&ctx(), &r, &[]).actual_weight, Some(7));
    r.available_replicas = 0;
    assert_eq!(derive(&ctx(), &r, &[]).actual_weight, Some(0));
}

#[test]
fn aborted_set_weight_is_zero() {
    let mut r = paused_rollout("shop", "web");
    r.aborted = true;
    r.current_step_index = Some(0);
    assert_eq!(set_weight(&r), Some(0));
}

#[test]
fn blue_green_replicasets_are_tagged_active_and_preview_never_canary() {
    let mut r = blue_green();
    r.phase = Some("Paused".into());
    r.pause_conditions = vec![PauseCondition {
        reason: PauseReason::BlueGreenPause,
        start_time: Some(t(0)),
    }];
    r.active_selector = Some("old".into());
    r.preview_selector = Some("new".into());
    let new = replicaset("shop", "web", "new", 2, "i:2", 5);
    let old = replicaset("shop", "web", "old", 1, "i:1", 5);
    let older = replicaset("shop", "web", "older", 0, "i:0", 0);
    let rel = derive(&ctx(), &r, &[&old, &new, &older]);
    let roles: Vec<_> = rel
        .revisions
        .iter()
        .map(|v| (v.name.as_str(), v.role, v.blue_green))
        .collect();
    assert_eq!(
        roles,
        vec![
            ("web-new", RsRole::Old, Some(BlueGreenRole::Preview)),
            ("web-old", RsRole::Stable, Some(BlueGreenRole::Active)),
            ("web-older", RsRole::Old, None),
        ]
    );
    assert_eq!(
        (rel.set_weight, rel.actual_weight, rel.step),
        (None, None, None)
    );

    // Promoted: the new one is active and stable, the old one untagged.
    r.active_selector = Some("new".into());
    r.preview_selector = Some("new".into());
    r.stable_rs = "new".into();
    let rel = derive(&ctx(), &r, &[&old, &new]);
    let roles: Vec<_> = rel
        .revisions
        .iter()
        .map(|v| (v.role, v.blue_green))
        .collect();
    assert_eq!(
        roles,
        vec![
            (RsRole::Stable, Some(BlueGreenRole::Active)),
            (RsRole::Old, None)
        ]
    );
}

#[test]
fn canary_replicasets_carry_no_blue_green_tag() {
    let r = paused_rollout("shop", "web");
    let new = replicaset("shop", "web", "new", 2, "i:2", 1);
    let old = replicaset("shop", "web", "old", 1, "i:1", 4);
    let rel = derive(&ctx(), &r, &[&old, &new]);
    let roles: Vec<_> = rel
        .revisions
        .iter()
        .map(|v| (v.role, v.blue_green))
        .collect();
    assert_eq!(roles, vec![(RsRole::Canary, None), (RsRole::Stable, None)]);
}

#[test]
fn a_workload_ref_rollout_shows_its_current_replicasets_images() {
    let mut r = paused_rollout("shop", "web");
    r.images.clear();
    r.workload_ref = true;
    let new = replicaset("shop", "web", "new", 2, "i:2", 1);
    let old = replicaset("shop", "web", "old", 1, "i:1", 4);
    assert_eq!(
        derive(&ctx(), &r, &[&old, &new]).images,
        vec!["i:2".to_string()]
    );
    // Not seen yet: none, not a guess.
    assert!(derive(&ctx(), &r, &[&old]).images.is_empty());
}

#[test]
fn terminate_in_an_experiment_step_stops_the_experiment() {
    use crate::core::action::{ActionKind, ApiCall, PatchType};
    let mut r = paused_rollout("shop", "web");
    r.pause_conditions.clear();
    r.phase = Some("Progressing".into());
    r.steps = vec![
        CanaryStep::SetWeight(20),
        CanaryStep::Experiment,
        CanaryStep::Pause(None),
    ];
    r.current_step_index = Some(1);
    r.current_experiment = Some("web-6d4f-2-1".into());
    // A background analysis runs too: the experiment of the step comes first.
    r.background_analysis = Some(crate::core::facts::AnalysisRef {
        name: "web-bg".into(),
        phase: AnalysisPhase::Running,
        message: Untrusted::default(),
    });
    let rel = derive(&ctx(), &r, &[]);
    assert_eq!(rel.facts.experiment.as_deref(), Some("web-6d4f-2-1"));
    assert!(rules(ActionKind::Terminate, &rel).is_ok());
    let [
        ApiCall::Patch {
            resource,
            name,
            patch_type,
            body,
            ..
        },
    ] = &calls(ActionKind::Terminate, &rel, t(0))[..]
    else {
        panic!("one patch")
    };
    assert_eq!(
        (resource.plural, name.as_str(), *patch_type),
        ("experiments", "web-6d4f-2-1", PatchType::Json)
    );
    assert_eq!(
        body,
        &serde_json::json!([
            {"op": "test", "path": "/metadata/ownerReferences/0/uid", "value": "uid-shop-web"},
            {"op": "add", "path": "/spec/terminate", "value": true},
        ])
    );
    assert_eq!(
        note(ActionKind::Terminate, &rel),
        Some(TERMINATE_EXPERIMENT_NOTE)
    );
    // Outside the experiment step a stale name is not an experiment to terminate: the
    // running AnalysisRun is.
    r.current_step_index = Some(2);
    let rel = derive(&ctx(), &r, &[]);
    assert_eq!(rel.facts.experiment, None);
    let [ApiCall::Patch { resource, name, .. }] = &calls(ActionKind::Terminate, &rel, t(0))[..]
    else {
        panic!("one patch")
    };
    assert_eq!((resource.plural, name.as_str()), ("analysisruns", "web-bg"));
    // Neither running: nothing to terminate, and it says what it looked for.
    r.background_analysis = None;
    let rel = derive(&ctx(), &r, &[]);
    let why = rules(ActionKind::Terminate, &rel).unwrap_err().to_string();
    assert!(why.contains("AnalysisRun or Experiment"), "{why}");
}
