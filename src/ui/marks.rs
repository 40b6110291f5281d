//! The symbols that carry meaning on screen, in one place so the table, the header, the
//! modal and the help legend agree. Each is text (visible without colour, NO_COLOR and the
//! mono theme) and one terminal column wide.

use crate::core::model::{Phase, Release};

/// A failing release (Degraded, Unparseable) and a cluster chip's failing count.
pub const FAILING: &str = "✗";
/// A release that waits on a person (`Release::needs_human`).
pub const NEEDS_HUMAN: &str = "⚑";
/// A release in flight (progressing, or in a pause that ends by itself) and a cluster
/// chip's in-flight count.
pub const IN_FLIGHT: &str = "▲";
/// A production cluster (header banner, detail, modal); distinct from every row mark.
pub const PROD: &str = "◆";

/// The mark in front of a release row; blank when it is done.
pub fn release(r: &Release) -> &'static str {
    match r.phase {
        Phase::Degraded | Phase::Unparseable => FAILING,
        Phase::Paused if r.needs_human.is_some() => NEEDS_HUMAN,
        Phase::Paused | Phase::Progressing => IN_FLIGHT,
        Phase::Healthy => " ",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use unicode_width::UnicodeWidthStr;

    #[test]
    fn marks_are_distinct_and_one_column_wide() {
        let all = [FAILING, NEEDS_HUMAN, IN_FLIGHT, PROD];
        for (i, a) in all.iter().enumerate() {
            assert_eq!(a.width(), 1, "{a}");
            assert!(all[i + 1..].iter().all(|b| b != a), "{a} used twice");
        }
    }
}
