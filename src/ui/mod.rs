//! Rendering: a pure function of `&State` and a `Theme`. No IO, no clock (time is
//! `state.now`), no mutation. Only what is visible is built: the releases table makes rows
//! for its visible window only, so a frame costs the same at 100 or 100k releases.
//!
//! One file per panel or screen; this module owns the screen layout.

mod action_bar;
mod audit;
mod clusters;
mod detail;
mod failures;
mod fmt;
mod footer;
mod grid;
mod header;
mod help;
mod modal;
mod releases;
mod slo;
pub mod theme;

use ratatui::Frame;
use ratatui::layout::Rect;

use crate::core::state::{Screen, State};

pub use theme::{Theme, ThemeError};

/// Draw the whole console for `state` into `frame`.
pub fn render(frame: &mut Frame, state: &State, theme: &Theme) {
    let area = frame.area();
    if area.width == 0 || area.height == 0 {
        return;
    }
    let screen = layout(area);
    header::render(frame, screen.header, state, theme);
    match state.view.screen {
        Screen::Home => home(frame, screen.body, state, theme),
        Screen::Detail => detail::render(frame, screen.body, state, theme),
        Screen::Audit => audit::render(frame, screen.body, state, theme),
        Screen::Help => help::render(frame, screen.body, state, theme),
        Screen::Clusters => clusters::render(frame, screen.body, state, theme),
    }
    footer::render(frame, screen.footer, state, theme);
    if let Some(m) = &state.view.modal {
        modal::render(frame, area, state, m, theme);
    }
}

/// The three horizontal bands every screen shares.
struct ScreenAreas {
    header: Rect,
    body: Rect,
    footer: Rect,
}

fn layout(area: Rect) -> ScreenAreas {
    // Two header lines (mode/clock, cluster chips); one footer line. Tiny terminals keep
    // the chips line first and give up the rest.
    let header_h = header::HEIGHT.min(area.height);
    let footer_h = u16::from(area.height > header_h);
    let (header, rest) = split_top(area, header_h);
    let (body, footer) = split_bottom(rest, footer_h);
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
}

/// The home screen's panels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HomeAreas {
    pub releases: Rect,
    pub slos: Rect,
    pub failures: Rect,
}

/// Wide terminals put SLOs and failures side by side under a tall table; narrow ones stack
/// all three so that at 80x24 every panel shows at least a few rows.
pub fn home_layout(body: Rect, counts: PanelCounts) -> HomeAreas {
    let wide = body.width >= 160 && body.height >= 30;
    // Rows the table does not need (few releases) go to the panels below, up to what
    // they can show.
    let table_need = (counts.releases as u16).saturating_add(2).max(6);
    let spare = body.height.saturating_sub(table_need);
    if wide {
        let want = (counts.slos.max(counts.failures) as u16).saturating_add(1);
        let bottom = want.max(6).min((body.height * 2 / 5).max(spare.min(want)));
        let (releases, lower) = split_bottom(body, bottom);
        let left_w = lower.width / 2;
        let slos = Rect {
            width: left_w.saturating_sub(1),
            ..lower
        };
        let failures = Rect {
            x: lower.x + left_w + 1,
            width: lower.width - left_w - 1,
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
        body.height * 2 / 5
    } else {
        body.height / 2
    };
    let want = (counts.slos.max(1) + counts.failures.max(1) + 2) as u16;
    let bottom = share.max(spare.min(want)).min(body.height);
    let slo_h = (counts.slos.max(1) as u16 + 1)
        .min(bottom / 2)
        .max(2.min(bottom));
    let fail_h = bottom - slo_h;
    let (releases, lower) = split_bottom(body, bottom);
    let (slos, failures) = split_top(lower, slo_h);
    debug_assert_eq!(failures.height, fail_h);
    HomeAreas {
        releases,
        slos,
        failures,
    }
}

fn home(frame: &mut Frame, body: Rect, state: &State, theme: &Theme) {
    let counts = PanelCounts {
        releases: state.view.order.len(),
        slos: state.slos.len(),
        failures: state.failures.len(),
    };
    let areas = home_layout(body, counts);
    releases::render(frame, areas.releases, state, theme);
    slo::render(frame, areas.slos, state, theme);
    failures::render(frame, areas.failures, state, theme);
}

/// The console as plain text, `width` x `height` (trailing spaces trimmed): for README
/// screenshots, bug reports and tests. Renders exactly what the terminal would show.
pub fn screenshot(state: &State, theme: &Theme, width: u16, height: u16) -> String {
    use ratatui::Terminal;
    use ratatui::backend::TestBackend;
    // TestBackend cannot fail (its error type is Infallible).
    let Ok(mut terminal) = Terminal::new(TestBackend::new(width, height));
    let Ok(_) = terminal.draw(|f| render(f, state, theme));
    let buf = terminal.backend().buffer();
    let mut out = String::new();
    for y in 0..buf.area.height {
        let line: String = (0..buf.area.width).map(|x| buf[(x, y)].symbol()).collect();
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

/// Split off the top `h` rows.
fn split_top(area: Rect, h: u16) -> (Rect, Rect) {
    let h = h.min(area.height);
    (
        Rect { height: h, ..area },
        Rect {
            y: area.y + h,
            height: area.height - h,
            ..area
        },
    )
}

/// Split off the bottom `h` rows.
fn split_bottom(area: Rect, h: u16) -> (Rect, Rect) {
    let h = h.min(area.height);
    (
        Rect {
            height: area.height - h,
            ..area
        },
        Rect {
            y: area.y + area.height - h,
            height: h,
            ..area
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_panel_gets_rows_at_80x24() {
        let body = Rect::new(0, 2, 80, 21);
        let a = home_layout(
            body,
            PanelCounts {
                releases: 500,
                slos: 3,
                failures: 10,
            },
        );
        // Title and column header plus at least eight releases.
        assert!(a.releases.height >= 10, "{a:?}");
        assert!(a.slos.height >= 3, "{a:?}");
        assert!(a.failures.height >= 3, "{a:?}");
        assert_eq!(a.releases.height + a.slos.height + a.failures.height, 21);
    }

    #[test]
    fn wide_terminals_put_slos_beside_failures() {
        let body = Rect::new(0, 2, 250, 67);
        let a = home_layout(
            body,
            PanelCounts {
                releases: 500,
                slos: 4,
                failures: 30,
            },
        );
        assert_eq!(a.slos.y, a.failures.y);
        assert!(a.releases.height >= 40, "{a:?}");
    }

    #[test]
    fn few_releases_leave_room_to_the_panels_below() {
        let body = Rect::new(0, 2, 80, 21);
        let counts = PanelCounts {
            releases: 4,
            slos: 3,
            failures: 10,
        };
        let a = home_layout(body, counts);
        assert_eq!(a.releases.height, 6);
        assert_eq!(a.slos.height, 4);
        assert_eq!(a.failures.height, 11);
    }
}
