//! A console state with one Rollout paused at a canary step whose service has an SLO, and
//! the promote-gate walk-through used by the SLO e2e tests.

use std::collections::BTreeMap;

use jiff::Timestamp;

use shipdeck::app::Pump;
use shipdeck::core::effect::Effect;
use shipdeck::core::facts::{
    CanaryStep, ObjectFacts, ObjectMeta, PauseCondition, PauseReason, RolloutFacts,
};
use shipdeck::core::model::{Cluster, SloSpec};
use shipdeck::core::msg::{Key, Msg};
use shipdeck::core::slo_eval;
use shipdeck::core::state::{Settings, State};

pub const ROLLOUT: &str = "web";

/// State with cluster `a`, Rollout `shop/web` (label app.kubernetes.io/name = `service`)
/// paused at step 1 of 3, and a 99.9 %/30d SLO for `service`; the SLO's name.
pub fn state_with(service: &str, now: Timestamp) -> (State, String) {
    let slo_name = format!("{service}-availability");
    let spec = SloSpec {
        name: slo_name.clone(),
        service: service.to_owned(),
        objective: 99.9,
        window: jiff::SignedDuration::from_hours(720),
        window_label: "30d".into(),
    };
    let mut state = State::new(
        now,
        Settings::default(),
        vec![Cluster::new("a")],
        vec![slo_eval::initial(spec)],
    );
    let mut labels = BTreeMap::new();
    labels.insert("app.kubernetes.io/name".to_owned(), service.to_owned());
    let rollout = RolloutFacts {
        meta: ObjectMeta {
            namespace: "shop".into(),
            name: ROLLOUT.into(),
            uid: "uid-web".into(),
            resource_version: "42".into(),
            generation: 2,
            created: Some(now),
            labels: labels.into(),
            annotations: Default::default(),
            template_manager: None,
        },
        replicas: 4,
        strategy: "canary".into(),
        steps: vec![
            CanaryStep::SetWeight(20),
            CanaryStep::Pause(None),
            CanaryStep::SetWeight(100),
        ],
        images: vec!["shop/web:2".into()],
        observed_generation: Some("2".into()),
        phase: Some("Paused".into()),
        controller_pause: true,
        pause_conditions: vec![PauseCondition {
            reason: PauseReason::CanaryPauseStep,
            start_time: Some(now),
        }],
        current_step_index: Some(1),
        current_pod_hash: "new".into(),
        stable_rs: "old".into(),
        status_replicas: 5,
        updated_replicas: 1,
        ready_replicas: 5,
        available_replicas: 5,
        ..RolloutFacts::default()
    };
    let upsert = Msg::Upsert {
        cluster: "a".into(),
        facts: ObjectFacts::Rollout(rollout),
    };
    Pump::headless().feed(&mut state, [upsert]);
    (state, slo_name)
}

/// One key through the console's pump (headless: the effects come back).
fn key(state: &mut State, k: Key) -> Vec<Effect> {
    Pump::headless().feed(state, [Msg::Key(k)])
}

/// `p` opens a modal that needs the service name typed and records the gate; `y` alone does
/// not execute; typing the name and confirming yields Execute with the override.
pub fn assert_gate(state: &mut State, service: &str) {
    let selected = state.selected_release().map(|r| r.key.name.clone());
    assert_eq!(
        selected.as_deref(),
        Some(ROLLOUT),
        "the Rollout is selected"
    );
    let effects = key(state, Key::Char('p'));
    assert!(
        !effects.iter().any(|e| matches!(e, Effect::Execute { .. })),
        "{effects:?}"
    );
    let modal = state
        .view
        .modal
        .as_ref()
        .expect("p opens the confirmation modal");
    assert_eq!(modal.must_type.as_deref(), Some(service));
    let gate = modal
        .gate
        .clone()
        .expect("the gate is recorded in the modal");
    assert_eq!(gate.service, service);
    assert!(gate.burn > 14.4, "{gate:?}");

    let effects = key(state, Key::Char('y'));
    assert!(
        !effects.iter().any(|e| matches!(e, Effect::Execute { .. })),
        "y alone must not execute: {effects:?}"
    );
    assert!(state.view.modal.is_some());
    let effects = key(state, Key::Enter);
    assert!(
        !effects.iter().any(|e| matches!(e, Effect::Execute { .. })),
        "Enter on Cancel must not execute"
    );

    // Enter on Cancel closed it: open again, type the name, move to Confirm, Enter.
    if state.view.modal.is_none() {
        key(state, Key::Char('p'));
    } else {
        key(state, Key::Backspace);
    }
    for c in service.chars() {
        key(state, Key::Char(c));
    }
    // Once the typed name matches, focus is on Confirm: Enter sends.
    let effects = key(state, Key::Enter);
    let executed: Vec<_> = effects
        .iter()
        .filter_map(|e| match e {
            Effect::Execute {
                plan,
                gate_override,
                ..
            } => Some((plan, gate_override)),
            _ => None,
        })
        .collect();
    let [(plan, gate_override)] = executed.as_slice() else {
        panic!("typing the service name and confirming executes once: {effects:?}");
    };
    assert_eq!(plan.name, ROLLOUT);
    let recorded = gate_override.as_ref().expect("the override is recorded");
    assert_eq!(recorded.service, service);
    assert!(recorded.burn > 14.4);
    println!(
        "gate: promote {} overridden by typing {service:?} (burn {:.1}x over {})",
        plan.name, recorded.burn, recorded.window
    );
}
