//! Simulated pods of a demo ReplicaSet, as the kubelet would report them: ready pods
//! running, the rest failing the way the ReplicaSet's template fails — a crash loop
//! (CrashLoopBackOff, restarts climbing, last termination exit 1), an image that cannot be
//! pulled (ErrImagePull / ImagePullBackOff with the registry's message), or no node with
//! room (Pending, Unschedulable) — plus the Normal events that go with them. Deterministic:
//! a function of the ReplicaSet and the time.

use jiff::{SignedDuration, Timestamp};

use super::replicaset::{Quality, ReplicaSetSim};
use super::store::{pod_name, template_hash};
use crate::core::kinds::pod::{ContainerFacts, ContainerState, ObjectEvent, PodFacts, Termination};
use crate::core::text::Untrusted;

/// How often a crash-looping container restarts, on average (the kubelet's back-off).
const RESTART_EVERY_SECS: i64 = 75;

fn app_of(rs: &str) -> &str {
    rs.rsplit_once('-').map_or(rs, |(app, _)| app)
}

fn node_of(cluster: &str, pod: &str) -> String {
    let h = template_hash(&[pod]);
    let n = h.bytes().map(u32::from).sum::<u32>() % 6;
    format!("{cluster}-node-{n}")
}

fn pod_base(cluster: &str, sim: &ReplicaSetSim, i: usize) -> PodFacts {
    let rs = &sim.rs.obj;
    let name = pod_name(&rs.meta.name, i);
    PodFacts {
        namespace: rs.meta.namespace.clone(),
        uid: template_hash(&[&name, "pod"]),
        owner_uid: rs.meta.uid.clone(),
        phase: "Running".into(),
        node: node_of(cluster, &name),
        created: rs.meta.created,
        name,
        ..PodFacts::default()
    }
}

/// The pods of one ReplicaSet at `now`.
pub fn pods_of(cluster: &str, sim: &ReplicaSetSim, now: Timestamp) -> Vec<PodFacts> {
    let rs = &sim.rs.obj;
    let image = rs.images.first().cloned().unwrap_or_default();
    let app = app_of(&rs.meta.name).to_string();
    let age = rs
        .meta
        .created
        .map_or(0, |c| now.duration_since(c).as_secs().max(0));
    (0..rs.replicas.max(0) as usize)
        .map(|i| {
            let mut p = pod_base(cluster, sim, i);
            let ready = (i as i32) < rs.ready_replicas;
            let mut c = ContainerFacts {
                name: app.clone(),
                image: image.clone(),
                ready,
                state: ContainerState::Running {
                    since: rs.meta.created,
                },
                ..ContainerFacts::default()
            };
            if !ready {
                failing(&mut p, &mut c, sim.quality, &image, age, now);
            }
            p.containers.push(c);
            p
        })
        .collect()
}

fn failing(
    p: &mut PodFacts,
    c: &mut ContainerFacts,
    quality: Quality,
    image: &str,
    age: i64,
    now: Timestamp,
) {
    match quality {
        Quality::CrashLoop => {
            c.restarts = u32::try_from(1 + age / RESTART_EVERY_SECS).unwrap_or(u32::MAX);
            let backoff = (10 * 2i64.pow(c.restarts.min(5))).min(300);
            c.state = ContainerState::Waiting {
                reason: Untrusted::new("CrashLoopBackOff"),
                message: Untrusted::new(format!(
                    "back-off {} restarting failed container={} pod={}",
                    short(backoff),
                    c.name,
                    p.name
                )),
            };
            // The template sets `terminationMessagePolicy: FallbackToLogsOnError`: the
            // message is the log's tail, the panic and its stack trace.
            let trace = std::iter::once(super::logs::CRASH_LINE)
                .chain(super::logs::PANIC_TRACE.iter().copied())
                .collect::<Vec<_>>()
                .join("\n");
            c.last = Some(Termination {
                reason: Untrusted::new("Error"),
                message: Untrusted::message(trace),
                exit_code: 1,
                finished: Some(now - SignedDuration::from_secs(age % RESTART_EVERY_SECS + 5)),
            });
        }
        Quality::ImagePull => {
            p.phase = "Pending".into();
            // The kubelet alternates between the two while it backs off.
            let (reason, message) = if (age / 20) % 2 == 0 {
                (
                    "ImagePullBackOff",
                    format!("Back-off pulling image \"{image}\""),
                )
            } else {
                (
                    "ErrImagePull",
                    format!(
                        "rpc error: code = NotFound desc = failed to pull and unpack image \"{image}\": failed to resolve reference \"{image}\": {image}: not found"
                    ),
                )
            };
            c.state = ContainerState::Waiting {
                reason: Untrusted::new(reason),
                message: Untrusted::new(message),
            };
        }
        Quality::Unschedulable => {
            p.phase = "Pending".into();
            p.node.clear();
            p.reason = Untrusted::new("Unschedulable");
            p.message = Untrusted::new(
                "0/6 nodes are available: 6 Insufficient cpu. preemption: 0/6 nodes are available: 6 No preemption victims found for incoming pod.",
            );
            c.state = ContainerState::Unknown;
        }
        Quality::Good | Quality::ErrorProne => {
            c.state = ContainerState::Waiting {
                reason: Untrusted::new("ContainerCreating"),
                message: Untrusted::default(),
            };
        }
    }
}

fn short(secs: i64) -> String {
    if secs >= 60 {
        format!("{}m{}s", secs / 60, secs % 60)
    } else {
        format!("{secs}s")
    }
}

/// The Normal events of a ReplicaSet and its pods (the warnings come from the fleet's
/// recorder, as the failures feed shows them).
pub fn normal_events(cluster: &str, sim: &ReplicaSetSim, now: Timestamp) -> Vec<ObjectEvent> {
    let rs = &sim.rs.obj;
    let created = rs.meta.created;
    let ev = |kind: &str, name: &str, reason: &str, message: String| ObjectEvent {
        uid: template_hash(&[name, reason]),
        object_kind: kind.into(),
        object_name: name.into(),
        type_: "Normal".into(),
        reason: Untrusted::new(reason),
        message: Untrusted::new(message),
        count: 1,
        last_seen: created,
    };
    let mut out = Vec::new();
    for p in pods_of(cluster, sim, now) {
        out.push(ev(
            "ReplicaSet",
            &rs.meta.name,
            "SuccessfulCreate",
            format!("Created pod: {}", p.name),
        ));
        if p.node.is_empty() {
            continue;
        }
        out.push(ev(
            "Pod",
            &p.name,
            "Scheduled",
            format!(
                "Successfully assigned {}/{} to {}",
                p.namespace, p.name, p.node
            ),
        ));
        let c = &p.containers[0];
        if matches!(sim.quality, Quality::ImagePull) && !c.ready {
            out.push(ev(
                "Pod",
                &p.name,
                "Pulling",
                format!("Pulling image \"{}\"", c.image),
            ));
            continue;
        }
        out.push(ev(
            "Pod",
            &p.name,
            "Pulled",
            format!("Container image \"{}\" already present on machine", c.image),
        ));
        out.push(ev(
            "Pod",
            &p.name,
            "Created",
            format!("Created container {}", c.name),
        ));
        let mut started = ev(
            "Pod",
            &p.name,
            "Started",
            format!("Started container {}", c.name),
        );
        started.count = c.restarts + 1;
        started.last_seen = c.last.as_ref().and_then(|t| t.finished).or(created);
        out.push(started);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::demo::replicaset::Template;
    use crate::source::demo::store::RvClock;

    fn sim(quality: Quality, ready: i32) -> ReplicaSetSim {
        let t = Template {
            owner_name: "search-indexer",
            owner_uid: "u",
            owner_kind: "Deployment",
            namespace: "search",
            hash: "7d9f8c6b5",
            images: &["registry.example/search-indexer:2.0.4".to_string()],
            quality,
        };
        let now = Timestamp::from_second(1_000).unwrap();
        let mut s = ReplicaSetSim::create(&t, 2, now, &mut RvClock::new());
        s.scale(3);
        s.rs.obj.ready_replicas = ready;
        s
    }

    #[test]
    fn a_crash_looping_replicaset_has_restarting_pods_that_exit_1() {
        let now = Timestamp::from_second(1_000 + 600).unwrap();
        let pods = pods_of("prod-us-1", &sim(Quality::CrashLoop, 0), now);
        assert_eq!(pods.len(), 3);
        for p in &pods {
            assert_eq!(p.status(), "CrashLoopBackOff");
            assert!(
                p.restarts() >= 8,
                "{} restarts after 10 minutes",
                p.restarts()
            );
            let last = p.last_termination().unwrap();
            assert_eq!(last.exit_code, 1);
            assert!(last.finished.unwrap() < now);
            assert!(p.name.starts_with("search-indexer-7d9f8c6b5-"));
        }
    }

    #[test]
    fn an_image_pull_failure_names_the_image() {
        let now = Timestamp::from_second(1_000 + 30).unwrap();
        let pods = pods_of("c", &sim(Quality::ImagePull, 1), now);
        assert_eq!(pods[0].status(), "Running", "the ready pod runs");
        let failing = &pods[1];
        assert!(["ErrImagePull", "ImagePullBackOff"].contains(&failing.status()));
        assert!(
            failing
                .status_message()
                .unwrap()
                .raw()
                .contains("registry.example/search-indexer:2.0.4")
        );
    }

    #[test]
    fn normal_events_name_each_pod() {
        let s = sim(Quality::CrashLoop, 0);
        let now = Timestamp::from_second(1_300).unwrap();
        let events = normal_events("c", &s, now);
        let pods = pods_of("c", &s, now);
        for p in &pods {
            assert!(
                events
                    .iter()
                    .any(|e| e.object_name == p.name && e.reason.raw() == "Started")
            );
        }
        assert_eq!(
            events
                .iter()
                .filter(|e| e.reason.raw() == "SuccessfulCreate")
                .count(),
            3
        );
    }
}
