//! Read-only means no write, counted on the wire: the real binary in a real terminal (tmux)
//! against a real apiserver, with a Deployment, an Argo Rollout paused on a step and a Flagger
//! Canary in the test's namespace. Every action key of the key table is pressed on every row,
//! with Enter and `y` after each, and every row's detail screen is opened — once with
//! `--read-only`, once with only that cluster `read_only = true` in the config. The
//! apiserver's audit log then counts the requests of the console's own identity (a
//! ServiceAccount of the test's namespace bound to a role that CAN patch, with a minted
//! token): 0 that are not get/list/watch. A positive control with the same kind of identity,
//! not read-only, promotes once and must see its patch counted.
#![cfg(feature = "e2e")]
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;
mod tmux;

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context as _, Result, anyhow, bail};
use k8s_openapi::api::authentication::v1::{TokenRequest, TokenRequestSpec};
use k8s_openapi::api::core::v1::{ConfigMap, ServiceAccount};
use kube::api::{Api, DeleteParams, DynamicObject, PostParams};
use kube::core::GroupVersionKind;
use serde_json::{Value, json};

use support::TestEnv;
use support::apply::{apply_value, apply_yaml, delete_namespace, dynamic_api, ensure_namespace};
use support::env::unique_name;
use support::manifests::{Canary, Deployment, Rollout, Step};
use support::wait::{Check, wait_until};
use tmux::{Tmux, wait_file};

const TIMEOUT: Duration = Duration::from_secs(90);
const SCREEN: Duration = Duration::from_secs(40);
/// The role the console's identity is bound to: it may patch what shipdeck's actions patch.
const WRITE_ROLE: &str = "shipdeck:oncall";

/// The test's namespace and objects, and the console's own identity.
struct Fixture {
    env: &'static TestEnv,
    admin: kube::Client,
    ns: String,
    /// `system:serviceaccount:<ns>:console`: only this test's console uses it.
    user: String,
    dir: tempfile::TempDir,
    kubeconfig: PathBuf,
    binding: String,
}

impl Fixture {
    async fn new(prefix: &str) -> Result<Fixture> {
        let env = TestEnv::get()?;
        let admin = env.client("a-admin").await?;
        // Short, so the table shows namespace/name whole.
        let tail: String = unique_name("x").chars().skip(2).take(6).collect();
        let ns = format!("{prefix}-{tail}");
        ensure_namespace(&admin, &ns).await?;
        let sa = "console";
        let sas: Api<ServiceAccount> = Api::namespaced(admin.clone(), &ns);
        let account = serde_json::from_value(json!({"metadata": {"name": sa}}))?;
        sas.create(&PostParams::default(), &account).await?;
        let binding = format!("shipdeck-e2e-{ns}");
        apply_value(
            &admin,
            None,
            json!({
                "apiVersion": "rbac.authorization.k8s.io/v1",
                "kind": "ClusterRoleBinding",
                "metadata": {"name": binding},
                "roleRef": {
                    "apiGroup": "rbac.authorization.k8s.io",
                    "kind": "ClusterRole",
                    "name": WRITE_ROLE,
                },
                "subjects": [{"kind": "ServiceAccount", "name": sa, "namespace": ns}],
            }),
        )
        .await?;
        let request = TokenRequest {
            spec: Some(TokenRequestSpec {
                expiration_seconds: Some(3600),
                ..TokenRequestSpec::default()
            }),
            ..TokenRequest::default()
        };
        let minted: TokenRequest = sas
            .create_subresource("token", sa, &PostParams::default(), &request)
            .await
            .context("TokenRequest")?;
        let token = minted
            .status
            .and_then(|s| s.token)
            .ok_or_else(|| anyhow!("TokenRequest answered without a token"))?;
        let dir = tempfile::tempdir()?;
        let kubeconfig = dir.path().join("kubeconfig");
        write_kubeconfig(env, &token, &kubeconfig)?;
        Ok(Fixture {
            env,
            admin,
            user: format!("system:serviceaccount:{ns}:{sa}"),
            ns,
            dir,
            kubeconfig,
            binding,
        })
    }

    async fn rollouts(&self) -> Result<Api<DynamicObject>> {
        dynamic_api(
            &self.admin,
            &GroupVersionKind::gvk("argoproj.io", "v1alpha1", "Rollout"),
            Some(&self.ns),
        )
        .await
    }

    /// A Rollout `roll` paused at step 1 of 4 (v2 waiting for a promote).
    async fn paused_rollout(&self) -> Result<()> {
        let yaml = |image: &str| {
            Rollout::canary("roll", image)
                .replicas(2)
                .steps(&[Step::Weight(25), Step::Pause, Step::Weight(50), Step::Pause])
                .yaml()
        };
        let api = self.rollouts().await?;
        apply_yaml(&self.admin, Some(&self.ns), &yaml("example.test/roll:1")).await?;
        wait_object(&api, "roll", "v1 healthy", |r| {
            r["status"]["phase"] == "Healthy"
        })
        .await?;
        apply_yaml(&self.admin, Some(&self.ns), &yaml("example.test/roll:2")).await?;
        wait_object(&api, "roll", "v2 paused at step 1", |r| {
            r["status"]["currentStepIndex"] == 1 && r["status"]["phase"] == "Paused"
        })
        .await?;
        Ok(())
    }

    /// A Deployment `web`, the paused Rollout, and a Flagger Canary `cany` (initialised).
    async fn every_kind(&self) -> Result<()> {
        let ns = Some(self.ns.as_str());
        apply_yaml(
            &self.admin,
            ns,
            &Deployment::new("web", "example.test/web:1").yaml(),
        )
        .await?;
        let target = Deployment::new("cany", "example.test/podinfo:1").port(9898);
        apply_yaml(&self.admin, ns, &target.yaml()).await?;
        apply_yaml(&self.admin, ns, &Canary::over("cany").yaml()).await?;
        self.paused_rollout().await?;
        let canaries = dynamic_api(
            &self.admin,
            &GroupVersionKind::gvk("flagger.app", "v1beta1", "Canary"),
            ns,
        )
        .await?;
        wait_object(&canaries, "cany", "canary initialised", |c| {
            c["status"]["phase"] == "Initialized"
        })
        .await?;
        Ok(())
    }

    /// Start the console (`args`) as this identity; returns the terminal and the exit file.
    fn console(&self, tag: &str, args: &str) -> (Tmux, PathBuf) {
        let status = self.dir.path().join(format!("status-{tag}"));
        let script = format!(
            "KUBECONFIG={kc} SHIPDECK_AUDIT_LOG={dir}/audit-{tag}.jsonl HOME={dir} {bin} {args}; echo \"EXIT=$?\" > {status}; sleep 30",
            kc = self.kubeconfig.display(),
            dir = self.dir.path().display(),
            bin = env!("CARGO_BIN_EXE_shipdeck"),
            status = status.display(),
        );
        (Tmux::start(tag, 160, 45, &script), status)
    }

    /// After the console exited: a GET as the same identity, waited for in the audit log, so
    /// every earlier request of the console is in the log too. Returns the console's events.
    async fn console_events(&self, audit: &AuditLog) -> Result<Vec<Value>> {
        let client = shipdeck::source::kube::connect::client(
            kube::Config::from_custom_kubeconfig(
                kube::config::Kubeconfig::read_from(&self.kubeconfig)?,
                &kube::config::KubeConfigOptions::default(),
            )
            .await?,
        )?;
        let marker = format!("marker-{}", unique_name("m"));
        let maps: Api<ConfigMap> = Api::namespaced(client, &self.ns);
        let _ = maps.get_opt(&marker).await?;
        let events = wait_until("the marker GET in the audit log", TIMEOUT, || async {
            let events = audit.events_of(&self.user)?;
            let seen = events.iter().any(|e| {
                e["requestURI"]
                    .as_str()
                    .is_some_and(|u| u.contains(&marker))
            });
            Ok(if seen {
                Check::Done(events)
            } else {
                Check::NotYet(format!("{} events of {} so far", events.len(), self.user))
            })
        })
        .await?;
        Ok(events
            .into_iter()
            .filter(|e| {
                !e["requestURI"]
                    .as_str()
                    .is_some_and(|u| u.contains(&marker))
            })
            .collect())
    }

    async fn done(self) -> Result<()> {
        let bindings: Api<DynamicObject> = dynamic_api(
            &self.admin,
            &GroupVersionKind::gvk("rbac.authorization.k8s.io", "v1", "ClusterRoleBinding"),
            None,
        )
        .await?;
        let _ = bindings
            .delete(&self.binding, &DeleteParams::default())
            .await;
        delete_namespace(&self.admin, &self.ns).await
    }
}

async fn wait_object(
    api: &Api<DynamicObject>,
    name: &str,
    what: &str,
    done: impl Fn(&Value) -> bool,
) -> Result<DynamicObject> {
    wait_until(what, TIMEOUT, || async {
        let r = api.get_opt(name).await?;
        Ok(match r {
            Some(r) if done(&r.data) => Check::Done(r),
            Some(r) => Check::NotYet(format!("status {}", r.data["status"])),
            None => Check::NotYet("not there yet".into()),
        })
    })
    .await
}

/// A kubeconfig with one context `ro` on cluster `a`, authenticated by `token` only.
fn write_kubeconfig(env: &TestEnv, token: &str, path: &Path) -> Result<()> {
    let text = std::fs::read_to_string(&env.kubeconfig)?;
    let full: Value = serde_yaml::from_str(&text)?;
    let cluster = full["clusters"]
        .as_array()
        .and_then(|cs| cs.iter().find(|c| c["name"] == "a"))
        .ok_or_else(|| anyhow!("the test kubeconfig has no cluster a"))?;
    let mine = json!({
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [cluster],
        "users": [{"name": "console", "user": {"token": token}}],
        "contexts": [{"name": "ro", "context": {"cluster": "a", "user": "console"}}],
        "current-context": "ro",
    });
    std::fs::write(path, serde_yaml::to_string(&mine)?)?;
    Ok(())
}

/// The apiserver's audit log of cluster `a`, read from where it was when the test started.
struct AuditLog {
    path: PathBuf,
    start: u64,
}

impl AuditLog {
    fn open(env: &TestEnv) -> Result<AuditLog> {
        let path = env.dir.join("logs/audit-a.jsonl");
        let start = std::fs::metadata(&path)
            .with_context(|| format!("{} (the test env writes it)", path.display()))?
            .len();
        Ok(AuditLog { path, start })
    }

    /// Every event of `user` since the start.
    fn events_of(&self, user: &str) -> Result<Vec<Value>> {
        use std::io::{Read, Seek, SeekFrom};
        let mut file = std::fs::File::open(&self.path)?;
        if file.metadata()?.len() < self.start {
            bail!("the audit log was rotated during the test: the count would miss requests");
        }
        file.seek(SeekFrom::Start(self.start))?;
        let mut text = String::new();
        file.read_to_string(&mut text)?;
        Ok(text
            .lines()
            .filter_map(|l| serde_json::from_str::<Value>(l).ok())
            .filter(|e| e["user"]["username"] == user)
            .collect())
    }
}

fn is_write(event: &Value) -> bool {
    !matches!(event["verb"].as_str(), Some("get" | "list" | "watch"))
}

fn describe(event: &Value) -> String {
    format!(
        "{} {} ({})",
        event["verb"].as_str().unwrap_or("?"),
        event["requestURI"].as_str().unwrap_or("?"),
        event["userAgent"].as_str().unwrap_or("?")
    )
}

/// Every key of the key table that starts an action (in any context), as tmux names it.
fn action_keys() -> Vec<String> {
    use shipdeck::core::keys::{Command, Context, TABLE};
    use shipdeck::core::msg::Key;
    // The keys pressed on the home and detail screens (Enter in the revisions screen also
    // starts an undo; that screen is not driven here).
    let keys: Vec<String> = TABLE
        .iter()
        .filter(|row| {
            row.when
                .iter()
                .any(|c| matches!(c, Context::Home | Context::Detail))
        })
        .flat_map(|row| row.binds.iter())
        .filter(|(_, cmd)| matches!(cmd, Command::Act(_)))
        .map(|(key, _)| match key {
            Key::Char(' ') => "Space".to_string(),
            Key::Char(c) => c.to_string(),
            other => panic!("an action key this test cannot type: {other:?}"),
        })
        .collect();
    assert!(keys.len() >= 7, "the key table's action keys: {keys:?}");
    keys
}

/// The table filtered to the namespace: on every row, every action key with Enter and `y` after it
/// (the first Enter opens the detail screen, which must say why actions are unavailable),
/// back, next row. Returns the kinds visited.
fn press_everything(tmux: &Tmux, ns: &str, rows: usize) -> Vec<String> {
    let prefix = format!("{ns}/");
    tmux.keys(&["g"]);
    let mut kinds = Vec::new();
    for row in 0..rows {
        // The detail of the row (Enter there would open the pods screen, so each action key
        // is followed by `y`, the modal's confirm, instead).
        tmux.keys(&["Enter"]);
        let s = tmux.wait_for("the detail screen", SCREEN, |s| {
            s.contains("Actions") && s.contains("disabled: read-only")
        });
        for kind in ["Deploy", "Rollout", "Canary"] {
            if s.lines().any(|l| l.contains(&prefix) && l.contains(kind)) {
                kinds.push(kind.to_string());
            }
        }
        for key in action_keys() {
            tmux.keys(&[&key, "y"]);
        }
        let s = tmux.screen();
        assert!(
            !s.contains("Confirm"),
            "a confirmation opened on row {row}:\n{s}"
        );
        tmux.keys(&["Escape", "j"]);
    }
    kinds
}

/// The read-only run: every key on every row, quit, count the writes of this identity.
async fn read_only_run(prefix: &str, how: &str, config: Option<&str>, args: &str) -> Result<()> {
    let fx = Fixture::new(prefix).await?;
    fx.every_kind().await?;
    let audit = AuditLog::open(fx.env)?;
    let args = match config {
        Some(toml) => {
            let path = fx.dir.path().join("config.toml");
            std::fs::write(&path, toml)?;
            format!("{args} --config {}", path.display())
        }
        None => args.to_string(),
    };
    let (tmux, status) = fx.console(prefix, &args);
    let row = format!("{}/roll", fx.ns);
    tmux.wait_for("the rollout on screen", SCREEN, |s| s.contains(&row));
    tmux.keys(&["/", &fx.ns, "Enter"]);
    // Flagger's own objects (the primary) may be rows too: every row is pressed.
    let prefix = format!("{}/", fx.ns);
    let s = tmux.wait_for("every kind listed", SCREEN, |s| {
        ["Deploy", "Rollout", "Canary"]
            .iter()
            .all(|k| s.lines().any(|l| l.contains(&prefix) && l.contains(k)))
    });
    let listed = s.lines().filter(|l| l.contains(&prefix)).count();
    let kinds = press_everything(&tmux, &fx.ns, listed);
    for kind in ["Deploy", "Rollout", "Canary"] {
        assert!(
            kinds.iter().any(|k| k == kind),
            "{kind} not visited: {kinds:?}"
        );
    }
    tmux.keys(&["Escape", "Escape", "q"]);
    assert_eq!(wait_file(&status, Duration::from_secs(15)).trim(), "EXIT=0");
    let events = fx.console_events(&audit).await?;
    let writes: Vec<String> = events
        .iter()
        .filter(|e| is_write(e))
        .map(describe)
        .collect();
    println!(
        "read-only wire ({how}): {} requests, {} writes ({} rows, {} action keys each)",
        events.len(),
        writes.len(),
        listed,
        action_keys().len()
    );
    assert!(
        !events.is_empty(),
        "the console's reads were not seen: wrong identity?"
    );
    assert!(writes.is_empty(), "writes reached the cluster: {writes:#?}");
    // The rollout is still where it was.
    let r = fx.rollouts().await?.get("roll").await?;
    assert_eq!(r.data["status"]["currentStepIndex"], 1);
    drop(tmux);
    fx.done().await
}

#[tokio::test(flavor = "multi_thread")]
async fn read_only_flag_sends_no_write_for_any_key_on_any_kind() -> Result<()> {
    read_only_run("rof", "--read-only", None, "--read-only --context ro").await
}

#[tokio::test(flavor = "multi_thread")]
async fn read_only_cluster_in_the_config_sends_no_write_for_any_key() -> Result<()> {
    let config = "[[clusters]]\ncontext = \"ro\"\nname = \"a-ro\"\nread_only = true\n";
    read_only_run("roc", "config read_only = true", Some(config), "").await
}

#[tokio::test(flavor = "multi_thread")]
async fn the_counter_sees_a_promote_when_not_read_only() -> Result<()> {
    let fx = Fixture::new("row").await?;
    fx.paused_rollout().await?;
    let audit = AuditLog::open(fx.env)?;
    let (tmux, status) = fx.console("row", "--context ro");
    let row = format!("{}/roll", fx.ns);
    tmux.wait_for("the rollout on screen", SCREEN, |s| s.contains(&row));
    tmux.keys(&["/", &row, "Enter", "g", "p"]);
    tmux.wait_for("the promote modal", SCREEN, |s| {
        s.contains("Confirm") && s.contains("rollouts/status")
    });
    tmux.keys(&["y"]);
    let api = fx.rollouts().await?;
    wait_object(&api, "roll", "promoted to the next pause", |r| {
        r["status"]["currentStepIndex"] == 3
    })
    .await?;
    tmux.keys(&["Escape", "q"]);
    assert_eq!(wait_file(&status, Duration::from_secs(15)).trim(), "EXIT=0");
    let events = fx.console_events(&audit).await?;
    let writes: Vec<&Value> = events.iter().filter(|e| is_write(e)).collect();
    let patches = writes
        .iter()
        .filter(|e| {
            e["verb"] == "patch"
                && e["requestURI"]
                    .as_str()
                    .is_some_and(|u| u.contains("/rollouts/roll") && !u.contains("dryRun"))
        })
        .count();
    println!(
        "writable wire (control): {} requests, {} writes, {} promote patches",
        events.len(),
        writes.len(),
        patches
    );
    assert!(
        patches >= 1,
        "the promote's patch was not counted: {:#?}",
        writes.iter().map(|e| describe(e)).collect::<Vec<_>>()
    );
    drop(tmux);
    fx.done().await
}
