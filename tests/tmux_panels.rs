//! The real binary in tmux at 80x24 on `--demo`: the releases title says where the window
//! is ("Releases 1–11 of N"), rows waiting on a person carry ⚑ right below the failing ✗
//! rows, and scrolled to the bottom the title says how many urgent rows are above.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod tmux;

use std::time::Duration;

use tmux::{Tmux, wait_file};

const WAIT: Duration = Duration::from_secs(20);

/// (first, last, total) from the releases title "Releases a–b of n".
fn place(screen: &str) -> Option<(usize, usize, usize)> {
    let title = screen.lines().find(|l| l.contains("Releases"))?;
    let rest = title.split("Releases ").nth(1)?;
    let mut words = rest.split_whitespace();
    let (a, b) = words.next()?.split_once('–')?;
    (words.next()? == "of").then_some(())?;
    Some((
        a.parse().ok()?,
        b.parse().ok()?,
        words.next()?.parse().ok()?,
    ))
}

/// "↑ k more urgent" in the releases title.
fn urgent_above(screen: &str) -> Option<usize> {
    let title = screen.lines().find(|l| l.contains("Releases"))?;
    let rest = title.split("↑ ").nth(1)?;
    let (k, tail) = rest.split_once(' ')?;
    tail.starts_with("more urgent").then_some(())?;
    k.parse().ok()
}

/// The marks of the visible release rows (first column), top to bottom.
fn marks(screen: &str) -> Vec<char> {
    let lines: Vec<&str> = screen.lines().collect();
    let Some(top) = lines.iter().position(|l| l.contains("NAMESPACE/NAME")) else {
        return Vec::new();
    };
    lines[top + 1..]
        .iter()
        .take_while(|l| !l.is_empty() && !l.contains("SLOs"))
        .filter_map(|l| l.chars().next())
        .collect()
}

#[test]
fn demo_titles_say_where_the_window_is_and_mark_who_waits_on_a_person() {
    let bin = env!("CARGO_BIN_EXE_shipdeck");
    let dir = tempfile::tempdir().unwrap();
    let status = dir.path().join("status");
    let script = format!(
        "HOME={home} {bin} --demo --seed 1; echo \"EXIT=$?\" > {status}; sleep 30",
        home = dir.path().display(),
        status = status.display(),
    );
    let tmux = Tmux::start("panels", 80, 24, &script);

    // The demo's gates (Flagger Waiting / WaitingPromotion, indefinite pause steps) are
    // marked ⚑, right after any failing ✗ rows.
    let home = tmux.wait_for("the home screen with a needs-a-human row", WAIT, |s| {
        place(s).is_some() && marks(s).contains(&'⚑')
    });
    let (first, last, total) = place(&home).unwrap();
    assert_eq!(first, 1, "{home}");
    assert!(last <= total && last >= 1, "{home}");
    let m = marks(&home);
    assert_eq!(m.len(), last, "one row per place in the title:\n{home}");
    let urgent_on_top = m.iter().take_while(|c| matches!(c, '✗' | '⚑')).count();
    let first_human = m.iter().position(|c| *c == '⚑').unwrap();
    assert!(
        m[..first_human].iter().all(|c| *c == '✗'),
        "only failing rows above the first ⚑:\n{home}"
    );
    assert!(
        m[urgent_on_top..].iter().all(|c| !matches!(c, '✗' | '⚑')),
        "urgent rows lead the table:\n{home}"
    );
    assert!(
        urgent_above(&home).is_none(),
        "nothing is hidden at the top:\n{home}"
    );
    for line in home.lines() {
        assert!(line.chars().count() <= 80, "{line}");
    }

    // To the bottom: when the table is longer than the window, the title counts the
    // urgent rows now above it.
    if total > last {
        tmux.keys(&["G"]);
        let bottom = tmux.wait_for("the last page", WAIT, |s| {
            place(s).is_some_and(|(_, b, n)| b == n)
        });
        let (a, _, n) = place(&bottom).unwrap();
        assert!(a > 1 && n == total, "{bottom}");
        // The demo keeps moving, so the exact count is the core tests' job; here: urgent rows
        // were on top, the window left them, and the title says so with a count that fits
        // what is above.
        if urgent_on_top > 0 {
            let k = urgent_above(&bottom).unwrap_or_else(|| panic!("no count:\n{bottom}"));
            assert!(
                k >= 1 && k < a,
                "↑ {k} with {} rows above:\n{bottom}",
                a - 1
            );
            let failing_on_top = m.iter().filter(|c| **c == '✗').count();
            if a > failing_on_top {
                assert!(
                    !marks(&bottom).contains(&'✗'),
                    "failing rows scrolled away:\n{bottom}"
                );
            }
            eprintln!(
                "top: {first}–{last} of {total}, {urgent_on_top} urgent; bottom from {a}: ↑ {k}"
            );
        }
    } else {
        eprintln!("top: {first}–{last} of {total}: the whole table fits");
    }

    tmux.keys(&["q"]);
    assert_eq!(wait_file(&status, Duration::from_secs(10)).trim(), "EXIT=0");
}
