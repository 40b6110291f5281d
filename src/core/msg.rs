//! Everything that can happen to the console arrives as one `Msg`: keys, time, what sources
//! saw, and what actions did. Sources send values, never share memory with the UI.

use jiff::Timestamp;

use super::facts::{ObjectFacts, WarningEvent};
use super::model::{BurnWindow, Connection};
use super::text::Untrusted;

/// A key press, independent of the terminal library.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Key {
    Char(char),
    Ctrl(char),
    Enter,
    Esc,
    Tab,
    BackTab,
    Up,
    Down,
    Left,
    Right,
    PageUp,
    PageDown,
    Home,
    End,
    Backspace,
    Delete,
}

/// Kinds of watched objects, for deletes and relists: the catalogue's kind.
pub use super::kinds::Kind as ObjectKind;

/// One evaluation of an SLO's error ratios (from Prometheus or the simulator).
#[derive(Debug, Clone, PartialEq)]
pub struct SloReport {
    pub slo: String,
    pub at: Timestamp,
    /// Error ratio per burn window; None where no data came back.
    pub ratios: Vec<(BurnWindow, Option<f64>)>,
    /// Error ratio over the whole SLO window (for budget remaining).
    pub window_ratio: Option<f64>,
}

/// The result of carrying out an action, as the executor saw it.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum Outcome {
    Applied {
        status: u16,
        detail: String,
    },
    /// The object changed since the user saw it (409 or a failed `test` op).
    Conflict {
        status: u16,
        detail: String,
    },
    Forbidden {
        status: u16,
        detail: String,
    },
    Rejected {
        status: u16,
        detail: String,
    },
    /// No answer by the deadline (or the connection dropped): the change may or may not
    /// have happened.
    Unknown {
        detail: String,
    },
}

impl Outcome {
    pub fn is_applied(&self) -> bool {
        matches!(self, Outcome::Applied { .. })
    }

    pub fn summary(&self) -> String {
        match self {
            Self::Applied { status, .. } => format!("applied ({status})"),
            Self::Conflict { status, .. } => format!(
                "conflict ({status}): the object changed since you saw it — the view shows its current state once the watch delivers it; check and ask again"
            ),
            Self::Forbidden { status, detail } => format!("forbidden ({status}): {detail}"),
            Self::Rejected { status, detail } => format!("rejected ({status}): {detail}"),
            Self::Unknown { detail } => format!("outcome unknown — verify ({detail})"),
        }
    }
}

/// Which record of an action an audit line is: the intent, written (and fsynced) before the
/// request is sent, or the result after it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum AuditStage {
    Intent,
    Result,
}

impl AuditStage {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Intent => "intent",
            Self::Result => "result",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "intent" => Some(Self::Intent),
            "result" => Some(Self::Result),
            _ => None,
        }
    }
}

/// One line of the audit log as the audit screen shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct AuditLine {
    pub at: Timestamp,
    pub stage: AuditStage,
    /// The record id, unique across consoles writing one file (`<session>#<n>`); empty for
    /// records written before ids were unique.
    pub id: String,
    /// Written by this console's session (the audit screen shows these by default).
    pub own: bool,
    pub cluster: String,
    pub target: String,
    pub action: String,
    pub outcome: String,
}

// Messages are moved, not copied, through one bounded channel; see ObjectFacts.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq)]
pub enum Msg {
    /// Time moves on (the clock lives outside the core).
    Tick(Timestamp),
    Key(Key),
    Resize {
        width: u16,
        height: u16,
    },
    /// A cluster's connection changed.
    Connection {
        cluster: String,
        connection: Connection,
    },
    /// Something was heard from a cluster (event or bookmark): it is live.
    Heard {
        cluster: String,
        at: Timestamp,
    },
    ServerVersion {
        cluster: String,
        version: String,
    },
    /// A kind cannot be listed on a cluster (403): shown once as "no access".
    KindForbidden {
        cluster: String,
        kind: String,
        reason: Untrusted,
    },
    Upsert {
        cluster: String,
        facts: ObjectFacts,
    },
    Delete {
        cluster: String,
        kind: ObjectKind,
        namespace: String,
        name: String,
    },
    /// A full list of one kind (watch start or relist after 410): replaces what was there.
    Relisted {
        cluster: String,
        kind: ObjectKind,
        objects: Vec<ObjectFacts>,
    },
    Warning {
        cluster: String,
        event: WarningEvent,
    },
    Slo(SloReport),
    /// Prometheus could not answer for this SLO.
    SloUnavailable {
        slo: String,
        at: Timestamp,
        error: Untrusted,
    },
    /// RBAC answer for (cluster, namespace, verb, resource).
    Access {
        cluster: String,
        namespace: String,
        verb: String,
        resource: String,
        allowed: bool,
    },
    /// An action finished (or hit its deadline).
    ActionDone {
        id: u64,
        outcome: Outcome,
    },
    /// Server-side dry-run answer for the open modal's plan (matched by uid, action and
    /// the resourceVersion the plan was made on: an answer for an older plan is dropped).
    DryRun {
        uid: String,
        action: super::action::ActionKind,
        resource_version: String,
        result: Result<String, String>,
    },
    /// Audit lines to show (loaded at start, appended by the executor).
    Audit(Vec<AuditLine>),
    /// What the pods screen's watch saw (`watch` is the id of its `Effect::WatchPods`).
    Pods {
        watch: u64,
        change: super::kinds::pod::PodsChange,
    },
    /// The events listed for `Effect::ListEvents` `request`, or why they could not be.
    ObjectEvents {
        request: u64,
        result: Result<Vec<super::kinds::pod::ObjectEvent>, Untrusted>,
    },
    /// The log viewer's streams report (`core::logs`).
    Logs(super::logs::LogEvent),
    /// The loadtester's answer to `Effect::CheckGate` `request`.
    GateChecked {
        request: u64,
        state: super::facts::GateState,
    },
    /// The Flux source a `FetchFluxSource` asked for, or why it could not be read.
    FluxSource {
        query: super::kinds::flux_source::FluxSourceQuery,
        result: Result<super::kinds::flux_source::FluxSourceFacts, Untrusted>,
    },
    /// The object a `FetchObject` asked for (as JSON), or why it could not be read.
    Object {
        cluster: String,
        namespace: String,
        name: String,
        result: Result<serde_json::Value, String>,
    },
    /// One namespace's full list of a kind this identity may not list cluster-wide (its
    /// per-namespace fallback watch): replaces that namespace's objects of the kind only.
    RelistedIn {
        cluster: String,
        kind: ObjectKind,
        namespace: String,
        objects: Vec<ObjectFacts>,
    },
    /// A kind forbidden cluster-wide and never stored as objects (warning events) listed
    /// in one namespace (its per-namespace fallback watch): shown as read there.
    ReadIn {
        cluster: String,
        kind: String,
        namespace: String,
    },
    /// A kind's list or watch failed for another reason than access or absence (a 500, an
    /// answer that cannot be decoded); shown until the kind lists again.
    KindFailing {
        cluster: String,
        kind: String,
        status: String,
        detail: Untrusted,
    },
    /// The API server now lets this identity list and watch `kind` (its resource name) in
    /// every namespace, after it was forbidden cluster-wide (a grant made mid-session): no
    /// longer "no access" there; its cluster-wide list follows.
    KindAllowed {
        cluster: String,
        kind: String,
    },
    /// Everything of the cluster's first picture is in: every watched kind's first full list
    /// (or why there is none: absent, forbidden, failing) and the probe's first answer came
    /// before this. Sent once; the console shows nothing new, `snapshot` stops waiting.
    Synced {
        cluster: String,
    },
}
