//! Fixture builders for core tests: hand-made facts shaped like real objects.

use jiff::{SignedDuration, Timestamp};

use super::facts::*;
use super::model::{Cluster, SloSpec};
use super::msg::Msg;
use super::slo_eval;
use super::state::{Settings, State};

pub fn t(sec: i64) -> Timestamp {
    Timestamp::from_second(1_800_000_000 + sec).unwrap_or(Timestamp::UNIX_EPOCH)
}

pub fn meta(ns: &str, name: &str, rv: &str) -> ObjectMeta {
    let mut m = ObjectMeta {
        namespace: ns.into(),
        name: name.into(),
        uid: format!("uid-{ns}-{name}"),
        resource_version: rv.into(),
        generation: 3,
        created: Some(t(-3600)),
        ..ObjectMeta::default()
    };
    m.labels
        .insert("app.kubernetes.io/name".into(), name.into());
    m
}

/// A canary Rollout paused at step 1 of [setWeight 20, pause{}, setWeight 50, pause 30s].
pub fn paused_rollout(ns: &str, name: &str) -> RolloutFacts {
    RolloutFacts {
        meta: meta(ns, name, "100"),
        replicas: 5,
        strategy: "canary".into(),
        steps: vec![
            CanaryStep::SetWeight(20),
            CanaryStep::Pause(None),
            CanaryStep::SetWeight(50),
            CanaryStep::Pause(Some(SignedDuration::from_secs(30))),
        ],
        images: vec![format!("registry.local/{name}:2.0")],
        observed_generation: Some("3".into()),
        phase: Some("Paused".into()),
        message: "CanaryPauseStep".into(),
        pause_conditions: vec![PauseCondition {
            reason: PauseReason::CanaryPauseStep,
            start_time: Some(t(-60)),
        }],
        current_step_index: Some(1),
        current_pod_hash: "new".into(),
        stable_rs: "old".into(),
        status_replicas: 6,
        updated_replicas: 1,
        ready_replicas: 6,
        available_replicas: 6,
        ..RolloutFacts::default()
    }
}

pub fn replicaset(
    ns: &str,
    owner: &str,
    hash: &str,
    revision: i64,
    image: &str,
    avail: i32,
) -> ReplicaSetFacts {
    ReplicaSetFacts {
        meta: meta(ns, &format!("{owner}-{hash}"), "5"),
        owner_uid: format!("uid-{ns}-{owner}"),
        owner_kind: "Rollout".into(),
        revision: Some(revision),
        pod_template_hash: hash.into(),
        images: vec![image.into()],
        replicas: avail,
        ready_replicas: avail,
        available_replicas: avail,
    }
}

pub fn deployment(ns: &str, name: &str, paused: bool) -> DeploymentFacts {
    let mut meta = meta(ns, name, "7");
    meta.annotations
        .insert("deployment.kubernetes.io/revision".into(), "2".into());
    DeploymentFacts {
        meta,
        replicas: 3,
        paused,
        strategy: "RollingUpdate".into(),
        images: vec![format!("registry.local/{name}:1.1")],
        observed_generation: Some(3),
        status_replicas: 3,
        updated_replicas: 2,
        ready_replicas: 3,
        available_replicas: 3,
        ..DeploymentFacts::default()
    }
}

pub fn slo_spec(name: &str, service: &str) -> SloSpec {
    SloSpec {
        name: name.into(),
        service: service.into(),
        objective: 99.9,
        window: SignedDuration::from_hours(720),
        window_label: "30d".into(),
    }
}

/// Two clusters (one prod), one SLO for `checkout`, and a paused `shop/checkout` Rollout.
pub fn fleet() -> State {
    let mut prod = Cluster::new("prod-eu-1");
    prod.labels.insert("env".into(), "prod".into());
    let staging = Cluster::new("staging");
    let slos = vec![slo_eval::initial(slo_spec(
        "checkout-availability",
        "checkout",
    ))];
    let mut s = State::new(t(0), Settings::default(), vec![prod, staging], slos);
    let mut msgs = vec![
        Msg::Upsert {
            cluster: "prod-eu-1".into(),
            facts: ObjectFacts::ReplicaSet(replicaset(
                "shop",
                "checkout",
                "old",
                3,
                "registry.local/checkout:1.0",
                5,
            )),
        },
        Msg::Upsert {
            cluster: "prod-eu-1".into(),
            facts: ObjectFacts::ReplicaSet(replicaset(
                "shop",
                "checkout",
                "new",
                4,
                "registry.local/checkout:2.0",
                1,
            )),
        },
        Msg::Upsert {
            cluster: "prod-eu-1".into(),
            facts: ObjectFacts::Rollout(paused_rollout("shop", "checkout")),
        },
        Msg::Upsert {
            cluster: "staging".into(),
            facts: ObjectFacts::Deployment(deployment("web", "frontend", false)),
        },
    ];
    for m in msgs.drain(..) {
        super::update(&mut s, m);
    }
    super::settle(&mut s);
    s
}
