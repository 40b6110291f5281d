//! The run's choices from flags, environment and configuration: which clusters to show, the
//! core's settings, the theme, the audit-log path and doctor's Prometheus. Pure: whatever the
//! environment or the kubeconfig says arrives as an argument, so every rule is unit-tested.
//! Must not do IO (no env reads, no files, no kubeconfig); the wiring reads those.

use std::ffi::OsStr;
use std::path::PathBuf;

use super::{ClusterConfig, Config};
use crate::cli::Opts;
use crate::core::state::Settings;

/// The core's settings: read-only from the flag or the config (most restrictive wins).
pub fn settings(opts: &Opts, config: &Config, source_label: &str) -> Settings {
    Settings {
        read_only: opts.read_only || config.read_only,
        service_label: config
            .service_label
            .clone()
            .unwrap_or_else(|| Settings::default().service_label),
        service_map: config.service_map.clone(),
        source_label: source_label.to_string(),
        recent: config
            .recent_minutes
            .map_or(Settings::default().recent, |m| {
                jiff::SignedDuration::from_mins(i64::from(m))
            }),
        ..Settings::default()
    }
}

/// Which theme to load.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ThemeChoice {
    /// `--no-color` or a non-empty `NO_COLOR`.
    NoColor,
    /// `--theme`, else the config's theme, else "default".
    Named(String),
}

/// `no_color_env` is the value of `NO_COLOR`, if set.
pub fn theme(opts: &Opts, config: &Config, no_color_env: Option<&OsStr>) -> ThemeChoice {
    if opts.no_color || no_color_env.is_some_and(|v| !v.is_empty()) {
        return ThemeChoice::NoColor;
    }
    let name = opts
        .theme
        .as_deref()
        .or(config.theme.as_deref())
        .unwrap_or("default");
    ThemeChoice::Named(name.to_string())
}

/// `SHIPDECK_AUDIT_LOG` (passed as `env`), else the config's `audit_log`, else `default`
/// (the data directory). None when there is nowhere to write.
pub fn audit_path(
    env: Option<&OsStr>,
    config: &Config,
    default: Option<PathBuf>,
) -> Option<PathBuf> {
    env.map(PathBuf::from)
        .or_else(|| config.audit_log.clone())
        .or(default)
}

/// Does the cluster choice need the kubeconfig's contexts? Yes with `--context`,
/// `--all-contexts`, or when the config names no clusters.
pub fn uses_kubeconfig(opts: &Opts, config: &Config) -> bool {
    !opts.context.is_empty() || opts.all_contexts || config.clusters.is_empty()
}

/// The clusters to show: `--context`, `--all-contexts`, the config's clusters, or the
/// kubeconfig's current context. Labels and read-only come from the config when it names
/// the same context. `contexts` and `current` are the kubeconfig's (ignored when
/// `uses_kubeconfig` is false). The error is a kubeconfig problem, worded for the user.
pub fn choose_clusters(
    opts: &Opts,
    config: &Config,
    contexts: &[String],
    current: Option<&str>,
) -> Result<Vec<ClusterConfig>, String> {
    if !uses_kubeconfig(opts, config) {
        return Ok(config.clusters.clone());
    }
    let wanted: Vec<String> = if opts.all_contexts {
        contexts.to_vec()
    } else if !opts.context.is_empty() {
        opts.context.clone()
    } else {
        vec![
            current
                .ok_or("no current context; pass --context or configure clusters")?
                .to_string(),
        ]
    };
    if let Some(missing) = wanted.iter().find(|c| !contexts.contains(c)) {
        return Err(format!(
            "context {missing:?} is not in the kubeconfig (it has: {})",
            contexts.join(", ")
        ));
    }
    let mut chosen: Vec<(Source, ClusterConfig)> = Vec::new();
    for context in &wanted {
        if chosen.iter().any(|(_, c)| c.context == *context) {
            continue; // the same context named twice is the same cluster
        }
        let found = config
            .clusters
            .iter()
            .enumerate()
            .find(|(_, c)| c.context == *context);
        chosen.push(match found {
            Some((i, c)) => (Source::Config(i), c.clone()),
            None => (Source::Kubeconfig, ClusterConfig::for_context(context)),
        });
    }
    unique_names(&chosen)?;
    Ok(chosen.into_iter().map(|(_, c)| c).collect())
}

/// Where a chosen cluster's details come from (for error messages).
#[derive(Debug, Clone, Copy)]
enum Source {
    /// `clusters[i]` of the config.
    Config(usize),
    /// A kubeconfig context the config does not name.
    Kubeconfig,
}

fn describe(source: Source, c: &ClusterConfig) -> String {
    match source {
        Source::Config(i) => format!(
            "config clusters[{i}] (context {:?}, name {:?}{})",
            c.context,
            c.display_name(),
            if c.read_only {
                ", read_only = true"
            } else {
                ""
            }
        ),
        Source::Kubeconfig => format!("kubeconfig context {:?}", c.context),
    }
}

/// Two clusters shown under one name would be one row in the UI and one action target:
/// the UI would read one and actions go to the other. Refuse, naming both.
fn unique_names(chosen: &[(Source, ClusterConfig)]) -> Result<(), String> {
    for (i, (source, c)) in chosen.iter().enumerate() {
        let name = c.display_name();
        let earlier = chosen
            .iter()
            .take(i)
            .find(|(_, o)| o.display_name() == name);
        if let Some((first, other)) = earlier {
            return Err(format!(
                "two clusters would be shown as {name:?}: {} and {}; give one of them a \
                 different `name` in the config",
                describe(*first, other),
                describe(*source, c)
            ));
        }
    }
    Ok(())
}

/// Doctor's Prometheus: `--prometheus` (or its env), else the config's.
pub fn doctor_prometheus(opts: &Opts, config: &Config) -> Option<String> {
    opts.prometheus
        .clone()
        .or_else(|| config.prometheus.as_ref().map(|p| p.url.clone()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config_with(clusters: &[(&str, Option<&str>, bool)]) -> Config {
        Config {
            clusters: clusters
                .iter()
                .map(|(context, name, read_only)| ClusterConfig {
                    name: name.map(str::to_string),
                    read_only: *read_only,
                    ..ClusterConfig::for_context(context)
                })
                .collect(),
            ..Config::default()
        }
    }

    fn names(c: &[ClusterConfig]) -> Vec<&str> {
        c.iter().map(ClusterConfig::display_name).collect()
    }

    fn kube() -> Vec<String> {
        vec!["kind-a".into(), "kind-b".into(), "prod".into()]
    }

    #[test]
    fn configured_clusters_win_without_flags() {
        let config = config_with(&[("prod", Some("prod-eu"), true)]);
        let opts = Opts::default();
        assert!(!uses_kubeconfig(&opts, &config));
        let chosen = choose_clusters(&opts, &config, &[], None).unwrap();
        assert_eq!(names(&chosen), ["prod-eu"]);
    }

    #[test]
    fn no_config_means_the_current_context() {
        let config = Config::default();
        let opts = Opts::default();
        assert!(uses_kubeconfig(&opts, &config));
        let chosen = choose_clusters(&opts, &config, &kube(), Some("kind-b")).unwrap();
        assert_eq!(names(&chosen), ["kind-b"]);
        let err = choose_clusters(&opts, &config, &kube(), None).unwrap_err();
        assert!(err.contains("no current context"), "{err}");
    }

    #[test]
    fn context_flag_takes_config_details_for_the_same_context() {
        let config = config_with(&[("prod", Some("prod-eu"), true)]);
        let opts = Opts {
            context: vec!["kind-a".into(), "prod".into()],
            ..Opts::default()
        };
        let chosen = choose_clusters(&opts, &config, &kube(), None).unwrap();
        assert_eq!(names(&chosen), ["kind-a", "prod-eu"]);
        assert!(!chosen[0].read_only);
        assert!(chosen[1].read_only);
    }

    #[test]
    fn duplicate_display_names_are_an_error_naming_both_sources() {
        // A config entry named "prod" (read-only) for context "kind-a", and a kubeconfig
        // context literally called "prod".
        let config = config_with(&[("kind-a", Some("prod"), true)]);
        let opts = Opts {
            context: vec!["kind-a".into(), "prod".into()],
            ..Opts::default()
        };
        let err = choose_clusters(&opts, &config, &kube(), None).unwrap_err();
        assert_eq!(
            err,
            "two clusters would be shown as \"prod\": config clusters[0] (context \"kind-a\", \
             name \"prod\", read_only = true) and kubeconfig context \"prod\"; give one of them \
             a different `name` in the config"
        );
        let all = Opts {
            all_contexts: true,
            ..Opts::default()
        };
        let err = choose_clusters(&all, &config, &kube(), None).unwrap_err();
        assert!(err.contains("shown as \"prod\""), "{err}");
        // Renamed, both are fine; a context given twice is one cluster.
        let config = config_with(&[("kind-a", Some("prod-a"), true)]);
        let chosen = choose_clusters(&opts, &config, &kube(), None).unwrap();
        assert_eq!(names(&chosen), ["prod-a", "prod"]);
        let twice = Opts {
            context: vec!["prod".into(), "prod".into()],
            ..Opts::default()
        };
        let chosen = choose_clusters(&twice, &config, &kube(), None).unwrap();
        assert_eq!(names(&chosen), ["prod"]);
    }

    #[test]
    fn unknown_context_names_what_the_kubeconfig_has() {
        let opts = Opts {
            context: vec!["nope".into()],
            ..Opts::default()
        };
        let err = choose_clusters(&opts, &Config::default(), &kube(), None).unwrap_err();
        assert_eq!(
            err,
            "context \"nope\" is not in the kubeconfig (it has: kind-a, kind-b, prod)"
        );
    }

    #[test]
    fn all_contexts_lists_every_context() {
        let opts = Opts {
            all_contexts: true,
            ..Opts::default()
        };
        let chosen = choose_clusters(&opts, &config_with(&[("x", None, false)]), &kube(), None);
        assert_eq!(names(&chosen.unwrap()), ["kind-a", "kind-b", "prod"]);
    }

    #[test]
    fn read_only_is_the_most_restrictive_and_labels_default() {
        let mut config = Config::default();
        let opts = Opts::default();
        let s = settings(&opts, &config, "DEMO");
        assert!(!s.read_only);
        assert_eq!(s.service_label, Settings::default().service_label);
        assert_eq!(s.source_label, "DEMO");
        config.read_only = true;
        config.service_label = Some("app".into());
        let s = settings(&opts, &config, "");
        assert!(s.read_only);
        assert_eq!(s.service_label, "app");
        let ro = Opts {
            read_only: true,
            ..Opts::default()
        };
        assert!(settings(&ro, &Config::default(), "").read_only);
    }

    #[test]
    fn theme_flag_then_config_then_default_and_no_color_wins() {
        let mut config = Config::default();
        let opts = Opts::default();
        assert_eq!(
            theme(&opts, &config, None),
            ThemeChoice::Named("default".into())
        );
        config.theme = Some("light".into());
        assert_eq!(
            theme(&opts, &config, None),
            ThemeChoice::Named("light".into())
        );
        let flag = Opts {
            theme: Some("mono".into()),
            ..Opts::default()
        };
        assert_eq!(
            theme(&flag, &config, None),
            ThemeChoice::Named("mono".into())
        );
        // An empty NO_COLOR does not count (no-color.org).
        let empty = OsStr::new("");
        assert_eq!(
            theme(&flag, &config, Some(empty)),
            ThemeChoice::Named("mono".into())
        );
        assert_eq!(
            theme(&flag, &config, Some(OsStr::new("1"))),
            ThemeChoice::NoColor
        );
        let no_color = Opts {
            no_color: true,
            ..Opts::default()
        };
        assert_eq!(theme(&no_color, &config, None), ThemeChoice::NoColor);
    }

    #[test]
    fn audit_path_env_then_config_then_default() {
        let mut config = Config::default();
        let default = Some(PathBuf::from("/data/audit.jsonl"));
        assert_eq!(audit_path(None, &config, default.clone()), default);
        assert_eq!(audit_path(None, &config, None), None);
        config.audit_log = Some(PathBuf::from("/cfg/audit.jsonl"));
        assert_eq!(
            audit_path(None, &config, default.clone()),
            Some(PathBuf::from("/cfg/audit.jsonl"))
        );
        assert_eq!(
            audit_path(Some(OsStr::new("/env/a.jsonl")), &config, default),
            Some(PathBuf::from("/env/a.jsonl"))
        );
    }

    #[test]
    fn doctor_prometheus_flag_then_config() {
        let mut config = Config::default();
        assert_eq!(doctor_prometheus(&Opts::default(), &config), None);
        config.prometheus = Some(super::super::PrometheusConfig {
            url: "http://cfg:9090".into(),
            bearer_token_file: None,
            ca_file: None,
            timeout_seconds: 5,
            interval_seconds: 30,
        });
        assert_eq!(
            doctor_prometheus(&Opts::default(), &config).as_deref(),
            Some("http://cfg:9090")
        );
        let flag = Opts {
            prometheus: Some("http://flag:9090".into()),
            ..Opts::default()
        };
        assert_eq!(
            doctor_prometheus(&flag, &config).as_deref(),
            Some("http://flag:9090")
        );
    }
}
