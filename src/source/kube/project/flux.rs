//! Flux objects → `FluxFacts` / `FluxSourceFacts` (field names from kustomize-controller
//! api/v1 kustomization_types.go, helm-controller api/v2 helmrelease_types.go and
//! source-controller api/v1 gitrepository_types.go / ocirepository_types.go). Only Ready,
//! revisions, suspend, the source and the reconcile request survive.

use k8s_openapi::apimachinery::pkg::apis::meta::v1 as meta;
use serde::Deserialize;

use super::common::{Keep, RawCondition, object_meta, read_body, time, unparseable};
use crate::core::facts::ObjectFacts;
use crate::core::kinds::flux::{FluxFacts, REQUESTED_AT, Ready, SourceRef};
use crate::core::kinds::flux_source::FluxSourceFacts;
use crate::core::text::Untrusted;

pub fn kustomization(m: &meta::ObjectMeta, body: &serde_json::Value, keep: &Keep) -> ObjectFacts {
    match read_body::<Reconciled>("Kustomization", m, body) {
        Ok(k) => ObjectFacts::Kustomization(k.project(m, keep)),
        Err(u) => ObjectFacts::Unparseable(u),
    }
}

pub fn helm_release(m: &meta::ObjectMeta, body: &serde_json::Value, keep: &Keep) -> ObjectFacts {
    match read_body::<Reconciled>("HelmRelease", m, body) {
        Ok(h) => ObjectFacts::HelmRelease(h.project(m, keep)),
        Err(u) => ObjectFacts::Unparseable(u),
    }
}

/// A GitRepository or OCIRepository as one GET returns it (`kind` from the object).
pub fn flux_source(value: &serde_json::Value) -> Result<FluxSourceFacts, String> {
    let kind = value
        .get("kind")
        .and_then(serde_json::Value::as_str)
        .unwrap_or_default()
        .to_string();
    let m: meta::ObjectMeta = value
        .get("metadata")
        .map(|m| serde_json::from_value(m.clone()))
        .transpose()
        .map_err(|e| format!("metadata: {e}"))?
        .unwrap_or_default();
    let s = Source::deserialize(value).map_err(|e| {
        unparseable(&kind, m.namespace.as_deref(), m.name.as_deref(), e)
            .error
            .raw()
            .to_string()
    })?;
    let spec = s.spec.unwrap_or_default();
    let status = s.status.unwrap_or_default();
    let ready = ready_condition(status.conditions.as_deref().unwrap_or_default());
    Ok(FluxSourceFacts {
        meta: object_meta(&m, &Keep::default()),
        kind,
        url: Untrusted::new(spec.url.unwrap_or_default()),
        suspend: spec.suspend.unwrap_or(false),
        ready: ready.map_or(Ready::Unknown, |c| Ready::parse(&c.status)),
        ready_message: Untrusted::new(ready.and_then(|c| c.message.clone()).unwrap_or_default()),
        artifact_revision: status.artifact.and_then(|a| a.revision).unwrap_or_default(),
    })
}

fn ready_condition(conds: &[RawCondition]) -> Option<&RawCondition> {
    conds.iter().find(|c| c.type_ == "Ready")
}

/// What a Kustomization and a HelmRelease have in common, as they write it.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Reconciled {
    spec: Option<Spec>,
    status: Option<Status>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct Spec {
    suspend: Option<bool>,
    interval: Option<String>,
    /// Kustomization.
    source_ref: Option<RawRef>,
    /// HelmRelease: `chart.spec.sourceRef`, or `chartRef`.
    chart: Option<Chart>,
    chart_ref: Option<RawRef>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Chart {
    spec: Option<ChartSpec>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct ChartSpec {
    source_ref: Option<RawRef>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct RawRef {
    kind: String,
    name: String,
    namespace: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct Status {
    observed_generation: Option<i64>,
    conditions: Option<Vec<RawCondition>>,
    last_applied_revision: Option<String>,
    last_attempted_revision: Option<String>,
    last_handled_reconcile_at: Option<String>,
    /// HelmRelease v2: the releases it made, newest first.
    history: Option<Vec<Snapshot>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct Snapshot {
    chart_name: Option<String>,
    chart_version: Option<String>,
}

impl Reconciled {
    fn project(self, m: &meta::ObjectMeta, keep: &Keep) -> FluxFacts {
        let spec = self.spec.unwrap_or_default();
        let status = self.status.unwrap_or_default();
        let conditions = status.conditions.unwrap_or_default();
        let ready = ready_condition(&conditions);
        let own_ns = m.namespace.clone().unwrap_or_default();
        let source = spec
            .source_ref
            .or(spec.chart.and_then(|c| c.spec).and_then(|s| s.source_ref))
            .or(spec.chart_ref)
            .map(|r| SourceRef {
                kind: r.kind,
                namespace: r.namespace.unwrap_or_else(|| own_ns.clone()),
                name: r.name,
            })
            .unwrap_or_default();
        let helm_applied = status
            .history
            .and_then(|h| h.into_iter().next())
            .and_then(|s| Some(format!("{}@{}", s.chart_name?, s.chart_version?)));
        FluxFacts {
            meta: object_meta(m, keep),
            suspend: spec.suspend.unwrap_or(false),
            source,
            interval: spec.interval.unwrap_or_default(),
            ready: ready.map_or(Ready::Unknown, |c| Ready::parse(&c.status)),
            ready_reason: ready.and_then(|c| c.reason.clone()).unwrap_or_default(),
            ready_message: Untrusted::new(
                ready.and_then(|c| c.message.clone()).unwrap_or_default(),
            ),
            ready_since: ready.and_then(|c| time(c.last_transition_time.as_deref())),
            last_applied_revision: status
                .last_applied_revision
                .or(helm_applied)
                .unwrap_or_default(),
            last_attempted_revision: status.last_attempted_revision.unwrap_or_default(),
            requested_at: m
                .annotations
                .as_ref()
                .and_then(|a| a.get(REQUESTED_AT))
                .cloned(),
            last_handled_reconcile_at: status.last_handled_reconcile_at,
            observed_generation: status.observed_generation,
        }
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Source {
    spec: Option<SourceSpec>,
    status: Option<SourceStatus>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct SourceSpec {
    url: Option<String>,
    suspend: Option<bool>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct SourceStatus {
    conditions: Option<Vec<RawCondition>>,
    artifact: Option<Artifact>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Artifact {
    revision: Option<String>,
}
