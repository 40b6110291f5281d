//! The one sanitising boundary for strings that come from outside (cluster data, Prometheus,
//! config values, files). `Untrusted` keeps the exact bytes it was given, for JSON export and
//! copying, and only ever shows them escaped: control characters, escape sequences, bidi
//! overrides and zero-width characters become visible `\x1b` / `\u{202e}` style text, so
//! tampering is seen and nothing raw reaches the terminal.

use std::borrow::Cow;
use std::fmt;

use serde::{Serialize, Serializer};

/// Longest text shown; longer values are cut with a visible marker (the stored value is whole).
pub const MAX_SHOWN_CHARS: usize = 4096;

#[derive(Clone, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Untrusted(Box<str>);

impl Untrusted {
    pub fn new(s: impl Into<String>) -> Self {
        Untrusted(s.into().into_boxed_str())
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

/// True for characters that must never reach a terminal as they are.
fn needs_escape(c: char) -> bool {
    c.is_control()
        || matches!(c,
            '\u{ad}'                 // soft hyphen (invisible unless at a line break)
            | '\u{34f}'              // combining grapheme joiner
            | '\u{61c}'              // Arabic letter mark (bidi)
            | '\u{115f}' | '\u{1160}' | '\u{3164}' | '\u{ffa0}' // Hangul fillers (blank)
            | '\u{17b4}' | '\u{17b5}' // Khmer inherent vowels (invisible)
            | '\u{180e}'             // Mongolian vowel separator
            | '\u{200b}'..='\u{200f}' // zero-width, LRM/RLM
            | '\u{2028}'..='\u{202e}' // line/para separators, bidi embeddings and overrides
            | '\u{2060}'..='\u{2064}' // word joiner, invisible operators
            | '\u{2066}'..='\u{2069}' // bidi isolates
            | '\u{206a}'..='\u{206f}' // deprecated format characters (shaping, digit swapping)
            | '\u{feff}'              // BOM / zero-width no-break space
            | '\u{fff9}'..='\u{fffb}' // interlinear annotations
            | '\u{e0000}'..='\u{e007f}' // tag characters (invisible "ASCII smuggling")
        )
}

/// Escape `s` for display. Borrowed when nothing needs escaping and it is short.
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
        if !needs_escape(c) {
            out.push(c);
        } else if (c as u32) < 0x80 {
            out.push_str(&format!("\\x{:02x}", c as u32));
        } else {
            out.push_str(&format!("\\u{{{:x}}}", c as u32));
        }
    }
    Cow::Owned(out)
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
    fn serialises_raw_value() {
        let t = Untrusted::new("a\x1bb");
        assert_eq!(serde_json::to_string(&t).unwrap(), "\"a\\u001bb\"");
    }
}
