//! What the demo fleet contains when it starts: three clusters, two dozen releases of all
//! three kinds in every interesting state, and the SLOs they feed. Everything here is data;
//! the behaviour lives in the per-kind simulations. This file owns the clusters, the SLOs and
//! the assembly; each kind's starting releases live in its own submodule. It must not hold
//! behaviour or touch the terminal, the network or the core.

mod canaries;
mod deployments;
mod rollouts;

use super::kustomization::KustomizationSim;
use std::collections::BTreeMap;

use jiff::Timestamp;

use super::canary::CanarySim;
use super::deployment::DeploymentSim;
use super::rng::Rng;
use super::rollout::RolloutSim;
use super::slo::{ERROR_PRONE_RATIO, Incident, SloSim, spec};
use super::store::RvClock;
use canaries::canaries;
use deployments::deployments;
#[cfg(test)]
pub(crate) use rollouts::BAKE_SECS;
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
    pub kustomizations: Vec<KustomizationSim>,
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

/// What the seed decides when the fleet is made up: each app's release train (the minor
/// version of every version of an app moves by the same amount on every cluster, so
/// `--seed` changes the images, ReplicaSet hashes and names on screen) and when past things
/// happened (how long ago releases settled, paused or began).
pub struct Dice<'a> {
    rng: &'a mut Rng,
    trains: BTreeMap<String, u64>,
}

impl<'a> Dice<'a> {
    pub fn new(rng: &'a mut Rng) -> Self {
        Dice {
            rng,
            trains: BTreeMap::new(),
        }
    }

    /// `ghcr.io/acme/{app}:{version}`, the version moved along the app's train.
    pub fn image(&mut self, app: &str, version: &str) -> String {
        let rng = &mut *self.rng;
        let shift = *self
            .trains
            .entry(app.to_string())
            .or_insert_with(|| rng.range(0, 4) as u64);
        let mut parts = version.split('.');
        let moved = match (parts.next(), parts.next(), parts.next()) {
            (Some(major), Some(minor), Some(patch)) => match minor.parse::<u64>() {
                Ok(m) => format!("{major}.{}.{patch}", m + shift),
                Err(_) => version.to_string(),
            },
            _ => version.to_string(),
        };
        format!("ghcr.io/acme/{app}:{moved}")
    }

    pub fn images(&mut self, app: &str, versions: &[&str]) -> Vec<String> {
        versions.iter().map(|v| self.image(app, v)).collect()
    }

    /// A whole number of seconds in [lo, hi].
    pub fn secs(&mut self, lo: i64, hi: i64) -> i64 {
        self.rng.range(lo, hi)
    }
}

/// Extra error ratio a service had in its recent past from error-prone versions already
/// taking traffic when the demo starts: the same share of traffic the fleet feeds the SLO
/// with afterwards (`Fleet::error_prone_share`), so history and live seconds are one series.
fn bad_history(
    service: &str,
    clusters: &[ClusterInfo],
    rollouts: &[RolloutSim],
    canaries: &[CanarySim],
    now: Timestamp,
) -> Vec<Incident> {
    let prod = |cluster: &str| clusters.iter().any(|c| c.name == cluster && c.is_prod());
    let workloads = rollouts
        .iter()
        .filter(|r| r.app() == service && prod(&r.cluster))
        .count()
        + canaries
            .iter()
            .filter(|c| c.app() == service && prod(&c.cluster))
            .count();
    rollouts
        .iter()
        .filter(|r| r.app() == service && prod(&r.cluster))
        .filter_map(|r| r.bad_traffic(now))
        .map(|(secs, share)| Incident {
            ago_secs: secs,
            duration_secs: secs,
            extra_ratio: share * ERROR_PRONE_RATIO / workloads.max(1) as f64,
        })
        .collect()
}

fn slos(
    rng: &mut Rng,
    clusters: &[ClusterInfo],
    rollouts: &[RolloutSim],
    canaries: &[CanarySim],
    now: Timestamp,
) -> Vec<SloSim> {
    let inc = |ago_secs, duration_secs, extra_ratio| Incident {
        ago_secs,
        duration_secs,
        extra_ratio,
    };
    let bad = |service: &str| bad_history(service, clusters, rollouts, canaries, now);
    let with = |mut a: Vec<Incident>, b: Vec<Incident>| {
        a.extend(b);
        a
    };
    vec![
        // Yesterday's checkout incident still shows in the 1d and 3d windows.
        SloSim::new(
            spec("checkout-availability", "checkout", 99.9),
            120.0,
            0.0002,
            0.0003,
            &with(vec![inc(72_000, 1_800, 0.012)], bad("checkout")),
            rng,
        ),
        // The bad search canary has served 20 % of traffic for the last quarter hour.
        SloSim::new(
            spec("search-availability", "search", 99.9),
            80.0,
            0.0003,
            0.0004,
            &bad("search"),
            rng,
        ),
        SloSim::new(
            spec("payments-availability", "payments-api", 99.95),
            40.0,
            0.0001,
            0.0001,
            &bad("payments-api"),
            rng,
        ),
        SloSim::new(
            spec("catalog-availability", "catalog-api", 99.5),
            200.0,
            0.001,
            0.002,
            &with(vec![inc(172_800, 3_600, 0.02)], bad("catalog-api")),
            rng,
        ),
    ]
}

pub fn build(now: Timestamp, rng: &mut Rng, clock: &mut RvClock) -> Scenario {
    let clusters = vec![
        cluster(PROD_EU, "prod", "eu-west-1", "v1.31.4"),
        cluster(PROD_US, "prod", "us-east-1", "v1.31.4"),
        cluster(STAGING, "staging", "eu-west-1", "v1.32.1"),
    ];
    let mut dice = Dice::new(rng);
    let mut rollouts = rollouts(now, &mut dice, clock);
    let kustomizations = flux_owner(&mut rollouts, now, clock);
    let deployments = deployments(now, &mut dice, clock);
    let canaries = canaries(now, &mut dice, clock);
    let slos = slos(rng, &clusters, &rollouts, &canaries, now);
    Scenario {
        clusters,
        rollouts,
        deployments,
        canaries,
        slos,
        kustomizations,
    }
}

/// A Flux Kustomization `flux-system/apps` on staging that owns the first staging Rollout
/// (its tracking labels), so "suspend the owner first" can be tried in the demo.
fn flux_owner(
    rollouts: &mut [RolloutSim],
    now: Timestamp,
    clock: &mut RvClock,
) -> Vec<KustomizationSim> {
    use crate::core::kinds::kustomization::{OWNER_NAME_LABEL, OWNER_NAMESPACE_LABEL};
    let Some(owned) = rollouts.iter_mut().find(|r| r.cluster == STAGING) else {
        return Vec::new();
    };
    owned.label(OWNER_NAME_LABEL, "apps", clock);
    owned.label(OWNER_NAMESPACE_LABEL, "flux-system", clock);
    let meta = crate::core::facts::ObjectMeta {
        namespace: "flux-system".into(),
        name: "apps".into(),
        uid: super::store::uid(&[STAGING, "Kustomization", "flux-system", "apps"]),
        generation: 1,
        created: Some(now - jiff::SignedDuration::from_secs(86_400 * 90)),
        ..crate::core::facts::ObjectMeta::default()
    };
    vec![KustomizationSim::new(
        STAGING,
        meta,
        "main@sha1:5f2c9e1a7d",
        now,
        clock,
    )]
}
