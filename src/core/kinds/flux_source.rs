//! Flux sources: source.toolkit.fluxcd.io/v1 GitRepository and OCIRepository, where
//! Kustomizations and HelmReleases take their revisions from. Not releases and not watched
//! (the watch budget keeps two Flux watches per cluster): read with one GET when shown.
//! Their facts: Ready and its message, the artifact's revision. Pure; no IO.

use crate::core::action::Resource;
use crate::core::facts::ObjectMeta;
use crate::core::model::ReleaseKey;
use crate::core::text::Untrusted;

use super::Kind;
use super::flux::{Ready, SourceRef};

/// One GET of a Kustomization's or HelmRelease's source (when its detail opens).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FluxSourceQuery {
    pub cluster: String,
    /// `Kind::GitRepository` or `Kind::OCIRepository`.
    pub kind: Kind,
    pub namespace: String,
    pub name: String,
}

impl FluxSourceQuery {
    /// The query for a source reference, None for a kind shipdeck does not read (a
    /// HelmRepository, a Bucket, a HelmChart).
    pub fn of(cluster: &str, source: &SourceRef) -> Option<FluxSourceQuery> {
        let kind = match source.kind.as_str() {
            "GitRepository" => Kind::GitRepository,
            "OCIRepository" => Kind::OCIRepository,
            _ => return None,
        };
        Some(FluxSourceQuery {
            cluster: cluster.to_string(),
            kind,
            namespace: source.namespace.clone(),
            name: source.name.clone(),
        })
    }

    /// The resource the GET reads, from the catalogue.
    pub fn resource(&self) -> Resource {
        super::request::resource(self.kind, None)
    }
}

/// The source the detail screen shows, read when it opened.
#[derive(Debug, Clone, PartialEq)]
pub struct FluxSourceView {
    /// The Kustomization or HelmRelease in the detail screen.
    pub release: ReleaseKey,
    pub source: SourceRef,
    /// None for a kind not read here; else the query, then its answer once it came.
    pub query: Option<FluxSourceQuery>,
    pub result: Option<Result<FluxSourceFacts, Untrusted>>,
}

/// A GitRepository or OCIRepository.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct FluxSourceFacts {
    pub meta: ObjectMeta,
    /// `GitRepository` or `OCIRepository`.
    pub kind: String,
    /// `spec.url`.
    pub url: Untrusted,
    pub suspend: bool,
    pub ready: Ready,
    pub ready_message: Untrusted,
    /// `status.artifact.revision` (`main@sha1:…`, `latest@sha256:…`).
    pub artifact_revision: String,
}

impl FluxSourceFacts {
    /// One line for the detail screen: `GitRepository ns/name Ready=True rev main@sha1:…`.
    pub fn summary(&self) -> String {
        let mut out = format!(
            "{} {}/{} Ready={}",
            self.kind,
            self.meta.namespace,
            self.meta.name,
            self.ready.as_str()
        );
        if self.suspend {
            out.push_str(" suspended");
        }
        if !self.artifact_revision.is_empty() {
            out.push_str(" rev ");
            out.push_str(&self.artifact_revision);
        }
        if !self.ready_message.is_empty() && self.ready != Ready::True {
            out.push_str(": ");
            out.push_str(self.ready_message.raw());
        }
        out
    }
}
