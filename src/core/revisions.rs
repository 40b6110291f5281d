//! Revisions and what changed between them (issue 12 item 5). Pure: a pod template is reduced
//! to a short list of summary lines in the projection (images, command/args, env NAMES,
//! resources, probes, volumes — never the template whole), each revision carries its lines,
//! and the undo modal shows a unified diff of the lines between the revision in effect and
//! the one undo brings back, with warnings about that target.
//!
//! Env values are never shown, not even literal ones: a literal `value:` is where people
//! paste credentials, and the sanitiser cannot tell which literal is a secret. A variable is
//! shown by name and by where it comes from (`literal`, `secret NAME`, `configMap NAME`,
//! `field PATH`, `resource NAME`); a Secret's key or value never appears. When two templates
//! differ only in what is not summarised (say an env literal's value), the diff says so.

use jiff::Timestamp;
use serde_json::Value;

use super::facts::ReplicaSetFacts;
use super::kinds::application::HistoryEntry;
use super::model::{Release, Revision};
use super::text::Untrusted;

/// Annotations read for the revisions list (kept by the projection).
pub const CHANGE_CAUSE: &str = "kubernetes.io/change-cause";
pub const REVISION_HISTORY: [&str; 2] = [
    "deployment.kubernetes.io/revision-history",
    "rollout.argoproj.io/revision-history",
];

/// What the revisions list and the undo diff know about one ReplicaSet.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct RevisionInfo {
    pub created: Option<Timestamp>,
    /// The `kubernetes.io/change-cause` annotation, if set.
    pub change_cause: Option<Untrusted>,
    /// Older revision numbers this ReplicaSet had before an undo brought it back.
    pub history: Vec<i64>,
    /// The pod template's summary lines ([`summarize`]).
    pub template: Vec<Untrusted>,
    /// The field manager of the last template change (the revision in effect only: it comes
    /// from the owner's managedFields).
    pub manager: Option<Untrusted>,
    /// A later revision went back to an older template: this one was rolled back.
    pub rolled_back: bool,
    /// Argo Rollouts aborted this revision's canary: what the controller said ("Rollout
    /// aborted update to revision 3: Metric \"errors\" assessed Failed ..."), from the
    /// Rollout's status, its events or what this console saw earlier ([`mark_aborted`]).
    pub aborted: Option<Untrusted>,
}

impl RevisionInfo {
    pub fn of(rs: &ReplicaSetFacts) -> RevisionInfo {
        let a = &rs.meta.annotations;
        RevisionInfo {
            created: rs.meta.created,
            change_cause: a
                .get(CHANGE_CAUSE)
                .filter(|c| !c.is_empty())
                .map(|c| Untrusted::new(c.as_str())),
            history: REVISION_HISTORY
                .iter()
                .filter_map(|k| a.get(k))
                .flat_map(|h| h.split(','))
                .filter_map(|v| v.trim().parse().ok())
                .collect(),
            template: rs.template.clone(),
            manager: None,
            rolled_back: false,
            aborted: None,
        }
    }
}

/// Fill what needs every revision: which were rolled back, and who changed the template in
/// effect (`manager`, from the owner's managedFields) on the newest one. `revs` is newest
/// first. A revision R was rolled back when a newer revision carries an older template: its
/// revision history names a number below R, or its ReplicaSet was created before R's (an
/// undo reuses the older ReplicaSet and gives it the next number).
pub fn annotate(revs: &mut [Revision], manager: Option<&str>) {
    let facts: Vec<(i64, Vec<i64>, Option<Timestamp>)> = revs
        .iter()
        .map(|r| {
            (
                r.revision.unwrap_or(0),
                r.info.history.clone(),
                r.info.created,
            )
        })
        .collect();
    for r in revs.iter_mut() {
        let me = r.revision.unwrap_or(0);
        r.info.rolled_back = facts.iter().any(|(n, hist, created)| {
            *n > me
                && (hist.iter().any(|h| *h < me)
                    || matches!((created, r.info.created), (Some(c), Some(mine)) if *c < mine))
        });
    }
    if let Some(newest) = revs.first_mut() {
        newest.info.manager = manager.filter(|m| !m.is_empty()).map(Untrusted::new);
    }
}

/// The condition reason and event reason Argo Rollouts writes when it aborts an update.
pub const ROLLOUT_ABORTED: &str = "RolloutAborted";

/// The revision an Argo Rollouts abort message names: the controller writes "Rollout aborted
/// update to revision N" (`conditions.RolloutAbortedMessage`), then ": <why>" when an analysis
/// failed; `status.message` puts "RolloutAborted: " before it. None for any other text.
pub fn aborted_revision(message: &str) -> Option<i64> {
    const SAID: &str = "aborted update to revision ";
    let at = message.find(SAID)? + SAID.len();
    let digits: String = message[at..]
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    digits.parse().ok()
}

/// Mark the revisions that abort messages name (`said`, newest first: the first message
/// about a revision is the one kept). A revision already marked keeps its mark.
pub fn mark_aborted<'a>(revs: &mut [Revision], said: impl IntoIterator<Item = &'a Untrusted>) {
    for message in said {
        let Some(n) = aborted_revision(message.raw()) else {
            continue;
        };
        for r in revs.iter_mut().filter(|r| r.revision == Some(n)) {
            if r.info.aborted.is_none() {
                r.info.aborted = Some(message.clone());
            }
        }
    }
}

/// Abort messages about release `r` the console holds besides its status: the
/// `RolloutAborted` events listed for its detail (they outlive the condition, which goes
/// once a new revision starts) and the failures feed's line for it, newest first.
pub fn aborts_seen<'a>(state: &'a crate::core::State, r: &Release) -> Vec<&'a Untrusted> {
    if r.key.kind != crate::core::model::ReleaseKind::Rollout {
        return Vec::new();
    }
    let events = state
        .view
        .events
        .iter()
        .filter(|v| v.release == r.key)
        .flat_map(|v| v.events.iter())
        .filter(|e| {
            e.object_kind == "Rollout"
                && e.object_name == r.key.name
                && e.reason.raw() == ROLLOUT_ABORTED
        })
        .map(|e| &e.message);
    let object = format!("rollout/{}", r.key.name);
    let feed = state
        .failures
        .items()
        .iter()
        .filter(move |f| {
            f.cluster == r.key.cluster
                && f.namespace == r.key.namespace
                && f.object == object
                && f.reason == ROLLOUT_ABORTED
        })
        .map(|f| &f.message);
    events.chain(feed).collect()
}

/// An abort this console saw stays known after the controller stops saying it (a new
/// revision replaces the `RolloutAborted` condition): `rel`'s revisions keep the marks
/// `previous` had for the same ReplicaSet at the same revision.
pub fn keep_aborts(previous: &Release, rel: &mut Release) {
    for r in rel
        .revisions
        .iter_mut()
        .filter(|r| r.info.aborted.is_none())
    {
        r.info.aborted = previous
            .revisions
            .iter()
            .find(|p| p.name == r.name && p.revision == r.revision)
            .and_then(|p| p.info.aborted.clone());
    }
}

/// What an abort message says after the revision ("Metric ... assessed Failed"), if anything.
fn abort_reason(message: &str) -> Option<&str> {
    let (_, rest) = message.split_once("aborted update to revision ")?;
    let rest = rest.trim_start_matches(|c: char| c.is_ascii_digit());
    let why = rest.strip_prefix(':').unwrap_or(rest).trim();
    (!why.is_empty()).then_some(why)
}

/// The Argo CD history entry behind a revision created at `created`: the newest entry
/// whose sync had started by then (`deployStartedAt`; else `deployedAt`, which Argo CD sets
/// when the sync completes, after the ReplicaSets it made). None when the revision is older
/// than every entry, or its creation is not known.
pub fn sync_entry(history: &[HistoryEntry], created: Option<Timestamp>) -> Option<&HistoryEntry> {
    let created = created?;
    history
        .iter()
        .filter_map(|h| Some((h.deploy_started_at.or(h.deployed_at)?, h)))
        .filter(|(at, _)| *at <= created)
        .max_by_key(|(at, h)| (*at, h.id))
        .map(|(_, h)| h)
}

/// A git revision as the revisions list shows it: a full commit hash cut to 7 characters
/// (as `git log --oneline`), anything else (a tag, a chart version) as it is.
pub fn short_revision(revision: &str) -> &str {
    let is_hash = revision.len() >= 40 && revision.chars().all(|c| c.is_ascii_hexdigit());
    if is_hash { &revision[..7] } else { revision }
}

fn s<'a>(v: &'a Value, key: &str) -> &'a str {
    v.get(key).and_then(Value::as_str).unwrap_or("")
}

fn words(v: Option<&Value>) -> String {
    v.and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .map(|x| x.as_str().map_or_else(|| x.to_string(), str::to_string))
                .collect::<Vec<_>>()
                .join(" ")
        })
        .unwrap_or_default()
}

fn quantities(v: Option<&Value>) -> String {
    v.and_then(Value::as_object)
        .map(|m| {
            m.iter()
                .map(|(k, q)| {
                    format!(
                        "{k}={}",
                        q.as_str().map_or_else(|| q.to_string(), str::to_string)
                    )
                })
                .collect::<Vec<_>>()
                .join(" ")
        })
        .unwrap_or_default()
}

fn port(v: &Value) -> String {
    v.get("port")
        .map(|p| p.as_str().map_or_else(|| p.to_string(), str::to_string))
        .unwrap_or_default()
}

fn probe(p: &Value) -> String {
    let how = if let Some(h) = p.get("httpGet") {
        format!("http :{}{}", port(h), s(h, "path"))
    } else if let Some(t) = p.get("tcpSocket") {
        format!("tcp :{}", port(t))
    } else if let Some(e) = p.get("exec") {
        format!("exec {}", words(e.get("command")))
    } else if let Some(g) = p.get("grpc") {
        format!("grpc :{}", port(g))
    } else {
        "?".to_string()
    };
    let mut out = how;
    for (key, short, unit) in [
        ("initialDelaySeconds", "delay", "s"),
        ("periodSeconds", "period", "s"),
        ("timeoutSeconds", "timeout", "s"),
        ("failureThreshold", "failures", ""),
    ] {
        if let Some(n) = p.get(key).and_then(Value::as_i64) {
            out.push_str(&format!(" {short}={n}{unit}"));
        }
    }
    out
}

fn env_source(e: &Value) -> String {
    let Some(from) = e.get("valueFrom") else {
        return "literal".to_string();
    };
    if let Some(r) = from.get("secretKeyRef") {
        format!("secret {}", s(r, "name"))
    } else if let Some(r) = from.get("configMapKeyRef") {
        format!("configMap {}", s(r, "name"))
    } else if let Some(r) = from.get("fieldRef") {
        format!("field {}", s(r, "fieldPath"))
    } else if let Some(r) = from.get("resourceFieldRef") {
        format!("resource {}", s(r, "resource"))
    } else {
        "from elsewhere".to_string()
    }
}

fn container(out: &mut Vec<String>, kind: &str, c: &Value) {
    out.push(format!("{kind} {}", s(c, "name")));
    out.push(format!("  image {}", s(c, "image")));
    let command = words(c.get("command"));
    if !command.is_empty() {
        out.push(format!("  command {command}"));
    }
    let args = words(c.get("args"));
    if !args.is_empty() {
        out.push(format!("  args {args}"));
    }
    for e in c.get("env").and_then(Value::as_array).into_iter().flatten() {
        out.push(format!("  env {} ({})", s(e, "name"), env_source(e)));
    }
    for e in c
        .get("envFrom")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let (what, r) = match (e.get("secretRef"), e.get("configMapRef")) {
            (Some(r), _) => ("secret", r),
            (_, Some(r)) => ("configMap", r),
            _ => continue,
        };
        out.push(format!("  envFrom {what} {}", s(r, "name")));
    }
    let res = c.get("resources");
    for part in ["requests", "limits"] {
        let q = quantities(res.and_then(|r| r.get(part)));
        if !q.is_empty() {
            out.push(format!("  {part} {q}"));
        }
    }
    for (key, name) in [
        ("startupProbe", "startup"),
        ("readinessProbe", "readiness"),
        ("livenessProbe", "liveness"),
    ] {
        if let Some(p) = c.get(key) {
            out.push(format!("  {name} {}", probe(p)));
        }
    }
    for m in c
        .get("volumeMounts")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        out.push(format!("  mount {} at {}", s(m, "name"), s(m, "mountPath")));
    }
}

fn volume(v: &Value) -> String {
    let name = s(v, "name");
    let source = if let Some(c) = v.get("configMap") {
        format!("configMap {}", s(c, "name"))
    } else if let Some(c) = v.get("secret") {
        format!("secret {}", s(c, "secretName"))
    } else if let Some(c) = v.get("persistentVolumeClaim") {
        format!("pvc {}", s(c, "claimName"))
    } else if v.get("emptyDir").is_some() {
        "emptyDir".to_string()
    } else if v.get("projected").is_some() {
        "projected".to_string()
    } else if v.get("downwardAPI").is_some() {
        "downwardAPI".to_string()
    } else if let Some(h) = v.get("hostPath") {
        format!("hostPath {}", s(h, "path"))
    } else {
        "other".to_string()
    };
    format!("volume {name}: {source}")
}

/// The summary lines of a pod template (`spec.template` as JSON): what the undo diff shows.
pub fn summarize(template: &Value) -> Vec<Untrusted> {
    let mut out = Vec::new();
    let spec = template.get("spec").unwrap_or(&Value::Null);
    for (key, kind) in [("initContainers", "init"), ("containers", "container")] {
        for c in spec
            .get(key)
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            container(&mut out, kind, c);
        }
    }
    for v in spec
        .get("volumes")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        out.push(volume(v));
    }
    let sa = s(spec, "serviceAccountName");
    if !sa.is_empty() {
        out.push(format!("serviceAccount {sa}"));
    }
    out.into_iter().map(Untrusted::new).collect()
}

/// One line of the diff.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DiffLine {
    Same(Untrusted),
    /// In the revision in effect now, gone after undo.
    Removed(Untrusted),
    /// Brought back by undo.
    Added(Untrusted),
    /// This many unchanged lines not shown.
    Skipped(usize),
}

/// Unified diff of `now` → `target`, with `context` unchanged lines around each change.
pub fn diff(now: &[Untrusted], target: &[Untrusted], context: usize) -> Vec<DiffLine> {
    let (n, m) = (now.len(), target.len());
    // Longest common subsequence table (templates are short: tens of lines).
    let mut lcs = vec![vec![0u16; m + 1]; n + 1];
    for i in (0..n).rev() {
        for j in (0..m).rev() {
            lcs[i][j] = if now[i] == target[j] {
                lcs[i + 1][j + 1] + 1
            } else {
                lcs[i + 1][j].max(lcs[i][j + 1])
            };
        }
    }
    let mut full = Vec::new();
    let (mut i, mut j) = (0, 0);
    while i < n || j < m {
        if i < n && j < m && now[i] == target[j] {
            full.push(DiffLine::Same(now[i].clone()));
            i += 1;
            j += 1;
        } else if i < n && (j == m || lcs[i + 1][j] >= lcs[i][j + 1]) {
            full.push(DiffLine::Removed(now[i].clone()));
            i += 1;
        } else {
            full.push(DiffLine::Added(target[j].clone()));
            j += 1;
        }
    }
    let changed: Vec<usize> = full
        .iter()
        .enumerate()
        .filter(|(_, l)| !matches!(l, DiffLine::Same(_)))
        .map(|(k, _)| k)
        .collect();
    let near = |k: usize| changed.iter().any(|c| c.abs_diff(k) <= context);
    let mut out = Vec::new();
    let mut skipped = 0;
    for (k, line) in full.into_iter().enumerate() {
        if matches!(line, DiffLine::Same(_)) && !near(k) {
            skipped += 1;
            continue;
        }
        if skipped > 0 {
            out.push(DiffLine::Skipped(skipped));
            skipped = 0;
        }
        out.push(line);
    }
    if skipped > 0 {
        out.push(DiffLine::Skipped(skipped));
    }
    out
}

/// What the undo modal shows about going back to one revision.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct UndoPreview {
    /// The revision in effect now and the one undo brings back.
    pub from: Option<i64>,
    pub to: i64,
    pub lines: Vec<DiffLine>,
    /// Warnings about the target (rolled back before, the image just left).
    pub warnings: Vec<String>,
    /// The summaries are equal: the templates differ only in what is not summarised, or
    /// not at all (then undo is a no-op).
    pub same_summary: bool,
}

/// The preview of undo to revision `to` on a release's revisions (newest first). `aborted`
/// are abort messages known besides the revisions' own marks (the release's events, the
/// failures feed: [`aborts_seen`]), newest first.
pub fn preview(revs: &[Revision], to: i64, aborted: &[&Untrusted]) -> Option<UndoPreview> {
    let target = revs.iter().find(|r| r.revision == Some(to))?;
    let abort = target.info.aborted.as_ref().or_else(|| {
        aborted
            .iter()
            .copied()
            .find(|m| aborted_revision(m.raw()) == Some(to))
    });
    let now = revs.iter().max_by_key(|r| r.revision.unwrap_or(0));
    let empty = Vec::new();
    let now_lines = now.map_or(&empty, |r| &r.info.template);
    let lines = diff(now_lines, &target.info.template, 2);
    let mut warnings = Vec::new();
    if target.info.rolled_back {
        warnings.push(format!(
            "revision {to} was itself rolled back: undo brings back a template someone already reverted"
        ));
    }
    if let Some(m) = abort {
        let why = abort_reason(m.raw())
            .map(|w| format!(" ({})", crate::core::text::escape(w)))
            .unwrap_or_default();
        warnings.push(format!(
            "revision {to} was itself aborted{why}: undo brings back a canary Argo Rollouts already stopped"
        ));
    }
    if let Some(now) = now
        && now.info.history.iter().any(|h| *h < to)
        && now.revision.is_some_and(|n| n > to)
    {
        warnings.push(format!(
            "revision {} is an undo: revision {to} is the template it went back from",
            now.revision.unwrap_or(0)
        ));
    }
    Some(UndoPreview {
        from: now.and_then(|r| r.revision),
        to,
        same_summary: now_lines == &target.info.template,
        lines,
        warnings,
    })
}

/// The rows of the revisions screen, newest first, each as undo to it names it: a
/// Deployment's or Rollout's ReplicaSets by name; an Argo CD application's history entries
/// by id (a rollback goes back to a history entry, `kinds::application::chosen`).
pub fn choices(r: &super::model::Release) -> Vec<String> {
    match r.facts.argocd.as_deref() {
        Some(f) => super::kinds::application::history_newest_first(f)
            .iter()
            .map(|h| h.id.to_string())
            .collect(),
        None => r.revisions.iter().map(|v| v.name.clone()).collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn lines(v: &[&str]) -> Vec<Untrusted> {
        v.iter().map(|s| Untrusted::new(*s)).collect()
    }

    #[test]
    fn the_summary_names_env_but_never_shows_a_value() {
        let t = json!({"spec": {
            "containers": [{
                "name": "web", "image": "web:2", "command": ["/app"], "args": ["--port", "8080"],
                "env": [
                    {"name": "LOG_LEVEL", "value": "debug"},
                    {"name": "DB_PASSWORD", "valueFrom": {"secretKeyRef": {"name": "db", "key": "pw"}}}
                ],
                "resources": {"limits": {"memory": "256Mi"}, "requests": {"cpu": "100m"}},
                "readinessProbe": {"httpGet": {"path": "/healthz", "port": 8080}, "periodSeconds": 10, "failureThreshold": 3},
                "volumeMounts": [{"name": "config", "mountPath": "/etc/web"}]
            }],
            "volumes": [{"name": "config", "configMap": {"name": "web-config"}}]
        }});
        let got: Vec<String> = summarize(&t).iter().map(|l| l.raw().to_string()).collect();
        assert_eq!(
            got,
            vec![
                "container web",
                "  image web:2",
                "  command /app",
                "  args --port 8080",
                "  env LOG_LEVEL (literal)",
                "  env DB_PASSWORD (secret db)",
                "  requests cpu=100m",
                "  limits memory=256Mi",
                "  readiness http :8080/healthz period=10s failures=3",
                "  mount config at /etc/web",
                "volume config: configMap web-config",
            ]
        );
        let all = got.join("\n");
        assert!(!all.contains("debug") && !all.contains("pw"), "{all}");
    }

    #[test]
    fn the_diff_marks_changes_and_elides_far_unchanged_lines() {
        let now = lines(&["a", "b", "c", "d", "e", "image web:3", "f"]);
        let target = lines(&[
            "a",
            "b",
            "c",
            "d",
            "e",
            "image web:1",
            "f",
            "env X (literal)",
        ]);
        let d = diff(&now, &target, 1);
        assert_eq!(
            d,
            vec![
                DiffLine::Skipped(4),
                DiffLine::Same("e".into()),
                DiffLine::Removed("image web:3".into()),
                DiffLine::Added("image web:1".into()),
                DiffLine::Same("f".into()),
                DiffLine::Added("env X (literal)".into()),
            ]
        );
        assert_eq!(diff(&now, &now, 1), vec![DiffLine::Skipped(7)]);
    }

    fn rev(n: i64, created: i64, history: &[i64], image: &str) -> Revision {
        Revision {
            name: format!("web-{n}"),
            revision: Some(n),
            role: super::super::model::RsRole::Old,
            blue_green: None,
            images: vec![image.into()],
            ready: 0,
            desired: 0,
            info: RevisionInfo {
                created: Some(Timestamp::from_second(created).unwrap()),
                history: history.to_vec(),
                template: lines(&["container web", &format!("  image {image}")]),
                ..RevisionInfo::default()
            },
        }
    }

    #[test]
    fn after_an_undo_the_reverted_revision_is_marked_and_warned_about() {
        // 1 (web:1), 2 (web:2), 3 (web:3 broken); undo to 2 makes web:2 revision 4.
        let mut revs = vec![
            rev(4, 200, &[2], "web:2"),
            rev(3, 300, &[], "web:3"),
            rev(1, 100, &[], "web:1"),
        ];
        annotate(&mut revs, Some("kubectl-rollout"));
        assert!(revs[1].info.rolled_back, "revision 3 was rolled back");
        assert!(
            !revs[2].info.rolled_back,
            "revision 1 was merely superseded"
        );
        assert_eq!(
            revs[0].info.manager,
            Some(Untrusted::new("kubectl-rollout"))
        );
        assert_eq!(revs[1].info.manager, None);
        let p = preview(&revs, 3, &[]).unwrap();
        assert_eq!((p.from, p.to), (Some(4), 3));
        assert!(p.lines.contains(&DiffLine::Removed("  image web:2".into())));
        assert!(p.lines.contains(&DiffLine::Added("  image web:3".into())));
        assert_eq!(p.warnings.len(), 2, "{:?}", p.warnings);
        assert!(p.warnings[0].contains("rolled back"));
        let p1 = preview(&revs, 1, &[]).unwrap();
        assert!(p1.warnings.is_empty(), "{:?}", p1.warnings);
        assert!(preview(&revs, 9, &[]).is_none());
    }

    #[test]
    fn rolled_back_is_seen_from_creation_order_without_a_history_annotation() {
        // Argo reuses the older ReplicaSet: revision 4 created before revision 3.
        let mut revs = vec![rev(4, 200, &[], "web:2"), rev(3, 300, &[], "web:3")];
        annotate(&mut revs, None);
        assert!(revs[1].info.rolled_back);
        assert!(!revs[0].info.rolled_back);
    }

    #[test]
    fn the_revision_an_abort_message_names() {
        for (said, n) in [
            ("Rollout aborted update to revision 3", Some(3)),
            (
                "RolloutAborted: Rollout aborted update to revision 12: Metric \"errors\" assessed Failed",
                Some(12),
            ),
            ("Rollout aborted update to revision ", None),
            ("Rollout aborted update to revision x2", None),
            ("Rollout is healthy", None),
            ("", None),
        ] {
            assert_eq!(aborted_revision(said), n, "{said:?}");
        }
        assert_eq!(
            abort_reason("Rollout aborted update to revision 2: Metric \"e\" assessed Failed"),
            Some("Metric \"e\" assessed Failed")
        );
        assert_eq!(abort_reason("Rollout aborted update to revision 2"), None);
    }

    #[test]
    fn undo_to_an_aborted_revision_warns_with_what_the_controller_said() {
        // 1 (web:1) stable, 2 (web:2) aborted, 3 (web:3) the release after it.
        let mut revs = vec![
            rev(3, 300, &[], "web:3"),
            rev(2, 200, &[], "web:2"),
            rev(1, 100, &[], "web:1"),
        ];
        annotate(&mut revs, None);
        assert!(revs.iter().all(|r| !r.info.rolled_back));
        let said = Untrusted::new(
            "Rollout aborted update to revision 2: Metric \"errors\" assessed Failed \u{1b}[31m",
        );
        // Known only from an event or the feed: the preview still warns.
        let p = preview(&revs, 2, &[&said]).unwrap();
        assert_eq!(p.warnings.len(), 1, "{:?}", p.warnings);
        assert!(
            p.warnings[0].contains("revision 2 was itself aborted"),
            "{:?}",
            p.warnings
        );
        assert!(p.warnings[0].contains("Metric \"errors\" assessed Failed"));
        assert!(
            !p.warnings[0].contains('\u{1b}'),
            "escaped: {:?}",
            p.warnings
        );
        assert!(preview(&revs, 1, &[&said]).unwrap().warnings.is_empty());
        // Marked on the revision itself (from the Rollout's status).
        mark_aborted(&mut revs, [&said]);
        assert_eq!(revs[1].info.aborted.as_ref(), Some(&said));
        assert!(revs[0].info.aborted.is_none() && revs[2].info.aborted.is_none());
        let p = preview(&revs, 2, &[]).unwrap();
        assert!(
            p.warnings[0].contains("was itself aborted"),
            "{:?}",
            p.warnings
        );
        // A second message about the same revision does not replace the first.
        let later = Untrusted::new("Rollout aborted update to revision 2");
        mark_aborted(&mut revs, [&later]);
        assert_eq!(revs[1].info.aborted.as_ref(), Some(&said));
    }

    fn aborted_rollout(revision: i64, message: &str) -> crate::core::facts::RolloutFacts {
        use crate::core::facts::Condition;
        let mut r = crate::core::testkit::paused_rollout("shop", "web");
        r.phase = Some("Degraded".into());
        r.message = Untrusted::new(format!("RolloutAborted: {message}"));
        r.pause_conditions.clear();
        r.aborted = true;
        r.current_pod_hash = format!("h{revision}");
        r.stable_rs = "h1".into();
        r.conditions = vec![Condition {
            type_: "Progressing".into(),
            status: "False".into(),
            reason: ROLLOUT_ABORTED.into(),
            message: Untrusted::new(message),
            last_transition: None,
        }];
        r
    }

    #[test]
    fn an_abort_seen_in_status_stays_known_after_the_next_release() {
        use crate::core::facts::ObjectFacts;
        use crate::core::model::{Cluster, ReleaseKind};
        use crate::core::testkit::{FleetBuilder, replicaset, t};
        let mut b = FleetBuilder::new(
            t(0),
            crate::core::state::Settings::default(),
            vec![Cluster::new("a")],
            vec![],
        );
        for n in 1..=2 {
            b.upsert(
                "a",
                ObjectFacts::ReplicaSet(replicaset("shop", "web", &format!("h{n}"), n, "img", 1)),
            );
        }
        b.upsert(
            "a",
            ObjectFacts::Rollout(aborted_rollout(
                2,
                "Rollout aborted update to revision 2: Metric \"errors\" assessed Failed",
            )),
        );
        let mut s = b.settled();
        let key = crate::core::model::ReleaseKey {
            cluster: "a".into(),
            kind: ReleaseKind::Rollout,
            namespace: "shop".into(),
            name: "web".into(),
        };
        let aborted = |s: &crate::core::State, n: i64| {
            s.releases[&key]
                .revisions
                .iter()
                .find(|r| r.revision == Some(n))
                .is_some_and(|r| r.info.aborted.is_some())
        };
        assert!(aborted(&s, 2) && !aborted(&s, 1));
        // Revision 3 ships: Argo drops the condition and the abort; the mark stays.
        let mut next = aborted_rollout(3, "");
        next.aborted = false;
        next.conditions.clear();
        next.phase = Some("Progressing".into());
        next.meta.resource_version = "101".into();
        crate::core::update(
            &mut s,
            crate::core::Msg::Upsert {
                cluster: "a".into(),
                facts: ObjectFacts::ReplicaSet(replicaset("shop", "web", "h3", 3, "img3", 1)),
            },
        );
        crate::core::update(
            &mut s,
            crate::core::Msg::Upsert {
                cluster: "a".into(),
                facts: ObjectFacts::Rollout(next),
            },
        );
        assert!(aborted(&s, 2), "still known as aborted");
        assert!(!aborted(&s, 3) && !aborted(&s, 1));
        let r = &s.releases[&key];
        let p = preview(&r.revisions, 2, &aborts_seen(&s, r)).unwrap();
        assert!(
            p.warnings
                .iter()
                .any(|w| w.contains("revision 2 was itself aborted (Metric")),
            "{:?}",
            p.warnings
        );
    }

    #[test]
    fn status_abort_marks_the_current_revision_before_the_condition_is_written() {
        use crate::core::testkit::replicaset;
        let mut r = aborted_rollout(2, "");
        r.conditions.clear();
        let rs: Vec<_> = (1..=2)
            .map(|n| replicaset("shop", "web", &format!("h{n}"), n, "img", 1))
            .collect();
        let refs: Vec<&ReplicaSetFacts> = rs.iter().collect();
        let ctx = crate::core::status::Ctx {
            cluster: "a",
            service_label: "app.kubernetes.io/name",
            service_override: None,
        };
        let rel = crate::core::kinds::rollout::derive(&ctx, &r, &refs);
        let marks: Vec<(Option<i64>, bool)> = rel
            .revisions
            .iter()
            .map(|v| (v.revision, v.info.aborted.is_some()))
            .collect();
        assert!(
            marks.contains(&(Some(2), true)) && marks.contains(&(Some(1), false)),
            "{marks:?}"
        );
    }

    #[test]
    fn aborts_are_read_from_the_detail_events_and_the_failures_feed() {
        use crate::core::failures::Observed;
        use crate::core::kinds::pod::ObjectEvent;
        let mut s = crate::core::testkit::fleet();
        let key = s
            .releases
            .keys()
            .find(|k| k.name == "checkout")
            .cloned()
            .unwrap();
        let r = s.releases[&key].clone();
        assert!(aborts_seen(&s, &r).is_empty());
        s.view.events = Some(crate::core::inspect::EventsView {
            request: 1,
            release: key.clone(),
            events: vec![
                ObjectEvent {
                    object_kind: "Rollout".into(),
                    object_name: "checkout".into(),
                    type_: "Warning".into(),
                    reason: Untrusted::new(ROLLOUT_ABORTED),
                    message: Untrusted::new("Rollout aborted update to revision 3"),
                    ..ObjectEvent::default()
                },
                ObjectEvent {
                    object_kind: "ReplicaSet".into(),
                    object_name: "checkout".into(),
                    reason: Untrusted::new(ROLLOUT_ABORTED),
                    message: Untrusted::new("Rollout aborted update to revision 9"),
                    ..ObjectEvent::default()
                },
            ],
            listed: true,
            error: None,
        });
        let msg = Untrusted::new("RolloutAborted: Rollout aborted update to revision 2");
        s.failures.record(Observed {
            cluster: &key.cluster,
            namespace: &key.namespace,
            object: "rollout/checkout",
            reason: ROLLOUT_ABORTED,
            message: &msg,
            count: 1,
            at: s.now,
        });
        let seen: Vec<Option<i64>> = aborts_seen(&s, &r)
            .iter()
            .map(|m| aborted_revision(m.raw()))
            .collect();
        assert_eq!(seen, vec![Some(3), Some(2)]);
    }

    #[test]
    fn each_revision_gets_the_sync_that_made_it_or_the_closest_before() {
        let at = |s: i64| Some(Timestamp::from_second(1_000_000 + s).unwrap());
        let entry = |id: i64, rev: &str, started: Option<i64>, done: i64| HistoryEntry {
            id,
            revision: rev.into(),
            deployed_at: at(done),
            deploy_started_at: started.and_then(at),
            ..HistoryEntry::default()
        };
        let history = vec![
            entry(
                1,
                "a1b2c3d4e5f60718293a4b5c6d7e8f9012345678",
                Some(100),
                160,
            ),
            entry(2, "v1.4.2", None, 300),
            entry(
                3,
                "ffffffffffffffffffffffffffffffffffffffff",
                Some(500),
                530,
            ),
        ];
        let rev = |created: Option<i64>| sync_entry(&history, created.and_then(at)).map(|h| h.id);
        // Made during sync 1 (after it started, before it completed).
        assert_eq!(rev(Some(120)), Some(1));
        // Sync 2 has no start time: it counts from its completion.
        assert_eq!(rev(Some(299)), Some(1));
        assert_eq!(rev(Some(300)), Some(2));
        // By hand, after sync 2: the closest earlier.
        assert_eq!(rev(Some(450)), Some(2));
        assert_eq!(rev(Some(510)), Some(3));
        // Older than every sync, or no creation time: none.
        assert_eq!(rev(Some(50)), None);
        assert_eq!(rev(None), None);
        assert_eq!(sync_entry(&[], at(10)), None);
        assert_eq!(short_revision(&history[0].revision), "a1b2c3d");
        assert_eq!(short_revision("v1.4.2"), "v1.4.2");
        assert_eq!(short_revision("abc123"), "abc123");
    }

    fn press(s: &mut crate::core::State, k: crate::core::Key) {
        crate::core::update(s, crate::core::Msg::Key(k));
        crate::core::settle(s);
    }

    #[test]
    fn undo_to_a_chosen_revision_plans_that_replicaset_and_the_current_one_sends_nothing() {
        use crate::core::Key;
        use crate::core::action::ApiCall;
        let mut s = crate::core::testkit::fleet();
        let at = s
            .view
            .order
            .iter()
            .position(|k| k.name == "checkout")
            .unwrap();
        s.view.selected = at;
        press(&mut s, Key::Char('v'));
        assert_eq!(s.view.screen, crate::core::state::Screen::Revisions);
        // Row 0 is revision 4, the template in effect: a notice, no modal.
        press(&mut s, Key::Enter);
        assert!(s.view.modal.is_none());
        let said = s
            .view
            .notice
            .as_ref()
            .map(|n| n.text.clone())
            .unwrap_or_default();
        assert!(said.contains("already at that template"), "{said}");
        // Row 1 is revision 3: the modal plans it and shows the image diff.
        press(&mut s, Key::Char('j'));
        press(&mut s, Key::Char('u'));
        let m = s.view.modal.as_ref().expect("undo modal");
        assert!(
            matches!(
                &m.plan.calls[..],
                [ApiCall::RollbackTo { replicaset, revision: 3, .. }] if replicaset == "checkout-old"
            ),
            "{:?}",
            m.plan.calls
        );
        assert_eq!(m.undo_to.as_deref(), Some("checkout-old"));
        assert_eq!(
            m.undo_preview.as_ref().map(|p| (p.from, p.to)),
            Some((Some(4), 3))
        );
    }

    #[test]
    fn history_shows_healthy_releases_older_than_the_window() {
        use crate::core::Key;
        let mut s = crate::core::testkit::fleet();
        let key = s.view.order[0].clone();
        let r = s.releases.get_mut(&key).unwrap();
        r.phase = crate::core::model::Phase::Healthy;
        r.since = Some(Timestamp::from_second(0).unwrap());
        s.now = Timestamp::from_second(3 * 3600).unwrap();
        s.view.order_dirty = true;
        crate::core::settle(&mut s);
        assert!(!s.view.order.contains(&key), "older than 30 min: hidden");
        press(&mut s, Key::Char('H'));
        assert!(s.view.order.contains(&key), "H shows every release");
        press(&mut s, Key::Char('H'));
        assert!(!s.view.order.contains(&key));
        s.settings.recent = jiff::SignedDuration::from_hours(4);
        s.view.order_dirty = true;
        crate::core::settle(&mut s);
        assert!(
            s.view.order.contains(&key),
            "a longer recent window keeps it"
        );
    }
}
