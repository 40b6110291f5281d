//! The checks of the "why is it failing" work, done as a person would: the real binary in a
//! real terminal (tmux, 80x24) against the real test environment (tests/env), keys typed,
//! the screen read back, and the cluster asked what changed.
//!
//! - A Rollout whose canary pod crash-loops (kwok runs the pod and serves its log; the
//!   kubelet's part — CrashLoopBackOff and its BackOff event — is written through the API
//!   server as the kubelet would): from the home screen to the pod's events and its last log
//!   line in at most four keys.
//! - Undo to revision 1 of 3: the revisions list, the image diff in the modal, and the
//!   Rollout's template back on revision 1's image.
//! - A Flagger canary held in WaitingPromotion at a closed confirm-promotion gate: `p` opens
//!   the gate (the real loadtester), Flagger promotes to Succeeded, and the console closes
//!   the gate again.
//!
//! Each test narrows the console to its own namespace with the filter (`/`, the namespace,
//! Enter) before counting keys: the other e2e crates' namespaces share the clusters.
#![cfg(feature = "e2e")]
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;
mod tmux;

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Result, bail};
use kube::api::{Api, DynamicObject};
use kube::core::GroupVersionKind;
use serde_json::{Value, json};

use support::TestEnv;
use support::apply::{NamespaceCleanup, apply_value, apply_yaml, dynamic_api, ensure_namespace};
use support::env::unique_name;
use support::kubectl::Kubectl;
use support::manifests::{Canary, Deployment, Rollout, Step};
use support::wait::{Check, wait_until};
use tmux::{Tmux, wait_file};

const TIMEOUT: Duration = Duration::from_secs(120);
const SCREEN: Duration = Duration::from_secs(60);

/// A short namespace name, so the 80-column table shows `ns/name` whole.
fn short_ns(prefix: &str) -> String {
    let tail: String = unique_name("x").chars().skip(2).take(5).collect();
    format!("{prefix}-{tail}")
}

fn rollouts_gvk() -> GroupVersionKind {
    GroupVersionKind::gvk("argoproj.io", "v1alpha1", "Rollout")
}

async fn wait_object(
    api: &Api<DynamicObject>,
    name: &str,
    what: &str,
    done: impl Fn(&Value) -> bool,
) -> Result<Value> {
    wait_until(what, TIMEOUT, || async {
        let o = api.get(name).await?;
        let v = serde_json::to_value(&o)?;
        Ok(if done(&v) {
            Check::Done(v)
        } else {
            Check::NotYet(v["status"].to_string())
        })
    })
    .await
}

fn template_image(v: &Value) -> String {
    v["spec"]["template"]["spec"]["containers"][0]["image"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

/// The console under test: `shipdeck --context a-oncall` in tmux at 80x24, its audit log and
/// exit status in a temporary directory.
struct Console {
    tmux: Tmux,
    status: PathBuf,
    audit: PathBuf,
    _dir: tempfile::TempDir,
}

impl Console {
    fn start(env: &TestEnv, tag: &str, config: Option<&str>) -> Result<Console> {
        let dir = tempfile::tempdir()?;
        let audit = dir.path().join("audit.jsonl");
        let status = dir.path().join("status");
        let config_arg = match config {
            Some(text) => {
                let path = dir.path().join("config.toml");
                std::fs::write(&path, text)?;
                format!("--config {}", path.display())
            }
            None => String::new(),
        };
        let script = format!(
            "KUBECONFIG={kc} SHIPDECK_AUDIT_LOG={audit} HOME={home} {bin} --context a-oncall {config_arg}; echo \"EXIT=$?\" > {status}; sleep 30",
            kc = env.kubeconfig.display(),
            audit = audit.display(),
            home = dir.path().display(),
            bin = env!("CARGO_BIN_EXE_shipdeck"),
            status = status.display(),
        );
        Ok(Console {
            tmux: Tmux::start(tag, 80, 24, &script),
            status,
            audit,
            _dir: dir,
        })
    }

    /// Once the cluster answered, filter the console to `ns` (the filter holds for objects
    /// that arrive later too).
    fn filter_to(&self, ns: &str) {
        self.tmux
            .wait_for("the cluster connected", SCREEN, |s| s.contains("connected"));
        self.tmux.keys(&["/", ns, "Enter"]);
    }

    fn quit(&self) {
        self.tmux.keys(&["Escape", "Escape", "q"]);
        assert_eq!(
            wait_file(&self.status, Duration::from_secs(15)).trim(),
            "EXIT=0"
        );
    }
}

/// The rows of the failures panel, top first (up to the footer, the last line).
fn failure_rows(screen: &str) -> Vec<&str> {
    let lines: Vec<&str> = screen.lines().collect();
    let Some(title) = lines.iter().position(|l| l.contains("Failures")) else {
        return Vec::new();
    };
    lines[title + 1..lines.len().saturating_sub(1)].to_vec()
}

/// What the kubelet writes for a container that crashed `restarts` times and backs off.
fn crash_status(pod: &Value, restarts: u32) -> Value {
    let name = pod["spec"]["containers"][0]["name"].clone();
    json!({"status": {"containerStatuses": [{
        "name": name, "image": pod["spec"]["containers"][0]["image"], "imageID": "",
        "ready": false, "started": false, "restartCount": restarts,
        "state": {"waiting": {"reason": "CrashLoopBackOff",
            "message": format!("back-off 2m40s restarting failed container={} pod={}",
                name.as_str().unwrap_or_default(), pod["metadata"]["name"].as_str().unwrap_or_default())}},
        "lastState": {"terminated": {"reason": "Error", "exitCode": 2,
            "startedAt": "2026-01-01T00:00:00Z", "finishedAt": "2026-01-01T00:00:05Z"}}
    }]}})
}

/// A CRI log line, as a container runtime writes it (kwok serves this format).
fn cri(text: &str) -> String {
    format!("2026-12-02T04:00:00.000000000Z stderr F {text}\n")
}

/// The crashing container's log: a Go panic, its last line unique to this run.
fn stack_trace(last: &str) -> String {
    [
        "starting indexer v2",
        "panic: runtime error: invalid memory address or nil pointer dereference",
        "[signal SIGSEGV: segmentation violation code=0x1 addr=0x0 pc=0x6d2c5e]",
        "goroutine 1 [running]:",
        "main.(*Indexer).Run(0x0)",
        "\t/src/indexer.go:88 +0x1e",
        "main.main()",
        "\t/src/main.go:42 +0x65",
        last,
    ]
    .iter()
    .map(|l| cri(l))
    .collect()
}

async fn json_of(k: &Kubectl, args: &[&str]) -> Result<Value> {
    let ran = k.run(args).await?;
    if ran.code != 0 {
        bail!("kubectl {args:?}: {}", ran.stderr);
    }
    Ok(serde_json::from_str(&ran.stdout)?)
}

#[tokio::test(flavor = "multi_thread")]
async fn crash_looping_canary_to_its_events_and_last_log_line_in_four_keys() -> Result<()> {
    let env = TestEnv::get()?;
    let admin = env.client("a-admin").await?;
    let ns = short_ns("c");
    ensure_namespace(&admin, &ns).await?;
    let _cleanup = NamespaceCleanup::new("a-admin", &ns);
    let kubectl = Kubectl::new(env, "a-admin")?;
    let name = "search";
    let rollout = |image: &str| {
        Rollout::canary(name, image)
            .replicas(2)
            .steps(&[Step::Weight(50), Step::Pause])
            .value()
    };
    let api = dynamic_api(&admin, &rollouts_gvk(), Some(&ns)).await?;
    apply_value(&admin, Some(&ns), rollout("example.test/search:1")).await?;
    wait_object(&api, name, "v1 healthy", |r| {
        r["status"]["phase"] == "Healthy"
    })
    .await?;
    apply_value(&admin, Some(&ns), rollout("example.test/search:2")).await?;
    let r = wait_object(&api, name, "v2's canary ReplicaSet", |r| {
        r["status"]["currentPodHash"].is_string()
            && r["status"]["currentPodHash"] != r["status"]["stableRS"]
    })
    .await?;
    let hash = r["status"]["currentPodHash"].as_str().unwrap().to_string();
    let selector = format!("rollouts-pod-template-hash={hash}");
    let pod = wait_until("the canary pod running", TIMEOUT, || async {
        let pods = json_of(
            &kubectl,
            &["-n", &ns, "get", "pods", "-l", &selector, "-o", "json"],
        )
        .await?;
        let running = pods["items"].as_array().and_then(|items| {
            items
                .iter()
                .find(|p| p["status"]["podIP"].is_string())
                .cloned()
        });
        Ok(match running {
            Some(p) => Check::Done(p),
            None => Check::NotYet(pods["items"].to_string()),
        })
    })
    .await?;
    let pod_name = pod["metadata"]["name"].as_str().unwrap().to_string();
    let container = pod["spec"]["containers"][0]["name"]
        .as_str()
        .unwrap()
        .to_string();

    // kwok serves the container's log from a file; then the kubelet's crash loop.
    let logs_dir = tempfile::tempdir()?;
    let log_file = logs_dir.path().join("search.log");
    let last_line = format!("indexer exited with status 2 ({ns})");
    std::fs::write(&log_file, stack_trace(&last_line))?;
    apply_value(
        &admin,
        Some(&ns),
        json!({
            "apiVersion": "kwok.x-k8s.io/v1alpha1", "kind": "Logs",
            "metadata": {"name": pod_name},
            "spec": {"logs": [{"containers": [container], "logsFile": log_file, "follow": true}]},
        }),
    )
    .await?;
    wait_until("kwok to serve the pod's log", TIMEOUT, || async {
        let ran = kubectl
            .run(&["-n", &ns, "logs", &pod_name, "--tail", "1"])
            .await?;
        Ok(if ran.code == 0 && ran.stdout.contains(&last_line) {
            Check::Done(())
        } else {
            Check::NotYet(format!("{}{}", ran.stdout, ran.stderr))
        })
    })
    .await?;
    let body = crash_status(&pod, 5).to_string();
    let ran = kubectl
        .run(&[
            "-n",
            &ns,
            "patch",
            "pod",
            &pod_name,
            "--subresource=status",
            "--type=merge",
            "-p",
            &body,
        ])
        .await?;
    assert_eq!(ran.code, 0, "{}", ran.stderr);
    let now = jiff::Timestamp::now().to_string();
    apply_value(
        &admin,
        Some(&ns),
        json!({
            "apiVersion": "v1", "kind": "Event",
            "metadata": {"name": format!("{pod_name}.backoff"), "namespace": ns},
            "involvedObject": {"kind": "Pod", "name": pod_name, "namespace": ns,
                "uid": pod["metadata"]["uid"], "apiVersion": "v1"},
            "type": "Warning", "reason": "BackOff", "count": 9,
            "message": format!("Back-off restarting failed container {container} in pod {pod_name}"),
            "source": {"component": "kubelet"},
            "firstTimestamp": now, "lastTimestamp": now
        }),
    )
    .await?;

    let console = Console::start(env, "crash", None)?;
    console.filter_to(&ns);
    // The filtered feed: the crash loop's BackOff is its newest row.
    let home = console
        .tmux
        .wait_for("the BackOff on top of the failures feed", SCREEN, |s| {
            failure_rows(s)
                .first()
                .is_some_and(|l| l.contains("BackOff"))
        });
    println!("home, filtered:\n{home}");

    // From here, the keys are counted: Tab Tab (the failures feed), Enter (the pod), l (its log).
    let keys = ["Tab", "Tab", "Enter", "l"];
    console.tmux.keys(&keys[..3]);
    let pods = console
        .tmux
        .wait_for("the pods screen with the pod's events", SCREEN, |s| {
            s.contains("CrashLoopBackOff") && s.contains("Warning BackOff")
        });
    println!("the pod and its events:\n{pods}");
    assert!(pods.contains("Error exit 2"), "last termination:\n{pods}");
    console.tmux.keys(&keys[3..]);
    let log = console
        .tmux
        .wait_for("the pod's last log line", SCREEN, |s| {
            s.contains(&last_line)
        });
    println!("its log:\n{log}");
    assert!(log.contains("nil pointer dereference"), "the panic:\n{log}");
    println!(
        "keys from the (filtered) home screen to the pod's events and last log line: {}",
        keys.len()
    );
    console.quit();
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn undo_to_revision_1_of_3_shows_the_image_diff_and_lands_revision_1() -> Result<()> {
    let env = TestEnv::get()?;
    let admin = env.client("a-admin").await?;
    let ns = short_ns("u");
    ensure_namespace(&admin, &ns).await?;
    let _cleanup = NamespaceCleanup::new("a-admin", &ns);
    let name = "shop";
    let api = dynamic_api(&admin, &rollouts_gvk(), Some(&ns)).await?;
    for v in 1..=3 {
        let image = format!("example.test/shop:{v}");
        apply_yaml(
            &admin,
            Some(&ns),
            &Rollout::canary(name, &image).steps(&[]).replicas(2).yaml(),
        )
        .await?;
        wait_object(&api, name, &format!("v{v} healthy"), |r| {
            r["status"]["phase"] == "Healthy"
                && r["status"]["stableRS"] == r["status"]["currentPodHash"]
                && template_image(r) == image
        })
        .await?;
    }

    let console = Console::start(env, "undo", None)?;
    console.filter_to(&ns);
    console.tmux.wait_for("the release, filtered", SCREEN, |s| {
        s.contains(&format!("{ns}/{name}")) && s.contains("/ ")
    });
    console.tmux.keys(&["Enter", "v"]);
    let list = console.tmux.wait_for("the three revisions", SCREEN, |s| {
        s.contains("shop:1") && s.contains("shop:2") && s.contains("shop:3")
    });
    println!("revisions:\n{list}");
    // Move the cursor down to revision 1's row (the list is newest first).
    let lines: Vec<&str> = list.lines().collect();
    let row_of = |image: &str| lines.iter().position(|l| l.contains(image)).unwrap();
    let (top, target) = (row_of("shop:3"), row_of("shop:1"));
    assert!(target > top, "newest first:\n{list}");
    let downs = vec!["j"; target - top];
    console.tmux.keys(&downs);
    console.tmux.keys(&["Enter"]);
    let modal = console
        .tmux
        .wait_for("the undo modal with its diff", SCREEN, |s| {
            s.contains("Confirm") && s.contains("shop:1") && s.contains("shop:3")
        });
    println!("the undo modal:\n{modal}");
    let minus = modal
        .lines()
        .any(|l| l.contains('-') && l.contains("example.test/shop:3"));
    let plus = modal
        .lines()
        .any(|l| l.contains('+') && l.contains("example.test/shop:1"));
    assert!(minus && plus, "an image diff from :3 to :1:\n{modal}");
    console.tmux.keys(&["y"]);
    let outcome = console.tmux.wait_for("the undo's outcome", SCREEN, |s| {
        s.contains("applied") || s.contains("conflict")
    });
    if !outcome.contains("applied") {
        // The controller wrote the Rollout after the view the modal showed: the patch's
        // resourceVersion test refused it and nothing changed. A person asks again.
        println!("undo refused as stale, asked again:\n{outcome}");
        console.tmux.keys(&["Enter"]);
        console.tmux.wait_for("the undo modal again", SCREEN, |s| {
            s.contains("Confirm") && s.contains("shop:1")
        });
        console.tmux.keys(&["y"]);
    }
    let landed = wait_object(&api, name, "the template back on revision 1", |r| {
        template_image(r) == "example.test/shop:1"
    })
    .await?;
    assert_eq!(template_image(&landed), "example.test/shop:1");
    console
        .tmux
        .wait_for("the undo applied", SCREEN, |s| s.contains("applied"));
    console.quit();
    let audit = std::fs::read_to_string(&console.audit)?;
    assert!(
        audit.contains("\"intent\"") && audit.contains("\"result\""),
        "{audit}"
    );
    Ok(())
}

/// What the loadtester's `/gate/check` says for `name` in `ns`: open (200) or closed (403).
async fn gate_open(lt: &str, name: &str, ns: &str) -> Result<bool> {
    let res = reqwest::Client::new()
        .post(format!("{lt}/gate/check"))
        .json(&json!({"name": name, "namespace": ns}))
        .send()
        .await?;
    match res.status().as_u16() {
        200 => Ok(true),
        403 => Ok(false),
        other => bail!("/gate/check answered {other}"),
    }
}

fn audit_has(path: &Path, needle: &str) -> bool {
    std::fs::read_to_string(path).is_ok_and(|t| t.contains(needle))
}

#[tokio::test(flavor = "multi_thread")]
async fn a_canary_at_a_closed_promotion_gate_is_approved_with_p_and_the_gate_closed_after()
-> Result<()> {
    let env = TestEnv::get()?;
    let admin = env.client("a-admin").await?;
    let ns = short_ns("g");
    ensure_namespace(&admin, &ns).await?;
    let _cleanup = NamespaceCleanup::new("a-admin", &ns);
    let lt = env.loadtester_url("a")?.trim_end_matches('/').to_owned();
    let name = "podinfo";
    let deployment = |image: &str| Deployment::new(name, image).replicas(2).port(9898).yaml();
    apply_yaml(&admin, Some(&ns), &deployment("example.test/podinfo:1")).await?;
    let mut canary = Canary::over(name).value();
    canary["metadata"]["namespace"] = json!(ns);
    canary["spec"]["analysis"]["webhooks"] = json!([
        {"name": "approve", "type": "confirm-promotion", "url": format!("{lt}/gate/check")},
    ]);
    apply_value(&admin, Some(&ns), canary).await?;
    let canaries = dynamic_api(
        &admin,
        &GroupVersionKind::gvk("flagger.app", "v1beta1", "Canary"),
        Some(&ns),
    )
    .await?;
    wait_object(&canaries, name, "canary initialised", |c| {
        c["status"]["phase"] == "Initialized"
    })
    .await?;
    apply_yaml(&admin, Some(&ns), &deployment("example.test/podinfo:2")).await?;
    wait_object(&canaries, name, "held at the closed gate", |c| {
        c["status"]["phase"] == "WaitingPromotion"
    })
    .await?;
    assert!(!gate_open(&lt, name, &ns).await?, "the gate starts closed");

    let config = format!(
        "[[clusters]]\ncontext = \"a-oncall\"\nname = \"a-oncall\"\nloadtester = \"{lt}\"\n"
    );
    let console = Console::start(env, "gate", Some(&config))?;
    console.filter_to(&ns);
    console
        .tmux
        .wait_for("the canary waiting at the gate", SCREEN, |s| {
            s.contains(&format!("{ns}/{name}")) && s.contains("/ ")
        });
    console.tmux.keys(&["p"]);
    let modal = console.tmux.wait_for("the open-gate modal", SCREEN, |s| {
        s.contains("Confirm") && s.contains("/gate/open")
    });
    println!("the modal:\n{modal}");
    assert!(
        !gate_open(&lt, name, &ns).await?,
        "opened before the confirm"
    );
    console.tmux.keys(&["y"]);
    wait_until("the gate open", TIMEOUT, || async {
        Ok(if gate_open(&lt, name, &ns).await? {
            Check::Done(())
        } else {
            Check::NotYet("closed".into())
        })
    })
    .await?;
    wait_object(&canaries, name, "Flagger promotes to Succeeded", |c| {
        c["status"]["phase"] == "Succeeded"
    })
    .await?;
    // The console saw Succeeded and closes the gate itself (the loadtester keeps it open).
    wait_until("the gate closed again by the console", TIMEOUT, || async {
        Ok(if gate_open(&lt, name, &ns).await? {
            Check::NotYet("still open".into())
        } else {
            Check::Done(())
        })
    })
    .await?;
    let screen = console
        .tmux
        .wait_for("Succeeded on screen", SCREEN, |s| s.contains("Succeeded"));
    println!("after:\n{screen}");
    console.quit();
    assert!(audit_has(&console.audit, "/gate/open"), "open audited");
    assert!(audit_has(&console.audit, "/gate/close"), "close audited");
    Ok(())
}
