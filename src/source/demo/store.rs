//! The simulated API server's bookkeeping: every object carries a resourceVersion from one
//! fleet-wide counter, and a write that changes an object bumps it — exactly what makes the
//! actions' preconditions (`metadata.resourceVersion`) meaningful. `Tracked` also remembers
//! whether the console has seen the latest version, so `advance` emits only changed objects.

use crate::core::facts::{AnalysisRunFacts, ObjectMeta, ReplicaSetFacts};

/// The etcd revision counter: strictly increasing, shared by all objects.
#[derive(Debug, Clone)]
pub struct RvClock(u64);

impl RvClock {
    pub fn new() -> Self {
        // Real clusters are never at revision 1; a plausible number reads better.
        RvClock(184_200)
    }

    pub fn next(&mut self) -> String {
        self.0 += 1;
        self.0.to_string()
    }
}

pub trait HasMeta {
    fn meta(&self) -> &ObjectMeta;
    fn meta_mut(&mut self) -> &mut ObjectMeta;
}

impl HasMeta for ReplicaSetFacts {
    fn meta(&self) -> &ObjectMeta {
        &self.meta
    }
    fn meta_mut(&mut self) -> &mut ObjectMeta {
        &mut self.meta
    }
}

impl HasMeta for AnalysisRunFacts {
    fn meta(&self) -> &ObjectMeta {
        &self.meta
    }
    fn meta_mut(&mut self) -> &mut ObjectMeta {
        &mut self.meta
    }
}

/// An object as stored: the live value, the last committed value, and whether the console
/// still has to be told about it.
#[derive(Debug, Clone)]
pub struct Tracked<T> {
    pub obj: T,
    committed: T,
    unsent: bool,
}

impl<T: Clone + PartialEq + HasMeta> Tracked<T> {
    pub fn create(mut obj: T, clock: &mut RvClock) -> Self {
        obj.meta_mut().resource_version = clock.next();
        Tracked {
            committed: obj.clone(),
            obj,
            unsent: true,
        }
    }

    /// Persist changes made to `obj` since the last commit: a new resourceVersion, and the
    /// object is queued for the next `advance`. A write that changes nothing keeps its
    /// resourceVersion, as the API server does for no-op patches.
    pub fn commit(&mut self, clock: &mut RvClock) {
        if self.obj != self.committed {
            self.obj.meta_mut().resource_version = clock.next();
            self.committed = self.obj.clone();
            self.unsent = true;
        }
    }

    /// The committed object if the console has not seen it yet.
    pub fn take_unsent(&mut self) -> Option<T> {
        std::mem::take(&mut self.unsent).then(|| self.committed.clone())
    }

    /// The committed object, marking it seen (for full lists).
    pub fn snapshot(&mut self) -> T {
        self.unsent = false;
        self.committed.clone()
    }

    pub fn resource_version(&self) -> &str {
        &self.committed.meta().resource_version
    }
}

/// A stable, Kubernetes-looking pod-template-hash for a template (images plus restart stamp).
pub fn template_hash(parts: &[&str]) -> String {
    // FNV-1a: deterministic across runs and platforms, unlike std's hasher.
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for part in parts {
        for b in part.bytes().chain([0u8]) {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
    }
    // The alphabet Kubernetes uses for generated names (no vowels, no confusable digits).
    const ALPHABET: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";
    (0..10)
        .map(|i| {
            let idx = ((h >> (i * 6)) % ALPHABET.len() as u64) as usize;
            char::from(ALPHABET[idx])
        })
        .collect()
}

/// A deterministic UID for an object (the real API server makes a random one).
pub fn uid(parts: &[&str]) -> String {
    let a = template_hash(parts);
    let b = template_hash(&[&a]);
    let hex: String = a
        .bytes()
        .chain(b.bytes())
        .map(|c| format!("{:x}", c % 16))
        .collect();
    format!(
        "{}-{}-{}-{}-{}",
        &hex[..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[0..12]
    )
}

/// A short suffix for a pod of a ReplicaSet, so events name plausible pods.
pub fn pod_name(replicaset: &str, index: usize) -> String {
    let hash = template_hash(&[replicaset, &index.to_string()]);
    format!("{replicaset}-{}", &hash[..5])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commit_bumps_only_on_change() {
        let mut clock = RvClock::new();
        let mut t = Tracked::create(ReplicaSetFacts::default(), &mut clock);
        let rv = t.resource_version().to_string();
        assert!(t.take_unsent().is_some());
        assert!(t.take_unsent().is_none());
        t.commit(&mut clock);
        assert_eq!(t.resource_version(), rv);
        t.obj.replicas = 3;
        t.commit(&mut clock);
        assert_ne!(t.resource_version(), rv);
        assert_eq!(t.take_unsent().map(|r| r.replicas), Some(3));
    }

    #[test]
    fn hashes_are_stable_and_distinct() {
        assert_eq!(template_hash(&["a:1"]), template_hash(&["a:1"]));
        assert_ne!(template_hash(&["a:1"]), template_hash(&["a:2"]));
        assert_eq!(template_hash(&["a:1"]).len(), 10);
    }
}
