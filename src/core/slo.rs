//! Error-budget burn maths (reference/slo.md): burn rates per window, multiwindow
//! multi-burn-rate alert levels, budget remaining. Missing data stays missing, never 0.

use std::collections::BTreeMap;

use super::model::{AlertLevel, BurnWindow, SloSpec};

/// Burn rate for an error ratio: ratio / (1 - objective).
pub fn burn_rate(error_ratio: f64, spec: &SloSpec) -> f64 {
    let budget = spec.budget();
    if budget <= 0.0 {
        return f64::INFINITY;
    }
    error_ratio / budget
}

/// Budget left over the SLO window: 1 - ratio(window) / (1 - objective).
pub fn budget_remaining(window_ratio: f64, spec: &SloSpec) -> f64 {
    1.0 - burn_rate(window_ratio, spec)
}

/// (severity, long window, short window, factor) — Google SRE Workbook table.
pub const RULES: [(AlertLevel, BurnWindow, BurnWindow, f64); 4] = [
    (AlertLevel::Page, BurnWindow::H1, BurnWindow::M5, 14.4),
    (AlertLevel::Page, BurnWindow::H6, BurnWindow::M30, 6.0),
    (AlertLevel::Ticket, BurnWindow::D1, BurnWindow::H2, 3.0),
    (AlertLevel::Ticket, BurnWindow::D3, BurnWindow::H6, 1.0),
];

/// The alert level: a rule fires only when BOTH its long and short window burn above the
/// factor. Unknown when a rule cannot be decided and no decided rule fires.
pub fn alert_level(burn: &BTreeMap<BurnWindow, Option<f64>>) -> AlertLevel {
    let mut level = AlertLevel::None;
    let mut undecided = false;
    for (severity, long, short, factor) in RULES {
        match (
            burn.get(&long).copied().flatten(),
            burn.get(&short).copied().flatten(),
        ) {
            (Some(l), Some(s)) => {
                if l > factor && s > factor && severity > level {
                    level = severity;
                }
            }
            _ => undecided = true,
        }
    }
    if level == AlertLevel::None && undecided {
        AlertLevel::Unknown
    } else {
        level
    }
}

/// The page rule that currently fires, as (long window, burn), for the promote gate.
pub fn paging_rule(burn: &BTreeMap<BurnWindow, Option<f64>>) -> Option<(BurnWindow, f64)> {
    RULES.iter().find_map(|&(severity, long, short, factor)| {
        if severity != AlertLevel::Page {
            return None;
        }
        let l = burn.get(&long).copied().flatten()?;
        let s = burn.get(&short).copied().flatten()?;
        (l > factor && s > factor).then_some((long, l))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::SignedDuration;

    fn spec() -> SloSpec {
        SloSpec {
            name: "checkout-availability".into(),
            service: "checkout".into(),
            objective: 99.9,
            window: SignedDuration::from_hours(24 * 30),
            window_label: "30d".into(),
        }
    }

    fn burns(values: &[(BurnWindow, f64)]) -> BTreeMap<BurnWindow, Option<f64>> {
        let mut m: BTreeMap<_, _> = BurnWindow::ALL.iter().map(|w| (*w, Some(0.0))).collect();
        for (w, v) in values {
            m.insert(*w, Some(*v));
        }
        m
    }

    #[test]
    fn burn_rate_divides_by_budget() {
        assert!((burn_rate(0.0144, &spec()) - 14.4).abs() < 1e-9);
        assert!((burn_rate(0.001, &spec()) - 1.0).abs() < 1e-9);
    }

    #[test]
    fn budget_remaining_from_window_ratio() {
        assert!((budget_remaining(0.0002, &spec()) - 0.8).abs() < 1e-9);
        assert!(budget_remaining(0.002, &spec()) < 0.0);
    }

    #[test]
    fn page_needs_both_windows() {
        // A short spike: 5m burns hard, 1h does not → no page.
        let spike = burns(&[(BurnWindow::M5, 50.0), (BurnWindow::H1, 3.0)]);
        assert_eq!(alert_level(&spike), AlertLevel::None);
        let sustained = burns(&[(BurnWindow::M5, 20.0), (BurnWindow::H1, 15.0)]);
        assert_eq!(alert_level(&sustained), AlertLevel::Page);
        assert_eq!(paging_rule(&sustained), Some((BurnWindow::H1, 15.0)));
    }

    #[test]
    fn six_hour_page_and_tickets() {
        let six = burns(&[(BurnWindow::H6, 7.0), (BurnWindow::M30, 6.5)]);
        assert_eq!(alert_level(&six), AlertLevel::Page);
        let ticket = burns(&[(BurnWindow::D1, 3.5), (BurnWindow::H2, 4.0)]);
        assert_eq!(alert_level(&ticket), AlertLevel::Ticket);
        let slow = burns(&[(BurnWindow::D3, 1.2), (BurnWindow::H6, 1.1)]);
        assert_eq!(alert_level(&slow), AlertLevel::Ticket);
    }

    #[test]
    fn missing_data_is_unknown_not_zero() {
        let mut m = burns(&[]);
        m.insert(BurnWindow::H1, None);
        assert_eq!(alert_level(&m), AlertLevel::Unknown);
        // A decided page still wins over an undecided rule.
        let mut paging = burns(&[(BurnWindow::H6, 7.0), (BurnWindow::M30, 7.0)]);
        paging.insert(BurnWindow::D3, None);
        assert_eq!(alert_level(&paging), AlertLevel::Page);
    }
}
