//! Semantic styles for the console, by role ("phase_degraded", "burn_page"), never by colour.
//! Built-in themes live in `themes/*.toml` and are embedded so the binary works from any
//! directory. `Theme::no_color()` is the NO_COLOR / `--no-color` theme: attributes only
//! (bold, reverse, underline, dim), because meaning is always also carried by text.

use std::str::FromStr;

use ratatui::style::{Color, Modifier, Style};
use serde::Deserialize;

/// The built-in themes: (name, file name, TOML text).
const BUILT_IN: [(&str, &str, &str); 4] = [
    (
        "default",
        "themes/default.toml",
        include_str!("../../themes/default.toml"),
    ),
    (
        "light",
        "themes/light.toml",
        include_str!("../../themes/light.toml"),
    ),
    (
        "high-contrast",
        "themes/high-contrast.toml",
        include_str!("../../themes/high-contrast.toml"),
    ),
    (
        "mono",
        "themes/mono.toml",
        include_str!("../../themes/mono.toml"),
    ),
];

/// The terminal background each built-in colour theme is made for (mono sets no colours):
/// what its colours' contrast is checked against.
#[cfg(test)]
const BACKGROUND: [(&str, Color); 3] = [
    ("default", Color::Black),
    ("light", Color::White),
    ("high-contrast", Color::Black),
];

/// Why a theme could not be loaded. Each says where, so the user can fix the file.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum ThemeError {
    #[error("unknown theme {name:?}: valid themes are {valid}")]
    Unknown { name: String, valid: String },
    #[error("{file}:{line}: {message}")]
    Parse {
        file: String,
        line: usize,
        message: String,
    },
    #[error("{file}: key {key:?}: {message}")]
    Value {
        file: String,
        key: String,
        message: String,
    },
}

/// One role as written in a theme file: `{ fg = "red", bg = "black", bold = true }`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RoleSpec {
    fg: Option<String>,
    bg: Option<String>,
    #[serde(default)]
    bold: bool,
    #[serde(default)]
    dim: bool,
    #[serde(default)]
    italic: bool,
    #[serde(default)]
    underline: bool,
    #[serde(default)]
    reverse: bool,
}

impl RoleSpec {
    fn style(&self, file: &str, key: &str) -> Result<Style, ThemeError> {
        let color = |value: &Option<String>, which: &str| -> Result<Option<Color>, ThemeError> {
            value
                .as_deref()
                .map(|v| {
                    Color::from_str(v).map_err(|_| ThemeError::Value {
                        file: file.to_string(),
                        key: format!("{key}.{which}"),
                        message: format!(
                            "{v:?} is not a colour (use a name like \"red\", \"#rrggbb\" or 0-255)"
                        ),
                    })
                })
                .transpose()
        };
        let mut style = Style::default();
        if let Some(fg) = color(&self.fg, "fg")? {
            style = style.fg(fg);
        }
        if let Some(bg) = color(&self.bg, "bg")? {
            style = style.bg(bg);
        }
        Ok(style.add_modifier(self.modifiers()))
    }

    fn modifiers(&self) -> Modifier {
        let mut m = Modifier::empty();
        for (on, flag) in [
            (self.bold, Modifier::BOLD),
            (self.dim, Modifier::DIM),
            (self.italic, Modifier::ITALIC),
            (self.underline, Modifier::UNDERLINED),
            (self.reverse, Modifier::REVERSED),
        ] {
            if on {
                m |= flag;
            }
        }
        m
    }
}

/// Declares every role once: the `Theme` fields, the file schema (every role required, no
/// unknown keys, so a typo is reported instead of silently ignored) and the no-colour styles.
macro_rules! roles {
    ($($(#[doc = $doc:literal])* $name:ident => $mono:expr),* $(,)?) => {
        /// Styles by meaning. Passed explicitly to `render`; there is no global theme.
        #[derive(Debug, Clone, PartialEq)]
        pub struct Theme {
            pub name: String,
            $($(#[doc = $doc])* pub $name: Style,)*
        }

        #[derive(Debug, Deserialize)]
        #[serde(deny_unknown_fields)]
        struct ThemeFile {
            $($name: RoleSpec,)*
        }

        impl ThemeFile {
            fn into_theme(self, name: &str, file: &str) -> Result<Theme, ThemeError> {
                Ok(Theme {
                    name: name.to_string(),
                    $($name: self.$name.style(file, stringify!($name))?,)*
                })
            }
        }

        impl Theme {
            /// No colours at all: meaning is carried by text and attributes only.
            pub fn no_color() -> Theme {
                Theme {
                    name: "mono".to_string(),
                    $($name: Style::default().add_modifier($mono),)*
                }
            }

            /// Every role name, as written in theme files.
            pub const ROLES: &'static [&'static str] = &[$(stringify!($name)),*];

            /// Every role's style, in `ROLES` order.
            #[cfg(test)]
            fn roles(&self) -> Vec<Style> {
                vec![$(self.$name),*]
            }
        }
    };
}

const NONE: Modifier = Modifier::empty();
const BOLD: Modifier = Modifier::BOLD;
const REV: Modifier = Modifier::REVERSED;
const DIM: Modifier = Modifier::DIM;
const UNDER: Modifier = Modifier::UNDERLINED;

roles! {
    /// Plain text.
    text => NONE,
    /// Secondary text: column headers' units, hints, timestamps.
    dim => DIM,
    /// Panel title bars and separators.
    border => NONE,
    /// The title bar of the focused panel.
    border_focus => BOLD.union(UNDER),
    /// Column headers.
    table_header => BOLD,
    /// The first header line (product name, mode, clock).
    header => BOLD,
    /// Cluster chip: connected.
    chip_ok => NONE,
    /// Cluster chip: connecting or stale.
    chip_warn => UNDER,
    /// Cluster chip: unreachable, no access, or failing releases.
    chip_bad => BOLD.union(REV),
    /// The header when the selected release is on a production cluster.
    prod_banner => BOLD.union(REV),
    /// READ-ONLY marker.
    readonly => BOLD,
    /// LIVE marker (writes are possible).
    live => BOLD.union(UNDER),
    /// Data source label (DEMO).
    source => BOLD,
    /// The selected row.
    selected => REV,
    phase_healthy => NONE,
    phase_progressing => NONE,
    phase_paused => UNDER,
    phase_degraded => BOLD,
    burn_ok => NONE,
    /// A burn window above a ticket rule's factor; also the TICKET alert.
    burn_ticket => UNDER,
    /// A burn window above the slower page rule's factor (6h/30m).
    burn_page_slow => BOLD,
    /// A burn window above the fastest page rule's factor (1h/5m); also the PAGE alert.
    burn_page => BOLD.union(REV),
    burn_unknown => DIM,
    /// SLO trend sparkline.
    sparkline => NONE,
    /// Current step marker in the detail screen.
    current => BOLD,
    /// Modal body.
    modal => NONE,
    /// Modal title and frame.
    modal_title => BOLD,
    /// Destructive or refused things: PROD markers in the modal, refusals, gates.
    danger => BOLD.union(UNDER),
    /// Text input fields.
    input => UNDER,
    /// Unfocused button.
    button => NONE,
    /// Focused button.
    button_focus => BOLD.union(REV),
    /// Key names in hints and the action bar.
    key => BOLD,
    /// An action that can be taken.
    action_enabled => NONE,
    /// An action that cannot be taken (its reason is written next to it).
    action_disabled => DIM,
    notice_info => NONE,
    notice_warn => BOLD,
    notice_error => BOLD.union(REV),
}

impl Theme {
    /// Load a built-in theme by name ("default", "light", "high-contrast", "mono").
    pub fn load(name: &str) -> Result<Theme, ThemeError> {
        let (name, file, text) = BUILT_IN
            .iter()
            .find(|(n, _, _)| *n == name)
            .ok_or_else(|| ThemeError::Unknown {
                name: name.to_string(),
                valid: Self::names().join(", "),
            })?;
        Self::parse(name, file, text)
    }

    /// The names `load` accepts.
    pub fn names() -> Vec<&'static str> {
        BUILT_IN.iter().map(|(n, _, _)| *n).collect()
    }

    /// Parse theme TOML; `file` names it in errors (a user theme file can be passed too).
    pub fn parse(name: &str, file: &str, text: &str) -> Result<Theme, ThemeError> {
        let parsed: ThemeFile = toml::from_str(text).map_err(|e| ThemeError::Parse {
            file: file.to_string(),
            line: e.span().map_or(1, |s| line_of(text, s.start)),
            message: e.message().to_string(),
        })?;
        parsed.into_theme(name, file)
    }

    /// Style for a release phase.
    pub fn phase(&self, phase: crate::core::model::Phase) -> Style {
        use crate::core::model::Phase;
        match phase {
            Phase::Healthy => self.phase_healthy,
            Phase::Progressing => self.phase_progressing,
            Phase::Paused => self.phase_paused,
            Phase::Degraded | Phase::Unparseable => self.phase_degraded,
        }
    }

    /// Style for an SLO alert level.
    pub fn burn(&self, level: crate::core::model::AlertLevel) -> Style {
        use crate::core::model::AlertLevel;
        match level {
            AlertLevel::None => self.burn_ok,
            AlertLevel::Ticket => self.burn_ticket,
            AlertLevel::Page => self.burn_page,
            AlertLevel::Unknown => self.burn_unknown,
        }
    }

    /// Style for one burn window's level (`core::slo::window_level`); None is unknown.
    pub fn burn_level(&self, level: Option<crate::core::slo::BurnLevel>) -> Style {
        use crate::core::slo::BurnLevel;
        match level {
            None => self.burn_unknown,
            Some(BurnLevel::Calm) => self.burn_ok,
            Some(BurnLevel::Ticket) => self.burn_ticket,
            Some(BurnLevel::SlowPage) => self.burn_page_slow,
            Some(BurnLevel::FastPage) => self.burn_page,
        }
    }
}

impl Default for Theme {
    fn default() -> Self {
        // The embedded default theme is checked by a test; fall back to attributes only
        // rather than panic if it were ever broken.
        Theme::load("default").unwrap_or_else(|_| Theme::no_color())
    }
}

/// 1-based line of a byte offset.
fn line_of(text: &str, offset: usize) -> usize {
    text.as_bytes()
        .iter()
        .take(offset)
        .filter(|b| **b == b'\n')
        .count()
        + 1
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_built_in_theme_loads() {
        for name in Theme::names() {
            let theme = Theme::load(name).unwrap_or_else(|e| panic!("{name}: {e}"));
            assert_eq!(theme.name, name);
        }
    }

    #[test]
    fn mono_file_matches_no_color() {
        assert_eq!(Theme::load("mono").unwrap(), Theme::no_color());
    }

    #[test]
    fn no_color_sets_no_colours() {
        let t = Theme::no_color();
        let toml = include_str!("../../themes/mono.toml");
        assert!(
            !toml
                .lines()
                .any(|l| l.starts_with("fg") || l.starts_with("bg"))
        );
        assert_eq!(t.selected.fg, None);
        assert_eq!(t.burn_page.bg, None);
    }

    #[test]
    fn unknown_name_lists_valid_names() {
        let err = Theme::load("solarized").unwrap_err();
        assert_eq!(
            err.to_string(),
            "unknown theme \"solarized\": valid themes are default, light, high-contrast, mono"
        );
    }

    #[test]
    fn bad_toml_names_file_and_line() {
        let text =
            include_str!("../../themes/default.toml").replacen("bold = true", "bold = yes", 1);
        let err = Theme::parse("x", "my.toml", &text).unwrap_err();
        match err {
            ThemeError::Parse { file, line, .. } => {
                assert_eq!(file, "my.toml");
                let expected = text.lines().position(|l| l.contains("bold = yes")).unwrap() + 1;
                assert_eq!(line, expected);
            }
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn bad_colour_names_the_key() {
        let text = include_str!("../../themes/default.toml").replacen(
            "[burn_page]\nfg = \"",
            "[burn_page]\nfg = \"nope",
            1,
        );
        let err = Theme::parse("x", "my.toml", &text).unwrap_err();
        assert!(err.to_string().contains("burn_page.fg"), "{err}");
    }

    #[test]
    fn unknown_or_missing_role_is_reported() {
        let text = format!(
            "{}\n[not_a_role]\nbold = true\n",
            include_str!("../../themes/default.toml")
        );
        let err = Theme::parse("x", "my.toml", &text).unwrap_err();
        assert!(err.to_string().contains("not_a_role"), "{err}");
        let err = Theme::parse("x", "my.toml", "[text]\n").unwrap_err();
        assert!(err.to_string().contains("missing field"), "{err}");
    }

    /// xterm's default palette for the 16 ANSI colours, then the 6x6x6 cube and the grey
    /// ramp: what indexed and named colours look like on the terminals we check for.
    fn xterm_rgb(c: Color) -> Option<(u8, u8, u8)> {
        const ANSI: [(u8, u8, u8); 16] = [
            (0, 0, 0),
            (205, 0, 0),
            (0, 205, 0),
            (205, 205, 0),
            (0, 0, 238),
            (205, 0, 205),
            (0, 205, 205),
            (229, 229, 229),
            (127, 127, 127),
            (255, 0, 0),
            (0, 255, 0),
            (255, 255, 0),
            (92, 92, 255),
            (255, 0, 255),
            (0, 255, 255),
            (255, 255, 255),
        ];
        let index = match c {
            Color::Rgb(r, g, b) => return Some((r, g, b)),
            Color::Reset => return None,
            Color::Indexed(i) => i,
            Color::Black => 0,
            Color::Red => 1,
            Color::Green => 2,
            Color::Yellow => 3,
            Color::Blue => 4,
            Color::Magenta => 5,
            Color::Cyan => 6,
            Color::Gray => 7,
            Color::DarkGray => 8,
            Color::LightRed => 9,
            Color::LightGreen => 10,
            Color::LightYellow => 11,
            Color::LightBlue => 12,
            Color::LightMagenta => 13,
            Color::LightCyan => 14,
            Color::White => 15,
        };
        Some(match index {
            0..16 => ANSI[index as usize],
            16..232 => {
                let level = |n: u8| if n == 0 { 0 } else { 55 + 40 * n };
                let i = index - 16;
                (level(i / 36), level(i / 6 % 6), level(i % 6))
            }
            _ => {
                let g = 8 + 10 * (index - 232);
                (g, g, g)
            }
        })
    }

    /// WCAG 2 relative luminance.
    fn luminance((r, g, b): (u8, u8, u8)) -> f64 {
        let lin = |v: u8| {
            let v = f64::from(v) / 255.0;
            if v <= 0.039_28 {
                v / 12.92
            } else {
                ((v + 0.055) / 1.055).powf(2.4)
            }
        };
        0.2126 * lin(r) + 0.7152 * lin(g) + 0.0722 * lin(b)
    }

    /// WCAG 2 contrast ratio, 1..=21.
    fn contrast(a: (u8, u8, u8), b: (u8, u8, u8)) -> f64 {
        let (la, lb) = (luminance(a), luminance(b));
        (la.max(lb) + 0.05) / (la.min(lb) + 0.05)
    }

    /// Roles drawn as secondary text: 3:1 is enough; every other coloured role is read as
    /// normal text and needs 4.5:1 (WCAG AA).
    const DIM_ROLES: [&str; 3] = ["dim", "border", "action_disabled"];

    /// (role, fg, bg, ratio, needed) of every coloured role of `theme` below its minimum.
    fn low_contrast(theme: &Theme, background: Color) -> Vec<String> {
        let roles: Vec<(&str, Style)> = Theme::ROLES.iter().copied().zip(theme.roles()).collect();
        let mut low = Vec::new();
        for (role, style) in roles {
            let Some(fg) = style.fg.and_then(xterm_rgb) else {
                continue;
            };
            let bg = style
                .bg
                .or(Some(background))
                .and_then(xterm_rgb)
                .unwrap_or((0, 0, 0));
            let needed = if DIM_ROLES.contains(&role) { 3.0 } else { 4.5 };
            let ratio = contrast(fg, bg);
            if ratio < needed {
                low.push(format!(
                    "{}: {role} {:?} on {:?} is {ratio:.2}:1, needs {needed}:1",
                    theme.name, style.fg, style.bg
                ));
            }
        }
        low
    }

    #[test]
    fn contrast_maths_matches_known_pairs() {
        assert!((contrast((0, 0, 0), (255, 255, 255)) - 21.0).abs() < 1e-9);
        // xterm colour 7 on white: what issue 13 found unreadable.
        let grey_on_white = contrast(
            xterm_rgb(Color::Gray).unwrap(),
            xterm_rgb(Color::White).unwrap(),
        );
        assert!(grey_on_white < 1.3, "{grey_on_white}");
        assert_eq!(xterm_rgb(Color::Indexed(130)), Some((175, 95, 0)));
        assert_eq!(xterm_rgb(Color::Indexed(244)), Some((128, 128, 128)));
        assert_eq!(xterm_rgb(Color::Indexed(9)), Some((255, 0, 0)));
    }

    #[test]
    fn every_theme_is_readable_on_its_background() {
        for (name, background) in BACKGROUND {
            let theme = Theme::load(name).unwrap();
            let low = low_contrast(&theme, background);
            assert!(low.is_empty(), "{}", low.join("\n"));
            // The roles that must be checked are coloured in every colour theme.
            for style in [
                theme.dim,
                theme.key,
                theme.burn_ticket,
                theme.burn_page_slow,
            ] {
                assert!(style.fg.is_some(), "{name}: {style:?}");
            }
        }
    }

    #[test]
    fn the_old_light_dim_grey_fails_the_check() {
        let old = include_str!("../../themes/light.toml").replacen(
            "[dim]\nfg = \"244\"",
            "[dim]\nfg = \"gray\"",
            1,
        );
        assert!(
            old.contains("[dim]\nfg = \"gray\""),
            "light.toml's dim changed shape"
        );
        let theme = Theme::parse("light", "light.toml", &old).unwrap();
        let low = low_contrast(&theme, Color::White);
        assert!(low.iter().any(|l| l.starts_with("light: dim ")), "{low:?}");
    }

    #[test]
    fn burn_levels_are_told_apart_in_every_theme() {
        use crate::core::slo::BurnLevel::*;
        for name in Theme::names() {
            let t = Theme::load(name).unwrap();
            let styles = [
                t.burn_level(None),
                t.burn_level(Some(Calm)),
                t.burn_level(Some(Ticket)),
                t.burn_level(Some(SlowPage)),
                t.burn_level(Some(FastPage)),
            ];
            for (i, a) in styles.iter().enumerate() {
                for b in &styles[i + 1..] {
                    assert_ne!(a, b, "{name}: two burn levels look the same");
                }
            }
        }
        // NO_COLOR: attributes only, still all different (checked above through mono).
        let t = Theme::no_color();
        assert!(t.burn_page.add_modifier.contains(Modifier::REVERSED));
        assert!(t.burn_page_slow.add_modifier.contains(Modifier::BOLD));
        assert!(t.burn_ticket.add_modifier.contains(Modifier::UNDERLINED));
    }
}
