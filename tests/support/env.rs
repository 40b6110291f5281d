//! Attach to (or start) the test environment and build clients for it.
//!
//! The environment is described by `target/testenv/env.sh`, written by `tests/env/up`. The
//! harness runs `tests/env/up` (idempotent) once per test process, which needs the binaries
//! from `tests/env/build`; `scripts/test` does both. With `SHIPDECK_TESTENV_NO_AUTOSTART=1`
//! (as scripts/test sets) it only attaches, and fails clearly if the environment is not up.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use anyhow::{Context, Result, anyhow, bail};
use kube::config::{KubeConfigOptions, Kubeconfig};

/// A running test environment: clusters `a` and `b`, each with contexts
/// `<cluster>-admin`, `<cluster>-oncall` and `<cluster>-viewer`, and one Prometheus.
#[derive(Debug, Clone)]
pub struct TestEnv {
    /// `target/testenv` (holds kubeconfig, logs, pids, pki).
    pub dir: PathBuf,
    /// Kubeconfig with every context.
    pub kubeconfig: PathBuf,
    /// Base URL of the test Prometheus, e.g. `http://127.0.0.1:24802`.
    pub prometheus_url: String,
    /// Cluster names, e.g. `["a", "b"]`.
    pub clusters: Vec<String>,
    /// `tests/env/ctl` (fault controls).
    pub ctl: PathBuf,
    vars: HashMap<String, String>,
}

static ENV: OnceLock<std::result::Result<TestEnv, String>> = OnceLock::new();

fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

impl TestEnv {
    /// The shared environment for this test process, started on first use if needed.
    pub fn get() -> Result<&'static TestEnv> {
        ENV.get_or_init(|| Self::attach_or_start().map_err(|e| format!("{e:#}")))
            .as_ref()
            .map_err(|e| anyhow!("test environment unavailable: {e}"))
    }

    fn env_sh_path() -> PathBuf {
        match std::env::var_os("SHIPDECK_TESTENV_DIR") {
            Some(dir) => PathBuf::from(dir).join("env.sh"),
            None => repo_root().join("target/testenv/env.sh"),
        }
    }

    fn attach_or_start() -> Result<TestEnv> {
        let env_sh = Self::env_sh_path();
        if std::env::var("SHIPDECK_TESTENV_NO_AUTOSTART").is_ok_and(|v| v == "1") {
            if !env_sh.exists() {
                bail!(
                    "{} does not exist: bring the environment up with tests/env/up \
                     (after tests/env/build), or run scripts/test",
                    env_sh.display()
                );
            }
        } else {
            // `up` is idempotent: about a second when everything is already healthy, and it
            // restarts an environment that is only partly alive (e.g. left by a crash).
            let up = repo_root().join("tests/env/up");
            let status = Command::new(&up)
                .status()
                .with_context(|| format!("running {}", up.display()))?;
            if !status.success() {
                bail!(
                    "{} failed ({status}); build the binaries first with tests/env/build",
                    up.display()
                );
            }
        }
        Self::from_env_sh(&env_sh)
    }

    /// Parse an `env.sh` written by `tests/env/up` (lines `export NAME=value`).
    pub fn from_env_sh(path: &Path) -> Result<TestEnv> {
        let text =
            std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
        let vars = parse_env_sh(&text);
        let get = |k: &str| {
            vars.get(k)
                .cloned()
                .ok_or_else(|| anyhow!("{} does not set {k}", path.display()))
        };
        Ok(TestEnv {
            dir: PathBuf::from(get("SHIPDECK_TESTENV_DIR")?),
            kubeconfig: PathBuf::from(get("KUBECONFIG")?),
            prometheus_url: get("PROMETHEUS_URL")?,
            clusters: get("SHIPDECK_TESTENV_CLUSTERS")?
                .split_whitespace()
                .map(str::to_owned)
                .collect(),
            ctl: PathBuf::from(get("SHIPDECK_TESTENV_CTL")?),
            vars,
        })
    }

    /// Any variable from env.sh (see tests/env/README.md for the list).
    pub fn var(&self, name: &str) -> Option<&str> {
        self.vars.get(name).map(String::as_str)
    }

    /// A command-line tool of the environment: the path in env.sh's `var`, which
    /// `tests/env/build <component>` makes. An error says how to build it when it is missing.
    pub fn tool(&self, var: &str, component: &str) -> Result<PathBuf> {
        let bin = self.var(var).with_context(|| {
            format!(
                "env.sh has no {var}: build it with `tests/env/build {component}` \
                 (and re-run tests/env/up)"
            )
        })?;
        let bin = PathBuf::from(bin);
        if !bin.is_file() {
            bail!(
                "{} does not exist: run tests/env/build {component}",
                bin.display()
            );
        }
        Ok(bin)
    }

    fn cluster_var(&self, cluster: &str, suffix: &str) -> Result<&str> {
        let name = format!("SHIPDECK_TESTENV_{}_{suffix}", cluster.to_uppercase());
        self.var(&name)
            .ok_or_else(|| anyhow!("env.sh has no {name} (unknown cluster {cluster:?}?)"))
    }

    /// `https://127.0.0.1:<port>` of a cluster's apiserver.
    pub fn apiserver_url(&self, cluster: &str) -> Result<String> {
        self.cluster_var(cluster, "APISERVER_URL")
            .map(str::to_owned)
    }

    /// The apiserver's loopback address, e.g. to put a [`crate::support::proxy::FaultProxy`] in front.
    pub fn apiserver_addr(&self, cluster: &str) -> Result<std::net::SocketAddr> {
        let port: u16 = self.cluster_var(cluster, "APISERVER_PORT")?.parse()?;
        Ok(std::net::SocketAddr::from(([127, 0, 0, 1], port)))
    }

    /// Base URL of the cluster's Flagger loadtester (webhooks, rollback/confirm gates).
    pub fn loadtester_url(&self, cluster: &str) -> Result<String> {
        self.cluster_var(cluster, "LOADTESTER_URL")
            .map(str::to_owned)
    }

    /// Client config for a context such as `a-admin`, `b-oncall` or `a-viewer`.
    pub async fn config(&self, context: &str) -> Result<kube::Config> {
        let kubeconfig = Kubeconfig::read_from(&self.kubeconfig)
            .with_context(|| format!("reading {}", self.kubeconfig.display()))?;
        let options = KubeConfigOptions {
            context: Some(context.to_owned()),
            ..KubeConfigOptions::default()
        };
        kube::Config::from_custom_kubeconfig(kubeconfig, &options)
            .await
            .with_context(|| format!("kubeconfig context {context}"))
    }

    /// A client for a context such as `a-admin`, `b-oncall` or `a-viewer`.
    pub async fn client(&self, context: &str) -> Result<kube::Client> {
        Ok(shipdeck::source::kube::connect::client(
            self.config(context).await?,
        )?)
    }

    /// A client for `context` that connects to `server_url` instead (same credentials and CA),
    /// e.g. a [`crate::support::proxy::FaultProxy`]'s URL.
    pub async fn client_via(&self, context: &str, server_url: &str) -> Result<kube::Client> {
        let mut config = self.config(context).await?;
        config.cluster_url = server_url
            .parse()
            .with_context(|| format!("bad server URL {server_url}"))?;
        Ok(shipdeck::source::kube::connect::client(config)?)
    }

    /// Stop a cluster's kube-apiserver (blocks until the process is gone).
    pub async fn stop_apiserver(&self, cluster: &str) -> Result<()> {
        self.run_ctl(&["stop-apiserver", cluster]).await
    }

    /// Start a stopped kube-apiserver again on the same port with the same certs and data;
    /// returns once it is ready.
    pub async fn start_apiserver(&self, cluster: &str) -> Result<()> {
        self.run_ctl(&["start-apiserver", cluster]).await
    }

    async fn run_ctl(&self, args: &[&str]) -> Result<()> {
        let out = tokio::process::Command::new(&self.ctl)
            .args(args)
            .env("SHIPDECK_TESTENV_DIR", &self.dir)
            .output()
            .await
            .with_context(|| format!("running {}", self.ctl.display()))?;
        if !out.status.success() {
            bail!(
                "{} {} failed ({}): {}",
                self.ctl.display(),
                args.join(" "),
                out.status,
                String::from_utf8_lossy(&out.stderr)
            );
        }
        Ok(())
    }
}

fn parse_env_sh(text: &str) -> HashMap<String, String> {
    text.lines()
        .filter_map(|l| l.trim().strip_prefix("export "))
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| {
            (
                k.to_owned(),
                v.trim_matches(|c| c == '\'' || c == '"').to_owned(),
            )
        })
        .collect()
}

/// A namespace name that is unique for this test run: `<prefix>-<random>` (DNS-1123 safe).
pub fn unique_name(prefix: &str) -> String {
    use std::sync::atomic::{AtomicU32, Ordering};
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    format!(
        "{prefix}-{:x}{:x}{n}",
        std::process::id() % 4096,
        nanos % 65536
    )
}

#[cfg(test)]
mod tests {
    use super::parse_env_sh;

    #[test]
    fn parses_exports() {
        let vars = parse_env_sh("# c\nexport A=1\nexport B='x y'\nignored\n");
        assert_eq!(vars.get("A").map(String::as_str), Some("1"));
        assert_eq!(vars.get("B").map(String::as_str), Some("x y"));
        assert_eq!(vars.len(), 2);
    }
}
