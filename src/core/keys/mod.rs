//! The key table: every key the console answers, the command it triggers in each context,
//! its footer hint and its help text. Key handling (`core::input`), the footer, the help
//! screen and the action bar all read this one table; DESIGN.md's "Key map" is its
//! contract (extend it, don't change keys). Owns no state and decides no policy: whether
//! an action can be taken is `core::offer`'s business.

use super::action::ActionKind;
use super::model::{Phase, Release, ReleaseKind};
use super::msg::Key;
use super::offer;
use super::state::{Panel, Screen, State};

pub mod help;
mod table;
use table::MAIN;
pub use table::TABLE;

/// Where a key is read: one screen, or a mode layered over it (modal, filter editing).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Context {
    Home,
    Detail,
    Help,
    Audit,
    Clusters,
    /// The confirmation modal when no name has to be typed.
    Modal,
    /// The confirmation modal while a name must be typed (y and n are then text).
    Typing,
    /// Editing the releases filter.
    Filter,
    /// One ReplicaSet's pods.
    Pods,
    /// The log viewer.
    Logs,
    /// Typing a search in the log viewer.
    LogSearch,
    /// The revisions screen.
    Revisions,
    /// The YAML view, and typing a search in it.
    Yaml,
    YamlSearch,
    /// The message view (`m`).
    Message,
}

/// What a key does; the handler for the context carries it out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Command {
    Quit,
    Up,
    Down,
    PageUp,
    PageDown,
    First,
    Last,
    NextPanel,
    PrevPanel,
    Open,
    Back,
    Filter,
    Clusters,
    Help,
    Audit,
    /// An action on the selected release; see [`resolve`] for space and `p`.
    Act(ActionKind),
    Confirm,
    Cancel,
    Focus,
    Activate,
    KeepFilter,
    ClearFilter,
    /// Moves the text cursor in the filter (text editing proper is not a key map).
    EditText,
    Toggle,
    ShowAll,
    /// Copy the selected release's `cluster/namespace/name` (OSC 52).
    Copy,
    /// Copy the `kubectl` command for the selected release.
    CopyKubectl,
    /// Open the selected release's canary pods' logs (`core::logs`).
    Logs,
    /// In the log view: pause / resume following.
    LogFollow,
    LogWrap,
    /// In the log view: cycle all pods → one pod → the next.
    LogPod,
    LogNext,
    LogPrev,
    /// In the log view: the previous container's log / the current one.
    LogPrevious,
    /// `v`: the selected release's revisions.
    Revisions,
    /// `o`: the YAML of the selected object.
    Yaml,
    /// `H`: every release / in-flight and recent only.
    History,
    /// `n` / `N` in the YAML view: next / previous match.
    NextMatch,
    PrevMatch,
    /// `m`: the selected thing's full message.
    Message,
}

/// Sections of the help screen, in the order shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Section {
    Move,
    Views,
    Actions,
    Confirmation,
    Logs,
}

impl Section {
    pub const ALL: [Section; 5] = [
        Section::Move,
        Section::Views,
        Section::Actions,
        Section::Logs,
        Section::Confirmation,
    ];

    pub fn title(self) -> &'static str {
        match self {
            Self::Move => "Move",
            Self::Views => "Views",
            Self::Actions => "Actions on the selected release (each opens a confirmation)",
            Self::Confirmation => "In the confirmation",
            Self::Logs => "Logs (l)",
        }
    }
}

/// Where the footer shows a row, under which key label and words. Footers on narrow
/// terminals use `HomeShort`; `rank` orders a footer (most useful first).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HintAt {
    HomeShort,
    Home,
    Detail,
    Help,
    Audit,
    Clusters,
    Modal,
    Typing,
    Filter,
    Logs,
    LogSearch,
    /// The hint line inside the confirmation modal (no name to type / name to type).
    ModalBox,
    TypingBox,
    Pods,
    Revisions,
    Yaml,
    YamlSearch,
    Message,
}

impl HintAt {
    /// The footer for a context; `short` on narrow terminals.
    pub fn of(ctx: Context, short: bool) -> Self {
        match ctx {
            Context::Home if short => Self::HomeShort,
            Context::Home => Self::Home,
            Context::Detail => Self::Detail,
            Context::Help => Self::Help,
            Context::Audit => Self::Audit,
            Context::Clusters => Self::Clusters,
            Context::Modal => Self::Modal,
            Context::Typing => Self::Typing,
            Context::Filter => Self::Filter,
            Context::Pods => Self::Pods,
            Context::Logs => Self::Logs,
            Context::LogSearch => Self::LogSearch,
            Context::Revisions => Self::Revisions,
            Context::Yaml => Self::Yaml,
            Context::YamlSearch => Self::YamlSearch,
            Context::Message => Self::Message,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Hint {
    pub at: HintAt,
    pub rank: u8,
    pub key: &'static str,
    pub text: &'static str,
}

/// A help-screen line: (section, keys as written, what they do).
pub type HelpLine = (Section, &'static str, &'static str);

/// One row of the key map.
#[derive(Debug, Clone, Copy)]
pub struct KeyRow {
    /// The keys and the command each triggers.
    pub binds: &'static [(Key, Command)],
    /// Contexts where the keys are active.
    pub when: &'static [Context],
    /// The key as the action bar and footer write it.
    pub label: &'static str,
    pub help: Option<HelpLine>,
    pub hints: &'static [Hint],
}

const fn hint(at: HintAt, rank: u8, key: &'static str, text: &'static str) -> Hint {
    Hint {
        at,
        rank,
        key,
        text,
    }
}

const fn row(
    binds: &'static [(Key, Command)],
    when: &'static [Context],
    label: &'static str,
    help: Option<HelpLine>,
    hints: &'static [Hint],
) -> KeyRow {
    KeyRow {
        binds,
        when,
        label,
        help,
        hints,
    }
}

/// Where keys are read now: the modal over everything, then filter editing, then the screen.
pub fn context(state: &State) -> Context {
    if let Some(m) = &state.view.modal {
        return if m.must_type.is_some() {
            Context::Typing
        } else {
            Context::Modal
        };
    }
    if state.view.filter_editing {
        return Context::Filter;
    }
    if state.view.screen == Screen::Logs {
        return match &state.logs {
            Some(l) if l.search_editing => Context::LogSearch,
            _ => Context::Logs,
        };
    }
    match state.view.screen {
        Screen::Home => Context::Home,
        Screen::Detail => Context::Detail,
        Screen::Help => Context::Help,
        Screen::Audit => Context::Audit,
        Screen::Clusters => Context::Clusters,
        Screen::Pods => Context::Pods,
        Screen::Logs => Context::Logs,
        Screen::Revisions => Context::Revisions,
        Screen::Yaml if state.view.yaml.as_ref().is_some_and(|y| y.searching) => {
            Context::YamlSearch
        }
        Screen::Yaml => Context::Yaml,
        Screen::Message => Context::Message,
    }
}

/// The command `key` triggers in `ctx`, if any (first matching row wins).
pub fn command(ctx: Context, key: Key) -> Option<Command> {
    TABLE
        .iter()
        .filter(|r| r.when.contains(&ctx))
        .flat_map(|r| r.binds.iter())
        .find(|(k, _)| *k == key)
        .map(|(_, c)| *c)
}

/// The footer hints for `at`, most useful first.
pub fn hints(at: HintAt) -> Vec<(&'static str, &'static str)> {
    let mut found: Vec<&Hint> = TABLE
        .iter()
        .flat_map(|r| r.hints.iter())
        .filter(|h| h.at == at)
        .collect();
    found.sort_by_key(|h| h.rank);
    found.into_iter().map(|h| (h.key, h.text)).collect()
}

/// A footer line's content: hints, most useful first (the tail is dropped when short of
/// room), and the one hint kept at the end whatever the width (`? help`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Footer {
    pub hints: Vec<(&'static str, &'static str)>,
    pub last: Option<(&'static str, &'static str)>,
}

/// The footer for the current context. On the home screen (releases panel) and the detail
/// screen it offers the action keys that are enabled for the selected release — most useful
/// for its phase first, disabled ones left out (the action bar says why) — from the key
/// table's action rows; `short` on narrow terminals.
pub fn footer(state: &State, short: bool) -> Footer {
    let ctx = context(state);
    let at = HintAt::of(ctx, short);
    let mut out = Footer::default();
    let mut rest = Vec::new();
    for (row, h) in TABLE
        .iter()
        .flat_map(|r| r.hints.iter().map(move |h| (r, h)))
        .filter(|(_, h)| h.at == at)
    {
        let is_action = matches!(row.binds, [(_, Command::Act(_))]);
        if row.binds.iter().any(|(_, c)| *c == Command::Help) {
            out.last = Some((h.key, h.text));
        } else if !is_action || !matches!(ctx, Context::Home | Context::Detail) {
            rest.push((h.rank, h.key, h.text));
        }
    }
    rest.sort_by_key(|(rank, ..)| *rank);
    let rest = rest.into_iter().map(|(_, k, t)| (k, t));
    let actions = match ctx {
        Context::Home if state.view.panel == Panel::Releases => enabled_actions(state),
        Context::Detail => enabled_actions(state),
        _ => Vec::new(),
    };
    out.hints = match ctx {
        // Detail: "Esc back" first (leaving is always possible), then the actions.
        Context::Detail => {
            let mut rest: Vec<_> = rest.collect();
            let back = (!rest.is_empty()).then(|| rest.remove(0));
            back.into_iter().chain(actions).chain(rest).collect()
        }
        _ => actions.into_iter().chain(rest).collect(),
    };
    out
}

/// The action keys enabled for the selected release, most useful for its phase first:
/// (key label, what it does now, e.g. space → "resume" on a paused release).
fn enabled_actions(state: &State) -> Vec<(&'static str, &'static str)> {
    let Some(r) = state.selected_release() else {
        return Vec::new();
    };
    let mut found: Vec<(usize, &'static str, ActionKind)> = action_keys()
        .map(|(key, kind)| (key, resolve(kind, r)))
        .filter(|(_, kind)| offer::offer(state, r, *kind).state.is_ok())
        .map(|(key, kind)| (usefulness(r.phase, kind), key, kind))
        .collect();
    found.sort_by_key(|(rank, ..)| *rank);
    found
        .into_iter()
        .map(|(_, key, kind)| (key, kind.label()))
        .collect()
}

/// Footer order of the actions by what a release in `phase` most likely needs: a failing
/// one a retry or a way back, a paused one a decision, a progressing one a brake.
fn usefulness(phase: Phase, kind: ActionKind) -> usize {
    use ActionKind as A;
    let order: &[ActionKind] = match phase {
        Phase::Degraded | Phase::Unparseable => &[
            A::Retry,
            A::Undo,
            A::Abort,
            A::Promote,
            A::PromoteFull,
            A::Resume,
            A::Pause,
        ],
        Phase::Paused => &[A::Promote, A::Resume, A::Abort, A::PromoteFull, A::Undo],
        Phase::Progressing => &[A::Pause, A::Abort, A::Promote, A::PromoteFull, A::Undo],
        Phase::Healthy => &[A::Undo, A::Restart, A::Pause, A::Resume],
    };
    order
        .iter()
        .position(|k| *k == kind)
        .unwrap_or(order.len() + kind as usize)
}

/// The hints for `at` as one line: `key what · key what`.
pub fn hint_line(at: HintAt) -> String {
    let words: Vec<String> = hints(at)
        .into_iter()
        .map(|(key, what)| format!("{key} {what}"))
        .collect();
    words.join(" · ")
}

/// The key label of the first main-screen row that triggers `cmd` (e.g. `p` for promote).
pub fn label_of(cmd: Command) -> Option<&'static str> {
    TABLE
        .iter()
        .find(|r| r.when == MAIN && r.binds.iter().any(|(_, c)| *c == cmd))
        .map(|r| r.label)
}

/// The help lines of one section, in table order: (keys as written, what they do).
pub fn help(section: Section) -> impl Iterator<Item = (&'static str, &'static str)> {
    TABLE
        .iter()
        .filter_map(|r| r.help)
        .filter(move |(s, _, _)| *s == section)
        .map(|(_, keys, text)| (keys, text))
}

/// The action keys in key-map order: (key label, the action the row names).
pub fn action_keys() -> impl Iterator<Item = (&'static str, ActionKind)> {
    TABLE.iter().filter_map(|r| match r.binds {
        [(_, Command::Act(kind))] if r.when == MAIN => Some((r.label, *kind)),
        _ => None,
    })
}

/// The action a key's row means for this release: space toggles pause / resume, and on a
/// manually paused Deployment `p` resumes it (the nearest thing to "promote").
pub fn resolve(kind: ActionKind, r: &Release) -> ActionKind {
    let paused = r.facts.spec_paused;
    match kind {
        ActionKind::Pause if paused => ActionKind::Resume,
        ActionKind::Promote if paused && r.key.kind == ReleaseKind::Deployment => {
            ActionKind::Resume
        }
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::table::ALL;
    use super::*;

    #[test]
    fn no_key_is_bound_twice_in_one_context() {
        for ctx in ALL {
            let keys: Vec<Key> = TABLE
                .iter()
                .filter(|r| r.when.contains(ctx))
                .flat_map(|r| r.binds.iter().map(|(k, _)| *k))
                .collect();
            for (i, k) in keys.iter().enumerate() {
                assert!(!keys[i + 1..].contains(k), "{k:?} bound twice in {ctx:?}");
            }
        }
    }

    #[test]
    fn hints_have_distinct_ranks_per_footer() {
        let all = TABLE.iter().flat_map(|r| r.hints.iter());
        for h in all.clone() {
            let same = all.clone().filter(|o| o.at == h.at && o.rank == h.rank);
            assert_eq!(same.count(), 1, "{h:?}");
        }
    }

    #[test]
    fn action_keys_follow_the_key_map() {
        let labels: Vec<&str> = action_keys().map(|(k, _)| k).collect();
        assert_eq!(
            labels,
            ["space", "p", "P", "a", "R", "u", "r", "t", "s", "f"]
        );
    }

    #[test]
    fn modal_hint_lines_read_as_before() {
        assert_eq!(
            hint_line(HintAt::TypingBox),
            "Tab focus Confirm · Enter activates focused · Esc cancel"
        );
        assert_eq!(
            hint_line(HintAt::ModalBox),
            "y confirm · n/Esc cancel · Enter activates focused"
        );
        assert_eq!(label_of(Command::Act(ActionKind::Promote)), Some("p"));
    }

    #[test]
    fn space_toggles_and_p_resumes_a_paused_deployment() {
        let s = crate::core::testkit::fleet();
        for r in s.releases.values() {
            let mut paused = r.clone();
            paused.facts.spec_paused = true;
            assert_eq!(resolve(ActionKind::Pause, r), ActionKind::Pause);
            assert_eq!(resolve(ActionKind::Pause, &paused), ActionKind::Resume);
            let p = resolve(ActionKind::Promote, &paused);
            match r.key.kind {
                ReleaseKind::Deployment => assert_eq!(p, ActionKind::Resume),
                _ => assert_eq!(p, ActionKind::Promote),
            }
            assert_eq!(resolve(ActionKind::Abort, &paused), ActionKind::Abort);
        }
    }

    fn footer_keys(f: &Footer) -> Vec<&'static str> {
        f.hints.iter().map(|(k, _)| *k).collect()
    }

    fn select(s: &mut State, kind: ReleaseKind) {
        let i = s.view.order.iter().position(|k| k.kind == kind);
        s.view.selected = i.unwrap_or_else(|| panic!("no {kind:?} in the fleet"));
    }

    /// A running Deployment offers pause and restart; promote, promote-full, abort and retry
    /// do not apply, so neither footer advertises them; `? help` ends both.
    #[test]
    fn a_deployment_footer_offers_no_promote_or_abort() {
        let mut s = crate::core::testkit::fleet();
        select(&mut s, ReleaseKind::Deployment);
        for (screen, short) in [
            (Screen::Home, true),
            (Screen::Home, false),
            (Screen::Detail, true),
        ] {
            s.view.screen = screen;
            let f = footer(&s, short);
            let keys = footer_keys(&f);
            for k in ["p", "P", "a", "R"] {
                assert!(!keys.contains(&k), "{screen:?}: {keys:?}");
            }
            assert!(keys.contains(&"space") && keys.contains(&"r"), "{keys:?}");
            assert_eq!(f.last, Some(("?", "help")), "{screen:?}");
        }
        s.view.screen = Screen::Detail;
        assert_eq!(footer_keys(&footer(&s, true))[0], "Esc", "back comes first");
    }

    /// A step-paused Rollout needs a decision: promote leads the home footer.
    #[test]
    fn a_paused_rollout_footer_leads_with_promote() {
        let mut s = crate::core::testkit::fleet();
        select(&mut s, ReleaseKind::Rollout);
        let f = footer(&s, true);
        assert_eq!(f.hints[0], ("p", "promote"), "{f:?}");
        assert!(footer_keys(&f).contains(&"a"), "{f:?}");
    }

    /// Every action key in the footer is exactly an enabled offer, on every release, on a
    /// writable and a read-only console (where none is offered).
    #[test]
    fn footer_actions_are_the_enabled_offers() {
        for read_only in [false, true] {
            let mut s = crate::core::testkit::fleet();
            s.settings.read_only = read_only;
            for i in 0..s.view.order.len() {
                s.view.selected = i;
                let Some(r) = s.selected_release().cloned() else {
                    continue;
                };
                let keys = footer_keys(&footer(&s, false));
                for (key, kind) in action_keys() {
                    let enabled = offer::offer(&s, &r, resolve(kind, &r)).state.is_ok();
                    assert_eq!(keys.contains(&key), enabled, "{key} on {}", r.key);
                    assert!(!(read_only && enabled), "read-only offers {key}");
                }
            }
        }
    }

    /// Other panels and screens keep their table hints; the filter footer has no help.
    #[test]
    fn other_footers_come_from_the_table() {
        let mut s = crate::core::testkit::fleet();
        s.view.panel = Panel::Failures;
        let f = footer(&s, true);
        assert!(!footer_keys(&f).contains(&"p"), "{f:?}");
        assert_eq!(f.hints[0], ("/", "filter"));
        s.view.panel = Panel::Releases;
        s.view.filter_editing = true;
        let f = footer(&s, true);
        assert_eq!(footer_keys(&f), ["Enter", "Esc", "←/→"]);
        assert_eq!(f.last, None);
    }

    #[test]
    fn ctrl_c_quits_everywhere() {
        for ctx in ALL {
            assert_eq!(command(*ctx, Key::Ctrl('c')), Some(Command::Quit));
        }
    }
}
