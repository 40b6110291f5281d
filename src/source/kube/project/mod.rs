//! Projections: Kubernetes objects in, compact `core::facts` out. Pure functions, no IO.
//!
//! Only what the core reads survives: managedFields, most annotations and labels, pod specs
//! and everything else not displayed are dropped here, before anything is kept or sent.
//! Built-in kinds are read as `k8s_openapi` types; the CRDs (Argo Rollouts, Flagger) are read
//! through small lenient serde shapes, so a malformed object becomes
//! `ObjectFacts::Unparseable` with the error instead of failing the whole watch.
//!
//! This is the projection dispatch: which projection a catalogued kind gets (exhaustive over
//! `Kind`; a kind the catalogue does not list is ignored, never projected as another kind).
//! Coordinates (group, version, kind name) come from the core's catalogue only.

mod analysis;
mod application;
mod canary;
mod common;
mod deployment;
mod duration;
mod event;
mod flux;
pub mod pod;
mod rollout;

use k8s_openapi::api::apps::v1::{Deployment, ReplicaSet};
use k8s_openapi::api::core::v1::Event;
use kube::api::DynamicObject;
use serde_json::Value;

pub use analysis::analysis_run;
pub use application::application;
pub use canary::canary;
pub use common::Keep;
use common::{split_meta, unparseable};
pub use deployment::{deployment, replica_set};
pub use event::warning_event;
pub use flux::{flux_source, helm_release, kustomization};
pub use rollout::rollout;

use crate::core::facts::{ObjectFacts, WarningEvent};
use crate::core::kinds::Kind;

/// What a raw object amounts to for the console.
#[derive(Debug, Clone, PartialEq)]
#[allow(
    clippy::large_enum_variant,
    reason = "short-lived: moved once into a Msg"
)]
pub enum Projected {
    Object(ObjectFacts),
    Warning(WarningEvent),
    /// A kind the console does not show (Service, Pod, a Normal event, ...).
    Ignored,
}

/// A custom resource's projection: metadata and the rest of the object.
type Custom =
    fn(&k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta, &Value, &Keep) -> ObjectFacts;

/// How a kind is projected: as a built-in type from JSON, or through its CRD shape.
enum Projection {
    BuiltIn,
    Custom(Custom),
}

fn projection(kind: Kind) -> Projection {
    match kind {
        Kind::Deployment | Kind::ReplicaSet | Kind::Event | Kind::Pod => Projection::BuiltIn,
        Kind::Rollout => Projection::Custom(rollout),
        Kind::AnalysisRun => Projection::Custom(analysis_run),
        Kind::Canary => Projection::Custom(canary),
        Kind::Kustomization => Projection::Custom(kustomization),
        Kind::HelmRelease => Projection::Custom(helm_release),
        // Read with a GET when shown (`flux_source`), never as a listed object.
        Kind::GitRepository | Kind::OCIRepository => Projection::BuiltIn,
        Kind::Application => Projection::Custom(application),
        // Never watched: terminate writes it by the name in the Rollout's status.
        Kind::Experiment => Projection::BuiltIn,
    }
}

/// Project one object. `Err` names what makes it not a Kubernetes object at all.
pub fn from_value(value: Value, keep: &Keep) -> Result<Projected, String> {
    let text = |k: &str| value.get(k).and_then(Value::as_str).map(str::to_string);
    let name = text("kind").ok_or("no `kind`: not a Kubernetes object")?;
    let api_version = text("apiVersion").ok_or("no `apiVersion`: not a Kubernetes object")?;
    let (group, version) = api_version.rsplit_once('/').unwrap_or(("", &api_version));
    let Some(kind) = Kind::by_group(group, &name) else {
        return Ok(Projected::Ignored);
    };
    let wanted = kind.api().version;
    if version != wanted {
        let (raw_meta, _, _) = split_meta(value);
        let field = |k: &str| raw_meta.get(k).and_then(Value::as_str).map(str::to_string);
        let error = format!(
            "unsupported version {api_version} (shipdeck reads {})",
            kind.api_version()
        );
        return Ok(Projected::Object(ObjectFacts::Unparseable(unparseable(
            &name,
            field("namespace").as_deref(),
            field("name").as_deref(),
            error,
        ))));
    }
    Ok(match projection(kind) {
        Projection::BuiltIn => typed(kind, value, keep),
        Projection::Custom(project) => custom(kind, value, keep, project),
    })
}

/// Project one object as a watch delivers it (any kind but events).
pub fn from_dynamic(kind: Kind, o: DynamicObject, keep: &Keep) -> ObjectFacts {
    let failed = |o: &DynamicObject, error: String| {
        ObjectFacts::Unparseable(unparseable(
            kind.api().name,
            o.metadata.namespace.as_deref(),
            o.metadata.name.as_deref(),
            error,
        ))
    };
    match projection(kind) {
        Projection::Custom(project) => project(&o.metadata, &o.data, keep),
        Projection::BuiltIn => match serde_json::to_value(&o) {
            Ok(value) => match typed(kind, value, keep) {
                Projected::Object(facts) => facts,
                Projected::Warning(_) | Projected::Ignored => {
                    failed(&o, "not an object this watch reads".into())
                }
            },
            Err(e) => failed(&o, e.to_string()),
        },
    }
}

fn typed(kind: Kind, value: Value, keep: &Keep) -> Projected {
    let names = |v: &Value| {
        let m = v.get("metadata");
        let f = |k: &str| {
            m.and_then(|m| m.get(k))
                .and_then(Value::as_str)
                .map(str::to_string)
        };
        (f("namespace"), f("name"))
    };
    let failed = |e: serde_json::Error, (ns, name): (Option<String>, Option<String>)| {
        Projected::Object(ObjectFacts::Unparseable(unparseable(
            kind.api().name,
            ns.as_deref(),
            name.as_deref(),
            e,
        )))
    };
    let ids = names(&value);
    match kind {
        Kind::Deployment => match serde_json::from_value::<Deployment>(value) {
            Ok(d) => Projected::Object(ObjectFacts::Deployment(deployment(&d, keep))),
            Err(e) => failed(e, ids),
        },
        Kind::ReplicaSet => match serde_json::from_value::<ReplicaSet>(value) {
            Ok(rs) => Projected::Object(ObjectFacts::ReplicaSet(replica_set(&rs, keep))),
            Err(e) => failed(e, ids),
        },
        // A broken event is not worth a row of its own.
        Kind::Event => match serde_json::from_value::<Event>(value) {
            Ok(e) => warning_event(&e).map_or(Projected::Ignored, Projected::Warning),
            Err(e) => {
                tracing::debug!(error = %e, "unreadable event ignored");
                Projected::Ignored
            }
        },
        // Pods are read on demand by the pods screen (`pod`), never from files or watches.
        Kind::Pod => Projected::Ignored,
        // Custom kinds never come here (see `projection`).
        Kind::Rollout | Kind::AnalysisRun | Kind::Canary | Kind::Application => Projected::Ignored,
        Kind::Kustomization | Kind::HelmRelease => Projected::Ignored,
        // Sources are not rows: a captured one is ignored; nor is a captured Experiment.
        Kind::GitRepository | Kind::OCIRepository | Kind::Experiment => Projected::Ignored,
    }
}

fn custom(kind: Kind, value: Value, keep: &Keep, project: Custom) -> Projected {
    let (raw_meta, meta, body) = split_meta(value);
    let meta = match meta {
        Ok(m) => m,
        Err(e) => {
            let name = |k: &str| raw_meta.get(k).and_then(Value::as_str).map(str::to_string);
            return Projected::Object(ObjectFacts::Unparseable(unparseable(
                kind.api().name,
                name("namespace").as_deref(),
                name("name").as_deref(),
                format!("metadata: {e}"),
            )));
        }
    };
    Projected::Object(project(&meta, &body, keep))
}

#[cfg(test)]
mod tests;
