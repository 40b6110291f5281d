//! A deterministic fleet for UI tests: fixed clock, three prod/staging clusters plus an
//! unreachable one, releases of every kind and phase, SLOs paging / ticketing / unknown,
//! Warning events — including hostile strings — all fed through the real `core::update`.
//! Built with the core's shared test fleet builder (`shipdeck::core::testkit`).

use jiff::{SignedDuration, Timestamp};
use shipdeck::core::facts::{
    AnalysisPhase, AnalysisRef, AnalysisRunFacts, CanaryFacts, CanaryStep, Condition,
    DeploymentFacts, MetricResult, ObjectFacts, ObjectMeta, PauseCondition, PauseReason,
    ReplicaSetFacts, RolloutFacts, WarningEvent,
};
use shipdeck::core::model::{BurnWindow, Cluster, Connection};
use shipdeck::core::msg::{AuditLine, AuditStage, Key, SloReport};
use shipdeck::core::state::Settings;
use shipdeck::core::testkit::{FleetBuilder, object_meta, prod_cluster, replicaset_of, slo};
use shipdeck::core::text::Untrusted;
use shipdeck::core::{Msg, State, settle, update};

/// The fixture's "now": 2026-11-26 08:16:42 UTC.
pub fn now() -> Timestamp {
    "2026-11-26T08:16:42Z".parse().unwrap()
}

pub fn ago(secs: i64) -> Timestamp {
    now() - SignedDuration::from_secs(secs)
}

/// The hostile message (CVE-2021-25743 style OSC title write plus a bidi override).
pub const HOSTILE: &str = "\x1b]0;pwned\x07 aborted \u{202e}gnp.exe";

/// Metadata created `created` seconds before [`now`], with a resourceVersion of its own.
fn meta(ns: &str, name: &str, app: &str, created: i64) -> ObjectMeta {
    let rv = format!("{}", 1000 + name.len() * 7);
    object_meta(ns, name, app, &rv, ago(created))
}

fn clusters() -> Vec<Cluster> {
    let eu = prod_cluster("prod-eu-1");
    let us = prod_cluster("prod-us-1");
    let mut staging = Cluster::new("staging");
    staging.read_only = true;
    staging.labels.insert("env".into(), "staging".into());
    let dr = Cluster::new("dr-west");
    vec![eu, us, staging, dr]
}

pub fn checkout_rollout() -> RolloutFacts {
    RolloutFacts {
        meta: meta("shop", "checkout", "checkout", 3 * 3600),
        replicas: 5,
        strategy: "canary".into(),
        steps: vec![
            CanaryStep::SetWeight(20),
            CanaryStep::Pause(None),
            CanaryStep::SetWeight(50),
            CanaryStep::Pause(Some(SignedDuration::from_secs(60))),
            CanaryStep::Analysis(vec!["success-rate".into()]),
            CanaryStep::SetWeight(100),
        ],
        traffic_routing: true,
        images: vec!["ghcr.io/shop/checkout:1.4.2".into()],
        observed_generation: Some("3".into()),
        phase: Some("Paused".into()),
        message: Untrusted::new("CanaryPauseStep"),
        pause_conditions: vec![PauseCondition {
            reason: PauseReason::CanaryPauseStep,
            start_time: Some(ago(300)),
        }],
        current_step_index: Some(1),
        current_pod_hash: "7d9f".into(),
        stable_rs: "5c8b".into(),
        status_replicas: 6,
        updated_replicas: 1,
        ready_replicas: 6,
        available_replicas: 6,
        traffic_canary_weight: Some(20),
        conditions: vec![Condition {
            type_: "Paused".into(),
            status: "True".into(),
            reason: "CanaryPauseStep".into(),
            message: Untrusted::default(),
            last_transition: Some(ago(300)),
        }],
        ..RolloutFacts::default()
    }
}

fn replicaset(owner: &RolloutFacts, hash: &str, rev: i64, image: &str, n: i32) -> ReplicaSetFacts {
    let name = format!("{}-{hash}", owner.meta.name);
    let meta = meta(&owner.meta.namespace, &name, "x", 7200);
    replicaset_of(meta, &owner.meta.uid, hash, rev, image, n)
}

fn cart_rollout() -> RolloutFacts {
    RolloutFacts {
        meta: meta("shop", "cart", "cart", 20 * 60),
        steps: vec![
            CanaryStep::SetWeight(10),
            CanaryStep::Pause(Some(SignedDuration::from_secs(60))),
            CanaryStep::SetWeight(40),
            CanaryStep::Pause(Some(SignedDuration::from_secs(60))),
        ],
        current_step_index: Some(3),
        phase: Some("Paused".into()),
        message: Untrusted::new("CanaryPauseStep"),
        pause_conditions: vec![PauseCondition {
            reason: PauseReason::CanaryPauseStep,
            start_time: Some(ago(18)),
        }],
        traffic_canary_weight: Some(40),
        conditions: vec![Condition {
            type_: "Paused".into(),
            status: "True".into(),
            reason: "CanaryPauseStep".into(),
            message: Untrusted::default(),
            last_transition: Some(ago(18)),
        }],
        current_pod_hash: "aa11".into(),
        stable_rs: "bb22".into(),
        ..checkout_like()
    }
}

fn checkout_like() -> RolloutFacts {
    RolloutFacts {
        replicas: 4,
        strategy: "canary".into(),
        traffic_routing: true,
        observed_generation: Some("3".into()),
        available_replicas: 4,
        updated_replicas: 1,
        ..RolloutFacts::default()
    }
}

/// A Rollout that failed its analysis and aborted, with a hostile controller message.
fn api_rollout() -> RolloutFacts {
    RolloutFacts {
        meta: meta("web", "api", "api", 40 * 60),
        steps: vec![
            CanaryStep::SetWeight(25),
            CanaryStep::Analysis(vec!["errors".into()]),
        ],
        current_step_index: Some(0),
        phase: Some("Degraded".into()),
        message: Untrusted::new(HOSTILE),
        aborted: true,
        current_pod_hash: "cc33".into(),
        stable_rs: "dd44".into(),
        step_analysis: Some(AnalysisRef {
            name: "api-errors-7".into(),
            phase: AnalysisPhase::Failed,
            message: Untrusted::new("error rate 12% > 5%"),
        }),
        conditions: vec![Condition {
            type_: "Progressing".into(),
            status: "False".into(),
            reason: "RolloutAborted".into(),
            message: Untrusted::new("aborted"),
            last_transition: Some(ago(7 * 60)),
        }],
        ..checkout_like()
    }
}

fn api_analysis() -> AnalysisRunFacts {
    AnalysisRunFacts {
        meta: meta("web", "api-errors-7", "api", 9 * 60),
        owner_uid: "uid-web-api".into(),
        phase: "Failed".into(),
        message: Untrusted::new("metric \"error-rate\" assessed Failed"),
        metrics: vec![MetricResult {
            name: "error-rate".into(),
            phase: "Failed".into(),
            successful: 1,
            failed: 3,
            inconclusive: 0,
            last_value: Untrusted::new("[0.12]"),
            success_condition: Untrusted::new("result[0] < 0.01"),
            failure_condition: Untrusted::new("result[0] >= 0.05"),
            recent: vec![Untrusted::new("[0.031]"), Untrusted::new("[0.12]")],
        }],
        last_measured: Some(ago(8 * 60)),
    }
}

fn ledger_deployment() -> DeploymentFacts {
    let mut m = meta("payments", "ledger", "ledger", 2 * 86400);
    m.annotations
        .insert("deployment.kubernetes.io/revision".into(), "12".into());
    DeploymentFacts {
        meta: m,
        replicas: 3,
        strategy: "RollingUpdate".into(),
        images: vec!["registry.local/payments/ledger:2.0.0".into()],
        observed_generation: Some(3),
        status_replicas: 4,
        updated_replicas: 1,
        ready_replicas: 3,
        available_replicas: 3,
        conditions: vec![Condition {
            type_: "Progressing".into(),
            status: "False".into(),
            reason: "ProgressDeadlineExceeded".into(),
            message: Untrusted::new("ReplicaSet \"ledger-6f8d\" has timed out progressing."),
            last_transition: Some(ago(25 * 60)),
        }],
        ..DeploymentFacts::default()
    }
}

fn indexer_deployment() -> DeploymentFacts {
    DeploymentFacts {
        meta: meta("search", "indexer", "search", 5 * 86400),
        replicas: 5,
        strategy: "RollingUpdate".into(),
        observed_generation: Some(3),
        status_replicas: 5,
        updated_replicas: 2,
        ready_replicas: 5,
        available_replicas: 5,
        conditions: vec![Condition {
            type_: "Progressing".into(),
            status: "True".into(),
            reason: "ReplicaSetUpdated".into(),
            message: Untrusted::default(),
            last_transition: Some(ago(4 * 60)),
        }],
        ..DeploymentFacts::default()
    }
}

fn static_deployment() -> DeploymentFacts {
    DeploymentFacts {
        meta: meta("web", "static", "static", 86400),
        replicas: 2,
        strategy: "Recreate".into(),
        observed_generation: Some(3),
        status_replicas: 2,
        updated_replicas: 2,
        ready_replicas: 2,
        available_replicas: 2,
        conditions: vec![Condition {
            type_: "Progressing".into(),
            status: "True".into(),
            reason: "NewReplicaSetAvailable".into(),
            message: Untrusted::default(),
            last_transition: Some(ago(180)),
        }],
        ..DeploymentFacts::default()
    }
}

/// One of a Flagger canary's Deployments (`frontend`, the target under test, or
/// `frontend-primary`), done at `rev` on `pods` pods of `image`, and its ReplicaSet.
fn frontend_workload(
    name: &str,
    hash: &str,
    rev: i64,
    image: &str,
    pods: i32,
) -> (DeploymentFacts, ReplicaSetFacts) {
    let mut m = meta("web", name, "frontend", 30 * 86400);
    m.annotations
        .insert("deployment.kubernetes.io/revision".into(), rev.to_string());
    let rs = replicaset_of(
        meta("web", &format!("{name}-{hash}"), "frontend", 3600),
        &m.uid,
        hash,
        rev,
        image,
        pods,
    );
    let d = DeploymentFacts {
        meta: m,
        replicas: pods,
        strategy: "RollingUpdate".into(),
        images: vec![image.into()],
        observed_generation: Some(3),
        status_replicas: pods,
        updated_replicas: pods,
        ready_replicas: pods,
        available_replicas: pods,
        conditions: vec![Condition {
            type_: "Progressing".into(),
            status: "True".into(),
            reason: "NewReplicaSetAvailable".into(),
            message: Untrusted::default(),
            last_transition: Some(ago(3 * 3600)),
        }],
        ..DeploymentFacts::default()
    };
    (d, rs)
}

pub fn frontend_canary() -> CanaryFacts {
    CanaryFacts {
        meta: meta("web", "frontend", "frontend", 3600),
        target: "Deployment/frontend".into(),
        max_weight: Some(50),
        step_weight: Some(10),
        threshold: Some(5),
        phase: "Progressing".into(),
        canary_weight: 30,
        failed_checks: 1,
        iterations: 3,
        last_transition: Some(ago(90)),
        message: Untrusted::new("Advance frontend.web canary weight 30"),
        ..CanaryFacts::default()
    }
}

fn warnings() -> Vec<(&'static str, WarningEvent)> {
    let ev =
        |ns: &str, kind: &str, name: &str, reason: &str, msg: &str, count, secs| WarningEvent {
            namespace: ns.into(),
            object_kind: kind.into(),
            object_name: name.into(),
            reason: reason.into(),
            message: Untrusted::new(msg),
            count,
            last_seen: Some(ago(secs)),
        };
    vec![
        (
            "prod-us-1",
            ev(
                "payments",
                "Pod",
                "ledger-6f8d-x2k9p",
                "CrashLoopBackOff",
                "Back-off restarting failed container ledger",
                12,
                60,
            ),
        ),
        (
            "staging",
            ev(
                "web",
                "Pod",
                "api-cc33-7hq2z",
                "ImagePullBackOff",
                "Back-off pulling image \"ghcr.io/web/api:9.9\"\x1b[2J",
                3,
                240,
            ),
        ),
        (
            "prod-eu-1",
            ev(
                "shop",
                "Pod",
                "checkout-7d9f-m4n8b",
                "Unhealthy",
                "Readiness probe failed: HTTP probe failed with statuscode: 503",
                5,
                30,
            ),
        ),
    ]
}

/// Error ratios giving a 1h burn of `h1` (and the rest scaled), for objective 99.9.
fn report(slo: &str, at: Timestamp, h1: f64, short: f64, long: f64) -> SloReport {
    let b = 0.001;
    SloReport {
        slo: slo.into(),
        at,
        ratios: vec![
            (BurnWindow::M5, Some(short * b)),
            (BurnWindow::M30, Some(short * 0.6 * b)),
            (BurnWindow::H1, Some(h1 * b)),
            (BurnWindow::H2, Some(h1 * 0.7 * b)),
            (BurnWindow::H6, Some(long * b)),
            (BurnWindow::D1, Some(long * 0.8 * b)),
            (BurnWindow::D3, Some(long * 0.5 * b)),
        ],
        window_ratio: Some(b * 0.38),
    }
}

fn feed_slos(state: &mut State) {
    // A rising trend for checkout ending in a page; search steady at ticket level.
    for (i, h1) in [1.0, 1.5, 2.5, 4.0, 6.0, 8.5, 11.0, 13.0, 14.0, 14.8]
        .iter()
        .enumerate()
    {
        let at = ago(600 - i as i64 * 60);
        update(
            state,
            Msg::Slo(report("checkout-availability", at, *h1, 20.1, 5.2)),
        );
        update(
            state,
            Msg::Slo(report("search-latency", at, 3.2 + i as f64 * 0.1, 3.6, 3.4)),
        );
    }
    update(
        state,
        Msg::SloUnavailable {
            slo: "ledger-availability".into(),
            at: ago(540),
            error: Untrusted::new("prometheus: connection refused"),
        },
    );
}

/// The fleet, settled, sized `width` x `height`.
pub fn fleet(width: u16, height: u16) -> State {
    let settings = Settings {
        source_label: "demo".into(),
        ..Settings::default()
    };
    let slos = vec![
        slo("checkout-availability", "checkout"),
        slo("search-latency", "search"),
        slo("ledger-availability", "ledger"),
    ];
    let mut f = FleetBuilder::new(now(), settings, clusters(), slos);
    f.send(Msg::Resize { width, height });
    upsert_objects(&mut f);
    for (cluster, event) in warnings() {
        f.send(Msg::Warning {
            cluster: cluster.into(),
            event,
        });
    }
    feed_slos(f.state_mut());
    for (cluster, connection) in [
        ("prod-us-1", Connection::Stale { since: ago(42) }),
        (
            "dr-west",
            Connection::Unreachable {
                reason: Untrusted::new("dial tcp 10.0.0.9:6443: connect: connection refused"),
            },
        ),
    ] {
        f.send(Msg::Connection {
            cluster: cluster.into(),
            connection,
        });
    }
    for (verb, resource) in [("patch", "rollouts"), ("patch", "rollouts/status")] {
        f.send(Msg::Access {
            cluster: "prod-eu-1".into(),
            namespace: "shop".into(),
            verb: verb.into(),
            resource: resource.into(),
            allowed: true,
        });
    }
    f.send(Msg::Audit(audit_lines()));
    f.settled()
}

/// Every object of the fleet, in the order the watches report them.
fn upsert_objects(f: &mut FleetBuilder) {
    let checkout = checkout_rollout();
    let (new, old) = ("ghcr.io/shop/checkout:1.4.2", "ghcr.io/shop/checkout:1.4.1");
    f.upsert(
        "prod-eu-1",
        ObjectFacts::ReplicaSet(replicaset(&checkout, "7d9f", 8, new, 1)),
    )
    .upsert(
        "prod-eu-1",
        ObjectFacts::ReplicaSet(replicaset(&checkout, "5c8b", 7, old, 5)),
    )
    .upsert("prod-eu-1", ObjectFacts::Rollout(checkout))
    .upsert("prod-eu-1", ObjectFacts::Rollout(cart_rollout()))
    .upsert("prod-us-1", ObjectFacts::Deployment(ledger_deployment()))
    .upsert("prod-us-1", ObjectFacts::Deployment(indexer_deployment()))
    .upsert("staging", ObjectFacts::Rollout(api_rollout()))
    .upsert("staging", ObjectFacts::AnalysisRun(api_analysis()))
    .upsert("staging", ObjectFacts::Canary(frontend_canary()));
    let (target, target_rs) =
        frontend_workload("frontend", "7f6d5c", 5, "ghcr.io/web/frontend:3.2.0", 3);
    let (primary, primary_rs) = frontend_workload(
        "frontend-primary",
        "58b9c4",
        4,
        "ghcr.io/web/frontend:3.1.4",
        3,
    );
    f.upsert("staging", ObjectFacts::Deployment(target))
        .upsert("staging", ObjectFacts::ReplicaSet(target_rs))
        .upsert("staging", ObjectFacts::ReplicaSet(primary_rs))
        .upsert("staging", ObjectFacts::Deployment(primary))
        .upsert("staging", ObjectFacts::Deployment(static_deployment()));
}

/// Another console's promote, then this session's undo and abort, delivered out of order
/// (a result before the next intent's result, as two in-flight actions answer): the
/// screen groups each intent with its result and shows this session's by default.
fn audit_lines() -> Vec<AuditLine> {
    let (other, me) = (
        "20261201T061642Z-4100-a1b2c3",
        "20261201T074000Z-4242-d4e5f6",
    );
    let line =
        |secs, stage: &str, id: String, cluster: &str, target: &str, action: &str| AuditLine {
            at: ago(secs),
            stage: AuditStage::parse(stage).unwrap_or(AuditStage::Result),
            own: id.starts_with(me),
            id,
            cluster: cluster.into(),
            target: target.into(),
            action: action.into(),
            outcome: String::new(),
        };
    let with = |mut l: AuditLine, outcome: &str| {
        l.outcome = outcome.into();
        l
    };
    let (checkout, ledger, api) = (
        "Rollout shop/checkout",
        "Deployment payments/ledger",
        "Rollout web/api",
    );
    vec![
        line(
            3600,
            "intent",
            format!("{other}#1"),
            "prod-eu-1",
            checkout,
            "promote",
        ),
        with(
            line(
                3599,
                "result",
                format!("{other}#1"),
                "prod-eu-1",
                checkout,
                "promote",
            ),
            "applied (200)",
        ),
        line(
            1800,
            "intent",
            format!("{me}#1"),
            "prod-us-1",
            ledger,
            "undo",
        ),
        line(600, "intent", format!("{me}#2"), "staging", api, "abort"),
        with(
            line(590, "result", format!("{me}#2"), "staging", api, "abort"),
            "forbidden (403): \x1b[31mdenied\x1b[0m",
        ),
        with(
            line(
                580,
                "result",
                format!("{me}#1"),
                "prod-us-1",
                ledger,
                "undo",
            ),
            "conflict (409): the object changed since you saw it",
        ),
    ]
}

/// Send keys through the real key handling, then settle as the app loop would.
pub fn keys(state: &mut State, keys: &[Key]) {
    for k in keys {
        update(state, Msg::Key(*k));
        settle(state);
    }
}

/// Type text as key presses.
pub fn type_text(state: &mut State, text: &str) {
    let ks: Vec<Key> = text.chars().map(Key::Char).collect();
    keys(state, &ks);
}

/// Select the release named `name` (through the filter, as a user would, then clear it).
pub fn select(state: &mut State, name: &str) {
    let i = state
        .view
        .order
        .iter()
        .position(|k| k.name == name)
        .unwrap_or_else(|| panic!("{name} not in view"));
    let by = i as isize - state.view.selected as isize;
    for _ in 0..by.unsigned_abs() {
        keys(state, &[if by > 0 { Key::Down } else { Key::Up }]);
    }
    assert_eq!(
        state.selected_release().map(|r| r.key.name.as_str()),
        Some(name)
    );
}

/// A fleet of `n` progressing Deployments on one cluster, for windowing tests.
pub fn big_fleet(n: usize, width: u16, height: u16) -> State {
    let clusters = vec![Cluster::new("big")];
    let mut f = FleetBuilder::new(now(), Settings::default(), clusters, Vec::new());
    f.send(Msg::Resize { width, height });
    for i in 0..n {
        let mut d = indexer_deployment();
        d.meta.name = format!("svc-{i:05}");
        d.meta.uid = format!("uid-{i}");
        f.upsert("big", ObjectFacts::Deployment(d));
    }
    f.settled()
}
