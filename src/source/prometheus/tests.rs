use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

use super::*;
use crate::config::{ClusterConfig, PrometheusConfig, SloSource};

fn slo(name: &str, service: &str) -> SloConfig {
    SloConfig {
        name: name.into(),
        service: service.into(),
        objective: 99.9,
        window: "30d".into(),
        cluster: None,
        source: SloSource::Promql {
            errors: format!("http_requests_total{{service=\"{service}\",code=~\"5..\"}}"),
            total: format!("http_requests_total{{service=\"{service}\"}}"),
        },
    }
}

#[test]
fn specs_from_config() {
    let specs = slo_specs(&[slo("checkout-availability", "checkout")]);
    assert_eq!(specs.len(), 1);
    assert_eq!(specs[0].window, jiff::SignedDuration::from_hours(720));
    assert_eq!(specs[0].window_label, "30d");
    assert!((specs[0].budget() - 0.001).abs() < 1e-12);
}

#[test]
fn assignment_by_cluster_override_and_token() {
    let mut a = slo("a", "a");
    a.cluster = Some("east".into());
    let b = slo("b", "b");
    let mut c = slo("c", "c");
    c.cluster = Some("west".into());
    let cluster = |name: &str, prom: Option<&str>| ClusterConfig {
        context: format!("ctx-{name}"),
        name: Some(name.into()),
        labels: Default::default(),
        read_only: false,
        prometheus: prom.map(str::to_owned),
        loadtester: None,
        namespaces: Vec::new(),
    };
    let config = Config {
        prometheus: Some(PrometheusConfig {
            url: "http://global:9090".into(),
            bearer_token_file: Some("/tok".into()),
            ca_file: None,
            timeout_seconds: 3,
            interval_seconds: 10,
        }),
        clusters: vec![
            cluster("east", Some("http://east:9090")),
            cluster("west", None),
        ],
        slos: vec![a, b, c],
        ..Config::default()
    };
    let got = assign(&config, Some("http://127.0.0.1:9999"));
    assert!(got.unassigned.is_empty());
    assert_eq!(got.targets.len(), 2);
    let (east, east_slos) = &got.targets[0];
    assert_eq!(east.url, "http://east:9090");
    assert_eq!(
        east.bearer_token_file, None,
        "the global token never goes to another server"
    );
    assert_eq!(east.timeout, Duration::from_secs(3));
    assert_eq!(
        east_slos
            .iter()
            .map(|s| s.name.as_str())
            .collect::<Vec<_>>(),
        ["a"]
    );
    let (global, global_slos) = &got.targets[1];
    assert_eq!(global.url, "http://127.0.0.1:9999");
    assert_eq!(global.bearer_token_file, Some("/tok".into()));
    assert_eq!(global.interval, Duration::from_secs(10));
    assert_eq!(
        global_slos
            .iter()
            .map(|s| s.name.as_str())
            .collect::<Vec<_>>(),
        ["b", "c"]
    );

    let none = assign(
        &Config {
            slos: vec![slo("b", "b")],
            ..Config::default()
        },
        None,
    );
    assert_eq!(none.unassigned, ["b"]);
}

/// A one-shot HTTP server on 127.0.0.1 that answers `body` with `status` and hands back the
/// request it saw.
async fn fake_prometheus(
    status: u16,
    body: &'static str,
) -> (String, tokio::task::JoinHandle<String>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let handle = tokio::spawn(async move {
        let (mut sock, _) = listener.accept().await.unwrap();
        let mut req = Vec::new();
        let mut buf = [0u8; 4096];
        loop {
            let n = sock.read(&mut buf).await.unwrap();
            req.extend_from_slice(&buf[..n]);
            let text = String::from_utf8_lossy(&req).to_string();
            if let Some((head, rest)) = text.split_once("\r\n\r\n") {
                let len: usize = head
                    .lines()
                    .find_map(|l| {
                        l.to_ascii_lowercase()
                            .strip_prefix("content-length:")
                            .map(|v| v.trim().parse().unwrap())
                    })
                    .unwrap_or(0);
                if rest.len() >= len {
                    break;
                }
            }
            if n == 0 {
                break;
            }
        }
        let reply = format!(
            "HTTP/1.1 {status} X\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
            body.len()
        );
        sock.write_all(reply.as_bytes()).await.unwrap();
        String::from_utf8_lossy(&req).to_string()
    });
    (url, handle)
}

#[tokio::test]
async fn evaluates_with_token_time_and_batched_query() {
    let (url, server) = fake_prometheus(
        200,
        r#"{"status":"success","data":{"resultType":"vector","result":[
            {"metric":{"window":"5m"},"value":[1764145200,"0.02"]},
            {"metric":{"window":"1h"},"value":[1764145200,"NaN"]},
            {"metric":{"window":"slo_window"},"value":[1764145200,"0.0002"]}]}}"#,
    )
    .await;
    let dir = tempfile::tempdir().unwrap();
    let token = dir.path().join("token");
    std::fs::write(&token, "s3cr3t\n").unwrap();
    let mut target = Target::new(url);
    target.bearer_token_file = Some(token);
    let at = Timestamp::from_second(1_764_145_200).unwrap();
    let msgs = evaluate_at(&target, &[slo("checkout-availability", "checkout")], at).await;
    let request = server.await.unwrap();
    assert!(request.starts_with("POST /api/v1/query "), "{request}");
    assert!(
        request.contains("authorization: Bearer s3cr3t"),
        "{request}"
    );
    assert!(request.contains("time=1764145200.000"), "{request}");
    assert!(request.contains("query=label_replace"), "{request}");
    let [Msg::Slo(report)] = msgs.as_slice() else {
        panic!("expected one report, got {msgs:?}");
    };
    assert_eq!(report.slo, "checkout-availability");
    assert_eq!(report.at, at);
    let get = |w: BurnWindow| report.ratios.iter().find(|(x, _)| *x == w).unwrap().1;
    assert_eq!(get(BurnWindow::M5), Some(0.02));
    assert_eq!(get(BurnWindow::H1), None, "NaN is missing, not zero");
    assert_eq!(get(BurnWindow::D3), None, "no series is missing, not zero");
    assert_eq!(report.ratios.len(), 7);
    assert_eq!(report.window_ratio, Some(0.0002));
}

#[tokio::test]
async fn query_errors_become_unavailable() {
    let (url, _server) = fake_prometheus(
        400,
        r#"{"status":"error","errorType":"bad_data","error":"1:5: parse error"}"#,
    )
    .await;
    let at = Timestamp::now();
    let msgs = evaluate_at(&Target::new(url), &[slo("x", "x")], at).await;
    let [Msg::SloUnavailable { slo, error, .. }] = msgs.as_slice() else {
        panic!("{msgs:?}");
    };
    assert_eq!(slo, "x");
    assert!(error.to_string().contains("parse error"), "{error}");
}

#[tokio::test]
async fn closed_port_is_unavailable_for_every_slo() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    drop(listener);
    let msgs = evaluate_at(
        &Target::new(url),
        &[slo("a", "a"), slo("b", "b")],
        Timestamp::now(),
    )
    .await;
    assert_eq!(msgs.len(), 2);
    for m in &msgs {
        let Msg::SloUnavailable { error, .. } = m else {
            panic!("{m:?}");
        };
        assert!(error.to_string().contains("unreachable"), "{error}");
    }
}

#[tokio::test]
async fn slow_server_times_out() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let _hold = tokio::spawn(async move {
        let (_sock, _) = listener.accept().await.unwrap();
        tokio::time::sleep(Duration::from_secs(30)).await;
    });
    let mut target = Target::new(url);
    target.timeout = Duration::from_secs(1);
    let started = std::time::Instant::now();
    let msgs = evaluate_at(&target, &[slo("a", "a"), slo("b", "b")], Timestamp::now()).await;
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "one timeout for the round, not one per SLO"
    );
    for m in &msgs {
        let Msg::SloUnavailable { error, .. } = m else {
            panic!("{m:?}");
        };
        assert!(
            error.to_string().contains("did not answer within 1s"),
            "{error}"
        );
    }
}

#[tokio::test]
async fn spawned_task_reports_at_start_and_stops_with_the_receiver() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    drop(listener);
    let (tx, mut rx) = mpsc::channel(4);
    let mut target = Target::new(url);
    target.interval = Duration::from_secs(1);
    let handle = spawn(target, vec![slo("a", "a")], tx);
    for _ in 0..2 {
        let msg = tokio::time::timeout(Duration::from_secs(5), rx.recv())
            .await
            .unwrap();
        assert!(matches!(msg, Some(Msg::SloUnavailable { .. })), "{msg:?}");
    }
    drop(rx);
    tokio::time::timeout(Duration::from_secs(5), handle)
        .await
        .unwrap()
        .unwrap();
}

#[tokio::test]
async fn evaluate_all_once_covers_unassigned_slos() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    drop(listener);
    let assignment = Assignment {
        targets: vec![(Target::new(url), vec![slo("a", "a")])],
        unassigned: vec!["b".into()],
    };
    let msgs = evaluate_all_once(&assignment).await;
    let names: Vec<&str> = msgs
        .iter()
        .map(|m| match m {
            Msg::SloUnavailable { slo, .. } => slo.as_str(),
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(names, ["a", "b"]);
}
