//! Does Prometheus answer? `GET /-/ready`, then the build info for its version.

use std::time::Duration;

use super::report::PrometheusReport;
use crate::core::text::Untrusted;

pub async fn check(url: &str, deadline: Duration) -> PrometheusReport {
    let base = url.trim_end_matches('/');
    let result = match reqwest::Client::builder().timeout(deadline).build() {
        Ok(client) => ready(&client, base).await,
        Err(e) => Err(Untrusted::new(e.to_string())),
    };
    PrometheusReport {
        url: url.to_string(),
        result,
    }
}

async fn ready(client: &reqwest::Client, base: &str) -> Result<String, Untrusted> {
    let response = client
        .get(format!("{base}/-/ready"))
        .send()
        .await
        .map_err(|e| Untrusted::new(e.to_string()))?;
    if !response.status().is_success() {
        return Err(Untrusted::new(format!(
            "/-/ready answered {}",
            response.status()
        )));
    }
    let version = async {
        let info: serde_json::Value = client
            .get(format!("{base}/api/v1/status/buildinfo"))
            .send()
            .await
            .ok()?
            .json()
            .await
            .ok()?;
        info.pointer("/data/version")
            .and_then(|v| v.as_str())
            .map(str::to_string)
    }
    .await;
    Ok(match version {
        Some(v) => format!("ready, version {v}"),
        None => "ready".to_string(),
    })
}
