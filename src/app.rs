//! The one message pump. `Pump` applies messages to the pure `update` and carries out the
//! effects through the executor (or, headless, hands them back). The console's event loop
//! (`run`), `snapshot` (`collect`) and the e2e suites (`spawn_shared`) all drive it, so
//! messages reach the state one way everywhere.
//!
//! The console loop feeds terminal keys, resizes, the inbound `Msg` channel (sources,
//! executor) and a clock tick, until an exit (`exit::Exit`); every way out records the
//! actions still in flight once (the executor's `shutdown`). A frame is drawn only when the
//! core says something visible changed (`State::dirty` — the loop never overrides it),
//! coalescing bursts (data redraws at most 5 per second, key presses at once). Owns no state of its own and must not decide
//! anything the core decides (what is visible, what is in flight).

use std::sync::{Arc, Mutex};
use std::time::Duration;

use crossterm::event::Event;
use futures::{Stream, StreamExt};
use jiff::Timestamp;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio::time::Instant;

use crate::action::Executor;
use crate::core::model::Connection;
use crate::core::{self, Effect, Msg, State};
use crate::exit::Exit;
use crate::term::key_of;

/// Minimum gap between frames caused by data (P7: ≤ 5 fps).
const DATA_FRAME_GAP: Duration = Duration::from_millis(200);
/// Messages applied per batch before drawing, so a flood cannot starve the keyboard.
const BATCH: usize = 4096;

/// Carry out effects from `update`.
pub fn dispatch(executor: &Executor, effects: Vec<Effect>) {
    for effect in effects {
        match effect {
            Effect::Execute {
                id,
                plan,
                gate_override,
            } => executor.execute(id, plan, gate_override),
            Effect::CheckAccess {
                cluster,
                namespace,
                verb,
                resource,
            } => executor.check_access(cluster, namespace, verb, resource),
            Effect::DryRun { plan } => executor.dry_run(plan),
            Effect::WatchPods(q) => executor.watch_pods(q),
            Effect::StopPods { watch } => executor.stop_pods(watch),
            Effect::ListEvents(q) => executor.list_events(q),
            Effect::Logs(command) => executor.logs(command),
            Effect::CheckGate(q) => executor.check_gate(q),
            Effect::FetchObject {
                cluster,
                resource,
                namespace,
                name,
            } => executor.fetch_object(cluster, resource, namespace, name),
            Effect::FetchFluxSource(q) => executor.fetch_flux_source(q),
            Effect::FetchAnalysisRuns {
                cluster,
                namespace,
                names,
            } => executor.fetch_analysis_runs(cluster, namespace, names),
        }
    }
}

/// Messages in, effects out: with an executor the effects are carried out, headless they
/// are handed back to the caller (snapshot, tests).
#[derive(Clone, Default)]
pub struct Pump {
    executor: Option<Executor>,
}

impl Pump {
    /// A pump that carries out effects through `executor`.
    pub fn new(executor: Executor) -> Pump {
        Pump {
            executor: Some(executor),
        }
    }

    /// A pump without an executor: effects are returned, never carried out.
    pub fn headless() -> Pump {
        Pump::default()
    }

    /// Apply one message; returns the effects this pump did not carry out.
    pub fn apply(&self, state: &mut State, msg: Msg) -> Vec<Effect> {
        let effects = core::update(state, msg);
        match &self.executor {
            Some(executor) => {
                dispatch(executor, effects);
                Vec::new()
            }
            None => effects,
        }
    }

    /// Apply a batch of messages, then settle once (as the console does before a frame).
    pub fn feed(&self, state: &mut State, msgs: impl IntoIterator<Item = Msg>) -> Vec<Effect> {
        let mut left = Vec::new();
        for msg in msgs {
            left.extend(self.apply(state, msg));
        }
        core::settle(state);
        left
    }

    /// Headless: apply messages from `rx` until every cluster's first picture is in (its
    /// `Msg::Synced`: every watched kind listed or said why not, the probe answered) or it
    /// cannot be read (unreachable, no access), the channel closed, or `wait` passed. Then
    /// settles. No quiet period: it returns as soon as the last cluster is in. A cluster
    /// whose first picture has a hole (a kind that failed, a watch that lost its connection)
    /// is not in until its watch's retry fills it: one 429 or 500 on a busy server is not an
    /// answer, a kind that keeps failing until `wait` is.
    pub async fn collect(&self, state: &mut State, rx: &mut mpsc::Receiver<Msg>, wait: Duration) {
        let deadline = Instant::now() + wait;
        let mut synced: Vec<String> = Vec::new();
        while !all_in(state, &synced) {
            match tokio::time::timeout_at(deadline, rx.recv()).await {
                Ok(Some(msg)) => {
                    if let Msg::Synced { cluster } = &msg
                        && !synced.contains(cluster)
                    {
                        synced.push(cluster.clone());
                    }
                    self.apply(state, msg);
                }
                Ok(None) | Err(_) => break,
            }
        }
        core::settle(state);
    }
}

/// Is every cluster's first picture in (`synced`, with no kind failing and no watch lost
/// since), or has it answered that it cannot be
/// read? An unreachable cluster is in at once; one that refuses access once its version
/// probe answered too (the refusal can come before the probe: the snapshot names the
/// server's version either way).
fn all_in(state: &State, synced: &[String]) -> bool {
    state.clusters.iter().all(|c| {
        (synced.contains(&c.name)
            && c.failing_kinds.is_empty()
            && !matches!(c.connection, Connection::Stale { .. }))
            || matches!(c.connection, Connection::Unreachable { .. })
            || (matches!(c.connection, Connection::NoAccess { .. }) && c.server_version.is_some())
    })
}

/// Headless, in the background: apply messages from `rx` and a clock tick every `tick` to a
/// shared state, settling after each, until the channel closes. For tests and tools that
/// read the state while sources run.
pub fn spawn_shared(
    state: Arc<Mutex<State>>,
    mut rx: mpsc::Receiver<Msg>,
    tick: Duration,
) -> JoinHandle<()> {
    let pump = Pump::headless();
    tokio::spawn(async move {
        let mut clock = tokio::time::interval(tick);
        loop {
            let msg = tokio::select! {
                m = rx.recv() => match m { Some(m) => m, None => return },
                _ = clock.tick() => Msg::Tick(Timestamp::now()),
            };
            let mut s = state
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            pump.feed(&mut s, [msg]);
        }
    })
}

/// Records every action still in flight when dropped (the executor's `shutdown`): so every
/// way out of `run` — a return, an error, a panic unwinding, the future dropped — does it,
/// exactly once.
struct Closing(Executor);

impl Drop for Closing {
    fn drop(&mut self) {
        let open = self.0.shutdown();
        if open > 0 {
            tracing::warn!("exit: {open} action(s) in flight recorded as outcome unknown");
        }
    }
}

/// Run the console until quit, the terminal's input ends (`events`), `stop` resolves (a
/// signal or a panic elsewhere: `exit::requested`) or a frame cannot be drawn (returned as
/// the error). On each of these, and on a panic in the loop, the actions still in flight
/// are recorded once as outcome unknown and none can write a result after that.
pub async fn run<E, S, D>(
    mut state: State,
    mut rx: mpsc::Receiver<Msg>,
    executor: Executor,
    mut events: E,
    stop: S,
    mut draw: D,
) -> anyhow::Result<Exit>
where
    E: Stream<Item = std::io::Result<Event>> + Unpin,
    S: Future<Output = Exit>,
    D: FnMut(&State) -> std::io::Result<()>,
{
    let _closing = Closing(executor.clone());
    let pump = Pump::new(executor);
    tokio::pin!(stop);
    let mut tick = tokio::time::interval(Duration::from_millis(500));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);

    state.now = Timestamp::now();
    core::settle(&mut state);
    frame(&mut draw, &state)?;
    state.dirty = false;
    let mut last_draw = Instant::now();
    let mut deferred = false;

    let exit = loop {
        let mut urgent = false;
        let redraw_at = last_draw + DATA_FRAME_GAP;
        let msg = tokio::select! {
            ev = events.next() => match ev {
                Some(Ok(Event::Key(k))) => key_of(k).map(Msg::Key),
                Some(Ok(Event::Resize(width, height))) => Some(Msg::Resize { width, height }),
                Some(Ok(_)) => None,
                // The terminal went away (SSH drop): leave cleanly.
                Some(Err(_)) | None => break Exit::TerminalLost,
            },
            Some(msg) = rx.recv() => Some(msg),
            _ = tick.tick() => Some(Msg::Tick(Timestamp::now())),
            _ = tokio::time::sleep_until(redraw_at), if deferred => None,
            reason = &mut stop => break reason,
        };
        if let Some(msg) = msg {
            urgent = matches!(msg, Msg::Key(_) | Msg::Resize { .. });
            pump.apply(&mut state, msg);
        }
        let batch = std::iter::from_fn(|| rx.try_recv().ok()).take(BATCH);
        pump.feed(&mut state, batch);
        if state.quit {
            break Exit::Quit;
        }
        if state.dirty {
            if urgent || last_draw.elapsed() >= DATA_FRAME_GAP {
                frame(&mut draw, &state)?;
                state.dirty = false;
                deferred = false;
                last_draw = Instant::now();
            } else {
                deferred = true;
            }
        }
    };
    Ok(exit)
}

/// Draw one frame; a failure (EIO once the terminal is gone) ends the console.
fn frame(
    draw: &mut impl FnMut(&State) -> std::io::Result<()>,
    state: &State,
) -> anyhow::Result<()> {
    draw(state).map_err(|e| {
        tracing::error!("drawing the console failed: {e}");
        anyhow::Error::new(e).context("cannot draw the console")
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::model::Cluster;
    use crate::core::state::Settings;

    fn state() -> State {
        State::new(
            Timestamp::UNIX_EPOCH,
            Settings::default(),
            vec![Cluster::new("a")],
            vec![],
        )
    }

    #[test]
    fn headless_pump_hands_effects_back_and_settles() {
        let mut s = state();
        let left = Pump::headless().feed(&mut s, [crate::core::Msg::Key(core::Key::Char('q'))]);
        assert!(left.is_empty());
        assert!(s.quit);
        assert!(!s.view.order_dirty, "fed batches are settled");
    }

    fn connected(cluster: &str) -> Msg {
        Msg::Connection {
            cluster: cluster.into(),
            connection: Connection::Connected,
        }
    }

    /// One piece of the cluster's first picture (the probe's answer).
    fn version(cluster: &str) -> Msg {
        Msg::ServerVersion {
            cluster: cluster.into(),
            version: "v1.34.2".into(),
        }
    }

    fn synced(cluster: &str) -> Msg {
        Msg::Synced {
            cluster: cluster.into(),
        }
    }

    #[tokio::test(start_paused = true)]
    async fn collect_returns_as_soon_as_every_cluster_synced() {
        let mut s = state();
        let (tx, mut rx) = mpsc::channel(8);
        for msg in [connected("a"), version("a"), synced("a")] {
            tx.send(msg).await.unwrap();
        }
        let started = Instant::now();
        Pump::headless()
            .collect(&mut s, &mut rx, Duration::from_secs(60))
            .await;
        // Paused time only moves while every task waits: no wait at all, no quiet period.
        assert_eq!(started.elapsed(), Duration::ZERO);
        assert_eq!(s.clusters[0].connection, Connection::Connected);
        assert_eq!(s.clusters[0].server_version.as_deref(), Some("v1.34.2"));
        drop(tx);
    }

    #[tokio::test(start_paused = true)]
    async fn collect_waits_for_the_first_picture_not_just_the_connection() {
        let mut s = state();
        let (tx, mut rx) = mpsc::channel(8);
        tx.send(connected("a")).await.unwrap();
        let sender = tokio::spawn(async move {
            tokio::time::sleep(Duration::from_secs(2)).await;
            tx.send(version("a")).await.unwrap();
            tx.send(synced("a")).await.unwrap();
            tx
        });
        let started = Instant::now();
        Pump::headless()
            .collect(&mut s, &mut rx, Duration::from_secs(60))
            .await;
        assert_eq!(started.elapsed(), Duration::from_secs(2));
        assert_eq!(s.clusters[0].server_version.as_deref(), Some("v1.34.2"));
        drop(sender.await.unwrap());
    }

    #[tokio::test(start_paused = true)]
    async fn collect_waits_for_every_cluster_but_not_for_an_unreachable_one() {
        let mut s = State::new(
            Timestamp::UNIX_EPOCH,
            Settings::default(),
            vec![Cluster::new("a"), Cluster::new("b"), Cluster::new("c")],
            vec![],
        );
        let (tx, mut rx) = mpsc::channel(8);
        tx.send(synced("a")).await.unwrap();
        tx.send(Msg::Connection {
            cluster: "b".into(),
            connection: Connection::Unreachable {
                reason: core::text::Untrusted::new("connection refused"),
            },
        })
        .await
        .unwrap();
        let started = Instant::now();
        Pump::headless()
            .collect(&mut s, &mut rx, Duration::from_secs(3))
            .await;
        assert_eq!(started.elapsed(), Duration::from_secs(3), "c never synced");
        tx.send(synced("c")).await.unwrap();
        let started = Instant::now();
        Pump::headless()
            .collect(&mut s, &mut rx, Duration::from_secs(3))
            .await;
        // a's Synced was seen by the first call only: this one waits again for a.
        assert_eq!(started.elapsed(), Duration::from_secs(3));
        drop(tx);
    }

    fn failing(cluster: &str) -> Msg {
        Msg::KindFailing {
            cluster: cluster.into(),
            kind: "rollouts.argoproj.io".into(),
            status: "429".into(),
            detail: core::text::Untrusted::new("storage is (re)initializing"),
        }
    }

    #[tokio::test(start_paused = true)]
    async fn collect_waits_for_a_failed_kind_to_list_again() {
        let mut s = state();
        let (tx, mut rx) = mpsc::channel(8);
        for msg in [connected("a"), version("a"), failing("a"), synced("a")] {
            tx.send(msg).await.unwrap();
        }
        let sender = tokio::spawn(async move {
            tokio::time::sleep(Duration::from_secs(1)).await;
            tx.send(Msg::Relisted {
                cluster: "a".into(),
                kind: core::kinds::Kind::Rollout,
                objects: Vec::new(),
            })
            .await
            .unwrap();
            tx
        });
        let started = Instant::now();
        Pump::headless()
            .collect(&mut s, &mut rx, Duration::from_secs(60))
            .await;
        assert_eq!(
            started.elapsed(),
            Duration::from_secs(1),
            "the retry's list"
        );
        assert!(s.clusters[0].failing_kinds.is_empty());
        let tx = sender.await.unwrap();

        // A kind that keeps failing: in at the deadline, still failing (snapshot says so).
        tx.send(failing("a")).await.unwrap();
        tx.send(synced("a")).await.unwrap();
        let started = Instant::now();
        Pump::headless()
            .collect(&mut s, &mut rx, Duration::from_secs(3))
            .await;
        assert_eq!(started.elapsed(), Duration::from_secs(3));
        assert_eq!(s.clusters[0].failing_kinds.len(), 1);
        drop(tx);
    }

    #[tokio::test(start_paused = true)]
    async fn collect_gives_up_at_the_deadline() {
        let mut s = state();
        let (_tx, mut rx) = mpsc::channel::<Msg>(4);
        let started = Instant::now();
        Pump::headless()
            .collect(&mut s, &mut rx, Duration::from_secs(3))
            .await;
        assert_eq!(started.elapsed(), Duration::from_secs(3));
        assert_eq!(s.clusters[0].connection, Connection::Connecting);
    }

    #[tokio::test(start_paused = true)]
    async fn collect_ends_when_the_channel_closes() {
        let mut s = state();
        let (tx, mut rx) = mpsc::channel::<Msg>(4);
        tx.send(connected("a")).await.unwrap();
        drop(tx);
        let started = Instant::now();
        Pump::headless()
            .collect(&mut s, &mut rx, Duration::from_secs(60))
            .await;
        assert_eq!(started.elapsed(), Duration::ZERO);
        assert_eq!(s.clusters[0].connection, Connection::Connected);
    }
}

#[cfg(test)]
#[path = "app_run_tests.rs"]
mod run_tests;
