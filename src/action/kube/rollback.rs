//! Undo as a JSON Patch: the pod template of a chosen ReplicaSet written back into its owner
//! (`kubectl rollout undo` for Deployments, `kubectl argo rollouts undo` for Rollouts), guarded
//! by a `test` of the owner's resourceVersion so it only applies to the version the user saw.
//!
//! Pure functions over the objects as JSON; the target reads the objects and sends the patch.

use std::collections::BTreeMap;

use serde_json::{Map, Value, json};

/// Annotations a Deployment keeps its own values for on undo (kubectl rollback.go).
pub const DEPLOYMENT_KEEP_ANNOTATIONS: [&str; 6] = [
    "kubectl.kubernetes.io/last-applied-configuration",
    "deployment.kubernetes.io/revision",
    "deployment.kubernetes.io/revision-history",
    "deployment.kubernetes.io/desired-replicas",
    "deployment.kubernetes.io/max-replicas",
    "deprecated.deployment.rollback.to",
];

/// Which owner the ReplicaSet's template goes back into.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Owner {
    Deployment,
    Rollout,
}

impl Owner {
    /// The label the owner's controller adds to each ReplicaSet's template.
    pub fn hash_label(self) -> &'static str {
        match self {
            Self::Deployment => "pod-template-hash",
            Self::Rollout => "rollouts-pod-template-hash",
        }
    }

    fn revision_annotation(self) -> &'static str {
        match self {
            Self::Deployment => "deployment.kubernetes.io/revision",
            Self::Rollout => "rollout.argoproj.io/revision",
        }
    }
}

/// What undo will do.
#[derive(Debug, Clone, PartialEq)]
pub enum Rollback {
    /// The owner's template already matches the ReplicaSet's: nothing to send.
    AlreadyAtRevision,
    /// The JSON Patch to send (first op: the resourceVersion test).
    Patch(Value),
}

/// Why undo cannot be built from what was read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RollbackError {
    #[error("ReplicaSet {rs} is not controlled by {owner} (uid {uid})")]
    NotOwned {
        rs: String,
        owner: String,
        uid: String,
    },
    #[error("ReplicaSet {rs} is now revision {now}, you chose revision {chosen}")]
    RevisionMoved {
        rs: String,
        now: String,
        chosen: i64,
    },
    #[error("{0} has no pod template")]
    NoTemplate(String),
    #[error("Rollout {0} takes its template from spec.workloadRef: undo the referenced Deployment")]
    WorkloadRef(String),
}

fn str_at<'a>(v: &'a Value, ptr: &str) -> &'a str {
    v.pointer(ptr).and_then(Value::as_str).unwrap_or("")
}

/// Build the undo for `owner_obj` (the Deployment or Rollout as read now) from `rs` (the
/// chosen ReplicaSet as read now). `seen_rv` is the owner's resourceVersion the user saw and
/// `revision` the revision they chose; both are checked so a stale choice is never applied.
pub fn build(
    owner: Owner,
    owner_obj: &Value,
    rs: &Value,
    seen_rv: &str,
    revision: i64,
) -> Result<Rollback, RollbackError> {
    let name = str_at(owner_obj, "/metadata/name").to_string();
    let rs_name = str_at(rs, "/metadata/name").to_string();
    let uid = str_at(owner_obj, "/metadata/uid");
    let controlled = rs
        .pointer("/metadata/ownerReferences")
        .and_then(Value::as_array)
        .is_some_and(|refs| {
            refs.iter().any(|r| {
                str_at(r, "/uid") == uid
                    && r.get("controller").and_then(Value::as_bool) == Some(true)
            })
        });
    if uid.is_empty() || !controlled {
        return Err(RollbackError::NotOwned {
            rs: rs_name,
            owner: name,
            uid: uid.to_string(),
        });
    }
    let rs_revision = rs
        .pointer("/metadata/annotations")
        .and_then(|a| a.get(owner.revision_annotation()))
        .and_then(Value::as_str)
        .unwrap_or("");
    if rs_revision != revision.to_string() {
        return Err(RollbackError::RevisionMoved {
            rs: rs_name,
            now: rs_revision.to_string(),
            chosen: revision,
        });
    }
    if owner == Owner::Rollout
        && owner_obj
            .pointer("/spec/workloadRef")
            .is_some_and(|w| !w.is_null())
    {
        return Err(RollbackError::WorkloadRef(name));
    }
    let mut template = rs
        .pointer("/spec/template")
        .cloned()
        .ok_or_else(|| RollbackError::NoTemplate(rs_name.clone()))?;
    strip_label(&mut template, owner.hash_label());
    let mut current = owner_obj
        .pointer("/spec/template")
        .cloned()
        .unwrap_or(Value::Null);
    strip_label(&mut current, owner.hash_label());
    // kubectl compares Deployments exactly (both templates are defaulted by the API server);
    // Argo compares a Rollout's sparse template as a derivative of the ReplicaSet's.
    let same = match owner {
        Owner::Deployment => current == template,
        Owner::Rollout => derivative(&current, &template),
    };
    if same {
        return Ok(Rollback::AlreadyAtRevision);
    }
    let mut ops = vec![
        json!({"op": "test", "path": "/metadata/resourceVersion", "value": seen_rv}),
        json!({"op": "replace", "path": "/spec/template", "value": template}),
    ];
    if owner == Owner::Deployment {
        let has = owner_obj
            .pointer("/metadata/annotations")
            .is_some_and(Value::is_object);
        ops.push(json!({
            "op": if has { "replace" } else { "add" },
            "path": "/metadata/annotations",
            "value": deployment_annotations(owner_obj, rs),
        }));
    }
    Ok(Rollback::Patch(Value::Array(ops)))
}

/// The ReplicaSet's annotations, except those the Deployment keeps its own values for.
pub fn deployment_annotations(deployment: &Value, rs: &Value) -> BTreeMap<String, String> {
    let strings = |v: &Value| -> BTreeMap<String, String> {
        v.pointer("/metadata/annotations")
            .and_then(Value::as_object)
            .map(|m| {
                m.iter()
                    .filter_map(|(k, v)| v.as_str().map(|s| (k.clone(), s.to_string())))
                    .collect()
            })
            .unwrap_or_default()
    };
    let own = strings(deployment);
    let mut merged: BTreeMap<String, String> = strings(rs)
        .into_iter()
        .filter(|(k, _)| !DEPLOYMENT_KEEP_ANNOTATIONS.contains(&k.as_str()))
        .collect();
    for key in DEPLOYMENT_KEEP_ANNOTATIONS {
        if let Some(v) = own.get(key) {
            merged.insert(key.to_string(), v.clone());
        }
    }
    merged
}

fn strip_label(template: &mut Value, label: &str) {
    if let Some(labels) = template
        .pointer_mut("/metadata/labels")
        .and_then(Value::as_object_mut)
    {
        labels.remove(label);
    }
}

fn is_unset(v: &Value) -> bool {
    match v {
        Value::Null => true,
        Value::String(s) => s.is_empty(),
        Value::Object(m) => m.is_empty(),
        Value::Array(a) => a.is_empty(),
        _ => false,
    }
}

/// Every field set in `a` has the same value in `b` (fields `a` leaves unset may be defaulted
/// in `b`), like apimachinery's `Semantic.DeepDerivative` but with equal list lengths.
pub fn derivative(a: &Value, b: &Value) -> bool {
    if is_unset(a) {
        return true;
    }
    match (a, b) {
        (Value::Object(ma), Value::Object(mb)) => objects_derivative(ma, mb),
        (Value::Array(xa), Value::Array(xb)) => {
            xa.len() == xb.len() && xa.iter().zip(xb).all(|(x, y)| derivative(x, y))
        }
        _ => a == b,
    }
}

fn objects_derivative(a: &Map<String, Value>, b: &Map<String, Value>) -> bool {
    a.iter().all(|(k, va)| match b.get(k) {
        Some(vb) => derivative(va, vb),
        None => is_unset(va),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn template(image: &str, hash_label: Option<(&str, &str)>) -> Value {
        let mut labels = json!({"app": "web"});
        if let Some((k, v)) = hash_label {
            labels[k] = json!(v);
        }
        json!({
            "metadata": {"labels": labels, "creationTimestamp": null},
            "spec": {"containers": [{"name": "web", "image": image, "imagePullPolicy": "IfNotPresent"}]}
        })
    }

    fn deployment(image: &str) -> Value {
        json!({
            "apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {
                "name": "web", "namespace": "shop", "uid": "dep-uid", "resourceVersion": "41",
                "annotations": {
                    "deployment.kubernetes.io/revision": "2",
                    "kubectl.kubernetes.io/last-applied-configuration": "{\"own\":true}",
                    "team": "payments-now"
                }
            },
            "spec": {"template": template(image, None)}
        })
    }

    fn replicaset(owner_uid: &str, revision: &str, image: &str, hash_label: &str) -> Value {
        json!({
            "apiVersion": "apps/v1", "kind": "ReplicaSet",
            "metadata": {
                "name": "web-abc", "namespace": "shop",
                "ownerReferences": [{"uid": owner_uid, "controller": true, "kind": "Deployment", "name": "web"}],
                "annotations": {
                    "deployment.kubernetes.io/revision": revision,
                    "rollout.argoproj.io/revision": revision,
                    "deployment.kubernetes.io/desired-replicas": "3",
                    "deployment.kubernetes.io/max-replicas": "4",
                    "kubectl.kubernetes.io/last-applied-configuration": "{\"rs\":true}",
                    "team": "payments-then"
                }
            },
            "spec": {"template": template(image, Some((hash_label, "abc")))}
        })
    }

    #[test]
    fn deployment_undo_copies_template_without_hash_and_keeps_own_annotations() {
        let rs = replicaset("dep-uid", "1", "web:1", "pod-template-hash");
        let got = build(Owner::Deployment, &deployment("web:2"), &rs, "41", 1).unwrap();
        let Rollback::Patch(patch) = got else {
            panic!("expected a patch, got {got:?}")
        };
        let ops = patch.as_array().unwrap();
        assert_eq!(ops.len(), 3);
        assert_eq!(
            ops[0],
            json!({"op": "test", "path": "/metadata/resourceVersion", "value": "41"})
        );
        assert_eq!(ops[1]["op"], "replace");
        assert_eq!(ops[1]["path"], "/spec/template");
        assert_eq!(
            ops[1]["value"],
            template("web:1", None),
            "template copied, hash label gone"
        );
        assert_eq!(ops[2]["op"], "replace");
        assert_eq!(ops[2]["path"], "/metadata/annotations");
        assert_eq!(
            ops[2]["value"],
            json!({
                // the Deployment's own revision and last-applied stay
                "deployment.kubernetes.io/revision": "2",
                "kubectl.kubernetes.io/last-applied-configuration": "{\"own\":true}",
                // other annotations come from the ReplicaSet
                "team": "payments-then",
                "rollout.argoproj.io/revision": "1"
            })
        );
    }

    #[test]
    fn deployment_without_annotations_gets_an_add_op() {
        let mut d = deployment("web:2");
        d["metadata"].as_object_mut().unwrap().remove("annotations");
        let rs = replicaset("dep-uid", "1", "web:1", "pod-template-hash");
        let Rollback::Patch(patch) = build(Owner::Deployment, &d, &rs, "41", 1).unwrap() else {
            panic!("expected a patch")
        };
        assert_eq!(patch[2]["op"], "add");
        assert!(
            patch[2]["value"]
                .get("deployment.kubernetes.io/revision")
                .is_none()
        );
    }

    #[test]
    fn rollout_undo_strips_rollouts_hash_and_leaves_annotations_alone() {
        let mut ro = deployment("web:2");
        ro["kind"] = json!("Rollout");
        let rs = replicaset("dep-uid", "3", "web:1", "rollouts-pod-template-hash");
        let Rollback::Patch(patch) = build(Owner::Rollout, &ro, &rs, "41", 3).unwrap() else {
            panic!("expected a patch")
        };
        let ops = patch.as_array().unwrap();
        assert_eq!(ops.len(), 2, "no annotation op for Rollouts: {patch}");
        assert_eq!(ops[1]["value"]["metadata"]["labels"], json!({"app": "web"}));
        assert_eq!(ops[1]["value"]["spec"]["containers"][0]["image"], "web:1");
    }

    #[test]
    fn same_template_is_already_at_revision() {
        let rs = replicaset("dep-uid", "1", "web:2", "pod-template-hash");
        assert_eq!(
            build(Owner::Deployment, &deployment("web:2"), &rs, "41", 1),
            Ok(Rollback::AlreadyAtRevision)
        );
        // A Rollout's sparse template matches the ReplicaSet's defaulted one.
        let mut ro = deployment("web:2");
        ro["spec"]["template"]["spec"]["containers"][0]
            .as_object_mut()
            .unwrap()
            .remove("imagePullPolicy");
        let rs = replicaset("dep-uid", "1", "web:2", "rollouts-pod-template-hash");
        assert_eq!(
            build(Owner::Rollout, &ro, &rs, "41", 1),
            Ok(Rollback::AlreadyAtRevision)
        );
    }

    #[test]
    fn stale_choices_are_refused() {
        let d = deployment("web:2");
        let foreign = replicaset("other-uid", "1", "web:1", "pod-template-hash");
        assert!(matches!(
            build(Owner::Deployment, &d, &foreign, "41", 1),
            Err(RollbackError::NotOwned { .. })
        ));
        let moved = replicaset("dep-uid", "5", "web:1", "pod-template-hash");
        assert!(matches!(
            build(Owner::Deployment, &d, &moved, "41", 1),
            Err(RollbackError::RevisionMoved { .. })
        ));
        let mut ro = d.clone();
        ro["spec"]["workloadRef"] = json!({"kind": "Deployment", "name": "web"});
        let rs = replicaset("dep-uid", "1", "web:1", "rollouts-pod-template-hash");
        assert!(matches!(
            build(Owner::Rollout, &ro, &rs, "41", 1),
            Err(RollbackError::WorkloadRef(_))
        ));
    }

    #[test]
    fn derivative_ignores_unset_fields_only() {
        assert!(derivative(
            &json!({"a": 1, "b": ""}),
            &json!({"a": 1, "c": 2})
        ));
        assert!(!derivative(&json!({"a": 1}), &json!({"a": 2})));
        assert!(!derivative(&json!({"l": [1]}), &json!({"l": [1, 2]})));
        assert!(!derivative(&json!({"a": 1}), &json!({})));
    }
}
