//! The console in a real terminal (tmux) against a real cluster: promote, abort and undo a
//! real Argo Rollout from the keyboard, and check with the API what changed and that the
//! audit log has an intent before each result.
#![cfg(feature = "e2e")]
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;
mod tmux;

use std::time::Duration;

use anyhow::Result;
use kube::api::{Api, DynamicObject};
use kube::core::GroupVersionKind;

use support::TestEnv;
use support::apply::{apply_yaml, delete_namespace, dynamic_api, ensure_namespace};
use support::env::unique_name;
use support::manifests::{Rollout, Step};
use support::wait::{Check, wait_until};
use tmux::{Tmux, audit_stages, step_of, wait_file};

const TIMEOUT: Duration = Duration::from_secs(90);

/// This suite's Rollout: four replicas labelled with their service, 25 % then 50 %, each
/// followed by a pause for a promote from the keyboard.
fn rollout_yaml(name: &str, image: &str) -> String {
    Rollout::canary(name, image)
        .replicas(4)
        .steps(&[Step::Weight(25), Step::Pause, Step::Weight(50), Step::Pause])
        .service_label()
        .yaml()
}

async fn wait_rollout(
    api: &Api<DynamicObject>,
    name: &str,
    what: &str,
    done: impl Fn(&serde_json::Value) -> bool,
) -> Result<DynamicObject> {
    wait_until(what, TIMEOUT, || async {
        let r = api.get(name).await?;
        Ok(if done(&r.data) {
            Check::Done(r)
        } else {
            Check::NotYet(format!(
                "spec {} status {}",
                r.data["spec"]["template"], r.data["status"]
            ))
        })
    })
    .await
}

fn image(r: &serde_json::Value) -> String {
    r["spec"]["template"]["spec"]["containers"][0]["image"]
        .as_str()
        .unwrap_or("")
        .to_string()
}

#[tokio::test(flavor = "multi_thread")]
async fn promote_abort_undo_from_the_keyboard_change_the_real_rollout() -> Result<()> {
    let env = TestEnv::get()?;
    let admin = env.client("a-admin").await?;
    // Short, so the table shows it whole: the filter and the step are read off the screen.
    let ns = format!(
        "tui-{}",
        unique_name("x").chars().skip(2).take(6).collect::<String>()
    );
    ensure_namespace(&admin, &ns).await?;
    let name = "web".to_string();
    let api = dynamic_api(
        &admin,
        &GroupVersionKind::gvk("argoproj.io", "v1alpha1", "Rollout"),
        Some(&ns),
    )
    .await?;
    apply_yaml(
        &admin,
        Some(&ns),
        &rollout_yaml(&name, "example.test/web:1"),
    )
    .await?;
    wait_rollout(&api, &name, "v1 healthy", |r| {
        r["status"]["phase"] == "Healthy"
    })
    .await?;
    apply_yaml(
        &admin,
        Some(&ns),
        &rollout_yaml(&name, "example.test/web:2"),
    )
    .await?;
    wait_rollout(&api, &name, "v2 paused at step 1", |r| {
        r["status"]["currentStepIndex"] == 1 && r["status"]["phase"] == "Paused"
    })
    .await?;

    let dir = tempfile::tempdir()?;
    let audit = dir.path().join("audit.jsonl");
    let status = dir.path().join("status");
    let script = format!(
        "KUBECONFIG={kc} SHIPDECK_AUDIT_LOG={audit} HOME={home} {bin} --context a-oncall; echo \"EXIT=$?\" > {status}; sleep 30",
        kc = env.kubeconfig.display(),
        audit = audit.display(),
        home = dir.path().display(),
        bin = env!("CARGO_BIN_EXE_shipdeck"),
        status = status.display(),
    );
    let tmux = Tmux::start("tui", 160, 40, &script);
    let screen_wait = Duration::from_secs(30);
    let row = format!("{ns}/{name}");
    tmux.wait_for("the rollout on screen", screen_wait, |s| s.contains(&row));
    tmux.keys(&["/", &ns, "Enter"]);
    tmux.wait_for("it paused at 1/4", screen_wait, |s| {
        step_of(s, &row) == Some((1, 4))
    });

    // Promote: releases the first pause; the controller stops at the next one (step 3).
    tmux.keys(&["p"]);
    tmux.wait_for("the promote modal", screen_wait, |s| {
        s.contains("Confirm") && s.contains("rollouts/status")
    });
    tmux.keys(&["y"]);
    wait_rollout(&api, &name, "promoted to the next pause", |r| {
        r["status"]["currentStepIndex"] == 3 && r["status"]["phase"] == "Paused"
    })
    .await?;
    tmux.wait_for("3/4 on screen", screen_wait, |s| {
        step_of(s, &row) == Some((3, 4))
    });

    // Abort: Degraded, weight back to 0 (a-oncall is not a prod cluster: y confirms).
    tmux.keys(&["a"]);
    tmux.wait_for("the abort modal", screen_wait, |s| {
        s.contains("Confirm") && s.contains("abort")
    });
    tmux.keys(&["y"]);
    wait_rollout(&api, &name, "aborted", |r| {
        r["status"]["abort"] == true && r["status"]["phase"] == "Degraded"
    })
    .await?;
    tmux.wait_for("Degraded on screen", screen_wait, |s| {
        s.contains("Degraded")
    });

    // Undo: the template goes back to v1. The controller may still be writing the abort's
    // status when the key is pressed; then the precondition refuses the stale write and the
    // console says "conflict" — exactly what a person would see, who then asks again.
    let mut attempts = 0;
    let r = loop {
        attempts += 1;
        tmux.keys(&["u"]);
        tmux.wait_for("the undo modal", screen_wait, |s| {
            s.contains("Confirm") && s.contains("undo")
        });
        tmux.keys(&["y"]);
        let outcome = tmux.wait_for("the undo outcome", screen_wait, |s| {
            s.contains("undo web: applied") || s.contains("conflict")
        });
        if outcome.contains("undo web: applied") || attempts == 3 {
            break wait_rollout(&api, &name, "template back to v1", |r| {
                image(r) == "example.test/web:1"
            })
            .await?;
        }
        tokio::time::sleep(Duration::from_secs(2)).await;
    };
    assert_eq!(image(&r.data), "example.test/web:1");

    tmux.keys(&["q"]);
    assert_eq!(wait_file(&status, Duration::from_secs(10)).trim(), "EXIT=0");
    let log = std::fs::read_to_string(&audit)?;
    let stages = audit_stages(&log);
    assert_eq!(stages.len(), 2 * (2 + attempts), "{log}");
    for pair in stages.chunks(2) {
        assert_eq!(pair[0].0, "intent", "{log}");
        assert_eq!(pair[1].0, "result", "{log}");
        assert_eq!(pair[0].1, pair[1].1, "{log}");
    }
    assert!(log.contains("\"user\":\"oncall"), "{log}");
    delete_namespace(&admin, &ns).await?;
    Ok(())
}

/// Push 2 h of traffic for `service` failing 2 % of requests (20x the budget of 99.9 %).
async fn push_burning(prometheus_url: &str, service: &str) -> Result<()> {
    use support::promwrite::{Series, push};
    let now_ms = jiff::Timestamp::now().as_millisecond();
    let mut good = Series::new(
        "http_requests_total",
        &[("service", service), ("code", "200")],
    );
    let mut bad = Series::new(
        "http_requests_total",
        &[("service", service), ("code", "500")],
    );
    let (mut g, mut b) = (0.0, 0.0);
    let steps = 2 * 3600 / 15;
    for i in 0..=steps {
        let t = now_ms - 5_000 - (steps - i) * 15_000;
        good = good.sample(t, g);
        bad = bad.sample(t, b);
        g += 147.0;
        b += 3.0;
    }
    push(prometheus_url, &[good, bad]).await
}

#[tokio::test(flavor = "multi_thread")]
async fn a_burning_service_gates_promote_until_its_name_is_typed() -> Result<()> {
    let env = TestEnv::get()?;
    let admin = env.client("a-admin").await?;
    let ns = format!(
        "gate-{}",
        unique_name("x").chars().skip(2).take(6).collect::<String>()
    );
    let service = format!("svc{}", &ns[5..]);
    ensure_namespace(&admin, &ns).await?;
    push_burning(&env.prometheus_url, &service).await?;
    let api = dynamic_api(
        &admin,
        &GroupVersionKind::gvk("argoproj.io", "v1alpha1", "Rollout"),
        Some(&ns),
    )
    .await?;
    let yaml = |image: &str| rollout_yaml(&service, image);
    apply_yaml(&admin, Some(&ns), &yaml("example.test/web:1")).await?;
    wait_rollout(&api, &service, "v1 healthy", |r| {
        r["status"]["phase"] == "Healthy"
    })
    .await?;
    apply_yaml(&admin, Some(&ns), &yaml("example.test/web:2")).await?;
    wait_rollout(&api, &service, "v2 paused at step 1", |r| {
        r["status"]["currentStepIndex"] == 1 && r["status"]["phase"] == "Paused"
    })
    .await?;

    let dir = tempfile::tempdir()?;
    let config = dir.path().join("config.toml");
    std::fs::write(
        &config,
        format!(
            r#"
[prometheus]
url = "{url}"
interval_seconds = 2

[[slos]]
name = "{service}-availability"
service = "{service}"
objective = 99.9
window = "30d"
[slos.source]
type = "promql"
errors = 'http_requests_total{{service="{service}",code=~"5.."}}'
total = 'http_requests_total{{service="{service}"}}'
"#,
            url = env.prometheus_url
        ),
    )?;
    let audit = dir.path().join("audit.jsonl");
    let status = dir.path().join("status");
    let script = format!(
        "KUBECONFIG={kc} SHIPDECK_AUDIT_LOG={audit} HOME={home} {bin} --context a-oncall --config {config}; echo \"EXIT=$?\" > {status}; sleep 30",
        kc = env.kubeconfig.display(),
        audit = audit.display(),
        home = dir.path().display(),
        bin = env!("CARGO_BIN_EXE_shipdeck"),
        config = config.display(),
        status = status.display(),
    );
    let tmux = Tmux::start("gate", 160, 40, &script);
    let wait = Duration::from_secs(40);
    let row = format!("{ns}/{service}");
    tmux.wait_for("the rollout on screen", wait, |s| s.contains(&row));
    tmux.keys(&["/", &ns, "Enter"]);
    // The burn column shows ~20x beside the release, and the SLO panel says PAGE.
    tmux.wait_for("page-level burn beside the rollout", wait, |s| {
        s.lines().any(|l| {
            l.contains(&row) && (l.contains("20.0x") || l.contains("19.") || l.contains("20."))
        }) && s.to_uppercase().contains("PAGE")
    });
    tmux.keys(&["p"]);
    tmux.wait_for("the gated promote modal", wait, |s| {
        s.contains("Confirm") && s.contains("type")
    });
    // `y` is text here: nothing is sent.
    tmux.keys(&["y", "Tab", "Enter"]);
    tokio::time::sleep(Duration::from_secs(2)).await;
    let r = api.get(&service).await?;
    assert_eq!(
        r.data["status"]["currentStepIndex"], 1,
        "promote must not pass the gate untyped"
    );
    // Type the service name, confirm: the promote goes through.
    tmux.keys(&["BSpace", &service, "Enter"]);
    wait_rollout(&api, &service, "promoted past the gate", |r| {
        r["status"]["currentStepIndex"] == 3
    })
    .await?;
    tmux.keys(&["Escape", "q"]);
    assert_eq!(wait_file(&status, Duration::from_secs(10)).trim(), "EXIT=0");
    let log = std::fs::read_to_string(&audit)?;
    assert!(log.contains("\"gate_override\""), "{log}");
    assert!(log.contains(&format!("\"service\":\"{service}\"")), "{log}");
    delete_namespace(&admin, &ns).await?;
    Ok(())
}
