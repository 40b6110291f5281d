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
    // The measured values against the conditions, not just counts.
    assert!(
        s.contains("error-rate Failed [0.031] → [0.12] (pass if result[0] < 0.01"),
        "{s}"
    );
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

// discover: the nothing-reachable header and the chooser's reasons, the footers generated
// from the key table for the selection, and help wrapped at 80 columns.

const DISCOVER_SIZES: [(u16, u16); 2] = [(80, 24), (250, 70)];

/// Three clusters that never answered, each with the reason its source gave.
fn unreachable_fleet(width: u16, height: u16) -> State {
    use shipdeck::core::model::{Cluster, Connection};
    use shipdeck::core::state::Settings;
    use shipdeck::core::text::Untrusted;
    use shipdeck::core::{Msg, settle, update};
    let mut eu = Cluster::new("prod-eu-1");
    eu.labels.insert("env".into(), "prod".into());
    let names = ["prod-eu-1", "prod-us-1", "staging"];
    let clusters = vec![eu, Cluster::new(names[1]), Cluster::new(names[2])];
    let mut s = State::new(ui_fixture::now(), Settings::default(), clusters, Vec::new());
    update(&mut s, Msg::Resize { width, height });
    let reasons = [
        "client error (Connect)",
        "no answer within 3 s",
        "error trying to connect: tcp connect error: Connection refused (os error 111)",
    ];
    for (name, reason) in names.into_iter().zip(reasons) {
        let connection = Connection::Unreachable {
            reason: Untrusted::new(reason),
        };
        let cluster = name.into();
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
fn discover_nothing_reachable_header_and_chooser() {
    for (w, h) in DISCOVER_SIZES {
        let mut state = unreachable_fleet(w, h);
        let home = screen(&state);
        let first = home.lines().next().unwrap();
        assert!(first.contains("NO CLUSTER REACHABLE") && !first.contains("LIVE"));
        assert!(!home.contains("nothing in flight"), "{home}");
        insta::assert_snapshot!(format!("discover_unreachable_home_{w}x{h}"), home);
        keys(&mut state, &[Key::Char('c')]);
        let chooser = screen(&state);
        assert!(chooser.contains("client error (Connect)"), "{chooser}");
        insta::assert_snapshot!(format!("discover_unreachable_chooser_{w}x{h}"), chooser);
    }
    // The NO CLUSTER REACHABLE badge takes the alert role.
    let state = unreachable_fleet(80, 24);
    let buf = draw(&state, &Theme::default());
    let (x, y) = find(&buf, "NO CLUSTER REACHABLE").unwrap();
    assert_eq!(buf[(x, y)].bg, Color::Red);
}

/// A partly reachable fleet: the fixture's dr-west is down; its reason is in the chooser
/// (and on the chips where they are wide enough).
#[test]
fn discover_partial_fleet_chooser_with_reasons() {
    for (w, h) in DISCOVER_SIZES {
        let mut state = fleet(w, h);
        let home = screen(&state);
        assert!(home.lines().nth(1).unwrap().contains("dr-west"));
        keys(&mut state, &[Key::Char('c')]);
        let chooser = screen(&state);
        // Fitted to the row: whole at 250 columns, cut with "…" at 80.
        let reason = if w >= 250 {
            "dial tcp 10.0.0.9:6443: connect: connection refused"
        } else {
            "dial tcp 10.0.0.9:6443: connect: connection refus…"
        };
        assert!(
            chooser
                .lines()
                .any(|l| l.contains("dr-west") && l.contains(reason)),
            "{chooser}"
        );
        insta::assert_snapshot!(format!("discover_partial_chooser_{w}x{h}"), chooser);
    }
    let home = screen(&fleet(250, 70));
    assert!(
        home.lines()
            .nth(1)
            .unwrap()
            .contains("dr-west unreachable: dial tcp 10.0.0.9:6443"),
        "{home}"
    );
}

/// The footer lists what the selection can do: a paused Rollout leads with promote; a
/// Deployment's detail footer advertises no promote / full / abort / retry.
#[test]
fn discover_footers_follow_the_selection() {
    for (w, h) in DISCOVER_SIZES {
        let mut state = fleet(w, h);
        select(&mut state, "checkout");
        let home = screen(&state);
        let footer = home.lines().last().unwrap().to_string();
        assert!(footer.trim_start().starts_with("p promote"), "{footer}");
        assert!(footer.trim_end().ends_with("? help"), "{footer}");
        insta::assert_snapshot!(format!("discover_footer_home_checkout_{w}x{h}"), home);

        let mut state = fleet(w, h);
        select(&mut state, "ledger");
        keys(&mut state, &[Key::Enter]);
        let detail = screen(&state);
        let footer = detail.lines().last().unwrap().to_string();
        for gone in ["p promote", "P ", "a abort", "R retry"] {
            assert!(!footer.contains(gone), "{gone:?} in {footer}");
        }
        assert!(
            footer.contains("space pause") && footer.contains("? help"),
            "{footer}"
        );
        // The action bar lists what a Deployment can do; a key for anything else says why.
        assert!(!detail.contains("promote-full"), "{detail}");
        insta::assert_snapshot!(format!("discover_footer_detail_ledger_{w}x{h}"), detail);
        keys(&mut state, &[Key::Char('P')]);
        let after = screen(&state);
        assert!(after.contains("not available for Deployments"), "{after}");
    }
}

/// Help at 80 columns: no line is cut, long texts wrap, and it scrolls to its end.
#[test]
fn discover_help_wraps_and_scrolls_at_80() {
    let mut state = fleet(80, 24);
    keys(&mut state, &[Key::Char('?')]);
    let top = screen(&state);
    assert!(top.contains("more lines"), "{top}");
    insta::assert_snapshot!("discover_help_top_80x24", top);
    keys(&mut state, &[Key::Char('G')]);
    let end = screen(&state);
    assert!(end.contains("PAGE TICKET"), "{end}");
    insta::assert_snapshot!("discover_help_end_80x24", end);
    // One `k` after `G` moves at once (no hidden overscroll).
    keys(
        &mut state,
        &[Key::Char('j'), Key::Char('j'), Key::Char('k')],
    );
    assert_ne!(screen(&state), end);
    let mut state = fleet(250, 70);
    keys(&mut state, &[Key::Char('?')]);
    insta::assert_snapshot!("discover_help_250x70", screen(&state));
}

// panels: the releases panel never hides urgent rows without saying so ("1–11 of 24",
// "↑ 5 more urgent"), and rows waiting on a person carry their own mark (⚑), visible
// without colour.
mod panels {
    use super::*;
    use shipdeck::core::facts::{Condition, DeploymentFacts, ObjectFacts};
    use shipdeck::core::model::Cluster;
    use shipdeck::core::state::Settings;
    use shipdeck::core::testkit::{FleetBuilder, deployment, paused_rollout, prod_cluster, t};
    use shipdeck::core::{Msg, settle, update};

    fn progressing(reason: &str, at: i64) -> Vec<Condition> {
        vec![Condition {
            type_: "Progressing".into(),
            status: if reason == "ProgressDeadlineExceeded" {
                "False".into()
            } else {
                "True".into()
            },
            reason: reason.into(),
            message: "".into(),
            last_transition: Some(t(at)),
        }]
    }

    fn failing(name: &str) -> DeploymentFacts {
        let mut d = deployment("shop", name, false);
        d.conditions = progressing("ProgressDeadlineExceeded", -100);
        d
    }

    fn done(name: &str) -> DeploymentFacts {
        let mut d = deployment("shop", name, false);
        d.updated_replicas = d.replicas;
        d.conditions = progressing("NewReplicaSetAvailable", -60);
        d
    }

    /// 24 releases on a prod and a staging cluster: 3 failing, 3 waiting on a person, 2
    /// timed pauses, 8 progressing, 8 recently done.
    pub fn busy(width: u16, height: u16) -> State {
        let clusters = vec![prod_cluster("prod-eu-1"), Cluster::new("staging")];
        let mut f = FleetBuilder::new(t(0), Settings::default(), clusters, vec![]);
        f.send(Msg::Resize { width, height });
        let (p, s) = ("prod-eu-1", "staging");
        for i in 0..3 {
            f.upsert(p, ObjectFacts::Deployment(failing(&format!("api-{i}"))));
        }
        for i in 0..2 {
            let d = deployment("shop", &format!("held-{i}"), true);
            f.upsert(s, ObjectFacts::Deployment(d));
        }
        f.upsert(p, ObjectFacts::Rollout(paused_rollout("shop", "gate")));
        for i in 0..2 {
            let mut r = paused_rollout("shop", &format!("timer-{i}"));
            r.current_step_index = Some(3);
            f.upsert(s, ObjectFacts::Rollout(r));
        }
        for i in 0..8 {
            let mut d = deployment("shop", &format!("move-{i}"), false);
            d.conditions = progressing("ReplicaSetUpdated", -30);
            f.upsert(s, ObjectFacts::Deployment(d));
        }
        for i in 0..8 {
            f.upsert(s, ObjectFacts::Deployment(done(&format!("zdone-{i}"))));
        }
        f.settled()
    }

    /// The issue's case: row 1 (failing) is undone and turns Healthy; the cursor follows it
    /// to the bottom.
    pub fn after_undo(width: u16, height: u16) -> State {
        let mut state = busy(width, height);
        assert_eq!(state.view.order[0].name, "api-0");
        let mut fixed = done("api-0");
        fixed.meta.resource_version = "8".into();
        update(
            &mut state,
            Msg::Upsert {
                cluster: "prod-eu-1".into(),
                facts: ObjectFacts::Deployment(fixed),
            },
        );
        settle(&mut state);
        state
    }

    #[test]
    fn after_an_undo_the_title_says_what_is_above() {
        for (w, h) in [(80, 24), (250, 70)] {
            let state = after_undo(w, h);
            let s = screen(&state);
            insta::assert_snapshot!(format!("panels_after_undo_{w}x{h}"), s);
            let title = s.lines().nth(2).unwrap();
            let sel = state.view.order[state.view.selected].name.as_str();
            assert_eq!(sel, "api-0", "the view keeps the object");
            if w == 80 {
                // 11 rows fit: 15 (the new place of api-0) is the last one; the five urgent
                // rows are all above.
                assert!(
                    title.contains("Releases 6–16 of 24 ↑ 5 more urgent"),
                    "{title}"
                );
                let rows: Vec<&str> = s.lines().skip(4).take(11).collect();
                assert!(rows[10].contains("api-0"), "{s}");
                assert!(rows.iter().all(|r| !r.starts_with('✗')), "{s}");
            } else {
                // Everything fits: nothing is hidden, nothing is said.
                assert!(title.contains("rows 1–24 of 24"), "{title}");
                assert!(!title.contains('↑'), "{title}");
            }
            assert!(
                shipdeck::core::text::width(title) <= usize::from(w),
                "{title}"
            );
        }
    }

    #[test]
    fn needs_a_human_is_marked_and_sorted_below_failing() {
        for (w, h) in [(80, 24), (250, 70)] {
            let state = busy(w, h);
            let s = screen(&state);
            insta::assert_snapshot!(format!("panels_needs_human_{w}x{h}"), s);
            let rows: Vec<&str> = s.lines().skip(4).take(8).collect();
            for (i, row) in rows.iter().enumerate() {
                let mark = row.chars().next().unwrap();
                let want = match i {
                    0..3 => '✗',
                    3..6 => '⚑',
                    _ => '▲',
                };
                assert_eq!(mark, want, "row {i}: {row}");
            }
            // By key within a level: prod-eu-1's Rollout, then staging's Deployments.
            assert!(
                rows[3].contains("gate") && rows[5].contains("held-1"),
                "{s}"
            );
        }
    }

    #[test]
    fn marks_and_the_hidden_count_show_without_colour() {
        let theme = Theme::no_color();
        let state = after_undo(80, 24);
        let buf = draw(&state, &theme);
        let (x, y) = find(&buf, "↑ 5 more urgent").expect("hidden count");
        assert_eq!(y, 2);
        assert!(buf[(x, y)].modifier.contains(Modifier::BOLD));
        let state = busy(80, 24);
        let buf = draw(&state, &theme);
        let marks = find_all(&buf, "⚑");
        assert_eq!(marks.len(), 3, "{}", text(&buf));
        for (x, y) in marks {
            assert_eq!(x, 0);
            assert_eq!(buf[(x, y)].fg, Color::Reset);
            assert!(buf[(x, y)].modifier.contains(Modifier::BOLD));
        }
    }

    #[test]
    fn failures_and_slo_titles_say_their_place() {
        let state = fleet(80, 24);
        let s = screen(&state);
        let slo = s.lines().find(|l| l.contains("SLOs")).unwrap();
        assert!(slo.ends_with(" 1–3 of 3") && slo.contains("alert"), "{slo}");
        let failures = s.lines().find(|l| l.contains("Failures")).unwrap();
        assert!(failures.ends_with(" 1–6 of 6"), "{failures}");
        assert!(failures.chars().count() <= 80, "{failures}");
        // An empty panel says so in its body, not with "0" in the title.
        let state = busy(80, 24);
        let s = screen(&state);
        let slo = s.lines().find(|l| l.contains("SLOs")).unwrap();
        assert!(slo.ends_with("alert"), "{slo}");
    }
}

// burn: every burn cell is styled by its window's level (core::slo::window_level, from the
// SLO rules' own factors), in the SLO panel, the releases table and the detail screen, in
// every theme; the trend is scaled to its own range and says it.

/// The SLO panel's row for `slo` (its name cut to the column) and the cell of `value` on it.
fn slo_cell(buf: &Buffer, slo: &str, value: &str) -> (u16, u16) {
    let (_, y) = find(buf, slo).unwrap_or_else(|| panic!("{slo} row:\n{}", text(buf)));
    find_all(buf, value)
        .into_iter()
        .find(|(_, vy)| *vy == y)
        .unwrap_or_else(|| panic!("{value} on the {slo} row:\n{}", text(buf)))
}

#[test]
fn burn_levels_colour_the_slo_panel() {
    for (w, h) in [(80, 24), (250, 70)] {
        let state = fleet(w, h);
        insta::assert_snapshot!(format!("burn_{w}x{h}"), screen(&state));
    }
    let theme = Theme::default();
    let state = fleet(250, 70);
    let buf = draw(&state, &theme);
    // checkout: 5m 20.1x and 1h 14.8x pass the 14.4x page factor (red, filled); 30m 12.1x
    // passes the 6x one (orange); 6h 5.2x the 1x ticket one (amber).
    let (x, y) = slo_cell(&buf, "checkout-availability", "20.1x");
    assert_eq!(buf[(x, y)].bg, Color::Red, "one red cell, exactly");
    assert_eq!(buf[(x, y)].fg, Color::White);
    assert!(buf[(x, y)].modifier.contains(Modifier::BOLD));
    let (x, y) = slo_cell(&buf, "checkout-availability", "14.8x");
    assert_eq!(buf[(x, y)].bg, theme.burn_page.bg.unwrap());
    let (x, y) = slo_cell(&buf, "checkout-availability", "12.1x");
    assert_eq!(buf[(x, y)].fg, theme.burn_page_slow.fg.unwrap());
    assert_ne!(buf[(x, y)].bg, theme.burn_page.bg.unwrap());
    let (x, y) = slo_cell(&buf, "checkout-availability", "5.2x");
    assert_eq!(buf[(x, y)].fg, theme.burn_ticket.fg.unwrap());
    // search: 3.6x over 5m is far below its only rule's 14.4x: calm, not amber.
    let (x, y) = slo_cell(&buf, "search-latency", "3.6x");
    assert_eq!(buf[(x, y)].fg, theme.burn_ok.fg.unwrap());
    // The trend says its range: checkout rose from 1.0x to 14.8x.
    let s = text(&buf);
    assert!(s.contains("1.0–15x"), "{s}");
}

#[test]
fn burn_levels_in_every_theme_and_no_color() {
    let themes: Vec<Theme> = Theme::names()
        .into_iter()
        .map(|n| Theme::load(n).unwrap())
        .chain([Theme::no_color()])
        .collect();
    let state = fleet(250, 70);
    for theme in themes {
        let buf = draw(&state, &theme);
        // (fg, bg, attributes) as drawn: what tells the levels apart on a terminal.
        let cell = |v| {
            let (x, y) = slo_cell(&buf, "checkout-availability", v);
            let c = &buf[(x, y)];
            (c.fg, c.bg, c.modifier)
        };
        let role = |s: ratatui::style::Style| {
            (
                s.fg.unwrap_or(Color::Reset),
                s.bg.unwrap_or(Color::Reset),
                s.add_modifier,
            )
        };
        let (page, slow, ticket) = (cell("20.1x"), cell("12.1x"), cell("5.2x"));
        assert_eq!(page, role(theme.burn_page), "{}", theme.name);
        assert_eq!(slow, role(theme.burn_page_slow), "{}", theme.name);
        assert_eq!(ticket, role(theme.burn_ticket), "{}", theme.name);
        assert!(
            page != slow && slow != ticket && page != ticket,
            "{}",
            theme.name
        );
    }
    let mono = Theme::no_color();
    let buf = draw(&state, &mono);
    let (x, y) = slo_cell(&buf, "checkout-availability", "20.1x");
    assert!(buf[(x, y)].modifier.contains(Modifier::REVERSED));
    assert_eq!(buf[(x, y)].bg, Color::Reset);
}

#[test]
fn burn_levels_colour_the_releases_column_and_the_detail_screen() {
    let theme = Theme::default();
    let mut state = fleet(250, 70);
    // Move the selection off the rows checked so their own style shows.
    keys(&mut state, &[Key::Char('G')]);
    let buf = draw(&state, &theme);
    // The releases table's SLO column: checkout's 1h 14.8x pages (red).
    let (_, y) = find(&buf, "shop/checkout").expect("checkout row");
    let (x, y) = find_all(&buf, "14.8x")
        .into_iter()
        .find(|(_, vy)| *vy == y)
        .expect("checkout's burn in the releases table");
    assert_eq!(buf[(x, y)].bg, theme.burn_page.bg.unwrap());

    select(&mut state, "checkout");
    keys(&mut state, &[Key::Enter]);
    let buf = draw(&state, &theme);
    insta::assert_snapshot!("burn_detail_250x70", text(&buf));
    let (x, y) = find(&buf, "5m 20.1x").expect("detail burn");
    let value = x + "5m ".chars().count() as u16;
    assert_eq!(buf[(value, y)].bg, theme.burn_page.bg.unwrap());
    let (x, y) = find(&buf, "30m 12.1x").expect("detail burn");
    let value = x + "30m ".chars().count() as u16;
    assert_eq!(buf[(value, y)].fg, theme.burn_page_slow.fg.unwrap());
    // The window's name stays plain: only the value carries the level.
    assert_ne!(buf[(x, y)].bg, theme.burn_page.bg.unwrap());
}

// confirm: the confirmation modal under stress (issue 13 items 1, 5, 9) — a typed name
// that matches puts and shows focus on Confirm, a cancel says nothing was sent, the open
// modal says what changed on its object, and a terminal below 40x12 says it is too small.

const CONFIRM_SIZES: [(u16, u16); 2] = [(80, 24), (250, 70)];

/// The fleet with a checkout on a second prod cluster too: the name is ambiguous.
fn fleet_with_two_checkouts(w: u16, h: u16) -> State {
    let mut state = fleet(w, h);
    let mut other = ui_fixture::checkout_rollout();
    other.meta.uid = "uid-us-checkout".into();
    shipdeck::core::update(
        &mut state,
        shipdeck::core::Msg::Upsert {
            cluster: "prod-us-1".into(),
            facts: shipdeck::core::facts::ObjectFacts::Rollout(other),
        },
    );
    shipdeck::core::settle(&mut state);
    state
}

/// Select `cluster`'s `name` with the cursor keys.
fn select_on(state: &mut State, cluster: &str, name: &str) {
    let i = state
        .view
        .order
        .iter()
        .position(|k| k.name == name && k.cluster == cluster)
        .unwrap();
    keys(state, &[Key::Char('g')]);
    for _ in 0..i {
        keys(state, &[Key::Down]);
    }
    let r = state.selected_release().unwrap();
    assert_eq!(
        (r.key.cluster.as_str(), r.key.name.as_str()),
        (cluster, name)
    );
}

#[test]
fn confirm_typed_name_matched_focuses_confirm() {
    for (w, h) in CONFIRM_SIZES {
        let mut state = fleet_with_two_checkouts(w, h);
        select_on(&mut state, "prod-eu-1", "checkout");
        keys(&mut state, &[Key::Char('a')]);
        let m = state.view.modal.as_ref().unwrap();
        assert_eq!(m.must_type.as_deref(), Some("prod-eu-1/checkout"));
        type_text(&mut state, "prod-eu-1/checkout");
        let m = state.view.modal.as_ref().unwrap();
        assert_eq!(m.focus, ModalFocus::Confirm);
        let s = screen(&state);
        assert!(s.contains("type 'prod-eu-1/checkout' to confirm"), "{s}");
        assert!(s.contains("[prod-eu-1/checkout") && s.contains("✓"), "{s}");
        assert!(s.contains("▸[ Confirm ]◂"), "focus shown:\n{s}");
        assert!(!s.contains("▸[ Cancel ]◂"), "{s}");
        insta::assert_snapshot!(format!("confirm_focused_{w}x{h}"), s);
    }
}

#[test]
fn confirm_enter_before_the_name_matches_says_what_is_missing() {
    let mut state = fleet(80, 24);
    select(&mut state, "checkout");
    keys(&mut state, &[Key::Char('a')]);
    type_text(&mut state, "chec");
    keys(&mut state, &[Key::Enter]);
    let s = screen(&state);
    assert!(s.contains("✗ 4 more characters to type: 'checkout'"), "{s}");
    assert!(s.contains("▸[ Cancel ]◂"), "{s}");
}

#[test]
fn confirm_cancelled_notice() {
    for (w, h) in CONFIRM_SIZES {
        let mut state = fleet(w, h);
        select(&mut state, "checkout");
        keys(&mut state, &[Key::Char('a')]);
        type_text(&mut state, "check");
        keys(&mut state, &[Key::Esc]);
        assert!(state.view.modal.is_none());
        let s = screen(&state);
        let footer = s.lines().nth(usize::from(h) - 1).unwrap();
        assert!(
            footer.contains("warning: abort checkout: cancelled — nothing sent"),
            "{footer}"
        );
        insta::assert_snapshot!(format!("confirm_cancelled_{w}x{h}"), s);
    }
}

#[test]
fn confirm_changed_since_you_opened() {
    for (w, h) in CONFIRM_SIZES {
        let mut state = fleet(w, h);
        select(&mut state, "checkout");
        keys(&mut state, &[Key::Char('a')]);
        type_text(&mut state, "checkout");
        // The rollout moves on from step 1 to the timed pause at step 3 while open.
        let mut moved = ui_fixture::checkout_rollout();
        moved.meta.resource_version = "2001".into();
        moved.current_step_index = Some(3);
        moved.traffic_canary_weight = Some(50);
        let fx = shipdeck::core::update(
            &mut state,
            shipdeck::core::Msg::Upsert {
                cluster: "prod-eu-1".into(),
                facts: shipdeck::core::facts::ObjectFacts::Rollout(moved),
            },
        );
        shipdeck::core::settle(&mut state);
        assert!(
            fx.iter()
                .any(|e| matches!(e, shipdeck::core::Effect::DryRun { .. })),
            "the dry run is asked again: {fx:?}"
        );
        let m = state.view.modal.as_ref().unwrap();
        assert_eq!(m.focus, ModalFocus::Cancel);
        let s = screen(&state);
        assert!(s.contains("CHANGED"), "{s}");
        assert!(s.contains("step 1→3"), "{s}");
        assert!(s.contains("since you opened"), "{s}");
        assert!(s.contains("waiting for the API server"), "{s}");
        assert!(s.contains("▸[ Cancel ]◂"), "{s}");
        insta::assert_snapshot!(format!("confirm_changed_{w}x{h}"), s);
    }
}

#[test]
fn confirm_gone_object_cannot_be_confirmed() {
    let mut state = fleet(80, 24);
    select(&mut state, "cart");
    keys(&mut state, &[Key::Char('p')]);
    shipdeck::core::update(
        &mut state,
        shipdeck::core::Msg::Delete {
            cluster: "prod-eu-1".into(),
            kind: shipdeck::core::kinds::Kind::Rollout,
            namespace: "shop".into(),
            name: "cart".into(),
        },
    );
    shipdeck::core::settle(&mut state);
    let s = screen(&state);
    assert!(s.contains("BLOCKED"), "{s}");
    assert!(s.contains("cart is gone from prod-eu-1"), "{s}");
    assert!(s.contains("[ Confirm ✗ ]"), "{s}");
    insta::assert_snapshot!("confirm_gone_80x24", s);
}

#[test]
fn confirm_too_small_terminal() {
    for (w, h) in [(30, 8), (39, 24), (80, 11)] {
        let mut state = fleet(w, h);
        select(&mut state, "checkout");
        keys(&mut state, &[Key::Char('a')]);
        let s = screen(&state);
        let lines: Vec<&str> = s.lines().filter(|l| !l.trim().is_empty()).collect();
        assert_eq!(lines.len(), 1, "{w}x{h}: one line:\n{s}");
        let line = lines[0];
        let said = "terminal too small (needs 40x12)";
        if usize::from(w) >= said.len() {
            assert_eq!(line.trim(), said, "{w}x{h}");
            // Centred both ways.
            let left = line.len() - line.trim_start().len();
            assert_eq!(left, (usize::from(w) - said.len()) / 2, "{w}x{h}");
        } else {
            // Shorter words, the size needed still whole.
            assert_eq!(line.trim(), "too small (needs 40x12)", "{w}x{h}");
        }
        let row = s.lines().position(|l| !l.trim().is_empty()).unwrap();
        assert_eq!(row, usize::from(h) / 2, "{w}x{h}");
        insta::assert_snapshot!(format!("confirm_too_small_{w}x{h}"), s);
    }
    // At the minimum the home screen draws its panels, not the line.
    let s = screen(&fleet(40, 12));
    assert!(!s.contains("terminal too small"), "{s}");
    assert!(s.contains("Releases") && s.contains("checkout"), "{s}");
    assert!(s.contains("SLOs") && s.contains("Failures"), "{s}");
    // Back to normal on resize, the modal still open with its typed field and buttons.
    let mut state = fleet(30, 8);
    select(&mut state, "checkout");
    keys(&mut state, &[Key::Char('a')]);
    for (w, h) in [(40, 12), (80, 24)] {
        shipdeck::core::update(
            &mut state,
            shipdeck::core::Msg::Resize {
                width: w,
                height: h,
            },
        );
        let s = screen(&state);
        assert!(!s.contains("terminal too small"), "{w}x{h}:\n{s}");
        assert!(s.contains("type 'checkout'"), "{w}x{h}: the field:\n{s}");
        assert!(
            s.contains("[ Cancel ]") && s.contains("Confirm ]"),
            "{w}x{h}:\n{s}"
        );
    }
}

#[test]
fn confirm_at_the_minimum_size_keeps_the_field_change_and_buttons() {
    let mut state = fleet(40, 12);
    select(&mut state, "checkout");
    keys(&mut state, &[Key::Char('a')]);
    type_text(&mut state, "chec");
    keys(&mut state, &[Key::Enter]);
    let mut moved = ui_fixture::checkout_rollout();
    moved.meta.resource_version = "2002".into();
    moved.current_step_index = Some(3);
    shipdeck::core::update(
        &mut state,
        shipdeck::core::Msg::Upsert {
            cluster: "prod-eu-1".into(),
            facts: shipdeck::core::facts::ObjectFacts::Rollout(moved),
        },
    );
    keys(&mut state, &[Key::Enter]);
    let s = screen(&state);
    assert!(s.contains("type 'checkout'"), "{s}");
    assert!(s.contains("CHANGED"), "{s}");
    assert!(s.contains("✗ 4 more"), "{s}");
    assert!(s.contains("[ Cancel ]") && s.contains("[ Confirm ]"), "{s}");
    insta::assert_snapshot!("confirm_minimum_40x12", s);
}

// ---- pods screen and the detail's events (task `pods`) ----

mod pods_screens {
    use super::*;
    use shipdeck::core::Msg;
    use shipdeck::core::kinds::pod::{
        ContainerFacts, ContainerState, ObjectEvent, PodFacts, PodsChange, Termination,
    };
    use shipdeck::core::text::Untrusted;
    use ui_fixture::ago;

    fn crashing(name: &str, restarts: u32) -> PodFacts {
        PodFacts {
            namespace: "shop".into(),
            name: name.into(),
            phase: "Running".into(),
            node: "kwok-node-2".into(),
            created: Some(ago(1_800)),
            containers: vec![ContainerFacts {
                name: "checkout".into(),
                image: "registry.example/checkout:2.4.0".into(),
                restarts,
                state: ContainerState::Waiting {
                    reason: Untrusted::new("CrashLoopBackOff"),
                    message: Untrusted::new(format!(
                        "back-off 5m0s restarting failed container=checkout pod={name}"
                    )),
                },
                last: Some(Termination {
                    reason: Untrusted::new("Error"),
                    message: Untrusted::new(
                        "panic: schema mismatch\n\tat checkout.Start (main.go:42)",
                    ),
                    exit_code: 1,
                    finished: Some(ago(40)),
                }),
                ..ContainerFacts::default()
            }],
            ..PodFacts::default()
        }
    }

    fn events(pod: &str, rs: &str) -> Vec<ObjectEvent> {
        let e =
            |uid: &str, kind: &str, name: &str, type_: &str, reason: &str, msg: &str, count, at| {
                ObjectEvent {
                    uid: uid.into(),
                    object_kind: kind.into(),
                    object_name: name.into(),
                    type_: type_.into(),
                    reason: Untrusted::new(reason),
                    message: Untrusted::new(msg),
                    count,
                    last_seen: Some(ago(at)),
                }
            };
        vec![
            e(
                "1",
                "Pod",
                pod,
                "Warning",
                "BackOff",
                "Back-off restarting failed container checkout",
                31,
                20,
            ),
            e(
                "2",
                "Pod",
                pod,
                "Normal",
                "Started",
                "Started container checkout",
                9,
                45,
            ),
            e(
                "3",
                "ReplicaSet",
                rs,
                "Normal",
                "SuccessfulCreate",
                &format!("Created pod: {pod}"),
                1,
                1_800,
            ),
            e(
                "4",
                "Rollout",
                "checkout",
                "Normal",
                "RolloutUpdated",
                "Rollout updated to revision 8",
                1,
                1_810,
            ),
        ]
    }

    /// The checkout detail with its events answered.
    fn detail_with_events(w: u16, h: u16) -> State {
        let mut state = fleet(w, h);
        select(&mut state, "checkout");
        keys(&mut state, &[Key::Enter]);
        let request = state.view.events.as_ref().unwrap().request;
        let rs = state.selected_release().unwrap().revisions[state.view.rs_selected]
            .name
            .clone();
        let pod = format!("{rs}-x2k4q");
        shipdeck::core::update(
            &mut state,
            Msg::ObjectEvents {
                request,
                result: Ok(events(&pod, &rs)),
            },
        );
        shipdeck::core::settle(&mut state);
        state
    }

    fn pods_screen(w: u16, h: u16) -> State {
        let mut state = detail_with_events(w, h);
        keys(&mut state, &[Key::Enter]);
        let p = state
            .view
            .pods
            .as_ref()
            .expect("Enter opened the pods screen");
        let (watch, rs) = (p.query.watch, p.query.replicaset.clone());
        let request = state.view.events.as_ref().unwrap().request;
        let pod = format!("{rs}-x2k4q");
        let mut healthy = crashing(&format!("{rs}-b7m2p"), 0);
        healthy.containers[0].ready = true;
        healthy.containers[0].state = ContainerState::Running { since: None };
        healthy.containers[0].last = None;
        let pods = vec![crashing(&pod, 9), healthy];
        shipdeck::core::update(
            &mut state,
            Msg::Pods {
                watch,
                change: PodsChange::Listed(pods),
            },
        );
        shipdeck::core::update(
            &mut state,
            Msg::ObjectEvents {
                request,
                result: Ok(events(&pod, &rs)),
            },
        );
        shipdeck::core::settle(&mut state);
        state
    }

    /// `m` on the pods screen: the selected pod's waiting message, its last termination's
    /// message line by line (the tab made spaces) and its events; Esc back to the pods.
    #[test]
    fn message_of_the_selected_pod_at_both_sizes() {
        for (w, h) in [(80, 24), (250, 70)] {
            let mut state = pods_screen(w, h);
            keys(&mut state, &[Key::Char('m')]);
            let s = screen(&state);
            assert!(s.contains("▸ Message · rows 1–"), "{w}x{h}:\n{s}");
            assert!(s.contains("waiting CrashLoopBackOff"), "{w}x{h}:\n{s}");
            assert!(
                s.contains("last termination: Error exit 1"),
                "{w}x{h}:\n{s}"
            );
            assert!(s.contains("    panic: schema mismatch"), "{w}x{h}:\n{s}");
            assert!(
                s.contains("        at checkout.Start (main.go:42)"),
                "{w}x{h}: the trace's second line, its tab as spaces\n{s}"
            );
            assert!(s.contains("Warning BackOff ×31"), "{w}x{h}: events\n{s}");
            insta::assert_snapshot!(format!("message_pod_{w}x{h}"), s);
            keys(&mut state, &[Key::Esc]);
            assert_eq!(state.view.screen, shipdeck::core::state::Screen::Pods);
        }
    }

    #[test]
    fn the_pods_screen_at_both_sizes() {
        for (w, h) in [(80, 24), (250, 70)] {
            let state = pods_screen(w, h);
            let s = screen(&state);
            assert!(s.contains("CrashLoopBackOff"), "{w}x{h}:\n{s}");
            assert!(s.contains("Error exit 1"), "{w}x{h}: last termination\n{s}");
            assert!(
                s.contains("0/1") && s.contains("1/1"),
                "{w}x{h}: ready\n{s}"
            );
            assert!(s.contains("BackOff"), "{w}x{h}: the pod's events\n{s}");
            insta::assert_snapshot!(format!("pods_checkout_{w}x{h}"), s);
        }
    }

    #[test]
    fn the_detail_lists_events_at_both_sizes() {
        for (w, h) in [(80, 24), (250, 70)] {
            let state = detail_with_events(w, h);
            let s = screen(&state);
            assert!(s.contains("▸ rev"), "{w}x{h}: the ReplicaSet cursor\n{s}");
            if h >= 70 {
                assert!(s.contains("SuccessfulCreate"), "{w}x{h}:\n{s}");
                assert!(s.contains("RolloutUpdated"), "{w}x{h}:\n{s}");
            }
            // The sections are budgeted: even at 80x24 the events get rows of their own,
            // and what is left out is counted.
            let events = s
                .lines()
                .skip_while(|l| !l.contains("─ Events"))
                .skip(1)
                .take_while(|l| !l.contains("─ Actions"))
                .filter(|l| l.contains(" Warning ") || l.contains(" Normal "))
                .count();
            assert!(events >= 2, "{w}x{h}: {events} event rows\n{s}");
            if h < 70 {
                assert!(
                    s.contains("… 2 more events · m: all, in full"),
                    "{w}x{h}:\n{s}"
                );
            }
            println!("{w}x{h}: {events} event rows in the detail");
            insta::assert_snapshot!(format!("detail_events_checkout_{w}x{h}"), s);
        }
    }
}

/// An Argo CD Application managing the staging `api` Rollout: OutOfSync / Suspended, self-heal
/// on, a sync running; its row, its detail (state, policy, history with the rollback target)
/// and the Rollout's detail naming the app's state.
fn with_argocd_app(width: u16, height: u16) -> State {
    use serde_json::json;
    use shipdeck::core::facts::{ObjectFacts, ObjectMeta};
    use shipdeck::core::kinds::application::{AppResource, ApplicationFacts, HistoryEntry};
    use shipdeck::core::text::Untrusted;
    let mut state = fleet(width, height);
    let entry = |id: i64, rev: &str, by: &str| HistoryEntry {
        id,
        revision: rev.into(),
        deployed_at: Some(ui_fixture::ago(3600 * (3 - id))),
        deploy_started_at: None,
        initiated_by: Untrusted::new(by),
        source: json!({"repoURL": "https://git.example/web.git", "path": "api"}),
    };
    let app = ApplicationFacts {
        meta: ObjectMeta {
            namespace: "argocd".into(),
            name: "web-api".into(),
            uid: "app-1".into(),
            resource_version: "9001".into(),
            created: Some(ui_fixture::ago(86_400)),
            ..ObjectMeta::default()
        },
        target_revision: "main".into(),
        source: json!({"repoURL": "https://git.example/web.git", "path": "api", "targetRevision": "main"}),
        automated: Some(json!({"selfHeal": true})),
        self_heal: true,
        sync_status: "OutOfSync".into(),
        sync_revision: "c0ffee1234567890".into(),
        health: "Suspended".into(),
        op_phase: "Running".into(),
        op_message: Untrusted::new("waiting for healthy state of argoproj.io/Rollout/api"),
        op_started: Some(ui_fixture::ago(90)),
        synced_revision: "b0b0b0b1234567".into(),
        history: vec![
            entry(0, "a1a1a1a1234567", "alice"),
            entry(1, "b0b0b0b1234567", "automated"),
        ],
        resources: vec![AppResource {
            group: "argoproj.io".into(),
            kind: "Rollout".into(),
            namespace: "web".into(),
            name: "api".into(),
        }],
        ..ApplicationFacts::default()
    };
    shipdeck::core::update(
        &mut state,
        shipdeck::core::Msg::Upsert {
            cluster: "staging".into(),
            facts: ObjectFacts::Application(app),
        },
    );
    shipdeck::core::settle(&mut state);
    state
}

#[test]
fn argocd_application_row_and_detail() {
    for (w, h) in [(80, 24), (250, 70)] {
        let state = with_argocd_app(w, h);
        let home = screen(&state);
        assert!(home.contains("web-api"), "{home}");
        insta::assert_snapshot!(format!("argocd_home_{w}x{h}"), home);
        let mut state = with_argocd_app(w, h);
        select(&mut state, "web-api");
        keys(&mut state, &[Key::Enter]);
        let s = screen(&state);
        assert!(s.contains("OutOfSync / Suspended"), "{s}");
        insta::assert_snapshot!(format!("argocd_detail_{w}x{h}"), s);
    }
    let mut state = with_argocd_app(250, 70);
    let s = {
        select(&mut state, "web-api");
        keys(&mut state, &[Key::Enter]);
        screen(&state)
    };
    assert!(s.contains("automated (self-heal)"), "{s}");
    assert!(s.contains("← undo (u) rolls back here"), "{s}");
    // The staging cluster is read-only in the fixture: the Argo CD actions are listed, disabled.
    for action in ["sync", "hard-refresh", "terminate"] {
        assert!(s.contains(action), "{action}: {s}");
    }
    // The managed Rollout's detail names the app and its state.
    let mut state = with_argocd_app(250, 70);
    select(&mut state, "api");
    keys(&mut state, &[Key::Enter]);
    let s = screen(&state);
    assert!(
        s.contains("Argo CD app argocd/web-api: OutOfSync / Suspended"),
        "{s}"
    );
}

/// An Argo CD Application on prod-eu-1 with four history entries, manual sync, no operation
/// running: what the history chooser (`v`) lists and rolls back to.
fn argocd_app_with_history(width: u16, height: u16) -> State {
    use serde_json::json;
    use shipdeck::core::facts::{ObjectFacts, ObjectMeta};
    use shipdeck::core::kinds::application::{ApplicationFacts, HistoryEntry};
    use shipdeck::core::text::Untrusted;
    let mut state = fleet(width, height);
    let entry = |id: i64, rev: &str, by: &str, tag: &str| HistoryEntry {
        id,
        revision: rev.into(),
        deployed_at: Some(ui_fixture::ago(3600 * (4 - id))),
        deploy_started_at: None,
        initiated_by: Untrusted::new(by),
        source: json!({"repoURL": "https://git.example/shop.git", "path": "cart", "targetRevision": tag}),
    };
    let app = ApplicationFacts {
        meta: ObjectMeta {
            namespace: "argocd".into(),
            name: "storefront".into(),
            uid: "app-storefront".into(),
            resource_version: "777".into(),
            created: Some(ui_fixture::ago(86_400)),
            ..ObjectMeta::default()
        },
        target_revision: "v4".into(),
        source: json!({"repoURL": "https://git.example/shop.git", "path": "cart", "targetRevision": "v4"}),
        sync_status: "Synced".into(),
        sync_revision: "d4d4d4d1234567".into(),
        health: "Healthy".into(),
        op_phase: "Succeeded".into(),
        synced_revision: "d4d4d4d1234567".into(),
        history: vec![
            entry(0, "a1a1a1a1234567", "alice", "v1"),
            entry(1, "b2b2b2b1234567", "bob", "v2"),
            entry(2, "c3c3c3c1234567", "automated", "v3"),
            entry(3, "d4d4d4d1234567", "carol", "v4"),
        ],
        ..ApplicationFacts::default()
    };
    shipdeck::core::update(
        &mut state,
        shipdeck::core::Msg::Upsert {
            cluster: "prod-eu-1".into(),
            facts: ObjectFacts::Application(app),
        },
    );
    shipdeck::core::settle(&mut state);
    state
}

#[test]
fn argocd_history_chooser_and_rollback_to_a_chosen_entry() {
    for (w, h) in [(80, 24), (250, 70)] {
        let mut state = argocd_app_with_history(w, h);
        keys(&mut state, &[Key::Char('H')]);
        select(&mut state, "storefront");
        keys(
            &mut state,
            &[Key::Char('v'), Key::Char('j'), Key::Char('j')],
        );
        let s = screen(&state);
        assert!(s.contains("Revisions of"), "{s}");
        for id in ["3", "2", "1", "0"] {
            assert!(s.contains(&format!(" {id} ")), "history {id}:\n{s}");
        }
        assert!(s.contains("current"), "{s}");
        assert!(s.contains("b2b2b2b"), "{s}");
        assert!(s.contains("+ revision b2b2b2b1234567"), "{s}");
        assert!(s.contains("- revision d4d4d4d1234567"), "{s}");
        insta::assert_snapshot!(format!("argocd_history_{w}x{h}"), s);
        // Enter on history 1 (not the previous entry, 2): the modal shows the exact write.
        keys(&mut state, &[Key::Enter]);
        let m = state.view.modal.as_ref().expect("rollback modal");
        let body = m.plan.calls[0].body_text();
        assert!(body.contains("b2b2b2b1234567"), "{body}");
        assert!(!body.contains("c3c3c3c1234567"), "{body}");
        let s = screen(&state);
        assert!(s.contains("applications"), "{s}");
        insta::assert_snapshot!(format!("argocd_rollback_chosen_{w}x{h}"), s);
    }
}

/// The fleet plus a Flux Kustomization `flux-system/apps` on prod-eu-1 (suspended or not)
/// and a Rollout `catalog` it owns, in flight at its first step (pause applies).
fn flux_fleet(width: u16, height: u16, suspended: bool) -> State {
    use shipdeck::core::facts::ObjectFacts;
    use shipdeck::core::kinds::flux::{FluxFacts, Ready, SourceRef};
    let mut state = fleet(width, height);
    let mut rollout = ui_fixture::checkout_rollout();
    rollout.meta.name = "catalog".into();
    rollout.meta.uid = "uid-catalog".into();
    rollout
        .meta
        .labels
        .insert("kustomize.toolkit.fluxcd.io/name".into(), "apps".into());
    rollout.meta.labels.insert(
        "kustomize.toolkit.fluxcd.io/namespace".into(),
        "flux-system".into(),
    );
    rollout.pause_conditions.clear();
    rollout.conditions.clear();
    rollout.current_step_index = Some(0);
    rollout.phase = Some("Progressing".into());
    rollout.message = Default::default();
    let mut meta = rollout.meta.clone();
    meta.namespace = "flux-system".into();
    meta.name = "apps".into();
    meta.uid = "uid-apps".into();
    meta.resource_version = "3101".into();
    meta.labels.clear();
    let generation = meta.generation;
    let kustomization = FluxFacts {
        meta,
        suspend: suspended,
        source: SourceRef {
            kind: "GitRepository".into(),
            namespace: "flux-system".into(),
            name: "fleet".into(),
        },
        interval: "5m".into(),
        ready: Ready::True,
        ready_message: "Applied revision: main@sha1:5f2c9e1a7d".into(),
        last_applied_revision: "main@sha1:5f2c9e1a7d".into(),
        observed_generation: Some(generation),
        ..FluxFacts::default()
    };
    for facts in [
        ObjectFacts::Rollout(rollout),
        ObjectFacts::Kustomization(kustomization),
    ] {
        shipdeck::core::update(
            &mut state,
            shipdeck::core::Msg::Upsert {
                cluster: "prod-eu-1".into(),
                facts,
            },
        );
    }
    shipdeck::core::settle(&mut state);
    state
}

#[test]
fn flux_detail_shows_its_source_read_when_shown() {
    use shipdeck::core::kinds::flux::Ready;
    use shipdeck::core::kinds::flux_source::FluxSourceFacts;
    for (w, h) in [(80, 24), (250, 70)] {
        let mut state = flux_fleet(w, h, false);
        keys(&mut state, &[Key::Char('H')]);
        select(&mut state, "apps");
        keys(&mut state, &[Key::Enter]);
        let query = state
            .view
            .flux_source
            .as_ref()
            .and_then(|v| v.query.clone())
            .expect("the source is asked for when the detail opens");
        assert_eq!(query.name, "fleet");
        let meta = shipdeck::core::facts::ObjectMeta {
            namespace: "flux-system".into(),
            name: "fleet".into(),
            ..Default::default()
        };
        shipdeck::core::update(
            &mut state,
            shipdeck::core::Msg::FluxSource {
                query,
                result: Ok(FluxSourceFacts {
                    meta,
                    kind: "GitRepository".into(),
                    ready: Ready::True,
                    ready_message: "stored artifact for revision 'main@sha1:5f2c9e1a7d'".into(),
                    artifact_revision: "main@sha1:5f2c9e1a7d".into(),
                    ..FluxSourceFacts::default()
                }),
            },
        );
        shipdeck::core::settle(&mut state);
        let s = screen(&state);
        assert!(s.contains("source   Ready=True"), "{s}");
        assert!(s.contains("    GitRepository/flux-system/fleet"), "{s}");
        assert!(s.contains("artifact main@sha1:5f2c9e1a7d"), "{s}");
        insta::assert_snapshot!(format!("flux_detail_source_{w}x{h}"), s);
    }
}

#[test]
fn flux_suspend_owner_first_modal() {
    for (w, h) in [(80, 24), (250, 70)] {
        let mut state = flux_fleet(w, h, false);
        select(&mut state, "catalog");
        keys(&mut state, &[Key::Char(' '), Key::Tab, Key::Tab]);
        assert_eq!(
            state.view.modal.as_ref().map(|m| m.focus),
            Some(ModalFocus::OwnerFirst)
        );
        let s = screen(&state);
        assert!(s.contains("Suspend owner first ]"), "{w}x{h}:\n{s}");
        if h >= 70 {
            assert!(s.contains("request 1/2"), "{s}");
            assert!(s.contains("\"suspend\": true"), "{s}");
        }
        insta::assert_snapshot!(format!("flux_owner_first_modal_{w}x{h}"), s);
    }
}

#[test]
fn flux_rows_show_the_kustomization_and_the_suspended_owner() {
    for (w, h) in [(80, 24), (250, 70)] {
        let mut state = flux_fleet(w, h, true);
        select(&mut state, "catalog");
        let s = screen(&state);
        assert!(s.contains("flux-system/apps"), "{w}x{h}:\n{s}");
        if w >= 250 {
            assert!(
                s.contains("owner suspended (Flux Kustomization flux-system/apps)"),
                "{s}"
            );
            assert!(s.contains("suspended · Ready=True"), "{s}");
        }
        insta::assert_snapshot!(format!("flux_rows_{w}x{h}"), s);
    }
}

// ---- The log viewer (`l`) -------------------------------------------------------------------

/// The fleet with checkout's canary pods' log view open: two pods interleaved, a crash with
/// its stack trace, one hostile line.
fn logs_open(width: u16, height: u16) -> State {
    use shipdeck::core::logs::{LogEvent, StreamName};
    use shipdeck::core::text::Untrusted;
    let mut state = fleet(width, height);
    select(&mut state, "checkout");
    keys(&mut state, &[Key::Char('l')]);
    let session = state.logs.as_ref().expect("l opens the log view").session;
    let streams = ["checkout-new-7c9f4", "checkout-new-k2x8q"]
        .iter()
        .map(|p| StreamName {
            pod: p.to_string(),
            container: "app".into(),
        })
        .collect();
    let feed = |state: &mut State, event| {
        shipdeck::core::update(state, shipdeck::core::Msg::Logs(event));
    };
    feed(&mut state, LogEvent::Streams { session, streams });
    let lines = |texts: &[&str]| texts.iter().map(|t| Untrusted::new(*t)).collect();
    for i in 0..30 {
        let text = format!(
            "2026-12-01T10:00:{i:02}.000Z INFO  http: 200 GET /api/v1/orders {}ms",
            3 + i
        );
        feed(
            &mut state,
            LogEvent::Lines {
                session,
                stream: i % 2,
                lines: lines(&[&text]),
            },
        );
    }
    feed(
        &mut state,
        LogEvent::Lines {
            session,
            stream: 1,
            lines: lines(&[
                "2026-12-01T10:00:31.000Z ERROR thread 'main' panicked at src/checkout/cart.rs:88:14:",
                "called `Option::unwrap()` on a `None` value: the price list for region eu-west-1 is empty and the cart cannot be totalled",
                "stack backtrace:",
                "   0: checkout::cart::total",
                "             at ./src/checkout/cart.rs:88:14",
                "evil \x1b[2J\x1b]0;pwned\x07 over\rwrite",
            ]),
        },
    );
    state
}

#[test]
fn logs_follow_two_pods_interleaved() {
    for (w, h) in [(80, 24), (250, 70)] {
        let state = logs_open(w, h);
        let s = screen(&state);
        assert!(s.contains("following"), "{s}");
        assert!(
            s.contains("evil \\x1b[2J\\x1b]0;pwned\\x07 over\\x0dwrite"),
            "{s}"
        );
        assert!(!s.contains('\x1b') && !s.contains('\r'));
        assert!(
            s.contains("k2x8q │ stack backtrace:"),
            "labelled by pod: {s}"
        );
        insta::assert_snapshot!(format!("logs_follow_{w}x{h}"), s);
    }
}

#[test]
fn logs_paused_wrapped_searched_one_pod() {
    for (w, h) in [(80, 24), (250, 70)] {
        let mut state = logs_open(w, h);
        keys(
            &mut state,
            &[Key::Char('w'), Key::Tab, Key::Tab, Key::Char('/')],
        );
        type_text(&mut state, "unwrap");
        keys(&mut state, &[Key::Enter]);
        let s = screen(&state);
        assert!(s.contains("PAUSED"), "{s}");
        assert!(s.contains("pod 2/2"), "{s}");
        assert!(s.contains("wrap"), "{s}");
        insta::assert_snapshot!(format!("logs_search_wrap_{w}x{h}"), s);
    }
}

#[test]
fn logs_refused_says_why() {
    use shipdeck::core::logs::LogEvent;
    for (w, h) in [(80, 24), (250, 70)] {
        let mut state = fleet(w, h);
        select(&mut state, "checkout");
        keys(&mut state, &[Key::Char('l')]);
        let session = state.logs.as_ref().unwrap().session;
        let reason = shipdeck::core::text::Untrusted::new(
            "RBAC: viewer [shipdeck:viewer] may not get pods/log in namespace shop (SelfSubjectAccessReview denied) — ask for `get` on `pods/log` there",
        );
        shipdeck::core::update(
            &mut state,
            shipdeck::core::Msg::Logs(LogEvent::Refused { session, reason }),
        );
        let s = screen(&state);
        assert!(s.contains("refused: RBAC: viewer"), "{s}");
        insta::assert_snapshot!(format!("logs_refused_{w}x{h}"), s);
    }
}

// ---- Revisions, the undo modal with its diff, and the YAML view (issue 12 items 5, 6) ----

/// The fleet with checkout's ReplicaSets carrying pod templates: revision 8 (the canary,
/// 1.4.2, a feature flag and more memory), 7 (stable, 1.4.1) and 6 (1.4.0, an older arg).
fn fleet_with_templates(width: u16, height: u16) -> State {
    use serde_json::json;
    use shipdeck::core::facts::{ObjectFacts, ReplicaSetFacts};
    use shipdeck::core::revisions::summarize;
    let mut state = fleet(width, height);
    let owner = ui_fixture::checkout_rollout();
    let template = |image: &str, args: &[&str], flag: bool, memory: &str| {
        let mut env = vec![
            json!({"name": "LOG_LEVEL", "value": "info"}),
            json!({"name": "DB_PASSWORD", "valueFrom": {"secretKeyRef": {"name": "checkout-db", "key": "pw"}}}),
        ];
        if flag {
            env.push(json!({"name": "FEATURE_FAST_PATH", "value": "on"}));
        }
        summarize(&json!({"spec": {"containers": [{
            "name": "checkout", "image": image, "args": args, "env": env,
            "resources": {"requests": {"cpu": "100m"}, "limits": {"memory": memory}},
            "readinessProbe": {"httpGet": {"path": "/healthz", "port": 8080}, "periodSeconds": 10}
        }], "volumes": [{"name": "config", "configMap": {"name": "checkout-config"}}]}}))
    };
    let rows = [
        (
            "7d9f",
            8,
            "ghcr.io/shop/checkout:1.4.2",
            1,
            template(
                "ghcr.io/shop/checkout:1.4.2",
                &["--port=8080"],
                true,
                "512Mi",
            ),
            "ci: release 1.4.2",
        ),
        (
            "5c8b",
            7,
            "ghcr.io/shop/checkout:1.4.1",
            5,
            template(
                "ghcr.io/shop/checkout:1.4.1",
                &["--port=8080"],
                false,
                "256Mi",
            ),
            "ci: release 1.4.1",
        ),
        (
            "4a2e",
            6,
            "ghcr.io/shop/checkout:1.4.0",
            0,
            template(
                "ghcr.io/shop/checkout:1.4.0",
                &["--port=8080", "--legacy"],
                false,
                "256Mi",
            ),
            "hotfix by hand",
        ),
    ];
    for (i, (hash, rev, image, n, lines, cause)) in rows.into_iter().enumerate() {
        let mut meta = owner.meta.clone();
        meta.name = format!("checkout-{hash}");
        meta.uid = format!("rs-{hash}");
        meta.created = Some(ui_fixture::ago(7200 * (i as i64 + 1)));
        meta.annotations = [("kubernetes.io/change-cause".to_string(), cause.to_string())].into();
        let rs = ReplicaSetFacts {
            meta,
            owner_uid: owner.meta.uid.clone(),
            owner_kind: "Rollout".into(),
            revision: Some(rev),
            pod_template_hash: hash.into(),
            images: vec![image.into()],
            replicas: n,
            ready_replicas: n,
            available_replicas: n,
            template: lines,
            ..ReplicaSetFacts::default()
        };
        shipdeck::core::update(
            &mut state,
            shipdeck::core::Msg::Upsert {
                cluster: "prod-eu-1".into(),
                facts: ObjectFacts::ReplicaSet(rs),
            },
        );
    }
    shipdeck::core::settle(&mut state);
    state
}

#[test]
fn revisions_screen_lists_every_revision_with_the_diff_of_the_row() {
    for (w, h) in [(80, 24), (250, 70)] {
        let mut state = fleet_with_templates(w, h);
        select(&mut state, "checkout");
        keys(
            &mut state,
            &[Key::Char('v'), Key::Char('j'), Key::Char('j')],
        );
        let s = screen(&state);
        assert!(s.contains("Revisions of"), "{s}");
        for rev in ["8", "7", "6"] {
            assert!(s.contains(&format!(" {rev} ")), "revision {rev}:\n{s}");
        }
        assert!(s.contains("hotfix by hand"), "{s}");
        assert!(
            s.contains("- ") && s.contains("image ghcr.io/shop/checkout:1.4.2"),
            "{s}"
        );
        assert!(s.contains("+   args --port=8080 --legacy"), "{s}");
        assert!(
            !s.contains("\"pw\"") && !s.contains(" info"),
            "no env values:\n{s}"
        );
        insta::assert_snapshot!(format!("revisions_{w}x{h}"), s);
    }
}

#[test]
fn undo_modal_shows_what_it_brings_back() {
    for (w, h) in [(80, 24), (250, 70)] {
        let mut state = fleet_with_templates(w, h);
        select(&mut state, "checkout");
        keys(
            &mut state,
            &[Key::Char('v'), Key::Char('j'), Key::Char('j'), Key::Enter],
        );
        let m = state.view.modal.as_ref().expect("undo modal");
        assert_eq!(m.plan.kind.label(), "undo");
        let s = screen(&state);
        assert!(!s.contains("<template of ReplicaSet"), "{s}");
        assert!(s.contains("revision 6"), "{s}");
        assert!(s.contains("+   image ghcr.io/shop/checkout:1.4.0"), "{s}");
        assert!(s.contains("-   image ghcr.io/shop/checkout:1.4.2"), "{s}");
        insta::assert_snapshot!(format!("undo_diff_{w}x{h}"), s);
    }
}

#[test]
fn yaml_view_shows_the_object_and_finds_matches() {
    for (w, h) in [(80, 24), (250, 70)] {
        let mut state = fleet_with_templates(w, h);
        select(&mut state, "checkout");
        keys(&mut state, &[Key::Char('o')]);
        let s = screen(&state);
        assert!(s.contains("reading the object"), "{s}");
        let object = serde_json::json!({
            "apiVersion": "argoproj.io/v1alpha1", "kind": "Rollout",
            "metadata": {"name": "checkout", "namespace": "shop",
                "managedFields": [{"manager": "kubectl"}],
                "annotations": {"note": "evil \u{1b}[31m red"}},
            "spec": {"replicas": 5, "template": {"spec": {"containers": [
                {"name": "checkout", "image": "ghcr.io/shop/checkout:1.4.2"}]}}}
        });
        shipdeck::core::update(
            &mut state,
            shipdeck::core::Msg::Object {
                cluster: "prod-eu-1".into(),
                namespace: "shop".into(),
                name: "checkout".into(),
                result: Ok(object),
            },
        );
        keys(&mut state, &[Key::Char('/')]);
        type_text(&mut state, "image");
        keys(&mut state, &[Key::Enter]);
        let s = screen(&state);
        assert!(!s.contains("managedFields"), "{s}");
        assert!(!s.contains('\u{1b}'), "escaped:\n{s}");
        assert!(s.contains("image: ghcr.io/shop/checkout:1.4.2"), "{s}");
        assert!(s.contains("match 1 of 1"), "{s}");
        insta::assert_snapshot!(format!("yaml_{w}x{h}"), s);
    }
}

/// A failure whose message is far longer than any column: a Java exception with its stack.
fn long_failure(state: &mut State) {
    let message = "Liveness probe failed: Get \"http://10.4.2.17:8080/healthz\": context deadline exceeded (Client.Timeout exceeded while awaiting headers); last error: java.lang.IllegalStateException: connection pool exhausted (max 50) at com.shop.db.Pool.acquire(Pool.java:118) at com.shop.checkout.Service.charge(Service.java:42) END";
    shipdeck::core::update(
        state,
        shipdeck::core::Msg::Warning {
            cluster: "prod-eu-1".into(),
            event: shipdeck::core::facts::WarningEvent {
                namespace: "shop".into(),
                object_kind: "Pod".into(),
                object_name: "checkout-7d9f-q8r2t".into(),
                reason: "Unhealthy".into(),
                message: shipdeck::core::text::Untrusted::new(message),
                count: 9,
                last_seen: Some(ui_fixture::ago(10)),
            },
        },
    );
    shipdeck::core::settle(state);
}

/// The failures feed: the message takes the remaining width; at 250x70 rows wrap onto
/// the empty rows above (up to three lines each), at 80x24 they stay one line and the
/// message column's title says `m` shows them in full.
#[test]
fn the_failures_feed_uses_the_width_and_wraps_where_there_is_room() {
    for (w, h) in [(80, 24), (250, 70)] {
        let mut state = fleet(w, h);
        long_failure(&mut state);
        keys(&mut state, &[Key::Tab, Key::Tab]);
        let s = screen(&state);
        let lines: Vec<&str> = s.lines().collect();
        let title = lines
            .iter()
            .position(|l| l.contains("Failures") && l.contains("age"))
            .unwrap();
        let feed = lines[title + 1..lines.len() - 1].join("\n");
        assert!(lines[title].contains("m: full"), "{w}x{h}: the hint\n{s}");
        if w == 250 {
            // The probe message, once cut at ~52 characters, is whole over its lines.
            let flat = feed.split_whitespace().collect::<Vec<_>>().join(" ");
            assert!(
                flat.contains("Readiness probe failed: HTTP probe failed with statuscode: 503"),
                "{w}x{h}:\n{s}"
            );
            // The long one takes three lines and is still cut (m shows it all).
            let at = lines.iter().position(|l| l.contains("q8r2t")).unwrap();
            assert!(lines[at + 2].ends_with('…'), "{w}x{h}:\n{s}");
            assert!(!lines[at + 3].ends_with('…'), "three lines at most:\n{s}");
        } else {
            let row = lines.iter().find(|l| l.contains("q8r2t")).unwrap();
            assert!(row.ends_with('…'), "{w}x{h}: cut on one line\n{s}");
        }
        insta::assert_snapshot!(format!("failures_feed_{w}x{h}"), s);
    }
}

/// `m` on the focused failure (home) and on the detail: the whole message, wrapped; Esc
/// goes back where it was.
#[test]
fn message_view_from_home_and_detail_at_both_sizes() {
    for (w, h) in [(80, 24), (250, 70)] {
        let mut state = fleet(w, h);
        long_failure(&mut state);
        keys(&mut state, &[Key::Tab, Key::Tab, Key::Char('m')]);
        let s = screen(&state);
        let flat = s.split_whitespace().collect::<Vec<_>>().join(" ");
        assert!(
            flat.contains("at com.shop.checkout.Service.charge(Service.java:42) END"),
            "{w}x{h}:\n{s}"
        );
        assert!(s.contains("Failure Unhealthy"), "{w}x{h}:\n{s}");
        insta::assert_snapshot!(format!("message_failure_{w}x{h}"), s);
        keys(&mut state, &[Key::Esc]);
        assert_eq!(state.view.screen, shipdeck::core::state::Screen::Home);
        assert_eq!(state.view.panel, shipdeck::core::state::Panel::Failures);

        let mut state = fleet(w, h);
        select(&mut state, "api");
        keys(&mut state, &[Key::Enter, Key::Char('m')]);
        let s = screen(&state);
        assert!(s.contains("Message · Degraded"), "{w}x{h}:\n{s}");
        assert!(
            s.contains("\\x1b]0;pwned\\x07 aborted"),
            "{w}x{h}: escaped\n{s}"
        );
        assert!(!s.contains('\u{1b}'), "{w}x{h}");
        assert!(
            s.contains("metric \"error-rate\" assessed Failed"),
            "{w}x{h}:\n{s}"
        );
        insta::assert_snapshot!(format!("message_detail_{w}x{h}"), s);
        keys(&mut state, &[Key::Esc]);
        assert_eq!(state.view.screen, shipdeck::core::state::Screen::Detail);
    }
    // Tiny and huge terminals: drawn without a panic, the last row reachable.
    for (w, h) in [(40, 12), (41, 13), (300, 100)] {
        let mut state = fleet(w, h);
        long_failure(&mut state);
        keys(
            &mut state,
            &[Key::Tab, Key::Tab, Key::Char('m'), Key::Char('G')],
        );
        let s = screen(&state);
        assert!(s.contains("END"), "{w}x{h}: the message's end\n{s}");
    }
}

/// `o` in the demo: the simulation's own model of the object as YAML, through the same
/// view as a cluster's (escaped, searchable).
#[test]
fn demo_yaml_of_a_rollout() {
    use shipdeck::core::{Effect, Msg};
    use shipdeck::source::demo::Fleet;
    for (w, h) in [(80, 24), (250, 70)] {
        let t0: jiff::Timestamp = "2026-11-26T08:00:00Z".parse().unwrap();
        let mut fleet = Fleet::new(1, t0);
        let slos = fleet
            .slo_specs()
            .into_iter()
            .map(shipdeck::core::slo_eval::initial)
            .collect();
        let settings = shipdeck::core::state::Settings {
            source_label: "demo".into(),
            ..Default::default()
        };
        let mut state = State::new(t0, settings, fleet.clusters(), slos);
        shipdeck::core::update(
            &mut state,
            Msg::Resize {
                width: w,
                height: h,
            },
        );
        for m in fleet.initial() {
            shipdeck::core::update(&mut state, m);
        }
        shipdeck::core::settle(&mut state);
        select(&mut state, "checkout");
        let effects = shipdeck::core::update(&mut state, Msg::Key(Key::Char('o')));
        let Some(Effect::FetchObject {
            cluster,
            resource,
            namespace,
            name,
        }) = effects.into_iter().next()
        else {
            panic!("o asks for the object");
        };
        let result = fleet.object(&cluster, &resource, &namespace, &name);
        assert!(result.is_ok(), "{result:?}");
        shipdeck::core::update(
            &mut state,
            Msg::Object {
                cluster,
                namespace,
                name,
                result,
            },
        );
        keys(&mut state, &[Key::Char('/')]);
        type_text(&mut state, "image:");
        keys(&mut state, &[Key::Enter]);
        let s = screen(&state);
        assert!(s.contains("match 1 of"), "{w}x{h}:\n{s}");
        assert!(s.contains("image: "), "{w}x{h}:\n{s}");
        assert!(!s.contains("cannot read objects"), "{w}x{h}:\n{s}");
        keys(&mut state, &[Key::Char('g')]);
        let top = screen(&state);
        assert!(
            top.contains("apiVersion: argoproj.io/v1alpha1"),
            "{w}x{h}:\n{top}"
        );
        assert!(top.contains("kind: Rollout"), "{w}x{h}:\n{top}");
        insta::assert_snapshot!(format!("demo_yaml_{w}x{h}"), top);
    }
}

// ---- Undo to an aborted revision; the Flagger gate line (issue 12 items 5, 7) ----

#[test]
fn undo_modal_warns_that_the_target_was_aborted() {
    use shipdeck::core::facts::WarningEvent;
    use shipdeck::core::text::Untrusted;
    for (w, h) in [(80, 24), (250, 70)] {
        let mut state = fleet_with_templates(w, h);
        // Argo's own event about revision 6, as the Warning watch delivers it.
        shipdeck::core::update(
            &mut state,
            shipdeck::core::Msg::Warning {
                cluster: "prod-eu-1".into(),
                event: WarningEvent {
                    namespace: "shop".into(),
                    object_kind: "Rollout".into(),
                    object_name: "checkout".into(),
                    reason: "RolloutAborted".into(),
                    message: Untrusted::new(
                        "Rollout aborted update to revision 6: Metric \"error-rate\" assessed Failed due to failed (2) > failureLimit (1)",
                    ),
                    count: 1,
                    last_seen: Some(ui_fixture::ago(5000)),
                },
            },
        );
        shipdeck::core::settle(&mut state);
        select(&mut state, "checkout");
        keys(
            &mut state,
            &[Key::Char('v'), Key::Char('j'), Key::Char('j')],
        );
        let list = screen(&state);
        assert!(list.contains("aborted"), "the row says aborted:\n{list}");
        keys(&mut state, &[Key::Enter]);
        let m = state.view.modal.as_ref().expect("undo modal");
        let warned = &m.undo_preview.as_ref().expect("preview").warnings;
        assert!(
            warned
                .iter()
                .any(|w| w.contains("revision 6 was itself aborted")),
            "{warned:?}"
        );
        let s = screen(&state);
        assert!(s.contains("was itself aborted"), "{s}");
        insta::assert_snapshot!(format!("undo_aborted_{w}x{h}"), s);
    }
}

#[test]
fn the_detail_shows_the_gate_the_loadtester_reports() {
    use shipdeck::core::facts::{Gate, GateHook, GateState, ObjectFacts};
    for (w, h) in [(80, 24), (250, 70)] {
        let mut state = fleet(w, h);
        // On a cluster this console may write to, as `storefront` (the fixture's frontend
        // lives on the read-only staging cluster).
        let mut canary = ui_fixture::frontend_canary();
        canary.meta.name = "storefront".into();
        canary.meta.uid = "uid-web-storefront".into();
        canary.gates = vec![Gate {
            hook: GateHook::ConfirmTrafficIncrease,
            url: "http://flagger-loadtester.web:80/gate/check".into(),
        }];
        canary.failed_checks = 0;
        shipdeck::core::update(
            &mut state,
            shipdeck::core::Msg::Upsert {
                cluster: "prod-eu-1".into(),
                facts: ObjectFacts::Canary(canary),
            },
        );
        shipdeck::core::settle(&mut state);
        select(&mut state, "storefront");
        keys(&mut state, &[Key::Enter]);
        let check = state
            .gate_checks
            .values()
            .next()
            .expect("the detail asked the loadtester")
            .clone();
        assert_eq!(check.hook, GateHook::ConfirmTrafficIncrease);
        let asking = screen(&state);
        assert!(
            asking.contains("confirm-traffic-increase gate:")
                && asking.contains("asking the loadtester"),
            "{asking}"
        );
        shipdeck::core::update(
            &mut state,
            shipdeck::core::Msg::GateChecked {
                request: check.request,
                state: GateState::Closed,
            },
        );
        shipdeck::core::settle(&mut state);
        let s = screen(&state);
        assert!(
            s.contains("confirm-traffic-increase gate:") && s.contains("closed (p opens it)"),
            "{s}"
        );
        let r = state.selected_release().expect("storefront");
        assert_eq!(r.phase, shipdeck::core::model::Phase::Paused);
        assert_eq!(
            r.needs_human,
            Some(shipdeck::core::model::HumanWait::TrafficGate)
        );
        insta::assert_snapshot!(format!("gate_closed_{w}x{h}"), s);
        // Back home the row carries the same ⚑ as the other gates.
        keys(&mut state, &[Key::Esc]);
        let home = screen(&state);
        let row = home
            .lines()
            .find(|l| l.contains("storefront"))
            .unwrap_or_default()
            .to_string();
        assert!(row.contains('⚑'), "{row}");
        // Opened: the line says so and the canary is Progressing again.
        keys(&mut state, &[Key::Enter]);
        let again = state.gate_checks.values().next().unwrap().request;
        assert!(
            again > check.request,
            "asked again when the detail reopened"
        );
        shipdeck::core::update(
            &mut state,
            shipdeck::core::Msg::GateChecked {
                request: again,
                state: GateState::Open,
            },
        );
        shipdeck::core::settle(&mut state);
        let s = screen(&state);
        assert!(s.contains("open (space closes it)"), "{s}");
        assert_eq!(
            state.selected_release().map(|r| r.phase),
            Some(shipdeck::core::model::Phase::Progressing)
        );
    }
}

// ---- The Argo CD sync revision in the revisions list (issue 12 item 5) ----

#[test]
fn revisions_name_the_argocd_sync_that_made_them() {
    use serde_json::json;
    use shipdeck::core::facts::{ObjectFacts, ObjectMeta};
    use shipdeck::core::kinds::application::{AppResource, ApplicationFacts, HistoryEntry};
    use shipdeck::core::text::Untrusted;
    for (w, h) in [(80, 24), (250, 70)] {
        let mut state = fleet_with_templates(w, h);
        // Revisions 8 and 7 were made by syncs; 6 (by hand) is older than both.
        let entry = |id: i64, rev: &str, started: i64, took: i64| HistoryEntry {
            id,
            revision: rev.into(),
            deploy_started_at: Some(ui_fixture::ago(started)),
            deployed_at: Some(ui_fixture::ago(started - took)),
            initiated_by: Untrusted::new("automated"),
            source: json!({"repoURL": "https://git.example/shop.git", "path": "checkout"}),
        };
        let app = ApplicationFacts {
            meta: ObjectMeta {
                namespace: "argocd".into(),
                name: "shop-checkout".into(),
                uid: "app-checkout".into(),
                resource_version: "77".into(),
                created: Some(ui_fixture::ago(86_400)),
                ..ObjectMeta::default()
            },
            sync_status: "Synced".into(),
            health: "Suspended".into(),
            history: vec![
                entry(4, "5f3a9c1e0b7d2a4c6e8f1a3b5c7d9e0f2a4b6c8d", 14_410, 60),
                entry(5, "9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b3a291807", 7_205, 30),
            ],
            resources: vec![AppResource {
                group: "argoproj.io".into(),
                kind: "Rollout".into(),
                namespace: "shop".into(),
                name: "checkout".into(),
            }],
            ..ApplicationFacts::default()
        };
        shipdeck::core::update(
            &mut state,
            shipdeck::core::Msg::Upsert {
                cluster: "prod-eu-1".into(),
                facts: ObjectFacts::Application(app),
            },
        );
        shipdeck::core::settle(&mut state);
        select(&mut state, "checkout");
        keys(&mut state, &[Key::Char('v')]);
        let s = screen(&state);
        let row = |rev: &str| {
            s.lines()
                .find(|l| {
                    l.trim_start_matches(['▸', ' '])
                        .starts_with(&format!("{rev} "))
                })
                .unwrap_or_default()
                .to_string()
        };
        assert!(row("8").contains("argocd 9e8d7c6"), "{s}");
        assert!(row("7").contains("argocd 5f3a9c1"), "{s}");
        assert!(!row("6").contains("argocd"), "{s}");
        insta::assert_snapshot!(format!("revisions_argocd_{w}x{h}"), s);
    }
}
