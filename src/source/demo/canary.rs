//! A simulated Flagger Canary and Flagger's scheduler: every analysis interval the canary
//! weight rises by `stepWeight` up to `maxWeight`, failed checks count towards `threshold`,
//! then Promoting → Finalising → Succeeded, or Failed with weight 0. Gates (confirm-rollout,
//! confirm-promotion, the loadtester's rollback gate) are modelled by their effect.
//! Flagger's two Deployments are simulated too, as the Deployment controller runs them: the
//! target (the version under test, scaled up while it is analysed and to zero after) and
//! `<target>-primary` (what serves; it takes the target's template on promotion).

use jiff::{SignedDuration, Timestamp};
use serde_json::Value;

use super::deployment::{DeploymentInit, DeploymentSim};
use super::patch::{self, bool_field};
use super::replicaset::Quality;
use super::rng::Rng;
use super::script::{Script, bump_image};
use super::store::{HasMeta, RvClock, Tracked};
use crate::core::facts::{CanaryFacts, Gate, GateHook, ObjectFacts, ObjectMeta};
use crate::core::kinds::canary::primary_name;
use crate::core::msg::{Msg, Outcome};
use crate::core::text::Untrusted;

impl HasMeta for CanaryFacts {
    fn meta(&self) -> &ObjectMeta {
        &self.meta
    }
    fn meta_mut(&mut self) -> &mut ObjectMeta {
        &mut self.meta
    }
}

#[derive(Debug, Clone)]
pub struct CanaryInit {
    pub cluster: String,
    pub namespace: String,
    pub name: String,
    pub app: String,
    pub step_weight: u32,
    pub max_weight: u32,
    pub threshold: u32,
    pub interval_secs: i64,
    /// Flagger phase at start, and the canary weight and failed checks it has reached.
    pub phase: &'static str,
    pub weight: u32,
    pub failed_checks: u32,
    /// How the version under analysis behaves.
    pub quality: Quality,
    /// A confirm-promotion gate holds each release at max weight until approved.
    pub confirm_promotion: bool,
    /// Seconds until the gate currently holding the canary (Waiting / WaitingPromotion) is
    /// opened by the simulated approver.
    pub gate_opens_after: Option<i64>,
    /// Pods of the primary (and of the target while it is analysed).
    pub replicas: i32,
    /// The primary's image; the target runs its next version while it is in flight or
    /// failed.
    pub image: String,
    pub since_secs: i64,
    pub age_secs: i64,
    pub script: Script,
}

#[derive(Debug, Clone)]
pub struct CanarySim {
    pub cluster: String,
    canary: Tracked<CanaryFacts>,
    quality: Quality,
    /// Quality of the version the primary runs (what takes traffic outside the canary).
    primary_quality: Quality,
    interval: SignedDuration,
    next_check: Timestamp,
    confirm_promotion: bool,
    gate_opens_at: Option<Timestamp>,
    /// The loadtester's rollback gate was opened (`/rollback/open`).
    rollback_requested: bool,
    /// The loadtester's confirm gate for this canary is open (`/gate/open` until
    /// `/gate/close`).
    gate_opened: bool,
    script: Script,
    target: DeploymentSim,
    primary: DeploymentSim,
    replicas: i32,
}

fn message(phase: &str) -> &'static str {
    match phase {
        "Progressing" => "New revision detected, progressing canary analysis.",
        "Waiting" => "Confirm-rollout webhook is closed, waiting for approval.",
        "WaitingPromotion" => "Confirm-promotion webhook is closed, waiting for approval.",
        "Promoting" => "Canary analysis completed, starting primary rolling update.",
        "Finalising" => "Canary analysis completed, routing all traffic to primary.",
        "Succeeded" => "Canary analysis completed successfully, promotion finished.",
        "Failed" => "Canary analysis failed, Deployment scaled to zero.",
        _ => "Deployment initialization completed.",
    }
}

/// The target's template is a new version (not yet the primary's) in these phases.
fn new_version_in(phase: &str) -> bool {
    matches!(
        phase,
        "Waiting" | "Progressing" | "WaitingPromotion" | "Promoting" | "Failed"
    )
}

/// Flagger runs the target's pods in these phases (scaled to zero otherwise).
fn target_runs_in(phase: &str) -> bool {
    matches!(
        phase,
        "Progressing" | "WaitingPromotion" | "Promoting" | "Finalising"
    )
}

fn workload(init: &CanaryInit, name: &str, history: Vec<String>, replicas: i32) -> DeploymentInit {
    DeploymentInit {
        cluster: init.cluster.clone(),
        namespace: init.namespace.clone(),
        name: name.to_string(),
        app: init.app.clone(),
        replicas,
        history,
        update: None,
        progress_deadline_secs: 600,
        age_secs: init.age_secs,
        // Flagger last changed the workloads when the canary last moved.
        settled_secs: init.since_secs.max(3_600),
        script: Script::idle(),
    }
}

impl CanarySim {
    /// The Deployments it runs (target and primary).
    pub fn deployments(&self) -> [&DeploymentSim; 2] {
        [&self.target, &self.primary]
    }

    pub fn new(init: CanaryInit, now: Timestamp, clock: &mut RvClock) -> Self {
        let mut history = vec![init.image.clone()];
        if new_version_in(init.phase) {
            history.push(bump_image(&init.image));
        }
        let running = if target_runs_in(init.phase) {
            init.replicas
        } else {
            0
        };
        let target = workload(&init, &init.name, history, running);
        let primary = workload(
            &init,
            &primary_name(&init.name),
            vec![init.image.clone()],
            init.replicas,
        );
        let target = DeploymentSim::new(target, now, clock);
        let primary = DeploymentSim::new(primary, now, clock);
        let uid = super::store::uid(&[&init.cluster, "Canary", &init.namespace, &init.name]);
        let facts = CanaryFacts {
            meta: ObjectMeta {
                namespace: init.namespace.clone(),
                name: init.name.clone(),
                uid,
                generation: 1,
                created: Some(now - SignedDuration::from_secs(init.age_secs)),
                labels: [("app.kubernetes.io/name".to_string(), init.app.clone())].into(),
                ..ObjectMeta::default()
            },
            target: format!("Deployment/{}", init.name),
            max_weight: Some(init.max_weight),
            step_weight: Some(init.step_weight),
            threshold: Some(init.threshold),
            phase: init.phase.into(),
            canary_weight: init.weight,
            failed_checks: init.failed_checks,
            last_transition: Some(now - SignedDuration::from_secs(init.since_secs)),
            message: Untrusted::new(message(init.phase)),
            rollback_webhook: Some(format!(
                "http://flagger-loadtester.{}:80/rollback/check",
                init.namespace
            )),
            gates: if init.confirm_promotion {
                vec![Gate {
                    hook: GateHook::ConfirmPromotion,
                    url: format!("http://flagger-loadtester.{}:80/gate/check", init.namespace),
                }]
            } else {
                Vec::new()
            },
            ..CanaryFacts::default()
        };
        let interval = SignedDuration::from_secs(init.interval_secs);
        CanarySim {
            cluster: init.cluster,
            canary: Tracked::create(facts, clock),
            quality: init.quality,
            primary_quality: Quality::Good,
            interval,
            next_check: now + interval,
            confirm_promotion: init.confirm_promotion,
            gate_opened: false,
            gate_opens_at: init
                .gate_opens_after
                .map(|s| now + SignedDuration::from_secs(s)),
            rollback_requested: false,
            script: init.script,
            target,
            primary,
            replicas: init.replicas,
        }
    }

    pub fn facts(&self) -> &CanaryFacts {
        &self.canary.obj
    }

    pub fn app(&self) -> &str {
        self.canary
            .obj
            .meta
            .labels
            .get("app.kubernetes.io/name")
            .map_or("", String::as_str)
    }

    /// Share of traffic (0..=1) served by an error-prone version, for the SLO.
    pub fn error_prone_share(&self) -> f64 {
        let c = &self.canary.obj;
        let canary = f64::from(c.canary_weight) / 100.0;
        let bad = |q: Quality| if q == Quality::ErrorProne { 1.0 } else { 0.0 };
        canary * bad(self.quality) + (1.0 - canary) * bad(self.primary_quality)
    }

    pub fn tick(&mut self, now: Timestamp, rng: &mut Rng, clock: &mut RvClock) {
        let settled = matches!(
            self.canary.obj.phase.as_str(),
            "Succeeded" | "Failed" | "Initialized"
        );
        if let Some(quality) = self.script.due(now, settled, rng) {
            self.new_revision(quality, now);
        }
        if !self.canary.obj.suspend && now >= self.next_check {
            self.next_check = now + self.interval;
            self.analyse(now, rng);
        }
        self.canary.commit(clock);
        self.drive_workloads();
        self.target.tick(now, rng, clock);
        self.primary.tick(now, rng, clock);
    }

    /// What Flagger writes to its Deployments in the current phase: the target scaled up
    /// while analysed and to zero otherwise; on promotion the primary takes its template.
    fn drive_workloads(&mut self) {
        let phase = self.canary.obj.phase.as_str().to_string();
        let running = if target_runs_in(&phase) {
            self.replicas
        } else {
            0
        };
        self.target.set_replicas(running);
        if phase == "Promoting"
            && let Some(image) = self.target.facts().images.first().cloned()
        {
            self.primary.set_image(image, self.quality);
        }
    }

    /// The target's template changed: Flagger starts a new analysis from weight 0.
    fn new_revision(&mut self, quality: Quality, now: Timestamp) {
        self.quality = quality;
        if let Some(image) = self.target.facts().images.first() {
            self.target.set_image(bump_image(image), quality);
        }
        self.rollback_requested = false;
        self.gate_opens_at = None;
        let c = &mut self.canary.obj;
        c.canary_weight = 0;
        c.failed_checks = 0;
        c.iterations = 0;
        self.set_phase("Progressing", now);
        self.next_check = now + self.interval;
    }

    fn set_phase(&mut self, phase: &str, now: Timestamp) {
        let c = &mut self.canary.obj;
        if c.phase != phase {
            c.phase = phase.into();
            c.last_transition = Some(now);
        }
        c.message = Untrusted::new(message(phase));
    }

    fn fail(&mut self, now: Timestamp, why: String) {
        self.canary.obj.canary_weight = 0;
        self.set_phase("Failed", now);
        self.canary.obj.message = Untrusted::new(why);
    }

    /// One analysis interval of Flagger's scheduler.
    fn analyse(&mut self, now: Timestamp, rng: &mut Rng) {
        let gate_open = self.gate_open(now);
        let (name, ns) = (
            self.canary.obj.meta.name.clone(),
            self.canary.obj.meta.namespace.clone(),
        );
        let phase = self.canary.obj.phase.clone();
        let in_flight = matches!(
            phase.as_str(),
            "Progressing" | "Waiting" | "WaitingPromotion"
        );
        if in_flight && self.rollback_requested {
            self.rollback_requested = false;
            return self.fail(
                now,
                format!("Rolling back {name}.{ns} manual webhook invoked"),
            );
        }
        match phase.as_str() {
            "Waiting" if gate_open => {
                self.gate_opens_at = None;
                self.set_phase("Progressing", now);
            }
            "Progressing" if self.canary.obj.skip_analysis => self.set_phase("Promoting", now),
            "Progressing" => self.check(now, rng, &name, &ns),
            "WaitingPromotion" if gate_open || self.canary.obj.skip_analysis => {
                self.gate_opens_at = None;
                self.set_phase("Promoting", now);
            }
            "Promoting" => {
                self.primary_quality = self.quality;
                self.set_phase("Finalising", now);
            }
            "Finalising" => {
                self.canary.obj.canary_weight = 0;
                self.set_phase("Succeeded", now);
            }
            _ => {}
        }
    }

    /// Metric checks at the current weight, then advance or halt.
    fn check(&mut self, now: Timestamp, rng: &mut Rng, name: &str, ns: &str) {
        let c = &mut self.canary.obj;
        if self.quality != Quality::Good {
            c.failed_checks += 1;
            let rate = 88.0 + rng.unit() * 8.0;
            c.message = Untrusted::new(format!(
                "Halt {name}.{ns} advancement success rate {rate:.2}% < 99%"
            ));
            if c.failed_checks >= c.threshold.unwrap_or(1) {
                let why = format!(
                    "Canary analysis failed, {name} scaled to zero (failed checks threshold reached {})",
                    c.failed_checks
                );
                self.fail(now, why);
            }
            return;
        }
        let (step, max) = (c.step_weight.unwrap_or(10), c.max_weight.unwrap_or(50));
        if c.canary_weight >= max {
            if self.confirm_promotion {
                // A simulated approver opens the gate a little later.
                self.gate_opens_at = Some(now + SignedDuration::from_secs(rng.range(60, 120)));
                self.set_phase("WaitingPromotion", now);
            } else {
                self.set_phase("Promoting", now);
            }
            return;
        }
        c.canary_weight = (c.canary_weight + step).min(max);
        c.message = Untrusted::new(format!(
            "Advance {name}.{ns} canary weight {}",
            c.canary_weight
        ));
    }

    /// The loadtester's `/gate/open` (true) or `/gate/close` (false) for this canary: Flagger
    /// goes on (or waits) at its next check.
    pub fn set_gate(&mut self, open: bool) {
        self.gate_opened = open;
    }

    /// The loadtester's `/gate/check`: opened by `/gate/open`, or by the simulated approver.
    pub fn gate_open(&self, now: Timestamp) -> bool {
        self.gate_opened || self.gate_opens_at.is_some_and(|t| now >= t)
    }

    /// The loadtester's `/rollback/open`: Flagger rolls back at its next check.
    pub fn open_rollback_gate(&mut self) {
        self.rollback_requested = true;
    }

    pub fn drain(&mut self, out: &mut Vec<Msg>) {
        self.target.drain(out);
        self.primary.drain(out);
        if let Some(facts) = self.canary.take_unsent() {
            out.push(Msg::Upsert {
                cluster: self.cluster.clone(),
                facts: ObjectFacts::Canary(facts),
            });
        }
    }

    /// The Canary, its two Deployments and their ReplicaSets, as lists report them.
    pub fn list(&mut self) -> (ObjectFacts, Vec<ObjectFacts>, Vec<ObjectFacts>) {
        let (mut deployments, mut replicasets) = (Vec::new(), Vec::new());
        for d in [&mut self.target, &mut self.primary] {
            let (dep, rs) = d.list();
            deployments.push(dep);
            replicasets.extend(rs);
        }
        (
            ObjectFacts::Canary(self.canary.snapshot()),
            deployments,
            replicasets,
        )
    }

    /// Merge patch on the Canary: `spec.suspend`, `spec.skipAnalysis`.
    pub fn patch(&mut self, body: &Value, clock: &mut RvClock) -> Result<Outcome, Outcome> {
        let name = self.canary.obj.meta.name.clone();
        patch::check_resource_version(
            body,
            self.canary.resource_version(),
            "canaries.flagger.app",
            &name,
        )?;
        let c = &mut self.canary.obj;
        let before = (c.suspend, c.skip_analysis);
        if let Some(v) = bool_field(body, &["spec", "suspend"]) {
            c.suspend = v;
        }
        if let Some(v) = bool_field(body, &["spec", "skipAnalysis"]) {
            c.skip_analysis = v;
        }
        if before != (c.suspend, c.skip_analysis) {
            c.meta.generation += 1;
        }
        self.canary.commit(clock);
        Ok(patch::applied(format!("canary.flagger.app/{name} patched")))
    }
}
