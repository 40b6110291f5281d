//! Speed, memory and terminal-output figures for the budgets in reference/budgets.md
//! (P3 memory, P4 key → frame, P5 render, P6 idle bytes, P7 churn bytes, P8 writes per frame),
//! on a fleet of Rollouts alone and on one whose Rollouts own ~10 ReplicaSets each (with
//! ReplicaSet churn). Run: `cargo bench --bench fleet`. Prints a table; asserts nothing
//! (figures, not timed tests). Memory is RSS from /proc (peaks: VmHWM, reset through
//! /proc/self/clear_refs).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::{self, Write};
use std::time::{Duration, Instant};

use jiff::{SignedDuration, Timestamp};
use ratatui::Terminal;
use ratatui::backend::{CrosstermBackend, TestBackend};

use shipdeck::core::facts::*;
use shipdeck::core::model::Cluster;
use shipdeck::core::state::Settings;
use shipdeck::core::{self, Key, Msg, State};
use shipdeck::ui::{self, theme::Theme};

const CLUSTERS: usize = 40;
/// ReplicaSets per Rollout in the fleet with ReplicaSets (revisions 1..=10).
const RS_PER_WORKLOAD: usize = 10;

/// Peak RSS since the last [`reset_peak`] (VmHWM), in MiB.
fn peak_mib() -> f64 {
    proc_status_kib("VmHWM:") as f64 / 1024.0
}

/// Start counting the peak RSS afresh (Linux: `5` to /proc/self/clear_refs).
fn reset_peak() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

fn t0() -> Timestamp {
    Timestamp::from_second(1_800_000_000).unwrap_or(Timestamp::UNIX_EPOCH)
}

fn rollout(cluster: usize, i: usize, rv: u64) -> RolloutFacts {
    let name = format!("svc-{i:06}");
    let mut labels = std::collections::BTreeMap::new();
    labels.insert("app.kubernetes.io/name".to_string(), name.clone());
    RolloutFacts {
        meta: ObjectMeta {
            namespace: format!("team-{}", i % 50),
            name,
            uid: format!("uid-{cluster}-{i}"),
            resource_version: rv.to_string(),
            generation: 2,
            created: Some(t0() - SignedDuration::from_mins((i % 500) as i64)),
            labels: labels.into(),
            annotations: Default::default(),
            template_manager: None,
        },
        replicas: 4,
        strategy: "canary".into(),
        steps: vec![
            CanaryStep::SetWeight(20),
            CanaryStep::Pause(None),
            CanaryStep::SetWeight(60),
            CanaryStep::Pause(Some(SignedDuration::from_secs(60))),
        ],
        images: vec![format!("registry.local/app-{i}:1.{rv}")],
        observed_generation: Some("2".into()),
        phase: Some(
            if i.is_multiple_of(7) {
                "Degraded"
            } else {
                "Progressing"
            }
            .into(),
        ),
        message: "more replicas need to be updated".into(),
        current_step_index: Some((i % 4) as i32),
        current_pod_hash: "new".into(),
        stable_rs: "old".into(),
        status_replicas: 5,
        updated_replicas: 1,
        ready_replicas: 5,
        available_replicas: 5,
        ..RolloutFacts::default()
    }
}

/// The `r`-th (1-based) ReplicaSet of Rollout `i`: revision `r`, the last one the canary
/// ("new"), the one before it the stable ("old"), the rest scaled down.
fn replicaset(cluster: usize, i: usize, r: usize, ready: i32) -> ReplicaSetFacts {
    let hash = match RS_PER_WORKLOAD - r {
        0 => "new".to_string(),
        1 => "old".to_string(),
        _ => format!("h{r}"),
    };
    let replicas = match RS_PER_WORKLOAD - r {
        0 => 1,
        1 => 4,
        _ => 0,
    };
    let mut labels = std::collections::BTreeMap::new();
    labels.insert("rollouts-pod-template-hash".to_string(), hash.clone());
    ReplicaSetFacts {
        meta: ObjectMeta {
            namespace: format!("team-{}", i % 50),
            name: format!("svc-{i:06}-{hash}"),
            uid: format!("rs-{cluster}-{i}-{r}"),
            resource_version: "1".into(),
            generation: 1,
            created: Some(t0() - SignedDuration::from_mins((RS_PER_WORKLOAD - r) as i64 * 60)),
            labels: labels.into(),
            ..ObjectMeta::default()
        },
        owner_uid: format!("uid-{cluster}-{i}"),
        owner_kind: "Rollout".into(),
        revision: Some(r as i64),
        pod_template_hash: hash,
        images: vec![format!("registry.local/app-{i}:1.{r}")],
        replicas,
        ready_replicas: ready.min(replicas),
        available_replicas: ready.min(replicas),
        template_digest: (i * 16 + r) as u64,
        template: Vec::new(),
    }
}

/// `n` Rollouts over the clusters; with `with_rs`, each with its ReplicaSets.
fn fleet_of(n: usize, with_rs: bool) -> State {
    let clusters = (0..CLUSTERS)
        .map(|c| Cluster::new(format!("cluster-{c:02}")))
        .collect();
    let mut s = State::new(t0(), Settings::default(), clusters, Vec::new());
    core::update(
        &mut s,
        Msg::Resize {
            width: 250,
            height: 70,
        },
    );
    for i in 0..n {
        let c = i % CLUSTERS;
        let cluster = format!("cluster-{c:02}");
        if with_rs {
            for r in 1..=RS_PER_WORKLOAD {
                core::update(
                    &mut s,
                    Msg::Upsert {
                        cluster: cluster.clone(),
                        facts: ObjectFacts::ReplicaSet(replicaset(c, i, r, 1)),
                    },
                );
            }
        }
        core::update(
            &mut s,
            Msg::Upsert {
                cluster,
                facts: ObjectFacts::Rollout(rollout(c, i, 1)),
            },
        );
    }
    core::settle(&mut s);
    s
}

fn proc_status_kib(field: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with(field))
                .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0)
}

fn rss_kib() -> u64 {
    proc_status_kib("VmRSS:")
}

/// Counts bytes and write() calls reaching the "terminal".
#[derive(Default, Clone, Copy)]
struct Counts {
    bytes: usize,
    writes: usize,
}

#[derive(Clone, Default)]
struct Counter(std::rc::Rc<std::cell::Cell<Counts>>);

impl Counter {
    fn get(&self) -> Counts {
        self.0.get()
    }
}

impl Write for Counter {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let mut c = self.0.get();
        c.bytes += buf.len();
        c.writes += 1;
        self.0.set(c);
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

fn percentile(mut v: Vec<Duration>, p: f64) -> Duration {
    v.sort();
    v[((v.len() as f64 - 1.0) * p).round() as usize]
}

/// One update + render cycle, as the console does per change: one Rollout changes
/// (`Upsert`), the state settles, a 250x70 frame is drawn. Not inlined, so callgrind can
/// count exactly this (`--toggle-collect='*one_cycle*'`).
#[inline(never)]
fn one_cycle(s: &mut State, term: &mut Terminal<TestBackend>, theme: &Theme, i: usize, rv: u64) {
    core::update(
        s,
        Msg::Upsert {
            cluster: format!("cluster-{:02}", i % CLUSTERS),
            facts: ObjectFacts::Rollout(rollout(i % CLUSTERS, i, rv)),
        },
    );
    core::settle(s);
    term.draw(|f| ui::render(f, s, theme)).unwrap();
    s.dirty = false;
}

/// `--cycle N`: set up a fleet of N Rollouts and a drawn frame, then do exactly one cycle
/// (scripts/bench-instructions counts its instructions under callgrind).
fn cycle_mode(n: usize, theme: &Theme) {
    let mut s = fleet_of(n, false);
    let mut term = Terminal::new(TestBackend::new(250, 70)).unwrap();
    term.draw(|f| ui::render(f, &s, theme)).unwrap();
    // A row on screen that changes without moving (the common case under churn).
    let i = n / 2;
    one_cycle(&mut s, &mut term, theme, i, 2);
    println!("one cycle at {n} rows done");
}

fn main() {
    let theme = Theme::load("default").unwrap_or_else(|_| Theme::no_color());
    let args: Vec<String> = std::env::args().collect();
    if let Some(at) = args.iter().position(|a| a == "--cycle") {
        let n = args
            .get(at + 1)
            .and_then(|v| v.parse().ok())
            .expect("--cycle N: a number of rows");
        cycle_mode(n, &theme);
        return;
    }
    if args.iter().any(|a| a == "--breakdown") {
        let parts = breakdown(100_000);
        drop(parts);
        return;
    }
    if args.iter().any(|a| a == "--replicasets") {
        replicaset_fleet(&theme);
        return;
    }
    println!("| id | measure | figure |");
    println!("|---|---|---|");
    // What dominates: each part alone, in a fresh process (memory freed by one measure is
    // reused by the next, so each needs its own).
    in_child("--breakdown");

    // P3: memory per 1,000 watched objects.
    // Largest first: memory freed by one run is not returned to the OS for the next.
    for (run, n) in [100_000usize, 10_000].into_iter().enumerate() {
        let before = rss_kib();
        let start = Instant::now();
        let s = fleet_of(n, false);
        let load = start.elapsed();
        let after = rss_kib();
        let per_k = (after.saturating_sub(before)) as f64 / 1024.0 / (n as f64 / 1000.0);
        if run == 0 {
            println!("| P3 | RSS growth per 1,000 releases at {n} | {per_k:.2} MiB |");
            println!(
                "| P3 | RSS with {n} releases | {:.0} MiB |",
                after as f64 / 1024.0
            );
        }
        println!(
            "| P3 | load {n} objects through update + settle | {:.0} ms |",
            load.as_secs_f64() * 1e3
        );

        // P5: render at 250x70.
        let mut term = Terminal::new(TestBackend::new(250, 70)).unwrap();
        let mut times = Vec::new();
        for _ in 0..200 {
            let t = Instant::now();
            term.draw(|f| ui::render(f, &s, &theme)).unwrap();
            times.push(t.elapsed());
        }
        println!(
            "| P5 | render 250x70 with {n} rows: median / p99 | {:.3} ms / {:.3} ms |",
            percentile(times.clone(), 0.5).as_secs_f64() * 1e3,
            percentile(times, 0.99).as_secs_f64() * 1e3
        );

        // P4: key press → frame (update + settle + render).
        let mut s = s;
        let mut times = Vec::new();
        for i in 0..300 {
            let key = if i % 50 < 25 {
                Key::Char('j')
            } else {
                Key::Char('k')
            };
            let t = Instant::now();
            core::update(&mut s, Msg::Key(key));
            core::settle(&mut s);
            term.draw(|f| ui::render(f, &s, &theme)).unwrap();
            times.push(t.elapsed());
        }
        println!(
            "| P4 | key → frame at {n} rows: p50 / p99 | {:.3} ms / {:.3} ms |",
            percentile(times.clone(), 0.5).as_secs_f64() * 1e3,
            percentile(times, 0.99).as_secs_f64() * 1e3
        );

        // P7: churn — 20 updates/s per cluster for 10 simulated seconds, drawn at ≤ 5 fps.
        let counter = Counter::default();
        let backend =
            CrosstermBackend::new(io::BufWriter::with_capacity(256 * 1024, counter.clone()));
        let mut term = Terminal::new(backend).unwrap();
        term.resize(ratatui::layout::Rect::new(0, 0, 200, 50))
            .unwrap();
        term.draw(|f| ui::render(f, &s, &theme)).unwrap();
        let first = counter.get().bytes;
        let first_writes = counter.get().writes;
        // P6: a frame with nothing changed.
        term.draw(|f| ui::render(f, &s, &theme)).unwrap();
        let idle = counter.get().bytes - first;
        println!("| P8 | write() calls for a full 200x50 frame (BufWriter) | {first_writes} |");
        println!(
            "| P6 | bytes for a redraw with nothing changed | {idle} B (and the loop skips such draws) |"
        );
        let cpu = Instant::now();
        let start_bytes = counter.get().bytes;
        let start_writes = counter.get().writes;
        let mut rv = 2;
        let mut frames = 0;
        for tick in 0..50 {
            // 200 ms of churn: 40 clusters × 20/s × 0.2 s = 160 updates.
            for u in 0..160usize {
                let i = (tick * 160 + u) * 613 % n;
                core::update(
                    &mut s,
                    Msg::Upsert {
                        cluster: format!("cluster-{:02}", i % CLUSTERS),
                        facts: ObjectFacts::Rollout(rollout(i % CLUSTERS, i, rv)),
                    },
                );
                rv += 1;
            }
            core::update(
                &mut s,
                Msg::Tick(t0() + SignedDuration::from_millis(200 * tick as i64)),
            );
            core::settle(&mut s);
            if s.dirty {
                term.draw(|f| ui::render(f, &s, &theme)).unwrap();
                s.dirty = false;
                frames += 1;
            }
        }
        let spent = cpu.elapsed();
        let w = counter.get();
        println!(
            "| P7 | churn at {n}: terminal bytes per second at 200x50 ({frames} frames in 10 s) | {:.0} B/s |",
            (w.bytes - start_bytes) as f64 / 10.0
        );
        println!(
            "| P8 | churn at {n}: write() calls per frame | {:.2} |",
            (w.writes - start_writes) as f64 / frames.max(1) as f64
        );
        println!(
            "| P9 | churn at {n}: core + render time per simulated second | {:.1} ms (= {:.1} % of a core) |",
            spent.as_secs_f64() * 1e3 / 10.0,
            spent.as_secs_f64() * 100.0 / 10.0
        );
    }

    in_child("--replicasets");
}

/// Run this bench again in `mode`, its table rows printed with ours.
fn in_child(mode: &str) {
    let exe = std::env::current_exe().unwrap();
    let status = std::process::Command::new(exe).arg(mode).status().unwrap();
    assert!(status.success(), "{mode}: {status}");
}

/// What a fleet of `n` Rollouts is made of: the RSS growth of each kind of thing the state
/// keeps per release, built alone (`n` of it, kept alive so nothing is reused). Returns them
/// so they stay alive until the caller is done measuring.
fn breakdown(n: usize) -> Vec<Box<dyn std::any::Any>> {
    let mut kept: Vec<Box<dyn std::any::Any>> = Vec::new();
    let mut part = |name: &str, build: &dyn Fn() -> Box<dyn std::any::Any>| {
        let before = rss_kib();
        kept.push(build());
        let grown = rss_kib().saturating_sub(before) as f64 * 1024.0;
        println!(
            "| P3 | one {name} per release, {n} of them alone | {:.0} MiB ({:.0} B each) |",
            grown / 1048576.0,
            grown / n as f64
        );
    };
    let key = |i: usize| shipdeck::core::model::ReleaseKey {
        cluster: format!("cluster-{:02}", i % CLUSTERS),
        kind: shipdeck::core::model::ReleaseKind::Rollout,
        namespace: format!("team-{}", i % 50),
        name: format!("svc-{i:06}"),
    };
    part(
        "release key (kept 5 times: 2 maps, the release, the order, the owner index)",
        &|| Box::new((0..n).map(key).collect::<Vec<_>>()),
    );
    part("Rollout's facts (the inventory's copy)", &|| {
        Box::new(
            (0..n)
                .map(|i| ObjectFacts::Rollout(rollout(i % CLUSTERS, i, 1)))
                .collect::<Vec<_>>(),
        )
    });
    part("derived release (the table's row)", &|| {
        let label = "app.kubernetes.io/name".to_string();
        Box::new(
            (0..n)
                .filter_map(|i| {
                    let cluster = format!("cluster-{:02}", i % CLUSTERS);
                    let ctx = shipdeck::core::status::Ctx {
                        cluster: &cluster,
                        service_label: &label,
                        service_override: None,
                    };
                    let facts = ObjectFacts::Rollout(rollout(i % CLUSTERS, i, 1));
                    shipdeck::core::kinds::derive(&ctx, &facts, &[], &[])
                })
                .collect::<Vec<_>>(),
        )
    });
    kept
}

/// Rollouts with ~10 ReplicaSets each: memory per watched object, a relist's peak, and
/// ReplicaSet churn (update + settle + render).
fn replicaset_fleet(theme: &Theme) {
    for objects in [100_000usize, 10_000] {
        let workloads = objects / (RS_PER_WORKLOAD + 1);
        let watched = workloads * (RS_PER_WORKLOAD + 1);
        let rss_before = rss_kib();
        let start = Instant::now();
        let mut s = fleet_of(workloads, true);
        let load = start.elapsed();
        let rss = rss_kib().saturating_sub(rss_before) as f64 / 1024.0;
        let per_k = watched as f64 / 1000.0;
        println!(
            "| P3 | {workloads} Rollouts + {} ReplicaSets ({watched} objects): load through update + settle | {:.0} ms |",
            workloads * RS_PER_WORKLOAD,
            load.as_secs_f64() * 1e3
        );
        println!(
            "| P3 | … RSS growth per 1,000 watched objects | {:.2} MiB |",
            rss / per_k
        );

        // Relist: every cluster lists again (each list held whole in its message, as the
        // watcher sends it), the kept state replaced; whole-process RSS, peak against steady.
        let steady = rss_kib() as f64 / 1024.0;
        reset_peak();
        let base = rss_before as f64 / 1024.0;
        let start = Instant::now();
        for c in 0..CLUSTERS {
            let cluster = format!("cluster-{c:02}");
            let rs: Vec<ObjectFacts> = (c..workloads)
                .step_by(CLUSTERS)
                .flat_map(|i| {
                    (1..=RS_PER_WORKLOAD)
                        .map(move |r| ObjectFacts::ReplicaSet(replicaset(c, i, r, 1)))
                })
                .collect();
            core::update(
                &mut s,
                Msg::Relisted {
                    cluster: cluster.clone(),
                    kind: shipdeck::core::msg::ObjectKind::ReplicaSet,
                    objects: rs,
                },
            );
            let rollouts: Vec<ObjectFacts> = (c..workloads)
                .step_by(CLUSTERS)
                .map(|i| ObjectFacts::Rollout(rollout(c, i, 1)))
                .collect();
            core::update(
                &mut s,
                Msg::Relisted {
                    cluster,
                    kind: shipdeck::core::msg::ObjectKind::Rollout,
                    objects: rollouts,
                },
            );
        }
        core::settle(&mut s);
        println!(
            "| P3 | … relist of every cluster: the fleet's RSS at its peak / steady | {:.0} MiB / {:.0} MiB = {:.2}× ({:.0} ms) |",
            peak_mib() - base,
            steady - base,
            (peak_mib() - base) / (steady - base),
            start.elapsed().as_secs_f64() * 1e3
        );

        // ReplicaSet churn: 20 changes/s per cluster for 10 simulated seconds, every one a
        // ReplicaSet (the canary's ready count), drawn at ≤ 5 fps.
        let mut term = Terminal::new(TestBackend::new(250, 70)).unwrap();
        term.draw(|f| ui::render(f, &s, theme)).unwrap();
        let mut updates = Vec::new();
        let mut frames = 0;
        let cpu = Instant::now();
        for tick in 0..50 {
            for u in 0..160usize {
                let i = (tick * 160 + u) * 613 % workloads;
                let ready = ((tick + u) % 2) as i32;
                let t = Instant::now();
                core::update(
                    &mut s,
                    Msg::Upsert {
                        cluster: format!("cluster-{:02}", i % CLUSTERS),
                        facts: ObjectFacts::ReplicaSet(replicaset(
                            i % CLUSTERS,
                            i,
                            RS_PER_WORKLOAD,
                            ready,
                        )),
                    },
                );
                updates.push(t.elapsed());
            }
            core::update(
                &mut s,
                Msg::Tick(t0() + SignedDuration::from_millis(200 * tick as i64)),
            );
            core::settle(&mut s);
            if s.dirty {
                term.draw(|f| ui::render(f, &s, theme)).unwrap();
                s.dirty = false;
                frames += 1;
            }
        }
        let spent = cpu.elapsed();
        println!(
            "| P9 | ReplicaSet churn at {watched} objects (800/s): one update, median / p99 | {:.1} µs / {:.1} µs |",
            percentile(updates.clone(), 0.5).as_secs_f64() * 1e6,
            percentile(updates, 0.99).as_secs_f64() * 1e6
        );
        println!(
            "| P9 | ReplicaSet churn at {watched} objects: update + settle + render per simulated second ({frames} frames) | {:.1} ms (= {:.1} % of a core) |",
            spent.as_secs_f64() * 1e3 / 10.0,
            spent.as_secs_f64() * 100.0 / 10.0
        );
    }
}
