//! What the demo fleet contains when it starts: three clusters, two dozen releases of all
//! three kinds in every interesting state, and the SLOs they feed. Everything here is data;
//! the behaviour lives in the per-kind simulations. This file owns the clusters, the SLOs and
//! the assembly; each kind's starting releases live in its own submodule. It must not hold
//! behaviour or touch the terminal, the network or the core.

mod canaries;
mod deployments;
mod rollouts;

use std::collections::BTreeMap;

use jiff::Timestamp;

use super::canary::CanarySim;
use super::deployment::DeploymentSim;
use super::rng::Rng;
use super::rollout::RolloutSim;
use super::slo::{Incident, SloSim, spec};
use super::store::RvClock;
use canaries::canaries;
use deployments::deployments;
use rollouts::rollouts;

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
