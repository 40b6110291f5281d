//! What the core asks the outside world to do. Effects are values: the modal shows them,
//! tests assert them, and one executor carries them out. Every variant here is carried out
//! by `app::dispatch`; a wish the outside world would drop does not belong here (quitting is
//! `State::quit`, read by the loop). Owns no IO and must not name an adapter.

use super::action::ActionPlan;

/// A typed override of the error-budget gate, recorded in the audit log.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct GateOverride {
    pub service: String,
    pub window: String,
    pub burn: f64,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Effect {
    /// Carry out a confirmed action. `id` comes back in `Msg::ActionDone`.
    Execute {
        id: u64,
        plan: ActionPlan,
        gate_override: Option<GateOverride>,
    },
    /// Ask whether the user may do (verb, resource) in this namespace (cached by the core).
    CheckAccess {
        cluster: String,
        namespace: String,
        verb: String,
        resource: String,
    },
    /// Ask the API server to dry-run the plan's first call; answer as `Msg::DryRun`.
    DryRun {
        plan: ActionPlan,
    },
    /// List and watch one ReplicaSet's pods (selector-scoped) until `StopPods` with the same
    /// id; answers as `Msg::Pods`.
    WatchPods(super::kinds::pod::PodQuery),
    StopPods {
        watch: u64,
    },
    /// List the events of these objects once; the answer is `Msg::ObjectEvents`.
    ListEvents(super::kinds::pod::EventsQuery),
    /// Open or close the log viewer's streams (`core::logs`); reports come as `Msg::Logs`.
    Logs(super::logs::LogCommand),
    /// Ask a loadtester whether a Canary's confirm gate is open; answer as
    /// `Msg::GateChecked`.
    CheckGate(super::gates::GateQuery),
    /// GET these AnalysisRuns by name (the runs a Rollout in the detail screen reports;
    /// AnalysisRuns are not watched): each comes back as `Msg::Upsert`, as a watch would
    /// send it.
    FetchAnalysisRuns {
        cluster: String,
        namespace: String,
        names: Vec<String>,
    },
    /// GET a Flux source for the detail screen; answer as `Msg::FluxSource`.
    FetchFluxSource(super::kinds::flux_source::FluxSourceQuery),
    /// GET one object for the YAML view; answer as `Msg::Object`.
    FetchObject {
        cluster: String,
        resource: super::action::Resource,
        namespace: String,
        name: String,
    },
}
