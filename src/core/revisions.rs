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
use super::model::Revision;
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

/// The preview of undo to revision `to` on a release's revisions (newest first).
pub fn preview(revs: &[Revision], to: i64) -> Option<UndoPreview> {
    let target = revs.iter().find(|r| r.revision == Some(to))?;
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
        let p = preview(&revs, 3).unwrap();
        assert_eq!((p.from, p.to), (Some(4), 3));
        assert!(p.lines.contains(&DiffLine::Removed("  image web:2".into())));
        assert!(p.lines.contains(&DiffLine::Added("  image web:3".into())));
        assert_eq!(p.warnings.len(), 2, "{:?}", p.warnings);
        assert!(p.warnings[0].contains("rolled back"));
        let p1 = preview(&revs, 1).unwrap();
        assert!(p1.warnings.is_empty(), "{:?}", p1.warnings);
        assert!(preview(&revs, 9).is_none());
    }

    #[test]
    fn rolled_back_is_seen_from_creation_order_without_a_history_annotation() {
        // Argo reuses the older ReplicaSet: revision 4 created before revision 3.
        let mut revs = vec![rev(4, 200, &[], "web:2"), rev(3, 300, &[], "web:3")];
        annotate(&mut revs, None);
        assert!(revs[1].info.rolled_back);
        assert!(!revs[0].info.rolled_back);
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
