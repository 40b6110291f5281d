//! The demo's Deployments as they stand when it starts: per cluster, each one's replicas,
//! revision history, any rolling update under way (stuck ones included) and the script of
//! later releases. Data only; the behaviour lives in `deployment`.

use jiff::Timestamp;

use super::{Dice, PROD_EU, PROD_US, STAGING};
use crate::source::demo::deployment::{DeploymentInit, DeploymentSim, Update};
use crate::source::demo::replicaset::Quality::{self, CrashLoop, Good, ImagePull, Unschedulable};
use crate::source::demo::script::Script;
use crate::source::demo::store::RvClock;

/// Shorthand for a Deployment's identity and shape.
struct D<'a> {
    cluster: &'a str,
    ns: &'a str,
    name: &'a str,
    replicas: i32,
    history: &'a [&'a str],
}

impl D<'_> {
    /// `update`: (version, quality, seconds since it started) of a rollout under way.
    fn build(
        self,
        update: Option<(&str, Quality, i64)>,
        script: Script,
        now: Timestamp,
        dice: &mut Dice,
        clock: &mut RvClock,
    ) -> DeploymentSim {
        let history = dice.images(self.name, self.history);
        let update = update.map(|(version, quality, started_secs_ago)| Update {
            image: dice.image(self.name, version),
            quality,
            started_secs_ago,
        });
        // The last rollout completed an hour to a few days ago.
        let settled_secs = dice.secs(3_600, 4 * 86_400);
        let init = DeploymentInit {
            cluster: self.cluster.into(),
            namespace: self.ns.into(),
            name: self.name.into(),
            app: self.name.into(),
            replicas: self.replicas,
            history,
            update,
            progress_deadline_secs: if self.name == "search-indexer" {
                300
            } else {
                600
            },
            age_secs: 86_400 * 90,
            settled_secs,
            script,
        };
        DeploymentSim::new(init, now, clock)
    }
}

pub(super) fn deployments(
    now: Timestamp,
    dice: &mut Dice,
    clock: &mut RvClock,
) -> Vec<DeploymentSim> {
    let every = |min, max, first| Script::every((min, max), first, &[Good], now);
    let idle = Script::idle;
    let d = |cluster, ns, name, replicas, history| D {
        cluster,
        ns,
        name,
        replicas,
        history,
    };
    vec![
        d(PROD_EU, "shop", "frontend", 8, &["5.2.0", "5.2.1"]).build(
            None,
            every(360, 600, 150),
            now,
            dice,
            clock,
        ),
        d(PROD_EU, "shop", "inventory", 4, &["1.4.2"]).build(
            Some(("1.4.3", Good, 6)),
            every(400, 700, 300),
            now,
            dice,
            clock,
        ),
        // Stuck: the new image does not exist; past its progress deadline.
        d(
            PROD_EU,
            "payments",
            "payments-worker",
            3,
            &["3.1.9", "3.2.0"],
        )
        .build(Some(("3.2.1", ImagePull, 900)), idle(), now, dice, clock),
        d(PROD_EU, "platform", "edge-gateway", 4, &["1.27.3"]).build(
            None,
            idle(),
            now,
            dice,
            clock,
        ),
        d(PROD_US, "shop", "frontend", 8, &["5.2.0", "5.2.1"]).build(
            None,
            every(420, 700, 260),
            now,
            dice,
            clock,
        ),
        // Crash-looping; runs out of its 5-minute deadline while you watch.
        d(PROD_US, "search", "search-indexer", 3, &["2.0.3"]).build(
            Some(("2.0.4", CrashLoop, 200)),
            idle(),
            now,
            dice,
            clock,
        ),
        d(PROD_US, "auth", "auth-service", 4, &["4.0.9", "4.1.0"]).build(
            None,
            every(500, 800, 400),
            now,
            dice,
            clock,
        ),
        d(STAGING, "shop", "frontend", 2, &["5.2.1", "5.3.0"]).build(
            Some(("5.3.1", Good, 2)),
            every(180, 300, 120),
            now,
            dice,
            clock,
        ),
        d(STAGING, "data", "etl-runner", 2, &["0.7.0"]).build(
            Some(("0.8.0", Unschedulable, 100)),
            idle(),
            now,
            dice,
            clock,
        ),
        d(STAGING, "shop", "inventory", 2, &["1.4.3"]).build(
            None,
            every(300, 500, 200),
            now,
            dice,
            clock,
        ),
    ]
}
