//! `shipdeck wait TARGET --for healthy|paused|degraded --timeout D`: watch one release until
//! it reaches a state, for CI and chat-ops, with an exit code per outcome (modelled on
//! `kubectl argo rollouts status`; see [`Outcome::code`]). The cluster's sources feed the
//! state through the one pump (`app::Pump`), as `snapshot` does; what the state says is
//! judged here by pure functions ([`judge`]). Every line printed is escaped (`core::text`).
//! Must not decide a release's phase (the kinds do) nor apply messages other than by the pump.

use std::collections::BTreeSet;
use std::process::ExitCode;
use std::time::Duration;

use jiff::Timestamp;
use tokio::time::Instant;

use crate::app::Pump;
use crate::cli::{Opts, WaitArgs, WaitFor};
use crate::commands::UsageError;
use crate::config::Config;
use crate::core::model::{Connection, Phase, Release, ReleaseKind};
use crate::core::text::escape;
use crate::core::{Msg, State};
use crate::source::kube::client as kube_client;
use crate::wiring::{demo, live};

/// How long after its connection a cluster's kinds that never listed (a CRD not installed
/// sends nothing) count as empty, so a missing release is reported as not found.
const LIST_GRACE: Duration = Duration::from_secs(10);
/// Clock ticks (stale detection, `state.now`).
const TICK: Duration = Duration::from_secs(1);

/// The release to wait for: `CLUSTER/NS/NAME`, or `NS/NAME` on the only cluster.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    pub cluster: Option<String>,
    pub namespace: String,
    pub name: String,
}

impl std::fmt::Display for Target {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if let Some(c) = &self.cluster {
            write!(f, "{}/", escape(c))?;
        }
        write!(f, "{}/{}", escape(&self.namespace), escape(&self.name))
    }
}

/// Parse `CLUSTER/NS/NAME` or `NS/NAME`; every part non-empty.
pub fn parse_target(s: &str) -> Result<Target, String> {
    let parts: Vec<&str> = s.split('/').collect();
    if parts.iter().any(|p| p.is_empty()) || !(2..=3).contains(&parts.len()) {
        return Err(format!(
            "{:?} is not CLUSTER/NAMESPACE/NAME or NAMESPACE/NAME",
            escape(s)
        ));
    }
    let (cluster, rest) = match parts.as_slice() {
        [c, rest @ ..] if parts.len() == 3 => (Some((*c).to_string()), rest),
        rest => (None, rest),
    };
    Ok(Target {
        cluster,
        namespace: rest[0].to_string(),
        name: rest[1].to_string(),
    })
}

/// How a wait ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Reached,
    TimedOut,
    /// It failed while we waited for healthy or paused.
    Degraded,
    /// Not there (after the first lists, or deleted), or its cluster unreachable.
    NotFound,
}

impl Outcome {
    /// The documented exit codes (cli.rs `WAIT_STATUS`).
    pub fn code(&self) -> u8 {
        match self {
            Outcome::Reached => 0,
            Outcome::TimedOut => 3,
            Outcome::Degraded => 4,
            Outcome::NotFound => 5,
        }
    }
}

/// What the state says about the target right now.
#[derive(Debug, PartialEq)]
pub enum Verdict<'a> {
    /// Still waiting; the release if it is there.
    Waiting(Option<&'a Release>),
    /// The wait is over: how, and the line that says why.
    Done(Outcome, String),
}

/// What one cluster's watches have delivered so far (kept from the messages as they pass).
#[derive(Debug, Default)]
pub struct Listed {
    /// Release kinds listed (or forbidden) per cluster.
    kinds: BTreeSet<(String, ReleaseKind)>,
    /// When each cluster was first connected (wait's monotonic clock).
    connected: Vec<(String, Instant)>,
    /// The release was seen at least once.
    pub seen: bool,
    /// Clusters whose first picture is in (`Msg::Synced`): every kind listed or absent.
    synced: Vec<String>,
}

impl Listed {
    /// Note what a message tells about listing, before the pump applies it.
    pub fn note(&mut self, msg: &Msg, at: Instant) {
        match msg {
            Msg::Relisted { cluster, kind, .. } => {
                if let Some(rk) = kind.release() {
                    self.kinds.insert((cluster.clone(), rk));
                }
            }
            Msg::KindForbidden { cluster, kind, .. } => {
                let rk = crate::core::kinds::Kind::ALL
                    .into_iter()
                    .find(|k| k.resource() == kind)
                    .and_then(|k| k.release());
                if let Some(rk) = rk {
                    self.kinds.insert((cluster.clone(), rk));
                }
            }
            Msg::Synced { cluster } if !self.synced.contains(cluster) => {
                self.synced.push(cluster.clone());
            }
            Msg::Connection {
                cluster,
                connection: Connection::Connected,
            } if !self.connected.iter().any(|(c, _)| c == cluster) => {
                self.connected.push((cluster.clone(), at));
            }
            _ => {}
        }
    }

    /// Has `cluster` listed every kind in `kinds` (or all it has: synced; or been connected
    /// for [`LIST_GRACE`])?
    fn complete(&self, cluster: &str, kinds: &[ReleaseKind], now: Instant) -> bool {
        self.synced.iter().any(|c| c == cluster)
            || kinds
                .iter()
                .all(|k| self.kinds.contains(&(cluster.to_string(), *k)))
            || self
                .connected
                .iter()
                .any(|(c, at)| c == cluster && now.duration_since(*at) >= LIST_GRACE)
    }
}

/// The kinds a target may be, most specific first: a Rollout or Canary over a Deployment of
/// the same name is the release, the Deployment its workload.
pub fn kinds(kind: Option<&str>) -> Vec<ReleaseKind> {
    let order = [
        ReleaseKind::Rollout,
        ReleaseKind::Canary,
        ReleaseKind::Deployment,
    ];
    match kind {
        Some(k) => order
            .into_iter()
            .filter(|rk| rk.name().eq_ignore_ascii_case(k))
            .collect(),
        None => order.to_vec(),
    }
}

/// One line about a release: `cluster/ns/name Kind: Phase, step 1/4, weight 20/20: message`.
pub fn describe(r: &Release) -> String {
    let mut out = format!(
        "{} {}: {}",
        escape(&r.key.to_string()),
        r.key.kind.name(),
        r.phase.as_str()
    );
    if let Some((i, n)) = r.step {
        out.push_str(&format!(", step {i}/{n}"));
    }
    match (r.set_weight, r.actual_weight) {
        (Some(s), Some(a)) => out.push_str(&format!(", weight {s}/{a}")),
        (Some(s), None) => out.push_str(&format!(", weight {s}")),
        _ => {}
    }
    if !r.message.is_empty() {
        out.push_str(&format!(": {}", r.message));
    }
    out
}

/// Judge the state for `target` on `cluster` (a name in `state.clusters`).
pub fn judge<'a>(
    state: &'a State,
    cluster: &str,
    target: &Target,
    kinds: &[ReleaseKind],
    condition: WaitFor,
    listed: &Listed,
    now: Instant,
) -> Verdict<'a> {
    let release = kinds.iter().find_map(|kind| {
        state.releases.values().find(|r| {
            r.key.cluster == cluster
                && r.key.kind == *kind
                && r.key.namespace == target.namespace
                && r.key.name == target.name
        })
    });
    let Some(r) = release else {
        let connection = state.clusters.iter().find(|c| c.name == cluster);
        let shown = format!(
            "{}/{}/{}",
            escape(cluster),
            escape(&target.namespace),
            escape(&target.name)
        );
        let kinds_shown = kinds
            .iter()
            .map(|k| k.name())
            .collect::<Vec<_>>()
            .join(" or ");
        return match connection.map(|c| &c.connection) {
            Some(Connection::Unreachable { reason } | Connection::NoAccess { reason })
                if !listed.seen =>
            {
                Verdict::Done(
                    Outcome::NotFound,
                    format!("cluster {} cannot be read: {reason}", escape(cluster)),
                )
            }
            _ if listed.seen => Verdict::Done(
                Outcome::NotFound,
                format!("{shown} was deleted while waiting"),
            ),
            _ if listed.complete(cluster, kinds, now) => {
                Verdict::Done(Outcome::NotFound, format!("no {kinds_shown} {shown}"))
            }
            _ => Verdict::Waiting(None),
        };
    };
    let wanted = match condition {
        WaitFor::Healthy => Phase::Healthy,
        WaitFor::Paused => Phase::Paused,
        WaitFor::Degraded => Phase::Degraded,
    };
    if r.phase == wanted {
        Verdict::Done(Outcome::Reached, describe(r))
    } else if r.phase == Phase::Degraded {
        Verdict::Done(Outcome::Degraded, describe(r))
    } else {
        Verdict::Waiting(Some(r))
    }
}

/// Which cluster the target is on.
#[derive(Debug, PartialEq, Eq)]
pub enum Pick {
    One(String),
    /// `NS/NAME` over several clusters whose first lists are not all in.
    NotYet,
    /// A bad target (exit 2): no such cluster, or on several.
    Usage(String),
    /// `NS/NAME` on none of the clusters (exit 5).
    Nowhere(String),
}

/// The cluster in `state` that `target` names: its own name, the only cluster (live: the
/// wiring chose one), or the only one holding the release (`NS/NAME` in the demo).
pub fn pick(
    state: &State,
    target: &Target,
    kinds: &[ReleaseKind],
    listed: &Listed,
    now: Instant,
) -> Pick {
    let names: Vec<&str> = state.clusters.iter().map(|c| c.name.as_str()).collect();
    let all = || escape(&names.join(", ")).into_owned();
    match &target.cluster {
        Some(c) if names.contains(&c.as_str()) => return Pick::One(c.clone()),
        _ if names.len() == 1 => return Pick::One(names[0].to_string()),
        Some(c) => return Pick::Usage(format!("no cluster {:?} (clusters: {})", escape(c), all())),
        None => {}
    }
    let with: Vec<&str> = names
        .iter()
        .copied()
        .filter(|c| {
            state.releases.keys().any(|k| {
                k.cluster == *c
                    && kinds.contains(&k.kind)
                    && k.namespace == target.namespace
                    && k.name == target.name
            })
        })
        .collect();
    let everywhere = names.iter().all(|c| listed.complete(c, kinds, now));
    match with.as_slice() {
        many if many.len() > 1 => Pick::Usage(format!(
            "{target} is on several clusters ({}); name one as CLUSTER/{target}",
            escape(&many.join(", "))
        )),
        [one] if everywhere => Pick::One((*one).to_string()),
        [] if everywhere => {
            Pick::Nowhere(format!("{target} is on none of the clusters ({})", all()))
        }
        _ => Pick::NotYet,
    }
}

/// Narrow the live choice of clusters to the target's: a configured cluster of that name,
/// else the kubeconfig context; `NS/NAME` takes `--context` (one) or the current context.
fn narrow(opts: &Opts, config: &Config, target: &Target) -> anyhow::Result<(Opts, Config)> {
    let mut opts = opts.clone();
    let mut config = config.clone();
    match &target.cluster {
        Some(name) => {
            if let Some(c) = config.clusters.iter().find(|c| c.display_name() == name) {
                config.clusters = vec![c.clone()];
                opts.context.clear();
            } else {
                opts.context = vec![name.clone()];
            }
        }
        None if opts.all_contexts || opts.context.len() > 1 => {
            return Err(UsageError(format!(
                "wait: {target} names no cluster and several are chosen: write CLUSTER/{target}"
            ))
            .into());
        }
        None if opts.context.is_empty() => {
            let (_, current) = kube_client::contexts()?;
            let current = current.ok_or_else(|| {
                UsageError(format!(
                    "wait: {target} names no cluster and the kubeconfig has no current context: \
                     write CLUSTER/{target} or pass --context"
                ))
            })?;
            opts.context = vec![current];
        }
        None => {}
    }
    opts.all_contexts = false;
    Ok((opts, config))
}

/// Run the wait; the exit code says how it ended.
pub async fn run(opts: &Opts, config: &Config, args: &WaitArgs) -> anyhow::Result<ExitCode> {
    if !opts.from_files.is_empty() {
        return Err(UsageError(
            "wait: captured files (--from-files) never change; wait watches a cluster or --demo"
                .into(),
        )
        .into());
    }
    let target = parse_target(&args.target).map_err(|e| UsageError(format!("wait: {e}")))?;
    let kinds = kinds(args.kind.as_deref());
    let deadline = Instant::now() + args.timeout;
    let w = if opts.demo {
        demo::simulated(opts, config)
    } else {
        let (opts, config) = narrow(opts, config, &target)?;
        live::wiring(&opts, &config, false).await?
    };
    let mut state = w.state;
    let mut rx = w.rx;
    // The sources stop when these go; they must run for the whole wait.
    let _running = (w.tx, w.targets, w.clusters);
    let pump = Pump::headless();
    let mut listed = Listed::default();
    let mut cluster: Option<String> = None;
    let mut last_line = String::new();
    let mut tick = tokio::time::interval(TICK);
    let condition = condition_name(args.condition);
    let timeout = humanize(args.timeout);
    println!("waiting up to {timeout} for {target} to be {condition}");
    loop {
        let first = tokio::select! {
            m = rx.recv() => m,
            _ = tick.tick() => Some(Msg::Tick(Timestamp::now())),
            () = tokio::time::sleep_until(deadline) => {
                let last = if last_line.is_empty() { "not seen yet" } else { &last_line };
                let line = format!("timed out after {timeout} waiting for {target} to be {condition}; last: {last}");
                return Ok(finish(Outcome::TimedOut, &line));
            }
        };
        let Some(first) = first else {
            return Ok(finish(Outcome::NotFound, "the cluster's sources stopped"));
        };
        let batch: Vec<Msg> = std::iter::once(first)
            .chain(std::iter::from_fn(|| rx.try_recv().ok()))
            .take(4096)
            .collect();
        let now = Instant::now();
        for msg in &batch {
            listed.note(msg, now);
        }
        let _ = pump.feed(&mut state, batch);
        let c = match &cluster {
            Some(c) => c.as_str(),
            None => match pick(&state, &target, &kinds, &listed, now) {
                Pick::One(c) => cluster.insert(c).as_str(),
                Pick::NotYet => continue,
                Pick::Usage(why) => return Err(UsageError(format!("wait: {why}")).into()),
                Pick::Nowhere(why) => return Ok(finish(Outcome::NotFound, &why)),
            },
        };
        match judge(&state, c, &target, &kinds, args.condition, &listed, now) {
            Verdict::Done(outcome, line) => return Ok(finish(outcome, &line)),
            Verdict::Waiting(Some(r)) => {
                listed.seen = true;
                let mut line = describe(r);
                if let Some(cl) = state.clusters.iter().find(|cl| cl.name == c)
                    && cl.connection != Connection::Connected
                {
                    let why = match &cl.connection {
                        Connection::Unreachable { reason } | Connection::NoAccess { reason } => {
                            format!(": {reason}")
                        }
                        _ => String::new(),
                    };
                    let label = cl.connection.label(state.now);
                    line.push_str(&format!(" (cluster {}{why})", escape(&label)));
                }
                if line != last_line {
                    println!("{line}");
                    last_line = line;
                }
            }
            Verdict::Waiting(None) => {}
        }
    }
}

/// Print the final line (stdout when reached, stderr otherwise) and give the exit code.
fn finish(outcome: Outcome, line: &str) -> ExitCode {
    match outcome {
        Outcome::Reached => println!("done: {line}"),
        Outcome::TimedOut => eprintln!("shipdeck: wait: {line}"),
        Outcome::Degraded => eprintln!("shipdeck: wait: degraded: {line}"),
        Outcome::NotFound => eprintln!("shipdeck: wait: not found: {line}"),
    }
    ExitCode::from(outcome.code())
}

fn condition_name(c: WaitFor) -> &'static str {
    match c {
        WaitFor::Healthy => "healthy",
        WaitFor::Paused => "paused",
        WaitFor::Degraded => "degraded",
    }
}

/// `90s`, `10m`, `1h30m`.
fn humanize(d: Duration) -> String {
    let s = d.as_secs();
    let (h, m, s) = (s / 3600, s / 60 % 60, s % 60);
    let mut out = String::new();
    if h > 0 {
        out.push_str(&format!("{h}h"));
    }
    if m > 0 {
        out.push_str(&format!("{m}m"));
    }
    if s > 0 || out.is_empty() {
        out.push_str(&format!("{s}s"));
    }
    out
}

#[cfg(test)]
#[path = "wait_tests.rs"]
mod tests;
