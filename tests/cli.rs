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

/// The binary in an empty home with no kubeconfig at all (KUBECONFIG unset).
fn bare(args: &[&str], home: &std::path::Path) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_shipdeck"))
        .args(args)
        .env("HOME", home)
        .env("XDG_CONFIG_HOME", home.join(".config"))
        .env("XDG_DATA_HOME", home.join(".local/share"))
        .env("XDG_CACHE_HOME", home.join(".cache"))
        .env_remove("KUBECONFIG")
        .env_remove("SHIPDECK_PROMETHEUS_URL")
        .env_remove("NO_COLOR")
        .output()
        .unwrap()
}

fn stderr(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn stdout(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn a_bad_theme_flag_exits_2_naming_the_flag_for_every_command() {
    let home = tempfile::tempdir().unwrap();
    for args in [
        &["--demo", "--theme", "purple"][..],
        &["snapshot", "--demo", "--theme", "purple"],
        &["snapshot", "--theme", "purple", "--demo", "--json"],
        &["doctor", "--demo", "--theme", "purple"],
    ] {
        let out = bare(args, home.path());
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(
            err.contains("\"purple\"") && err.contains("--theme") && err.contains("high-contrast"),
            "{args:?}: {err}"
        );
        assert!(out.stdout.is_empty(), "{args:?} printed a snapshot anyway");
    }
}

#[test]
fn a_bad_theme_in_the_config_exits_2_with_file_line_and_key() {
    let home = tempfile::tempdir().unwrap();
    let path = home.path().join("shipdeck.toml");
    std::fs::write(&path, "read_only = true\ntheme = \"purple\"\n").unwrap();
    let config = path.to_str().unwrap();
    for args in [
        &["--demo", "--config", config][..],
        &["snapshot", "--demo", "--config", config],
        &["doctor", "--demo", "--config", config],
    ] {
        let out = bare(args, home.path());
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(
            err.contains(&format!(
                "{config}:2: key `theme`: unknown theme \"purple\""
            )),
            "{args:?}: {err}"
        );
    }
}

#[test]
fn bad_flag_values_exit_2_naming_the_flag() {
    let home = tempfile::tempdir().unwrap();
    for (args, flag) in [
        (&["--demo", "--seed", "many"][..], "--seed"),
        (&["snapshot", "--demo", "--wait", "soon"], "--wait"),
        (&["--demo", "--prometheus", "prom:9090"], "--prometheus"),
        (&["wait", "--demo", "a/b/c", "--timeout", "0s"], "--timeout"),
        (
            &["wait", "--demo", "a/b/c", "--timeout", "soon"],
            "--timeout",
        ),
        (&["wait", "--demo", "a/b/c", "--for", "done"], "--for"),
        (&["wait", "--demo", "a/b/c", "--kind", "pod"], "--kind"),
        (&["completions", "tcsh"], "<SHELL>"),
    ] {
        let out = bare(args, home.path());
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains(flag), "{args:?} should name {flag}: {err}");
    }
    // The same check on the environment variable, which is named with its flag.
    let out = Command::new(env!("CARGO_BIN_EXE_shipdeck"))
        .args(["snapshot", "--demo"])
        .env("HOME", home.path())
        .env("SHIPDECK_PROMETHEUS_URL", "prom:9090")
        .output()
        .unwrap();
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("--prometheus") && err.contains("prom:9090"),
        "{err}"
    );
}

#[test]
fn a_bad_wait_target_exits_2_naming_the_form() {
    let home = tempfile::tempdir().unwrap();
    for target in ["checkout", "a/b/c/d", "shop/", "//x"] {
        let out = bare(&["wait", "--demo", target], home.path());
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(2), "{target}: {err}");
        assert!(err.contains("CLUSTER/NAMESPACE/NAME"), "{target}: {err}");
    }
    let out = bare(&["wait", "--from-files", "/tmp", "a/b"], home.path());
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("--from-files"), "{}", stderr(&out));
}

#[test]
fn doctor_demo_checks_the_simulated_fleet_without_a_kubeconfig() {
    let home = tempfile::tempdir().unwrap();
    let out = bare(&["doctor", "--demo"], home.path());
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(0), "{text}{}", stderr(&out));
    for want in [
        "cluster prod-eu-1 (context simulated, seed 1)",
        "reachable    yes, Kubernetes",
        "identity     demo-operator",
        "crd          rollouts.argoproj.io",
        "crd          applications.argoproj.io",
        "crd          kustomizations.kustomize.toolkit.fluxcd.io",
        // The simulation serves every CRD: the budget's worst case.
        "watches      8 (at most 8 with every CRD",
        "namespaces   with releases:",
        "ok: no problems found",
    ] {
        assert!(text.contains(want), "{want:?} in:\n{text}");
    }
    assert!(!text.contains("kubeconfig"), "{text}");
    // --from-files has no cluster to check: refused, not silently ignored.
    let out = bare(&["doctor", "--from-files", "/tmp"], home.path());
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("--from-files"), "{}", stderr(&out));
}

#[test]
fn a_missing_from_files_path_says_the_os_error_once() {
    let home = tempfile::tempdir().unwrap();
    // Inside our own temporary directory: surely absent (a path like /nonexistent may not be).
    let missing = home.path().join("nonexistent");
    let missing = missing.to_str().unwrap();
    for args in [
        &["snapshot", "--from-files", missing][..],
        &["--from-files", missing],
    ] {
        let out = bare(args, home.path());
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains(missing), "{err}");
        assert_eq!(
            err.matches("No such file or directory").count(),
            1,
            "{args:?}: {err}"
        );
    }
}

#[test]
fn without_a_kubeconfig_the_console_and_doctor_suggest_demo_and_from_files() {
    let home = tempfile::tempdir().unwrap();
    for args in [&[][..], &["doctor"], &["snapshot"]] {
        let out = bare(args, home.path());
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains("kubeconfig"), "{args:?}: {err}");
        assert!(
            err.contains("--demo") && err.contains("--from-files"),
            "{args:?}: {err}"
        );
        assert!(
            !out.stdout.contains(&0x1b),
            "{args:?}: no terminal UI started"
        );
    }
    // A kubeconfig without a current context: the same hint.
    let kubeconfig = home.path().join("kubeconfig");
    std::fs::write(
        &kubeconfig,
        "apiVersion: v1\nkind: Config\ncontexts: []\nclusters: []\nusers: []\n",
    )
    .unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_shipdeck"))
        .arg("doctor")
        .env("HOME", home.path())
        .env("KUBECONFIG", &kubeconfig)
        .output()
        .unwrap();
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("no current context") && err.contains("--demo"),
        "{err}"
    );
}

#[test]
fn version_names_the_commit() {
    let home = tempfile::tempdir().unwrap();
    let out = bare(&["--version"], home.path());
    assert!(out.status.success());
    let line = stdout(&out);
    let version = env!("CARGO_PKG_VERSION");
    assert!(line.starts_with(&format!("shipdeck {version}")), "{line}");
    // Built from a git checkout (as every test run is): the commit it was built from.
    let head = Command::new("git")
        .args(["rev-parse", "--short", "HEAD"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output();
    if let Some(head) = head.ok().filter(|h| h.status.success()) {
        let head = String::from_utf8_lossy(&head.stdout).trim().to_string();
        let rest = line
            .trim()
            .strip_prefix(&format!("shipdeck {version} "))
            .unwrap_or("");
        assert!(
            rest == format!("(commit {head})") || rest == format!("(commit {head}-dirty)"),
            "{line:?} should name commit {head}"
        );
    }
}

#[test]
fn bash_completion_registers_and_completes_subcommands_and_values() {
    let bash = "source <(\"$SHIPDECK\" completions bash) || exit 10
complete -p shipdeck || exit 11
fn=$(complete -p shipdeck | sed -n 's/.*-F \\([^ ]*\\).*/\\1/p')
[ -n \"$fn\" ] || exit 12
words() { COMP_WORDS=(\"$@\"); COMP_CWORD=$(($# - 1)); COMP_LINE=\"$*\"; COMP_POINT=${#COMP_LINE}; COMPREPLY=(); \"$fn\" shipdeck \"${COMP_WORDS[COMP_CWORD]}\" \"${COMP_WORDS[COMP_CWORD-1]}\" 2>/dev/null; printf '%s\\n' \"${COMPREPLY[@]}\"; }
echo '--- sn'; words shipdeck sn
echo '--- for'; words shipdeck wait --for ''
echo '--- theme'; words shipdeck --theme ''
";
    let out = Command::new("bash")
        .args(["--norc", "--noprofile", "-c", bash])
        .env("SHIPDECK", env!("CARGO_BIN_EXE_shipdeck"))
        .output()
        .unwrap();
    let text = stdout(&out);
    assert!(out.status.success(), "{text}{}", stderr(&out));
    assert!(
        text.starts_with("complete ") && text.contains(" -F _shipdeck shipdeck"),
        "{text}"
    );
    let section = |name: &str| -> Vec<String> {
        text.split(&format!("--- {name}\n"))
            .nth(1)
            .unwrap_or("")
            .lines()
            .take_while(|l| !l.starts_with("--- "))
            .map(str::to_string)
            .collect()
    };
    assert_eq!(section("sn"), ["snapshot"], "{text}");
    for value in ["healthy", "paused", "degraded"] {
        assert!(section("for").iter().any(|v| v == value), "{value}: {text}");
    }
    for theme in ["default", "light", "high-contrast", "mono"] {
        assert!(
            section("theme").iter().any(|v| v == theme),
            "{theme}: {text}"
        );
    }
}

#[test]
fn zsh_and_fish_completions_name_every_subcommand() {
    let home = tempfile::tempdir().unwrap();
    for (shell, marker) in [
        ("zsh", "#compdef shipdeck"),
        ("fish", "complete -c shipdeck"),
    ] {
        let out = bare(&["completions", shell], home.path());
        assert!(out.status.success(), "{shell}: {}", stderr(&out));
        let text = stdout(&out);
        assert!(text.contains(marker), "{shell}: {text}");
        for sub in ["snapshot", "doctor", "wait", "completions", "man"] {
            assert!(text.contains(sub), "{shell} lacks {sub}");
        }
    }
}

#[test]
fn the_man_page_renders_with_name_synopsis_and_exit_codes() {
    let home = tempfile::tempdir().unwrap();
    let out = bare(&["man"], home.path());
    assert!(out.status.success(), "{}", stderr(&out));
    let roff = stdout(&out);
    assert!(
        roff.starts_with(".ie") || roff.contains(".TH shipdeck"),
        "{roff}"
    );
    for section in [".SH NAME", ".SH SYNOPSIS", ".SH OPTIONS", ".SH SUBCOMMANDS"] {
        assert!(roff.contains(section), "{section} in:\n{roff}");
    }
    // The page it refers to for `wait`, with its flags, the global ones and its exit codes.
    let out = bare(&["man", "wait"], home.path());
    assert!(out.status.success(), "{}", stderr(&out));
    let wait = stdout(&out);
    for want in [
        "shipdeck\\-wait",
        ".SH SYNOPSIS",
        "\\-\\-timeout",
        "\\-\\-context",
        "Exit status",
    ] {
        assert!(wait.contains(want), "{want} in:\n{wait}");
    }
    let out = bare(&["man", "nope"], home.path());
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("pages: snapshot, doctor, wait"),
        "{}",
        stderr(&out)
    );
    // Rendered by the system's formatter when there is one (man-db's `man -l`).
    let page = home.path().join("shipdeck.1");
    std::fs::write(&page, &roff).unwrap();
    let rendered = Command::new("man")
        .arg("-l")
        .arg(&page)
        .env("MANPAGER", "cat")
        .env("MANWIDTH", "100")
        .output();
    if let Some(r) = rendered.ok().filter(|r| r.status.success()) {
        let text = String::from_utf8_lossy(&r.stdout);
        for heading in ["NAME", "SYNOPSIS", "shipdeck-wait", "Exit status"] {
            assert!(text.contains(heading), "{heading} in:\n{text}");
        }
    }
}

#[test]
fn wait_demo_reaches_a_paused_rollout_and_reports_missing_ones() {
    let home = tempfile::tempdir().unwrap();
    let out = bare(
        &[
            "wait",
            "--demo",
            "prod-eu-1/shop/checkout",
            "--for",
            "paused",
            "--timeout",
            "30s",
        ],
        home.path(),
    );
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(0), "{text}{}", stderr(&out));
    let last = text.lines().last().unwrap_or("");
    assert!(
        last.starts_with("done: prod-eu-1/shop/checkout Rollout: Paused"),
        "{text}"
    );
    let out = bare(
        &["wait", "--demo", "prod-eu-1/shop/no-such-release"],
        home.path(),
    );
    assert_eq!(out.status.code(), Some(5), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("not found: no Rollout or Canary or Deployment"),
        "{}",
        stderr(&out)
    );
    // NS/NAME that is on several clusters: the user must choose.
    let out = bare(&["wait", "--demo", "shop/checkout"], home.path());
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("several clusters") && err.contains("CLUSTER/shop/checkout"),
        "{err}"
    );
    // An unknown cluster name is a usage error naming the clusters there are.
    let out = bare(&["wait", "--demo", "mars-1/shop/checkout"], home.path());
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("no cluster \"mars-1\" (clusters: prod-eu-1"),
        "{err}"
    );
}

#[test]
fn wait_on_an_unreachable_cluster_exits_5() {
    let home = tempfile::tempdir().unwrap();
    // Port 1 on loopback: nothing listens, the connection is refused at once.
    let kubeconfig = home.path().join("kubeconfig");
    std::fs::write(
        &kubeconfig,
        "apiVersion: v1\nkind: Config\ncurrent-context: dead\n\
         clusters:\n- name: c\n  cluster:\n    server: https://127.0.0.1:1\n    insecure-skip-tls-verify: true\n\
         users:\n- name: u\n  user:\n    token: t\n\
         contexts:\n- name: dead\n  context:\n    cluster: c\n    user: u\n",
    )
    .unwrap();
    for target in ["dead/shop/checkout", "shop/checkout"] {
        let out = Command::new(env!("CARGO_BIN_EXE_shipdeck"))
            .args(["wait", target, "--timeout", "60s"])
            .env("HOME", home.path())
            .env("KUBECONFIG", &kubeconfig)
            .output()
            .unwrap();
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(5), "{target}: {err}");
        assert!(
            err.contains("not found: cluster dead cannot be read"),
            "{target}: {err}"
        );
    }
}

/// A snapshot of a fleet with a dead cluster is incomplete: it still prints (JSON with the
/// cluster's state), names the cluster on stderr and exits 3, so a script cannot read
/// "unreachable" as "nothing in flight".
#[test]
fn snapshot_of_an_unreachable_cluster_exits_3_and_names_it() {
    let home = tempfile::tempdir().unwrap();
    // Port 1 on loopback: nothing listens, the connection is refused at once.
    let kubeconfig = home.path().join("kubeconfig");
    std::fs::write(
        &kubeconfig,
        "apiVersion: v1\nkind: Config\ncurrent-context: dead\n\
         clusters:\n- name: c\n  cluster:\n    server: https://127.0.0.1:1\n    insecure-skip-tls-verify: true\n\
         users:\n- name: u\n  user:\n    token: t\n\
         contexts:\n- name: dead\n  context:\n    cluster: c\n    user: u\n",
    )
    .unwrap();
    for json in [false, true] {
        let mut args = vec!["snapshot", "--wait", "20"];
        if json {
            args.push("--json");
        }
        let out = Command::new(env!("CARGO_BIN_EXE_shipdeck"))
            .args(&args)
            .env("HOME", home.path())
            .env("KUBECONFIG", &kubeconfig)
            .output()
            .unwrap();
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(3), "json={json}: {err}");
        assert!(
            err.contains("snapshot incomplete: cluster dead did not answer (unreachable"),
            "{err}"
        );
        if json {
            let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
            assert_eq!(v["clusters"][0]["name"], "dead");
            assert_eq!(v["clusters"][0]["status"], "unreachable");
        } else {
            assert!(String::from_utf8_lossy(&out.stdout).contains("CLUSTER"));
        }
    }
}
