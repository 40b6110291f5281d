//! AnalysisRuns without a watch (the watch budget, `source::kube::kinds`): the release row
//! takes its analysis (run name, phase, message) from the Rollout's own status; a run the
//! Rollout reports Failed or Error goes to the failures feed from there, once per run and
//! phase; and the metrics the detail screen shows are read with one GET of the run the
//! Rollout names — when the detail opens and again whenever the Rollout reports another run
//! or phase. Pure; the GET is an `Effect`, its answer a `Msg::Upsert` like a watch's.

use super::effect::Effect;
use super::model::{Analysis, Release, ReleaseKey};
use super::state::{Screen, State};

/// The run a release in view reports, as last asked for: (release, run, phase).
pub type Seen = (ReleaseKey, String, &'static str);

/// After the detail opened or an object changed: ask for the run the release in the detail
/// screen reports, if it is not the one (or the phase) last asked for.
pub fn follow(state: &mut State) -> Vec<Effect> {
    if state.view.screen != Screen::Detail {
        return Vec::new();
    }
    let Some(r) = state.selected_release() else {
        return Vec::new();
    };
    let Some(a) = r.analysis.as_ref().filter(|a| !a.name.is_empty()) else {
        return Vec::new();
    };
    let seen: Seen = (r.key.clone(), a.name.clone(), a.phase.as_str());
    if state.view.analysis_seen.as_ref() == Some(&seen) {
        return Vec::new();
    }
    let effect = Effect::FetchAnalysisRuns {
        cluster: r.key.cluster.clone(),
        namespace: r.key.namespace.clone(),
        names: vec![a.name.clone()],
    };
    state.view.analysis_seen = Some(seen);
    vec![effect]
}

/// The detail opened (or shows another release): ask again even for a run asked for before.
pub fn detail_opened(state: &mut State) -> Vec<Effect> {
    state.view.analysis_seen = None;
    follow(state)
}

/// The analysis `rel` reports as Failed or Error that `previous` did not (another run, or
/// the same run newly failed): what the failures feed records.
pub fn newly_failed<'a>(previous: Option<&Release>, rel: &'a Release) -> Option<&'a Analysis> {
    let a = rel.analysis.as_ref().filter(|a| a.phase.is_bad())?;
    let before = previous.and_then(|p| p.analysis.as_ref());
    let same = before.is_some_and(|b| b.name == a.name && b.phase == a.phase);
    (!same).then_some(a)
}

#[cfg(test)]
#[path = "analysis_tests.rs"]
mod tests;
