#![cfg(feature = "e2e")]
//! Two operators at once (issue 10 item 5, S2): two consoles' executors, each with its own
//! client for the on-call identity, act on the same real Argo Rollout at the same moment
//! with plans made from the same view (so the same resourceVersion precondition). Each round
//! picks their actions at random (seeded, printed) among promote / abort / pause as the
//! core enables them in the Rollout's state, fires both together, and checks the real
//! object: exactly one effect, the other console told "conflict" (409), and a fresh read
//! shows it the new state. Between rounds a third executor brings the Rollout back into
//! play (retry after an abort, resume after a pause).
//!
//! The Rollout walks: step 0 `pause {}` → promote → step 1 `pause {}` → promote → step 2
//! `setWeight 50`, which never completes (the new pods are unschedulable), so the Rollout
//! stays progressing there, where pause and abort are enabled. Rounds:
//! SHIPDECK_OPERATORS_ROUNDS (default 200); seed: SHIPDECK_OPERATORS_SEED (default: time).
//!
//! The rounds are shared among `LANES` Rollouts played at once, each with its own three
//! executors: every round is still two operators on one Rollout, and a round spends most
//! of its time waiting for the controller, so the lanes cut the wall time, not the checks.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[allow(dead_code)]
mod actions;
mod support;

use std::panic::AssertUnwindSafe;
use std::time::{Duration, Instant};

use anyhow::{Result, bail};
use futures::FutureExt;
use serde_json::Value;
use shipdeck::core::action::{ActionKind, ROLLOUTS};
use shipdeck::core::model::Release;
use shipdeck::core::msg::Outcome;

use actions::{Console, Fixture};
use support::manifests::{Rollout, Step};
use support::wait::{Check, wait_until};

/// Rollouts played at once, `shared-0` … (the rounds split among them).
const LANES: u32 = 4;

/// splitmix64: a seeded, printed, reproducible sequence (no dependency needed).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn pick<T: Copy>(&mut self, from: &[T]) -> T {
        from[(self.next() % from.len() as u64) as usize]
    }
}

/// v1 runs anywhere; v2 and later cannot be scheduled (no node has the label), so their
/// canary step `setWeight 50` never finishes.
fn rollout_yaml(name: &str, image: &str, schedulable: bool) -> String {
    let mut v = Rollout::canary(name, image)
        .replicas(2)
        .steps(&[Step::Pause, Step::Pause, Step::Weight(50), Step::Pause])
        .value();
    v["spec"]["progressDeadlineSeconds"] = 3600.into();
    if !schedulable {
        v["spec"]["template"]["spec"]["nodeSelector"] =
            serde_json::json!({"shipdeck.dev/no-such-node": "true"});
    }
    serde_yaml::to_string(&v).unwrap()
}

fn step_index(raw: &Value) -> Option<i64> {
    raw["status"]["currentStepIndex"].as_i64()
}

fn aborted(raw: &Value) -> bool {
    raw["status"]["abort"] == true
}

fn spec_paused(raw: &Value) -> bool {
    raw["spec"]["paused"] == true
}

fn step_paused(raw: &Value) -> bool {
    raw["status"]["pauseConditions"]
        .as_array()
        .is_some_and(|a| !a.is_empty())
}

/// The state a round starts from.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Where {
    /// Paused at step 0 or 1 (`pause {}`): promote and abort enabled.
    AtPause(i64),
    /// Progressing at step 2, stuck on its pods: pause and abort enabled.
    Stuck,
}

fn where_is(raw: &Value) -> Option<Where> {
    let observed = raw["status"]["observedGeneration"]
        .as_str()
        .map(str::to_owned)
        .or_else(|| {
            raw["status"]["observedGeneration"]
                .as_i64()
                .map(|g| g.to_string())
        });
    let generation = raw["metadata"]["generation"]
        .as_i64()
        .map(|g| g.to_string());
    if observed != generation || aborted(raw) || spec_paused(raw) {
        return None;
    }
    match step_index(raw)? {
        i @ (0 | 1) if step_paused(raw) && raw["status"]["phase"] == "Paused" => {
            Some(Where::AtPause(i))
        }
        2 if !step_paused(raw) && raw["status"]["phase"] == "Progressing" => Some(Where::Stuck),
        _ => None,
    }
}

/// The Rollout settled in a state a round can start from: that state, read twice 300 ms
/// apart with the same resourceVersion, as a person would look before pressing a key.
async fn settled(fx: &Fixture, name: &str) -> Result<(Where, Release)> {
    wait_until("the rollout settled", actions::TIMEOUT, || async {
        let raw = fx.get(&ROLLOUTS, name).await?;
        let Some(at) = where_is(&raw) else {
            return Ok(Check::NotYet(format!("status {}", raw["status"])));
        };
        tokio::time::sleep(Duration::from_millis(300)).await;
        let release = fx.rollout(name).await?;
        let rv = raw["metadata"]["resourceVersion"].as_str().unwrap_or("");
        Ok(if release.resource_version == rv {
            Check::Done((at, release))
        } else {
            Check::NotYet(format!(
                "still changing ({rv} → {})",
                release.resource_version
            ))
        })
    })
    .await
}

/// After an abort (aborted, Degraded) or a pause (paused by the user, Paused), once the
/// controller has written that status and stopped: the view the retry or resume is made on.
async fn settled_after(fx: &Fixture, name: &str, kind: ActionKind) -> Result<Release> {
    wait_until(
        "the rollout settled after the round",
        actions::TIMEOUT,
        || async {
            let raw = fx.get(&ROLLOUTS, name).await?;
            let done = match kind {
                ActionKind::Abort => aborted(&raw) && raw["status"]["phase"] == "Degraded",
                _ => spec_paused(&raw) && raw["status"]["phase"] == "Paused",
            };
            if !done {
                return Ok(Check::NotYet(format!("status {}", raw["status"])));
            }
            tokio::time::sleep(Duration::from_millis(300)).await;
            let release = fx.rollout(name).await?;
            let rv = raw["metadata"]["resourceVersion"].as_str().unwrap_or("");
            Ok(if release.resource_version == rv {
                Check::Done(release)
            } else {
                Check::NotYet(format!(
                    "still changing ({rv} → {})",
                    release.resource_version
                ))
            })
        },
    )
    .await
}

#[derive(Default, Debug, Clone, Copy)]
struct Counts {
    rounds: u32,
    applied: u32,
    conflicts: u32,
    lost: u32,
    doubled: u32,
    /// Both refused: the controller wrote between the view and the requests (retried).
    raced: u32,
}

impl std::ops::AddAssign for Counts {
    fn add_assign(&mut self, o: Counts) {
        self.rounds += o.rounds;
        self.applied += o.applied;
        self.conflicts += o.conflicts;
        self.lost += o.lost;
        self.doubled += o.doubled;
        self.raced += o.raced;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn two_operators_at_once() -> Result<()> {
    let fx = Fixture::new("a").await?;
    let result = AssertUnwindSafe(body(&fx)).catch_unwind().await;
    fx.done(result).await
}

async fn body(fx: &Fixture) -> Result<()> {
    let rounds: u32 = std::env::var("SHIPDECK_OPERATORS_ROUNDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(200);
    let seed: u64 = std::env::var("SHIPDECK_OPERATORS_SEED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| jiff::Timestamp::now().as_nanosecond() as u64);
    eprintln!(
        "two operators: {rounds} rounds on {LANES} Rollouts at once, seed {seed} (SHIPDECK_OPERATORS_SEED to replay)"
    );
    let started = Instant::now();
    let lanes = (0..LANES).map(|lane| {
        let share = rounds / LANES + u32::from(lane < rounds % LANES);
        play(fx, lane, share, seed.wrapping_add(u64::from(lane)))
    });
    let mut c = Counts::default();
    for lane in futures::future::try_join_all(lanes).await? {
        c += lane;
    }
    let took = started.elapsed();
    eprintln!(
        "two operators: rounds {} applied {} conflicts {} lost {} doubled {} (both refused and replayed: {}) in {:.1} s ({:.2} s a round, {LANES} at once)",
        c.rounds,
        c.applied,
        c.conflicts,
        c.lost,
        c.doubled,
        c.raced,
        took.as_secs_f64(),
        took.as_secs_f64() / f64::from(c.rounds.max(1))
    );
    assert_eq!(c.lost, 0, "{c:?}");
    assert_eq!(c.doubled, 0, "{c:?}");
    assert_eq!(c.applied, rounds, "{c:?}");
    assert_eq!(c.conflicts, rounds, "{c:?}");
    Ok(())
}

/// One lane: `rounds` rounds on the Rollout `shared-<lane>`.
async fn play(fx: &Fixture, lane: u32, rounds: u32, seed: u64) -> Result<Counts> {
    let name = format!("shared-{lane}");
    let name = name.as_str();
    let mut rng = Rng(seed);
    fx.apply(&rollout_yaml(name, "example.test/shop:1", true))
        .await?;
    fx.wait_release(
        "v1 healthy",
        || fx.rollout(name),
        |r| r.facts.fully_promoted,
    )
    .await?;
    fx.apply(&rollout_yaml(name, "example.test/shop:2", false))
        .await?;

    let env = support::TestEnv::get()?;
    // Two consoles, each with its own client (own connection pool) for the same identity.
    let mut one = Console::new("a", actions::target(env, "a-oncall").await?, None);
    let mut two = Console::new("a", actions::target(env, "a-oncall").await?, None);
    let mut reset = Console::new("a", actions::target(env, "a-oncall").await?, None);
    let mut reset_id = 0;

    let mut c = Counts::default();
    let started = Instant::now();
    let mut id = 0u64;
    while c.rounds < rounds {
        if c.rounds % 25 == 0 && c.rounds > 0 {
            eprintln!(
                "two operators, {name}: {c:?} after {:.0} s",
                started.elapsed().as_secs_f64()
            );
        }
        let (at, view) = settled(fx, name).await?;
        let choices: &[ActionKind] = match at {
            Where::AtPause(_) => &[ActionKind::Promote, ActionKind::Abort],
            Where::Stuck => &[ActionKind::Pause, ActionKind::Abort],
        };
        let (a, b) = (rng.pick(choices), rng.pick(choices));
        let (plan_a, plan_b) = (fx.plan(a, &view)?, fx.plan(b, &view)?);
        id += 1;
        let (out_a, out_b) = tokio::join!(one.run(id, plan_a), two.run(id, plan_b));
        let (out_a, out_b) = (out_a?, out_b?);
        let now = fx.get(&ROLLOUTS, name).await?;

        let winner = match (&out_a, &out_b) {
            (Outcome::Applied { .. }, Outcome::Conflict { status: 409, .. }) => a,
            (Outcome::Conflict { status: 409, .. }, Outcome::Applied { .. }) => b,
            (Outcome::Conflict { .. }, Outcome::Conflict { .. }) => {
                // Neither went through: the object changed under both (the controller).
                // Nothing applied, nothing to count but the race; the round is played again.
                c.raced += 1;
                eprintln!(
                    "{name} round {}: both refused ({a} / {b}), rv now {}",
                    c.rounds + 1,
                    now["metadata"]["resourceVersion"]
                );
                if c.raced > rounds / 10 + 5 {
                    bail!(
                        "the controller raced {} rounds: the view is not settled",
                        c.raced
                    );
                }
                continue;
            }
            (Outcome::Applied { .. }, Outcome::Applied { .. }) => {
                c.rounds += 1;
                c.doubled += 1;
                eprintln!(
                    "{name} round {}: DOUBLED: {a} and {b} both applied",
                    c.rounds
                );
                continue;
            }
            other => {
                c.rounds += 1;
                c.lost += 1;
                eprintln!("{name} round {}: LOST: {a} / {b}: {other:?}", c.rounds);
                continue;
            }
        };
        c.rounds += 1;
        c.applied += 1;
        c.conflicts += 1;
        let loser = if winner == a { b } else { a };

        // The loser's fresh view: the watch (here a read) delivers the state the winner made.
        let fresh = fx.rollout(name).await?;
        assert_ne!(
            fresh.resource_version, view.resource_version,
            "{name} round {}: the loser's fresh view is the stale one",
            c.rounds
        );

        // Exactly the winner's effect on the real object, and not the loser's.
        let effect = match (winner, at) {
            (ActionKind::Abort, _) => aborted(&now),
            (ActionKind::Pause, _) => spec_paused(&now) && !aborted(&now),
            (ActionKind::Promote, Where::AtPause(i)) => {
                // The controller takes it to the next step; never two steps.
                let next = wait_until("the promote's step", actions::TIMEOUT, || async {
                    let raw = fx.get(&ROLLOUTS, name).await?;
                    Ok(match step_index(&raw) {
                        Some(s) if s > i => Check::Done(s),
                        s => Check::NotYet(format!("step {s:?}")),
                    })
                })
                .await?;
                if next > i + 1 {
                    c.doubled += 1;
                    eprintln!(
                        "{name} round {}: DOUBLED promote: step {i} → {next}",
                        c.rounds
                    );
                }
                next == i + 1 && !aborted(&now) && !spec_paused(&now)
            }
            (kind, at) => bail!(
                "{name} round {}: {kind} was not offered at {at:?}",
                c.rounds
            ),
        };
        let loser_effect = loser != winner
            && match loser {
                ActionKind::Abort => aborted(&now),
                ActionKind::Pause => spec_paused(&now),
                _ => false,
            };
        if !effect {
            c.lost += 1;
            eprintln!(
                "{name} round {}: LOST: {winner} applied, object {}",
                c.rounds, now["status"]
            );
        }
        if loser_effect {
            c.doubled += 1;
            eprintln!(
                "{name} round {}: DOUBLED: the refused {loser} took effect too",
                c.rounds
            );
        }

        // Back into play for the next round.
        let next_kind = match winner {
            ActionKind::Abort => Some(ActionKind::Retry),
            ActionKind::Pause => Some(ActionKind::Resume),
            _ => None,
        };
        if let Some(kind) = next_kind {
            // The controller may still write the Rollout after it looked settled: the reset
            // is then refused (409) like any stale action, and, as a person would, looks again.
            let mut tries = 0;
            loop {
                tries += 1;
                let r = settled_after(fx, name, winner).await?;
                reset_id += 1;
                let out = reset.run(reset_id, fx.plan(kind, &r)?).await?;
                match out {
                    Outcome::Conflict { status: 409, .. } if tries < 5 => {
                        eprintln!("{name}: {kind} between rounds refused (409), looked again");
                    }
                    out => {
                        assert!(out.is_applied(), "{kind} between rounds: {out:?}");
                        break;
                    }
                }
            }
        }
    }
    Ok(c)
}
