//! The offline source end to end: captured YAML/JSON → projections → the core's own status
//! derivation, checked against what the controllers reported in those captures.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};

use jiff::Timestamp;
use shipdeck::core::facts::AnalysisPhase;
use shipdeck::core::facts::PauseReason;
use shipdeck::core::model::{Cluster, Phase, Release, ReleaseKey, ReleaseKind, RsRole};
use shipdeck::core::msg::Msg;
use shipdeck::core::state::{Settings, State};
use shipdeck::core::update;
use shipdeck::source::files::{self, Capture, FilesError};

fn fixture(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(rel)
}

fn now() -> Timestamp {
    "2026-11-26T08:05:00Z".parse().unwrap()
}

/// Load `args` and run every message through the core.
fn state_of(args: &[PathBuf]) -> (State, Capture) {
    let capture = files::load(args).unwrap();
    let clusters = capture
        .clusters
        .iter()
        .map(|c| Cluster::new(c.clone()))
        .collect();
    let mut state = State::new(now(), Settings::default(), clusters, Vec::new());
    for msg in capture.messages.clone() {
        update(&mut state, msg);
    }
    (state, capture)
}

fn release<'a>(
    state: &'a State,
    cluster: &str,
    kind: ReleaseKind,
    ns: &str,
    name: &str,
) -> &'a Release {
    let key = ReleaseKey {
        cluster: cluster.into(),
        kind,
        namespace: ns.into(),
        name: name.into(),
    };
    state
        .releases
        .get(&key)
        .unwrap_or_else(|| panic!("no release {key}"))
}

#[test]
fn canary_paused_at_step_one_of_four() {
    let (state, capture) = state_of(&[fixture("rollouts/paused-step1.yaml")]);
    assert_eq!(capture.clusters, vec!["paused-step1"]);
    let r = release(
        &state,
        "paused-step1",
        ReleaseKind::Rollout,
        "shop",
        "checkout",
    );
    assert_eq!(r.phase, Phase::Paused);
    assert_eq!(r.step, Some((1, 4)));
    assert_eq!(r.set_weight, Some(20));
    // No traffic routing: 1 of 5 available pods is canary.
    assert_eq!(r.actual_weight, Some(20));
    let pause = r.pause.as_ref().unwrap();
    assert_eq!(
        (pause.reason, pause.duration),
        (PauseReason::CanaryPauseStep, None)
    );
    let roles: Vec<_> = r.revisions.iter().map(|v| (v.revision, v.role)).collect();
    assert_eq!(
        roles,
        vec![(Some(2), RsRole::Canary), (Some(1), RsRole::Stable)]
    );
    assert_eq!(r.facts.undo_target, Some(("checkout-6b8d4c7f9".into(), 1)));
}

#[test]
fn aborted_canary_is_degraded_at_weight_zero() {
    let (state, _) = state_of(&[fixture("rollouts/aborted.yaml")]);
    let r = release(&state, "aborted", ReleaseKind::Rollout, "catalog", "search");
    assert_eq!(r.phase, Phase::Degraded);
    assert!(r.message.raw().starts_with("RolloutAborted"));
    assert_eq!((r.set_weight, r.actual_weight), (Some(0), Some(0)));
    assert_eq!(r.analysis.as_ref().unwrap().phase, AnalysisPhase::Failed);
    assert!(r.facts.aborted);
    assert!(r.gitops.is_some(), "Argo CD tracking id kept");
    // Turning Degraded is a failure worth a line.
    assert!(
        state
            .failures
            .items()
            .iter()
            .any(|f| f.reason == "RolloutAborted")
    );
}

#[test]
fn fully_promoted_canary_is_healthy_at_full_weight() {
    let (state, _) = state_of(&[fixture("rollouts/healthy.yaml")]);
    let r = release(&state, "healthy", ReleaseKind::Rollout, "shop", "cart");
    assert_eq!(r.phase, Phase::Healthy);
    assert_eq!(r.step, Some((4, 4)));
    assert_eq!((r.set_weight, r.actual_weight), (Some(100), Some(100)));
    assert!(r.facts.fully_promoted);
}

#[test]
fn blue_green_from_an_older_controller_is_derived_from_spec_and_status() {
    let (state, _) = state_of(&[fixture("rollouts/bluegreen-legacy.json")]);
    let r = release(
        &state,
        "bluegreen-legacy",
        ReleaseKind::Rollout,
        "finance",
        "ledger",
    );
    assert_eq!(r.phase, Phase::Paused);
    assert_eq!(r.message.raw(), "BlueGreenPause");
    assert_eq!(r.set_weight, None);
}

#[test]
fn deployment_past_its_progress_deadline_is_degraded() {
    let (state, _) = state_of(&[fixture("deployments")]);
    let frontend = release(
        &state,
        "deployments",
        ReleaseKind::Deployment,
        "web",
        "frontend",
    );
    assert_eq!(frontend.phase, Phase::Degraded);
    assert_eq!(frontend.message.raw(), "exceeded its progress deadline");
    // kubectl's new ReplicaSet (rev 7, failing) is new; the old one still serves.
    let roles: Vec<_> = frontend
        .revisions
        .iter()
        .map(|r| (r.revision, r.role))
        .collect();
    assert_eq!(roles, [(Some(7), RsRole::New), (Some(6), RsRole::Stable)]);
    assert_eq!(
        frontend.facts.undo_target,
        Some(("frontend-5d4c7b8a6".into(), 6))
    );
    let assets = release(
        &state,
        "deployments",
        ReleaseKind::Deployment,
        "web",
        "assets",
    );
    assert_eq!(assets.phase, Phase::Healthy);
    let api = release(&state, "deployments", ReleaseKind::Deployment, "web", "api");
    assert_eq!(api.phase, Phase::Paused);
}

#[test]
fn flagger_canaries_use_their_own_phase() {
    let (state, _) = state_of(&[fixture("canaries/podinfo.yaml")]);
    let podinfo = release(&state, "podinfo", ReleaseKind::Canary, "test", "podinfo");
    assert_eq!(podinfo.phase, Phase::Progressing);
    assert_eq!((podinfo.set_weight, podinfo.step), (Some(20), Some((2, 5))));
    assert!(podinfo.facts.rollback_webhook.is_some());
    let backend = release(&state, "podinfo", ReleaseKind::Canary, "test", "backend");
    assert_eq!(backend.phase, Phase::Degraded);
    assert!(backend.facts.spec_paused);
}

#[test]
fn warning_events_reach_the_failure_feed() {
    let (state, _) = state_of(&[fixture("events/warnings.yaml")]);
    let items = state.failures.items();
    let backoff = items.iter().find(|f| f.reason == "BackOff").unwrap();
    assert_eq!(
        (backoff.count, backoff.object.as_str()),
        (14, "pod/frontend-6c5b8d9f7-x2x7k")
    );
    assert!(
        items
            .iter()
            .any(|f| f.reason == "RolloutAborted" && f.count == 3)
    );
    assert!(
        !items.iter().any(|f| f.reason == "RolloutStepCompleted"),
        "Normal events skipped"
    );
}

#[test]
fn malformed_objects_are_rows_not_failures() {
    let (state, _) = state_of(&[fixture("malformed/rollouts.yaml")]);
    let broken = release(
        &state,
        "rollouts",
        ReleaseKind::Rollout,
        "shop",
        "broken-replicas",
    );
    assert_eq!(broken.phase, Phase::Unparseable);
    assert!(broken.message.raw().contains("invalid type"));
    let future = release(
        &state,
        "rollouts",
        ReleaseKind::Rollout,
        "shop",
        "from-the-future",
    );
    assert_eq!(future.phase, Phase::Unparseable);
    let fine = release(&state, "rollouts", ReleaseKind::Rollout, "shop", "fine");
    assert_eq!(fine.phase, Phase::Progressing);
    assert_eq!(state.releases.len(), 3, "the Service is skipped");
}

#[test]
fn a_directory_is_one_cluster_and_names_can_be_given() {
    let (state, capture) = state_of(&[
        fixture("rollouts"),
        PathBuf::from(format!(
            "prod={}",
            fixture("deployments/list.yaml").display()
        )),
        PathBuf::from(format!(
            "prod={}",
            fixture("canaries/podinfo.yaml").display()
        )),
    ]);
    assert_eq!(capture.clusters, vec!["rollouts", "prod"]);
    let count = |c: &str| state.releases.keys().filter(|k| k.cluster == c).count();
    assert_eq!(count("rollouts"), 4);
    assert_eq!(count("prod"), 4, "two deployments and two canaries");
    // Every cluster is announced connected, then relisted kind by kind.
    let connected = capture
        .messages
        .iter()
        .filter(|m| matches!(m, Msg::Connection { .. }))
        .count();
    assert_eq!(connected, 2);
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

#[test]
fn bad_yaml_names_the_file_and_document() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(
        dir.path(),
        "broken.yaml",
        "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: a}\nspec: {selector: {}, template: {}}\n---\nkind: [unclosed\n",
    );
    let err = files::load(std::slice::from_ref(&path)).unwrap_err();
    assert!(
        matches!(err, FilesError::Parse { document: 2, .. }),
        "{err}"
    );
    let text = err.to_string();
    assert!(
        text.contains("broken.yaml") && text.contains("document 2"),
        "{text}"
    );
}

#[test]
fn a_document_that_is_not_an_object_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), "notes.yaml", "title: not kubernetes\n");
    let text = files::load(&[path]).unwrap_err().to_string();
    assert!(text.contains("notes.yaml: document 1: no `kind`"), "{text}");

    let list = write(
        dir.path(),
        "list.json",
        r#"{"kind": "List", "items": [{"kind": "Pod"}]}"#,
    );
    let text = files::load(&[list]).unwrap_err().to_string();
    assert!(
        text.contains("list.json: document 1: item 1: no `apiVersion`"),
        "{text}"
    );
}

#[test]
fn missing_paths_and_empty_directories_are_errors() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("nope.yaml");
    assert!(matches!(
        files::load(&[missing]).unwrap_err(),
        FilesError::Read { .. }
    ));
    write(dir.path(), "README.md", "# not a capture\n");
    let err = files::load(&[dir.path().to_path_buf()]).unwrap_err();
    assert!(matches!(err, FilesError::Empty { .. }), "{err}");
}
