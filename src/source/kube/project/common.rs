//! Shared pieces of every projection: trimmed metadata, conditions, times, and the shape of
//! an unparseable object.

use std::collections::BTreeMap;

use jiff::Timestamp;
use k8s_openapi::apimachinery::pkg::apis::meta::v1 as meta;

use crate::core::facts::{Condition, ObjectMeta, UnparseableObject};
use crate::core::text::Untrusted;

/// Annotations the core reads; every other annotation is dropped.
const KEPT_ANNOTATIONS: &[&str] = &[
    "deployment.kubernetes.io/revision",
    "rollout.argoproj.io/revision",
    "rollout.argoproj.io/workload-generation",
    "argocd.argoproj.io/tracking-id",
    // The revisions list (`core::revisions`).
    "kubernetes.io/change-cause",
    "deployment.kubernetes.io/revision-history",
    "rollout.argoproj.io/revision-history",
];

/// Labels the core reads (service, GitOps owner, pod template hashes).
const KEPT_LABELS: &[&str] = &[
    "app.kubernetes.io/name",
    "app.kubernetes.io/instance",
    "argocd.argoproj.io/instance",
    "kustomize.toolkit.fluxcd.io/name",
    "kustomize.toolkit.fluxcd.io/namespace",
    "helm.toolkit.fluxcd.io/name",
    "pod-template-hash",
    "rollouts-pod-template-hash",
];

/// Pod template annotation set by `kubectl rollout restart`.
pub(super) const RESTARTED_AT: &str = "kubectl.kubernetes.io/restartedAt";

/// What to keep besides the fixed lists: the configured service label, when it is not the
/// default `app.kubernetes.io/name`.
#[derive(Debug, Clone, Default)]
pub struct Keep {
    pub service_label: Option<String>,
}

impl Keep {
    fn label(&self, key: &str) -> bool {
        KEPT_LABELS.contains(&key) || self.service_label.as_deref() == Some(key)
    }
}

fn kept(
    map: Option<&BTreeMap<String, String>>,
    keep: impl Fn(&str) -> bool,
) -> crate::core::facts::MetaMap {
    map.into_iter()
        .flatten()
        .filter(|(k, _)| keep(k))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

pub(super) fn object_meta(m: &meta::ObjectMeta, keep: &Keep) -> ObjectMeta {
    ObjectMeta {
        namespace: m.namespace.clone().unwrap_or_default(),
        name: m.name.clone().unwrap_or_default(),
        uid: m.uid.clone().unwrap_or_default(),
        resource_version: m.resource_version.clone().unwrap_or_default(),
        generation: m.generation.unwrap_or(0),
        created: m.creation_timestamp.as_ref().map(|t| t.0),
        labels: kept(m.labels.as_ref(), |k| keep.label(k)),
        annotations: kept(m.annotations.as_ref(), |k| KEPT_ANNOTATIONS.contains(&k)),
        template_manager: template_manager(m),
    }
}

/// The manager whose managedFields entry owns `spec.template` and was written last: who
/// changed the pod template most recently. Only this name is kept; managedFields are dropped.
pub(super) fn template_manager(m: &meta::ObjectMeta) -> Option<String> {
    m.managed_fields
        .as_deref()
        .unwrap_or_default()
        .iter()
        .filter(|e| {
            e.fields_v1
                .as_ref()
                .is_some_and(|f| f.0.pointer("/f:spec/f:template").is_some())
        })
        .max_by_key(|e| e.time.as_ref().map(|t| t.0))
        .and_then(|e| e.manager.clone())
}

/// The controlling owner (or the first owner): (uid, kind).
pub(super) fn owner(m: &meta::ObjectMeta) -> (String, String) {
    let refs = m.owner_references.as_deref().unwrap_or_default();
    refs.iter()
        .find(|r| r.controller == Some(true))
        .or_else(|| refs.first())
        .map(|r| (r.uid.clone(), r.kind.clone()))
        .unwrap_or_default()
}

/// An RFC 3339 time as the API server writes it; anything else is treated as absent.
pub(super) fn time(s: Option<&str>) -> Option<Timestamp> {
    s.and_then(|s| s.parse().ok())
}

/// A condition from its raw fields (the same for every kind).
pub(super) fn condition(
    type_: &str,
    status: &str,
    reason: Option<&str>,
    message: Option<&str>,
    last_transition: Option<Timestamp>,
) -> Condition {
    Condition {
        type_: type_.to_string(),
        status: status.to_string(),
        reason: reason.unwrap_or_default().to_string(),
        message: Untrusted::message(message.unwrap_or_default()),
        last_transition,
    }
}

/// An object that could not be read, named as well as its metadata allows.
pub(super) fn unparseable(
    kind: &str,
    namespace: Option<&str>,
    name: Option<&str>,
    error: impl std::fmt::Display,
) -> UnparseableObject {
    UnparseableObject {
        kind: kind.to_string(),
        namespace: namespace.unwrap_or_default().to_string(),
        name: name.unwrap_or_default().to_string(),
        error: Untrusted::new(error.to_string()),
    }
}

/// A CRD body read through a serde shape, or an unparseable object naming the error.
pub(super) fn read_body<'a, T: serde::Deserialize<'a>>(
    kind: &str,
    m: &meta::ObjectMeta,
    body: &'a serde_json::Value,
) -> Result<T, UnparseableObject> {
    T::deserialize(body)
        .map_err(|e| unparseable(kind, m.namespace.as_deref(), m.name.as_deref(), e))
}

/// A condition as CRDs write it (Rollout, Canary).
#[derive(Debug, Default, serde::Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub(super) struct RawCondition {
    #[serde(rename = "type")]
    pub type_: String,
    pub status: String,
    pub reason: Option<String>,
    pub message: Option<String>,
    pub last_transition_time: Option<String>,
}

impl RawCondition {
    pub fn project(&self) -> Condition {
        condition(
            &self.type_,
            &self.status,
            self.reason.as_deref(),
            self.message.as_deref(),
            time(self.last_transition_time.as_deref()),
        )
    }
}

/// Container images of a pod template as CRDs embed it.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(default)]
pub(super) struct RawPodTemplate {
    pub spec: Option<RawPodSpec>,
}

#[derive(Debug, Default, serde::Deserialize)]
#[serde(default)]
pub(super) struct RawPodSpec {
    pub containers: Option<Vec<RawContainer>>,
}

#[derive(Debug, Default, serde::Deserialize)]
#[serde(default)]
pub(super) struct RawContainer {
    pub image: Option<String>,
}

impl RawPodTemplate {
    pub fn images(&self) -> Vec<String> {
        self.spec
            .iter()
            .flat_map(|s| s.containers.iter().flatten())
            .filter_map(|c| c.image.clone())
            .collect()
    }
}

/// `int` or `string` (Go's IntOrString and fields that changed type between versions).
#[derive(Debug, Clone, serde::Deserialize)]
#[serde(untagged)]
pub(super) enum IntOrString {
    Int(i64),
    Str(String),
}

impl IntOrString {
    pub fn to_text(&self) -> String {
        match self {
            Self::Int(i) => i.to_string(),
            Self::Str(s) => s.clone(),
        }
    }
}

/// Split a raw object into its metadata (typed) and the rest, the way `DynamicObject` holds it.
pub(super) fn split_meta(
    mut value: serde_json::Value,
) -> (
    serde_json::Value,
    Result<meta::ObjectMeta, serde_json::Error>,
    serde_json::Value,
) {
    let raw_meta = value
        .as_object_mut()
        .and_then(|o| o.remove("metadata"))
        .unwrap_or(serde_json::Value::Null);
    let parsed = if raw_meta.is_null() {
        Ok(meta::ObjectMeta::default())
    } else {
        serde::Deserialize::deserialize(&raw_meta)
    };
    (raw_meta, parsed, value)
}
