//! The Argo Rollouts kubectl plugin (`kubectl-argo-rollouts`, built by `tests/env/build
//! argo-rollouts-plugin` from the controller's module version) and a reader of its text
//! output: `get rollout --no-color` (header fields and the resource tree) and `list rollouts`.
//! The plugin has no JSON output, so its printed text is the reference. Included by
//! tests/e2e_differential.rs with `#[path]` (its parser tests run there only).

use std::path::PathBuf;

use anyhow::{Context, Result, bail};

/// The plugin, run with a kubeconfig context.
#[derive(Debug, Clone)]
pub struct Plugin {
    pub bin: PathBuf,
    pub kubeconfig: PathBuf,
    pub context: String,
}

impl Plugin {
    /// The plugin of the environment (`SHIPDECK_TESTENV_ROLLOUTS_PLUGIN` in env.sh).
    pub fn of(env: &crate::support::TestEnv, context: &str) -> Result<Plugin> {
        let bin = env.tool("SHIPDECK_TESTENV_ROLLOUTS_PLUGIN", "argo-rollouts-plugin")?;
        Ok(Plugin {
            bin,
            kubeconfig: env.kubeconfig.clone(),
            context: context.to_string(),
        })
    }

    /// Run the plugin in namespace `ns`; its stdout, or an error with its stderr.
    pub async fn run(&self, ns: &str, args: &[&str]) -> Result<String> {
        let out = tokio::process::Command::new(&self.bin)
            .arg("--kubeconfig")
            .arg(&self.kubeconfig)
            .args(["--context", &self.context, "-n", ns])
            .args(args)
            .env("TERM", "dumb")
            .output()
            .await
            .with_context(|| format!("running {}", self.bin.display()))?;
        if !out.status.success() {
            bail!(
                "kubectl-argo-rollouts {} failed ({}): {}",
                args.join(" "),
                out.status,
                String::from_utf8_lossy(&out.stderr)
            );
        }
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    }

    pub async fn get(&self, ns: &str, name: &str) -> Result<GetView> {
        let text = self
            .run(ns, &["get", "rollout", name, "--no-color"])
            .await?;
        GetView::parse(&text).with_context(|| format!("parsing `get rollout` output:\n{text}"))
    }

    pub async fn list(&self, ns: &str) -> Result<Vec<ListRow>> {
        let text = self.run(ns, &["list", "rollouts"]).await?;
        ListRow::parse(&text).with_context(|| format!("parsing `list rollouts` output:\n{text}"))
    }
}

/// One line of the resource tree under the Rollout.
#[derive(Debug, Clone, PartialEq)]
pub struct TreeRow {
    /// 1 = revision, 2 = the revision's ReplicaSets/Experiments/AnalysisRuns, 3 = their children.
    pub depth: usize,
    pub icon: char,
    pub name: String,
    pub kind: String,
    pub status: String,
    pub info: String,
    /// The `revision:N` this row is under.
    pub revision: Option<i64>,
}

/// What `get rollout` printed.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct GetView {
    pub status: String,
    pub message: String,
    pub strategy: String,
    pub step: String,
    pub set_weight: String,
    pub actual_weight: String,
    /// `image (tag, tag)` lines as printed.
    pub images: Vec<String>,
    pub tree: Vec<TreeRow>,
}

/// The label of a header line (`%-17s%v`): its value, or None when the line is not that field.
fn field<'a>(line: &'a str, label: &str) -> Option<&'a str> {
    line.strip_prefix(label).map(str::trim)
}

impl GetView {
    pub fn parse(text: &str) -> Result<GetView> {
        let mut v = GetView::default();
        let mut lines = text.lines();
        let mut in_images = false;
        for line in lines.by_ref() {
            if line.starts_with("NAME") && line.contains("KIND") {
                break;
            }
            if in_images {
                // Continuation lines are indented to the value column (17).
                if line.starts_with("                 ") {
                    v.images.push(line.trim().to_string());
                    continue;
                }
                in_images = false;
            }
            if let Some(s) = field(line, "Status:") {
                // icon, then the status
                v.status = s.split_whitespace().last().unwrap_or("").to_string();
            } else if let Some(s) = field(line, "Message:") {
                v.message = s.to_string();
            } else if let Some(s) = field(line, "Strategy:") {
                v.strategy = s.to_string();
            } else if let Some(s) = field(line, "  Step:") {
                v.step = s.to_string();
            } else if let Some(s) = field(line, "  SetWeight:") {
                v.set_weight = s.to_string();
            } else if let Some(s) = field(line, "  ActualWeight:") {
                v.actual_weight = s.to_string();
            } else if let Some(s) = field(line, "Images:") {
                v.images.push(s.to_string());
                in_images = true;
            }
        }
        if v.status.is_empty() {
            bail!("no Status: line");
        }
        let mut revision = None;
        for line in lines {
            let Some(row) = tree_row(line, revision) else {
                continue;
            };
            if row.icon == '#' {
                revision = row
                    .name
                    .strip_prefix("revision:")
                    .and_then(|r| r.parse().ok());
            }
            v.tree.push(TreeRow { revision, ..row });
        }
        Ok(v)
    }

    /// The Rollout's own ReplicaSets (not an Experiment's), in printed order.
    pub fn replicasets(&self) -> impl Iterator<Item = &TreeRow> {
        self.tree
            .iter()
            .filter(|r| r.depth == 2 && r.kind == "ReplicaSet")
    }

    /// The tree row of the object `name`.
    pub fn row(&self, name: &str) -> Option<&TreeRow> {
        self.tree.iter().find(|r| r.name == name)
    }
}

/// Parse one tree line: `<prefix><icon> <name>  <kind>  <icon> <status>  <age>  <info>`.
fn tree_row(line: &str, revision: Option<i64>) -> Option<TreeRow> {
    let prefix: String = line
        .chars()
        .take_while(|c| matches!(c, '│' | '├' | '└' | '─' | ' '))
        .collect();
    let rest = &line[prefix.len()..];
    let mut chars = rest.chars();
    let icon = chars.next()?;
    let rest = chars.as_str().trim_start();
    // tabwriter pads with at least two spaces between columns
    let cols: Vec<&str> = rest
        .split("  ")
        .map(str::trim)
        .filter(|c| !c.is_empty())
        .collect();
    let name = cols.first()?.to_string();
    let depth = prefix.chars().count() / 3;
    let kind = cols.get(1).copied().unwrap_or("").to_string();
    let status = cols
        .get(2)
        .and_then(|s| s.split_whitespace().last())
        .unwrap_or("")
        .to_string();
    let info = cols.get(4).copied().unwrap_or("").to_string();
    Some(TreeRow {
        depth,
        icon,
        name,
        kind,
        status,
        info,
        revision,
    })
}

/// A row of `list rollouts`.
#[derive(Debug, Clone, PartialEq)]
pub struct ListRow {
    pub name: String,
    pub strategy: String,
    pub status: String,
    pub step: String,
    pub set_weight: String,
    pub ready: String,
    pub desired: String,
    pub up_to_date: String,
    pub available: String,
}

impl ListRow {
    pub fn parse(text: &str) -> Result<Vec<ListRow>> {
        let mut rows = Vec::new();
        for line in text.lines() {
            let c: Vec<&str> = line.split_whitespace().collect();
            if c.is_empty() || c[0] == "NAME" {
                continue;
            }
            if c.len() != 9 {
                bail!("unexpected list row {line:?}");
            }
            rows.push(ListRow {
                name: c[0].into(),
                strategy: c[1].into(),
                status: c[2].into(),
                step: c[3].into(),
                set_weight: c[4].into(),
                ready: c[5].into(),
                desired: c[6].into(),
                up_to_date: c[7].into(),
                available: c[8].into(),
            });
        }
        Ok(rows)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GET: &str = "Name:            web
Namespace:       ns1
Status:          ॥ Paused
Message:         CanaryPauseStep
Strategy:        Canary
  Step:          1/2
  SetWeight:     20
  ActualWeight:  20
Images:          registry.local/web:1 (stable)
                 registry.local/web:2 (canary)
Replicas:
  Desired:       5
  Current:       5
  Updated:       1
  Ready:         5
  Available:     5

NAME                             KIND         STATUS        AGE  INFO
⟳ web                            Rollout      ॥ Paused      12s
├──# revision:2
│  ├──⧉ web-6d4f                 ReplicaSet   ✔ Healthy     5s   canary
│  │  └──□ web-6d4f-abcde        Pod          ✔ Running     5s   ready:1/1
│  └──α web-6d4f-2-1             AnalysisRun  ◌ Running     4s   ✔ 1
└──# revision:1
   └──⧉ web-7b9c                 ReplicaSet   ✔ Healthy     12s  stable,active
";

    #[test]
    fn parses_get_rollout() {
        let v = GetView::parse(GET).unwrap();
        assert_eq!(v.status, "Paused");
        assert_eq!(v.message, "CanaryPauseStep");
        assert_eq!(v.strategy, "Canary");
        assert_eq!(
            (
                v.step.as_str(),
                v.set_weight.as_str(),
                v.actual_weight.as_str()
            ),
            ("1/2", "20", "20")
        );
        assert_eq!(
            v.images,
            vec![
                "registry.local/web:1 (stable)",
                "registry.local/web:2 (canary)"
            ]
        );
        let rs: Vec<_> = v
            .replicasets()
            .map(|r| (r.name.as_str(), r.revision, r.info.as_str()))
            .collect();
        assert_eq!(
            rs,
            vec![
                ("web-6d4f", Some(2), "canary"),
                ("web-7b9c", Some(1), "stable,active")
            ]
        );
        let ar = v.row("web-6d4f-2-1").unwrap();
        assert_eq!(
            (ar.kind.as_str(), ar.status.as_str()),
            ("AnalysisRun", "Running")
        );
        assert_eq!(v.row("web-6d4f-abcde").unwrap().depth, 3);
    }

    #[test]
    fn parses_list_rollouts() {
        let text = "NAME  STRATEGY   STATUS        STEP  SET-WEIGHT  READY  DESIRED  UP-TO-DATE  AVAILABLE\n\
                    web   Canary     Paused        1/2   20          5/5    5        1           5        \n\
                    bg    BlueGreen  Healthy       -     -           2/4    2        2           2        \n";
        let rows = ListRow::parse(text).unwrap();
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[1].strategy, "BlueGreen");
        assert_eq!(rows[0].set_weight, "20");
        assert_eq!(rows[1].ready, "2/4");
    }
}
