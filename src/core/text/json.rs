//! JSON for export (`snapshot --json`): valid JSON whose strings parse back to the exact
//! stored values, written so that nothing [`super::needs_escape`] flags (C0/C1 controls, DEL,
//! bidi, zero-width and other invisible characters) appears raw in the output: each is
//! written as a `\uXXXX` escape (a surrogate pair above U+FFFF).

use std::io;

use serde::Serialize;
use serde_json::ser::{Formatter, PrettyFormatter, Serializer};

use super::needs_escape;

/// Wraps another formatter (the layout) and escapes what it must in every string and key.
pub struct Escaping<F>(pub F);

/// `value` as pretty-printed, escaped JSON.
pub fn to_string_pretty<T: Serialize + ?Sized>(value: &T) -> serde_json::Result<String> {
    let mut out = Vec::with_capacity(4096);
    let mut ser = Serializer::with_formatter(&mut out, Escaping(PrettyFormatter::new()));
    value.serialize(&mut ser)?;
    // Only whole UTF-8 strings and ASCII are written, so this cannot fail.
    String::from_utf8(out).map_err(|e| serde::ser::Error::custom(e.to_string()))
}

fn write_u_escape<W: ?Sized + io::Write>(w: &mut W, c: char) -> io::Result<()> {
    let mut units = [0u16; 2];
    for u in c.encode_utf16(&mut units) {
        write!(w, "\\u{u:04x}")?;
    }
    Ok(())
}

impl<F: Formatter> Formatter for Escaping<F> {
    fn write_string_fragment<W: ?Sized + io::Write>(
        &mut self,
        w: &mut W,
        fragment: &str,
    ) -> io::Result<()> {
        let mut start = 0;
        for (i, c) in fragment.char_indices() {
            if needs_escape(c) {
                w.write_all(fragment.get(start..i).unwrap_or_default().as_bytes())?;
                write_u_escape(w, c)?;
                start = i + c.len_utf8();
            }
        }
        w.write_all(fragment.get(start..).unwrap_or_default().as_bytes())
    }

    fn begin_array<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.begin_array(w)
    }
    fn end_array<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.end_array(w)
    }
    fn begin_array_value<W: ?Sized + io::Write>(
        &mut self,
        w: &mut W,
        first: bool,
    ) -> io::Result<()> {
        self.0.begin_array_value(w, first)
    }
    fn end_array_value<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.end_array_value(w)
    }
    fn begin_object<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.begin_object(w)
    }
    fn end_object<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.end_object(w)
    }
    fn begin_object_key<W: ?Sized + io::Write>(
        &mut self,
        w: &mut W,
        first: bool,
    ) -> io::Result<()> {
        self.0.begin_object_key(w, first)
    }
    fn end_object_key<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.end_object_key(w)
    }
    fn begin_object_value<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.begin_object_value(w)
    }
    fn end_object_value<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.end_object_value(w)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Value, json};

    const HOSTILE: &str =
        "a\u{1b}]0;x\u{7}b\u{9b}c\u{202e}d\u{200b}e\u{7f}f\u{2028}g\u{e0041}h\u{fe0f}日本\"\\\n";

    #[test]
    fn hostile_characters_are_u_escapes_and_parse_back_exactly() {
        let v = json!({ "name": HOSTILE, HOSTILE: [HOSTILE, 1, null] });
        let text = to_string_pretty(&v).unwrap();
        assert!(
            !text.chars().any(|c| needs_escape(c) && c != '\n'),
            "{text}"
        );
        for escape in [
            "\\u001b",
            "\\u009b",
            "\\u202e",
            "\\u200b",
            "\\u007f",
            "\\u2028",
            "\\udb40\\udc41",
            "\\ufe0f",
        ] {
            assert!(text.contains(escape), "{escape} in {text}");
        }
        assert!(text.contains("日本"), "visible text stays as it is: {text}");
        let back: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(back, v);
        assert_eq!(back["name"].as_str(), Some(HOSTILE));
    }

    #[test]
    fn the_layout_is_serde_json_pretty() {
        let v = json!({ "a": [1, {"b": "c"}], "d": {} });
        assert_eq!(
            to_string_pretty(&v).unwrap(),
            serde_json::to_string_pretty(&v).unwrap()
        );
    }
}
