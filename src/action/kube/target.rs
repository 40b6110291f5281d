//! The action target for one live cluster: every call of a plan goes to the API that owns the
//! object (reference/actions.md), with field manager `shipdeck`, the precondition the plan
//! carries, and no retries. The executor owns audit and the deadline; this owns the wire.
//!
//! Build one per cluster with [`KubeTarget::connect`] (a client without kube's retry layer),
//! or [`KubeTarget::new`] from a client you built with `default_retry = false`.

use std::sync::Arc;
use std::time::Duration;

use futures::future::BoxFuture;
use kube::config::KubeConfigOptions;
use serde_json::Value;
use tokio::sync::OnceCell;

use super::{access, request};
use crate::action::executor::ActionTarget;
use crate::core::action::{ActionPlan, ApiCall, after_write};
use crate::core::kinds::application;
use crate::core::msg::Outcome;
use crate::source::kube::client::KubeError;

/// Sends a cluster's actions. Cheap to clone.
#[derive(Clone)]
pub struct KubeTarget {
    client: kube::Client,
    identity: Arc<OnceCell<String>>,
    /// The cluster's configured Flagger loadtester (`clusters[].loadtester`), the one
    /// loadtester outside a Canary's own namespace a rollback may be posted to.
    loadtester: Option<Arc<str>>,
}

impl KubeTarget {
    /// A target over `client`. Mutating calls must never be retried: build the client from a
    /// config with `default_retry = false` (as [`action_config`] does).
    pub fn new(client: kube::Client) -> Self {
        KubeTarget {
            client,
            identity: Arc::new(OnceCell::new()),
            loadtester: None,
        }
    }

    /// The same target, with the cluster's configured loadtester (webhook base URL).
    pub fn with_loadtester(mut self, loadtester: Option<&str>) -> Self {
        self.loadtester = loadtester.map(Arc::from);
        self
    }

    /// A target for kubeconfig `context` (None: the current context).
    pub async fn connect(context: Option<&str>) -> Result<Self, KubeError> {
        let config = action_config(context).await?;
        let client =
            crate::source::kube::connect::client(config).map_err(|e| KubeError::Context {
                context: context.unwrap_or_default().to_string(),
                message: e.to_string(),
            })?;
        Ok(Self::new(client))
    }

    pub fn client(&self) -> &kube::Client {
        &self.client
    }
}

/// Client config for actions: kube's default retry of 429/503/504 is off (a PATCH is sent
/// once; budget P10 "no silent retries"), and reads time out well inside the 10 s deadline.
pub async fn action_config(context: Option<&str>) -> Result<kube::Config, KubeError> {
    let kc = crate::source::kube::client::kubeconfig()?;
    let options = KubeConfigOptions {
        context: context.map(str::to_string),
        ..KubeConfigOptions::default()
    };
    let mut config = kube::Config::from_custom_kubeconfig(kc, &options)
        .await
        .map_err(|e| KubeError::Context {
            context: context.unwrap_or_default().to_string(),
            message: e.to_string(),
        })?;
    no_retries(&mut config);
    Ok(config)
}

/// Make `config` fit for actions (also for configs built elsewhere, e.g. in tests).
pub fn no_retries(config: &mut kube::Config) {
    config.default_retry = false;
    config.connect_timeout = Some(Duration::from_secs(4));
    config.read_timeout = Some(Duration::from_secs(12));
}

/// The call as it goes on the wire: a call after one that wrote the same object carries the
/// resourceVersion that write returned (`core::action::after_write`).
pub fn next_call(call: &ApiCall, previous: Option<(&ApiCall, &request::Sent)>) -> ApiCall {
    match previous {
        Some((prev, sent)) => match &sent.resource_version {
            Some(rv) => after_write(call, prev, rv),
            // No version came back: the call keeps the one the user saw (a sure conflict).
            None => call.clone(),
        },
        None => call.clone(),
    }
}

/// Send the calls in order; stop at the first that does not succeed.
async fn execute(client: kube::Client, loadtester: Option<Arc<str>>, plan: ActionPlan) -> Outcome {
    let total = plan.calls.len();
    let mut done: Vec<String> = Vec::new();
    let mut last_status = 200;
    let mut previous: Option<(&ApiCall, request::Sent)> = None;
    for (i, call) in plan.calls.iter().enumerate() {
        let wire = next_call(call, previous.as_ref().map(|(c, s)| (*c, s)));
        match request::send(&client, &wire, false, loadtester.as_deref()).await {
            Ok(sent) => {
                last_status = sent.status;
                done.push(sent.summary.clone());
                previous = Some((call, sent));
            }
            Err(outcome) if i == 0 => return outcome,
            Err(outcome) => return after_partial(outcome, i, total, &done),
        }
    }
    Outcome::Applied {
        status: last_status,
        detail: done.join("; "),
    }
}

/// A later call failed after earlier ones were applied: say so in the outcome.
fn after_partial(outcome: Outcome, sent: usize, total: usize, done: &[String]) -> Outcome {
    let prefix = format!(
        "{sent} of {total} requests applied ({}), then: ",
        done.join("; ")
    );
    match outcome {
        Outcome::Conflict { status, detail } => Outcome::Conflict {
            status,
            detail: prefix + &detail,
        },
        Outcome::Forbidden { status, detail } => Outcome::Forbidden {
            status,
            detail: prefix + &detail,
        },
        Outcome::Rejected { status, detail } => Outcome::Rejected {
            status,
            detail: prefix + &detail,
        },
        Outcome::Unknown { detail } => Outcome::Unknown {
            detail: prefix + &detail,
        },
        applied @ Outcome::Applied { .. } => applied,
    }
}

async fn dry_run(
    client: kube::Client,
    loadtester: Option<Arc<str>>,
    plan: ActionPlan,
) -> Result<String, String> {
    let Some(call) = plan.calls.first() else {
        return Err("nothing to send".into());
    };
    match request::send(&client, call, true, loadtester.as_deref()).await {
        Ok(sent) if sent.nothing_sent => Ok(sent.summary),
        Ok(sent) => Ok(format!("server accepted (dry run): {}", sent.summary)),
        Err(outcome) => Err(outcome.summary()),
    }
}

/// Fill in who sends an Argo CD operation (`initiatedBy.username`, as Argo CD's API server
/// records its user): the username the API server authenticates us as, without groups. An
/// identity that cannot be told is a refusal, never a write with a placeholder.
pub fn with_sender(mut plan: ActionPlan, identity: &str) -> Result<ActionPlan, Outcome> {
    let needs = plan.calls.iter().any(|c| match c {
        ApiCall::Patch { body, .. } => application::needs_sender(body),
        _ => false,
    });
    if !needs {
        return Ok(plan);
    }
    let user = identity.split(" [").next().unwrap_or_default().trim();
    if user.is_empty() || user == "unknown" {
        return Err(Outcome::Rejected {
            status: 0,
            detail: "not sent: cannot tell which user to record as the operation's initiatedBy (SelfSubjectReview failed)".into(),
        });
    }
    for call in &mut plan.calls {
        if let ApiCall::Patch { body, .. } = call {
            application::fill_sender(body, user);
        }
    }
    Ok(plan)
}

impl ActionTarget for KubeTarget {
    fn execute(&self, plan: ActionPlan) -> BoxFuture<'static, Outcome> {
        let (client, loadtester) = (self.client.clone(), self.loadtester.clone());
        let needs = plan.calls.iter().any(|c| match c {
            ApiCall::Patch { body, .. } => application::needs_sender(body),
            _ => false,
        });
        let who = needs.then(|| self.identity());
        Box::pin(async move {
            let plan = match who {
                Some(who) => match with_sender(plan, &who.await) {
                    Ok(plan) => plan,
                    Err(refused) => return refused,
                },
                None => plan,
            };
            execute(client, loadtester, plan).await
        })
    }

    fn check_access(
        &self,
        namespace: String,
        verb: String,
        resource: String,
    ) -> BoxFuture<'static, Option<bool>> {
        let client = self.client.clone();
        Box::pin(async move { access::allowed(client, &namespace, &verb, &resource).await })
    }

    fn dry_run(&self, plan: ActionPlan) -> BoxFuture<'static, Result<String, String>> {
        Box::pin(dry_run(self.client.clone(), self.loadtester.clone(), plan))
    }

    fn watch_pods(
        &self,
        q: crate::core::kinds::pod::PodQuery,
        tx: tokio::sync::mpsc::Sender<crate::core::msg::Msg>,
    ) -> BoxFuture<'static, ()> {
        Box::pin(crate::source::kube::pods::watch(self.client.clone(), q, tx))
    }

    fn list_events(
        &self,
        q: crate::core::kinds::pod::EventsQuery,
    ) -> BoxFuture<
        'static,
        Result<Vec<crate::core::kinds::pod::ObjectEvent>, crate::core::text::Untrusted>,
    > {
        Box::pin(crate::source::kube::pods::events(self.client.clone(), q))
    }

    fn get_object(
        &self,
        resource: crate::core::action::Resource,
        namespace: String,
        name: String,
    ) -> BoxFuture<'static, Result<Value, String>> {
        let client = self.client.clone();
        Box::pin(async move {
            let ar = request::api_resource(&resource);
            request::get(&client, &ar, &namespace, &name)
                .await
                .map_err(|o| o.summary())
        })
    }

    fn check_gate(
        &self,
        q: crate::core::gates::GateQuery,
    ) -> BoxFuture<'static, crate::core::facts::GateState> {
        let client = self.client.clone();
        let configured = self.loadtester.clone();
        Box::pin(
            async move { super::loadtester::check_gate(&client, &q, configured.as_deref()).await },
        )
    }

    fn identity(&self) -> BoxFuture<'static, String> {
        let client = self.client.clone();
        let cell = self.identity.clone();
        Box::pin(async move {
            if let Some(who) = cell.get() {
                return who.clone();
            }
            match access::whoami(client).await {
                Some(who) => {
                    let _ = cell.set(who.clone());
                    who
                }
                None => "unknown".to_string(),
            }
        })
    }
}

/// `path=value` for the fields a patch set, as the server answered (a few, shortened).
pub(crate) fn changed_fields(body: &Value, answer: &Value) -> String {
    let mut leaves = Vec::new();
    collect_leaves(body, String::new(), &mut leaves);
    let shown: Vec<String> = leaves
        .iter()
        .filter(|p| !p.starts_with("/metadata/resourceVersion"))
        .take(4)
        .map(|p| {
            let name = p.trim_start_matches('/').replace('/', ".");
            match answer.pointer(p) {
                None | Some(Value::Null) => format!("{name} cleared"),
                Some(v) => format!("{name}={}", short_value(v)),
            }
        })
        .collect();
    shown.join(", ")
}

fn collect_leaves(v: &Value, path: String, out: &mut Vec<String>) {
    match v {
        Value::Object(m) if !m.is_empty() => {
            for (k, v) in m {
                let key = k.replace('~', "~0").replace('/', "~1");
                collect_leaves(v, format!("{path}/{key}"), out);
            }
        }
        _ => out.push(path),
    }
}

fn short_value(v: &Value) -> String {
    let s = match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    if s.chars().count() > 40 {
        format!("{}…", s.chars().take(40).collect::<String>())
    } else {
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn changed_fields_reads_back_what_was_set() {
        let body = json!({"metadata": {"resourceVersion": "5"}, "status": {"pauseConditions": null, "currentStepIndex": 2}});
        let answer = json!({"status": {"currentStepIndex": 2}});
        assert_eq!(
            changed_fields(&body, &answer),
            "status.currentStepIndex=2, status.pauseConditions cleared"
        );
        let restart = json!({"spec": {"template": {"metadata": {"annotations": {"kubectl.kubernetes.io/restartedAt": "2026-01-01T00:00:00Z"}}}}});
        assert_eq!(
            changed_fields(&restart, &restart),
            "spec.template.metadata.annotations.kubectl.kubernetes.io~1restartedAt=2026-01-01T00:00:00Z"
        );
    }

    #[test]
    fn partial_failures_say_what_was_applied() {
        let out = after_partial(
            Outcome::Rejected {
                status: 500,
                detail: "boom".into(),
            },
            1,
            2,
            &["spec.paused=false".into()],
        );
        match out {
            Outcome::Rejected { detail, .. } => {
                assert!(detail.starts_with("1 of 2 requests applied (spec.paused=false)"))
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn action_config_never_retries() {
        let mut config = kube::Config::new("https://127.0.0.1:1".parse().unwrap());
        assert!(config.default_retry, "kube retries by default");
        no_retries(&mut config);
        assert!(!config.default_retry);
    }
}
