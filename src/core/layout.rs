//! The console's screen geometry, computed in one place: the header / body / footer bands,
//! the home screen's panels, and from them the number of release rows that fit. The core
//! pages with it (`State::page_rows`) and the UI draws into exactly the same areas, so the
//! scroll offset the core keeps is the window the UI shows. Pure arithmetic on terminal
//! cells; no ratatui, no IO.

/// A rectangle of terminal cells.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Area {
    pub x: u16,
    pub y: u16,
    pub width: u16,
    pub height: u16,
}

impl Area {
    pub const fn new(x: u16, y: u16, width: u16, height: u16) -> Self {
        Area {
            x,
            y,
            width,
            height,
        }
    }

    /// Split off the top `h` rows.
    pub fn split_top(self, h: u16) -> (Area, Area) {
        let h = h.min(self.height);
        (
            Area { height: h, ..self },
            Area {
                y: self.y.saturating_add(h),
                height: self.height - h,
                ..self
            },
        )
    }

    /// Split off the bottom `h` rows.
    pub fn split_bottom(self, h: u16) -> (Area, Area) {
        let h = h.min(self.height);
        (
            Area {
                height: self.height - h,
                ..self
            },
            Area {
                y: self.y.saturating_add(self.height - h),
                height: h,
                ..self
            },
        )
    }
}

/// Header lines: mode/clock, then the cluster chips.
pub const HEADER_ROWS: u16 = 2;
/// Lines of the releases panel that are not rows: its title and the column header.
const TABLE_CHROME: u16 = 2;

/// The three horizontal bands every screen shares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ScreenAreas {
    pub header: Area,
    pub body: Area,
    pub footer: Area,
}

/// Two header lines and one footer line; tiny terminals keep the header first and give up
/// the rest.
pub fn screen(area: Area) -> ScreenAreas {
    let header_h = HEADER_ROWS.min(area.height);
    let footer_h = u16::from(area.height > header_h);
    let (header, rest) = area.split_top(header_h);
    let (body, footer) = rest.split_bottom(footer_h);
    ScreenAreas {
        header,
        body,
        footer,
    }
}

/// How many rows each home panel could show.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PanelCounts {
    pub releases: usize,
    pub slos: usize,
    pub failures: usize,
    /// Lines the failures would take with their messages wrapped (up to
    /// [`FAILURE_MAX_LINES`] each): taken only from rows the table does not need.
    pub failure_lines: usize,
}

/// Most lines one failure's row wraps onto where there is room.
pub const FAILURE_MAX_LINES: usize = 3;

/// Columns before the failures panel's rows (the focus marker's room).
pub const FAILURE_LEAD: u16 = 2;

/// Widths of the failures panel's fixed columns for its inner width (count, age, cluster,
/// [namespace,] object, reason); the message takes the rest.
pub fn failure_widths(width: u16) -> &'static [usize] {
    if width < 96 {
        &[8, 4, 9, 20, 14]
    } else if width < 140 {
        &[8, 4, 10, 26, 16]
    } else {
        &[8, 4, 12, 12, 28, 22]
    }
}

/// Where a failure's message goes in a panel `width` columns wide: its column on the
/// row's first line (x from the panel's left and width), then the continuation lines —
/// under the message column when it is wide, else from the cluster column on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FailureText {
    pub first_x: usize,
    pub first: usize,
    pub rest_x: usize,
    pub rest: usize,
}

pub fn failure_text(width: u16) -> FailureText {
    let inner = width.saturating_sub(FAILURE_LEAD);
    let fixed: usize = failure_widths(inner).iter().map(|w| w + 1).sum();
    let first = usize::from(inner).saturating_sub(fixed).max(8);
    let first_x = usize::from(FAILURE_LEAD) + fixed;
    // After the count and age columns.
    let (rest_x, rest) = if first >= 40 {
        (first_x, first)
    } else {
        let x = usize::from(FAILURE_LEAD) + 8 + 1 + 4 + 1;
        (x, usize::from(width).saturating_sub(x).max(8))
    };
    FailureText {
        first_x,
        first,
        rest_x,
        rest,
    }
}

/// A failure's shown message laid out in `t`, on at most `max` lines: the first line's
/// part, then the continuation lines. `cut` when the rest did not fit (the last line then
/// ends in `…`).
pub fn failure_message_lines(shown: &str, t: FailureText, max: usize) -> (Vec<String>, bool) {
    use super::text::{fit, width, wrap};
    let max = max.max(1);
    let mut lines = Vec::new();
    let mut left = shown;
    for i in 0..max {
        let w = if i == 0 { t.first } else { t.rest };
        // The last line allowed takes what is left, cut where it must be.
        if i + 1 == max || width(left) <= w {
            let cut = width(left) > w;
            lines.push(fit(left, w).into_owned());
            return (lines, cut);
        }
        let row = wrap(left, w).into_iter().next().unwrap_or_default();
        left = left.get(row.len()..).unwrap_or_default().trim_start();
        lines.push(row);
        if left.is_empty() {
            break;
        }
    }
    (lines, false)
}

/// The failures panel's width on a `width` x `height` terminal (beside the SLOs when wide).
pub fn failures_width(width: u16, height: u16) -> u16 {
    let body = screen(Area::new(0, 0, width, height)).body;
    if body.width >= 160 && body.height >= 30 {
        (body.width - body.width / 2).saturating_sub(1)
    } else {
        body.width
    }
}

/// The home screen's panels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HomeAreas {
    pub releases: Area,
    pub slos: Area,
    pub failures: Area,
}

/// Wide terminals put SLOs and failures side by side under a tall table; narrow ones stack
/// all three so that at 80x24 every panel shows at least a few rows.
pub fn home(body: Area, counts: PanelCounts) -> HomeAreas {
    // Rows the table does not need (few releases) go to the panels below, up to what
    // they can show.
    let table_need = cells(counts.releases).saturating_add(2).max(6);
    let spare = body.height.saturating_sub(table_need);
    if body.width >= 160 && body.height >= 30 {
        let want = cells(counts.slos.max(counts.failures)).saturating_add(1);
        let bottom = want.max(6).min(fifths(body.height, 2).max(spare.min(want)));
        // Wrapped failure messages use rows the table would leave empty.
        let wrapped = cells(counts.slos.max(counts.failure_lines)).saturating_add(1);
        let bottom = bottom.max(spare.min(wrapped)).min(body.height);
        let (releases, lower) = body.split_bottom(bottom);
        let left_w = lower.width / 2;
        let slos = Area {
            width: left_w.saturating_sub(1),
            ..lower
        };
        let failures = Area {
            x: lower.x.saturating_add(left_w).saturating_add(1),
            width: (lower.width - left_w).saturating_sub(1),
            ..lower
        };
        return HomeAreas {
            releases,
            slos,
            failures,
        };
    }
    // Stacked: the table keeps most of the height; the rest is shared, SLOs first
    // because they are few and each line matters.
    let share = if body.height < 40 {
        fifths(body.height, 2)
    } else {
        body.height / 2
    };
    let want = cells(
        counts
            .slos
            .max(1)
            .saturating_add(counts.failures.max(1))
            .saturating_add(2),
    );
    let wrapped = cells(
        counts
            .slos
            .max(1)
            .saturating_add(counts.failure_lines.max(1))
            .saturating_add(2),
    );
    let bottom = share
        .max(spare.min(want))
        .max(spare.min(wrapped))
        .min(body.height);
    let slo_h = cells(counts.slos.max(1))
        .saturating_add(1)
        .min(bottom / 2)
        .max(2.min(bottom));
    let (releases, lower) = body.split_bottom(bottom);
    let (slos, failures) = lower.split_top(slo_h);
    HomeAreas {
        releases,
        slos,
        failures,
    }
}

/// A count of rows as terminal cells (a terminal is at most u16::MAX tall).
fn cells(n: usize) -> u16 {
    u16::try_from(n).unwrap_or(u16::MAX)
}

/// `n` fifths of `h`, without overflowing on a 65535-row terminal.
fn fifths(h: u16, n: u32) -> u16 {
    u16::try_from(u32::from(h) * n / 5).unwrap_or(h)
}

/// Release rows that fit on the home screen of a `width` x `height` terminal.
pub fn home_table_rows(width: u16, height: u16, counts: PanelCounts) -> usize {
    let areas = home(screen(Area::new(0, 0, width, height)).body, counts);
    usize::from(areas.releases.height.saturating_sub(TABLE_CHROME))
}

/// The window of a scrolled list that keeps `selected` visible: start at the core's
/// `offset`, then move just enough. The offset assumes the core's page size; a panel drawn
/// with another height adjusts here, never by mutating state.
pub fn window(len: usize, offset: usize, selected: usize, rows: usize) -> std::ops::Range<usize> {
    if len == 0 || rows == 0 {
        return 0..0;
    }
    let selected = selected.min(len - 1);
    let mut start = offset.min(len - 1);
    if selected < start {
        start = selected;
    } else if selected >= start + rows {
        start = selected + 1 - rows;
    }
    // Fill the page when scrolled past the end (e.g. after rows disappeared).
    start = start.min(len.saturating_sub(rows));
    start..(start + rows).min(len)
}

/// Where a panel's window is in its list, for the title: "rows a–b of n", and how many
/// urgent rows are scrolled out of view above it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Paging {
    /// The rows drawn (indices into the list).
    pub shown: std::ops::Range<usize>,
    pub total: usize,
    /// Urgent rows above `shown` (not drawn).
    pub urgent_above: usize,
}

impl Paging {
    /// 1-based first and last row drawn (0, 0 for an empty list).
    pub fn first_last(&self) -> (usize, usize) {
        if self.shown.is_empty() {
            (0, 0)
        } else {
            (self.shown.start + 1, self.shown.end)
        }
    }
}

/// Paging of a list of `len` rows shown `rows` at a time, whose first `urgent_leading` rows
/// are the urgent ones (the releases order puts them first).
pub fn paging(
    len: usize,
    offset: usize,
    selected: usize,
    rows: usize,
    urgent_leading: usize,
) -> Paging {
    let shown = window(len, offset, selected, rows);
    Paging {
        urgent_above: urgent_leading.min(len).min(shown.start),
        total: len,
        shown,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::text;

    #[test]
    fn window_keeps_selection_visible_with_any_page_size() {
        assert_eq!(window(100, 0, 0, 10), 0..10);
        assert_eq!(window(100, 0, 15, 10), 6..16);
        assert_eq!(window(100, 50, 40, 10), 40..50);
        assert_eq!(window(100, 95, 99, 10), 90..100);
        assert_eq!(window(5, 3, 4, 10), 0..5);
        assert_eq!(window(0, 3, 4, 10), 0..0);
        // The core paged with a bigger page than ours: still visible.
        assert_eq!(window(10_000, 9_000, 9_030, 20), 9_011..9_031);
    }

    #[test]
    fn paging_counts_only_the_urgent_rows_above_the_window() {
        // 24 rows, the first 5 urgent, 11 shown, selection at the bottom.
        let p = paging(24, 0, 23, 11, 5);
        assert_eq!(p.shown, 13..24);
        assert_eq!(p.first_last(), (14, 24));
        assert_eq!(p.urgent_above, 5);
        // Scrolled to row 3: rows 0..3 are above, all urgent; 3 and 4 are on screen.
        let p = paging(24, 3, 3, 11, 5);
        assert_eq!((p.shown.clone(), p.urgent_above), (3..14, 3));
        // At the top nothing is hidden above.
        assert_eq!(paging(24, 0, 0, 11, 5).urgent_above, 0);
        // Empty list, no rows: nothing shown, nothing hidden.
        let p = paging(0, 4, 9, 11, 0);
        assert_eq!((p.first_last(), p.urgent_above), ((0, 0), 0));
        assert_eq!(paging(10, 0, 5, 0, 10).urgent_above, 0);
    }

    #[test]
    fn every_panel_gets_rows_at_80x24() {
        let body = screen(Area::new(0, 0, 80, 24)).body;
        assert_eq!(body, Area::new(0, 2, 80, 21));
        let counts = PanelCounts {
            releases: 500,
            slos: 3,
            failures: 10,
            failure_lines: 10,
        };
        let a = home(body, counts);
        // Title and column header plus at least eight releases.
        assert!(a.releases.height >= 10, "{a:?}");
        assert!(a.slos.height >= 3, "{a:?}");
        assert!(a.failures.height >= 3, "{a:?}");
        assert_eq!(a.releases.height + a.slos.height + a.failures.height, 21);
        assert_eq!(
            home_table_rows(80, 24, counts),
            usize::from(a.releases.height - 2)
        );
    }

    #[test]
    fn wide_terminals_put_slos_beside_failures() {
        let body = Area::new(0, 2, 250, 67);
        let a = home(
            body,
            PanelCounts {
                releases: 500,
                slos: 4,
                failures: 30,
                failure_lines: 30,
            },
        );
        assert_eq!(a.slos.y, a.failures.y);
        assert!(a.releases.height >= 40, "{a:?}");
    }

    #[test]
    fn few_releases_leave_room_to_the_panels_below() {
        let body = Area::new(0, 2, 80, 21);
        let counts = PanelCounts {
            releases: 4,
            slos: 3,
            failures: 10,
            failure_lines: 10,
        };
        let a = home(body, counts);
        assert_eq!(a.releases.height, 6);
        assert_eq!(a.slos.height, 4);
        assert_eq!(a.failures.height, 11);
    }

    #[test]
    fn failure_messages_take_the_rest_of_the_width_and_wrap_up_to_the_limit() {
        // 80 columns: the message starts after the fixed columns; continuation lines start
        // after count and age and use the rest of the width.
        let t = failure_text(80);
        assert_eq!(t.first_x + t.first, 80);
        assert_eq!((t.rest_x, t.rest), (16, 64));
        // 250x70: beside the SLOs; the message column is wide, continuations stay under it.
        let w = failures_width(250, 70);
        assert_eq!(w, 124);
        let t = failure_text(w);
        assert!(t.first >= 50, "{t:?}");
        assert_eq!((t.rest_x, t.rest), (t.first_x, t.first));
        let msg = "Readiness probe failed: HTTP probe failed with statuscode: 503 and more words here to wrap once more over the width of a line";
        let (one, cut) = failure_message_lines(msg, t, 1);
        assert_eq!(one.len(), 1);
        assert!(cut && one[0].ends_with('…'), "{one:?}");
        assert_eq!(text::width(&one[0]), t.first);
        let (lines, cut) = failure_message_lines(msg, t, FAILURE_MAX_LINES);
        assert!(!cut && lines.len() == 3, "{lines:?}");
        assert_eq!(lines.join(" "), msg, "nothing lost when it fits");
        let long = "word ".repeat(100);
        let (lines, cut) = failure_message_lines(long.trim(), t, FAILURE_MAX_LINES);
        assert!(
            cut && lines.len() == 3 && lines[2].ends_with('…'),
            "{lines:?}"
        );
        assert!(lines.iter().all(|l| text::width(l) <= t.first));
    }

    #[test]
    fn wrapped_failures_take_only_rows_the_table_leaves_empty() {
        let body = screen(Area::new(0, 0, 250, 70)).body;
        let few = PanelCounts {
            releases: 7,
            slos: 3,
            failures: 6,
            failure_lines: 18,
        };
        let a = home(body, few);
        assert_eq!(a.failures.height, 19, "{a:?}");
        assert!(a.releases.height >= 9, "{a:?}");
        // A full table keeps its rows: the failures stay one line each.
        let full = PanelCounts {
            releases: 500,
            ..few
        };
        let one_line = PanelCounts {
            failure_lines: 6,
            ..full
        };
        assert_eq!(home(body, full), home(body, one_line));
        // Stacked at 80x24 likewise.
        let body = screen(Area::new(0, 0, 80, 24)).body;
        let a = home(body, PanelCounts { releases: 3, ..few });
        assert!(a.failures.height > 7, "{a:?}");
        assert_eq!(home(body, full), home(body, one_line));
    }

    #[test]
    fn huge_terminals_and_counts_never_overflow() {
        let huge = usize::MAX;
        for (w, h) in [(65535, 65535), (0, 65535), (65535, 0), (160, 65535)] {
            for n in [0, 70_000, huge] {
                let counts = PanelCounts {
                    releases: n,
                    slos: n,
                    failures: n,
                    failure_lines: n,
                };
                let s = screen(Area::new(0, 0, w, h));
                let a = home(s.body, counts);
                assert!(a.releases.height <= s.body.height, "{a:?}");
                assert!(home_table_rows(w, h, counts) < usize::from(h.max(1)));
            }
        }
    }

    #[test]
    fn tiny_terminals_never_underflow() {
        for (w, h) in [(0, 0), (1, 1), (10, 2), (30, 3), (30, 8)] {
            let s = screen(Area::new(0, 0, w, h));
            assert_eq!(s.header.height + s.body.height + s.footer.height, h);
            let _ = home_table_rows(
                w,
                h,
                PanelCounts {
                    releases: 9,
                    slos: 9,
                    failures: 9,
                    failure_lines: 9,
                },
            );
        }
    }
}
