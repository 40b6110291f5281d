//! argoproj.io/v1alpha1 Application → `ApplicationFacts` (field names from Argo CD's
//! pkg/apis/application/v1alpha1/types.go). Argo CD reports sync, health and the operation
//! itself; they are copied raw.

use k8s_openapi::apimachinery::pkg::apis::meta::v1 as meta;
use serde::Deserialize;
use serde_json::Value;

use super::common::{Keep, object_meta, read_body, time};
use crate::core::facts::ObjectFacts;
use crate::core::kinds::application::{
    AUTOMATED_BEFORE, AppResource, ApplicationFacts, HistoryEntry,
};
use crate::core::text::Untrusted;

pub fn application(m: &meta::ObjectMeta, body: &Value, keep: &Keep) -> ObjectFacts {
    match read_body::<Application>("Application", m, body) {
        Ok(a) => ObjectFacts::Application(a.project(m, keep)),
        Err(u) => ObjectFacts::Unparseable(u),
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Application {
    spec: Option<Spec>,
    operation: Option<Value>,
    status: Option<Status>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct Spec {
    source: Option<Value>,
    destination: Option<Destination>,
    sync_policy: Option<SyncPolicy>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Destination {
    namespace: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct SyncPolicy {
    automated: Option<Value>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct Status {
    sync: Option<SyncStatus>,
    health: Option<Health>,
    operation_state: Option<OperationState>,
    history: Option<Vec<History>>,
    resources: Option<Vec<Resource>>,
    reconciled_at: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct SyncStatus {
    status: Option<String>,
    revision: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Health {
    status: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct OperationState {
    phase: Option<String>,
    message: Option<String>,
    started_at: Option<String>,
    finished_at: Option<String>,
    sync_result: Option<SyncResult>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct SyncResult {
    revision: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct History {
    id: Option<i64>,
    revision: Option<String>,
    deployed_at: Option<String>,
    deploy_started_at: Option<String>,
    initiated_by: Option<Initiator>,
    source: Option<Value>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Initiator {
    username: Option<String>,
    automated: Option<bool>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Resource {
    group: Option<String>,
    kind: Option<String>,
    namespace: Option<String>,
    name: Option<String>,
}

fn text(v: Option<&Value>) -> String {
    v.and_then(Value::as_str).unwrap_or_default().to_string()
}

impl Application {
    fn project(self, m: &meta::ObjectMeta, keep: &Keep) -> ApplicationFacts {
        let spec = self.spec.unwrap_or_default();
        let status = self.status.unwrap_or_default();
        let source = spec.source.unwrap_or(Value::Null);
        let automated = spec
            .sync_policy
            .and_then(|p| p.automated)
            .filter(|a| !a.is_null());
        let flag = |k: &str| {
            automated
                .as_ref()
                .and_then(|a| a.get(k))
                .and_then(Value::as_bool)
                .unwrap_or(false)
        };
        let sync = status.sync.unwrap_or_default();
        let op = status.operation_state.unwrap_or_default();
        let automated_before = m
            .annotations
            .as_ref()
            .and_then(|a| a.get(AUTOMATED_BEFORE))
            .and_then(|s| serde_json::from_str::<Value>(s).ok())
            .filter(|v| v.is_object());
        ApplicationFacts {
            meta: object_meta(m, keep),
            repo_url: Untrusted::new(text(source.get("repoURL"))),
            path: Untrusted::new(text(source.get("path"))),
            target_revision: text(source.get("targetRevision")),
            dest_namespace: spec
                .destination
                .and_then(|d| d.namespace)
                .unwrap_or_default(),
            self_heal: flag("selfHeal"),
            prune: flag("prune"),
            automated,
            source,
            sync_status: sync.status.unwrap_or_default(),
            sync_revision: sync.revision.unwrap_or_default(),
            health: status.health.and_then(|h| h.status).unwrap_or_default(),
            operation_requested: self.operation.is_some_and(|o| !o.is_null()),
            op_phase: op.phase.unwrap_or_default(),
            op_message: Untrusted::new(op.message.unwrap_or_default()),
            op_started: time(op.started_at.as_deref()),
            op_finished: time(op.finished_at.as_deref()),
            synced_revision: op.sync_result.and_then(|r| r.revision).unwrap_or_default(),
            history: status
                .history
                .into_iter()
                .flatten()
                .map(|h| HistoryEntry {
                    id: h.id.unwrap_or(0),
                    revision: h.revision.unwrap_or_default(),
                    deployed_at: time(h.deployed_at.as_deref()),
                    deploy_started_at: time(h.deploy_started_at.as_deref()),
                    initiated_by: Untrusted::new(match h.initiated_by {
                        Some(Initiator {
                            username: Some(u), ..
                        }) if !u.is_empty() => u,
                        Some(Initiator {
                            automated: Some(true),
                            ..
                        }) => "automated".to_string(),
                        _ => String::new(),
                    }),
                    source: h.source.unwrap_or(Value::Null),
                })
                .collect(),
            resources: status
                .resources
                .into_iter()
                .flatten()
                .map(|r| AppResource {
                    group: r.group.unwrap_or_default(),
                    kind: r.kind.unwrap_or_default(),
                    namespace: r.namespace.unwrap_or_default(),
                    name: r.name.unwrap_or_default(),
                })
                .collect(),
            automated_before,
            reconciled_at: time(status.reconciled_at.as_deref()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn application_as_argo_cd_writes_it() {
        let body = serde_json::json!({
            "spec": {
                "source": {"repoURL": "file:///git/app", "path": "app", "targetRevision": "HEAD"},
                "destination": {"server": "https://kubernetes.default.svc", "namespace": "web"},
                "syncPolicy": {"automated": {"prune": true, "selfHeal": true}},
            },
            "status": {
                "sync": {"status": "OutOfSync", "revision": "bbbbbbb1234"},
                "health": {"status": "Suspended"},
                "operationState": {"phase": "Running", "message": "waiting for healthy state",
                                   "startedAt": "2026-01-01T00:00:00Z",
                                   "syncResult": {"revision": "aaaaaaa1234"}},
                "history": [
                    {"id": 0, "revision": "aaaaaaa1234", "initiatedBy": {"automated": true},
                     "source": {"repoURL": "file:///git/app", "path": "app"}},
                    {"id": 1, "revision": "bbbbbbb1234", "initiatedBy": {"username": "alice"}},
                ],
                "resources": [{"group": "apps", "kind": "Deployment", "namespace": "web", "name": "api"}],
            },
        });
        let m = meta::ObjectMeta {
            name: Some("api".into()),
            namespace: Some("argocd".into()),
            ..meta::ObjectMeta::default()
        };
        let ObjectFacts::Application(a) = application(&m, &body, &Keep::default()) else {
            panic!("not projected: {body}")
        };
        assert_eq!(a.state(), "OutOfSync / Suspended");
        assert!(a.automated_on() && a.self_heal && a.prune);
        assert_eq!(a.op_phase, "Running");
        assert!(a.operation_running());
        assert_eq!(a.dest_namespace, "web");
        assert_eq!(a.synced_revision, "aaaaaaa1234");
        assert_eq!(a.history.len(), 2);
        assert_eq!(a.history[0].initiated_by.raw(), "automated");
        assert_eq!(a.history[1].initiated_by.raw(), "alice");
        assert_eq!(a.rollback_target().map(|h| h.id), Some(0));
        assert!(a.manages("apps", "Deployment", "web", "api"));
        assert!(!a.manages("apps", "Deployment", "web", "other"));
    }

    #[test]
    fn a_broken_application_is_unparseable_not_a_panic() {
        let body = serde_json::json!({"spec": {"syncPolicy": "not an object"}});
        let m = meta::ObjectMeta {
            name: Some("x".into()),
            ..meta::ObjectMeta::default()
        };
        assert!(matches!(
            application(&m, &body, &Keep::default()),
            ObjectFacts::Unparseable(_)
        ));
    }
}
