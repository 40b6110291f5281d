//! A simulated SLI: request and error counts in 10-second buckets over three days (plus one
//! running total for the rest of the 30-day window), so every burn window is computed from
//! the same history and they agree with each other the way Prometheus' would. Errors come
//! from a small baseline plus whatever share of traffic an error-prone version serves.

use std::collections::VecDeque;

use jiff::{SignedDuration, Timestamp};

use super::rng::Rng;
use crate::core::model::{BurnWindow, SloSpec};
use crate::core::msg::SloReport;

const BUCKET_SECS: i64 = 10;
/// Three days of buckets: the longest burn window.
const BUCKETS: usize = (259_200 / BUCKET_SECS) as usize;
/// Error ratio of requests served by an error-prone version: at 20 % of a 99.9 % service's
/// traffic it burns 60x (0.2 × 0.3 / 0.001), which pages within a quarter of an hour.
pub const ERROR_PRONE_RATIO: f64 = 0.3;

/// A past spell of extra errors, for the history made up at start.
#[derive(Debug, Clone, Copy)]
pub struct Incident {
    pub ago_secs: i64,
    pub duration_secs: i64,
    pub extra_ratio: f64,
}

#[derive(Debug, Clone)]
pub struct SloSim {
    pub spec: SloSpec,
    rps: f64,
    baseline: f64,
    /// (requests, errors) per bucket, oldest first.
    buckets: VecDeque<(f64, f64)>,
    /// (requests, errors) in the SLO window before the bucket ring.
    older: (f64, f64),
    current: (f64, f64),
    current_secs: i64,
    /// Running (requests, errors) over the last buckets of each burn window, and over the
    /// whole ring: reports stay O(1) per tick instead of summing three days of buckets.
    window_sums: [(f64, f64); BurnWindow::ALL.len()],
    ring_sum: (f64, f64),
    pushes: u64,
}

fn add(a: (f64, f64), b: (f64, f64)) -> (f64, f64) {
    (a.0 + b.0, a.1 + b.1)
}

fn sub(a: (f64, f64), b: (f64, f64)) -> (f64, f64) {
    (a.0 - b.0, a.1 - b.1)
}

fn buckets_in(window: BurnWindow) -> usize {
    (window.seconds() / BUCKET_SECS) as usize
}

impl SloSim {
    /// `older_ratio` is the error ratio of the 27 days before the ring: it sets how much
    /// budget is left when the demo starts.
    pub fn new(
        spec: SloSpec,
        rps: f64,
        baseline: f64,
        older_ratio: f64,
        incidents: &[Incident],
        rng: &mut Rng,
    ) -> Self {
        let per_bucket = rps * BUCKET_SECS as f64;
        let buckets = (0..BUCKETS)
            .map(|i| {
                let ago = (BUCKETS - i) as i64 * BUCKET_SECS;
                let extra: f64 = incidents
                    .iter()
                    .filter(|inc| ago <= inc.ago_secs && ago > inc.ago_secs - inc.duration_secs)
                    .map(|inc| inc.extra_ratio)
                    .sum();
                let ratio = baseline * (0.5 + rng.unit()) + extra;
                (per_bucket, per_bucket * ratio)
            })
            .collect();
        let older_secs = spec.window.as_secs() - BUCKETS as i64 * BUCKET_SECS;
        let older_total = rps * older_secs.max(0) as f64;
        let mut sim = SloSim {
            spec,
            rps,
            baseline,
            buckets,
            older: (older_total, older_total * older_ratio),
            current: (0.0, 0.0),
            current_secs: 0,
            window_sums: [(0.0, 0.0); BurnWindow::ALL.len()],
            ring_sum: (0.0, 0.0),
            pushes: 0,
        };
        sim.resum();
        sim
    }

    /// Recompute the running sums exactly (also clears floating-point drift).
    fn resum(&mut self) {
        for (sum, window) in self.window_sums.iter_mut().zip(BurnWindow::ALL) {
            *sum = self
                .buckets
                .iter()
                .rev()
                .take(buckets_in(window))
                .fold((0.0, 0.0), |a, b| add(a, *b));
        }
        self.ring_sum = self.buckets.iter().fold((0.0, 0.0), |a, b| add(a, *b));
    }

    fn push(&mut self, bucket: (f64, f64)) {
        self.buckets.push_back(bucket);
        self.ring_sum = add(self.ring_sum, bucket);
        let len = self.buckets.len();
        for (sum, window) in self.window_sums.iter_mut().zip(BurnWindow::ALL) {
            *sum = add(*sum, bucket);
            let n = buckets_in(window);
            if len > n
                && let Some(gone) = self.buckets.get(len - 1 - n)
            {
                *sum = sub(*sum, *gone);
            }
        }
        while self.buckets.len() > BUCKETS {
            if let Some(gone) = self.buckets.pop_front() {
                self.ring_sum = sub(self.ring_sum, gone);
                self.older = add(self.older, gone);
            }
        }
        self.pushes += 1;
        if self.pushes.is_multiple_of(360) {
            self.resum();
        }
    }

    /// One second of traffic, `error_prone_share` of it served by an error-prone version.
    pub fn second(&mut self, error_prone_share: f64, rng: &mut Rng) {
        let ratio = self.baseline * (0.5 + rng.unit()) + error_prone_share * ERROR_PRONE_RATIO;
        self.current.0 += self.rps;
        self.current.1 += self.rps * ratio.min(1.0);
        self.current_secs += 1;
        if self.current_secs >= BUCKET_SECS {
            let bucket = std::mem::take(&mut self.current);
            self.current_secs = 0;
            self.push(bucket);
        }
    }

    /// Error ratios per burn window and over the SLO window, as a Prometheus query would
    /// return them at `at`.
    pub fn report(&self, at: Timestamp) -> SloReport {
        let ratio = |(total, bad): (f64, f64)| (total > 0.0).then(|| (bad / total).max(0.0));
        let ratios = BurnWindow::ALL
            .iter()
            .zip(self.window_sums)
            .map(|(window, sum)| (*window, ratio(add(sum, self.current))))
            .collect();
        SloReport {
            slo: self.spec.name.clone(),
            at,
            ratios,
            window_ratio: ratio(add(add(self.older, self.ring_sum), self.current)),
        }
    }
}

impl SloSim {
    /// What Prometheus would have answered every `step_secs` over the last `count` steps
    /// before `now`, oldest first, from the same buckets: the console's trend starts with
    /// the history the windows already hold, instead of empty. (Windows reaching back past
    /// the ring read it as far as it goes.)
    pub fn past_reports(&self, now: Timestamp, step_secs: i64, count: usize) -> Vec<SloReport> {
        let mut prefix = Vec::with_capacity(self.buckets.len() + 1);
        let mut sum = (0.0, 0.0);
        prefix.push(sum);
        for b in &self.buckets {
            sum = add(sum, *b);
            prefix.push(sum);
        }
        let ratio = |(total, bad): (f64, f64)| (total > 0.0).then(|| (bad / total).max(0.0));
        let per_step = (step_secs / BUCKET_SECS).max(1) as usize;
        (1..=count)
            .rev()
            .filter_map(|k| {
                let end = self.buckets.len().checked_sub(k * per_step)?;
                let ratios = BurnWindow::ALL
                    .iter()
                    .map(|w| {
                        let start = end.saturating_sub(buckets_in(*w));
                        (*w, ratio(sub(prefix[end], prefix[start])))
                    })
                    .collect();
                Some(SloReport {
                    slo: self.spec.name.clone(),
                    at: now - SignedDuration::from_secs(k as i64 * step_secs),
                    ratios,
                    window_ratio: ratio(add(self.older, prefix[end])),
                })
            })
            .collect()
    }
}

/// A 30-day availability SLO.
pub fn spec(name: &str, service: &str, objective: f64) -> SloSpec {
    SloSpec {
        name: name.to_string(),
        service: service.to_string(),
        objective,
        window: SignedDuration::from_hours(24 * 30),
        window_label: "30d".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ratio(r: &SloReport, w: BurnWindow) -> f64 {
        r.ratios
            .iter()
            .find(|(x, _)| *x == w)
            .and_then(|(_, v)| *v)
            .unwrap_or(f64::NAN)
    }

    #[test]
    fn windows_see_the_same_history() {
        let mut rng = Rng::new(3);
        let incident = Incident {
            ago_secs: 7200,
            duration_secs: 600,
            extra_ratio: 0.02,
        };
        let sim = SloSim::new(
            spec("a", "a", 99.9),
            50.0,
            0.0002,
            0.0002,
            &[incident],
            &mut rng,
        );
        let r = sim.report(Timestamp::UNIX_EPOCH);
        assert_eq!(r.ratios.len(), BurnWindow::ALL.len());
        // The incident two hours ago shows in 6h, not in 1h.
        assert!(ratio(&r, BurnWindow::H1) < 0.001);
        assert!(ratio(&r, BurnWindow::H6) > 2.0 * ratio(&r, BurnWindow::H1));
        assert!(r.window_ratio.is_some_and(|w| w > 0.0 && w < 0.001));
    }

    #[test]
    fn errors_raise_the_short_window_first_and_fade() {
        let mut rng = Rng::new(3);
        let mut sim = SloSim::new(spec("a", "a", 99.9), 50.0, 0.0002, 0.0002, &[], &mut rng);
        let before = ratio(&sim.report(Timestamp::UNIX_EPOCH), BurnWindow::M5);
        for _ in 0..120 {
            sim.second(0.25, &mut rng);
        }
        let during = sim.report(Timestamp::UNIX_EPOCH);
        assert!(ratio(&during, BurnWindow::M5) > before * 10.0);
        assert!(ratio(&during, BurnWindow::M5) > ratio(&during, BurnWindow::H1));
        for _ in 0..400 {
            sim.second(0.0, &mut rng);
        }
        assert!(ratio(&sim.report(Timestamp::UNIX_EPOCH), BurnWindow::M5) < before * 3.0);
    }

    fn burn(r: &SloReport, w: BurnWindow) -> f64 {
        ratio(r, w) / 0.001
    }

    #[test]
    fn a_60x_burn_for_three_minutes_moves_each_window_by_its_share() {
        // No baseline: every error is the burst's, so each window sees exactly
        // 60x × 180 s / its length — 30m by 6x, 1h by 3x, 5m by 36x — up to the current
        // bucket (a window spans its whole buckets plus the one filling, at most 10 s more
        // traffic and no more errors: a relative error of 10 s / window).
        let mut rng = Rng::new(5);
        let mut sim = SloSim::new(spec("a", "a", 99.9), 50.0, 0.0, 0.0, &[], &mut rng);
        let share = 60.0 * 0.001 / ERROR_PRONE_RATIO;
        for _ in 0..180 {
            sim.second(share, &mut rng);
        }
        let r = sim.report(Timestamp::UNIX_EPOCH);
        for (w, expected) in [
            (BurnWindow::M5, 36.0),
            (BurnWindow::M30, 6.0),
            (BurnWindow::H1, 3.0),
            (BurnWindow::H6, 0.5),
        ] {
            let got = burn(&r, w);
            let tolerance = expected * BUCKET_SECS as f64 / w.seconds() as f64 + 1e-9;
            assert!(
                (got - expected).abs() <= tolerance,
                "{w:?}: {got} vs {expected} ± {tolerance}"
            );
        }
    }

    #[test]
    fn the_burst_adds_the_same_amount_on_top_of_a_baseline() {
        // With a noisy baseline (0.2x mean), 3 minutes at 60x lift the 30m window by 6x
        // over where the same baseline alone leaves it (same seed, same noise): only the
        // bucket edge (10 s of 30 m) is left as error.
        let run = |burst: bool| {
            let mut rng = Rng::new(9);
            let mut sim = SloSim::new(spec("a", "a", 99.9), 50.0, 0.0002, 0.0, &[], &mut rng);
            let share = if burst {
                60.0 * 0.001 / ERROR_PRONE_RATIO
            } else {
                0.0
            };
            for _ in 0..180 {
                sim.second(share, &mut rng);
            }
            burn(&sim.report(Timestamp::UNIX_EPOCH), BurnWindow::M30)
        };
        let lift = run(true) - run(false);
        let tolerance = 6.0 * BUCKET_SECS as f64 / 1800.0 + 1e-9;
        assert!((lift - 6.0).abs() <= tolerance, "30m lifted by {lift}");
    }

    #[test]
    fn past_reports_read_the_same_buckets() {
        let mut rng = Rng::new(3);
        // 5 minutes of 20x, from 20 to 15 minutes ago: the 5m window of the report 15
        // minutes ago is all of it, the one 2.5 minutes ago sees none of it.
        let incident = Incident {
            ago_secs: 1_200,
            duration_secs: 300,
            extra_ratio: 0.02,
        };
        let sim = SloSim::new(spec("a", "a", 99.9), 50.0, 0.0, 0.0, &[incident], &mut rng);
        let now = Timestamp::UNIX_EPOCH + SignedDuration::from_hours(100);
        let past = sim.past_reports(now, 30, 60);
        assert_eq!(past.len(), 60);
        assert!(past.windows(2).all(|p| p[0].at < p[1].at), "oldest first");
        assert_eq!(past[59].at, now - SignedDuration::from_secs(30));
        let at = |ago: i64| {
            past.iter()
                .find(|r| r.at == now - SignedDuration::from_secs(ago))
                .expect("a report then")
        };
        assert!((burn(at(900), BurnWindow::M5) - 20.0).abs() < 1e-9);
        assert!(burn(at(150), BurnWindow::M5) < 1e-9);
        // The newest past report agrees with the live one on the long windows.
        let live = sim.report(now);
        let last = &past[59];
        assert!((burn(last, BurnWindow::H1) - burn(&live, BurnWindow::H1)).abs() < 0.2);
    }
}
