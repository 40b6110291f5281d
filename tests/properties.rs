//! The property suite (issue 9): arbitrary, hostile cluster objects, Prometheus answers,
//! config files, key presses and terminal sizes through projection, status derivation, the
//! core update, every screen rendered at 80x24 and 250x70, and the snapshot JSON and table.
//! Nothing may panic. Seeded with a fixed seed (printed) so a run is reproducible; prints the
//! number of cases run and of panics. Each property runs on its own thread.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "properties/objects.rs"]
mod objects;

use std::io::Write;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{AtomicU64, Ordering};

use jiff::{SignedDuration, Timestamp};
use proptest::prelude::*;
use proptest::test_runner::{Config, RngAlgorithm, TestCaseError, TestRng, TestRunner};
use serde_json::Value;
use shipdeck::core::model::{BurnWindow, Cluster, SloSpec};
use shipdeck::core::msg::{AuditLine, AuditStage, SloReport};
use shipdeck::core::state::Settings;
use shipdeck::core::testkit::{FleetBuilder, prod_cluster};
use shipdeck::core::text::Untrusted;
use shipdeck::core::{Key, Msg, State, settle, slo_eval, update};
use shipdeck::source::kube::project::{self, Keep, Projected};
use shipdeck::ui::{Theme, screenshot};

const SEED: u64 = 0x5348_4950_0009;

static CASES: AtomicU64 = AtomicU64::new(0);
static PANICS: AtomicU64 = AtomicU64::new(0);
/// Releases derived from generated objects, and how many of them were unparseable: the
/// generators must reach derivation, not only the unparseable path.
static RELEASES: AtomicU64 = AtomicU64::new(0);
static UNPARSEABLE: AtomicU64 = AtomicU64::new(0);

fn runner(cases: u32, salt: u8) -> TestRunner {
    let mut seed = [0u8; 32];
    seed[..8].copy_from_slice(&SEED.to_le_bytes());
    seed[8] = salt;
    let config = Config {
        cases,
        failure_persistence: None,
        max_shrink_iters: 64,
        ..Config::default()
    };
    TestRunner::new_with_rng(config, TestRng::from_seed(RngAlgorithm::ChaCha, &seed))
}

/// Run `f` as one counted case; a panic is counted and fails the case (so proptest shrinks).
fn case(f: impl FnOnce()) -> Result<(), TestCaseError> {
    CASES.fetch_add(1, Ordering::Relaxed);
    catch_unwind(AssertUnwindSafe(f)).map_err(|e| {
        PANICS.fetch_add(1, Ordering::Relaxed);
        let why = e
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| e.downcast_ref::<&str>().map(|s| s.to_string()))
            .unwrap_or_default();
        TestCaseError::fail(format!("panicked: {why}"))
    })
}

fn run<S: Strategy>(name: &str, cases: u32, salt: u8, s: S, f: impl Fn(S::Value))
where
    S::Value: std::fmt::Debug,
{
    let started = std::time::Instant::now();
    let result = runner(cases, salt).run(&s, |v| case(|| f(v)));
    let took = started.elapsed().as_secs_f64();
    let _ = writeln!(
        std::io::stderr(),
        "property {name}: {cases} cases in {took:.1}s"
    );
    if let Err(e) = result {
        let mut text = format!("{e}");
        text.truncate(4000);
        panic!("property {name} failed (seed {SEED:#x}): {text}");
    }
}

fn now() -> Timestamp {
    "2026-11-26T08:16:42Z".parse().unwrap()
}

fn clusters() -> Vec<Cluster> {
    let mut ro = Cluster::new("files");
    ro.read_only = true;
    vec![prod_cluster("prod"), ro]
}

fn slos() -> Vec<shipdeck::core::model::SloStatus> {
    let spec = |name: &str, service: &str, objective, hours| SloSpec {
        name: name.into(),
        service: service.into(),
        objective,
        window: SignedDuration::from_hours(hours),
        window_label: format!("{hours}h"),
    };
    vec![
        slo_eval::initial(spec("checkout-availability", "checkout", 99.9, 720)),
        slo_eval::initial(spec("cart-latency", "cart", 99.999_999_9, 8784)),
    ]
}

/// Every way to reach a screen: home, detail, each action's modal, audit, help, clusters,
/// filter, and the SLO / failures panels.
const SCREENS: &[&[Key]] = &[
    &[],
    &[Key::Enter],
    &[Key::Char('p')],
    &[Key::Char('P')],
    &[Key::Char('a')],
    &[Key::Char('R')],
    &[Key::Char('u')],
    &[Key::Char('r')],
    &[Key::Char(' ')],
    &[Key::Enter, Key::Char('a'), Key::Tab, Key::Enter],
    &[Key::Char('L')],
    &[Key::Char('?')],
    &[Key::Char('c'), Key::Down, Key::Char(' ')],
    &[Key::Char('/'), Key::Char('c')],
    &[Key::Tab],
    &[Key::Tab, Key::Tab, Key::End],
];

fn keys(state: &mut State, keys: &[Key]) {
    for k in keys {
        update(state, Msg::Key(*k));
        settle(state);
    }
}

/// Render at `sizes` and build the snapshot JSON and table.
fn outputs(state: &mut State, sizes: &[(u16, u16)]) {
    let theme = Theme::default();
    for r in state.releases.values() {
        RELEASES.fetch_add(1, Ordering::Relaxed);
        if r.phase == shipdeck::core::model::Phase::Unparseable {
            UNPARSEABLE.fetch_add(1, Ordering::Relaxed);
        }
    }
    for &(w, h) in sizes {
        update(
            state,
            Msg::Resize {
                width: w,
                height: h,
            },
        );
        settle(state);
        let shot = screenshot(state, &theme, w, h);
        assert_eq!(shot.lines().count(), usize::from(h));
    }
    let json = shipdeck::snapshot::to_json(state);
    assert!(json.is_object());
    let _ = shipdeck::snapshot::to_table(state);
}

fn audit_lines() -> Vec<AuditLine> {
    let line = |at, stage, outcome: &str| AuditLine {
        at,
        stage,
        id: "20261201T000000Z-1-\u{202e}#1".into(),
        own: true,
        cluster: "prod".into(),
        target: "shop/checkout".into(),
        action: "promote".into(),
        outcome: outcome.into(),
    };
    vec![
        line(Timestamp::MIN, AuditStage::Intent, "\x1b]0;x\x07"),
        line(Timestamp::MAX, AuditStage::Result, "applied (200)"),
    ]
}

/// Project raw objects into messages for `cluster` (the watch path and the files path agree).
fn messages(raw: Vec<Value>, cluster: &str) -> Vec<Msg> {
    raw.into_iter()
        .filter_map(|v| match project::from_value(v, &Keep::default()) {
            Ok(Projected::Object(facts)) => Some(Msg::Upsert {
                cluster: cluster.into(),
                facts,
            }),
            Ok(Projected::Warning(event)) => Some(Msg::Warning {
                cluster: cluster.into(),
                event,
            }),
            Ok(Projected::Ignored) | Err(_) => None,
        })
        .collect()
}

/// A fleet of generated objects, one screen opened (chosen by `screen`), all outputs.
fn fleet_case(raw: Vec<Value>, screen: usize, select: u8, tick: i64, both_sizes: bool) {
    let mut f = FleetBuilder::new(now(), Settings::default(), clusters(), slos());
    f.send(Msg::Resize {
        width: 80,
        height: 24,
    });
    for (i, msg) in messages(raw, "prod").into_iter().enumerate() {
        f.send(msg);
        if i % 3 == 2 {
            f.send(Msg::Tick(now() + SignedDuration::from_secs(tick)));
        }
    }
    f.send(Msg::Audit(audit_lines()));
    let mut state = f.settled();
    for _ in 0..select % 4 {
        keys(&mut state, &[Key::Down]);
    }
    keys(&mut state, SCREENS[screen % SCREENS.len()]);
    // Each screen at both sizes over the run: the size alternates with the screen's turn.
    let size = BOTH[(screen / SCREENS.len()) % 2];
    outputs(
        &mut state,
        if both_sizes {
            &BOTH
        } else {
            std::slice::from_ref(&size)
        },
    );
}

const BOTH: [(u16, u16); 2] = [(80, 24), (250, 70)];

fn fleet_strategy() -> impl Strategy<Value = (Vec<Value>, usize, u8, i64, Option<usize>)> {
    (
        prop::collection::vec(objects::any_object(), 1..6),
        any::<usize>(),
        any::<u8>(),
        prop_oneof![Just(0i64), -1_000_000i64..1_000_000, Just(9_000_000_000)],
        prop::option::weighted(0.02, any::<usize>()),
    )
}

fn fleet_property(cases: u32, salt: u8) {
    let big = objects::big_string();
    run(
        "fleet",
        cases,
        salt,
        fleet_strategy(),
        |(mut raw, screen, select, tick, big_at)| {
            if let Some(n) = big_at {
                let i = n % raw.len();
                objects::inject_big(&mut raw[i], n / 7, &big);
            }
            fleet_case(raw, screen, select, tick, big_at.is_some());
        },
    );
}

/// Rollouts with thousands of steps and any step index.
fn steps_property() {
    let s = (
        objects::many_steps(1000, 5000),
        objects::int(),
        objects::rollout(2),
        any::<usize>(),
    );
    run("steps", 60, 2, s, |(steps, index, mut rollout, screen)| {
        if let Some(o) = rollout.as_object_mut() {
            let spec = serde_json::json!({"strategy": {"canary": {"steps": steps}}});
            o.insert("spec".into(), spec);
            let status = serde_json::json!({"currentStepIndex": index, "pauseConditions":
                [{"reason": "CanaryPauseStep", "startTime": "2026-11-26T08:00:00Z"}]});
            o.insert("status".into(), status);
        }
        fleet_case(vec![rollout], screen, 0, 0, true);
    });
}

fn ratio() -> BoxedStrategy<Option<f64>> {
    prop_oneof![
        2 => (0.0f64..1.0).prop_map(Some),
        1 => prop::sample::select(vec![
            f64::NAN, f64::INFINITY, f64::NEG_INFINITY, f64::MAX, f64::MIN, -1.0, 1e-300, 0.0,
        ]).prop_map(Some),
        1 => any::<f64>().prop_map(Some),
        1 => Just(None),
    ]
    .boxed()
}

/// Prometheus answers (decoded from hostile bodies, and raw ratios) through the SLO core.
fn prometheus_property() {
    let body = prop_oneof![
        objects::text().prop_map(|v| v.to_string()),
        (objects::text(), objects::int(), ratio()).prop_map(|(w, t, r)| {
            let v = r.map_or("NaN".to_string(), |r| r.to_string());
            serde_json::json!({"status": "success", "data": {"resultType": "vector",
                "result": [{"metric": {"window": w}, "value": [t, v]}]}})
            .to_string()
        }),
        Just(r#"{"status":"error","errorType":"bad_data","error":"x"}"#.to_string()),
    ];
    let s = (
        body,
        prop::collection::vec(ratio(), 8),
        prop_oneof![Just(1e-9), 0.0f64..100.0, Just(99.999_999_999_9)],
        prop_oneof![Just(1i64), 1i64..100_000, Just(527_040)],
        -10_000_000_000i64..10_000_000_000,
        any::<usize>(),
    );
    run(
        "prometheus",
        3000,
        3,
        s,
        |(body, r, objective, mins, at, screen)| {
            let decoded = shipdeck::source::prometheus::decode(200, body.as_bytes());
            let from_body = decoded.ok().and_then(|m| m.values().next().copied());
            let spec = SloSpec {
                name: "s".into(),
                service: "checkout".into(),
                objective,
                window: SignedDuration::from_mins(mins),
                window_label: format!("{mins}m"),
            };
            let mut state = State::new(
                now(),
                Settings::default(),
                clusters(),
                vec![slo_eval::initial(spec)],
            );
            let at = Timestamp::from_second(at).unwrap_or(Timestamp::MAX);
            let ratios = BurnWindow::ALL
                .iter()
                .zip(&r)
                .map(|(w, r)| (*w, *r))
                .collect();
            for report in [
                SloReport {
                    slo: "s".into(),
                    at,
                    ratios,
                    window_ratio: r[7],
                },
                SloReport {
                    slo: "s".into(),
                    at: now(),
                    ratios: vec![(
                        BurnWindow::H1,
                        shipdeck::source::prometheus::ratio(from_body),
                    )],
                    window_ratio: from_body,
                },
            ] {
                update(&mut state, Msg::Slo(report));
            }
            let error = Untrusted::new("\x1b[2Jdown");
            update(
                &mut state,
                Msg::SloUnavailable {
                    slo: "s".into(),
                    at,
                    error,
                },
            );
            settle(&mut state);
            keys(&mut state, SCREENS[screen % SCREENS.len()]);
            outputs(&mut state, &[BOTH[screen % 2]]);
        },
    );
}

/// Config files with extreme numbers and windows: an error or a config, never a panic.
fn config_property() {
    let num = prop_oneof![
        objects::int().prop_map(|v| v.to_string()),
        Just("nan".to_string()),
        Just("inf".to_string()),
        Just("-inf".to_string()),
        Just("1e400".to_string()),
        Just("\"5\"".to_string()),
    ];
    let window = prop_oneof![
        objects::duration().prop_map(|v| v.as_str().map(str::to_string).unwrap_or_default()),
        "[0-9]{1,22}[mhdwy]?",
    ];
    let s = (num.clone(), window, num.clone(), num);
    run(
        "config",
        3000,
        4,
        s,
        |(objective, window, timeout, interval)| {
            let window = window.replace(['"', '\\'], "");
            let text = format!(
                "[prometheus]\nurl = \"http://p\"\ntimeout_seconds = {timeout}\n\
             interval_seconds = {interval}\n[[slos]]\nname = \"x\"\nservice = \"y\"\n\
             objective = {objective}\nwindow = \"{window}\"\n[slos.source]\ntype = \"promql\"\n\
             errors = \"a\"\ntotal = \"b\"\n"
            );
            match shipdeck::config::Config::parse(&text, "c.toml") {
                Ok(c) => {
                    let specs = shipdeck::source::prometheus::slo_specs(&c.slos);
                    assert_eq!(specs.len(), 1);
                    let _ = shipdeck::source::prometheus::window_queries(&c.slos[0]);
                }
                Err(e) => assert!(e.to_string().starts_with("c.toml:"), "{e}"),
            }
        },
    );
}

fn key() -> impl Strategy<Value = Key> {
    prop_oneof![
        4 => prop::sample::select(vec![
            Key::Enter, Key::Esc, Key::Tab, Key::BackTab, Key::Up, Key::Down, Key::Left,
            Key::Right, Key::PageUp, Key::PageDown, Key::Home, Key::End, Key::Backspace,
            Key::Delete,
        ]),
        4 => prop::sample::select("pPaRurycLq?/gGjkxn ".chars().collect::<Vec<_>>())
            .prop_map(Key::Char),
        1 => any::<char>().prop_map(Key::Char),
        1 => any::<char>().prop_map(Key::Ctrl),
    ]
}

/// Key presses and terminal sizes (0x0, 1x1, 65535x65535) on a generated fleet.
fn keys_property() {
    let size = prop_oneof![
        Just((0u16, 0u16)),
        Just((1, 1)),
        Just((65535, 65535)),
        Just((0, 65535)),
        (0u16..300, 0u16..100),
    ];
    let s = (
        prop::collection::vec(objects::any_object(), 1..4),
        prop::collection::vec((key(), prop::option::weighted(0.1, size)), 0..20),
    );
    run("keys", 2000, 5, s, |(raw, presses)| {
        let mut f = FleetBuilder::new(now(), Settings::default(), clusters(), slos());
        for msg in messages(raw, "files") {
            f.send(msg);
        }
        let mut state = f.settled();
        let theme = Theme::default();
        for (k, size) in presses {
            if let Some((width, height)) = size {
                update(&mut state, Msg::Resize { width, height });
                settle(&mut state);
                // Draw tiny sizes for real; a huge one only as far as the core's paging.
                if u32::from(width) * u32::from(height) <= 300 * 100 {
                    screenshot(&state, &theme, width, height);
                }
            }
            keys(&mut state, &[k]);
        }
        outputs(&mut state, &BOTH[..1]);
    });
}

#[test]
fn property_suite_never_panics() {
    let mut err = std::io::stderr();
    let _ = writeln!(err, "property suite: seed {SEED:#x}");
    std::thread::scope(|s| {
        let jobs: Vec<(&str, fn())> = vec![
            ("fleet-a", || fleet_property(2500, 0)),
            ("fleet-b", || fleet_property(2500, 1)),
            ("steps", steps_property),
            ("prometheus", prometheus_property),
            ("config", config_property),
            ("keys", keys_property),
        ];
        let handles: Vec<_> = jobs
            .into_iter()
            .map(|(name, job)| (name, s.spawn(job)))
            .collect();
        let failed: Vec<&str> = handles
            .into_iter()
            .filter_map(|(name, h)| h.join().is_err().then_some(name))
            .collect();
        let (cases, panics) = (
            CASES.load(Ordering::Relaxed),
            PANICS.load(Ordering::Relaxed),
        );
        // Written to stderr directly so `cargo test` shows it without --nocapture.
        let _ = writeln!(err, "property suite: {cases} cases, {panics} panics");
        let (releases, bad) = (
            RELEASES.load(Ordering::Relaxed),
            UNPARSEABLE.load(Ordering::Relaxed),
        );
        let _ = writeln!(
            err,
            "property suite: {releases} releases derived, {bad} unparseable"
        );
        assert!(failed.is_empty(), "failed properties: {failed:?}");
        assert_eq!(panics, 0);
        assert!(cases >= 10_000, "{cases} cases");
        assert!(
            bad * 3 < releases * 2,
            "mostly unparseable: {bad} of {releases}"
        );
    });
}
