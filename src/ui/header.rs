//! The header: product, mode (LIVE / READ-ONLY), data source, PROD banner and UTC clock on
//! the first line; one chip per cluster on the second. Chips shrink step by step to fit
//! (full words → symbols → short labels → abbreviated names → "+N more"), so 80 columns
//! still shows every cluster's health when it can.

use std::borrow::Cow;

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use unicode_width::UnicodeWidthStr;

use super::fmt;
use super::theme::Theme;
use crate::core::model::{Cluster, Connection};
use crate::core::state::State;
use crate::core::text;

// Two lines (`core::layout::HEADER_ROWS`): mode and clock, then the cluster chips.
pub fn render(frame: &mut Frame, area: Rect, state: &State, theme: &Theme) {
    let first = Rect { height: 1, ..area };
    super::grid::draw_lines(frame, first, vec![mode_line(state, theme, area.width)]);
    if area.height > 1 {
        let second = Rect {
            y: area.y + 1,
            height: 1,
            ..area
        };
        super::grid::draw_lines(frame, second, vec![chips_line(state, theme, area.width)]);
    }
}

/// Line 1. When the selected release is on a production cluster the whole line takes the
/// banner style and says PROD in words.
fn mode_line<'a>(state: &'a State, theme: &Theme, width: u16) -> Line<'a> {
    let prod = state.selected_is_prod();
    let base = if prod {
        theme.prod_banner
    } else {
        theme.header
    };
    let mut left = vec![Span::styled(" shipdeck ", base)];
    let nothing = state.nothing_reachable();
    if state.settings.read_only {
        left.push(Span::styled(" READ-ONLY ", theme.readonly));
    } else if !nothing {
        left.push(Span::styled(" LIVE ", theme.live));
    }
    // Not "all quiet": nothing answered, and the reasons are one key away. (Some down:
    // their chips say so, with the reason where there is room, and `c` lists every reason.)
    if nothing {
        left.push(Span::styled(" NO CLUSTER REACHABLE ", theme.chip_bad));
        left.push(Span::styled(" c: why ", base));
    }
    // A read-only session that started without a writable audit path (the audit screen's
    // title and the first notice say why).
    if state.audit_file.warns() {
        left.push(Span::styled(" NO AUDIT LOG ", theme.notice_warn));
    }
    if !state.settings.source_label.is_empty() {
        let label = text::escape(&state.settings.source_label).to_uppercase();
        left.push(Span::raw(" "));
        left.push(Span::styled(format!(" {label} "), theme.source));
    }
    if prod {
        let cluster = state
            .selected_release()
            .map(|r| text::escape(&r.key.cluster))
            .unwrap_or_default();
        left.push(Span::styled(
            format!("  {} PROD {cluster} ", super::marks::PROD),
            theme.prod_banner,
        ));
    }
    if !state.pending.is_empty() {
        let n = state.pending.len();
        let what = if n == 1 { "action" } else { "actions" };
        left.push(Span::styled(format!("  {n} {what} awaiting answer"), base));
    }
    // Minutes only: a seconds clock would repaint an otherwise idle screen every second (P6).
    let clock = format!("{} UTC ", fmt::hour_minute(state.now));
    let used: usize = left.iter().map(Span::width).sum::<usize>() + clock.width();
    let gap = (width as usize).saturating_sub(used);
    left.push(Span::styled(" ".repeat(gap), base));
    left.push(Span::styled(clock, base));
    Line::from(left)
}

/// How much a chip says; tried in order until all chips fit on one line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Detail {
    /// Words, and why an unreachable cluster is down (wide terminals).
    Reasons,
    Words,
    Symbols,
    Short,
    Abbreviated,
}

const DETAILS: [Detail; 5] = [
    Detail::Reasons,
    Detail::Words,
    Detail::Symbols,
    Detail::Short,
    Detail::Abbreviated,
];

const SEP: &str = " │ ";
/// Compact levels trade the rule for width.
const SEP_COMPACT: &str = "  ";

fn separator(detail: Detail) -> &'static str {
    match detail {
        Detail::Reasons | Detail::Words | Detail::Symbols => SEP,
        Detail::Short | Detail::Abbreviated => SEP_COMPACT,
    }
}

fn chips_line<'a>(state: &'a State, theme: &Theme, width: u16) -> Line<'a> {
    let width = width as usize;
    if state.clusters.is_empty() {
        return Line::styled(" no clusters configured", theme.dim);
    }
    for detail in DETAILS {
        let chips: Vec<Vec<Span>> = state
            .clusters
            .iter()
            .map(|c| chip(state, c, detail, theme))
            .collect();
        let sep = separator(detail);
        let total: usize = chips.iter().map(|c| spans_width(c)).sum::<usize>()
            + sep.width() * (chips.len().saturating_sub(1))
            + 1;
        if total <= width {
            return join(chips, sep, theme);
        }
    }
    overflow(state, theme, width)
}

/// Not even abbreviated chips fit: show the most troubled clusters first, then "+N more".
fn overflow<'a>(state: &'a State, theme: &Theme, width: usize) -> Line<'a> {
    let mut ranked: Vec<&Cluster> = state.clusters.iter().collect();
    ranked.sort_by_key(|c| std::cmp::Reverse(trouble(state, c)));
    let mut chips = Vec::new();
    let mut used = 1;
    for (i, c) in ranked.iter().enumerate() {
        let chip = chip(state, c, Detail::Abbreviated, theme);
        let more = format!("+{} more (c)", ranked.len() - i);
        let w = spans_width(&chip) + SEP_COMPACT.width();
        if used + w + more.width() + SEP_COMPACT.width() > width {
            let mut line = join(chips, SEP_COMPACT, theme);
            line.spans.push(Span::styled(SEP_COMPACT, theme.border));
            line.spans.push(Span::styled(more, theme.dim));
            return line;
        }
        used += w;
        chips.push(chip);
    }
    join(chips, SEP_COMPACT, theme)
}

/// Higher is worse: what must never be hidden by overflow.
fn trouble(state: &State, c: &Cluster) -> u8 {
    let (_, failing) = state.cluster_counts(&c.name);
    let conn = match c.connection {
        Connection::Unreachable { .. } | Connection::NoAccess { .. } => 3,
        Connection::Stale { .. } => 2,
        Connection::Connecting => 1,
        Connection::Connected => 0,
    };
    conn + u8::from(failing > 0) * 2
}

fn join<'a>(chips: Vec<Vec<Span<'a>>>, sep: &'static str, theme: &Theme) -> Line<'a> {
    let mut spans = vec![Span::raw(" ")];
    for (i, chip) in chips.into_iter().enumerate() {
        if i > 0 {
            spans.push(Span::styled(sep, theme.border));
        }
        spans.extend(chip);
    }
    Line::from(spans)
}

fn spans_width(spans: &[Span]) -> usize {
    spans.iter().map(Span::width).sum()
}

fn connection_style(c: &Connection, theme: &Theme) -> Style {
    match c {
        Connection::Connected => theme.chip_ok,
        Connection::Connecting | Connection::Stale { .. } => theme.chip_warn,
        Connection::Unreachable { .. } | Connection::NoAccess { .. } => theme.chip_bad,
    }
}

/// One cluster: name, connection, counts, read-only marker — all in words or symbols,
/// styled by health.
fn chip<'a>(state: &State, c: &'a Cluster, detail: Detail, theme: &Theme) -> Vec<Span<'a>> {
    let style = connection_style(&c.connection, theme);
    let name: Cow<str> = match detail {
        Detail::Abbreviated => Cow::Owned(fmt::fit_middle(&text::escape(&c.name), 9).into_owned()),
        _ => text::escape(&c.name),
    };
    let label = c.connection.label(state.now);
    let label = match detail {
        Detail::Reasons | Detail::Words | Detail::Symbols => label,
        Detail::Short | Detail::Abbreviated => short_label(&c.connection, label),
    };
    let mut spans = vec![
        Span::styled(name, style),
        Span::raw(" "),
        Span::styled(label, style),
    ];
    if detail == Detail::Reasons
        && let Some(reason) = reason(&c.connection)
    {
        let shown = fmt::fit(&reason.shown(), REASON_WIDTH).into_owned();
        spans.push(Span::styled(format!(": {shown}"), style));
    }
    spans.extend(kinds_spans(c, detail, theme));
    if c.read_only {
        let ro = if matches!(detail, Detail::Reasons | Detail::Words) {
            " read-only"
        } else {
            " RO"
        };
        spans.push(Span::styled(ro, theme.readonly));
    }
    let (flight, failing) = state.cluster_counts(&c.name);
    let counts: [(usize, &str, &str, Style); 2] = [
        (flight, " in flight", "▲", theme.chip_ok),
        (failing, " failing", "✗", theme.chip_bad),
    ];
    for (n, words, symbol, count_style) in counts {
        if n == 0 {
            continue;
        }
        let text = match detail {
            Detail::Reasons | Detail::Words => format!(" · {n}{words}"),
            _ => format!(" {n}{symbol}"),
        };
        let st = if symbol == "✗" { count_style } else { style };
        spans.push(Span::styled(text, st));
    }
    spans
}

/// Widest reason a chip shows (the cluster chooser shows more).
const REASON_WIDTH: usize = 40;

/// A kind as the chip names it: its plural without the group ("canaries").
fn short_kind(resource: &str) -> Cow<'_, str> {
    text::escape(resource.split('.').next().unwrap_or(resource))
}

/// What this identity cannot read here, kind by kind, in words: "no access: canaries"
/// (forbidden cluster-wide), where those kinds are read instead ("read in shop"), and
/// kinds whose list or watch keeps failing ("rollouts: 500 since 12:03"). Shared with
/// the cluster chooser.
pub fn kind_problems(c: &Cluster) -> Vec<String> {
    let mut out = Vec::new();
    if !c.forbidden_kinds.is_empty() {
        let kinds: Vec<Cow<str>> = c.forbidden_kinds.iter().map(|k| short_kind(k)).collect();
        let mut part = format!("no access: {}", kinds.join(", "));
        let read_in: std::collections::BTreeSet<&String> = c
            .forbidden_kinds
            .iter()
            .filter_map(|k| c.scoped_kinds.get(k))
            .flatten()
            .collect();
        if !read_in.is_empty() {
            let names: Vec<Cow<str>> = read_in.iter().map(|n| text::escape(n)).collect();
            part.push_str(&format!(" (read in {})", names.join(", ")));
        }
        out.push(part);
    }
    for f in &c.failing_kinds {
        out.push(format!(
            "{}: {} since {}",
            short_kind(&f.kind),
            text::escape(&f.status),
            fmt::hour_minute(f.since)
        ));
    }
    out
}

/// The chip's part for [`kind_problems`]: words while they fit, then counts by symbol
/// (⊘ kinds without access, ⚠ kinds failing); `c` always has the words.
fn kinds_spans<'a>(c: &Cluster, detail: Detail, theme: &Theme) -> Vec<Span<'a>> {
    let (denied, failing) = (c.forbidden_kinds.len(), c.failing_kinds.len());
    if denied + failing == 0 {
        return Vec::new();
    }
    match detail {
        Detail::Reasons | Detail::Words => kind_problems(c)
            .into_iter()
            .map(|p| Span::styled(format!(" · {p}"), theme.chip_warn))
            .collect(),
        _ => {
            let mut spans = Vec::new();
            if denied > 0 {
                spans.push(Span::styled(format!(" ⊘{denied}"), theme.chip_warn));
            }
            if failing > 0 {
                spans.push(Span::styled(format!(" ⚠{failing}"), theme.chip_warn));
            }
            spans
        }
    }
}

/// Why a cluster is down or refusing, as the source reported it (untrusted).
pub fn reason(c: &Connection) -> Option<&text::Untrusted> {
    match c {
        Connection::Unreachable { reason } | Connection::NoAccess { reason } => Some(reason),
        _ => None,
    }
}

fn short_label(c: &Connection, full: String) -> String {
    match c {
        Connection::Connected => "ok".into(),
        Connection::Connecting => "conn…".into(),
        Connection::Stale { .. } => full,
        Connection::Unreachable { .. } => "down".into(),
        Connection::NoAccess { .. } => "no acc".into(),
    }
}

#[cfg(test)]
mod tests {
    use crate::core::model::{Cluster, Connection};
    use crate::core::msg::{Key, Msg};
    use crate::core::state::{Settings, State};
    use crate::core::testkit::t;
    use crate::core::text::Untrusted;
    use crate::core::{settle, update};
    use crate::ui::{Theme, screenshot};

    fn down(reason: &str) -> Connection {
        Connection::Unreachable {
            reason: Untrusted::new(reason),
        }
    }

    /// Two clusters that never answered, at `w` x `h`.
    fn dead(w: u16, h: u16) -> State {
        let clusters = vec![Cluster::new("east"), Cluster::new("west")];
        let mut s = State::new(t(0), Settings::default(), clusters, Vec::new());
        update(
            &mut s,
            Msg::Resize {
                width: w,
                height: h,
            },
        );
        for c in ["east", "west"] {
            let connection = down("client error (Connect)");
            let cluster = c.into();
            update(
                &mut s,
                Msg::Connection {
                    cluster,
                    connection,
                },
            );
        }
        settle(&mut s);
        s
    }

    #[test]
    fn nothing_reachable_is_not_all_quiet() {
        let mut s = dead(80, 24);
        assert!(s.nothing_reachable() && !s.any_answered());
        let shot = screenshot(&s, &Theme::no_color(), 80, 24);
        let first = shot.lines().next().unwrap_or_default();
        assert!(first.contains("NO CLUSTER REACHABLE"), "{shot}");
        assert!(!first.contains("LIVE"), "{shot}");
        assert!(!shot.contains("nothing in flight"), "{shot}");
        assert!(shot.contains("no cluster answered"), "{shot}");

        // One answers: LIVE again, and the chip of the one still down says so.
        let connection = Connection::Connected;
        let cluster = "east".into();
        update(
            &mut s,
            Msg::Connection {
                cluster,
                connection,
            },
        );
        settle(&mut s);
        assert!(!s.nothing_reachable() && s.any_answered());
        let shot = screenshot(&s, &Theme::no_color(), 80, 24);
        let first = shot.lines().next().unwrap_or_default();
        assert!(first.contains("LIVE"), "{shot}");
        let chips = shot.lines().nth(1).unwrap_or_default();
        assert!(chips.contains("west unreachable"), "{shot}");
        assert!(shot.contains("nothing in flight"), "{shot}");
    }

    /// Wide chips say why a cluster is down (escaped, fitted); narrow ones only that it is,
    /// and `c` lists the reason at any width.
    #[test]
    fn the_reason_is_on_wide_chips_and_one_key_away() {
        let mut s = dead(250, 70);
        let hostile = "dial tcp: \u{1b}[2J refused and then a very long tail that goes on and on";
        let cluster = "west".into();
        let connection = down(hostile);
        update(
            &mut s,
            Msg::Connection {
                cluster,
                connection,
            },
        );
        let shot = screenshot(&s, &Theme::no_color(), 250, 70);
        let chips = shot.lines().nth(1).unwrap_or_default();
        assert!(
            chips.contains("east unreachable: client error (Connect)"),
            "{chips}"
        );
        assert!(
            chips.contains("west unreachable: dial tcp: \\x1b[2J"),
            "{chips}"
        );
        assert!(!chips.contains('\u{1b}') && chips.contains('…'), "{chips}");

        let mut s = dead(80, 24);
        let shot = screenshot(&s, &Theme::no_color(), 80, 24);
        assert!(!shot.lines().nth(1).unwrap_or_default().contains("Connect"));
        update(&mut s, Msg::Key(Key::Char('c')));
        let shot = screenshot(&s, &Theme::no_color(), 80, 24);
        for c in ["east", "west"] {
            assert!(
                shot.lines()
                    .any(|l| l.contains(c) && l.contains("client error (Connect)")),
                "{shot}"
            );
        }
    }

    /// The per-kind access a cluster has: kept when other kinds list, said on the chip
    /// (words when there is room, a count by symbol when not) and in `c`.
    #[test]
    fn no_access_per_kind_survives_other_lists_and_is_on_the_chip() {
        use crate::core::msg::ObjectKind;
        let mut s = dead(160, 24);
        let cluster = || "east".to_string();
        update(
            &mut s,
            Msg::KindForbidden {
                cluster: cluster(),
                kind: "canaries.flagger.app".into(),
                reason: Untrusted::new("canaries is forbidden"),
            },
        );
        for kind in [ObjectKind::Deployment, ObjectKind::Rollout] {
            update(
                &mut s,
                Msg::Relisted {
                    cluster: cluster(),
                    kind,
                    objects: vec![],
                },
            );
        }
        update(
            &mut s,
            Msg::Connection {
                cluster: cluster(),
                connection: Connection::Connected,
            },
        );
        settle(&mut s);
        let c = s
            .cluster("east")
            .cloned()
            .unwrap_or_else(|| Cluster::new("?"));
        assert_eq!(c.forbidden_kinds, ["canaries.flagger.app"]);
        let shot = screenshot(&s, &Theme::no_color(), 160, 24);
        let chips = shot.lines().nth(1).unwrap_or_default();
        assert!(
            chips.contains("east connected · no access: canaries"),
            "{chips}"
        );
        // Read namespace by namespace instead; a kind failing; both in words.
        update(
            &mut s,
            Msg::RelistedIn {
                cluster: cluster(),
                kind: ObjectKind::Canary,
                namespace: "shop".into(),
                objects: vec![],
            },
        );
        update(&mut s, Msg::Tick(t(3 * 3600 + 180)));
        update(
            &mut s,
            Msg::KindFailing {
                cluster: cluster(),
                kind: "rollouts.argoproj.io".into(),
                status: "500".into(),
                detail: Untrusted::new("conversion webhook failed"),
            },
        );
        let shot = screenshot(&s, &Theme::no_color(), 160, 24);
        let chips = shot.lines().nth(1).unwrap_or_default();
        let since = super::fmt::hour_minute(t(3 * 3600 + 180));
        assert!(
            chips.contains(&format!(
                "no access: canaries (read in shop) · rollouts: 500 since {since}"
            )),
            "{chips}"
        );
        // Narrow: counts by symbol; `c` has the words.
        let narrow = screenshot(&s, &Theme::no_color(), 40, 24);
        let chips = narrow.lines().nth(1).unwrap_or_default();
        assert!(chips.contains("⊘1") && chips.contains("⚠1"), "{narrow}");
        update(&mut s, Msg::Key(crate::core::msg::Key::Char('c')));
        let shot = screenshot(&s, &Theme::no_color(), 160, 24);
        assert!(
            shot.lines().any(|l| l.contains("east")
                && l.contains("no access: canaries (read in shop)")
                && l.contains("rollouts: 500 since")),
            "{shot}"
        );
        // Listing again clears the failure; a cluster-wide list clears the kind.
        update(
            &mut s,
            Msg::Relisted {
                cluster: cluster(),
                kind: ObjectKind::Rollout,
                objects: vec![],
            },
        );
        update(
            &mut s,
            Msg::Relisted {
                cluster: cluster(),
                kind: ObjectKind::Canary,
                objects: vec![],
            },
        );
        let c = s
            .cluster("east")
            .cloned()
            .unwrap_or_else(|| Cluster::new("?"));
        assert!(c.failing_kinds.is_empty() && c.forbidden_kinds.is_empty());
        assert!(c.scoped_kinds.is_empty());
    }
}
