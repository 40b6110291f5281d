//! What the sources' object messages (upsert, delete, relist) do to the inventory and the
//! releases: keep the object, re-derive the release it belongs to (through the kind
//! catalogue), record failures. Called by `update` only; no IO, no clock.

use std::collections::BTreeSet;

use super::facts::ObjectFacts;
use super::failures::Observed;
use super::inventory::ObjectKey;
use super::kinds::{self, Kind, ReleaseKind, Role, Support};
use super::model::{Phase, Release, ReleaseKey};
use super::state::State;
use super::status::{self, Ctx};

fn release_key(cluster: &str, kind: ReleaseKind, ns: &str, name: &str) -> ReleaseKey {
    ReleaseKey {
        cluster: cluster.to_string(),
        kind,
        namespace: ns.to_string(),
        name: name.to_string(),
    }
}

pub fn upsert(state: &mut State, cluster: &str, facts: ObjectFacts) {
    match facts {
        ObjectFacts::ReplicaSet(rs) => {
            let owner = rs.owner_uid.clone();
            let key = ObjectKey::new(cluster, &rs.meta.namespace, &rs.meta.name);
            if state.inventory.replicaset(&key) == Some(&rs) {
                return;
            }
            state.inventory.put_replicaset(key, rs);
            rederive_owner(state, cluster, &owner);
        }
        ObjectFacts::AnalysisRun(run) => {
            let key = ObjectKey::new(cluster, &run.meta.namespace, &run.meta.name);
            if run.phase.is_bad() {
                let object = format!("analysisrun/{}", run.meta.name);
                let reason = format!("Analysis{}", run.phase.as_str());
                if !state.inventory.analysis_runs.contains_key(&key) {
                    // First read of this run: it replaces what its Rollout's status said
                    // (`put_release`), with the time it failed.
                    state
                        .failures
                        .forget(cluster, &run.meta.namespace, &object, &reason);
                }
                // When it failed (its last measurement), not when we first heard of it.
                let at = run.last_measured.map_or(state.now, |t| t.min(state.now));
                state.failures.record(Observed {
                    cluster,
                    namespace: &run.meta.namespace,
                    object: &object,
                    reason: &format!("Analysis{}", run.phase.as_str()),
                    message: &run.message,
                    count: 1,
                    at,
                });
            }
            state.inventory.analysis_runs.insert(key, run);
            state.dirty = true;
        }
        ObjectFacts::Unparseable(u) => {
            let Some(kind) = Kind::named(&u.kind).and_then(Kind::release) else {
                // Not a release (ReplicaSet, AnalysisRun, ...): say so in the failures feed.
                let object = format!("{}/{}", u.kind.to_lowercase(), u.name);
                let at = state.now;
                state.failures.record(Observed {
                    cluster,
                    namespace: &u.namespace,
                    object: &object,
                    reason: "Unparseable",
                    message: &u.error,
                    count: 1,
                    at,
                });
                state.dirty = true;
                return;
            };
            let ctx = ctx_for(state, cluster, &u.namespace, &u.name);
            let rel = status::unparseable(&ctx, kind, &u, state.now);
            put_release(state, rel);
        }
        // A release object: which one the catalogue says.
        release => {
            let Some(kind) = release.kind().and_then(Kind::release) else {
                return;
            };
            let (ns, name) = release.meta_name();
            let key = release_key(cluster, kind, ns, name);
            if state.inventory.workload(&key) == Some(&release) {
                return;
            }
            state.inventory.put_workload(key.clone(), release);
            derive_workload(state, &key);
        }
    }
}

fn ctx_for<'a>(state: &'a State, cluster: &'a str, ns: &str, name: &str) -> Ctx<'a> {
    let map = &state.settings.service_map;
    let specific = format!("{cluster}:{ns}/{name}");
    let any = format!("*:{ns}/{name}");
    Ctx {
        cluster,
        service_label: &state.settings.service_label,
        service_override: map
            .get(&specific)
            .or_else(|| map.get(&any))
            .map(String::as_str),
    }
}

/// Re-derive one release from the inventory (what it is derived with changed: a gate check).
pub fn rederive(state: &mut State, key: &ReleaseKey) {
    derive_workload(state, key);
}

/// Re-derive one release from the inventory.
fn derive_workload(state: &mut State, key: &ReleaseKey) {
    let Some(facts) = state.inventory.workload(key) else {
        return;
    };
    let deployments: Vec<_> = match facts {
        ObjectFacts::Canary(_) => state
            .inventory
            .deployments_in(&key.cluster, &key.namespace)
            .collect(),
        _ => Vec::new(),
    };
    // Only the ReplicaSets the release can read (its own; a Canary's, its Deployments'),
    // through the owner index: one ReplicaSet change costs its owner's, not its namespace's.
    let owners = match facts {
        ObjectFacts::Canary(_) => deployments.iter().map(|d| d.meta.uid.as_str()).collect(),
        other => other.release_uid().into_iter().collect::<Vec<_>>(),
    };
    let mut rs: Vec<_> = owners
        .into_iter()
        .flat_map(|uid| state.inventory.replicasets_of(&key.cluster, uid))
        .collect();
    // In name order, as a namespace's range gave them.
    rs.sort_by(|a, b| a.meta.name.cmp(&b.meta.name));
    let ctx = ctx_for(state, &key.cluster, &key.namespace, &key.name);
    if let Some(rel) = kinds::derive(&ctx, facts, &deployments, &rs) {
        put_release(state, rel);
    }
    if key.kind == ReleaseKind::Deployment {
        rederive_canaries_over(state, &key.cluster, &key.namespace, &key.name);
    }
}

/// A Flagger Canary shows its target's and primary's ReplicaSets: when one of those
/// Deployments changes (or goes), derive the Canary again.
fn rederive_canaries_over(state: &mut State, cluster: &str, ns: &str, deployment: &str) {
    let canaries: Vec<ReleaseKey> = state
        .inventory
        .canaries_over(cluster, ns, deployment)
        .cloned()
        .collect();
    for canary in canaries {
        derive_workload(state, &canary);
    }
}

fn put_release(state: &mut State, mut rel: Release) {
    let previous = state.releases.get(&rel.key);
    if let Some(p) = previous {
        super::revisions::keep_aborts(p, &mut rel);
    }
    super::gates::apply_check(&state.gate_checks, &mut rel);
    if previous == Some(&rel) {
        return;
    }
    let newly_degraded =
        rel.phase == Phase::Degraded && previous.is_none_or(|p| p.phase != Phase::Degraded);
    let failed_analysis = super::analysis::newly_failed(previous, &rel)
        .filter(|a| {
            // A run already read (fetched, or the demo's) records its own failure.
            let run = ObjectKey::new(&rel.key.cluster, &rel.key.namespace, &a.name);
            !state.inventory.analysis_runs.contains_key(&run)
        })
        .cloned();
    let rel = match previous {
        // Keep when it first changed phase, for "recently done".
        Some(p) if p.phase == rel.phase && rel.since.is_none() => Release {
            since: p.since,
            ..rel
        },
        _ => rel,
    };
    if newly_degraded {
        record_degraded(state, &rel);
    }
    if let Some(a) = failed_analysis {
        // AnalysisRuns are not watched: the Rollout's status says when one failed.
        let object = format!("analysisrun/{}", a.name);
        let reason = format!("Analysis{}", a.phase.as_str());
        let (message, at) = (a.message.clone(), state.now);
        state.failures.record(Observed {
            cluster: &rel.key.cluster,
            namespace: &rel.key.namespace,
            object: &object,
            reason: &reason,
            message: &message,
            count: 1,
            at,
        });
    }
    // Re-sorting a large fleet is the expensive part of a batch: only do it when the row's
    // place or presence can change (new, phase, recency), or a filter may match new text.
    let reorder = match state.releases.get(&rel.key) {
        None => true,
        Some(p) => {
            p.phase != rel.phase
                || p.needs_human != rel.needs_human
                || p.since != rel.since
                || !state.view.filter.value().is_empty()
        }
    };
    state.releases.insert(rel.key.clone(), rel);
    if reorder {
        state.view.order_dirty = true;
    }
    state.dirty = true;
}

fn record_degraded(state: &mut State, rel: &Release) {
    let object = format!("{}/{}", rel.key.kind.short().to_lowercase(), rel.key.name);
    let reason = if rel.facts.aborted {
        "RolloutAborted"
    } else if rel.key.kind == ReleaseKind::Canary {
        "CanaryFailed"
    } else {
        "Degraded"
    };
    // As old as the object says the failure is, not when we first heard of it.
    let at = state
        .inventory
        .workload(&rel.key)
        .and_then(super::failures::failed_since)
        .or(rel.since)
        .map_or(state.now, |t| t.min(state.now));
    state.failures.record(Observed {
        cluster: &rel.key.cluster,
        namespace: &rel.key.namespace,
        object: &object,
        reason,
        message: &rel.message,
        count: 1,
        at,
    });
}

/// A ReplicaSet changed: re-derive its owner, found through the uid index.
fn rederive_owner(state: &mut State, cluster: &str, owner_uid: &str) {
    if let Some(key) = state.inventory.owner(cluster, owner_uid).cloned() {
        derive_workload(state, &key);
    }
}

pub fn delete(state: &mut State, cluster: &str, kind: Kind, ns: &str, name: &str) {
    match kind.role() {
        Role::Supporting(Support::ReplicaSet) => {
            let key = ObjectKey::new(cluster, ns, name);
            if let Some(rs) = state.inventory.remove_replicaset(&key) {
                rederive_owner(state, cluster, &rs.owner_uid);
            }
        }
        Role::Supporting(Support::AnalysisRun) => {
            let key = ObjectKey::new(cluster, ns, name);
            state.inventory.analysis_runs.remove(&key);
        }
        // Events are not kept, Flux sources are read on demand, pods live on their screen
        // only: nothing to delete.
        Role::Supporting(Support::Event | Support::FluxSource) | Role::OnDemand => {}
        Role::Release(rk) => {
            let key = release_key(cluster, rk, ns, name);
            state.inventory.remove_workload(&key);
            if state.releases.remove(&key).is_some() {
                state.view.order_dirty = true;
                state.dirty = true;
            }
            if rk == ReleaseKind::Deployment {
                rederive_canaries_over(state, cluster, ns, name);
            }
        }
    }
}

type Names = BTreeSet<(String, String)>;

/// (namespace, name) of what is kept of `kind` on `cluster` but not in `present`.
fn gone(state: &State, cluster: &str, kind: Kind, present: &Names) -> Vec<(String, String)> {
    let absent = |ns: &String, n: &String| !present.contains(&(ns.clone(), n.clone()));
    let of = |k: &ObjectKey| k.cluster == cluster && absent(&k.namespace, &k.name);
    let pair = |k: &ObjectKey| (k.namespace.clone(), k.name.clone());
    match kind.role() {
        Role::Supporting(Support::ReplicaSet) => state
            .inventory
            .replicaset_keys()
            .filter(|k| of(k))
            .map(pair)
            .collect(),
        Role::Supporting(Support::AnalysisRun) => state
            .inventory
            .analysis_runs
            .keys()
            .filter(|k| of(k))
            .map(pair)
            .collect(),
        Role::Supporting(Support::Event | Support::FluxSource) | Role::OnDemand => Vec::new(),
        Role::Release(rk) => {
            let mine = |k: &ReleaseKey| {
                k.cluster == cluster && k.kind == rk && absent(&k.namespace, &k.name)
            };
            let mut gone: Vec<(String, String)> = state
                .inventory
                .workloads()
                .map(|(k, _)| k)
                .filter(|k| mine(k))
                .map(|k| (k.namespace.clone(), k.name.clone()))
                .collect();
            // Unparseable rows of this kind are replaced too.
            gone.extend(
                state
                    .releases
                    .values()
                    .filter(|r| r.phase == Phase::Unparseable && mine(&r.key))
                    .map(|r| (r.key.namespace.clone(), r.key.name.clone())),
            );
            gone
        }
    }
}

/// Replace everything of `kind` on `cluster` with `objects` (no duplicates, nothing missed).
/// One namespace's full list of `kind`: like [`relist`], for that namespace's objects only.
pub fn relist_in(
    state: &mut State,
    cluster: &str,
    kind: Kind,
    namespace: &str,
    objects: Vec<ObjectFacts>,
) {
    let present: Names = objects
        .iter()
        .map(|o| {
            let (ns, name) = o.meta_name();
            (ns.to_string(), name.to_string())
        })
        .collect();
    for (ns, name) in gone(state, cluster, kind, &present) {
        if ns == namespace {
            delete(state, cluster, kind, &ns, &name);
        }
    }
    for o in objects {
        upsert(state, cluster, o);
    }
}

pub fn relist(state: &mut State, cluster: &str, kind: Kind, objects: Vec<ObjectFacts>) {
    let present: Names = objects
        .iter()
        .map(|o| {
            let (ns, name) = o.meta_name();
            (ns.to_string(), name.to_string())
        })
        .collect();
    for (ns, name) in gone(state, cluster, kind, &present) {
        delete(state, cluster, kind, &ns, &name);
    }
    for o in objects {
        upsert(state, cluster, o);
    }
}
