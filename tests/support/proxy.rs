//! A TCP fault proxy on 127.0.0.1 to put in front of an apiserver (or anything else).
//!
//! TLS passes through untouched (the apiserver's certificate is valid for 127.0.0.1 on any
//! port), so a client built with [`crate::support::TestEnv::client_via`] and
//! [`FaultProxy::url`] talks to the real apiserver through it. The mode can be switched at
//! any time and applies to open connections too (clients keep connections alive):
//! - [`Mode::Pass`]: forward both ways.
//! - [`Mode::Delay`]: forward, each chunk held back for the given time.
//! - [`Mode::Blackhole`]: accept, forward nothing, never close (no FIN, no RST): like a
//!   partition. Data waits in the socket buffers; back in `Pass`, it flows again.
//! - [`Mode::Reset`]: reset (RST) every open connection and each new one on accept.
//! - [`Mode::Freeze`]: the connections open when it was set stop forwarding both ways and
//!   are never closed (no FIN, no RST): a half-open link, a NAT that dropped the flow. New
//!   connections are accepted and forwarded as in `Pass`. Back in `Pass`, the frozen ones
//!   flow again.

use std::net::SocketAddr;
use std::time::Duration;

use anyhow::{Context, Result};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::JoinHandle;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Pass,
    Delay(Duration),
    Blackhole,
    Reset,
    Freeze,
}

/// A running proxy; stops (and drops every connection) when dropped.
#[derive(Debug)]
pub struct FaultProxy {
    addr: SocketAddr,
    mode: watch::Sender<Mode>,
    accept_task: JoinHandle<()>,
}

impl FaultProxy {
    /// Listen on 127.0.0.1 (a free port) and forward to `upstream`, starting in `Pass`.
    pub async fn start(upstream: SocketAddr) -> Result<FaultProxy> {
        let listener = TcpListener::bind(("127.0.0.1", 0))
            .await
            .context("binding fault proxy")?;
        let addr = listener.local_addr()?;
        let (mode, mode_rx) = watch::channel(Mode::Pass);
        let accept_task = tokio::spawn(accept_loop(listener, upstream, mode_rx));
        Ok(FaultProxy {
            addr,
            mode,
            accept_task,
        })
    }

    /// The proxy's address (127.0.0.1:port).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `https://127.0.0.1:<port>`, for `TestEnv::client_via`.
    pub fn url(&self) -> String {
        format!("https://{}", self.addr)
    }

    /// Switch mode; applies to open connections immediately.
    pub fn set_mode(&self, mode: Mode) {
        self.mode.send_replace(mode);
    }

    pub fn mode(&self) -> Mode {
        *self.mode.borrow()
    }
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        // Dropping the sender also ends every connection task (their `changed()` fails).
        self.accept_task.abort();
    }
}

async fn accept_loop(listener: TcpListener, upstream: SocketAddr, mode: watch::Receiver<Mode>) {
    while let Ok((client, _)) = listener.accept().await {
        tokio::spawn(handle(client, upstream, mode.clone()));
    }
}

fn reset(stream: &TcpStream) {
    // SO_LINGER 0: the close that follows sends RST instead of FIN.
    let _ = stream.set_zero_linger();
}

/// Wait while the mode is Blackhole (or Freeze, for a connection opened before it; `exempt`
/// says this one was opened during the current freeze and is cleared once the freeze is
/// over). Returns the mode to act on, or None if the proxy is gone.
async fn wait_out_blackhole(mode: &mut watch::Receiver<Mode>, exempt: &mut bool) -> Option<Mode> {
    loop {
        let m = *mode.borrow_and_update();
        if m != Mode::Freeze {
            *exempt = false;
        }
        let held = m == Mode::Blackhole || (m == Mode::Freeze && !*exempt);
        if !held {
            return Some(m);
        }
        mode.changed().await.ok()?;
    }
}

async fn handle(client: TcpStream, upstream: SocketAddr, mut mode: watch::Receiver<Mode>) {
    // A new connection in Blackhole is held (not connected upstream) until the mode changes;
    // one opened during a freeze is forwarded (only the connections open before are frozen).
    let mut exempt = *mode.borrow() == Mode::Freeze;
    match wait_out_blackhole(&mut mode, &mut exempt).await {
        None => return,
        Some(Mode::Reset) => return reset(&client),
        Some(_) => {}
    }
    let Ok(server) = TcpStream::connect(upstream).await else {
        return reset(&client);
    };
    let _ = client.set_nodelay(true);
    let _ = server.set_nodelay(true);
    let _ = pump(client, server, mode, exempt).await;
}

/// Forward both ways in one task, re-reading the mode before every chunk.
async fn pump(
    mut client: TcpStream,
    mut server: TcpStream,
    mut mode: watch::Receiver<Mode>,
    mut exempt: bool,
) -> std::io::Result<()> {
    let mut cbuf = vec![0u8; 64 * 1024];
    let mut sbuf = vec![0u8; 64 * 1024];
    let (mut client_open, mut server_open) = (true, true);
    while client_open || server_open {
        let m = match wait_out_blackhole(&mut mode, &mut exempt).await {
            None => return Ok(()),
            Some(m) => m,
        };
        if m == Mode::Reset {
            reset(&client);
            reset(&server);
            return Ok(());
        }
        let delay = match m {
            Mode::Delay(d) => Some(d),
            _ => None,
        };
        tokio::select! {
            changed = mode.changed() => {
                if changed.is_err() { return Ok(()); }
            }
            r = client.read(&mut cbuf), if client_open => {
                let n = r?;
                if n == 0 {
                    client_open = false;
                    server.shutdown().await?;
                } else {
                    if let Some(d) = delay { tokio::time::sleep(d).await; }
                    server.write_all(&cbuf[..n]).await?;
                }
            }
            r = server.read(&mut sbuf), if server_open => {
                let n = r?;
                if n == 0 {
                    server_open = false;
                    client.shutdown().await?;
                } else {
                    if let Some(d) = delay { tokio::time::sleep(d).await; }
                    client.write_all(&sbuf[..n]).await?;
                }
            }
        }
    }
    Ok(())
}
