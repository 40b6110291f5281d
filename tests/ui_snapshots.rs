//! UI tests: whole screens rendered into ratatui's TestBackend and compared as text
//! snapshots (tests/snapshots/), plus exact style checks where colour carries meaning,
//! NO_COLOR, hostile strings (S1) and windowed rendering (P5).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod ui_fixture;

use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::buffer::Buffer;
use ratatui::style::{Color, Modifier};
use shipdeck::core::Key;
use shipdeck::core::State;
use shipdeck::core::audit::AuditFile;
use shipdeck::core::state::ModalFocus;
use shipdeck::ui::{Theme, render};
use ui_fixture::{fleet, keys, select, type_text};

fn draw(state: &State, theme: &Theme) -> Buffer {
    let (w, h) = (state.view.width, state.view.height);
    let mut terminal = Terminal::new(TestBackend::new(w, h)).unwrap();
    terminal.draw(|f| render(f, state, theme)).unwrap();
    terminal.backend().buffer().clone()
}

/// The buffer as text, one line per row, trailing spaces trimmed.
fn text(buf: &Buffer) -> String {
    let mut out = String::new();
    for y in 0..buf.area.height {
        let mut line = String::new();
        for x in 0..buf.area.width {
            line.push_str(buf[(x, y)].symbol());
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

fn screen(state: &State) -> String {
    let (w, h) = (state.view.width, state.view.height);
    let shot = shipdeck::ui::screenshot(state, &Theme::default(), w, h);
    assert_eq!(shot, text(&draw(state, &Theme::default())));
    shot
}

/// (x, y) of the first occurrence of `needle` on screen.
fn find(buf: &Buffer, needle: &str) -> Option<(u16, u16)> {
    find_all(buf, needle).into_iter().next()
}

fn find_all(buf: &Buffer, needle: &str) -> Vec<(u16, u16)> {
    let mut hits = Vec::new();
    for y in 0..buf.area.height {
        // Map each cell to its x so wide characters do not shift positions.
        let mut line = String::new();
        let mut xs = Vec::new();
        for x in 0..buf.area.width {
            let sym = buf[(x, y)].symbol();
            for _ in sym.chars() {
                xs.push(x);
            }
            line.push_str(sym);
        }
        let chars: Vec<char> = line.chars().collect();
        let n: Vec<char> = needle.chars().collect();
        for i in 0..chars.len().saturating_sub(n.len() - 1) {
            if chars[i..i + n.len()] == n[..] {
                hits.push((xs[i], y));
            }
        }
    }
    hits
}

const SIZES: [(u16, u16); 2] = [(80, 24), (200, 50)];

#[test]
fn home() {
    for (w, h) in SIZES {
        let state = fleet(w, h);
        insta::assert_snapshot!(format!("home_{w}x{h}"), screen(&state));
    }
    let state = fleet(250, 70);
    insta::assert_snapshot!("home_250x70", screen(&state));
}

#[test]
fn home_at_80x24_shows_all_three_panels() {
    let state = fleet(80, 24);
    let s = screen(&state);
    assert!(s.contains("Releases"), "{s}");
    assert!(s.contains("SLOs"), "{s}");
    assert!(s.contains("Failures"), "{s}");
    assert!(s.contains("checkout-ava"), "{s}");
    assert!(s.contains("CrashLoopBack"), "{s}");
    assert!(
        s.contains("LIVE") && s.contains("08:16 UTC") && s.contains("DEMO"),
        "{s}"
    );
}

#[test]
fn detail() {
    for (w, h) in SIZES {
        let mut state = fleet(w, h);
        select(&mut state, "checkout");
        keys(&mut state, &[Key::Enter]);
        insta::assert_snapshot!(format!("detail_checkout_{w}x{h}"), screen(&state));
    }
    // A Deployment (no steps; Flagger/Argo-only actions explained) and a Flagger canary.
    for name in ["ledger", "frontend"] {
        let mut state = fleet(80, 24);
        select(&mut state, name);
        keys(&mut state, &[Key::Enter]);
        insta::assert_snapshot!(format!("detail_{name}_80x24"), screen(&state));
    }
    // The canary with both revisions: the target's (under test) and the primary's.
    let mut state = fleet(250, 70);
    select(&mut state, "frontend");
    keys(&mut state, &[Key::Enter]);
    insta::assert_snapshot!("detail_frontend_250x70", screen(&state));
}

#[test]
fn detail_shows_countdown_and_reasons() {
    let mut state = fleet(120, 40);
    select(&mut state, "cart");
    keys(&mut state, &[Key::Enter]);
    let s = screen(&state);
    assert!(s.contains("▶  3 pause 1m (42s left)"), "{s}");
    // Read-only cluster: every action disabled with the reason.
    let mut state = fleet(120, 40);
    select(&mut state, "frontend");
    keys(&mut state, &[Key::Enter]);
    let s = screen(&state);
    assert!(s.contains("disabled: read-only"), "{s}");
    // The promote gate is explained before the modal opens.
    let mut state = fleet(120, 40);
    select(&mut state, "checkout");
    keys(&mut state, &[Key::Enter]);
    let s = screen(&state);
    assert!(s.contains("error budget gate: burn 14.8x over 1h"), "{s}");
    assert!(s.contains("disabled: already paused"), "{s}");
}

#[test]
fn modal_promote() {
    for (w, h) in SIZES {
        let mut state = fleet(w, h);
        select(&mut state, "cart");
        keys(&mut state, &[Key::Char('p')]);
        let m = state.view.modal.as_ref().expect("modal opens");
        assert_eq!(m.focus, ModalFocus::Cancel);
        assert!(m.must_type.is_none());
        insta::assert_snapshot!(format!("modal_promote_{w}x{h}"), screen(&state));
    }
}

#[test]
fn modal_prod_abort_needs_the_name() {
    for (w, h) in SIZES {
        let mut state = fleet(w, h);
        select(&mut state, "checkout");
        keys(&mut state, &[Key::Char('a')]);
        type_text(&mut state, "chec");
        // Confirm too early: refused, and the refusal is shown.
        keys(&mut state, &[Key::Tab, Key::Enter]);
        let m = state.view.modal.as_ref().expect("still open");
        assert!(m.refusal.is_some());
        insta::assert_snapshot!(format!("modal_abort_prod_{w}x{h}"), screen(&state));
    }
}

#[test]
fn modal_gate() {
    let mut state = fleet(80, 24);
    select(&mut state, "checkout");
    keys(&mut state, &[Key::Char('p')]);
    let s = screen(&state);
    assert!(s.contains("burn 14.8x over 1h — type the service"), "{s}");
    assert!(s.contains("type 'checkout' to confirm"), "{s}");
    assert!(s.contains("Tab focus Confirm"), "{s}");
    insta::assert_snapshot!("modal_gate_80x24", s);
}

#[test]
fn modal_gate_unknown() {
    // Prometheus stops answering for checkout's SLO: the gate cannot be evaluated.
    let mut state = fleet(80, 24);
    let at = state.now - jiff::SignedDuration::from_mins(5);
    shipdeck::core::update(
        &mut state,
        shipdeck::core::Msg::SloUnavailable {
            slo: "checkout-availability".into(),
            at,
            error: shipdeck::core::text::Untrusted::new("prometheus: connection refused"),
        },
    );
    select(&mut state, "checkout");
    keys(&mut state, &[Key::Char('p')]);
    let m = state.view.modal.as_ref().expect("modal opens");
    assert!(m.gate.is_none());
    assert_eq!(
        m.must_type.as_deref(),
        Some("checkout"),
        "prod: service name"
    );
    let s = screen(&state);
    assert!(
        s.contains("SLO unknown since 08:11 — gate not evaluated"),
        "{s}"
    );
    assert!(s.contains("type 'checkout' to confirm"), "{s}");
    insta::assert_snapshot!("modal_gate_unknown_80x24", s);
}

#[test]
fn help() {
    for (w, h) in SIZES {
        let mut state = fleet(w, h);
        keys(&mut state, &[Key::Char('?')]);
        insta::assert_snapshot!(format!("help_{w}x{h}"), screen(&state));
    }
    let mut state = fleet(80, 24);
    keys(&mut state, &[Key::Char('?')]);
    assert!(screen(&state).contains("promote / resume"));
}

/// This session's records, each intent above its result, and the file they go to; `a`
/// shows every session's.
#[test]
fn audit() {
    for (w, h) in SIZES {
        let mut state = fleet(w, h);
        state.audit_file =
            AuditFile::Writing("/home/oncall/.local/share/shipdeck/audit.jsonl".into());
        keys(&mut state, &[Key::Char('L')]);
        let own = screen(&state);
        insta::assert_snapshot!(format!("audit_{w}x{h}"), own);
        assert!(
            !own.contains("shop/checkout"),
            "another session's record:\n{own}"
        );
        keys(&mut state, &[Key::Char('a')]);
        let all = screen(&state);
        insta::assert_snapshot!(format!("audit_all_{w}x{h}"), all);
        assert!(all.contains("shop/checkout"), "{all}");
        keys(&mut state, &[Key::Char('a')]);
        assert_eq!(screen(&state), own, "a again: this session's");
    }
}

/// A read-only session without a writable audit path says so in the header and on the
/// audit screen.
#[test]
fn audit_unwritable_in_a_read_only_session() {
    let mut state = fleet(80, 24);
    state.settings.read_only = true;
    state.audit_file = AuditFile::Off {
        reason: "not writable (Read-only file system); read-only session, nothing to record".into(),
        warn: true,
    };
    let home = screen(&state);
    assert!(
        home.lines()
            .next()
            .is_some_and(|l| l.contains("NO AUDIT LOG")),
        "{home}"
    );
    keys(&mut state, &[Key::Char('L')]);
    insta::assert_snapshot!("audit_unwritable_80x24", screen(&state));
}

#[test]
fn clusters_and_filter() {
    let mut state = fleet(80, 24);
    keys(&mut state, &[Key::Char('c'), Key::Down, Key::Char(' ')]);
    insta::assert_snapshot!("clusters_80x24", screen(&state));

    let mut state = fleet(80, 24);
    keys(&mut state, &[Key::Char('/')]);
    type_text(&mut state, "check");
    let s = screen(&state);
    assert!(s.contains("filter /check"), "{s}");
    insta::assert_snapshot!("filter_80x24", s);
}

#[test]
fn degraded_phase_and_page_alert_use_their_roles() {
    let theme = Theme::default();
    let mut state = fleet(200, 50);
    // Move the selection off the degraded rows so their own style shows.
    keys(&mut state, &[Key::Char('G')]);
    let buf = draw(&state, &theme);
    let hits = find_all(&buf, "Degraded");
    assert!(hits.len() >= 2, "{}", text(&buf));
    for (x, y) in hits {
        assert_eq!(buf[(x, y)].fg, theme.phase_degraded.fg.unwrap());
        assert!(buf[(x, y)].modifier.contains(Modifier::BOLD));
    }
    let (x, y) = find(&buf, "PAGE").expect("page alert shown");
    assert_eq!(buf[(x, y)].bg, theme.burn_page.bg.unwrap());
    let (x, y) = find(&buf, "TICKET").expect("ticket alert shown");
    assert_eq!(buf[(x, y)].fg, theme.burn_ticket.fg.unwrap());
    let (x, y) = find(&buf, "unknown since 08:07").expect("unknown since HH:MM");
    assert_eq!(buf[(x, y)].fg, theme.burn_unknown.fg.unwrap());
    // PROD banner: selecting a prod release colours the header and says PROD.
    select(&mut state, "checkout");
    let buf = draw(&state, &theme);
    let (x, y) = find(&buf, "PROD prod-eu-1").expect("prod banner");
    assert_eq!(y, 0);
    assert_eq!(buf[(x, y)].bg, theme.prod_banner.bg.unwrap());
}

#[test]
fn no_color_sets_no_colours_anywhere() {
    let theme = Theme::no_color();
    for (w, h) in [(80, 24), (200, 50)] {
        let mut state = fleet(w, h);
        let mut screens = vec![draw(&state, &theme)];
        select(&mut state, "checkout");
        keys(&mut state, &[Key::Enter]);
        screens.push(draw(&state, &theme));
        keys(&mut state, &[Key::Char('a')]);
        screens.push(draw(&state, &theme));
        keys(&mut state, &[Key::Esc, Key::Esc, Key::Char('?')]);
        screens.push(draw(&state, &theme));
        for buf in &screens {
            for cell in buf.content() {
                assert_eq!(cell.fg, Color::Reset, "{}", text(buf));
                assert_eq!(cell.bg, Color::Reset, "{}", text(buf));
            }
        }
        // Meaning survives as attributes: the selected row is reversed.
        let home = &screens[0];
        assert!(
            home.content()
                .iter()
                .any(|c| c.modifier.contains(Modifier::REVERSED))
        );
    }
}

#[test]
fn hostile_strings_are_escaped_and_rows_stay_aligned() {
    let state = fleet(250, 70);
    let buf = draw(&state, &Theme::default());
    let s = text(&buf);
    // Nothing raw reaches the terminal.
    for cell in buf.content() {
        assert!(
            !cell
                .symbol()
                .chars()
                .any(|c| c.is_control() || c == '\u{202e}'),
            "{s}"
        );
    }
    // Visibly escaped.
    assert!(
        s.contains(r"\x1b]0;pwned\x07 aborted \u{202e}gnp.exe"),
        "{s}"
    );
    // The hostile row's columns sit under their headers like every other row.
    let (_, hostile_y) = find(&buf, r"\x1b]0;pwned").unwrap();
    let (phase_x, header_y) = find(&buf, "PHASE").unwrap();
    let (age_x, _) = find(&buf, "AGE").unwrap();
    let (msg_x, _) = find(&buf, "MESSAGE").unwrap();
    assert!(hostile_y > header_y);
    assert_eq!(find(&buf, "Degraded").map(|(x, _)| x), Some(phase_x));
    let row: String = (0..buf.area.width)
        .map(|x| buf[(x, hostile_y)].symbol())
        .collect();
    assert!(row[..].contains("staging"));
    assert_eq!(buf[(phase_x, hostile_y)].symbol(), "D", "{row}");
    // AGE is right-aligned in 4 columns ending just before MESSAGE.
    assert_eq!(buf[(msg_x - 2, hostile_y)].symbol(), "m", "{row}");
    assert!(age_x < msg_x);
    assert_eq!(buf[(msg_x, hostile_y)].symbol(), "\\", "{row}");

    // Text from the API server in the audit log and from events in the detail screen.
    let mut state = fleet(250, 70);
    keys(&mut state, &[Key::Char('L')]);
    let s = text(&draw(&state, &Theme::default()));
    assert!(s.contains(r"forbidden (403): \x1b[31mdenied\x1b[0m"), "{s}");
    let mut state = fleet(250, 70);
    select(&mut state, "api");
    keys(&mut state, &[Key::Enter]);
    let s = text(&draw(&state, &Theme::default()));
    assert!(
        s.contains(r"\x1b]0;pwned\x07 aborted \u{202e}gnp.exe"),
        "{s}"
    );
    assert!(s.contains("error-rate Failed ok 1 · failed 3"), "{s}");
    insta::assert_snapshot!("detail_api_250x70", s);
}

#[test]
fn render_builds_only_the_visible_window() {
    let mut state = ui_fixture::big_fleet(10_000, 250, 70);
    assert_eq!(state.view.order.len(), 10_000);
    // Jump near the end: the selection must be on screen whatever our table height.
    keys(&mut state, &[Key::Char('G')]);
    let buf = draw(&state, &Theme::default());
    let s = text(&buf);
    assert!(s.contains("search/svc-09999"), "{s}");
    assert!(!s.contains("search/svc-00000"), "{s}");
    // Rows shown are a contiguous window of `order` ending at the selection.
    let shown = find_all(&buf, "svc-").len();
    assert!(shown > 20 && shown < 70, "{shown}");
}

#[test]
fn odd_sizes_and_every_theme_render_without_panicking() {
    let themes: Vec<Theme> = Theme::names()
        .into_iter()
        .map(|n| Theme::load(n).unwrap())
        .chain([Theme::no_color()])
        .collect();
    for (w, h) in [(1, 1), (10, 3), (20, 5), (40, 10), (79, 23), (300, 100)] {
        let mut state = fleet(w, h);
        select(&mut state, "checkout");
        for k in [None, Some(Key::Enter), Some(Key::Char('a')), Some(Key::Esc)] {
            if let Some(k) = k {
                keys(&mut state, &[k]);
            }
            for theme in &themes {
                let buf = draw(&state, theme);
                assert_eq!(buf.area.width, w);
            }
        }
        for screen in [
            Key::Char('?'),
            Key::Esc,
            Key::Char('L'),
            Key::Esc,
            Key::Char('c'),
        ] {
            keys(&mut state, &[screen]);
            draw(&state, &themes[0]);
        }
    }
}

#[test]
fn many_clusters_keep_the_troubled_ones_in_the_header() {
    use shipdeck::core::model::{Cluster, Connection};
    use shipdeck::core::text::Untrusted;
    let mut clusters: Vec<Cluster> = (0..14)
        .map(|i| {
            let mut c = Cluster::new(format!("prod-region-{i:02}"));
            c.connection = Connection::Connected;
            c
        })
        .collect();
    clusters[13].connection = Connection::Unreachable {
        reason: Untrusted::new("timeout"),
    };
    let mut state = State::new(
        ui_fixture::now(),
        shipdeck::core::state::Settings::default(),
        clusters,
        Vec::new(),
    );
    shipdeck::core::update(
        &mut state,
        shipdeck::core::Msg::Resize {
            width: 80,
            height: 24,
        },
    );
    shipdeck::core::settle(&mut state);
    let s = screen(&state);
    let chips = s.lines().nth(1).unwrap();
    assert!(chips.starts_with(" prod…n-13 down"), "{chips}");
    assert!(chips.contains("more (c)"), "{chips}");
    assert!(chips.chars().count() <= 80, "{chips}");
}

#[test]
fn a_confirmed_action_shows_as_pending() {
    let mut state = fleet(120, 30);
    select(&mut state, "cart");
    keys(&mut state, &[Key::Char('p'), Key::Char('y')]);
    assert!(state.view.modal.is_none());
    let s = screen(&state);
    assert!(s.contains("1 action awaiting answer"), "{s}");
    assert!(s.contains("promote sent… · Cana"), "{s}");
    // The notice from the core is in the footer.
    assert!(s.contains("promote cart: sent"), "{s}");
}
