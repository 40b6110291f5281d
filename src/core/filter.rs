//! The filter (`/`): its syntax, parsed once per edit, and what it and the cluster chooser
//! show in each panel. Pure; `update::settle` rebuilds [`Shown`] when the text, the hidden
//! clusters, the releases or the failures change — never per row per frame.
//!
//! Syntax (help documents it): words separated by spaces, all of which must match (AND),
//! case-insensitive.
//! - a plain word is found in the cluster, namespace, name, kind, phase or message;
//! - `cluster:X` / `ns:X` (or `namespace:X`): the cluster / namespace contains X;
//! - `kind:X`: the kind (Deployment, Rollout, Canary; short or plural forms too) starts with
//!   X; `phase:X`: the phase (Healthy, Progressing, Paused, Degraded) starts with X;
//! - `a/b/c` is a path `cluster/namespace/name`, `a/b` is `cluster/name` or `ns/name` (or a
//!   `cluster/ns` being typed): the earlier parts are exact, the last one a prefix.
//!
//! Panels: a failure is shown when its cluster is shown and it matches the filter or is about
//! a shown release; an SLO when one of its clusters is shown (the clusters of the releases
//! that use its service; an SLO no release uses belongs to every cluster) and its name or
//! service matches the filter or a shown release uses it.

use std::collections::{BTreeSet, HashMap, HashSet};

use super::model::{Failure, Release, ReleaseKey, SloStatus};
use super::state::State;

/// One term of the filter; values are lower-case.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Term {
    Word(String),
    Cluster(String),
    Namespace(String),
    Kind(String),
    Phase(String),
    /// Two or three parts; empty earlier parts match anything.
    Path(Vec<String>),
}

/// A parsed filter. `source` is the text it was parsed from, so `settle` re-parses only
/// when the text changed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Filter {
    source: String,
    terms: Vec<Term>,
}

impl Filter {
    pub fn parse(text: &str) -> Filter {
        let terms = text.split_whitespace().filter_map(term).collect();
        Filter {
            source: text.to_string(),
            terms,
        }
    }

    pub fn source(&self) -> &str {
        &self.source
    }

    /// No term: everything matches.
    pub fn is_empty(&self) -> bool {
        self.terms.is_empty()
    }

    pub fn matches_release(&self, r: &Release) -> bool {
        self.terms.iter().all(|t| release_term(t, r))
    }

    pub fn matches_failure(&self, f: &Failure) -> bool {
        self.terms.iter().all(|t| failure_term(t, f))
    }

    /// By the SLO's own name and service, and the clusters it belongs to; `ns:`, `kind:`,
    /// `phase:` and paths never match an SLO itself (it is shown through a release).
    pub fn matches_slo(&self, s: &SloStatus, clusters: Option<&BTreeSet<&str>>) -> bool {
        self.terms.iter().all(|t| match t {
            Term::Word(w) => contains(&s.spec.name, w) || contains(&s.spec.service, w),
            Term::Cluster(c) => clusters.is_some_and(|cs| cs.iter().any(|x| contains(x, c))),
            _ => false,
        })
    }
}

/// One whitespace-separated word of the filter. An empty `key:` is still being typed and
/// matches everything (so the table does not blink empty while typing).
fn term(word: &str) -> Option<Term> {
    let lower = word.to_lowercase();
    if let Some((key, value)) = lower.split_once(':') {
        let make: Option<fn(String) -> Term> = match key {
            "cluster" => Some(Term::Cluster),
            "ns" | "namespace" => Some(Term::Namespace),
            "kind" => Some(Term::Kind),
            "phase" => Some(Term::Phase),
            _ => None,
        };
        if let Some(make) = make {
            return (!value.is_empty()).then(|| make(value.to_string()));
        }
    }
    if lower.contains('/') {
        let parts: Vec<String> = lower.split('/').map(str::to_string).collect();
        if parts.len() <= 3 {
            return Some(Term::Path(parts));
        }
    }
    Some(Term::Word(lower))
}

/// Case-insensitive substring; `needle` is already lower-case. No allocation for ASCII.
fn contains(hay: &str, needle: &str) -> bool {
    if needle.is_empty() {
        return true;
    }
    if hay.is_ascii() {
        let (h, n) = (hay.as_bytes(), needle.as_bytes());
        return h.windows(n.len()).any(|w| w.eq_ignore_ascii_case(n));
    }
    hay.to_lowercase().contains(needle)
}

fn starts_with(hay: &str, prefix: &str) -> bool {
    hay.get(..prefix.len())
        .is_some_and(|h| h.eq_ignore_ascii_case(prefix))
        || (!hay.is_ascii() && hay.to_lowercase().starts_with(prefix))
}

fn equals(hay: &str, want: &str) -> bool {
    want.is_empty() || hay.eq_ignore_ascii_case(want) || hay.to_lowercase() == want
}

fn kind_names(r: &Release) -> [&'static str; 3] {
    let api = r.key.kind.api();
    [api.name, api.short, api.plural]
}

/// `a/b/c`: cluster/ns/name; `a/b`: cluster/name, ns/name or cluster/ns (being typed).
fn path_matches(parts: &[String], cluster: &str, ns: &str, name: &str) -> bool {
    match parts {
        [c, n, last] => equals(cluster, c) && equals(ns, n) && starts_with(name, last),
        [first, last] => {
            (equals(cluster, first) && (starts_with(name, last) || starts_with(ns, last)))
                || (equals(ns, first) && starts_with(name, last))
        }
        _ => false,
    }
}

fn release_term(t: &Term, r: &Release) -> bool {
    let k = &r.key;
    match t {
        Term::Word(w) => {
            contains(&k.cluster, w)
                || contains(&k.namespace, w)
                || contains(&k.name, w)
                || contains(r.phase.as_str(), w)
                || kind_names(r).iter().any(|n| contains(n, w))
                || contains(r.message.raw(), w)
        }
        Term::Cluster(c) => contains(&k.cluster, c),
        Term::Namespace(n) => contains(&k.namespace, n),
        Term::Kind(x) => kind_names(r).iter().any(|n| starts_with(n, x)),
        Term::Phase(p) => starts_with(r.phase.as_str(), p),
        Term::Path(parts) => path_matches(parts, &k.cluster, &k.namespace, &k.name),
    }
}

/// A failure's object is `kind/name` (`pod/checkout-7d9f-x`, `rollout/api`).
fn failure_term(t: &Term, f: &Failure) -> bool {
    let (kind, name) = f.object.split_once('/').unwrap_or(("", &f.object));
    match t {
        Term::Word(w) => {
            contains(&f.cluster, w)
                || contains(&f.namespace, w)
                || contains(&f.object, w)
                || contains(&f.reason, w)
                || contains(f.message.raw(), w)
        }
        Term::Cluster(c) => contains(&f.cluster, c),
        Term::Namespace(n) => contains(&f.namespace, n),
        // `deploy/x` is a Deployment's failure: either name may be the shorter one.
        Term::Kind(x) => !kind.is_empty() && (starts_with(kind, x) || starts_with(x, kind)),
        Term::Phase(_) => false,
        Term::Path(parts) => path_matches(parts, &f.cluster, &f.namespace, name),
    }
}

/// What the SLO and failures panels show (indices into `state.slos` and the failure feed,
/// in their order), rebuilt by `settle` with the releases' order.
#[derive(Debug, Clone, Default)]
pub struct Shown {
    pub filter: Filter,
    pub slos: Vec<usize>,
    pub failures: Vec<usize>,
    /// The failure feed's generation these indices were built from.
    pub failures_seen: u64,
}

/// Re-parse the filter if its text changed; true when it did.
pub fn reparse(state: &mut State) -> bool {
    if state.view.shown.filter.source() == state.view.filter.value() {
        return false;
    }
    state.view.shown.filter = Filter::parse(state.view.filter.value());
    true
}

/// Rebuild which SLOs and failures are shown, from the releases now in `view.order`.
pub fn rebuild_panels(state: &mut State) {
    let shown = &state.view.shown;
    let hidden = &state.view.hidden_clusters;
    let visible_release = |k: &ReleaseKey| state.releases.get(k);
    // The releases now shown, by (cluster, namespace), and the services they use.
    let mut by_ns: HashMap<(&str, &str), Vec<&str>> = HashMap::new();
    let mut services: HashSet<&str> = HashSet::new();
    for r in state.view.order.iter().filter_map(visible_release) {
        by_ns
            .entry((r.key.cluster.as_str(), r.key.namespace.as_str()))
            .or_default()
            .push(r.key.name.as_str());
        if let Some(s) = r.service.as_deref() {
            services.insert(s);
        }
    }
    // The clusters each service runs on (every known release, shown or not).
    let mut service_clusters: HashMap<&str, BTreeSet<&str>> = HashMap::new();
    for r in state.releases.values() {
        if let Some(s) = r.service.as_deref() {
            service_clusters
                .entry(s)
                .or_default()
                .insert(r.key.cluster.as_str());
        }
    }
    let any_cluster_shown = state.clusters.iter().any(|c| !hidden.contains(&c.name));
    let filter = &shown.filter;
    let slos: Vec<usize> = state
        .slos
        .iter()
        .enumerate()
        .filter(|(_, s)| {
            let clusters = service_clusters.get(s.spec.service.as_str());
            let cluster_shown = match clusters {
                Some(cs) => cs.iter().any(|c| !hidden.contains(*c)),
                None => any_cluster_shown,
            };
            cluster_shown
                && (filter.matches_slo(s, clusters) || services.contains(s.spec.service.as_str()))
        })
        .map(|(i, _)| i)
        .collect();
    let about_shown = |f: &Failure| {
        by_ns
            .get(&(f.cluster.as_str(), f.namespace.as_str()))
            .is_some_and(|names| names.iter().any(|n| f.object.contains(n)))
    };
    let failures: Vec<usize> = state
        .failures
        .items()
        .iter()
        .enumerate()
        .filter(|(_, f)| !hidden.contains(&f.cluster))
        .filter(|(_, f)| filter.is_empty() || filter.matches_failure(f) || about_shown(f))
        .map(|(i, _)| i)
        .collect();
    let generation = state.failures.generation();
    let v = &mut state.view;
    if v.shown.slos != slos || v.shown.failures != failures {
        state.dirty = true;
    }
    v.shown.slos = slos;
    v.shown.failures = failures;
    v.shown.failures_seen = generation;
    v.slo_selected = v.slo_selected.min(v.shown.slos.len().saturating_sub(1));
    v.failure_selected = v
        .failure_selected
        .min(v.shown.failures.len().saturating_sub(1));
    // The panels' sizes decide how many release rows fit.
    super::input::clamp_scroll(state);
}

#[cfg(test)]
mod tests;
