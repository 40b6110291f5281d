//! One kube client per kubeconfig context. `KUBECONFIG` (several paths) is honoured.

use std::time::Duration;

use kube::config::{KubeConfigOptions, Kubeconfig};

#[derive(Debug, thiserror::Error)]
pub enum KubeError {
    #[error("kubeconfig: {0}")]
    Kubeconfig(String),
    #[error("context {context:?}: {message}")]
    Context { context: String, message: String },
    #[error("{0}")]
    Api(String),
}

/// The merged kubeconfig (from `KUBECONFIG` or ~/.kube/config).
pub fn kubeconfig() -> Result<Kubeconfig, KubeError> {
    Kubeconfig::read().map_err(|e| KubeError::Kubeconfig(e.to_string()))
}

/// All context names, and the current one.
pub fn contexts() -> Result<(Vec<String>, Option<String>), KubeError> {
    let kc = kubeconfig()?;
    let names = kc.contexts.iter().map(|c| c.name.clone()).collect();
    Ok((names, kc.current_context.clone()))
}

/// A client for `context` (None: the current context), with bounded connect/read timeouts so
/// a dead cluster is noticed quickly instead of hanging.
pub async fn client_for(context: Option<&str>) -> Result<kube::Client, KubeError> {
    let kc = kubeconfig()?;
    let name = context
        .map(str::to_string)
        .or_else(|| kc.current_context.clone())
        .unwrap_or_default();
    let options = KubeConfigOptions {
        context: context.map(str::to_string),
        ..KubeConfigOptions::default()
    };
    let mut config = kube::Config::from_custom_kubeconfig(kc, &options)
        .await
        .map_err(|e| KubeError::Context {
            context: name.clone(),
            message: e.to_string(),
        })?;
    config.connect_timeout = Some(Duration::from_secs(4));
    // Watches are long-lived; the read timeout must outlast the server's watch timeout.
    config.read_timeout = Some(Duration::from_secs(330));
    kube::Client::try_from(config).map_err(|e| KubeError::Context {
        context: name,
        message: e.to_string(),
    })
}
