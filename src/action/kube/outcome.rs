//! What an API server's answer means for an action (reference/actions.md, budgets R5, S2):
//! 409 or a failed JSON-patch `test` is a conflict, 403 is forbidden with the server's words,
//! other 4xx and 429/5xx are rejections with their status, and a transport failure leaves the
//! outcome unknown. Messages are the server's (never request headers, so never tokens),
//! shortened for the status line.

use crate::core::msg::Outcome;

/// Longest server message kept in an outcome.
const MAX_DETAIL: usize = 300;

pub(crate) fn shorten(s: &str) -> String {
    let s = s.trim();
    if s.chars().count() <= MAX_DETAIL {
        return s.to_string();
    }
    let mut out: String = s.chars().take(MAX_DETAIL).collect();
    out.push('…');
    out
}

/// Does the message say a JSON-patch `test` op failed ("testing value … failed: test
/// failed")? kube-apiserver 1.34 does not say so: it answers a bare 422 "the server rejected
/// our request due to an error in our request" with empty details (seen in e2e), so the
/// target also re-reads the object after a 422 (see `request::patch`).
fn failed_test_op(message: &str) -> bool {
    let m = message.to_ascii_lowercase();
    m.contains("testing value") || m.contains("test failed")
}

/// The outcome for an HTTP error status and the server's message.
pub(crate) fn from_status(code: u16, message: &str) -> Outcome {
    let detail = shorten(message);
    match code {
        409 => Outcome::Conflict {
            status: code,
            detail,
        },
        422 if failed_test_op(message) => Outcome::Conflict {
            status: code,
            detail,
        },
        403 | 401 => Outcome::Forbidden {
            status: code,
            detail,
        },
        429 => Outcome::Rejected {
            status: code,
            detail: format!("API server is throttling (429), not retried: {detail}"),
        },
        500..=599 => Outcome::Rejected {
            status: code,
            detail: format!("API server error {code}, not retried — check the object: {detail}"),
        },
        _ => Outcome::Rejected {
            status: code,
            detail,
        },
    }
}

/// The server's words: its message plus the causes it lists.
pub(crate) fn server_message(status: &kube::core::Status) -> String {
    let mut message = if status.message.is_empty() {
        status.reason.clone()
    } else {
        status.message.clone()
    };
    for cause in status.details.iter().flat_map(|d| &d.causes) {
        if !cause.message.is_empty() && !message.contains(&cause.message) {
            message.push_str(": ");
            message.push_str(&cause.message);
        }
    }
    message
}

/// The outcome for a failed kube request.
pub(crate) fn from_error(err: &kube::Error) -> Outcome {
    match err {
        kube::Error::Api(status) => from_status(status.code, &server_message(status)),
        // Built locally and never sent.
        kube::Error::BuildRequest(e) => Outcome::Rejected {
            status: 0,
            detail: format!("not sent: {}", shorten(&e.to_string())),
        },
        kube::Error::Auth(e) => Outcome::Rejected {
            status: 0,
            detail: format!("not sent: credentials: {}", shorten(&e.to_string())),
        },
        // The request may have reached the server: never guess.
        other => Outcome::Unknown {
            detail: format!(
                "request may or may not have been applied — verify ({})",
                shorten(&crate::source::error_chain(other))
            ),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug)]
    struct Layer(&'static str, Option<Box<Layer>>);
    impl std::fmt::Display for Layer {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str(self.0)
        }
    }
    impl std::error::Error for Layer {
        fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
            self.1.as_deref().map(|l| l as _)
        }
    }

    #[test]
    fn an_unknown_outcome_names_every_cause() {
        let err = Layer(
            "ServiceError: client error (SendRequest)",
            Some(Box::new(Layer(
                "client error (SendRequest)",
                Some(Box::new(Layer(
                    "connection closed before message completed",
                    None,
                ))),
            ))),
        );
        assert_eq!(
            crate::source::error_chain(&err),
            "ServiceError: client error (SendRequest): connection closed before message completed"
        );
    }

    #[test]
    fn statuses_map_to_outcomes() {
        assert!(matches!(
            from_status(409, "the object has been modified"),
            Outcome::Conflict { status: 409, .. }
        ));
        assert!(matches!(
            from_status(
                422,
                "the server rejected our request due to an error in our request: testing value /metadata/resourceVersion failed: test failed"
            ),
            Outcome::Conflict { status: 422, .. }
        ));
        assert!(matches!(
            from_status(422, "spec.replicas: Invalid value"),
            Outcome::Rejected { status: 422, .. }
        ));
        match from_status(
            403,
            "rollouts.argoproj.io \"web\" is forbidden: User \"viewer\" cannot patch",
        ) {
            Outcome::Forbidden {
                status: 403,
                detail,
            } => assert!(detail.contains("cannot patch")),
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            from_status(404, "not found"),
            Outcome::Rejected { status: 404, .. }
        ));
        match from_status(503, "etcd down") {
            Outcome::Rejected {
                status: 503,
                detail,
            } => assert!(detail.contains("not retried")),
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            from_status(429, "slow down"),
            Outcome::Rejected { status: 429, .. }
        ));
    }

    #[test]
    fn a_failed_test_op_is_read_from_the_causes() {
        // A server that names the failed test op in a cause.
        let status: kube::core::Status = serde_json::from_value(serde_json::json!({
            "kind": "Status", "apiVersion": "v1", "status": "Failure", "code": 422,
            "reason": "Invalid",
            "message": "the server rejected our request due to an error in our request",
            "details": {"causes": [{"reason": "UnexpectedServerResponse",
                "message": "testing value /metadata/resourceVersion failed: test failed"}]}
        }))
        .unwrap();
        let outcome = from_error(&kube::Error::Api(Box::new(status)));
        assert!(
            matches!(outcome, Outcome::Conflict { status: 422, .. }),
            "{outcome:?}"
        );
    }

    #[test]
    fn long_messages_are_shortened() {
        let long = "x".repeat(1000);
        assert_eq!(shorten(&long).chars().count(), MAX_DETAIL + 1);
    }
}
