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

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::core::action::{ActionKind, ApiCall};
    use crate::core::kinds::{self, ReleaseKind};
    use crate::core::model::Phase;
    use crate::core::status::Ctx;
    use crate::core::testkit::t;
    use crate::source::kube::project::{Projected, from_value};

    fn ctx() -> Ctx<'static> {
        Ctx {
            cluster: "a",
            service_label: "app.kubernetes.io/name",
            service_override: None,
        }
    }

    /// A Kustomization as kustomize-controller v1.9 writes it after applying a commit.
    fn kustomization_json(suspend: bool, ready: &str) -> serde_json::Value {
        json!({
            "apiVersion": "kustomize.toolkit.fluxcd.io/v1",
            "kind": "Kustomization",
            "metadata": {"name": "apps", "namespace": "flux-system", "uid": "u1",
                         "resourceVersion": "41", "generation": 2,
                         "annotations": {"reconcile.fluxcd.io/requestedAt": "2026-12-02T04:00:00.5Z"},
                         "managedFields": [{"manager": "kustomize-controller"}]},
            "spec": {"interval": "5m", "path": "./apps", "prune": true, "suspend": suspend,
                     "sourceRef": {"kind": "GitRepository", "name": "fleet"}},
            "status": {
                "observedGeneration": 2,
                "lastAppliedRevision": "main@sha1:0123abcd",
                "lastAttemptedRevision": "main@sha1:0123abcd",
                "lastHandledReconcileAt": "2026-12-02T04:00:00.5Z",
                "conditions": [{"type": "Ready", "status": ready, "reason": "ReconciliationSucceeded",
                                "message": "Applied revision: main@sha1:0123abcd",
                                "lastTransitionTime": "2026-12-02T04:00:01Z"}]
            }
        })
    }

    fn project(v: serde_json::Value) -> ObjectFacts {
        match from_value(v, &Keep::default()) {
            Ok(Projected::Object(o)) => o,
            other => panic!("not projected: {other:?}"),
        }
    }

    #[test]
    fn a_kustomization_shows_ready_revision_source_and_its_handled_request() {
        let ObjectFacts::Kustomization(k) = project(kustomization_json(false, "True")) else {
            panic!("a Kustomization")
        };
        assert_eq!(k.ready, Ready::True);
        assert_eq!(k.last_applied_revision, "main@sha1:0123abcd");
        assert_eq!(k.source.describe(), "GitRepository/flux-system/fleet");
        assert_eq!(k.requested_at, k.last_handled_reconcile_at);
        assert!(!k.reconciling());
        let r = kinds::kustomization::derive(&ctx(), &k);
        assert_eq!(
            (r.key.kind, r.phase),
            (ReleaseKind::Kustomization, Phase::Healthy)
        );
        assert_eq!(
            r.message.raw(),
            "Ready=True: Applied revision: main@sha1:0123abcd · rev main@sha1:0123abcd · from GitRepository/flux-system/fleet"
        );
    }

    #[test]
    fn suspended_is_paused_by_hand_and_refuses_reconcile_with_the_reason() {
        let ObjectFacts::Kustomization(k) = project(kustomization_json(true, "True")) else {
            panic!("a Kustomization")
        };
        let r = kinds::kustomization::derive(&ctx(), &k);
        assert_eq!(r.phase, Phase::Paused);
        assert!(r.message.raw().starts_with("suspended · "));
        let why = kinds::applicable(ActionKind::Sync, &r)
            .unwrap_err()
            .to_string();
        assert!(why.contains("suspended"), "{why}");
        assert!(kinds::applicable(ActionKind::Pause, &r).is_err());
        assert!(kinds::applicable(ActionKind::Resume, &r).is_ok());
        assert_eq!(
            kinds::applicable(ActionKind::Abort, &r)
                .unwrap_err()
                .to_string(),
            "not available for Flux Kustomizations"
        );
    }

    #[test]
    fn the_patches_are_the_flux_clis_with_a_resource_version() {
        let ObjectFacts::Kustomization(k) = project(kustomization_json(false, "True")) else {
            panic!("a Kustomization")
        };
        let r = kinds::kustomization::derive(&ctx(), &k);
        let body = |action| match kinds::calls(action, &r, t(0)).as_slice() {
            [ApiCall::Patch { body, resource, .. }] => {
                assert_eq!(resource.plural, "kustomizations");
                body.clone()
            }
            other => panic!("one patch: {other:?}"),
        };
        assert_eq!(
            body(ActionKind::Pause),
            json!({"metadata": {"resourceVersion": "41"}, "spec": {"suspend": true}})
        );
        assert_eq!(
            body(ActionKind::Sync),
            json!({"metadata": {"resourceVersion": "41",
                   "annotations": {"reconcile.fluxcd.io/requestedAt": t(0).to_string()}}})
        );
    }

    #[test]
    fn a_reconcile_requested_and_not_yet_handled_is_progressing() {
        let mut v = kustomization_json(false, "True");
        v["metadata"]["annotations"]["reconcile.fluxcd.io/requestedAt"] = json!("later");
        let ObjectFacts::Kustomization(k) = project(v) else {
            panic!("a Kustomization")
        };
        let r = kinds::kustomization::derive(&ctx(), &k);
        assert_eq!(r.phase, Phase::Progressing);
        assert!(r.message.raw().starts_with("reconcile requested · "));
        // Handled, but Ready not decided again yet: still progressing.
        let mut v = kustomization_json(false, "Unknown");
        v["status"]["conditions"][0]["reason"] = json!("Progressing");
        let ObjectFacts::Kustomization(k) = project(v) else {
            panic!("a Kustomization")
        };
        assert_eq!(
            kinds::kustomization::derive(&ctx(), &k).phase,
            Phase::Progressing
        );
        // Failed.
        let ObjectFacts::Kustomization(k) = project(kustomization_json(false, "False")) else {
            panic!("a Kustomization")
        };
        assert_eq!(
            kinds::kustomization::derive(&ctx(), &k).phase,
            Phase::Degraded
        );
    }

    /// A HelmRelease as helm-controller v1 (API v2) writes it: the chart from a
    /// HelmRepository, the release history newest first.
    #[test]
    fn a_helm_release_fixture_shows_its_chart_version_and_source() {
        let v = json!({
            "apiVersion": "helm.toolkit.fluxcd.io/v2",
            "kind": "HelmRelease",
            "metadata": {"name": "podinfo", "namespace": "apps", "uid": "h1", "resourceVersion": "9",
                         "generation": 1},
            "spec": {"interval": "10m", "chart": {"spec": {"chart": "podinfo", "version": "6.x",
                     "sourceRef": {"kind": "HelmRepository", "name": "podinfo", "namespace": "flux-system"}}}},
            "status": {"observedGeneration": 1, "lastAttemptedRevision": "6.7.1",
                       "history": [{"chartName": "podinfo", "chartVersion": "6.7.1", "status": "deployed"},
                                   {"chartName": "podinfo", "chartVersion": "6.7.0", "status": "superseded"}],
                       "conditions": [{"type": "Ready", "status": "False", "reason": "UpgradeFailed",
                                       "message": "Helm upgrade failed: timed out waiting for the condition"}]}
        });
        let ObjectFacts::HelmRelease(h) = project(v) else {
            panic!("a HelmRelease")
        };
        assert_eq!(h.last_applied_revision, "podinfo@6.7.1");
        assert_eq!(h.source.describe(), "HelmRepository/flux-system/podinfo");
        let r = kinds::helmrelease::derive(&ctx(), &h);
        assert_eq!(
            (r.key.kind, r.phase),
            (ReleaseKind::HelmRelease, Phase::Degraded)
        );
        assert!(
            r.message.raw().contains("Helm upgrade failed"),
            "{}",
            r.message.raw()
        );
        match kinds::calls(ActionKind::Resume, &r, t(0)).as_slice() {
            [ApiCall::Patch { resource, body, .. }] => {
                assert_eq!(resource.plural, "helmreleases");
                assert_eq!(body["spec"], json!({"suspend": false}));
            }
            other => panic!("one patch: {other:?}"),
        }
        // chartRef (an OCIRepository) is read as the source too.
        let v = json!({"apiVersion": "helm.toolkit.fluxcd.io/v2", "kind": "HelmRelease",
                       "metadata": {"name": "x", "namespace": "apps"},
                       "spec": {"chartRef": {"kind": "OCIRepository", "name": "x-chart"}}});
        let ObjectFacts::HelmRelease(h) = project(v) else {
            panic!("a HelmRelease")
        };
        assert_eq!(h.source.describe(), "OCIRepository/apps/x-chart");
        assert_eq!(h.ready, Ready::Unknown);
    }

    #[test]
    fn a_malformed_flux_object_is_unparseable_not_fatal() {
        let v = json!({"apiVersion": "kustomize.toolkit.fluxcd.io/v1", "kind": "Kustomization",
                       "metadata": {"name": "bad", "namespace": "x"}, "spec": {"suspend": "yes"}});
        assert!(matches!(project(v), ObjectFacts::Unparseable(_)));
        let v = json!({"apiVersion": "kustomize.toolkit.fluxcd.io/v1beta2", "kind": "Kustomization",
                       "metadata": {"name": "old", "namespace": "x"}});
        assert!(matches!(project(v), ObjectFacts::Unparseable(_)));
    }

    #[test]
    fn sources_give_ready_and_the_artifact_revision() {
        let v = json!({"apiVersion": "source.toolkit.fluxcd.io/v1", "kind": "GitRepository",
                       "metadata": {"name": "fleet", "namespace": "flux-system"},
                       "spec": {"url": "http://127.0.0.1:9/fleet.git\u{1b}[2J", "interval": "1m"},
                       "status": {"artifact": {"revision": "main@sha1:0123abcd"},
                                  "conditions": [{"type": "Ready", "status": "True", "message": "stored artifact"}]}});
        let s = flux_source(&v).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            s.summary(),
            "GitRepository flux-system/fleet Ready=True rev main@sha1:0123abcd"
        );
        assert!(
            s.url.shown().contains("\\x1b"),
            "escaped when shown: {}",
            s.url.shown()
        );
        let v = json!({"apiVersion": "source.toolkit.fluxcd.io/v1", "kind": "OCIRepository",
                       "metadata": {"name": "x", "namespace": "apps"},
                       "status": {"conditions": [{"type": "Ready", "status": "False", "message": "pull failed"}]}});
        let s = flux_source(&v).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(s.summary(), "OCIRepository apps/x Ready=False: pull failed");
        // From files, a source is not a row.
        assert!(matches!(
            from_value(v, &Keep::default()),
            Ok(Projected::Ignored)
        ));
    }
}
