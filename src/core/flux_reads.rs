//! Flux sources read when shown: GitRepository and OCIRepository are not watched (the watch
//! budget); when the detail of a Kustomization or HelmRelease opens, its source is read with
//! one GET and its Ready, message and artifact revision shown there. Pure: the GET is an
//! `Effect`, its answer `Msg::FluxSource`.

use super::effect::Effect;
use super::facts::ObjectFacts;
use super::kinds::flux_source::{FluxSourceFacts, FluxSourceQuery, FluxSourceView};
use super::model::ReleaseKind;
use super::state::State;
use super::text::Untrusted;

/// The detail opened on the selected release: for a Flux one, ask for its source.
pub fn detail_opened(state: &mut State) -> Vec<Effect> {
    state.view.flux_source = None;
    let Some(r) = state.selected_release() else {
        return Vec::new();
    };
    if !matches!(
        r.key.kind,
        ReleaseKind::Kustomization | ReleaseKind::HelmRelease
    ) {
        return Vec::new();
    }
    let source = match state.inventory.workload(&r.key) {
        Some(ObjectFacts::Kustomization(f) | ObjectFacts::HelmRelease(f)) => f.source.clone(),
        _ => return Vec::new(),
    };
    let query = FluxSourceQuery::of(&r.key.cluster, &source);
    let effects = query
        .clone()
        .map(Effect::FetchFluxSource)
        .into_iter()
        .collect();
    state.view.flux_source = Some(FluxSourceView {
        release: r.key.clone(),
        source,
        query,
        result: None,
    });
    effects
}

/// The GET's answer: kept if it is for the source the detail shows.
pub fn on_answer(
    state: &mut State,
    query: FluxSourceQuery,
    result: Result<FluxSourceFacts, Untrusted>,
) {
    let Some(v) = state.view.flux_source.as_mut() else {
        return;
    };
    if v.query.as_ref() != Some(&query) {
        return;
    }
    v.result = Some(result);
    state.dirty = true;
}

#[cfg(test)]
#[path = "flux_reads_tests.rs"]
mod tests;
