//! A tiny HTTP server on 127.0.0.1 for Argo Rollouts' `web` metric provider: `GET /v/<key>`
//! answers `{"value": <v>}` with the value the test last set for that key (404 for a key
//! never set). The controller runs on the host, so it reaches it on loopback. Included by
//! tests/e2e_differential.rs with `#[path]`.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use anyhow::Result;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

#[derive(Clone)]
pub struct MetricServer {
    addr: SocketAddr,
    values: Arc<Mutex<HashMap<String, String>>>,
}

impl MetricServer {
    pub async fn start() -> Result<MetricServer> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let values: Arc<Mutex<HashMap<String, String>>> = Arc::default();
        let shared = values.clone();
        tokio::spawn(async move {
            while let Ok((mut sock, _)) = listener.accept().await {
                let values = shared.clone();
                tokio::spawn(async move {
                    let mut buf = Vec::new();
                    let mut chunk = [0u8; 1024];
                    // The request line and headers; a GET has no body.
                    while !buf.windows(4).any(|w| w == b"\r\n\r\n") && buf.len() < 16384 {
                        match sock.read(&mut chunk).await {
                            Ok(0) | Err(_) => return,
                            Ok(n) => buf.extend_from_slice(&chunk[..n]),
                        }
                    }
                    let head = String::from_utf8_lossy(&buf);
                    let path = head.split_whitespace().nth(1).unwrap_or("");
                    let value = path
                        .strip_prefix("/v/")
                        .and_then(|key| values.lock().ok().and_then(|v| v.get(key).cloned()));
                    let (status, body) = match value {
                        Some(v) => ("200 OK", format!("{{\"value\": {v}}}")),
                        None => ("404 Not Found", "{}".to_string()),
                    };
                    let resp = format!(
                        "HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                        body.len()
                    );
                    let _ = sock.write_all(resp.as_bytes()).await;
                    let _ = sock.shutdown().await;
                });
            }
        });
        Ok(MetricServer { addr, values })
    }

    /// Answer `value` (a JSON number) for `key` from now on.
    pub fn set(&self, key: &str, value: &str) {
        if let Ok(mut v) = self.values.lock() {
            v.insert(key.to_string(), value.to_string());
        }
    }

    /// The URL the metric reads for `key`.
    pub fn url(&self, key: &str) -> String {
        format!("http://{}/v/{key}", self.addr)
    }
}
