//! The offline source: Kubernetes objects captured in files, read as read-only clusters —
//! for post-incident review of captured state and for fixture tests.
//!
//! Accepts what `kubectl get -o yaml|json` writes: single objects, `kind: List` (and typed
//! lists such as `DeploymentList`), multi-document YAML, and directories of such files
//! (recursively; `.yaml`, `.yml` and `.json`; hidden entries skipped).
//!
//! Cluster names: each PATH argument is one cluster, named after the file's stem or the
//! directory's name (`captures/prod-eu/` → `prod-eu`, `rollouts.yaml` → `rollouts`). Write
//! `NAME=PATH` to choose the name; arguments with the same name form one cluster, so
//! `prod=deploy.yaml prod=rollouts.yaml` is one cluster read from two files.
//!
//! A file that cannot be read or parsed, or a document that is not a Kubernetes object, is an
//! error naming the file and the document (1-based). An object of a known kind with wrong
//! field types or an unknown version is not: it becomes an unparseable row, as in a live watch.
//! Kinds the console does not show (Services, Pods, ...) are skipped.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use serde_json::Value;

use super::kube::project::{self, Keep, Projected};
use crate::core::facts::{ObjectFacts, WarningEvent};
use crate::core::model::Connection;
use crate::core::msg::{Msg, ObjectKind};

/// Directories nested deeper than this are not read (and symlink loops end here).
const MAX_DEPTH: usize = 16;

#[derive(Debug, thiserror::Error)]
pub enum FilesError {
    #[error("{path}: cannot read: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("{path}: document {document}: {message}")]
    Parse {
        path: String,
        document: usize,
        message: String,
    },
    #[error("{path}: no .yaml, .yml or .json files in it")]
    Empty { path: String },
}

/// Everything read from the files, as the console's messages.
#[derive(Debug, Default)]
pub struct Capture {
    /// Cluster names, in the order their first argument was given.
    pub clusters: Vec<String>,
    /// Per cluster: `Connection::Connected`, one `Relisted` per kind, then the warnings.
    pub messages: Vec<Msg>,
}

/// Read every path. See the module docs for naming and what counts as an error.
pub fn load(args: &[PathBuf]) -> Result<Capture, FilesError> {
    load_with(args, &Keep::default())
}

pub fn load_with(args: &[PathBuf], keep: &Keep) -> Result<Capture, FilesError> {
    let mut clusters: Vec<(String, ClusterObjects)> = Vec::new();
    for arg in args {
        let (name, path) = cluster_of(arg);
        let index = match clusters.iter().position(|(n, _)| *n == name) {
            Some(i) => i,
            None => {
                clusters.push((name, ClusterObjects::default()));
                clusters.len() - 1
            }
        };
        let mut files = Vec::new();
        collect(&path, 0, &mut files)?;
        if files.is_empty() {
            return Err(FilesError::Empty {
                path: path.display().to_string(),
            });
        }
        for file in files {
            read_file(&file, keep, &mut clusters[index].1)?;
        }
    }
    let mut capture = Capture::default();
    for (name, objects) in clusters {
        objects.into_messages(&name, &mut capture.messages);
        capture.clusters.push(name);
    }
    Ok(capture)
}

/// `NAME=PATH`, or the path named after itself.
fn cluster_of(arg: &Path) -> (String, PathBuf) {
    let text = arg.to_string_lossy();
    if !arg.exists()
        && let Some((name, path)) = text.split_once('=')
        && !name.is_empty()
        && !name.contains(std::path::MAIN_SEPARATOR)
    {
        return (name.to_string(), PathBuf::from(path));
    }
    let name = if arg.is_dir() {
        arg.file_name()
    } else {
        arg.file_stem()
    }
    .map(|n| n.to_string_lossy().into_owned())
    .filter(|n| !n.is_empty() && n != "." && n != "..")
    .unwrap_or_else(|| "files".to_string());
    (name, arg.to_path_buf())
}

fn read_error(path: &Path, source: std::io::Error) -> FilesError {
    FilesError::Read {
        path: path.display().to_string(),
        source,
    }
}

/// The files to read under `path`, sorted so the result does not depend on the filesystem.
fn collect(path: &Path, depth: usize, out: &mut Vec<PathBuf>) -> Result<(), FilesError> {
    let meta = std::fs::metadata(path).map_err(|e| read_error(path, e))?;
    if !meta.is_dir() {
        // Named explicitly: read it whatever its extension.
        if depth == 0 || has_object_extension(path) {
            out.push(path.to_path_buf());
        }
        return Ok(());
    }
    if depth >= MAX_DEPTH {
        return Ok(());
    }
    let mut entries: Vec<PathBuf> = std::fs::read_dir(path)
        .map_err(|e| read_error(path, e))?
        .map(|e| e.map(|e| e.path()))
        .collect::<Result<_, _>>()
        .map_err(|e| read_error(path, e))?;
    entries.sort();
    for entry in entries {
        let hidden = entry
            .file_name()
            .is_some_and(|n| n.to_string_lossy().starts_with('.'));
        if !hidden {
            collect(&entry, depth + 1, out)?;
        }
    }
    Ok(())
}

fn has_object_extension(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| matches!(e.to_ascii_lowercase().as_str(), "yaml" | "yml" | "json"))
}

/// The top-level documents of one file.
fn documents(path: &Path, text: &str) -> Result<Vec<Value>, FilesError> {
    let parse_error = |document: usize, message: String| FilesError::Parse {
        path: path.display().to_string(),
        document,
        message,
    };
    let is_json = path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("json"));
    if is_json {
        return serde_json::from_str(text)
            .map(|v| vec![v])
            .map_err(|e| parse_error(1, e.to_string()));
    }
    let mut out = Vec::new();
    for (i, doc) in serde_yaml::Deserializer::from_str(text).enumerate() {
        let value = Value::deserialize(doc).map_err(|e| parse_error(i + 1, e.to_string()))?;
        out.push(value);
    }
    Ok(out)
}

fn read_file(path: &Path, keep: &Keep, into: &mut ClusterObjects) -> Result<(), FilesError> {
    let bytes = std::fs::read(path).map_err(|e| read_error(path, e))?;
    let text = String::from_utf8(bytes).map_err(|e| FilesError::Parse {
        path: path.display().to_string(),
        document: 1,
        message: format!("not UTF-8 text: {e}"),
    })?;
    for (i, doc) in documents(path, &text)?.into_iter().enumerate() {
        let parse_error = |message: String| FilesError::Parse {
            path: path.display().to_string(),
            document: i + 1,
            message,
        };
        if doc.is_null() {
            continue; // an empty document (`---` at the end)
        }
        for (j, item) in items(doc).into_iter().enumerate() {
            let projected = project::from_value(item.value, keep).map_err(|m| {
                parse_error(if item.in_list {
                    format!("item {}: {m}", j + 1)
                } else {
                    m
                })
            })?;
            into.add(projected);
        }
    }
    Ok(())
}

struct Item {
    value: Value,
    in_list: bool,
}

/// A List's items, or the document itself.
fn items(mut doc: Value) -> Vec<Item> {
    let is_list = doc
        .get("kind")
        .and_then(Value::as_str)
        .is_some_and(|k| k.ends_with("List"))
        && doc.get("items").is_some_and(Value::is_array);
    if !is_list {
        return vec![Item {
            value: doc,
            in_list: false,
        }];
    }
    match doc.get_mut("items").map(Value::take) {
        Some(Value::Array(items)) => items
            .into_iter()
            .map(|value| Item {
                value,
                in_list: true,
            })
            .collect(),
        _ => Vec::new(),
    }
}

/// One cluster's objects; the last copy of an object wins.
#[derive(Debug, Default)]
struct ClusterObjects {
    objects: BTreeMap<(ObjectKind, String, String), ObjectFacts>,
    warnings: Vec<WarningEvent>,
}

impl ClusterObjects {
    fn add(&mut self, p: Projected) {
        match p {
            Projected::Object(o) => {
                // An unparseable object goes with the kind it claims to be; the projection
                // only lets through kinds the catalogue lists.
                let Some(kind) = o.listed_kind() else {
                    tracing::debug!(object = ?o.meta_name(), "object of no catalogued kind ignored");
                    return;
                };
                let (ns, name) = o.meta_name();
                self.objects
                    .insert((kind, ns.to_string(), name.to_string()), o);
            }
            Projected::Warning(w) => self.warnings.push(w),
            Projected::Ignored => {}
        }
    }

    fn into_messages(self, cluster: &str, out: &mut Vec<Msg>) {
        out.push(Msg::Connection {
            cluster: cluster.to_string(),
            connection: Connection::Connected,
        });
        // Every object kind is relisted (empty or not), in catalogue order; events are sent
        // as warnings below.
        let mut by_kind: BTreeMap<ObjectKind, Vec<ObjectFacts>> = ObjectKind::ALL
            .into_iter()
            .filter(|k| *k != ObjectKind::Event)
            .map(|k| (k, Vec::new()))
            .collect();
        for ((kind, _, _), o) in self.objects {
            by_kind.entry(kind).or_default().push(o);
        }
        for (kind, objects) in by_kind {
            out.push(Msg::Relisted {
                cluster: cluster.to_string(),
                kind,
                objects,
            });
        }
        for event in self.warnings {
            out.push(Msg::Warning {
                cluster: cluster.to_string(),
                event,
            });
        }
    }
}
