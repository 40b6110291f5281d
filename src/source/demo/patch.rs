//! How the simulated API server answers a write: the resourceVersion precondition, reading
//! fields out of a JSON merge patch, and the status codes and messages a real server gives.

use serde_json::Value;

use crate::core::msg::Outcome;

/// The field at `path` in a merge patch body: `Some(Value::Null)` means "delete this field",
/// `None` means the patch does not touch it.
pub fn field<'a>(body: &'a Value, path: &[&str]) -> Option<&'a Value> {
    path.iter().try_fold(body, |v, key| v.get(key))
}

pub fn bool_field(body: &Value, path: &[&str]) -> Option<bool> {
    field(body, path).and_then(Value::as_bool)
}

/// The optimistic-concurrency check: a patch that names a resourceVersion applies only to
/// that version (a patch without one applies to whatever is there).
pub fn check_resource_version(
    body: &Value,
    current: &str,
    plural: &str,
    name: &str,
) -> Result<(), Outcome> {
    match field(body, &["metadata", "resourceVersion"]).and_then(Value::as_str) {
        Some(rv) if rv != current => Err(conflict(plural, name)),
        _ => Ok(()),
    }
}

/// The API server's own wording for a stale write.
pub fn conflict(plural: &str, name: &str) -> Outcome {
    Outcome::Conflict {
        status: 409,
        detail: format!(
            "Operation cannot be fulfilled on {plural} \"{name}\": the object has been modified; please apply your changes to the latest version and try again"
        ),
    }
}

pub fn not_found(plural: &str, name: &str) -> Outcome {
    Outcome::Rejected {
        status: 404,
        detail: format!("{plural} \"{name}\" not found"),
    }
}

pub fn invalid(detail: impl Into<String>) -> Outcome {
    Outcome::Rejected {
        status: 422,
        detail: detail.into(),
    }
}

pub fn applied(detail: impl Into<String>) -> Outcome {
    Outcome::Applied {
        status: 200,
        detail: detail.into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn stale_resource_version_conflicts() {
        let body = json!({"metadata": {"resourceVersion": "5"}, "spec": {"paused": true}});
        assert!(check_resource_version(&body, "5", "rollouts", "a").is_ok());
        let err = check_resource_version(&body, "6", "rollouts", "a");
        assert!(matches!(err, Err(Outcome::Conflict { status: 409, .. })));
        // No precondition named: applies.
        assert!(check_resource_version(&json!({}), "6", "rollouts", "a").is_ok());
    }

    #[test]
    fn null_means_delete() {
        let body = json!({"status": {"pauseConditions": null}});
        assert_eq!(
            field(&body, &["status", "pauseConditions"]),
            Some(&Value::Null)
        );
        assert_eq!(field(&body, &["status", "abort"]), None);
        assert_eq!(
            bool_field(&json!({"spec": {"paused": false}}), &["spec", "paused"]),
            Some(false)
        );
    }
}
