//! The cluster's pulse: `GET /version` every few seconds with a short deadline. It is how a
//! dead, blackholed or half-open cluster is noticed (a watch can sit silent for minutes), and
//! how the console hears from a quiet but healthy one.

use std::time::Duration;

use tokio::time::{MissedTickBehavior, interval, timeout};

use super::watch::{Signal, Sink};

#[derive(Debug, Clone, PartialEq)]
pub struct ProbeFailure {
    pub reason: String,
    /// The server answered 401/403: reachable, but these credentials are not accepted.
    pub denied: bool,
}

impl ProbeFailure {
    /// 401: these credentials are no longer accepted (expired): a fresh client may help.
    pub fn unauthorized(&self) -> bool {
        self.denied && self.reason.starts_with("401")
    }
}

/// One probe: the server's git version, or why not.
pub async fn probe(client: &kube::Client, deadline: Duration) -> Result<String, ProbeFailure> {
    match timeout(deadline, client.apiserver_version()).await {
        Ok(Ok(info)) => Ok(info.git_version),
        Ok(Err(kube::Error::Api(s))) => Err(ProbeFailure {
            reason: format!("{} {}", s.code, s.message),
            denied: matches!(s.code, 401 | 403),
        }),
        Ok(Err(e)) => Err(ProbeFailure {
            reason: e.to_string(),
            denied: false,
        }),
        Err(_) => Err(ProbeFailure {
            reason: format!("no answer within {} s", deadline.as_secs()),
            denied: false,
        }),
    }
}

/// Probe every `every` (first one at once) until the supervisor goes away.
pub async fn run(client: kube::Client, sink: Sink, every: Duration, deadline: Duration) {
    let mut ticks = interval(every);
    ticks.set_missed_tick_behavior(MissedTickBehavior::Delay);
    loop {
        ticks.tick().await;
        let answer = probe(&client, deadline).await;
        if let Err(f) = &answer {
            tracing::debug!(cluster = %sink.cluster, reason = %f.reason, "liveness probe failed");
        }
        if sink.signals.send(Signal::Probe(answer)).is_err() {
            return;
        }
    }
}
