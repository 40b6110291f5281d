//! The raw objects per cluster, kept so a release can be re-derived when its ReplicaSets or
//! AnalysisRuns change: typed keys, an owner-uid index so a ReplicaSet change finds its
//! release in O(1), and the ReplicaSets per owner so that release is derived from its own
//! ReplicaSets, not by scanning its namespace's. A plain data structure; `update` decides
//! what goes in and out.

use std::collections::{BTreeMap, HashMap};

use super::facts::{AnalysisRunFacts, DeploymentFacts, ObjectFacts, ReplicaSetFacts};
use super::kinds::canary;
use super::model::{ReleaseKey, ReleaseKind};

/// A namespaced object on one cluster (ordered cluster, namespace, name, so one namespace
/// is one range).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ObjectKey {
    pub cluster: String,
    pub namespace: String,
    pub name: String,
}

impl ObjectKey {
    pub fn new(cluster: &str, namespace: &str, name: &str) -> Self {
        ObjectKey {
            cluster: cluster.to_string(),
            namespace: namespace.to_string(),
            name: name.to_string(),
        }
    }
}

/// An object's uid on one cluster.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct OwnerKey {
    pub cluster: String,
    pub uid: String,
}

#[derive(Debug, Default)]
pub struct Inventory {
    /// Release objects, keyed by the release they derive.
    workloads: BTreeMap<ReleaseKey, ObjectFacts>,
    /// uid → the release object with that uid.
    owners: HashMap<OwnerKey, ReleaseKey>,
    replicasets: BTreeMap<ObjectKey, ReplicaSetFacts>,
    /// Owner uid → the ReplicaSets it owns (kept with `replicasets` by its methods).
    owned: HashMap<OwnerKey, Vec<ObjectKey>>,
    pub analysis_runs: BTreeMap<ObjectKey, AnalysisRunFacts>,
}

fn owner_key(cluster: &str, facts: &ObjectFacts) -> Option<OwnerKey> {
    facts
        .release_uid()
        .filter(|uid| !uid.is_empty())
        .map(|uid| OwnerKey {
            cluster: cluster.to_string(),
            uid: uid.to_string(),
        })
}

/// The owner a ReplicaSet is indexed under (None: it names none).
fn rs_owner(cluster: &str, rs: &ReplicaSetFacts) -> Option<OwnerKey> {
    (!rs.owner_uid.is_empty()).then(|| OwnerKey {
        cluster: cluster.to_string(),
        uid: rs.owner_uid.clone(),
    })
}

/// The entries of `map` in one cluster's namespace.
fn in_namespace<'a, V>(
    map: &'a BTreeMap<ObjectKey, V>,
    cluster: &'a str,
    namespace: &'a str,
) -> impl Iterator<Item = &'a V> + 'a {
    map.range(ObjectKey::new(cluster, namespace, "")..)
        .take_while(move |(k, _)| k.cluster == cluster && k.namespace == namespace)
        .map(|(_, v)| v)
}

impl Inventory {
    pub fn workload(&self, key: &ReleaseKey) -> Option<&ObjectFacts> {
        self.workloads.get(key)
    }

    pub fn workloads(&self) -> impl Iterator<Item = (&ReleaseKey, &ObjectFacts)> {
        self.workloads.iter()
    }

    /// Keep a release object (replacing the one there, and its uid in the index).
    pub fn put_workload(&mut self, key: ReleaseKey, facts: ObjectFacts) {
        if let Some(old) = self.workloads.get(&key)
            && let Some(old_owner) = owner_key(&key.cluster, old)
        {
            self.owners.remove(&old_owner);
        }
        if let Some(owner) = owner_key(&key.cluster, &facts) {
            self.owners.insert(owner, key.clone());
        }
        self.workloads.insert(key, facts);
    }

    pub fn remove_workload(&mut self, key: &ReleaseKey) -> Option<ObjectFacts> {
        let facts = self.workloads.remove(key)?;
        if let Some(owner) = owner_key(&key.cluster, &facts)
            && self.owners.get(&owner) == Some(key)
        {
            self.owners.remove(&owner);
        }
        Some(facts)
    }

    /// The release whose object has `uid` on `cluster`.
    pub fn owner(&self, cluster: &str, uid: &str) -> Option<&ReleaseKey> {
        self.owners.get(&OwnerKey {
            cluster: cluster.to_string(),
            uid: uid.to_string(),
        })
    }

    pub fn replicaset(&self, key: &ObjectKey) -> Option<&ReplicaSetFacts> {
        self.replicasets.get(key)
    }

    pub fn replicaset_keys(&self) -> impl Iterator<Item = &ObjectKey> {
        self.replicasets.keys()
    }

    /// Keep a ReplicaSet (replacing the one there, and its owner in the index); returns the
    /// one it replaced.
    pub fn put_replicaset(
        &mut self,
        key: ObjectKey,
        rs: ReplicaSetFacts,
    ) -> Option<ReplicaSetFacts> {
        let owner = rs_owner(&key.cluster, &rs);
        let old = self.replicasets.insert(key.clone(), rs);
        let old_owner = old.as_ref().and_then(|o| rs_owner(&key.cluster, o));
        if old_owner != owner {
            if let Some(old_owner) = old_owner {
                self.unindex(&old_owner, &key);
            }
            if let Some(owner) = owner {
                self.owned.entry(owner).or_default().push(key);
            }
        }
        old
    }

    pub fn remove_replicaset(&mut self, key: &ObjectKey) -> Option<ReplicaSetFacts> {
        let rs = self.replicasets.remove(key)?;
        if let Some(owner) = rs_owner(&key.cluster, &rs) {
            self.unindex(&owner, key);
        }
        Some(rs)
    }

    fn unindex(&mut self, owner: &OwnerKey, key: &ObjectKey) {
        if let Some(keys) = self.owned.get_mut(owner) {
            keys.retain(|k| k != key);
            if keys.is_empty() {
                self.owned.remove(owner);
            }
        }
    }

    /// The ReplicaSets owned by `uid` on `cluster` (in no particular order).
    pub fn replicasets_of<'a>(
        &'a self,
        cluster: &str,
        uid: &str,
    ) -> impl Iterator<Item = &'a ReplicaSetFacts> + 'a {
        let owner = OwnerKey {
            cluster: cluster.to_string(),
            uid: uid.to_string(),
        };
        self.owned
            .get(&owner)
            .into_iter()
            .flatten()
            .filter_map(|k| self.replicasets.get(k))
    }

    /// The ReplicaSets in one namespace of one cluster.
    pub fn replicasets_in<'a>(
        &'a self,
        cluster: &'a str,
        namespace: &'a str,
    ) -> impl Iterator<Item = &'a ReplicaSetFacts> + 'a {
        in_namespace(&self.replicasets, cluster, namespace)
    }

    /// The Deployments in one namespace of one cluster.
    pub fn deployments_in<'a>(
        &'a self,
        cluster: &'a str,
        namespace: &'a str,
    ) -> impl Iterator<Item = &'a DeploymentFacts> + 'a {
        self.of_kind_in(cluster, ReleaseKind::Deployment, namespace)
            .filter_map(|(_, f)| match f {
                ObjectFacts::Deployment(d) => Some(d),
                _ => None,
            })
    }

    /// The Flagger Canaries in a namespace whose target or primary is the Deployment `name`
    /// (re-derived when that Deployment or its ReplicaSets change).
    pub fn canaries_over<'a>(
        &'a self,
        cluster: &'a str,
        namespace: &'a str,
        name: &'a str,
    ) -> impl Iterator<Item = &'a ReleaseKey> + 'a {
        self.of_kind_in(cluster, ReleaseKind::Canary, namespace)
            .filter(move |(_, f)| match f {
                ObjectFacts::Canary(c) => canary::target_deployment(c)
                    .is_some_and(|t| t == name || canary::primary_name(t) == name),
                _ => false,
            })
            .map(|(k, _)| k)
    }

    fn of_kind_in<'a>(
        &'a self,
        cluster: &'a str,
        kind: ReleaseKind,
        namespace: &'a str,
    ) -> impl Iterator<Item = (&'a ReleaseKey, &'a ObjectFacts)> + 'a {
        let start = ReleaseKey {
            cluster: cluster.to_string(),
            kind,
            namespace: namespace.to_string(),
            name: String::new(),
        };
        self.workloads.range(start..).take_while(move |(k, _)| {
            k.cluster == cluster && k.kind == kind && k.namespace == namespace
        })
    }

    /// The AnalysisRuns in one namespace of one cluster.
    pub fn analysis_runs_in<'a>(
        &'a self,
        cluster: &'a str,
        namespace: &'a str,
    ) -> impl Iterator<Item = &'a AnalysisRunFacts> + 'a {
        in_namespace(&self.analysis_runs, cluster, namespace)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::testkit::deployment;

    fn key(name: &str) -> ReleaseKey {
        ReleaseKey {
            cluster: "a".into(),
            kind: ReleaseKind::Deployment,
            namespace: "web".into(),
            name: name.into(),
        }
    }

    #[test]
    fn the_owner_index_follows_puts_and_removes() {
        let mut inv = Inventory::default();
        let d = deployment("web", "api", false);
        let uid = d.meta.uid.clone();
        inv.put_workload(key("api"), ObjectFacts::Deployment(d.clone()));
        assert_eq!(inv.owner("a", &uid), Some(&key("api")));
        assert_eq!(inv.owner("b", &uid), None);
        let mut moved = d;
        moved.meta.uid = "new-uid".into();
        inv.put_workload(key("api"), ObjectFacts::Deployment(moved));
        assert_eq!(inv.owner("a", &uid), None);
        assert_eq!(inv.owner("a", "new-uid"), Some(&key("api")));
        assert!(inv.remove_workload(&key("api")).is_some());
        assert_eq!(inv.owner("a", "new-uid"), None);
    }

    #[test]
    fn a_namespace_is_one_range() {
        let mut inv = Inventory::default();
        for (ns, name) in [("web", "b"), ("web", "a"), ("webx", "c"), ("w", "d")] {
            let mut rs = ReplicaSetFacts::default();
            rs.meta.name = name.into();
            inv.put_replicaset(ObjectKey::new("a", ns, name), rs);
        }
        let names: Vec<_> = inv
            .replicasets_in("a", "web")
            .map(|r| r.meta.name.as_str())
            .collect();
        assert_eq!(names, ["a", "b"]);
    }

    #[test]
    fn replicasets_are_found_by_owner_through_puts_moves_and_removes() {
        let mut inv = Inventory::default();
        let rs = |name: &str, owner: &str| {
            let mut rs = ReplicaSetFacts::default();
            rs.meta.name = name.into();
            rs.owner_uid = owner.into();
            rs
        };
        let names = |inv: &Inventory, cluster: &str, uid: &str| {
            let mut v: Vec<String> = inv
                .replicasets_of(cluster, uid)
                .map(|r| r.meta.name.clone())
                .collect();
            v.sort();
            v
        };
        let k = |c: &str, name: &str| ObjectKey::new(c, "web", name);
        inv.put_replicaset(k("a", "api-1"), rs("api-1", "u1"));
        inv.put_replicaset(k("a", "api-2"), rs("api-2", "u1"));
        inv.put_replicaset(k("b", "api-1"), rs("api-1", "u1"));
        inv.put_replicaset(k("a", "orphan"), rs("orphan", ""));
        assert_eq!(names(&inv, "a", "u1"), ["api-1", "api-2"]);
        assert_eq!(names(&inv, "b", "u1"), ["api-1"]);
        // The same ReplicaSet again, changed: still indexed once.
        let mut scaled = rs("api-2", "u1");
        scaled.replicas = 3;
        assert!(inv.put_replicaset(k("a", "api-2"), scaled).is_some());
        assert_eq!(names(&inv, "a", "u1"), ["api-1", "api-2"]);
        // Adopted by another owner: moves in the index.
        inv.put_replicaset(k("a", "api-1"), rs("api-1", "u2"));
        assert_eq!(names(&inv, "a", "u1"), ["api-2"]);
        assert_eq!(names(&inv, "a", "u2"), ["api-1"]);
        assert!(inv.remove_replicaset(&k("a", "api-2")).is_some());
        assert!(names(&inv, "a", "u1").is_empty());
        assert!(inv.remove_replicaset(&k("a", "api-2")).is_none());
        assert_eq!(inv.replicaset_keys().count(), 3);
        assert!(!inv.owned.contains_key(&OwnerKey {
            cluster: "a".into(),
            uid: "u1".into()
        }));
    }
}
