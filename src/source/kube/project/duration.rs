//! Pause durations as Argo Rollouts accepts them: an integer (seconds), a string of digits
//! (seconds), or a Go duration string such as "30s", "1m", "1h30m", "1.5h".

use jiff::SignedDuration;

/// The longest pause Argo can hold: `RolloutPause.DurationSeconds` is an int32 of seconds
/// (a digit string is read with `strconv.ParseInt(s, 10, 32)`).
pub(super) const MAX_SECONDS: i64 = i32::MAX as i64;

/// None when Argo would reject it too (`RolloutPause.DurationSeconds` returns -1), and for
/// anything outside 0..=int32 seconds, which Argo cannot represent: shown as invalid.
pub(super) fn parse(text: &str) -> Option<SignedDuration> {
    let text = text.trim();
    let d = match text.parse::<i64>() {
        Ok(secs) => SignedDuration::from_secs(secs),
        Err(_) => parse_go(text)?,
    };
    (!d.is_negative() && d.as_secs() <= MAX_SECONDS).then_some(d)
}

fn parse_go(mut rest: &str) -> Option<SignedDuration> {
    if rest.is_empty() {
        return None;
    }
    let mut nanos: f64 = 0.0;
    while !rest.is_empty() {
        let num_len = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        let number: f64 = rest[..num_len].parse().ok()?;
        rest = &rest[num_len..];
        let unit_len = rest
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(rest.len());
        let scale = match &rest[..unit_len] {
            "ns" => 1.0,
            "us" | "µs" => 1e3,
            "ms" => 1e6,
            "s" => 1e9,
            "m" => 60e9,
            "h" => 3600e9,
            _ => return None,
        };
        rest = &rest[unit_len..];
        nanos += number * scale;
    }
    if !nanos.is_finite() || nanos > i64::MAX as f64 {
        return None;
    }
    Some(SignedDuration::from_nanos(nanos as i64))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_what_argo_accepts() {
        assert_eq!(parse("30"), Some(SignedDuration::from_secs(30)));
        assert_eq!(parse("30s"), Some(SignedDuration::from_secs(30)));
        assert_eq!(parse("1m"), Some(SignedDuration::from_secs(60)));
        assert_eq!(parse("1h30m"), Some(SignedDuration::from_secs(5400)));
        assert_eq!(parse("1.5h"), Some(SignedDuration::from_secs(5400)));
        assert_eq!(parse("500ms"), Some(SignedDuration::from_millis(500)));
    }

    #[test]
    fn out_of_int32_range_is_invalid() {
        assert_eq!(parse("-9223372036854775808"), None);
        assert_eq!(parse("-1"), None);
        assert_eq!(parse("2147483648"), None);
        assert_eq!(parse("99999999999999999999"), None);
        assert_eq!(parse("2562047h"), None);
        assert_eq!(parse("1e308h"), None);
        let max = parse("2147483647").map(|d| d.as_secs());
        assert_eq!(max, Some(MAX_SECONDS));
    }

    #[test]
    fn rejects_what_argo_rejects() {
        assert_eq!(parse(""), None);
        assert_eq!(parse("soon"), None);
        assert_eq!(parse("10d"), None);
        assert_eq!(parse("m"), None);
    }
}
