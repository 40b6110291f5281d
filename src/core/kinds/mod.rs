//! The kind catalogue: the ONE table of API coordinates (group, version, kind, plural,
//! subresources, short label, role) for every kind of object shipdeck reads, and the dispatch
//! from a release kind to its module (`deployment`, `rollout`, `canary`), which owns that
//! kind's facts, status derivation, action rules, exact requests and RBAC needs.
//!
//! Everything that names a group, version, plural or kind reads this table: watches,
//! projections, requests, access checks, `--from-files`, doctor, audit and the demo. Matches
//! over kinds are exhaustive (no fallbacks): a new kind is a compile error until it is
//! handled, never projected as another kind. No IO here; this module must not touch `ui`,
//! `source` or `action`.
//!
//! Adding a release kind touches three existing files: this one (a `Kind` and a
//! `ReleaseKind` variant, one `CATALOGUE` row, an `ObjectFacts` variant and the dispatch
//! arms the compiler asks for), `source/kube/project/mod.rs` (its projection) and
//! `ui/detail.rs` (its steps line); plus its own module here and its projection module.
//! Watches, `--from-files`, doctor, access checks and audit pick it up from the table.

mod api;
pub mod application;
pub mod canary;
pub mod deployment;
pub mod flux;
pub mod flux_source;
pub mod helmrelease;
pub mod kustomization;
pub mod pod;
mod rbac;
pub mod request;
pub mod rollout;

use jiff::Timestamp;
use serde::Serialize;

use super::action::{ActionKind, ApiCall, Disabled};
use super::facts::{AnalysisRunFacts, ReplicaSetFacts, UnparseableObject};
use super::model::Release;
use super::status::Ctx;

pub use api::{Api, Origin, Role, Support};
pub use rbac::{Need, access_needs};

/// Every kind of object shipdeck reads. The declaration order is the catalogue's order and
/// the order kinds are relisted in from files (releases before what they own).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Kind {
    Deployment,
    Rollout,
    Canary,
    ReplicaSet,
    AnalysisRun,
    /// core/v1 Events (only `type=Warning` is watched).
    Event,
    /// core/v1 Pods: on demand only (the pods screen), never watched in the steady state.
    Pod,
    Kustomization,
    HelmRelease,
    /// Flux sources: not watched, read with a GET when shown.
    GitRepository,
    OCIRepository,
    /// Argo CD Application (watched only where its CRD is installed).
    Application,
    /// Argo Rollouts Experiment: never watched; written by terminate (`t`) on a Rollout in
    /// an experiment step (its name is in the Rollout's status).
    Experiment,
}

/// The kinds that are releases: a row in the table, a module with the rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub enum ReleaseKind {
    Deployment,
    Rollout,
    Canary,
    Kustomization,
    HelmRelease,
    Application,
}

/// The catalogue, in `Kind` order (`Kind::api` indexes it; a test checks the order).
pub const CATALOGUE: [Api; 13] = [
    Api {
        kind: Kind::Deployment,
        group: "apps",
        version: "v1",
        name: "Deployment",
        plural: "deployments",
        resource: "deployments.apps",
        subresources: &[],
        short: "Deploy",
        role: Role::Release(ReleaseKind::Deployment),
        origin: Origin::BuiltIn,
    },
    Api {
        kind: Kind::Rollout,
        group: "argoproj.io",
        version: "v1alpha1",
        name: "Rollout",
        plural: "rollouts",
        resource: "rollouts.argoproj.io",
        subresources: &["status"],
        short: "Rollout",
        role: Role::Release(ReleaseKind::Rollout),
        origin: Origin::Custom,
    },
    Api {
        kind: Kind::Canary,
        group: "flagger.app",
        version: "v1beta1",
        name: "Canary",
        plural: "canaries",
        resource: "canaries.flagger.app",
        subresources: &[],
        short: "Canary",
        role: Role::Release(ReleaseKind::Canary),
        origin: Origin::Custom,
    },
    Api {
        kind: Kind::ReplicaSet,
        group: "apps",
        version: "v1",
        name: "ReplicaSet",
        plural: "replicasets",
        resource: "replicasets.apps",
        subresources: &[],
        short: "RS",
        role: Role::Supporting(Support::ReplicaSet),
        origin: Origin::BuiltIn,
    },
    Api {
        kind: Kind::AnalysisRun,
        group: "argoproj.io",
        version: "v1alpha1",
        name: "AnalysisRun",
        plural: "analysisruns",
        resource: "analysisruns.argoproj.io",
        subresources: &[],
        short: "Analysis",
        role: Role::Supporting(Support::AnalysisRun),
        origin: Origin::Custom,
    },
    Api {
        kind: Kind::Event,
        group: "",
        version: "v1",
        name: "Event",
        plural: "events",
        resource: "events",
        subresources: &[],
        short: "Event",
        role: Role::Supporting(Support::Event),
        origin: Origin::BuiltIn,
    },
    Api {
        kind: Kind::Pod,
        group: "",
        version: "v1",
        name: "Pod",
        plural: "pods",
        resource: "pods",
        subresources: &[],
        short: "Pod",
        role: Role::OnDemand,
        origin: Origin::BuiltIn,
    },
    Api {
        kind: Kind::Kustomization,
        group: "kustomize.toolkit.fluxcd.io",
        version: "v1",
        name: "Kustomization",
        plural: "kustomizations",
        resource: "kustomizations.kustomize.toolkit.fluxcd.io",
        subresources: &["status"],
        short: "Kustomize",
        role: Role::Release(ReleaseKind::Kustomization),
        origin: Origin::Custom,
    },
    Api {
        kind: Kind::HelmRelease,
        group: "helm.toolkit.fluxcd.io",
        version: "v2",
        name: "HelmRelease",
        plural: "helmreleases",
        resource: "helmreleases.helm.toolkit.fluxcd.io",
        subresources: &["status"],
        short: "HelmRel",
        role: Role::Release(ReleaseKind::HelmRelease),
        origin: Origin::Custom,
    },
    Api {
        kind: Kind::GitRepository,
        group: "source.toolkit.fluxcd.io",
        version: "v1",
        name: "GitRepository",
        plural: "gitrepositories",
        resource: "gitrepositories.source.toolkit.fluxcd.io",
        subresources: &["status"],
        short: "GitRepo",
        role: Role::Supporting(Support::FluxSource),
        origin: Origin::Custom,
    },
    Api {
        kind: Kind::OCIRepository,
        group: "source.toolkit.fluxcd.io",
        version: "v1",
        name: "OCIRepository",
        plural: "ocirepositories",
        resource: "ocirepositories.source.toolkit.fluxcd.io",
        subresources: &["status"],
        short: "OCIRepo",
        role: Role::Supporting(Support::FluxSource),
        origin: Origin::Custom,
    },
    Api {
        kind: Kind::Application,
        group: "argoproj.io",
        version: "v1alpha1",
        name: "Application",
        plural: "applications",
        resource: "applications.argoproj.io",
        subresources: &[],
        short: "App",
        role: Role::Release(ReleaseKind::Application),
        origin: Origin::Custom,
    },
    Api {
        kind: Kind::Experiment,
        group: "argoproj.io",
        version: "v1alpha1",
        name: "Experiment",
        plural: "experiments",
        resource: "experiments.argoproj.io",
        subresources: &[],
        short: "Experiment",
        role: Role::OnDemand,
        origin: Origin::Custom,
    },
];

impl Kind {
    /// Every kind, in catalogue order.
    pub const ALL: [Kind; CATALOGUE.len()] = {
        let mut all = [Kind::Deployment; CATALOGUE.len()];
        let mut i = 0;
        while i < CATALOGUE.len() {
            all[i] = CATALOGUE[i].kind;
            i += 1;
        }
        all
    };

    /// This kind's catalogue row.
    pub const fn api(self) -> &'static Api {
        &CATALOGUE[self as usize]
    }

    pub fn role(self) -> Role {
        self.api().role
    }

    pub fn release(self) -> Option<ReleaseKind> {
        match self.api().role {
            Role::Release(k) => Some(k),
            Role::Supporting(_) | Role::OnDemand => None,
        }
    }

    /// `plural.group` as RBAC and `kubectl` name it (e.g. `rollouts.argoproj.io`; `events`).
    pub fn resource(self) -> &'static str {
        self.api().resource
    }

    /// `group/version` (or `v1` for the core group).
    pub fn api_version(self) -> String {
        let a = self.api();
        if a.group.is_empty() {
            a.version.to_string()
        } else {
            format!("{}/{}", a.group, a.version)
        }
    }

    /// The kind of a projected object (None for one that could not be parsed).
    pub fn of(facts: &ObjectFacts) -> Option<Kind> {
        facts.kind()
    }

    /// By the `kind` field (`Deployment`, `Rollout`, ...).
    pub fn named(name: &str) -> Option<Kind> {
        Self::find(|a| a.name == name)
    }

    /// By API group and `kind` field, as an object names itself.
    pub fn by_group(group: &str, name: &str) -> Option<Kind> {
        Self::find(|a| a.group == group && a.name == name)
    }

    /// By plural resource name (`deployments`, `rollouts`, ...).
    pub fn by_plural(plural: &str) -> Option<Kind> {
        Self::find(|a| a.plural == plural)
    }

    fn find(pred: impl Fn(&Api) -> bool) -> Option<Kind> {
        CATALOGUE.iter().find(|a| pred(a)).map(|a| a.kind)
    }
}

impl ReleaseKind {
    pub const ALL: [ReleaseKind; 6] = [
        Self::Deployment,
        Self::Rollout,
        Self::Canary,
        Self::Kustomization,
        Self::HelmRelease,
        Self::Application,
    ];

    pub const fn kind(self) -> Kind {
        match self {
            Self::Deployment => Kind::Deployment,
            Self::Rollout => Kind::Rollout,
            Self::Canary => Kind::Canary,
            Self::Kustomization => Kind::Kustomization,
            Self::HelmRelease => Kind::HelmRelease,
            Self::Application => Kind::Application,
        }
    }

    pub fn api(self) -> &'static Api {
        self.kind().api()
    }

    /// Short label for the table.
    pub fn short(self) -> &'static str {
        self.api().short
    }

    /// The `kind` field (`Deployment`, ...).
    pub fn name(self) -> &'static str {
        self.api().name
    }

    /// The RBAC permissions this kind's actions need.
    pub fn needs(self) -> &'static [Need] {
        match self {
            Self::Deployment => deployment::NEEDS,
            Self::Rollout => rollout::NEEDS,
            Self::Canary => canary::NEEDS,
            Self::Kustomization => kustomization::NEEDS,
            Self::HelmRelease => helmrelease::NEEDS,
            Self::Application => application::NEEDS,
        }
    }

    /// The actions this kind offers at all; every other action is "not available".
    pub fn supports(self) -> &'static [ActionKind] {
        match self {
            Self::Deployment => deployment::SUPPORTS,
            Self::Rollout => rollout::SUPPORTS,
            Self::Canary => canary::SUPPORTS,
            Self::Kustomization => kustomization::SUPPORTS,
            Self::HelmRelease => helmrelease::SUPPORTS,
            Self::Application => application::SUPPORTS,
        }
    }

    fn not_available(self) -> &'static str {
        match self {
            Self::Deployment => deployment::NOT_AVAILABLE,
            Self::Rollout => rollout::NOT_AVAILABLE,
            Self::Canary => canary::NOT_AVAILABLE,
            Self::Kustomization => kustomization::NOT_AVAILABLE,
            Self::HelmRelease => helmrelease::NOT_AVAILABLE,
            Self::Application => application::NOT_AVAILABLE,
        }
    }
}

/// Is `action` possible on this release by the object's own state? An action the kind
/// module does not list in `SUPPORTS` is not available, whatever it is.
pub fn applicable(action: ActionKind, r: &Release) -> Result<(), Disabled> {
    let kind = r.key.kind;
    if !kind.supports().contains(&action) {
        return Err(Disabled::NotApplicable(kind.not_available()));
    }
    match kind {
        ReleaseKind::Deployment => deployment::rules(action, r),
        ReleaseKind::Rollout => rollout::rules(action, r),
        ReleaseKind::Canary => canary::rules(action, r),
        ReleaseKind::Kustomization => kustomization::rules(action, r),
        ReleaseKind::HelmRelease => helmrelease::rules(action, r),
        ReleaseKind::Application => application::rules(action, r),
    }
}

/// The exact requests `action` makes on this release (empty: nothing to send).
pub fn calls(action: ActionKind, r: &Release, now: Timestamp) -> Vec<ApiCall> {
    match r.key.kind {
        ReleaseKind::Deployment => deployment::calls(action, r, now),
        ReleaseKind::Rollout => rollout::calls(action, r, now),
        ReleaseKind::Canary => canary::calls(action, r),
        ReleaseKind::Kustomization => kustomization::calls(action, r, now),
        ReleaseKind::HelmRelease => helmrelease::calls(action, r, now),
        ReleaseKind::Application => application::calls(action, r, now),
    }
}

/// The kind's caveat for `action`, shown in the modal (abort keeps the new template, ...).
pub fn note(action: ActionKind, r: &Release) -> Option<&'static str> {
    match r.key.kind {
        ReleaseKind::Deployment => None,
        ReleaseKind::Rollout => rollout::note(action, r),
        ReleaseKind::Canary => canary::note(action, r),
        ReleaseKind::Kustomization => kustomization::note(action),
        ReleaseKind::HelmRelease => helmrelease::note(action),
        ReleaseKind::Application => application::note(action, r),
    }
}

/// Any object a source can report.
// Facts move by value through one channel and are stored as they are; boxing the larger
// variants would only add an allocation per object.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq)]
pub enum ObjectFacts {
    Deployment(deployment::DeploymentFacts),
    Rollout(rollout::RolloutFacts),
    Canary(canary::CanaryFacts),
    ReplicaSet(ReplicaSetFacts),
    AnalysisRun(AnalysisRunFacts),
    Kustomization(kustomization::KustomizationFacts),
    HelmRelease(helmrelease::HelmReleaseFacts),
    Application(application::ApplicationFacts),
    /// An object that could not be parsed: shown as such, the watch goes on.
    Unparseable(UnparseableObject),
}

impl ObjectFacts {
    pub fn kind(&self) -> Option<Kind> {
        Some(match self {
            Self::Deployment(_) => Kind::Deployment,
            Self::Rollout(_) => Kind::Rollout,
            Self::Canary(_) => Kind::Canary,
            Self::ReplicaSet(_) => Kind::ReplicaSet,
            Self::AnalysisRun(_) => Kind::AnalysisRun,
            Self::Kustomization(_) => Kind::Kustomization,
            Self::HelmRelease(_) => Kind::HelmRelease,
            Self::Application(_) => Kind::Application,
            Self::Unparseable(_) => return None,
        })
    }

    /// The kind it is listed under: an unparseable object goes with the kind it claims to
    /// be; None when that is no kind in the catalogue.
    pub fn listed_kind(&self) -> Option<Kind> {
        match self {
            Self::Unparseable(u) => Kind::named(&u.kind),
            other => other.kind(),
        }
    }

    pub fn meta_name(&self) -> (&str, &str) {
        match self {
            Self::Deployment(d) => (&d.meta.namespace, &d.meta.name),
            Self::Rollout(r) => (&r.meta.namespace, &r.meta.name),
            Self::Canary(c) => (&c.meta.namespace, &c.meta.name),
            Self::ReplicaSet(r) => (&r.meta.namespace, &r.meta.name),
            Self::AnalysisRun(a) => (&a.meta.namespace, &a.meta.name),
            Self::Kustomization(f) | Self::HelmRelease(f) => (&f.meta.namespace, &f.meta.name),
            Self::Application(a) => (&a.meta.namespace, &a.meta.name),
            Self::Unparseable(u) => (&u.namespace, &u.name),
        }
    }

    /// The uid of a release object (None for everything else).
    pub fn release_uid(&self) -> Option<&str> {
        match self {
            Self::Deployment(d) => Some(&d.meta.uid),
            Self::Rollout(r) => Some(&r.meta.uid),
            Self::Canary(c) => Some(&c.meta.uid),
            Self::Kustomization(f) | Self::HelmRelease(f) => Some(&f.meta.uid),
            Self::Application(a) => Some(&a.meta.uid),
            Self::ReplicaSet(_) | Self::AnalysisRun(_) | Self::Unparseable(_) => None,
        }
    }
}

/// Derive the release from a release object and the Deployments and ReplicaSets of its
/// namespace (None for objects that are not releases).
pub fn derive(
    ctx: &Ctx<'_>,
    facts: &ObjectFacts,
    deployments: &[&deployment::DeploymentFacts],
    rs: &[&ReplicaSetFacts],
) -> Option<Release> {
    match facts {
        ObjectFacts::Deployment(d) => Some(deployment::derive(ctx, d, rs)),
        ObjectFacts::Rollout(r) => Some(rollout::derive(ctx, r, rs)),
        ObjectFacts::Canary(c) => Some(canary::derive_joined(ctx, c, deployments, rs)),
        ObjectFacts::Kustomization(k) => Some(kustomization::derive(ctx, k)),
        ObjectFacts::HelmRelease(h) => Some(helmrelease::derive(ctx, h)),
        ObjectFacts::Application(a) => Some(application::derive(ctx, a)),
        ObjectFacts::ReplicaSet(_) | ObjectFacts::AnalysisRun(_) | ObjectFacts::Unparseable(_) => {
            None
        }
    }
}

#[cfg(test)]
mod tests;
