//! Writing straight into the environment's etcd (its v3 JSON gateway on 127.0.0.1), under a
//! cluster's prefix, to give its kube-apiserver data it would never write itself: a stored
//! object it cannot decode. The key is removed when the guard drops, failed test or not.

use std::process::Command;

use anyhow::{Result, bail};
use serde_json::json;

use crate::support::TestEnv;

/// A key written under a cluster's etcd prefix, deleted on drop.
pub struct RawKey {
    url: String,
    key: String,
}

impl RawKey {
    /// Store `value` at `<prefix of cluster><path>` (path as the apiserver lays keys out:
    /// `/<group>/<resource>/<namespace>/<name>` for a custom resource).
    pub fn put(env: &TestEnv, cluster: &str, path: &str, value: &[u8]) -> Result<RawKey> {
        let Some(url) = env.var("SHIPDECK_TESTENV_ETCD_URL") else {
            bail!("env.sh has no SHIPDECK_TESTENV_ETCD_URL");
        };
        if !url.starts_with("http://127.0.0.1:") {
            bail!("{url}: etcd is only written on loopback");
        }
        let key = RawKey {
            url: url.to_string(),
            key: format!("/shipdeck-{cluster}{path}"),
        };
        key.call(
            "put",
            &json!({"key": base64(key.key.as_bytes()), "value": base64(value)}),
        )?;
        Ok(key)
    }

    pub fn delete(&self) -> Result<()> {
        self.call("deleterange", &json!({"key": base64(self.key.as_bytes())}))
    }

    fn call(&self, op: &str, body: &serde_json::Value) -> Result<()> {
        let out = Command::new("curl")
            .args(["-fsS", "--max-time", "10", "-X", "POST"])
            .arg(format!("{}/v3/kv/{op}", self.url))
            .arg("-d")
            .arg(body.to_string())
            .output()?;
        if !out.status.success() {
            bail!(
                "etcd {op} {}: {}",
                self.key,
                String::from_utf8_lossy(&out.stderr)
            );
        }
        Ok(())
    }
}

impl Drop for RawKey {
    fn drop(&mut self) {
        if let Err(e) = self.delete() {
            eprintln!("could not remove {}: {e:#}", self.key);
        }
    }
}

/// Standard base64 with padding (what the gateway's JSON carries for bytes).
fn base64(bytes: &[u8]) -> String {
    const ABC: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(ABC[(n >> (18 - 6 * i)) as usize & 63]));
            } else {
                out.push('=');
            }
        }
    }
    out
}
