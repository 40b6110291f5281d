//! The argocd CLI (v3.6.1: the environment's Argo CD binary, run under its CLI name) in core
//! mode, and a reader of what it prints. `--core` starts Argo CD's own API server in-process
//! against the Kubernetes API, as `argocd --core` does on a cluster with no argocd-server; it
//! reads the Argo CD namespace of the kubeconfig context, so the CLI gets a kubeconfig of its
//! own with that namespace set. Read: `app get --show-operation` (the summary fields, the
//! operation and the resources table), `app history` and `app list -o wide`. Included by
//! tests/e2e_argocd.rs (its parser tests run there).

use std::collections::BTreeMap;
use std::path::PathBuf;

use anyhow::{Context, Result, bail};

/// The CLI, on one kubeconfig context.
#[derive(Debug)]
pub struct ArgocdCli {
    pub bin: PathBuf,
    pub context: String,
    /// The kubeconfig and an empty argocd config dir, removed on drop.
    dir: tempfile::TempDir,
}

/// `app get`: the `Key:` lines of the summary and the operation (the first of each key), and
/// the resources table.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct AppGet {
    pub fields: BTreeMap<String, String>,
    pub resources: Vec<BTreeMap<String, String>>,
}

/// `Sync Status:` taken apart: `Synced to main (1a2b3c4)`, `OutOfSync from main (1a2b3c4)`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct SyncStatus {
    pub status: String,
    pub target: String,
    /// The first 7 of the revision compared with (empty when the CLI prints none).
    pub revision: String,
}

impl ArgocdCli {
    /// The CLI of the environment (`SHIPDECK_TESTENV_ARGOCD_CLI` in env.sh) on `context`,
    /// whose namespace is set to the Argo CD namespace `namespace`.
    pub fn of(env: &crate::support::TestEnv, context: &str, namespace: &str) -> Result<ArgocdCli> {
        let bin = env.tool("SHIPDECK_TESTENV_ARGOCD_CLI", "argocd")?;
        let mut config = kube::config::Kubeconfig::read_from(&env.kubeconfig)
            .with_context(|| format!("read {}", env.kubeconfig.display()))?;
        let named = config
            .contexts
            .iter_mut()
            .find(|c| c.name == context)
            .with_context(|| format!("no context {context} in the env's kubeconfig"))?;
        named
            .context
            .as_mut()
            .with_context(|| format!("context {context} is empty"))?
            .namespace = Some(namespace.to_string());
        config.current_context = Some(context.to_string());
        let dir = tempfile::tempdir()?;
        std::fs::write(
            dir.path().join("kubeconfig"),
            serde_yaml::to_string(&config)?,
        )?;
        Ok(ArgocdCli {
            bin,
            context: context.to_string(),
            dir,
        })
    }

    /// Run `argocd ARGS --core`; its stdout, or an error with its stderr (or after a minute,
    /// when it is killed).
    pub async fn run(&self, args: &[&str]) -> Result<String> {
        let run = tokio::process::Command::new(&self.bin)
            .args(args)
            .arg("--core")
            .args(["--kube-context", &self.context])
            .arg("--config")
            .arg(self.dir.path().join("argocd-config"))
            .env("KUBECONFIG", self.dir.path().join("kubeconfig"))
            .env("TERM", "dumb")
            .kill_on_drop(true)
            .output();
        let out = tokio::time::timeout(std::time::Duration::from_secs(60), run)
            .await
            .with_context(|| format!("argocd {} still running after 60 s", args.join(" ")))?
            .with_context(|| format!("running {}", self.bin.display()))?;
        if !out.status.success() {
            bail!(
                "argocd {} failed ({}): {}",
                args.join(" "),
                out.status,
                String::from_utf8_lossy(&out.stderr)
            );
        }
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    }

    pub async fn get(&self, app: &str) -> Result<AppGet> {
        let text = self.run(&["app", "get", app, "--show-operation"]).await?;
        AppGet::parse(&text).with_context(|| format!("parsing `argocd app get`:\n{text}"))
    }

    /// `app history`: one row per entry (ID, DATE, REVISION), oldest first as printed. An
    /// app never synced has no history, and argocd prints nothing at all for it.
    pub async fn history(&self, app: &str) -> Result<Vec<BTreeMap<String, String>>> {
        let text = self.run(&["app", "history", app]).await?;
        if text.trim().is_empty() {
            return Ok(Vec::new());
        }
        let lines: Vec<&str> = text.lines().collect();
        let at = lines
            .iter()
            .position(|l| l.starts_with("ID "))
            .with_context(|| format!("no ID header in `argocd app history`:\n{text}"))?;
        table(&lines[at..]).with_context(|| format!("parsing `argocd app history`:\n{text}"))
    }

    /// `app list -o wide`, by name.
    pub async fn list(&self) -> Result<BTreeMap<String, BTreeMap<String, String>>> {
        let text = self.run(&["app", "list", "-o", "wide"]).await?;
        let lines: Vec<&str> = text.lines().collect();
        let rows = table(&lines).with_context(|| format!("parsing `argocd app list`:\n{text}"))?;
        Ok(rows
            .into_iter()
            .map(|r| (r.get("NAME").cloned().unwrap_or_default(), r))
            .collect())
    }
}

impl AppGet {
    /// The summary lines are `%-20s%s` (a key padded to 20 columns, then the value); a
    /// blank line, the conditions table or the operation may follow; the resources table
    /// starts at its `GROUP` header and runs to the end.
    pub fn parse(text: &str) -> Result<AppGet> {
        let lines: Vec<&str> = text.lines().collect();
        let table_at = lines.iter().position(|l| l.starts_with("GROUP "));
        let mut fields = BTreeMap::new();
        for line in &lines[..table_at.unwrap_or(lines.len())] {
            let (key, value) = match (line.get(..20), line.get(20..)) {
                (Some(k), Some(v)) => (k.trim_end(), v.trim()),
                _ => (line.trim_end(), ""),
            };
            if let Some(key) = key.strip_suffix(':').map(str::trim)
                && !key.is_empty()
                && !key.contains("  ")
            {
                fields
                    .entry(key.to_string())
                    .or_insert_with(|| value.to_string());
            }
        }
        if !fields.contains_key("Sync Status") {
            bail!("no Sync Status line");
        }
        let resources = match table_at {
            Some(at) => table(&lines[at..])?,
            None => Vec::new(),
        };
        Ok(AppGet { fields, resources })
    }

    pub fn field(&self, key: &str) -> &str {
        self.fields.get(key).map_or("", String::as_str)
    }

    pub fn sync_status(&self) -> SyncStatus {
        SyncStatus::parse(self.field("Sync Status"))
    }
}

impl SyncStatus {
    pub fn parse(s: &str) -> SyncStatus {
        let (head, revision) = match s.rsplit_once(" (") {
            Some((h, r)) if r.ends_with(')') => (h, r.trim_end_matches(')').to_string()),
            _ => (s, String::new()),
        };
        let (status, target) = match head.split_once(' ') {
            Some((st, rest)) => (
                st,
                rest.strip_prefix("to ")
                    .or_else(|| rest.strip_prefix("from "))
                    .unwrap_or(rest),
            ),
            None => (head, ""),
        };
        SyncStatus {
            status: status.to_string(),
            target: target.to_string(),
            revision,
        }
    }
}

/// `Sync Policy:` of `app get` (`Manual`, `Automated`, `Automated (Prune)`) and SYNCPOLICY
/// of `app list` (`Manual`, `Auto`, `Auto-Prune`), as (automated, prune).
pub fn sync_policy(s: &str) -> Result<(bool, bool)> {
    Ok(match s {
        "Manual" => (false, false),
        "Automated" | "Auto" => (true, false),
        "Automated (Prune)" | "Auto-Prune" => (true, true),
        other => bail!("unknown sync policy {other:?}"),
    })
}

/// A table printed by Go's tabwriter (two spaces of padding, no borders): the header's
/// column names (separated by two or more spaces; a name may hold one, `LAST TRANSITION`)
/// give each column's start, which every row shares. Empty cells are blank.
pub fn table(lines: &[&str]) -> Result<Vec<BTreeMap<String, String>>> {
    let Some((header, rows)) = lines.split_first() else {
        bail!("no header line");
    };
    let mut starts = Vec::new();
    let mut at = 0;
    while at < header.len() {
        let rest = &header[at..];
        let Some(skip) = rest.find(|c: char| c != ' ') else {
            break;
        };
        let start = at + skip;
        let len = header[start..].find("  ").unwrap_or(header.len() - start);
        starts.push((header[start..start + len].to_string(), start));
        at = start + len;
    }
    if starts.is_empty() {
        bail!("empty header");
    }
    let mut out = Vec::new();
    for line in rows.iter().filter(|l| !l.trim().is_empty()) {
        let mut row = BTreeMap::new();
        for (i, (name, start)) in starts.iter().enumerate() {
            let from = (*start).min(line.len());
            let to = starts
                .get(i + 1)
                .map_or(line.len(), |(_, s)| *s)
                .clamp(from, line.len());
            let cell = line
                .get(from..to)
                .with_context(|| format!("a cell of {line:?} is not on a char boundary"))?;
            row.insert(name.clone(), cell.trim().to_string());
        }
        out.push(row);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    // Printed by argocd v3.6.1 `app get --show-operation` (shape of printAppSummaryTable,
    // printOperationResult and printAppResources).
    const GET: &str = "\
Name:               argocd/web
Project:            default
Server:             https://127.0.0.1:24010
Namespace:          e2e-a-1
URL:                https://argocd.example.com/applications/web
Source:
- Repo:             git://127.0.0.1:24038/web.git
  Target:           main
  Path:             app
SyncWindow:         Sync Allowed
Sync Policy:        Automated (Prune)
Sync Status:        Synced to main (1a2b3c4)
Health Status:      Progressing

Operation:          Sync
Sync Revision:      1a2b3c4d5e6f708192a3b4c5d6e7f80912345678
Phase:              Succeeded
Start:              2026-12-03 10:00:00 +0000 UTC
Finished:           2026-12-03 10:00:02 +0000 UTC
Duration:           2s
Message:            successfully synced (all tasks run)

GROUP  KIND        NAMESPACE  NAME  STATUS  HEALTH       HOOK  MESSAGE
       ConfigMap   e2e-a-1    cfg   Synced                     configmap/cfg created
apps   Deployment  e2e-a-1    web   Synced  Progressing        deployment.apps/web created
";

    #[test]
    fn app_get_fields_operation_and_resources() {
        let g = AppGet::parse(GET).unwrap();
        assert_eq!(g.field("Sync Policy"), "Automated (Prune)");
        assert_eq!(g.field("Health Status"), "Progressing");
        assert_eq!(g.field("- Repo"), "git://127.0.0.1:24038/web.git");
        assert_eq!(g.field("Target"), "main");
        assert_eq!(g.field("Phase"), "Succeeded");
        assert_eq!(g.field("Message"), "successfully synced (all tasks run)");
        assert_eq!(
            g.sync_status(),
            SyncStatus {
                status: "Synced".into(),
                target: "main".into(),
                revision: "1a2b3c4".into()
            }
        );
        assert_eq!(g.resources.len(), 2);
        assert_eq!(g.resources[0]["GROUP"], "");
        assert_eq!(g.resources[0]["HEALTH"], "");
        assert_eq!(g.resources[0]["MESSAGE"], "configmap/cfg created");
        assert_eq!(g.resources[1]["GROUP"], "apps");
        assert_eq!(g.resources[1]["KIND"], "Deployment");
        assert_eq!(g.resources[1]["HEALTH"], "Progressing");
    }

    #[test]
    fn sync_status_forms() {
        let s = SyncStatus::parse("OutOfSync from main (1a2b3c4)");
        assert_eq!(
            (s.status.as_str(), s.target.as_str()),
            ("OutOfSync", "main")
        );
        assert_eq!(s.revision, "1a2b3c4");
        let s = SyncStatus::parse("Unknown");
        assert_eq!(s.status, "Unknown");
        assert_eq!((s.target.as_str(), s.revision.as_str()), ("", ""));
        assert_eq!(sync_policy("Auto-Prune").unwrap(), (true, true));
        assert_eq!(sync_policy("Manual").unwrap(), (false, false));
        assert!(sync_policy("Sometimes").is_err());
    }

    #[test]
    fn history_table_with_spaces_in_cells() {
        let lines = [
            "ID  DATE                           REVISION",
            "0   2026-12-03 10:00:02 +0000 UTC  main (1a2b3c4)",
            "1   2026-12-03 10:01:40 +0000 UTC  main (9f8e7d6)",
        ];
        let rows = table(&lines).unwrap();
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[1]["ID"], "1");
        assert_eq!(rows[1]["DATE"], "2026-12-03 10:01:40 +0000 UTC");
        assert_eq!(rows[1]["REVISION"], "main (9f8e7d6)");
    }
}
