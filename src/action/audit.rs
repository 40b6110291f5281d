//! The audit log: JSON lines, mode 0600, an intent record fsynced BEFORE a request is sent
//! and a result record after. Never holds tokens or other secrets: records are built from
//! the action plan and the outcome only.

use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Write};
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use jiff::Timestamp;
use serde::Serialize;
use serde_json::Value;

use crate::core::action::ActionPlan;
use crate::core::effect::GateOverride;
use crate::core::msg::{AuditLine, AuditStage, Outcome};

#[derive(Debug, thiserror::Error)]
pub enum AuditError {
    #[error("audit log {path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
}

/// One record: the intent before the request, the result after it.
#[derive(Debug, Serialize)]
pub struct Record<'a> {
    pub ts: String,
    pub stage: AuditStage,
    pub id: u64,
    pub user: &'a str,
    pub cluster: &'a str,
    pub kind: &'a str,
    pub namespace: &'a str,
    pub name: &'a str,
    pub uid: &'a str,
    pub action: &'a str,
    pub precondition: Value,
    pub requests: Vec<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gate_override: Option<&'a GateOverride>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub http_status: Option<u16>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub outcome: Option<&'a Outcome>,
}

#[derive(Clone)]
pub struct AuditLog {
    path: PathBuf,
    file: Arc<Mutex<File>>,
}

impl AuditLog {
    /// Default path: `<data dir>/audit.jsonl` from `directories`.
    pub fn default_path() -> Option<PathBuf> {
        directories::ProjectDirs::from("dev", "shipdeck", "shipdeck")
            .map(|d| d.data_dir().join("audit.jsonl"))
    }

    pub fn open(path: &Path) -> Result<AuditLog, AuditError> {
        let err = |source| AuditError::Io {
            path: path.display().to_string(),
            source,
        };
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(err)?;
        }
        let file = OpenOptions::new()
            .create(true)
            .append(true)
            .mode(0o600)
            .open(path)
            .map_err(err)?;
        // An existing file keeps its old mode on open: tighten it.
        file.set_permissions(std::fs::Permissions::from_mode(0o600))
            .map_err(err)?;
        Ok(AuditLog {
            path: path.to_path_buf(),
            file: Arc::new(Mutex::new(file)),
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Append one record and fsync it.
    pub fn write(&self, record: &Record<'_>) -> Result<(), AuditError> {
        let err = |source| AuditError::Io {
            path: self.path.display().to_string(),
            source,
        };
        let mut line = serde_json::to_vec(record).map_err(|e| err(std::io::Error::other(e)))?;
        line.push(b'\n');
        let mut file = self
            .file
            .lock()
            .map_err(|_| err(std::io::Error::other("audit log lock poisoned")))?;
        file.write_all(&line).map_err(err)?;
        file.sync_data().map_err(err)
    }

    /// The last `n` records as audit-screen lines (unreadable lines, and lines that are no
    /// intent or result record, are skipped).
    pub fn tail(&self, n: usize) -> Vec<AuditLine> {
        let Ok(file) = File::open(&self.path) else {
            return Vec::new();
        };
        let mut lines: Vec<AuditLine> = BufReader::new(file)
            .lines()
            .map_while(Result::ok)
            .filter_map(|l| serde_json::from_str::<Value>(&l).ok())
            .filter_map(|v| line_from_json(&v))
            .collect();
        let excess = lines.len().saturating_sub(n);
        lines.drain(..excess);
        lines
    }
}

fn line_from_json(v: &Value) -> Option<AuditLine> {
    let s = |k: &str| v.get(k).and_then(Value::as_str).unwrap_or("").to_string();
    let outcome = match v.get("outcome") {
        Some(o) => o
            .get("outcome")
            .and_then(Value::as_str)
            .unwrap_or("?")
            .to_string(),
        None => "sending".into(),
    };
    Some(AuditLine {
        at: s("ts").parse().unwrap_or(Timestamp::UNIX_EPOCH),
        stage: AuditStage::parse(&s("stage"))?,
        cluster: s("cluster"),
        target: format!("{}/{}", s("namespace"), s("name")),
        action: s("action"),
        outcome,
    })
}

impl Record<'_> {
    /// The audit screen's line for this record, as the console shows it live.
    pub fn line(&self, at: Timestamp) -> AuditLine {
        AuditLine {
            at,
            stage: self.stage,
            cluster: self.cluster.to_string(),
            target: format!("{}/{}", self.namespace, self.name),
            action: self.action.to_string(),
            outcome: self
                .outcome
                .map_or_else(|| "sending".into(), Outcome::summary),
        }
    }
}

/// Build a record for a plan (intent when `outcome` is None).
pub fn record<'a>(
    stage: AuditStage,
    id: u64,
    user: &'a str,
    plan: &'a ActionPlan,
    gate: Option<&'a GateOverride>,
    outcome: Option<&'a Outcome>,
    at: Timestamp,
) -> Record<'a> {
    let http_status = outcome.and_then(|o| match o {
        Outcome::Applied { status, .. }
        | Outcome::Conflict { status, .. }
        | Outcome::Forbidden { status, .. }
        | Outcome::Rejected { status, .. } => Some(*status),
        Outcome::Unknown { .. } => None,
    });
    Record {
        ts: at.to_string(),
        stage,
        id,
        user,
        cluster: &plan.cluster,
        kind: plan.release_kind.name(),
        namespace: &plan.namespace,
        name: &plan.name,
        uid: &plan.uid,
        action: plan.kind.label(),
        precondition: serde_json::json!({
            "resourceVersion": plan.seen.resource_version,
            "seen": plan.seen,
        }),
        requests: plan
            .calls
            .iter()
            .map(|c| serde_json::json!({"request": c.describe(), "call": c}))
            .collect(),
        gate_override: gate,
        http_status,
        outcome,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::action::{ActionKind, ApiCall, PatchType, ROLLOUTS_STATUS, Seen};
    use crate::core::model::ReleaseKind;

    fn plan() -> ActionPlan {
        ActionPlan {
            kind: ActionKind::Promote,
            cluster: "prod-eu-1".into(),
            release_kind: ReleaseKind::Rollout,
            namespace: "shop".into(),
            name: "checkout".into(),
            uid: "u-1".into(),
            prod: true,
            calls: vec![ApiCall::Patch {
                resource: ROLLOUTS_STATUS,
                namespace: "shop".into(),
                name: "checkout".into(),
                patch_type: PatchType::Merge,
                body: serde_json::json!({"status": {"pauseConditions": null}, "metadata": {"resourceVersion": "42"}}),
            }],
            seen: Seen {
                phase: "Paused".into(),
                step: Some((1, 6)),
                revision: Some(3),
                resource_version: "42".into(),
            },
            notes: vec![],
        }
    }

    #[test]
    fn tail_reads_intents_and_results_and_skips_anything_else() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("audit.jsonl");
        let log = AuditLog::open(&path).unwrap();
        let at = Timestamp::from_second(1_800_000_000).unwrap();
        log.write(&record(AuditStage::Intent, 1, "a", &plan(), None, None, at))
            .unwrap();
        let mut text = std::fs::read_to_string(&path).unwrap();
        text.push_str("{\"stage\":\"bogus\",\"cluster\":\"x\"}\nnot json\n");
        std::fs::write(&path, text).unwrap();
        let tail = log.tail(10);
        assert_eq!(tail.len(), 1, "{tail:?}");
        assert_eq!(tail[0].stage, AuditStage::Intent);
    }

    #[test]
    fn intent_then_result_with_mode_0600() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub/audit.jsonl");
        let log = AuditLog::open(&path).unwrap();
        let p = plan();
        let at = Timestamp::from_second(1_800_000_000).unwrap();
        log.write(&record(AuditStage::Intent, 7, "alice", &p, None, None, at))
            .unwrap();
        let outcome = Outcome::Applied {
            status: 200,
            detail: "ok".into(),
        };
        log.write(&record(
            AuditStage::Result,
            7,
            "alice",
            &p,
            None,
            Some(&outcome),
            at,
        ))
        .unwrap();
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        let text = std::fs::read_to_string(&path).unwrap();
        let lines: Vec<Value> = text
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(lines.len(), 2);
        assert_eq!(lines[0]["stage"], "intent");
        assert_eq!(lines[0]["precondition"]["resourceVersion"], "42");
        assert_eq!(lines[0]["uid"], "u-1");
        assert_eq!(lines[1]["stage"], "result");
        assert_eq!(lines[1]["http_status"], 200);
        let tail = log.tail(10);
        assert_eq!(tail.len(), 2);
        assert_eq!(tail[1].outcome, "applied");
        assert_eq!(tail[0].target, "shop/checkout");
    }

    #[test]
    fn existing_file_mode_is_tightened() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("audit.jsonl");
        std::fs::write(&path, "").unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        let _log = AuditLog::open(&path).unwrap();
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
    }
}
