//! The exact requests each action sends to a Rollout, as the Argo Rollouts plugin sends
//! them (promote over the pause kinds, promote-full, abort, retry, restart, undo). Pure.

use jiff::Timestamp;
use serde_json::json;

use super::{ANALYSISRUNS, EXPERIMENTS, ROLLOUTS, ROLLOUTS_STATUS};
use crate::core::action::{ActionKind, ApiCall, PatchType};
use crate::core::facts::AnalysisPhase;
use crate::core::facts::PauseReason;
use crate::core::kinds::request::{merge, rfc3339, undo};
use crate::core::model::Release;

/// The requests for `kind` (every action applies to a Rollout).
pub fn calls(kind: ActionKind, r: &Release, now: Timestamp) -> Vec<ApiCall> {
    use ActionKind::*;
    let f = &r.facts;
    let next_step = || {
        let i = f.current_step_index.unwrap_or(0).max(0) as u32 + 1;
        i.min(f.steps)
    };
    match kind {
        Terminate => terminate(r),
        Pause => vec![merge(ROLLOUTS, r, json!({"spec": {"paused": true}}))],
        Resume => vec![merge(ROLLOUTS, r, json!({"spec": {"paused": false}}))],
        Promote => {
            if f.spec_paused {
                // Upstream sends both when a manual pause sits on top of a step pause. The
                // second is sent with the resourceVersion the first returns (the target
                // applies `request::after_write`): a change in between is a 409, not a write.
                let mut calls = vec![merge(ROLLOUTS, r, json!({"spec": {"paused": false}}))];
                if f.pause_conditions {
                    calls.push(merge(
                        ROLLOUTS_STATUS,
                        r,
                        json!({"status": {"pauseConditions": null}}),
                    ));
                }
                calls
            } else if f.controller_pause && (!f.pause_conditions || inconclusive(r)) {
                vec![merge(
                    ROLLOUTS_STATUS,
                    r,
                    json!({"status": {"pauseConditions": null, "controllerPause": false, "currentStepIndex": next_step()}}),
                )]
            } else if f.pause_conditions {
                vec![merge(
                    ROLLOUTS_STATUS,
                    r,
                    json!({"status": {"pauseConditions": null}}),
                )]
            } else {
                vec![merge(
                    ROLLOUTS_STATUS,
                    r,
                    json!({"status": {"pauseConditions": null, "currentStepIndex": next_step()}}),
                )]
            }
        }
        PromoteFull => {
            let mut calls = Vec::new();
            if f.spec_paused {
                calls.push(merge(ROLLOUTS, r, json!({"spec": {"paused": false}})));
            }
            if !f.fully_promoted {
                // After a spec patch, sent with the resourceVersion that patch returned
                // (`request::after_write`), never without a precondition.
                calls.push(merge(
                    ROLLOUTS_STATUS,
                    r,
                    json!({"status": {"promoteFull": true}}),
                ));
            }
            calls
        }
        Abort => vec![merge(
            ROLLOUTS_STATUS,
            r,
            json!({"status": {"abort": true}}),
        )],
        Retry => vec![merge(
            ROLLOUTS_STATUS,
            r,
            json!({"status": {"abort": false}}),
        )],
        Restart => vec![merge(
            ROLLOUTS,
            r,
            json!({"spec": {"restartAt": rfc3339(now)}}),
        )],
        Undo => undo(ROLLOUTS, r),
        Sync | Refresh => Vec::new(),
    }
}

/// Paused on an inconclusive analysis or experiment: promote must also step past it
/// (upstream promote.go), or the rollout stays stuck on that step.
fn inconclusive(r: &Release) -> bool {
    r.pause.as_ref().is_some_and(|p| {
        matches!(
            p.reason,
            PauseReason::InconclusiveAnalysisRun | PauseReason::InconclusiveExperiment
        )
    })
}

/// Terminate the Rollout's running AnalysisRun: `spec.terminate: true`, as the plugin's
/// `terminate analysisrun` sets it, as a JSON patch that first tests the run is still owned
/// by this Rollout (and still Running, when that is what was seen): a run that finished or
/// was replaced in between is refused (422), not terminated blind.
fn terminate(r: &Release) -> Vec<ApiCall> {
    if let Some(experiment) = r.facts.experiment.as_ref() {
        return terminate_experiment(r, experiment);
    }
    let Some(a) = r.analysis.as_ref() else {
        return Vec::new();
    };
    let mut ops =
        vec![json!({"op": "test", "path": "/metadata/ownerReferences/0/uid", "value": r.uid})];
    if a.phase == AnalysisPhase::Running {
        ops.push(json!({"op": "test", "path": "/status/phase", "value": "Running"}));
    }
    ops.push(json!({"op": "add", "path": "/spec/terminate", "value": true}));
    vec![ApiCall::Patch {
        resource: ANALYSISRUNS,
        namespace: r.key.namespace.clone(),
        name: a.name.clone(),
        patch_type: PatchType::Json,
        body: serde_json::Value::Array(ops),
    }]
}

/// Terminate the running Experiment of the Rollout's experiment step: `spec.terminate: true`,
/// as the plugin's `terminate experiment` sets it, as a JSON patch that first tests the
/// Experiment is still owned by this Rollout (one replaced in between is refused with 422).
fn terminate_experiment(r: &Release, experiment: &str) -> Vec<ApiCall> {
    let ops = vec![
        json!({"op": "test", "path": "/metadata/ownerReferences/0/uid", "value": r.uid}),
        json!({"op": "add", "path": "/spec/terminate", "value": true}),
    ];
    vec![ApiCall::Patch {
        resource: EXPERIMENTS,
        namespace: r.key.namespace.clone(),
        name: experiment.to_string(),
        patch_type: PatchType::Json,
        body: serde_json::Value::Array(ops),
    }]
}
