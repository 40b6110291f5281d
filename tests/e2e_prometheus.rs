//! The test Prometheus answers SLO burn-rate queries over series pushed with remote write.
#![cfg(feature = "e2e")]

mod support;

use anyhow::Result;

use support::TestEnv;
use support::env::unique_name;
use support::promwrite::{Series, push, query_scalar};

const OBJECTIVE_BUDGET: f64 = 0.001; // 99.9 % SLO

/// Deterministic pseudo-random numbers (no dependency, same data every run).
struct Lcg(u64);
impl Lcg {
    fn next(&mut self, n: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 33) % n
    }
}

/// Counter value at `t` from a list of (t, value) samples (last sample at or before t).
fn at(samples: &[(i64, f64)], t: i64) -> f64 {
    samples
        .iter()
        .take_while(|(ts, _)| *ts <= t)
        .last()
        .map_or(0.0, |(_, v)| *v)
}

#[tokio::test]
async fn burn_rate_query_matches_pushed_data() -> Result<()> {
    let env = TestEnv::get()?;
    let run = unique_name("burn");
    // Fixed evaluation time: a whole minute, safely in the past.
    let now_s = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)?
        .as_secs() as i64;
    let eval_s = now_s / 60 * 60 - 60;
    let (eval_ms, start_ms) = (eval_s * 1000, (eval_s - 2 * 3600) * 1000);

    // Two hours of counters: requests every 15 s, errors every 30 s. The error ratio is
    // ~0.5 % in the first hour and ~2 % in the second, so a query over the wrong window
    // gives a clearly different answer.
    let mut rng = Lcg(42);
    let (mut total, mut errors) = (
        Series::new("shipdeck_e2e_requests_total", &[("run", &run)]),
        Series::new("shipdeck_e2e_errors_total", &[("run", &run)]),
    );
    let (mut n, mut e) = (0.0, 0.0);
    let mut t = start_ms;
    while t <= eval_ms {
        let reqs = 90 + rng.next(21); // 90..=110 requests per 15 s
        n += reqs as f64;
        let pct_x10 = if t < eval_ms - 3600 * 1000 { 5 } else { 20 };
        e += (reqs * pct_x10 / 1000) as f64 + rng.next(2) as f64;
        total.samples.push((t, n));
        if (t - start_ms) % 30_000 == 0 {
            errors.samples.push((t, e));
        }
        t += 15_000;
    }
    push(&env.prometheus_url, &[total.clone(), errors.clone()]).await?;

    for window_h in [1, 2] {
        let from = eval_ms - window_h * 3600 * 1000;
        let expected = (at(&errors.samples, eval_ms) - at(&errors.samples, from))
            / (at(&total.samples, eval_ms) - at(&total.samples, from))
            / OBJECTIVE_BUDGET;
        let q = format!(
            "sum(rate(shipdeck_e2e_errors_total{{run=\"{run}\"}}[{window_h}h])) / \
             sum(rate(shipdeck_e2e_requests_total{{run=\"{run}\"}}[{window_h}h])) / {OBJECTIVE_BUDGET}"
        );
        let got = query_scalar(&env.prometheus_url, &q, eval_s as f64).await?;
        let rel = (got - expected).abs() / expected;
        assert!(
            rel < 0.02,
            "{window_h}h burn rate: Prometheus says {got:.3}, pushed data says {expected:.3} ({:.2} % off)",
            rel * 100.0
        );
        // The data was built so the windows differ: make sure the check can fail.
        if window_h == 1 {
            assert!(
                expected > 14.4,
                "1h burn should be page-level, computed {expected}"
            );
        }
    }
    Ok(())
}
