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

#[test]
fn errors_outside_the_ui_print_no_escape_sequences() {
    let home = tempfile::tempdir().unwrap();
    let kubeconfig = home.path().join("kubeconfig");
    std::fs::write(
        &kubeconfig,
        "apiVersion: v1\nkind: Config\ncontexts: []\nclusters: []\nusers: []\n",
    )
    .unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_shipdeck"))
        .args(["snapshot", "--context", "nope"])
        .env("HOME", home.path())
        .env("KUBECONFIG", &kubeconfig)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(!out.stdout.contains(&0x1b) && !out.stderr.contains(&0x1b));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("context \"nope\" is not in the kubeconfig"),
        "{err}"
    );
}

#[test]
fn duplicate_cluster_display_names_exit_2_naming_both() {
    let home = tempfile::tempdir().unwrap();
    let kubeconfig = home.path().join("kubeconfig");
    std::fs::write(
        &kubeconfig,
        "apiVersion: v1\nkind: Config\n\
         clusters:\n- name: c\n  cluster:\n    server: https://127.0.0.1:1\n\
         users:\n- name: u\n  user:\n    token: t\n\
         contexts:\n- name: kind-a\n  context:\n    cluster: c\n    user: u\n\
         - name: prod\n  context:\n    cluster: c\n    user: u\n",
    )
    .unwrap();
    let config = home.path().join("shipdeck.toml");
    std::fs::write(
        &config,
        "[[clusters]]\ncontext = \"kind-a\"\nname = \"prod\"\nread_only = true\n",
    )
    .unwrap();
    for choice in [
        &["--context", "kind-a", "--context", "prod"][..],
        &["--all-contexts"],
    ] {
        let mut args = vec!["snapshot", "--config", config.to_str().unwrap()];
        args.extend_from_slice(choice);
        let out = Command::new(env!("CARGO_BIN_EXE_shipdeck"))
            .args(&args)
            .env("HOME", home.path())
            .env("KUBECONFIG", &kubeconfig)
            .env_remove("SHIPDECK_PROMETHEUS_URL")
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{choice:?}: {err}");
        assert!(
            err.contains("two clusters would be shown as \"prod\"")
                && err.contains("config clusters[0] (context \"kind-a\"")
                && err.contains("kubeconfig context \"prod\""),
            "{choice:?}: {err}"
        );
        assert!(!err.contains("panicked"), "{err}");
    }
}
