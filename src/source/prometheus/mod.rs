//! Prometheus: SLO error ratios by instant query (reference/slo.md). One task per
//! Prometheus server evaluates all of its SLOs every interval (and once at start), one
//! request in flight at a time, and only sends `Msg`s: it never blocks the UI.
//!
//! Missing data is never zero: a window without a series (or NaN from 0/0) is `None`, and a
//! server that is down, slow or erroring yields `Msg::SloUnavailable`.

mod client;
mod error;
mod query;
mod response;

use std::time::Duration;

use jiff::Timestamp;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

pub use client::{Target, build_client, time_param};
pub use error::PromError;
pub use query::{
    SLO_WINDOW_LABEL, WindowQuery, batched_query, escape_label_value, prom_duration, window_queries,
};
pub use response::{decode, parse_value, ratio};

use crate::config::{Config, SloConfig, parse_window};
use crate::core::model::{BurnWindow, SloSpec};
use crate::core::msg::{Msg, SloReport};
use crate::core::text::Untrusted;

/// SLO specs for the core, from the config (objective, window parsed, window label).
/// SLOs whose window does not parse are left out (config validation rejects them first).
pub fn slo_specs(configs: &[SloConfig]) -> Vec<SloSpec> {
    configs
        .iter()
        .filter_map(|c| {
            Some(SloSpec {
                name: c.name.clone(),
                service: c.service.clone(),
                objective: c.objective,
                window: parse_window(&c.window)?,
                window_label: c.window.clone(),
            })
        })
        .collect()
}

/// Which Prometheus evaluates which SLOs.
#[derive(Debug, Clone, Default)]
pub struct Assignment {
    pub targets: Vec<(Target, Vec<SloConfig>)>,
    /// SLOs with no Prometheus to ask (no global one, none on their cluster).
    pub unassigned: Vec<String>,
}

/// Group the configured SLOs by Prometheus server. `url_override` (`--prometheus URL` or
/// `SHIPDECK_PROMETHEUS_URL`) sets or replaces the global URL, keeping the global token, CA,
/// timeout and interval. An SLO with `cluster = "x"` uses that cluster's `prometheus` URL if
/// it has one (with the global timeout, interval and CA, but never the global bearer token:
/// a token is only sent to the server it was configured for), else the global one.
pub fn assign(config: &Config, url_override: Option<&str>) -> Assignment {
    let global: Option<Target> = match (&config.prometheus, url_override) {
        (Some(p), Some(url)) => Some(Target {
            url: url.to_owned(),
            ..Target::from_config(p)
        }),
        (Some(p), None) => Some(Target::from_config(p)),
        (None, Some(url)) => Some(Target::new(url)),
        (None, None) => None,
    };
    let mut out = Assignment::default();
    for slo in &config.slos {
        let cluster_url = slo.cluster.as_deref().and_then(|name| {
            config
                .clusters
                .iter()
                .find(|c| c.display_name() == name || c.context == name)
                .and_then(|c| c.prometheus.clone())
        });
        let target = match (cluster_url, &global) {
            (Some(url), Some(g)) if url == g.url => Some(g.clone()),
            (Some(url), Some(g)) => Some(Target {
                url,
                bearer_token_file: None,
                ..g.clone()
            }),
            (Some(url), None) => Some(Target::new(url)),
            (None, g) => g.clone(),
        };
        match target {
            Some(t) => match out.targets.iter_mut().find(|(x, _)| *x == t) {
                Some((_, slos)) => slos.push(slo.clone()),
                None => out.targets.push((t, vec![slo.clone()])),
            },
            None => out.unassigned.push(slo.name.clone()),
        }
    }
    out
}

/// Start one evaluation task per Prometheus server. SLOs without a server are reported
/// unavailable once. Tasks end when the receiver is dropped.
pub fn spawn_all(assignment: Assignment, tx: mpsc::Sender<Msg>) -> Vec<JoinHandle<()>> {
    let mut handles = Vec::new();
    if !assignment.unassigned.is_empty() {
        let tx = tx.clone();
        let names = assignment.unassigned;
        handles.push(tokio::spawn(async move {
            let at = Timestamp::now();
            for slo in names {
                if tx.send(no_prometheus(&slo, at)).await.is_err() {
                    return;
                }
            }
        }));
    }
    for (target, slos) in assignment.targets {
        handles.push(spawn(target, slos, tx.clone()));
    }
    handles
}

/// The evaluation task for one Prometheus server: all its SLOs once at start and then every
/// `target.interval`, one request at a time, each bounded by `target.timeout`. A round never
/// overlaps the next (a late round delays the following one).
pub fn spawn(target: Target, slos: Vec<SloConfig>, tx: mpsc::Sender<Msg>) -> JoinHandle<()> {
    tokio::spawn(async move {
        let client = build_client(&target);
        let mut ticker = tokio::time::interval(target.interval.max(Duration::from_secs(1)));
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticker.tick().await;
            let at = Timestamp::now();
            let msgs = match &client {
                Ok(client) => evaluate_with(client, &target, &slos, at).await,
                Err(e) => unavailable_all(&slos, at, e),
            };
            for msg in msgs {
                if tx.send(msg).await.is_err() {
                    return;
                }
            }
        }
    })
}

/// Every configured SLO once, now (for `shipdeck snapshot`): the servers are asked in
/// parallel, each one request at a time; SLOs without a server come back unavailable.
pub async fn evaluate_all_once(assignment: &Assignment) -> Vec<Msg> {
    let at = Timestamp::now();
    let rounds = assignment
        .targets
        .iter()
        .map(|(target, slos)| evaluate_at(target, slos, at));
    let mut out: Vec<Msg> = futures::future::join_all(rounds)
        .await
        .into_iter()
        .flatten()
        .collect();
    out.extend(
        assignment
            .unassigned
            .iter()
            .map(|slo| no_prometheus(slo, at)),
    );
    out
}

/// Evaluate every SLO once, now.
pub async fn evaluate_once(target: &Target, slos: &[SloConfig]) -> Vec<Msg> {
    evaluate_at(target, slos, Timestamp::now()).await
}

/// Evaluate every SLO once with the evaluation time pinned to `at`: one message per SLO,
/// `Msg::Slo` or `Msg::SloUnavailable`, in config order.
pub async fn evaluate_at(target: &Target, slos: &[SloConfig], at: Timestamp) -> Vec<Msg> {
    match build_client(target) {
        Ok(client) => evaluate_with(&client, target, slos, at).await,
        Err(e) => unavailable_all(slos, at, &e),
    }
}

/// One round: one batched query per SLO, sequentially. Once the server proved unreachable
/// in this round, the remaining SLOs get the same error without another wait.
async fn evaluate_with(
    client: &reqwest::Client,
    target: &Target,
    slos: &[SloConfig],
    at: Timestamp,
) -> Vec<Msg> {
    let mut out = Vec::with_capacity(slos.len());
    let mut down: Option<String> = None;
    for slo in slos {
        if let Some(error) = &down {
            out.push(unavailable(slo, at, error.clone()));
            continue;
        }
        match client::instant_query(client, target, &batched_query(slo), at).await {
            Ok(values) => out.push(Msg::Slo(report(slo, at, &values))),
            Err(e) => {
                let text = e.to_string();
                if e.is_transport() {
                    down = Some(text.clone());
                }
                tracing::debug!(slo = %slo.name, error = %text, "SLO evaluation failed");
                out.push(unavailable(slo, at, text));
            }
        }
    }
    out
}

/// A report from the samples of one batched answer.
fn report(
    slo: &SloConfig,
    at: Timestamp,
    values: &std::collections::BTreeMap<String, f64>,
) -> SloReport {
    SloReport {
        slo: slo.name.clone(),
        at,
        ratios: BurnWindow::ALL
            .iter()
            .map(|w| (*w, response::ratio(values.get(w.as_str()).copied())))
            .collect(),
        window_ratio: response::ratio(values.get(SLO_WINDOW_LABEL).copied()),
    }
}

fn unavailable(slo: &SloConfig, at: Timestamp, error: String) -> Msg {
    Msg::SloUnavailable {
        slo: slo.name.clone(),
        at,
        error: Untrusted::new(error),
    }
}

fn no_prometheus(slo: &str, at: Timestamp) -> Msg {
    Msg::SloUnavailable {
        slo: slo.to_owned(),
        at,
        error: Untrusted::new("no Prometheus configured for this SLO"),
    }
}

fn unavailable_all(slos: &[SloConfig], at: Timestamp, e: &PromError) -> Vec<Msg> {
    slos.iter()
        .map(|s| unavailable(s, at, e.to_string()))
        .collect()
}

#[cfg(test)]
mod tests;
