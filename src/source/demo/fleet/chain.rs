//! The simulated API server's side of a plan of several calls on one object: the version the
//! previous call produced, which the next call carries (`core::action::after_write`).

use super::Fleet;
use crate::core::action::ApiCall;
use crate::core::facts::ObjectMeta;
use crate::core::kinds::Kind;

impl Fleet {
    /// The resourceVersion of the object `call` wrote, as it is now.
    pub(super) fn rv_after(&self, cluster: &str, call: &ApiCall) -> Option<String> {
        let ApiCall::Patch {
            resource,
            namespace,
            name,
            ..
        } = call
        else {
            return None;
        };
        let hit = |c: &String, m: &ObjectMeta| {
            (c == cluster && m.namespace == *namespace && m.name == *name)
                .then(|| m.resource_version.clone())
        };
        match Kind::by_plural(resource.plural)? {
            Kind::Rollout => self
                .rollouts
                .iter()
                .find_map(|r| hit(&r.cluster, &r.facts().meta)),
            Kind::Deployment => self
                .deployments
                .iter()
                .find_map(|d| hit(&d.cluster, &d.facts().meta)),
            Kind::Canary => self
                .canaries
                .iter()
                .find_map(|c| hit(&c.cluster, &c.facts().meta)),
            Kind::ReplicaSet | Kind::AnalysisRun | Kind::Event | Kind::Pod => None,
            Kind::Kustomization => self
                .kustomizations
                .iter()
                .find_map(|k| hit(&k.cluster, &k.facts().meta)),
            Kind::HelmRelease | Kind::GitRepository | Kind::OCIRepository => None,
            // Written by terminate only, and not by a merge patch that a later call follows.
            Kind::Experiment => None,
            Kind::Application => self
                .applications
                .iter()
                .find_map(|a| hit(&a.cluster, &a.facts().meta)),
        }
    }
}
