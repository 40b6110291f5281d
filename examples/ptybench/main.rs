//! Measures one terminal program the way its user sees it (scripts/bench, issue 15): runs it in
//! a pty (default 200x50), models the screen, and prints one JSON object with
//!
//! - `first_frame_s`: spawn → the first screen with more than `--first-cells` non-blank cells;
//! - `full_view_s`: spawn → every `--full` regex matches the screen (the "full view"), after
//!   `--after-first` keys (e.g. a filter) were typed at the first frame;
//! - memory (sum of VmRSS / VmHWM over the process tree) after load and under churn;
//! - CPU (utime+stime of the tree) over an idle window and a churn window, in % of one core;
//! - bytes and read() chunks on the pty master (what a terminal receives) in both windows;
//! - key → frame latency: `--keys-start` opens a filter, then `--presses` presses of `z`, each
//!   timed until the screen shows the typed run of `z`s (presses 2.. are timed; the first only
//!   opens the run).
//!
//! ```text
//! ptybench [--label L] [--rows 50] [--cols 200] [--first-cells 100] [--after-first KEYS]
//!          [--full REGEX]...
//!          [--full-timeout 120] [--settle 5] [--idle 60] [--keys-start '/'] [--keys-reset '\e']
//!          [--presses 30] [--churn-cmd CMD] [--churn 60] [--env K=V]... [--screen-out FILE]
//!          -- PROGRAM ARGS...
//! ```
//! `--churn-cmd` runs under `sh -c` in its own process group; the window starts once it prints a
//! line containing "churning" and it gets SIGINT at the end. Escapes in key strings: `\e`, `\r`,
//! `\n`, `\t`, `\xHH`, `\\`.

// Shared with tests/ptybench.rs, which uses a few helpers this binary does not.
#[allow(dead_code)]
mod pty;

use std::io::{BufRead, BufReader};
use std::os::unix::process::CommandExt;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use regex::Regex;
use serde_json::{Value, json};

use pty::{PtySession, Traffic, TreeUsage, non_blank_cells, percentile, tree_usage};

struct Args {
    label: String,
    rows: u16,
    cols: u16,
    first_cells: usize,
    full: Vec<Regex>,
    full_timeout: Duration,
    settle: Duration,
    idle: Duration,
    after_first: Option<Vec<u8>>,
    keys_start: Option<Vec<u8>>,
    keys_reset: Vec<u8>,
    presses: usize,
    churn_cmd: Option<String>,
    churn: Duration,
    envs: Vec<(String, String)>,
    screen_out: Option<String>,
    program: Vec<String>,
}

fn secs(v: &str) -> Result<Duration> {
    let f: f64 = v
        .parse()
        .with_context(|| format!("{v:?} is not a number of seconds"))?;
    if !(0.0..=86_400.0).contains(&f) {
        bail!("{v:?}: seconds out of range");
    }
    Ok(Duration::from_secs_f64(f))
}

/// `\e`, `\r`, `\n`, `\t`, `\xHH`, `\\` in a key string.
fn unescape(s: &str) -> Vec<u8> {
    let mut out = Vec::new();
    let mut it = s.bytes();
    while let Some(b) = it.next() {
        if b != b'\\' {
            out.push(b);
            continue;
        }
        match it.next() {
            Some(b'e') => out.push(0x1b),
            Some(b'r') => out.push(b'\r'),
            Some(b'n') => out.push(b'\n'),
            Some(b't') => out.push(b'\t'),
            Some(b'x') => {
                let hex: Vec<u8> = it.by_ref().take(2).collect();
                match std::str::from_utf8(&hex)
                    .ok()
                    .and_then(|h| u8::from_str_radix(h, 16).ok())
                {
                    Some(v) => out.push(v),
                    None => out.extend_from_slice(b"\\x"),
                }
            }
            Some(other) => out.push(other),
            None => out.push(b'\\'),
        }
    }
    out
}

fn args() -> Result<Args> {
    let mut a = Args {
        label: String::new(),
        rows: 50,
        cols: 200,
        first_cells: 100,
        full: Vec::new(),
        full_timeout: Duration::from_secs(120),
        settle: Duration::from_secs(5),
        idle: Duration::from_secs(60),
        after_first: None,
        keys_start: None,
        keys_reset: b"\x1b".to_vec(),
        presses: 30,
        churn_cmd: None,
        churn: Duration::from_secs(60),
        envs: Vec::new(),
        screen_out: None,
        program: Vec::new(),
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        if flag == "--" {
            a.program = it.by_ref().collect();
            break;
        }
        let v = it.next().with_context(|| format!("{flag} needs a value"))?;
        match flag.as_str() {
            "--label" => a.label = v,
            "--rows" => a.rows = v.parse()?,
            "--cols" => a.cols = v.parse()?,
            "--first-cells" => a.first_cells = v.parse()?,
            "--full" => a
                .full
                .push(Regex::new(&v).with_context(|| format!("--full {v:?}"))?),
            "--full-timeout" => a.full_timeout = secs(&v)?,
            "--settle" => a.settle = secs(&v)?,
            "--idle" => a.idle = secs(&v)?,
            "--after-first" => a.after_first = Some(unescape(&v)),
            "--keys-start" => a.keys_start = Some(unescape(&v)),
            "--keys-reset" => a.keys_reset = unescape(&v),
            "--presses" => a.presses = v.parse()?,
            "--churn-cmd" => a.churn_cmd = Some(v),
            "--churn" => a.churn = secs(&v)?,
            "--env" => {
                let (k, val) = v.split_once('=').context("--env wants K=V")?;
                a.envs.push((k.to_owned(), val.to_owned()));
            }
            "--screen-out" => a.screen_out = Some(v),
            other => bail!("unknown flag {other}"),
        }
    }
    if a.program.is_empty() {
        bail!("usage: ptybench [flags] -- PROGRAM ARGS...");
    }
    if a.presses == 1 {
        bail!("--presses: 0 (no latency test) or at least 2");
    }
    Ok(a)
}

fn mib(kib: u64) -> f64 {
    round(kib as f64 / 1024.0, 1)
}

fn round(v: f64, digits: i32) -> f64 {
    let m = 10f64.powi(digits);
    (v * m).round() / m
}

fn opt_s(d: Option<Duration>) -> Value {
    d.map_or(Value::Null, |d| json!(round(d.as_secs_f64(), 3)))
}

fn window_json(t: Traffic, cpu_ticks: u64, tck: u64, window: Duration) -> Value {
    let w = window.as_secs_f64().max(1e-9);
    json!({
        "secs": round(w, 1),
        "bytes": t.bytes,
        "reads": t.reads,
        "bytes_per_s": round(t.bytes as f64 / w, 1),
        "cpu_pct": round(cpu_ticks as f64 / tck as f64 / w * 100.0, 2),
    })
}

fn usage_json(u: TreeUsage) -> Value {
    json!({"rss_mib": mib(u.rss_kib), "hwm_mib": mib(u.hwm_kib), "processes": u.processes})
}

fn full_view(screen: &vt100::Screen, full: &[Regex]) -> bool {
    let text = screen.contents();
    full.iter().all(|r| r.is_match(&text))
}

/// Opens the filter, types `presses` `z`s (timing presses 2..), then resets.
fn latency(s: &mut PtySession, a: &Args) -> Result<Value> {
    let Some(start) = &a.keys_start else {
        return Ok(Value::Null);
    };
    if a.presses == 0 {
        return Ok(Value::Null);
    }
    s.send(start)?;
    let timeout = Duration::from_secs(5);
    let first = s.key_latencies(&[(b"z".to_vec(), "z".to_owned())], timeout)?;
    let steps: Vec<(Vec<u8>, String)> = (2..=a.presses)
        .map(|i| (b"z".to_vec(), "z".repeat(i)))
        .collect();
    let times = s.key_latencies(&steps, timeout)?;
    s.send(&a.keys_reset)?;
    // Back to the full view before anything else is measured.
    let full = a.full.clone();
    let sent = s.started().elapsed();
    let restored = s.wait_until(a.full_timeout, |scr| {
        full_view(scr, &full) && !scr.contents().contains("zz")
    })?;
    let got: Vec<Duration> = times.iter().flatten().copied().collect();
    let ms =
        |d: Option<Duration>| d.map_or(Value::Null, |d| json!(round(d.as_secs_f64() * 1e3, 1)));
    Ok(json!({
        "presses": times.len(),
        "missed": times.len() - got.len() + usize::from(first[0].is_none()),
        "p50_ms": ms(percentile(&got, 50.0)),
        "p99_ms": ms(percentile(&got, 99.0)),
        "max_ms": ms(got.iter().max().copied()),
        "restored_ms": ms(restored.map(|t| t.saturating_sub(sent))),
    }))
}

/// The churn generator, started in its own process group; returns once it said "churning".
struct Churn {
    child: std::process::Child,
    lines: mpsc::Receiver<String>,
    last: String,
}

impl Churn {
    fn start(cmd: &str) -> Result<Self> {
        let mut child = Command::new("sh")
            .arg("-c")
            .arg(cmd)
            .stdout(Stdio::piped())
            .stdin(Stdio::null())
            .process_group(0)
            .spawn()
            .context("starting the churn command")?;
        let out = child.stdout.take().context("churn stdout")?;
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(out).lines().map_while(Result::ok) {
                eprintln!("churn: {line}");
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let mut c = Self {
            child,
            lines,
            last: String::new(),
        };
        let deadline = Instant::now() + Duration::from_secs(600);
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match c.lines.recv_timeout(left) {
                Ok(l) if l.contains("churning") => break,
                Ok(l) => c.last = l,
                Err(_) => bail!("the churn command never said it was churning"),
            }
        }
        Ok(c)
    }

    /// SIGINT to its group; waits for it and returns its last line (its achieved rate).
    fn stop(mut self) -> Result<String> {
        let pgid = nix::unistd::Pid::from_raw(i32::try_from(self.child.id())?);
        let _ = nix::sys::signal::killpg(pgid, nix::sys::signal::Signal::SIGINT);
        let _ = self.child.wait();
        while let Ok(l) = self.lines.recv_timeout(Duration::from_secs(5)) {
            self.last = l;
        }
        Ok(self.last)
    }
}

fn run(a: &Args) -> Result<Value> {
    let tck = pty::clock_ticks_per_second()?;
    let mut s = PtySession::spawn(&a.program[0], &a.program[1..], &a.envs, a.rows, a.cols)?;
    let pid = s.pid();
    let first = s.wait_until(a.full_timeout, |scr| non_blank_cells(scr) > a.first_cells)?;
    if let Some(keys) = &a.after_first {
        s.send(keys)?;
    }
    let full = if a.full.is_empty() {
        None
    } else {
        s.wait_until(a.full_timeout, |scr| full_view(scr, &a.full))?
    };
    let bytes_to_full = s.total();
    s.pump(a.settle)?;
    let loaded = tree_usage(pid);
    let lat_idle = latency(&mut s, a)?;

    let c0 = tree_usage(pid).cpu_ticks;
    let idle = s.pump(a.idle)?;
    let c1 = tree_usage(pid).cpu_ticks;
    let after_idle = tree_usage(pid);
    let mut out = json!({
        "label": a.label,
        "program": a.program,
        "size": format!("{}x{}", a.cols, a.rows),
        "first_frame_s": opt_s(first),
        "full_view_s": opt_s(full),
        "to_full_view": {"bytes": bytes_to_full.bytes, "reads": bytes_to_full.reads},
        "after_load": usage_json(loaded),
        "after_idle": usage_json(after_idle),
        "idle": window_json(idle, c1.saturating_sub(c0), tck, a.idle),
        "latency_idle": lat_idle,
    });

    if let Some(cmd) = &a.churn_cmd {
        let churn = Churn::start(cmd)?;
        let c0 = tree_usage(pid).cpu_ticks;
        let t0 = Instant::now();
        let mut traffic = Traffic::default();
        let mut peak = TreeUsage::default();
        while t0.elapsed() < a.churn {
            let slice = (a.churn - t0.elapsed()).min(Duration::from_secs(1));
            let t = s.pump(slice)?;
            traffic.bytes += t.bytes;
            traffic.reads += t.reads;
            let u = tree_usage(pid);
            if u.rss_kib > peak.rss_kib {
                peak = u;
            }
        }
        let c1 = tree_usage(pid).cpu_ticks;
        let end = tree_usage(pid);
        let lat = latency(&mut s, a)?;
        let report = churn.stop()?;
        out["churn"] = window_json(traffic, c1.saturating_sub(c0), tck, a.churn);
        out["churn"]["rss_end_mib"] = json!(mib(end.rss_kib));
        out["churn"]["rss_peak_mib"] = json!(mib(peak.rss_kib));
        out["churn"]["hwm_mib"] = json!(mib(end.hwm_kib));
        out["churn"]["generator"] = json!(report);
        out["latency_churn"] = lat;
    }
    out["exited_early"] = json!(s.closed());
    if let Some(path) = &a.screen_out {
        std::fs::write(path, s.text()).with_context(|| format!("writing {path}"))?;
    }
    s.stop()?;
    Ok(out)
}

fn main() -> Result<()> {
    let a = args()?;
    let out = run(&a)?;
    println!("{out}");
    Ok(())
}
