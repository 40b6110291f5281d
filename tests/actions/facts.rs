//! Minimal projections of objects read from the test clusters into core facts, enough for
//! `core::status` to derive the Release the console would show and `core::action::plan` to
//! plan from it (the watch side has its own, complete projections).

use std::collections::BTreeMap;

use jiff::SignedDuration;
use serde_json::Value;
use shipdeck::core::facts::{
    CanaryFacts, CanaryStep, Condition, DeploymentFacts, ObjectMeta, PauseCondition, PauseReason,
    ReplicaSetFacts, RolloutFacts,
};
use shipdeck::core::text::Untrusted;

fn s(v: &Value, ptr: &str) -> String {
    v.pointer(ptr)
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_owned()
}

fn i(v: &Value, ptr: &str) -> i32 {
    v.pointer(ptr).and_then(Value::as_i64).unwrap_or(0) as i32
}

fn b(v: &Value, ptr: &str) -> bool {
    v.pointer(ptr).and_then(Value::as_bool).unwrap_or(false)
}

fn strings(v: &Value, ptr: &str) -> BTreeMap<String, String> {
    v.pointer(ptr)
        .and_then(Value::as_object)
        .map(|m| {
            m.iter()
                .filter_map(|(k, v)| v.as_str().map(|s| (k.clone(), s.to_owned())))
                .collect()
        })
        .unwrap_or_default()
}

pub fn meta(v: &Value) -> ObjectMeta {
    ObjectMeta {
        namespace: s(v, "/metadata/namespace"),
        name: s(v, "/metadata/name"),
        uid: s(v, "/metadata/uid"),
        resource_version: s(v, "/metadata/resourceVersion"),
        generation: v
            .pointer("/metadata/generation")
            .and_then(Value::as_i64)
            .unwrap_or(0),
        created: None,
        labels: strings(v, "/metadata/labels"),
        annotations: strings(v, "/metadata/annotations"),
    }
}

pub fn images(v: &Value) -> Vec<String> {
    v.pointer("/spec/template/spec/containers")
        .and_then(Value::as_array)
        .map(|cs| cs.iter().map(|c| s(c, "/image")).collect())
        .unwrap_or_default()
}

fn conditions(v: &Value) -> Vec<Condition> {
    v.pointer("/status/conditions")
        .and_then(Value::as_array)
        .map(|cs| {
            cs.iter()
                .map(|c| Condition {
                    type_: s(c, "/type"),
                    status: s(c, "/status"),
                    reason: s(c, "/reason"),
                    message: Untrusted::new(s(c, "/message")),
                    last_transition: None,
                })
                .collect()
        })
        .unwrap_or_default()
}

fn step(v: &Value) -> CanaryStep {
    if let Some(w) = v.get("setWeight").and_then(Value::as_u64) {
        return CanaryStep::SetWeight(w as u32);
    }
    if let Some(p) = v.get("pause") {
        let secs = p
            .get("duration")
            .and_then(|d| {
                d.as_str()
                    .map(|s| s.trim_end_matches('s').to_owned())
                    .or(Some(d.to_string()))
            })
            .and_then(|d| d.parse::<i64>().ok());
        return CanaryStep::Pause(secs.map(SignedDuration::from_secs));
    }
    if let Some(a) = v.get("analysis") {
        let names = a
            .get("templates")
            .and_then(Value::as_array)
            .map(|ts| ts.iter().map(|t| s(t, "/templateName")).collect())
            .unwrap_or_default();
        return CanaryStep::Analysis(names);
    }
    if v.get("experiment").is_some() {
        return CanaryStep::Experiment;
    }
    CanaryStep::Other(v.to_string())
}

pub fn rollout(v: &Value) -> RolloutFacts {
    RolloutFacts {
        meta: meta(v),
        replicas: i(v, "/spec/replicas"),
        paused: b(v, "/spec/paused"),
        strategy: if v.pointer("/spec/strategy/canary").is_some() {
            "canary".into()
        } else {
            "blueGreen".into()
        },
        steps: v
            .pointer("/spec/strategy/canary/steps")
            .and_then(Value::as_array)
            .map(|ss| ss.iter().map(step).collect())
            .unwrap_or_default(),
        images: images(v),
        restart_at: v
            .pointer("/spec/restartAt")
            .and_then(Value::as_str)
            .map(str::to_owned),
        observed_generation: v
            .pointer("/status/observedGeneration")
            .and_then(Value::as_str)
            .map(str::to_owned),
        phase: v
            .pointer("/status/phase")
            .and_then(Value::as_str)
            .map(str::to_owned),
        message: Untrusted::new(s(v, "/status/message")),
        controller_pause: b(v, "/status/controllerPause"),
        pause_conditions: v
            .pointer("/status/pauseConditions")
            .and_then(Value::as_array)
            .map(|pcs| {
                pcs.iter()
                    .map(|pc| PauseCondition {
                        reason: PauseReason::parse(&s(pc, "/reason")),
                        start_time: None,
                    })
                    .collect()
            })
            .unwrap_or_default(),
        aborted: b(v, "/status/abort"),
        current_step_index: v
            .pointer("/status/currentStepIndex")
            .and_then(Value::as_i64)
            .map(|x| x as i32),
        current_pod_hash: s(v, "/status/currentPodHash"),
        stable_rs: s(v, "/status/stableRS"),
        restarted_at: v
            .pointer("/status/restartedAt")
            .and_then(Value::as_str)
            .map(str::to_owned),
        status_replicas: i(v, "/status/replicas"),
        updated_replicas: i(v, "/status/updatedReplicas"),
        ready_replicas: i(v, "/status/readyReplicas"),
        available_replicas: i(v, "/status/availableReplicas"),
        conditions: conditions(v),
        ..RolloutFacts::default()
    }
}

pub fn deployment(v: &Value) -> DeploymentFacts {
    DeploymentFacts {
        meta: meta(v),
        replicas: v
            .pointer("/spec/replicas")
            .and_then(Value::as_i64)
            .unwrap_or(1) as i32,
        paused: b(v, "/spec/paused"),
        strategy: s(v, "/spec/strategy/type"),
        images: images(v),
        restarted_at: strings(v, "/spec/template/metadata/annotations")
            .get("kubectl.kubernetes.io/restartedAt")
            .cloned(),
        observed_generation: v
            .pointer("/status/observedGeneration")
            .and_then(Value::as_i64),
        status_replicas: i(v, "/status/replicas"),
        updated_replicas: i(v, "/status/updatedReplicas"),
        ready_replicas: i(v, "/status/readyReplicas"),
        available_replicas: i(v, "/status/availableReplicas"),
        conditions: conditions(v),
    }
}

pub fn replicaset(v: &Value) -> ReplicaSetFacts {
    let m = meta(v);
    let owner = v
        .pointer("/metadata/ownerReferences")
        .and_then(Value::as_array)
        .and_then(|rs| rs.iter().find(|r| b(r, "/controller")))
        .cloned()
        .unwrap_or(Value::Null);
    let revision = m
        .annotations
        .get("deployment.kubernetes.io/revision")
        .or_else(|| m.annotations.get("rollout.argoproj.io/revision"))
        .and_then(|r| r.parse().ok());
    let pod_template_hash = m
        .labels
        .get("rollouts-pod-template-hash")
        .or_else(|| m.labels.get("pod-template-hash"))
        .cloned()
        .unwrap_or_default();
    ReplicaSetFacts {
        owner_uid: s(&owner, "/uid"),
        owner_kind: s(&owner, "/kind"),
        revision,
        pod_template_hash,
        images: images(v),
        replicas: i(v, "/spec/replicas"),
        ready_replicas: i(v, "/status/readyReplicas"),
        available_replicas: i(v, "/status/availableReplicas"),
        meta: m,
    }
}

pub fn canary(v: &Value) -> CanaryFacts {
    let rollback_webhook = v
        .pointer("/spec/analysis/webhooks")
        .and_then(Value::as_array)
        .and_then(|ws| ws.iter().find(|w| s(w, "/type") == "rollback"))
        .map(|w| s(w, "/url"));
    CanaryFacts {
        meta: meta(v),
        target: s(v, "/spec/targetRef/name"),
        suspend: b(v, "/spec/suspend"),
        skip_analysis: b(v, "/spec/skipAnalysis"),
        phase: s(v, "/status/phase"),
        canary_weight: i(v, "/status/canaryWeight") as u32,
        failed_checks: i(v, "/status/failedChecks") as u32,
        iterations: i(v, "/status/iterations") as u32,
        message: Untrusted::new(""),
        rollback_webhook,
        ..CanaryFacts::default()
    }
}
