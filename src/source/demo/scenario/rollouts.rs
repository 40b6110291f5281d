//! The demo's Argo Rollouts as they stand when it starts: per cluster, each rollout's
//! shape (replicas, traffic routing, steps), its revision history, any update in flight and
//! the script of later releases. Data only; the behaviour lives in `rollout`.

use jiff::{SignedDuration, Timestamp};

use super::{Dice, PROD_EU, PROD_US, STAGING};
use crate::core::facts::CanaryStep;
use crate::source::demo::replicaset::Quality::{self, ErrorProne, Good};
use crate::source::demo::rollout::{InFlight, RolloutInit, RolloutSim};
use crate::source::demo::script::Script;
use crate::source::demo::store::RvClock;

fn sw(weight: u32) -> CanaryStep {
    CanaryStep::SetWeight(weight)
}

fn pause(secs: Option<i64>) -> CanaryStep {
    CanaryStep::Pause(secs.map(SignedDuration::from_secs))
}

fn analysis() -> CanaryStep {
    CanaryStep::Analysis(vec!["error-rate".into()])
}

/// Shorthand for a rollout's identity and shape.
struct R<'a> {
    cluster: &'a str,
    ns: &'a str,
    name: &'a str,
    replicas: i32,
    traffic: bool,
    steps: Vec<CanaryStep>,
    history: &'a [&'a str],
}

impl R<'_> {
    fn build(
        self,
        in_flight: Option<InFlight>,
        script: Script,
        now: Timestamp,
        dice: &mut Dice,
        clock: &mut RvClock,
    ) -> RolloutSim {
        let history = dice.images(self.name, self.history);
        // The last release settled a few hours to a day ago.
        let settled_secs = dice.secs(2 * 3_600, 26 * 3_600);
        let init = RolloutInit {
            cluster: self.cluster.into(),
            namespace: self.ns.into(),
            name: self.name.into(),
            app: self.name.into(),
            replicas: self.replicas,
            steps: self.steps,
            traffic_routing: self.traffic,
            history,
            in_flight,
            age_secs: 86_400 * 40,
            settled_secs,
            script,
        };
        RolloutSim::new(init, now, clock)
    }
}

fn flight(
    dice: &mut Dice,
    app: &str,
    version: &str,
    quality: Quality,
    step: i32,
    paused_for_secs: i64,
) -> Option<InFlight> {
    Some(InFlight {
        image: dice.image(app, version),
        quality,
        step,
        paused_for_secs,
    })
}

/// How long the bad search canary bakes at 20 % before its analysis.
pub(crate) const BAKE_SECS: i64 = 1_200;

/// The checkout canary's steps (issue 2): an indefinite pause after 20 %.
fn checkout_steps() -> Vec<CanaryStep> {
    vec![
        sw(20),
        pause(None),
        sw(50),
        pause(Some(30)),
        sw(80),
        pause(Some(30)),
    ]
}

pub(super) fn rollouts(now: Timestamp, dice: &mut Dice, clock: &mut RvClock) -> Vec<RolloutSim> {
    let mut all = prod_eu(now, dice, clock);
    all.extend(prod_us(now, dice, clock));
    all.extend(staging(now, dice, clock));
    all
}

fn every(now: Timestamp, min: i64, max: i64, first: i64, plan: &[Quality]) -> Script {
    Script::every((min, max), first, plan, now)
}

/// A rollout's identity and shape, positionally.
fn r<'a>(
    cluster: &'a str,
    ns: &'a str,
    name: &'a str,
    replicas: i32,
    traffic: bool,
    steps: Vec<CanaryStep>,
    history: &'a [&'a str],
) -> R<'a> {
    R {
        cluster,
        ns,
        name,
        replicas,
        traffic,
        steps,
        history,
    }
}

fn prod_eu(now: Timestamp, dice: &mut Dice, clock: &mut RvClock) -> Vec<RolloutSim> {
    let paused = dice.secs(120, 900);
    let cart_paused = dice.secs(2, 12);
    vec![
        // Paused at an indefinite pause, waiting for a human to promote (issue 2).
        r(
            PROD_EU,
            "shop",
            "checkout",
            6,
            true,
            checkout_steps(),
            &["2.13.1", "2.13.2"],
        )
        .build(
            flight(dice, "checkout", "2.14.0", Good, 1, paused),
            every(now, 900, 1200, 900, &[Good]),
            now,
            dice,
            clock,
        ),
        r(
            PROD_EU,
            "shop",
            "cart",
            4,
            false,
            vec![
                sw(25),
                pause(Some(20)),
                sw(50),
                pause(Some(20)),
                sw(75),
                pause(Some(20)),
            ],
            &["1.8.3", "1.8.4"],
        )
        .build(
            flight(dice, "cart", "1.9.0", Good, 3, cart_paused),
            every(now, 300, 480, 200, &[Good]),
            now,
            dice,
            clock,
        ),
    ]
}

fn prod_us(now: Timestamp, dice: &mut Dice, clock: &mut RvClock) -> Vec<RolloutSim> {
    // The bad canary has baked at 20 % for 13–14 minutes of its 20: at 60x its 1h burn
    // crosses the 14.4x page factor after ~14.1 minutes (14.4 less the 0.3x baseline), so
    // within the first minute of the demo, while it still takes traffic.
    let baking = dice.secs(790, 835);
    let recs_paused = dice.secs(5, 35);
    vec![
        // The bad canary: takes 20 % of search's traffic, then its analysis fails.
        r(
            PROD_US,
            "search",
            "search",
            5,
            true,
            vec![
                sw(20),
                pause(Some(BAKE_SECS)),
                analysis(),
                sw(50),
                pause(Some(60)),
            ],
            &["3.4.0", "3.4.1"],
        )
        .build(
            flight(dice, "search", "3.5.0", ErrorProne, 1, baking),
            every(now, 420, 600, 240, &[Good, Good, ErrorProne]),
            now,
            dice,
            clock,
        ),
        r(
            PROD_US,
            "shop",
            "checkout",
            6,
            true,
            checkout_steps(),
            &["2.13.1", "2.13.2"],
        )
        .build(None, every(now, 900, 1200, 420, &[Good]), now, dice, clock),
        r(
            PROD_US,
            "recs",
            "recommendations",
            3,
            false,
            vec![sw(33), pause(Some(45)), sw(66), pause(Some(45))],
            &["0.9.1"],
        )
        .build(
            flight(dice, "recommendations", "0.10.0", Good, 1, recs_paused),
            every(now, 240, 360, 120, &[Good]),
            now,
            dice,
            clock,
        ),
    ]
}

fn staging(now: Timestamp, dice: &mut Dice, clock: &mut RvClock) -> Vec<RolloutSim> {
    vec![
        r(
            STAGING,
            "shop",
            "checkout",
            2,
            false,
            vec![sw(50), CanaryStep::Experiment, pause(Some(15)), analysis()],
            &["2.14.0", "2.14.1"],
        )
        .build(None, every(now, 150, 240, 60, &[Good]), now, dice, clock),
        r(
            STAGING,
            "search",
            "search",
            2,
            false,
            vec![sw(50), analysis(), pause(Some(20))],
            &["3.5.0", "3.5.1"],
        )
        .build(
            None,
            every(now, 200, 300, 90, &[Good, ErrorProne]),
            now,
            dice,
            clock,
        ),
    ]
}
