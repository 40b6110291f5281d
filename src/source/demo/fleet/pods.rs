//! What the demo's pods screen and detail events read from the fleet: the simulated pods
//! of a ReplicaSet and the events of a release's objects.

use super::Fleet;
use crate::core::kinds::flux::Ready;
use crate::core::kinds::flux_source::{FluxSourceFacts, FluxSourceQuery};
use crate::core::kinds::pod::{EventsQuery, ObjectEvent, PodFacts, PodQuery};
use crate::source::demo::pods;
use crate::source::demo::replicaset::ReplicaSetSim;

impl Fleet {
    fn replicasets_on<'a>(&'a self, cluster: &'a str) -> impl Iterator<Item = &'a ReplicaSetSim> {
        let rollouts = self
            .rollouts
            .iter()
            .filter(move |r| r.cluster == cluster)
            .flat_map(|r| r.replicasets());
        let deployments = self
            .deployments
            .iter()
            .filter(move |d| d.cluster == cluster)
            .flat_map(|d| d.replicasets());
        let canaries = self
            .canaries
            .iter()
            .filter(move |c| c.cluster == cluster)
            .flat_map(|c| c.deployments())
            .flat_map(|d| d.replicasets());
        rollouts.chain(deployments).chain(canaries)
    }

    /// The simulated GitRepository a Kustomization of the fleet takes its revision from:
    /// Ready, at the revision the Kustomization applied last (None: no Kustomization
    /// names it).
    pub fn flux_source(&self, q: &FluxSourceQuery) -> Option<FluxSourceFacts> {
        let k = self
            .kustomizations
            .iter()
            .map(|k| (k.cluster.as_str(), k.facts()))
            .find(|(cluster, k)| {
                *cluster == q.cluster
                    && k.source.kind == q.kind.api().name
                    && k.source.namespace == q.namespace
                    && k.source.name == q.name
            })?;
        let k = k.1;
        let mut meta = k.meta.clone();
        meta.name = q.name.clone();
        let revision = k.last_applied_revision.clone();
        Some(FluxSourceFacts {
            meta,
            kind: q.kind.api().name.to_string(),
            url: crate::core::text::Untrusted::new("https://git.example/fleet.git"),
            suspend: false,
            ready: Ready::True,
            ready_message: crate::core::text::Untrusted::new(format!(
                "stored artifact for revision '{revision}'"
            )),
            artifact_revision: revision,
        })
    }

    /// The pods the query's ReplicaSet runs now (None: no such ReplicaSet).
    pub fn pods(&self, q: &PodQuery) -> Option<Vec<PodFacts>> {
        let rs = self.replicasets_on(&q.cluster).find(|rs| {
            rs.rs.obj.meta.namespace == q.namespace && rs.rs.obj.meta.name == q.replicaset
        })?;
        Some(pods::pods_of(&q.cluster, rs, self.now))
    }

    /// What the simulated loadtester answers to `/gate/check` for the query's Canary (as
    /// the real one, only `flagger-loadtester` in the Canary's namespace is served).
    pub fn gate_state(&self, q: &crate::core::gates::GateQuery) -> crate::core::facts::GateState {
        use crate::core::action::Loadtester;
        use crate::core::facts::GateState;
        let served = matches!(&q.to, Loadtester::Service { namespace, service, .. }
            if service == "flagger-loadtester" && *namespace == q.canary.namespace);
        if !served {
            return GateState::Unknown(format!(
                "404 {} not found in the demo fleet",
                q.to.describe()
            ));
        }
        let canary = self.canaries.iter().find(|c| {
            let m = &c.facts().meta;
            c.cluster == q.cluster && m.namespace == q.canary.namespace && m.name == q.canary.name
        });
        match canary {
            Some(c) if c.gate_open(self.now) => GateState::Open,
            Some(_) => GateState::Closed,
            None => GateState::Unknown(format!(
                "canaries.flagger.app \"{}\" not found",
                q.canary.name
            )),
        }
    }

    /// The events of the query's objects and their pods: the warnings recorded so far and
    /// the Normal events of their ReplicaSets and pods.
    pub fn object_events(&self, q: &EventsQuery) -> Vec<ObjectEvent> {
        let mut out: Vec<ObjectEvent> = self
            .events
            .recorded(&q.cluster)
            .filter(|w| w.namespace == q.namespace)
            .filter(|w| {
                q.objects
                    .iter()
                    .any(|o| o.kind == w.object_kind && o.name == w.object_name)
                    || (w.object_kind == "Pod" && q.wants_pod(&w.object_name))
            })
            .map(|w| ObjectEvent {
                uid: format!("{}/{}/{}", w.object_kind, w.object_name, w.reason),
                object_kind: w.object_kind.clone(),
                object_name: w.object_name.clone(),
                type_: "Warning".into(),
                reason: crate::core::text::Untrusted::new(w.reason.clone()),
                message: w.message.clone(),
                count: w.count,
                last_seen: w.last_seen,
            })
            .collect();
        for rs in self.replicasets_on(&q.cluster) {
            let meta = &rs.rs.obj.meta;
            if meta.namespace == q.namespace && q.pods_of.contains(&meta.name) {
                out.extend(pods::normal_events(&q.cluster, rs, self.now));
            }
        }
        out
    }
}
