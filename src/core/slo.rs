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

/// Does a burn rate pass a rule's factor? Strictly above, as the SRE Workbook's alert
/// expressions compare; the one comparison behind both the alert level and a window's
/// colour, so the two never disagree.
pub fn above(burn: f64, factor: f64) -> bool {
    burn > factor
}

/// How hot one window's burn is, judged by the rules that window takes part in: the level
/// of the most severe rule whose factor it passes on its own (the rule fires only when its
/// other window passes it too). The UI maps a level to a style through the theme.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum BurnLevel {
    /// Below every factor of its rules.
    Calm,
    /// Above a ticket rule's factor (3d/6h 1×, 1d/2h 3×).
    Ticket,
    /// Above the slower page rule's factor (6h/30m 6×).
    SlowPage,
    /// Above the fastest page rule's factor (1h/5m 14.4×).
    FastPage,
}

/// The level a rule stands for: tickets are tickets; of the page rules, the one with the
/// highest factor (the fastest burn) is the fast page, the others slow pages.
fn rule_level(severity: AlertLevel, factor: f64) -> BurnLevel {
    let fastest = RULES
        .iter()
        .filter(|(s, ..)| *s == AlertLevel::Page)
        .map(|(.., f)| *f)
        .fold(f64::NEG_INFINITY, f64::max);
    match severity {
        AlertLevel::Page if factor >= fastest => BurnLevel::FastPage,
        AlertLevel::Page => BurnLevel::SlowPage,
        AlertLevel::Ticket => BurnLevel::Ticket,
        AlertLevel::None | AlertLevel::Unknown => BurnLevel::Calm,
    }
}

/// The level of window `w` burning at `burn` (None when unknown or not a number).
pub fn window_level(w: BurnWindow, burn: Option<f64>) -> Option<BurnLevel> {
    let b = burn.filter(|b| !b.is_nan())?;
    Some(
        RULES
            .iter()
            .filter(|(_, long, short, _)| *long == w || *short == w)
            .filter(|(.., factor)| above(b, *factor))
            .map(|&(severity, .., factor)| rule_level(severity, factor))
            .max()
            .unwrap_or(BurnLevel::Calm),
    )
}

/// The level of the most severe rule that fires (both its windows above its factor), or
/// Calm: for a cell that stands for the whole SLO, such as the releases table's.
pub fn firing_level(burn: &BTreeMap<BurnWindow, Option<f64>>) -> BurnLevel {
    let get = |w: BurnWindow| burn.get(&w).copied().flatten();
    RULES
        .iter()
        .filter(|(_, long, short, factor)| {
            get(*long).is_some_and(|b| above(b, *factor))
                && get(*short).is_some_and(|b| above(b, *factor))
        })
        .map(|&(severity, .., factor)| rule_level(severity, factor))
        .max()
        .unwrap_or(BurnLevel::Calm)
}

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
                if above(l, factor) && above(s, factor) && severity > level {
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
        (above(l, factor) && above(s, factor)).then_some((long, l))
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

    #[test]
    fn each_window_is_judged_by_its_own_rules_factors() {
        use BurnLevel::*;
        use BurnWindow::*;
        let level = |w, b| window_level(w, Some(b));
        // 5m and 1h belong to the 14.4x page rule only.
        assert_eq!(level(M5, 70.1), Some(FastPage));
        assert_eq!(level(M5, 14.4), Some(Calm), "strictly above, as the alert");
        assert_eq!(level(M5, 14.5), Some(FastPage));
        assert_eq!(level(H1, 10.0), Some(Calm));
        assert_eq!(level(H1, 15.0), Some(FastPage));
        // 30m belongs to the 6x page rule only.
        assert_eq!(level(M30, 5.9), Some(Calm));
        assert_eq!(level(M30, 6.1), Some(SlowPage));
        assert_eq!(level(M30, 100.0), Some(SlowPage));
        // 6h is the 6x rule's long window and the 1x ticket rule's short one.
        assert_eq!(level(H6, 0.9), Some(Calm));
        assert_eq!(level(H6, 1.1), Some(Ticket));
        assert_eq!(level(H6, 6.1), Some(SlowPage));
        // 2h and 1d: the 3x ticket rule; 3d: the 1x ticket rule.
        assert_eq!(level(H2, 2.9), Some(Calm));
        assert_eq!(level(H2, 3.1), Some(Ticket));
        assert_eq!(level(D1, 3.1), Some(Ticket));
        assert_eq!(level(D3, 1.01), Some(Ticket));
        assert_eq!(level(D3, 50.0), Some(Ticket));
        // Unknown stays unknown.
        assert_eq!(window_level(M5, None), None);
        assert_eq!(window_level(M5, Some(f64::NAN)), None);
    }

    #[test]
    fn window_levels_follow_the_rule_table() {
        // Each rule's own factor: just above it every window of the rule is at least that
        // rule's level, just below it the rule adds nothing.
        for (severity, long, short, factor) in RULES {
            for w in [long, short] {
                let at = window_level(w, Some(factor * 1.01)).unwrap();
                assert!(at >= rule_level(severity, factor), "{w:?} {factor}");
                assert_ne!(at, BurnLevel::Calm);
            }
        }
        assert_eq!(rule_level(AlertLevel::Page, 14.4), BurnLevel::FastPage);
        assert_eq!(rule_level(AlertLevel::Page, 6.0), BurnLevel::SlowPage);
        assert_eq!(rule_level(AlertLevel::Ticket, 3.0), BurnLevel::Ticket);
    }

    #[test]
    fn firing_level_is_the_most_severe_firing_rule() {
        let slow = burns(&[(BurnWindow::H6, 7.0), (BurnWindow::M30, 6.5)]);
        assert_eq!(firing_level(&slow), BurnLevel::SlowPage);
        assert_eq!(
            window_level(BurnWindow::H1, slow[&BurnWindow::H1]),
            Some(BurnLevel::Calm)
        );
        let fast = burns(&[(BurnWindow::H1, 15.0), (BurnWindow::M5, 20.0)]);
        assert_eq!(firing_level(&fast), BurnLevel::FastPage);
        let spike = burns(&[(BurnWindow::M5, 50.0)]);
        assert_eq!(firing_level(&spike), BurnLevel::Calm);
    }

    #[test]
    fn a_firing_rule_colours_both_its_windows_at_its_level() {
        let sustained = burns(&[(BurnWindow::M5, 20.0), (BurnWindow::H1, 15.0)]);
        assert_eq!(alert_level(&sustained), AlertLevel::Page);
        for w in [BurnWindow::M5, BurnWindow::H1] {
            assert_eq!(
                window_level(w, sustained[&w]),
                Some(BurnLevel::FastPage),
                "{w:?}"
            );
        }
    }
}
