//! A program in a pseudo-terminal, observed the way a terminal sees it: every byte the program
//! writes is read from the pty master (so it works for any program, Go or Rust), fed to a vt100
//! screen model, and timed. Also reads the process tree's memory and CPU from /proc.
//!
//! Shared by the `ptybench` example (scripts/bench) and its tests (tests/ptybench.rs).

use std::collections::HashMap;
use std::fs::File;
use std::io::{Read, Write};
use std::os::fd::OwnedFd;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::thread;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

/// One read() from the pty master: when it returned and what it carried.
struct Chunk {
    at: Instant,
    bytes: Vec<u8>,
}

/// Bytes and read() calls seen on the pty master during a window.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Traffic {
    pub bytes: u64,
    pub reads: u64,
}

/// A command running in its own session with the pty's slave as its controlling terminal.
pub struct PtySession {
    child: Child,
    writer: File,
    chunks: Receiver<Chunk>,
    parser: vt100::Parser,
    started: Instant,
    total: Traffic,
    closed: bool,
}

impl PtySession {
    /// Spawns `program args` in a `rows`x`cols` pty. `setsid -c` makes the slave the
    /// controlling terminal (programs that open /dev/tty, e.g. tcell's k9s, need one) without
    /// any unsafe pre-exec code.
    pub fn spawn(
        program: &str,
        args: &[String],
        envs: &[(String, String)],
        rows: u16,
        cols: u16,
    ) -> Result<Self> {
        let size = nix::pty::Winsize {
            ws_row: rows,
            ws_col: cols,
            ws_xpixel: 0,
            ws_ypixel: 0,
        };
        let pty = nix::pty::openpty(&size, None).context("openpty")?;
        let slave: OwnedFd = pty.slave;
        let mut cmd = Command::new("setsid");
        cmd.arg("-c")
            .arg(program)
            .args(args)
            .env("TERM", "xterm-256color")
            .env("COLUMNS", cols.to_string())
            .env("LINES", rows.to_string())
            .stdin(Stdio::from(slave.try_clone()?))
            .stdout(Stdio::from(slave.try_clone()?))
            .stderr(Stdio::from(slave));
        for (k, v) in envs {
            cmd.env(k, v);
        }
        let started = Instant::now();
        let child = cmd.spawn().with_context(|| format!("spawning {program}"))?;
        let master = File::from(pty.master);
        let writer = master.try_clone()?;
        let (tx, chunks) = mpsc::channel();
        let mut reader = master;
        thread::spawn(move || {
            let mut buf = vec![0u8; 1 << 16];
            loop {
                match reader.read(&mut buf) {
                    // EIO once the last slave fd is closed: the session is over.
                    Ok(0) | Err(_) => break,
                    Ok(n) => {
                        let chunk = Chunk {
                            at: Instant::now(),
                            bytes: buf[..n].to_vec(),
                        };
                        if tx.send(chunk).is_err() {
                            break;
                        }
                    }
                }
            }
        });
        Ok(Self {
            child,
            writer,
            chunks,
            parser: vt100::Parser::new(rows, cols, 0),
            started,
            total: Traffic::default(),
            closed: false,
        })
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    pub fn started(&self) -> Instant {
        self.started
    }

    pub fn screen(&self) -> &vt100::Screen {
        self.parser.screen()
    }

    /// The screen's text, rows joined by newlines.
    pub fn text(&self) -> String {
        self.parser.screen().contents()
    }

    /// Everything read from the master so far.
    pub fn total(&self) -> Traffic {
        self.total
    }

    /// Whether the program's side of the pty has closed (it exited).
    pub fn closed(&self) -> bool {
        self.closed
    }

    pub fn send(&mut self, bytes: &[u8]) -> Result<()> {
        self.writer.write_all(bytes)?;
        self.writer.flush()?;
        Ok(())
    }

    /// Feeds one chunk to the screen; answers the terminal queries programs block on
    /// (cursor position, device attributes) as a terminal would.
    fn absorb(&mut self, chunk: &Chunk) -> Result<()> {
        self.total.bytes += chunk.bytes.len() as u64;
        self.total.reads += 1;
        self.parser.process(&chunk.bytes);
        let b = &chunk.bytes;
        if contains(b, b"\x1b[6n") {
            let (row, col) = self.parser.screen().cursor_position();
            let answer = format!("\x1b[{};{}R", row + 1, col + 1);
            self.send(answer.as_bytes())?;
        }
        if contains(b, b"\x1b[c") || contains(b, b"\x1b[0c") {
            self.send(b"\x1b[?62;22c")?;
        }
        Ok(())
    }

    /// Reads output until `pred` holds for the screen (checked now and after every chunk) or
    /// `timeout` passes. Returns when the satisfying chunk arrived, measured from the spawn.
    pub fn wait_until(
        &mut self,
        timeout: Duration,
        mut pred: impl FnMut(&vt100::Screen) -> bool,
    ) -> Result<Option<Duration>> {
        if pred(self.parser.screen()) {
            return Ok(Some(self.started.elapsed()));
        }
        let deadline = Instant::now() + timeout;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() || self.closed {
                return Ok(None);
            }
            match self.chunks.recv_timeout(left) {
                Ok(chunk) => {
                    self.absorb(&chunk)?;
                    if pred(self.parser.screen()) {
                        return Ok(Some(chunk.at.duration_since(self.started)));
                    }
                }
                Err(RecvTimeoutError::Timeout) => return Ok(None),
                Err(RecvTimeoutError::Disconnected) => self.closed = true,
            }
        }
    }

    /// Reads (and counts) everything the program writes for `window`.
    pub fn pump(&mut self, window: Duration) -> Result<Traffic> {
        let before = self.total;
        let deadline = Instant::now() + window;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                break;
            }
            match self.chunks.recv_timeout(left) {
                Ok(chunk) => self.absorb(&chunk)?,
                Err(RecvTimeoutError::Timeout) => break,
                Err(RecvTimeoutError::Disconnected) => {
                    self.closed = true;
                    thread::sleep(left);
                    break;
                }
            }
        }
        Ok(Traffic {
            bytes: self.total.bytes - before.bytes,
            reads: self.total.reads - before.reads,
        })
    }

    /// Key → frame latency: for each `(keys, pred)`, writes the keys and waits until the
    /// screen satisfies `pred`. Returns each step's latency (None: not within `timeout`).
    pub fn key_latencies(
        &mut self,
        steps: &[(Vec<u8>, String)],
        timeout: Duration,
    ) -> Result<Vec<Option<Duration>>> {
        let mut out = Vec::with_capacity(steps.len());
        for (keys, expect) in steps {
            let sent = Instant::now();
            self.send(keys)?;
            let base = sent.duration_since(self.started);
            let hit = self.wait_until(timeout, |s| s.contents().contains(expect.as_str()))?;
            out.push(hit.map(|at| at.saturating_sub(base)));
        }
        Ok(out)
    }

    /// Stops the program: SIGTERM, then SIGKILL if it is still there after 3 s.
    pub fn stop(&mut self) -> Result<()> {
        let pid = nix::unistd::Pid::from_raw(i32::try_from(self.child.id())?);
        let _ = nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM);
        let deadline = Instant::now() + Duration::from_secs(3);
        while Instant::now() < deadline {
            if self.child.try_wait()?.is_some() {
                return Ok(());
            }
            let _ = self.pump(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
        Ok(())
    }

    /// Waits for the program to exit on its own (for tests).
    pub fn wait_exit(&mut self, timeout: Duration) -> Result<Option<std::process::ExitStatus>> {
        let deadline = Instant::now() + timeout;
        while Instant::now() < deadline {
            if let Some(status) = self.child.try_wait()? {
                return Ok(Some(status));
            }
            let _ = self.pump(Duration::from_millis(20))?;
        }
        Ok(None)
    }
}

impl Drop for PtySession {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

/// Cells that are not blank (a first frame is "more than N of them").
pub fn non_blank_cells(screen: &vt100::Screen) -> usize {
    screen
        .contents()
        .chars()
        .filter(|c| !c.is_whitespace())
        .count()
}

/// Memory and CPU of a process and all its descendants, from /proc.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TreeUsage {
    pub processes: usize,
    /// Sum of VmRSS, KiB.
    pub rss_kib: u64,
    /// Sum of VmHWM (each process's own peak RSS), KiB.
    pub hwm_kib: u64,
    /// utime + stime, clock ticks.
    pub cpu_ticks: u64,
}

/// The pids of `root` and its descendants.
pub fn tree_pids(root: u32) -> Vec<u32> {
    let mut parent: HashMap<u32, u32> = HashMap::new();
    if let Ok(dir) = std::fs::read_dir("/proc") {
        for e in dir.flatten() {
            let Some(pid) = e.file_name().to_str().and_then(|s| s.parse::<u32>().ok()) else {
                continue;
            };
            if let Some((ppid, _)) = stat_fields(pid) {
                parent.insert(pid, ppid);
            }
        }
    }
    let mut out = vec![root];
    let mut i = 0;
    while i < out.len() {
        let p = out[i];
        out.extend(parent.iter().filter(|(_, pp)| **pp == p).map(|(c, _)| *c));
        i += 1;
    }
    out
}

/// (ppid, utime + stime) from /proc/PID/stat; the command name may hold spaces and ')'.
fn stat_fields(pid: u32) -> Option<(u32, u64)> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let rest = &stat[stat.rfind(')')? + 2..];
    let f: Vec<&str> = rest.split_whitespace().collect();
    // rest starts at field 3 (state): ppid is field 4, utime 14, stime 15.
    let ppid = f.get(1)?.parse().ok()?;
    let utime: u64 = f.get(11)?.parse().ok()?;
    let stime: u64 = f.get(12)?.parse().ok()?;
    Some((ppid, utime + stime))
}

fn status_kib(pid: u32, field: &str) -> u64 {
    let Ok(s) = std::fs::read_to_string(format!("/proc/{pid}/status")) else {
        return 0;
    };
    s.lines()
        .find_map(|l| l.strip_prefix(field))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

/// Usage of `root`'s tree now. `setsid` itself execs the program (same pid), so the tree is
/// the program and whatever it started.
pub fn tree_usage(root: u32) -> TreeUsage {
    let mut u = TreeUsage::default();
    for pid in tree_pids(root) {
        let Some((_, ticks)) = stat_fields(pid) else {
            continue;
        };
        u.processes += 1;
        u.cpu_ticks += ticks;
        u.rss_kib += status_kib(pid, "VmRSS:");
        u.hwm_kib += status_kib(pid, "VmHWM:");
    }
    u
}

pub fn clock_ticks_per_second() -> Result<u64> {
    match nix::unistd::sysconf(nix::unistd::SysconfVar::CLK_TCK)? {
        Some(t) if t > 0 => Ok(u64::try_from(t)?),
        _ => bail!("sysconf(CLK_TCK) gave no value"),
    }
}

/// p-th percentile (nearest rank) of the measured values; None when there are none.
pub fn percentile(values: &[Duration], p: f64) -> Option<Duration> {
    if values.is_empty() {
        return None;
    }
    let mut v = values.to_vec();
    v.sort();
    let rank = ((p / 100.0) * v.len() as f64).ceil() as usize;
    Some(v[rank.clamp(1, v.len()) - 1])
}
