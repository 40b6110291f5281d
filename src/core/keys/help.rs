//! The help screen's text: the key table section by section, the filter syntax, and what
//! the marks on screen mean — laid out for a terminal width (the key column, then the text
//! wrapped under itself), so the screen draws it and the core bounds its scrolling with the
//! same lines.

use super::{Section, TABLE};
use crate::core::text;

/// Columns before the text: indent and the key column.
const KEY_INDENT: usize = 3;
const KEY_W: usize = 14;
/// Text narrower than this is not worth wrapping into (tiny terminals cut instead).
const MIN_TEXT: usize = 16;

/// One help line as drawn.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HelpLine {
    Title(&'static str),
    /// A key (empty on the continuation lines of a wrapped text) and its text.
    Entry {
        key: &'static str,
        text: String,
    },
}

/// Help entries that are not rows of the key table: typing in the confirmation, the filter
/// syntax (`core::filter`) and the marks on screen. A `None` key starts a section.
const NOTES: &[(Option<&str>, &str)] = &[
    (
        Some("(typing)"),
        "destructive actions on prod clusters (abort, undo, promote-full) need the object name typed; y and n are then text",
    ),
    (
        Some("(gate)"),
        "promote while the service's SLO pages needs the service name typed",
    ),
    (None, "Filter (/): every word must match, case-insensitive"),
    (
        Some("word"),
        "found in the cluster, namespace, name, kind, phase or message",
    ),
    (Some("cluster:X"), "the cluster's name contains X"),
    (Some("ns:X"), "the namespace contains X (also namespace:X)"),
    (
        Some("kind:X"),
        "the kind starts with X: deploy(ment), rollout, canary",
    ),
    (
        Some("phase:X"),
        "the phase starts with X: healthy, progressing, paused, degraded",
    ),
    (
        Some("c/ns/name"),
        "a path: cluster/namespace/name, or cluster/name or ns/name; the last part may be cut short",
    ),
    (
        Some("panels"),
        "failures show when they match or are about a release shown; SLOs when their name or service matches or a release shown uses them; the cluster chooser (c) hides a hidden cluster's failures and SLOs too",
    ),
    (None, "What the marks mean"),
    (Some("▸"), "the focused panel / button"),
    (Some("▶ ✓"), "current step / done step"),
    (Some("?"), "unknown (no data) — never shown as 0"),
    (
        Some("cluster?"),
        "rows from a cluster not heard from lately (stale)",
    ),
    (Some("N▲ N✗"), "releases in flight / failing on a cluster"),
    (
        Some("◆ PROD"),
        "the selected release is on a production cluster",
    ),
    (
        Some("✗ ⚑ ▲"),
        "row: failing / needs a human (no timer) / in flight",
    ),
    (
        Some("NO CLUSTER REACHABLE"),
        "no configured cluster answers; c lists each one's reason",
    ),
    (
        Some("PAGE TICKET"),
        "SLO alert level (multiwindow burn rate)",
    ),
];

/// Every help entry in order: (key, text); a `None` key is a section title.
fn entries() -> impl Iterator<Item = (Option<&'static str>, &'static str)> {
    let keys = Section::ALL.into_iter().flat_map(|section| {
        std::iter::once((None, section.title())).chain(
            TABLE
                .iter()
                .filter_map(|r| r.help)
                .filter(move |(s, _, _)| *s == section)
                .map(|(_, keys, what)| (Some(keys), what)),
        )
    });
    keys.chain(NOTES.iter().copied())
}

/// The help text laid out for `width` columns: texts wrap under themselves; a key wider
/// than its column gets a line of its own.
pub fn lines(width: u16) -> Vec<HelpLine> {
    let text_w = (width as usize)
        .saturating_sub(KEY_INDENT + KEY_W)
        .max(MIN_TEXT);
    let mut out = Vec::new();
    for (key, what) in entries() {
        let Some(key) = key else {
            out.push(HelpLine::Title(what));
            continue;
        };
        let mut key = key;
        if text::width(key) >= KEY_W {
            out.push(HelpLine::Entry {
                key,
                text: String::new(),
            });
            key = "";
        }
        for row in text::wrap(what, text_w) {
            out.push(HelpLine::Entry { key, text: row });
            key = "";
        }
    }
    out
}

/// Rows of help a `width` x `height` terminal shows (header, title and footer take four).
pub fn page(height: u16) -> usize {
    usize::from(height).saturating_sub(4).max(1)
}

/// The largest useful scroll offset: the last line at the bottom of the page.
pub fn max_offset(width: u16, height: u16) -> usize {
    lines(width).len().saturating_sub(page(height))
}

/// Columns of the key column, for the screen.
pub const KEY_COLUMN: usize = KEY_INDENT + KEY_W;

#[cfg(test)]
mod tests {
    use super::*;

    fn shown(l: &HelpLine) -> String {
        match l {
            HelpLine::Title(t) => format!(" {t}"),
            HelpLine::Entry { key, text } => {
                format!("{}{text}", text::pad(&format!("   {key}"), KEY_COLUMN))
            }
        }
    }

    /// At 80 columns nothing is cut: every line fits, and the words of every entry are all
    /// there, in order.
    #[test]
    fn help_wraps_at_80_columns_without_losing_words() {
        let lines = lines(80);
        for l in &lines {
            let s = shown(l);
            assert!(text::width(&s) <= 80, "{s:?}");
        }
        // Every word of every entry is there, in order: wrapping lost nothing.
        let drawn: Vec<String> = lines
            .iter()
            .flat_map(|l| {
                match l {
                    HelpLine::Entry { key, text } => format!("{key} {text}"),
                    HelpLine::Title(t) => t.to_string(),
                }
                .split_whitespace()
                .map(str::to_string)
                .collect::<Vec<_>>()
            })
            .collect();
        let wanted: Vec<String> = entries()
            .flat_map(|(k, what)| {
                format!("{} {what}", k.unwrap_or(""))
                    .split_whitespace()
                    .map(str::to_string)
                    .collect::<Vec<_>>()
            })
            .collect();
        assert_eq!(drawn, wanted);
        // Some entries really wrapped (continuation lines have no key).
        let continued = lines
            .iter()
            .filter(|l| matches!(l, HelpLine::Entry { key: "", .. }))
            .count();
        assert!(continued >= 3, "{continued}");
    }

    #[test]
    fn help_documents_the_filter_syntax() {
        let text: Vec<String> = lines(250).iter().map(shown).collect();
        let text = text.join("\n");
        for needle in [
            "cluster:X",
            "ns:X",
            "kind:X",
            "phase:X",
            "c/ns/name",
            "SLOs when",
        ] {
            assert!(text.contains(needle), "{needle}");
        }
    }

    #[test]
    fn scrolling_stops_at_the_last_line() {
        let (w, h) = (80, 24);
        let max = max_offset(w, h);
        assert_eq!(max + page(h), lines(w).len());
        assert!(max > 0, "help is longer than one 80x24 page");
        assert!(max_offset(250, 200) == 0);
    }
}
