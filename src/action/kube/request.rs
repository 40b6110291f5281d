//! One `ApiCall` on the wire: PATCH through `Api<DynamicObject>` (status subresource via
//! `patch_status`), undo as a resourceVersion-tested JSON Patch built from the chosen
//! ReplicaSet; loadtester posts go to `loadtester` (checked, then posted).

use kube::api::{Api, ApiResource, DynamicObject, Patch, PatchParams};
use serde_json::Value;

use super::loadtester;
use super::outcome::from_error;
use super::rollback::{self, Owner, Rollback};
use super::target::changed_fields;
use crate::core::action::{ApiCall, PatchType, Resource};
use crate::core::kinds::{self, Kind};
use crate::core::msg::Outcome;

pub const FIELD_MANAGER: &str = "shipdeck";

/// A call the server accepted (or that needed no request).
#[derive(Debug, Clone, PartialEq)]
pub struct Sent {
    pub status: u16,
    pub summary: String,
    /// True when nothing went on the wire (undo already at that revision).
    pub nothing_sent: bool,
    /// The object's resourceVersion after the write (what a later call of the plan on the
    /// same object must carry); None for calls that return no object.
    pub resource_version: Option<String>,
}

/// The owner shape for undo; None for a kind whose undo is not a template write-back.
fn owner_of(plural: &str) -> Option<Owner> {
    match Kind::by_plural(plural) {
        Some(Kind::Deployment) => Some(Owner::Deployment),
        Some(Kind::Rollout) => Some(Owner::Rollout),
        Some(_) | None => None, // no ReplicaSet template to go back to
    }
}

/// The kube-rs address of a resource, its `kind` from the kind catalogue.
pub fn api_resource(r: &Resource) -> ApiResource {
    let api_version = if r.group.is_empty() {
        r.version.to_string()
    } else {
        format!("{}/{}", r.group, r.version)
    };
    let kind = Kind::by_plural(r.plural).map_or("", |k| k.api().name);
    ApiResource {
        group: r.group.to_string(),
        version: r.version.to_string(),
        api_version,
        kind: kind.to_string(),
        plural: r.plural.to_string(),
    }
}

fn params(dry_run: bool) -> PatchParams {
    let pp = PatchParams {
        field_manager: Some(FIELD_MANAGER.to_string()),
        ..PatchParams::default()
    };
    if dry_run { pp.dry_run() } else { pp }
}

/// Send one call (with `dryRun=All` when `dry_run`; a loadtester post is then checked, not
/// posted). `loadtester` is the cluster's configured one. Err carries the outcome to report.
pub async fn send(
    client: &kube::Client,
    call: &ApiCall,
    dry_run: bool,
    loadtester: Option<&str>,
) -> Result<Sent, Outcome> {
    match call {
        ApiCall::Patch {
            resource,
            namespace,
            name,
            patch_type,
            body,
        } => {
            let answer = patch(
                client,
                resource,
                namespace,
                name,
                *patch_type,
                body,
                dry_run,
            )
            .await?;
            Ok(applied(body, &answer))
        }
        ApiCall::RollbackTo { .. } => rollback_to(client, call, dry_run).await,
        ApiCall::LoadtesterPost {
            to,
            path,
            body,
            canary,
        } => loadtester::post(client, (to, path, body, canary), loadtester, dry_run).await,
    }
}

/// The owner is still at the resourceVersion the user saw (else a conflict, nothing sent).
fn unchanged(target: &Value, resource_version: &str, name: &str) -> Result<(), Outcome> {
    let seen_now = target
        .pointer("/metadata/resourceVersion")
        .and_then(Value::as_str);
    if seen_now == Some(resource_version) {
        return Ok(());
    }
    Err(Outcome::Conflict {
        status: 409,
        detail: format!(
            "{name} is at resourceVersion {} but you saw {resource_version} (found on read; nothing sent)",
            seen_now.unwrap_or("?")
        ),
    })
}

/// Undo: read the owner and the chosen ReplicaSet, check the resourceVersion the user saw,
/// then write the ReplicaSet's template back (a JSON Patch that tests it again).
async fn rollback_to(
    client: &kube::Client,
    call: &ApiCall,
    dry_run: bool,
) -> Result<Sent, Outcome> {
    let ApiCall::RollbackTo {
        resource,
        namespace,
        name,
        replicaset,
        revision,
        resource_version,
    } = call
    else {
        return Err(Outcome::Rejected {
            status: 0,
            detail: "not sent: not an undo".into(),
        });
    };
    let Some(owner) = owner_of(resource.plural) else {
        return Err(Outcome::Rejected {
            status: 0,
            detail: format!("not sent: undo is not built for {}", resource.rbac()),
        });
    };
    let target = get(client, &api_resource(resource), namespace, name).await?;
    let rs_resource = api_resource(&kinds::request::resource(Kind::ReplicaSet, None));
    let rs = get(client, &rs_resource, namespace, replicaset).await?;
    unchanged(&target, resource_version, name)?;
    match rollback::build(owner, &target, &rs, resource_version, *revision) {
        Ok(Rollback::AlreadyAtRevision) => Ok(Sent {
            status: 200,
            summary: format!(
                "already at that revision ({revision}, ReplicaSet {replicaset}): nothing sent"
            ),
            nothing_sent: true,
            resource_version: Some(resource_version.clone()),
        }),
        Ok(Rollback::Patch(ops)) => {
            let answer = patch(
                client,
                resource,
                namespace,
                name,
                PatchType::Json,
                &ops,
                dry_run,
            )
            .await?;
            let rv = rv_of(&answer);
            Ok(Sent {
                status: 200,
                summary: format!(
                    "template of revision {revision} ({replicaset}) written back; images {}; resourceVersion {}",
                    images(&answer),
                    rv.as_deref().unwrap_or("?")
                ),
                nothing_sent: false,
                resource_version: rv,
            })
        }
        Err(
            e @ (rollback::RollbackError::NotOwned { .. }
            | rollback::RollbackError::RevisionMoved { .. }),
        ) => Err(Outcome::Conflict {
            status: 409,
            detail: format!("{e} (nothing sent)"),
        }),
        Err(e) => Err(Outcome::Rejected {
            status: 0,
            detail: format!("not sent: {e}"),
        }),
    }
}

fn rv_of(obj: &Value) -> Option<String> {
    obj.pointer("/metadata/resourceVersion")
        .and_then(Value::as_str)
        .map(str::to_string)
}

fn applied(body: &Value, answer: &Value) -> Sent {
    let rv = rv_of(answer);
    let shown = rv.as_deref().unwrap_or("?");
    let fields = changed_fields(body, answer);
    Sent {
        status: 200,
        summary: if fields.is_empty() {
            format!("resourceVersion {shown}")
        } else {
            format!("{fields}; resourceVersion {shown}")
        },
        nothing_sent: false,
        resource_version: rv,
    }
}

fn images(obj: &Value) -> String {
    obj.pointer("/spec/template/spec/containers")
        .and_then(Value::as_array)
        .map(|cs| {
            cs.iter()
                .filter_map(|c| c.get("image").and_then(Value::as_str))
                .collect::<Vec<_>>()
                .join(",")
        })
        .unwrap_or_default()
}

pub(crate) async fn get(
    client: &kube::Client,
    ar: &ApiResource,
    namespace: &str,
    name: &str,
) -> Result<Value, Outcome> {
    let api: Api<DynamicObject> = Api::namespaced_with(client.clone(), namespace, ar);
    let obj = api.get(name).await.map_err(|e| match from_error(&e) {
        // A failed read sent nothing: the outcome is known.
        Outcome::Unknown { detail } => Outcome::Rejected {
            status: 0,
            detail: format!("not sent: could not read {}/{name}: {detail}", ar.plural),
        },
        other => other,
    })?;
    serde_json::to_value(obj).map_err(|e| Outcome::Rejected {
        status: 0,
        detail: format!("not sent: {e}"),
    })
}

async fn patch(
    client: &kube::Client,
    resource: &Resource,
    namespace: &str,
    name: &str,
    patch_type: PatchType,
    body: &Value,
    dry_run: bool,
) -> Result<Value, Outcome> {
    let api: Api<DynamicObject> =
        Api::namespaced_with(client.clone(), namespace, &api_resource(resource));
    let pp = params(dry_run);
    let patch: Patch<&Value> =
        match patch_type {
            PatchType::Merge => Patch::Merge(body),
            PatchType::Json => Patch::Json(serde_json::from_value(body.clone()).map_err(|e| {
                Outcome::Rejected {
                    status: 0,
                    detail: format!("not sent: invalid JSON patch: {e}"),
                }
            })?),
        };
    let result = match resource.subresource {
        None => api.patch(name, &pp, &patch).await,
        Some("status") => api.patch_status(name, &pp, &patch).await,
        Some(sub) => api.patch_subresource(sub, name, &pp, &patch).await,
    };
    match result {
        Ok(obj) => Ok(serde_json::to_value(obj).unwrap_or(Value::Null)),
        Err(e) => Err(match (from_error(&e), tested_rv(patch_type, body)) {
            (
                Outcome::Rejected {
                    status: 422,
                    detail,
                },
                Some(tested),
            ) => failed_test(client, resource, namespace, name, tested, detail).await,
            (outcome, _) => outcome,
        }),
    }
}

/// The resourceVersion a JSON patch tests, if it does.
fn tested_rv(patch_type: PatchType, body: &Value) -> Option<&str> {
    if patch_type != PatchType::Json {
        return None;
    }
    body.as_array()?.iter().find_map(|op| {
        let is_test = op.get("op").and_then(Value::as_str) == Some("test")
            && op.get("path").and_then(Value::as_str) == Some("/metadata/resourceVersion");
        if is_test {
            op.get("value").and_then(Value::as_str)
        } else {
            None
        }
    })
}

/// A 422 on a JSON patch with a resourceVersion test: the API server does not say which op
/// failed, so read the object (a read, not a retry) — moved on means the test failed.
async fn failed_test(
    client: &kube::Client,
    resource: &Resource,
    namespace: &str,
    name: &str,
    tested: &str,
    detail: String,
) -> Outcome {
    let plain = Resource {
        subresource: None,
        ..resource.clone()
    };
    match get(client, &api_resource(&plain), namespace, name).await {
        Ok(now) => match now
            .pointer("/metadata/resourceVersion")
            .and_then(Value::as_str)
        {
            Some(rv) if rv != tested => Outcome::Conflict {
                status: 422,
                detail: format!(
                    "{name} is at resourceVersion {rv}, the action was for {tested} (JSON patch test failed; nothing applied)"
                ),
            },
            _ => Outcome::Rejected {
                status: 422,
                detail,
            },
        },
        Err(_) => Outcome::Rejected {
            status: 422,
            detail: format!("{detail} (could not re-read {name} to tell whether it changed)"),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::action::{CANARIES, ROLLOUTS_STATUS};
    use serde_json::json;

    #[test]
    fn api_resources_from_consts() {
        let ar = api_resource(&ROLLOUTS_STATUS);
        assert_eq!(ar.api_version, "argoproj.io/v1alpha1");
        assert_eq!(ar.plural, "rollouts");
        assert_eq!(ar.kind, "Rollout");
        assert_eq!(api_resource(&CANARIES).kind, "Canary");
        let pp = params(true);
        assert!(pp.dry_run);
        assert_eq!(pp.field_manager.as_deref(), Some("shipdeck"));
    }

    #[test]
    fn the_tested_resource_version_is_found() {
        let ops = json!([{"op": "test", "path": "/metadata/resourceVersion", "value": "41"}]);
        assert_eq!(tested_rv(PatchType::Json, &ops), Some("41"));
        assert_eq!(tested_rv(PatchType::Merge, &ops), None);
        let other = json!([{"op": "test", "path": "/status/currentStepIndex", "value": 1}]);
        assert_eq!(tested_rv(PatchType::Json, &other), None);
    }

    #[test]
    fn undo_ops_deserialize_into_a_json_patch() {
        let ops = json!([
            {"op": "test", "path": "/metadata/resourceVersion", "value": "41"},
            {"op": "replace", "path": "/spec/template", "value": {"metadata": {}}}
        ]);
        let patch: kube::api::Patch<()> = Patch::Json(serde_json::from_value(ops.clone()).unwrap());
        let kube::api::Patch::Json(p) = patch else {
            panic!()
        };
        assert_eq!(serde_json::to_value(p).unwrap(), ops);
    }
}
