//! flagger.app/v1beta1 Canary → `CanaryFacts` (field names from Flagger's
//! pkg/apis/flagger/v1beta1/canary.go). Flagger reports its own phase; we copy it raw.

use k8s_openapi::apimachinery::pkg::apis::meta::v1 as meta;
use serde::Deserialize;

use super::common::{Keep, RawCondition, object_meta, read_body, time};
use crate::core::facts::{CanaryFacts, FlaggerPhase, Gate, GateHook, ObjectFacts};
use crate::core::text::Untrusted;

pub fn canary(m: &meta::ObjectMeta, body: &serde_json::Value, keep: &Keep) -> ObjectFacts {
    match read_body::<Canary>("Canary", m, body) {
        Ok(c) => ObjectFacts::Canary(c.project(m, keep)),
        Err(u) => ObjectFacts::Unparseable(u),
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Canary {
    spec: Option<Spec>,
    status: Option<Status>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct Spec {
    target_ref: Option<TargetRef>,
    suspend: Option<bool>,
    skip_analysis: Option<bool>,
    analysis: Option<Analysis>,
    /// The pre-v1beta1 name of `analysis`, still accepted by Flagger.
    canary_analysis: Option<Analysis>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct TargetRef {
    kind: String,
    name: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct Analysis {
    max_weight: Option<u32>,
    step_weight: Option<u32>,
    threshold: Option<u32>,
    webhooks: Option<Vec<Webhook>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Webhook {
    #[serde(rename = "type")]
    type_: Option<String>,
    url: Option<String>,
}

/// Flagger's status counters are Go `int`s and it writes negatives (`iterations: -1` while
/// waiting for promotion): read any integer, count below zero as zero.
fn count(n: Option<i64>) -> u32 {
    n.map_or(0, |n| u32::try_from(n.max(0)).unwrap_or(u32::MAX))
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct Status {
    phase: Option<String>,
    canary_weight: Option<i64>,
    failed_checks: Option<i64>,
    iterations: Option<i64>,
    last_transition_time: Option<String>,
    conditions: Option<Vec<RawCondition>>,
}

impl Canary {
    fn project(self, m: &meta::ObjectMeta, keep: &Keep) -> CanaryFacts {
        let spec = self.spec.unwrap_or_default();
        let status = self.status.unwrap_or_default();
        let analysis = spec.analysis.or(spec.canary_analysis).unwrap_or_default();
        let conditions = status.conditions.unwrap_or_default();
        // Flagger keeps one condition, "Promoted", whose message says what it is doing.
        let message = conditions
            .iter()
            .find(|c| c.type_ == "Promoted")
            .or(conditions.first())
            .and_then(|c| c.message.clone())
            .unwrap_or_default();
        let webhooks = analysis.webhooks.unwrap_or_default();
        let gates = webhooks
            .iter()
            .filter_map(|w| {
                let hook = GateHook::parse(w.type_.as_deref()?)?;
                Some(Gate {
                    hook,
                    url: w.url.clone()?,
                })
            })
            .collect();
        CanaryFacts {
            meta: object_meta(m, keep),
            target: spec
                .target_ref
                .map(|t| format!("{}/{}", t.kind, t.name))
                .unwrap_or_default(),
            suspend: spec.suspend.unwrap_or(false),
            skip_analysis: spec.skip_analysis.unwrap_or(false),
            max_weight: analysis.max_weight,
            step_weight: analysis.step_weight,
            threshold: analysis.threshold,
            phase: FlaggerPhase::parse(&status.phase.unwrap_or_default()),
            canary_weight: count(status.canary_weight),
            failed_checks: count(status.failed_checks),
            iterations: count(status.iterations),
            last_transition: time(status.last_transition_time.as_deref()),
            message: Untrusted::message(message),
            rollback_webhook: webhooks
                .into_iter()
                .find(|w| w.type_.as_deref() == Some("rollback"))
                .and_then(|w| w.url),
            gates,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn negative_counters_flagger_writes_are_read_as_zero() {
        // As Flagger v1.44 writes it while a confirm-promotion gate holds the canary.
        let body = serde_json::json!({
            "spec": {"targetRef": {"kind": "Deployment", "name": "podinfo"}},
            "status": {"phase": "WaitingPromotion", "canaryWeight": 50, "failedChecks": 0,
                       "iterations": -1},
        });
        let m = meta::ObjectMeta {
            name: Some("podinfo".into()),
            namespace: Some("ns".into()),
            ..meta::ObjectMeta::default()
        };
        let ObjectFacts::Canary(c) = canary(&m, &body, &Keep::default()) else {
            panic!("not projected: {body}")
        };
        assert_eq!(c.phase, FlaggerPhase::WaitingPromotion);
        assert_eq!((c.canary_weight, c.iterations, c.failed_checks), (50, 0, 0));
        assert_eq!(count(Some(i64::MAX)), u32::MAX);
    }
}
