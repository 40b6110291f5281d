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
mod logs;
mod marks;
mod message;
mod modal;
mod pods;
mod releases;
mod revisions;
mod slo;
pub mod theme;
mod yaml;

use ratatui::Frame;
use ratatui::layout::Rect;
use unicode_width::UnicodeWidthStr;

use crate::core::layout::{self, Area};
use crate::core::state::{Screen, State};

pub use theme::{Theme, ThemeError};

/// The smallest terminal the console draws into: the home screen's three panels and the
/// confirmation modal's typed field, changes and buttons need 40x12. Below it one line
/// says so instead of clipping a modal or the panels.
pub const MIN_WIDTH: u16 = 40;
pub const MIN_HEIGHT: u16 = 12;

/// Draw the whole console for `state` into `frame`.
pub fn render(frame: &mut Frame, state: &State, theme: &Theme) {
    let area = frame.area();
    if area.width == 0 || area.height == 0 {
        return;
    }
    if area.width < MIN_WIDTH || area.height < MIN_HEIGHT {
        too_small(frame, area, theme);
        return;
    }
    let screen = layout::screen(self::area(area));
    let (header_area, body, footer_area) =
        (rect(screen.header), rect(screen.body), rect(screen.footer));
    header::render(frame, header_area, state, theme);
    match state.view.screen {
        Screen::Home => home(frame, body, state, theme),
        Screen::Detail => detail::render(frame, body, state, theme),
        Screen::Audit => audit::render(frame, body, state, theme),
        Screen::Help => help::render(frame, body, state, theme),
        Screen::Clusters => clusters::render(frame, body, state, theme),
        Screen::Pods => pods::render(frame, body, state, theme),
        Screen::Logs => logs::render(frame, body, state, theme),
        Screen::Revisions => revisions::render(frame, body, state, theme),
        Screen::Yaml => yaml::render(frame, body, state, theme),
        Screen::Message => message::render(frame, body, state, theme),
    }
    footer::render(frame, footer_area, state, theme);
    if let Some(m) = &state.view.modal {
        modal::render(frame, area, state, m, theme);
    }
}

/// One centred line, fitted to the width: "terminal too small (needs 40x12)", shorter
/// words on narrower terminals so the size needed stays readable.
fn too_small(frame: &mut Frame, area: Rect, theme: &Theme) {
    let width = usize::from(area.width);
    let needs = format!("{MIN_WIDTH}x{MIN_HEIGHT}");
    let said = [
        format!("terminal too small (needs {needs})"),
        format!("too small (needs {needs})"),
        format!("needs {needs}"),
    ]
    .into_iter()
    .find(|s| s.width() <= width)
    .unwrap_or_else(|| fmt::fit(&needs, width).into_owned());
    let w = u16::try_from(said.width())
        .unwrap_or(area.width)
        .min(area.width);
    let line = Rect {
        x: area.x + (area.width - w) / 2,
        y: area.y + area.height / 2,
        width: w,
        height: 1,
    };
    frame.render_widget(
        ratatui::widgets::Paragraph::new(said).style(theme.notice_warn),
        line,
    );
}

fn home(frame: &mut Frame, body: Rect, state: &State, theme: &Theme) {
    let areas = layout::home(area(body), state.panel_counts());
    releases::render(frame, rect(areas.releases), state, theme);
    slo::render(frame, rect(areas.slos), state, theme);
    failures::render(frame, rect(areas.failures), state, theme);
}

fn rect(a: Area) -> Rect {
    Rect::new(a.x, a.y, a.width, a.height)
}

fn area(r: Rect) -> Area {
    Area::new(r.x, r.y, r.width, r.height)
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::facts::ObjectFacts;
    use crate::core::model::Cluster;
    use crate::core::msg::{Key, Msg};
    use crate::core::state::Settings;
    use crate::core::testkit::{FleetBuilder, deployment, t};

    /// The core pages with the same layout the UI draws: after moving down past the first
    /// page, the first row on screen is the row the core's offset names, at every size.
    #[test]
    fn the_first_row_drawn_is_the_cores_offset() {
        for (w, h) in [(80, 24), (120, 40), (250, 70)] {
            let mut f =
                FleetBuilder::new(t(0), Settings::default(), vec![Cluster::new("c")], vec![]);
            for i in 0..120 {
                let mut d = deployment("ns", &format!("web-{i:03}"), false);
                d.updated_replicas = 1; // in flight, so every one is listed
                f.upsert("c", ObjectFacts::Deployment(d));
            }
            let mut s = f.settled();
            crate::core::update(
                &mut s,
                Msg::Resize {
                    width: w,
                    height: h,
                },
            );
            let page = s.page_rows();
            for _ in 0..page + 3 {
                crate::core::update(&mut s, Msg::Key(Key::Down));
            }
            crate::core::settle(&mut s);
            let v = &s.view;
            assert!(v.offset > 0, "{w}x{h}: scrolled");
            assert_eq!(
                v.selected,
                v.offset + page - 1,
                "{w}x{h}: selection on the last row"
            );
            let first = &v.order[v.offset].name;
            let last = &v.order[v.offset + page - 1].name;
            let text = screenshot(&s, &Theme::no_color(), w, h);
            let lines: Vec<&str> = text.lines().collect();
            // Header (2 lines), the panel title, the column header, then the rows.
            assert!(lines[4].contains(first.as_str()), "{w}x{h}: {:?}", lines[4]);
            assert!(
                lines[3 + page].contains(last.as_str()),
                "{w}x{h}: {:?}",
                lines[3 + page]
            );
            assert!(
                !lines[4 + page].contains("web-"),
                "{w}x{h}: one page exactly"
            );
        }
    }
}
