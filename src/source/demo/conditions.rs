//! Writing status conditions the way controllers do: `lastTransitionTime` moves only when
//! the condition's status flips, so "since" on screen means "since it changed".

use jiff::Timestamp;

use crate::core::facts::Condition;
use crate::core::text::Untrusted;

pub fn set(
    conds: &mut Vec<Condition>,
    type_: &str,
    status: &str,
    reason: &str,
    message: &str,
    now: Timestamp,
) {
    match conds.iter_mut().find(|c| c.type_ == type_) {
        Some(c) => {
            if c.status != status {
                c.last_transition = Some(now);
            }
            c.status = status.to_string();
            c.reason = reason.to_string();
            c.message = Untrusted::new(message);
        }
        None => conds.push(Condition {
            type_: type_.to_string(),
            status: status.to_string(),
            reason: reason.to_string(),
            message: Untrusted::new(message),
            last_transition: Some(now),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::SignedDuration;

    #[test]
    fn transition_time_moves_only_on_status_flip() {
        let t0 = Timestamp::UNIX_EPOCH;
        let t1 = t0 + SignedDuration::from_secs(5);
        let mut conds = Vec::new();
        set(
            &mut conds,
            "Progressing",
            "True",
            "ReplicaSetUpdated",
            "a",
            t0,
        );
        set(
            &mut conds,
            "Progressing",
            "True",
            "NewReplicaSetAvailable",
            "b",
            t1,
        );
        assert_eq!(conds[0].last_transition, Some(t0));
        assert_eq!(conds[0].reason, "NewReplicaSetAvailable");
        set(
            &mut conds,
            "Progressing",
            "False",
            "ProgressDeadlineExceeded",
            "c",
            t1,
        );
        assert_eq!(conds[0].last_transition, Some(t1));
    }
}
