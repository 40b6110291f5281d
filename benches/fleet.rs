//! Speed, memory and terminal-output figures for the budgets in reference/budgets.md
//! (P3 memory, P4 key → frame, P5 render, P6 idle bytes, P7 churn bytes, P8 writes per frame).
//! Run: `cargo bench --bench fleet`. Prints a table; asserts nothing (figures, not timed tests).
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
            labels,
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

fn fleet(n: usize) -> State {
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
        core::update(
            &mut s,
            Msg::Upsert {
                cluster: format!("cluster-{c:02}"),
                facts: ObjectFacts::Rollout(rollout(c, i, 1)),
            },
        );
    }
    core::settle(&mut s);
    s
}

fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0)
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

fn main() {
    let theme = Theme::load("default").unwrap_or_else(|_| Theme::no_color());
    println!("| id | measure | figure |");
    println!("|---|---|---|");

    // P3: memory per 1,000 watched objects.
    // Largest first: memory freed by one run is not returned to the OS for the next.
    for (run, n) in [100_000usize, 10_000].into_iter().enumerate() {
        let before = rss_kib();
        let start = Instant::now();
        let s = fleet(n);
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
}
