//! S1 against a real API server: a Deployment whose image and annotation carry escape
//! sequences, C1, bidi and tag characters, seen through a kubeconfig context whose name is
//! hostile too, by `snapshot`, `snapshot --json` and `doctor` of the real binary. Every byte
//! on stdout and stderr is checked (the whole cluster's data is printed, other suites' too);
//! the JSON gives back the stored strings exactly.
//! `cargo test --features e2e --test e2e_escaping`.
#![cfg(feature = "e2e")]

mod support;

use std::path::Path;
use std::process::{Command, Output};

use anyhow::{Context, Result, ensure};
use k8s_openapi::api::apps::v1::Deployment;
use kube::api::{Api, PostParams};

use support::TestEnv;
use support::apply::{NamespaceCleanup, ensure_namespace};
use support::env::unique_name;
use support::manifests;

const IMAGE: &str = "example.test/web:1\u{1b}]0;pwned\u{7}\u{9b}31m\u{202e}\u{e0041}";
const TEAM: &str = "pay\u{1b}[2J\u{2066}ments";
const CONTEXT: &str = "a\u{1b}]0;ctx\u{7}\u{202e}日本";
const CONTEXT_SHOWN: &str = "a\\x1b]0;ctx\\x07\\u{202e}日本";

/// What must never appear raw on a terminal (listed here, not the library's predicate).
fn forbidden(c: char) -> bool {
    let n = c as u32;
    (n < 0x20 && c != '\n')
        || (0x7f..=0x9f).contains(&n)
        || matches!(c, '\u{200b}'..='\u{200f}' | '\u{2028}'..='\u{202e}'
            | '\u{2060}'..='\u{206f}' | '\u{feff}' | '\u{e0000}'..='\u{e0fff}')
}

fn clean(what: &str, bytes: &[u8]) -> Result<String> {
    ensure!(!bytes.contains(&0x1b), "{what}: raw ESC");
    let text = String::from_utf8(bytes.to_vec()).context(format!("{what}: not UTF-8"))?;
    if let Some(c) = text.chars().find(|c| forbidden(*c)) {
        anyhow::bail!("{what}: raw U+{:04X}", c as u32);
    }
    Ok(text)
}

/// The test kubeconfig with context `a-viewer` renamed to [`CONTEXT`].
fn hostile_kubeconfig(env: &TestEnv, dir: &Path) -> Result<std::path::PathBuf> {
    let text = std::fs::read_to_string(&env.kubeconfig)?;
    let mut config: serde_yaml::Value = serde_yaml::from_str(&text)?;
    let contexts = config["contexts"]
        .as_sequence_mut()
        .context("kubeconfig without contexts")?;
    for c in contexts.iter_mut() {
        if c["name"] == "a-viewer" {
            c["name"] = CONTEXT.into();
        }
    }
    config["current-context"] = CONTEXT.into();
    let path = dir.join("kubeconfig");
    std::fs::write(&path, serde_yaml::to_string(&config)?)?;
    Ok(path)
}

fn shipdeck(args: &[&str], home: &Path, kubeconfig: &Path) -> Result<(String, String, Output)> {
    let out = Command::new(env!("CARGO_BIN_EXE_shipdeck"))
        .args(args)
        .env("HOME", home)
        .env("XDG_CONFIG_HOME", home.join(".config"))
        .env("XDG_DATA_HOME", home.join(".local/share"))
        .env("XDG_CACHE_HOME", home.join(".cache"))
        .env("KUBECONFIG", kubeconfig)
        .env_remove("SHIPDECK_PROMETHEUS_URL")
        .output()?;
    let stdout = clean(&format!("{args:?} stdout"), &out.stdout)?;
    let stderr = clean(&format!("{args:?} stderr"), &out.stderr)?;
    Ok((stdout, stderr, out))
}

#[tokio::test]
async fn hostile_image_annotation_and_context_name_through_every_command() -> Result<()> {
    let env = TestEnv::get()?;
    let client = env.client("a-admin").await?;
    let ns = unique_name("esc");
    ensure_namespace(&client, &ns).await?;
    let _gone = NamespaceCleanup::new("a-admin", &ns);
    // Created as JSON (as any client may): server-side apply's YAML refuses control characters.
    let deployment: Deployment =
        serde_json::from_value(manifests::Deployment::new("web", IMAGE).team(TEAM).value())?;
    Api::<Deployment>::namespaced(client.clone(), &ns)
        .create(&PostParams::default(), &deployment)
        .await
        .context("creating the hostile Deployment")?;

    let home = tempfile::tempdir()?;
    let kubeconfig = hostile_kubeconfig(env, home.path())?;

    let args = ["snapshot", "--json", "--wait", "20", "--context", CONTEXT];
    let (stdout, stderr, out) = shipdeck(&args, home.path(), &kubeconfig)?;
    ensure!(out.status.success(), "snapshot --json: {stderr}");
    for escape in ["\\u001b", "\\u009b", "\\u202e", "\\udb40\\udc41"] {
        ensure!(stdout.contains(escape), "{escape} not in the JSON");
    }
    let v: serde_json::Value = serde_json::from_str(&stdout)?;
    ensure!(v["clusters"][0]["name"] == CONTEXT, "{}", v["clusters"]);
    let releases = v["releases"].as_array().context("no releases[]")?;
    let web = releases
        .iter()
        .find(|r| r["namespace"] == ns.as_str() && r["name"] == "web")
        .context("our Deployment is not in the snapshot")?;
    ensure!(web["cluster"] == CONTEXT, "{web}");
    let images = web["images"].as_array().context("no images")?;
    ensure!(
        images.iter().any(|i| i == IMAGE),
        "image not byte-identical: {images:?}"
    );

    let args = ["snapshot", "--wait", "20", "--context", CONTEXT];
    let (stdout, stderr, out) = shipdeck(&args, home.path(), &kubeconfig)?;
    ensure!(out.status.success(), "snapshot: {stderr}");
    let row = stdout
        .lines()
        .find(|l| l.contains(&format!("{ns}/web")))
        .context(format!("no {ns}/web row in\n{stdout}"))?;
    ensure!(row.starts_with(CONTEXT_SHOWN), "{row}");

    let (stdout, stderr, _) =
        shipdeck(&["doctor", "--context", CONTEXT], home.path(), &kubeconfig)?;
    ensure!(
        stdout.contains(&format!("(context {CONTEXT_SHOWN})")),
        "{stdout}{stderr}"
    );
    ensure!(stdout.contains("reachable    yes"), "{stdout}{stderr}");
    Ok(())
}
