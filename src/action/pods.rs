//! The pods screen's watch as the executor runs it: started on `Effect::WatchPods`, aborted
//! on `Effect::StopPods` (or when a newer one starts), counted while its task lives — so a
//! test can tell the watch is really gone, not just forgotten.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use futures::future::BoxFuture;
use tokio::task::AbortHandle;

#[derive(Clone, Default)]
pub struct PodWatches {
    current: Arc<Mutex<Option<(u64, AbortHandle)>>>,
    /// Tasks alive (decremented when a task ends or is aborted, by its guard).
    alive: Arc<AtomicUsize>,
}

/// Counts a watch task while it lives: dropped when the task finishes or is aborted.
struct Alive(Arc<AtomicUsize>);

impl Drop for Alive {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

impl PodWatches {
    /// Run `watch` as the one pods watch (a previous one stops).
    pub fn start(&self, id: u64, watch: BoxFuture<'static, ()>) {
        self.alive.fetch_add(1, Ordering::SeqCst);
        let alive = Alive(self.alive.clone());
        let task = tokio::spawn(async move {
            let _alive = alive;
            watch.await;
        });
        let old = self.lock().replace((id, task.abort_handle()));
        if let Some((_, old)) = old {
            old.abort();
        }
    }

    /// Stop the watch `id`, if it is the one running.
    pub fn stop(&self, id: u64) {
        let mut current = self.lock();
        if current.as_ref().is_some_and(|(i, _)| *i == id)
            && let Some((_, handle)) = current.take()
        {
            handle.abort();
        }
    }

    pub fn running(&self) -> usize {
        self.alive.load(Ordering::SeqCst)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Option<(u64, AbortHandle)>> {
        self.current.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn until_running(w: &PodWatches, n: usize) {
        while w.running() != n {
            tokio::task::yield_now().await;
        }
    }

    #[tokio::test]
    async fn a_stopped_watch_ends_and_a_newer_one_replaces_the_old() {
        let w = PodWatches::default();
        w.start(1, Box::pin(futures::future::pending()));
        assert_eq!(w.running(), 1);
        w.start(2, Box::pin(futures::future::pending()));
        until_running(&w, 1).await;
        w.stop(1);
        tokio::task::yield_now().await;
        assert_eq!(w.running(), 1, "stopping an old id leaves the current one");
        w.stop(2);
        until_running(&w, 0).await;
    }
}
