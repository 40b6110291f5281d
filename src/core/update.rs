//! `update(&mut State, Msg) -> Vec<Effect>`: the only place state changes. Data messages
//! re-derive the affected releases (`objects`); `settle` rebuilds the visible order once per
//! batch.

use super::effect::Effect;
use super::facts::WarningEvent;
use super::failures::Observed;
use super::kinds::ReleaseKind;
use super::model::{Connection, Phase, Release};
use super::msg::Msg;
use super::state::{AccessKey, State};
use super::text::Untrusted;
use super::{filter, gates, input, objects, slo_eval};

/// How long a one-line notice stays under the table.
const NOTICE_TTL: jiff::SignedDuration = jiff::SignedDuration::from_secs(15);

pub fn update(state: &mut State, msg: Msg) -> Vec<Effect> {
    match msg {
        Msg::Key(key) => return input::on_key(state, key),
        Msg::ActionDone { id, outcome } => return input::on_action_done(state, id, outcome),
        Msg::Tick(now) => {
            tick(state, now);
            return access_expired(state);
        }
        Msg::Resize { width, height } => {
            state.view.width = width;
            state.view.height = height;
            input::clamp_scroll(state);
            state.dirty = true;
        }
        Msg::Connection {
            cluster,
            connection,
        } => connection_changed(state, &cluster, connection),
        Msg::Heard { cluster, at } => heard(state, &cluster, at),
        Msg::ServerVersion { cluster, version } => {
            if let Some(c) = state.clusters.iter_mut().find(|c| c.name == cluster) {
                c.server_version = Some(version);
                state.dirty = true;
            }
        }
        Msg::KindForbidden {
            cluster,
            kind,
            reason,
        } => forbidden(state, &cluster, kind, reason),
        Msg::Upsert { cluster, facts } => {
            let at = state.now;
            heard(state, &cluster, at);
            let canary = canary_key(&cluster, &facts);
            let before = canary.as_ref().and_then(|k| gates::phase_of(state, k));
            objects::upsert(state, &cluster, facts);
            let mut effects = input::follow_modal(state);
            effects.extend(super::analysis::follow(state));
            if let Some(key) = canary {
                effects.extend(gates::after_update(state, &key, before));
            }
            return effects;
        }
        Msg::Delete {
            cluster,
            kind,
            namespace,
            name,
        } => {
            objects::delete(state, &cluster, kind, &namespace, &name);
            return input::follow_modal(state);
        }
        Msg::Relisted {
            cluster,
            kind,
            objects,
        } => {
            let at = state.now;
            heard(state, &cluster, at);
            allowed_again(state, &cluster, kind.resource());
            objects::relist(state, &cluster, kind, objects);
            return input::follow_modal(state);
        }
        Msg::Warning { cluster, event } => warning(state, &cluster, &event),
        Msg::Slo(report) => slo_eval::apply_report(state, report),
        Msg::SloUnavailable { slo, at, error } => slo_eval::mark_unknown(state, &slo, at, error),
        Msg::Access {
            cluster,
            namespace,
            verb,
            resource,
            allowed,
        } => {
            let key = AccessKey {
                cluster,
                namespace,
                verb,
                resource,
            };
            super::state::make_room_for(&mut state.access, &key);
            super::access::record(state, key, allowed);
        }
        Msg::DryRun {
            uid,
            action,
            resource_version,
            result,
        } => dry_run(state, &uid, action, &resource_version, result),
        Msg::Pods { watch, change } => super::inspect::on_pods(state, watch, change),
        Msg::ObjectEvents { request, result } => {
            super::inspect::on_events(state, request, result);
        }
        Msg::Logs(event) => super::logs::on_event(state, event),
        Msg::GateChecked {
            request,
            state: answer,
        } => gates::on_checked(state, request, answer),
        Msg::FluxSource { query, result } => super::flux_reads::on_answer(state, query, result),
        Msg::Object {
            cluster,
            namespace,
            name,
            result,
        } => super::yaml::on_object(state, &cluster, &namespace, &name, result),
        Msg::Audit(lines) => {
            for line in lines {
                super::audit::insert(&mut state.audit, line);
            }
            state.dirty = true;
        }
        Msg::RelistedIn {
            cluster,
            kind,
            namespace,
            objects,
        } => {
            let at = state.now;
            heard(state, &cluster, at);
            listed_in(state, &cluster, kind.resource(), &namespace);
            objects::relist_in(state, &cluster, kind, &namespace, objects);
            return input::follow_modal(state);
        }
        Msg::ReadIn {
            cluster,
            kind,
            namespace,
        } => {
            let at = state.now;
            heard(state, &cluster, at);
            listed_in(state, &cluster, &kind, &namespace);
        }
        Msg::KindFailing {
            cluster,
            kind,
            status,
            detail,
        } => failing(state, &cluster, kind, status, detail),
        Msg::KindAllowed { cluster, kind } => allowed_again(state, &cluster, &kind),
        // For the pump (`collect`): everything it announces has been applied already.
        Msg::Synced { .. } => {}
    }
    Vec::new()
}

/// The release key of a Canary's facts (None for any other object).
fn canary_key(
    cluster: &str,
    facts: &super::facts::ObjectFacts,
) -> Option<super::model::ReleaseKey> {
    let super::facts::ObjectFacts::Canary(c) = facts else {
        return None;
    };
    Some(super::model::ReleaseKey {
        cluster: cluster.to_string(),
        kind: ReleaseKind::Canary,
        namespace: c.meta.namespace.clone(),
        name: c.meta.name.clone(),
    })
}

/// Expired RBAC answers are dropped; the detail screen in view asks again for what it needs.
fn access_expired(state: &mut State) -> Vec<Effect> {
    if super::access::expire(state) && state.view.screen == super::state::Screen::Detail {
        return input::access_checks(state);
    }
    Vec::new()
}

/// A kind forbidden cluster-wide listed in one namespace (its fallback watch): the kind stays
/// "no access" cluster-wide, and is shown as read in that namespace.
fn listed_in(state: &mut State, cluster: &str, resource: &str, namespace: &str) {
    if let Some(c) = state.clusters.iter_mut().find(|c| c.name == cluster) {
        let fresh = c
            .scoped_kinds
            .entry(resource.to_string())
            .or_default()
            .insert(namespace.to_string());
        let before = c.failing_kinds.len();
        c.failing_kinds.retain(|f| f.kind != resource);
        if fresh || before != c.failing_kinds.len() {
            state.dirty = true;
        }
    }
}

/// A kind keeps failing: shown from its first failure until it lists again.
fn failing(state: &mut State, cluster: &str, kind: String, status: String, detail: Untrusted) {
    let now = state.now;
    if let Some(c) = state.clusters.iter_mut().find(|c| c.name == cluster) {
        match c.failing_kinds.iter_mut().find(|f| f.kind == kind) {
            Some(f) => {
                if f.status != status {
                    f.status = status;
                    state.dirty = true;
                }
                f.detail = detail;
            }
            None => {
                c.failing_kinds.push(super::model::KindFailure {
                    kind,
                    status,
                    detail,
                    since: now,
                });
                state.dirty = true;
            }
        }
    }
}

/// A dry-run answer belongs to the open modal only if it is for the same object, action and
/// plan (the resourceVersion it was made on: the modal re-plans when its object changes).
fn dry_run(
    state: &mut State,
    uid: &str,
    action: super::action::ActionKind,
    resource_version: &str,
    result: Result<String, String>,
) {
    if let Some(m) = state.view.modal.as_mut()
        && m.plan.uid == uid
        && m.plan.kind == action
        && m.plan.seen.resource_version == resource_version
    {
        m.dry_run = Some(result);
        state.dirty = true;
    }
}

fn connection_changed(state: &mut State, cluster: &str, connection: Connection) {
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
}

fn forbidden(state: &mut State, cluster: &str, kind: String, reason: Untrusted) {
    if let Some(c) = state.clusters.iter_mut().find(|c| c.name == cluster)
        && !c.forbidden_kinds.contains(&kind)
    {
        c.forbidden_kinds.push(kind);
        if matches!(c.connection, Connection::Connecting) {
            c.connection = Connection::NoAccess { reason };
        }
        state.dirty = true;
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
    if let Some(c) = state.clusters.iter_mut().find(|c| c.name == cluster) {
        let scoped = c.scoped_kinds.remove(resource).is_some();
        let before = c.failing_kinds.len();
        c.failing_kinds.retain(|f| f.kind != resource);
        if scoped || before != c.failing_kinds.len() {
            state.dirty = true;
        }
    }
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

/// Rebuild the visible order (urgency, then cluster/namespace/name), the chip counts and
/// what the SLO and failures panels show (`core::filter`). Called once per batch of
/// messages, before drawing — never per frame; the filter is parsed only when it changed.
pub fn settle(state: &mut State) {
    if filter::reparse(state) {
        state.view.order_dirty = true;
    }
    if !state.view.order_dirty {
        if state.view.shown.failures_seen != state.failures.generation() {
            filter::rebuild_panels(state);
        }
        return;
    }
    state.view.order_dirty = false;
    let selected = state.view.order.get(state.view.selected).cloned();
    let filter = &state.view.shown.filter;
    let now = state.now;
    let recent = state.settings.recent;
    let history = state.view.history;
    let hidden = &state.view.hidden_clusters;
    let run_by_canary = canary_workloads(state);
    let mut rows: Vec<&Release> = state
        .releases
        .values()
        .filter(|r| !hidden.contains(&r.key.cluster))
        .filter(|r| {
            r.key.kind != ReleaseKind::Deployment
                || !run_by_canary.contains(&(&r.key.cluster, &r.key.namespace, &r.key.name))
        })
        .filter(|r| history || r.is_interesting(now, recent))
        .filter(|r| filter.matches_release(r))
        .collect();
    rows.sort_by(|a, b| by_urgency(a, b));
    let order: Vec<_> = rows.into_iter().map(|r| r.key.clone()).collect();
    let mut by_cluster: std::collections::HashMap<&str, (usize, usize)> =
        std::collections::HashMap::new();
    for r in state.releases.values() {
        if r.key.kind == ReleaseKind::Deployment
            && run_by_canary.contains(&(&r.key.cluster, &r.key.namespace, &r.key.name))
        {
            continue;
        }
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
    // The sort puts every urgent row first, so they are the first `urgent` of `order`.
    state.view.urgent = rows_urgent(state, &order);
    state.view.order = order;
    // Keep the cursor on the same release when rows move.
    if let Some(sel) = selected
        && let Some(i) = state.view.order.iter().position(|k| *k == sel)
    {
        state.view.selected = i;
    }
    input::clamp_scroll(state);
    filter::rebuild_panels(state);
}

/// The Deployments a Flagger canary runs (target and primary), as (cluster, namespace,
/// name): the canary's row stands for them (its detail shows both ReplicaSets), so the table
/// does not list them again. `snapshot` still lists every object.
fn canary_workloads(state: &State) -> std::collections::HashSet<(&String, &String, &String)> {
    state
        .releases
        .values()
        .filter(|r| r.key.kind == ReleaseKind::Canary)
        .flat_map(|r| {
            r.workloads
                .iter()
                .map(move |w| (&r.key.cluster, &r.key.namespace, w))
        })
        .collect()
}

/// How many rows of `order` are urgent (`Release::is_urgent`): they lead the order.
fn rows_urgent(state: &State, order: &[super::model::ReleaseKey]) -> usize {
    order
        .iter()
        .take_while(|k| state.releases.get(k).is_some_and(Release::is_urgent))
        .count()
}

/// The display order: most urgent first (`Release::urgency`: failing, needs a human, other
/// pauses, progressing, done), then cluster/namespace/name. The table (`settle`) and
/// `snapshot` both sort with it.
pub fn by_urgency(a: &Release, b: &Release) -> std::cmp::Ordering {
    a.urgency()
        .cmp(&b.urgency())
        .then_with(|| a.key.cmp(&b.key))
}
