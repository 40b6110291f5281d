//! Turning SLO reports into burn rates, budget remaining, alert levels and a trend.

use std::collections::BTreeMap;

use jiff::Timestamp;

use super::model::{AlertLevel, BurnWindow, SloStatus};
use super::msg::SloReport;
use super::slo;
use super::state::State;
use super::text::Untrusted;

/// Points kept for the sparkline.
pub const TREND_POINTS: usize = 60;
/// Time between trend points: reports closer than this update the newest point, so the
/// trend spans the same half hour whether reports come every second (the demo) or every
/// 30 s, and a climb shows as a climb rather than as 60 near-equal seconds.
pub const TREND_STEP: jiff::SignedDuration = jiff::SignedDuration::from_secs(30);

pub fn apply_report(state: &mut State, report: SloReport) {
    let Some(s) = state.slos.iter_mut().find(|s| s.spec.name == report.slo) else {
        return;
    };
    let mut burn: BTreeMap<BurnWindow, Option<f64>> =
        BurnWindow::ALL.iter().map(|w| (*w, None)).collect();
    for (w, ratio) in &report.ratios {
        burn.insert(
            *w,
            ratio
                .filter(|r| r.is_finite())
                .map(|r| slo::burn_rate(r, &s.spec)),
        );
    }
    let all_missing = burn.values().all(Option::is_none);
    s.alert = slo::alert_level(&burn);
    s.budget_remaining = report
        .window_ratio
        .filter(|r| r.is_finite())
        .map(|r| slo::budget_remaining(r, &s.spec));
    if let Some(Some(b)) = burn.get(&BurnWindow::H1) {
        let same_step = s
            .trend_at
            .is_some_and(|t| report.at >= t && report.at.duration_since(t) < TREND_STEP);
        match s.trend.last_mut() {
            Some(last) if same_step => *last = *b,
            _ => {
                s.trend.push(*b);
                s.trend_at = Some(report.at);
            }
        }
        if s.trend.len() > TREND_POINTS {
            let excess = s.trend.len() - TREND_POINTS;
            s.trend.drain(..excess);
        }
    }
    s.burn = burn;
    s.evaluated_at = Some(report.at);
    if all_missing {
        s.unknown_since.get_or_insert(report.at);
        s.error = Some(Untrusted::new("no data returned"));
    } else {
        s.unknown_since = None;
        s.error = None;
    }
    state.dirty = true;
}

pub fn mark_unknown(state: &mut State, slo_name: &str, at: Timestamp, error: Untrusted) {
    let Some(s) = state.slos.iter_mut().find(|s| s.spec.name == slo_name) else {
        return;
    };
    for v in s.burn.values_mut() {
        *v = None;
    }
    s.budget_remaining = None;
    s.alert = AlertLevel::Unknown;
    s.unknown_since.get_or_insert(at);
    s.error = Some(error);
    state.dirty = true;
}

/// A fresh, unknown status for a configured SLO.
pub fn initial(spec: super::model::SloSpec) -> SloStatus {
    SloStatus {
        spec,
        burn: BurnWindow::ALL.iter().map(|w| (*w, None)).collect(),
        budget_remaining: None,
        alert: AlertLevel::Unknown,
        trend: Vec::new(),
        trend_at: None,
        evaluated_at: None,
        unknown_since: None,
        error: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::testkit::{slo, t};

    fn report(at: Timestamp, h1_burn: f64) -> SloReport {
        SloReport {
            slo: "a".into(),
            at,
            ratios: vec![(BurnWindow::H1, Some(h1_burn * 0.001))],
            window_ratio: Some(0.0),
        }
    }

    #[test]
    fn trend_points_are_a_step_apart_and_the_newest_follows_each_report() {
        let mut state = State::new(t(0), Default::default(), Vec::new(), vec![slo("a", "a")]);
        // Every second for 95 s: points at 0, 30, 60 and 90 s.
        for sec in 0..95 {
            apply_report(&mut state, report(t(sec), 1.0 + sec as f64 / 10.0));
        }
        let trend = &state.slos[0].trend;
        assert_eq!(trend.len(), 4, "{trend:?}");
        // Each point holds the last report of its step.
        for (point, sec) in trend.iter().zip([29, 59, 89, 94]) {
            let expected = 1.0 + f64::from(sec) / 10.0;
            assert!((point - expected).abs() < 1e-9, "{point} vs {expected}");
        }
    }
}
