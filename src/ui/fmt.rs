//! Small text helpers shared by the panels: fitting text to a column by display width,
//! ages, durations, burn rates, clocks and wrapping (the SLO trend's sparkline lives in
//! `ui::slo`). Pure and cheap: they run only for what is on screen.

use std::borrow::Cow;

use jiff::{SignedDuration, Timestamp};
use unicode_width::UnicodeWidthStr;

use crate::core::text;

pub use crate::core::text::{fit, pad, pad_left, wrap};

/// `s` cut to `width` columns in the middle (`prod-eu…-west-1`), for names whose end
/// tells them apart (cluster suffixes, release names after a long namespace). Like [`fit`],
/// never splits a wide character or an escape.
pub fn fit_middle(s: &str, width: usize) -> Cow<'_, str> {
    if s.width() <= width {
        return Cow::Borrowed(s);
    }
    if width < 4 {
        return fit(s, width);
    }
    let keep = width - 1;
    let tail_w = keep / 2;
    let head_w = keep - tail_w;
    let head = text::take_width(s, head_w);
    let tail = text::take_width_end(s, tail_w);
    Cow::Owned(format!("{head}…{tail}"))
}

/// A compact duration: 45s, 12m, 3h, 2d (one unit, rounded down).
pub fn short_duration(d: SignedDuration) -> String {
    let s = d.as_secs().max(0);
    match s {
        0..60 => format!("{s}s"),
        60..3600 => format!("{}m", s / 60),
        3600..86400 => format!("{}h", s / 3600),
        _ => format!("{}d", s / 86400),
    }
}

/// A precise duration for countdowns and step lengths: 30s, 5m, 1m30s, 1h, 2h15m.
pub fn duration(d: SignedDuration) -> String {
    let s = d.as_secs().max(0);
    let (h, m, sec) = (s / 3600, (s % 3600) / 60, s % 60);
    match (h, m, sec) {
        (0, 0, s) => format!("{s}s"),
        (0, m, 0) => format!("{m}m"),
        (0, m, s) => format!("{m}m{s}s"),
        (h, 0, _) => format!("{h}h"),
        (h, m, _) => format!("{h}h{m}m"),
    }
}

/// Age of something that happened at `at`, or "-" when unknown.
pub fn age(now: Timestamp, at: Option<Timestamp>) -> String {
    at.map_or_else(
        || "-".to_string(),
        |t| short_duration(now.duration_since(t)),
    )
}

/// A burn rate: "14.8x"; "?" when unknown — missing data is never shown as 0.
pub fn burn(b: Option<f64>) -> String {
    match b {
        Some(b) if b.is_finite() && b < 100.0 => format!("{b:.1}x"),
        Some(b) if b.is_finite() => format!("{b:.0}x"),
        Some(_) => "∞x".to_string(),
        None => "?".to_string(),
    }
}

/// HH:MM in UTC.
pub fn hour_minute(t: Timestamp) -> String {
    t.strftime("%H:%M").to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fit_cuts_visibly_by_display_width() {
        assert_eq!(fit("checkout", 10), "checkout");
        assert_eq!(fit("checkout", 5), "chec…");
        assert_eq!(fit("日本語です", 5), "日本…");
        assert_eq!(pad("ab", 4), "ab  ");
        assert_eq!(fit_middle("prod-eu-west-1", 9), "prod…st-1");
        assert_eq!(fit_middle("staging", 9), "staging");
        assert_eq!(pad_left("ab", 4), "  ab");
        assert_eq!(fit_middle("ab\\x1bcdefgh", 7), "ab…fgh");
    }

    #[test]
    fn durations_are_compact() {
        assert_eq!(short_duration(SignedDuration::from_secs(45)), "45s");
        assert_eq!(
            short_duration(SignedDuration::from_secs(12 * 60 + 5)),
            "12m"
        );
        assert_eq!(short_duration(SignedDuration::from_hours(3)), "3h");
        assert_eq!(short_duration(SignedDuration::from_hours(50)), "2d");
        assert_eq!(duration(SignedDuration::from_secs(90)), "1m30s");
        assert_eq!(duration(SignedDuration::from_secs(30)), "30s");
        assert_eq!(duration(SignedDuration::from_mins(135)), "2h15m");
    }

    #[test]
    fn unknown_burn_is_a_question_mark_not_zero() {
        assert_eq!(burn(None), "?");
        assert_eq!(burn(Some(14.84)), "14.8x");
        assert_eq!(burn(Some(0.0)), "0.0x");
        assert_eq!(burn(Some(250.0)), "250x");
    }

    #[test]
    fn wrap_and_sparkline() {
        assert_eq!(wrap("abcdef", 4), vec!["abcd", "ef"]);
        assert_eq!(
            wrap("the template holds", 10),
            vec!["the", "template", "holds"]
        );
        assert_eq!(wrap("ab cdefgh", 6), vec!["ab", "cdefgh"]);
        assert_eq!(wrap("", 4), vec![""]);
        assert_eq!(wrap("ab\\u{202e}cd", 4), vec!["ab", "\\u{202e}", "cd"]);
        assert_eq!(wrap("日本語", 3), vec!["日", "本", "語"]);
    }
}
