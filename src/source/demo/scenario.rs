//! What the demo fleet contains when it starts: three clusters, two dozen releases of all
//! three kinds in every interesting state, and the SLOs they feed. Everything here is data;
//! the behaviour lives in the per-kind simulations.

use std::collections::BTreeMap;

use jiff::{SignedDuration, Timestamp};

use super::canary::{CanaryInit, CanarySim};
use super::deployment::{DeploymentInit, DeploymentSim, Update};
use super::replicaset::Quality::{self, CrashLoop, ErrorProne, Good, ImagePull, Unschedulable};
use super::rng::Rng;
use super::rollout::{InFlight, RolloutInit, RolloutSim};
use super::script::Script;
use super::slo::{Incident, SloSim, spec};
use super::store::RvClock;
use crate::core::facts::CanaryStep;

pub const PROD_EU: &str = "prod-eu-1";
pub const PROD_US: &str = "prod-us-1";
pub const STAGING: &str = "staging";

/// A simulated cluster: name, labels, server version.
#[derive(Debug, Clone)]
pub struct ClusterInfo {
    pub name: &'static str,
    pub labels: BTreeMap<String, String>,
    pub version: &'static str,
}

impl ClusterInfo {
    pub fn is_prod(&self) -> bool {
        self.labels.get("env").is_some_and(|e| e == "prod")
    }
}

pub struct Scenario {
    pub clusters: Vec<ClusterInfo>,
    pub rollouts: Vec<RolloutSim>,
    pub deployments: Vec<DeploymentSim>,
    pub canaries: Vec<CanarySim>,
    pub slos: Vec<SloSim>,
}

fn cluster(name: &'static str, env: &str, region: &str, version: &'static str) -> ClusterInfo {
    let labels = [("env", env), ("region", region)]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    ClusterInfo {
        name,
        labels,
        version,
    }
}

fn image(app: &str, version: &str) -> String {
    format!("ghcr.io/acme/{app}:{version}")
}

fn images(app: &str, versions: &[&str]) -> Vec<String> {
    versions.iter().map(|v| image(app, v)).collect()
}

fn sw(weight: u32) -> CanaryStep {
    CanaryStep::SetWeight(weight)
}

fn pause(secs: Option<i64>) -> CanaryStep {
    CanaryStep::Pause(secs.map(SignedDuration::from_secs))
}

fn analysis() -> CanaryStep {
    CanaryStep::Analysis(vec!["error-rate".into()])
}

/// Shorthand for a rollout's identity and shape.
struct R<'a> {
    cluster: &'a str,
    ns: &'a str,
    name: &'a str,
    replicas: i32,
    traffic: bool,
    steps: Vec<CanaryStep>,
    history: &'a [&'a str],
}

impl R<'_> {
    fn build(
        self,
        in_flight: Option<InFlight>,
        script: Script,
        now: Timestamp,
        clock: &mut RvClock,
    ) -> RolloutSim {
        let init = RolloutInit {
            cluster: self.cluster.into(),
            namespace: self.ns.into(),
            name: self.name.into(),
            app: self.name.into(),
            replicas: self.replicas,
            steps: self.steps,
            traffic_routing: self.traffic,
            history: images(self.name, self.history),
            in_flight,
            age_secs: 86_400 * 40,
            script,
        };
        RolloutSim::new(init, now, clock)
    }
}

fn flight(
    app: &str,
    version: &str,
    quality: Quality,
    step: i32,
    paused_for_secs: i64,
) -> Option<InFlight> {
    Some(InFlight {
        image: image(app, version),
        quality,
        step,
        paused_for_secs,
    })
}

/// The checkout canary's steps (issue 2): an indefinite pause after 20 %.
fn checkout_steps() -> Vec<CanaryStep> {
    vec![
        sw(20),
        pause(None),
        sw(50),
        pause(Some(30)),
        sw(80),
        pause(Some(30)),
    ]
}

fn rollouts(now: Timestamp, clock: &mut RvClock) -> Vec<RolloutSim> {
    let every = |min, max, first, plan: &[Quality]| Script::every((min, max), first, plan, now);
    let r = |cluster, ns, name, replicas, traffic, steps, history| R {
        cluster,
        ns,
        name,
        replicas,
        traffic,
        steps,
        history,
    };
    vec![
        // Paused at an indefinite pause, waiting for a human to promote (issue 2).
        r(
            PROD_EU,
            "shop",
            "checkout",
            6,
            true,
            checkout_steps(),
            &["2.13.1", "2.13.2"],
        )
        .build(
            flight("checkout", "2.14.0", Good, 1, 240),
            every(900, 1200, 900, &[Good]),
            now,
            clock,
        ),
        r(
            PROD_EU,
            "shop",
            "cart",
            4,
            false,
            vec![
                sw(25),
                pause(Some(20)),
                sw(50),
                pause(Some(20)),
                sw(75),
                pause(Some(20)),
            ],
            &["1.8.3", "1.8.4"],
        )
        .build(
            flight("cart", "1.9.0", Good, 3, 8),
            every(300, 480, 200, &[Good]),
            now,
            clock,
        ),
        // The bad canary: takes 20 % of search's traffic, then its analysis fails.
        r(
            PROD_US,
            "search",
            "search",
            5,
            true,
            vec![sw(20), pause(Some(60)), analysis(), sw(50), pause(Some(60))],
            &["3.4.0", "3.4.1"],
        )
        .build(
            flight("search", "3.5.0", ErrorProne, 1, 40),
            every(420, 600, 240, &[Good, Good, ErrorProne]),
            now,
            clock,
        ),
        r(
            PROD_US,
            "shop",
            "checkout",
            6,
            true,
            checkout_steps(),
            &["2.13.1", "2.13.2"],
        )
        .build(None, every(900, 1200, 420, &[Good]), now, clock),
        r(
            PROD_US,
            "recs",
            "recommendations",
            3,
            false,
            vec![sw(33), pause(Some(45)), sw(66), pause(Some(45))],
            &["0.9.1"],
        )
        .build(
            flight("recommendations", "0.10.0", Good, 1, 20),
            every(240, 360, 120, &[Good]),
            now,
            clock,
        ),
        r(
            STAGING,
            "shop",
            "checkout",
            2,
            false,
            vec![sw(50), pause(Some(15)), analysis()],
            &["2.14.0", "2.14.1"],
        )
        .build(None, every(150, 240, 60, &[Good]), now, clock),
        r(
            STAGING,
            "search",
            "search",
            2,
            false,
            vec![sw(50), analysis(), pause(Some(20))],
            &["3.5.0", "3.5.1"],
        )
        .build(None, every(200, 300, 90, &[Good, ErrorProne]), now, clock),
    ]
}

/// Shorthand for a Deployment's identity and shape.
struct D<'a> {
    cluster: &'a str,
    ns: &'a str,
    name: &'a str,
    replicas: i32,
    history: &'a [&'a str],
}

impl D<'_> {
    /// `update`: (version, quality, seconds since it started) of a rollout under way.
    fn build(
        self,
        update: Option<(&str, Quality, i64)>,
        script: Script,
        now: Timestamp,
        clock: &mut RvClock,
    ) -> DeploymentSim {
        let init = DeploymentInit {
            cluster: self.cluster.into(),
            namespace: self.ns.into(),
            name: self.name.into(),
            app: self.name.into(),
            replicas: self.replicas,
            history: images(self.name, self.history),
            update: update.map(|(version, quality, started_secs_ago)| Update {
                image: image(self.name, version),
                quality,
                started_secs_ago,
            }),
            progress_deadline_secs: if self.name == "search-indexer" {
                300
            } else {
                600
            },
            age_secs: 86_400 * 90,
            script,
        };
        DeploymentSim::new(init, now, clock)
    }
}

fn deployments(now: Timestamp, clock: &mut RvClock) -> Vec<DeploymentSim> {
    let every = |min, max, first| Script::every((min, max), first, &[Good], now);
    let idle = Script::idle;
    let d = |cluster, ns, name, replicas, history| D {
        cluster,
        ns,
        name,
        replicas,
        history,
    };
    vec![
        d(PROD_EU, "shop", "frontend", 8, &["5.2.0", "5.2.1"]).build(
            None,
            every(360, 600, 150),
            now,
            clock,
        ),
        d(PROD_EU, "shop", "inventory", 4, &["1.4.2"]).build(
            Some(("1.4.3", Good, 6)),
            every(400, 700, 300),
            now,
            clock,
        ),
        // Stuck: the new image does not exist; past its progress deadline.
        d(
            PROD_EU,
            "payments",
            "payments-worker",
            3,
            &["3.1.9", "3.2.0"],
        )
        .build(Some(("3.2.1", ImagePull, 900)), idle(), now, clock),
        d(PROD_EU, "platform", "edge-gateway", 4, &["1.27.3"]).build(None, idle(), now, clock),
        d(PROD_US, "shop", "frontend", 8, &["5.2.0", "5.2.1"]).build(
            None,
            every(420, 700, 260),
            now,
            clock,
        ),
        // Crash-looping; runs out of its 5-minute deadline while you watch.
        d(PROD_US, "search", "search-indexer", 3, &["2.0.3"]).build(
            Some(("2.0.4", CrashLoop, 200)),
            idle(),
            now,
            clock,
        ),
        d(PROD_US, "auth", "auth-service", 4, &["4.0.9", "4.1.0"]).build(
            None,
            every(500, 800, 400),
            now,
            clock,
        ),
        d(STAGING, "shop", "frontend", 2, &["5.2.1", "5.3.0"]).build(
            Some(("5.3.1", Good, 2)),
            every(180, 300, 120),
            now,
            clock,
        ),
        d(STAGING, "data", "etl-runner", 2, &["0.7.0"]).build(
            Some(("0.8.0", Unschedulable, 100)),
            idle(),
            now,
            clock,
        ),
        d(STAGING, "shop", "inventory", 2, &["1.4.3"]).build(
            None,
            every(300, 500, 200),
            now,
            clock,
        ),
    ]
}

/// Shorthand for a Flagger canary's state.
struct C<'a> {
    cluster: &'a str,
    ns: &'a str,
    name: &'a str,
    phase: &'static str,
    weight: u32,
    failed_checks: u32,
    interval_secs: i64,
}

impl C<'_> {
    fn build(
        self,
        gate: Option<i64>,
        confirm_promotion: bool,
        script: Script,
        now: Timestamp,
        clock: &mut RvClock,
    ) -> CanarySim {
        let init = CanaryInit {
            cluster: self.cluster.into(),
            namespace: self.ns.into(),
            name: self.name.into(),
            app: self.name.into(),
            step_weight: 10,
            max_weight: 50,
            threshold: 5,
            interval_secs: self.interval_secs,
            phase: self.phase,
            weight: self.weight,
            failed_checks: self.failed_checks,
            quality: Good,
            confirm_promotion,
            gate_opens_after: gate,
            since_secs: if self.phase == "Failed" { 900 } else { 120 },
            age_secs: 86_400 * 60,
            script,
        };
        CanarySim::new(init, now, clock)
    }
}

fn canaries(now: Timestamp, clock: &mut RvClock) -> Vec<CanarySim> {
    let every = |min, max, first, plan: &[Quality]| Script::every((min, max), first, plan, now);
    let c = |cluster, ns, name, phase, weight, failed_checks, interval_secs| C {
        cluster,
        ns,
        name,
        phase,
        weight,
        failed_checks,
        interval_secs,
    };
    vec![
        c(PROD_EU, "catalog", "catalog-api", "Progressing", 20, 0, 15).build(
            None,
            false,
            every(420, 600, 300, &[Good]),
            now,
            clock,
        ),
        c(PROD_EU, "accounts", "accounts-api", "Succeeded", 0, 0, 15).build(
            None,
            false,
            every(500, 800, 180, &[Good, ErrorProne]),
            now,
            clock,
        ),
        c(
            PROD_US,
            "payments",
            "payments-api",
            "WaitingPromotion",
            50,
            0,
            15,
        )
        .build(Some(240), true, every(600, 900, 400, &[Good]), now, clock),
        c(PROD_US, "notify", "notifications", "Failed", 0, 5, 15).build(
            None,
            false,
            every(600, 900, 300, &[Good]),
            now,
            clock,
        ),
        c(STAGING, "catalog", "catalog-api", "Progressing", 10, 0, 10).build(
            None,
            false,
            every(200, 300, 100, &[Good]),
            now,
            clock,
        ),
        c(STAGING, "payments", "payments-api", "Succeeded", 0, 0, 10).build(
            None,
            false,
            every(240, 360, 60, &[Good]),
            now,
            clock,
        ),
        c(STAGING, "accounts", "accounts-api", "Waiting", 0, 0, 10).build(
            Some(150),
            false,
            every(300, 400, 300, &[Good]),
            now,
            clock,
        ),
    ]
}

fn slos(rng: &mut Rng) -> Vec<SloSim> {
    let inc = |ago_secs, duration_secs, extra_ratio| Incident {
        ago_secs,
        duration_secs,
        extra_ratio,
    };
    vec![
        // Yesterday's checkout incident still shows in the 1d and 3d windows.
        SloSim::new(
            spec("checkout-availability", "checkout", 99.9),
            120.0,
            0.0002,
            0.0003,
            &[inc(72_000, 1_800, 0.012)],
            rng,
        ),
        // The bad search canary has served 20 % of traffic for the last minute.
        SloSim::new(
            spec("search-availability", "search", 99.9),
            80.0,
            0.0003,
            0.0004,
            &[inc(60, 60, 0.2 * super::slo::ERROR_PRONE_RATIO)],
            rng,
        ),
        SloSim::new(
            spec("payments-availability", "payments-api", 99.95),
            40.0,
            0.0001,
            0.0001,
            &[],
            rng,
        ),
        SloSim::new(
            spec("catalog-availability", "catalog-api", 99.5),
            200.0,
            0.001,
            0.002,
            &[inc(172_800, 3_600, 0.02)],
            rng,
        ),
    ]
}

pub fn build(now: Timestamp, rng: &mut Rng, clock: &mut RvClock) -> Scenario {
    Scenario {
        clusters: vec![
            cluster(PROD_EU, "prod", "eu-west-1", "v1.31.4"),
            cluster(PROD_US, "prod", "us-east-1", "v1.31.4"),
            cluster(STAGING, "staging", "eu-west-1", "v1.32.1"),
        ],
        rollouts: rollouts(now, clock),
        deployments: deployments(now, clock),
        canaries: canaries(now, clock),
        slos: slos(rng),
    }
}
