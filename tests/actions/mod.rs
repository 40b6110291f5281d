//! Helpers for the action e2e tests: a namespace of our own on a test cluster, targets for the
//! on-call and viewer identities, Releases derived by the core from objects read back, and
//! the executor the console uses.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result, anyhow, bail};
use jiff::Timestamp;
use kube::api::{Api, DynamicObject, ListParams};
use serde_json::Value;
use shipdeck::action::audit::AuditLog;
use shipdeck::action::executor::{ActionTarget, Executor};
use shipdeck::action::kube::request::api_resource;
use shipdeck::action::kube::target::{KubeTarget, no_retries};
use shipdeck::core::action::{self, ActionKind, ActionPlan, CANARIES, DEPLOYMENTS, ROLLOUTS};
use shipdeck::core::facts::{ObjectFacts, ReplicaSetFacts};
use shipdeck::core::model::{Cluster, Release};
use shipdeck::core::msg::{Msg, Outcome};
use shipdeck::core::status::{self, Ctx};
use shipdeck::source::kube::project::{self, Keep, Projected};
use tokio::sync::mpsc;

use crate::support::TestEnv;
use crate::support::apply::{apply_yaml, delete_namespace, ensure_namespace};
use crate::support::env::unique_name;
use crate::support::wait::{Check, wait_until};

pub const TIMEOUT: Duration = Duration::from_secs(90);

/// A namespace `act-…` on one cluster, with the identities' targets. Call [`Fixture::done`]
/// at the end (it deletes the namespace whatever the result).
pub struct Fixture {
    pub cluster: String,
    pub ns: String,
    pub admin: kube::Client,
    pub oncall: KubeTarget,
    pub viewer: KubeTarget,
}

pub async fn target(env: &TestEnv, context: &str) -> Result<KubeTarget> {
    let mut config = env.config(context).await?;
    no_retries(&mut config);
    Ok(KubeTarget::new(shipdeck::source::kube::connect::client(
        config,
    )?))
}

impl Fixture {
    pub async fn new(cluster: &str) -> Result<Fixture> {
        let env = TestEnv::get()?;
        let admin = env.client(&format!("{cluster}-admin")).await?;
        let ns = unique_name("act");
        ensure_namespace(&admin, &ns).await?;
        Ok(Fixture {
            cluster: cluster.to_owned(),
            oncall: target(env, &format!("{cluster}-oncall")).await?,
            viewer: target(env, &format!("{cluster}-viewer")).await?,
            ns,
            admin,
        })
    }

    /// Delete the namespace, then hand back the test's result (or its panic).
    pub async fn done(self, result: std::thread::Result<Result<()>>) -> Result<()> {
        let cleanup = delete_namespace(&self.admin, &self.ns).await;
        match result {
            Ok(result) => result?,
            Err(panic) => std::panic::resume_unwind(panic),
        }
        cleanup
    }

    pub async fn apply(&self, yaml: &str) -> Result<()> {
        apply_yaml(&self.admin, Some(&self.ns), yaml)
            .await
            .map(|_| ())
    }

    fn ctx(&self) -> Ctx<'_> {
        Ctx {
            cluster: &self.cluster,
            service_label: "app.kubernetes.io/name",
            service_override: None,
        }
    }

    /// The object as JSON, read as admin.
    pub async fn get(&self, resource: &action::Resource, name: &str) -> Result<Value> {
        let api: Api<DynamicObject> =
            Api::namespaced_with(self.admin.clone(), &self.ns, &api_resource(resource));
        let obj = api
            .get(name)
            .await
            .with_context(|| format!("get {} {name}", resource.plural))?;
        Ok(serde_json::to_value(obj)?)
    }

    pub async fn replicasets(&self) -> Result<Vec<ReplicaSetFacts>> {
        let rs = action::Resource {
            group: "apps",
            version: "v1",
            plural: "replicasets",
            subresource: None,
        };
        let api: Api<DynamicObject> =
            Api::namespaced_with(self.admin.clone(), &self.ns, &api_resource(&rs));
        let list = api.list(&ListParams::default()).await?;
        list.items
            .into_iter()
            .map(
                |o| match project(serde_json::to_value(o)?, ("apps/v1", "ReplicaSet"))? {
                    ObjectFacts::ReplicaSet(rs) => Ok(rs),
                    other => bail!("not a ReplicaSet: {other:?}"),
                },
            )
            .collect()
    }

    /// The Rollout as the console would show it.
    pub async fn rollout(&self, name: &str) -> Result<Release> {
        let v = self.get(&ROLLOUTS, name).await?;
        let rs = self.replicasets().await?;
        let refs: Vec<&ReplicaSetFacts> = rs.iter().collect();
        let ObjectFacts::Rollout(r) = project(v, ("argoproj.io/v1alpha1", "Rollout"))? else {
            bail!("{name} did not project as a Rollout");
        };
        Ok(status::rollout(&self.ctx(), &r, &refs))
    }

    pub async fn deployment(&self, name: &str) -> Result<Release> {
        let v = self.get(&DEPLOYMENTS, name).await?;
        let rs = self.replicasets().await?;
        let refs: Vec<&ReplicaSetFacts> = rs.iter().collect();
        let ObjectFacts::Deployment(d) = project(v, ("apps/v1", "Deployment"))? else {
            bail!("{name} did not project as a Deployment");
        };
        Ok(status::deployment(&self.ctx(), &d, &refs))
    }

    pub async fn canary(&self, name: &str) -> Result<Release> {
        let v = self.get(&CANARIES, name).await?;
        let ObjectFacts::Canary(c) = project(v, ("flagger.app/v1beta1", "Canary"))? else {
            bail!("{name} did not project as a Canary");
        };
        Ok(status::canary(&self.ctx(), &c))
    }

    /// The plan the console would make for `kind` on `release` (not read-only, not prod).
    pub fn plan(&self, kind: ActionKind, release: &Release) -> Result<ActionPlan> {
        action::plan(
            kind,
            release,
            &Cluster::new(self.cluster.clone()),
            false,
            Timestamp::now(),
        )
        .map_err(|why| anyhow!("{kind} refused by the core: {why}"))
    }

    /// Wait until the Release derived from a fresh read satisfies `done`.
    /// Wait until the object stops changing (two reads a second apart agree), as a user
    /// would look at a settled row before pressing a key.
    pub async fn settled<F, Fut>(&self, read: F) -> Result<Release>
    where
        F: Fn() -> Fut,
        Fut: std::future::Future<Output = Result<Release>>,
    {
        let mut last = read().await?;
        for _ in 0..30 {
            tokio::time::sleep(Duration::from_secs(1)).await;
            let now = read().await?;
            if now.resource_version == last.resource_version {
                return Ok(now);
            }
            last = now;
        }
        bail!("{} kept changing for 30 s", last.key)
    }

    pub async fn wait_release<F, Fut>(
        &self,
        what: &str,
        read: F,
        done: impl Fn(&Release) -> bool,
    ) -> Result<Release>
    where
        F: Fn() -> Fut,
        Fut: std::future::Future<Output = Result<Release>>,
    {
        wait_until(what, TIMEOUT, || async {
            let r = read().await?;
            Ok(if done(&r) {
                Check::Done(r)
            } else {
                Check::NotYet(format!(
                    "phase {:?} ({}), step {:?}, weight {:?}, images {:?}, facts {:?}",
                    r.phase,
                    r.message.raw(),
                    r.step,
                    r.set_weight,
                    r.images,
                    r.facts
                ))
            })
        })
        .await
    }
}

/// The console's executor over one cluster's target, with its message channel.
pub struct Console {
    pub executor: Executor,
    pub rx: mpsc::Receiver<Msg>,
}

impl Console {
    pub fn new(cluster: &str, target: KubeTarget, audit: Option<AuditLog>) -> Console {
        let (tx, rx) = mpsc::channel(64);
        let mut targets: HashMap<String, Arc<dyn ActionTarget>> = HashMap::new();
        targets.insert(cluster.to_owned(), Arc::new(target));
        Console {
            executor: Executor::new(targets, audit, tx),
            rx,
        }
    }

    /// Carry out `plan` as action `id` and wait for its outcome (other messages are dropped).
    pub async fn run(&mut self, id: u64, plan: ActionPlan) -> Result<Outcome> {
        self.executor.execute(id, plan, None);
        self.next_done(id).await
    }

    async fn next_done(&mut self, id: u64) -> Result<Outcome> {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
        loop {
            let msg = tokio::time::timeout_at(deadline, self.rx.recv())
                .await
                .map_err(|_| anyhow!("no ActionDone for action {id} within 20 s"))?;
            match msg {
                Some(Msg::ActionDone { id: got, outcome }) if got == id => return Ok(outcome),
                Some(_) => {}
                None => bail!("executor channel closed"),
            }
        }
    }

    /// Ask RBAC through the executor, as the console does; returns the `Msg::Access`.
    pub async fn access(
        &mut self,
        cluster: &str,
        ns: &str,
        verb: &str,
        resource: &str,
    ) -> Result<Msg> {
        self.executor
            .check_access(cluster.into(), ns.into(), verb.into(), resource.into());
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        loop {
            let msg = tokio::time::timeout_at(deadline, self.rx.recv())
                .await
                .map_err(|_| anyhow!("no Access answer within 10 s"))?;
            match msg {
                Some(m @ Msg::Access { .. }) => return Ok(m),
                Some(_) => {}
                None => bail!("executor channel closed"),
            }
        }
    }
}

pub fn assert_applied(outcome: &Outcome, what: &str) {
    assert!(
        outcome.is_applied(),
        "{what}: expected applied, got {outcome:?}"
    );
}

/// The object through the console's own projection (the watch side's code path). Objects
/// read through a dynamic Api may lack their type fields; `kind` fills them in.
fn project(mut v: Value, kind: (&str, &str)) -> Result<ObjectFacts> {
    if let Some(obj) = v.as_object_mut() {
        obj.entry("apiVersion").or_insert_with(|| kind.0.into());
        obj.entry("kind").or_insert_with(|| kind.1.into());
    }
    match project::from_value(v, &Keep::default()).map_err(|e| anyhow!(e))? {
        Projected::Object(o) => Ok(o),
        Projected::Warning(_) | Projected::Ignored => bail!("not a workload"),
    }
}

/// Container images of a workload's pod template, from the raw object.
pub fn images(v: &Value) -> Vec<String> {
    v.pointer("/spec/template/spec/containers")
        .and_then(Value::as_array)
        .map(|cs| {
            cs.iter()
                .filter_map(|c| c.get("image").and_then(Value::as_str).map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}
