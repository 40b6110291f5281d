//! Projection tests over real-shaped captures in tests/fixtures/.

use jiff::SignedDuration;
use serde::Deserialize;
use serde_json::Value;

use super::*;
use crate::core::facts::{
    AnalysisPhase, CanaryStep, DeploymentStrategy, ObjectFacts, PauseReason, RolloutStrategy,
};

fn docs(yaml: &str) -> Vec<Value> {
    let mut out = Vec::new();
    for doc in serde_yaml::Deserializer::from_str(yaml) {
        let v = Value::deserialize(doc).unwrap();
        match v.get("kind").and_then(Value::as_str) {
            Some("List") => out.extend(v["items"].as_array().unwrap().iter().cloned()),
            _ => out.push(v),
        }
    }
    out
}

fn project_all(yaml: &str, keep: &Keep) -> Vec<Projected> {
    docs(yaml)
        .into_iter()
        .map(|v| from_value(v, keep).unwrap())
        .collect()
}

fn object(p: &Projected) -> &ObjectFacts {
    match p {
        Projected::Object(o) => o,
        other => panic!("not an object: {other:?}"),
    }
}

const PAUSED: &str = include_str!("../../../../tests/fixtures/rollouts/paused-step1.yaml");
const ABORTED: &str = include_str!("../../../../tests/fixtures/rollouts/aborted.yaml");
const HEALTHY: &str = include_str!("../../../../tests/fixtures/rollouts/healthy.yaml");
const BLUE_GREEN: &str = include_str!("../../../../tests/fixtures/rollouts/bluegreen-legacy.json");
const DEPLOYMENTS: &str = include_str!("../../../../tests/fixtures/deployments/list.yaml");
const CANARIES: &str = include_str!("../../../../tests/fixtures/canaries/podinfo.yaml");
const EVENTS: &str = include_str!("../../../../tests/fixtures/events/warnings.yaml");
const MALFORMED: &str = include_str!("../../../../tests/fixtures/malformed/rollouts.yaml");

#[test]
fn paused_rollout_keeps_raw_status_and_drops_the_rest() {
    let all = project_all(PAUSED, &Keep::default());
    let ObjectFacts::Rollout(r) = object(&all[0]) else {
        panic!()
    };
    assert_eq!(
        r.steps,
        vec![
            CanaryStep::SetWeight(20),
            CanaryStep::Pause(None),
            CanaryStep::SetWeight(60),
            CanaryStep::Pause(Some(SignedDuration::from_secs(30))),
        ]
    );
    assert_eq!(r.strategy, RolloutStrategy::Canary);
    assert!(!r.traffic_routing);
    assert_eq!(r.current_step_index, Some(1));
    assert_eq!(r.observed_generation.as_deref(), Some("3"));
    assert_eq!(r.meta.generation, 3);
    assert_eq!(r.phase.as_deref(), Some("Paused"));
    assert_eq!(r.message.raw(), "CanaryPauseStep");
    assert!(r.controller_pause);
    assert_eq!(r.pause_conditions.len(), 1);
    assert_eq!(r.pause_conditions[0].reason, PauseReason::CanaryPauseStep);
    assert_eq!(
        r.pause_conditions[0].start_time.map(|t| t.to_string()),
        Some("2026-11-26T08:00:10Z".into())
    );
    assert_eq!(
        (r.current_pod_hash.as_str(), r.stable_rs.as_str()),
        ("7f9c6d5b8", "6b8d4c7f9")
    );
    assert_eq!(
        (r.replicas, r.updated_replicas, r.available_replicas),
        (5, 1, 5)
    );
    assert_eq!(r.images, vec!["registry.example/shop/checkout:1.8.0"]);
    assert_eq!(r.conditions.len(), 3);
    // Only what the core reads survives.
    assert_eq!(
        r.meta.labels.keys().collect::<Vec<_>>(),
        vec!["app.kubernetes.io/name"]
    );
    assert_eq!(
        r.meta.annotations.keys().collect::<Vec<_>>(),
        vec!["rollout.argoproj.io/revision"]
    );

    let ObjectFacts::ReplicaSet(stable) = object(&all[1]) else {
        panic!()
    };
    assert_eq!(stable.owner_uid, r.meta.uid);
    assert_eq!(stable.owner_kind, "Rollout");
    assert_eq!(stable.revision, Some(1));
    assert_eq!(stable.pod_template_hash, "6b8d4c7f9");
    assert_eq!((stable.replicas, stable.available_replicas), (4, 4));
    assert_eq!(stable.images, vec!["registry.example/shop/checkout:1.7.3"]);
}

#[test]
fn aborted_rollout_with_traffic_routing_and_analysis() {
    let all = project_all(ABORTED, &Keep::default());
    let ObjectFacts::Rollout(r) = object(&all[0]) else {
        panic!()
    };
    assert!(r.aborted);
    assert!(r.traffic_routing);
    assert_eq!(r.traffic_canary_weight, Some(0));
    assert_eq!(
        r.steps[1],
        CanaryStep::Analysis(vec!["success-rate".into()])
    );
    assert_eq!(
        r.steps[3],
        CanaryStep::Pause(Some(SignedDuration::from_secs(120)))
    );
    let step = r.step_analysis.as_ref().unwrap();
    assert_eq!(
        (step.name.as_str(), step.phase),
        ("search-5f7d8c9b4-5-1", AnalysisPhase::Failed)
    );
    assert!(step.message.raw().contains("failureLimit"));
    assert_eq!(
        r.background_analysis.as_ref().unwrap().phase,
        AnalysisPhase::Successful
    );
    assert_eq!(r.conditions[0].reason, "RolloutAborted");
    assert!(
        r.meta
            .annotations
            .contains_key("argocd.argoproj.io/tracking-id")
    );
    assert!(r.meta.labels.contains_key("app.kubernetes.io/instance"));
}

#[test]
fn pause_durations_in_every_spelling() {
    let all = project_all(HEALTHY, &Keep::default());
    let ObjectFacts::Rollout(r) = object(&all[0]) else {
        panic!()
    };
    assert_eq!(
        r.steps[1],
        CanaryStep::Pause(Some(SignedDuration::from_secs(60)))
    );
    assert_eq!(
        r.steps[3],
        CanaryStep::Pause(Some(SignedDuration::from_secs(60)))
    );
    assert_eq!(r.current_step_index, Some(4));
    assert_eq!(r.images.len(), 2);
}

#[test]
fn blue_green_from_an_older_controller() {
    let v: Value = serde_json::from_str(BLUE_GREEN).unwrap();
    let p = from_value(v, &Keep::default()).unwrap();
    let ObjectFacts::Rollout(r) = object(&p) else {
        panic!()
    };
    assert_eq!(r.strategy, RolloutStrategy::BlueGreen);
    assert_eq!(r.phase, None);
    assert_eq!(r.active_selector.as_deref(), Some("4d8b7c6f5"));
    assert_eq!(r.pause_conditions[0].reason, PauseReason::BlueGreenPause);
    assert!(r.steps.is_empty());
}

#[test]
fn deployments_and_their_replica_sets() {
    let all = project_all(DEPLOYMENTS, &Keep::default());
    assert_eq!(all.len(), 4);
    let ObjectFacts::Deployment(d) = object(&all[0]) else {
        panic!()
    };
    assert_eq!(d.meta.name, "frontend");
    assert_eq!(
        (
            d.replicas,
            d.status_replicas,
            d.updated_replicas,
            d.available_replicas
        ),
        (3, 4, 1, 3)
    );
    assert_eq!(d.observed_generation, Some(7));
    assert_eq!(d.strategy, DeploymentStrategy::RollingUpdate);
    let progressing = crate::core::facts::condition(&d.conditions, "Progressing").unwrap();
    assert_eq!(progressing.reason, "ProgressDeadlineExceeded");
    assert_eq!(
        d.meta.labels.keys().collect::<Vec<_>>(),
        vec![
            "app.kubernetes.io/name",
            "kustomize.toolkit.fluxcd.io/name",
            "kustomize.toolkit.fluxcd.io/namespace"
        ]
    );
    let ObjectFacts::ReplicaSet(rs) = object(&all[1]) else {
        panic!()
    };
    assert_eq!(
        (rs.revision, rs.pod_template_hash.as_str()),
        (Some(7), "6c5b8d9f7")
    );
    assert_eq!(rs.owner_kind, "Deployment");
    let ObjectFacts::Deployment(assets) = object(&all[3]) else {
        panic!()
    };
    assert_eq!(assets.strategy, DeploymentStrategy::Recreate);
}

#[test]
fn flagger_canaries() {
    let all = project_all(CANARIES, &Keep::default());
    let ObjectFacts::Canary(c) = object(&all[0]) else {
        panic!()
    };
    assert_eq!(c.target, "Deployment/podinfo");
    assert_eq!(
        (c.max_weight, c.step_weight, c.threshold),
        (Some(50), Some(10), Some(5))
    );
    assert_eq!(
        (c.phase.as_str(), c.canary_weight, c.failed_checks),
        ("Progressing", 20, 1)
    );
    assert_eq!(
        c.rollback_webhook.as_deref(),
        Some("http://flagger-loadtester.test/rollback/check")
    );
    assert!(c.message.raw().starts_with("New revision detected"));
    assert!(c.last_transition.is_some());
    let ObjectFacts::Canary(failed) = object(&all[1]) else {
        panic!()
    };
    assert!(failed.suspend);
    assert_eq!(failed.phase, "Failed");
    assert_eq!(failed.rollback_webhook, None);
}

#[test]
fn warning_events_in_both_shapes() {
    let all = project_all(EVENTS, &Keep::default());
    let Projected::Warning(backoff) = &all[0] else {
        panic!()
    };
    assert_eq!(
        (
            backoff.object_kind.as_str(),
            backoff.reason.as_str(),
            backoff.count
        ),
        ("Pod", "BackOff", 14)
    );
    assert_eq!(
        backoff.last_seen.map(|t| t.to_string()),
        Some("2026-11-26T07:59:40Z".into())
    );
    let Projected::Warning(aborted) = &all[1] else {
        panic!()
    };
    assert_eq!((aborted.namespace.as_str(), aborted.count), ("catalog", 3));
    assert_eq!(
        aborted.last_seen.map(|t| t.to_string()),
        Some("2026-11-26T07:44:00Z".into())
    );
    assert_eq!(all[2], Projected::Ignored);
}

#[test]
fn malformed_objects_become_unparseable_rows() {
    let all: Vec<_> = docs(MALFORMED)
        .into_iter()
        .map(|v| from_value(v, &Keep::default()).unwrap())
        .collect();
    let ObjectFacts::Unparseable(wrong_type) = object(&all[0]) else {
        panic!()
    };
    assert_eq!(
        (wrong_type.kind.as_str(), wrong_type.name.as_str()),
        ("Rollout", "broken-replicas")
    );
    assert!(
        wrong_type.error.raw().contains("invalid type"),
        "{:?}",
        wrong_type.error
    );
    let ObjectFacts::Unparseable(future) = object(&all[1]) else {
        panic!()
    };
    assert!(
        future
            .error
            .raw()
            .contains("unsupported version argoproj.io/v1alpha2")
    );
    assert!(matches!(object(&all[2]), ObjectFacts::Rollout(_)));
    assert_eq!(all[3], Projected::Ignored);
}

#[test]
fn not_an_object_is_an_error() {
    let err = from_value(serde_json::json!({"spec": {}}), &Keep::default()).unwrap_err();
    assert!(err.contains("kind"));
    let scalar = from_value(serde_json::json!("hello"), &Keep::default()).unwrap_err();
    assert!(scalar.contains("kind"));
}

#[test]
fn a_kind_the_catalogue_does_not_list_is_ignored_not_projected_as_another() {
    for (api_version, kind) in [
        ("flagger.app/v1beta1", "MetricTemplate"),
        ("argoproj.io/v1alpha1", "Experiment"),
        ("apps/v1", "DaemonSet"),
    ] {
        let v = serde_json::json!({
            "apiVersion": api_version, "kind": kind,
            "metadata": {"name": "x", "namespace": "n"}, "spec": {}
        });
        assert_eq!(
            from_value(v, &Keep::default()),
            Ok(Projected::Ignored),
            "{kind}"
        );
    }
}

#[test]
fn a_watched_builtin_object_projects_as_from_a_file() {
    let v = serde_json::json!({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "d", "namespace": "n", "uid": "u"},
        "spec": {"replicas": 2, "selector": {}, "template": {}}
    });
    let Ok(Projected::Object(from_file)) = from_value(v.clone(), &Keep::default()) else {
        panic!("not projected");
    };
    let o: kube::api::DynamicObject = serde_json::from_value(v).unwrap();
    assert_eq!(
        from_dynamic(Kind::Deployment, o, &Keep::default()),
        from_file
    );
}

#[test]
fn wrong_types_in_a_builtin_kind() {
    let v = serde_json::json!({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "d", "namespace": "n"},
        "spec": {"replicas": "many", "selector": {}, "template": {}}
    });
    let p = from_value(v, &Keep::default()).unwrap();
    let ObjectFacts::Unparseable(u) = object(&p) else {
        panic!()
    };
    assert_eq!(
        (u.kind.as_str(), u.namespace.as_str(), u.name.as_str()),
        ("Deployment", "n", "d")
    );
}

#[test]
fn the_configured_service_label_is_kept() {
    let keep = Keep {
        service_label: Some("team".into()),
    };
    let all = project_all(PAUSED, &keep);
    let ObjectFacts::Rollout(r) = object(&all[0]) else {
        panic!()
    };
    assert_eq!(
        r.meta.labels.get("team").map(String::as_str),
        Some("payments")
    );
}
