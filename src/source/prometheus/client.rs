//! One Prometheus server: where it is, how to authenticate, and one instant query.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use jiff::Timestamp;
use reqwest::header::{AUTHORIZATION, HeaderValue};

use super::error::PromError;
use super::response;
use crate::config::PrometheusConfig;

/// Largest answer read from Prometheus (an SLO answer is a few hundred bytes).
const MAX_BODY: usize = 4 << 20;

/// A Prometheus server and how to talk to it.
#[derive(Debug, Clone, PartialEq)]
pub struct Target {
    /// Base URL, e.g. `http://127.0.0.1:9090` (a path prefix is kept).
    pub url: String,
    /// Read before every request, so a rotated token is picked up; never logged.
    pub bearer_token_file: Option<PathBuf>,
    /// Extra PEM root certificate(s) for https.
    pub ca_file: Option<PathBuf>,
    /// Per request, connect included.
    pub timeout: Duration,
    /// Between evaluation rounds.
    pub interval: Duration,
}

impl Target {
    /// A server with the default timeout (5 s) and interval (30 s), no token, no CA.
    pub fn new(url: impl Into<String>) -> Target {
        Target {
            url: url.into(),
            bearer_token_file: None,
            ca_file: None,
            timeout: Duration::from_secs(5),
            interval: Duration::from_secs(30),
        }
    }

    pub fn from_config(c: &PrometheusConfig) -> Target {
        Target {
            url: c.url.clone(),
            bearer_token_file: c.bearer_token_file.clone(),
            ca_file: c.ca_file.clone(),
            timeout: Duration::from_secs(c.timeout_seconds.max(1)),
            interval: Duration::from_secs(c.interval_seconds.max(1)),
        }
    }

    fn query_url(&self) -> String {
        format!("{}/api/v1/query", self.url.trim_end_matches('/'))
    }
}

/// The HTTP client for a target: its timeout and CA.
pub fn build_client(target: &Target) -> Result<reqwest::Client, PromError> {
    let mut builder = reqwest::Client::builder()
        .timeout(target.timeout)
        .connect_timeout(target.timeout)
        .user_agent(concat!("shipdeck/", env!("CARGO_PKG_VERSION")));
    if let Some(path) = &target.ca_file {
        let ca_err = |message: String| PromError::Ca {
            path: path.display().to_string(),
            message,
        };
        let pem = std::fs::read(path).map_err(|e| ca_err(e.to_string()))?;
        let certs =
            reqwest::Certificate::from_pem_bundle(&pem).map_err(|e| ca_err(e.to_string()))?;
        if certs.is_empty() {
            return Err(ca_err("no PEM certificate in the file".into()));
        }
        for cert in certs {
            builder = builder.add_root_certificate(cert);
        }
    }
    builder
        .build()
        .map_err(|e| PromError::Client(crate::source::error_chain(&e)))
}

/// The bearer token, read fresh from its file.
async fn bearer(target: &Target) -> Result<Option<HeaderValue>, PromError> {
    let Some(path) = &target.bearer_token_file else {
        return Ok(None);
    };
    let token_err = |message: &str| PromError::Token {
        path: path.display().to_string(),
        message: message.to_owned(),
    };
    let text = tokio::fs::read_to_string(path)
        .await
        .map_err(|e| token_err(&e.kind().to_string()))?;
    let token = text.trim();
    if token.is_empty() {
        return Err(token_err("empty"));
    }
    let mut value = HeaderValue::from_str(&format!("Bearer {token}"))
        .map_err(|_| token_err("contains characters not allowed in an HTTP header"))?;
    value.set_sensitive(true);
    Ok(Some(value))
}

/// `time=` as Unix seconds with milliseconds.
pub fn time_param(at: Timestamp) -> String {
    let ms = at.as_millisecond();
    format!("{}.{:03}", ms.div_euclid(1000), ms.rem_euclid(1000))
}

/// One instant query evaluated at `at`; the samples by their `window` label.
pub async fn instant_query(
    client: &reqwest::Client,
    target: &Target,
    promql: &str,
    at: Timestamp,
) -> Result<BTreeMap<String, f64>, PromError> {
    let timeout = format!("{}s", target.timeout.as_secs().max(1));
    let mut req = client.post(target.query_url()).form(&[
        ("query", promql),
        ("time", &time_param(at)),
        ("timeout", &timeout),
    ]);
    if let Some(auth) = bearer(target).await? {
        req = req.header(AUTHORIZATION, auth);
    }
    let transport = |e: reqwest::Error| {
        if e.is_timeout() {
            PromError::Timeout {
                url: target.url.clone(),
                seconds: target.timeout.as_secs(),
            }
        } else {
            PromError::Unreachable {
                url: target.url.clone(),
                message: crate::source::error_chain(&e.without_url()),
            }
        }
    };
    let mut resp = req.send().await.map_err(transport)?;
    let status = resp.status().as_u16();
    let mut body: Vec<u8> = Vec::new();
    while let Some(chunk) = resp.chunk().await.map_err(transport)? {
        if body.len() + chunk.len() > MAX_BODY {
            return Err(PromError::Decode(format!(
                "answer larger than {MAX_BODY} bytes"
            )));
        }
        body.extend_from_slice(&chunk);
    }
    response::decode(status, &body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn time_param_has_milliseconds() {
        let t = Timestamp::from_millisecond(1_764_145_200_050).unwrap();
        assert_eq!(time_param(t), "1764145200.050");
    }

    #[tokio::test]
    async fn token_is_read_fresh_and_trimmed() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("token");
        std::fs::write(&path, "abc\n").unwrap();
        let mut t = Target::new("http://127.0.0.1:1");
        t.bearer_token_file = Some(path.clone());
        let v = bearer(&t).await.unwrap().unwrap();
        assert_eq!(v.to_str().unwrap(), "Bearer abc");
        assert!(v.is_sensitive());
        std::fs::write(&path, "rotated").unwrap();
        assert_eq!(
            bearer(&t).await.unwrap().unwrap().to_str().unwrap(),
            "Bearer rotated"
        );
        std::fs::write(&path, "se\u{1}cret").unwrap();
        let e = bearer(&t).await.unwrap_err().to_string();
        assert!(!e.contains("cret"), "token leaked: {e}");
        std::fs::remove_file(&path).unwrap();
        assert!(matches!(bearer(&t).await, Err(PromError::Token { .. })));
    }

    #[test]
    fn bad_ca_file_is_a_typed_error() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ca.pem");
        std::fs::write(&path, "not a certificate").unwrap();
        let mut t = Target::new("https://127.0.0.1:1");
        t.ca_file = Some(path);
        assert!(matches!(build_client(&t), Err(PromError::Ca { .. })));
    }
}
