//! The whole simulated fleet: clusters, workloads and SLOs, moved forward one simulated
//! second at a time from injected timestamps (never the clock), answering actions the way
//! the API server and the controllers would. Pure: no IO, no async.

use jiff::{SignedDuration, Timestamp};

mod chain;
mod object;
mod pods;

use super::application::AppSim;
use super::canary::CanarySim;
use super::deployment::DeploymentSim;
use super::events::EventRecorder;
use super::kustomization::KustomizationSim;
use super::patch;
use super::replicaset::Quality;
use super::rng::Rng;
use super::rollout::RolloutSim;
use super::scenario::{self, ClusterInfo};
use super::slo::SloSim;
use super::store::RvClock;
use crate::core::action::{ActionPlan, ApiCall, PatchType, Resource, after_write};
use crate::core::kinds::Kind;
use crate::core::model::{Cluster, Connection, SloSpec};
use crate::core::msg::{Msg, ObjectKind, Outcome};

/// Simulated seconds replayed at most per call; a longer gap (a suspended laptop) is
/// skipped over rather than replayed.
const MAX_CATCH_UP_SECS: i64 = 3_600;

pub struct Fleet {
    clusters: Vec<ClusterInfo>,
    rollouts: Vec<RolloutSim>,
    deployments: Vec<DeploymentSim>,
    canaries: Vec<CanarySim>,
    /// Argo CD Applications (one, managing a staging Deployment).
    applications: Vec<AppSim>,
    slos: Vec<SloSim>,
    kustomizations: Vec<KustomizationSim>,
    events: EventRecorder,
    rng: Rng,
    clock: RvClock,
    /// Simulated time: whole seconds behind or at the last `now` given.
    now: Timestamp,
    /// Warnings produced while catching up, sent with the next `advance`.
    outbox: Vec<Msg>,
}

impl Fleet {
    pub fn new(seed: u64, now: Timestamp) -> Self {
        let mut rng = Rng::new(seed);
        let mut clock = RvClock::new();
        let s = scenario::build(now, &mut rng, &mut clock);
        let applications = vec![AppSim::new(
            scenario::STAGING,
            "shop",
            "inventory",
            now,
            &mut clock,
        )];
        Fleet {
            applications,
            clusters: s.clusters,
            rollouts: s.rollouts,
            deployments: s.deployments,
            canaries: s.canaries,
            slos: s.slos,
            kustomizations: s.kustomizations,
            events: EventRecorder::default(),
            rng,
            clock,
            now,
            outbox: Vec::new(),
        }
    }

    pub fn clusters(&self) -> Vec<Cluster> {
        self.clusters
            .iter()
            .map(|c| {
                let mut cluster = Cluster::new(c.name);
                cluster.labels = c.labels.clone();
                cluster.server_version = Some(c.version.to_string());
                cluster
            })
            .collect()
    }

    pub fn slo_specs(&self) -> Vec<SloSpec> {
        self.slos.iter().map(|s| s.spec.clone()).collect()
    }

    /// Everything, as watches starting up would see it: connections, full lists of every
    /// kind per cluster, current warnings and SLO reports.
    pub fn initial(&mut self) -> Vec<Msg> {
        let mut out = Vec::new();
        let clusters: Vec<ClusterInfo> = self.clusters.clone();
        for c in &clusters {
            let cluster = c.name.to_string();
            out.push(Msg::Connection {
                cluster: cluster.clone(),
                connection: Connection::Connected,
            });
            out.push(Msg::ServerVersion {
                cluster: cluster.clone(),
                version: c.version.to_string(),
            });
            let (mut deployments, mut rollouts, mut canaries, mut replicasets, mut runs) =
                (Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new());
            for d in self.deployments.iter_mut().filter(|d| d.cluster == c.name) {
                let (dep, rs) = d.list();
                deployments.push(dep);
                replicasets.extend(rs);
            }
            for r in self.rollouts.iter_mut().filter(|r| r.cluster == c.name) {
                let (ro, rs, ar) = r.list();
                rollouts.push(ro);
                replicasets.extend(rs);
                runs.extend(ar);
            }
            for k in self.canaries.iter_mut().filter(|k| k.cluster == c.name) {
                let (canary, targets, rs) = k.list();
                canaries.push(canary);
                deployments.extend(targets);
                replicasets.extend(rs);
            }
            for (kind, objects) in [
                (ObjectKind::Deployment, deployments),
                (ObjectKind::Rollout, rollouts),
                (ObjectKind::Canary, canaries),
                (ObjectKind::ReplicaSet, replicasets),
                (ObjectKind::AnalysisRun, runs),
                (
                    ObjectKind::Kustomization,
                    self.kustomizations
                        .iter_mut()
                        .filter(|k| k.cluster == c.name)
                        .map(KustomizationSim::list)
                        .collect(),
                ),
                (
                    ObjectKind::Application,
                    self.applications
                        .iter_mut()
                        .filter(|a| a.cluster == c.name)
                        .map(AppSim::list)
                        .collect(),
                ),
            ] {
                out.push(Msg::Relisted {
                    cluster: cluster.clone(),
                    kind,
                    objects,
                });
            }
        }
        self.observe_warnings(&mut out);
        self.outbox.clear();
        // The SLOs' recent past first, one report per trend step, so the console's trend
        // starts with the history the burn windows already hold.
        let step = crate::core::slo_eval::TREND_STEP.as_secs();
        let points = crate::core::slo_eval::TREND_POINTS - 1;
        for slo in &self.slos {
            out.extend(
                slo.past_reports(self.now, step, points)
                    .into_iter()
                    .map(Msg::Slo),
            );
        }
        self.heard_and_slos(&mut out);
        out
    }

    /// Move the simulation to `now` and report what changed since the last call.
    pub fn advance(&mut self, now: Timestamp) -> Vec<Msg> {
        self.catch_up(now);
        // Controllers react to writes at once, not on the next tick.
        let t = self.now;
        for r in &mut self.rollouts {
            r.reconcile(t, &mut self.rng, &mut self.clock);
        }
        for d in &mut self.deployments {
            d.reconcile(t, &mut self.clock);
        }
        let mut out = std::mem::take(&mut self.outbox);
        for d in &mut self.deployments {
            d.drain(&mut out);
        }
        for r in &mut self.rollouts {
            r.drain(&mut out);
        }
        for c in &mut self.canaries {
            c.drain(&mut out);
        }
        for k in &mut self.kustomizations {
            k.tick(t, &mut self.clock);
            k.drain(&mut out);
        }
        for a in &mut self.applications {
            a.drain(&mut out);
        }
        self.heard_and_slos(&mut out);
        out
    }

    /// Replay whole simulated seconds up to `now`.
    fn catch_up(&mut self, now: Timestamp) {
        let gap = now.duration_since(self.now).as_secs();
        if gap > MAX_CATCH_UP_SECS {
            self.now = now - SignedDuration::from_secs(MAX_CATCH_UP_SECS);
        }
        while self.now + SignedDuration::from_secs(1) <= now {
            self.now += SignedDuration::from_secs(1);
            self.second();
        }
    }

    fn second(&mut self) {
        let t = self.now;
        for r in &mut self.rollouts {
            r.tick(t, &mut self.rng, &mut self.clock);
        }
        for d in &mut self.deployments {
            d.tick(t, &mut self.rng, &mut self.clock);
        }
        for c in &mut self.canaries {
            c.tick(t, &mut self.rng, &mut self.clock);
        }
        for a in &mut self.applications {
            a.tick(t, &mut self.clock);
        }
        let shares: Vec<f64> = self
            .slos
            .iter()
            .map(|s| self.error_prone_share(&s.spec.service))
            .collect();
        for (slo, share) in self.slos.iter_mut().zip(shares) {
            slo.second(share, &mut self.rng);
        }
        let mut warnings = Vec::new();
        self.observe_warnings(&mut warnings);
        self.outbox.extend(warnings);
    }

    /// Share of a service's production traffic served by error-prone versions: each prod
    /// cluster running the service takes an equal share of its traffic.
    fn error_prone_share(&self, service: &str) -> f64 {
        let prod = |cluster: &str| {
            self.clusters
                .iter()
                .any(|c| c.name == cluster && c.is_prod())
        };
        let mut shares = Vec::new();
        for r in self
            .rollouts
            .iter()
            .filter(|r| r.app() == service && prod(&r.cluster))
        {
            let bad = r.current_quality() == Quality::ErrorProne && !r.facts().aborted;
            shares.push(if bad { r.canary_traffic_share() } else { 0.0 });
        }
        for c in self
            .canaries
            .iter()
            .filter(|c| c.app() == service && prod(&c.cluster))
        {
            shares.push(c.error_prone_share());
        }
        if shares.is_empty() {
            0.0
        } else {
            shares.iter().sum::<f64>() / shares.len() as f64
        }
    }

    fn observe_warnings(&mut self, out: &mut Vec<Msg>) {
        let t = self.now;
        for d in &self.deployments {
            d.observe_warnings(&mut self.events, t, out);
        }
        for r in &self.rollouts {
            r.observe_warnings(&mut self.events, t, out);
        }
    }

    fn heard_and_slos(&self, out: &mut Vec<Msg>) {
        for c in &self.clusters {
            out.push(Msg::Heard {
                cluster: c.name.to_string(),
                at: self.now,
            });
        }
        out.extend(self.slos.iter().map(|s| Msg::Slo(s.report(self.now))));
    }

    /// Carry out an action's requests in order, as the API server (and, for Flagger's
    /// rollback, the loadtester) would answer them; the first failure stops the rest. The
    /// resulting objects go out with the next `advance`.
    pub fn apply(&mut self, plan: &ActionPlan, now: Timestamp) -> Outcome {
        self.catch_up(now);
        if !self.clusters.iter().any(|c| c.name == plan.cluster) {
            return Outcome::Unknown {
                detail: format!("no cluster named {:?} in the demo fleet", plan.cluster),
            };
        }
        let mut last = patch::invalid("the action has no requests");
        let mut previous: Option<&ApiCall> = None;
        for call in &plan.calls {
            // A later call carries the resourceVersion the one before it produced.
            let wire = match previous.and_then(|p| Some((p, self.rv_after(&plan.cluster, p)?))) {
                Some((p, rv)) => after_write(call, p, &rv),
                None => call.clone(),
            };
            match self.call(&plan.cluster, &wire) {
                Ok(outcome) => last = outcome,
                Err(outcome) => return outcome,
            }
            previous = Some(call);
        }
        last
    }

    /// A merge patch on the simulated object of that kind.
    fn patch(
        &mut self,
        cluster: &str,
        resource: &Resource,
        namespace: &str,
        name: &str,
        body: &serde_json::Value,
    ) -> Result<Outcome, Outcome> {
        let clock = &mut self.clock;
        match Kind::by_plural(resource.plural) {
            Some(Kind::Rollout) => find(&mut self.rollouts, cluster, namespace, name, |r| {
                (&r.cluster, &r.facts().meta)
            })
            .ok_or_else(|| patch::not_found(Kind::Rollout.resource(), name))?
            .patch(resource.subresource == Some("status"), body, clock),
            Some(Kind::Deployment) => find(&mut self.deployments, cluster, namespace, name, |d| {
                (&d.cluster, &d.facts().meta)
            })
            .ok_or_else(|| patch::not_found(Kind::Deployment.resource(), name))?
            .patch(body, clock),
            Some(Kind::Canary) => find(&mut self.canaries, cluster, namespace, name, |c| {
                (&c.cluster, &c.facts().meta)
            })
            .ok_or_else(|| patch::not_found(Kind::Canary.resource(), name))?
            .patch(body, clock),
            Some(Kind::Kustomization) => {
                find(&mut self.kustomizations, cluster, namespace, name, |k| {
                    (&k.cluster, &k.facts().meta)
                })
                .ok_or_else(|| patch::not_found(Kind::Kustomization.resource(), name))?
                .patch(body, clock)
            }
            Some(Kind::Application) => {
                let now = self.now;
                find(&mut self.applications, cluster, namespace, name, |a| {
                    (&a.cluster, &a.facts().meta)
                })
                .ok_or_else(|| patch::not_found(Kind::Application.resource(), name))?
                .patch(body, now, clock)
            }
            // No other kind is simulated.
            Some(_) | None => Err(patch::not_found(resource.plural, name)),
        }
    }

    fn call(&mut self, cluster: &str, call: &ApiCall) -> Result<Outcome, Outcome> {
        let clock = &mut self.clock;
        match call {
            ApiCall::Patch {
                patch_type: PatchType::Json,
                resource,
                namespace,
                name,
                body,
            } if Kind::by_plural(resource.plural) == Some(Kind::Experiment) => self
                .rollouts
                .iter_mut()
                .filter(|r| r.cluster == cluster && r.facts().meta.namespace == *namespace)
                .find_map(|r| r.patch_experiment(name, body, clock))
                .unwrap_or_else(|| Err(patch::not_found(Kind::Experiment.resource(), name))),
            ApiCall::Patch {
                patch_type: PatchType::Json,
                ..
            } => Err(Outcome::Rejected {
                status: 415,
                detail: "the demo fleet takes merge patches only".into(),
            }),
            ApiCall::Patch {
                resource,
                namespace,
                name,
                body,
                ..
            } => self.patch(cluster, resource, namespace, name, body),
            ApiCall::RollbackTo {
                resource,
                namespace,
                name,
                replicaset,
                resource_version,
                ..
            } => match Kind::by_plural(resource.plural) {
                Some(Kind::Rollout) => find(&mut self.rollouts, cluster, namespace, name, |r| {
                    (&r.cluster, &r.facts().meta)
                })
                .ok_or_else(|| patch::not_found(Kind::Rollout.resource(), name))?
                .rollback_to(replicaset, resource_version, clock),
                Some(Kind::Deployment) => {
                    find(&mut self.deployments, cluster, namespace, name, |d| {
                        (&d.cluster, &d.facts().meta)
                    })
                    .ok_or_else(|| patch::not_found(Kind::Deployment.resource(), name))?
                    .rollback_to(replicaset, resource_version, clock)
                }
                // Undo is a template write-back only for these two.
                Some(_) | None => Err(patch::not_found(resource.plural, name)),
            },
            ApiCall::LoadtesterPost { to, path, body, .. } => {
                let service = match to {
                    crate::core::action::Loadtester::Service { service, .. } => service.as_str(),
                    crate::core::action::Loadtester::Url { base } => base.as_str(),
                };
                let known = ["/rollback/open", "/gate/open", "/gate/close"];
                if service != "flagger-loadtester" || !known.contains(&path.as_str()) {
                    return Err(patch::not_found(
                        "services/proxy",
                        &format!("{service}{path}"),
                    ));
                }
                let field = |k: &str| {
                    body.get(k)
                        .and_then(|v| v.as_str())
                        .unwrap_or_default()
                        .to_string()
                };
                let (name, namespace) = (field("name"), field("namespace"));
                let canary = find(&mut self.canaries, cluster, &namespace, &name, |c| {
                    (&c.cluster, &c.facts().meta)
                })
                .ok_or_else(|| patch::not_found("canaries.flagger.app", &name))?;
                // The loadtester only records the gate; Flagger acts on its next check.
                let what = match path.as_str() {
                    "/gate/open" => {
                        canary.set_gate(true);
                        "gate opened"
                    }
                    "/gate/close" => {
                        canary.set_gate(false);
                        "gate closed"
                    }
                    _ => {
                        canary.open_rollback_gate();
                        "rollback gate opened"
                    }
                };
                Ok(Outcome::Applied {
                    status: 202,
                    detail: format!("{what} for {name}.{namespace}"),
                })
            }
        }
    }
}

fn find<'a, T>(
    items: &'a mut [T],
    cluster: &str,
    namespace: &str,
    name: &str,
    id: impl Fn(&T) -> (&String, &crate::core::facts::ObjectMeta),
) -> Option<&'a mut T> {
    items.iter_mut().find(|item| {
        let (c, meta) = id(item);
        c == cluster && meta.namespace == namespace && meta.name == name
    })
}
