//! The demo's Flagger canaries as they stand when it starts: per cluster, each one's phase,
//! weight, failed checks, interval, promotion gates and the script of later releases. Data
//! only; the behaviour lives in `canary`.

use jiff::Timestamp;

use super::{Dice, PROD_EU, PROD_US, STAGING};
use crate::source::demo::canary::{CanaryInit, CanarySim};
use crate::source::demo::replicaset::Quality::{self, ErrorProne, Good};
use crate::source::demo::script::Script;
use crate::source::demo::store::RvClock;

/// Shorthand for a Flagger canary's state.
struct C<'a> {
    cluster: &'a str,
    ns: &'a str,
    name: &'a str,
    phase: &'static str,
    weight: u32,
    failed_checks: u32,
    interval_secs: i64,
}

impl C<'_> {
    fn build(
        self,
        gate: Option<i64>,
        confirm_promotion: bool,
        script: Script,
        now: Timestamp,
        dice: &mut Dice,
        clock: &mut RvClock,
    ) -> CanarySim {
        // A finished canary finished hours ago; one under way changed phase minutes ago.
        let since_secs = match self.phase {
            "Succeeded" => dice.secs(3_600, 30 * 3_600),
            "Failed" => dice.secs(600, 1_800),
            _ => dice.secs(60, 240),
        };
        let init = CanaryInit {
            cluster: self.cluster.into(),
            namespace: self.ns.into(),
            name: self.name.into(),
            app: self.name.into(),
            step_weight: 10,
            max_weight: 50,
            threshold: 5,
            interval_secs: self.interval_secs,
            phase: self.phase,
            weight: self.weight,
            failed_checks: self.failed_checks,
            quality: Good,
            confirm_promotion,
            gate_opens_after: gate,
            since_secs,
            replicas: 2,
            image: format!("ghcr.io/{}/{}:1.4.0", self.ns, self.name),
            age_secs: 86_400 * 60,
            script,
        };
        CanarySim::new(init, now, clock)
    }
}

pub(super) fn canaries(now: Timestamp, dice: &mut Dice, clock: &mut RvClock) -> Vec<CanarySim> {
    let every = |min, max, first, plan: &[Quality]| Script::every((min, max), first, plan, now);
    let c = |cluster, ns, name, phase, weight, failed_checks, interval_secs| C {
        cluster,
        ns,
        name,
        phase,
        weight,
        failed_checks,
        interval_secs,
    };
    vec![
        c(PROD_EU, "catalog", "catalog-api", "Progressing", 20, 0, 15).build(
            None,
            false,
            every(420, 600, 300, &[Good]),
            now,
            dice,
            clock,
        ),
        c(PROD_EU, "accounts", "accounts-api", "Succeeded", 0, 0, 15).build(
            None,
            false,
            every(500, 800, 180, &[Good, ErrorProne]),
            now,
            dice,
            clock,
        ),
        c(
            PROD_US,
            "payments",
            "payments-api",
            "WaitingPromotion",
            50,
            0,
            15,
        )
        .build(
            Some(240),
            true,
            every(600, 900, 400, &[Good]),
            now,
            dice,
            clock,
        ),
        c(PROD_US, "notify", "notifications", "Failed", 0, 5, 15).build(
            None,
            false,
            every(600, 900, 300, &[Good]),
            now,
            dice,
            clock,
        ),
        c(STAGING, "catalog", "catalog-api", "Progressing", 10, 0, 10).build(
            None,
            false,
            every(200, 300, 100, &[Good]),
            now,
            dice,
            clock,
        ),
        c(STAGING, "payments", "payments-api", "Succeeded", 0, 0, 10).build(
            None,
            false,
            every(240, 360, 60, &[Good]),
            now,
            dice,
            clock,
        ),
        c(STAGING, "accounts", "accounts-api", "Waiting", 0, 0, 10).build(
            Some(150),
            false,
            every(300, 400, 300, &[Good]),
            now,
            dice,
            clock,
        ),
    ]
}
