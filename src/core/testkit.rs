//! The test fleet builder shared by the core's unit tests and the UI snapshot tests
//! (tests/ui_fixture): hand-made facts shaped like real objects, and [`FleetBuilder`], which
//! fills a [`State`] the way the console does — through the real `update`, settled at the
//! end. Compiled for the lib's own tests and, through the `testkit` feature, for the
//! integration tests; never into a release build (hidden from the docs).
//!
//! Pure like the rest of the core: no IO, no clock (times are passed in). It must not hold
//! assertions or test-specific scenarios beyond the small core fleet in [`fleet`].

use jiff::{SignedDuration, Timestamp};

use super::facts::*;
use super::model::{Cluster, SloSpec, SloStatus};
use super::msg::Msg;
use super::slo_eval;
use super::state::{Settings, State};

/// The label the projections read a release's service from.
const SERVICE_LABEL: &str = "app.kubernetes.io/name";

/// Builds a [`State`] as the console fills one: clusters and SLOs first, then messages
/// through the real `core::update`, settled once at the end.
pub struct FleetBuilder {
    state: State,
}

impl FleetBuilder {
    pub fn new(
        now: Timestamp,
        settings: Settings,
        clusters: Vec<Cluster>,
        slos: Vec<SloStatus>,
    ) -> FleetBuilder {
        FleetBuilder {
            state: State::new(now, settings, clusters, slos),
        }
    }

    /// Feed one message through `core::update` (its effects are dropped: nothing runs them).
    pub fn send(&mut self, msg: Msg) -> &mut FleetBuilder {
        super::update(&mut self.state, msg);
        self
    }

    /// An object as the cluster's watch would report it.
    pub fn upsert(&mut self, cluster: &str, facts: ObjectFacts) -> &mut FleetBuilder {
        self.send(Msg::Upsert {
            cluster: cluster.into(),
            facts,
        })
    }

    /// The state so far, for helpers that feed it themselves.
    pub fn state_mut(&mut self) -> &mut State {
        &mut self.state
    }

    /// The state, settled as the app loop settles it after a batch of messages.
    pub fn settled(mut self) -> State {
        super::settle(&mut self.state);
        self.state
    }
}

/// A cluster labelled `env: prod`.
pub fn prod_cluster(name: &str) -> Cluster {
    let mut c = Cluster::new(name);
    c.labels.insert("env".into(), "prod".into());
    c
}

pub fn t(sec: i64) -> Timestamp {
    Timestamp::from_second(1_800_000_000 + sec).unwrap_or(Timestamp::UNIX_EPOCH)
}

/// Metadata as a projection fills it: uid `uid-{ns}-{name}`, generation 3, labelled
/// `app.kubernetes.io/name: {app}`, no annotations.
pub fn object_meta(
    ns: &str,
    name: &str,
    app: &str,
    resource_version: &str,
    created: Timestamp,
) -> ObjectMeta {
    ObjectMeta {
        namespace: ns.into(),
        name: name.into(),
        uid: format!("uid-{ns}-{name}"),
        resource_version: resource_version.into(),
        generation: 3,
        created: Some(created),
        labels: [(SERVICE_LABEL.to_string(), app.to_string())].into(),
        ..ObjectMeta::default()
    }
}

/// [`object_meta`] for the unit tests' objects: the app is the name, created an hour
/// before [`t`]`(0)`.
pub fn meta(ns: &str, name: &str, rv: &str) -> ObjectMeta {
    object_meta(ns, name, name, rv, t(-3600))
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

/// A Rollout's ReplicaSet `hash` at `revision` running `image`, with `pods` pods all ready
/// and available.
pub fn replicaset_of(
    meta: ObjectMeta,
    owner_uid: &str,
    hash: &str,
    revision: i64,
    image: &str,
    pods: i32,
) -> ReplicaSetFacts {
    ReplicaSetFacts {
        meta,
        owner_uid: owner_uid.into(),
        owner_kind: "Rollout".into(),
        revision: Some(revision),
        pod_template_hash: hash.into(),
        images: vec![image.into()],
        replicas: pods,
        ready_replicas: pods,
        available_replicas: pods,
        ..ReplicaSetFacts::default()
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
    replicaset_of(
        meta(ns, &format!("{owner}-{hash}"), "5"),
        &format!("uid-{ns}-{owner}"),
        hash,
        revision,
        image,
        avail,
    )
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

/// An SLO of 99.9 % over 30 days, before any report.
pub fn slo(name: &str, service: &str) -> SloStatus {
    slo_eval::initial(slo_spec(name, service))
}

/// Two clusters (one prod), one SLO for `checkout` (evaluated, not burning), and a paused
/// `shop/checkout` Rollout.
pub fn fleet() -> State {
    let clusters = vec![prod_cluster("prod-eu-1"), Cluster::new("staging")];
    let slos = vec![slo("checkout-availability", "checkout")];
    let mut f = FleetBuilder::new(t(0), Settings::default(), clusters, slos);
    let (old, new) = ("registry.local/checkout:1.0", "registry.local/checkout:2.0");
    f.upsert(
        "prod-eu-1",
        ObjectFacts::ReplicaSet(replicaset("shop", "checkout", "old", 3, old, 5)),
    )
    .upsert(
        "prod-eu-1",
        ObjectFacts::ReplicaSet(replicaset("shop", "checkout", "new", 4, new, 1)),
    )
    .upsert(
        "prod-eu-1",
        ObjectFacts::Rollout(paused_rollout("shop", "checkout")),
    )
    .upsert(
        "staging",
        ObjectFacts::Deployment(deployment("web", "frontend", false)),
    );
    // The SLO evaluated and calm: promote's error-budget gate is decided and open.
    super::update(
        &mut f.state,
        Msg::Slo(super::msg::SloReport {
            slo: "checkout-availability".into(),
            at: t(0),
            ratios: super::model::BurnWindow::ALL
                .iter()
                .map(|w| (*w, Some(0.0)))
                .collect(),
            window_ratio: Some(0.0),
        }),
    );
    f.settled()
}

/// An action in flight on `key`, as `confirm` records it (the plan carries no calls: tests of
/// the in-flight register never send it).
pub fn pending(
    key: &super::model::ReleaseKey,
    kind: super::action::ActionKind,
    sent: Timestamp,
) -> super::state::Pending {
    super::state::Pending {
        key: key.clone(),
        kind,
        sent,
        plan: super::action::ActionPlan {
            kind,
            cluster: key.cluster.clone(),
            release_kind: key.kind,
            namespace: key.namespace.clone(),
            name: key.name.clone(),
            uid: String::new(),
            prod: false,
            calls: Vec::new(),
            seen: super::action::Seen {
                phase: String::new(),
                step: None,
                revision: None,
                resource_version: String::new(),
            },
            notes: Vec::new(),
            owner_first: None,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn object_meta_is_shaped_like_a_projection() {
        let m = object_meta("shop", "checkout", "co", "12", t(5));
        assert_eq!(m.uid, "uid-shop-checkout");
        assert_eq!((m.resource_version.as_str(), m.generation), ("12", 3));
        assert_eq!(m.created, Some(t(5)));
        assert_eq!(m.labels.get(SERVICE_LABEL).map(String::as_str), Some("co"));
        assert!(m.annotations.is_empty());
        assert_eq!(
            meta("a", "b", "1")
                .labels
                .get(SERVICE_LABEL)
                .map(String::as_str),
            Some("b")
        );
    }

    #[test]
    fn a_replicaset_links_to_its_owner_by_uid() {
        let rs = replicaset("shop", "checkout", "old", 3, "img:1", 5);
        assert_eq!(rs.meta.name, "checkout-old");
        assert_eq!(rs.owner_uid, paused_rollout("shop", "checkout").meta.uid);
        assert_eq!(
            (rs.replicas, rs.ready_replicas, rs.available_replicas),
            (5, 5, 5)
        );
    }

    #[test]
    fn the_builder_feeds_update_and_settles_once() {
        let mut by_hand = State::new(t(0), Settings::default(), vec![prod_cluster("p")], vec![]);
        let facts = ObjectFacts::Deployment(deployment("web", "frontend", false));
        super::super::update(
            &mut by_hand,
            Msg::Upsert {
                cluster: "p".into(),
                facts: facts.clone(),
            },
        );
        super::super::settle(&mut by_hand);
        let mut f = FleetBuilder::new(t(0), Settings::default(), vec![prod_cluster("p")], vec![]);
        f.upsert("p", facts);
        let built = f.settled();
        assert_eq!(built.releases.len(), 1);
        assert_eq!(built.releases, by_hand.releases);
        assert_eq!(built.view.order, by_hand.view.order);
    }

    #[test]
    fn the_core_fleet_has_its_two_releases() {
        let s = fleet();
        assert_eq!(s.releases.len(), 2);
        assert!(s.cluster("prod-eu-1").is_some_and(Cluster::is_prod));
    }
}
