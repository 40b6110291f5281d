//! S1 through the real binary: hostile strings in object names, namespaces, messages, images,
//! annotations, kubeconfig context names, file names, a fake API server's `/version` and
//! identity and a fake Prometheus's build info go through every command (`snapshot`,
//! `snapshot --json`, `doctor`, the error paths, `--from-files`), and the bytes on stdout and
//! stderr are checked: nothing raw, the visible escapes present, JSON that parses back to the
//! exact stored strings, and a table with CJK names aligned by display column.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use unicode_width::UnicodeWidthStr;

/// What must never appear raw, listed here on its own (not the library's predicate).
fn forbidden(c: char) -> bool {
    let n = c as u32;
    (n < 0x20 && c != '\n')
        || (0x7f..=0x9f).contains(&n)
        || matches!(c,
            '\u{ad}' | '\u{61c}' | '\u{180e}' | '\u{200b}'..='\u{200f}' | '\u{2028}'..='\u{202e}'
            | '\u{2060}'..='\u{206f}' | '\u{feff}' | '\u{fe00}'..='\u{fe0f}'
            | '\u{e0000}'..='\u{e0fff}')
}

/// Checks one output stream: no ESC byte, valid UTF-8 (so no stray 8-bit C1 byte), and no
/// forbidden character.
fn assert_clean(what: &str, bytes: &[u8]) -> String {
    assert!(
        !bytes.contains(&0x1b),
        "{what}: raw ESC in {:?}",
        String::from_utf8_lossy(bytes)
    );
    let text = std::str::from_utf8(bytes).unwrap_or_else(|e| {
        panic!(
            "{what}: not UTF-8 ({e}): {:?}",
            String::from_utf8_lossy(bytes)
        )
    });
    if let Some(c) = text.chars().find(|c| forbidden(*c)) {
        panic!("{what}: raw U+{:04X} in {text:?}", c as u32);
    }
    text.to_string()
}

fn fixture(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(rel)
}

fn shipdeck(args: &[&str], home: &Path, env: &[(&str, &Path)]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_shipdeck"));
    cmd.args(args)
        .env("HOME", home)
        .env("XDG_CONFIG_HOME", home.join(".config"))
        .env("XDG_DATA_HOME", home.join(".local/share"))
        .env("XDG_CACHE_HOME", home.join(".cache"))
        .env("KUBECONFIG", home.join("no-kubeconfig"))
        .env_remove("SHIPDECK_PROMETHEUS_URL");
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().unwrap()
}

/// Both streams clean; returns (stdout, stderr).
fn run_clean(
    what: &str,
    args: &[&str],
    home: &Path,
    env: &[(&str, &Path)],
) -> (String, String, Output) {
    let out = shipdeck(args, home, env);
    let stdout = assert_clean(&format!("{what} stdout"), &out.stdout);
    let stderr = assert_clean(&format!("{what} stderr"), &out.stderr);
    assert!(!stderr.contains("panicked"), "{what}: {stderr}");
    (stdout, stderr, out)
}

const CLUSTER: &str = "prod\u{1b}]0;t\u{7}\u{202e}日本";
const CLUSTER_SHOWN: &str = "prod\\x1b]0;t\\x07\\u{202e}日本";
const NAME: &str = "checkout\u{202e}gnp.exe";
const NAMESPACE: &str = "shop\u{1b}[31m\u{200b}";
const MESSAGE: &str = "CanaryPauseStep\u{1b}]0;owned\u{7}\u{9b}31m\r\nfake: ok\u{ad}\u{180e}\u{206a}\u{e0041}\u{e0042}\u{feff}";
const IMAGE: &str = "registry.example/shop/checkout:1.8.0\u{1b}[2J\u{1b}]0;pwned\u{7}";

fn files_arg() -> String {
    format!("{CLUSTER}={}", fixture("hostile/fleet.yaml").display())
}

/// `raw` shown escaped in `text`: by `core::text`, or quoted Rust-style (`{:?}`, which
/// escapes the same characters) by a message that quotes a name.
fn quoted(text: &str, raw: &str) -> bool {
    let ours: String = raw
        .chars()
        .map(|c| match c as u32 {
            n if n < 0x80 && forbidden(c) => format!("\\x{n:02x}"),
            n if forbidden(c) => format!("\\u{{{n:x}}}"),
            _ => c.to_string(),
        })
        .collect();
    text.contains(&ours) || text.contains(&raw.escape_debug().to_string())
}

/// Display column where the cell starting at byte `at` of `line` begins.
fn column(line: &str, at: usize) -> usize {
    line.get(..at).unwrap().width()
}

#[test]
fn from_files_table_is_escaped_and_aligned_by_display_width() {
    let home = tempfile::tempdir().unwrap();
    let files = files_arg();
    let (stdout, _, out) = run_clean(
        "snapshot",
        &["snapshot", "--from-files", &files],
        home.path(),
        &[],
    );
    assert!(out.status.success(), "{stdout}");
    for shown in [
        CLUSTER_SHOWN,
        "shop\\x1b[31m\\u{200b}/checkout\\u{202e}gnp.exe",
        "店舗/日本語サービス",
        "web/rocket-🚀🚀",
    ] {
        assert!(stdout.contains(shown), "{shown} in\n{stdout}");
    }
    let mut lines = stdout.lines();
    let header = lines.next().unwrap();
    let rows: Vec<&str> = lines.take_while(|l| !l.is_empty()).collect();
    assert_eq!(rows.len(), 3, "{stdout}");
    for title in ["NAMESPACE/NAME", "KIND", "PHASE"] {
        let col = column(header, header.find(title).unwrap());
        for row in &rows {
            // The cell starts exactly at `col`: the columns before it end in two spaces.
            let at = row
                .char_indices()
                .map(|(i, _)| i)
                .find(|i| column(row, *i) >= col)
                .unwrap();
            assert_eq!(column(row, at), col, "{title} in {row:?}\n{stdout}");
            assert!(row.get(..at).unwrap().ends_with("  "), "{title} in {row:?}");
            assert!(
                !row.get(at..).unwrap().starts_with(' '),
                "{title} in {row:?}"
            );
        }
    }
    // The hostile message is cut by display width, never inside an escape.
    let row = rows.iter().find(|r| r.contains("checkout")).unwrap();
    assert!(
        row.contains("CanaryPauseStep\\x1b]0;owned\\x07\\u{9b}31m\\x0d\\x0afake: ok"),
        "{row}"
    );
}

#[test]
fn from_files_json_escapes_invisible_characters_and_round_trips_exactly() {
    let home = tempfile::tempdir().unwrap();
    let files = files_arg();
    let (stdout, _, out) = run_clean(
        "snapshot --json",
        &["snapshot", "--json", "--from-files", &files],
        home.path(),
        &[],
    );
    assert!(out.status.success(), "{stdout}");
    for escape in [
        "\\u001b",
        "\\u0007",
        "\\u009b",
        "\\u202e",
        "\\u200b",
        "\\u00ad",
        "\\u180e",
        "\\u206a",
        "\\udb40\\udc41",
        "\\ufeff",
        "\\u2028",
        "\\r\\n",
    ] {
        assert!(stdout.contains(escape), "{escape} in the JSON");
    }
    assert!(
        stdout.contains("日本語サービス"),
        "visible text stays as it is"
    );
    let v: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(v["clusters"][0]["name"], CLUSTER);
    let releases = v["releases"].as_array().unwrap();
    let rollout = releases.iter().find(|r| r["kind"] == "Rollout").unwrap();
    assert_eq!(rollout["cluster"], CLUSTER);
    assert_eq!(rollout["name"], NAME);
    assert_eq!(rollout["namespace"], NAMESPACE);
    assert_eq!(rollout["message"], MESSAGE);
    assert!(
        rollout["images"]
            .as_array()
            .unwrap()
            .iter()
            .any(|i| i == IMAGE),
        "{rollout}"
    );
    let jp = releases.iter().find(|r| r["namespace"] == "店舗").unwrap();
    assert_eq!(jp["name"], "日本語サービス");
    assert_eq!(jp["images"][0], "registry.example/jp:1\u{2028}");
}

#[test]
fn error_paths_show_hostile_names_escaped() {
    let home = tempfile::tempdir().unwrap();
    let kubeconfig = home.path().join("kubeconfig");
    std::fs::write(
        &kubeconfig,
        "apiVersion: v1\nkind: Config\ncontexts: []\nclusters: []\nusers: []\n",
    )
    .unwrap();
    let env = [("KUBECONFIG", kubeconfig.as_path())];
    let hostile = "nope\u{1b}]0;pwned\u{7}\u{9b}\u{202e}\u{e0041}\nforged: ok";
    for args in [
        vec!["snapshot", "--context", hostile],
        vec!["snapshot", "--json", "--context", hostile],
        vec!["doctor", "--context", hostile],
    ] {
        let (_, stderr, out) = run_clean("bad context", &args, home.path(), &env);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(quoted(&stderr, hostile), "{args:?}: {stderr}");
    }
    // A captured file whose name is hostile and that is missing, or not UTF-8.
    let missing = home.path().join("gone\u{1b}[2J\u{202e}.yaml");
    let files = missing.display().to_string();
    let (_, stderr, out) = run_clean(
        "missing file",
        &["snapshot", "--from-files", &files],
        home.path(),
        &[],
    );
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("gone\\x1b[2J\\u{202e}.yaml"), "{stderr}");
    let binary = home.path().join("binary\u{9b}.yaml");
    std::fs::write(&binary, b"kind: List\nitems: []\n# \xff\xfe\x1b[2J\n").unwrap();
    let files = binary.display().to_string();
    let (_, stderr, out) = run_clean(
        "binary file",
        &["snapshot", "--from-files", &files],
        home.path(),
        &[],
    );
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("binary\\u{9b}.yaml"), "{stderr}");
    // A hostile theme name from the command line.
    let (_, stderr, out) = run_clean(
        "theme",
        &["--demo", "--theme", "neon\u{1b}[5m\u{2066}"],
        home.path(),
        &[],
    );
    assert!(!out.status.success());
    assert!(quoted(&stderr, "neon\u{1b}[5m\u{2066}"), "{stderr}");
}

#[test]
fn command_line_errors_are_escaped() {
    let home = tempfile::tempdir().unwrap();
    for args in [
        vec!["--seed", "x\u{1b}]0;t\u{7}\u{202e}\u{9b}"],
        vec!["snap\u{1b}[2Jshot\u{2066}"],
    ] {
        let (_, stderr, out) = run_clean("usage", &args, home.path(), &[]);
        assert_eq!(out.status.code(), Some(2), "{stderr}");
        assert!(
            stderr.contains("\\u{202e}") || stderr.contains("\\u{2066}"),
            "{stderr}"
        );
    }
    let (stdout, _, out) = run_clean("help", &["--help"], home.path(), &[]);
    assert!(
        out.status.success() && stdout.contains("Usage: shipdeck"),
        "{stdout}"
    );
}

/// A hostile API server and Prometheus in one loopback HTTP listener.
mod fake {
    use super::*;

    pub const GIT_VERSION: &str = "v1.30.0\u{1b}]0;pwned\u{7}\u{202e}\u{9b}";
    pub const USER: &str = "evil\u{1b}[2J\u{200b}";
    pub const NAMESPACE: &str = "ns\u{1b}[1m\u{2067}";
    pub const PROM_VERSION: &str = "2.55\u{1b}]52;c;ZXZpbA==\u{7}\u{202e}";
    pub const STATUS_MESSAGE: &str = "denied\u{1b}[31m\u{85}\u{202e}";

    fn answer(method: &str, path: &str) -> (u16, serde_json::Value) {
        use serde_json::json;
        let path = path.split('?').next().unwrap_or_default();
        match (method, path) {
            ("GET", "/version") => (
                200,
                json!({
                    "major": "1", "minor": "30", "gitVersion": GIT_VERSION, "gitCommit": "x",
                    "gitTreeState": "clean", "buildDate": "2026-01-01T00:00:00Z",
                    "goVersion": "go1.22", "compiler": "gc", "platform": "linux/amd64"
                }),
            ),
            ("POST", "/apis/authentication.k8s.io/v1/selfsubjectreviews") => (
                201,
                json!({
                    "apiVersion": "authentication.k8s.io/v1", "kind": "SelfSubjectReview",
                    "metadata": {}, "status": {"userInfo": {"username": USER, "groups": ["g\u{202e}"]}}
                }),
            ),
            ("POST", "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews") => (
                201,
                json!({
                    "apiVersion": "authorization.k8s.io/v1", "kind": "SelfSubjectAccessReview",
                    "metadata": {}, "spec": {}, "status": {"allowed": true}
                }),
            ),
            ("GET", "/apis/apps/v1/deployments") => (
                200,
                json!({
                    "apiVersion": "meta.k8s.io/v1", "kind": "PartialObjectMetadataList", "metadata": {},
                    "items": [{"apiVersion": "meta.k8s.io/v1", "kind": "PartialObjectMetadata",
                               "metadata": {"name": "x", "namespace": NAMESPACE}}]
                }),
            ),
            ("GET", "/-/ready") => (200, json!("ready")),
            ("GET", "/api/v1/status/buildinfo") => (
                200,
                json!({
                    "status": "success", "data": {"version": PROM_VERSION}
                }),
            ),
            _ => (
                403,
                json!({
                    "apiVersion": "v1", "kind": "Status", "status": "Failure", "code": 403,
                    "reason": "Forbidden", "message": STATUS_MESSAGE, "metadata": {}
                }),
            ),
        }
    }

    /// Every answer of the broken server: not UTF-8, with raw escapes and C1 bytes in it.
    pub const BROKEN_BODY: &[u8] =
        b"{\"kind\":\"Status\",\"code\":500,\"message\":\"bad\xff\xfe\x1b[2J\xc2\x9b\xe2\x80\xae\"}";

    fn serve(stream: TcpStream, broken: bool) -> std::io::Result<()> {
        let mut reader = BufReader::new(stream.try_clone()?);
        let mut request = String::new();
        reader.read_line(&mut request)?;
        let mut length = 0usize;
        loop {
            let mut line = String::new();
            if reader.read_line(&mut line)? == 0 || line == "\r\n" {
                break;
            }
            if let Some((k, v)) = line.split_once(':')
                && k.eq_ignore_ascii_case("content-length")
            {
                length = v.trim().parse().unwrap_or(0);
            }
        }
        let mut body = vec![0; length];
        reader.read_exact(&mut body)?;
        let mut words = request.split_whitespace();
        let (method, path) = (words.next().unwrap_or(""), words.next().unwrap_or(""));
        let (code, body) = if broken && path.starts_with("/version") {
            (200, BROKEN_BODY.to_vec())
        } else if broken {
            (500, BROKEN_BODY.to_vec())
        } else {
            let (code, json) = answer(method, path);
            (code, serde_json::to_vec(&json)?)
        };
        let mut stream = stream;
        write!(
            stream,
            "HTTP/1.1 {code} X\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
            body.len()
        )?;
        stream.write_all(&body)
    }

    /// Listens on a loopback port for the rest of the test process; returns `http://host:port`.
    /// A `broken` server answers everything with [`BROKEN_BODY`].
    pub fn start(broken: bool) -> String {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                std::thread::spawn(move || serve(stream, broken));
            }
        });
        url
    }

    /// A kubeconfig whose only context (named `context`) points at `url`.
    pub fn kubeconfig(dir: &Path, url: &str, context: &str) -> PathBuf {
        let path = dir.join("kubeconfig");
        let config = serde_json::json!({
            "apiVersion": "v1", "kind": "Config", "current-context": context,
            "clusters": [{"name": "fake", "cluster": {"server": url}}],
            "users": [{"name": "u", "user": {"token": "t"}}],
            "contexts": [{"name": context, "context": {"cluster": "fake", "user": "u"}}],
        });
        std::fs::write(&path, serde_json::to_string(&config).unwrap()).unwrap();
        path
    }
}

const CONTEXT: &str = "ctx\u{1b}]0;pwn\u{7}\u{202e}\u{e0041}日本";
const CONTEXT_SHOWN: &str = "ctx\\x1b]0;pwn\\x07\\u{202e}\\u{e0041}日本";

#[test]
fn doctor_against_a_hostile_api_server_and_prometheus() {
    let url = fake::start(false);
    let home = tempfile::tempdir().unwrap();
    let kubeconfig = fake::kubeconfig(home.path(), &url, CONTEXT);
    let env = [("KUBECONFIG", kubeconfig.as_path())];
    let args = ["doctor", "--context", CONTEXT, "--prometheus", &url];
    let (stdout, stderr, out) = run_clean("doctor", &args, home.path(), &env);
    assert!(matches!(out.status.code(), Some(0 | 1)), "{stdout}{stderr}");
    for shown in [
        CONTEXT_SHOWN,
        "Kubernetes v1.30.0\\x1b]0;pwned\\x07\\u{202e}\\u{9b}",
        "evil\\x1b[2J\\u{200b}",
        "ns\\x1b[1m\\u{2067}",
        "version 2.55\\x1b]52;c;ZXZpbA==\\x07\\u{202e}",
        "denied\\x1b[31m\\u{85}\\u{202e}",
    ] {
        assert!(stdout.contains(shown), "{shown} in\n{stdout}");
    }
}

#[test]
fn live_snapshot_of_a_hostile_api_server_is_escaped_and_round_trips() {
    let url = fake::start(false);
    let home = tempfile::tempdir().unwrap();
    let kubeconfig = fake::kubeconfig(home.path(), &url, CONTEXT);
    let env = [("KUBECONFIG", kubeconfig.as_path())];
    let (stdout, stderr, out) = run_clean(
        "live snapshot --json",
        &["snapshot", "--json", "--wait", "2", "--context", CONTEXT],
        home.path(),
        &env,
    );
    // The server denies the lists: the snapshot prints, but is incomplete (exit 3), and the
    // stderr line naming the cluster and its reason is escaped like everything else.
    assert_eq!(out.status.code(), Some(3), "{stderr}");
    assert!(
        stderr.contains(&format!(
            "snapshot incomplete: cluster {CONTEXT_SHOWN} did not answer (no access"
        )),
        "{stderr}"
    );
    assert!(
        stdout.contains("\\u001b") && stdout.contains("\\u202e"),
        "{stdout}"
    );
    let v: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(v["clusters"][0]["name"], CONTEXT, "{stdout}");
    assert_eq!(
        v["clusters"][0]["server_version"],
        fake::GIT_VERSION,
        "{stdout}"
    );
    let (stdout, stderr, out) = run_clean(
        "live snapshot",
        &["snapshot", "--wait", "2", "--context", CONTEXT],
        home.path(),
        &env,
    );
    assert_eq!(out.status.code(), Some(3), "{stderr}");
    assert!(stdout.starts_with("CLUSTER"), "{stdout}");
}

#[test]
fn invalid_utf8_and_raw_bytes_from_a_server_never_reach_the_terminal() {
    let url = fake::start(true);
    let home = tempfile::tempdir().unwrap();
    let kubeconfig = fake::kubeconfig(home.path(), &url, CONTEXT);
    let env = [("KUBECONFIG", kubeconfig.as_path())];
    let args = ["doctor", "--context", CONTEXT, "--prometheus", &url];
    let (stdout, stderr, out) = run_clean("doctor (broken)", &args, home.path(), &env);
    assert_eq!(out.status.code(), Some(1), "{stdout}{stderr}");
    assert!(stdout.contains("reachable    NO"), "{stdout}");
    assert!(stdout.contains("NOT REACHABLE"), "{stdout}");
    let args = ["snapshot", "--json", "--wait", "2", "--context", CONTEXT];
    let (stdout, stderr, out) = run_clean("snapshot (broken)", &args, home.path(), &env);
    // Unreadable answers leave the cluster unreachable: printed, incomplete, exit 3.
    assert_eq!(out.status.code(), Some(3), "{stderr}");
    assert!(stderr.contains("did not answer (unreachable"), "{stderr}");
    let v: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(v["clusters"][0]["name"], CONTEXT, "{stdout}");
}
