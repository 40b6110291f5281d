#![cfg(feature = "e2e")]
//! Partial RBAC against the real test cluster `a` (tests/env): a ServiceAccount of the
//! test's own namespace, bound by a RoleBinding there only, is the console's identity.
//! Cluster-wide lists are forbidden to it, so the console watches that namespace kind by
//! kind instead, says which kinds are no-access cluster-wide, and doctor names the per-kind
//! access. A RoleBinding granted mid-session enables an action without restart (the
//! 5-minute expiry, on the core's injected clock), and a 403 from a real request makes the
//! console re-ask at once. A ClusterRoleBinding granted mid-session puts the kinds back on
//! one cluster-wide watch each, within the 30 s recheck, without restart.
//!
//! Run with the environment up: `cargo test --features e2e --test e2e_rbac`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::{Context as _, Result, anyhow};
use jiff::{SignedDuration, Timestamp};
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::authentication::v1::{TokenRequest, TokenRequestSpec};
use k8s_openapi::api::core::v1::ServiceAccount;
use k8s_openapi::api::rbac::v1::{ClusterRoleBinding, RoleBinding};
use kube::api::{Api, DeleteParams, PostParams};
use serde_json::{Value, json};
use tokio::sync::mpsc;

use shipdeck::action::audit::AuditLog;
use shipdeck::action::executor::{ActionTarget, Executor};
use shipdeck::action::kube::target::{KubeTarget, no_retries};
use shipdeck::app::Pump;
use shipdeck::core::access::ACCESS_TTL;
use shipdeck::core::action::ActionKind;
use shipdeck::core::model::{Cluster, ReleaseKind};
use shipdeck::core::msg::{Key, Msg};
use shipdeck::core::offer::{Refusal, offer};
use shipdeck::core::state::{Screen, Settings, State};
use shipdeck::source::kube::client::watch_timeouts;
use shipdeck::source::kube::{ClusterOptions, spawn_cluster_with};
use shipdeck::ui::{Theme, screenshot};
use support::TestEnv;
use support::apply::{apply_value, apply_yaml, delete_namespace, ensure_namespace};
use support::env::unique_name;
use support::manifests;
use support::wait::{Check, wait_until};

const TIMEOUT: Duration = Duration::from_secs(60);

/// The test's namespace and its ServiceAccount `console`, readable only there.
struct Fixture {
    admin: kube::Client,
    ns: String,
    dir: tempfile::TempDir,
    kubeconfig: PathBuf,
}

impl Fixture {
    async fn new(prefix: &str) -> Result<Fixture> {
        let env = TestEnv::get()?;
        let admin = env.client("a-admin").await?;
        let ns = unique_name(prefix);
        ensure_namespace(&admin, &ns).await?;
        let sas: Api<ServiceAccount> = Api::namespaced(admin.clone(), &ns);
        sas.create(
            &PostParams::default(),
            &serde_json::from_value(json!({"metadata": {"name": "console"}}))?,
        )
        .await?;
        let fx = Fixture {
            admin,
            ns,
            dir: tempfile::tempdir()?,
            kubeconfig: PathBuf::new(),
        };
        fx.bind("read", "shipdeck:viewer").await?;
        let request = TokenRequest {
            spec: Some(TokenRequestSpec {
                expiration_seconds: Some(3600),
                ..TokenRequestSpec::default()
            }),
            ..TokenRequest::default()
        };
        let minted: TokenRequest = sas
            .create_subresource("token", "console", &PostParams::default(), &request)
            .await
            .context("TokenRequest")?;
        let token = minted
            .status
            .and_then(|s| s.token)
            .ok_or_else(|| anyhow!("no token"))?;
        let kubeconfig = fx.dir.path().join("kubeconfig");
        write_kubeconfig(env, &token, &fx.ns, &kubeconfig)?;
        Ok(Fixture { kubeconfig, ..fx })
    }

    /// A RoleBinding `name` in the namespace: the console's identity gets `role` there.
    async fn bind(&self, name: &str, role: &str) -> Result<()> {
        apply_value(
            &self.admin,
            Some(&self.ns),
            json!({
                "apiVersion": "rbac.authorization.k8s.io/v1",
                "kind": "RoleBinding",
                "metadata": {"name": name},
                "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": role},
                "subjects": [{"kind": "ServiceAccount", "name": "console", "namespace": self.ns}],
            }),
        )
        .await
        .map(|_| ())
    }

    async fn unbind(&self, name: &str) -> Result<()> {
        let api: Api<RoleBinding> = Api::namespaced(self.admin.clone(), &self.ns);
        api.delete(name, &DeleteParams::default()).await?;
        Ok(())
    }

    async fn config(&self) -> Result<kube::Config> {
        Ok(kube::Config::from_custom_kubeconfig(
            kube::config::Kubeconfig::read_from(&self.kubeconfig)?,
            &kube::config::KubeConfigOptions::default(),
        )
        .await?)
    }

    /// The console's watch source as this identity, namespaces to fall back to given.
    async fn console(
        &self,
        tx: mpsc::Sender<Msg>,
    ) -> Result<shipdeck::source::kube::ClusterHandle> {
        let mut config = self.config().await?;
        watch_timeouts(&mut config);
        let options = ClusterOptions {
            namespaces: vec![self.ns.clone()],
            ..ClusterOptions::default()
        };
        Ok(spawn_cluster_with(
            "a".into(),
            shipdeck::source::kube::connect::client(config)?,
            tx,
            options,
        ))
    }

    async fn target(&self) -> Result<KubeTarget> {
        let mut config = self.config().await?;
        no_retries(&mut config);
        Ok(KubeTarget::new(shipdeck::source::kube::connect::client(
            config,
        )?))
    }

    async fn done(self) -> Result<()> {
        delete_namespace(&self.admin, &self.ns).await
    }
}

/// One context `ns-scoped` on cluster `a`, authenticated by `token`, namespace `ns`.
fn write_kubeconfig(env: &TestEnv, token: &str, ns: &str, path: &Path) -> Result<()> {
    let full: Value = serde_yaml::from_str(&std::fs::read_to_string(&env.kubeconfig)?)?;
    let cluster = full["clusters"]
        .as_array()
        .and_then(|cs| cs.iter().find(|c| c["name"] == "a"))
        .ok_or_else(|| anyhow!("the test kubeconfig has no cluster a"))?;
    let mine = json!({
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [cluster],
        "users": [{"name": "console", "user": {"token": token}}],
        "contexts": [{"name": "ns-scoped", "context": {"cluster": "a", "user": "console", "namespace": ns}}],
        "current-context": "ns-scoped",
    });
    std::fs::write(path, serde_yaml::to_string(&mine)?)?;
    Ok(())
}

fn new_state() -> State {
    State::new(
        Timestamp::now(),
        Settings::default(),
        vec![Cluster::new("a")],
        Vec::new(),
    )
}

async fn wait_state<T>(
    what: &str,
    state: &Arc<Mutex<State>>,
    check: impl Fn(&State) -> std::result::Result<T, String>,
) -> Result<T> {
    wait_until(what, TIMEOUT, || async {
        let s = state.lock().unwrap();
        Ok(match check(&s) {
            Ok(v) => Check::Done(v),
            Err(why) => Check::NotYet(why),
        })
    })
    .await
}

#[tokio::test(flavor = "multi_thread")]
async fn namespace_scoped_identity_sees_its_namespace() -> Result<()> {
    let fx = Fixture::new("rbacns").await?;
    apply_yaml(
        &fx.admin,
        Some(&fx.ns),
        &manifests::Deployment::new("web", "example.test/web:1")
            .replicas(1)
            .yaml(),
    )
    .await?;
    let state = Arc::new(Mutex::new(new_state()));
    let (tx, rx) = mpsc::channel(1024);
    let source = fx.console(tx).await?;
    let pump = shipdeck::app::spawn_shared(state.clone(), rx, Duration::from_millis(250));
    let ns = fx.ns.clone();
    wait_state(
        "its namespace's release, read namespace by namespace",
        &state,
        |s| {
            let c = s.cluster("a").ok_or("no cluster a")?;
            let web = s
                .releases
                .keys()
                .any(|k| k.namespace == ns && k.name == "web" && k.kind == ReleaseKind::Deployment);
            // Deployments (stored as rows) and warning events (feed only) read in `ns`.
            let scoped = ["deployments.apps", "events"]
                .iter()
                .all(|k| c.scoped_kinds.get(*k).is_some_and(|n| n.contains(&ns)));
            // Every watched kind is forbidden cluster-wide (the five every cluster may have,
            // and the GitOps kinds where their CRDs or RBAC answer; AnalysisRuns are read
            // by name when shown, not watched).
            let classic = [
                "deployments.apps",
                "replicasets.apps",
                "rollouts.argoproj.io",
                "canaries.flagger.app",
                "events",
            ];
            let all_forbidden = classic
                .iter()
                .all(|k| c.forbidden_kinds.iter().any(|f| f.as_str() == *k));
            if web && scoped && all_forbidden {
                Ok(())
            } else {
                Err(format!(
                    "web shown {web}, forbidden {:?}, scoped {:?}, {:?}",
                    c.forbidden_kinds, c.scoped_kinds, c.connection
                ))
            }
        },
    )
    .await?;
    let (shot, others) = {
        let s = state.lock().unwrap();
        let others = s.releases.keys().filter(|k| k.namespace != ns).count();
        (screenshot(&s, &Theme::no_color(), 250, 70), others)
    };
    let chips = shot.lines().nth(1).unwrap_or_default().to_string();
    println!("chip: {}", chips.trim());
    assert_eq!(others, 0, "nothing outside its namespace is read");
    assert!(chips.contains("a connected"), "{chips}");
    assert!(
        chips.contains("no access: deployments, replicasets, rollouts, canaries, events")
            || [
                "deployments",
                "replicasets",
                "rollouts",
                "canaries",
                "events"
            ]
            .iter()
            .all(|k| chips.contains(k)),
        "{chips}"
    );
    assert!(chips.contains(&format!("(read in {ns})")), "{chips}");
    drop(source);
    pump.abort();

    // doctor as that identity (the context's namespace is where it reads).
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_shipdeck"))
        .arg("doctor")
        .env("KUBECONFIG", &fx.kubeconfig)
        .env("HOME", fx.dir.path())
        .env("XDG_CONFIG_HOME", fx.dir.path())
        .env_remove("SHIPDECK_PROMETHEUS_URL")
        .output()
        .await?;
    let text = String::from_utf8_lossy(&out.stdout);
    println!("doctor (exit {:?}):\n{text}", out.status.code());
    assert!(
        text.contains(&format!("deployments.apps           no; in {ns}: yes")),
        "{text}"
    );
    assert!(
        text.contains("no access cluster-wide: deployments"),
        "{text}"
    );
    assert!(text.contains(&format!("read in {ns}")), "{text}");
    // Logs and AnalysisRuns (read when shown) are readable in its namespace only.
    for read in ["get pods/log", "get analysisruns"] {
        assert!(
            text.contains(&format!("{read:<26} all namespaces: no; in: {ns}")),
            "{read}: {text}"
        );
    }
    fx.done().await
}

/// The console in this test: the source and the executor feed one channel; this pump
/// applies it to the shared state with ticks on the test's clock (`offset` seconds ahead
/// of the wall clock), carrying out effects through the executor as the console does.
fn run_console(
    state: Arc<Mutex<State>>,
    pump: Pump,
    mut rx: mpsc::Receiver<Msg>,
    offset: Arc<AtomicI64>,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut clock = tokio::time::interval(Duration::from_millis(200));
        loop {
            let msg = tokio::select! {
                m = rx.recv() => match m { Some(m) => m, None => return },
                _ = clock.tick() => {
                    let ahead = SignedDuration::from_secs(offset.load(Ordering::SeqCst));
                    Msg::Tick(Timestamp::now() + ahead)
                }
            };
            let mut s = state.lock().unwrap();
            pump.apply(&mut s, msg);
            shipdeck::core::settle(&mut s);
        }
    })
}

fn restart_offer(s: &State, ns: &str) -> std::result::Result<Result<(), Refusal>, String> {
    let r = s
        .releases
        .values()
        .find(|r| r.key.namespace == ns && r.key.name == "web")
        .ok_or("web not seen yet")?;
    Ok(offer(s, r, ActionKind::Restart).state.map(|_| ()))
}

fn keys(pump: &Pump, state: &Arc<Mutex<State>>, keys: &[Key]) {
    let mut s = state.lock().unwrap();
    for k in keys {
        pump.apply(&mut s, Msg::Key(*k));
    }
    shipdeck::core::settle(&mut s);
}

async fn may_patch(target: &KubeTarget, ns: &str, want: bool) -> Result<()> {
    wait_until("the API server's RBAC to agree", TIMEOUT, || async {
        let got = target
            .check_access(ns.into(), "patch".into(), "deployments".into())
            .await;
        Ok(if got == Some(want) {
            Check::Done(())
        } else {
            Check::NotYet(format!("review says {got:?}"))
        })
    })
    .await
}

#[tokio::test(flavor = "multi_thread")]
async fn rolebinding_granted_mid_session_enables_the_action() -> Result<()> {
    let fx = Fixture::new("rbacgrant").await?;
    apply_yaml(
        &fx.admin,
        Some(&fx.ns),
        &manifests::Deployment::new("web", "example.test/web:1")
            .replicas(1)
            .yaml(),
    )
    .await?;
    let ns = fx.ns.clone();
    let state = Arc::new(Mutex::new(new_state()));
    let (tx, rx) = mpsc::channel(1024);
    let target = fx.target().await?;
    let mut targets: HashMap<String, Arc<dyn ActionTarget>> = HashMap::new();
    targets.insert("a".into(), Arc::new(target.clone()));
    let audit = AuditLog::open(&fx.dir.path().join("audit.jsonl"))?;
    let pump = Pump::new(Executor::new(targets, Some(audit), tx.clone()));
    let offset = Arc::new(AtomicI64::new(0));
    let source = fx.console(tx).await?;
    let console = run_console(state.clone(), pump.clone(), rx, offset.clone());

    // Open web's detail: the review says no, the action is refused for RBAC.
    wait_state("web listed", &state, |s| restart_offer(s, &ns).map(|_| ())).await?;
    {
        let mut s = state.lock().unwrap();
        let i = s
            .view
            .order
            .iter()
            .position(|k| k.namespace == ns && k.name == "web");
        s.view.selected = i.ok_or_else(|| anyhow!("web not in the table"))?;
    }
    keys(&pump, &state, &[Key::Enter]);
    assert_eq!(state.lock().unwrap().view.screen, Screen::Detail);
    wait_state(
        "restart refused for RBAC",
        &state,
        |s| match restart_offer(s, &ns)? {
            Err(Refusal::NoPermission { .. }) => Ok(()),
            other => Err(format!("{other:?}")),
        },
    )
    .await?;
    println!("before the grant: restart refused (no RBAC permission: patch deployments)");

    // Granted mid-session. The cached answer holds until it expires: the core's clock is
    // moved past the five minutes, the open screen asks again and the action is enabled.
    fx.bind("write", "shipdeck:oncall").await?;
    may_patch(&target, &ns, true).await?;
    assert!(matches!(
        restart_offer(&state.lock().unwrap(), &ns),
        Ok(Err(Refusal::NoPermission { .. }))
    ));
    offset.store(ACCESS_TTL.as_secs() + 1, Ordering::SeqCst);
    wait_state(
        "restart enabled after the answer expired",
        &state,
        |s| match restart_offer(s, &ns)? {
            Ok(()) if !s.access.is_empty() => Ok(()),
            other => Err(format!("{other:?}, {} answers", s.access.len())),
        },
    )
    .await?;
    keys(&pump, &state, &[Key::Char('r'), Key::Char('y')]);
    let deployments: Api<Deployment> = Api::namespaced(fx.admin.clone(), &ns);
    wait_until("the restart applied", TIMEOUT, || async {
        let d = deployments.get("web").await?;
        let v = serde_json::to_value(&d)?;
        let at =
            v["spec"]["template"]["metadata"]["annotations"]["kubectl.kubernetes.io/restartedAt"]
                .as_str()
                .map(str::to_string);
        Ok(match at {
            Some(at) => Check::Done(at),
            None => Check::NotYet("no restartedAt yet".into()),
        })
    })
    .await?;
    println!("after the grant: restart accepted, without restart of the console");

    // Revoked: the cached "yes" is wrong; the real request's 403 makes the console ask again
    // at once (no clock moved), and the bar says no permission.
    fx.unbind("write").await?;
    may_patch(&target, &ns, false).await?;
    wait_state("no action in flight", &state, |s| {
        if s.pending.is_empty() {
            Ok(())
        } else {
            Err("pending".into())
        }
    })
    .await?;
    // The watch delivers the restarted object; the modal plans on the current one.
    keys(&pump, &state, &[Key::Char('r'), Key::Char('y')]);
    wait_state(
        "refused by the server, then by the fresh answer",
        &state,
        |s| match restart_offer(s, &ns)? {
            Err(Refusal::NoPermission { .. }) => Ok(()),
            other => Err(format!(
                "{other:?}; notice {:?}",
                s.view.notice.as_ref().map(|n| n.text.clone())
            )),
        },
    )
    .await?;
    let notice = state
        .lock()
        .unwrap()
        .view
        .notice
        .as_ref()
        .map(|n| n.text.clone())
        .unwrap_or_default();
    println!("after the revoke: {notice}");
    assert!(notice.contains("forbidden (403)"), "{notice}");
    drop(source);
    console.abort();
    fx.done().await
}

/// A cluster-wide read granted mid-session (a ClusterRoleBinding made during the incident):
/// the kinds watched namespace by namespace go back to one cluster-wide watch each within
/// the recheck (30 s) plus a list, without a restart. Another namespace's release appears,
/// and the chip stops saying "no access".
#[tokio::test(flavor = "multi_thread")]
async fn a_cluster_wide_grant_mid_session_is_watched_cluster_wide() -> Result<()> {
    let fx = Fixture::new("rbacwide").await?;
    let other = unique_name("rbacwide-other");
    let binding = format!("{}-read-everywhere", fx.ns);
    let result = cluster_wide_grant(&fx, &other, &binding).await;
    let api: Api<ClusterRoleBinding> = Api::all(fx.admin.clone());
    let unbound = api.delete(&binding, &DeleteParams::default()).await;
    delete_namespace(&fx.admin, &other).await?;
    fx.done().await?;
    result?;
    unbound.context("deleting the ClusterRoleBinding")?;
    Ok(())
}

async fn cluster_wide_grant(fx: &Fixture, other: &str, binding: &str) -> Result<()> {
    ensure_namespace(&fx.admin, other).await?;
    for (ns, name) in [(fx.ns.as_str(), "web"), (other, "api")] {
        let yaml = manifests::Deployment::new(name, "example.test/web:1")
            .replicas(1)
            .yaml();
        apply_yaml(&fx.admin, Some(ns), &yaml).await?;
    }
    let state = Arc::new(Mutex::new(new_state()));
    let (tx, rx) = mpsc::channel(1024);
    let source = fx.console(tx).await?;
    let pump = shipdeck::app::spawn_shared(state.clone(), rx, Duration::from_millis(250));
    let shown = |s: &State, ns: &str, name: &str| {
        s.releases
            .keys()
            .any(|k| k.namespace == ns && k.name == name && k.kind == ReleaseKind::Deployment)
    };
    let ns = fx.ns.clone();
    wait_state(
        "its namespace only, read namespace by namespace",
        &state,
        |s| {
            let c = s.cluster("a").ok_or("no cluster a")?;
            let scoped = c
                .scoped_kinds
                .get("deployments.apps")
                .is_some_and(|n| n.contains(&ns));
            if shown(s, &ns, "web") && scoped && !shown(s, other, "api") {
                Ok(())
            } else {
                Err(format!("scoped {:?}", c.scoped_kinds))
            }
        },
    )
    .await?;

    apply_value(
        &fx.admin,
        None,
        json!({
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "ClusterRoleBinding",
            "metadata": {"name": binding},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "shipdeck:viewer"},
            "subjects": [{"kind": "ServiceAccount", "name": "console", "namespace": fx.ns}],
        }),
    )
    .await?;
    let granted = std::time::Instant::now();
    wait_state(
        "the other namespace's release, read cluster-wide",
        &state,
        |s| {
            let c = s.cluster("a").ok_or("no cluster a")?;
            let deployments_wide = !c.scoped_kinds.contains_key("deployments.apps")
                && !c.forbidden_kinds.iter().any(|k| k == "deployments.apps");
            if shown(s, other, "api") && shown(s, &ns, "web") && deployments_wide {
                Ok(())
            } else {
                Err(format!(
                    "forbidden {:?}, scoped {:?}",
                    c.forbidden_kinds, c.scoped_kinds
                ))
            }
        },
    )
    .await?;
    println!(
        "cluster-wide read noticed {:.1} s after the grant",
        granted.elapsed().as_secs_f64()
    );
    // Every kind that had fallen back is cluster-wide again: no "no access" on the chip.
    wait_state("no kind left namespace by namespace", &state, |s| {
        let c = s.cluster("a").ok_or("no cluster a")?;
        if c.scoped_kinds.is_empty() && c.forbidden_kinds.is_empty() {
            Ok(())
        } else {
            Err(format!(
                "forbidden {:?}, scoped {:?}",
                c.forbidden_kinds, c.scoped_kinds
            ))
        }
    })
    .await?;
    let shot = screenshot(&state.lock().unwrap(), &Theme::no_color(), 250, 70);
    let chips = shot.lines().nth(1).unwrap_or_default().to_string();
    println!("chip: {}", chips.trim());
    assert!(!chips.contains("no access"), "{chips}");
    assert!(chips.contains("a connected"), "{chips}");
    drop(source);
    pump.abort();
    Ok(())
}
