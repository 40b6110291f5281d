//! The status a simulated Rollout's controller writes after each reconcile: replica counts,
//! traffic weight, `Progressing`/`Available` conditions and `status.phase`/`message` as
//! Argo Rollouts v1.x computes them. It must not change spec or step state.

use jiff::Timestamp;

use super::RolloutSim;
use crate::core::facts::RolloutFacts;
use crate::core::text::Untrusted;
use crate::source::demo::conditions;

impl RolloutSim {
    /// Status the controller writes after each reconcile.
    pub(super) fn refresh_status(&mut self, now: Timestamp) {
        let fully = self.fully_promoted();
        let (current, sum) = {
            let current = self.current_rs().map(|rs| rs.replicas()).unwrap_or(0);
            let mut sum = (0, 0, 0);
            for rs in &self.replicasets {
                sum.0 += rs.replicas();
                sum.1 += rs.rs.obj.ready_replicas;
                sum.2 += rs.available();
            }
            (current, sum)
        };
        let traffic = self.traffic_weight;
        let abort_message = self.abort_message.clone();
        let r = &mut self.ro.obj;
        r.observed_generation = Some(r.meta.generation.to_string());
        r.status_replicas = sum.0;
        r.updated_replicas = current;
        r.ready_replicas = sum.1;
        r.available_replicas = sum.2;
        r.traffic_canary_weight = (r.traffic_routing && !fully).then_some(traffic);
        if !r.aborted {
            self.abort_message.clear();
        }
        let (phase, message) = controller_phase(r, fully, &abort_message);
        let (status, reason, cond_msg) = match phase {
            "Degraded" => ("False", "RolloutAborted", abort_message.as_str()),
            "Paused" => ("Unknown", "RolloutPaused", "Rollout is paused"),
            "Healthy" => (
                "True",
                "NewReplicaSetAvailable",
                "Rollout has completed update",
            ),
            _ => ("True", "ReplicaSetUpdated", "Rollout is progressing"),
        };
        conditions::set(
            &mut r.conditions,
            "Progressing",
            status,
            reason,
            cond_msg,
            now,
        );
        let available = if r.available_replicas >= r.replicas {
            "True"
        } else {
            "False"
        };
        conditions::set(
            &mut r.conditions,
            "Available",
            available,
            "AvailableReason",
            "Rollout has minimum availability",
            now,
        );
        r.phase = Some(phase.to_string());
        r.message = Untrusted::new(message);
    }
}

/// `status.phase` and `status.message` as Argo's `CalculateRolloutPhase` writes them.
fn controller_phase(r: &RolloutFacts, fully: bool, abort_message: &str) -> (&'static str, String) {
    if r.aborted {
        return ("Degraded", format!("RolloutAborted: {abort_message}"));
    }
    if r.paused {
        return ("Paused", "manually paused".into());
    }
    if let Some(pc) = r.pause_conditions.first() {
        return ("Paused", pc.reason.as_str().into());
    }
    if r.restart_at.is_some() && r.restart_at != r.restarted_at {
        return ("Progressing", "rollout is restarting".into());
    }
    if r.updated_replicas < r.replicas {
        return ("Progressing", "more replicas need to be updated".into());
    }
    if r.available_replicas < r.updated_replicas {
        return (
            "Progressing",
            "updated replicas are still becoming available".into(),
        );
    }
    // Basic canary only: traffic routing keeps the old replicas up on purpose.
    if !r.traffic_routing && r.status_replicas > r.updated_replicas {
        return ("Progressing", "old replicas are pending termination".into());
    }
    if !fully {
        return ("Progressing", "waiting for all steps to complete".into());
    }
    ("Healthy", String::new())
}

#[cfg(test)]
mod tests {
    use super::controller_phase;
    use crate::core::testkit::paused_rollout;

    #[test]
    fn old_replicas_still_up_keep_a_basic_canary_progressing() {
        let mut r = paused_rollout("shop", "web");
        r.pause_conditions.clear();
        (r.updated_replicas, r.available_replicas, r.status_replicas) = (5, 5, 6);
        assert_eq!(
            controller_phase(&r, true, ""),
            ("Progressing", "old replicas are pending termination".into())
        );
        r.status_replicas = 5;
        assert_eq!(controller_phase(&r, true, ""), ("Healthy", String::new()));
        // Traffic routing keeps the stable up on purpose.
        r.status_replicas = 10;
        r.traffic_routing = true;
        assert_eq!(controller_phase(&r, true, ""), ("Healthy", String::new()));
    }
}
