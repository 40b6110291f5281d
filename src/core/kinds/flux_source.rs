//! Flux sources: source.toolkit.fluxcd.io/v1 GitRepository and OCIRepository, where
//! Kustomizations and HelmReleases take their revisions from. Not releases and not watched
//! (the watch budget keeps two Flux watches per cluster): read with one GET when shown.
//! Their facts: Ready and its message, the artifact's revision. Pure; no IO.

use crate::core::facts::ObjectMeta;
use crate::core::text::Untrusted;

use super::flux::Ready;

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
