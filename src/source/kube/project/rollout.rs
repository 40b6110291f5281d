//! argoproj.io/v1alpha1 Rollout → `RolloutFacts` (field names from Argo's
//! pkg/apis/rollouts/v1alpha1/types.go). Raw spec and status fields only: the core derives
//! phase, step and weights.

use k8s_openapi::apimachinery::pkg::apis::meta::v1 as meta;
use serde::Deserialize;

use super::common::{
    IntOrString, Keep, RawCondition, RawPodTemplate, object_meta, read_body, time,
};
use super::duration;
use crate::core::facts::{
    AnalysisPhase, AnalysisRef, CanaryStep, ObjectFacts, PauseCondition, PauseReason, RolloutFacts,
    RolloutStrategy,
};
use crate::core::text::Untrusted;

/// Project a Rollout from its metadata and the rest of the object (`spec`, `status`).
pub fn rollout(m: &meta::ObjectMeta, body: &serde_json::Value, keep: &Keep) -> ObjectFacts {
    match read_body::<Rollout>("Rollout", m, body) {
        Ok(r) => ObjectFacts::Rollout(r.project(m, keep)),
        Err(u) => ObjectFacts::Unparseable(u),
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Rollout {
    spec: Option<Spec>,
    status: Option<Status>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct Spec {
    replicas: Option<i32>,
    paused: Option<bool>,
    strategy: Option<Strategy>,
    template: Option<RawPodTemplate>,
    workload_ref: Option<serde_json::Value>,
    restart_at: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct Strategy {
    canary: Option<Canary>,
    blue_green: Option<BlueGreen>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct BlueGreen {
    post_promotion_analysis: Option<serde_json::Value>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct Canary {
    steps: Option<Vec<Step>>,
    traffic_routing: Option<serde_json::Value>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct Step {
    set_weight: Option<u32>,
    pause: Option<Pause>,
    analysis: Option<StepAnalysis>,
    experiment: Option<serde_json::Value>,
    set_canary_scale: Option<serde_json::Value>,
    #[serde(flatten)]
    other: serde_json::Map<String, serde_json::Value>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Pause {
    duration: Option<IntOrString>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct StepAnalysis {
    templates: Option<Vec<TemplateRef>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct TemplateRef {
    template_name: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct Status {
    abort: Option<bool>,
    pause_conditions: Option<Vec<RawPauseCondition>>,
    controller_pause: Option<bool>,
    current_pod_hash: Option<String>,
    replicas: Option<i32>,
    updated_replicas: Option<i32>,
    ready_replicas: Option<i32>,
    available_replicas: Option<i32>,
    current_step_index: Option<i32>,
    /// A string in the CRD; tolerate a number from hand-written captures.
    observed_generation: Option<IntOrString>,
    conditions: Option<Vec<RawCondition>>,
    canary: Option<CanaryStatus>,
    blue_green: Option<BlueGreenStatus>,
    #[serde(rename = "stableRS")]
    stable_rs: Option<String>,
    restarted_at: Option<String>,
    phase: Option<String>,
    message: Option<String>,
    workload_observed_generation: Option<IntOrString>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct RawPauseCondition {
    reason: String,
    start_time: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct CanaryStatus {
    current_step_analysis_run_status: Option<RunStatus>,
    current_background_analysis_run_status: Option<RunStatus>,
    current_experiment: Option<String>,
    weights: Option<Weights>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct RunStatus {
    name: String,
    status: String,
    message: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Weights {
    canary: Option<Destination>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Destination {
    weight: Option<u32>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct BlueGreenStatus {
    active_selector: Option<String>,
    preview_selector: Option<String>,
    post_promotion_analysis_run_status: Option<RunStatus>,
}

impl Step {
    fn project(self) -> CanaryStep {
        if let Some(w) = self.set_weight {
            return CanaryStep::SetWeight(w);
        }
        if let Some(p) = self.pause {
            return match p.duration {
                None => CanaryStep::Pause(None),
                Some(d) => {
                    let text = d.to_text();
                    match duration::parse(&text) {
                        Some(d) => CanaryStep::Pause(Some(d)),
                        None => CanaryStep::Other(format!("pause (invalid duration {text:?})")),
                    }
                }
            };
        }
        if let Some(a) = self.analysis {
            let names = a
                .templates
                .into_iter()
                .flatten()
                .filter_map(|t| t.template_name)
                .collect();
            return CanaryStep::Analysis(names);
        }
        if self.experiment.is_some() {
            return CanaryStep::Experiment;
        }
        if self.set_canary_scale.is_some() {
            return CanaryStep::SetCanaryScale;
        }
        // setHeaderRoute, setMirrorRoute, plugin, or something newer than this console.
        let name = self
            .other
            .keys()
            .next()
            .cloned()
            .unwrap_or_else(|| "unknown".into());
        CanaryStep::Other(name)
    }
}

impl RunStatus {
    fn project(self) -> AnalysisRef {
        AnalysisRef {
            name: self.name,
            phase: AnalysisPhase::parse(&self.status),
            message: Untrusted::message(self.message.unwrap_or_default()),
        }
    }
}

impl Rollout {
    fn project(self, m: &meta::ObjectMeta, keep: &Keep) -> RolloutFacts {
        let spec = self.spec.unwrap_or_default();
        let status = self.status.unwrap_or_default();
        let strategy = spec.strategy.unwrap_or_default();
        let is_blue_green = strategy.blue_green.is_some() && strategy.canary.is_none();
        let post_promotion_analysis = strategy
            .blue_green
            .is_some_and(|b| b.post_promotion_analysis.is_some_and(|a| !a.is_null()));
        let canary = strategy.canary.unwrap_or_default();
        let blue_green_status = status.blue_green.unwrap_or_default();
        let template = spec.template.unwrap_or_default();
        let canary_status = status.canary.unwrap_or_default();
        RolloutFacts {
            meta: object_meta(m, keep),
            replicas: spec.replicas.unwrap_or(1),
            paused: spec.paused.unwrap_or(false),
            strategy: if is_blue_green {
                RolloutStrategy::BlueGreen
            } else {
                RolloutStrategy::Canary
            },
            steps: canary
                .steps
                .into_iter()
                .flatten()
                .map(Step::project)
                .collect(),
            traffic_routing: canary
                .traffic_routing
                .as_ref()
                .is_some_and(|t| !t.is_null()),
            max_traffic_weight: canary
                .traffic_routing
                .as_ref()
                .and_then(|t| t.get("maxTrafficWeight"))
                .and_then(serde_json::Value::as_u64)
                .and_then(|w| u32::try_from(w).ok()),
            post_promotion_analysis,
            images: template.images(),
            restart_at: spec.restart_at,
            workload_ref: spec.workload_ref.is_some_and(|w| !w.is_null()),
            workload_generation: m
                .annotations
                .as_ref()
                .and_then(|a| a.get("rollout.argoproj.io/workload-generation").cloned()),
            observed_generation: status.observed_generation.map(|g| g.to_text()),
            workload_observed_generation: status.workload_observed_generation.map(|g| g.to_text()),
            phase: status.phase,
            message: Untrusted::message(status.message.unwrap_or_default()),
            controller_pause: status.controller_pause.unwrap_or(false),
            pause_conditions: status
                .pause_conditions
                .into_iter()
                .flatten()
                .map(|p| PauseCondition {
                    reason: PauseReason::parse(&p.reason),
                    start_time: time(p.start_time.as_deref()),
                })
                .collect(),
            aborted: status.abort.unwrap_or(false),
            current_step_index: status.current_step_index,
            current_pod_hash: status.current_pod_hash.unwrap_or_default(),
            stable_rs: status.stable_rs.unwrap_or_default(),
            restarted_at: status.restarted_at,
            status_replicas: status.replicas.unwrap_or(0),
            updated_replicas: status.updated_replicas.unwrap_or(0),
            ready_replicas: status.ready_replicas.unwrap_or(0),
            available_replicas: status.available_replicas.unwrap_or(0),
            traffic_canary_weight: canary_status
                .weights
                .and_then(|w| w.canary)
                .and_then(|d| d.weight),
            step_analysis: canary_status
                .current_step_analysis_run_status
                .map(RunStatus::project),
            background_analysis: canary_status
                .current_background_analysis_run_status
                .map(RunStatus::project),
            current_experiment: canary_status.current_experiment.filter(|e| !e.is_empty()),
            active_selector: blue_green_status.active_selector,
            preview_selector: blue_green_status.preview_selector,
            post_promotion_analysis_status: blue_green_status
                .post_promotion_analysis_run_status
                .map(|s| AnalysisPhase::parse(&s.status)),
            conditions: status
                .conditions
                .iter()
                .flatten()
                .map(RawCondition::project)
                .collect(),
        }
    }
}
