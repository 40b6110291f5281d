//! AnalysisRuns without a watch, through the real update loop: the detail of a Rollout asks
//! for the run the Rollout names (again only when the run or its phase changes), the run's
//! answer fills the detail like a watched one did, and a failed run reaches the failures
//! feed from the Rollout's status once.

use super::*;
use crate::core::facts::{AnalysisPhase, AnalysisRef, AnalysisRunFacts, ObjectFacts};
use crate::core::model::Cluster;
use crate::core::msg::{Key, Msg};
use crate::core::state::Settings;
use crate::core::testkit::{FleetBuilder, meta, paused_rollout, t};
use crate::core::text::Untrusted;
use crate::core::{settle, update};

fn rollout(run: &str, phase: AnalysisPhase, rv: &str) -> ObjectFacts {
    let mut r = paused_rollout("shop", "web");
    r.meta.resource_version = rv.into();
    r.step_analysis = Some(AnalysisRef {
        name: run.into(),
        phase,
        message: Untrusted::new(if phase.is_bad() {
            "Metric \"errors\" assessed Failed"
        } else {
            ""
        }),
    });
    ObjectFacts::Rollout(r)
}

fn console() -> State {
    let mut f = FleetBuilder::new(t(0), Settings::default(), vec![Cluster::new("a")], vec![]);
    f.upsert("a", rollout("web-7-2", AnalysisPhase::Running, "1"));
    f.settled()
}

fn fetches(fx: &[Effect]) -> Vec<Vec<String>> {
    fx.iter()
        .filter_map(|e| match e {
            Effect::FetchAnalysisRuns {
                cluster,
                namespace,
                names,
            } => {
                assert_eq!((cluster.as_str(), namespace.as_str()), ("a", "shop"));
                Some(names.clone())
            }
            _ => None,
        })
        .collect()
}

fn upsert(s: &mut State, facts: ObjectFacts) -> Vec<Effect> {
    let fx = update(
        s,
        Msg::Upsert {
            cluster: "a".into(),
            facts,
        },
    );
    settle(s);
    fx
}

#[test]
fn the_detail_asks_for_the_run_the_rollout_names_and_again_only_when_it_changes() {
    let mut s = console();
    // Home: nothing is read.
    assert!(
        fetches(&upsert(
            &mut s,
            rollout("web-7-2", AnalysisPhase::Running, "2")
        ))
        .is_empty()
    );
    let fx = update(&mut s, Msg::Key(Key::Enter));
    settle(&mut s);
    assert_eq!(fetches(&fx), [["web-7-2"]], "opened: one GET of the run");
    // The same run and phase (a status write elsewhere): not again.
    assert!(
        fetches(&upsert(
            &mut s,
            rollout("web-7-2", AnalysisPhase::Running, "3")
        ))
        .is_empty()
    );
    // The run finished: read again for its final measurements.
    let fx = upsert(&mut s, rollout("web-7-2", AnalysisPhase::Successful, "4"));
    assert_eq!(fetches(&fx), [["web-7-2"]]);
    // The answer arrives as a watch would send it: the detail has the run.
    let run = AnalysisRunFacts {
        meta: meta("shop", "web-7-2", "9"),
        owner_uid: s
            .selected_release()
            .map(|r| r.uid.clone())
            .unwrap_or_default(),
        phase: AnalysisPhase::Successful,
        ..AnalysisRunFacts::default()
    };
    upsert(&mut s, ObjectFacts::AnalysisRun(run));
    assert_eq!(s.inventory.analysis_runs_in("a", "shop").count(), 1);
    // Back home and in again: asked again.
    update(&mut s, Msg::Key(Key::Esc));
    settle(&mut s);
    let fx = update(&mut s, Msg::Key(Key::Enter));
    assert_eq!(fetches(&fx), [["web-7-2"]]);
}

#[test]
fn a_failed_analysis_reaches_the_failures_feed_from_the_rollout_status_once() {
    let mut s = console();
    let failed = |s: &State| {
        s.failures
            .items()
            .iter()
            .filter(|f| f.object == "analysisrun/web-7-2")
            .map(|f| (f.reason.clone(), f.count))
            .collect::<Vec<_>>()
    };
    assert!(failed(&s).is_empty(), "running is not a failure");
    upsert(&mut s, rollout("web-7-2", AnalysisPhase::Failed, "2"));
    upsert(&mut s, rollout("web-7-2", AnalysisPhase::Failed, "3"));
    assert_eq!(
        failed(&s),
        [("AnalysisFailed".to_string(), 1)],
        "recorded once, not once per status write"
    );
    let f = s
        .failures
        .items()
        .iter()
        .find(|f| f.object == "analysisrun/web-7-2")
        .map(|f| f.message.raw().to_string());
    assert_eq!(f.as_deref(), Some("Metric \"errors\" assessed Failed"));
}
