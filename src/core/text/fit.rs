//! Display width of shown (already escaped) text, and fitting it to a column: padding counts
//! terminal columns, not characters, so CJK and emoji names stay aligned; cutting never
//! splits a wide character, a character from its combining marks, or one of the escapes
//! [`super::escape`] writes (`\x1b`, `\u{202e}`).

use std::borrow::Cow;

use unicode_width::{UnicodeWidthChar, UnicodeWidthStr};

/// Columns `s` takes on a terminal.
pub fn width(s: &str) -> usize {
    s.width()
}

/// Splits shown text into the pieces a cut may fall between.
pub struct Units<'a> {
    rest: &'a str,
}

/// The pieces of `s`, each with its width: an escape sequence, or a character with the
/// zero-width characters (combining marks, emoji modifiers) that follow it.
pub fn units(s: &str) -> Units<'_> {
    Units { rest: s }
}

/// Length in bytes of the escape sequence `s` starts with, if it starts with one.
fn escape_len(s: &str) -> Option<usize> {
    let hex = |t: &str| !t.is_empty() && t.bytes().all(|b| b.is_ascii_hexdigit());
    if let Some(t) = s.strip_prefix("\\x") {
        return t.get(..2).filter(|h| hex(h)).map(|_| 4);
    }
    let t = s.strip_prefix("\\u{")?;
    let close = t.get(..t.len().min(7))?.find('}')?;
    t.get(..close).filter(|h| hex(h)).map(|_| 3 + close + 1)
}

/// Joins the character before it into one unit (drawn in the same cell or cells).
fn attaches(c: char) -> bool {
    c.width() == Some(0) || ('\u{1f3fb}'..='\u{1f3ff}').contains(&c)
}

impl<'a> Iterator for Units<'a> {
    type Item = (&'a str, usize);

    fn next(&mut self) -> Option<Self::Item> {
        let first = self.rest.chars().next()?;
        let len = escape_len(self.rest).unwrap_or_else(|| {
            let tail = self.rest.get(first.len_utf8()..).unwrap_or_default();
            let extra: usize = tail
                .chars()
                .take_while(|c| attaches(*c))
                .map(char::len_utf8)
                .sum();
            first.len_utf8() + extra
        });
        let (unit, rest) = self.rest.split_at_checked(len)?;
        self.rest = rest;
        Some((unit, unit.width()))
    }
}

/// The longest prefix of `s` made of whole units and at most `width` columns wide.
pub fn take_width(s: &str, width: usize) -> &str {
    let mut end = 0;
    let mut used = 0;
    for (unit, w) in units(s) {
        if used + w > width {
            break;
        }
        used += w;
        end += unit.len();
    }
    s.get(..end).unwrap_or_default()
}

/// The longest suffix of `s` made of whole units and at most `width` columns wide.
pub fn take_width_end(s: &str, width: usize) -> &str {
    let all: Vec<(&str, usize)> = units(s).collect();
    let mut len = 0;
    let mut used = 0;
    for (unit, w) in all.iter().rev() {
        if used + w > width {
            break;
        }
        used += w;
        len += unit.len();
    }
    s.get(s.len() - len..).unwrap_or_default()
}

/// `s` cut to `width` columns, ending in `…` when something was cut.
pub fn fit(s: &str, width: usize) -> Cow<'_, str> {
    if s.width() <= width {
        return Cow::Borrowed(s);
    }
    if width == 0 {
        return Cow::Borrowed("");
    }
    Cow::Owned(format!("{}…", take_width(s, width - 1)))
}

/// Left-aligned and padded to exactly `width` columns (cut with `…` if wider).
pub fn pad(s: &str, width: usize) -> String {
    let cut = fit(s, width);
    let w = cut.width();
    format!("{cut}{}", " ".repeat(width.saturating_sub(w)))
}

/// Right-aligned in `width` columns (cut with `…` if wider).
pub fn pad_left(s: &str, width: usize) -> String {
    let cut = fit(s, width);
    let w = cut.width();
    format!("{}{cut}", " ".repeat(width.saturating_sub(w)))
}

/// Wrap one line of text into rows of at most `width` columns, breaking after a space
/// when there is one in the row (words longer than a row are cut hard, never inside a wide
/// character or an escape).
pub fn wrap(s: &str, width: usize) -> Vec<String> {
    let width = width.max(1);
    let mut rows = Vec::new();
    let mut row: Vec<(&str, usize)> = Vec::new();
    let mut used = 0;
    for (unit, w) in units(s) {
        if used + w > width && !row.is_empty() {
            // Break after the last space, unless it is the row's indentation.
            let indent = row.iter().take_while(|(u, _)| *u == " ").count();
            let carry = match row.iter().rposition(|(u, _)| *u == " ") {
                Some(i) if i >= indent && i + 1 < row.len() => row.split_off(i + 1),
                _ => Vec::new(),
            };
            let text: String = row.iter().map(|(u, _)| *u).collect();
            rows.push(text.trim_end().to_string());
            row = carry;
            used = row.iter().map(|(_, w)| w).sum();
        }
        row.push((unit, w));
        used += w;
    }
    rows.push(row.iter().map(|(u, _)| *u).collect());
    rows
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn widths_count_columns() {
        assert_eq!(width("prod"), 4);
        assert_eq!(width("日本"), 4);
        assert_eq!(width("🚀x"), 3);
        assert_eq!(pad("日本", 6), "日本  ");
        assert_eq!(pad_left("日本", 5), " 日本");
    }

    #[test]
    fn cuts_never_split_escapes_wide_chars_or_marks() {
        assert_eq!(fit("ab\\u{202e}cd", 6), "ab…");
        assert_eq!(fit("ab\\u{202e}cd", 11), "ab\\u{202e}…");
        assert_eq!(fit("ab\\u{202e}cde", 12), "ab\\u{202e}c…");
        assert_eq!(fit("a\\x1bbc", 4), "a…");
        assert_eq!(fit("日本語", 4), "日…");
        assert_eq!(
            fit("e\u{301}e\u{301}e\u{301}", 3),
            "e\u{301}e\u{301}e\u{301}"
        );
        assert_eq!(fit("e\u{301}e\u{301}e\u{301}x", 3), "e\u{301}e\u{301}…");
        assert_eq!(take_width("👍\u{1f3fd}x", 1), "");
        assert_eq!(take_width_end("ab\\x1b", 3), "");
        assert_eq!(take_width_end("ab\\x1b", 4), "\\x1b");
    }

    #[test]
    fn a_lone_backslash_is_a_plain_character() {
        let pieces: Vec<&str> = units("\\x\\u{zz}\\u{1f600").map(|(u, _)| u).collect();
        assert_eq!(pieces.len(), "\\x\\u{zz}\\u{1f600".chars().count());
        assert_eq!(fit("", 0), "");
        assert_eq!(fit("abc", 0), "");
    }
}
