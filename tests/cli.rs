//! The command-line contract, through the real binary.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::process::Command;

fn shipdeck(args: &[&str], home: &std::path::Path) -> std::process::Output {
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

#[test]
fn snapshot_demo_json_has_the_whole_fleet() {
    let home = tempfile::tempdir().unwrap();
    let out = shipdeck(&["snapshot", "--demo", "--json"], home.path());
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(v["clusters"].as_array().unwrap().len() >= 3);
    let releases = v["releases"].as_array().unwrap();
    assert!(releases.len() >= 20);
    for kind in ["Deployment", "Rollout", "Canary"] {
        assert!(releases.iter().any(|r| r["kind"] == kind), "no {kind}");
    }
    for field in [
        "cluster",
        "namespace",
        "name",
        "kind",
        "phase",
        "message",
        "step",
        "steps",
        "set_weight",
        "actual_weight",
        "analysis",
        "slo_burn",
        "age_seconds",
    ] {
        assert!(releases[0].get(field).is_some(), "releases[] lacks {field}");
    }
    let checkout = releases
        .iter()
        .find(|r| {
            r["cluster"] == "prod-eu-1" && r["namespace"] == "shop" && r["name"] == "checkout"
        })
        .expect("shop/checkout in prod-eu-1");
    assert_eq!(checkout["phase"], "Paused");
    assert!(checkout["step"].as_u64().unwrap() >= 1);
    assert!(checkout["steps"].as_u64().unwrap() >= 4);
    let slos = v["slos"].as_array().unwrap();
    assert!(!slos.is_empty());
    for w in ["5m", "30m", "1h", "2h", "6h", "1d", "3d"] {
        assert!(slos[0]["burn_rates"][w].is_number(), "burn {w}");
    }
    assert!(["page", "ticket", "none", "unknown"].contains(&slos[0]["alert"].as_str().unwrap()));
    assert!(!v["failures"].as_array().unwrap().is_empty());
}

#[test]
fn snapshot_demo_table_is_aligned_text() {
    let home = tempfile::tempdir().unwrap();
    let out = shipdeck(&["snapshot", "--demo"], home.path());
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    let header = text.lines().next().unwrap();
    assert!(header.starts_with("CLUSTER"));
    let col = header.find("PHASE").unwrap();
    let row = text
        .lines()
        .find(|l| l.contains("shop/checkout") && l.contains("Paused"))
        .unwrap();
    assert_eq!(row.find("Paused"), Some(col), "columns aligned:\n{text}");
    assert!(!text.contains('\x1b'));
}

#[test]
fn bad_config_names_file_line_and_key_and_exits_2() {
    let home = tempfile::tempdir().unwrap();
    let path = home.path().join("bad.toml");
    std::fs::write(
        &path,
        "theme = \"default\"\n\n[[slos]]\nname = \"x\"\nservice = \"y\"\nobjective = \"lots\"\n",
    )
    .unwrap();
    let out = shipdeck(
        &["snapshot", "--demo", "--config", path.to_str().unwrap()],
        home.path(),
    );
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(&format!("{}:6: key `objective`", path.display())),
        "{err}"
    );
}

#[test]
fn missing_config_file_is_an_error_not_a_panic() {
    let home = tempfile::tempdir().unwrap();
    let out = shipdeck(
        &[
            "snapshot",
            "--demo",
            "--config",
            "/nonexistent/shipdeck.toml",
        ],
        home.path(),
    );
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("/nonexistent/shipdeck.toml"), "{err}");
    assert!(!err.contains("panicked"), "{err}");
}

#[test]
fn unknown_theme_is_reported() {
    let home = tempfile::tempdir().unwrap();
    let out = shipdeck(&["--demo", "--theme", "neon"], home.path());
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("neon") && err.contains("high-contrast"),
        "{err}"
    );
}
