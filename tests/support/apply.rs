//! Server-side apply of YAML manifests through kube-rs (no kubectl needed).

use anyhow::{Context, Result, anyhow};
use kube::api::{Api, DynamicObject, Patch, PatchParams, PostParams};
use kube::core::GroupVersionKind;
use kube::discovery::{Scope, pinned_kind};
use serde::Deserialize;

/// Field manager of everything the tests apply.
pub const FIELD_MANAGER: &str = "shipdeck-e2e";

/// Server-side apply every document of a (multi-document) YAML string. Namespaced objects
/// without `metadata.namespace` go to `namespace` (or the error says which one lacked it).
/// Returns the applied objects as the server stored them, in document order.
pub async fn apply_yaml(
    client: &kube::Client,
    namespace: Option<&str>,
    yaml: &str,
) -> Result<Vec<DynamicObject>> {
    let mut applied = Vec::new();
    for doc in serde_yaml::Deserializer::from_str(yaml) {
        let value = serde_json::Value::deserialize(doc).context("parsing manifest YAML")?;
        if value.is_null() {
            continue; // empty document (e.g. a trailing `---`)
        }
        applied.push(apply_value(client, namespace, value).await?);
    }
    Ok(applied)
}

/// Server-side apply one object given as JSON.
pub async fn apply_value(
    client: &kube::Client,
    namespace: Option<&str>,
    value: serde_json::Value,
) -> Result<DynamicObject> {
    let obj: DynamicObject = serde_json::from_value(value).context("not a Kubernetes object")?;
    let types = obj
        .types
        .clone()
        .ok_or_else(|| anyhow!("object without apiVersion/kind"))?;
    let name = obj
        .metadata
        .name
        .clone()
        .ok_or_else(|| anyhow!("{} without metadata.name", types.kind))?;
    let gvk = GroupVersionKind::try_from(&types)?;
    let api = dynamic_api(
        client,
        &gvk,
        obj.metadata.namespace.as_deref().or(namespace),
    )
    .await?;
    api.patch(
        &name,
        &PatchParams::apply(FIELD_MANAGER).force(),
        &Patch::Apply(&obj),
    )
    .await
    .with_context(|| format!("applying {} {name}", types.kind))
}

/// An `Api<DynamicObject>` for a kind, resolved through discovery.
pub async fn dynamic_api(
    client: &kube::Client,
    gvk: &GroupVersionKind,
    namespace: Option<&str>,
) -> Result<Api<DynamicObject>> {
    let (resource, caps) = pinned_kind(client, gvk)
        .await
        .with_context(|| format!("discovering {gvk:?}"))?;
    Ok(match (caps.scope, namespace) {
        (Scope::Cluster, _) => Api::all_with(client.clone(), &resource),
        (Scope::Namespaced, Some(ns)) => Api::namespaced_with(client.clone(), ns, &resource),
        (Scope::Namespaced, None) => {
            return Err(anyhow!("{} is namespaced: give a namespace", gvk.kind));
        }
    })
}

/// Create a namespace (idempotent).
pub async fn ensure_namespace(client: &kube::Client, name: &str) -> Result<()> {
    use k8s_openapi::api::core::v1::Namespace;
    let api: Api<Namespace> = Api::all(client.clone());
    let ns: Namespace = serde_json::from_value(super::manifests::namespace(name))?;
    match api.create(&PostParams::default(), &ns).await {
        Ok(_) => Ok(()),
        Err(kube::Error::Api(e)) if e.code == 409 => Ok(()),
        Err(e) => Err(e).with_context(|| format!("creating namespace {name}")),
    }
}

/// Delete a namespace, not waiting for it to go (tests use unique namespaces).
pub async fn delete_namespace(client: &kube::Client, name: &str) -> Result<()> {
    use k8s_openapi::api::core::v1::Namespace;
    let api: Api<Namespace> = Api::all(client.clone());
    match api.delete(name, &Default::default()).await {
        Ok(_) => Ok(()),
        Err(kube::Error::Api(e)) if e.code == 404 => Ok(()),
        Err(e) => Err(e).with_context(|| format!("deleting namespace {name}")),
    }
}

/// Deletes a test namespace when the test ends, passed or failed, so repeated runs against
/// one environment do not pile up namespaces (doctor, for one, checks only the first 20).
pub struct NamespaceCleanup {
    context: String,
    namespace: String,
}

impl NamespaceCleanup {
    pub fn new(context: &str, namespace: &str) -> Self {
        NamespaceCleanup {
            context: context.to_string(),
            namespace: namespace.to_string(),
        }
    }
}

impl Drop for NamespaceCleanup {
    fn drop(&mut self) {
        let (context, namespace) = (self.context.clone(), self.namespace.clone());
        // The test's runtime may be the one being dropped: use a runtime of our own.
        let done = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()?;
            rt.block_on(async {
                let client = super::TestEnv::get()?.client(&context).await?;
                delete_namespace(&client, &namespace).await
            })
        })
        .join();
        if let Ok(Err(e)) = done {
            eprintln!("cleanup of {}: {e:#}", self.namespace);
        }
    }
}
