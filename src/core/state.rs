//! The whole console state. The UI renders from `&State` only; `update` is the only writer.
//! Owns the state's shape and read-only questions about it (what is selected, what a tick
//! makes visible, how many table rows fit); must not change state (that is `update`) nor
//! do IO.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use jiff::{SignedDuration, Timestamp};
use tui_input::Input;

use super::action::{ActionKind, ActionPlan};
use super::audit::AuditFile;
use super::effect::GateOverride;
use super::failures::FailureFeed;
use super::model::{Cluster, Release, ReleaseKey, SloStatus};
use super::msg::AuditLine;

/// Settings the core needs, fixed at start.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Global read-only (flag or config): most restrictive wins.
    pub read_only: bool,
    /// Workload label that links a release to an SLO's service.
    pub service_label: String,
    /// Explicit release → service mapping: (cluster or "*", namespace/name) → service.
    pub service_map: BTreeMap<String, String>,
    /// How long a finished release stays in the table.
    pub recent: SignedDuration,
    /// Silence after which a cluster is shown stale.
    pub stale_after: SignedDuration,
    /// Shown in the header: "demo", "files", or nothing for live clusters.
    pub source_label: String,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            read_only: false,
            service_label: "app.kubernetes.io/name".into(),
            service_map: BTreeMap::new(),
            recent: SignedDuration::from_mins(30),
            stale_after: SignedDuration::from_secs(15),
            source_label: String::new(),
        }
    }
}

pub use super::inventory::{Inventory, ObjectKey};

/// Most audit lines held in memory over a session (the oldest go first); the file keeps all.
pub const MAX_AUDIT_LINES: usize = 500;

/// Most RBAC answers held at once: past it, one old answer is forgotten (and asked again
/// when needed) for each new question, so a shift over many objects stays bounded.
pub const MAX_ACCESS_ANSWERS: usize = 4096;

/// Make room for the answer to `key` in an RBAC cache held at [`MAX_ACCESS_ANSWERS`]: the
/// oldest answer goes.
pub fn make_room_for(
    access: &mut HashMap<AccessKey, super::access::AccessAnswer>,
    key: &AccessKey,
) {
    if access.len() >= MAX_ACCESS_ANSWERS && !access.contains_key(key) {
        let old = access
            .iter()
            .min_by_key(|(_, a)| a.seq)
            .map(|(k, _)| k.clone());
        if let Some(old) = old {
            access.remove(&old);
        }
    }
}

/// One RBAC question: may we `verb` `resource` (`plural[/sub]`) in `namespace` of `cluster`?
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct AccessKey {
    pub cluster: String,
    pub namespace: String,
    pub verb: String,
    pub resource: String,
}

impl AccessKey {
    pub fn new(cluster: &str, namespace: &str, verb: &str, resource: &str) -> Self {
        AccessKey {
            cluster: cluster.to_string(),
            namespace: namespace.to_string(),
            verb: verb.to_string(),
            resource: resource.to_string(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Screen {
    Home,
    Detail,
    Audit,
    Help,
    Clusters,
    /// One ReplicaSet's pods (`core::inspect`), opened from the detail screen.
    Pods,
    /// The log viewer (`core::logs`).
    Logs,
    /// The selected release's revisions (`v`).
    Revisions,
    /// The YAML of an object (`o`).
    Yaml,
    /// The selected thing's full message (`m`, `core::message`).
    Message,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Panel {
    Releases,
    Slos,
    Failures,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ModalFocus {
    Cancel,
    Confirm,
    /// "Suspend owner first, then act" (only when the plan offers an owner pre-step).
    OwnerFirst,
}

/// The confirmation modal for one action.
#[derive(Debug)]
pub struct Modal {
    pub plan: ActionPlan,
    pub focus: ModalFocus,
    /// What the user typed (object name on prod, service name to override the gate).
    pub typed: Input,
    /// Text that must be typed before confirming, if any.
    pub must_type: Option<String>,
    /// The error-budget gate this confirmation overrides, if any.
    pub gate: Option<GateOverride>,
    /// The gate could not be evaluated (SLO unknown): said in the modal.
    pub gate_unknown: Option<super::offer::GateUnknown>,
    /// Why confirming is refused right now (shown in the modal).
    pub refusal: Option<String>,
    /// Server-side dry-run result: None while waiting, Ok(summary) or Err(error).
    pub dry_run: Option<Result<String, String>>,
    /// Focus was moved by the user (Tab), not left where it started or put by the modal.
    pub focus_chosen: bool,
    /// What the user saw when the modal opened, and what the modal shows now: the modal
    /// follows its object while open (`core::input::follow_modal`).
    pub opened: super::action::Watched,
    pub watched: super::action::Watched,
    /// Undo to this ReplicaSet (chosen on the revisions screen) instead of the previous one.
    pub undo_to: Option<String>,
    /// Undo: the diff of the pod template between now and the target, with warnings.
    pub undo_preview: Option<super::revisions::UndoPreview>,
    /// What changed since the modal opened ("step 3→5"), shown; empty when nothing did.
    pub changed: Vec<String>,
    /// Why the modal can no longer be confirmed (the object is gone, the action no longer
    /// possible): shown, and confirming is refused.
    pub void: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Level {
    Info,
    Warn,
    Error,
}

/// One-line status message under the table.
#[derive(Debug, Clone)]
pub struct Notice {
    pub text: String,
    pub level: Level,
    pub at: Timestamp,
}

/// An action sent and not yet answered. `State::pending` is the one in-flight register:
/// the core decides from it (one action per release at a time), the executor only carries
/// out, and on exit records what is still here as "outcome unknown".
#[derive(Debug, Clone)]
pub struct Pending {
    pub key: ReleaseKey,
    pub kind: ActionKind,
    pub sent: Timestamp,
    /// What was sent, for the audit record if the console exits before the answer.
    pub plan: ActionPlan,
}

#[derive(Debug)]
pub struct View {
    pub screen: Screen,
    /// Screen to go back to from Help/Audit/Clusters.
    pub previous: Screen,
    pub panel: Panel,
    /// Visible releases in display order (urgency, then cluster/namespace/name), filtered.
    /// Rebuilt by `settle` when `order_dirty`, never per frame.
    pub order: Vec<ReleaseKey>,
    pub order_dirty: bool,
    /// How many rows lead `order` that are urgent (failing or needing a human), rebuilt
    /// with it: the panel title counts those scrolled above the window.
    pub urgent: usize,
    pub selected: usize,
    /// First visible row of the releases table.
    pub offset: usize,
    pub slo_selected: usize,
    pub failure_selected: usize,
    pub audit_offset: usize,
    /// The audit screen shows every session's records, not only this console's.
    pub audit_all: bool,
    pub help_offset: usize,
    pub filter: Input,
    pub filter_editing: bool,
    /// Clusters hidden by the cluster chooser.
    pub hidden_clusters: BTreeSet<String>,
    pub cluster_cursor: usize,
    pub modal: Option<Modal>,
    pub notice: Option<Notice>,
    /// The last copy (`y`/`Y`), for the terminal adapter to write once (OSC 52).
    pub clip: Option<super::copy::Clip>,
    pub width: u16,
    pub height: u16,
    /// Per cluster chip: (in flight, failing), rebuilt with `order`.
    pub counts: HashMap<String, (usize, usize)>,
    /// The parsed filter and the SLOs and failures it and the chooser show, rebuilt by
    /// `settle` (`core::filter`).
    pub shown: super::filter::Shown,
    /// The detail screen's ReplicaSet row under the cursor (Enter opens its pods).
    pub rs_selected: usize,
    /// The pods screen, while open (its watch runs only then).
    pub pods: Option<super::inspect::PodsView>,
    /// The events of the release in the detail screen, listed when it opened.
    pub events: Option<super::inspect::EventsView>,
    /// Last id given to a pods watch or an events request (answers carry it back).
    pub next_request: u64,
    /// The revisions screen's cursor (a row of the release's revisions, newest first).
    pub revisions_selected: usize,
    /// `H`: every release, not only in-flight and recent ones.
    pub history: bool,
    /// The YAML view, when open.
    pub yaml: Option<YamlView>,
    /// The message view (`m`), when open.
    pub message: Option<super::message::MessageView>,
    /// The AnalysisRun last asked for for the detail screen (`core::analysis`).
    pub analysis_seen: Option<super::analysis::Seen>,
    /// The Flux source of the Kustomization / HelmRelease in the detail (`core::flux_reads`).
    pub flux_source: Option<super::kinds::flux_source::FluxSourceView>,
}

/// The YAML view of one object: fetched on open, scrollable, searchable.
#[derive(Debug)]
pub struct YamlView {
    /// What is shown, e.g. `Rollout shop/web on a`.
    pub title: String,
    pub cluster: String,
    pub resource: super::action::Resource,
    pub namespace: String,
    pub name: String,
    /// None while the GET is in flight; the lines (managedFields dropped) or the error.
    pub lines: Option<Result<Vec<super::text::Untrusted>, String>>,
    pub offset: usize,
    pub query: Input,
    pub searching: bool,
}

impl Default for View {
    fn default() -> Self {
        View {
            screen: Screen::Home,
            previous: Screen::Home,
            panel: Panel::Releases,
            order: Vec::new(),
            order_dirty: true,
            urgent: 0,
            selected: 0,
            offset: 0,
            slo_selected: 0,
            failure_selected: 0,
            audit_offset: 0,
            audit_all: false,
            help_offset: 0,
            filter: Input::default(),
            filter_editing: false,
            hidden_clusters: BTreeSet::new(),
            cluster_cursor: 0,
            modal: None,
            notice: None,
            clip: None,
            width: 80,
            height: 24,
            counts: HashMap::new(),
            shown: super::filter::Shown::default(),
            rs_selected: 0,
            pods: None,
            events: None,
            next_request: 0,
            revisions_selected: 0,
            history: false,
            yaml: None,
            message: None,
            analysis_seen: None,
            flux_source: None,
        }
    }
}

#[derive(Debug)]
pub struct State {
    pub now: Timestamp,
    pub settings: Settings,
    pub clusters: Vec<Cluster>,
    pub releases: BTreeMap<ReleaseKey, Release>,
    pub inventory: Inventory,
    pub slos: Vec<SloStatus>,
    pub failures: FailureFeed,
    /// RBAC answers and when they came (`core::access`: they expire).
    pub access: HashMap<AccessKey, super::access::AccessAnswer>,
    /// Audit lines, each action's intent before its result (`core::audit::insert`).
    pub audit: Vec<AuditLine>,
    /// Where this session's audit records go (named on the audit screen).
    pub audit_file: AuditFile,
    pub pending: HashMap<u64, Pending>,
    pub next_action_id: u64,
    pub view: View,
    /// Something visible changed since the last frame.
    pub dirty: bool,
    pub quit: bool,
    /// The open log view, if any (`core::logs`).
    pub logs: Option<super::logs::LogView>,
    /// Last log session number handed out (answers for older sessions are dropped).
    pub log_sessions: u64,
    /// What the loadtesters said about Canaries' confirm gates (`core::gates`).
    pub gate_checks: HashMap<ReleaseKey, super::gates::GateCheck>,
}

impl State {
    /// Rows of the releases table that fit on screen (the detail screen: its scroll page),
    /// from the same layout the UI draws with.
    pub fn page_rows(&self) -> usize {
        let v = &self.view;
        if v.screen == Screen::Detail {
            return usize::from(v.height).saturating_sub(4).max(1);
        }
        super::layout::home_table_rows(v.width, v.height, self.panel_counts()).max(1)
    }

    /// What the home screen's panels could show, for the layout.
    pub fn panel_counts(&self) -> super::layout::PanelCounts {
        super::layout::PanelCounts {
            releases: self.view.order.len(),
            slos: self.view.shown.slos.len(),
            failures: self.view.shown.failures.len(),
            failure_lines: self.failure_lines(),
        }
    }

    /// Lines the failures shown would take with their messages wrapped (`core::layout`);
    /// only as many as could ever be on screen are laid out.
    fn failure_lines(&self) -> usize {
        use super::layout::{FAILURE_MAX_LINES, failure_message_lines, failure_text};
        let (w, h) = (self.view.width, self.view.height);
        let t = failure_text(super::layout::failures_width(w, h));
        let items = self.failures.items();
        let shown = &self.view.shown.failures;
        let within = shown
            .iter()
            .take(usize::from(h))
            .filter_map(|i| items.get(*i));
        let wrapped: usize = within
            .map(|f| {
                failure_message_lines(&f.message.shown(), t, FAILURE_MAX_LINES)
                    .0
                    .len()
            })
            .sum();
        wrapped + shown.len().saturating_sub(usize::from(h))
    }

    pub fn new(
        now: Timestamp,
        settings: Settings,
        clusters: Vec<Cluster>,
        slos: Vec<SloStatus>,
    ) -> Self {
        State {
            now,
            settings,
            clusters,
            releases: BTreeMap::new(),
            inventory: Inventory::default(),
            slos,
            failures: FailureFeed::default(),
            access: HashMap::new(),
            audit: Vec::new(),
            audit_file: AuditFile::default(),
            pending: HashMap::new(),
            next_action_id: 1,
            view: View::default(),
            dirty: true,
            quit: false,
            logs: None,
            log_sessions: 0,
            gate_checks: HashMap::new(),
        }
    }

    pub fn cluster(&self, name: &str) -> Option<&Cluster> {
        self.clusters.iter().find(|c| c.name == name)
    }

    /// The release under the cursor (home) or open in the detail screen.
    pub fn selected_release(&self) -> Option<&Release> {
        self.view
            .order
            .get(self.view.selected)
            .and_then(|k| self.releases.get(k))
    }

    /// The SLO linked to a release, if any.
    pub fn slo_for(&self, release: &Release) -> Option<&SloStatus> {
        let service = release.service.as_deref()?;
        self.slos.iter().find(|s| s.spec.service == service)
    }

    /// Is any cluster currently shown labelled production and selected?
    pub fn selected_is_prod(&self) -> bool {
        self.selected_release()
            .and_then(|r| self.cluster(&r.key.cluster))
            .is_some_and(Cluster::is_prod)
    }

    /// Did any cluster answer (connected, stale, or refusing these credentials)? Until one
    /// does, an empty table means "nothing heard", not "nothing in flight".
    pub fn any_answered(&self) -> bool {
        use super::model::Connection as C;
        self.clusters.iter().any(|c| {
            matches!(
                c.connection,
                C::Connected | C::Stale { .. } | C::NoAccess { .. }
            )
        })
    }

    /// Clusters whose last word is "unreachable".
    pub fn unreachable_count(&self) -> usize {
        use super::model::Connection as C;
        let down = |c: &&Cluster| matches!(c.connection, C::Unreachable { .. });
        self.clusters.iter().filter(down).count()
    }

    /// Every configured cluster is unreachable: the console has nothing to show.
    pub fn nothing_reachable(&self) -> bool {
        !self.clusters.is_empty() && self.unreachable_count() == self.clusters.len()
    }

    /// The SLOs the filter and the cluster chooser show, in panel order.
    pub fn shown_slos(&self) -> impl Iterator<Item = &SloStatus> {
        self.view
            .shown
            .slos
            .iter()
            .filter_map(|i| self.slos.get(*i))
    }

    /// Counts for a cluster chip: (in flight, failing).
    pub fn cluster_counts(&self, cluster: &str) -> (usize, usize) {
        self.view.counts.get(cluster).copied().unwrap_or((0, 0))
    }

    /// Does the passing of time since `before` change what is on screen: the clock's minute,
    /// "stale Ns", the detail screen's ages, or a pause countdown on a visible row?
    pub fn time_is_visible(&self, before: Timestamp) -> bool {
        if before.as_second() / 60 != self.now.as_second() / 60 {
            return true;
        }
        if self
            .clusters
            .iter()
            .any(|c| matches!(c.connection, super::model::Connection::Stale { .. }))
        {
            return true;
        }
        let v = &self.view;
        if matches!(v.screen, Screen::Detail | Screen::Pods) {
            return true;
        }
        if matches!(v.screen, Screen::Logs | Screen::Message) {
            return false;
        }
        let end = (v.offset + self.page_rows()).min(v.order.len());
        v.order[v.offset.min(end)..end].iter().any(|k| {
            self.releases
                .get(k)
                .and_then(|r| r.pause.as_ref())
                .is_some_and(|p| p.duration.is_some())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::msg::Msg;
    use crate::core::testkit::t;
    use crate::core::update;

    fn quiet() -> State {
        let mut s = State::new(t(0), Settings::default(), vec![Cluster::new("a")], vec![]);
        s.dirty = false;
        s
    }

    #[test]
    fn the_rbac_cache_stays_at_its_bound_and_keeps_the_newest_answer() {
        let mut s = quiet();
        let ask = |s: &mut State, ns: String| {
            update(
                s,
                Msg::Access {
                    cluster: "a".into(),
                    namespace: ns,
                    verb: "patch".into(),
                    resource: "rollouts".into(),
                    allowed: true,
                },
            )
        };
        for i in 0..MAX_ACCESS_ANSWERS {
            ask(&mut s, format!("ns{i}"));
        }
        assert_eq!(s.access.len(), MAX_ACCESS_ANSWERS);
        // A known question again: nothing forgotten.
        ask(&mut s, "ns0".into());
        assert_eq!(s.access.len(), MAX_ACCESS_ANSWERS);
        assert!(
            s.access
                .contains_key(&AccessKey::new("a", "ns1", "patch", "rollouts"))
        );
        for i in 0..10 {
            ask(&mut s, format!("new{i}"));
            assert_eq!(s.access.len(), MAX_ACCESS_ANSWERS);
        }
        for i in 0..10 {
            let key = AccessKey::new("a", &format!("new{i}"), "patch", "rollouts");
            assert_eq!(s.access.get(&key).map(|a| a.allowed), Some(true));
        }
    }

    #[test]
    fn a_tick_on_a_quiet_screen_changes_nothing_visible() {
        let mut s = quiet();
        update(&mut s, Msg::Tick(t(2)));
        assert!(!s.dirty, "nothing on screen depends on the second");
        update(&mut s, Msg::Tick(t(60)));
        assert!(s.dirty, "the clock's minute changed");
    }

    #[test]
    fn a_notice_disappears_on_time_on_a_quiet_screen() {
        let mut s = quiet();
        s.view.notice = Some(Notice {
            text: "pause web: applied (200)".into(),
            level: Level::Info,
            at: t(1),
        });
        update(&mut s, Msg::Tick(t(10)));
        assert!(s.view.notice.is_some());
        assert!(!s.dirty);
        update(&mut s, Msg::Tick(t(17)));
        assert!(s.view.notice.is_none(), "expired after 15 s");
        assert!(
            s.dirty,
            "the expiry must be drawn, not wait for the next minute"
        );
    }

    #[test]
    fn the_detail_screen_shows_time() {
        let mut s = quiet();
        s.view.screen = Screen::Detail;
        update(&mut s, Msg::Tick(t(2)));
        assert!(s.dirty);
    }
}
