//! The demo through the real core (`core::update`, offers, the UI's screenshot), as the
//! console sees it: the bad canary's error-budget gate is reachable in the first minutes,
//! `--seed` changes what is on screen, and nothing starts at age 0s.

use jiff::{SignedDuration, Timestamp};

use super::{Fleet, PROD_US};
use crate::core::action::ActionKind;
use crate::core::model::{AlertLevel, BurnWindow, Phase, ReleaseKind};
use crate::core::offer;
use crate::core::state::{Settings, State};
use crate::core::{Msg, slo_eval};
use crate::ui::theme::Theme;

fn t0() -> Timestamp {
    "2026-11-26T08:00:00Z".parse().expect("timestamp")
}

/// A fleet and the console state it feeds, on a simulated clock.
struct Console {
    fleet: Fleet,
    state: State,
    now: Timestamp,
}

impl Console {
    fn new(seed: u64) -> Self {
        let mut fleet = Fleet::new(seed, t0());
        let slos = fleet
            .slo_specs()
            .into_iter()
            .map(slo_eval::initial)
            .collect();
        let mut state = State::new(t0(), Settings::default(), fleet.clusters(), slos);
        let size = Msg::Resize {
            width: 80,
            height: 24,
        };
        crate::core::update(&mut state, size);
        feed(&mut state, fleet.initial(), t0());
        Console {
            fleet,
            state,
            now: t0(),
        }
    }

    fn second(&mut self) {
        self.now += SignedDuration::from_secs(1);
        let msgs = self.fleet.advance(self.now);
        feed(&mut self.state, msgs, self.now);
    }

    fn search(&self) -> &crate::core::model::Release {
        self.state
            .releases
            .values()
            .find(|r| {
                r.key.cluster == PROD_US
                    && r.key.kind == ReleaseKind::Rollout
                    && r.key.name == "search"
            })
            .expect("the search rollout")
    }

    fn screen(&self) -> String {
        crate::ui::screenshot(&self.state, &Theme::default(), 80, 24)
    }
}

fn feed(state: &mut State, msgs: Vec<Msg>, now: Timestamp) {
    crate::core::update(state, Msg::Tick(now));
    for m in msgs {
        crate::core::update(state, m);
    }
    crate::core::settle(state);
}

#[test]
fn the_bad_canary_pages_and_gates_promote_within_two_minutes() {
    let mut c = Console::new(1);
    let r = c.search();
    assert!(r.actual_weight.is_some_and(|w| w > 0), "takes traffic");
    let mut gated_at = None;
    for s in 0..=120 {
        let r = c.search().clone();
        let promote = offer::offer(&c.state, &r, ActionKind::Promote);
        if let Ok(ready) = &promote.state
            && let Some(gate) = &ready.gate
        {
            // Gated while the canary still takes traffic, on the 1h/5m page rule.
            assert!(r.actual_weight.is_some_and(|w| w > 0), "{r:?}");
            assert_ne!(r.phase, Phase::Degraded);
            assert_eq!(gate.service, "search");
            assert!(gate.burn > 14.4, "{gate:?}");
            assert!(ready.must_type.is_some(), "the override is typed");
            gated_at = Some(s);
            break;
        }
        c.second();
    }
    let at = gated_at.expect("promote gated within 120 s");
    let slo = c
        .state
        .slos
        .iter()
        .find(|s| s.spec.service == "search")
        .expect("search SLO");
    assert_eq!(slo.alert, AlertLevel::Page);
    println!(
        "search gated after {at}s: 5m {:.1}x, 1h {:.1}x",
        slo.burn[&BurnWindow::M5].unwrap_or(f64::NAN),
        slo.burn[&BurnWindow::H1].unwrap_or(f64::NAN)
    );
}

#[test]
fn every_seed_gates_the_bad_canary_in_the_first_minutes() {
    for seed in [1, 2, 3, 7, 42] {
        let mut c = Console::new(seed);
        let gated = (0..=150).any(|_| {
            let r = c.search().clone();
            let gated = offer::offer(&c.state, &r, ActionKind::Promote)
                .state
                .is_ok_and(|ready| ready.gate.is_some());
            c.second();
            gated
        });
        assert!(gated, "seed {seed}: no gate in 150 s");
    }
}

#[test]
fn seeds_change_the_screen_and_the_same_seed_repeats_it() {
    let one = Console::new(1).screen();
    assert_eq!(one, Console::new(1).screen(), "same seed, same screen");
    let three = Console::new(3).screen();
    assert_ne!(one, three, "--seed 1 and --seed 3 look the same:\n{one}");
    // And the names (images and ReplicaSet hashes) differ, not only the timings.
    let images = |c: &Console| {
        let mut all: Vec<String> = c
            .state
            .releases
            .values()
            .flat_map(|r| r.images.clone())
            .collect();
        all.sort();
        all
    };
    assert_ne!(images(&Console::new(1)), images(&Console::new(3)));
}

#[test]
fn nothing_starts_at_age_zero() {
    let c = Console::new(1);
    for r in c.state.releases.values() {
        let since = r.since.or(r.created).expect("a time");
        let age = c.now.duration_since(since).as_secs();
        assert!(
            age >= 1,
            "{}/{}/{} ({:?}) starts at age {age}s",
            r.key.cluster,
            r.key.namespace,
            r.key.name,
            r.phase
        );
        if r.phase == Phase::Healthy {
            assert!(age >= 3_600, "{} healthy for only {age}s", r.key.name);
        }
    }
}

#[test]
fn the_trend_starts_with_the_half_hour_the_windows_hold() {
    let c = Console::new(1);
    let search = c
        .state
        .slos
        .iter()
        .find(|s| s.spec.service == "search")
        .expect("search SLO");
    assert_eq!(search.trend.len(), slo_eval::TREND_POINTS);
    // The bad canary has burned for 13+ minutes: the 1h burn climbed through them.
    let first = search.trend[0];
    let last = search.trend[search.trend.len() - 1];
    assert!(last > first * 5.0, "{first} → {last}");
    // And the history left every SLO decided, none unknown.
    for s in &c.state.slos {
        assert_ne!(s.alert, AlertLevel::Unknown, "{}", s.spec.name);
    }
    let screen = c.screen();
    let row = screen
        .lines()
        .find(|l| l.contains("search-av"))
        .unwrap_or("");
    println!("search at start: {row}");
}
