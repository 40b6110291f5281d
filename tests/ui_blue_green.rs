//! The detail screen of a blue-green Rollout names its ReplicaSets as the Argo plugin does:
//! the active service's and the preview service's, never "canary".
#![allow(clippy::unwrap_used, clippy::expect_used)]

use shipdeck::core::facts::{ObjectFacts, PauseCondition, PauseReason, RolloutFacts};
use shipdeck::core::model::Cluster;
use shipdeck::core::state::Settings;
use shipdeck::core::testkit::{FleetBuilder, meta, replicaset, t};
use shipdeck::core::{Key, Msg, State};
use shipdeck::ui::{Theme, screenshot};

fn blue_green(width: u16, height: u16) -> State {
    let r = RolloutFacts {
        meta: meta("finance", "ledger", "9"),
        replicas: 2,
        strategy: "blueGreen".into(),
        images: vec!["registry.local/ledger:2".into()],
        observed_generation: Some("3".into()),
        phase: Some("Paused".into()),
        message: "BlueGreenPause".into(),
        pause_conditions: vec![PauseCondition {
            reason: PauseReason::BlueGreenPause,
            start_time: Some(t(-30)),
        }],
        current_pod_hash: "new".into(),
        stable_rs: "old".into(),
        active_selector: Some("old".into()),
        preview_selector: Some("new".into()),
        status_replicas: 4,
        updated_replicas: 2,
        ready_replicas: 4,
        available_replicas: 4,
        ..RolloutFacts::default()
    };
    let mut f = FleetBuilder::new(t(0), Settings::default(), vec![Cluster::new("a")], vec![]);
    f.send(Msg::Resize { width, height });
    f.upsert(
        "a",
        ObjectFacts::ReplicaSet(replicaset(
            "finance",
            "ledger",
            "new",
            2,
            "registry.local/ledger:2",
            2,
        )),
    )
    .upsert(
        "a",
        ObjectFacts::ReplicaSet(replicaset(
            "finance",
            "ledger",
            "old",
            1,
            "registry.local/ledger:1",
            2,
        )),
    )
    .upsert("a", ObjectFacts::Rollout(r));
    let mut state = f.settled();
    shipdeck::core::update(&mut state, Msg::Key(Key::Enter));
    shipdeck::core::settle(&mut state);
    state
}

#[test]
fn detail_names_the_active_and_preview_replicasets() {
    for (w, h) in [(80, 24), (250, 70)] {
        let state = blue_green(w, h);
        let shot = screenshot(&state, &Theme::default(), w, h);
        let line = |needle: &str| {
            shot.lines()
                .find(|l| l.contains(needle))
                .unwrap_or_else(|| panic!("no {needle} at {w}x{h}:\n{shot}"))
                .to_string()
        };
        assert!(line("rev 2").contains("preview"), "{shot}");
        assert!(line("rev 1").contains("active"), "{shot}");
        assert!(!shot.contains("canary"), "{shot}");
    }
}
