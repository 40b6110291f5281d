//! One kube client per kubeconfig context. `KUBECONFIG` (several paths) is read as kubectl
//! reads it: entries that do not exist are skipped, the rest merged (the first file to name
//! a cluster, user or context wins, and the first `current-context`). Every exec credential
//! plugin runs with `interactiveMode: Never`: no stdin, its stderr captured, so a plugin can
//! never write into the console's screen or read its keys.
//!
//! Building a client runs the exec plugins (kube-rs does it synchronously, up to three times
//! for a plugin that returns a client certificate), so [`build`] runs on a blocking thread.

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use kube::config::{ExecInteractiveMode, KubeConfigOptions, Kubeconfig, KubeconfigError};

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
    let home = std::env::var_os("HOME").map(|h| Path::new(&h).join(".kube").join("config"));
    let mut kc = read_kubeconfig(std::env::var_os("KUBECONFIG").as_deref(), home)?;
    never_interactive(&mut kc);
    Ok(kc)
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
    let listed: Vec<PathBuf> = env
        .map(|v| {
            std::env::split_paths(v)
                .filter(|p| !p.as_os_str().is_empty())
                .collect()
        })
        .unwrap_or_default();
    let from_env = !listed.is_empty();
    let paths = if from_env {
        listed
    } else {
        match default {
            Some(p) => vec![p],
            None => {
                return Err(KubeError::Kubeconfig(
                    "KUBECONFIG is not set and there is no home directory".into(),
                ));
            }
        }
    };
    let mut merged: Option<Kubeconfig> = None;
    for path in &paths {
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

/// Build a client from `config` on a blocking thread (exec plugins run here).
pub async fn build(config: kube::Config, context: &str) -> Result<kube::Client, KubeError> {
    let context = context.to_string();
    let built = tokio::task::spawn_blocking(move || kube::Client::try_from(config)).await;
    match built {
        Ok(Ok(client)) => Ok(client),
        Ok(Err(e)) => Err(KubeError::Context {
            context,
            message: e.to_string(),
        }),
        Err(e) => Err(KubeError::Context {
            context,
            message: format!("building the client failed: {e}"),
        }),
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
