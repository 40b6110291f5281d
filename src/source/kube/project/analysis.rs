//! argoproj.io/v1alpha1 AnalysisRun → `AnalysisRunFacts`: phase, message and one summary
//! line per metric (counts and the latest measured value).

use k8s_openapi::apimachinery::pkg::apis::meta::v1 as meta;
use serde::Deserialize;

use super::common::{Keep, object_meta, owner, read_body, time};
use crate::core::facts::{
    AnalysisPhase, AnalysisRunFacts, MEASUREMENTS_KEPT, MetricResult, ObjectFacts,
};
use crate::core::text::Untrusted;

pub fn analysis_run(m: &meta::ObjectMeta, body: &serde_json::Value, keep: &Keep) -> ObjectFacts {
    match read_body::<AnalysisRun>("AnalysisRun", m, body) {
        Ok(a) => ObjectFacts::AnalysisRun(a.project(m, keep)),
        Err(u) => ObjectFacts::Unparseable(u),
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct AnalysisRun {
    spec: Option<Spec>,
    status: Option<Status>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Spec {
    metrics: Option<Vec<SpecMetric>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct SpecMetric {
    name: String,
    success_condition: Option<String>,
    failure_condition: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct Status {
    phase: Option<String>,
    message: Option<String>,
    metric_results: Option<Vec<Metric>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Metric {
    name: String,
    phase: String,
    successful: Option<u32>,
    failed: Option<u32>,
    inconclusive: Option<u32>,
    measurements: Option<Vec<Measurement>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
#[serde(rename_all = "camelCase")]
struct Measurement {
    value: Option<String>,
    finished_at: Option<String>,
}

impl AnalysisRun {
    fn project(self, m: &meta::ObjectMeta, keep: &Keep) -> AnalysisRunFacts {
        let status = self.status.unwrap_or_default();
        let spec = self.spec.unwrap_or_default().metrics.unwrap_or_default();
        let condition = |name: &str, pick: fn(&SpecMetric) -> &Option<String>| {
            let found = spec
                .iter()
                .find(|m| m.name == name)
                .and_then(|m| pick(m).clone());
            Untrusted::new(found.unwrap_or_default())
        };
        let last_measured = status
            .metric_results
            .iter()
            .flatten()
            .flat_map(|r| r.measurements.iter().flatten())
            .filter_map(|m| time(m.finished_at.as_deref()))
            .max();
        AnalysisRunFacts {
            last_measured,
            meta: object_meta(m, keep),
            owner_uid: owner(m).0,
            phase: status
                .phase
                .as_deref()
                .map_or(AnalysisPhase::Pending, AnalysisPhase::parse),
            message: Untrusted::message(status.message.unwrap_or_default()),
            metrics: status
                .metric_results
                .into_iter()
                .flatten()
                .map(|r| MetricResult {
                    success_condition: condition(&r.name, |m| &m.success_condition),
                    failure_condition: condition(&r.name, |m| &m.failure_condition),
                    recent: {
                        let values: Vec<Untrusted> = r
                            .measurements
                            .iter()
                            .flatten()
                            .filter_map(|m| m.value.clone().map(Untrusted::new))
                            .collect();
                        let skip = values.len().saturating_sub(MEASUREMENTS_KEPT);
                        values.into_iter().skip(skip).collect()
                    },
                    last_value: Untrusted::new(
                        r.measurements
                            .iter()
                            .flatten()
                            .rev()
                            .find_map(|m| m.value.clone())
                            .unwrap_or_default(),
                    ),
                    name: r.name,
                    phase: r.phase,
                    successful: r.successful.unwrap_or(0),
                    failed: r.failed.unwrap_or(0),
                    inconclusive: r.inconclusive.unwrap_or(0),
                })
                .collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn last_measured_is_the_latest_finished_measurement() {
        let body = serde_json::json!({
            "status": {
                "phase": "Failed",
                "metricResults": [
                    {"name": "a", "phase": "Failed", "measurements": [
                        {"value": "0.2", "finishedAt": "2026-11-21T08:00:00Z"},
                        {"value": "0.3", "finishedAt": "2026-11-21T08:05:00Z"}
                    ]},
                    {"name": "b", "phase": "Successful", "measurements": [
                        {"value": "1", "finishedAt": "2026-11-21T08:01:00Z"},
                        {"value": "1", "finishedAt": "not a time"}
                    ]}
                ]
            }
        });
        let m = meta::ObjectMeta::default();
        let ObjectFacts::AnalysisRun(run) = analysis_run(&m, &body, &Keep::default()) else {
            panic!("projected as unparseable");
        };
        assert_eq!(
            run.last_measured.map(|t| t.to_string()),
            Some("2026-11-21T08:05:00Z".to_string())
        );
        assert_eq!(run.metrics[0].last_value.raw(), "0.3");
        let recent: Vec<&str> = run.metrics[0].recent.iter().map(Untrusted::raw).collect();
        assert!(
            recent.len() <= MEASUREMENTS_KEPT && recent.last() == Some(&"0.3"),
            "{recent:?}"
        );
    }
}
