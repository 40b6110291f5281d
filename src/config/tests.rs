//! The config file's parsing and validation: errors name file, line and key.
use super::*;

#[test]
fn example_config_parses() {
    let text = include_str!("../../config.example.toml");
    let c = Config::parse(text, "config.example.toml").unwrap();
    assert!(c.slos.iter().any(|s| s.name == "checkout-availability"));
    assert!(c.slos.iter().any(|s| s.name == "search-availability"));
}

#[test]
fn type_error_names_line_and_key() {
    let text = "theme = \"default\"\n[[slos]]\nname = \"x\"\nservice = \"y\"\nobjective = \"high\"\n[slos.source]\ntype = \"promql\"\nerrors = \"a\"\ntotal = \"b\"\n";
    let err = Config::parse(text, "c.toml").unwrap_err().to_string();
    assert!(err.starts_with("c.toml:5: key `objective`"), "{err}");
}

#[test]
fn unknown_key_is_rejected_with_line() {
    let text = "theme = \"default\"\nreadonly = true\n";
    let err = Config::parse(text, "c.toml").unwrap_err().to_string();
    assert!(err.starts_with("c.toml:2: key `readonly`"), "{err}");
    assert!(err.contains("unknown field"), "{err}");
}

#[test]
fn bad_objective_and_window_are_rejected() {
    let base = |obj: &str, win: &str| {
        format!(
            "[[slos]]\nname = \"x\"\nservice = \"y\"\nobjective = {obj}\nwindow = \"{win}\"\n[slos.source]\ntype = \"promql\"\nerrors = \"a\"\ntotal = \"b\"\n"
        )
    };
    let err = Config::parse(&base("100.0", "30d"), "c.toml")
        .unwrap_err()
        .to_string();
    assert!(err.contains("c.toml:4: key `slos[0].objective`"), "{err}");
    let err = Config::parse(&base("99.9", "thirty"), "c.toml")
        .unwrap_err()
        .to_string();
    assert!(err.contains("c.toml:5: key `slos[0].window`"), "{err}");
}

#[test]
fn extreme_windows_and_intervals_are_config_errors() {
    let slo = |win: &str| {
        format!(
            "[[slos]]\nname = \"x\"\nservice = \"y\"\nobjective = 99.0\nwindow = \"{win}\"\n[slos.source]\ntype = \"promql\"\nerrors = \"a\"\ntotal = \"b\"\n"
        )
    };
    for win in [
        "3000000000000000h",
        "9223372036854775807m",
        "400d",
        "99999999999999999999w",
    ] {
        let two = format!("{}{}", slo("30d"), slo(win));
        let err = Config::parse(&two, "c.toml").unwrap_err().to_string();
        assert!(err.starts_with("c.toml:14: key `slos[1].window`"), "{err}");
    }
    let prom = |k: &str, v: &str| format!("[prometheus]\nurl = \"http://p\"\n{k} = {v}\n");
    for (k, v) in [
        ("timeout_seconds", "0"),
        ("interval_seconds", "18446744073709551615"),
    ] {
        let err = Config::parse(&prom(k, v), "c.toml")
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with(&format!("c.toml:3: key `prometheus.{k}`")),
            "{err}"
        );
    }
    assert!(Config::parse(&prom("interval_seconds", "86400"), "c.toml").is_ok());
}

#[test]
fn windows_parse() {
    assert_eq!(parse_window("30d"), Some(SignedDuration::from_hours(720)));
    assert_eq!(parse_window("5m"), Some(SignedDuration::from_mins(5)));
    assert_eq!(parse_window("0d"), None);
    assert_eq!(parse_window("d"), None);
    assert_eq!(parse_window("366d"), Some(MAX_WINDOW));
    assert_eq!(parse_window("3000000000000000h"), None);
}

#[test]
fn unknown_theme_names_its_line_and_the_valid_ones() {
    let text = "# theme = \"light\" would be fine\nread_only = true\ntheme = \"purple\"\n[prometheus]\nurl = \"http://p:9090\"\n";
    let err = Config::parse(text, "c.toml").unwrap_err().to_string();
    assert!(
        err.starts_with("c.toml:3: key `theme`: unknown theme \"purple\""),
        "{err}"
    );
    assert!(err.contains("high-contrast"), "{err}");
    for name in crate::ui::theme::Theme::names() {
        let ok = format!("theme = \"{name}\"\n");
        assert!(Config::parse(&ok, "c.toml").is_ok(), "{name}");
    }
}
