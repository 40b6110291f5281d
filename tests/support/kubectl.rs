//! The controllers' own tools, run as a user runs them: `kubectl` (the machine's, or the one
//! `tests/env/build` made) against a context of the test kubeconfig, and the shipdeck binary's
//! `snapshot --json` against the same context. Differential suites compare the two.

use std::path::{Path, PathBuf};
use std::process::Stdio;

use anyhow::{Context, Result, bail};
use serde_json::Value;

use super::TestEnv;

/// What one kubectl run printed, and how it exited.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ran {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

/// `kubectl --kubeconfig <env> --context <context> ...`.
#[derive(Debug, Clone)]
pub struct Kubectl {
    pub bin: PathBuf,
    kubeconfig: PathBuf,
    context: String,
}

/// `kubectl` on PATH, else the one the environment's build cached (tests/env/lib.sh does
/// the same).
fn find_kubectl(env: &TestEnv) -> Result<PathBuf> {
    if let Some(path) = std::env::var_os("PATH") {
        for dir in std::env::split_paths(&path) {
            let bin = dir.join("kubectl");
            if bin.is_file() {
                return Ok(bin);
            }
        }
    }
    let testbin = env
        .var("SHIPDECK_TESTBIN")
        .context("no kubectl on PATH and env.sh sets no SHIPDECK_TESTBIN")?;
    let entries = std::fs::read_dir(testbin).with_context(|| format!("reading {testbin}"))?;
    for entry in entries.flatten() {
        let bin = entry.path().join("kubectl");
        let is_kubectl = entry.file_name().to_string_lossy().starts_with("kubectl-");
        if is_kubectl && bin.is_file() {
            return Ok(bin);
        }
    }
    bail!("no kubectl on PATH or under {testbin}: run tests/env/build")
}

impl Kubectl {
    pub fn new(env: &TestEnv, context: &str) -> Result<Kubectl> {
        Ok(Kubectl {
            bin: find_kubectl(env)?,
            kubeconfig: env.kubeconfig.clone(),
            context: context.to_owned(),
        })
    }

    /// Run with `args`; a non-zero exit is a result, not an error.
    pub async fn run(&self, args: &[&str]) -> Result<Ran> {
        let out = tokio::process::Command::new(&self.bin)
            .arg("--kubeconfig")
            .arg(&self.kubeconfig)
            .arg("--context")
            .arg(&self.context)
            .args(args)
            .stdin(Stdio::null())
            .output()
            .await
            .with_context(|| format!("running {} {args:?}", self.bin.display()))?;
        Ok(Ran {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        })
    }

    /// Run and insist on exit 0; stdout.
    pub async fn ok(&self, args: &[&str]) -> Result<String> {
        let ran = self.run(args).await?;
        if ran.code != 0 {
            bail!("kubectl {args:?} exited {}: {}", ran.code, ran.stderr);
        }
        Ok(ran.stdout)
    }
}

/// `shipdeck snapshot --json --context <context>` of the real binary, with a home of its own
/// (no config file, no Prometheus): the JSON it printed.
pub async fn shipdeck_snapshot(env: &TestEnv, context: &str, home: &Path) -> Result<Value> {
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_shipdeck"))
        .args(["snapshot", "--json", "--wait", "30", "--context", context])
        .env("HOME", home)
        .env("XDG_CONFIG_HOME", home.join(".config"))
        .env("XDG_DATA_HOME", home.join(".local/share"))
        .env("XDG_CACHE_HOME", home.join(".cache"))
        .env("KUBECONFIG", &env.kubeconfig)
        .env_remove("SHIPDECK_PROMETHEUS_URL")
        .stdin(Stdio::null())
        .output()
        .await
        .context("running shipdeck snapshot")?;
    if !out.status.success() {
        bail!(
            "shipdeck snapshot --json --context {context} exited {}: {}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
    }
    serde_json::from_slice(&out.stdout).context("shipdeck snapshot --json printed no JSON")
}

/// The release `kind`/`namespace`/`name` in a snapshot.
pub fn snapshot_release<'a>(
    snapshot: &'a Value,
    kind: &str,
    namespace: &str,
    name: &str,
) -> Option<&'a Value> {
    snapshot["releases"]
        .as_array()?
        .iter()
        .find(|r| r["kind"] == kind && r["namespace"] == namespace && r["name"] == name)
}

/// The rows of a `kubectl get` table as (column, cell) pairs. kubectl aligns every cell
/// under its column's header and leaves empty cells blank, so a cell is the text from its
/// header's offset to the next header's.
pub fn table(text: &str) -> Vec<Vec<(String, String)>> {
    let mut lines = text.lines().filter(|l| !l.trim().is_empty());
    let Some(header) = lines.next() else {
        return Vec::new();
    };
    let mut starts = Vec::new();
    let mut prev = ' ';
    for (i, c) in header.char_indices() {
        if c != ' ' && prev == ' ' {
            starts.push(i);
        }
        prev = c;
    }
    let cell = |l: &str, from: usize, to: Option<usize>| -> String {
        let end = to.unwrap_or(l.len()).min(l.len());
        l.get(from.min(end)..end).unwrap_or("").trim().to_owned()
    };
    let names: Vec<String> = (0..starts.len())
        .map(|i| cell(header, starts[i], starts.get(i + 1).copied()))
        .collect();
    lines
        .map(|l| {
            (0..starts.len())
                .map(|i| {
                    (
                        names[i].clone(),
                        cell(l, starts[i], starts.get(i + 1).copied()),
                    )
                })
                .collect()
        })
        .collect()
}

/// One compared value: the state it was seen in, what it is, what each side says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    pub state: String,
    pub field: String,
    pub kubectl: String,
    pub shipdeck: String,
}

impl Row {
    pub fn new(
        state: &str,
        field: &str,
        kubectl: impl Into<String>,
        shipdeck: impl Into<String>,
    ) -> Row {
        Row {
            state: state.to_owned(),
            field: field.to_owned(),
            kubectl: kubectl.into(),
            shipdeck: shipdeck.into(),
        }
    }

    pub fn equal(&self) -> bool {
        self.kubectl == self.shipdeck
    }
}

/// `state | field | kubectl | shipdeck | equal`, columns aligned; the number of rows that
/// differ.
pub fn print_table(title: &str, rows: &[Row]) -> usize {
    let head = Row::new("state", "field", "kubectl", "shipdeck");
    let all: Vec<&Row> = std::iter::once(&head).chain(rows).collect();
    let width = |f: fn(&Row) -> &str| all.iter().map(|r| f(r).chars().count()).max().unwrap_or(0);
    let (ws, wf, wk, wd) = (
        width(|r| &r.state),
        width(|r| &r.field),
        width(|r| &r.kubectl),
        width(|r| &r.shipdeck),
    );
    let mut out = format!("\n{title}\n");
    for (i, r) in all.iter().enumerate() {
        let equal = if i == 0 {
            "equal"
        } else if r.equal() {
            "yes"
        } else {
            "NO"
        };
        out.push_str(&format!(
            "{:ws$} | {:wf$} | {:wk$} | {:wd$} | {equal}\n",
            r.state, r.field, r.kubectl, r.shipdeck
        ));
    }
    eprintln!("{out}");
    rows.iter().filter(|r| !r.equal()).count()
}
