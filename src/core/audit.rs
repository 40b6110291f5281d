//! The audit screen's records in the core: where this session's records go (`AuditFile`),
//! the order lines are kept in (each action's intent before its result, grouped by the
//! record id that is unique across consoles), and which lines the screen shows (this
//! session's by default, every session's on request). Pure: the file itself is
//! `action::audit`'s business.

use super::msg::{AuditLine, AuditStage};
use super::state::{MAX_AUDIT_LINES, State};

/// Where this session's audit records go, as the audit screen and the header say it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum AuditFile {
    /// Not said (tests and fixtures that do not wire an audit log).
    #[default]
    Unset,
    /// Records are appended to this file.
    Writing(String),
    /// Nothing is recorded, and why; `warn` when the session wanted a file and could not
    /// have one (a read-only session whose audit path is not writable).
    Off { reason: String, warn: bool },
}

impl AuditFile {
    /// What the audit screen's title ends with: the path (narrow: the file name) or why
    /// there is no file (narrow: only that there is none).
    pub fn describe(&self, wide: bool) -> String {
        match self {
            Self::Unset => String::new(),
            Self::Writing(path) if wide => path.clone(),
            Self::Writing(path) => std::path::Path::new(path)
                .file_name()
                .map_or_else(|| path.clone(), |n| n.to_string_lossy().into_owned()),
            Self::Off { reason, .. } if wide => format!("no file: {reason}"),
            Self::Off { .. } => "no file".into(),
        }
    }

    pub fn warns(&self) -> bool {
        matches!(self, Self::Off { warn: true, .. })
    }
}

/// Add `line` keeping each action's lines together, intents before results: a result goes
/// after the last line with its id, an intent before the first result with its id. Lines
/// without an id (records from before ids were unique) are appended as they come. At most
/// [`MAX_AUDIT_LINES`] are kept: the oldest go first.
pub fn insert(lines: &mut Vec<AuditLine>, line: AuditLine) {
    place(lines, line);
    if lines.len() > MAX_AUDIT_LINES {
        let extra = lines.len() - MAX_AUDIT_LINES;
        lines.drain(..extra);
    }
}

fn place(lines: &mut Vec<AuditLine>, line: AuditLine) {
    if line.id.is_empty() {
        lines.push(line);
        return;
    }
    let same: Vec<usize> = lines
        .iter()
        .enumerate()
        .filter(|(_, l)| l.id == line.id)
        .map(|(i, _)| i)
        .collect();
    let after_last = same.last().map(|&i| i + 1);
    let at = match line.stage {
        AuditStage::Result => after_last,
        AuditStage::Intent => same
            .iter()
            .copied()
            .find(|&i| lines.get(i).is_some_and(|l| l.stage == AuditStage::Result))
            .or(after_last),
    }
    .unwrap_or(lines.len());
    lines.insert(at.min(lines.len()), line);
}

/// A session that can never write to a cluster (`--read-only`, or every cluster read-only)
/// needs no writable audit path: it starts without one, with a warning.
pub fn never_writes(state: &State) -> bool {
    state.settings.read_only || state.clusters.iter().all(|c| c.read_only)
}

/// The lines the audit screen shows: this session's, or every session's when `all`.
pub fn visible(state: &State) -> impl Iterator<Item = &AuditLine> {
    let all = state.view.audit_all;
    state.audit.iter().filter(move |l| all || l.own)
}

/// How many lines the audit screen shows.
pub fn visible_len(state: &State) -> usize {
    visible(state).count()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::testkit::t;

    fn line(id: &str, stage: AuditStage, own: bool) -> AuditLine {
        AuditLine {
            at: t(0),
            stage,
            id: id.into(),
            own,
            cluster: "c".into(),
            target: "ns/web".into(),
            action: "pause".into(),
            outcome: String::new(),
        }
    }

    fn order(lines: &[AuditLine]) -> Vec<(String, &'static str)> {
        lines
            .iter()
            .map(|l| (l.id.clone(), l.stage.as_str()))
            .collect()
    }

    #[test]
    fn at_most_max_audit_lines_are_kept_the_oldest_going_first() {
        let mut lines = Vec::new();
        for i in 0..MAX_AUDIT_LINES {
            insert(
                &mut lines,
                line(&format!("s#{i}"), AuditStage::Intent, true),
            );
        }
        assert_eq!(lines.len(), MAX_AUDIT_LINES);
        assert_eq!(lines[0].id, "s#0");
        insert(&mut lines, line("s#0", AuditStage::Result, true));
        insert(&mut lines, line("new", AuditStage::Intent, true));
        assert_eq!(lines.len(), MAX_AUDIT_LINES);
        // The two oldest went (s#0's intent, then s#0's result that joined it).
        assert_eq!(lines[0].id, "s#1");
        assert_eq!(lines.last().map(|l| l.id.as_str()), Some("new"));
    }

    #[test]
    fn results_join_their_intent_and_intents_go_before_results() {
        let mut lines = Vec::new();
        insert(&mut lines, line("s#1", AuditStage::Intent, true));
        insert(&mut lines, line("s#2", AuditStage::Intent, true));
        insert(&mut lines, line("s#1", AuditStage::Result, true));
        // A result whose intent line arrives after it.
        insert(&mut lines, line("s#3", AuditStage::Result, true));
        insert(&mut lines, line("s#3", AuditStage::Intent, true));
        insert(&mut lines, line("s#2", AuditStage::Result, true));
        let want = [
            ("s#1", "intent"),
            ("s#1", "result"),
            ("s#2", "intent"),
            ("s#2", "result"),
            ("s#3", "intent"),
            ("s#3", "result"),
        ];
        let want: Vec<(String, &str)> = want.iter().map(|(a, b)| (a.to_string(), *b)).collect();
        assert_eq!(order(&lines), want);
    }

    #[test]
    fn lines_without_an_id_are_never_grouped() {
        let mut lines = Vec::new();
        insert(&mut lines, line("", AuditStage::Result, false));
        insert(&mut lines, line("", AuditStage::Intent, false));
        assert_eq!(
            order(&lines),
            [(String::new(), "result"), (String::new(), "intent")]
        );
    }

    #[test]
    fn this_session_by_default_every_session_on_request() {
        let mut s = crate::core::testkit::fleet();
        s.audit.clear();
        insert(&mut s.audit, line("other#1", AuditStage::Intent, false));
        insert(&mut s.audit, line("me#1", AuditStage::Intent, true));
        assert_eq!(visible_len(&s), 1);
        assert!(visible(&s).all(|l| l.own));
        s.view.audit_all = true;
        assert_eq!(visible_len(&s), 2);
    }

    #[test]
    fn read_only_flag_or_every_cluster_read_only_never_writes() {
        let mut s = crate::core::testkit::fleet();
        assert!(!never_writes(&s), "the fleet has writable clusters");
        for c in &mut s.clusters {
            c.read_only = true;
        }
        assert!(never_writes(&s));
        s.clusters[0].read_only = false;
        assert!(!never_writes(&s));
        s.settings.read_only = true;
        assert!(never_writes(&s));
    }

    #[test]
    fn the_file_is_described_and_only_an_unwritable_one_warns() {
        assert_eq!(AuditFile::Unset.describe(true), "");
        let w = AuditFile::Writing("/d/audit-demo.jsonl".into());
        assert_eq!(w.describe(true), "/d/audit-demo.jsonl");
        assert_eq!(w.describe(false), "audit-demo.jsonl");
        assert!(!w.warns());
        let off = AuditFile::Off {
            reason: "read-only".into(),
            warn: true,
        };
        assert_eq!(off.describe(true), "no file: read-only");
        assert_eq!(off.describe(false), "no file");
        assert!(off.warns());
    }
}
