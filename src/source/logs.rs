//! Carries out the log viewer's `Effect::Logs`: one task per session, per cluster through
//! that cluster's backend (the API server's pods/log, or the demo's simulated containers).
//! Closing a session aborts its task, which drops its HTTP streams: the server sees the
//! connections close. Reports go back as `Msg::Logs`. Owns no view state.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use futures::future::BoxFuture;
use tokio::sync::mpsc;
use tokio::task::AbortHandle;

use crate::core::Msg;
use crate::core::logs::{LogCommand, LogEvent, LogRequest};
use crate::core::text::Untrusted;

/// Streams one session's logs until it ends or is aborted, reporting as `Msg::Logs`.
pub trait LogBackend: Send + Sync + 'static {
    fn stream(&self, request: LogRequest, tx: mpsc::Sender<Msg>) -> BoxFuture<'static, ()>;
}

/// The backends per cluster and the running sessions.
#[derive(Clone, Default)]
pub struct LogStreams {
    backends: Arc<HashMap<String, Arc<dyn LogBackend>>>,
    running: Arc<Mutex<HashMap<u64, AbortHandle>>>,
}

impl LogStreams {
    pub fn new(backends: HashMap<String, Arc<dyn LogBackend>>) -> Self {
        LogStreams {
            backends: Arc::new(backends),
            running: Arc::default(),
        }
    }

    /// How many sessions are streaming (for tests: closed views leave none).
    pub fn running(&self) -> usize {
        let mut running = self.lock();
        running.retain(|_, h| !h.is_finished());
        running.len()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<u64, AbortHandle>> {
        self.running
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    pub fn carry_out(&self, command: LogCommand, tx: &mpsc::Sender<Msg>) {
        match command {
            LogCommand::Open(request) => self.open(request, tx.clone()),
            LogCommand::Close { session } => {
                if let Some(h) = self.lock().remove(&session) {
                    h.abort();
                }
            }
        }
    }

    fn open(&self, request: LogRequest, tx: mpsc::Sender<Msg>) {
        let session = request.session;
        let Some(backend) = self.backends.get(&request.cluster).cloned() else {
            let error = Untrusted::new(format!(
                "no log source for cluster {} (is it configured?)",
                request.cluster
            ));
            let _ = tx.try_send(Msg::Logs(LogEvent::Failed { session, error }));
            return;
        };
        let task = tokio::spawn(backend.stream(request, tx));
        self.lock().insert(session, task.abort_handle());
    }
}
