//! The demo source's only async part: ticks the fleet about once a second with the real
//! clock, and applies actions as they arrive, answering the executor and then sending at
//! once the objects the action changed. All behaviour lives in `Fleet`.

use std::time::Duration;

use jiff::Timestamp;
use tokio::sync::mpsc::{Receiver, Sender};
use tokio::time::MissedTickBehavior;

use super::fleet::Fleet;
use crate::action::DemoRead as Read;
use crate::action::DemoRequest as Request;
use crate::core::msg::Msg;

/// Runs until the console stops listening (`tx` closed).
pub async fn run(fleet: Fleet, tx: Sender<Msg>, actions: Receiver<Request>) {
    let (_reads_tx, reads) = tokio::sync::mpsc::channel(1);
    run_with_reads(fleet, tx, actions, reads).await;
}

/// `run`, also answering reads of the simulation (the pods screen, the detail's events).
pub async fn run_with_reads(
    mut fleet: Fleet,
    tx: Sender<Msg>,
    mut actions: Receiver<Request>,
    mut reads: Receiver<Read>,
) {
    if !send_all(&tx, fleet.initial()).await {
        return;
    }
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    tick.set_missed_tick_behavior(MissedTickBehavior::Skip);
    let mut actions_open = true;
    loop {
        let msgs = tokio::select! {
            _ = tick.tick() => fleet.advance(Timestamp::now()),
            action = actions.recv(), if actions_open => match action {
                Some((plan, reply)) => {
                    let outcome = fleet.apply(&plan, Timestamp::now());
                    // The executor may have given up (deadline); the change stands anyway.
                    let _ = reply.send(outcome);
                    fleet.advance(Timestamp::now())
                }
                None => {
                    // Nobody sends actions any more (read-only snapshot): keep ticking.
                    actions_open = false;
                    Vec::new()
                }
            },
            Some(read) = reads.recv() => {
                answer(&fleet, read);
                Vec::new()
            }
        };
        if !send_all(&tx, msgs).await {
            return;
        }
    }
}

/// A read answers from the fleet as it stands; the reader may have gone (screen closed).
fn answer(fleet: &Fleet, read: Read) {
    match read {
        Read::Pods(q, reply) => {
            let _ = reply.send(fleet.pods(&q));
        }
        Read::Events(q, reply) => {
            let _ = reply.send(fleet.object_events(&q));
        }
        Read::Object(o, reply) => {
            let _ = reply.send(fleet.object(&o.cluster, &o.resource, &o.namespace, &o.name));
        }
        Read::Gate(q, reply) => {
            let _ = reply.send(fleet.gate_state(&q));
        }
        Read::FluxSource(q, reply) => {
            let _ = reply.send(fleet.flux_source(&q));
        }
    }
}

async fn send_all(tx: &Sender<Msg>, msgs: Vec<Msg>) -> bool {
    for msg in msgs {
        if tx.send(msg).await.is_err() {
            return false;
        }
    }
    true
}
