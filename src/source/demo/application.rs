//! A simulated Argo CD Application: it manages one of the demo's Deployments (by
//! `status.resources`), starts OutOfSync with self-heal on, and answers the writes shipdeck
//! makes the way Argo CD's application-controller reacts to them: a requested operation runs
//! for a few simulated seconds and then succeeds (a new history entry, Synced), a terminate
//! ends it as Failed, turning automated sync off and on is kept. Pure; no IO.

use jiff::{SignedDuration, Timestamp};
use serde_json::{Value, json};

use super::patch::{self, field};
use super::store::{HasMeta, RvClock, Tracked, uid};
use crate::core::facts::{ObjectFacts, ObjectMeta};
use crate::core::kinds::application::{
    AUTOMATED_BEFORE, AppResource, ApplicationFacts, HistoryEntry,
};
use crate::core::msg::{Msg, Outcome};
use crate::core::text::Untrusted;

/// How long a simulated sync runs.
const SYNC_SECS: i64 = 4;

impl HasMeta for ApplicationFacts {
    fn meta(&self) -> &ObjectMeta {
        &self.meta
    }
    fn meta_mut(&mut self) -> &mut ObjectMeta {
        &mut self.meta
    }
}

pub struct AppSim {
    pub cluster: String,
    app: Tracked<ApplicationFacts>,
    /// When the running operation finishes, and the revision it syncs to.
    running: Option<(Timestamp, String)>,
}

fn source(revision: &str) -> Value {
    json!({"repoURL": "https://git.example/shop/deploy.git", "path": "inventory", "targetRevision": revision})
}

impl AppSim {
    /// `name` in namespace `argocd`, managing Deployment `namespace/name`.
    pub fn new(
        cluster: &str,
        namespace: &str,
        name: &str,
        now: Timestamp,
        clock: &mut RvClock,
    ) -> Self {
        let entry = |id: i64, revision: &str, ago: i64, by: &str| HistoryEntry {
            id,
            revision: revision.into(),
            deployed_at: Some(now - SignedDuration::from_secs(ago)),
            deploy_started_at: Some(now - SignedDuration::from_secs(ago + 20)),
            initiated_by: Untrusted::new(by),
            source: source("main"),
        };
        let facts = ApplicationFacts {
            meta: ObjectMeta {
                namespace: "argocd".into(),
                name: name.into(),
                uid: uid(&[cluster, "argocd", name, "application"]),
                created: Some(now - SignedDuration::from_hours(72)),
                ..ObjectMeta::default()
            },
            repo_url: Untrusted::new("https://git.example/shop/deploy.git"),
            path: Untrusted::new("inventory"),
            target_revision: "main".into(),
            source: source("main"),
            dest_namespace: namespace.into(),
            automated: Some(json!({"prune": false, "selfHeal": true})),
            self_heal: true,
            prune: false,
            sync_status: "OutOfSync".into(),
            sync_revision: "9f3c2e1d8b7a6f5e4d3c2b1a0f9e8d7c6b5a4f3e".into(),
            health: "Healthy".into(),
            op_phase: "Succeeded".into(),
            op_message: Untrusted::new("successfully synced (all tasks run)"),
            op_started: Some(now - SignedDuration::from_hours(5)),
            op_finished: Some(now - SignedDuration::from_hours(5)),
            synced_revision: "4b1e7a9c0d2f3e4a5b6c7d8e9f0a1b2c3d4e5f6a".into(),
            history: vec![
                entry(
                    0,
                    "0c9d8e7f6a5b4c3d2e1f0a9b8c7d6e5f4a3b2c1d",
                    72 * 3600,
                    "alice",
                ),
                entry(
                    1,
                    "4b1e7a9c0d2f3e4a5b6c7d8e9f0a1b2c3d4e5f6a",
                    5 * 3600,
                    "automated",
                ),
            ],
            resources: vec![AppResource {
                group: "apps".into(),
                kind: "Deployment".into(),
                namespace: namespace.into(),
                name: name.into(),
            }],
            ..ApplicationFacts::default()
        };
        AppSim {
            cluster: cluster.into(),
            app: Tracked::create(facts, clock),
            running: None,
        }
    }

    pub fn facts(&self) -> &ApplicationFacts {
        &self.app.obj
    }

    pub fn list(&mut self) -> ObjectFacts {
        ObjectFacts::Application(self.app.snapshot())
    }

    pub fn drain(&mut self, out: &mut Vec<Msg>) {
        if let Some(facts) = self.app.take_unsent() {
            out.push(Msg::Upsert {
                cluster: self.cluster.clone(),
                facts: ObjectFacts::Application(facts),
            });
        }
    }

    /// One simulated second: a running operation may finish.
    pub fn tick(&mut self, now: Timestamp, clock: &mut RvClock) {
        let Some((until, revision)) = self.running.clone() else {
            return;
        };
        if now < until {
            return;
        }
        self.running = None;
        let a = &mut self.app.obj;
        let id = a.history.iter().map(|h| h.id).max().map_or(0, |m| m + 1);
        a.history.push(HistoryEntry {
            id,
            revision: revision.clone(),
            deployed_at: Some(now),
            deploy_started_at: a.op_started.or(Some(now)),
            initiated_by: Untrusted::new("shipdeck"),
            source: a.source.clone(),
        });
        a.operation_requested = false;
        a.op_phase = "Succeeded".into();
        a.op_message = Untrusted::new("successfully synced (all tasks run)");
        a.op_finished = Some(now);
        a.synced_revision = revision.clone();
        a.sync_status = if revision == a.sync_revision {
            "Synced"
        } else {
            "OutOfSync"
        }
        .into();
        self.app.commit(clock);
    }

    /// A merge patch as Argo CD's API server and controller would take it.
    pub fn patch(
        &mut self,
        body: &Value,
        now: Timestamp,
        clock: &mut RvClock,
    ) -> Result<Outcome, Outcome> {
        let name = self.app.obj.meta.name.clone();
        let plural = "applications.argoproj.io";
        patch::check_resource_version(body, self.app.resource_version(), plural, &name)?;
        let a = &mut self.app.obj;
        if let Some(op) = field(body, &["operation"]).filter(|o| !o.is_null()) {
            if a.operation_requested || a.op_phase == "Running" {
                return Err(patch::invalid("another operation is already in progress"));
            }
            let revision = op
                .pointer("/sync/revision")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string();
            a.operation_requested = true;
            a.op_phase = "Running".into();
            a.op_message = Untrusted::new("one or more tasks are running");
            a.op_started = Some(now);
            a.op_finished = None;
            self.running = Some((now + SignedDuration::from_secs(SYNC_SECS), revision));
        }
        if field(body, &["status", "operationState", "phase"]).and_then(Value::as_str)
            == Some("Terminating")
        {
            self.running = None;
            a.operation_requested = false;
            a.op_phase = "Failed".into();
            a.op_message = Untrusted::new("Operation terminated");
            a.op_finished = Some(now);
        }
        if let Some(automated) = field(body, &["spec", "syncPolicy", "automated"]) {
            a.automated = (!automated.is_null()).then(|| automated.clone());
            a.self_heal = automated
                .get("selfHeal")
                .and_then(Value::as_bool)
                .unwrap_or(false);
            a.prune = automated
                .get("prune")
                .and_then(Value::as_bool)
                .unwrap_or(false);
        }
        if let Some(saved) = field(body, &["metadata", "annotations", AUTOMATED_BEFORE]) {
            a.automated_before = saved
                .as_str()
                .and_then(|s| serde_json::from_str::<Value>(s).ok())
                .filter(Value::is_object);
        }
        self.app.commit(clock);
        Ok(patch::applied(format!(
            "application.argoproj.io/{name} patched"
        )))
    }
}
