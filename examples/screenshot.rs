//! Renders the real UI over the demo fleet into SVG screenshots for the README:
//! `cargo run --example screenshot` writes assets/screenshot-80x24.svg and -200x50.svg.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::fmt::Write as _;

use jiff::{SignedDuration, Timestamp};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::buffer::Buffer;
use ratatui::style::{Color, Modifier};

use shipdeck::core::slo_eval;
use shipdeck::core::state::Settings;
use shipdeck::core::{self, Msg, State};
use shipdeck::source::demo::Fleet;
use shipdeck::ui::{self, theme::Theme};

fn hex(c: Color, fallback: &str) -> String {
    match c {
        Color::Reset => fallback.to_string(),
        Color::Black => "#1d1f21".into(),
        Color::Red => "#cc342b".into(),
        Color::Green => "#198844".into(),
        Color::Yellow => "#c9a30a".into(),
        Color::Blue => "#3971ed".into(),
        Color::Magenta => "#a36ac7".into(),
        Color::Cyan => "#3a9fb3".into(),
        Color::Gray => "#b4b7b4".into(),
        Color::DarkGray => "#6b6e6c".into(),
        Color::LightRed => "#ff6c60".into(),
        Color::LightGreen => "#a8ff60".into(),
        Color::LightYellow => "#ffffb6".into(),
        Color::LightBlue => "#96cbfe".into(),
        Color::LightMagenta => "#ff73fd".into(),
        Color::LightCyan => "#c6c5fe".into(),
        Color::White => "#f0f0f0".into(),
        Color::Rgb(r, g, b) => format!("#{r:02x}{g:02x}{b:02x}"),
        Color::Indexed(i) => format!("#{0:02x}{0:02x}{0:02x}", i),
    }
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

fn svg(buf: &Buffer) -> String {
    let (cw, ch) = (8.4, 17.0);
    let area = buf.area;
    let (w, h) = (area.width as f64 * cw, area.height as f64 * ch);
    let mut out = String::new();
    let _ = write!(
        out,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{w}\" height=\"{h}\" font-family=\"DejaVu Sans Mono, Menlo, monospace\" font-size=\"14\">\n<rect width=\"100%\" height=\"100%\" fill=\"#1d1f21\"/>\n"
    );
    for y in 0..area.height {
        for x in 0..area.width {
            let cell = &buf[(x, y)];
            let mut fg = hex(cell.fg, "#d8d8d8");
            let mut bg = hex(cell.bg, "#1d1f21");
            if cell.modifier.contains(Modifier::REVERSED) {
                std::mem::swap(&mut fg, &mut bg);
            }
            let (px, py) = (x as f64 * cw, y as f64 * ch);
            if bg != "#1d1f21" {
                let _ = writeln!(
                    out,
                    "<rect x=\"{px:.1}\" y=\"{py:.1}\" width=\"{cw}\" height=\"{ch}\" fill=\"{bg}\"/>"
                );
            }
            let sym = cell.symbol();
            if !sym.trim().is_empty() {
                let weight = if cell.modifier.contains(Modifier::BOLD) {
                    " font-weight=\"bold\""
                } else {
                    ""
                };
                let _ = writeln!(
                    out,
                    "<text x=\"{px:.1}\" y=\"{:.1}\" fill=\"{fg}\"{weight}>{}</text>",
                    py + ch * 0.78,
                    esc(sym)
                );
            }
        }
    }
    out.push_str("</svg>\n");
    out
}

fn main() {
    // A fixed moment, so the screenshot is reproducible.
    let start = Timestamp::from_second(1_795_000_000).unwrap();
    let mut fleet = Fleet::new(1, start);
    let settings = Settings {
        source_label: "DEMO".into(),
        ..Settings::default()
    };
    let slos = fleet
        .slo_specs()
        .into_iter()
        .map(slo_eval::initial)
        .collect();
    let mut state = State::new(start, settings, fleet.clusters(), slos);
    for m in fleet.initial() {
        core::update(&mut state, m);
    }
    // Let the fleet run for two minutes so canaries move and failures arrive.
    for s in 1..=120 {
        let now = start + SignedDuration::from_secs(s);
        for m in fleet.advance(now) {
            core::update(&mut state, m);
        }
        core::update(&mut state, Msg::Tick(now));
    }
    let theme = Theme::load("default").unwrap();
    for (w, h) in [(80u16, 24u16), (200, 50)] {
        core::update(
            &mut state,
            Msg::Resize {
                width: w,
                height: h,
            },
        );
        core::settle(&mut state);
        let mut term = Terminal::new(TestBackend::new(w, h)).unwrap();
        term.draw(|f| ui::render(f, &state, &theme)).unwrap();
        let path = format!("assets/screenshot-{w}x{h}.svg");
        std::fs::write(&path, svg(term.backend().buffer())).unwrap();
        println!("wrote {path}");
    }
}
