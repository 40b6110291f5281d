//! Building the PromQL for one SLO (pure). All windows of an SLO go out in ONE instant query:
//! each window's error ratio is tagged with a `window` label by `label_replace` and the parts
//! are joined with `or`, so the answer holds one sample per window that has data.

use crate::config::{SloConfig, SloSource, parse_window};
use crate::core::model::BurnWindow;

/// The `window` label value of the SLO-window ratio (kept apart from the burn windows, so an
/// SLO window of e.g. "3d" does not collide with the 3d burn window).
pub const SLO_WINDOW_LABEL: &str = "slo_window";

/// The label the batched query puts on every sample.
pub const WINDOW_LABEL: &str = "window";

/// One window to evaluate: the label value it comes back under and its PromQL expression.
#[derive(Debug, Clone, PartialEq)]
pub struct WindowQuery {
    pub label: String,
    pub expr: String,
}

/// The error-ratio expression for every burn window and the SLO window, in that order.
pub fn window_queries(slo: &SloConfig) -> Vec<WindowQuery> {
    let mut out: Vec<WindowQuery> = BurnWindow::ALL
        .iter()
        .map(|w| WindowQuery {
            label: w.as_str().to_owned(),
            expr: error_ratio(&slo.source, w.as_str(), w.seconds()),
        })
        .collect();
    let secs = parse_window(&slo.window).map_or(0, |d| d.as_secs());
    out.push(WindowQuery {
        label: SLO_WINDOW_LABEL.to_owned(),
        expr: error_ratio(&slo.source, &slo.window, secs),
    });
    out
}

/// The whole batched query for one SLO.
pub fn batched_query(slo: &SloConfig) -> String {
    window_queries(slo)
        .iter()
        .map(|q| {
            format!(
                "label_replace({}, \"{WINDOW_LABEL}\", \"{}\", \"\", \"\")",
                q.expr,
                escape_label_value(&q.label)
            )
        })
        .collect::<Vec<_>>()
        .join(" or ")
}

/// The error ratio over one window.
/// - `window` is the PromQL range as written ("5m", "30d");
/// - `seconds` the same in seconds (Pyrra names its rules by Prometheus' duration format).
fn error_ratio(source: &SloSource, window: &str, seconds: i64) -> String {
    match source {
        // No error series at all means no errors (as Sloth does); no total series means no
        // data, and the ratio stays missing.
        SloSource::Promql { errors, total } => {
            format!("((sum(rate({errors}[{window}])) or vector(0)) / sum(rate({total}[{window}])))")
        }
        SloSource::Sloth {
            sloth_service,
            sloth_slo,
        } => {
            // Sloth records 5m…3d, plus the period as written in its spec (`ratio_rate30d`),
            // so the configured window must be spelled as in the Sloth spec.
            format!(
                "max(slo:sli_error:ratio_rate{window}{{sloth_service=\"{}\",sloth_slo=\"{}\"}})",
                escape_label_value(sloth_service),
                escape_label_value(sloth_slo)
            )
        }
        SloSource::Pyrra { metric, matchers } => {
            // Pyrra's `<metric>:burnrate<d>` rules hold error RATIOS, named with Prometheus'
            // duration format (28d → "4w"), the metric without `_total`/`_count`.
            let base = metric
                .strip_suffix("_total")
                .or_else(|| metric.strip_suffix("_count"))
                .unwrap_or(metric);
            format!(
                "max({base}:burnrate{}{{{}}})",
                prom_duration(seconds),
                matchers.trim().trim_matches(['{', '}'])
            )
        }
    }
}

/// A PromQL double-quoted string body: backslash, quote and control characters escaped.
pub fn escape_label_value(v: &str) -> String {
    let mut out = String::with_capacity(v.len());
    for c in v.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() => out.push_str(&format!("\\u{:04x}", u32::from(c))),
            c => out.push(c),
        }
    }
    out
}

/// Prometheus' duration format (`model.Duration.String`): units y, w, d, h, m, s, zero parts
/// left out, e.g. 28d → "4w", 30d → "4w2d", 90m → "1h30m".
pub fn prom_duration(seconds: i64) -> String {
    if seconds <= 0 {
        return "0s".into();
    }
    const UNITS: [(&str, i64); 6] = [
        ("y", 365 * 86400),
        ("w", 7 * 86400),
        ("d", 86400),
        ("h", 3600),
        ("m", 60),
        ("s", 1),
    ];
    let mut rest = seconds;
    let mut out = String::new();
    for (unit, size) in UNITS {
        let n = rest / size;
        if n > 0 {
            out.push_str(&format!("{n}{unit}"));
            rest -= n * size;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn slo(source: SloSource, window: &str) -> SloConfig {
        SloConfig {
            name: "checkout-availability".into(),
            service: "checkout".into(),
            objective: 99.9,
            window: window.into(),
            cluster: None,
            source,
        }
    }

    fn promql() -> SloSource {
        SloSource::Promql {
            errors: "http_requests_total{service=\"checkout\",code=~\"5..\"}".into(),
            total: "http_requests_total{service=\"checkout\"}".into(),
        }
    }

    #[test]
    fn raw_promql_substitutes_every_window() {
        let qs = window_queries(&slo(promql(), "30d"));
        let labels: Vec<&str> = qs.iter().map(|q| q.label.as_str()).collect();
        assert_eq!(
            labels,
            ["5m", "30m", "1h", "2h", "6h", "1d", "3d", SLO_WINDOW_LABEL]
        );
        assert_eq!(
            qs[0].expr,
            "((sum(rate(http_requests_total{service=\"checkout\",code=~\"5..\"}[5m])) or vector(0)) \
             / sum(rate(http_requests_total{service=\"checkout\"}[5m])))"
        );
        assert!(qs[7].expr.contains("[30d]"), "{}", qs[7].expr);
    }

    #[test]
    fn batched_query_tags_each_window() {
        let q = batched_query(&slo(promql(), "28d"));
        assert_eq!(q.matches("label_replace(").count(), 8);
        assert_eq!(q.matches(" or label_replace(").count(), 7);
        assert!(q.starts_with("label_replace(((sum(rate("), "{q}");
        assert!(q.contains(", \"window\", \"5m\", \"\", \"\")"), "{q}");
        assert!(
            q.ends_with("[28d]))), \"window\", \"slo_window\", \"\", \"\")"),
            "{q}"
        );
    }

    #[test]
    fn sloth_rule_names_and_period() {
        let s = slo(
            SloSource::Sloth {
                sloth_service: "checkout".into(),
                sloth_slo: "requests-availability".into(),
            },
            "30d",
        );
        let qs = window_queries(&s);
        assert_eq!(
            qs[0].expr,
            "max(slo:sli_error:ratio_rate5m{sloth_service=\"checkout\",sloth_slo=\"requests-availability\"})"
        );
        assert!(qs[6].expr.starts_with("max(slo:sli_error:ratio_rate3d{"));
        assert!(qs[7].expr.starts_with("max(slo:sli_error:ratio_rate30d{"));
    }

    #[test]
    fn pyrra_rule_names_use_prometheus_durations() {
        let s = slo(
            SloSource::Pyrra {
                metric: "http_requests_total".into(),
                matchers: "slo=\"checkout-availability\"".into(),
            },
            "28d",
        );
        let qs = window_queries(&s);
        assert_eq!(
            qs[0].expr,
            "max(http_requests:burnrate5m{slo=\"checkout-availability\"})"
        );
        assert_eq!(
            qs[5].expr,
            "max(http_requests:burnrate1d{slo=\"checkout-availability\"})"
        );
        assert_eq!(
            qs[7].expr,
            "max(http_requests:burnrate4w{slo=\"checkout-availability\"})"
        );
    }

    #[test]
    fn label_values_are_escaped() {
        assert_eq!(escape_label_value(r#"a"b\c"#), r#"a\"b\\c"#);
        assert_eq!(escape_label_value("x\ny\u{1b}"), "x\\ny\\u001b");
        let s = slo(
            SloSource::Sloth {
                sloth_service: "evil\"} or vector(1) #".into(),
                sloth_slo: "s".into(),
            },
            "30d",
        );
        let q = &window_queries(&s)[0].expr;
        assert!(
            q.contains(r#"sloth_service="evil\"} or vector(1) #""#),
            "{q}"
        );
    }

    #[test]
    fn durations_in_prometheus_format() {
        assert_eq!(prom_duration(300), "5m");
        assert_eq!(prom_duration(86400), "1d");
        assert_eq!(prom_duration(3 * 86400), "3d");
        assert_eq!(prom_duration(28 * 86400), "4w");
        assert_eq!(prom_duration(30 * 86400), "4w2d");
        assert_eq!(prom_duration(5400), "1h30m");
        assert_eq!(prom_duration(0), "0s");
    }
}
