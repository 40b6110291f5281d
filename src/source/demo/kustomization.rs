//! A simulated Flux Kustomization: it reconciles what it applies from a GitRepository, owns
//! a Rollout of the demo fleet (its tracking labels), and answers suspend / resume /
//! reconcile as kustomize-controller does (a reconcile request is handled within a second:
//! `status.lastHandledReconcileAt` takes the requested value). Pure.

use jiff::Timestamp;
use serde_json::Value;

use super::patch::{self, bool_field, field};
use super::store::{HasMeta, RvClock, Tracked};
use crate::core::facts::{ObjectFacts, ObjectMeta};
use crate::core::kinds::flux::{FluxFacts, REQUESTED_AT, Ready, SourceRef};
use crate::core::msg::{Msg, Outcome};
use crate::core::text::Untrusted;

impl HasMeta for FluxFacts {
    fn meta(&self) -> &ObjectMeta {
        &self.meta
    }
    fn meta_mut(&mut self) -> &mut ObjectMeta {
        &mut self.meta
    }
}

pub struct KustomizationSim {
    pub cluster: String,
    k: Tracked<FluxFacts>,
}

impl KustomizationSim {
    /// Kustomization `namespace/name` on `cluster`, applied at `revision` from GitRepository
    /// `fleet`.
    pub fn new(
        cluster: &str,
        meta: ObjectMeta,
        revision: &str,
        now: Timestamp,
        clock: &mut RvClock,
    ) -> Self {
        let namespace = meta.namespace.clone();
        let facts = FluxFacts {
            meta,
            suspend: false,
            source: SourceRef {
                kind: "GitRepository".into(),
                namespace,
                name: "fleet".into(),
            },
            interval: "5m".into(),
            ready: Ready::True,
            ready_reason: "ReconciliationSucceeded".into(),
            ready_message: Untrusted::new(format!("Applied revision: {revision}")),
            // Applied two hours before the demo starts.
            ready_since: Some(now - jiff::SignedDuration::from_secs(7_200)),
            last_applied_revision: revision.into(),
            last_attempted_revision: revision.into(),
            requested_at: None,
            last_handled_reconcile_at: None,
            observed_generation: Some(1),
        };
        KustomizationSim {
            cluster: cluster.to_string(),
            k: Tracked::create(facts, clock),
        }
    }

    pub fn facts(&self) -> &FluxFacts {
        &self.k.obj
    }

    /// One simulated second: a pending reconcile request is handled (unless suspended).
    pub fn tick(&mut self, now: Timestamp, clock: &mut RvClock) {
        let k = &mut self.k.obj;
        if !k.suspend && k.requested_at.is_some() && k.requested_at != k.last_handled_reconcile_at {
            k.last_handled_reconcile_at = k.requested_at.clone();
            k.ready_since = Some(now);
        }
        k.observed_generation = Some(k.meta.generation);
        self.k.commit(clock);
    }

    pub fn drain(&mut self, out: &mut Vec<Msg>) {
        if let Some(facts) = self.k.take_unsent() {
            out.push(Msg::Upsert {
                cluster: self.cluster.clone(),
                facts: ObjectFacts::Kustomization(facts),
            });
        }
    }

    pub fn list(&mut self) -> ObjectFacts {
        ObjectFacts::Kustomization(self.k.snapshot())
    }

    /// Merge patch: `spec.suspend`, the reconcile request annotation.
    pub fn patch(&mut self, body: &Value, clock: &mut RvClock) -> Result<Outcome, Outcome> {
        let plural = "kustomizations.kustomize.toolkit.fluxcd.io";
        let name = self.k.obj.meta.name.clone();
        patch::check_resource_version(body, self.k.resource_version(), plural, &name)?;
        let k = &mut self.k.obj;
        if let Some(v) = bool_field(body, &["spec", "suspend"])
            && v != k.suspend
        {
            k.suspend = v;
            k.meta.generation += 1;
        }
        if let Some(v) =
            field(body, &["metadata", "annotations", REQUESTED_AT]).and_then(Value::as_str)
        {
            k.requested_at = Some(v.to_string());
        }
        self.k.commit(clock);
        Ok(patch::applied(format!("kustomization/{name} patched")))
    }
}
