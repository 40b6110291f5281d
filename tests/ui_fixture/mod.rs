//! A deterministic fleet for UI tests: fixed clock, three prod/staging clusters plus an
//! unreachable one, releases of every kind and phase, SLOs paging / ticketing / unknown,
//! Warning events — including hostile strings — all fed through the real `core::update`.

use std::collections::BTreeMap;

use jiff::{SignedDuration, Timestamp};
use shipdeck::core::facts::{
    AnalysisPhase, AnalysisRef, AnalysisRunFacts, CanaryFacts, CanaryStep, Condition,
    DeploymentFacts, MetricResult, ObjectFacts, ObjectMeta, PauseCondition, PauseReason,
    ReplicaSetFacts, RolloutFacts, WarningEvent,
};
use shipdeck::core::model::{BurnWindow, Cluster, Connection, SloSpec};
use shipdeck::core::msg::{AuditLine, Key, SloReport};
use shipdeck::core::slo_eval;
use shipdeck::core::state::Settings;
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

fn meta(ns: &str, name: &str, app: &str, created: i64) -> ObjectMeta {
    ObjectMeta {
        namespace: ns.into(),
        name: name.into(),
        uid: format!("uid-{ns}-{name}"),
        resource_version: format!("{}", 1000 + name.len() * 7),
        generation: 3,
        created: Some(ago(created)),
        labels: BTreeMap::from([("app.kubernetes.io/name".to_string(), app.to_string())]),
        annotations: BTreeMap::new(),
    }
}

fn clusters() -> Vec<Cluster> {
    let mut eu = Cluster::new("prod-eu-1");
    eu.labels.insert("env".into(), "prod".into());
    let mut us = Cluster::new("prod-us-1");
    us.labels.insert("env".into(), "prod".into());
    let mut staging = Cluster::new("staging");
    staging.read_only = true;
    staging.labels.insert("env".into(), "staging".into());
    let dr = Cluster::new("dr-west");
    vec![eu, us, staging, dr]
}

fn slo(name: &str, service: &str) -> shipdeck::core::model::SloStatus {
    slo_eval::initial(SloSpec {
        name: name.into(),
        service: service.into(),
        objective: 99.9,
        window: SignedDuration::from_hours(24 * 30),
        window_label: "30d".into(),
    })
}

fn checkout_rollout() -> RolloutFacts {
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
    ReplicaSetFacts {
        meta: meta(
            &owner.meta.namespace,
            &format!("{}-{hash}", owner.meta.name),
            "x",
            7200,
        ),
        owner_uid: owner.meta.uid.clone(),
        owner_kind: "Rollout".into(),
        revision: Some(rev),
        pod_template_hash: hash.into(),
        images: vec![image.into()],
        replicas: n,
        ready_replicas: n,
        available_replicas: n,
    }
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
        }],
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

fn frontend_canary() -> CanaryFacts {
    CanaryFacts {
        meta: meta("web", "frontend", "frontend", 3600),
        target: "frontend".into(),
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
    let mut state = State::new(now(), settings, clusters(), slos);
    update(&mut state, Msg::Resize { width, height });

    let checkout = checkout_rollout();
    let up = |state: &mut State, cluster: &str, facts: ObjectFacts| {
        update(
            state,
            Msg::Upsert {
                cluster: cluster.into(),
                facts,
            },
        );
    };
    up(
        &mut state,
        "prod-eu-1",
        ObjectFacts::ReplicaSet(replicaset(
            &checkout,
            "7d9f",
            8,
            "ghcr.io/shop/checkout:1.4.2",
            1,
        )),
    );
    up(
        &mut state,
        "prod-eu-1",
        ObjectFacts::ReplicaSet(replicaset(
            &checkout,
            "5c8b",
            7,
            "ghcr.io/shop/checkout:1.4.1",
            5,
        )),
    );
    up(&mut state, "prod-eu-1", ObjectFacts::Rollout(checkout));
    up(
        &mut state,
        "prod-eu-1",
        ObjectFacts::Rollout(cart_rollout()),
    );
    up(
        &mut state,
        "prod-us-1",
        ObjectFacts::Deployment(ledger_deployment()),
    );
    up(
        &mut state,
        "prod-us-1",
        ObjectFacts::Deployment(indexer_deployment()),
    );
    up(&mut state, "staging", ObjectFacts::Rollout(api_rollout()));
    up(
        &mut state,
        "staging",
        ObjectFacts::AnalysisRun(api_analysis()),
    );
    up(
        &mut state,
        "staging",
        ObjectFacts::Canary(frontend_canary()),
    );
    up(
        &mut state,
        "staging",
        ObjectFacts::Deployment(static_deployment()),
    );
    for (cluster, event) in warnings() {
        update(
            &mut state,
            Msg::Warning {
                cluster: cluster.into(),
                event,
            },
        );
    }
    feed_slos(&mut state);
    for (cluster, connection) in [
        ("prod-us-1", Connection::Stale { since: ago(42) }),
        (
            "dr-west",
            Connection::Unreachable {
                reason: Untrusted::new("dial tcp 10.0.0.9:6443: connect: connection refused"),
            },
        ),
    ] {
        update(
            &mut state,
            Msg::Connection {
                cluster: cluster.into(),
                connection,
            },
        );
    }
    for (verb, resource) in [("patch", "rollouts"), ("patch", "rollouts/status")] {
        update(
            &mut state,
            Msg::Access {
                cluster: "prod-eu-1".into(),
                namespace: "shop".into(),
                verb: verb.into(),
                resource: resource.into(),
                allowed: true,
            },
        );
    }
    update(&mut state, Msg::Audit(audit_lines()));
    settle(&mut state);
    state
}

fn audit_lines() -> Vec<AuditLine> {
    let line =
        |secs, stage: &str, cluster: &str, target: &str, action: &str, outcome: &str| AuditLine {
            at: ago(secs),
            stage: stage.into(),
            cluster: cluster.into(),
            target: target.into(),
            action: action.into(),
            outcome: outcome.into(),
        };
    vec![
        line(
            3600,
            "intent",
            "prod-eu-1",
            "Rollout shop/checkout",
            "promote",
            "",
        ),
        line(
            3599,
            "result",
            "prod-eu-1",
            "Rollout shop/checkout",
            "promote",
            "applied (200)",
        ),
        line(
            1800,
            "intent",
            "prod-us-1",
            "Deployment payments/ledger",
            "undo",
            "",
        ),
        line(
            1790,
            "result",
            "prod-us-1",
            "Deployment payments/ledger",
            "undo",
            "conflict (409): the object changed since you saw it",
        ),
        line(600, "intent", "staging", "Rollout web/api", "abort", ""),
        line(
            590,
            "result",
            "staging",
            "Rollout web/api",
            "abort",
            "forbidden (403): \x1b[31mdenied\x1b[0m",
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
    let mut state = State::new(
        now(),
        Settings::default(),
        vec![Cluster::new("big")],
        Vec::new(),
    );
    update(&mut state, Msg::Resize { width, height });
    for i in 0..n {
        let mut d = indexer_deployment();
        d.meta.name = format!("svc-{i:05}");
        d.meta.uid = format!("uid-{i}");
        update(
            &mut state,
            Msg::Upsert {
                cluster: "big".into(),
                facts: ObjectFacts::Deployment(d),
            },
        );
    }
    settle(&mut state);
    state
}
