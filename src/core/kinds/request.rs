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

/// The same patch without its precondition (for a patch that follows one that moved the
/// resourceVersion on).
pub fn strip_rv(call: ApiCall) -> ApiCall {
    match call {
        ApiCall::Patch {
            resource,
            namespace,
            name,
            patch_type,
            mut body,
        } => {
            if let Some(obj) = body.as_object_mut() {
                obj.remove("metadata");
            }
            ApiCall::Patch {
                resource,
                namespace,
                name,
                patch_type,
                body,
            }
        }
        other => other,
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
