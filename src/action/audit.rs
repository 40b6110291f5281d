//! The audit log: JSON lines, mode 0600, an intent record fsynced BEFORE a request is sent
//! and a result record after. Never holds tokens or other secrets: records are built from
//! the action plan and the outcome only. Every record carries this process's session id
//! and an id unique across consoles sharing the file (`<session>#<n>`). The file itself
//! (no links followed, reopened after rotation) is `file`'s business.

mod file;
#[cfg(test)]
mod tests;

use std::collections::hash_map::RandomState;
use std::fs::File;
use std::hash::BuildHasher;
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};

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
    /// This session has no audit log to write to (and so sends nothing).
    #[error("no audit log: {reason}")]
    Unavailable { reason: String },
}

/// One record: the intent before the request, the result after it.
#[derive(Debug, Serialize)]
pub struct Record<'a> {
    pub ts: String,
    pub stage: AuditStage,
    /// Unique across processes: `<session>#<seq>`.
    pub id: String,
    /// The writing console's session (see [`session`]).
    pub session: &'a str,
    /// The action's number within its session.
    pub seq: u64,
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

/// This process's session id, made once: start time, pid and a random part.
pub fn session() -> &'static str {
    static SESSION: OnceLock<String> = OnceLock::new();
    SESSION.get_or_init(new_session_id)
}

/// A fresh session id: `<UTC time>-<pid>-<random>`, e.g. `20261201T210748Z-4123-9f3a2c`.
/// The random part (std's per-process random hasher keys) tells apart two consoles
/// started in the same second that got the same pid (containers).
pub fn new_session_id() -> String {
    let now = Timestamp::now();
    let pid = std::process::id();
    let random = RandomState::new().hash_one((now.as_nanosecond(), pid));
    format!(
        "{}-{pid}-{:06x}",
        now.strftime("%Y%m%dT%H%M%SZ"),
        random & 0xff_ffff
    )
}

/// The record id of action `seq` in `session`.
pub fn record_id(session: &str, seq: u64) -> String {
    format!("{session}#{seq}")
}

/// Where the demo's simulated actions are recorded: beside the real log, `-demo` added to
/// its name (`audit.jsonl` → `audit-demo.jsonl`), so no simulated record sits in a real
/// audit trail.
pub fn demo_path(path: &Path) -> PathBuf {
    let stem = path
        .file_stem()
        .map_or_else(|| "audit".into(), |s| s.to_string_lossy().into_owned());
    let name = match path.extension() {
        Some(ext) => format!("{stem}-demo.{}", ext.to_string_lossy()),
        None => format!("{stem}-demo"),
    };
    path.with_file_name(name)
}

enum Sink {
    /// The file, once opened; None after a failed reopen (tried again on the next write).
    File(Option<file::Opened>),
    /// Nothing can be written, and why.
    Unavailable(String),
}

#[derive(Clone)]
pub struct AuditLog {
    path: PathBuf,
    sink: Arc<Mutex<Sink>>,
}

impl AuditLog {
    /// Default path: `<data dir>/audit.jsonl` from `directories`.
    pub fn default_path() -> Option<PathBuf> {
        directories::ProjectDirs::from("dev", "shipdeck", "shipdeck")
            .map(|d| d.data_dir().join("audit.jsonl"))
    }

    /// Open (or create) the log at `path`: a symbolic link there is refused, the file's
    /// mode is 0600, and a newly created file's directory is fsynced.
    pub fn open(path: &Path) -> Result<AuditLog, AuditError> {
        let opened = file::Opened::open(path).map_err(|source| io_error(path, source))?;
        Ok(AuditLog {
            path: path.to_path_buf(),
            sink: Arc::new(Mutex::new(Sink::File(Some(opened)))),
        })
    }

    /// A log that refuses every write with `reason` (a session that never writes and has
    /// no writable audit path). Its tail still reads `path` when that is readable.
    pub fn unavailable(path: &Path, reason: impl Into<String>) -> AuditLog {
        AuditLog {
            path: path.to_path_buf(),
            sink: Arc::new(Mutex::new(Sink::Unavailable(reason.into()))),
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Append one record and fsync it. When the path no longer names the open file
    /// (rotated or removed) the file is reopened first, so records follow the rotation.
    pub fn write(&self, record: &Record<'_>) -> Result<(), AuditError> {
        let err = |source| io_error(&self.path, source);
        let mut line = serde_json::to_vec(record).map_err(|e| err(std::io::Error::other(e)))?;
        line.push(b'\n');
        let mut sink = self
            .sink
            .lock()
            .map_err(|_| err(std::io::Error::other("audit log lock poisoned")))?;
        let slot = match &mut *sink {
            Sink::Unavailable(reason) => {
                return Err(AuditError::Unavailable {
                    reason: reason.clone(),
                });
            }
            Sink::File(slot) => slot,
        };
        let mut opened = match slot.take() {
            Some(f) if f.is_current(&self.path) => f,
            _ => file::Opened::open(&self.path).map_err(err)?,
        };
        let written = opened.append(&line).map_err(err);
        *slot = Some(opened);
        written
    }

    /// The last `n` records as audit-screen lines (unreadable lines, and lines that are no
    /// intent or result record, are skipped). Reads only the file's end: at most
    /// [`MAX_TAIL_BYTES`], however long the file has grown.
    pub fn tail(&self, n: usize) -> Vec<AuditLine> {
        self.tail_read(n).0
    }

    /// [`tail`](Self::tail), and how many bytes of the file it read.
    pub fn tail_read(&self, n: usize) -> (Vec<AuditLine>, u64) {
        if self.path.as_os_str().is_empty() || n == 0 {
            return (Vec::new(), 0);
        }
        let Ok(mut file) = File::open(&self.path) else {
            return (Vec::new(), 0);
        };
        let Ok(bytes) = last_lines(&mut file, n, MAX_TAIL_BYTES) else {
            return (Vec::new(), 0);
        };
        let mut lines: Vec<AuditLine> = bytes
            .split(|&b| b == b'\n')
            .filter_map(|l| serde_json::from_slice::<Value>(l).ok())
            .filter_map(|v| line_from_json(&v))
            .collect();
        let excess = lines.len().saturating_sub(n);
        lines.drain(..excess);
        (lines, bytes.len() as u64)
    }
}

/// Most bytes the audit screen reads from the end of the file (records are ~1 KB each: this
/// holds thousands, many more than the screen keeps).
pub const MAX_TAIL_BYTES: u64 = 4 << 20;

/// How much is read from the end at a time.
const TAIL_CHUNK: u64 = 64 << 10;

/// The end of `file` holding its last `n` whole lines, read backwards a chunk at a time, at
/// most `max` bytes: a line cut at the start of what was read is dropped.
fn last_lines(file: &mut File, n: usize, max: u64) -> std::io::Result<Vec<u8>> {
    let len = file.metadata()?.len();
    let mut start = len;
    let mut buf: Vec<u8> = Vec::new();
    let mut newlines = 0;
    // n whole lines need n + 1 newlines before the end (the file's last byte is one).
    while start > 0 && newlines <= n && len - start < max {
        let step = TAIL_CHUNK.min(start).min(max - (len - start));
        start -= step;
        let mut chunk = vec![0; usize::try_from(step).unwrap_or(0)];
        file.seek(SeekFrom::Start(start))?;
        file.read_exact(&mut chunk)?;
        newlines += chunk.iter().filter(|&&b| b == b'\n').count();
        chunk.extend_from_slice(&buf);
        buf = chunk;
    }
    if start > 0 {
        let first = buf
            .iter()
            .position(|&b| b == b'\n')
            .map_or(buf.len(), |i| i + 1);
        buf.drain(..first);
    }
    Ok(buf)
}

fn io_error(path: &Path, source: std::io::Error) -> AuditError {
    AuditError::Io {
        path: path.display().to_string(),
        source,
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
    // Records from before ids were unique have a number here: no id to group by.
    let id = v
        .get("id")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    Some(AuditLine {
        at: s("ts").parse().unwrap_or(Timestamp::UNIX_EPOCH),
        stage: AuditStage::parse(&s("stage"))?,
        own: !id.is_empty() && s("session") == session(),
        id,
        cluster: s("cluster"),
        target: format!("{}/{}", s("namespace"), s("name")),
        action: s("action"),
        outcome,
    })
}

impl<'a> Record<'a> {
    /// The same record as written by another session (tests: two consoles on one file).
    pub fn in_session(mut self, session: &'a str) -> Self {
        self.session = session;
        self.id = record_id(session, self.seq);
        self
    }

    /// The audit screen's line for this record, as the console shows it live.
    pub fn line(&self, at: Timestamp) -> AuditLine {
        AuditLine {
            at,
            stage: self.stage,
            id: self.id.clone(),
            own: self.session == session(),
            cluster: self.cluster.to_string(),
            target: format!("{}/{}", self.namespace, self.name),
            action: self.action.to_string(),
            outcome: self
                .outcome
                .map_or_else(|| "sending".into(), Outcome::summary),
        }
    }
}

/// Build a record of this session for a plan (intent when `outcome` is None); `id` is the
/// action's number in this session.
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
        id: record_id(session(), id),
        session: session(),
        seq: id,
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
