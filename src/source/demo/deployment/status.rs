//! The status a simulated Deployment's controller writes after each reconcile: replica
//! counts, the progress clock behind `ProgressDeadlineExceeded`, and the `Progressing` and
//! `Available` conditions as the apps/v1 controller words them. It must not scale or
//! change the spec.

use jiff::Timestamp;

use super::DeploymentSim;
use crate::source::demo::conditions;

impl DeploymentSim {
    pub(super) fn refresh_status(&mut self, hash: &str, now: Timestamp) {
        let new = self.replicasets.iter().find(|rs| rs.hash() == hash);
        let new_name = new.map(|rs| rs.name().to_string()).unwrap_or_default();
        let seen = new.map_or((0, 0), |rs| (rs.replicas(), rs.available()));
        let mut sums = (0, 0, 0);
        for rs in &self.replicasets {
            sums.0 += rs.replicas();
            sums.1 += rs.rs.obj.ready_replicas;
            sums.2 += rs.available();
        }
        if seen != self.last_seen {
            self.last_seen = seen;
            self.last_progress = now;
        }
        let d = &mut self.dep.obj;
        d.observed_generation = Some(d.meta.generation);
        d.status_replicas = sums.0;
        d.updated_replicas = seen.0;
        d.ready_replicas = sums.1;
        d.available_replicas = sums.2;
        let complete = seen == (d.replicas, d.replicas) && sums.0 == d.replicas;
        // Timed out = no progress for the deadline; it clears as soon as progress resumes.
        let timed_out = now.duration_since(self.last_progress) > self.progress_deadline;
        let (status, reason, message) = if d.paused {
            (
                "Unknown",
                "DeploymentPaused",
                "Deployment is paused".to_string(),
            )
        } else if complete {
            (
                "True",
                "NewReplicaSetAvailable",
                format!("ReplicaSet \"{new_name}\" has successfully progressed."),
            )
        } else if timed_out {
            (
                "False",
                "ProgressDeadlineExceeded",
                format!("ReplicaSet \"{new_name}\" has timed out progressing."),
            )
        } else {
            (
                "True",
                "ReplicaSetUpdated",
                format!("ReplicaSet \"{new_name}\" is progressing."),
            )
        };
        conditions::set(
            &mut d.conditions,
            "Progressing",
            status,
            reason,
            &message,
            now,
        );
        let min_available = d.replicas - d.replicas / 4;
        let (status, reason) = if d.available_replicas >= min_available {
            ("True", "MinimumReplicasAvailable")
        } else {
            ("False", "MinimumReplicasUnavailable")
        };
        let message = if status == "True" {
            "Deployment has minimum availability."
        } else {
            "Deployment does not have minimum availability."
        };
        conditions::set(&mut d.conditions, "Available", status, reason, message, now);
    }
}
