//! `KUBECONFIG` as kubectl reads it, through the real binary: entries that do not exist are
//! skipped and the rest merged (the first file wins per name and for `current-context`);
//! nothing to read is a clean usage error that names each path once.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;
use std::process::{Command, Output};

fn shipdeck(args: &[&str], home: &Path, kubeconfig: &str) -> Output {
    Command::new(env!("CARGO_BIN_EXE_shipdeck"))
        .args(args)
        .env("HOME", home)
        .env("XDG_CONFIG_HOME", home.join(".config"))
        .env("XDG_DATA_HOME", home.join(".local/share"))
        .env("XDG_CACHE_HOME", home.join(".cache"))
        .env("KUBECONFIG", kubeconfig)
        .env_remove("SHIPDECK_PROMETHEUS_URL")
        .output()
        .unwrap()
}

/// A kubeconfig whose clusters point at port 1 on loopback (nothing listens: refused fast).
fn kubeconfig(current: &str, contexts: &[&str]) -> String {
    let mut s = format!(
        "apiVersion: v1\nkind: Config\ncurrent-context: {current}\nclusters:\n- name: c\n  cluster:\n    server: https://127.0.0.1:1\nusers:\n- name: u\n  user:\n    token: t\ncontexts:\n"
    );
    for c in contexts {
        s.push_str(&format!(
            "- name: {c}\n  context:\n    cluster: c\n    user: u\n"
        ));
    }
    s
}

fn names(out: &Output) -> Vec<String> {
    // Every cluster points at a dead port: the snapshot prints them all and is incomplete.
    assert_eq!(
        out.status.code(),
        Some(3),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    v["clusters"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn missing_entries_are_skipped_and_the_rest_merged_first_wins() {
    let home = tempfile::tempdir().unwrap();
    let a = home.path().join("a");
    let b = home.path().join("b");
    std::fs::write(&a, kubeconfig("one", &["one"])).unwrap();
    std::fs::write(&b, kubeconfig("two", &["one", "two"])).unwrap();
    let list = format!(
        "{}:{}:{}",
        a.display(),
        home.path().join("nope").display(),
        b.display()
    );
    // The current context is a's (the first file to set it).
    let current = shipdeck(&["snapshot", "--json", "--wait", "1"], home.path(), &list);
    assert_eq!(names(&current), ["one"]);
    // Every context of both files, each once.
    let all = shipdeck(
        &["snapshot", "--json", "--wait", "1", "--all-contexts"],
        home.path(),
        &list,
    );
    assert_eq!(names(&all), ["one", "two"]);
}

#[test]
fn nothing_to_read_is_a_clean_usage_error() {
    let home = tempfile::tempdir().unwrap();
    let out = shipdeck(
        &["snapshot", "--json", "--wait", "1"],
        home.path(),
        "/nope/a:/nope/b",
    );
    assert_eq!(out.status.code(), Some(2), "a usage error");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("no file in KUBECONFIG exists (looked for /nope/a, /nope/b)"),
        "{err}"
    );
    assert_eq!(err.matches("/nope/a").count(), 1, "{err}");
    assert!(!err.contains("'\""), "a path quoted twice: {err}");

    // A file that exists but is broken is named once, with what is wrong.
    let bad = home.path().join("bad");
    std::fs::write(&bad, "clusters: [oops\n").unwrap();
    let out = shipdeck(
        &["snapshot", "--json", "--wait", "1"],
        home.path(),
        &format!("/nope/a:{}", bad.display()),
    );
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.matches(&bad.display().to_string()).count(), 1, "{err}");
    assert!(!err.contains("'\""), "{err}");
}
