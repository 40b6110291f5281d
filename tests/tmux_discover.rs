//! The real binary in tmux: a console whose clusters all point at closed loopback ports says
//! NO CLUSTER REACHABLE (not a green LIVE) and `c` lists each cluster's reason; in the demo,
//! the filter `cluster:prod-us-1 kind:rollout` narrows the releases, failures and SLO panels.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod tmux;

use std::time::Duration;

use tmux::{Tmux, wait_file};

const WAIT: Duration = Duration::from_secs(20);

/// A kubeconfig of two contexts whose servers refuse connections (nothing listens on
/// 127.0.0.1:1 and :9 — checked before the test relies on it).
fn dead_kubeconfig(dir: &std::path::Path) -> std::path::PathBuf {
    for port in [1, 9] {
        let addr = std::net::SocketAddr::from(([127, 0, 0, 1], port));
        let open = std::net::TcpStream::connect_timeout(&addr, Duration::from_secs(1)).is_ok();
        assert!(
            !open,
            "something listens on 127.0.0.1:{port}; the test needs it closed"
        );
    }
    let path = dir.join("kubeconfig");
    std::fs::write(
        &path,
        "apiVersion: v1\nkind: Config\ncurrent-context: east\n\
         clusters:\n\
         - name: e\n  cluster:\n    server: https://127.0.0.1:1\n\
         - name: w\n  cluster:\n    server: https://127.0.0.1:9\n\
         users:\n- name: u\n  user:\n    token: t\n\
         contexts:\n\
         - name: east\n  context:\n    cluster: e\n    user: u\n\
         - name: west\n  context:\n    cluster: w\n    user: u\n",
    )
    .unwrap();
    path
}

#[test]
fn nothing_reachable_says_so_and_c_shows_each_reason() {
    let bin = env!("CARGO_BIN_EXE_shipdeck");
    let dir = tempfile::tempdir().unwrap();
    let kubeconfig = dead_kubeconfig(dir.path());
    let status = dir.path().join("status");
    let script = format!(
        "env -u SHIPDECK_PROMETHEUS_URL HOME={home} XDG_CONFIG_HOME={home}/.config \
         XDG_DATA_HOME={home}/.local/share KUBECONFIG={kc} \
         SHIPDECK_AUDIT_LOG={home}/audit.jsonl {bin} --all-contexts 2> {home}/err; \
         echo \"EXIT=$?\" > {status}; sleep 30",
        home = dir.path().display(),
        kc = kubeconfig.display(),
        status = status.display(),
    );
    let tmux = Tmux::start("discover-dead", 80, 24, &script);
    let home = tmux.wait_for("the not-reachable header", WAIT, |s| {
        s.lines()
            .next()
            .is_some_and(|l| l.contains("NO CLUSTER REACHABLE"))
    });
    let first = home.lines().next().unwrap_or_default();
    assert!(!first.contains("LIVE"), "{home}");
    assert!(!home.contains("nothing in flight"), "{home}");
    assert!(home.contains("east") && home.contains("west"), "{home}");

    tmux.keys(&["c"]);
    let chooser = tmux.wait_for("the chooser with reasons", WAIT, |s| {
        s.contains("Clusters shown")
            && ["east", "west"].iter().all(|c| {
                s.lines()
                    .any(|l| l.contains(c) && l.contains("unreachable") && reason_after(l))
            })
    });
    println!("chooser at 80x24:\n{chooser}");
    tmux.keys(&["Escape", "q"]);
    assert_eq!(wait_file(&status, Duration::from_secs(10)).trim(), "EXIT=0");
}

/// A chooser row names a reason after the state: some words that speak of connecting.
fn reason_after(line: &str) -> bool {
    line.split_once("unreachable")
        .is_some_and(|(_, rest)| rest.to_lowercase().contains("connect"))
}

/// Is the text at `col` (in characters) of `line` a panel title (`─ ` or `▸ `)?
fn title_at(line: &str, col: usize) -> bool {
    let rest: String = line.chars().skip(col).take(2).collect();
    rest == "─ " || rest == "▸ "
}

/// The rows of the panel titled `title`: the lines under its title line, in its columns (wide
/// screens put the SLO and failures panels side by side), up to the next title below it or
/// the footer; blank rows and "no …" placeholders left out.
fn panel(screen: &str, title: &str) -> Vec<String> {
    let lines: Vec<&str> = screen.lines().collect();
    let found = lines.iter().enumerate().find_map(|(y, l)| {
        let chars: Vec<char> = l.chars().collect();
        (0..chars.len()).find_map(|x| {
            let after: String = chars[x..].iter().skip(2).collect();
            let is_title = title_at(l, x) && after.trim_start().starts_with(title);
            is_title.then_some((y, x))
        })
    });
    let Some((y, x)) = found else {
        return Vec::new();
    };
    // The panel ends where another title starts to its right on the title line.
    let title_line: Vec<char> = lines[y].chars().collect();
    let end = (x + 2..title_line.len())
        .find(|i| title_at(lines[y], *i))
        .unwrap_or(usize::MAX);
    lines[y + 1..lines.len().saturating_sub(1)]
        .iter()
        .take_while(|l| !title_at(l, x))
        .map(|l| l.chars().skip(x).take(end - x).collect::<String>())
        .filter(|l| !l.trim().is_empty() && !l.trim_start().starts_with("no "))
        .collect()
}

/// The failures panel's rows: a row's message may wrap onto lines of its own (they carry
/// no count), so rows are the lines that start with one (`×N`).
fn failure_rows(screen: &str) -> Vec<String> {
    panel(screen, "Failures")
        .into_iter()
        .filter(|l| l.trim_start().starts_with('×'))
        .collect()
}

#[test]
fn demo_filter_narrows_releases_failures_and_slos() {
    let bin = env!("CARGO_BIN_EXE_shipdeck");
    let dir = tempfile::tempdir().unwrap();
    let status = dir.path().join("status");
    let script = format!(
        "SHIPDECK_AUDIT_LOG={home}/audit.jsonl HOME={home} {bin} --demo --seed 1; \
         echo \"EXIT=$?\" > {status}; sleep 30",
        home = dir.path().display(),
        status = status.display(),
    );
    let tmux = Tmux::start("discover-filter", 250, 70, &script);
    let before = tmux.wait_for("the demo's panels", WAIT, |s| {
        !panel(s, "Failures").is_empty() && panel(s, "SLOs").len() >= 4
    });
    let slos_before = panel(&before, "SLOs").len();
    let failures_before = failure_rows(&before);
    assert!(
        failures_before.iter().any(|l| !l.contains("prod-us-1")),
        "the demo has failures elsewhere than prod-us-1:\n{before}"
    );

    tmux.keys(&["/", "cluster:prod-us-1 kind:rollout", "Enter"]);
    let after = tmux.wait_for("the filtered panels", WAIT, |s| {
        s.contains("filter: cluster:prod-us-1 kind:rollout")
    });
    let releases: Vec<String> = panel(&after, "Releases")
        .into_iter()
        .skip(1) // the column header
        .collect();
    assert!(!releases.is_empty(), "{after}");
    for l in &releases {
        // Each row starts with its mark column (✗ failing, ⚑ needs a human, ▲ in flight).
        let row = l.trim_start_matches(['✗', '⚑', '▲', ' ']);
        assert!(
            row.starts_with("prod-us-1") && row.contains("Rollout"),
            "{l:?}\n{after}"
        );
    }
    // The rollouts' own failures stay (search's pod is failing its readiness probe); the
    // other clusters' and the canary's go.
    let failures = failure_rows(&after);
    assert!(!failures.is_empty(), "{after}");
    assert!(failures.len() < failures_before.len(), "{after}");
    for l in &failures {
        assert!(l.contains("prod-us-1"), "{l:?}\n{after}");
    }
    let slos = panel(&after, "SLOs");
    assert!(
        !slos.is_empty() && slos.len() < slos_before,
        "SLOs {} of {slos_before}:\n{after}",
        slos.len()
    );
    println!(
        "releases {}, failures {} of {}, SLOs {} of {slos_before}",
        releases.len(),
        failures.len(),
        failures_before.len(),
        slos.len()
    );
    tmux.keys(&["q"]);
    assert_eq!(wait_file(&status, Duration::from_secs(10)).trim(), "EXIT=0");
}
