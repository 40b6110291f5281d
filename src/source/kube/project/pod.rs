//! core/v1 Pod → `PodFacts` (compact: no spec, no managedFields, only what the pods screen
//! shows) and core/v1 Event → `ObjectEvent` (Normal and Warning, for the detail's events).

use k8s_openapi::api::core::v1::{ContainerStatus, Event, Pod};

use crate::core::kinds::pod::{ContainerFacts, ContainerState, ObjectEvent, PodFacts, Termination};
use crate::core::text::Untrusted;

fn text(s: &Option<String>) -> Untrusted {
    Untrusted::new(s.clone().unwrap_or_default())
}

fn container(c: &ContainerStatus) -> ContainerFacts {
    let st = c.state.as_ref();
    let state = if let Some(w) = st.and_then(|s| s.waiting.as_ref()) {
        ContainerState::Waiting {
            reason: text(&w.reason),
            message: text(&w.message),
        }
    } else if let Some(t) = st.and_then(|s| s.terminated.as_ref()) {
        ContainerState::Terminated {
            reason: text(&t.reason),
            message: text(&t.message),
            exit_code: t.exit_code,
        }
    } else if let Some(r) = st.and_then(|s| s.running.as_ref()) {
        ContainerState::Running {
            since: r.started_at.as_ref().map(|t| t.0),
        }
    } else {
        ContainerState::Unknown
    };
    let last = c
        .last_state
        .as_ref()
        .and_then(|s| s.terminated.as_ref())
        .map(|t| Termination {
            reason: text(&t.reason),
            // Bounded like every message (the kubelet caps it too, at 4 KiB).
            message: Untrusted::message(t.message.clone().unwrap_or_default()),
            exit_code: t.exit_code,
            finished: t.finished_at.as_ref().map(|t| t.0),
        });
    ContainerFacts {
        name: c.name.clone(),
        image: c.image.clone(),
        ready: c.ready,
        restarts: u32::try_from(c.restart_count).unwrap_or(0),
        state,
        last,
    }
}

pub fn pod(p: &Pod) -> PodFacts {
    let m = &p.metadata;
    let status = p.status.as_ref();
    let spec = p.spec.as_ref();
    let owner_uid = m
        .owner_references
        .iter()
        .flatten()
        .find(|o| o.controller == Some(true))
        .map(|o| o.uid.clone())
        .unwrap_or_default();
    let mut containers: Vec<ContainerFacts> = status
        .and_then(|s| s.container_statuses.as_ref())
        .map(|cs| cs.iter().map(container).collect())
        .unwrap_or_default();
    // Containers without a status yet (not scheduled, image not pulled) still count.
    for c in spec.map(|s| s.containers.as_slice()).unwrap_or_default() {
        if !containers.iter().any(|x| x.name == c.name) {
            containers.push(ContainerFacts {
                name: c.name.clone(),
                image: c.image.clone().unwrap_or_default(),
                ..ContainerFacts::default()
            });
        }
    }
    // A pod the scheduler cannot place says so in its PodScheduled condition.
    let unscheduled = status.and_then(|s| s.conditions.as_ref()).and_then(|cs| {
        cs.iter()
            .find(|c| c.type_ == "PodScheduled" && c.status == "False")
    });
    let (reason, message) = match (status.and_then(|s| s.reason.clone()), unscheduled) {
        (Some(r), _) => (Some(r), status.and_then(|s| s.message.clone())),
        (None, Some(c)) => (c.reason.clone(), c.message.clone()),
        (None, None) => (None, None),
    };
    PodFacts {
        namespace: m.namespace.clone().unwrap_or_default(),
        name: m.name.clone().unwrap_or_default(),
        uid: m.uid.clone().unwrap_or_default(),
        owner_uid,
        phase: status.and_then(|s| s.phase.clone()).unwrap_or_default(),
        node: spec.and_then(|s| s.node_name.clone()).unwrap_or_default(),
        created: m.creation_timestamp.as_ref().map(|t| t.0),
        containers,
        reason: text(&reason),
        message: text(&message),
    }
}

/// Any event (Normal or Warning) of an object. Events written through events.k8s.io/v1
/// carry `series` and `eventTime` instead of `count` and `lastTimestamp`.
pub fn object_event(e: &Event) -> ObjectEvent {
    let series = e.series.as_ref();
    let count = e
        .count
        .or(series.and_then(|s| s.count))
        .and_then(|c| u32::try_from(c).ok())
        .unwrap_or(1)
        .max(1);
    let last_seen = e
        .last_timestamp
        .as_ref()
        .map(|t| t.0)
        .or(series
            .and_then(|s| s.last_observed_time.as_ref())
            .map(|t| t.0))
        .or(e.event_time.as_ref().map(|t| t.0))
        .or(e.first_timestamp.as_ref().map(|t| t.0))
        .or(e.metadata.creation_timestamp.as_ref().map(|t| t.0));
    ObjectEvent {
        uid: e.metadata.uid.clone().unwrap_or_default(),
        object_kind: e.involved_object.kind.clone().unwrap_or_default(),
        object_name: e.involved_object.name.clone().unwrap_or_default(),
        type_: e.type_.clone().unwrap_or_default(),
        reason: text(&e.reason),
        message: text(&e.message),
        count,
        last_seen,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_crash_looping_pod_projects_compactly() {
        let p: Pod = serde_json::from_value(serde_json::json!({
            "apiVersion": "v1", "kind": "Pod",
            "metadata": {
                "name": "web-6b8d-x2k4q", "namespace": "shop", "uid": "p1",
                "creationTimestamp": "2026-01-01T00:00:00Z",
                "managedFields": [{"manager": "kubelet"}],
                "ownerReferences": [{"apiVersion": "apps/v1", "kind": "ReplicaSet",
                    "name": "web-6b8d", "uid": "rs1", "controller": true}]
            },
            "spec": {"nodeName": "kwok-node-0", "containers": [
                {"name": "web", "image": "web:2"}, {"name": "proxy", "image": "envoy:1"}]},
            "status": {"phase": "Running", "containerStatuses": [{
                "name": "web", "image": "web:2", "imageID": "", "ready": false,
                "restartCount": 7,
                "state": {"waiting": {"reason": "CrashLoopBackOff",
                    "message": "back-off 5m0s restarting failed container=web"}},
                "lastState": {"terminated": {"reason": "Error", "exitCode": 1,
                    "message": "panic: boom\n\tat main.go:42",
                    "finishedAt": "2026-01-01T00:10:00Z"}}
            }]}
        }))
        .unwrap();
        let f = pod(&p);
        assert_eq!(f.owner_uid, "rs1");
        assert_eq!(f.node, "kwok-node-0");
        assert_eq!(f.ready(), (0, 2), "the proxy has no status yet: not ready");
        assert_eq!(f.restarts(), 7);
        assert_eq!(f.status(), "CrashLoopBackOff");
        let last = f.last_termination().unwrap();
        assert_eq!((last.reason.raw(), last.exit_code), ("Error", 1));
        assert_eq!(
            last.message.raw(),
            "panic: boom\n\tat main.go:42",
            "kept whole"
        );
        assert!(last.finished.is_some());
    }

    #[test]
    fn an_unschedulable_pod_says_why() {
        let p: Pod = serde_json::from_value(serde_json::json!({
            "metadata": {"name": "w-1", "namespace": "n"},
            "spec": {"containers": [{"name": "w"}]},
            "status": {"phase": "Pending", "conditions": [{"type": "PodScheduled",
                "status": "False", "reason": "Unschedulable",
                "message": "0/3 nodes are available"}]}
        }))
        .unwrap();
        let f = pod(&p);
        assert_eq!(f.status(), "Unschedulable");
        assert_eq!(f.status_message().unwrap().raw(), "0/3 nodes are available");
    }

    #[test]
    fn normal_events_are_kept_with_counts() {
        let e: Event = serde_json::from_value(serde_json::json!({
            "metadata": {"name": "e", "namespace": "n", "uid": "e1"},
            "involvedObject": {"kind": "ReplicaSet", "name": "web-6b8d"},
            "type": "Normal", "reason": "SuccessfulCreate",
            "message": "Created pod: web-6b8d-x2k4q", "count": 3,
            "lastTimestamp": "2026-01-01T00:00:00Z"
        }))
        .unwrap();
        let o = object_event(&e);
        assert_eq!((o.type_.as_str(), o.count), ("Normal", 3));
        assert_eq!(o.reason.raw(), "SuccessfulCreate");
        assert!(!o.is_warning());
    }
}
