//! What doctor found, and how it reads on a terminal. Every string from a cluster, Prometheus
//! or the kubeconfig (names, context names, versions, identity, namespaces, error messages)
//! is shown escaped through `core::text`.

use std::fmt;

use crate::core::text::{Untrusted, escape};

/// Names (namespaces) as a shown, comma-separated list.
fn escaped_list<'a>(names: impl Iterator<Item = &'a String>) -> String {
    names.map(|n| escape(n)).collect::<Vec<_>>().join(", ")
}

#[derive(Debug, Clone, PartialEq)]
pub enum Access {
    Allowed,
    Denied,
    /// The review itself failed (unreachable, or reviews not allowed).
    Unknown(Untrusted),
}

#[derive(Debug, Clone, PartialEq)]
pub enum Presence {
    Present,
    Absent,
    Unknown(Untrusted),
}

/// One action permission: `verb resource` cluster-wide and per namespace with releases.
#[derive(Debug, Clone, PartialEq)]
pub struct ActionAccess {
    pub verb: &'static str,
    /// `plural` or `plural/subresource`.
    pub resource: &'static str,
    /// What it enables, for the reader.
    pub enables: String,
    pub cluster_wide: Access,
    pub namespaces: Vec<(String, Access)>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ClusterReport {
    pub name: String,
    pub context: String,
    /// The server's git version, or why it could not be reached.
    pub reachable: Result<String, Untrusted>,
    /// `user [groups]` per SelfSubjectReview.
    pub identity: Option<Untrusted>,
    /// (CRD name, presence).
    pub crds: Vec<(&'static str, Presence)>,
    /// (resource, list+watch access), cluster-wide.
    pub watch: Vec<(&'static str, Access)>,
    pub namespaces_with_releases: Vec<String>,
    pub actions: Vec<ActionAccess>,
    /// The reads made only when something is shown (AnalysisRuns, Flux sources, pods and
    /// their logs): `verb resource`, cluster-wide and per namespace with releases.
    pub reads: Vec<ActionAccess>,
    /// Where a kind forbidden cluster-wide is watched instead (`clusters[].namespaces`, else
    /// the context's namespace), as the console does.
    pub fallback_namespaces: Vec<String>,
    /// (resource, list+watch access in each fallback namespace) for kinds denied cluster-wide.
    pub watch_in: Vec<(&'static str, Vec<(String, Access)>)>,
    /// (resource, why) for kinds whose list fails for another reason than access or absence
    /// (a 500, an answer that cannot be decoded).
    pub list_errors: Vec<(&'static str, Untrusted)>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct PrometheusReport {
    pub url: String,
    /// Version (or "ready"), or why not.
    pub result: Result<String, Untrusted>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct DoctorReport {
    pub clusters: Vec<ClusterReport>,
    pub prometheus: Option<PrometheusReport>,
}

impl ClusterReport {
    /// A report that stops at "cannot reach it".
    pub fn unreachable(name: &str, context: &str, why: Untrusted) -> Self {
        ClusterReport {
            name: name.to_string(),
            context: context.to_string(),
            reachable: Err(why),
            identity: None,
            crds: Vec::new(),
            watch: Vec::new(),
            namespaces_with_releases: Vec::new(),
            actions: Vec::new(),
            reads: Vec::new(),
            fallback_namespaces: Vec::new(),
            watch_in: Vec::new(),
            list_errors: Vec::new(),
        }
    }

    /// Where `resource`, denied cluster-wide, may be watched namespace by namespace.
    pub fn watched_in(&self, resource: &str) -> Vec<&String> {
        self.watch_in
            .iter()
            .filter(|(r, _)| *r == resource)
            .flat_map(|(_, per)| per.iter())
            .filter(|(_, a)| *a == Access::Allowed)
            .map(|(ns, _)| ns)
            .collect()
    }

    /// Kinds this identity may not watch cluster-wide (served here): "no access: …".
    pub fn no_access(&self) -> Vec<&'static str> {
        self.watch
            .iter()
            .filter(|(resource, access)| *access == Access::Denied && self.served(resource))
            .map(|(resource, _)| *resource)
            .collect()
    }

    fn served(&self, resource: &str) -> bool {
        self.crds
            .iter()
            .find(|(crd, _)| *crd == resource)
            .is_none_or(|(_, p)| *p == Presence::Present)
    }

    /// What makes this cluster unusable as configured: unreachable, or a kind whose API is
    /// served here that we may not watch. Missing CRDs and missing write permissions are
    /// facts about the cluster and the identity, not problems.
    pub fn problems(&self) -> Vec<String> {
        let mut out = Vec::new();
        if let Err(e) = &self.reachable {
            out.push(format!("{}: unreachable: {e}", escape(&self.name)));
            return out;
        }
        for (resource, access) in &self.watch {
            let served = self.served(resource);
            match access {
                // Watched namespace by namespace instead: partial, shown, not a problem.
                Access::Denied if served && !self.watched_in(resource).is_empty() => {}
                Access::Denied if served => {
                    let hint = if self.fallback_namespaces.is_empty() {
                        " (in any namespace: set clusters[].namespaces to watch some)"
                    } else {
                        " (cluster-wide, nor in the configured namespaces)"
                    };
                    out.push(format!(
                        "{}: may not watch {resource}{hint}",
                        escape(&self.name)
                    ))
                }
                Access::Unknown(e) if served => out.push(format!(
                    "{}: cannot tell whether {resource} may be watched: {e}",
                    escape(&self.name)
                )),
                _ => {}
            }
        }
        for (resource, why) in &self.list_errors {
            out.push(format!(
                "{}: listing {resource} fails: {why}",
                escape(&self.name)
            ));
        }
        out
    }
}

impl DoctorReport {
    pub fn problems(&self) -> Vec<String> {
        let mut out: Vec<String> = self
            .clusters
            .iter()
            .flat_map(ClusterReport::problems)
            .collect();
        if let Some(p) = &self.prometheus
            && let Err(e) = &p.result
        {
            out.push(format!("prometheus {}: {e}", escape(&p.url)));
        }
        out
    }

    pub fn exit_code(&self) -> i32 {
        i32::from(!self.problems().is_empty())
    }
}

impl fmt::Display for Access {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Allowed => f.write_str("yes"),
            Self::Denied => f.write_str("no"),
            Self::Unknown(e) => write!(f, "unknown ({e})"),
        }
    }
}

impl fmt::Display for Presence {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Present => f.write_str("installed"),
            Self::Absent => f.write_str("absent"),
            Self::Unknown(e) => write!(f, "unknown ({e})"),
        }
    }
}

impl fmt::Display for ClusterReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "cluster {} (context {})",
            escape(&self.name),
            escape(&self.context)
        )?;
        match &self.reachable {
            Ok(v) => writeln!(f, "  reachable    yes, Kubernetes {}", escape(v))?,
            Err(e) => return writeln!(f, "  reachable    NO: {e}"),
        }
        match &self.identity {
            Some(who) => writeln!(f, "  identity     {who}")?,
            None => writeln!(f, "  identity     unknown (SelfSubjectReview not answered)")?,
        }
        for (crd, presence) in &self.crds {
            writeln!(f, "  crd          {crd:<26} {presence}")?;
        }
        for (resource, access) in &self.watch {
            write!(f, "  watch        {resource:<26} {access}")?;
            if let Some((_, per)) = self.watch_in.iter().find(|(r, _)| r == resource) {
                for (ns, a) in per {
                    write!(f, "; in {}: {a}", escape(ns))?;
                }
            }
            writeln!(f)?;
        }
        // The watches the console keeps here: the watched kinds this cluster serves.
        let watches = self.watch.iter().filter(|(r, _)| self.served(r)).count();
        writeln!(
            f,
            "  watches      {watches} (at most 8 with every CRD; AnalysisRuns and Flux sources are read when shown)"
        )?;
        let no_access = self.no_access();
        if !no_access.is_empty() {
            let kinds: Vec<&str> = no_access
                .iter()
                .map(|r| r.split('.').next().unwrap_or(r))
                .collect();
            write!(
                f,
                "  access       no access cluster-wide: {}",
                kinds.join(", ")
            )?;
            let read_in: std::collections::BTreeSet<&String> =
                no_access.iter().flat_map(|r| self.watched_in(r)).collect();
            if read_in.is_empty() {
                writeln!(f, "; not read anywhere")?;
            } else {
                writeln!(f, "; read in {}", escaped_list(read_in.into_iter()))?;
            }
        }
        for (resource, why) in &self.list_errors {
            writeln!(f, "  list         {resource:<26} FAILING: {why}")?;
        }
        let shown = if self.namespaces_with_releases.is_empty() {
            "none found".to_string()
        } else {
            escaped_list(self.namespaces_with_releases.iter())
        };
        writeln!(f, "  namespaces   with releases: {shown}")?;
        for a in &self.reads {
            write_access(f, "read", a)?;
        }
        for a in &self.actions {
            write_access(f, "action", a)?;
        }
        Ok(())
    }
}

/// One `verb resource` line: cluster-wide, and where it is allowed when it is not
/// allowed everywhere.
fn write_access(f: &mut fmt::Formatter<'_>, tag: &str, a: &ActionAccess) -> fmt::Result {
    let label = format!("{} {}", a.verb, a.resource);
    write!(
        f,
        "  {tag:<12} {label:<26} all namespaces: {}",
        a.cluster_wide
    )?;
    let allowed: Vec<&String> = a
        .namespaces
        .iter()
        .filter(|(_, acc)| *acc == Access::Allowed)
        .map(|(ns, _)| ns)
        .collect();
    if a.cluster_wide != Access::Allowed && !a.namespaces.is_empty() {
        let list = if allowed.is_empty() {
            "none".to_string()
        } else {
            escaped_list(allowed.into_iter())
        };
        write!(f, "; in: {list}")?;
    }
    writeln!(f, "  ({})", a.enables)
}

impl fmt::Display for DoctorReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.clusters.is_empty() {
            writeln!(
                f,
                "no clusters configured (config file, --context, or the kubeconfig's current context)"
            )?;
        }
        for c in &self.clusters {
            write!(f, "{c}")?;
        }
        match &self.prometheus {
            Some(PrometheusReport { url, result: Ok(v) }) => {
                writeln!(f, "prometheus {}: {}", escape(url), escape(v))?
            }
            Some(PrometheusReport {
                url,
                result: Err(e),
            }) => writeln!(f, "prometheus {}: NOT REACHABLE: {e}", escape(url))?,
            None => writeln!(f, "prometheus: not configured (SLO panel off)")?,
        }
        let problems = self.problems();
        if problems.is_empty() {
            writeln!(f, "ok: no problems found")
        } else {
            writeln!(f, "{} problem(s):", problems.len())?;
            for p in problems {
                writeln!(f, "  - {p}")?;
            }
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn healthy() -> ClusterReport {
        ClusterReport {
            name: "a".into(),
            context: "a-viewer".into(),
            reachable: Ok("v1.34.2".into()),
            identity: Some(Untrusted::new("viewer [shipdeck:viewer]")),
            crds: vec![
                ("rollouts.argoproj.io", Presence::Present),
                ("canaries.flagger.app", Presence::Absent),
            ],
            watch: vec![
                ("deployments.apps", Access::Allowed),
                ("rollouts.argoproj.io", Access::Allowed),
                ("canaries.flagger.app", Access::Denied),
            ],
            namespaces_with_releases: vec!["shop".into()],
            actions: vec![ActionAccess {
                verb: "patch",
                resource: "rollouts/status",
                enables: "promote, abort, retry".into(),
                cluster_wide: Access::Denied,
                namespaces: vec![("shop".into(), Access::Denied)],
            }],
            reads: vec![ActionAccess {
                verb: "get",
                resource: "pods/log",
                enables: "logs".into(),
                cluster_wide: Access::Denied,
                namespaces: vec![("shop".into(), Access::Allowed)],
            }],
            fallback_namespaces: Vec::new(),
            watch_in: Vec::new(),
            list_errors: Vec::new(),
        }
    }

    #[test]
    fn a_namespace_scoped_identity_names_each_kind_and_where_it_reads() {
        let mut c = healthy();
        c.watch[0].1 = Access::Denied;
        c.fallback_namespaces = vec!["shop".into()];
        c.watch_in = vec![
            ("deployments.apps", vec![("shop".into(), Access::Allowed)]),
            (
                "canaries.flagger.app",
                vec![("shop".into(), Access::Denied)],
            ),
        ];
        let report = DoctorReport {
            clusters: vec![c.clone()],
            prometheus: None,
        };
        let text = report.to_string();
        assert!(
            text.contains("deployments.apps           no; in shop: yes"),
            "{text}"
        );
        // Flagger is not installed here: its denial is no problem and not listed.
        assert!(
            text.contains("no access cluster-wide: deployments; read in shop"),
            "{text}"
        );
        assert_eq!(report.exit_code(), 0, "read in shop: partial, not broken");

        // Not readable in the namespace either: a problem that says what to do.
        c.watch_in[0].1[0].1 = Access::Denied;
        c.list_errors = vec![(
            "rollouts.argoproj.io",
            Untrusted::new("500: conversion failed"),
        )];
        let problems = c.problems();
        assert_eq!(problems.len(), 2, "{problems:?}");
        assert!(problems[0].contains(
            "may not watch deployments.apps (cluster-wide, nor in the configured namespaces)"
        ));
        assert!(problems[1].contains("listing rollouts.argoproj.io fails: 500: conversion failed"));
        let text = c.to_string();
        assert!(
            text.contains("rollouts.argoproj.io       FAILING: 500"),
            "{text}"
        );
        assert!(text.contains("; not read anywhere"), "{text}");
    }

    #[test]
    fn a_read_only_identity_without_flagger_is_fine() {
        let report = DoctorReport {
            clusters: vec![healthy()],
            prometheus: None,
        };
        assert_eq!(report.exit_code(), 0, "{report}");
        let text = report.to_string();
        assert!(text.contains("patch rollouts/status"), "{text}");
        assert!(text.contains("all namespaces: no; in: none"), "{text}");
        // A read made when something is shown: where it is allowed, not a problem.
        assert!(
            text.contains(
                "  read         get pods/log               all namespaces: no; in: shop  (logs)"
            ),
            "{text}"
        );
        assert!(text.contains("ok: no problems found"));
    }

    #[test]
    fn unreachable_clusters_unwatchable_kinds_and_prometheus_are_problems() {
        let mut down = healthy();
        down.reachable = Err(Untrusted::new("connection refused"));
        let mut blind = healthy();
        blind.name = "b".into();
        blind.watch[1].1 = Access::Denied;
        let report = DoctorReport {
            clusters: vec![down, blind],
            prometheus: Some(PrometheusReport {
                url: "http://p".into(),
                result: Err(Untrusted::new("timeout")),
            }),
        };
        assert_eq!(report.exit_code(), 1);
        let problems = report.problems();
        assert_eq!(problems.len(), 3, "{problems:?}");
        assert!(problems[1].contains("may not watch rollouts.argoproj.io"));
    }

    #[test]
    fn hostile_identity_text_is_escaped() {
        let mut c = healthy();
        c.identity = Some(Untrusted::new("evil\u{1b}]52;c;AAAA\u{7}"));
        let text = DoctorReport {
            clusters: vec![c],
            prometheus: None,
        }
        .to_string();
        assert!(!text.contains('\u{1b}'));
    }
}
