//! How a simulated Rollout sizes its ReplicaSets for the current weight and drops old
//! ReplicaSets and AnalysisRuns beyond the history limits. It must not walk steps or write
//! the Rollout's status.

use super::RolloutSim;
use crate::core::msg::ObjectKind;
use crate::core::status::rollout_set_weight;
use crate::source::demo::replicaset::ReplicaSetSim;

/// Old ReplicaSets kept besides stable and canary (`revisionHistoryLimit`, kept small).
const HISTORY: usize = 2;
/// AnalysisRuns kept per rollout.
const RUNS_KEPT: usize = 3;

impl RolloutSim {
    /// Desired replicas per ReplicaSet for the current weight. With traffic routing the
    /// stable stays at full size; without it, replicas are the only way to split traffic.
    pub(super) fn scale_replicasets(&mut self) {
        let r = &self.ro.obj;
        let total = r.replicas;
        let fully = self.fully_promoted();
        let weight = if fully {
            100
        } else {
            rollout_set_weight(r).unwrap_or(0)
        };
        let canary_want = canary_replicas(total, weight);
        let canary_avail = self.current_rs().map_or(0, ReplicaSetSim::available);
        let stable_want = if r.traffic_routing {
            total
        } else {
            (total - canary_avail.min(canary_want)).max(0)
        };
        let (current, stable) = (r.current_pod_hash.clone(), r.stable_rs.clone());
        for rs in &mut self.replicasets {
            if rs.hash() == current {
                rs.scale(canary_want);
            } else if rs.hash() == stable {
                rs.scale(stable_want);
            } else {
                rs.scale(0);
            }
        }
    }

    /// Drop old ReplicaSets beyond the history limit and old AnalysisRuns (sent as deletes).
    pub(super) fn prune(&mut self) {
        let r = &self.ro.obj;
        let keep = |rs: &ReplicaSetSim| rs.hash() == r.current_pod_hash || rs.hash() == r.stable_rs;
        let mut old: Vec<(i64, String)> = self
            .replicasets
            .iter()
            .filter(|rs| !keep(rs) && rs.replicas() == 0)
            .map(|rs| (rs.revision(), rs.name().to_string()))
            .collect();
        old.sort();
        let excess = old.len().saturating_sub(HISTORY);
        for (_, name) in old.into_iter().take(excess) {
            self.replicasets.retain(|rs| rs.name() != name);
            self.deleted.push((ObjectKind::ReplicaSet, name));
        }
        while self.runs.len() > RUNS_KEPT {
            let run = self.runs.remove(0);
            self.deleted
                .push((ObjectKind::AnalysisRun, run.name().to_string()));
        }
    }
}

/// Replicas the canary needs for `weight` percent (at least one for any weight > 0).
pub(super) fn canary_replicas(total: i32, weight: u32) -> i32 {
    ((i64::from(total) * i64::from(weight) + 99) / 100) as i32
}
