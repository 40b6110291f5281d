//! Push synthetic series into the test Prometheus (remote-write 1.0 receiver) and query it.
//!
//! The WriteRequest protobuf is tiny, so it is encoded by hand:
//! `WriteRequest { repeated TimeSeries timeseries = 1; }`,
//! `TimeSeries { repeated Label labels = 1; repeated Sample samples = 2; }`,
//! `Label { string name = 1; string value = 2; }`,
//! `Sample { double value = 1; int64 timestamp = 2; }` (milliseconds),
//! compressed with Snappy's block format.

use anyhow::{Context, Result, anyhow, bail};

/// One series: its labels (including `__name__`) and samples `(timestamp_ms, value)`.
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    pub labels: Vec<(String, String)>,
    pub samples: Vec<(i64, f64)>,
}

impl Series {
    /// A series named `name` with extra labels.
    pub fn new(name: &str, labels: &[(&str, &str)]) -> Series {
        let mut all = vec![("__name__".to_owned(), name.to_owned())];
        all.extend(
            labels
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned())),
        );
        Series {
            labels: all,
            samples: Vec::new(),
        }
    }

    /// Add a sample at `timestamp_ms`.
    pub fn sample(mut self, timestamp_ms: i64, value: f64) -> Series {
        self.samples.push((timestamp_ms, value));
        self
    }
}

fn put_varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

fn put_len_field(out: &mut Vec<u8>, field: u32, bytes: &[u8]) {
    put_varint(out, u64::from(field << 3 | 2));
    put_varint(out, bytes.len() as u64);
    out.extend_from_slice(bytes);
}

/// Encode a WriteRequest (uncompressed protobuf). Labels are sorted by name, as the
/// receiver requires.
pub fn encode_write_request(series: &[Series]) -> Vec<u8> {
    let mut req = Vec::new();
    for s in series {
        let mut ts = Vec::new();
        let mut labels = s.labels.clone();
        labels.sort();
        for (name, value) in &labels {
            let mut l = Vec::new();
            put_len_field(&mut l, 1, name.as_bytes());
            put_len_field(&mut l, 2, value.as_bytes());
            put_len_field(&mut ts, 1, &l);
        }
        for (t, v) in &s.samples {
            let mut sm = Vec::with_capacity(20);
            sm.push(1 << 3 | 1); // field 1, 64-bit
            sm.extend_from_slice(&v.to_le_bytes());
            sm.push(2 << 3); // field 2, varint
            put_varint(&mut sm, *t as u64); // int64: two's complement varint
            put_len_field(&mut ts, 2, &sm);
        }
        put_len_field(&mut req, 1, &ts);
    }
    req
}

/// POST series to `<prometheus_url>/api/v1/write`. Large pushes are split into requests of
/// at most ~5000 samples.
pub async fn push(prometheus_url: &str, series: &[Series]) -> Result<()> {
    let http = reqwest::Client::new();
    let url = format!("{}/api/v1/write", prometheus_url.trim_end_matches('/'));
    let mut batch: Vec<Series> = Vec::new();
    let mut n = 0;
    for s in series {
        for chunk in s.samples.chunks(5000) {
            batch.push(Series {
                labels: s.labels.clone(),
                samples: chunk.to_vec(),
            });
            n += chunk.len();
            if n >= 5000 {
                send(&http, &url, &batch).await?;
                batch.clear();
                n = 0;
            }
        }
    }
    if !batch.is_empty() {
        send(&http, &url, &batch).await?;
    }
    Ok(())
}

async fn send(http: &reqwest::Client, url: &str, series: &[Series]) -> Result<()> {
    let body = snap::raw::Encoder::new()
        .compress_vec(&encode_write_request(series))
        .context("snappy")?;
    let resp = http
        .post(url)
        .header("Content-Encoding", "snappy")
        .header("Content-Type", "application/x-protobuf")
        .header("X-Prometheus-Remote-Write-Version", "0.1.0")
        .body(body)
        .send()
        .await
        .with_context(|| format!("POST {url}"))?;
    let status = resp.status();
    if !status.is_success() {
        bail!(
            "POST {url}: {status}: {}",
            resp.text().await.unwrap_or_default()
        );
    }
    Ok(())
}

/// Instant query at `time_s` (Unix seconds); returns the value of each result series as
/// `(labels, value)`.
pub async fn query(
    prometheus_url: &str,
    promql: &str,
    time_s: f64,
) -> Result<Vec<(serde_json::Map<String, serde_json::Value>, f64)>> {
    let url = format!("{}/api/v1/query", prometheus_url.trim_end_matches('/'));
    let resp: serde_json::Value = reqwest::Client::new()
        .get(&url)
        .query(&[("query", promql), ("time", &format!("{time_s:.3}"))])
        .send()
        .await
        .with_context(|| format!("GET {url}"))?
        .json()
        .await?;
    if resp["status"] != "success" {
        bail!("query {promql:?} failed: {resp}");
    }
    let data = &resp["data"];
    let results = match data["resultType"].as_str() {
        Some("vector") => data["result"].as_array().cloned().unwrap_or_default(),
        Some("scalar") => vec![serde_json::json!({"metric": {}, "value": data["result"]})],
        other => bail!("query {promql:?}: unexpected result type {other:?}"),
    };
    results
        .iter()
        .map(|r| {
            let metric = r["metric"].as_object().cloned().unwrap_or_default();
            let v = r["value"][1]
                .as_str()
                .ok_or_else(|| anyhow!("no value in {r}"))?
                .parse::<f64>()?;
            Ok((metric, v))
        })
        .collect()
}

/// Instant query that must return exactly one series; its value.
pub async fn query_scalar(prometheus_url: &str, promql: &str, time_s: f64) -> Result<f64> {
    let results = query(prometheus_url, promql, time_s).await?;
    match results.as_slice() {
        [(_, v)] => Ok(*v),
        _ => bail!("query {promql:?} at {time_s}: expected one series, got {results:?}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_known_bytes() {
        let s = Series::new("m", &[]).sample(1, 1.0);
        let got = encode_write_request(&[s]);
        // timeseries{ labels{name:"__name__" value:"m"} samples{value:1.0 timestamp:1} }
        let mut want = vec![0x0a, 0x1c, 0x0a, 0x0d, 0x0a, 0x08];
        want.extend_from_slice(b"__name__");
        want.extend_from_slice(&[0x12, 0x01, b'm', 0x12, 0x0b, 0x09]);
        want.extend_from_slice(&1.0f64.to_le_bytes());
        want.extend_from_slice(&[0x10, 0x01]);
        assert_eq!(got, want);
    }
}
