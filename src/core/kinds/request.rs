//! Request building shared by the kind modules: the API resource of a kind (from the
//! catalogue), a merge patch carrying the resourceVersion precondition, undo to a chosen
//! ReplicaSet, timestamps as the controllers write them. Pure; no IO.

use jiff::Timestamp;
use serde_json::{Value, json};

use super::Kind;
use crate::core::action::{ApiCall, PatchType, Resource};
use crate::core::model::Release;

/// The API resource (and optional subresource) of `kind`, from its catalogue row.
pub const fn resource(kind: Kind, subresource: Option<&'static str>) -> Resource {
    let api = kind.api();
    Resource {
        group: api.group,
        version: api.version,
        plural: api.plural,
        subresource,
    }
}

/// A merge patch on `r` whose body carries `metadata.resourceVersion`: the write applies
/// only to the version the user saw.
pub fn merge(resource: Resource, r: &Release, body: Value) -> ApiCall {
    let mut body = body;
    if let Some(obj) = body.as_object_mut() {
        obj.insert(
            "metadata".into(),
            json!({ "resourceVersion": r.resource_version }),
        );
    }
    ApiCall::Patch {
        resource,
        namespace: r.key.namespace.clone(),
        name: r.key.name.clone(),
        patch_type: PatchType::Merge,
        body,
    }
}

/// A later call of a plan on the object an earlier call just wrote: the merge patch's
/// `metadata.resourceVersion` becomes `written` (the version that write produced), so the
/// call applies only if nothing changed the object in between — else the API server answers
/// 409 and nothing more is written. Calls on another object, or without a resourceVersion
/// in their body, are returned as they are.
pub fn after_write(call: &ApiCall, previous: &ApiCall, written: &str) -> ApiCall {
    match (call, previous) {
        (
            ApiCall::Patch {
                resource,
                namespace,
                name,
                patch_type: PatchType::Merge,
                body,
            },
            ApiCall::Patch {
                resource: prev,
                namespace: prev_ns,
                name: prev_name,
                ..
            },
        ) if resource.plural == prev.plural
            && resource.group == prev.group
            && namespace == prev_ns
            && name == prev_name
            && body.pointer("/metadata/resourceVersion").is_some() =>
        {
            let mut body = body.clone();
            if let Some(meta) = body.get_mut("metadata").and_then(Value::as_object_mut) {
                meta.insert("resourceVersion".into(), Value::String(written.into()));
            }
            ApiCall::Patch {
                resource: resource.clone(),
                namespace: namespace.clone(),
                name: name.clone(),
                patch_type: PatchType::Merge,
                body,
            }
        }
        _ => call.clone(),
    }
}

/// Undo to the previous revision's ReplicaSet, when there is one.
pub fn undo(resource: Resource, r: &Release) -> Vec<ApiCall> {
    match &r.facts.undo_target {
        Some((rs, revision)) => vec![ApiCall::RollbackTo {
            resource,
            namespace: r.key.namespace.clone(),
            name: r.key.name.clone(),
            replicaset: rs.clone(),
            revision: *revision,
            resource_version: r.resource_version.clone(),
        }],
        None => Vec::new(),
    }
}

/// RFC 3339 to the second, as `kubectl` writes restart stamps.
pub fn rfc3339(now: Timestamp) -> String {
    now.strftime("%Y-%m-%dT%H:%M:%SZ").to_string()
}
