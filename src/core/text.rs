//! The one escaping boundary: every output path (the TUI, error messages on stderr, doctor,
//! the snapshot table and JSON, the log file) shows outside strings (cluster data,
//! Prometheus, kubeconfig and config values, files, argv) through this module. `Untrusted`
//! keeps the exact bytes it was given, for JSON export and copying, and only ever shows them
//! escaped: control characters, escape sequences, bidi overrides, zero-width and other
//! invisible characters become visible `\x1b` / `\u{202e}` style text, so tampering is seen
//! and nothing raw reaches the terminal. [`fit`] pads and cuts shown text by display width
//! (never inside a wide character or an escape); [`json`] writes export JSON with the same
//! characters as `\uXXXX` escapes.

mod fit;
pub mod json;

use std::borrow::Cow;
use std::fmt;

pub use fit::{Units, fit, pad, pad_left, take_width, take_width_end, units, width, wrap};

use serde::{Serialize, Serializer};

/// Longest text shown; longer values are cut with a visible marker (the stored value is whole).
pub const MAX_SHOWN_CHARS: usize = 4096;

/// Longest message (condition, event, analysis) kept per object, in bytes: a cluster that
/// sends 1 MiB messages on every update cannot grow the console by that much per object.
/// Longer ones are stored cut, ending in [`truncation_marker`] (which says the full length).
pub const MAX_MESSAGE_BYTES: usize = 64 * 1024;

/// What ends a message cut at [`MAX_MESSAGE_BYTES`]: visible, with the length it had.
pub fn truncation_marker(full_len: usize) -> String {
    format!("…(truncated: {full_len} bytes in all)")
}

#[derive(Clone, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Untrusted(Box<str>);

impl Untrusted {
    pub fn new(s: impl Into<String>) -> Self {
        Untrusted(s.into().into_boxed_str())
    }

    /// A message from a cluster, kept to at most [`MAX_MESSAGE_BYTES`] (cut on a character
    /// boundary, then the visible [`truncation_marker`] with the full length).
    pub fn message(s: impl Into<String>) -> Self {
        let mut s = s.into();
        if s.len() > MAX_MESSAGE_BYTES {
            let full = s.len();
            let mut cut = MAX_MESSAGE_BYTES;
            while !s.is_char_boundary(cut) {
                cut -= 1;
            }
            s.truncate(cut);
            s.push_str(&truncation_marker(full));
        }
        Self::new(s)
    }

    /// From raw bytes: invalid UTF-8 is kept visible as `\xNN` rather than silently replaced.
    pub fn from_bytes(bytes: &[u8]) -> Self {
        match std::str::from_utf8(bytes) {
            Ok(s) => Self::new(s),
            Err(_) => {
                let mut out = String::with_capacity(bytes.len());
                for chunk in bytes.utf8_chunks() {
                    out.push_str(chunk.valid());
                    for b in chunk.invalid() {
                        out.push_str(&format!("\\x{b:02x}"));
                    }
                }
                Self::new(out)
            }
        }
    }

    /// The value exactly as received.
    pub fn raw(&self) -> &str {
        &self.0
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The value as it may be shown on a terminal.
    pub fn shown(&self) -> Cow<'_, str> {
        escape(&self.0)
    }
}

impl fmt::Display for Untrusted {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.shown())
    }
}

impl fmt::Debug for Untrusted {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", self.0)
    }
}

impl Serialize for Untrusted {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

impl From<&str> for Untrusted {
    fn from(s: &str) -> Self {
        Untrusted::new(s)
    }
}

impl From<String> for Untrusted {
    fn from(s: String) -> Self {
        Untrusted::new(s)
    }
}

/// True for characters that must never reach a terminal (or a JSON export) as they are:
/// controls (C0, DEL, C1), every format character (bidi marks, embeddings, overrides and
/// isolates, zero-width characters, invisible operators, prepended number signs, tag
/// characters), line and paragraph separators, the rest of Unicode's default-ignorable code
/// points (variation selectors included: terminals disagree on the width of `❤\u{fe0f}`, and
/// runs of them smuggle bytes), blank fillers and noncharacters.
pub fn needs_escape(c: char) -> bool {
    c.is_control() || is_invisible(c) || is_noncharacter(c)
}

fn is_invisible(c: char) -> bool {
    matches!(c,
        '\u{ad}'                   // soft hyphen (invisible unless at a line break)
        | '\u{34f}'                // combining grapheme joiner
        | '\u{600}'..='\u{605}'    // Arabic number signs (prepended, span what follows)
        | '\u{61c}'                // Arabic letter mark (bidi)
        | '\u{6dd}' | '\u{70f}' | '\u{890}' | '\u{891}' | '\u{8e2}' // prepended marks
        | '\u{115f}' | '\u{1160}' | '\u{3164}' | '\u{ffa0}' // Hangul fillers (blank)
        | '\u{17b4}' | '\u{17b5}'  // Khmer inherent vowels (invisible)
        | '\u{180b}'..='\u{180f}'  // Mongolian variation selectors and vowel separator
        | '\u{200b}'..='\u{200f}'  // zero-width, ZWJ/ZWNJ, LRM/RLM
        | '\u{2028}'..='\u{202e}'  // line/para separators, bidi embeddings and overrides
        | '\u{2060}'..='\u{206f}'  // word joiner, invisible operators, isolates, deprecated
        | '\u{2800}'               // Braille blank (looks like nothing)
        | '\u{fe00}'..='\u{fe0f}'  // variation selectors
        | '\u{feff}'               // BOM / zero-width no-break space
        | '\u{fff0}'..='\u{fffb}'  // unassigned specials, interlinear annotations
        | '\u{110bd}' | '\u{110cd}' // Kaithi number signs
        | '\u{13430}'..='\u{1343f}' // Egyptian hieroglyph format controls
        | '\u{1bca0}'..='\u{1bca3}' // shorthand format controls
        | '\u{1d173}'..='\u{1d17a}' // musical symbol format controls
        | '\u{e0000}'..='\u{e0fff}' // tag characters ("ASCII smuggling"), variation selectors
    )
}

/// U+FDD0..FDEF and the last two code points of every plane.
fn is_noncharacter(c: char) -> bool {
    let n = c as u32;
    (0xfdd0..=0xfdef).contains(&n) || n & 0xfffe == 0xfffe
}

fn push_escaped(out: &mut String, c: char) {
    use std::fmt::Write as _;
    let n = c as u32;
    let _ = if n < 0x80 {
        write!(out, "\\x{n:02x}")
    } else {
        write!(out, "\\u{{{n:x}}}")
    };
}

/// Escape `s` for display on one line (newlines too). Borrowed when nothing needs escaping
/// and it is short.
pub fn escape(s: &str) -> Cow<'_, str> {
    let clean = !s.chars().any(needs_escape);
    let long = s.len() > MAX_SHOWN_CHARS && s.chars().count() > MAX_SHOWN_CHARS;
    if clean && !long {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len().min(MAX_SHOWN_CHARS) + 16);
    for (shown, c) in s.chars().enumerate() {
        if shown >= MAX_SHOWN_CHARS {
            let rest = s.chars().count() - shown;
            out.push_str(&format!("…(+{rest} chars)"));
            break;
        }
        if needs_escape(c) {
            push_escaped(&mut out, c);
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// Escape text this program laid out over several lines (a report, an error chain): each
/// line as [`escape`] does, the `\n` between them kept. Hostile values inside it should have
/// been escaped on their own already; this is the last line of defence before the terminal.
pub fn escape_lines(s: &str) -> Cow<'_, str> {
    if !s.chars().any(|c| c != '\n' && needs_escape(c)) && s.len() <= MAX_SHOWN_CHARS {
        return Cow::Borrowed(s);
    }
    let lines: Vec<Cow<'_, str>> = s.split('\n').map(escape).collect();
    Cow::Owned(lines.join("\n"))
}
#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_text_is_borrowed_and_unchanged() {
        assert!(matches!(
            escape("checkout v1.2"),
            Cow::Borrowed("checkout v1.2")
        ));
    }

    #[test]
    fn escape_sequences_are_made_visible() {
        // CVE-2021-25743 style payload: clear screen and set the title via OSC.
        let hostile = "ok\x1b[2J\x1b]0;pwned\x07done";
        let shown = escape(hostile);
        assert!(!shown.contains('\x1b'));
        assert!(!shown.contains('\x07'));
        assert_eq!(shown, "ok\\x1b[2J\\x1b]0;pwned\\x07done");
    }

    #[test]
    fn c1_bidi_zero_width_and_newlines_are_escaped() {
        let shown = escape("a\u{9b}31m b\u{202e}c d\u{200b}e\r\nf");
        assert_eq!(shown, "a\\u{9b}31m b\\u{202e}c d\\u{200b}e\\x0d\\x0af");
    }

    #[test]
    fn invisible_format_characters_are_escaped() {
        for c in [
            '\u{ad}',
            '\u{34f}',
            '\u{61c}',
            '\u{115f}',
            '\u{180e}',
            '\u{206a}',
            '\u{206f}',
            '\u{3164}',
            '\u{e0000}',
            '\u{e0041}',
            '\u{e007f}',
        ] {
            let input = format!("a{c}b");
            assert_eq!(
                escape(&input),
                format!("a\\u{{{:x}}}b", c as u32),
                "{:x}",
                c as u32
            );
        }
        // Visible neighbours of those ranges stay as they are.
        for ok in ["\u{ac}", "\u{620}", "\u{2070}", "é", "日本", "ß"] {
            assert!(matches!(escape(ok), Cow::Borrowed(_)), "{ok}");
        }
    }

    #[test]
    fn every_other_invisible_or_direction_changing_character_is_escaped() {
        for c in [
            '\u{2028}',
            '\u{2029}',
            '\u{feff}',
            '\u{2060}',
            '\u{2064}',
            '\u{2065}',
            '\u{600}',
            '\u{6dd}',
            '\u{180b}',
            '\u{fe00}',
            '\u{fe0f}',
            '\u{e0100}',
            '\u{e01ef}',
            '\u{1d173}',
            '\u{1bca0}',
            '\u{13430}',
            '\u{2800}',
            '\u{fdd0}',
            '\u{fffe}',
            '\u{1ffff}',
            '\u{7f}',
            '\u{80}',
            '\u{9f}',
        ] {
            assert!(needs_escape(c), "{:x}", c as u32);
            assert!(!escape(&format!("x{c}")).contains(c), "{:x}", c as u32);
        }
        for ok in [
            '\u{2027}',
            '\u{fdcf}',
            '\u{fffd}',
            '\u{1f680}',
            '\u{301}',
            ' ',
            'a',
        ] {
            assert!(!needs_escape(ok), "{:x}", ok as u32);
        }
    }

    #[test]
    fn escape_lines_keeps_only_the_newlines() {
        assert!(matches!(escape_lines("a\nb"), Cow::Borrowed("a\nb")));
        assert_eq!(
            escape_lines("a\x1b[2J\nb\r\u{202e}"),
            "a\\x1b[2J\nb\\x0d\\u{202e}"
        );
    }

    #[test]
    fn escaping_twice_changes_nothing() {
        let once = escape("a\u{1b}b\u{202e}").into_owned();
        assert_eq!(escape(&once), once);
    }

    #[test]
    fn osc52_clipboard_write_is_escaped() {
        let shown = escape("\x1b]52;c;ZXZpbA==\x07");
        assert!(shown.starts_with("\\x1b]52"));
        assert!(!shown.chars().any(char::is_control));
    }

    #[test]
    fn invalid_utf8_stays_visible() {
        let t = Untrusted::from_bytes(b"bad\xff\xfebytes");
        assert_eq!(t.raw(), "bad\\xff\\xfebytes");
    }

    #[test]
    fn huge_values_are_cut_for_display_but_stored_whole() {
        let big = "x".repeat(1 << 20);
        let t = Untrusted::new(big.clone());
        assert_eq!(t.raw().len(), 1 << 20);
        let shown = t.shown();
        assert!(shown.len() < MAX_SHOWN_CHARS + 32);
        assert!(shown.ends_with(&format!("…(+{} chars)", (1 << 20) - MAX_SHOWN_CHARS)));
    }

    #[test]
    fn messages_are_kept_up_to_the_bound_and_cut_visibly_past_it() {
        let at = "é".repeat(MAX_MESSAGE_BYTES / 2);
        assert_eq!(Untrusted::message(at.clone()).raw(), at);
        // One byte over, and the cut would split a two-byte character: it goes before it.
        let over = format!("x{at}");
        let kept = Untrusted::message(over.clone());
        let marker = truncation_marker(MAX_MESSAGE_BYTES + 1);
        assert!(
            kept.raw().ends_with(&marker),
            "{}",
            &kept.raw()[kept.raw().len() - 64..]
        );
        let body = &kept.raw()[..kept.raw().len() - marker.len()];
        assert_eq!(body.len(), MAX_MESSAGE_BYTES - 1);
        assert!(over.starts_with(body));
        let huge = Untrusted::message("y".repeat(1 << 20));
        assert!(huge.raw().len() <= MAX_MESSAGE_BYTES + marker.len() + 8);
        assert!(huge.raw().ends_with("…(truncated: 1048576 bytes in all)"));
    }

    #[test]
    fn serialises_raw_value() {
        let t = Untrusted::new("a\x1bb");
        assert_eq!(serde_json::to_string(&t).unwrap(), "\"a\\u001bb\"");
    }
}
