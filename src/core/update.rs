//! `update(&mut State, Msg) -> Vec<Effect>`: the only place state changes. Data messages
//! re-derive the affected releases; `settle` rebuilds the visible order once per batch.

use super::effect::Effect;
use super::facts::{ObjectFacts, WarningEvent};
use super::failures::Observed;
use super::model::{Connection, Phase, Release, ReleaseKind};
use super::msg::{Msg, ObjectKind};
use super::state::State;
use super::status::{self, Ctx};
use super::{input, slo_eval};

/// How long a one-line notice stays under the table.
const NOTICE_TTL: jiff::SignedDuration = jiff::SignedDuration::from_secs(15);

pub fn update(state: &mut State, msg: Msg) -> Vec<Effect> {
    match msg {
        Msg::Tick(now) => {
            tick(state, now);
            Vec::new()
        }
        Msg::Key(key) => input::on_key(state, key),
        Msg::Resize { width, height } => {
            state.view.width = width;
            state.view.height = height;
            input::clamp_scroll(state);
            state.dirty = true;
            Vec::new()
        }
        Msg::Connection {
            cluster,
            connection,
        } => {
            let now = state.now;
            if let Some(c) = state.clusters.iter_mut().find(|c| c.name == cluster) {
                if matches!(connection, Connection::Connected) {
                    c.last_heard = Some(now);
                }
                if c.connection != connection {
                    c.connection = connection;
                    state.dirty = true;
                }
            }
            Vec::new()
        }
        Msg::Heard { cluster, at } => {
            heard(state, &cluster, at);
            Vec::new()
        }
        Msg::ServerVersion { cluster, version } => {
            if let Some(c) = state.clusters.iter_mut().find(|c| c.name == cluster) {
                c.server_version = Some(version);
                state.dirty = true;
            }
            Vec::new()
        }
        Msg::KindForbidden {
            cluster,
            kind,
            reason,
        } => {
            if let Some(c) = state.clusters.iter_mut().find(|c| c.name == cluster)
                && !c.forbidden_kinds.contains(&kind)
            {
                c.forbidden_kinds.push(kind);
                if matches!(c.connection, Connection::Connecting) {
                    c.connection = Connection::NoAccess { reason };
                }
                state.dirty = true;
            }
            Vec::new()
        }
        Msg::Upsert { cluster, facts } => {
            let at = state.now;
            heard(state, &cluster, at);
            upsert(state, &cluster, facts);
            Vec::new()
        }
        Msg::Delete {
            cluster,
            kind,
            namespace,
            name,
        } => {
            delete(state, &cluster, kind, &namespace, &name);
            Vec::new()
        }
        Msg::Relisted {
            cluster,
            kind,
            objects,
        } => {
            let at = state.now;
            heard(state, &cluster, at);
            allowed_again(state, &cluster, kind.resource());
            relist(state, &cluster, kind, objects);
            Vec::new()
        }
        Msg::Warning { cluster, event } => {
            warning(state, &cluster, &event);
            Vec::new()
        }
        Msg::Slo(report) => {
            slo_eval::apply_report(state, report);
            Vec::new()
        }
        Msg::SloUnavailable { slo, at, error } => {
            slo_eval::mark_unknown(state, &slo, at, error);
            Vec::new()
        }
        Msg::Access {
            cluster,
            namespace,
            verb,
            resource,
            allowed,
        } => {
            state
                .access
                .insert((cluster, namespace, verb, resource), allowed);
            state.dirty = true;
            Vec::new()
        }
        Msg::ActionDone { id, outcome } => input::on_action_done(state, id, outcome),
        Msg::DryRun {
            uid,
            action,
            result,
        } => {
            if let Some(m) = state.view.modal.as_mut()
                && m.plan.uid == uid
                && m.plan.kind == action
            {
                m.dry_run = Some(result);
                state.dirty = true;
            }
            Vec::new()
        }
        Msg::Audit(mut lines) => {
            state.audit.append(&mut lines);
            state.dirty = true;
            Vec::new()
        }
    }
}

fn tick(state: &mut State, now: jiff::Timestamp) {
    let before = state.now;
    let before_second = before.as_second();
    state.now = now;
    let stale_after = state.settings.stale_after;
    for c in &mut state.clusters {
        if let (Connection::Connected, Some(last)) = (&c.connection, c.last_heard)
            && c.live
            && now.duration_since(last) > stale_after
        {
            c.connection = Connection::Stale { since: last };
            state.dirty = true;
        }
    }
    // Redraw at most once per second, and only when the time shown changed.
    if now.as_second() != before_second && state.time_is_visible(before) {
        state.dirty = true;
    }
    // Notices fade after a while (so an idle screen stays idle).
    if state
        .view
        .notice
        .as_ref()
        .is_some_and(|n| now.duration_since(n.at) > NOTICE_TTL)
    {
        state.view.notice = None;
        state.dirty = true;
    }
    // Finished releases age out of the table; checking every 10 s is plenty and keeps an idle
    // console from re-sorting a large fleet twice a second.
    if now.as_second() / 10 != before_second / 10 {
        state.view.order_dirty = true;
    }
}

fn heard(state: &mut State, cluster: &str, at: jiff::Timestamp) {
    if let Some(c) = state.clusters.iter_mut().find(|c| c.name == cluster) {
        c.last_heard = Some(at);
        if matches!(
            c.connection,
            Connection::Stale { .. } | Connection::Connecting
        ) {
            c.connection = Connection::Connected;
            state.dirty = true;
        }
    }
}

/// A kind that was forbidden could be listed after all (a 403 during an API server restart,
/// or RBAC fixed): stop showing "no access" for it.
fn allowed_again(state: &mut State, cluster: &str, resource: &str) {
    if let Some(c) = state.clusters.iter_mut().find(|c| c.name == cluster)
        && let Some(i) = c.forbidden_kinds.iter().position(|k| k == resource)
    {
        c.forbidden_kinds.remove(i);
        if c.forbidden_kinds.is_empty() && matches!(c.connection, Connection::NoAccess { .. }) {
            c.connection = Connection::Connected;
        }
        state.dirty = true;
    }
}

fn workload_key(
    cluster: &str,
    kind: ObjectKind,
    ns: &str,
    name: &str,
) -> (String, ObjectKind, String, String) {
    (cluster.to_string(), kind, ns.to_string(), name.to_string())
}

fn release_kind(kind: ObjectKind) -> Option<ReleaseKind> {
    match kind {
        ObjectKind::Deployment => Some(ReleaseKind::Deployment),
        ObjectKind::Rollout => Some(ReleaseKind::Rollout),
        ObjectKind::Canary => Some(ReleaseKind::Canary),
        ObjectKind::ReplicaSet | ObjectKind::AnalysisRun => None,
    }
}

fn upsert(state: &mut State, cluster: &str, facts: ObjectFacts) {
    match facts {
        ObjectFacts::ReplicaSet(rs) => {
            let owner = rs.owner_uid.clone();
            let key = (
                cluster.to_string(),
                rs.meta.namespace.clone(),
                rs.meta.name.clone(),
            );
            if state.inventory.replicasets.get(&key) == Some(&rs) {
                return;
            }
            state.inventory.replicasets.insert(key, rs);
            rederive_owner(state, cluster, &owner);
        }
        ObjectFacts::AnalysisRun(run) => {
            let key = (
                cluster.to_string(),
                run.meta.namespace.clone(),
                run.meta.name.clone(),
            );
            if matches!(run.phase.as_str(), "Failed" | "Error") {
                let object = format!("analysisrun/{}", run.meta.name);
                let at = state.now;
                state.failures.record(Observed {
                    cluster,
                    namespace: &run.meta.namespace,
                    object: &object,
                    reason: &format!("Analysis{}", run.phase),
                    message: &run.message,
                    count: 1,
                    at,
                });
            }
            state.inventory.analysis_runs.insert(key, run);
            state.dirty = true;
        }
        ObjectFacts::Unparseable(u) => {
            let kind = match u.kind.as_str() {
                "Deployment" => ReleaseKind::Deployment,
                "Rollout" => ReleaseKind::Rollout,
                "Canary" => ReleaseKind::Canary,
                // Not a release (ReplicaSet, AnalysisRun, ...): say so in the failures feed.
                other => {
                    let object = format!("{}/{}", other.to_lowercase(), u.name);
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
                }
            };
            let ctx = ctx_for(state, cluster, &u.namespace, &u.name);
            let rel = status::unparseable(&ctx, kind, &u, state.now);
            put_release(state, rel);
        }
        workload => {
            let Some(kind) = ObjectKind::of(&workload) else {
                return;
            };
            let (ns, name) = workload.meta_name();
            let key = workload_key(cluster, kind, ns, name);
            if state.inventory.workloads.get(&key) == Some(&workload) {
                return;
            }
            state.inventory.workloads.insert(key.clone(), workload);
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

/// Re-derive one workload's release from the inventory.
fn derive_workload(state: &mut State, key: &(String, ObjectKind, String, String)) {
    let Some(facts) = state.inventory.workloads.get(key) else {
        return;
    };
    let cluster = key.0.as_str();
    let ns = key.2.as_str();
    let rs: Vec<_> = state
        .inventory
        .replicasets
        .range((cluster.to_string(), ns.to_string(), String::new())..)
        .take_while(|((c, n, _), _)| c == cluster && n == ns)
        .map(|(_, v)| v)
        .collect();
    let ctx = ctx_for(state, cluster, ns, &key.3);
    let rel = match facts {
        ObjectFacts::Deployment(d) => status::deployment(&ctx, d, &rs),
        ObjectFacts::Rollout(r) => status::rollout(&ctx, r, &rs),
        ObjectFacts::Canary(c) => status::canary(&ctx, c),
        _ => return,
    };
    put_release(state, rel);
}

fn put_release(state: &mut State, rel: Release) {
    let previous = state.releases.get(&rel.key);
    if previous == Some(&rel) {
        return;
    }
    let newly_degraded =
        rel.phase == Phase::Degraded && previous.is_none_or(|p| p.phase != Phase::Degraded);
    let rel = match previous {
        // Keep when it first changed phase, for "recently done".
        Some(p) if p.phase == rel.phase && rel.since.is_none() => Release {
            since: p.since,
            ..rel
        },
        _ => rel,
    };
    if newly_degraded {
        let object = format!("{}/{}", rel.key.kind.short().to_lowercase(), rel.key.name);
        let reason = if rel.facts.aborted {
            "RolloutAborted"
        } else if rel.key.kind == ReleaseKind::Canary {
            "CanaryFailed"
        } else {
            "Degraded"
        };
        let at = state.now;
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
    // Re-sorting a large fleet is the expensive part of a batch: only do it when the row's
    // place or presence can change (new, phase, recency), or a filter may match new text.
    let reorder = match state.releases.get(&rel.key) {
        None => true,
        Some(p) => {
            p.phase != rel.phase || p.since != rel.since || !state.view.filter.value().is_empty()
        }
    };
    state.releases.insert(rel.key.clone(), rel);
    if reorder {
        state.view.order_dirty = true;
    }
    state.dirty = true;
}

fn rederive_owner(state: &mut State, cluster: &str, owner_uid: &str) {
    let key = state
        .inventory
        .workloads
        .iter()
        .find(|((c, _, _, _), f)| c == cluster && uid_of(f) == Some(owner_uid))
        .map(|(k, _)| k.clone());
    if let Some(key) = key {
        derive_workload(state, &key);
    }
}

fn uid_of(f: &ObjectFacts) -> Option<&str> {
    match f {
        ObjectFacts::Deployment(d) => Some(&d.meta.uid),
        ObjectFacts::Rollout(r) => Some(&r.meta.uid),
        ObjectFacts::Canary(c) => Some(&c.meta.uid),
        _ => None,
    }
}

fn delete(state: &mut State, cluster: &str, kind: ObjectKind, ns: &str, name: &str) {
    match kind {
        ObjectKind::ReplicaSet => {
            let key = (cluster.to_string(), ns.to_string(), name.to_string());
            if let Some(rs) = state.inventory.replicasets.remove(&key) {
                rederive_owner(state, cluster, &rs.owner_uid);
            }
        }
        ObjectKind::AnalysisRun => {
            let key = (cluster.to_string(), ns.to_string(), name.to_string());
            state.inventory.analysis_runs.remove(&key);
        }
        _ => {
            state
                .inventory
                .workloads
                .remove(&workload_key(cluster, kind, ns, name));
            if let Some(rk) = release_kind(kind) {
                let key = super::model::ReleaseKey {
                    cluster: cluster.to_string(),
                    kind: rk,
                    namespace: ns.to_string(),
                    name: name.to_string(),
                };
                if state.releases.remove(&key).is_some() {
                    state.view.order_dirty = true;
                    state.dirty = true;
                }
            }
        }
    }
}

/// Replace everything of `kind` on `cluster` with `objects` (no duplicates, nothing missed).
fn relist(state: &mut State, cluster: &str, kind: ObjectKind, objects: Vec<ObjectFacts>) {
    let present: std::collections::BTreeSet<(String, String)> = objects
        .iter()
        .map(|o| {
            let (ns, name) = o.meta_name();
            (ns.to_string(), name.to_string())
        })
        .collect();
    let gone: Vec<(String, String)> = match kind {
        ObjectKind::ReplicaSet => state
            .inventory
            .replicasets
            .keys()
            .filter(|(c, ns, n)| c == cluster && !present.contains(&(ns.clone(), n.clone())))
            .map(|(_, ns, n)| (ns.clone(), n.clone()))
            .collect(),
        ObjectKind::AnalysisRun => state
            .inventory
            .analysis_runs
            .keys()
            .filter(|(c, ns, n)| c == cluster && !present.contains(&(ns.clone(), n.clone())))
            .map(|(_, ns, n)| (ns.clone(), n.clone()))
            .collect(),
        _ => {
            let rk = release_kind(kind);
            let mut gone: Vec<(String, String)> = state
                .inventory
                .workloads
                .keys()
                .filter(|(c, k, ns, n)| {
                    c == cluster && *k == kind && !present.contains(&(ns.clone(), n.clone()))
                })
                .map(|(_, _, ns, n)| (ns.clone(), n.clone()))
                .collect();
            // Unparseable rows of this kind are replaced too.
            gone.extend(
                state
                    .releases
                    .values()
                    .filter(|r| {
                        r.key.cluster == cluster
                            && Some(r.key.kind) == rk
                            && r.phase == Phase::Unparseable
                            && !present.contains(&(r.key.namespace.clone(), r.key.name.clone()))
                    })
                    .map(|r| (r.key.namespace.clone(), r.key.name.clone())),
            );
            gone
        }
    };
    for (ns, name) in gone {
        delete(state, cluster, kind, &ns, &name);
    }
    for o in objects {
        upsert(state, cluster, o);
    }
}

fn warning(state: &mut State, cluster: &str, e: &WarningEvent) {
    let object = format!("{}/{}", e.object_kind.to_lowercase(), e.object_name);
    let at = e.last_seen.unwrap_or(state.now);
    state.failures.record(Observed {
        cluster,
        namespace: &e.namespace,
        object: &object,
        reason: &e.reason,
        message: &e.message,
        count: e.count,
        at,
    });
    state.dirty = true;
}

/// Rebuild the visible order (urgency, then cluster/namespace/name) and the chip counts.
/// Called once per batch of messages, before drawing — never per frame.
pub fn settle(state: &mut State) {
    if !state.view.order_dirty {
        return;
    }
    state.view.order_dirty = false;
    let selected = state.view.order.get(state.view.selected).cloned();
    let filter = state.view.filter.value().to_lowercase();
    let now = state.now;
    let recent = state.settings.recent;
    let hidden = &state.view.hidden_clusters;
    let mut rows: Vec<&Release> = state
        .releases
        .values()
        .filter(|r| !hidden.contains(&r.key.cluster))
        .filter(|r| r.is_interesting(now, recent))
        .filter(|r| filter.is_empty() || matches_filter(r, &filter))
        .collect();
    rows.sort_by(|a, b| by_urgency(a, b));
    let order: Vec<_> = rows.into_iter().map(|r| r.key.clone()).collect();
    let mut by_cluster: std::collections::HashMap<&str, (usize, usize)> =
        std::collections::HashMap::new();
    for r in state.releases.values() {
        let e = by_cluster.entry(r.key.cluster.as_str()).or_default();
        match r.phase {
            Phase::Degraded | Phase::Unparseable => e.1 += 1,
            Phase::Healthy => {}
            _ => e.0 += 1,
        }
    }
    let counts: std::collections::HashMap<String, (usize, usize)> = by_cluster
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect();
    if counts != state.view.counts || order != state.view.order {
        state.dirty = true;
    }
    state.view.counts = counts;
    state.view.order = order;
    // Keep the cursor on the same release when rows move.
    if let Some(sel) = selected
        && let Some(i) = state.view.order.iter().position(|k| *k == sel)
    {
        state.view.selected = i;
    }
    input::clamp_scroll(state);
}

/// The display order: most urgent first, then cluster/namespace/name. The table (`settle`)
/// and `snapshot` both sort with it.
pub fn by_urgency(a: &Release, b: &Release) -> std::cmp::Ordering {
    a.phase
        .urgency()
        .cmp(&b.phase.urgency())
        .then_with(|| a.key.cmp(&b.key))
}

/// Filter text matches cluster, namespace, name or status.
pub fn matches_filter(r: &Release, needle_lower: &str) -> bool {
    let hay = [
        r.key.cluster.as_str(),
        r.key.namespace.as_str(),
        r.key.name.as_str(),
        r.phase.as_str(),
        r.key.kind.short(),
    ];
    hay.iter().any(|h| h.to_lowercase().contains(needle_lower))
        || format!("{}/{}", r.key.namespace, r.key.name).contains(needle_lower)
        || r.message.raw().to_lowercase().contains(needle_lower)
}
