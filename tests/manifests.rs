//! The shared test manifests (tests/support/manifests.rs): each builder's base shape, and
//! each variation changing exactly the fields it names — the objects the e2e suites applied
//! when each kept its own copy. Compared as parsed objects; runs without a cluster.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "support/manifests.rs"]
#[allow(dead_code)]
mod manifests;

use manifests::{
    Analysis, Canary, Deployment, PAUSE_THEN_10S, Rollout, SERVICE_LABEL, Step, TWO_PAUSES,
    namespace, service,
};
use serde_json::{Value, json};

fn parse(yaml: &str) -> Value {
    serde_yaml::from_str(yaml).expect("valid YAML")
}

const DEPLOYMENT: &str = r#"
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, labels: {app: web}}
spec:
  replicas: 1
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
      - {name: app, image: "example.test/web:1"}
"#;

const ROLLOUT: &str = r#"
apiVersion: argoproj.io/v1alpha1
kind: Rollout
metadata: {name: shop}
spec:
  replicas: 5
  revisionHistoryLimit: 3
  selector: {matchLabels: {app: shop}}
  template:
    metadata: {labels: {app: shop}}
    spec:
      containers:
      - {name: app, image: "example.test/shop:1"}
  strategy:
    canary:
      steps:
      - setWeight: 20
      - pause: {}
      - setWeight: 50
      - pause: {}
"#;

const CANARY: &str = r#"
apiVersion: flagger.app/v1beta1
kind: Canary
metadata: {name: podinfo}
spec:
  provider: kubernetes
  targetRef: {apiVersion: apps/v1, kind: Deployment, name: podinfo}
  progressDeadlineSeconds: 60
  service: {port: 9898}
  analysis: {interval: 5s, threshold: 2, iterations: 2}
"#;

fn deployment() -> Deployment {
    Deployment::new("web", "example.test/web:1")
}

fn rollout() -> Rollout {
    Rollout::canary("shop", "example.test/shop:1")
}

#[test]
fn yaml_and_value_are_the_same_object() {
    assert_eq!(parse(&deployment().yaml()), deployment().value());
    assert_eq!(parse(&rollout().yaml()), rollout().value());
    assert_eq!(
        parse(&Canary::over("podinfo").yaml()),
        Canary::over("podinfo").value()
    );
}

#[test]
fn a_deployment_is_one_labelled_replica_with_no_port_by_default() {
    assert_eq!(deployment().value(), parse(DEPLOYMENT));
}

#[test]
fn deployment_variations_change_only_their_field() {
    let mut want = parse(DEPLOYMENT);
    want["spec"]["replicas"] = json!(2);
    want["metadata"]["annotations"] = json!({"team": "first"});
    want["spec"]["template"]["spec"]["containers"][0]["ports"] = json!([{"containerPort": 9898}]);
    let got = deployment().replicas(2).team("first").port(9898).value();
    assert_eq!(got, want);

    let mut want = parse(DEPLOYMENT);
    want["metadata"].as_object_mut().unwrap().remove("labels");
    assert_eq!(deployment().unlabelled().value(), want);
    assert_eq!(
        want["spec"]["template"]["metadata"]["labels"]["app"], "web",
        "pods stay labelled for the selector"
    );
}

#[test]
fn a_rollout_walks_two_indefinite_pauses_by_default() {
    assert_eq!(rollout().value(), parse(ROLLOUT));
    assert_eq!(rollout().steps(TWO_PAUSES).value(), parse(ROLLOUT));
}

#[test]
fn rollout_variations_change_only_their_field() {
    let mut want = parse(ROLLOUT);
    want["spec"]["strategy"]["canary"]["steps"][3] = json!({"pause": {"duration": "10s"}});
    assert_eq!(rollout().steps(PAUSE_THEN_10S).value(), want);

    let mut want = parse(ROLLOUT);
    want["metadata"]["labels"] = json!({SERVICE_LABEL: "shop"});
    want["spec"]["replicas"] = json!(4);
    want["spec"]["strategy"]["canary"]["steps"][0] = json!({"setWeight": 25});
    let got = rollout()
        .replicas(4)
        .steps(&[Step::Weight(25), Step::Pause, Step::Weight(50), Step::Pause])
        .service_label()
        .value();
    assert_eq!(got, want);
}

#[test]
fn a_malformed_rollout_can_carry_a_negative_weight() {
    let got = rollout().steps(&[Step::Weight(-5), Step::Pause]).value();
    assert_eq!(
        got["spec"]["strategy"]["canary"]["steps"],
        json!([{"setWeight": -5}, {"pause": {}}])
    );
}

#[test]
fn a_canary_runs_two_iterations_by_default_or_steps_weights() {
    assert_eq!(Canary::over("podinfo").value(), parse(CANARY));
    let mut want = parse(CANARY);
    want["spec"]["analysis"] =
        json!({"interval": "5s", "threshold": 2, "maxWeight": 50, "stepWeight": 10});
    let got = Canary::over("podinfo")
        .analysis(Analysis::Weights { max: 50, step: 10 })
        .value();
    assert_eq!(got, want);
}

#[test]
fn a_service_selects_the_pods_of_its_name() {
    assert_eq!(
        parse(&service("flagger-loadtester", 80, 8080)),
        json!({
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": {"name": "flagger-loadtester"},
            "spec": {
                "selector": {"app": "flagger-loadtester"},
                "ports": [{"port": 80, "targetPort": 8080}],
            },
        })
    );
}

#[test]
fn a_namespace_is_only_its_name() {
    assert_eq!(
        namespace("act-1"),
        json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "act-1"}})
    );
}
