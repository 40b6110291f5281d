//! The demo fleet as an action target: the executor sends plans here exactly as it sends them
//! to an API server, and gets the simulated server's answer back.

use futures::future::BoxFuture;
use tokio::sync::{mpsc, oneshot};

use crate::action::ActionTarget;
use crate::core::action::ActionPlan;
use crate::core::msg::Outcome;

/// A plan and where to send the simulation's answer.
pub type DemoRequest = (ActionPlan, oneshot::Sender<Outcome>);

#[derive(Clone)]
pub struct DemoTarget {
    requests: mpsc::Sender<DemoRequest>,
    read_only: bool,
}

impl DemoTarget {
    pub fn new(requests: mpsc::Sender<DemoRequest>, read_only: bool) -> Self {
        DemoTarget {
            requests,
            read_only,
        }
    }
}

impl ActionTarget for DemoTarget {
    fn execute(&self, plan: ActionPlan) -> BoxFuture<'static, Outcome> {
        let requests = self.requests.clone();
        Box::pin(async move {
            let (tx, rx) = oneshot::channel();
            if requests.send((plan, tx)).await.is_err() {
                return Outcome::Unknown {
                    detail: "the simulation stopped".into(),
                };
            }
            rx.await.unwrap_or(Outcome::Unknown {
                detail: "the simulation dropped the request".into(),
            })
        })
    }

    fn check_access(
        &self,
        _namespace: String,
        _verb: String,
        _resource: String,
    ) -> BoxFuture<'static, Option<bool>> {
        // The demo identity may patch everything unless the console runs read-only.
        let allowed = !self.read_only;
        Box::pin(async move { Some(allowed) })
    }

    fn dry_run(&self, plan: ActionPlan) -> BoxFuture<'static, Result<String, String>> {
        Box::pin(async move {
            Ok(format!(
                "simulated API server accepts {} on {}/{} (dry run)",
                plan.kind, plan.namespace, plan.name
            ))
        })
    }

    fn identity(&self) -> BoxFuture<'static, String> {
        Box::pin(async { "demo-operator".to_string() })
    }
}
