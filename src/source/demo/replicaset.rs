//! Simulated ReplicaSets and their pods: scaled by their owner's controller, pods become
//! ready one at a time — unless the version is broken (crash loop, bad image, no room to
//! schedule), in which case they never do. That is all the status derivation needs to see
//! a rollout progress, stall or time out.

use jiff::Timestamp;

use super::store::{RvClock, Tracked};
use crate::core::facts::{ObjectMeta, ReplicaSetFacts};

/// Seconds for one more pod to become ready (image pulled, probes passing).
const POD_START_SECS: i64 = 2;

/// How a released version behaves once its pods run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Quality {
    Good,
    /// Pods are ready but answer with errors: analysis fails and the SLO burns.
    ErrorProne,
    CrashLoop,
    ImagePull,
    Unschedulable,
}

impl Quality {
    pub fn pods_become_ready(self) -> bool {
        matches!(self, Quality::Good | Quality::ErrorProne)
    }
}

#[derive(Debug, Clone)]
pub struct ReplicaSetSim {
    pub rs: Tracked<ReplicaSetFacts>,
    pub quality: Quality,
    countdown: i64,
}

/// What a new ReplicaSet is made from.
pub struct Template<'a> {
    pub owner_name: &'a str,
    pub owner_uid: &'a str,
    pub owner_kind: &'a str,
    pub namespace: &'a str,
    pub hash: &'a str,
    pub images: &'a [String],
    pub quality: Quality,
}

/// The pod template a simulated ReplicaSet runs, as the API server would return it: what
/// the revisions list and the undo diff read. It follows from the images alone (a reused
/// ReplicaSet has the same template), and differs between versions the way releases do:
/// a feature flag from x.y.1 on, more memory on odd patch versions, a new arg from x.y.2.
pub fn pod_template(t: &Template<'_>) -> serde_json::Value {
    use serde_json::json;
    let patch = |image: &str| -> u32 {
        image
            .rsplit(['.', ':'])
            .next()
            .and_then(|p| p.parse().ok())
            .unwrap_or(0)
    };
    let containers: Vec<serde_json::Value> = t
        .images
        .iter()
        .map(|image| {
            let p = patch(image);
            let name = image.split(':').next().unwrap_or(image);
            let name = name.rsplit('/').next().unwrap_or(name);
            let mut env = vec![
                json!({"name": "LOG_LEVEL", "value": "info"}),
                json!({"name": "DB_PASSWORD", "valueFrom": {"secretKeyRef": {"name": format!("{}-db", t.owner_name), "key": "password"}}}),
            ];
            if p >= 1 {
                env.push(json!({"name": "FEATURE_FAST_PATH", "value": "on"}));
            }
            let mut args = vec![json!("--port=8080")];
            if p >= 2 {
                args.push(json!("--cache=redis"));
            }
            json!({
                "name": name,
                "image": image,
                "args": args,
                "env": env,
                "resources": {
                    "requests": {"cpu": "100m", "memory": "128Mi"},
                    "limits": {"memory": if p % 2 == 1 { "512Mi" } else { "256Mi" }}
                },
                "readinessProbe": {"httpGet": {"path": "/healthz", "port": 8080}, "periodSeconds": 10},
                "volumeMounts": [{"name": "config", "mountPath": "/etc/app"}]
            })
        })
        .collect();
    json!({
        "metadata": {"labels": {"app.kubernetes.io/name": t.owner_name}},
        "spec": {
            "containers": containers,
            "volumes": [{"name": "config", "configMap": {"name": format!("{}-config", t.owner_name)}}]
        }
    })
}

impl ReplicaSetSim {
    pub fn create(t: &Template<'_>, revision: i64, now: Timestamp, clock: &mut RvClock) -> Self {
        let name = format!("{}-{}", t.owner_name, t.hash);
        let cause = format!("ci: release {}", t.images.join(", "));
        let facts = ReplicaSetFacts {
            meta: ObjectMeta {
                namespace: t.namespace.to_string(),
                uid: super::store::uid(&[t.owner_uid, t.hash]),
                name,
                generation: 1,
                created: Some(now),
                annotations: [(crate::core::revisions::CHANGE_CAUSE.to_string(), cause)].into(),
                ..ObjectMeta::default()
            },
            template: crate::core::revisions::summarize(&pod_template(t)),
            owner_uid: t.owner_uid.to_string(),
            owner_kind: t.owner_kind.to_string(),
            revision: Some(revision),
            pod_template_hash: t.hash.to_string(),
            images: t.images.to_vec(),
            ..ReplicaSetFacts::default()
        };
        ReplicaSetSim {
            rs: Tracked::create(facts, clock),
            quality: t.quality,
            countdown: POD_START_SECS,
        }
    }

    /// Created already running `replicas` ready pods (for the fleet's starting state).
    pub fn running(mut self, replicas: i32, clock: &mut RvClock) -> Self {
        self.scale(replicas);
        if self.quality.pods_become_ready() {
            self.rs.obj.ready_replicas = replicas;
            self.rs.obj.available_replicas = replicas;
        }
        self.rs.commit(clock);
        self
    }

    pub fn name(&self) -> &str {
        &self.rs.obj.meta.name
    }

    pub fn hash(&self) -> &str {
        &self.rs.obj.pod_template_hash
    }

    pub fn replicas(&self) -> i32 {
        self.rs.obj.replicas
    }

    pub fn available(&self) -> i32 {
        self.rs.obj.available_replicas
    }

    pub fn revision(&self) -> i64 {
        self.rs.obj.revision.unwrap_or(0)
    }

    /// Set the desired size; surplus pods leave the endpoints at once (they terminate).
    pub fn scale(&mut self, replicas: i32) {
        let rs = &mut self.rs.obj;
        rs.replicas = replicas.max(0);
        rs.ready_replicas = rs.ready_replicas.min(rs.replicas);
        rs.available_replicas = rs.available_replicas.min(rs.replicas);
    }

    /// One second of kubelet work: terminate surplus pods at once, start missing ones
    /// one at a time.
    pub fn step(&mut self) {
        let rs = &mut self.rs.obj;
        rs.ready_replicas = rs.ready_replicas.min(rs.replicas);
        rs.available_replicas = rs.available_replicas.min(rs.replicas);
        if rs.ready_replicas >= rs.replicas || !self.quality.pods_become_ready() {
            self.countdown = POD_START_SECS;
            return;
        }
        self.countdown -= 1;
        if self.countdown <= 0 {
            rs.ready_replicas += 1;
            rs.available_replicas += 1;
            self.countdown = POD_START_SECS;
        }
    }

    /// Pods not ready (for Warning events about them).
    pub fn unready_pods(&self) -> Vec<String> {
        let rs = &self.rs.obj;
        (rs.ready_replicas.max(0) as usize..rs.replicas.max(0) as usize)
            .map(|i| super::store::pod_name(&rs.meta.name, i))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn template(quality: Quality) -> ReplicaSetSim {
        let mut clock = RvClock::new();
        let images = vec!["img:1".to_string()];
        let t = Template {
            owner_name: "web",
            owner_uid: "u",
            owner_kind: "Deployment",
            namespace: "ns",
            hash: "abc",
            images: &images,
            quality,
        };
        ReplicaSetSim::create(&t, 1, Timestamp::UNIX_EPOCH, &mut clock)
    }

    #[test]
    fn good_pods_become_ready_one_at_a_time() {
        let mut rs = template(Quality::Good);
        rs.scale(2);
        for _ in 0..POD_START_SECS {
            rs.step();
        }
        assert_eq!(rs.available(), 1);
        for _ in 0..POD_START_SECS {
            rs.step();
        }
        assert_eq!(rs.available(), 2);
        rs.scale(0);
        rs.step();
        assert_eq!(rs.available(), 0);
    }

    #[test]
    fn broken_pods_never_become_ready() {
        let mut rs = template(Quality::CrashLoop);
        rs.scale(2);
        for _ in 0..30 {
            rs.step();
        }
        assert_eq!(rs.available(), 0);
        assert_eq!(rs.unready_pods().len(), 2);
    }
}
