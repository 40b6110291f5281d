#![cfg(feature = "e2e")]
//! SLO burn from the REAL test Prometheus: hours of synthetic request counters pushed by
//! remote write, evaluated by shipdeck's Prometheus source at a pinned time, and compared
//! window by window with what Prometheus itself answers for the same ratio and with the
//! ratio computed directly from the pushed samples. Then the core's alert levels, the
//! "unknown, never zero" rule when Prometheus is unreachable, and the promote gate.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::collections::BTreeMap;

use jiff::Timestamp;

use shipdeck::app::Pump;
use shipdeck::config::{SloConfig, SloSource};
use shipdeck::core::model::{AlertLevel, BurnWindow};
use shipdeck::core::msg::{Msg, SloReport};
use shipdeck::source::prometheus::{self, Target};
use support::TestEnv;
use support::env::unique_name;
use support::promwrite::{Series, push, query_scalar};

#[path = "slo/gate.rs"]
mod slo_gate;
use slo_gate::{assert_gate, state_with};

/// Samples every 15 s; the newest one 5 s before the evaluation time.
const STEP_S: i64 = 15;
const LAST_AGE_S: i64 = 5;
const HISTORY_S: i64 = 4 * 3600;

/// The evaluation time: a whole minute, a minute in the past.
fn eval_time() -> i64 {
    let now = Timestamp::now().as_second();
    now / 60 * 60 - 60
}

/// Deterministic pseudo-random numbers (same traffic every run).
struct Lcg(u64);
impl Lcg {
    fn next(&mut self, n: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 33) % n
    }
}

/// Pushed counters of one service: good (code 200) and bad (code 500), same timestamps.
struct Traffic {
    service: String,
    /// (t ms, good, bad), oldest first, starting at 0.
    samples: Vec<(i64, f64, f64)>,
}

impl Traffic {
    /// HISTORY_S of traffic ending LAST_AGE_S before `eval_s`, with the error ratio of each
    /// 15 s step given by `ratio_at(age in seconds at the end of the step)`.
    fn synth(service: String, eval_s: i64, ratio_at: impl Fn(i64) -> f64) -> Traffic {
        let mut rng = Lcg(7);
        let (mut good, mut bad) = (0.0_f64, 0.0_f64);
        let mut samples = Vec::new();
        let mut age = HISTORY_S + LAST_AGE_S;
        samples.push(((eval_s - age) * 1000, good, bad));
        while age > LAST_AGE_S {
            age -= STEP_S;
            let reqs = (900 + rng.next(201)) as f64; // 60–73 requests/s
            let r = ratio_at(age);
            good += reqs * (1.0 - r);
            bad += reqs * r;
            samples.push(((eval_s - age) * 1000, good, bad));
        }
        Traffic { service, samples }
    }

    fn series(&self) -> Vec<Series> {
        let mut ok = Series::new(
            "http_requests_total",
            &[("service", &self.service), ("code", "200")],
        );
        let mut err = Series::new(
            "http_requests_total",
            &[("service", &self.service), ("code", "500")],
        );
        for (t, g, b) in &self.samples {
            ok.samples.push((*t, *g));
            err.samples.push((*t, *b));
        }
        vec![ok, err]
    }

    /// (good+bad, bad) at the last sample at or before `t_ms` (0 before the first).
    fn at(&self, t_ms: i64) -> (f64, f64) {
        self.samples
            .iter()
            .take_while(|(t, _, _)| *t <= t_ms)
            .last()
            .map_or((0.0, 0.0), |(_, g, b)| (g + b, *b))
    }

    /// The error ratio over (eval − window, eval], straight from the pushed counters.
    fn ratio(&self, eval_s: i64, window_s: i64) -> f64 {
        let (n1, e1) = self.at(eval_s * 1000);
        let (n0, e0) = self.at((eval_s - window_s) * 1000);
        (e1 - e0) / (n1 - n0)
    }

    fn slo(&self, name: &str) -> SloConfig {
        SloConfig {
            name: name.into(),
            service: self.service.clone(),
            objective: 99.9,
            window: "30d".into(),
            cluster: None,
            source: SloSource::Promql {
                errors: format!(
                    "http_requests_total{{service=\"{}\",code=~\"5..\"}}",
                    self.service
                ),
                total: format!("http_requests_total{{service=\"{}\"}}", self.service),
            },
        }
    }
}

fn relative(a: f64, b: f64) -> f64 {
    if a == b {
        0.0
    } else {
        (a - b).abs() / a.abs().max(b.abs())
    }
}

fn ratios(report: &SloReport) -> BTreeMap<BurnWindow, Option<f64>> {
    report.ratios.iter().copied().collect()
}

/// Push `traffic`, evaluate its SLO with shipdeck at `eval_s`, compare every window with
/// Prometheus and with the samples, print the table; the report.
async fn evaluate_and_compare(env: &TestEnv, traffic: &Traffic, eval_s: i64) -> SloReport {
    push(&env.prometheus_url, &traffic.series()).await.unwrap();
    let slo = traffic.slo("availability");
    let at = Timestamp::from_second(eval_s).unwrap();
    let msgs = prometheus::evaluate_at(
        &Target::new(env.prometheus_url.clone()),
        std::slice::from_ref(&slo),
        at,
    )
    .await;
    let report = match msgs.as_slice() {
        [Msg::Slo(r)] => r.clone(),
        other => panic!("expected one SLO report, got {other:?}"),
    };
    assert_eq!(report.at, at);
    let SloSource::Promql { errors, total } = &slo.source else {
        unreachable!()
    };
    let budget = 0.001;
    let mut windows: Vec<(String, i64, Option<f64>)> = ratios(&report)
        .into_iter()
        .map(|(w, r)| (w.as_str().to_owned(), w.seconds(), r))
        .collect();
    windows.push(("30d (SLO)".into(), 30 * 86400, report.window_ratio));

    println!(
        "\nburn rates for service {} at {at} (objective 99.9 %, budget 0.1 %)",
        traffic.service
    );
    println!(
        "{:<10} {:>14} {:>14} {:>14} {:>12} {:>12}",
        "window", "shipdeck", "prometheus", "from samples", "rel vs prom", "rel vs samp"
    );
    let mut failures = Vec::new();
    for (label, secs, got) in &windows {
        let range = label.split_whitespace().next().unwrap();
        let q = format!("sum(rate({errors}[{range}])) / sum(rate({total}[{range}]))");
        let prom = query_scalar(&env.prometheus_url, &q, eval_s as f64)
            .await
            .unwrap();
        let samples = traffic.ratio(eval_s, *secs);
        let got = got.unwrap_or(f64::NAN);
        let (rp, rs) = (relative(got, prom), relative(got, samples));
        println!(
            "{label:<10} {:>14.6} {:>14.6} {:>14.6} {rp:>12.2e} {rs:>12.2e}",
            got / budget,
            prom / budget,
            samples / budget
        );
        if rp.is_nan() || rp > 1e-6 {
            failures.push(format!("{label}: shipdeck {got} vs Prometheus {prom}"));
        }
        if rs.is_nan() || rs > 0.02 {
            failures.push(format!("{label}: shipdeck {got} vs samples {samples}"));
        }
    }
    assert!(
        failures.is_empty(),
        "burn rates disagree:\n{}",
        failures.join("\n")
    );
    report
}

#[tokio::test]
async fn sustained_burn_pages_and_gates_promote() {
    let env = TestEnv::get().unwrap();
    let eval_s = eval_time();
    // A burn that grows towards now: every window has a clearly different ratio, so a
    // query over the wrong window fails the comparison.
    let traffic = Traffic::synth(
        format!("checkout-{}", unique_name("s")),
        eval_s,
        |age| match age {
            ..=300 => 0.028,
            301..=1800 => 0.024,
            1801..=3600 => 0.016,
            3601..=7200 => 0.005,
            _ => 0.0005,
        },
    );
    let report = evaluate_and_compare(env, &traffic, eval_s).await;
    let r = ratios(&report);
    assert!(r[&BurnWindow::H1].unwrap() / 0.001 > 14.4);
    assert!(r[&BurnWindow::M5].unwrap() / 0.001 > 14.4);

    // The real burn into the core: page, and promote on the service's Rollout is gated.
    let (mut state, slo_name) =
        state_with(&traffic.service, Timestamp::from_second(eval_s).unwrap());
    let report = SloReport {
        slo: slo_name,
        ..report
    };
    Pump::headless().apply(&mut state, Msg::Slo(report));
    assert_eq!(state.slos[0].alert, AlertLevel::Page);
    let budget = state.slos[0].budget_remaining.unwrap();
    assert!(budget < 1.0 && budget > -10.0, "budget remaining {budget}");
    assert_gate(&mut state, &traffic.service);
}

#[tokio::test]
async fn short_spike_burns_5m_but_does_not_page() {
    let env = TestEnv::get().unwrap();
    let eval_s = eval_time();
    let traffic = Traffic::synth(format!("search-{}", unique_name("k")), eval_s, |age| {
        if age <= 300 { 0.03 } else { 0.0001 }
    });
    let report = evaluate_and_compare(env, &traffic, eval_s).await;
    let r = ratios(&report);
    assert!(r[&BurnWindow::M5].unwrap() / 0.001 > 14.4, "5m burns hard");
    assert!(r[&BurnWindow::H1].unwrap() / 0.001 < 14.4, "1h does not");

    let (mut state, slo_name) =
        state_with(&traffic.service, Timestamp::from_second(eval_s).unwrap());
    Pump::headless().apply(
        &mut state,
        Msg::Slo(SloReport {
            slo: slo_name,
            ..report
        }),
    );
    assert_eq!(
        state.slos[0].alert,
        AlertLevel::None,
        "a short spike alone never pages"
    );
}

#[tokio::test]
async fn no_series_is_unknown_not_zero() {
    let env = TestEnv::get().unwrap();
    let traffic = Traffic {
        service: format!("ghost-{}", unique_name("n")),
        samples: Vec::new(),
    };
    let slo = traffic.slo("ghost-availability");
    let at = Timestamp::from_second(eval_time()).unwrap();
    let msgs = prometheus::evaluate_at(&Target::new(env.prometheus_url.clone()), &[slo], at).await;
    let [Msg::Slo(report)] = msgs.as_slice() else {
        panic!("{msgs:?}")
    };
    assert!(report.ratios.iter().all(|(_, r)| r.is_none()), "{report:?}");
    assert_eq!(report.window_ratio, None);

    let (mut state, slo_name) = state_with(&traffic.service, at);
    Pump::headless().apply(
        &mut state,
        Msg::Slo(SloReport {
            slo: slo_name,
            ..report.clone()
        }),
    );
    let s = &state.slos[0];
    assert_eq!(s.alert, AlertLevel::Unknown);
    assert_eq!(s.unknown_since, Some(at));
    assert!(s.burn.values().all(Option::is_none));
}

#[tokio::test]
async fn unreachable_prometheus_is_unknown_not_zero() {
    // A closed port on loopback (the shared Prometheus keeps running).
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    drop(listener);
    let service = "checkout";
    let (mut state, slo_name) = state_with(service, Timestamp::from_second(eval_time()).unwrap());
    // Known burn first, so the test shows it is cleared, not kept or zeroed.
    let known = SloReport {
        slo: slo_name.clone(),
        at: state.now,
        ratios: BurnWindow::ALL.iter().map(|w| (*w, Some(0.0005))).collect(),
        window_ratio: Some(0.0002),
    };
    Pump::headless().apply(&mut state, Msg::Slo(known));
    assert_eq!(state.slos[0].alert, AlertLevel::None);

    let slo = Traffic {
        service: service.into(),
        samples: Vec::new(),
    }
    .slo(&slo_name);
    let later = state
        .now
        .checked_add(jiff::SignedDuration::from_secs(30))
        .unwrap();
    let msgs = prometheus::evaluate_at(&Target::new(url), &[slo], later).await;
    let [Msg::SloUnavailable { slo, at, error }] = msgs.as_slice() else {
        panic!("{msgs:?}")
    };
    assert_eq!(*at, later);
    println!("unreachable Prometheus: {error}");
    Pump::headless().apply(
        &mut state,
        Msg::SloUnavailable {
            slo: slo.clone(),
            at: *at,
            error: error.clone(),
        },
    );
    let s = &state.slos[0];
    assert_eq!(s.alert, AlertLevel::Unknown);
    assert_eq!(s.unknown_since, Some(later));
    assert!(
        s.burn.values().all(Option::is_none),
        "no zeros: {:?}",
        s.burn
    );
    assert_eq!(s.budget_remaining, None);
}

/// R8: a Prometheus that stops answering (blackholed behind a fault proxy, the shared one
/// keeps running) turns the SLO unknown within the timeout; the task keeps going and the
/// burn comes back when Prometheus answers again.
#[tokio::test]
async fn slow_prometheus_goes_unknown_and_recovers() {
    use std::time::Duration;
    use support::proxy::{FaultProxy, Mode};

    let env = TestEnv::get().unwrap();
    let now_s = Timestamp::now().as_second();
    let traffic = Traffic::synth(format!("cart-{}", unique_name("f")), now_s, |_| 0.0005);
    push(&env.prometheus_url, &traffic.series()).await.unwrap();
    let upstream: std::net::SocketAddr = env
        .prometheus_url
        .trim_start_matches("http://")
        .parse()
        .unwrap();
    let proxy = FaultProxy::start(upstream).await.unwrap();
    let mut target = Target::new(format!("http://{}", proxy.addr()));
    target.timeout = Duration::from_secs(1);
    target.interval = Duration::from_secs(1);
    let (mut state, slo_name) = state_with(&traffic.service, Timestamp::now());
    let (tx, mut rx) = tokio::sync::mpsc::channel(8);
    let task = prometheus::spawn(target, vec![traffic.slo(&slo_name)], tx);

    let mut next = async || {
        tokio::time::timeout(Duration::from_secs(10), rx.recv())
            .await
            .unwrap()
            .unwrap()
    };
    let first = next().await;
    assert!(
        matches!(&first, Msg::Slo(r) if r.ratios.iter().all(|(_, v)| v.is_some())),
        "{first:?}"
    );
    Pump::headless().apply(&mut state, first);
    assert_eq!(state.slos[0].alert, AlertLevel::None);

    proxy.set_mode(Mode::Blackhole);
    let started = std::time::Instant::now();
    let down = loop {
        match next().await {
            m @ Msg::SloUnavailable { .. } => break m,
            Msg::Slo(_) => assert!(
                started.elapsed() < Duration::from_secs(5),
                "still answering"
            ),
            other => panic!("{other:?}"),
        }
    };
    let Msg::SloUnavailable { error, at, .. } = &down else {
        unreachable!()
    };
    assert!(
        error.to_string().contains("did not answer within 1s"),
        "{error}"
    );
    println!(
        "blackholed Prometheus: {error} (after {:?})",
        started.elapsed()
    );
    let went_unknown = *at;
    Pump::headless().apply(&mut state, down);
    assert_eq!(state.slos[0].alert, AlertLevel::Unknown);
    assert_eq!(state.slos[0].unknown_since, Some(went_unknown));
    assert!(state.slos[0].burn.values().all(Option::is_none));

    proxy.set_mode(Mode::Pass);
    let back = loop {
        match next().await {
            m @ Msg::Slo(_) => break m,
            Msg::SloUnavailable { .. } => {}
            other => panic!("{other:?}"),
        }
    };
    Pump::headless().apply(&mut state, back);
    assert_eq!(state.slos[0].alert, AlertLevel::None);
    assert_eq!(state.slos[0].unknown_since, None);
    drop(rx);
    task.abort();
}

/// Sloth and Pyrra recording-rule series (pushed as such) are read under the right names,
/// with a hostile label value escaped correctly for the real PromQL parser.
#[tokio::test]
async fn sloth_and_pyrra_rules_are_read() {
    let env = TestEnv::get().unwrap();
    let eval_s = eval_time();
    let id = unique_name("r");
    let sloth_slo = format!("avail\"ab\\ility-{id}");
    let mut series = Vec::new();
    let windows: Vec<(&str, f64)> = vec![
        ("5m", 0.05),
        ("30m", 0.03),
        ("1h", 0.02),
        ("2h", 0.01),
        ("6h", 0.005),
        ("1d", 0.002),
        ("3d", 0.001),
        ("30d", 0.0005),
    ];
    let gauge = |name: String, labels: &[(&str, &str)], v: f64| {
        let mut s = Series::new(&name, labels);
        for k in 0..20 {
            s.samples.push(((eval_s - 5 - 15 * (19 - k)) * 1000, v));
        }
        s
    };
    for (w, v) in &windows {
        series.push(gauge(
            format!("slo:sli_error:ratio_rate{w}"),
            &[
                ("sloth_service", "payments"),
                ("sloth_slo", &sloth_slo),
                ("sloth_window", w),
            ],
            *v,
        ));
        let pyrra_w = if *w == "30d" { "4w2d" } else { w };
        series.push(gauge(
            format!("http_requests:burnrate{pyrra_w}"),
            &[("slo", &id)],
            *v * 2.0,
        ));
    }
    push(&env.prometheus_url, &series).await.unwrap();

    let base = |name: &str, source| SloConfig {
        name: name.into(),
        service: "payments".into(),
        objective: 99.9,
        window: "30d".into(),
        cluster: None,
        source,
    };
    let slos = [
        base(
            "sloth",
            SloSource::Sloth {
                sloth_service: "payments".into(),
                sloth_slo: sloth_slo.clone(),
            },
        ),
        base(
            "pyrra",
            SloSource::Pyrra {
                metric: "http_requests_total".into(),
                matchers: format!("slo=\"{id}\""),
            },
        ),
    ];
    let at = Timestamp::from_second(eval_s).unwrap();
    let msgs = prometheus::evaluate_at(&Target::new(env.prometheus_url.clone()), &slos, at).await;
    let [Msg::Slo(sloth), Msg::Slo(pyrra)] = msgs.as_slice() else {
        panic!("{msgs:?}")
    };
    for (i, (w, r)) in sloth.ratios.iter().enumerate() {
        assert_eq!(*r, Some(windows[i].1), "sloth {w:?}");
        assert_eq!(pyrra.ratios[i].1, Some(windows[i].1 * 2.0), "pyrra {w:?}");
    }
    assert_eq!(sloth.window_ratio, Some(0.0005));
    assert_eq!(pyrra.window_ratio, Some(0.001));
}

/// The gate without Prometheus: a paging burn, a Rollout paused at a step, `p`.
#[test]
fn gate_requires_typed_service_name() {
    let at = Timestamp::from_second(1_764_145_200).unwrap();
    let (mut state, slo_name) = state_with("checkout", at);
    let paging = SloReport {
        slo: slo_name,
        at,
        ratios: BurnWindow::ALL.iter().map(|w| (*w, Some(0.0148))).collect(),
        window_ratio: Some(0.0005),
    };
    Pump::headless().apply(&mut state, Msg::Slo(paging));
    assert_eq!(state.slos[0].alert, AlertLevel::Page);
    assert_gate(&mut state, "checkout");
}
