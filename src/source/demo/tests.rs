//! End-to-end tests of the demo fleet through the same path a real cluster takes: the
//! messages it sends are folded into a view, releases are derived by `core::status`, and
//! actions are planned by `core::action::plan` — then applied to the fleet.

use std::collections::BTreeMap;

use jiff::{SignedDuration, Timestamp};

use super::{Fleet, PROD_EU, PROD_US, STAGING};
use crate::core::action::{self, ActionKind, ActionPlan};
use crate::core::facts::{
    DeploymentFacts, ObjectFacts, PauseReason, ReplicaSetFacts, WarningEvent,
};
use crate::core::model::{BurnWindow, Phase, Release, ReleaseKind, RsRole};
use crate::core::msg::{Msg, ObjectKind, Outcome, SloReport};
use crate::core::status::Ctx;

type Key = (String, ObjectKind, String, String);

/// What a console would know after receiving the fleet's messages.
#[derive(Default)]
struct View {
    objects: BTreeMap<Key, ObjectFacts>,
    warnings: Vec<(String, WarningEvent)>,
    slos: BTreeMap<String, SloReport>,
    upserts: usize,
}

impl View {
    fn fold(&mut self, msgs: Vec<Msg>) {
        for msg in msgs {
            match msg {
                Msg::Relisted {
                    cluster,
                    kind,
                    objects,
                } => {
                    self.objects.retain(|k, _| !(k.0 == cluster && k.1 == kind));
                    for facts in objects {
                        self.put(&cluster, facts);
                    }
                }
                Msg::Upsert { cluster, facts } => {
                    self.upserts += 1;
                    self.put(&cluster, facts);
                }
                Msg::Delete {
                    cluster,
                    kind,
                    namespace,
                    name,
                } => {
                    self.objects.remove(&(cluster, kind, namespace, name));
                }
                Msg::Warning { cluster, event } => self.warnings.push((cluster, event)),
                Msg::Slo(report) => {
                    self.slos.insert(report.slo.clone(), report);
                }
                _ => {}
            }
        }
    }

    fn put(&mut self, cluster: &str, facts: ObjectFacts) {
        let kind = ObjectKind::of(&facts).expect("parseable");
        let (ns, name) = facts.meta_name();
        let key = (cluster.to_string(), kind, ns.to_string(), name.to_string());
        self.objects.insert(key, facts);
    }

    fn replicasets(&self, cluster: &str) -> Vec<&ReplicaSetFacts> {
        self.objects
            .iter()
            .filter_map(|(k, f)| match f {
                ObjectFacts::ReplicaSet(rs) if k.0 == cluster => Some(rs),
                _ => None,
            })
            .collect()
    }

    fn deployments(&self, cluster: &str, ns: &str) -> Vec<&DeploymentFacts> {
        self.objects
            .iter()
            .filter_map(|(k, f)| match f {
                ObjectFacts::Deployment(d) if k.0 == cluster && k.2 == ns => Some(d),
                _ => None,
            })
            .collect()
    }

    fn releases(&self) -> Vec<Release> {
        self.objects
            .iter()
            .filter_map(|(k, f)| {
                let ctx = Ctx {
                    cluster: &k.0,
                    service_label: "app.kubernetes.io/name",
                    service_override: None,
                };
                let rs = self.replicasets(&k.0);
                let deployments = self.deployments(&k.0, &k.2);
                crate::core::kinds::derive(&ctx, f, &deployments, &rs)
            })
            .collect()
    }

    fn release(&self, cluster: &str, kind: ReleaseKind, ns: &str, name: &str) -> Release {
        self.releases()
            .into_iter()
            .find(|r| {
                r.key.cluster == cluster
                    && r.key.kind == kind
                    && r.key.namespace == ns
                    && r.key.name == name
            })
            .unwrap_or_else(|| panic!("no release {cluster}/{ns}/{name}"))
    }

    fn burn_ratio(&self, slo: &str, window: BurnWindow) -> f64 {
        self.slos[slo]
            .ratios
            .iter()
            .find(|(w, _)| *w == window)
            .and_then(|(_, r)| *r)
            .expect("ratio")
    }
}

/// A fleet, what the console saw of it, and the simulated wall clock.
struct Harness {
    fleet: Fleet,
    view: View,
    now: Timestamp,
}

fn t0() -> Timestamp {
    "2026-11-26T08:00:00Z".parse().expect("timestamp")
}

impl Harness {
    fn new(seed: u64) -> Self {
        let mut fleet = Fleet::new(seed, t0());
        let mut view = View::default();
        view.fold(fleet.initial());
        Harness {
            fleet,
            view,
            now: t0(),
        }
    }

    /// Advance like the runner does: one tick per second.
    fn wait(&mut self, secs: i64) {
        for _ in 0..secs {
            self.now += SignedDuration::from_secs(1);
            let msgs = self.fleet.advance(self.now);
            self.view.fold(msgs);
        }
    }

    /// Wait (at most `limit` seconds) until `pred` holds for the release.
    fn wait_for(
        &mut self,
        limit: i64,
        key: (&str, ReleaseKind, &str, &str),
        pred: impl Fn(&Release) -> bool,
    ) -> Release {
        for _ in 0..limit {
            let r = self.release(key);
            if pred(&r) {
                return r;
            }
            self.wait(1);
        }
        let r = self.release(key);
        assert!(
            pred(&r),
            "condition not reached in {limit}s: {:?} {:?} step {:?}",
            r.phase,
            r.message,
            r.step
        );
        r
    }

    fn release(&self, key: (&str, ReleaseKind, &str, &str)) -> Release {
        self.view.release(key.0, key.1, key.2, key.3)
    }

    fn plan(&self, kind: ActionKind, key: (&str, ReleaseKind, &str, &str)) -> ActionPlan {
        let release = self.release(key);
        let cluster = self
            .fleet
            .clusters()
            .into_iter()
            .find(|c| c.name == key.0)
            .expect("cluster");
        action::plan(kind, &release, &cluster, false, self.now)
            .unwrap_or_else(|why| panic!("{kind} not possible: {why}"))
    }

    /// Apply a plan and take in the resulting messages, as the runner does.
    fn apply(&mut self, plan: &ActionPlan) -> Outcome {
        let outcome = self.fleet.apply(plan, self.now);
        let msgs = self.fleet.advance(self.now);
        self.view.fold(msgs);
        outcome
    }

    fn act(&mut self, kind: ActionKind, key: (&str, ReleaseKind, &str, &str)) -> Outcome {
        let plan = self.plan(kind, key);
        self.apply(&plan)
    }
}

const CHECKOUT: (&str, ReleaseKind, &str, &str) =
    (PROD_EU, ReleaseKind::Rollout, "shop", "checkout");
const SEARCH: (&str, ReleaseKind, &str, &str) = (PROD_US, ReleaseKind::Rollout, "search", "search");

fn applied(o: &Outcome) {
    assert!(o.is_applied(), "expected applied, got {o:?}");
}

#[test]
fn checkout_starts_paused_awaiting_promotion() {
    let h = Harness::new(1);
    let r = h.release(CHECKOUT);
    assert_eq!(r.phase, Phase::Paused, "{:?}", r.message);
    let (step, steps) = r.step.expect("step");
    assert!(step >= 1 && steps >= 4, "{step}/{steps}");
    let pause = r.pause.as_ref().expect("paused at a step");
    assert_eq!(pause.reason, PauseReason::CanaryPauseStep);
    assert_eq!(pause.duration, None, "an indefinite pause awaits a human");
    assert_eq!(r.service.as_deref(), Some("checkout"));
    assert_eq!((r.set_weight, r.actual_weight), (Some(20), Some(20)));
    assert!(action::applicable(ActionKind::Promote, &r).is_ok());
    let prod = h
        .fleet
        .clusters()
        .into_iter()
        .find(|c| c.name == PROD_EU)
        .expect("cluster");
    assert!(prod.is_prod());
}

#[test]
fn fleet_has_three_clusters_and_twenty_releases_of_every_kind() {
    let h = Harness::new(1);
    let clusters = h.fleet.clusters();
    assert!(clusters.len() >= 3);
    let env = |name: &str| {
        clusters
            .iter()
            .find(|c| c.name == name)
            .and_then(|c| c.labels.get("env").cloned())
    };
    assert_eq!(env(PROD_EU).as_deref(), Some("prod"));
    assert_eq!(env(PROD_US).as_deref(), Some("prod"));
    assert_eq!(env(STAGING).as_deref(), Some("staging"));
    let releases = h.view.releases();
    assert!(releases.len() >= 20, "{}", releases.len());
    for kind in [
        ReleaseKind::Deployment,
        ReleaseKind::Rollout,
        ReleaseKind::Canary,
    ] {
        assert!(
            releases.iter().filter(|r| r.key.kind == kind).count() >= 5,
            "{kind:?}"
        );
    }
    // Every state the console has to show is there at start.
    for phase in [
        Phase::Healthy,
        Phase::Progressing,
        Phase::Paused,
        Phase::Degraded,
    ] {
        assert!(releases.iter().any(|r| r.phase == phase), "{phase:?}");
    }
    let slos: Vec<String> = h.fleet.slo_specs().into_iter().map(|s| s.name).collect();
    for name in ["checkout-availability", "search-availability"] {
        assert!(slos.iter().any(|s| s == name) && h.view.slos.contains_key(name));
    }
    assert!(!h.view.warnings.is_empty());
}

#[test]
fn promote_releases_one_pause_and_stops_at_the_next() {
    let mut h = Harness::new(1);
    applied(&h.act(ActionKind::Promote, CHECKOUT));
    let mut reached = false;
    for _ in 0..25 {
        h.wait(1);
        let r = h.release(CHECKOUT);
        let (step, _) = r.step.expect("step");
        assert!(step <= 3, "skipped past the next pause: step {step}");
        reached |= step == 3 && r.phase == Phase::Paused;
    }
    assert!(reached, "never reached the next pause");
    let r = h.release(CHECKOUT);
    assert_eq!((r.set_weight, r.actual_weight), (Some(50), Some(50)));
}

#[test]
fn stale_promote_conflicts_and_does_not_release_another_pause() {
    let mut h = Harness::new(1);
    let plan = h.plan(ActionKind::Promote, CHECKOUT);
    applied(&h.apply(&plan));
    let r = h.wait_for(30, CHECKOUT, |r| {
        r.phase == Phase::Paused && r.step == Some((3, 6))
    });
    // The same key press again, with what the user saw before.
    let again = h.apply(&plan);
    assert!(
        matches!(again, Outcome::Conflict { status: 409, .. }),
        "{again:?}"
    );
    h.wait(5);
    let after = h.release(CHECKOUT);
    assert_eq!(after.step, r.step);
    assert_eq!(after.phase, Phase::Paused);
}

#[test]
fn promote_over_a_manual_and_a_step_pause_chains_its_two_calls() {
    let mut h = Harness::new(1);
    // Pause checkout by hand on top of its step pause (the action bar refuses "already
    // paused"; someone with kubectl does not).
    let mut pause = h.plan(ActionKind::Promote, CHECKOUT);
    pause.calls = vec![crate::core::action::ApiCall::Patch {
        resource: action::ROLLOUTS,
        namespace: "shop".into(),
        name: "checkout".into(),
        patch_type: action::PatchType::Merge,
        body: serde_json::json!({"spec": {"paused": true}}),
    }];
    applied(&h.apply(&pause));
    let r = h.release(CHECKOUT);
    assert!(
        r.facts.spec_paused && r.facts.pause_conditions,
        "{:?}",
        r.facts
    );
    let plan = h.plan(ActionKind::Promote, CHECKOUT);
    assert_eq!(plan.calls.len(), 2);
    // Both calls name the version the user saw; the second is sent with the first's answer.
    applied(&h.apply(&plan));
    let r = h.wait_for(30, CHECKOUT, |r| r.step == Some((3, 6)));
    assert!(!r.facts.spec_paused);
}

#[test]
fn timed_pause_counts_down_and_elapses_by_itself() {
    let mut h = Harness::new(1);
    applied(&h.act(ActionKind::Promote, CHECKOUT));
    let r = h.wait_for(30, CHECKOUT, |r| {
        r.step == Some((3, 6)) && r.phase == Phase::Paused
    });
    let pause = r.pause.expect("timed pause");
    assert_eq!(pause.duration, Some(SignedDuration::from_secs(30)));
    let left = pause.remaining(h.now).expect("countdown");
    h.wait(10);
    let later = h
        .release(CHECKOUT)
        .pause
        .expect("still paused")
        .remaining(h.now)
        .expect("countdown");
    assert!(later < left);
    // Runs out: the controller moves on to setWeight 80 and stops at the last pause.
    let r = h.wait_for(60, CHECKOUT, |r| {
        r.step == Some((5, 6)) && r.phase == Phase::Paused
    });
    assert_eq!(r.set_weight, Some(80));
    // ... which runs out too: fully promoted.
    let r = h.wait_for(60, CHECKOUT, |r| r.phase == Phase::Healthy);
    assert!(r.facts.fully_promoted);
    assert!(r.images.iter().all(|i| i.ends_with(":2.14.0")));
}

#[test]
fn abort_degrades_with_weight_zero_and_retry_restarts_from_step_zero() {
    let mut h = Harness::new(1);
    applied(&h.act(ActionKind::Abort, CHECKOUT));
    let r = h.wait_for(5, CHECKOUT, |r| r.phase == Phase::Degraded);
    assert!(
        r.message
            .raw()
            .starts_with("RolloutAborted: Rollout aborted update to revision 3"),
        "{:?}",
        r.message
    );
    assert_eq!((r.set_weight, r.actual_weight), (Some(0), Some(0)));
    assert_eq!(r.step, Some((0, 6)));
    assert!(r.facts.aborted);
    // The canary ReplicaSet is scaled away.
    let canary = r
        .revisions
        .iter()
        .find(|rev| rev.revision == Some(3))
        .expect("canary rs");
    assert_eq!(canary.desired, 0);

    applied(&h.act(ActionKind::Retry, CHECKOUT));
    let r = h.release(CHECKOUT);
    assert_eq!(r.step, Some((0, 6)));
    assert_eq!(r.phase, Phase::Progressing, "{:?}", r.message);
    assert!(!r.facts.aborted);
    // It goes through the steps again and stops at the first pause.
    let r = h.wait_for(30, CHECKOUT, |r| r.phase == Phase::Paused);
    assert_eq!(r.step, Some((1, 6)));
}

#[test]
fn undo_restores_the_previous_revision() {
    let mut h = Harness::new(1);
    let before = h.release(CHECKOUT);
    let (_, previous) = before.facts.undo_target.clone().expect("undo target");
    let prev_images = before
        .revisions
        .iter()
        .find(|r| r.revision == Some(previous))
        .map(|r| r.images.clone())
        .expect("previous revision");
    applied(&h.act(ActionKind::Undo, CHECKOUT));
    let r = h.wait_for(20, CHECKOUT, |r| r.phase == Phase::Healthy);
    assert_eq!(r.images, prev_images);
    // Like Argo and Kubernetes, the restored template gets a new revision number.
    assert!(r.facts.current_revision > before.facts.current_revision);
    assert!(r.facts.fully_promoted);
}

#[test]
fn promote_full_skips_the_remaining_steps() {
    let mut h = Harness::new(1);
    applied(&h.act(ActionKind::PromoteFull, CHECKOUT));
    let r = h.wait_for(30, CHECKOUT, |r| r.phase == Phase::Healthy);
    assert!(r.facts.fully_promoted);
    assert!(r.images.iter().all(|i| i.ends_with(":2.14.0")));
}

#[test]
fn promote_during_an_analysis_step_terminates_the_run() {
    let mut h = Harness::new(1);
    let staging = (STAGING, ReleaseKind::Rollout, "shop", "checkout");
    let r = h.wait_for(300, staging, |r| {
        r.facts.in_analysis_step && r.analysis.is_some()
    });
    let run = r.analysis.expect("analysis").name;
    applied(&h.act(ActionKind::Promote, staging));
    h.wait_for(20, staging, |r| r.phase == Phase::Healthy);
    let terminated = h.view.objects.values().any(|o| {
        matches!(o, ObjectFacts::AnalysisRun(a) if a.meta.name == run && a.message.raw() == "Run Terminated")
    });
    assert!(terminated, "run {run} left running");
}

#[test]
fn t_terminates_the_experiment_of_an_experiment_step() {
    use crate::core::action::ApiCall;
    let mut h = Harness::new(1);
    let staging = (STAGING, ReleaseKind::Rollout, "shop", "checkout");
    let r = h.wait_for(400, staging, |r| r.facts.experiment.is_some());
    let experiment = r.facts.experiment.clone().expect("experiment");
    assert_eq!(r.step.map(|s| s.0), Some(1), "the experiment step");
    let plan = h.plan(ActionKind::Terminate, staging);
    assert!(
        matches!(&plan.calls[..], [ApiCall::Patch { resource, name, .. }]
            if resource.plural == "experiments" && *name == experiment),
        "{:?}",
        plan.calls
    );
    applied(&h.apply(&plan));
    // Well before the experiment would have finished on its own, the rollout moves on.
    let after = h.wait_for(5, staging, |r| r.step.is_some_and(|s| s.0 >= 2));
    assert!(after.facts.experiment.is_none(), "{:?}", after.facts);
    // The same request again: no such Experiment any more.
    let again = h.apply(&plan);
    assert!(
        matches!(&again, Outcome::Rejected { status: 404, .. }),
        "{again:?}"
    );
}

#[test]
fn manual_pause_resume_and_restart_of_a_rollout() {
    let mut h = Harness::new(1);
    let cart = (PROD_EU, ReleaseKind::Rollout, "shop", "cart");
    h.wait_for(40, cart, |r| r.phase == Phase::Progressing);
    applied(&h.act(ActionKind::Pause, cart));
    let r = h.release(cart);
    assert_eq!(
        (r.phase, r.message.raw()),
        (Phase::Paused, "manually paused")
    );
    let step = r.step;
    h.wait(60);
    assert_eq!(
        h.release(cart).step,
        step,
        "a manually paused rollout holds still"
    );
    applied(&h.act(ActionKind::Resume, cart));
    h.wait_for(90, cart, |r| r.step != step);

    let us = (PROD_US, ReleaseKind::Rollout, "shop", "checkout");
    assert_eq!(h.release(us).phase, Phase::Healthy);
    applied(&h.act(ActionKind::Restart, us));
    let r = h.release(us);
    assert_eq!(
        (r.phase, r.message.raw()),
        (Phase::Progressing, "rollout is restarting")
    );
    h.wait_for(15, us, |r| r.phase == Phase::Healthy);
}

#[test]
fn failing_analysis_aborts_the_bad_canary_and_burn_falls_after() {
    let mut h = Harness::new(1);
    let start = h.view.burn_ratio("search-availability", BurnWindow::H1);
    let r = h.release(SEARCH);
    assert!(r.set_weight.is_some_and(|w| w > 0) && r.actual_weight.is_some_and(|w| w > 0));
    // It bakes at 20 % for the rest of its pause (20 minutes less the 13 or more it has
    // done), then its analysis fails.
    let bake = crate::source::demo::scenario::BAKE_SECS;
    let r = h.wait_for(bake - 700, SEARCH, |r| r.phase == Phase::Degraded);
    let analysis = r.analysis.expect("analysis");
    assert!(analysis.phase.is_bad(), "{analysis:?}");
    assert!(r.message.raw().contains("failureLimit"), "{:?}", r.message);
    assert_eq!((r.set_weight, r.actual_weight), (Some(0), Some(0)));
    let run_failed = h
        .view
        .objects
        .values()
        .any(|o| matches!(o, ObjectFacts::AnalysisRun(a) if a.phase == "Failed"));
    assert!(run_failed);
    let h1_at_abort = h.view.burn_ratio("search-availability", BurnWindow::H1);
    assert!(
        h1_at_abort > start,
        "1h burn rose while the canary took traffic: {start} → {h1_at_abort}"
    );
    let at_abort = h.view.burn_ratio("search-availability", BurnWindow::M5);
    h.wait(360);
    let later = h.view.burn_ratio("search-availability", BurnWindow::M5);
    assert!(
        later < at_abort / 3.0,
        "burn fell after the abort: {at_abort} → {later}"
    );
}

#[test]
fn stuck_deployments_time_out_with_warning_events() {
    let mut h = Harness::new(1);
    let worker = (
        PROD_EU,
        ReleaseKind::Deployment,
        "payments",
        "payments-worker",
    );
    let r = h.release(worker);
    assert_eq!(r.phase, Phase::Degraded);
    // The version it ran before the stuck one (its version numbers follow the seed).
    let (_, previous) = r.facts.undo_target.clone().expect("undo target");
    let prev_images = r
        .revisions
        .iter()
        .find(|rev| rev.revision == Some(previous))
        .map(|rev| rev.images.clone())
        .expect("previous revision");
    assert!(!prev_images.is_empty() && prev_images != r.images);
    assert!(
        // What `kubectl rollout status` says, inside its frame.
        r.message.raw() == "exceeded its progress deadline",
        "{:?}",
        r.message
    );
    let reasons = |h: &Harness, name: &str| -> Vec<String> {
        h.view
            .warnings
            .iter()
            .filter(|(_, e)| e.object_name.starts_with(name))
            .map(|(_, e)| e.reason.clone())
            .collect()
    };
    assert!(reasons(&h, "payments-worker").iter().any(|r| r == "Failed"));
    assert!(
        reasons(&h, "payments-worker")
            .iter()
            .any(|r| r == "BackOff")
    );
    assert!(
        reasons(&h, "etl-runner")
            .iter()
            .any(|r| r == "FailedScheduling")
    );
    // The crash-looping indexer runs out of its deadline while we watch.
    let indexer = (PROD_US, ReleaseKind::Deployment, "search", "search-indexer");
    assert_eq!(h.release(indexer).phase, Phase::Progressing);
    h.wait_for(150, indexer, |r| r.phase == Phase::Degraded);
    assert!(reasons(&h, "search-indexer").iter().any(|r| r == "BackOff"));
    assert!(h.view.warnings.iter().any(|(_, e)| e.reason == "Unhealthy"));

    // Undo brings the previous image back and the Deployment completes.
    applied(&h.act(ActionKind::Undo, worker));
    let r = h.wait_for(60, worker, |r| r.phase == Phase::Healthy);
    assert_eq!(r.images, prev_images);
}

#[test]
fn deployment_pause_resume_and_restart() {
    let mut h = Harness::new(1);
    let web = (PROD_EU, ReleaseKind::Deployment, "platform", "edge-gateway");
    assert_eq!(h.release(web).phase, Phase::Healthy);
    let revision = h.release(web).facts.current_revision;
    applied(&h.act(ActionKind::Restart, web));
    let r = h.wait_for(5, web, |r| r.phase == Phase::Progressing);
    assert!(
        r.facts.current_revision > revision,
        "restart makes a new ReplicaSet"
    );
    h.wait_for(60, web, |r| r.phase == Phase::Healthy);
    applied(&h.act(ActionKind::Pause, web));
    assert_eq!(h.release(web).phase, Phase::Paused);
    applied(&h.act(ActionKind::Resume, web));
    h.wait_for(5, web, |r| r.phase == Phase::Healthy);
}

#[test]
fn flagger_canaries_progress_promote_and_roll_back() {
    let mut h = Harness::new(1);
    let catalog = (PROD_EU, ReleaseKind::Canary, "catalog", "catalog-api");
    let r = h.release(catalog);
    assert_eq!((r.phase, r.set_weight), (Phase::Progressing, Some(20)));
    let r = h.wait_for(20, catalog, |r| r.set_weight == Some(30));
    assert_eq!(r.step, Some((3, 5)));
    // Suspended: analysis holds still.
    applied(&h.act(ActionKind::Pause, catalog));
    h.wait(40);
    assert_eq!(h.release(catalog).set_weight, Some(30));
    applied(&h.act(ActionKind::Resume, catalog));
    // Roll back through the loadtester's gate.
    let plan = h.plan(ActionKind::Undo, catalog);
    assert_eq!(plan.calls[0].verb(), "POST");
    applied(&h.apply(&plan));
    let r = h.wait_for(20, catalog, |r| r.phase == Phase::Degraded);
    assert_eq!(r.set_weight, Some(0));

    // Waiting for promotion approval; promote-full skips the analysis and the gate.
    let payments = (PROD_US, ReleaseKind::Canary, "payments", "payments-api");
    assert_eq!(h.release(payments).phase, Phase::Paused);
    applied(&h.act(ActionKind::PromoteFull, payments));
    let r = h.wait_for(60, payments, |r| r.phase == Phase::Healthy);
    assert_eq!(r.message.raw().split(':').next(), Some("Succeeded"));
    let failed = (PROD_US, ReleaseKind::Canary, "notify", "notifications");
    assert_eq!(h.release(failed).phase, Phase::Degraded);
}

#[test]
fn flagger_canaries_show_their_target_and_primary_and_promotion_moves_the_version() {
    let mut h = Harness::new(1);
    let catalog = (PROD_EU, ReleaseKind::Canary, "catalog", "catalog-api");
    let r = h.release(catalog);
    let rs = |r: &Release, role: RsRole| {
        r.revisions
            .iter()
            .find(|v| v.role == role)
            .map(|v| (v.name.clone(), v.images.clone(), v.ready, v.desired))
            .unwrap_or_else(|| panic!("no {role:?} ReplicaSet: {:?}", r.revisions))
    };
    let (canary, tested, ready, desired) = rs(&r, RsRole::Canary);
    let (stable, serving, ..) = rs(&r, RsRole::Stable);
    assert!(canary.starts_with("catalog-api-") && stable.starts_with("catalog-api-primary-"));
    assert_ne!(tested, serving, "the target runs the version under test");
    assert_eq!(r.images, tested);
    assert_eq!(
        (ready, desired),
        (2, 2),
        "the target's pods run while analysed"
    );
    assert_eq!(r.replicas, (4, 4), "target and primary pods");
    // Promoted: the primary takes the target's template and the target scales to zero.
    let done = h.wait_for(300, catalog, |r| r.facts.flagger_phase == "Succeeded");
    let (_, now_serving, ready, desired) = rs(&done, RsRole::Stable);
    assert_eq!((now_serving, ready, desired), (tested, 2, 2));
    assert_eq!(rs(&done, RsRole::Canary).3, 0, "target scaled to zero");
    assert_eq!(done.replicas, (2, 2));
}

#[test]
fn the_payments_canary_waits_at_a_closed_gate_that_p_opens_and_space_closes() {
    let mut h = Harness::new(1);
    let payments = (PROD_US, ReleaseKind::Canary, "payments", "payments-api");
    let r = h.release(payments);
    assert_eq!(
        r.needs_human,
        Some(crate::core::model::HumanWait::PromotionGate)
    );
    // Closed again first (space), then opened (p): Flagger promotes at its next check.
    let close = h.plan(ActionKind::Pause, payments);
    assert!(
        close.calls[0].describe().ends_with("/gate/close"),
        "{:?}",
        close.calls
    );
    applied(&h.apply(&close));
    h.wait(30);
    assert_eq!(h.release(payments).facts.flagger_phase, "WaitingPromotion");
    // What the simulated loadtester's /gate/check answers, as the detail asks it.
    let ask = |h: &mut Harness| {
        let mut state = crate::core::State::new(
            h.now,
            crate::core::state::Settings::default(),
            vec![crate::core::model::Cluster::new(PROD_US)],
            vec![],
        );
        let r = h.release(payments);
        let key = r.key.clone();
        state.releases.insert(key.clone(), r);
        let fx = crate::core::gates::check(&mut state, &key);
        let [crate::core::Effect::CheckGate(q)] = fx.as_slice() else {
            panic!("{fx:?}")
        };
        h.fleet.gate_state(q)
    };
    assert_eq!(ask(&mut h), crate::core::facts::GateState::Closed);
    let open = h.plan(ActionKind::Promote, payments);
    assert!(
        open.calls[0].describe().ends_with("/gate/open"),
        "{:?}",
        open.calls
    );
    applied(&h.apply(&open));
    assert_eq!(ask(&mut h), crate::core::facts::GateState::Open);
    let r = h.wait_for(60, payments, |r| r.facts.flagger_phase == "Succeeded");
    assert_eq!(r.phase, Phase::Healthy);
}

#[test]
fn advance_sends_only_what_changed() {
    let mut h = Harness::new(1);
    let msgs = h.fleet.advance(h.now);
    let upserts: Vec<_> = msgs
        .iter()
        .filter_map(|m| match m {
            Msg::Upsert { facts, .. } => Some(facts.meta_name()),
            _ => None,
        })
        .collect();
    assert!(upserts.is_empty(), "nothing changed yet: {upserts:?}");
    assert!(msgs.iter().any(|m| matches!(m, Msg::Heard { .. })));
    assert!(msgs.iter().any(|m| matches!(m, Msg::Slo(_))));
    h.wait(1);
    let total = h.view.objects.len();
    assert!(
        h.view.upserts < total / 2,
        "{} of {total} objects re-sent",
        h.view.upserts
    );
}

#[test]
fn same_seed_same_fleet() {
    let run = |seed| {
        let mut fleet = Fleet::new(seed, t0());
        let mut all = fleet.initial();
        for s in 1..=300 {
            all.extend(fleet.advance(t0() + SignedDuration::from_secs(s)));
        }
        all
    };
    assert_eq!(run(42), run(42));
    assert_ne!(run(42), run(43));
}

#[test]
fn large_gaps_and_sub_second_ticks_are_handled() {
    let mut fleet = Fleet::new(1, t0());
    fleet.initial();
    // Half-second ticks do not lose time.
    for i in 1..=4 {
        fleet.advance(t0() + SignedDuration::from_millis(500 * i));
    }
    // A long sleep is skipped over, not replayed forever.
    let msgs = fleet.advance(t0() + SignedDuration::from_hours(30));
    assert!(msgs.iter().any(|m| matches!(m, Msg::Slo(_))));
}

#[tokio::test]
async fn runner_answers_an_action_then_sends_its_changes_promptly() {
    use std::time::Duration;
    use tokio::sync::{mpsc, oneshot};
    use tokio::time::timeout;

    let now = Timestamp::now();
    let mut fleet = Fleet::new(1, now);
    let mut view = View::default();
    view.fold(fleet.initial());
    let h = Harness { fleet, view, now };
    let plan = h.plan(ActionKind::Promote, CHECKOUT);
    let (tx, mut rx) = mpsc::channel(4096);
    let (requests, requests_rx) = mpsc::channel(4);
    let task = tokio::spawn(super::run(h.fleet, tx, requests_rx));
    let (reply, answer) = oneshot::channel();
    requests.send((plan, reply)).await.expect("runner listens");
    let outcome = timeout(Duration::from_secs(3), answer)
        .await
        .expect("answered in time")
        .expect("answered");
    applied(&outcome);
    // The rollout's new state follows at once, not on the next tick.
    let upsert = timeout(Duration::from_millis(300), async {
        loop {
            if let Some(Msg::Upsert {
                facts: ObjectFacts::Rollout(r),
                cluster,
            }) = rx.recv().await
                && cluster == PROD_EU
                && r.meta.name == "checkout"
                && r.current_step_index == Some(2)
            {
                break r;
            }
        }
    })
    .await
    .expect("upsert promptly");
    assert!(upsert.pause_conditions.is_empty());
    drop(rx);
    timeout(Duration::from_secs(3), task)
        .await
        .expect("runner ends when the console goes")
        .expect("no panic");
}

#[test]
fn the_demo_answers_the_source_of_its_kustomization_and_nothing_else() {
    use crate::core::kinds::Kind;
    use crate::core::kinds::flux::Ready;
    use crate::core::kinds::flux_source::FluxSourceQuery;
    let fleet = Fleet::new(1, t0());
    let mut q = FluxSourceQuery {
        cluster: super::scenario::STAGING.into(),
        kind: Kind::GitRepository,
        namespace: "flux-system".into(),
        name: "fleet".into(),
    };
    let s = fleet
        .flux_source(&q)
        .unwrap_or_else(|| panic!("the demo's Kustomization takes fleet's revision"));
    assert_eq!(s.ready, Ready::True);
    assert_eq!(s.artifact_revision, "main@sha1:5f2c9e1a7d");
    q.name = "other".into();
    assert!(fleet.flux_source(&q).is_none());
}
