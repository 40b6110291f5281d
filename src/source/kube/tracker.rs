//! A cluster's connection state, decided from what its watches and probe report. Pure: the
//! supervisor feeds it signals and the time, and carries out what it returns.

use jiff::Timestamp;

use super::kinds::{Kind, WATCHED};
use super::watch::Signal;
use crate::core::model::Connection;
use crate::core::msg::Msg;
use crate::core::text::Untrusted;

#[derive(Debug, Clone, PartialEq)]
#[allow(
    clippy::large_enum_variant,
    reason = "short-lived: carried out at once"
)]
pub enum Decision {
    Send(Msg),
    /// The server came back: start the watches afresh (a watch may be stuck on a dead
    /// connection) so every kind is relisted now instead of after its backoff.
    RestartWatches,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Connecting,
    Connected,
    Unreachable,
    Denied,
}

#[derive(Debug)]
pub struct Tracker {
    cluster: String,
    state: State,
    version_sent: bool,
    forbidden: Vec<Kind>,
    /// Watches whose connection failed and that have not listed since: while any is, the
    /// cluster is stale (its rows may be out of date) whatever the probe says.
    lost: Vec<Kind>,
    /// When the probe last answered (what "stale Ns" counts from).
    last_heard: Option<Timestamp>,
    /// Watched kinds through their first pass ([`Signal::Settled`]).
    settled: Vec<Kind>,
    /// The probe has answered at least once (either way).
    probed: bool,
    /// `Msg::Synced` went out.
    synced: bool,
}

impl Tracker {
    pub fn new(cluster: String) -> Self {
        Tracker {
            cluster,
            state: State::Connecting,
            version_sent: false,
            forbidden: Vec::new(),
            lost: Vec::new(),
            last_heard: None,
            settled: Vec::new(),
            probed: false,
            synced: false,
        }
    }

    /// What to say when the supervisor starts.
    pub fn start(&self) -> Decision {
        self.connection(Connection::Connecting)
    }

    fn connection(&self, connection: Connection) -> Decision {
        Decision::Send(Msg::Connection {
            cluster: self.cluster.clone(),
            connection,
        })
    }

    pub fn on(&mut self, signal: Signal, now: Timestamp) -> Vec<Decision> {
        let mut out = self.on_signal(signal, now);
        // Once every watched kind is through its first pass and the probe answered, the
        // cluster's first picture is complete: everything it is made of is in the channel.
        if !self.synced && self.probed && WATCHED.iter().all(|k| self.settled.contains(k)) {
            self.synced = true;
            out.push(Decision::Send(Msg::Synced {
                cluster: self.cluster.clone(),
            }));
        }
        out
    }

    fn on_signal(&mut self, signal: Signal, now: Timestamp) -> Vec<Decision> {
        let mut out = Vec::new();
        if matches!(signal, Signal::Probe(_)) {
            self.probed = true;
        }
        match signal {
            Signal::Settled(kind) => {
                if !self.settled.contains(&kind) {
                    self.settled.push(kind);
                }
            }
            Signal::Listed(kind) => {
                // Allowed now: should it be refused again later, say so again.
                self.forbidden.retain(|k| *k != kind);
                let was_lost = !self.lost.is_empty();
                self.lost.retain(|k| *k != kind);
                if self.state != State::Connected || (was_lost && self.lost.is_empty()) {
                    self.state = State::Connected;
                    out.push(self.connection(Connection::Connected));
                }
            }
            Signal::Lost(kind, reason) => {
                tracing::debug!(cluster = %self.cluster, kind = kind.resource(), %reason, "watch lost");
                let first = self.lost.is_empty();
                if !self.lost.contains(&kind) {
                    self.lost.push(kind);
                }
                if first && self.state == State::Connected {
                    out.push(self.connection(Connection::Stale {
                        since: self.last_heard.unwrap_or(now),
                    }));
                }
            }
            Signal::Forbidden(kind, reason) => {
                if !self.forbidden.contains(&kind) {
                    self.forbidden.push(kind);
                    out.push(Decision::Send(Msg::KindForbidden {
                        cluster: self.cluster.clone(),
                        kind: kind.resource().to_string(),
                        reason: Untrusted::new(reason),
                    }));
                }
            }
            Signal::Probe(Ok(version)) => {
                if !self.version_sent {
                    self.version_sent = true;
                    out.push(Decision::Send(Msg::ServerVersion {
                        cluster: self.cluster.clone(),
                        version,
                    }));
                }
                self.last_heard = Some(now);
                match self.state {
                    // A lost watch has not listed again: the rows are not fresh yet.
                    State::Connected if !self.lost.is_empty() => {}
                    State::Connected => out.push(Decision::Send(Msg::Heard {
                        cluster: self.cluster.clone(),
                        at: now,
                    })),
                    State::Unreachable | State::Denied => {
                        // Back: "connecting" until the watches have relisted.
                        self.state = State::Connecting;
                        self.lost.clear();
                        out.push(self.connection(Connection::Connecting));
                        out.push(Decision::RestartWatches);
                    }
                    State::Connecting => {}
                }
            }
            // The supervisor rebuilds the client; the connection is the probe's to judge.
            Signal::Unauthorized(..) => {}
            Signal::Probe(Err(failure)) => {
                let (state, connection) = if failure.denied {
                    (
                        State::Denied,
                        Connection::NoAccess {
                            reason: Untrusted::new(failure.reason),
                        },
                    )
                } else {
                    (
                        State::Unreachable,
                        Connection::Unreachable {
                            reason: Untrusted::new(failure.reason),
                        },
                    )
                };
                if self.state != state {
                    self.state = state;
                    out.push(self.connection(connection));
                }
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::kube::liveness::ProbeFailure;

    fn t(s: i64) -> Timestamp {
        Timestamp::from_second(1_800_000_000 + s).unwrap()
    }

    fn unreachable() -> Signal {
        Signal::Probe(Err(ProbeFailure {
            reason: "connection refused".into(),
            denied: false,
        }))
    }

    fn conn(d: &Decision) -> Option<&Connection> {
        match d {
            Decision::Send(Msg::Connection { connection, .. }) => Some(connection),
            _ => None,
        }
    }

    #[test]
    fn connecting_until_the_first_list_then_heard_on_every_probe() {
        let mut tr = Tracker::new("a".into());
        assert_eq!(conn(&tr.start()), Some(&Connection::Connecting));
        let first = tr.on(Signal::Probe(Ok("v1.34.2".into())), t(0));
        assert_eq!(
            first,
            vec![Decision::Send(Msg::ServerVersion {
                cluster: "a".into(),
                version: "v1.34.2".into()
            })]
        );
        let listed = tr.on(Signal::Listed(Kind::Deployment), t(1));
        assert_eq!(conn(&listed[0]), Some(&Connection::Connected));
        assert!(tr.on(Signal::Listed(Kind::Rollout), t(1)).is_empty());
        let heard = tr.on(Signal::Probe(Ok("v1.34.2".into())), t(5));
        assert_eq!(
            heard,
            vec![Decision::Send(Msg::Heard {
                cluster: "a".into(),
                at: t(5)
            })]
        );
    }

    #[test]
    fn unreachable_once_then_recovery_restarts_watches() {
        let mut tr = Tracker::new("a".into());
        tr.on(Signal::Listed(Kind::Deployment), t(0));
        let down = tr.on(unreachable(), t(5));
        assert!(matches!(
            conn(&down[0]),
            Some(Connection::Unreachable { .. })
        ));
        assert!(tr.on(unreachable(), t(10)).is_empty(), "said once");
        let back = tr.on(Signal::Probe(Ok("v1".into())), t(15));
        assert!(back.contains(&Decision::RestartWatches));
        assert!(
            back.iter()
                .any(|d| conn(d) == Some(&Connection::Connecting))
        );
        let relisted = tr.on(Signal::Listed(Kind::Deployment), t(16));
        assert_eq!(conn(&relisted[0]), Some(&Connection::Connected));
    }

    #[test]
    fn a_lost_watch_makes_the_cluster_stale_until_it_has_listed_again() {
        let mut tr = Tracker::new("a".into());
        tr.on(Signal::Listed(Kind::Deployment), t(0));
        tr.on(Signal::Probe(Ok("v1".into())), t(1));
        let lost = |k| Signal::Lost(k, "read timed out".into());
        let stale = tr.on(lost(Kind::Rollout), t(9));
        assert_eq!(conn(&stale[0]), Some(&Connection::Stale { since: t(1) }));
        assert!(tr.on(lost(Kind::Deployment), t(9)).is_empty(), "said once");
        assert!(
            tr.on(Signal::Probe(Ok("v1".into())), t(10)).is_empty(),
            "the probe answers, but the rows are not fresh: no Heard"
        );
        assert!(tr.on(Signal::Listed(Kind::Rollout), t(11)).is_empty());
        let back = tr.on(Signal::Listed(Kind::Deployment), t(12));
        assert_eq!(conn(&back[0]), Some(&Connection::Connected));
        let heard = tr.on(Signal::Probe(Ok("v1".into())), t(15));
        assert!(matches!(&heard[0], Decision::Send(Msg::Heard { .. })));
    }

    fn synced(out: &[Decision]) -> bool {
        out.iter()
            .any(|d| matches!(d, Decision::Send(Msg::Synced { cluster }) if cluster == "a"))
    }

    #[test]
    fn synced_once_every_watched_kind_settled_and_the_probe_answered() {
        let mut tr = Tracker::new("a".into());
        let (last, rest) = WATCHED.split_last().expect("kinds are watched");
        for kind in rest {
            assert!(!synced(&tr.on(Signal::Settled(*kind), t(0))));
        }
        assert!(
            !synced(&tr.on(Signal::Settled(rest[0]), t(0))),
            "a kind settled twice counts once"
        );
        assert!(!synced(&tr.on(Signal::Probe(Ok("v1".into())), t(0))));
        assert!(synced(&tr.on(Signal::Settled(*last), t(1))));
        assert!(
            !synced(&tr.on(Signal::Settled(*last), t(2))),
            "said once; a restart's passes say nothing more"
        );
        // The probe last: synced on its answer, whichever it is.
        let mut tr = Tracker::new("a".into());
        for kind in WATCHED {
            tr.on(Signal::Settled(kind), t(0));
        }
        assert!(synced(&tr.on(unreachable(), t(4))));
    }

    #[test]
    fn unreachable_at_start_without_any_list() {
        let mut tr = Tracker::new("b".into());
        let down = tr.on(unreachable(), t(4));
        assert!(matches!(
            conn(&down[0]),
            Some(Connection::Unreachable { .. })
        ));
    }

    #[test]
    fn forbidden_kinds_reported_once_and_denied_credentials_are_no_access() {
        let mut tr = Tracker::new("a".into());
        let f = tr.on(Signal::Forbidden(Kind::Canary, "nope".into()), t(0));
        assert!(matches!(
            &f[0],
            Decision::Send(Msg::KindForbidden { kind, .. }) if kind == "canaries.flagger.app"
        ));
        assert!(
            tr.on(Signal::Forbidden(Kind::Canary, "nope".into()), t(1))
                .is_empty()
        );
        tr.on(Signal::Listed(Kind::Canary), t(2));
        let again = tr.on(Signal::Forbidden(Kind::Canary, "again".into()), t(3));
        assert_eq!(again.len(), 1);
        let denied = tr.on(
            Signal::Probe(Err(ProbeFailure {
                reason: "401 Unauthorized".into(),
                denied: true,
            })),
            t(2),
        );
        assert!(matches!(
            conn(&denied[0]),
            Some(Connection::NoAccess { .. })
        ));
    }
}
