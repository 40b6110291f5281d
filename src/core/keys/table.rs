//! The rows of the key map (DESIGN.md "Key map"): data only. Add a key here and every
//! reader — key handling, footer, help, action bar — picks it up; never change a key.

use super::HintAt;
use super::{Command, Context, KeyRow, Section, hint, row};
use crate::core::action::ActionKind;
use crate::core::msg::Key;

pub(super) const MAIN: &[Context] = &[Context::Home, Context::Detail];
const HOME: &[Context] = &[Context::Home];
const DETAIL: &[Context] = &[Context::Detail];
const PODS: &[Context] = &[Context::Pods];
pub(super) const ALL: &[Context] = &[
    Context::Home,
    Context::Detail,
    Context::Help,
    Context::Audit,
    Context::Clusters,
    Context::Modal,
    Context::Typing,
    Context::Filter,
    Context::Pods,
    Context::Logs,
    Context::LogSearch,
    Context::Revisions,
    Context::Yaml,
    Context::YamlSearch,
    Context::Message,
];

use Command as C;
use HintAt as H;
use Key as K;
use Section as S;

const UP_DOWN: &[(Key, Command)] = &[
    (K::Char('j'), C::Down),
    (K::Down, C::Down),
    (K::Char('k'), C::Up),
    (K::Up, C::Up),
];

/// The key map. Help lists rows with help text in this order, section by section.
pub const TABLE: &[KeyRow] = &[
    // Global: Ctrl-c quits from anywhere, even a modal or the filter.
    row(&[(K::Ctrl('c'), C::Quit)], ALL, "Ctrl-c", None, &[]),
    // Home and detail.
    row(
        UP_DOWN,
        MAIN,
        "j/k",
        Some((S::Move, "j / k, ↓ / ↑", "move the selection")),
        &[hint(H::Home, 0, "j/k", "move")],
    ),
    row(
        &[(K::PageDown, C::PageDown), (K::PageUp, C::PageUp)],
        MAIN,
        "PgDn/PgUp",
        Some((S::Move, "PgDn / PgUp", "move a page")),
        &[],
    ),
    row(
        &[
            (K::Char('g'), C::First),
            (K::Home, C::First),
            (K::Char('G'), C::Last),
            (K::End, C::Last),
        ],
        MAIN,
        "g/G",
        Some((S::Move, "g / G", "first / last")),
        &[],
    ),
    row(
        &[(K::Tab, C::NextPanel), (K::BackTab, C::PrevPanel)],
        HOME,
        "Tab",
        Some((S::Move, "Tab", "next panel (releases, SLOs, failures)")),
        &[
            hint(H::HomeShort, 4, "Tab", "panel"),
            hint(H::Home, 2, "Tab", "panel"),
        ],
    ),
    row(
        &[(K::Enter, C::Open)],
        HOME,
        "Enter",
        Some((S::Move, "Enter", "open the selected release's detail")),
        &[
            hint(H::HomeShort, 2, "Enter", "detail"),
            hint(H::Home, 1, "Enter", "detail"),
        ],
    ),
    row(
        &[(K::Esc, C::Back)],
        MAIN,
        "Esc",
        Some((S::Move, "Esc", "back; close the modal; clear the filter")),
        &[hint(H::Detail, 0, "Esc", "back")],
    ),
    row(
        &[(K::Char('/'), C::Filter)],
        MAIN,
        "/",
        Some((
            S::Views,
            "/",
            "filter: words (all must match), cluster: ns: kind: phase: terms, cluster/ns/name paths — see Filter below (Esc clears)",
        )),
        &[
            hint(H::HomeShort, 1, "/", "filter"),
            hint(H::Home, 3, "/", "filter"),
        ],
    ),
    row(
        &[(K::Char('c'), C::Clusters)],
        MAIN,
        "c",
        Some((S::Views, "c", "choose the clusters shown")),
        &[
            hint(H::HomeShort, 3, "c", "clusters"),
            hint(H::Home, 4, "c", "clusters"),
        ],
    ),
    row(
        &[(K::Char('L'), C::Audit)],
        MAIN,
        "L",
        Some((S::Views, "L", "audit log of this console's actions")),
        &[hint(H::Home, 5, "L", "audit")],
    ),
    row(
        &[(K::Char('y'), C::Copy), (K::Char('Y'), C::CopyKubectl)],
        MAIN,
        "y/Y",
        Some((
            S::Views,
            "y / Y",
            "copy cluster/namespace/name / the kubectl command (OSC 52)",
        )),
        &[],
    ),
    row(
        &[(K::Char('?'), C::Help)],
        MAIN,
        "?",
        // `m` shares the line: the help's first page at 80x24 is full.
        Some((
            S::Views,
            "? / m",
            "this help / the selection's full message (wrapped, scrollable)",
        )),
        &[
            hint(H::HomeShort, 0, "?", "help"),
            hint(H::Home, 10, "?", "help"),
            hint(H::Detail, 8, "?", "help"),
        ],
    ),
    row(
        &[(K::Char('q'), C::Quit)],
        MAIN,
        "q",
        Some((S::Views, "q, Ctrl-c", "quit (restores the terminal)")),
        &[
            hint(H::HomeShort, 5, "q", "quit"),
            hint(H::Home, 11, "q", "quit"),
        ],
    ),
    // Actions on the selected release, in the action bar's order.
    row(
        &[(K::Char(' '), C::Act(ActionKind::Pause))],
        MAIN,
        "space",
        Some((S::Actions, "space", "pause / resume (manual pause)")),
        &[
            hint(H::Home, 6, "space", "pause"),
            hint(H::Detail, 1, "space", "pause/resume"),
        ],
    ),
    row(
        &[(K::Char('p'), C::Act(ActionKind::Promote))],
        MAIN,
        "p",
        Some((
            S::Actions,
            "p",
            "promote / resume: go to the next step (releases a step pause)",
        )),
        &[
            hint(H::Home, 7, "p", "promote"),
            hint(H::Detail, 2, "p", "promote"),
        ],
    ),
    row(
        &[(K::Char('P'), C::Act(ActionKind::PromoteFull))],
        MAIN,
        "P",
        Some((
            S::Actions,
            "P",
            "promote fully: skip the remaining steps and analysis",
        )),
        &[hint(H::Detail, 3, "P", "full")],
    ),
    row(
        &[(K::Char('a'), C::Act(ActionKind::Abort))],
        MAIN,
        "a",
        Some((
            S::Actions,
            "a",
            "abort (weight back to 0; the template keeps the new version)",
        )),
        &[
            hint(H::Home, 8, "a", "abort"),
            hint(H::Detail, 4, "a", "abort"),
        ],
    ),
    row(
        &[(K::Char('R'), C::Act(ActionKind::Retry))],
        MAIN,
        "R",
        Some((S::Actions, "R", "retry an aborted rollout")),
        &[hint(H::Detail, 5, "R", "retry")],
    ),
    row(
        &[(K::Char('u'), C::Act(ActionKind::Undo))],
        MAIN,
        "u",
        Some((S::Actions, "u", "undo: roll back to the previous revision")),
        &[
            hint(H::Home, 9, "u", "undo"),
            hint(H::Detail, 6, "u", "undo"),
        ],
    ),
    row(
        &[(K::Char('r'), C::Act(ActionKind::Restart))],
        MAIN,
        "r",
        Some((S::Actions, "r", "restart pods")),
        &[hint(H::Detail, 7, "r", "restart")],
    ),
    row(
        &[(K::Char('t'), C::Act(ActionKind::Terminate))],
        MAIN,
        "t",
        Some((
            S::Actions,
            "t",
            "terminate: stop the running Experiment or AnalysisRun (Argo Rollouts) or operation (Argo CD)",
        )),
        &[],
    ),
    row(
        &[(K::Char('s'), C::Act(ActionKind::Sync))],
        MAIN,
        "s",
        Some((S::Actions, "s", "sync (Argo CD) / reconcile now (Flux)")),
        &[],
    ),
    row(
        &[(K::Char('f'), C::Act(ActionKind::Refresh))],
        MAIN,
        "f",
        Some((S::Actions, "f", "hard refresh (Argo CD application)")),
        &[],
    ),
    // The confirmation modal.
    row(
        &[(K::Char('y'), C::Confirm)],
        &[Context::Modal],
        "y",
        Some((S::Confirmation, "y", "confirm")),
        &[
            hint(H::Modal, 0, "y", "confirm"),
            hint(H::ModalBox, 0, "y", "confirm"),
        ],
    ),
    row(
        &[(K::Char('n'), C::Cancel), (K::Esc, C::Cancel)],
        &[Context::Modal],
        "n/Esc",
        Some((S::Confirmation, "n, Esc", "cancel")),
        &[
            hint(H::Modal, 1, "n/Esc", "cancel"),
            hint(H::ModalBox, 1, "n/Esc", "cancel"),
        ],
    ),
    row(
        &[(K::Esc, C::Cancel)],
        &[Context::Typing],
        "Esc",
        None,
        &[
            hint(H::Typing, 2, "Esc", "cancel"),
            hint(H::TypingBox, 2, "Esc", "cancel"),
        ],
    ),
    row(
        &[
            (K::Tab, C::Focus),
            (K::BackTab, C::Focus),
            (K::Left, C::Focus),
            (K::Right, C::Focus),
        ],
        &[Context::Modal],
        "Tab",
        Some((
            S::Confirmation,
            "Tab",
            "move focus between Cancel and Confirm (focus starts on Cancel)",
        )),
        &[hint(H::Modal, 2, "Tab", "focus")],
    ),
    // While typing, ←/→ move the text cursor; only Tab moves the focus.
    row(
        &[(K::Tab, C::Focus), (K::BackTab, C::Focus)],
        &[Context::Typing],
        "Tab",
        None,
        &[
            hint(H::Typing, 0, "Tab", "focus Confirm"),
            hint(H::TypingBox, 0, "Tab", "focus Confirm"),
        ],
    ),
    row(
        &[(K::Enter, C::Activate)],
        &[Context::Modal, Context::Typing],
        "Enter",
        Some((S::Confirmation, "Enter", "activate the focused button")),
        &[
            hint(H::Modal, 3, "Enter", "activate"),
            hint(H::Typing, 1, "Enter", "activate"),
            hint(H::ModalBox, 2, "Enter", "activates focused"),
            hint(H::TypingBox, 1, "Enter", "activates focused"),
        ],
    ),
    // Filter editing (other keys edit the text).
    row(
        &[(K::Enter, C::KeepFilter)],
        &[Context::Filter],
        "Enter",
        None,
        &[hint(H::Filter, 0, "Enter", "keep filter")],
    ),
    row(
        &[(K::Esc, C::ClearFilter)],
        &[Context::Filter],
        "Esc",
        None,
        &[hint(H::Filter, 1, "Esc", "clear")],
    ),
    row(
        &[(K::Left, C::EditText), (K::Right, C::EditText)],
        &[Context::Filter],
        "←/→",
        None,
        &[hint(H::Filter, 2, "←/→", "move")],
    ),
    // Help, audit and cluster screens.
    row(
        UP_DOWN,
        &[Context::Help, Context::Audit],
        "j/k",
        None,
        &[
            hint(H::Help, 0, "j/k", "scroll"),
            hint(H::Audit, 0, "j/k", "scroll"),
        ],
    ),
    row(
        &[
            (K::Char('g'), C::First),
            (K::Home, C::First),
            (K::Char('G'), C::Last),
            (K::End, C::Last),
        ],
        &[Context::Help],
        "g/G",
        None,
        &[hint(H::Help, 1, "g/G", "top/end")],
    ),
    row(
        &[(K::PageDown, C::PageDown), (K::PageUp, C::PageUp)],
        &[Context::Help],
        "PgDn/PgUp",
        None,
        &[hint(H::Help, 3, "PgDn/PgUp", "page")],
    ),
    row(
        &[
            (K::Char('g'), C::First),
            (K::Home, C::First),
            (K::Char('G'), C::Last),
            (K::End, C::Last),
        ],
        &[Context::Audit],
        "g/G",
        None,
        &[hint(H::Audit, 1, "g/G", "top/end")],
    ),
    row(
        &[(K::Char('a'), C::ShowAll)],
        &[Context::Audit],
        "a",
        Some((S::Views, "a (audit log)", "all sessions / this session")),
        &[hint(H::Audit, 3, "a", "all sessions")],
    ),
    row(
        &[
            (K::Esc, C::Back),
            (K::Char('?'), C::Back),
            (K::Char('q'), C::Back),
        ],
        &[Context::Help],
        "Esc",
        None,
        &[hint(H::Help, 2, "Esc", "back")],
    ),
    row(
        &[
            (K::Esc, C::Back),
            (K::Char('L'), C::Back),
            (K::Char('q'), C::Back),
        ],
        &[Context::Audit],
        "Esc",
        None,
        &[hint(H::Audit, 2, "Esc", "back")],
    ),
    row(
        UP_DOWN,
        &[Context::Clusters],
        "j/k",
        None,
        &[hint(H::Clusters, 0, "j/k", "move")],
    ),
    row(
        &[(K::Char(' '), C::Toggle), (K::Char('x'), C::Toggle)],
        &[Context::Clusters],
        "space",
        None,
        &[hint(H::Clusters, 1, "space", "toggle")],
    ),
    row(
        &[(K::Char('a'), C::ShowAll)],
        &[Context::Clusters],
        "a",
        None,
        &[hint(H::Clusters, 2, "a", "all")],
    ),
    row(
        &[
            (K::Esc, C::Back),
            (K::Enter, C::Back),
            (K::Char('c'), C::Back),
            (K::Char('q'), C::Back),
        ],
        &[Context::Clusters],
        "Esc",
        None,
        &[hint(H::Clusters, 3, "Esc", "done")],
    ),
    // The detail screen's ReplicaSet rows and the pods screen (core::inspect).
    row(
        &[(K::Tab, C::NextPanel), (K::BackTab, C::PrevPanel)],
        DETAIL,
        "Tab",
        // No help line: the help's first page at 80x24 is full; the footer says it.
        None,
        &[hint(H::Detail, 9, "Tab", "ReplicaSet")],
    ),
    row(
        &[(K::Enter, C::Open)],
        DETAIL,
        "Enter",
        // No help line: the help's first page at 80x24 is full; the footer says it.
        None,
        &[hint(H::Detail, 10, "Enter", "pods")],
    ),
    row(
        UP_DOWN,
        PODS,
        "j/k",
        None,
        &[hint(H::Pods, 0, "j/k", "pod")],
    ),
    row(
        &[
            (K::Char('g'), C::First),
            (K::Home, C::First),
            (K::Char('G'), C::Last),
            (K::End, C::Last),
        ],
        PODS,
        "g/G",
        None,
        &[],
    ),
    row(
        &[(K::Esc, C::Back), (K::Char('q'), C::Back)],
        PODS,
        "Esc",
        // No help line: the help's first page at 80x24 is full; the footer says it.
        None,
        &[hint(H::Pods, 1, "Esc", "back")],
    ),
    row(
        &[(K::Char('l'), C::Logs)],
        PODS,
        "l",
        None,
        &[hint(H::Pods, 2, "l", "logs")],
    ),
    // The log viewer (`core::logs`): `l` opens it from home or detail.
    row(
        &[(K::Char('l'), C::Logs)],
        MAIN,
        "l",
        Some((
            S::Logs,
            "l",
            "logs: follow the selected release's canary pods (last 200 lines each, labelled by pod)",
        )),
        &[],
    ),
    row(
        UP_DOWN,
        LOGS,
        "j/k",
        None,
        &[hint(H::Logs, 5, "j/k", "scroll")],
    ),
    row(
        &[(K::PageDown, C::PageDown), (K::PageUp, C::PageUp)],
        LOGS,
        "PgDn/PgUp",
        None,
        &[],
    ),
    row(
        &[
            (K::Char('g'), C::First),
            (K::Home, C::First),
            (K::Char('G'), C::Last),
            (K::End, C::Last),
        ],
        LOGS,
        "g/G",
        Some((
            S::Logs,
            "g / G",
            "oldest kept line / the end, following again",
        )),
        &[],
    ),
    row(
        &[(K::Char(' '), C::LogFollow)],
        LOGS,
        "space",
        Some((
            S::Logs,
            "space · / n N",
            "pause / follow again · search, next / previous match",
        )),
        &[hint(H::Logs, 1, "space", "pause")],
    ),
    row(
        &[(K::Char('/'), C::Filter)],
        LOGS,
        "/",
        None,
        &[hint(H::Logs, 2, "/", "search")],
    ),
    row(
        &[(K::Char('n'), C::LogNext)],
        LOGS,
        "n",
        None,
        &[hint(H::Logs, 6, "n/N", "match")],
    ),
    row(&[(K::Char('N'), C::LogPrev)], LOGS, "N", None, &[]),
    row(
        &[(K::Char('w'), C::LogWrap)],
        LOGS,
        "w",
        Some((S::Logs, "w", "wrap long lines / cut them")),
        &[hint(H::Logs, 3, "w", "wrap")],
    ),
    row(
        &[(K::Tab, C::LogPod)],
        LOGS,
        "Tab",
        Some((S::Logs, "Tab", "all pods interleaved → one pod → the next")),
        &[hint(H::Logs, 4, "Tab", "pod")],
    ),
    row(
        &[(K::Char('p'), C::LogPrevious)],
        LOGS,
        "p",
        Some((
            S::Logs,
            "p",
            "the previous container's log (after a restart) / the current one",
        )),
        &[hint(H::Logs, 7, "p", "previous")],
    ),
    row(
        &[(K::Esc, C::Back), (K::Char('q'), C::Back)],
        LOGS,
        "Esc",
        None,
        &[hint(H::Logs, 0, "Esc", "back")],
    ),
    row(
        &[(K::Enter, C::KeepFilter)],
        &[Context::LogSearch],
        "Enter",
        None,
        &[hint(H::LogSearch, 0, "Enter", "find")],
    ),
    row(
        &[(K::Esc, C::ClearFilter)],
        &[Context::LogSearch],
        "Esc",
        None,
        &[hint(H::LogSearch, 1, "Esc", "cancel")],
    ),
    // Revisions, YAML and history (issue 12).
    row(
        &[(K::Char('v'), C::Revisions)],
        MAIN,
        "v",
        Some((
            S::Views,
            "v / o / H",
            "revisions (Enter/u: undo to one) / YAML (/ n N) / every release",
        )),
        &[],
    ),
    row(
        &[(K::Char('o'), C::Yaml)],
        &[Context::Home, Context::Detail, Context::Revisions],
        "o",
        None,
        &[hint(H::Revisions, 4, "o", "yaml")],
    ),
    row(&[(K::Char('H'), C::History)], HOME, "H", None, &[]),
    row(
        UP_DOWN,
        &[Context::Revisions, Context::Yaml],
        "j/k",
        None,
        &[
            hint(H::Revisions, 0, "j/k", "move"),
            hint(H::Yaml, 0, "j/k", "scroll"),
        ],
    ),
    row(
        &[
            (K::Char('g'), C::First),
            (K::Home, C::First),
            (K::Char('G'), C::Last),
            (K::End, C::Last),
            (K::PageDown, C::PageDown),
            (K::PageUp, C::PageUp),
        ],
        &[Context::Revisions, Context::Yaml],
        "g/G",
        None,
        &[hint(H::Yaml, 1, "g/G", "top/end")],
    ),
    row(
        &[
            (K::Enter, C::Act(ActionKind::Undo)),
            (K::Char('u'), C::Act(ActionKind::Undo)),
        ],
        &[Context::Revisions],
        "Enter/u",
        None,
        &[hint(H::Revisions, 1, "Enter/u", "undo to this")],
    ),
    row(
        &[(K::Char('/'), C::Filter)],
        &[Context::Yaml],
        "/",
        None,
        &[hint(H::Yaml, 2, "/", "search")],
    ),
    row(
        &[(K::Char('n'), C::NextMatch), (K::Char('N'), C::PrevMatch)],
        &[Context::Yaml],
        "n/N",
        None,
        &[hint(H::Yaml, 3, "n/N", "next/prev")],
    ),
    row(
        &[(K::Enter, C::KeepFilter)],
        &[Context::YamlSearch],
        "Enter",
        None,
        &[hint(H::YamlSearch, 0, "Enter", "search")],
    ),
    row(
        &[(K::Esc, C::ClearFilter)],
        &[Context::YamlSearch],
        "Esc",
        None,
        &[hint(H::YamlSearch, 1, "Esc", "cancel")],
    ),
    row(
        &[
            (K::Esc, C::Back),
            (K::Char('q'), C::Back),
            (K::Char('v'), C::Back),
        ],
        &[Context::Revisions],
        "Esc",
        None,
        &[hint(H::Revisions, 5, "Esc", "back")],
    ),
    row(
        &[
            (K::Esc, C::Back),
            (K::Char('q'), C::Back),
            (K::Char('o'), C::Back),
        ],
        &[Context::Yaml],
        "Esc",
        None,
        &[hint(H::Yaml, 5, "Esc", "back")],
    ),
    // The message view (`core::message`): `m` opens it from home, detail and pods.
    row(
        &[(K::Char('m'), C::Message)],
        &[Context::Home, Context::Detail, Context::Pods],
        "m",
        None,
        &[
            hint(H::Detail, 11, "m", "message"),
            hint(H::Pods, 3, "m", "message"),
        ],
    ),
    row(
        UP_DOWN,
        MESSAGE,
        "j/k",
        None,
        &[hint(H::Message, 0, "j/k", "scroll")],
    ),
    row(
        &[
            (K::Char('g'), C::First),
            (K::Home, C::First),
            (K::Char('G'), C::Last),
            (K::End, C::Last),
        ],
        MESSAGE,
        "g/G",
        None,
        &[hint(H::Message, 1, "g/G", "top/end")],
    ),
    row(
        &[(K::PageDown, C::PageDown), (K::PageUp, C::PageUp)],
        MESSAGE,
        "PgDn/PgUp",
        None,
        &[hint(H::Message, 2, "PgDn/PgUp", "page")],
    ),
    row(
        &[
            (K::Esc, C::Back),
            (K::Char('q'), C::Back),
            (K::Char('m'), C::Back),
        ],
        MESSAGE,
        "Esc",
        None,
        &[hint(H::Message, 3, "Esc", "back")],
    ),
];

const LOGS: &[Context] = &[Context::Logs];
const MESSAGE: &[Context] = &[Context::Message];
