//! Pods and the events of an object: what the pods screen and the detail screen's events
//! section show. Pods are an on-demand kind (`Role::OnDemand`): never watched in the steady
//! state, only listed and watched (selector-scoped) while the pods screen is open; events of
//! an object are listed once when its detail opens. Owns the facts, the queries the core
//! hands to the sources, and the pure questions about them (ready n/m, the reason to show).
//! No IO; must not touch `ui`, `source` or `action`.

use jiff::Timestamp;

use crate::core::text::Untrusted;

/// A container's current state, as the kubelet reports it.
#[derive(Debug, Clone, PartialEq, Default)]
pub enum ContainerState {
    Running {
        since: Option<Timestamp>,
    },
    Waiting {
        reason: Untrusted,
        message: Untrusted,
    },
    Terminated {
        reason: Untrusted,
        message: Untrusted,
        exit_code: i32,
    },
    /// No state reported yet (a pod still being scheduled).
    #[default]
    Unknown,
}

/// How the container last ended (`lastState.terminated`).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Termination {
    pub reason: Untrusted,
    /// `lastState.terminated.message`: the termination message file, or with
    /// `FallbackToLogsOnError` the log's tail (a crash's stack trace).
    pub message: Untrusted,
    pub exit_code: i32,
    pub finished: Option<Timestamp>,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct ContainerFacts {
    pub name: String,
    pub image: String,
    pub ready: bool,
    pub restarts: u32,
    pub state: ContainerState,
    pub last: Option<Termination>,
}

/// core/v1 Pod, compact: what the pods screen shows and nothing else.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct PodFacts {
    pub namespace: String,
    pub name: String,
    pub uid: String,
    /// The uid of the ReplicaSet that owns it (empty when none).
    pub owner_uid: String,
    /// `status.phase` (Pending, Running, Succeeded, Failed, Unknown).
    pub phase: String,
    pub node: String,
    pub created: Option<Timestamp>,
    pub containers: Vec<ContainerFacts>,
    /// The pod's own reason and message (evicted, unschedulable via its condition).
    pub reason: Untrusted,
    pub message: Untrusted,
}

impl PodFacts {
    /// Ready containers and all of them (the `READY` column of `kubectl get pods`).
    pub fn ready(&self) -> (usize, usize) {
        let ready = self.containers.iter().filter(|c| c.ready).count();
        (ready, self.containers.len())
    }

    /// Restarts over all containers (the `RESTARTS` column).
    pub fn restarts(&self) -> u32 {
        self.containers.iter().map(|c| c.restarts).sum()
    }

    /// What `kubectl get pods` shows as STATUS: the first waiting or terminated reason of a
    /// container, else the pod's reason, else its phase.
    pub fn status(&self) -> &str {
        for c in &self.containers {
            match &c.state {
                ContainerState::Waiting { reason, .. }
                | ContainerState::Terminated { reason, .. }
                    if !reason.is_empty() =>
                {
                    return reason.raw();
                }
                _ => {}
            }
        }
        if !self.reason.is_empty() {
            return self.reason.raw();
        }
        &self.phase
    }

    /// The first message that explains the status (waiting/terminated message or the pod's).
    pub fn status_message(&self) -> Option<&Untrusted> {
        self.containers
            .iter()
            .find_map(|c| match &c.state {
                ContainerState::Waiting { message, .. }
                | ContainerState::Terminated { message, .. }
                    if !message.is_empty() =>
                {
                    Some(message)
                }
                _ => None,
            })
            .or(Some(&self.message).filter(|m| !m.is_empty()))
    }

    /// The most recent last termination of any container.
    pub fn last_termination(&self) -> Option<&Termination> {
        self.containers
            .iter()
            .filter_map(|c| c.last.as_ref())
            .max_by_key(|t| t.finished)
    }

    /// Is something wrong with it (not all ready, or restarting)?
    pub fn failing(&self) -> bool {
        let (ready, all) = self.ready();
        ready < all || self.phase == "Failed" || self.phase == "Pending"
    }
}

/// Which pods the pods screen shows: the pods of one ReplicaSet, by the label its
/// controller stamps on them (`pod-template-hash`, or `rollouts-pod-template-hash` for a
/// Rollout's) — the watch is scoped to that selector in that namespace.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PodQuery {
    /// Matches the answers to the screen that asked (a newer screen drops older answers).
    pub watch: u64,
    pub cluster: String,
    pub namespace: String,
    pub replicaset: String,
    /// The ReplicaSet's uid: pods owned by another are not shown.
    pub owner_uid: String,
    /// A label selector, `key=value`.
    pub selector: String,
}

impl PodQuery {
    /// The label selector for pods of a ReplicaSet owned by `owner_kind`.
    pub fn selector_for(owner_kind: &str, pod_template_hash: &str) -> String {
        let label = if owner_kind == "Rollout" {
            "rollouts-pod-template-hash"
        } else {
            "pod-template-hash"
        };
        format!("{label}={pod_template_hash}")
    }
}

/// What a pod watch saw.
#[derive(Debug, Clone, PartialEq)]
pub enum PodsChange {
    /// A full list (the watch's start, or a relist): replaces what was there.
    Listed(Vec<PodFacts>),
    Upsert(PodFacts),
    Deleted(String),
    /// The pods could not be read (403, gone, unreachable): shown on the screen.
    Failed(Untrusted),
}

/// One object whose events the detail lists: by uid (`involvedObject.uid`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventObject {
    pub kind: String,
    pub name: String,
    pub uid: String,
}

/// The events of a release, its ReplicaSets and their pods.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventsQuery {
    pub request: u64,
    pub cluster: String,
    pub namespace: String,
    pub objects: Vec<EventObject>,
    /// ReplicaSet names whose pods' events are wanted (pods are named `<replicaset>-<suffix>`
    /// and are not watched, so they are found by name in the namespace's pod events).
    pub pods_of: Vec<String>,
}

impl EventsQuery {
    /// Is a Pod event's object one of the pods wanted?
    pub fn wants_pod(&self, pod: &str) -> bool {
        self.pods_of.iter().any(|rs| {
            pod.strip_prefix(rs.as_str())
                .and_then(|rest| rest.strip_prefix('-'))
                .is_some_and(|suffix| !suffix.is_empty() && !suffix.contains('-'))
        })
    }
}

/// One core/v1 Event of an object (Normal or Warning).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ObjectEvent {
    pub uid: String,
    pub object_kind: String,
    pub object_name: String,
    /// `Normal` or `Warning`.
    pub type_: String,
    pub reason: Untrusted,
    pub message: Untrusted,
    pub count: u32,
    pub last_seen: Option<Timestamp>,
}

impl ObjectEvent {
    pub fn is_warning(&self) -> bool {
        self.type_ == "Warning"
    }
}

/// Newest first (by last seen, then name), each event once (by uid).
pub fn newest_first(mut events: Vec<ObjectEvent>) -> Vec<ObjectEvent> {
    events.sort_by(|a, b| {
        b.last_seen
            .cmp(&a.last_seen)
            .then_with(|| a.object_name.cmp(&b.object_name))
            .then_with(|| a.uid.cmp(&b.uid))
    });
    let mut seen = std::collections::HashSet::new();
    events.retain(|e| e.uid.is_empty() || seen.insert(e.uid.clone()));
    events
}

/// What the pods screen's `l` (logs) starts from: the selected pod and its containers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PodRef {
    pub cluster: String,
    pub namespace: String,
    pub name: String,
    pub containers: Vec<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn crashing() -> PodFacts {
        PodFacts {
            name: "web-6b8d4c7f9-x2k4q".into(),
            phase: "Running".into(),
            containers: vec![
                ContainerFacts {
                    name: "web".into(),
                    restarts: 4,
                    state: ContainerState::Waiting {
                        reason: Untrusted::new("CrashLoopBackOff"),
                        message: Untrusted::new("back-off 40s restarting failed container"),
                    },
                    last: Some(Termination {
                        reason: Untrusted::new("Error"),
                        message: Untrusted::default(),
                        exit_code: 1,
                        finished: Some(Timestamp::from_second(100).unwrap()),
                    }),
                    ..ContainerFacts::default()
                },
                ContainerFacts {
                    name: "sidecar".into(),
                    ready: true,
                    restarts: 1,
                    state: ContainerState::Running { since: None },
                    ..ContainerFacts::default()
                },
            ],
            ..PodFacts::default()
        }
    }

    #[test]
    fn a_crashing_pod_reads_as_kubectl_shows_it() {
        let p = crashing();
        assert_eq!(p.ready(), (1, 2));
        assert_eq!(p.restarts(), 5);
        assert_eq!(p.status(), "CrashLoopBackOff");
        assert!(p.failing());
        let last = p.last_termination().unwrap();
        assert_eq!((last.reason.raw(), last.exit_code), ("Error", 1));
        assert_eq!(
            p.status_message().map(Untrusted::raw),
            Some("back-off 40s restarting failed container")
        );
    }

    #[test]
    fn a_healthy_pod_shows_its_phase() {
        let mut p = crashing();
        p.containers.remove(0);
        assert_eq!(p.status(), "Running");
        assert!(!p.failing());
        assert!(p.status_message().is_none());
    }

    #[test]
    fn selectors_follow_the_owner() {
        assert_eq!(
            PodQuery::selector_for("Rollout", "abc"),
            "rollouts-pod-template-hash=abc"
        );
        assert_eq!(
            PodQuery::selector_for("Deployment", "abc"),
            "pod-template-hash=abc"
        );
    }

    #[test]
    fn pods_of_a_replicaset_are_told_by_name() {
        let q = EventsQuery {
            request: 1,
            cluster: "a".into(),
            namespace: "n".into(),
            objects: vec![],
            pods_of: vec!["web-6b8d".into()],
        };
        assert!(q.wants_pod("web-6b8d-x2k4q"));
        assert!(!q.wants_pod("web-6b8d"));
        assert!(!q.wants_pod("web-6b8d-x2k4q-extra"));
        assert!(!q.wants_pod("web-6b8e-x2k4q"));
    }

    #[test]
    fn events_are_newest_first_and_once() {
        let e = |uid: &str, at: i64| ObjectEvent {
            uid: uid.into(),
            last_seen: Some(Timestamp::from_second(at).unwrap()),
            ..ObjectEvent::default()
        };
        let out = newest_first(vec![e("a", 1), e("b", 3), e("a", 1), e("c", 2)]);
        let uids: Vec<&str> = out.iter().map(|e| e.uid.as_str()).collect();
        assert_eq!(uids, ["b", "c", "a"]);
    }
}
