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
        s.trend.push(*b);
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
        evaluated_at: None,
        unknown_since: None,
        error: None,
    }
}
