//! Extreme values through the real binary (issue 9): a Rollout paused at a pause whose
//! duration is "-9223372036854775808" is shown by `snapshot --from-files` (table and JSON),
//! and a config window that overflows is a config error (exit 2) naming file, line and key.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::process::{Command, Output};

fn shipdeck(args: &[&str], home: &std::path::Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_shipdeck"))
        .args(args)
        .env("HOME", home)
        .env("XDG_CONFIG_HOME", home.join(".config"))
        .env("XDG_DATA_HOME", home.join(".local/share"))
        .env("XDG_CACHE_HOME", home.join(".cache"))
        .env_remove("SHIPDECK_PROMETHEUS_URL")
        .output()
        .unwrap()
}

const FIXTURE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/extreme");

#[test]
fn extreme_pause_duration_is_shown_in_the_snapshot_table_and_json() {
    let home = tempfile::tempdir().unwrap();
    let out = shipdeck(&["snapshot", "--from-files", FIXTURE], home.path());
    let text = String::from_utf8_lossy(&out.stdout);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(!err.contains("panicked"), "{err}");
    assert!(text.contains("checkout"), "{text}");
    let out = shipdeck(
        &["snapshot", "--json", "--from-files", FIXTURE],
        home.path(),
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let r = &json["releases"][0];
    assert_eq!(
        (r["name"].as_str(), r["phase"].as_str()),
        (Some("checkout"), Some("Paused"))
    );
    assert_eq!(r["step"].as_u64(), Some(1), "{r}");
    // The duration is out of Argo's range: its countdown is unknown, not a number.
    assert!(r["pause_remaining_seconds"].is_null(), "{r}");
}

#[test]
fn overflowing_window_is_a_config_error_naming_file_line_and_key() {
    let home = tempfile::tempdir().unwrap();
    let path = home.path().join("c.toml");
    std::fs::write(
        &path,
        "[[slos]]\nname = \"x\"\nservice = \"y\"\nobjective = 99.9\nwindow = \"3000000000000000h\"\n[slos.source]\ntype = \"promql\"\nerrors = \"a\"\ntotal = \"b\"\n",
    )
    .unwrap();
    let out = shipdeck(
        &["snapshot", "--demo", "--config", path.to_str().unwrap()],
        home.path(),
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    let want = format!("{}:5: key `slos[0].window`", path.display());
    assert!(err.contains(&want), "{err}");
}
