//! The `flux` CLI (flux2 v2.9, built by `tests/env/build flux-cli`: the release that ships the
//! environment's source- and kustomize-controller v1.9) and a reader of `flux get
//! kustomizations`. Its table is the reference the console is compared with. Included by
//! tests/e2e_flux.rs with `#[path]`; its parser tests run there.

use std::collections::BTreeMap;
use std::path::PathBuf;

use anyhow::{Context, Result, bail};

/// The CLI, run with a kubeconfig context.
#[derive(Debug, Clone)]
pub struct FluxCli {
    pub bin: PathBuf,
    pub kubeconfig: PathBuf,
    pub context: String,
}

/// One row of `flux get kustomizations`: the columns as printed (revision and message with
/// long hex runs cut to 8 characters, as the CLI prints them).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KsRow {
    pub name: String,
    pub revision: String,
    pub suspended: String,
    pub ready: String,
    pub message: String,
}

impl FluxCli {
    /// The CLI of the environment (`SHIPDECK_TESTENV_FLUX_CLI` in env.sh).
    pub fn of(env: &crate::support::TestEnv, context: &str) -> Result<FluxCli> {
        let bin = env.tool("SHIPDECK_TESTENV_FLUX_CLI", "flux-cli")?;
        Ok(FluxCli {
            bin,
            kubeconfig: env.kubeconfig.clone(),
            context: context.to_string(),
        })
    }

    /// Run `flux ARGS -n NS`; its stdout, or an error with its stderr.
    pub async fn run(&self, ns: &str, args: &[&str]) -> Result<String> {
        let out = tokio::process::Command::new(&self.bin)
            .args(args)
            .arg("--kubeconfig")
            .arg(&self.kubeconfig)
            .args(["--context", &self.context, "-n", ns])
            .env("TERM", "dumb")
            .stdin(std::process::Stdio::null())
            .output()
            .await
            .with_context(|| format!("running {}", self.bin.display()))?;
        if !out.status.success() {
            bail!(
                "flux {} failed ({}): {}{}",
                args.join(" "),
                out.status,
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
        }
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    }

    /// `flux get kustomizations -n NS`, by name.
    pub async fn kustomizations(&self, ns: &str) -> Result<BTreeMap<String, KsRow>> {
        let text = self.run(ns, &["get", "kustomizations"]).await?;
        KsRow::parse(&text).with_context(|| format!("parsing `flux get kustomizations`:\n{text}"))
    }
}

impl KsRow {
    /// The CLI's table: a header line, then one line per object; cells padded with spaces
    /// and separated by tabs (tablewriter with a tab padding and no borders).
    pub fn parse(text: &str) -> Result<BTreeMap<String, KsRow>> {
        let mut lines = text.lines().filter(|l| !l.trim().is_empty());
        let header: Vec<String> = match lines.next() {
            Some(h) => h.split('\t').map(|c| c.trim().to_uppercase()).collect(),
            None => bail!("no header line"),
        };
        let col = |name: &str| {
            header
                .iter()
                .position(|h| h == name)
                .with_context(|| format!("no {name} column in {header:?}"))
        };
        let (name, revision, suspended, ready, message) = (
            col("NAME")?,
            col("REVISION")?,
            col("SUSPENDED")?,
            col("READY")?,
            col("MESSAGE")?,
        );
        let mut rows = BTreeMap::new();
        for line in lines {
            // Each line ends with the padding (spaces and a tab).
            let cells: Vec<&str> = line.trim_end().split('\t').map(str::trim).collect();
            if cells.len() != header.len() {
                bail!("{} cells, {} columns: {line:?}", cells.len(), header.len());
            }
            let row = KsRow {
                name: cells[name].to_string(),
                revision: cells[revision].to_string(),
                suspended: cells[suspended].to_string(),
                ready: cells[ready].to_string(),
                message: cells[message].to_string(),
            };
            rows.insert(row.name.clone(), row);
        }
        Ok(rows)
    }
}

/// What the CLI does to revisions and messages before printing them (flux2
/// `internal/utils.TruncateHex`, `\b[a-f0-9]{40,128}\b`): every word of 40 to 128 lower-case
/// hex digits is cut to its first 8.
pub fn truncate_hex(s: &str) -> String {
    let word = |c: char| c.is_ascii_alphanumeric() || c == '_';
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(start) = rest.find(word) {
        out.push_str(&rest[..start]);
        let tail = &rest[start..];
        let end = tail.find(|c: char| !word(c)).unwrap_or(tail.len());
        let w = &tail[..end];
        let hex = w
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
        if hex && (40..=128).contains(&w.len()) {
            out.push_str(&w[..8]);
        } else {
            out.push_str(w);
        }
        rest = &tail[end..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const SHA: &str = "0123456789abcdef0123456789abcdef01234567";

    #[test]
    fn a_table_as_the_cli_prints_it_parses_by_column() {
        let text = "NAME\tREVISION          \tSUSPENDED\tREADY\tMESSAGE                              \n\
                    one \tmain@sha1:01234567\tFalse    \tTrue \tApplied revision: main@sha1:01234567\t\n\
                    two \tmain@sha1:01234567\tTrue     \tTrue \tApplied revision: main@sha1:01234567\t\n";
        let rows = KsRow::parse(text).unwrap();
        assert_eq!(rows.len(), 2);
        assert_eq!(rows["two"].suspended, "True");
        assert_eq!(rows["one"].revision, "main@sha1:01234567");
        assert_eq!(rows["one"].message, "Applied revision: main@sha1:01234567");
    }

    #[test]
    fn a_row_that_does_not_fit_the_header_is_an_error() {
        let err = KsRow::parse("NAME\tREVISION\tSUSPENDED\tREADY\tMESSAGE\none\tTrue\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("2 cells, 5 columns"), "{err}");
        assert!(KsRow::parse("NAME\tREADY\n").is_err(), "no REVISION column");
    }

    #[test]
    fn hex_is_cut_only_where_the_cli_cuts_it() {
        assert_eq!(
            truncate_hex(&format!("main@sha1:{SHA}")),
            "main@sha1:01234567"
        );
        assert_eq!(
            truncate_hex(&format!("Applied revision: main@sha1:{SHA}")),
            "Applied revision: main@sha1:01234567"
        );
        // Too short, upper case, or part of a longer word: left alone.
        assert_eq!(truncate_hex("main@sha1:0123abcd"), "main@sha1:0123abcd");
        let upper = SHA.to_uppercase();
        assert_eq!(truncate_hex(&upper), upper);
        let glued = format!("x{SHA}");
        assert_eq!(truncate_hex(&glued), glued);
        assert_eq!(truncate_hex(""), "");
        assert_eq!(truncate_hex("✔ ünïcode"), "✔ ünïcode");
    }
}
