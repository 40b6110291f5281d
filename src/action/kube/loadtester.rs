//! Flagger's rollback gate on the wire: before anything is posted, the Canary is read again
//! and compared with what the user saw (uid, phase, the rollback webhook), and the post goes
//! only to a loadtester in the Canary's own namespace (through the API server's service
//! proxy) or to the cluster's configured `loadtester` (`clusters[].loadtester`). A webhook
//! that points anywhere else is refused, naming its namespace: a Canary anyone may edit must
//! not aim the operator's credentials at another namespace's service.

use std::time::Duration;

use serde_json::Value;

use super::outcome::{from_error, from_status, shorten};
use super::request::{Sent, api_resource, get};
use crate::core::action::{CANARIES, CanarySeen, Loadtester};
use crate::core::facts::GateState;
use crate::core::msg::Outcome;

/// The `rollback` webhook's URL in a Canary as the API server returns it.
pub fn rollback_webhook(canary: &Value) -> Option<&str> {
    webhook(canary, "rollback")
}

/// The URL of the first webhook of type `type_` in a Canary as the API server returns it.
pub fn webhook<'a>(canary: &'a Value, type_: &str) -> Option<&'a str> {
    canary
        .pointer("/spec/analysis/webhooks")?
        .as_array()?
        .iter()
        .find(|w| w.get("type").and_then(Value::as_str) == Some(type_))?
        .get("url")?
        .as_str()
}

/// May we post to `to` for this Canary? Its own namespace, or the configured loadtester.
pub fn allowed(
    to: &Loadtester,
    seen: &CanarySeen,
    configured: Option<&str>,
) -> Result<(), Outcome> {
    if to.namespace() == Some(seen.namespace.as_str()) {
        return Ok(());
    }
    if configured.and_then(Loadtester::parse).as_ref() == Some(to) {
        return Ok(());
    }
    let whose = match to.namespace() {
        Some(ns) => format!("into namespace {ns} ({})", to.describe()),
        None => format!("at {} (no namespace)", to.describe()),
    };
    Err(Outcome::Rejected {
        status: 0,
        detail: format!(
            "not sent: the {} webhook of Canary {}/{} points {whose}, not the Canary's own namespace {} nor this cluster's configured loadtester (clusters[].loadtester)",
            seen.webhook_type, seen.namespace, seen.name, seen.namespace
        ),
    })
}

/// Is the Canary read now still the one the user saw (same object, phase and webhook, and
/// the same resourceVersion when the call carries one)?
pub fn unchanged(seen: &CanarySeen, now: &Value) -> Result<(), Outcome> {
    let str_at = |p: &str| now.pointer(p).and_then(Value::as_str).unwrap_or("");
    let mut changed = Vec::new();
    let uid = str_at("/metadata/uid");
    if uid != seen.uid {
        changed.push(format!("uid is {uid}, you saw {}", seen.uid));
    }
    let phase = str_at("/status/phase");
    let phase = if phase.is_empty() {
        "Initializing"
    } else {
        phase
    };
    if phase != seen.phase {
        changed.push(format!("phase is {phase}, you saw {}", seen.phase));
    }
    let url = webhook(now, &seen.webhook_type).unwrap_or("none");
    if url != seen.webhook {
        changed.push(format!(
            "{} webhook is {url}, you saw {}",
            seen.webhook_type, seen.webhook
        ));
    }
    if let Some(rv) = &seen.resource_version {
        let now_rv = str_at("/metadata/resourceVersion");
        if now_rv != rv {
            changed.push(format!("resourceVersion is {now_rv}, you saw {rv}"));
        }
    }
    if changed.is_empty() {
        return Ok(());
    }
    Err(Outcome::Conflict {
        status: 409,
        detail: shorten(&format!(
            "Canary {} changed since you saw it: {} (found on read; nothing sent)",
            seen.name,
            changed.join("; ")
        )),
    })
}

/// Check, re-read and compare, then post (unless `dry_run`: then say what would be posted).
pub async fn post(
    client: &kube::Client,
    (to, path, body, seen): (&Loadtester, &str, &Value, &CanarySeen),
    configured: Option<&str>,
    dry_run: bool,
) -> Result<Sent, Outcome> {
    allowed(to, seen, configured)?;
    let now = get(
        client,
        &api_resource(&CANARIES),
        &seen.namespace,
        &seen.name,
    )
    .await?;
    unchanged(seen, &now)?;
    if dry_run {
        return Ok(Sent {
            status: 200,
            summary: format!(
                "Canary unchanged, {} allowed; the loadtester has no dry run: nothing posted",
                to.describe()
            ),
            nothing_sent: true,
            resource_version: None,
        });
    }
    match to {
        Loadtester::Service {
            namespace,
            service,
            port,
        } => proxy_post(client, namespace, service, port, path, body).await,
        Loadtester::Url { base } => direct_post(base, path, body).await,
    }
}

/// POST `body` to `service:port` + `path` through the API server's service proxy.
async fn proxy_post(
    client: &kube::Client,
    namespace: &str,
    service: &str,
    port: &str,
    path: &str,
    body: &Value,
) -> Result<Sent, Outcome> {
    let url = format!("/api/v1/namespaces/{namespace}/services/{service}:{port}/proxy{path}");
    let bytes = serde_json::to_vec(body).unwrap_or_default();
    let req = kube::core::Request::new(url)
        .create(&kube::api::PostParams::default(), bytes)
        .map_err(|e| Outcome::Rejected {
            status: 0,
            detail: format!("not sent: {e}"),
        })?;
    match client.request_text(req).await {
        Ok(text) => Ok(Sent {
            status: 200,
            summary: format!("{service} answered: {}", shorten(&text)),
            nothing_sent: false,
            resource_version: None,
        }),
        // A JSON error body that is not a Status parses with code 0: still an error.
        Err(kube::Error::Api(status)) if status.code == 0 => Err(from_status(0, &status.message)),
        Err(e) => Err(from_error(&e)),
    }
}

/// Ask the loadtester whether a Canary's gate is open: `POST /gate/check` with
/// `{"name","namespace"}` (200: open, 403: closed), only to a loadtester the gate actions may
/// post to. Anything else is `Unknown` with the reason.
pub async fn check_gate(
    client: &kube::Client,
    q: &crate::core::gates::GateQuery,
    configured: Option<&str>,
) -> GateState {
    if let Err(refused) = allowed(&q.to, &q.canary, configured) {
        return GateState::Unknown(refused.summary());
    }
    let body = serde_json::json!({"name": q.canary.name, "namespace": q.canary.namespace});
    match &q.to {
        Loadtester::Service {
            namespace,
            service,
            port,
        } => {
            let url = format!(
                "/api/v1/namespaces/{namespace}/services/{service}:{port}/proxy/gate/check"
            );
            let bytes = serde_json::to_vec(&body).unwrap_or_default();
            let req = match kube::core::Request::new(url)
                .create(&kube::api::PostParams::default(), bytes)
            {
                Ok(req) => req,
                Err(e) => return GateState::Unknown(format!("not asked: {e}")),
            };
            match client.request_text(req).await {
                Ok(_) => GateState::Open,
                Err(kube::Error::Api(status)) => {
                    gate_answer(status.code, &status.reason, &status.message)
                }
                Err(e) => GateState::Unknown(shorten(&e.to_string())),
            }
        }
        Loadtester::Url { base } => {
            let client = match reqwest::Client::builder()
                .timeout(Duration::from_secs(8))
                .build()
            {
                Ok(c) => c,
                Err(e) => return GateState::Unknown(shorten(&e.to_string())),
            };
            match client
                .post(format!("{base}/gate/check"))
                .json(&body)
                .send()
                .await
            {
                Ok(resp) => {
                    let code = resp.status().as_u16();
                    let text = resp.text().await.unwrap_or_default();
                    if (200..300).contains(&code) {
                        GateState::Open
                    } else {
                        gate_answer(code, NOT_A_STATUS, &text)
                    }
                }
                Err(e) => GateState::Unknown(shorten(&e.to_string())),
            }
        }
    }
}

/// The reason kube gives an error answer whose body is not a Kubernetes Status: the
/// loadtester's own answer, passed through by the service proxy.
const NOT_A_STATUS: &str = "Failed to parse error data";

/// A non-2xx answer to `/gate/check`: the loadtester's own 403 ("Forbidden", not a
/// Kubernetes Status) says closed; an API server's 403 (RBAC on services/proxy) or
/// anything else says nothing about the gate.
fn gate_answer(code: u16, reason: &str, message: &str) -> GateState {
    if code == 403 && reason == NOT_A_STATUS {
        return GateState::Closed;
    }
    GateState::Unknown(shorten(&format!("{code} {}", message.trim())))
}

/// POST to the configured loadtester's own address (no credentials go with it).
async fn direct_post(base: &str, path: &str, body: &Value) -> Result<Sent, Outcome> {
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(8))
        .build()
        .map_err(|e| Outcome::Rejected {
            status: 0,
            detail: format!("not sent: {}", shorten(&e.to_string())),
        })?;
    let answer = client.post(format!("{base}{path}")).json(body).send().await;
    match answer {
        Ok(resp) => {
            let status = resp.status().as_u16();
            let text = resp.text().await.unwrap_or_default();
            if (200..300).contains(&status) {
                Ok(Sent {
                    status,
                    summary: format!("loadtester {base} answered {status}: {}", shorten(&text)),
                    nothing_sent: false,
                    resource_version: None,
                })
            } else {
                Err(from_status(status, &text))
            }
        }
        Err(e) if e.is_connect() => Err(Outcome::Rejected {
            status: 0,
            detail: format!(
                "not sent: loadtester {base} unreachable: {}",
                shorten(&e.to_string())
            ),
        }),
        Err(e) => Err(Outcome::Unknown {
            detail: format!(
                "request may or may not have been applied — verify ({})",
                shorten(&e.to_string())
            ),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn seen() -> CanarySeen {
        CanarySeen {
            namespace: "shop".into(),
            name: "web".into(),
            uid: "u1".into(),
            phase: "Progressing".into(),
            webhook_type: "rollback".into(),
            webhook: "http://flagger-loadtester.shop:80/rollback/check".into(),
            resource_version: None,
        }
    }

    fn canary(uid: &str, phase: &str, webhook: &str) -> Value {
        json!({
            "metadata": {"uid": uid, "name": "web", "namespace": "shop"},
            "spec": {"analysis": {"webhooks": [
                {"name": "load", "type": "rollout", "url": "http://elsewhere.x/"},
                {"name": "rb", "type": "rollback", "url": webhook}
            ]}},
            "status": {"phase": phase}
        })
    }

    fn parse(url: &str) -> Loadtester {
        Loadtester::parse(url).unwrap_or_else(|| panic!("{url} does not parse"))
    }

    #[test]
    fn own_namespace_or_the_configured_loadtester_only() {
        let own = parse("http://flagger-loadtester.shop:80/rollback/check");
        assert!(allowed(&own, &seen(), None).is_ok());
        let foreign = parse("http://payments-api.payments:8080/rollback/check");
        match allowed(&foreign, &seen(), None) {
            Err(Outcome::Rejected { status: 0, detail }) => {
                assert!(detail.contains("into namespace payments"), "{detail}");
                assert!(detail.contains("own namespace shop"), "{detail}");
            }
            other => panic!("{other:?}"),
        }
        // The configured one is allowed wherever it lives; another one still is not.
        let configured = Some("http://payments-api.payments:8080/");
        assert!(allowed(&foreign, &seen(), configured).is_ok());
        assert!(allowed(&foreign, &seen(), Some("http://lt.tools:80")).is_err());
        // A plain address only when it is the configured one.
        let direct = parse("http://127.0.0.1:24517/rollback/check");
        assert!(allowed(&direct, &seen(), None).is_err());
        assert!(allowed(&direct, &seen(), Some("http://127.0.0.1:24517")).is_ok());
    }

    #[test]
    fn a_canary_changed_since_it_was_seen_is_a_conflict() {
        let s = seen();
        assert!(unchanged(&s, &canary("u1", "Progressing", &s.webhook)).is_ok());
        for (now, what) in [
            (canary("u2", "Progressing", &s.webhook), "uid is u2"),
            (canary("u1", "Succeeded", &s.webhook), "phase is Succeeded"),
            (
                canary(
                    "u1",
                    "Progressing",
                    "http://evil.kube-system/rollback/check",
                ),
                "rollback webhook is http://evil.kube-system",
            ),
        ] {
            match unchanged(&s, &now) {
                Err(Outcome::Conflict {
                    status: 409,
                    detail,
                }) => {
                    assert!(detail.contains(what), "{detail}")
                }
                other => panic!("{what}: {other:?}"),
            }
        }
        // An empty phase is Flagger still initialising, as the projection reads it.
        let mut init = seen();
        init.phase = "Initializing".into();
        assert!(unchanged(&init, &canary("u1", "", &init.webhook)).is_ok());
    }

    #[test]
    fn only_the_loadtesters_own_403_says_closed() {
        assert_eq!(
            gate_answer(403, NOT_A_STATUS, "Forbidden"),
            GateState::Closed
        );
        // RBAC refusing the service proxy: a Kubernetes Status, nothing about the gate.
        match gate_answer(403, "Forbidden", "services \"lt\" is forbidden: User \"x\"") {
            GateState::Unknown(why) => assert!(why.contains("forbidden: User"), "{why}"),
            other => panic!("{other:?}"),
        }
        match gate_answer(503, NOT_A_STATUS, "no endpoints available") {
            GateState::Unknown(why) => assert!(why.starts_with("503 no endpoints"), "{why}"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn the_rollback_webhook_is_read_by_type() {
        let c = canary("u1", "Progressing", "http://lt.shop/rollback/check");
        assert_eq!(rollback_webhook(&c), Some("http://lt.shop/rollback/check"));
        assert_eq!(rollback_webhook(&json!({"spec": {}})), None);
    }
}
