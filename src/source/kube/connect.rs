//! The kube client, built as kube-rs builds it (`Client::try_from(Config)`: rustls over an
//! HTTP connector, connect/read/write timeouts, the base URI, auth and extra headers) with one
//! difference: TCP keepalive on every connection. A jump host's NAT or load balancer drops an
//! idle flow without a FIN; keepalive probes keep the flow alive, or find it dead, for the
//! pooled connections the read timeout does not watch (an action client idle between keys).
//! And one more: a pooled connection idle for `POOL_IDLE` is dropped, not reused. kube-apiserver
//! closes a connection idle for 90 s (its `IdleTimeout`), and hyper's default pool keeps one
//! for 90 s too: a request sent on a connection the server is closing at that instant fails
//! as it is written, and an action's outcome is then unknown. A pool timeout well under any
//! server's or load balancer's idle timeout leaves no such race (a new connection costs one
//! TLS handshake, after a pause of more than `POOL_IDLE`).

use std::time::Duration;

use hyper_timeout::TimeoutConnector;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::{TokioExecutor, TokioTimer};
use kube::client::ConfigExt;
use kube::client::retry::RetryPolicy;
use tower::ServiceBuilder;
use tower::retry::RetryLayer;

/// Idle time before the first probe, and between probes.
pub const KEEPALIVE: Duration = Duration::from_secs(15);
/// Unanswered probes before the kernel drops the connection (15 + 3 × 5 s ≈ 30 s).
pub const KEEPALIVE_INTERVAL: Duration = Duration::from_secs(5);
pub const KEEPALIVE_RETRIES: u32 = 3;
/// A pooled connection idle for longer than this is closed rather than reused.
pub const POOL_IDLE: Duration = Duration::from_secs(10);

/// The HTTP connector every shipdeck client uses.
pub fn http_connector() -> HttpConnector {
    let mut http = HttpConnector::new();
    http.enforce_http(false);
    http.set_keepalive(Some(KEEPALIVE));
    http.set_keepalive_interval(Some(KEEPALIVE_INTERVAL));
    http.set_keepalive_retries(Some(KEEPALIVE_RETRIES));
    http.set_nodelay(true);
    http
}

/// A client for `config` (a proxy URL in the kubeconfig is refused: kube-rs is built here
/// without its proxy features either).
pub fn client(config: kube::Config) -> Result<kube::Client, kube::Error> {
    client_with_pool_idle(config, POOL_IDLE)
}

fn client_with_pool_idle(
    config: kube::Config,
    pool_idle: Duration,
) -> Result<kube::Client, kube::Error> {
    if let Some(proxy) = &config.proxy_url {
        return Err(kube::Error::ProxyProtocolUnsupported {
            proxy_url: Box::new(proxy.clone()),
        });
    }
    let https = config.rustls_https_connector_with_connector(http_connector())?;
    let mut timed = TimeoutConnector::new(https);
    timed.set_connect_timeout(config.connect_timeout);
    timed.set_read_timeout(config.read_timeout);
    timed.set_write_timeout(config.write_timeout);
    timed.set_reset_reader_on_write(config.reset_reader_on_write);
    let http: hyper_util::client::legacy::Client<_, kube::client::Body> =
        hyper_util::client::legacy::Builder::new(TokioExecutor::new())
            .pool_idle_timeout(pool_idle)
            .pool_timer(TokioTimer::new())
            .build(timed);
    let service = ServiceBuilder::new()
        .layer(config.base_uri_layer())
        .option_layer(
            config
                .default_retry
                .then_some(RetryLayer::new(RetryPolicy::server_retry())),
        )
        .option_layer(config.auth_layer()?)
        .layer(config.extra_headers_layer()?)
        .map_err(tower::BoxError::from)
        .service(http);
    Ok(kube::Client::new(service, config.default_namespace))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_client_builds_from_a_plain_config() {
        let config = kube::Config::new("https://127.0.0.1:6443".parse().unwrap());
        assert!(client(config).is_ok());
    }

    /// The kernel's timer on the client's socket (`/proc/net/tcp`, column `tr`): 2 is the
    /// keepalive timer, armed only on a socket with SO_KEEPALIVE.
    fn timer_of(local_port: u16, remote_port: u16) -> Option<u8> {
        let table = std::fs::read_to_string("/proc/net/tcp").ok()?;
        let port = |addr: &str| u16::from_str_radix(addr.rsplit(':').next()?, 16).ok();
        table.lines().skip(1).find_map(|line| {
            let f: Vec<&str> = line.split_whitespace().collect();
            let (local, remote, timer) = (f.get(1)?, f.get(2)?, f.get(5)?);
            (port(local)? == local_port && port(remote)? == remote_port)
                .then(|| timer.split(':').next()?.parse().ok())?
        })
    }

    #[tokio::test]
    async fn the_connection_to_the_api_server_has_tcp_keepalive() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let server_port = listener.local_addr().unwrap().port();
        let url = format!("http://127.0.0.1:{server_port}");
        let client = client(kube::Config::new(url.parse().unwrap())).unwrap();
        // The request waits for an answer that never comes; its socket idles meanwhile.
        let pending = tokio::spawn(async move { client.apiserver_version().await });
        let (_conn, peer) = listener.accept().await.unwrap();
        let mut timer = None;
        for _ in 0..50 {
            timer = timer_of(peer.port(), server_port);
            if timer == Some(2) {
                break;
            }
            tokio::time::sleep(Duration::from_millis(40)).await;
        }
        pending.abort();
        assert_eq!(timer, Some(2), "the client's socket has no keepalive timer");
    }

    #[tokio::test]
    async fn without_keepalive_the_same_socket_has_no_timer() {
        // The control: a plain connection (no SO_KEEPALIVE) idles with no timer, so the test
        // above can tell the two apart.
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let server_port = listener.local_addr().unwrap().port();
        let stream = tokio::net::TcpStream::connect(("127.0.0.1", server_port))
            .await
            .unwrap();
        let (_conn, _) = listener.accept().await.unwrap();
        let local = stream.local_addr().unwrap().port();
        tokio::time::sleep(Duration::from_millis(200)).await;
        assert_eq!(timer_of(local, server_port), Some(0));
    }

    /// A loopback HTTP server that answers every request with a `/version` body, keeps the
    /// connection open, and counts the connections it accepted.
    async fn counting_server() -> (String, std::sync::Arc<std::sync::atomic::AtomicUsize>) {
        use std::sync::atomic::{AtomicUsize, Ordering};
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let accepted = std::sync::Arc::new(AtomicUsize::new(0));
        let count = accepted.clone();
        tokio::spawn(async move {
            while let Ok((mut conn, _)) = listener.accept().await {
                count.fetch_add(1, Ordering::SeqCst);
                tokio::spawn(async move {
                    let body = r#"{"major":"1","minor":"34","gitVersion":"v1.34.0","gitCommit":"","gitTreeState":"","buildDate":"","goVersion":"","compiler":"","platform":""}"#;
                    let mut buf = vec![0u8; 8192];
                    let mut seen = Vec::new();
                    loop {
                        let n = match conn.read(&mut buf).await {
                            Ok(0) | Err(_) => return,
                            Ok(n) => n,
                        };
                        seen.extend_from_slice(&buf[..n]);
                        while let Some(end) = seen.windows(4).position(|w| w == b"\r\n\r\n") {
                            seen.drain(..end + 4);
                            let answer = format!(
                                "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{body}",
                                body.len()
                            );
                            if conn.write_all(answer.as_bytes()).await.is_err() {
                                return;
                            }
                        }
                    }
                });
            }
        });
        (url, accepted)
    }

    #[tokio::test]
    async fn a_connection_idle_past_the_pool_timeout_is_not_reused() {
        use std::sync::atomic::Ordering;
        let (url, accepted) = counting_server().await;
        let idle = Duration::from_millis(150);
        let client = client_with_pool_idle(kube::Config::new(url.parse().unwrap()), idle).unwrap();
        client.apiserver_version().await.unwrap();
        // The control: a request right after reuses the pooled connection.
        client.apiserver_version().await.unwrap();
        assert_eq!(
            accepted.load(Ordering::SeqCst),
            1,
            "back to back, one connection"
        );
        tokio::time::sleep(idle * 3).await;
        client.apiserver_version().await.unwrap();
        assert_eq!(
            accepted.load(Ordering::SeqCst),
            2,
            "after the pool timeout, a new connection"
        );
    }

    #[test]
    fn a_proxy_url_is_refused_with_its_reason() {
        let mut config = kube::Config::new("https://127.0.0.1:6443".parse().unwrap());
        config.proxy_url = Some("http://127.0.0.1:3128".parse().unwrap());
        let err = client(config)
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(err.contains("proxy"), "{err}");
    }
}
