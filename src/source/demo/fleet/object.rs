//! The demo's answer to a GET of one object (the YAML view, `o`): the object as the
//! simulated API server would return it, built from the simulation's own model of it —
//! metadata (name, namespace, uid, resourceVersion, labels, annotations), spec (replicas,
//! strategy and steps, the pod template's image) and status (replicas, conditions, phase).
//! Fields the simulation does not model are left out rather than invented.

use jiff::Timestamp;
use serde_json::{Map, Value, json};

use super::Fleet;
use crate::core::action::Resource;
use crate::core::facts::{CanaryStep, Condition, ObjectMeta};
use crate::core::kinds::application::ApplicationFacts;
use crate::core::kinds::canary::CanaryFacts;
use crate::core::kinds::deployment::{DeploymentFacts, DeploymentStrategy};
use crate::core::kinds::flux::{FluxFacts, Ready};
use crate::core::kinds::rollout::{RolloutFacts, RolloutStrategy};

fn time(t: Option<Timestamp>) -> Value {
    t.map_or(Value::Null, |t| {
        Value::String(t.strftime("%Y-%m-%dT%H:%M:%SZ").to_string())
    })
}

fn metadata(m: &ObjectMeta) -> Value {
    let mut out = Map::new();
    out.insert("name".into(), json!(m.name));
    out.insert("namespace".into(), json!(m.namespace));
    out.insert("uid".into(), json!(m.uid));
    out.insert("resourceVersion".into(), json!(m.resource_version));
    out.insert("generation".into(), json!(m.generation));
    out.insert("creationTimestamp".into(), time(m.created));
    if !m.labels.is_empty() {
        out.insert("labels".into(), json!(m.labels));
    }
    if !m.annotations.is_empty() {
        out.insert("annotations".into(), json!(m.annotations));
    }
    Value::Object(out)
}

fn conditions(conds: &[Condition]) -> Value {
    conds
        .iter()
        .map(|c| {
            json!({
                "type": c.type_,
                "status": c.status,
                "reason": c.reason,
                "message": c.message.raw(),
                "lastTransitionTime": time(c.last_transition),
            })
        })
        .collect()
}

/// The pod template: one container named after the app, running the first image.
fn template(app: &str, labels: Value, images: &[String], restarted_at: Option<&str>) -> Value {
    let containers: Vec<Value> = images
        .iter()
        .enumerate()
        .map(|(i, image)| {
            let name = if i == 0 {
                app.to_string()
            } else {
                format!("{app}-{i}")
            };
            json!({
                "name": name,
                "image": image,
                "ports": [{"containerPort": 8080, "name": "http"}],
                "terminationMessagePolicy": "FallbackToLogsOnError",
            })
        })
        .collect();
    let mut meta = json!({ "labels": labels });
    if let Some(at) = restarted_at {
        meta["annotations"] = json!({ "kubectl.kubernetes.io/restartedAt": at });
    }
    json!({ "metadata": meta, "spec": { "containers": containers } })
}

fn app_labels(m: &ObjectMeta) -> Value {
    let app = m
        .labels
        .get("app.kubernetes.io/name")
        .cloned()
        .unwrap_or_else(|| m.name.clone());
    json!({ "app.kubernetes.io/name": app })
}

fn deployment(d: &DeploymentFacts) -> Value {
    let strategy = match d.strategy {
        DeploymentStrategy::RollingUpdate => json!({
            "type": "RollingUpdate",
            "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": "25%"},
        }),
        DeploymentStrategy::Recreate => json!({"type": "Recreate"}),
    };
    let labels = app_labels(&d.meta);
    json!({
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": metadata(&d.meta),
        "spec": {
            "replicas": d.replicas,
            "paused": d.paused,
            "selector": {"matchLabels": labels},
            "strategy": strategy,
            "template": template(&d.meta.name, labels, &d.images, d.restarted_at.as_deref()),
        },
        "status": {
            "observedGeneration": d.observed_generation,
            "replicas": d.status_replicas,
            "updatedReplicas": d.updated_replicas,
            "readyReplicas": d.ready_replicas,
            "availableReplicas": d.available_replicas,
            "conditions": conditions(&d.conditions),
        },
    })
}

fn step(s: &CanaryStep) -> Value {
    match s {
        CanaryStep::SetWeight(w) => json!({"setWeight": w}),
        CanaryStep::Pause(Some(d)) => json!({"pause": {"duration": format!("{}s", d.as_secs())}}),
        CanaryStep::Pause(None) => json!({"pause": {}}),
        CanaryStep::Analysis(names) => json!({"analysis": {"templates": names
            .iter()
            .map(|n| json!({"templateName": n}))
            .collect::<Vec<_>>()}}),
        CanaryStep::Experiment => json!({"experiment": {}}),
        CanaryStep::SetCanaryScale => json!({"setCanaryScale": {}}),
        CanaryStep::Other(s) => json!({ s.clone(): {} }),
    }
}

fn rollout(r: &RolloutFacts) -> Value {
    let strategy = match r.strategy {
        RolloutStrategy::Canary => json!({"canary": {
            "steps": r.steps.iter().map(step).collect::<Vec<_>>(),
        }}),
        RolloutStrategy::BlueGreen => json!({"blueGreen": {
            "activeService": format!("{}-active", r.meta.name),
            "previewService": format!("{}-preview", r.meta.name),
            "autoPromotionEnabled": false,
        }}),
    };
    let labels = app_labels(&r.meta);
    let mut status = json!({
        "observedGeneration": r.observed_generation,
        "phase": r.phase,
        "message": r.message.raw(),
        "replicas": r.status_replicas,
        "updatedReplicas": r.updated_replicas,
        "readyReplicas": r.ready_replicas,
        "availableReplicas": r.available_replicas,
        "currentPodHash": r.current_pod_hash,
        "stableRS": r.stable_rs,
        "controllerPause": r.controller_pause,
        "abort": r.aborted,
        "pauseConditions": r.pause_conditions.iter().map(|p| json!({
            "reason": p.reason.as_str(),
            "startTime": time(p.start_time),
        })).collect::<Vec<_>>(),
        "conditions": conditions(&r.conditions),
    });
    if let Some(i) = r.current_step_index {
        status["currentStepIndex"] = json!(i);
    }
    if let Some(a) = &r.step_analysis {
        status["canary"] = json!({"currentStepAnalysisRunStatus": {
            "name": a.name, "status": a.phase.as_str(), "message": a.message.raw(),
        }});
    }
    json!({
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Rollout",
        "metadata": metadata(&r.meta),
        "spec": {
            "replicas": r.replicas,
            "paused": r.paused,
            "selector": {"matchLabels": labels},
            "strategy": strategy,
            "template": template(&r.meta.name, labels, &r.images, r.restart_at.as_deref()),
        },
        "status": status,
    })
}

fn canary(c: &CanaryFacts) -> Value {
    let webhooks: Vec<Value> = c
        .gates
        .iter()
        .map(|g| json!({"name": g.hook.as_str(), "type": g.hook.as_str(), "url": g.url}))
        .collect();
    json!({
        "apiVersion": "flagger.app/v1beta1",
        "kind": "Canary",
        "metadata": metadata(&c.meta),
        "spec": {
            "targetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": c.target},
            "suspend": c.suspend,
            "skipAnalysis": c.skip_analysis,
            "analysis": {
                "maxWeight": c.max_weight,
                "stepWeight": c.step_weight,
                "threshold": c.threshold,
                "webhooks": webhooks,
            },
        },
        "status": {
            "phase": c.phase.as_str(),
            "canaryWeight": c.canary_weight,
            "failedChecks": c.failed_checks,
            "iterations": c.iterations,
            "lastTransitionTime": time(c.last_transition),
            "conditions": [{
                "type": "Promoted",
                "status": if c.phase.as_str() == "Succeeded" { "True" } else { "Unknown" },
                "reason": c.phase.as_str(),
                "message": c.message.raw(),
                "lastTransitionTime": time(c.last_transition),
            }],
        },
    })
}

fn application(a: &ApplicationFacts) -> Value {
    json!({
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Application",
        "metadata": metadata(&a.meta),
        "spec": {
            "project": "default",
            "source": a.source,
            "destination": {"server": "https://kubernetes.default.svc", "namespace": a.dest_namespace},
            "syncPolicy": {"automated": a.automated},
        },
        "status": {
            "sync": {"status": a.sync_status, "revision": a.sync_revision},
            "health": {"status": a.health},
            "operationState": {
                "phase": a.op_phase,
                "message": a.op_message.raw(),
                "startedAt": time(a.op_started),
                "finishedAt": time(a.op_finished),
            },
            "reconciledAt": time(a.reconciled_at),
        },
    })
}

fn kustomization(k: &FluxFacts) -> Value {
    let ready = match k.ready {
        Ready::True => "True",
        Ready::False => "False",
        Ready::Unknown => "Unknown",
    };
    json!({
        "apiVersion": "kustomize.toolkit.fluxcd.io/v1",
        "kind": "Kustomization",
        "metadata": metadata(&k.meta),
        "spec": {
            "interval": k.interval,
            "suspend": k.suspend,
            "prune": true,
            "sourceRef": {"kind": k.source.kind, "namespace": k.source.namespace, "name": k.source.name},
        },
        "status": {
            "observedGeneration": k.observed_generation,
            "lastAppliedRevision": k.last_applied_revision,
            "lastAttemptedRevision": k.last_attempted_revision,
            "conditions": [{
                "type": "Ready",
                "status": ready,
                "reason": k.ready_reason,
                "message": k.ready_message.raw(),
                "lastTransitionTime": time(k.ready_since),
            }],
        },
    })
}

impl Fleet {
    /// The object `resource` `namespace/name` on `cluster`, as JSON, or the API server's
    /// "not found" when the simulation has no such object.
    pub fn object(
        &self,
        cluster: &str,
        resource: &Resource,
        namespace: &str,
        name: &str,
    ) -> Result<Value, String> {
        let here =
            |c: &str, m: &ObjectMeta| c == cluster && m.namespace == namespace && m.name == name;
        let found = match resource.plural {
            "deployments" => self
                .deployments
                .iter()
                .map(|d| (d.cluster.as_str(), d.facts()))
                .chain(
                    self.canaries
                        .iter()
                        .flat_map(|c| c.deployments().map(|d| (c.cluster.as_str(), d.facts()))),
                )
                .find(|(c, d)| here(c, &d.meta))
                .map(|(_, d)| deployment(d)),
            "rollouts" => self
                .rollouts
                .iter()
                .find(|r| here(&r.cluster, &r.facts().meta))
                .map(|r| rollout(r.facts())),
            "canaries" => self
                .canaries
                .iter()
                .find(|c| here(&c.cluster, &c.facts().meta))
                .map(|c| canary(c.facts())),
            "applications" => self
                .applications
                .iter()
                .find(|a| here(&a.cluster, &a.facts().meta))
                .map(|a| application(a.facts())),
            "kustomizations" => self
                .kustomizations
                .iter()
                .find(|k| here(&k.cluster, &k.facts().meta))
                .map(|k| kustomization(k.facts())),
            _ => None,
        };
        found.ok_or_else(|| {
            format!(
                "{}.{} \"{name}\" not found (not in the simulation)",
                resource.plural, resource.group
            )
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::kinds::Kind;
    use crate::core::kinds::request::resource;

    fn fleet() -> Fleet {
        Fleet::new(1, "2026-11-26T08:00:00Z".parse().unwrap())
    }

    #[test]
    fn a_demo_rollout_reads_like_the_api_servers() {
        let f = fleet();
        let r = f.rollouts.first().unwrap();
        let (cluster, m) = (r.cluster.clone(), r.facts().meta.clone());
        let v = f
            .object(
                &cluster,
                &resource(Kind::Rollout, None),
                &m.namespace,
                &m.name,
            )
            .unwrap();
        assert_eq!(v["kind"], "Rollout");
        assert_eq!(v["metadata"]["name"], m.name.as_str());
        assert_eq!(
            v["metadata"]["resourceVersion"],
            m.resource_version.as_str()
        );
        assert_eq!(v["spec"]["replicas"], r.facts().replicas);
        let image = &v["spec"]["template"]["spec"]["containers"][0]["image"];
        assert_eq!(image, r.facts().images[0].as_str());
        assert!(v["spec"]["strategy"].is_object());
        assert!(v["status"]["conditions"].is_array());
    }

    #[test]
    fn every_demo_deployment_and_canary_is_served_and_others_are_not_found() {
        let f = fleet();
        for d in &f.deployments {
            let m = &d.facts().meta;
            let v = f
                .object(
                    &d.cluster,
                    &resource(Kind::Deployment, None),
                    &m.namespace,
                    &m.name,
                )
                .unwrap();
            assert_eq!(v["kind"], "Deployment");
            assert_eq!(v["status"]["readyReplicas"], d.facts().ready_replicas);
        }
        for c in &f.canaries {
            let m = &c.facts().meta;
            let v = f
                .object(
                    &c.cluster,
                    &resource(Kind::Canary, None),
                    &m.namespace,
                    &m.name,
                )
                .unwrap();
            assert_eq!(v["status"]["phase"], c.facts().phase.as_str());
        }
        for a in &f.applications {
            let m = &a.facts().meta;
            let v = f
                .object(
                    &a.cluster,
                    &resource(Kind::Application, None),
                    &m.namespace,
                    &m.name,
                )
                .unwrap();
            assert_eq!(
                v["status"]["sync"]["status"],
                a.facts().sync_status.as_str()
            );
        }
        for k in &f.kustomizations {
            let m = &k.facts().meta;
            let v = f
                .object(
                    &k.cluster,
                    &resource(Kind::Kustomization, None),
                    &m.namespace,
                    &m.name,
                )
                .unwrap();
            assert_eq!(v["spec"]["suspend"], k.facts().suspend);
        }
        let e = f
            .object("nowhere", &resource(Kind::Deployment, None), "x", "y")
            .unwrap_err();
        assert!(e.contains("not found"), "{e}");
    }

    /// `o` in the console: the demo target asks the running simulation over its read
    /// channel, for the cluster it answers for, and gets the object back as JSON.
    #[tokio::test]
    async fn the_demo_target_reads_objects_from_the_running_simulation() {
        use crate::action::{ActionTarget, DemoTarget};
        let f = fleet();
        let d = f.deployments.first().unwrap();
        let (cluster, m) = (d.cluster.clone(), d.facts().meta.clone());
        let (msg_tx, mut msg_rx) = tokio::sync::mpsc::channel(4096);
        let (req_tx, req_rx) = tokio::sync::mpsc::channel(1);
        let (read_tx, read_rx) = tokio::sync::mpsc::channel(1);
        tokio::spawn(crate::source::demo::run_with_reads(
            f, msg_tx, req_rx, read_rx,
        ));
        tokio::spawn(async move { while msg_rx.recv().await.is_some() {} });
        let target = DemoTarget::new(req_tx, false)
            .with_reads(read_tx)
            .for_cluster(&cluster);
        let v = target
            .get_object(
                resource(Kind::Deployment, None),
                m.namespace.clone(),
                m.name.clone(),
            )
            .await
            .unwrap();
        assert_eq!(v["metadata"]["name"], m.name.as_str());
        assert_eq!(v["metadata"]["namespace"], m.namespace.as_str());
        let other = DemoTarget::new(tokio::sync::mpsc::channel(1).0, false);
        let e = other
            .get_object(resource(Kind::Deployment, None), m.namespace, m.name)
            .await
            .unwrap_err();
        assert!(e.contains("serves no objects"), "{e}");
    }
}
