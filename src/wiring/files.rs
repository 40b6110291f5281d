//! The `--from-files` mode: captured objects shown as read-only clusters, applied once
//! through the pump. No sources keep running and there are no action targets at all.

use jiff::Timestamp;

use super::{Wiring, initial_slos};
use crate::app::Pump;
use crate::cli::Opts;
use crate::config::Config;
use crate::config::resolve;
use crate::core::State;
use crate::core::model::Cluster;
use crate::source::{files, prometheus};

/// Load the files (a bad file is `FilesError`, exit code 2) into a settled state.
pub fn wiring(opts: &Opts, config: &Config) -> anyhow::Result<Wiring> {
    let capture = files::load(&opts.from_files)?;
    let clusters = capture
        .clusters
        .iter()
        .map(|name| {
            let mut c = Cluster::new(name.clone());
            c.read_only = true;
            c.live = false;
            c
        })
        .collect();
    let mut settings = resolve::settings(opts, config, "FILES");
    settings.read_only = true;
    let slos = initial_slos(prometheus::slo_specs(&config.slos));
    let mut state = State::new(Timestamp::now(), settings, clusters, slos);
    Pump::headless().feed(&mut state, capture.messages);
    Ok(Wiring::new(state, 1024))
}
