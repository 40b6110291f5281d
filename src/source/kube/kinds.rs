//! The watches a cluster gets: one per kind in the core's catalogue but Flux's sources,
//! AnalysisRuns and pods (five without GitOps CRDs; eight with Argo CD's Application and
//! Flux's Kustomization and HelmRelease — a kind whose CRD is missing gets a 404 and no
//! watch; issue 14 budgets at most eight per cluster with every CRD, so a new catalogue row
//! is a new watch to account for), named and addressed from its row. Must not name a group,
//! version or plural itself.

use kube::core::{ApiResource, GroupVersionKind};

pub use crate::core::kinds::Kind;
use crate::core::kinds::{Role, Support};

/// Is `kind` watched? Flux sources are not (read with one GET when shown), nor pods (only
/// while the pods screen is open, by `pods`), nor AnalysisRuns: what a release row needs of
/// its analysis (name, phase, message) is in the Rollout's own status
/// (`currentStepAnalysisRunStatus` / `currentBackgroundAnalysisRunStatus`), a failed one is
/// recorded in the failures feed from there (`core::objects`), and the metrics the detail
/// screen shows are read with one GET of the run the Rollout names, when the detail opens
/// and again when the Rollout reports a new run or phase (`core::inspect`).
pub const fn watched(kind: Kind) -> bool {
    !matches!(
        kind.api().role,
        Role::Supporting(Support::FluxSource | Support::AnalysisRun) | Role::OnDemand
    )
}

const fn count_watched() -> usize {
    let mut n = 0;
    let mut i = 0;
    while i < Kind::ALL.len() {
        if watched(Kind::ALL[i]) {
            n += 1;
        }
        i += 1;
    }
    n
}

/// Every catalogued kind that is watched, in catalogue order.
pub const WATCHED: [Kind; count_watched()] = {
    let mut out = [Kind::Deployment; count_watched()];
    let (mut i, mut n) = (0, 0);
    while i < Kind::ALL.len() {
        if watched(Kind::ALL[i]) {
            out[n] = Kind::ALL[i];
            n += 1;
        }
        i += 1;
    }
    out
};

/// One read made only when something is shown (not a watch), for doctor's access check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Read {
    pub verb: &'static str,
    pub kind: Kind,
    /// `plural` or `plural/subresource` of `kind`.
    pub resource: &'static str,
    /// What it shows, for the reader.
    pub shows: &'static str,
}

/// Every read the adapters make on demand: the unwatched kinds' GETs (`inspect`,
/// `flux_reads`) and the pods screen's list, watch and log stream (`pods`, `logs`).
pub const READS: [Read; 6] = [
    Read {
        verb: "get",
        kind: Kind::AnalysisRun,
        resource: "analysisruns",
        shows: "analysis metrics in a Rollout's detail",
    },
    Read {
        verb: "get",
        kind: Kind::GitRepository,
        resource: "gitrepositories",
        shows: "a Flux object's source in its detail",
    },
    Read {
        verb: "get",
        kind: Kind::OCIRepository,
        resource: "ocirepositories",
        shows: "a Flux object's source in its detail",
    },
    Read {
        verb: "list",
        kind: Kind::Pod,
        resource: "pods",
        shows: "the pods screen",
    },
    Read {
        verb: "watch",
        kind: Kind::Pod,
        resource: "pods",
        shows: "the pods screen",
    },
    Read {
        verb: "get",
        kind: Kind::Pod,
        resource: "pods/log",
        shows: "the log viewer",
    },
];

/// The API resource behind `kind`'s watch, from its catalogue row.
pub fn api_resource(kind: Kind) -> ApiResource {
    let api = kind.api();
    ApiResource::from_gvk_with_plural(
        &GroupVersionKind::gvk(api.group, api.version, api.name),
        api.plural,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_unwatched_read_kind_has_its_reads_listed_for_doctor() {
        for r in READS {
            let plural = r.resource.split('/').next().unwrap_or_default();
            assert_eq!(plural, r.kind.api().plural, "{r:?}");
            assert!(
                !watched(r.kind),
                "{r:?} is watched: doctor checks it as a watch"
            );
        }
        // Experiments are written by terminate (a Need), never read.
        for kind in Kind::ALL
            .into_iter()
            .filter(|k| !watched(*k) && *k != Kind::Experiment)
        {
            assert!(
                READS
                    .iter()
                    .any(|r| r.kind == kind && matches!(r.verb, "get" | "list")),
                "{kind:?} is read when shown but doctor does not check it"
            );
        }
    }

    #[test]
    fn watches_are_addressed_from_the_catalogue() {
        let ar = api_resource(Kind::Rollout);
        assert_eq!(ar.api_version, "argoproj.io/v1alpha1");
        assert_eq!(ar.plural, "rollouts");
        assert_eq!(api_resource(Kind::Event).api_version, "v1");
        assert!(
            !WATCHED.contains(&Kind::Pod),
            "pods are watched on demand only"
        );
        assert!(!WATCHED.contains(&Kind::GitRepository));
        assert!(
            !WATCHED.contains(&Kind::AnalysisRun),
            "read by name when shown"
        );
        assert!(!WATCHED.contains(&Kind::OCIRepository));
        assert!(WATCHED.contains(&Kind::Kustomization));
        assert!(WATCHED.contains(&Kind::HelmRelease));
    }

    #[test]
    fn the_watch_budget_holds() {
        // Five per cluster without GitOps CRDs (the kinds every cluster has or Argo
        // Rollouts / Flagger bring), one more with Argo CD's, two more with Flux's (each
        // only where its CRD exists): a cluster with every CRD keeps eight, the budget.
        let gitops = |k: &Kind| {
            matches!(
                k,
                Kind::Kustomization | Kind::HelmRelease | Kind::Application
            )
        };
        let plain = WATCHED.iter().filter(|k| !gitops(k)).count();
        println!(
            "watches per cluster: {plain} without GitOps CRDs, {} with Argo CD's and Flux's",
            WATCHED.len()
        );
        assert_eq!(plain, 5, "{WATCHED:?}");
        assert_eq!(
            WATCHED.len() - plain,
            3,
            "Application, Kustomization, HelmRelease"
        );
        assert!(
            WATCHED.len() <= 8,
            "every CRD present: {} watches, budget 8",
            WATCHED.len()
        );
    }
}
