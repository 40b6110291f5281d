//! The manifests the test suites apply: Deployments, Argo Rollouts, Flagger Canaries and
//! Services, built in one place so every suite applies the same shapes. Each builder starts
//! from the shape most suites use and has a method per variation; `value()` gives the object
//! as JSON, `yaml()` as a YAML document for `apply_yaml`.
//!
//! Pure data: nothing here talks to a cluster (see `apply` for that). It is also compiled
//! into `tests/manifests.rs`, which pins what each builder produces.

use serde_json::{Map, Value, json};

/// The label the console reads a release's service from (`Settings::service_label`).
pub const SERVICE_LABEL: &str = "app.kubernetes.io/name";

/// The object as a YAML document (JSON is YAML, should the YAML writer ever refuse it).
fn to_yaml(v: &Value) -> String {
    serde_yaml::to_string(v).unwrap_or_else(|_| v.to_string())
}

/// One container `app` running `image`, with pods labelled `app: {name}`.
fn pod_template(name: &str, image: &str, port: Option<u16>) -> Value {
    let mut container = json!({"name": "app", "image": image});
    if let Some(port) = port {
        container["ports"] = json!([{"containerPort": port}]);
    }
    json!({
        "metadata": {"labels": {"app": name}},
        "spec": {"containers": [container]},
    })
}

/// An apps/v1 Deployment.
#[derive(Debug, Clone)]
pub struct Deployment {
    name: String,
    image: String,
    replicas: u32,
    labelled: bool,
    team: Option<String>,
    port: Option<u16>,
}

impl Deployment {
    /// One replica of `image`, the object labelled `app: {name}`, no ports, no annotations.
    pub fn new(name: &str, image: &str) -> Deployment {
        Deployment {
            name: name.to_owned(),
            image: image.to_owned(),
            replicas: 1,
            labelled: true,
            team: None,
            port: None,
        }
    }

    pub fn replicas(mut self, replicas: u32) -> Deployment {
        self.replicas = replicas;
        self
    }

    /// A `team` annotation on the object (undo must bring it back from the ReplicaSet).
    pub fn team(mut self, team: &str) -> Deployment {
        self.team = Some(team.to_owned());
        self
    }

    /// The container declares `containerPort: port` (podinfo serves on 9898).
    pub fn port(mut self, port: u16) -> Deployment {
        self.port = Some(port);
        self
    }

    /// No labels on the object itself (its pods still carry `app: {name}`).
    pub fn unlabelled(mut self) -> Deployment {
        self.labelled = false;
        self
    }

    pub fn value(&self) -> Value {
        let name = &self.name;
        let mut metadata = json!({"name": name});
        if self.labelled {
            metadata["labels"] = json!({"app": name});
        }
        if let Some(team) = &self.team {
            metadata["annotations"] = json!({"team": team});
        }
        json!({
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": metadata,
            "spec": {
                "replicas": self.replicas,
                "selector": {"matchLabels": {"app": name}},
                "template": pod_template(name, &self.image, self.port),
            },
        })
    }

    pub fn yaml(&self) -> String {
        to_yaml(&self.value())
    }
}

/// A step of a Rollout's canary strategy.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Step {
    /// `setWeight: n` (signed: a malformed Rollout may carry a negative one).
    Weight(i64),
    /// `pause: {}` — waits for a promote.
    Pause,
    /// `pause: {duration: d}`, e.g. `"10s"`.
    PauseFor(&'static str),
}

/// setWeight 20, pause {}, setWeight 50, pause {}: two promotes to finish.
pub const TWO_PAUSES: &[Step] = &[Step::Weight(20), Step::Pause, Step::Weight(50), Step::Pause];

/// setWeight 20, pause {}, setWeight 50, pause 10 s: one promote, then it finishes alone.
pub const PAUSE_THEN_10S: &[Step] = &[
    Step::Weight(20),
    Step::Pause,
    Step::Weight(50),
    Step::PauseFor("10s"),
];

/// An Argo Rollout with the canary strategy.
#[derive(Debug, Clone)]
pub struct Rollout {
    name: String,
    image: String,
    replicas: u32,
    steps: Vec<Step>,
    service_label: bool,
}

impl Rollout {
    /// Five replicas of `image`, revisionHistoryLimit 3, steps [`TWO_PAUSES`], no labels on
    /// the object.
    pub fn canary(name: &str, image: &str) -> Rollout {
        Rollout {
            name: name.to_owned(),
            image: image.to_owned(),
            replicas: 5,
            steps: TWO_PAUSES.to_vec(),
            service_label: false,
        }
    }

    pub fn replicas(mut self, replicas: u32) -> Rollout {
        self.replicas = replicas;
        self
    }

    pub fn steps(mut self, steps: &[Step]) -> Rollout {
        self.steps = steps.to_vec();
        self
    }

    /// Label the object `app.kubernetes.io/name: {name}`, so the console links its SLO.
    pub fn service_label(mut self) -> Rollout {
        self.service_label = true;
        self
    }

    pub fn value(&self) -> Value {
        let name = &self.name;
        let mut metadata = json!({"name": name});
        if self.service_label {
            let mut labels = Map::new();
            labels.insert(SERVICE_LABEL.into(), json!(name));
            metadata["labels"] = Value::Object(labels);
        }
        let steps: Vec<Value> = self
            .steps
            .iter()
            .map(|s| match s {
                Step::Weight(w) => json!({"setWeight": w}),
                Step::Pause => json!({"pause": {}}),
                Step::PauseFor(d) => json!({"pause": {"duration": d}}),
            })
            .collect();
        json!({
            "apiVersion": "argoproj.io/v1alpha1",
            "kind": "Rollout",
            "metadata": metadata,
            "spec": {
                "replicas": self.replicas,
                "revisionHistoryLimit": 3,
                "selector": {"matchLabels": {"app": name}},
                "template": pod_template(name, &self.image, None),
                "strategy": {"canary": {"steps": steps}},
            },
        })
    }

    pub fn yaml(&self) -> String {
        to_yaml(&self.value())
    }
}

/// How a Flagger Canary's analysis advances.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Analysis {
    /// A fixed number of iterations (blue/green style, no weights).
    Iterations(u32),
    /// Traffic stepped by `step` up to `max` percent.
    Weights { max: u32, step: u32 },
}

/// A Flagger Canary over the Deployment of the same name (provider `kubernetes`, service
/// port 9898, progress deadline 60 s, analysis every 5 s with threshold 2).
#[derive(Debug, Clone)]
pub struct Canary {
    name: String,
    analysis: Analysis,
}

impl Canary {
    /// The analysis runs two iterations.
    pub fn over(target: &str) -> Canary {
        Canary {
            name: target.to_owned(),
            analysis: Analysis::Iterations(2),
        }
    }

    pub fn analysis(mut self, analysis: Analysis) -> Canary {
        self.analysis = analysis;
        self
    }

    pub fn value(&self) -> Value {
        let mut analysis = json!({"interval": "5s", "threshold": 2});
        match self.analysis {
            Analysis::Iterations(n) => analysis["iterations"] = json!(n),
            Analysis::Weights { max, step } => {
                analysis["maxWeight"] = json!(max);
                analysis["stepWeight"] = json!(step);
            }
        }
        json!({
            "apiVersion": "flagger.app/v1beta1",
            "kind": "Canary",
            "metadata": {"name": self.name},
            "spec": {
                "provider": "kubernetes",
                "targetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": self.name},
                "progressDeadlineSeconds": 60,
                "service": {"port": 9898},
                "analysis": analysis,
            },
        })
    }

    pub fn yaml(&self) -> String {
        to_yaml(&self.value())
    }
}

/// A v1 Service selecting pods `app: {name}`, `port` → `target_port`.
pub fn service(name: &str, port: u16, target_port: u16) -> String {
    to_yaml(&json!({
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": name},
        "spec": {
            "selector": {"app": name},
            "ports": [{"port": port, "targetPort": target_port}],
        },
    }))
}

/// A v1 Namespace.
pub fn namespace(name: &str) -> Value {
    json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}})
}
