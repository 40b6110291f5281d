//! The configuration file: clusters (kubeconfig contexts), Prometheus, SLOs, theme.
//! Errors name the file, line and key, and the CLI exits with code 2 on them.
//! Owns the file's shape, parsing and validation; `resolve` turns it, the flags and the
//! environment into the run's choices. Must not start anything or read the kubeconfig.

pub mod resolve;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use jiff::SignedDuration;
use serde::Deserialize;

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("{path}: cannot read: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("{path}:{line}: key `{key}`: {message}")]
    Invalid {
        path: String,
        line: usize,
        key: String,
        message: String,
    },
}

#[derive(Debug, Clone, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Theme name (default, light, high-contrast, mono).
    #[serde(default)]
    pub theme: Option<String>,
    /// Never send a write request to any cluster.
    #[serde(default)]
    pub read_only: bool,
    /// Workload label naming the service an SLO belongs to.
    #[serde(default)]
    pub service_label: Option<String>,
    /// How long a finished (healthy) release stays in the table, in minutes (default 30);
    /// `H` in the console shows every release whatever its age.
    #[serde(default)]
    pub recent_minutes: Option<u32>,
    /// Audit log path (default: the data directory).
    #[serde(default)]
    pub audit_log: Option<PathBuf>,
    #[serde(default)]
    pub prometheus: Option<PrometheusConfig>,
    #[serde(default)]
    pub clusters: Vec<ClusterConfig>,
    #[serde(default)]
    pub slos: Vec<SloConfig>,
    /// "cluster:namespace/name" (or "*:namespace/name") → service.
    #[serde(default)]
    pub service_map: BTreeMap<String, String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PrometheusConfig {
    pub url: String,
    #[serde(default)]
    pub bearer_token_file: Option<PathBuf>,
    #[serde(default)]
    pub ca_file: Option<PathBuf>,
    #[serde(default = "default_timeout")]
    pub timeout_seconds: u64,
    #[serde(default = "default_interval")]
    pub interval_seconds: u64,
}

fn default_timeout() -> u64 {
    5
}
fn default_interval() -> u64 {
    30
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClusterConfig {
    /// kubeconfig context.
    pub context: String,
    /// Display name (default: the context).
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
    #[serde(default)]
    pub read_only: bool,
    /// Prometheus for this cluster's SLOs (default: the global one).
    #[serde(default)]
    pub prometheus: Option<String>,
    /// Flagger loadtester webhook base for rollbacks, if not in the Canary's webhooks.
    #[serde(default)]
    pub loadtester: Option<String>,
    /// Namespaces to watch one by one when this identity may not list a kind cluster-wide
    /// (a namespace-scoped on-call identity). Empty: the kubeconfig context's namespace, if
    /// it names one. At most [`MAX_NAMESPACES`].
    #[serde(default)]
    pub namespaces: Vec<String>,
}

/// The most namespaces a cluster may list in `namespaces` (each is one watch per kind that
/// is forbidden cluster-wide).
pub const MAX_NAMESPACES: usize = crate::source::kube::watch::MAX_FALLBACK_NAMESPACES;

impl ClusterConfig {
    /// A kubeconfig context the config does not describe: no labels, writable.
    pub fn for_context(context: &str) -> ClusterConfig {
        ClusterConfig {
            context: context.to_string(),
            name: None,
            labels: BTreeMap::new(),
            read_only: false,
            prometheus: None,
            loadtester: None,
            namespaces: Vec::new(),
        }
    }

    pub fn display_name(&self) -> &str {
        self.name.as_deref().unwrap_or(&self.context)
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SloConfig {
    pub name: String,
    pub service: String,
    /// Percent, e.g. 99.9.
    pub objective: f64,
    /// e.g. "30d", "7d", "28d".
    #[serde(default = "default_window")]
    pub window: String,
    /// Only evaluate against this cluster's Prometheus (default: the global one).
    #[serde(default)]
    pub cluster: Option<String>,
    pub source: SloSource,
}

fn default_window() -> String {
    "30d".into()
}

/// Where an SLO's error ratio comes from (reference/slo.md).
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(tag = "type", rename_all = "lowercase", deny_unknown_fields)]
pub enum SloSource {
    /// `sum(rate(<errors>[w])) / sum(rate(<total>[w]))`.
    Promql { errors: String, total: String },
    /// Sloth recording rules `slo:sli_error:ratio_rate<w>{sloth_service, sloth_slo}`.
    Sloth {
        sloth_service: String,
        sloth_slo: String,
    },
    /// Pyrra recording rules `<metric>:burnrate<w>`, with optional label matchers.
    Pyrra {
        metric: String,
        #[serde(default)]
        matchers: String,
    },
}

/// The longest SLO window accepted: a year (Prometheus keeps far less).
pub const MAX_WINDOW: SignedDuration = SignedDuration::from_hours(366 * 24);

/// Bounds of `prometheus.timeout_seconds` (per query) and `interval_seconds` (a day).
pub const MAX_TIMEOUT_SECONDS: u64 = 600;
pub const MAX_INTERVAL_SECONDS: u64 = 86_400;

/// Parse a window like "30d", "6h", "5m": positive and at most [`MAX_WINDOW`].
pub fn parse_window(s: &str) -> Option<SignedDuration> {
    let (num, unit) = s.split_at(s.find(|c: char| !c.is_ascii_digit())?);
    let n: i64 = num.parse().ok()?;
    let mins = match unit {
        "m" => 1,
        "h" => 60,
        "d" => 60 * 24,
        "w" => 60 * 24 * 7,
        _ => return None,
    };
    let window = SignedDuration::try_from_mins(n.checked_mul(mins)?)?;
    (n > 0 && window <= MAX_WINDOW).then_some(window)
}

impl Config {
    /// Default location: `<config dir>/shipdeck/config.toml` from `directories`.
    pub fn default_path() -> Option<PathBuf> {
        directories::ProjectDirs::from("dev", "shipdeck", "shipdeck")
            .map(|d| d.config_dir().join("config.toml"))
    }

    /// `--config PATH` must exist; the default location is optional (no file: defaults).
    pub fn load_or_default(explicit: Option<&Path>) -> Result<Config, ConfigError> {
        match explicit {
            Some(path) => Self::load(path),
            None => match Self::default_path() {
                Some(path) if path.exists() => Self::load(&path),
                _ => Ok(Config::default()),
            },
        }
    }

    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.display().to_string(),
            source,
        })?;
        Self::parse(&text, &path.display().to_string())
    }

    pub fn parse(text: &str, path: &str) -> Result<Config, ConfigError> {
        let config: Config = toml::from_str(text).map_err(|e| {
            let (line, key) = locate(text, e.span());
            ConfigError::Invalid {
                path: path.to_string(),
                line,
                key,
                message: e.message().trim().to_string(),
            }
        })?;
        config.validate(text, path)?;
        Ok(config)
    }

    /// Checks serde cannot express; errors point at the offending key's line.
    fn validate(&self, text: &str, path: &str) -> Result<(), ConfigError> {
        let fail = |key: &str, line: usize, message: String| ConfigError::Invalid {
            path: path.to_string(),
            line,
            key: key.to_string(),
            message,
        };
        if let Some(theme) = &self.theme {
            let names = crate::ui::theme::Theme::names();
            if !names.contains(&theme.as_str()) {
                return Err(fail(
                    "theme",
                    top_level_line(text, "theme"),
                    format!(
                        "unknown theme {theme:?}: valid themes are {}",
                        names.join(", ")
                    ),
                ));
            }
        }
        for (i, s) in self.slos.iter().enumerate() {
            let line = |needle: &str| find_line_in(text, "[[slos]]", i, needle);
            if !(s.objective > 0.0 && s.objective < 100.0) {
                return Err(fail(
                    &format!("slos[{i}].objective"),
                    line("objective"),
                    format!(
                        "must be a percentage between 0 and 100 (exclusive), got {}",
                        s.objective
                    ),
                ));
            }
            if parse_window(&s.window).is_none() {
                return Err(fail(
                    &format!("slos[{i}].window"),
                    line("window"),
                    format!(
                        "{:?} is not a window like \"30d\", \"7d\" or \"6h\" (at most {}d)",
                        s.window,
                        MAX_WINDOW.as_hours() / 24
                    ),
                ));
            }
        }
        if let Some(p) = &self.prometheus {
            let line = |needle: &str| find_line_in(text, "[prometheus]", 0, needle);
            for (key, value, max) in [
                ("timeout_seconds", p.timeout_seconds, MAX_TIMEOUT_SECONDS),
                ("interval_seconds", p.interval_seconds, MAX_INTERVAL_SECONDS),
            ] {
                if !(1..=max).contains(&value) {
                    return Err(fail(
                        &format!("prometheus.{key}"),
                        line(key),
                        format!("must be between 1 and {max} seconds, got {value}"),
                    ));
                }
            }
        }
        let fail =
            |key: &str, needle: &str, message: String| fail(key, find_line(text, needle), message);
        let mut names = std::collections::BTreeSet::new();
        for (i, c) in self.clusters.iter().enumerate() {
            let name = c.display_name();
            if name.is_empty() || name.chars().any(|ch| ch.is_control()) {
                return Err(fail(
                    &format!("clusters[{i}].name"),
                    &c.context,
                    "must be non-empty printable text".into(),
                ));
            }
            if !names.insert(name.to_string()) {
                return Err(fail(
                    &format!("clusters[{i}].name"),
                    name,
                    format!("duplicate cluster name {name:?}"),
                ));
            }
            if c.namespaces.len() > MAX_NAMESPACES {
                return Err(fail(
                    &format!("clusters[{i}].namespaces"),
                    "namespaces",
                    format!(
                        "at most {MAX_NAMESPACES} namespaces (each is a watch per kind), got {}",
                        c.namespaces.len()
                    ),
                ));
            }
            if let Some(bad) = c.namespaces.iter().find(|n| !is_namespace_name(n)) {
                return Err(fail(
                    &format!("clusters[{i}].namespaces"),
                    "namespaces",
                    format!(
                        "{bad:?} is not a namespace name (lower-case letters, digits and '-', at most 63)"
                    ),
                ));
            }
        }
        if let Some(p) = &self.prometheus
            && !(p.url.starts_with("http://") || p.url.starts_with("https://"))
        {
            return Err(fail(
                "prometheus.url",
                &p.url,
                format!("{:?} is not an http(s) URL", p.url),
            ));
        }
        Ok(())
    }
}

/// A Kubernetes namespace name (an RFC 1123 label).
fn is_namespace_name(n: &str) -> bool {
    !n.is_empty()
        && n.len() <= 63
        && n.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && !n.starts_with('-')
        && !n.ends_with('-')
}

/// Line (1-based) and key for a byte span in the TOML text.
fn locate(text: &str, span: Option<std::ops::Range<usize>>) -> (usize, String) {
    let Some(span) = span else {
        return (1, "?".into());
    };
    let start = span.start.min(text.len());
    let line = text[..start].matches('\n').count() + 1;
    let line_text = text.lines().nth(line - 1).unwrap_or("");
    let key = match line_text.split_once('=') {
        Some((k, _)) => k.trim().trim_matches('"').to_string(),
        None => line_text.trim().trim_matches(['[', ']']).to_string(),
    };
    (line, if key.is_empty() { "?".into() } else { key })
}

/// The line of `needle` in the `nth` `header` section (`[[slos]]`, `[prometheus]`), or its
/// first line anywhere when the sections are written another way (inline tables).
fn find_line_in(text: &str, header: &str, nth: usize, needle: &str) -> usize {
    let mut seen = 0;
    let mut inside = false;
    for (i, l) in text.lines().enumerate() {
        let l = l.trim();
        if l.starts_with('[') {
            inside = l == header && {
                seen += 1;
                seen == nth + 1
            };
        } else if inside && l.starts_with(needle) {
            return i + 1;
        }
    }
    find_line(text, needle)
}

/// The line of a top-level `key = ...` (before the first table header), else 1.
fn top_level_line(text: &str, key: &str) -> usize {
    for (i, l) in text.lines().enumerate() {
        let l = l.trim_start();
        if l.starts_with('[') {
            break;
        }
        let name = l.split('=').next().unwrap_or("").trim().trim_matches('"');
        if l.contains('=') && name == key {
            return i + 1;
        }
    }
    1
}

fn find_line(text: &str, needle: &str) -> usize {
    text.lines()
        .position(|l| l.contains(needle))
        .map_or(1, |i| i + 1)
}

#[cfg(test)]
mod tests;
