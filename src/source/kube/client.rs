//! One kube client per kubeconfig context. `KUBECONFIG` (several paths) is read as kubectl
//! reads it: entries that do not exist are skipped, the rest merged (the first file to name
//! a cluster, user or context wins, and the first `current-context`). Every exec credential
//! plugin runs with `interactiveMode: Never`: no stdin, its stderr captured, so a plugin can
//! never write into the console's screen or read its keys.
//!
//! Exec plugins are run here, not by kube-rs (which runs them synchronously on the calling
//! thread, up to three times per client for a plugin that returns a client certificate, and
//! never again for a certificate): [`build`] runs the plugin once, asynchronously, with
//! stdin closed and stdout and stderr captured, puts the credentials it issued into the
//! config, and stamps the client with their `expirationTimestamp`
//! ([`kube::Client::valid_until`]), so the cluster's supervisor can build a fresh client
//! before they expire (or after a 401).

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Duration;

use jiff::Timestamp;
use kube::config::{
    ExecConfig, ExecInteractiveMode, KubeConfigOptions, Kubeconfig, KubeconfigError,
};
use serde::Deserialize;

#[derive(Debug, thiserror::Error)]
pub enum KubeError {
    #[error("kubeconfig: {0}")]
    Kubeconfig(String),
    #[error("context {context:?}: {message}")]
    Context { context: String, message: String },
    #[error("{0}")]
    Api(String),
}

/// The server closes each watch after this many seconds and the watcher re-watches from the
/// last resourceVersion (bookmarks keep it fresh): so a healthy watch receives bytes at least
/// this often, even on a quiet cluster. Not a list: nothing is listed again.
pub const WATCH_TIMEOUT_SECS: u32 = 8;

/// No byte for this long on a watch client's connection: the connection is dead (a half-open
/// link, a NAT that dropped the flow). Longer than [`WATCH_TIMEOUT_SECS`] with margin, short
/// enough that a lost watch is noticed well inside 15 s (P12, R3).
pub const WATCH_READ_TIMEOUT: Duration = Duration::from_secs(12);

/// The merged kubeconfig (from `KUBECONFIG` or ~/.kube/config), exec plugins made
/// non-interactive.
pub fn kubeconfig() -> Result<Kubeconfig, KubeError> {
    static LAST_READ: Mutex<Option<LastRead>> = Mutex::new(None);
    let home = std::env::var_os("HOME").map(|h| Path::new(&h).join(".kube").join("config"));
    let mut kc =
        read_kubeconfig_cached(&LAST_READ, std::env::var_os("KUBECONFIG").as_deref(), home)?;
    never_interactive(&mut kc);
    Ok(kc)
}

/// The files a read found, each with its length and modification time (None: absent).
type Fingerprint = Vec<(PathBuf, Option<(u64, Option<std::time::SystemTime>)>)>;

/// The last kubeconfig parsed, and the files it was parsed from as they were then.
pub struct LastRead {
    files: Fingerprint,
    kubeconfig: Kubeconfig,
}

/// [`read_kubeconfig`], parsed again only when a file changed (length or modification time)
/// or appeared or went since the `last` read: every client build reads the kubeconfig, and 40
/// contexts read a file of 40 users' certificates ~120 times at start, which was most of the
/// time to the first frame (issue 15, P1). A change to the files is read at the next build, as
/// kubectl would read it.
pub fn read_kubeconfig_cached(
    last: &Mutex<Option<LastRead>>,
    env: Option<&OsStr>,
    default: Option<PathBuf>,
) -> Result<Kubeconfig, KubeError> {
    let (paths, from_env) = kubeconfig_paths(env, default)?;
    let files: Fingerprint = paths
        .iter()
        .cloned()
        .map(|p| {
            let seen = std::fs::metadata(&p)
                .ok()
                .map(|m| (m.len(), m.modified().ok()));
            (p, seen)
        })
        .collect();
    let mut last = last.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    if let Some(read) = last.as_ref().filter(|r| r.files == files) {
        return Ok(read.kubeconfig.clone());
    }
    let kubeconfig = merge_files(&paths, from_env)?;
    *last = Some(LastRead {
        files,
        kubeconfig: kubeconfig.clone(),
    });
    Ok(kubeconfig)
}

/// All context names, and the current one.
pub fn contexts() -> Result<(Vec<String>, Option<String>), KubeError> {
    let kc = kubeconfig()?;
    let names = kc.contexts.iter().map(|c| c.name.clone()).collect();
    Ok((names, kc.current_context.clone()))
}

/// Read the kubeconfig as kubectl does: `KUBECONFIG` (a path list; empty entries ignored;
/// entries that do not exist skipped) or, when it is unset or empty, `default`. No file at
/// all is an error naming what was looked for; a file that exists but cannot be read or
/// parsed is an error naming that file.
pub fn read_kubeconfig(
    env: Option<&OsStr>,
    default: Option<PathBuf>,
) -> Result<Kubeconfig, KubeError> {
    let (paths, from_env) = kubeconfig_paths(env, default)?;
    merge_files(&paths, from_env)
}

/// The kubeconfig files `paths` merged, those that do not exist skipped.
fn merge_files(paths: &[PathBuf], from_env: bool) -> Result<Kubeconfig, KubeError> {
    let mut merged: Option<Kubeconfig> = None;
    for path in paths {
        if !path.exists() {
            tracing::debug!(path = %path.display(), "kubeconfig entry does not exist: skipped");
            continue;
        }
        let kc = Kubeconfig::read_from(path).map_err(|e| read_error(path, e))?;
        merged = Some(match merged {
            None => kc,
            Some(m) => m
                .merge(kc)
                .map_err(|e| KubeError::Kubeconfig(format!("{}: {e}", path.display())))?,
        });
    }
    merged.ok_or_else(|| {
        let names = paths
            .iter()
            .map(|p| p.display().to_string())
            .collect::<Vec<_>>()
            .join(", ");
        if from_env {
            KubeError::Kubeconfig(format!("no file in KUBECONFIG exists (looked for {names})"))
        } else {
            KubeError::Kubeconfig(format!("{names} does not exist and KUBECONFIG is not set"))
        }
    })
}

/// The files a kubeconfig read looks at, in order, and whether they came from `KUBECONFIG`.
fn kubeconfig_paths(
    env: Option<&OsStr>,
    default: Option<PathBuf>,
) -> Result<(Vec<PathBuf>, bool), KubeError> {
    let listed: Vec<PathBuf> = env
        .map(|v| {
            std::env::split_paths(v)
                .filter(|p| !p.as_os_str().is_empty())
                .collect()
        })
        .unwrap_or_default();
    let from_env = !listed.is_empty();
    if from_env {
        return Ok((listed, true));
    }
    match default {
        Some(p) => Ok((vec![p], false)),
        None => Err(KubeError::Kubeconfig(
            "KUBECONFIG is not set and there is no home directory".into(),
        )),
    }
}

/// The path once, then what went wrong (kube's own message quotes the path a second time).
fn read_error(path: &Path, e: KubeconfigError) -> KubeError {
    let why = match e {
        KubeconfigError::ReadConfig(source, _) => source.to_string(),
        other => other.to_string(),
    };
    KubeError::Kubeconfig(format!("{}: {why}", path.display()))
}

/// Every exec credential plugin: `interactiveMode: Never` (kube then pipes its stdin, closed
/// at once, and captures its stderr instead of passing the console's terminal through).
pub fn never_interactive(kc: &mut Kubeconfig) {
    for named in &mut kc.auth_infos {
        if let Some(exec) = named.auth_info.as_mut().and_then(|a| a.exec.as_mut()) {
            exec.interactive_mode = Some(ExecInteractiveMode::Never);
        }
    }
}

/// The namespace `context` names in the kubeconfig, if it names one (None also when the
/// kubeconfig cannot be read: the caller is building a client anyway, which says why).
pub fn context_namespace(context: &str) -> Option<String> {
    let kc = kubeconfig().ok()?;
    kc.contexts
        .iter()
        .find(|c| c.name == context)?
        .context
        .as_ref()?
        .namespace
        .clone()
        .filter(|n| !n.is_empty())
}

/// The client config for `context` (None: the current context), from [`kubeconfig`].
pub async fn config_for(context: Option<&str>) -> Result<kube::Config, KubeError> {
    let kc = kubeconfig()?;
    let name = context
        .map(str::to_string)
        .or_else(|| kc.current_context.clone())
        .unwrap_or_default();
    let options = KubeConfigOptions {
        context: context.map(str::to_string),
        ..KubeConfigOptions::default()
    };
    kube::Config::from_custom_kubeconfig(kc, &options)
        .await
        .map_err(|e| KubeError::Context {
            context: name,
            message: e.to_string(),
        })
}

/// How long an exec plugin may take before the build fails (and is retried).
const EXEC_DEADLINE: Duration = Duration::from_secs(60);

/// Build a client from `config`: its exec plugin (if any) run once, here, its credentials
/// put in the config, the client valid until they expire.
pub async fn build(mut config: kube::Config, context: &str) -> Result<kube::Client, KubeError> {
    let fail = |message: String| KubeError::Context {
        context: context.to_string(),
        message,
    };
    let expires = match config.auth_info.exec.take() {
        Some(exec) => apply_credentials(&mut config, run_exec(&exec).await.map_err(fail)?),
        None => None,
    };
    let client = super::connect::client(config).map_err(|e| fail(e.to_string()))?;
    Ok(client.with_valid_until(expires))
}

#[derive(Debug, Default, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct ExecStatus {
    pub token: Option<String>,
    pub client_certificate_data: Option<String>,
    pub client_key_data: Option<String>,
    pub expiration_timestamp: Option<String>,
}

#[derive(Deserialize)]
struct ExecCredential {
    status: Option<ExecStatus>,
}

/// Run an exec credential plugin without a terminal: stdin closed, stdout and stderr
/// captured (stderr only quoted, shortened, when it fails), killed after
/// [`EXEC_DEADLINE`].
pub async fn run_exec(exec: &ExecConfig) -> Result<ExecStatus, String> {
    let command = exec
        .command
        .as_deref()
        .ok_or("exec plugin without a command")?;
    let mut cmd = tokio::process::Command::new(command);
    cmd.args(exec.args.iter().flatten());
    for env in exec.env.iter().flatten() {
        if let (Some(name), Some(value)) = (env.get("name"), env.get("value")) {
            cmd.env(name, value);
        }
    }
    for name in exec.drop_env.iter().flatten() {
        cmd.env_remove(name);
    }
    let mut spec = serde_json::json!({ "interactive": false });
    if exec.provide_cluster_info
        && let Some(cluster) = &exec.cluster
    {
        spec["cluster"] = serde_json::to_value(cluster).map_err(|e| e.to_string())?;
    }
    let info = serde_json::json!({
        "apiVersion": exec.api_version,
        "kind": "ExecCredential",
        "spec": spec,
    });
    cmd.env("KUBERNETES_EXEC_INFO", info.to_string())
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true);
    let out = tokio::time::timeout(EXEC_DEADLINE, cmd.output())
        .await
        .map_err(|_| {
            format!(
                "exec plugin {command} gave no credentials within {} s",
                EXEC_DEADLINE.as_secs()
            )
        })?
        .map_err(|e| format!("exec plugin {command}: {e}"))?;
    if !out.status.success() {
        let stderr = String::from_utf8_lossy(&out.stderr);
        let tail: String = stderr
            .trim()
            .chars()
            .rev()
            .take(200)
            .collect::<Vec<_>>()
            .into_iter()
            .rev()
            .collect();
        return Err(format!(
            "exec plugin {command} failed ({}): {tail}",
            out.status
        ));
    }
    let cred: ExecCredential = serde_json::from_slice(&out.stdout)
        .map_err(|e| format!("exec plugin {command}: not an ExecCredential: {e}"))?;
    cred.status
        .ok_or_else(|| format!("exec plugin {command}: ExecCredential without status"))
}

/// Put what the plugin issued into the config; when they expire (None: never said).
pub fn apply_credentials(config: &mut kube::Config, status: ExecStatus) -> Option<Timestamp> {
    let auth = &mut config.auth_info;
    if let (Some(cert), Some(key)) = (status.client_certificate_data, status.client_key_data) {
        auth.client_certificate = None;
        auth.client_key = None;
        auth.client_certificate_data = Some(base64(cert.as_bytes()));
        auth.client_key_data = Some(base64(key.as_bytes()).into());
    } else if let Some(token) = status.token {
        auth.token = Some(token.into());
        auth.token_file = None;
    }
    status
        .expiration_timestamp
        .and_then(|t| t.parse::<Timestamp>().ok())
}

/// Standard base64 with padding (kubeconfig's `*-data` fields).
fn base64(data: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(data.len().div_ceil(3) * 4);
    for chunk in data.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// When to build a fresh client for credentials that expire at `until`: a third of the
/// time left before, at most 10 s before (and never in the past).
pub fn renew_at(now: Timestamp, until: Timestamp) -> Timestamp {
    let left = until.duration_since(now);
    let margin = (left / 3).min(jiff::SignedDuration::from_secs(10));
    if left <= jiff::SignedDuration::ZERO {
        now
    } else {
        until - margin
    }
}

/// Timeouts for a watch client: a dead cluster is noticed quickly instead of hanging, and a
/// connection that stops carrying bytes fails its watch within [`WATCH_READ_TIMEOUT`].
pub fn watch_timeouts(config: &mut kube::Config) {
    config.connect_timeout = Some(Duration::from_secs(4));
    config.read_timeout = Some(WATCH_READ_TIMEOUT);
}

/// A watch client for `context` (None: the current context).
pub async fn client_for(context: Option<&str>) -> Result<kube::Client, KubeError> {
    let mut config = config_for(context).await?;
    watch_timeouts(&mut config);
    build(config, context.unwrap_or_default()).await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
        let p = dir.join(name);
        std::fs::write(&p, text).unwrap_or_else(|e| panic!("writing {}: {e}", p.display()));
        p
    }

    fn config(cluster: &str, server: &str, contexts: &[&str], current: &str) -> String {
        let mut s = format!(
            "apiVersion: v1\nkind: Config\ncurrent-context: {current}\nclusters:\n- name: {cluster}\n  cluster:\n    server: {server}\nusers:\n- name: u\n  user:\n    exec:\n      apiVersion: client.authentication.k8s.io/v1\n      command: /bin/true\n      interactiveMode: IfAvailable\ncontexts:\n"
        );
        for c in contexts {
            s.push_str(&format!(
                "- name: {c}\n  context:\n    cluster: {cluster}\n    user: u\n"
            ));
        }
        s
    }

    fn joined(paths: &[&Path]) -> std::ffi::OsString {
        std::env::join_paths(paths).unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn missing_entries_are_skipped_and_the_first_file_wins() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let a = write(
            dir.path(),
            "a",
            &config("ca", "https://127.0.0.1:1", &["one"], "one"),
        );
        let b = write(
            dir.path(),
            "b",
            &config("cb", "https://127.0.0.1:2", &["one", "two"], "two"),
        );
        let nope = dir.path().join("nope");
        let env = joined(&[&a, &nope, &b]);
        let kc = read_kubeconfig(Some(&env), None).unwrap_or_else(|e| panic!("{e}"));
        let names: Vec<&str> = kc.contexts.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(names, ["one", "two"]);
        assert_eq!(
            kc.current_context.as_deref(),
            Some("one"),
            "a's current-context"
        );
        let one = kc.contexts[0].context.as_ref().map(|c| c.cluster.as_str());
        assert_eq!(one, Some("ca"), "a's `one`, not b's");
    }

    #[test]
    fn an_unchanged_kubeconfig_is_parsed_once_and_a_changed_one_again() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let a = write(
            dir.path(),
            "a",
            &config("ca", "https://127.0.0.1:1", &["one"], "one"),
        );
        let nope = dir.path().join("nope");
        let env = joined(&[&a, &nope]);
        let last = Mutex::new(None);
        let names =
            |kc: Kubeconfig| -> Vec<String> { kc.contexts.into_iter().map(|c| c.name).collect() };
        let read = |last: &Mutex<Option<LastRead>>| read_kubeconfig_cached(last, Some(&env), None);
        assert_eq!(
            names(read(&last).unwrap_or_else(|e| panic!("{e}"))),
            ["one"]
        );

        // Same length, same modification time: the first parse is reused, so even bytes that
        // would not parse are not read.
        let text = std::fs::read_to_string(&a).unwrap_or_else(|e| panic!("{e}"));
        let mtime = std::fs::metadata(&a)
            .and_then(|m| m.modified())
            .unwrap_or_else(|e| panic!("{e}"));
        std::fs::write(&a, "x".repeat(text.len())).unwrap_or_else(|e| panic!("{e}"));
        std::fs::File::options()
            .write(true)
            .open(&a)
            .and_then(|f| f.set_modified(mtime))
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            names(read(&last).unwrap_or_else(|e| panic!("{e}"))),
            ["one"]
        );

        // A file rewritten (another length) is parsed again; one that appears is merged in.
        write(
            dir.path(),
            "a",
            &config("ca", "https://127.0.0.1:1", &["one", "three"], "one"),
        );
        assert_eq!(
            names(read(&last).unwrap_or_else(|e| panic!("{e}"))),
            ["one", "three"]
        );
        write(
            dir.path(),
            "nope",
            &config("cn", "https://127.0.0.1:3", &["four"], "four"),
        );
        assert_eq!(
            names(read(&last).unwrap_or_else(|e| panic!("{e}"))),
            ["one", "three", "four"]
        );
    }

    #[test]
    fn all_missing_is_a_clean_error_quoting_each_path_once() {
        let env = std::ffi::OsString::from("/nope/a:/nope/b");
        let Err(e) = read_kubeconfig(Some(&env), None) else {
            panic!("nothing to read must be an error");
        };
        let msg = e.to_string();
        assert_eq!(
            msg,
            "kubeconfig: no file in KUBECONFIG exists (looked for /nope/a, /nope/b)"
        );
        let Err(e) = read_kubeconfig(Some(OsStr::new(":")), Some("/nope/home/config".into()))
        else {
            panic!("an empty KUBECONFIG falls back to the default, which is missing");
        };
        assert_eq!(
            e.to_string(),
            "kubeconfig: /nope/home/config does not exist and KUBECONFIG is not set"
        );
    }

    #[test]
    fn an_unreadable_file_is_named_once() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let bad = write(dir.path(), "bad", "clusters: [oops\n");
        let Err(e) = read_kubeconfig(Some(bad.as_os_str()), None) else {
            panic!("a broken file is an error");
        };
        let msg = e.to_string();
        let shown = bad.display().to_string();
        assert_eq!(msg.matches(&shown).count(), 1, "{msg}");
        assert!(!msg.contains("'\""), "{msg}");
        // A directory exists but cannot be read as a file.
        let Err(e) = read_kubeconfig(Some(dir.path().as_os_str()), None) else {
            panic!("a directory is an error");
        };
        let msg = e.to_string();
        assert_eq!(
            msg.matches(&dir.path().display().to_string()).count(),
            1,
            "{msg}"
        );
    }

    #[test]
    fn base64_matches_the_standard_vectors() {
        for (plain, coded) in [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
        ] {
            assert_eq!(base64(plain.as_bytes()), coded, "{plain:?}");
        }
    }

    #[test]
    fn credentials_are_renewed_before_they_expire() {
        let t =
            |s: i64| Timestamp::from_second(1_800_000_000 + s).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(renew_at(t(0), t(30)), t(20), "a third before, 10 s at most");
        assert_eq!(renew_at(t(0), t(900)), t(890));
        assert_eq!(renew_at(t(0), t(6)), t(4));
        assert_eq!(renew_at(t(10), t(5)), t(10), "already expired: now");
    }

    #[tokio::test]
    async fn an_exec_plugin_runs_without_the_terminal_and_its_credentials_are_used() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let script = dir.path().join("plugin.sh");
        let seen = dir.path().join("stdin");
        std::fs::write(
            &script,
            format!(
                "#!/bin/sh\nprintf '\\033[2J' >&2\nif read -r line; then echo \"read:$line\" > {seen}; else echo eof > {seen}; fi\necho \"$KUBERNETES_EXEC_INFO\" >> {seen}\necho '{{\"apiVersion\":\"client.authentication.k8s.io/v1\",\"kind\":\"ExecCredential\",\"status\":{{\"token\":\"t0k\",\"expirationTimestamp\":\"2030-01-01T00:00:00Z\"}}}}'\n",
                seen = seen.display()
            ),
        )
        .unwrap_or_else(|e| panic!("{e}"));
        let exec: ExecConfig = serde_json::from_value(serde_json::json!({
            "apiVersion": "client.authentication.k8s.io/v1",
            "command": "/bin/sh",
            "args": [script.display().to_string()],
        }))
        .unwrap_or_else(|e| panic!("{e}"));
        let status = run_exec(&exec).await.unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(status.token.as_deref(), Some("t0k"));
        let seen = std::fs::read_to_string(&seen).unwrap_or_else(|e| panic!("{e}"));
        assert!(seen.starts_with("eof\n"), "stdin is closed: {seen}");
        assert!(seen.contains("\"interactive\":false"), "{seen}");
        let mut config = kube::Config::new(
            "https://127.0.0.1:1"
                .parse()
                .unwrap_or_else(|e| panic!("{e}")),
        );
        let until = apply_credentials(&mut config, status);
        assert_eq!(until, "2030-01-01T00:00:00Z".parse().ok());
        assert!(config.auth_info.token.is_some());
    }

    #[test]
    fn exec_plugins_are_never_interactive() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let a = write(
            dir.path(),
            "a",
            &config("ca", "https://127.0.0.1:1", &["one"], "one"),
        );
        let mut kc = read_kubeconfig(Some(a.as_os_str()), None).unwrap_or_else(|e| panic!("{e}"));
        never_interactive(&mut kc);
        let exec = kc.auth_infos[0]
            .auth_info
            .as_ref()
            .and_then(|a| a.exec.as_ref())
            .map(|e| e.interactive_mode.clone());
        assert_eq!(exec, Some(Some(ExecInteractiveMode::Never)));
    }
}
