//! The demo mode: the embedded simulated fleet, either running (console: the simulation
//! sends messages and answers actions through `DemoTarget`) or still (snapshot: its first
//! state only). Must not talk to a cluster.

use std::sync::Arc;

use jiff::Timestamp;
use tokio::sync::mpsc;

use super::{Wiring, initial_slos};
use crate::action::{ActionTarget, DemoTarget, ReadOnly, RefusingTarget};
use crate::app::Pump;
use crate::cli::Opts;
use crate::config::Config;
use crate::config::resolve;
use crate::core::State;
use crate::source::demo::Fleet;

fn start(opts: &Opts, config: &Config) -> (State, Fleet) {
    let now = Timestamp::now();
    let fleet = Fleet::new(opts.seed, now);
    let settings = resolve::settings(opts, config, "DEMO");
    let state = State::new(
        now,
        settings,
        fleet.clusters(),
        initial_slos(fleet.slo_specs()),
    );
    (state, fleet)
}

/// The running simulation, one action target per cluster on one channel (a refusing one for a
/// read-only cluster).
pub fn simulated(opts: &Opts, config: &Config) -> Wiring {
    let (state, fleet) = start(opts, config);
    let read_only = ReadOnly::of_state(&state);
    let names: Vec<String> = state.clusters.iter().map(|c| c.name.clone()).collect();
    let mut w = Wiring::new(state, 8192);
    let (req_tx, req_rx) = mpsc::channel(16);
    let (read_tx, read_rx) = mpsc::channel(16);
    let target = DemoTarget::new(req_tx, false).with_reads(read_tx);
    for name in names {
        let t: Arc<dyn ActionTarget> = if read_only.covers(&name) {
            Arc::new(RefusingTarget::new(name.clone()))
        } else {
            Arc::new(target.clone().for_cluster(&name))
        };
        w.targets.insert(name.clone(), t);
        w.logs
            .insert(name, Arc::new(crate::source::demo::logs::DemoLogs));
    }
    tokio::spawn(crate::source::demo::run_with_reads(
        fleet,
        w.tx.clone(),
        req_rx,
        read_rx,
    ));
    w
}

/// The fleet's first state, settled, with nothing running.
pub fn still(opts: &Opts, config: &Config) -> State {
    let (mut state, mut fleet) = start(opts, config);
    Pump::headless().feed(&mut state, fleet.initial());
    state
}
