//! The console's event loop: one inbound `Msg` channel (sources, executor), terminal keys and
//! a clock tick feed the pure `update`; effects go to the executor; a frame is drawn only
//! when something visible changed, coalescing bursts (data redraws at most 5 per second,
//! key presses at once).

use std::time::Duration;

use crossterm::event::{Event, EventStream};
use futures::StreamExt;
use jiff::Timestamp;
use tokio::signal::unix::{SignalKind, signal};
use tokio::sync::mpsc;
use tokio::time::Instant;

use crate::action::Executor;
use crate::core::state::Screen;
use crate::core::{self, Effect, Msg, State};
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
            // Watches deliver the current object on their own; nothing to fetch.
            Effect::Refresh { .. } => {}
            Effect::Quit => {}
        }
    }
}

/// Does the passing of time change what is on screen (countdowns, "stale Ns", the clock's minute)?
fn time_is_visible(state: &State, before: Timestamp) -> bool {
    if before.as_second() / 60 != state.now.as_second() / 60 {
        return true;
    }
    if state
        .clusters
        .iter()
        .any(|c| matches!(c.connection, core::model::Connection::Stale { .. }))
    {
        return true;
    }
    let v = &state.view;
    if v.screen == Screen::Detail {
        return true;
    }
    let end = (v.offset + v.page_rows()).min(v.order.len());
    v.order[v.offset.min(end)..end].iter().any(|k| {
        state
            .releases
            .get(k)
            .and_then(|r| r.pause.as_ref())
            .is_some_and(|p| p.duration.is_some())
    })
}

fn apply(state: &mut State, executor: &Executor, msg: Msg) {
    let tick_from = match &msg {
        Msg::Tick(_) => Some(state.now),
        _ => None,
    };
    let was_dirty = state.dirty;
    let effects = core::update(state, msg);
    if let Some(before) = tick_from {
        // A tick alone redraws only when the time shown changes.
        state.dirty = was_dirty
            || (state.now.as_second() != before.as_second() && time_is_visible(state, before));
    }
    dispatch(executor, effects);
}

/// Run the console until quit, stdin closing, SIGHUP or SIGTERM.
pub async fn run(
    mut state: State,
    mut rx: mpsc::Receiver<Msg>,
    executor: Executor,
    mut draw: impl FnMut(&State) -> std::io::Result<()>,
) -> anyhow::Result<()> {
    let mut events = EventStream::new();
    let mut tick = tokio::time::interval(Duration::from_millis(500));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    let mut hangup = signal(SignalKind::hangup())?;
    let mut terminate = signal(SignalKind::terminate())?;

    state.now = Timestamp::now();
    core::settle(&mut state);
    draw(&state)?;
    state.dirty = false;
    let mut last_draw = Instant::now();
    let mut deferred = false;

    loop {
        let mut urgent = false;
        let redraw_at = last_draw + DATA_FRAME_GAP;
        tokio::select! {
            ev = events.next() => match ev {
                Some(Ok(Event::Key(k))) => {
                    if let Some(key) = key_of(k) {
                        apply(&mut state, &executor, Msg::Key(key));
                        urgent = true;
                    }
                }
                Some(Ok(Event::Resize(width, height))) => {
                    apply(&mut state, &executor, Msg::Resize { width, height });
                    urgent = true;
                }
                Some(Ok(_)) => {}
                // The terminal went away (SSH drop): leave cleanly.
                Some(Err(_)) | None => break,
            },
            Some(msg) = rx.recv() => apply(&mut state, &executor, msg),
            _ = tick.tick() => apply(&mut state, &executor, Msg::Tick(Timestamp::now())),
            _ = tokio::time::sleep_until(redraw_at), if deferred => {}
            _ = hangup.recv() => break,
            _ = terminate.recv() => break,
        }
        for _ in 0..BATCH {
            match rx.try_recv() {
                Ok(msg) => apply(&mut state, &executor, msg),
                Err(_) => break,
            }
        }
        if state.quit {
            break;
        }
        core::settle(&mut state);
        if state.dirty {
            if urgent || last_draw.elapsed() >= DATA_FRAME_GAP {
                draw(&state)?;
                state.dirty = false;
                deferred = false;
                last_draw = Instant::now();
            } else {
                deferred = true;
            }
        }
    }
    executor.shutdown();
    Ok(())
}
