#![cfg(feature = "e2e")]
//! Revisions and undo to a chosen revision against the real test clusters (tests/env): a
//! Rollout and a Deployment with three revisions each, derived by the core from the objects
//! read back; the revisions screen (`v`), undo to revision 1 through the console's keys (the
//! modal's diff), sent by the executor as the on-call identity; undo to the template in
//! effect sends nothing; the YAML view of a real object has no managedFields.
//! Each test works in its own `act-…` namespace and deletes it.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[allow(dead_code)] // shared with e2e_actions; this suite uses part of it
mod actions;
mod support;

use std::panic::AssertUnwindSafe;

use anyhow::{Result, bail};
use futures::FutureExt;
use jiff::Timestamp;
use shipdeck::action::executor::ActionTarget;
use shipdeck::app::Pump;
use shipdeck::core::action::{ActionKind, DEPLOYMENTS, ROLLOUTS};
use shipdeck::core::model::{Cluster, Phase, Release};
use shipdeck::core::msg::{Key, Msg, Outcome};
use shipdeck::core::revisions::DiffLine;
use shipdeck::core::state::{Screen, Settings, State};
use shipdeck::core::text::Untrusted;
use shipdeck::core::{Effect, settle};

use actions::{Console, Fixture, assert_applied};
use support::kubectl::Kubectl;
use support::manifests::{Deployment, Rollout};

/// A console state holding `r` only, selected on the home screen.
fn console_with(r: &Release) -> State {
    let mut s = State::new(
        Timestamp::now(),
        Settings::default(),
        vec![Cluster::new(r.key.cluster.clone())],
        vec![],
    );
    s.releases.insert(r.key.clone(), r.clone());
    settle(&mut s);
    assert_eq!(s.selected_release().map(|x| &x.key), Some(&r.key));
    s
}

fn press(s: &mut State, key: Key) -> Vec<Effect> {
    let e = Pump::headless().apply(s, Msg::Key(key));
    settle(s);
    e
}

/// `v`, then down to revision `to`'s row, then Enter: the state with the undo modal open.
fn undo_via_keys(r: &Release, to: i64) -> State {
    let mut s = console_with(r);
    press(&mut s, Key::Char('v'));
    assert_eq!(s.view.screen, Screen::Revisions);
    let row = r
        .revisions
        .iter()
        .position(|v| v.revision == Some(to))
        .expect("the revision is listed");
    for _ in 0..row {
        press(&mut s, Key::Char('j'));
    }
    press(&mut s, Key::Enter);
    s
}

fn image_line(image: &str) -> Untrusted {
    Untrusted::new(format!("  image {image}"))
}

async fn three_revisions_of_a_rollout(fx: &Fixture, name: &str) -> Result<Release> {
    for v in 1..=3 {
        let image = format!("example.test/shop:{v}");
        fx.apply(&Rollout::canary(name, &image).steps(&[]).replicas(2).yaml())
            .await?;
        fx.wait_release(
            &format!("v{v} healthy"),
            || fx.rollout(name),
            |r| {
                r.phase == Phase::Healthy
                    && r.facts.fully_promoted
                    && r.images == vec![image.clone()]
            },
        )
        .await?;
    }
    fx.settled(|| fx.rollout(name)).await
}

#[tokio::test]
async fn rollout_undo_to_revision_1_of_3_with_the_image_diff() -> Result<()> {
    let fx = Fixture::new("a").await?;
    let result = AssertUnwindSafe(rollout_body(&fx)).catch_unwind().await;
    fx.done(result).await
}

async fn rollout_body(fx: &Fixture) -> Result<()> {
    let rel = three_revisions_of_a_rollout(fx, "web").await?;
    let revs: Vec<Option<i64>> = rel.revisions.iter().map(|r| r.revision).collect();
    assert_eq!(revs, vec![Some(3), Some(2), Some(1)], "{:?}", rel.revisions);
    for r in &rel.revisions {
        assert!(!r.info.template.is_empty(), "{} has a summary", r.name);
    }
    println!(
        "revision 3 changed by: {:?}",
        rel.revisions[0].info.manager.as_ref().map(Untrusted::raw)
    );
    assert!(rel.revisions[0].info.manager.is_some(), "template manager");

    // Undo to revision 1 through the keys: the modal shows the image diff.
    let s = undo_via_keys(&rel, 1);
    let m = s.view.modal.as_ref().expect("undo modal open");
    assert_eq!(m.plan.kind, ActionKind::Undo);
    let p = m.undo_preview.as_ref().expect("undo preview");
    assert_eq!((p.from, p.to), (Some(3), 1));
    assert!(
        p.lines
            .contains(&DiffLine::Removed(image_line("example.test/shop:3")))
    );
    assert!(
        p.lines
            .contains(&DiffLine::Added(image_line("example.test/shop:1")))
    );
    println!("undo diff: {:?}", p.lines);
    let mut console = Console::new("a", fx.oncall.clone(), None);
    assert_applied(&console.run(1, m.plan.clone()).await?, "undo to 1");

    // Lands on revision 1's template: the Rollout's, and the plugin's view agree.
    let after = fx
        .wait_release(
            "back on shop:1",
            || fx.rollout("web"),
            |r| r.phase == Phase::Healthy && r.images == vec!["example.test/shop:1".to_string()],
        )
        .await?;
    let raw = fx.get(&ROLLOUTS, "web").await?;
    assert_eq!(
        actions::images(&raw),
        vec!["example.test/shop:1".to_owned()]
    );
    let newest = &after.revisions[0];
    assert_eq!(newest.revision, Some(4), "{:?}", after.revisions);
    assert_eq!(newest.images, vec!["example.test/shop:1".to_string()]);
    // Revision 3 (shop:3) was rolled back: a second undo (to the previous revision) says so.
    let three = after.revisions.iter().find(|r| r.revision == Some(3));
    assert!(
        three.is_some_and(|r| r.info.rolled_back),
        "{:?}",
        after.revisions
    );
    let mut s = console_with(&after);
    press(&mut s, Key::Char('u'));
    let m = s.view.modal.as_ref().expect("second undo modal");
    let p = m.undo_preview.as_ref().expect("preview");
    assert_eq!(p.to, 3);
    assert!(
        p.warnings.iter().any(|w| w.contains("rolled back")),
        "{:?}",
        p.warnings
    );
    Ok(())
}

#[tokio::test]
async fn deployment_undo_to_revision_1_and_undo_to_current_is_a_no_op() -> Result<()> {
    let fx = Fixture::new("b").await?;
    let result = AssertUnwindSafe(deployment_body(&fx)).catch_unwind().await;
    fx.done(result).await
}

async fn deployment_body(fx: &Fixture) -> Result<()> {
    for v in 1..=3 {
        let image = format!("example.test/web:{v}");
        fx.apply(&Deployment::new("web", &image).yaml()).await?;
        support::wait::deployment_rolled_out(&fx.admin, &fx.ns, "web", actions::TIMEOUT).await?;
    }
    fx.wait_release(
        "three revisions",
        || fx.deployment("web"),
        |r| r.phase == Phase::Healthy && r.revisions.len() == 3,
    )
    .await?;
    let rel = fx.settled(|| fx.deployment("web")).await?;
    let env = support::TestEnv::get()?;
    let kubectl = Kubectl::new(env, "b-admin")?;
    let history = kubectl
        .ok(&["rollout", "history", "deployment/web", "-n", &fx.ns])
        .await?;
    println!("kubectl rollout history (before):\n{history}");

    // Undo to the template in effect (revision 3): nothing sent, said so, object unchanged.
    let mut s = undo_via_keys(&rel, 3);
    assert!(s.view.modal.is_none(), "no modal for a no-op");
    let notice = s.view.notice.take().map(|n| n.text).unwrap_or_default();
    assert!(notice.contains("already at that template"), "{notice}");
    // The executor agrees, and writes nothing, when asked anyway.
    let mut current = rel.clone();
    current.facts.undo_target = Some((rel.revisions[0].name.clone(), 3));
    let plan = fx.plan(ActionKind::Undo, &current)?;
    let mut console = Console::new("b", fx.oncall.clone(), None);
    let outcome = console.run(1, plan).await?;
    println!("undo to current: {outcome:?}");
    assert!(
        matches!(&outcome, Outcome::Applied { detail, .. } if detail.contains("already at that revision")),
        "{outcome:?}"
    );
    let again = fx.get(&DEPLOYMENTS, "web").await?;
    assert_eq!(
        again["metadata"]["resourceVersion"].as_str(),
        Some(rel.resource_version.as_str()),
        "no write"
    );

    // Undo to revision 1 through the keys: the diff names the images.
    let s = undo_via_keys(&rel, 1);
    let m = s.view.modal.as_ref().expect("undo modal");
    let p = m.undo_preview.as_ref().expect("preview");
    assert!(
        p.lines
            .contains(&DiffLine::Removed(image_line("example.test/web:3")))
    );
    assert!(
        p.lines
            .contains(&DiffLine::Added(image_line("example.test/web:1")))
    );
    assert_applied(&console.run(2, m.plan.clone()).await?, "undo to 1");
    support::wait::deployment_rolled_out(&fx.admin, &fx.ns, "web", actions::TIMEOUT).await?;
    let raw = fx.get(&DEPLOYMENTS, "web").await?;
    assert_eq!(actions::images(&raw), vec!["example.test/web:1".to_owned()]);
    let history = kubectl
        .ok(&["rollout", "history", "deployment/web", "-n", &fx.ns])
        .await?;
    println!("kubectl rollout history (after):\n{history}");
    // kubectl too: revision 1 became revision 4.
    let revs: Vec<&str> = history
        .lines()
        .filter_map(|l| l.split_whitespace().next())
        .filter(|w| w.chars().all(|c| c.is_ascii_digit()))
        .collect();
    assert_eq!(revs, vec!["2", "3", "4"], "{history}");
    let after = fx.deployment("web").await?;
    assert_eq!(after.revisions[0].revision, Some(4));
    assert_eq!(
        after.revisions[0].info.history,
        vec![1],
        "revision-history annotation"
    );
    Ok(())
}

#[tokio::test]
async fn yaml_view_of_a_real_object_has_no_managed_fields() -> Result<()> {
    let fx = Fixture::new("a").await?;
    let result = AssertUnwindSafe(yaml_body(&fx)).catch_unwind().await;
    fx.done(result).await
}

async fn yaml_body(fx: &Fixture) -> Result<()> {
    fx.apply(&Deployment::new("web", "example.test/web:1").yaml())
        .await?;
    support::wait::deployment_rolled_out(&fx.admin, &fx.ns, "web", actions::TIMEOUT).await?;
    let raw = fx.get(&DEPLOYMENTS, "web").await?;
    assert!(
        raw["metadata"]["managedFields"].is_array(),
        "the server keeps them"
    );
    let rel = fx.deployment("web").await?;
    let mut s = console_with(&rel);
    let effects = press(&mut s, Key::Char('o'));
    let Some(Effect::FetchObject {
        resource,
        namespace,
        name,
        cluster,
    }) = effects.into_iter().next()
    else {
        bail!("o asks for the object");
    };
    // As the executor does: the viewer identity may read.
    let result = fx
        .viewer
        .get_object(resource, namespace.clone(), name.clone())
        .await;
    Pump::headless().apply(
        &mut s,
        Msg::Object {
            cluster,
            namespace,
            name,
            result,
        },
    );
    let y = s.view.yaml.as_ref().expect("yaml view");
    let Some(Ok(lines)) = &y.lines else {
        bail!("no lines: {:?}", y.lines);
    };
    let text: Vec<&str> = lines.iter().map(Untrusted::raw).collect();
    println!("yaml: {} lines", text.len());
    assert!(
        !text.iter().any(|l| l.contains("managedFields")),
        "{text:?}"
    );
    assert!(
        text.iter()
            .any(|l| l.trim_start_matches([' ', '-']) == "image: example.test/web:1"),
        "{text:?}"
    );
    assert!(text.iter().any(|l| l.trim() == "name: web"));
    // Searching finds the image line.
    for k in "/image:".chars().map(Key::Char).chain([Key::Enter]) {
        press(&mut s, k);
    }
    let y = s.view.yaml.as_ref().expect("yaml view");
    assert_eq!(shipdeck::core::yaml::matches(y).len(), 1, "one image line");
    Ok(())
}
