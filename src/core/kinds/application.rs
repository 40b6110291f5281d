//! argoproj.io/v1alpha1 Application (Argo CD) as a release: its facts (sync status, health,
//! the operation and its phase, the automated / self-heal / prune flags, target and synced
//! revision, history), status, which actions apply and the exact requests, written the way
//! Argo CD's API server writes them (server/application/application.go, util/argo/argo.go):
//!
//! - sync (`s`): `operation.sync` with the revision and `initiatedBy.username`, and
//!   `status.operationState` cleared; refused while another operation runs.
//! - hard refresh (`f`): the `argocd.argoproj.io/refresh: hard` annotation (and its timestamp).
//! - terminate (`t`): `status.operationState.phase: Terminating` on the running operation.
//! - rollback (`u`): a sync operation to a history entry's revision and source with the
//!   apply strategy; Argo CD refuses it while automated sync is on, so the plan then turns
//!   automated sync off first (the two-step, confirmed once, each write resourceVersion
//!   guarded) and records what it was, so `resume` can turn it back on afterwards.
//!
//! Argo CD writes these with an Update of the whole object; shipdeck writes the same fields
//! with a merge patch that carries the resourceVersion it saw, so a change in between is a
//! 409, never a blind write. Pure; no IO.

use jiff::Timestamp;
use serde_json::{Value, json};

use super::request::{merge, resource};
use super::{Kind, Need, ReleaseKind};
use crate::core::action::{ActionKind, ApiCall, Disabled, Resource};
use crate::core::facts::ObjectMeta;
use crate::core::model::{Phase, Release, Strategy};
use crate::core::status::{Ctx, base};
use crate::core::text::Untrusted;

pub const APPLICATIONS: Resource = resource(Kind::Application, None);

/// The refresh annotation Argo CD's controller reads (and removes once refreshed).
pub const REFRESH: &str = "argocd.argoproj.io/refresh";
pub const REFRESH_TIMESTAMP: &str = "argocd.argoproj.io/refresh-timestamp";
/// Where the rollback two-step keeps the automated policy it turned off (JSON), so that it
/// can be turned back on as it was.
pub const AUTOMATED_BEFORE: &str = "shipdeck.dev/automated-before-rollback";
/// `initiatedBy.username` in a planned write: the executor fills in the identity the API
/// server authenticates shipdeck as (a SelfSubjectReview) just before sending, and refuses
/// to send when it cannot tell.
pub const SENDER: &str = "<shipdeck identity, asked at send time>";

/// One `status.history` entry.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct HistoryEntry {
    pub id: i64,
    pub revision: String,
    pub deployed_at: Option<Timestamp>,
    /// `deployStartedAt`: when the sync began (the ReplicaSets it made are newer than this,
    /// older than `deployed_at`, which is set when it completes).
    pub deploy_started_at: Option<Timestamp>,
    pub initiated_by: Untrusted,
    /// The entry's `source`, written back as it is by a rollback.
    pub source: Value,
}

/// A resource the app manages (`status.resources`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct AppResource {
    pub group: String,
    pub kind: String,
    pub namespace: String,
    pub name: String,
}

/// argoproj.io/v1alpha1 Application.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ApplicationFacts {
    pub meta: ObjectMeta,
    pub repo_url: Untrusted,
    pub path: Untrusted,
    pub target_revision: String,
    /// `spec.source` as it is (a sync writes it into the operation, as Argo CD does).
    pub source: Value,
    pub dest_namespace: String,
    /// `spec.syncPolicy.automated` as written (None: no automated sync).
    pub automated: Option<Value>,
    pub self_heal: bool,
    pub prune: bool,
    /// `status.sync.status`: Synced, OutOfSync, Unknown.
    pub sync_status: String,
    /// `status.sync.revision`: the revision the controller compared with (resolved).
    pub sync_revision: String,
    /// `status.health.status`: Healthy, Progressing, Degraded, Suspended, Missing, Unknown.
    pub health: String,
    /// `operation` is set: an operation was requested and not yet finished.
    pub operation_requested: bool,
    /// `status.operationState.phase`: Running, Terminating, Failed, Error, Succeeded.
    pub op_phase: String,
    pub op_message: Untrusted,
    pub op_started: Option<Timestamp>,
    pub op_finished: Option<Timestamp>,
    /// `status.operationState.syncResult.revision`.
    pub synced_revision: String,
    pub history: Vec<HistoryEntry>,
    pub resources: Vec<AppResource>,
    /// What the rollback two-step turned off (the `AUTOMATED_BEFORE` annotation).
    pub automated_before: Option<Value>,
    pub reconciled_at: Option<Timestamp>,
}

impl ApplicationFacts {
    /// Automated sync is on (`automated` present and `enabled` not false), as Argo CD's
    /// `IsAutomatedSyncEnabled` decides.
    pub fn automated_on(&self) -> bool {
        self.automated.as_ref().is_some_and(|a| {
            a.get("enabled")
                .and_then(Value::as_bool)
                .is_none_or(|enabled| enabled)
        })
    }

    /// An operation runs (or was requested and has not started).
    pub fn operation_running(&self) -> bool {
        self.operation_requested || matches!(self.op_phase.as_str(), "Running" | "Terminating")
    }

    /// "OutOfSync / Suspended", as `argocd app list` shows sync and health.
    pub fn state(&self) -> String {
        let or_unknown = |s: &str| {
            if s.is_empty() {
                "Unknown".to_string()
            } else {
                s.to_string()
            }
        };
        format!(
            "{} / {}",
            or_unknown(&self.sync_status),
            or_unknown(&self.health)
        )
    }

    /// Does this app manage the object (`status.resources`)?
    pub fn manages(&self, group: &str, kind: &str, namespace: &str, name: &str) -> bool {
        self.resources.iter().any(|r| {
            r.group == group && r.kind == kind && r.namespace == namespace && r.name == name
        })
    }

    /// The history entry a rollback goes back to: the newest entry before the current one.
    pub fn rollback_target(&self) -> Option<&HistoryEntry> {
        let mut ids: Vec<&HistoryEntry> = self.history.iter().collect();
        ids.sort_by_key(|h| std::cmp::Reverse(h.id));
        ids.get(1).copied()
    }
}

/// The app's facts the rules and requests read, kept on the release.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct AppActionFacts {
    pub automated_on: bool,
    pub automated: Option<Value>,
    pub automated_before: Option<Value>,
    pub operation_running: bool,
    pub op_phase: String,
    pub sync_revision: String,
    pub target_revision: String,
    pub source: Value,
    pub history: Vec<HistoryEntry>,
    /// The history id `u` rolls back to (the entry before the newest, unless chosen).
    pub rollback_to: Option<i64>,
    pub state: String,
    pub self_heal: bool,
    pub prune: bool,
    pub synced_revision: String,
    pub op_message: Untrusted,
    pub resources: Vec<AppResource>,
}

pub const NEEDS: &[Need] = &[Need {
    verb: "patch",
    resource: "applications",
    group: APPLICATIONS.group,
    who: "Argo CD Application",
    actions: &[
        ActionKind::Sync,
        ActionKind::Refresh,
        ActionKind::Terminate,
        ActionKind::Undo,
        ActionKind::Resume,
    ],
    how: "",
    with_webhook: false,
}];

pub const SUPPORTS: &[ActionKind] = &[
    ActionKind::Sync,
    ActionKind::Refresh,
    ActionKind::Terminate,
    ActionKind::Undo,
    ActionKind::Resume,
];

pub const NOT_AVAILABLE: &str = "not available for Argo CD applications";

/// The console's phase: a failing app or sync is Degraded, a running operation or an app
/// the controller is about to sync is Progressing, Suspended health is Paused.
pub fn phase(a: &ApplicationFacts) -> Phase {
    match (a.health.as_str(), a.op_phase.as_str()) {
        ("Degraded" | "Missing", _) | (_, "Failed" | "Error") if !a.operation_running() => {
            Phase::Degraded
        }
        _ if a.operation_running() => Phase::Progressing,
        ("Degraded" | "Missing", _) => Phase::Degraded,
        ("Suspended", _) => Phase::Paused,
        ("Progressing", _) => Phase::Progressing,
        _ if a.sync_status == "OutOfSync" && a.automated_on() => Phase::Progressing,
        _ if a.sync_status == "OutOfSync" => Phase::Paused,
        _ => Phase::Healthy,
    }
}

pub fn derive(ctx: &Ctx<'_>, a: &ApplicationFacts) -> Release {
    let mut rel = base(ctx, ReleaseKind::Application, &a.meta, Strategy::GitOps);
    rel.gitops = None;
    rel.phase = phase(a);
    let mut message = a.state();
    if !a.op_phase.is_empty() {
        message.push_str(&format!("; operation {}", a.op_phase));
        if !a.op_message.is_empty() {
            message.push_str(": ");
            message.push_str(a.op_message.raw());
        }
    }
    rel.message = Untrusted::new(message);
    rel.since = a.op_finished.or(a.op_started).or(a.meta.created);
    rel.workloads = a
        .resources
        .iter()
        .filter(|r| matches!(r.kind.as_str(), "Deployment" | "Rollout" | "Canary"))
        .map(|r| r.name.clone())
        .collect();
    let newest = a.history.iter().map(|h| h.id).max();
    rel.facts.current_revision = newest;
    // Automated sync turned off by a rollback is this app's "manual pause": space resumes it.
    rel.facts.spec_paused = a.automated_before.is_some() && !a.automated_on();
    rel.facts.argocd = Some(Box::new(AppActionFacts {
        automated_on: a.automated_on(),
        automated: a.automated.clone(),
        automated_before: a.automated_before.clone(),
        operation_running: a.operation_running(),
        op_phase: a.op_phase.clone(),
        sync_revision: a.sync_revision.clone(),
        target_revision: a.target_revision.clone(),
        source: a.source.clone(),
        history: a.history.clone(),
        rollback_to: a.rollback_target().map(|h| h.id),
        state: a.state(),
        self_heal: a.self_heal,
        prune: a.prune,
        synced_revision: a.synced_revision.clone(),
        op_message: a.op_message.clone(),
        resources: a.resources.clone(),
    }));
    rel.facts.undo_target = a
        .rollback_target()
        .map(|h| (short_revision(&h.revision).to_string(), h.id));
    rel
}

/// The history, newest first (the order of the revisions screen's rows).
pub fn history_newest_first(f: &AppActionFacts) -> Vec<&HistoryEntry> {
    let mut h: Vec<&HistoryEntry> = f.history.iter().collect();
    h.sort_by_key(|e| std::cmp::Reverse(e.id));
    h
}

/// The app as a rollback to history entry `id` sees it (chosen on the revisions screen):
/// `u` then writes that entry's revision and source. None when the entry is gone.
pub fn chosen(r: &Release, id: i64) -> Option<Release> {
    let f = r.facts.argocd.as_deref()?;
    let entry = f.history.iter().find(|h| h.id == id)?;
    let mut chosen = r.clone();
    chosen.facts.undo_target = Some((short_revision(&entry.revision).to_string(), id));
    if let Some(f) = chosen.facts.argocd.as_deref_mut() {
        f.rollback_to = Some(id);
    }
    Some(chosen)
}

/// What a history entry deploys, as lines the rollback diff compares: the revision and the
/// entry's source (repository, path, chart, target).
pub fn entry_lines(h: &HistoryEntry) -> Vec<Untrusted> {
    let mut out = vec![format!("revision {}", h.revision)];
    for (key, label) in [
        ("repoURL", "repo"),
        ("path", "path"),
        ("chart", "chart"),
        ("targetRevision", "target"),
    ] {
        if let Some(v) = h.source.get(key).and_then(Value::as_str) {
            out.push(format!("{label} {v}"));
        }
    }
    out.into_iter().map(Untrusted::new).collect()
}

/// The rollback modal's diff: the newest entry (deployed now) → entry `to`. The newest
/// entry itself has no preview (a rollback to it changes nothing).
pub fn preview(r: &Release) -> Option<crate::core::revisions::UndoPreview> {
    let f = r.facts.argocd.as_deref()?;
    let to = f.rollback_to?;
    let history = history_newest_first(f);
    let target = history.iter().find(|h| h.id == to)?;
    let now = history.first()?;
    let (a, b) = (entry_lines(now), entry_lines(target));
    let mut warnings = Vec::new();
    if now.revision == target.revision {
        warnings.push(format!(
            "history {to} is the revision deployed now ({}): only the source differs, if anything",
            short_revision(&target.revision)
        ));
    }
    Some(crate::core::revisions::UndoPreview {
        from: Some(now.id),
        to,
        lines: crate::core::revisions::diff(&a, &b, 2),
        warnings,
        same_summary: a == b,
    })
}

/// The first 7 characters of a commit, as Argo CD shows them.
pub fn short_revision(rev: &str) -> &str {
    rev.get(..7).unwrap_or(rev)
}

/// The modal's caveat for an action.
pub fn note(action: ActionKind, r: &Release) -> Option<&'static str> {
    let f = r.facts.argocd.as_deref()?;
    match action {
        ActionKind::Undo if f.automated_on => Some(
            "Automated sync is on and Argo CD refuses a rollback while it is: this turns automated sync off (1), then rolls back (2). Turn it back on afterwards with resume (space).",
        ),
        ActionKind::Undo => Some(
            "Rolls back to the history entry's revision and source (apply strategy), as `argocd app rollback` does.",
        ),
        ActionKind::Sync => Some(
            "The revision is the one Argo CD last resolved for the target; the controller runs the sync.",
        ),
        ActionKind::Terminate => {
            Some("The controller stops the running sync; resources already applied stay applied.")
        }
        ActionKind::Resume => Some("Turns automated sync back on as it was before the rollback."),
        _ => None,
    }
}

/// Argo CD's rules, for the actions in `SUPPORTS`.
pub fn rules(action: ActionKind, r: &Release) -> Result<(), Disabled> {
    use Disabled::NotApplicable as Na;
    let Some(f) = r.facts.argocd.as_deref() else {
        return Err(Na("no Argo CD facts"));
    };
    match action {
        ActionKind::Sync | ActionKind::Undo if f.operation_running => {
            Err(Na("another operation is already in progress"))
        }
        ActionKind::Undo if f.rollback_to.is_none() => {
            Err(Na("no earlier history entry to roll back to"))
        }
        ActionKind::Terminate if !f.operation_running => Err(Na("no operation is in progress")),
        ActionKind::Resume if f.automated_before.is_none() => Err(Na(
            "nothing to turn back on (automated sync was not turned off by shipdeck)",
        )),
        ActionKind::Resume if f.automated_on => Err(Na("automated sync is already on")),
        _ => Ok(()),
    }
}

/// The sync operation Argo CD's API server writes for `revision` from `source`.
fn sync_operation(revision: &str, source: &Value, apply_strategy: bool) -> Value {
    let mut sync = json!({ "revision": revision, "source": source });
    if apply_strategy {
        sync["syncStrategy"] = json!({ "apply": {} });
    }
    json!({
        "sync": sync,
        "initiatedBy": { "username": SENDER },
    })
}

/// The exact requests (empty for an action not in `SUPPORTS`).
pub fn calls(action: ActionKind, r: &Release, now: Timestamp) -> Vec<ApiCall> {
    let Some(f) = r.facts.argocd.as_deref() else {
        return Vec::new();
    };
    match action {
        ActionKind::Sync => {
            let revision = if f.sync_revision.is_empty() {
                &f.target_revision
            } else {
                &f.sync_revision
            };
            vec![merge(
                APPLICATIONS,
                r,
                json!({
                    "operation": sync_operation(revision, &f.source, false),
                    "status": { "operationState": null },
                }),
            )]
        }
        ActionKind::Refresh => vec![with_annotations(
            merge(APPLICATIONS, r, json!({})),
            json!({ REFRESH: "hard", REFRESH_TIMESTAMP: rfc3339_nano(now) }),
        )],
        ActionKind::Terminate => vec![merge(
            APPLICATIONS,
            r,
            json!({ "status": { "operationState": { "phase": "Terminating" } } }),
        )],
        ActionKind::Undo => {
            let Some(entry) = f
                .rollback_to
                .and_then(|id| f.history.iter().find(|h| h.id == id))
            else {
                return Vec::new();
            };
            let rollback = merge(
                APPLICATIONS,
                r,
                json!({
                    "operation": sync_operation(&entry.revision, &entry.source, true),
                    "status": { "operationState": null },
                }),
            );
            match automated_off(r) {
                Some(off) => vec![off, rollback],
                None => vec![rollback],
            }
        }
        ActionKind::Resume => {
            let Some(before) = f.automated_before.clone() else {
                return Vec::new();
            };
            vec![with_annotations(
                merge(
                    APPLICATIONS,
                    r,
                    json!({ "spec": { "syncPolicy": { "automated": before } } }),
                ),
                json!({ AUTOMATED_BEFORE: null }),
            )]
        }
        ActionKind::Pause
        | ActionKind::Promote
        | ActionKind::PromoteFull
        | ActionKind::Abort
        | ActionKind::Retry
        | ActionKind::Restart => Vec::new(),
    }
}

/// Automated sync off, recording the policy it was (the `AUTOMATED_BEFORE` annotation) so
/// that resume turns it back on as it was: step 1 of the rollback two-step, and the
/// "suspend the owner first" pre-step for what the app owns (`core::owner`). None when
/// automated sync is already off. Guarded by the app's resourceVersion.
pub fn automated_off(r: &Release) -> Option<ApiCall> {
    let f = r.facts.argocd.as_deref().filter(|f| f.automated_on)?;
    let before = f.automated.clone().unwrap_or(Value::Null).to_string();
    Some(with_annotations(
        merge(
            APPLICATIONS,
            r,
            json!({ "spec": { "syncPolicy": { "automated": null } } }),
        ),
        json!({ AUTOMATED_BEFORE: before }),
    ))
}

/// Add `metadata.annotations` to a merge patch (next to its resourceVersion).
fn with_annotations(call: ApiCall, annotations: Value) -> ApiCall {
    match call {
        ApiCall::Patch {
            resource,
            namespace,
            name,
            patch_type,
            mut body,
        } => {
            if let Some(meta) = body.get_mut("metadata").and_then(Value::as_object_mut) {
                meta.insert("annotations".into(), annotations);
            }
            ApiCall::Patch {
                resource,
                namespace,
                name,
                patch_type,
                body,
            }
        }
        other => other,
    }
}

/// RFC 3339 with nanoseconds, as Argo CD stamps a refresh request.
fn rfc3339_nano(now: Timestamp) -> String {
    now.strftime("%Y-%m-%dT%H:%M:%S%.9fZ").to_string()
}

/// Put the planned write's sender in: every `initiatedBy.username` that is `SENDER` becomes
/// `user` (the username part of the identity, without its groups).
pub fn fill_sender(body: &mut Value, user: &str) {
    if let Some(name) = body.pointer_mut("/operation/initiatedBy/username")
        && name.as_str() == Some(SENDER)
    {
        *name = Value::String(user.to_string());
    }
}

/// Does this body need the sender filled in?
pub fn needs_sender(body: &Value) -> bool {
    body.pointer("/operation/initiatedBy/username")
        .and_then(Value::as_str)
        == Some(SENDER)
}

#[cfg(test)]
#[path = "application_tests.rs"]
mod tests;
