//! Container logs through the real API server: kwok plays the kubelet (its server answers
//! /containerLogs from a `Logs` object's file, see tests/env/up), the apiserver proxies
//! `pods/{name}/log` to it, and shipdeck's log adapter (`source::kube::logs`) reads it. The
//! tail equals `kubectl logs --tail 200`; lines appended to the file arrive while following;
//! a hostile line arrives whole and is shown escaped; the previous container's file is
//! served for `previous`; closing the view drops the stream; an identity without `get
//! pods/log` gets the RBAC reason from the access review, and the API server's own 403 when
//! the review is skipped. Each test works in its own namespace.
#![cfg(feature = "e2e")]
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::io::Write as _;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context as _, Result, anyhow, bail};
use k8s_openapi::api::authentication::v1::{TokenRequest, TokenRequestSpec};
use k8s_openapi::api::core::v1::ServiceAccount;
use kube::api::{Api, PostParams};
use serde_json::json;
use tokio::sync::mpsc;

use shipdeck::core::Msg;
use shipdeck::core::logs::{LogCommand, LogEvent, LogRequest, LogSource};
use shipdeck::source::kube::logs::{KubeLogs, run};
use shipdeck::source::logs::{LogBackend, LogStreams};
use support::TestEnv;
use support::apply::{apply_value, delete_namespace, ensure_namespace};
use support::env::unique_name;
use support::kubectl::Kubectl;
use support::wait::{Check, wait_until};

const TIMEOUT: Duration = Duration::from_secs(60);

/// One namespace with one kwok-run pod whose container log is a file this test writes.
struct Fixture {
    env: &'static TestEnv,
    admin: kube::Client,
    ns: String,
    pod: String,
    file: PathBuf,
    _dir: tempfile::TempDir,
}

/// A CRI log line, as a container runtime writes it (kwok reads this format).
fn cri(text: &str) -> String {
    format!("2026-12-02T04:00:00.000000000Z stdout F {text}\n")
}

impl Fixture {
    async fn new(prefix: &str, lines: usize, previous: Option<&[&str]>) -> Result<Fixture> {
        let env = TestEnv::get()?;
        let admin = env.client("a-admin").await?;
        let ns = unique_name(prefix);
        ensure_namespace(&admin, &ns).await?;
        let dir = tempfile::tempdir()?;
        let file = dir.path().join("app.log");
        let text: String = (0..lines)
            .map(|i| cri(&format!("line {i} of the app")))
            .collect();
        std::fs::write(&file, text)?;
        let mut logs = json!({"containers": ["app"], "logsFile": file, "follow": true});
        if let Some(prev) = previous {
            let prev_file = dir.path().join("previous.log");
            std::fs::write(&prev_file, prev.iter().map(|l| cri(l)).collect::<String>())?;
            logs["previousLogsFile"] = json!(prev_file);
        }
        let pod = "web-0".to_string();
        apply_value(
            &admin,
            Some(&ns),
            json!({
                "apiVersion": "v1", "kind": "Pod",
                "metadata": {"name": pod},
                "spec": {"containers": [{"name": "app", "image": "registry.local/web:1.0"}]},
            }),
        )
        .await?;
        apply_value(
            &admin,
            Some(&ns),
            json!({
                "apiVersion": "kwok.x-k8s.io/v1alpha1", "kind": "Logs",
                "metadata": {"name": pod},
                "spec": {"logs": [logs]},
            }),
        )
        .await?;
        let f = Fixture {
            env,
            admin,
            ns,
            pod,
            file,
            _dir: dir,
        };
        f.wait_served().await?;
        Ok(f)
    }

    /// Until kwok serves the pod's log (the pod is scheduled and kwok has the Logs object).
    async fn wait_served(&self) -> Result<()> {
        let k = Kubectl::new(self.env, "a-admin")?;
        wait_until("kwok to serve the pod's log", TIMEOUT, || async {
            let ran = k
                .run(&["-n", &self.ns, "logs", &self.pod, "--tail", "1"])
                .await?;
            Ok(if ran.code == 0 && !ran.stdout.is_empty() {
                Check::Done(())
            } else {
                Check::NotYet(format!("{}{}", ran.stdout, ran.stderr))
            })
        })
        .await
    }

    fn request(&self, session: u64, follow: bool, previous: bool) -> LogRequest {
        LogRequest {
            session,
            cluster: "a".into(),
            namespace: self.ns.clone(),
            source: LogSource::Pod {
                pod: self.pod.clone(),
                container: None,
            },
            tail: 200,
            follow,
            previous,
            check_access: true,
        }
    }

    fn append(&self, lines: &[&str]) -> Result<()> {
        let mut f = std::fs::OpenOptions::new().append(true).open(&self.file)?;
        for l in lines {
            f.write_all(cri(l).as_bytes())?;
        }
        f.flush()?;
        Ok(())
    }

    async fn cleanup(self) {
        let _ = delete_namespace(&self.admin, &self.ns).await;
    }
}

/// Collected reports of one session.
#[derive(Default)]
struct Seen {
    lines: Vec<shipdeck::core::text::Untrusted>,
    ended: Vec<Option<String>>,
    refused: Option<String>,
    failed: Option<String>,
}

/// Receive reports until `done` says so, or fail at the deadline with what was seen.
async fn receive(
    rx: &mut mpsc::Receiver<Msg>,
    seen: &mut Seen,
    what: &str,
    done: impl Fn(&Seen) -> bool,
) -> Result<()> {
    let deadline = tokio::time::Instant::now() + TIMEOUT;
    while !done(seen) {
        let msg = match tokio::time::timeout_at(deadline, rx.recv()).await {
            Ok(Some(m)) => m,
            Ok(None) => bail!("the stream closed before {what}"),
            Err(_) => bail!(
                "timed out waiting for {what}: {} lines, ended {:?}, refused {:?}, failed {:?}",
                seen.lines.len(),
                seen.ended,
                seen.refused,
                seen.failed
            ),
        };
        match msg {
            Msg::Logs(LogEvent::Lines { lines, .. }) => seen.lines.extend(lines),
            Msg::Logs(LogEvent::Ended { error, .. }) => {
                seen.ended.push(error.map(|e| e.raw().to_string()))
            }
            Msg::Logs(LogEvent::Refused { reason, .. }) => {
                seen.refused = Some(reason.raw().to_string())
            }
            Msg::Logs(LogEvent::Failed { error, .. }) => {
                seen.failed = Some(error.raw().to_string())
            }
            _ => {}
        }
    }
    Ok(())
}

fn raws(lines: &[shipdeck::core::text::Untrusted]) -> Vec<String> {
    lines.iter().map(|l| l.raw().to_string()).collect()
}

#[tokio::test]
async fn the_tail_equals_kubectl_and_following_gets_appended_lines() -> Result<()> {
    let f = Fixture::new("logs-tail", 250, None).await?;
    let kubectl = Kubectl::new(f.env, "a-admin")?
        .ok(&["-n", &f.ns, "logs", &f.pod, "--tail", "200"])
        .await?;
    let expected: Vec<String> = kubectl.lines().map(str::to_string).collect();
    assert_eq!(expected.len(), 200, "kubectl's tail");

    let (tx, mut rx) = mpsc::channel(1024);
    let task = tokio::spawn(run(f.admin.clone(), f.request(1, true, false), tx));
    let mut seen = Seen::default();
    receive(&mut rx, &mut seen, "the tail", |s| s.lines.len() >= 200).await?;
    assert_eq!(
        raws(&seen.lines),
        expected,
        "shipdeck's tail equals kubectl logs --tail 200"
    );
    println!(
        "tail: {} lines, equal to kubectl logs --tail 200",
        seen.lines.len()
    );

    let hostile = "evil \x1b[2J\x1b]0;pwned\x07 over\rwrite";
    f.append(&["appended one", hostile, "appended three"])?;
    receive(&mut rx, &mut seen, "the appended lines", |s| {
        s.lines.len() >= 203
    })
    .await?;
    let tail: Vec<String> = raws(&seen.lines[200..]);
    assert_eq!(tail, ["appended one", hostile, "appended three"]);
    let shown = seen.lines[201].shown();
    assert!(
        shown.contains("\\x1b[2J")
            && shown.contains("\\x1b]0;pwned\\x07")
            && shown.contains("\\x0d"),
        "shown escaped: {shown}"
    );
    assert!(!shown.contains('\x1b') && !shown.contains('\r'));

    // Through the core and the screen: the hostile line appears escaped, never raw.
    let mut state = shipdeck::core::testkit::fleet();
    state.view.width = 120;
    state.view.height = 30;
    shipdeck::core::logs::open_pod(&mut state, "a", &f.ns, &f.pod, None);
    let session = state.logs.as_ref().unwrap().session;
    shipdeck::core::update(
        &mut state,
        Msg::Logs(LogEvent::Lines {
            session,
            stream: 0,
            lines: seen.lines.clone(),
        }),
    );
    let theme = shipdeck::ui::Theme::load("default")?;
    let screen = shipdeck::ui::screenshot(&state, &theme, 120, 30);
    assert!(
        screen.contains("evil \\x1b[2J\\x1b]0;pwned\\x07 over\\x0dwrite"),
        "{screen}"
    );
    assert!(!screen.contains('\x1b'));
    task.abort();
    f.cleanup().await;
    Ok(())
}

#[tokio::test]
async fn the_previous_container_is_served_and_a_closed_view_drops_its_stream() -> Result<()> {
    let f = Fixture::new("logs-prev", 5, Some(&["panic: schema mismatch", "exit 2"])).await?;
    let (tx, mut rx) = mpsc::channel(256);
    let task = tokio::spawn(run(f.admin.clone(), f.request(1, false, true), tx));
    let mut seen = Seen::default();
    receive(&mut rx, &mut seen, "the previous log to end", |s| {
        !s.ended.is_empty()
    })
    .await?;
    assert_eq!(raws(&seen.lines), ["panic: schema mismatch", "exit 2"]);
    assert_eq!(seen.ended, [None], "a finished log ends cleanly");
    task.await?;

    // Through the session registry, as the console does: open, see lines, close.
    let mut backends: std::collections::HashMap<String, std::sync::Arc<dyn LogBackend>> =
        std::collections::HashMap::new();
    backends.insert(
        "a".into(),
        std::sync::Arc::new(KubeLogs::new(f.admin.clone())),
    );
    let streams = LogStreams::new(backends);
    let (tx, mut rx) = mpsc::channel(256);
    streams.carry_out(LogCommand::Open(f.request(2, true, false)), &tx);
    drop(tx);
    let mut seen = Seen::default();
    receive(&mut rx, &mut seen, "the live tail", |s| s.lines.len() >= 5).await?;
    assert_eq!(streams.running(), 1);
    streams.carry_out(LogCommand::Close { session: 2 }, &mpsc::channel(1).0);
    // The aborted session dropped its senders (and its HTTP stream): the channel closes.
    let closed = tokio::time::timeout(TIMEOUT, async { while rx.recv().await.is_some() {} }).await;
    assert!(closed.is_ok(), "the stream task ended after Close");
    assert_eq!(streams.running(), 0);
    f.cleanup().await;
    Ok(())
}

#[tokio::test]
async fn an_identity_without_pods_log_gets_the_rbac_reason() -> Result<()> {
    let f = Fixture::new("logs-rbac", 3, None).await?;
    let sa = "no-logs";
    let sas: Api<ServiceAccount> = Api::namespaced(f.admin.clone(), &f.ns);
    sas.create(
        &PostParams::default(),
        &serde_json::from_value(json!({"metadata": {"name": sa}}))?,
    )
    .await?;
    let minted: TokenRequest = sas
        .create_subresource(
            "token",
            sa,
            &PostParams::default(),
            &TokenRequest {
                spec: Some(TokenRequestSpec {
                    expiration_seconds: Some(3600),
                    ..TokenRequestSpec::default()
                }),
                ..TokenRequest::default()
            },
        )
        .await
        .context("TokenRequest")?;
    let token = minted
        .status
        .and_then(|s| s.token)
        .ok_or_else(|| anyhow!("no token"))?;
    let client = token_client(f.env, &token).await?;
    let user = format!("system:serviceaccount:{}:{sa}", f.ns);

    let (tx, mut rx) = mpsc::channel(16);
    run(client.clone(), f.request(1, true, false), tx).await;
    let mut seen = Seen::default();
    receive(&mut rx, &mut seen, "the refusal", |s| s.refused.is_some()).await?;
    let reason = seen.refused.clone().unwrap();
    println!("refused: {reason}");
    assert!(
        reason.contains("pods/log") && reason.contains(&f.ns),
        "{reason}"
    );
    assert!(reason.contains(&user), "names who was refused: {reason}");
    assert!(seen.lines.is_empty(), "nothing streamed after a refusal");

    // Without the review (a read-only console), the API server's own answer is shown.
    let mut req = f.request(2, true, false);
    req.check_access = false;
    let (tx, mut rx) = mpsc::channel(16);
    run(client.clone(), req, tx).await;
    let mut seen = Seen::default();
    receive(&mut rx, &mut seen, "the 403", |s| s.failed.is_some()).await?;
    let error = seen.failed.unwrap();
    println!("without the review: {error}");
    assert!(
        error.contains("forbidden") && error.contains("403"),
        "{error}"
    );

    // May read pods but not their logs: the pods/log request itself is refused, and the
    // stream ends with the API server's reason.
    apply_value(
        &f.admin,
        Some(&f.ns),
        json!({
            "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role",
            "metadata": {"name": "pods-only"},
            "rules": [{"apiGroups": [""], "resources": ["pods"], "verbs": ["get", "list"]}],
        }),
    )
    .await?;
    apply_value(
        &f.admin,
        Some(&f.ns),
        json!({
            "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
            "metadata": {"name": "pods-only"},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "pods-only"},
            "subjects": [{"kind": "ServiceAccount", "name": sa, "namespace": f.ns}],
        }),
    )
    .await?;
    let error = wait_until("the pods/log 403 from the stream", TIMEOUT, || {
        let client = client.clone();
        let mut req = f.request(3, true, false);
        req.check_access = false;
        async move {
            let (tx, mut rx) = mpsc::channel(16);
            run(client, req, tx).await;
            let mut seen = Seen::default();
            receive(&mut rx, &mut seen, "an answer", |s| {
                s.failed.is_some() || !s.ended.is_empty()
            })
            .await?;
            Ok(match seen.ended.first() {
                Some(Some(e)) => Check::Done(e.clone()),
                _ => Check::NotYet(format!("{:?} {:?}", seen.failed, seen.ended)),
            })
        }
    })
    .await?;
    println!("pods but not pods/log: {error}");
    assert!(
        error.contains("pods/log") && error.contains("403"),
        "{error}"
    );
    f.cleanup().await;
    Ok(())
}

/// A client for cluster `a` authenticated by `token` only.
async fn token_client(env: &TestEnv, token: &str) -> Result<kube::Client> {
    let text = std::fs::read_to_string(&env.kubeconfig)?;
    let full: serde_json::Value = serde_yaml::from_str(&text)?;
    let cluster = full["clusters"]
        .as_array()
        .and_then(|cs| cs.iter().find(|c| c["name"] == "a"))
        .ok_or_else(|| anyhow!("no cluster a in the test kubeconfig"))?;
    let mine = json!({
        "apiVersion": "v1", "kind": "Config",
        "clusters": [cluster],
        "users": [{"name": "u", "user": {"token": token}}],
        "contexts": [{"name": "t", "context": {"cluster": "a", "user": "u"}}],
        "current-context": "t",
    });
    let kc: kube::config::Kubeconfig = serde_json::from_value(mine)?;
    let config =
        kube::Config::from_custom_kubeconfig(kc, &kube::config::KubeConfigOptions::default())
            .await?;
    Ok(shipdeck::source::kube::connect::client(config)?)
}
