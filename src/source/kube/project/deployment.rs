//! apps/v1 Deployment and ReplicaSet → facts. These arrive typed (`k8s_openapi`), already
//! validated by the API server.

use k8s_openapi::api::apps::v1::{Deployment, ReplicaSet};
use k8s_openapi::api::core::v1::PodTemplateSpec;

use super::common::{Keep, RESTARTED_AT, condition, object_meta, owner};
use crate::core::facts::{DeploymentFacts, DeploymentStrategy, ReplicaSetFacts};

fn images(t: Option<&PodTemplateSpec>) -> Vec<String> {
    t.and_then(|t| t.spec.as_ref())
        .map(|s| {
            s.containers
                .iter()
                .filter_map(|c| c.image.clone())
                .collect()
        })
        .unwrap_or_default()
}

/// A digest of a pod template as the API server stored it, without the `pod-template-hash`
/// label the Deployment controller adds to its ReplicaSets' copies: equal digests are
/// kubectl's `EqualIgnoreHash`. FNV-1a over the JSON (stable field and key order). 0 is kept
/// for "not known".
fn template_digest(t: Option<&PodTemplateSpec>) -> u64 {
    let Some(t) = t else { return 0 };
    let mut t = t.clone();
    if let Some(labels) = t.metadata.as_mut().and_then(|m| m.labels.as_mut()) {
        labels.remove("pod-template-hash");
    }
    let Ok(bytes) = serde_json::to_vec(&t) else {
        return 0;
    };
    let hash = bytes.iter().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3)
    });
    hash.max(1)
}

pub fn deployment(d: &Deployment, keep: &Keep) -> DeploymentFacts {
    let spec = &d.spec;
    let status = d.status.as_ref();
    let template = Some(&spec.template);
    DeploymentFacts {
        meta: object_meta(&d.metadata, keep),
        // The API server defaults replicas to 1.
        replicas: spec.replicas.unwrap_or(1),
        paused: spec.paused.unwrap_or(false),
        strategy: spec
            .strategy
            .as_ref()
            .and_then(|s| s.type_.as_deref())
            .map_or(DeploymentStrategy::RollingUpdate, DeploymentStrategy::parse),
        images: images(template),
        restarted_at: template
            .and_then(|t| t.metadata.as_ref())
            .and_then(|m| m.annotations.as_ref())
            .and_then(|a| a.get(RESTARTED_AT).cloned()),
        observed_generation: status.and_then(|s| s.observed_generation),
        status_replicas: status.and_then(|s| s.replicas).unwrap_or(0),
        updated_replicas: status.and_then(|s| s.updated_replicas).unwrap_or(0),
        ready_replicas: status.and_then(|s| s.ready_replicas).unwrap_or(0),
        available_replicas: status.and_then(|s| s.available_replicas).unwrap_or(0),
        conditions: status
            .and_then(|s| s.conditions.as_ref())
            .into_iter()
            .flatten()
            .map(|c| {
                condition(
                    c.type_.as_deref().unwrap_or_default(),
                    c.status.as_deref().unwrap_or_default(),
                    c.reason.as_deref(),
                    c.message.as_deref(),
                    c.last_transition_time.as_ref().map(|t| t.0),
                )
            })
            .collect(),
        template_digest: template_digest(template),
    }
}

pub fn replica_set(rs: &ReplicaSet, keep: &Keep) -> ReplicaSetFacts {
    let meta = object_meta(&rs.metadata, keep);
    let annotations = rs.metadata.annotations.as_ref();
    let revision = [
        "deployment.kubernetes.io/revision",
        "rollout.argoproj.io/revision",
    ]
    .iter()
    .find_map(|k| annotations.and_then(|a| a.get(*k)))
    .and_then(|v| v.parse().ok());
    let labels = rs.metadata.labels.as_ref();
    // Argo labels its ReplicaSets with both; its own hash is the one status refers to.
    let pod_template_hash = ["rollouts-pod-template-hash", "pod-template-hash"]
        .iter()
        .find_map(|k| labels.and_then(|l| l.get(*k)))
        .cloned()
        .unwrap_or_default();
    let (owner_uid, owner_kind) = owner(&rs.metadata);
    let status = rs.status.as_ref();
    let spec = &rs.spec;
    ReplicaSetFacts {
        meta,
        owner_uid,
        owner_kind,
        revision,
        pod_template_hash,
        images: images(spec.template.as_ref()),
        replicas: spec.replicas.or(status.map(|s| s.replicas)).unwrap_or(0),
        ready_replicas: status.and_then(|s| s.ready_replicas).unwrap_or(0),
        available_replicas: status.and_then(|s| s.available_replicas).unwrap_or(0),
        template_digest: template_digest(spec.template.as_ref()),
        template: spec
            .template
            .as_ref()
            .and_then(|t| serde_json::to_value(t).ok())
            .map(|t| crate::core::revisions::summarize(&t))
            .unwrap_or_default(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn template(image: &str, hash: Option<&str>) -> PodTemplateSpec {
        let mut labels = std::collections::BTreeMap::from([("app".to_string(), "web".to_string())]);
        if let Some(h) = hash {
            labels.insert("pod-template-hash".into(), h.into());
        }
        serde_json::from_value(serde_json::json!({
            "metadata": {"labels": labels},
            "spec": {"containers": [{"name": "app", "image": image}]},
        }))
        .unwrap_or_default()
    }

    #[test]
    fn a_replicasets_template_digest_ignores_only_the_pod_template_hash() {
        let deployment = template_digest(Some(&template("web:2", None)));
        assert_ne!(deployment, 0);
        assert_eq!(
            template_digest(Some(&template("web:2", Some("6c5b8d9f7")))),
            deployment
        );
        assert_ne!(
            template_digest(Some(&template("web:1", Some("6c5b8d9f7")))),
            deployment
        );
        assert_eq!(template_digest(None), 0, "not known");
    }
}
