//! One raw object of any kind (from a file or a List) → the matching projection.

use k8s_openapi::api::apps::v1::{Deployment, ReplicaSet};
use k8s_openapi::api::core::v1::Event;
use serde_json::Value;

use super::common::{Keep, split_meta, unparseable};
use super::{analysis_run, canary, deployment, replica_set, rollout, warning_event};
use crate::core::facts::{ObjectFacts, WarningEvent};

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

/// The API versions the console reads, per (group, kind).
const READ: &[(&str, &str, &str)] = &[
    ("apps", "Deployment", "v1"),
    ("apps", "ReplicaSet", "v1"),
    ("", "Event", "v1"),
    ("argoproj.io", "Rollout", "v1alpha1"),
    ("argoproj.io", "AnalysisRun", "v1alpha1"),
    ("flagger.app", "Canary", "v1beta1"),
];

/// Project one object. `Err` names what makes it not a Kubernetes object at all.
pub fn from_value(value: Value, keep: &Keep) -> Result<Projected, String> {
    let text = |k: &str| value.get(k).and_then(Value::as_str).map(str::to_string);
    let kind = text("kind").ok_or("no `kind`: not a Kubernetes object")?;
    let api_version = text("apiVersion").ok_or("no `apiVersion`: not a Kubernetes object")?;
    let (group, version) = api_version.rsplit_once('/').unwrap_or(("", &api_version));
    let Some(&(_, _, wanted)) = READ.iter().find(|(g, k, _)| *g == group && *k == kind) else {
        return Ok(Projected::Ignored);
    };
    if version != wanted {
        let (raw_meta, _, _) = split_meta(value);
        let name = |k: &str| raw_meta.get(k).and_then(Value::as_str).map(str::to_string);
        let error = format!(
            "unsupported version {api_version} (shipdeck reads {}{wanted})",
            if group.is_empty() {
                String::new()
            } else {
                format!("{group}/")
            }
        );
        return Ok(Projected::Object(ObjectFacts::Unparseable(unparseable(
            &kind,
            name("namespace").as_deref(),
            name("name").as_deref(),
            error,
        ))));
    }
    Ok(match kind.as_str() {
        "Deployment" | "ReplicaSet" | "Event" => typed(&kind, value, keep),
        _ => custom(&kind, value, keep),
    })
}

fn typed(kind: &str, value: Value, keep: &Keep) -> Projected {
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
            kind,
            ns.as_deref(),
            name.as_deref(),
            e,
        )))
    };
    let ids = names(&value);
    match kind {
        "Deployment" => match serde_json::from_value::<Deployment>(value) {
            Ok(d) => Projected::Object(ObjectFacts::Deployment(deployment(&d, keep))),
            Err(e) => failed(e, ids),
        },
        "ReplicaSet" => match serde_json::from_value::<ReplicaSet>(value) {
            Ok(rs) => Projected::Object(ObjectFacts::ReplicaSet(replica_set(&rs, keep))),
            Err(e) => failed(e, ids),
        },
        // A broken event is not worth a row of its own.
        _ => match serde_json::from_value::<Event>(value) {
            Ok(e) => warning_event(&e).map_or(Projected::Ignored, Projected::Warning),
            Err(e) => {
                tracing::debug!(error = %e, "unreadable event ignored");
                Projected::Ignored
            }
        },
    }
}

fn custom(kind: &str, value: Value, keep: &Keep) -> Projected {
    let (raw_meta, meta, body) = split_meta(value);
    let meta = match meta {
        Ok(m) => m,
        Err(e) => {
            let name = |k: &str| raw_meta.get(k).and_then(Value::as_str).map(str::to_string);
            return Projected::Object(ObjectFacts::Unparseable(unparseable(
                kind,
                name("namespace").as_deref(),
                name("name").as_deref(),
                format!("metadata: {e}"),
            )));
        }
    };
    Projected::Object(match kind {
        "Rollout" => rollout(&meta, &body, keep),
        "AnalysisRun" => analysis_run(&meta, &body, keep),
        _ => canary(&meta, &body, keep),
    })
}
