//! Looking into a release: the ReplicaSet cursor of the detail screen, the pods screen (one
//! ReplicaSet's pods, watched only while the screen is open) and the events of the release,
//! its ReplicaSets and their pods (listed when the detail opens). Also Enter on a row of the
//! failures feed, which opens the detail of the release the failing object belongs to.
//! Pure: it asks for pods and events with effects and takes the answers as messages.

use super::effect::Effect;
use super::keys::Command;
use super::kinds::pod::{
    EventObject, EventsQuery, ObjectEvent, PodFacts, PodQuery, PodRef, PodsChange, newest_first,
};
use super::model::{Release, ReleaseKey, RsRole};
use super::state::{Level, Notice, Screen, State};
use super::text::Untrusted;

/// Most events kept for one detail screen.
pub const MAX_EVENTS: usize = 200;

/// The pods screen: one ReplicaSet's pods as its selector-scoped watch reports them.
#[derive(Debug, Clone, PartialEq)]
pub struct PodsView {
    pub query: PodQuery,
    /// The release it was opened from (its detail is where Esc goes).
    pub release: ReleaseKey,
    /// Sorted by name.
    pub pods: Vec<PodFacts>,
    pub selected: usize,
    /// The first list arrived.
    pub listed: bool,
    /// Why the pods cannot be read now (shown; the watch retries).
    pub error: Option<Untrusted>,
    /// The pod the first list puts the cursor on (opened from a failure about it).
    pub focus: Option<String>,
}

impl PodsView {
    pub fn selected_pod(&self) -> Option<&PodFacts> {
        self.pods.get(self.selected)
    }

    /// What `l` (logs) starts from: the selected pod's cluster, namespace, name, containers.
    pub fn selected_ref(&self) -> Option<PodRef> {
        self.selected_pod().map(|p| PodRef {
            cluster: self.query.cluster.clone(),
            namespace: p.namespace.clone(),
            name: p.name.clone(),
            containers: p.containers.iter().map(|c| c.name.clone()).collect(),
        })
    }
}

/// The events of the release in the detail screen.
#[derive(Debug, Clone, PartialEq)]
pub struct EventsView {
    pub request: u64,
    pub release: ReleaseKey,
    /// Newest first.
    pub events: Vec<ObjectEvent>,
    pub listed: bool,
    pub error: Option<Untrusted>,
}

fn next_request(state: &mut State) -> u64 {
    state.view.next_request += 1;
    state.view.next_request
}

/// The ReplicaSet row the detail's cursor starts on: the first that is not stable and not
/// fully ready (the canary in trouble), else the first.
pub fn default_revision(r: &Release) -> usize {
    r.revisions
        .iter()
        .position(|v| v.role != RsRole::Stable && v.ready < v.desired)
        .or_else(|| r.revisions.iter().position(|v| v.role != RsRole::Stable))
        .unwrap_or(0)
}

/// The detail opened (or now shows another release): put the ReplicaSet cursor on its
/// default row and list its events.
pub fn detail_opened(state: &mut State) -> Vec<Effect> {
    let Some(r) = state.selected_release() else {
        state.view.events = None;
        return Vec::new();
    };
    let rs_cursor = default_revision(r);
    let query = events_query(state, r, 0);
    let release = r.key.clone();
    state.view.rs_selected = rs_cursor;
    let request = next_request(state);
    let query = EventsQuery { request, ..query };
    state.view.events = Some(EventsView {
        request,
        release: release.clone(),
        events: Vec::new(),
        listed: false,
        error: None,
    });
    let mut effects = vec![Effect::ListEvents(query)];
    effects.extend(super::gates::check(state, &release));
    effects
}

/// Relist the events of the release in view (the pods screen opened: its pods' newest).
fn relist_events(state: &mut State) -> Vec<Effect> {
    let Some(r) = state.selected_release() else {
        return Vec::new();
    };
    let query = events_query(state, r, 0);
    let request = next_request(state);
    if let Some(ev) = state.view.events.as_mut() {
        ev.request = request;
    }
    vec![Effect::ListEvents(EventsQuery { request, ..query })]
}

fn events_query(state: &State, r: &Release, request: u64) -> EventsQuery {
    let mut objects = vec![EventObject {
        kind: r.key.kind.name().to_string(),
        name: r.key.name.clone(),
        uid: r.uid.clone(),
    }];
    for v in &r.revisions {
        let key = super::state::ObjectKey::new(&r.key.cluster, &r.key.namespace, &v.name);
        if let Some(rs) = state.inventory.replicaset(&key) {
            objects.push(EventObject {
                kind: "ReplicaSet".into(),
                name: v.name.clone(),
                uid: rs.meta.uid.clone(),
            });
        }
    }
    objects.retain(|o| !o.uid.is_empty());
    EventsQuery {
        request,
        cluster: r.key.cluster.clone(),
        namespace: r.key.namespace.clone(),
        objects,
        pods_of: r.revisions.iter().map(|v| v.name.clone()).collect(),
    }
}

/// Move the detail's ReplicaSet cursor (Tab / BackTab), wrapping.
pub fn move_revision(state: &mut State, by: isize) {
    let Some(n) = state.selected_release().map(|r| r.revisions.len()) else {
        return;
    };
    if n == 0 {
        state.view.rs_selected = 0;
        return;
    }
    let cur = state.view.rs_selected.min(n - 1) as isize;
    state.view.rs_selected = (cur + by).rem_euclid(n as isize) as usize;
}

/// Enter on the detail's ReplicaSet row: open its pods and start their watch.
pub fn open_pods(state: &mut State) -> Vec<Effect> {
    let Some(r) = state.selected_release() else {
        return Vec::new();
    };
    let Some(v) = r.revisions.get(
        state
            .view
            .rs_selected
            .min(r.revisions.len().saturating_sub(1)),
    ) else {
        notice(state, "no ReplicaSet to open: this release has none yet");
        return Vec::new();
    };
    let key = super::state::ObjectKey::new(&r.key.cluster, &r.key.namespace, &v.name);
    let Some(rs) = state.inventory.replicaset(&key) else {
        let text = format!(
            "ReplicaSet {} is not known here yet — its pods cannot be selected",
            super::text::escape(&v.name)
        );
        notice(state, &text);
        return Vec::new();
    };
    let release = r.key.clone();
    let mut query = PodQuery {
        watch: 0,
        cluster: r.key.cluster.clone(),
        namespace: r.key.namespace.clone(),
        replicaset: v.name.clone(),
        owner_uid: rs.meta.uid.clone(),
        selector: PodQuery::selector_for(&rs.owner_kind, &rs.pod_template_hash),
    };
    let mut effects = Vec::new();
    if let Some(old) = state.view.pods.take() {
        effects.push(Effect::StopPods {
            watch: old.query.watch,
        });
    }
    query.watch = next_request(state);
    state.view.pods = Some(PodsView {
        query: query.clone(),
        release,
        pods: Vec::new(),
        selected: 0,
        listed: false,
        error: None,
        focus: None,
    });
    state.view.screen = Screen::Pods;
    effects.push(Effect::WatchPods(query));
    effects.extend(relist_events(state));
    effects
}

/// Leave the pods screen: its watch stops.
pub fn close_pods(state: &mut State) -> Vec<Effect> {
    state.view.screen = Screen::Detail;
    match state.view.pods.take() {
        Some(p) => vec![Effect::StopPods {
            watch: p.query.watch,
        }],
        None => Vec::new(),
    }
}

pub fn pods_key(state: &mut State, cmd: Option<Command>) -> Vec<Effect> {
    let len = state.view.pods.as_ref().map_or(0, |p| p.pods.len());
    let Some(p) = state.view.pods.as_mut() else {
        state.view.screen = Screen::Detail;
        return Vec::new();
    };
    let last = len.saturating_sub(1);
    match cmd {
        Some(Command::Back) => return close_pods(state),
        // `l`: the selected pod's log (its first container); Esc there comes back here.
        Some(Command::Logs) => {
            let Some(pod) = p.selected_ref() else {
                state.dirty = false;
                return Vec::new();
            };
            let container = pod.containers.first().map(String::as_str);
            return super::logs::open_pod(
                state,
                &pod.cluster,
                &pod.namespace,
                &pod.name,
                container,
            );
        }
        Some(Command::Message) => return super::message::open(state),
        Some(Command::Down) => p.selected = (p.selected + 1).min(last),
        Some(Command::Up) => p.selected = p.selected.saturating_sub(1),
        Some(Command::First) => p.selected = 0,
        Some(Command::Last) => p.selected = last,
        _ => state.dirty = false,
    }
    Vec::new()
}

/// What the pods watch saw; answers for a screen no longer open are dropped.
pub fn on_pods(state: &mut State, watch: u64, change: PodsChange) {
    let Some(p) = state.view.pods.as_mut().filter(|p| p.query.watch == watch) else {
        return;
    };
    let owner = p.query.owner_uid.clone();
    let ours = |pod: &PodFacts| pod.owner_uid.is_empty() || pod.owner_uid == owner;
    let selected = p.selected_pod().map(|x| x.name.clone());
    match change {
        PodsChange::Listed(pods) => {
            let first = !p.listed;
            p.pods = pods.into_iter().filter(|x| ours(x)).collect();
            p.pods.sort_by(|a, b| a.name.cmp(&b.name));
            p.listed = true;
            p.error = None;
            // The first list puts the cursor on the first failing pod: why it fails.
            if first {
                let focus = p.focus.take();
                p.selected = focus
                    .and_then(|f| p.pods.iter().position(|x| x.name == f))
                    .or_else(|| p.pods.iter().position(PodFacts::failing))
                    .unwrap_or(0);
                state.dirty = true;
                return;
            }
        }
        PodsChange::Upsert(pod) => {
            if ours(&pod) {
                p.pods.retain(|x| x.name != pod.name);
                p.pods.push(pod);
            }
            p.error = None;
        }
        PodsChange::Deleted(name) => p.pods.retain(|x| x.name != name),
        PodsChange::Failed(e) => p.error = Some(e),
    }
    p.pods.sort_by(|a, b| a.name.cmp(&b.name));
    // The cursor stays on the same pod when others come and go.
    p.selected = selected
        .and_then(|n| p.pods.iter().position(|x| x.name == n))
        .unwrap_or(p.selected)
        .min(p.pods.len().saturating_sub(1));
    state.dirty = true;
}

/// The events listed for the detail in view; an answer to an older request is dropped.
pub fn on_events(state: &mut State, request: u64, result: Result<Vec<ObjectEvent>, Untrusted>) {
    let Some(ev) = state.view.events.as_mut().filter(|e| e.request == request) else {
        return;
    };
    match result {
        Ok(events) => {
            let mut events = newest_first(events);
            events.truncate(MAX_EVENTS);
            ev.events = events;
            ev.listed = true;
            ev.error = None;
        }
        Err(e) => ev.error = Some(e),
    }
    state.dirty = true;
}

/// The events of one object (a pod on the pods screen), newest first.
pub fn events_of<'a>(state: &'a State, name: &'a str) -> impl Iterator<Item = &'a ObjectEvent> {
    state
        .view
        .events
        .iter()
        .flat_map(|e| e.events.iter())
        .filter(move |e| e.object_name == name)
}

/// The release a failure's object belongs to: the release itself, the owner of its
/// ReplicaSet or AnalysisRun, or the owner of the ReplicaSet a pod is named after.
pub fn release_of_failure(state: &State, f: &super::model::Failure) -> Option<ReleaseKey> {
    let (kind, name) = f.object.split_once('/')?;
    let here = state
        .releases
        .values()
        .filter(|r| r.key.cluster == f.cluster && r.key.namespace == f.namespace);
    let mut here: Vec<&Release> = here.collect();
    // A Flagger canary shows its Deployments' ReplicaSets: prefer it over them.
    here.sort_by_key(|r| r.key.kind != super::kinds::ReleaseKind::Canary);
    let found = match kind {
        "replicaset" => here
            .iter()
            .find(|r| r.revisions.iter().any(|v| v.name == name)),
        "pod" => here.iter().find(|r| {
            r.revisions.iter().any(|v| {
                name.strip_prefix(v.name.as_str())
                    .is_some_and(|rest| rest.starts_with('-'))
            })
        }),
        "analysisrun" => {
            let owner = state
                .inventory
                .analysis_runs
                .get(&super::state::ObjectKey::new(
                    &f.cluster,
                    &f.namespace,
                    name,
                ))
                .map(|a| a.owner_uid.clone());
            here.iter().find(|r| {
                owner
                    .as_deref()
                    .is_some_and(|o| !o.is_empty() && o == r.uid)
            })
        }
        _ => here
            .iter()
            .find(|r| r.key.kind.name().eq_ignore_ascii_case(kind) && r.key.name == name),
    };
    found
        .or_else(|| here.iter().find(|r| f.object.contains(&r.key.name)))
        .map(|r| r.key.clone())
}

/// After the detail opened from a failure: a failure about a pod goes on to that pod on
/// its ReplicaSet's pods screen (its containers and events), in the same key.
pub fn open_failed_pod(state: &mut State) -> Vec<Effect> {
    let v = &state.view;
    let Some(pod) = v
        .shown
        .failures
        .get(v.failure_selected)
        .and_then(|i| state.failures.items().get(*i))
        .and_then(|f| f.object.strip_prefix("pod/"))
        .map(str::to_string)
    else {
        return Vec::new();
    };
    let Some(i) = state.selected_release().and_then(|r| {
        r.revisions.iter().position(|v| {
            pod.strip_prefix(v.name.as_str())
                .is_some_and(|rest| rest.starts_with('-'))
        })
    }) else {
        return Vec::new();
    };
    state.view.rs_selected = i;
    let effects = open_pods(state);
    if let Some(p) = state.view.pods.as_mut() {
        p.focus = Some(pod);
    }
    effects
}

/// Enter on the failures feed: select the release its object belongs to (true), or say
/// why not (false).
pub fn select_failure(state: &mut State) -> bool {
    let v = &state.view;
    let Some(f) = v
        .shown
        .failures
        .get(v.failure_selected)
        .and_then(|i| state.failures.items().get(*i))
    else {
        return false;
    };
    let Some(key) = release_of_failure(state, f) else {
        let text = format!(
            "{} {}: no release shown here owns it",
            super::text::escape(&f.cluster),
            super::text::escape(&f.object)
        );
        notice(state, &text);
        return false;
    };
    match state.view.order.iter().position(|k| *k == key) {
        Some(i) => {
            state.view.selected = i;
            true
        }
        None => {
            let text = format!(
                "{}/{} is not in the table (filtered out or hidden) — clear the filter to open it",
                super::text::escape(&key.namespace),
                super::text::escape(&key.name)
            );
            notice(state, &text);
            false
        }
    }
}

fn notice(state: &mut State, text: &str) {
    state.view.notice = Some(Notice {
        text: text.to_string(),
        level: Level::Warn,
        at: state.now,
    });
}

#[cfg(test)]
#[path = "inspect_tests.rs"]
mod tests;
