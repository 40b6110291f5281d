//! `shipdeck doctor`: can this console do its job here? Per cluster: reachable, server version,
//! who we are, which CRDs exist, which kinds we may watch and which actions RBAC allows
//! (cluster-wide and in each namespace that has releases); and whether Prometheus answers.
//!
//! Every check has a deadline and clusters are checked side by side, so one dead cluster
//! costs seconds, not minutes. Read-only: the only writes are access and identity *reviews*,
//! which the API server evaluates without storing anything.

mod checks;
mod demo;
mod prometheus;
mod report;

use std::time::Duration;

pub use report::{Access, ActionAccess, ClusterReport, DoctorReport, Presence, PrometheusReport};

/// Deadline for each request doctor makes.
const DEADLINE: Duration = Duration::from_secs(5);

/// One cluster doctor checks: its display name, kubeconfig context, and where the console
/// watches a kind it may not watch cluster-wide (`clusters[].namespaces`, else the
/// context's namespace).
#[derive(Debug, Clone)]
pub struct Target {
    pub name: String,
    pub context: String,
    pub namespaces: Vec<String>,
}

/// Check each target and, if given, Prometheus at `prometheus`.
pub async fn run(clusters: &[Target], prometheus: Option<&str>) -> DoctorReport {
    let cluster_checks = clusters
        .iter()
        .map(|t| checks::cluster(&t.name, &t.context, &t.namespaces, DEADLINE));
    let (clusters, prometheus) = tokio::join!(futures::future::join_all(cluster_checks), async {
        match prometheus {
            Some(url) => Some(prometheus::check(url, DEADLINE).await),
            None => None,
        }
    });
    DoctorReport {
        clusters,
        prometheus,
    }
}

/// Check one cluster through a client the caller already has (tests, or a console that
/// built its clients already).
pub async fn check_cluster(name: &str, context: &str, client: &kube::Client) -> ClusterReport {
    checks::with_client(name, context, client, &[], DEADLINE).await
}

/// [`check_cluster`], with the namespaces a kind forbidden cluster-wide is watched in.
pub async fn check_cluster_in(
    name: &str,
    context: &str,
    client: &kube::Client,
    namespaces: &[String],
) -> ClusterReport {
    checks::with_client(name, context, client, namespaces, DEADLINE).await
}

/// Run, print the report to stdout, and return the process exit code (0: all good, 1: problems).
pub async fn doctor_main(clusters: &[Target], prometheus: Option<&str>) -> i32 {
    print_report(&run(clusters, prometheus).await)
}

/// `doctor --demo`: the simulated fleet, printed and judged the same way.
pub async fn demo_main(opts: &crate::cli::Opts, config: &crate::config::Config) -> i32 {
    print_report(&demo::simulated(opts, config).await)
}

fn print_report(report: &DoctorReport) -> i32 {
    print!("{}", crate::core::text::escape_lines(&report.to_string()));
    report.exit_code()
}
