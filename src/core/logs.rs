//! The log viewer's state: which containers are streamed (one pod, or every canary pod of a
//! release, interleaved and labelled by pod), a bounded ring of their lines, follow/pause,
//! wrap, one-pod focus, search and the previous container's log. Pure: the streams are
//! opened and closed by `Effect::Logs` (carried out in `source::logs`), their lines arrive
//! as `Msg::Logs`. Every line is kept as `Untrusted` and only ever shown escaped.

use std::collections::VecDeque;

use tui_input::Input;

use super::effect::Effect;
use super::keys::Command;
use super::model::{Release, ReleaseKind, RsRole};
use super::msg::Key;
use super::state::{Screen, State};
use super::text::Untrusted;

/// Lines kept per log view; older lines fall off the front.
pub const RING: usize = 10_000;
/// Lines asked for when a stream starts (`kubectl logs --tail 200`).
pub const TAIL: u32 = 200;

/// What to stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LogSource {
    /// One pod's container (None: the pod's default container).
    Pod {
        pod: String,
        container: Option<String>,
    },
    /// Every pod owned by these ReplicaSets (a release's canary pods).
    ReplicaSets(Vec<String>),
}

/// One request to the log adapter: a session, its streams, how.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogRequest {
    pub session: u64,
    pub cluster: String,
    pub namespace: String,
    pub source: LogSource,
    pub tail: u32,
    pub follow: bool,
    pub previous: bool,
    /// Ask the API server first whether this identity may `get pods/log` (not on a
    /// read-only console: an access review is a create).
    pub check_access: bool,
}

/// What the core asks the log adapter to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LogCommand {
    Open(LogRequest),
    /// Stop every stream of a session (the view closed or was replaced).
    Close {
        session: u64,
    },
}

/// One container stream of a session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StreamName {
    pub pod: String,
    pub container: String,
}

/// What the log adapter reports for a session.
#[derive(Debug, Clone, PartialEq)]
pub enum LogEvent {
    /// The containers found for the session, in stream order.
    Streams {
        session: u64,
        streams: Vec<StreamName>,
    },
    Lines {
        session: u64,
        stream: usize,
        lines: Vec<Untrusted>,
    },
    /// A stream ended: None when the container's log simply ended, else what went wrong.
    Ended {
        session: u64,
        stream: usize,
        error: Option<Untrusted>,
    },
    /// The access review said no: the reason, as said to the user.
    Refused { session: u64, reason: Untrusted },
    /// The session could not start (pods could not be listed, no such pod…).
    Failed { session: u64, error: Untrusted },
}

impl LogEvent {
    fn session(&self) -> u64 {
        match self {
            Self::Streams { session, .. }
            | Self::Lines { session, .. }
            | Self::Ended { session, .. }
            | Self::Refused { session, .. }
            | Self::Failed { session, .. } => *session,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogLine {
    pub stream: usize,
    pub text: Untrusted,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Stream {
    pub name: StreamName,
    /// None while streaming; Some(None) ended cleanly; Some(Some(e)) ended with an error.
    pub ended: Option<Option<Untrusted>>,
}

/// The open log view.
#[derive(Debug)]
pub struct LogView {
    pub session: u64,
    pub cluster: String,
    pub namespace: String,
    /// What the title names: the release (`rollout web`) or the pod.
    pub title: String,
    pub source: LogSource,
    pub previous: bool,
    pub streams: Vec<Stream>,
    pub lines: VecDeque<LogLine>,
    /// Lines that fell off the front of the ring (the sequence number of `lines[0]`).
    pub dropped: u64,
    /// Following the end (false: paused, `top` fixed).
    pub follow: bool,
    /// Sequence number of the first line shown while paused.
    pub top: u64,
    /// Lines that arrived while paused (shown in the title).
    pub unseen: u64,
    pub wrap: bool,
    /// Show only this stream (None: all interleaved).
    pub only: Option<usize>,
    pub search: Input,
    pub search_editing: bool,
    /// Sequence number of the line the last `n`/`N` landed on.
    pub found: Option<u64>,
    /// The search found nothing (said in the footer line).
    pub not_found: bool,
    pub refused: Option<Untrusted>,
    pub error: Option<Untrusted>,
    /// The adapter reported its streams (until then: "connecting").
    pub started: bool,
    /// The screen to return to.
    pub back: Screen,
}

impl LogView {
    fn new(session: u64, cluster: &str, namespace: &str, title: String, source: LogSource) -> Self {
        LogView {
            session,
            cluster: cluster.to_string(),
            namespace: namespace.to_string(),
            title,
            source,
            previous: false,
            streams: Vec::new(),
            lines: VecDeque::new(),
            dropped: 0,
            follow: true,
            top: 0,
            unseen: 0,
            wrap: false,
            only: None,
            search: Input::default(),
            search_editing: false,
            found: None,
            not_found: false,
            refused: None,
            error: None,
            started: false,
            back: Screen::Home,
        }
    }

    /// Append one line, dropping the oldest past the ring's bound.
    pub fn push(&mut self, stream: usize, text: Untrusted) {
        if self.lines.len() == RING {
            self.lines.pop_front();
            self.dropped += 1;
        }
        self.lines.push_back(LogLine { stream, text });
        if !self.follow {
            self.unseen += 1;
            self.top = self.top.max(self.dropped);
        }
    }

    /// Sequence number one past the last line.
    pub fn end(&self) -> u64 {
        self.dropped + self.lines.len() as u64
    }

    /// The line with sequence number `seq`, if still kept.
    pub fn line(&self, seq: u64) -> Option<&LogLine> {
        let i = seq.checked_sub(self.dropped)?;
        self.lines.get(usize::try_from(i).ok()?)
    }

    /// Is this line shown under the current one-pod focus?
    pub fn shows(&self, line: &LogLine) -> bool {
        self.only.is_none_or(|o| o == line.stream)
    }

    /// Sequence numbers of the shown lines from `from` on (forward) .
    pub fn shown_from(&self, from: u64) -> impl Iterator<Item = (u64, &LogLine)> {
        let start = from.saturating_sub(self.dropped) as usize;
        self.lines
            .iter()
            .enumerate()
            .skip(start)
            .map(|(i, l)| (self.dropped + i as u64, l))
            .filter(|(_, l)| self.shows(l))
    }

    /// Sequence numbers of the shown lines before `before`, newest first.
    pub fn shown_before(&self, before: u64) -> impl Iterator<Item = (u64, &LogLine)> {
        let end = before
            .saturating_sub(self.dropped)
            .min(self.lines.len() as u64) as usize;
        self.lines
            .iter()
            .enumerate()
            .take(end)
            .rev()
            .map(|(i, l)| (self.dropped + i as u64, l))
            .filter(|(_, l)| self.shows(l))
    }

    /// The label of a stream's lines: its pod (and container when a pod has several).
    pub fn label(&self, stream: usize) -> String {
        let Some(s) = self.streams.get(stream) else {
            return String::new();
        };
        let several = self
            .streams
            .iter()
            .filter(|o| o.name.pod == s.name.pod)
            .count()
            > 1;
        if several {
            format!("{}/{}", s.name.pod, s.name.container)
        } else {
            s.name.pod.clone()
        }
    }

    /// Does a shown line match the search (case-insensitive, on the escaped text)?
    pub fn matches(&self, line: &LogLine) -> bool {
        let q = self.search.value();
        !q.is_empty()
            && line
                .text
                .shown()
                .to_ascii_lowercase()
                .contains(&q.to_ascii_lowercase())
    }

    /// The first shown line at or after `from` (the end when none).
    fn first_shown_from(&self, from: u64) -> u64 {
        self.shown_from(from).next().map_or(self.end(), |(s, _)| s)
    }

    /// The first shown line when paused at the current bottom page of `page` lines.
    fn top_of_last_page(&self, page: usize) -> u64 {
        self.shown_before(self.end())
            .take(page.max(1))
            .last()
            .map_or(self.end(), |(seq, _)| seq)
    }
}

/// Lines the log view shows at once on this terminal (title and footer excluded).
pub fn page(state: &State) -> usize {
    usize::from(state.view.height).saturating_sub(5).max(1)
}

/// Open one pod's log (tail 200, following): for the pods screen and tests.
pub fn open_pod(
    state: &mut State,
    cluster: &str,
    namespace: &str,
    pod: &str,
    container: Option<&str>,
) -> Vec<Effect> {
    let title = match container {
        Some(c) => format!("pod {pod} ({c})"),
        None => format!("pod {pod}"),
    };
    let source = LogSource::Pod {
        pod: pod.to_string(),
        container: container.map(str::to_string),
    };
    open(state, cluster, namespace, title, source)
}

/// The ReplicaSets whose pods are a release's "canary pods": a Rollout's canary (or preview)
/// ReplicaSet, a Flagger canary's target, a Deployment's new ReplicaSet — else, when nothing
/// is shipping, the newest (stable) one, so `l` always shows the pods serving now.
pub fn canary_replicasets(release: &Release) -> Vec<String> {
    let by_role = |role: RsRole| -> Vec<String> {
        release
            .revisions
            .iter()
            .filter(|r| r.role == role)
            .map(|r| r.name.clone())
            .collect()
    };
    let wanted = match release.key.kind {
        ReleaseKind::Rollout => by_role(RsRole::Canary),
        ReleaseKind::Deployment => by_role(RsRole::New),
        // A Flagger canary's "canary" ReplicaSet is its target Deployment's.
        _ => by_role(RsRole::Canary),
    };
    if !wanted.is_empty() {
        return wanted;
    }
    let newest = release
        .revisions
        .iter()
        .filter(|r| r.role == RsRole::Stable)
        .max_by_key(|r| r.revision);
    newest.map(|r| vec![r.name.clone()]).unwrap_or_default()
}

/// `l` on a release: follow every canary pod's log, interleaved.
pub fn open_release(state: &mut State) -> Vec<Effect> {
    let Some(r) = state.selected_release() else {
        state.dirty = false;
        return Vec::new();
    };
    let rs = canary_replicasets(r);
    let (cluster, namespace) = (r.key.cluster.clone(), r.key.namespace.clone());
    let title = format!("{} {}", r.key.kind.name(), r.key.name);
    if rs.is_empty() {
        state.view.notice = Some(super::state::Notice {
            text: format!("{title}: no ReplicaSet known yet — no pods to show logs of"),
            level: super::state::Level::Warn,
            at: state.now,
        });
        return Vec::new();
    }
    open(
        state,
        &cluster,
        &namespace,
        title,
        LogSource::ReplicaSets(rs),
    )
}

fn open(
    state: &mut State,
    cluster: &str,
    namespace: &str,
    title: String,
    source: LogSource,
) -> Vec<Effect> {
    let mut effects = close(state);
    let session = next_session(state);
    let mut view = LogView::new(session, cluster, namespace, title, source);
    view.back = match state.view.screen {
        Screen::Logs => Screen::Home,
        other => other,
    };
    effects.push(request(state, &view));
    state.logs = Some(view);
    state.view.screen = Screen::Logs;
    state.dirty = true;
    effects
}

fn next_session(state: &mut State) -> u64 {
    state.log_sessions += 1;
    state.log_sessions
}

fn request(state: &State, view: &LogView) -> Effect {
    let read_only =
        state.settings.read_only || state.cluster(&view.cluster).is_some_and(|c| c.read_only);
    Effect::Logs(LogCommand::Open(LogRequest {
        session: view.session,
        cluster: view.cluster.clone(),
        namespace: view.namespace.clone(),
        source: view.source.clone(),
        tail: TAIL,
        // A previous container's log is finished: nothing to follow.
        follow: !view.previous,
        previous: view.previous,
        check_access: !read_only,
    }))
}

/// Close the view's streams (if open).
fn close(state: &mut State) -> Vec<Effect> {
    match state.logs.take() {
        Some(v) => vec![Effect::Logs(LogCommand::Close { session: v.session })],
        None => Vec::new(),
    }
}

/// A report from the log adapter; reports for a closed session are dropped.
pub fn on_event(state: &mut State, event: LogEvent) {
    let Some(view) = state.logs.as_mut() else {
        return;
    };
    if view.session != event.session() {
        return;
    }
    match event {
        LogEvent::Streams { streams, .. } => {
            view.started = true;
            view.streams = streams
                .into_iter()
                .map(|name| Stream { name, ended: None })
                .collect();
        }
        LogEvent::Lines { stream, lines, .. } => {
            for l in lines {
                view.push(stream, l);
            }
        }
        LogEvent::Ended { stream, error, .. } => {
            if let Some(s) = view.streams.get_mut(stream) {
                s.ended = Some(error);
            }
        }
        LogEvent::Refused { reason, .. } => view.refused = Some(reason),
        LogEvent::Failed { error, .. } => view.error = Some(error),
    }
    state.dirty = true;
}

/// Keys in the log view (`Context::Logs`).
pub fn on_key(state: &mut State, cmd: Option<Command>) -> Vec<Effect> {
    let page = page(state);
    let Some(view) = state.logs.as_mut() else {
        state.view.screen = Screen::Home;
        return Vec::new();
    };
    match cmd {
        Some(Command::Back) => {
            let back = view.back;
            let effects = close(state);
            state.view.screen = back;
            return effects;
        }
        Some(Command::Down) => scroll(view, page, 1),
        Some(Command::Up) => scroll(view, page, -1),
        Some(Command::PageDown) => scroll(view, page, page as isize),
        Some(Command::PageUp) => scroll(view, page, -(page as isize)),
        Some(Command::First) => {
            view.follow = false;
            view.top = view.first_shown_from(0);
        }
        Some(Command::Last) => resume(view),
        Some(Command::LogFollow) => {
            if view.follow {
                view.top = view.top_of_last_page(page);
                view.follow = false;
                view.unseen = 0;
            } else {
                resume(view);
            }
        }
        Some(Command::LogWrap) => view.wrap = !view.wrap,
        Some(Command::LogPod) => {
            let n = view.streams.len();
            view.only = match view.only {
                _ if n < 2 => None,
                None => Some(0),
                Some(i) if i + 1 < n => Some(i + 1),
                Some(_) => None,
            };
            if !view.follow {
                view.top = view.first_shown_from(view.top);
            }
        }
        Some(Command::Filter) => {
            view.search_editing = true;
            view.search.reset();
            view.found = None;
            view.not_found = false;
        }
        Some(Command::LogNext) => find(view, page, true),
        Some(Command::LogPrev) => find(view, page, false),
        Some(Command::LogPrevious) => {
            view.previous = !view.previous;
            let (cluster, namespace, title, source) = (
                view.cluster.clone(),
                view.namespace.clone(),
                view.title.clone(),
                view.source.clone(),
            );
            let (previous, back) = (view.previous, view.back);
            let mut effects = close(state);
            let session = next_session(state);
            let mut fresh = LogView::new(session, &cluster, &namespace, title, source);
            fresh.previous = previous;
            fresh.back = back;
            effects.push(request(state, &fresh));
            state.logs = Some(fresh);
            return effects;
        }
        _ => state.dirty = false,
    }
    Vec::new()
}

/// Keys while typing a search (`Context::LogSearch`): Enter searches, Esc cancels.
pub fn on_search_key(state: &mut State, key: Key, cmd: Option<Command>) {
    let page = page(state);
    let Some(view) = state.logs.as_mut() else {
        return;
    };
    match cmd {
        Some(Command::KeepFilter) => {
            view.search_editing = false;
            find(view, page, false);
        }
        Some(Command::ClearFilter) => {
            view.search_editing = false;
            view.search.reset();
        }
        _ => {
            if let Some(req) = text_request(key) {
                view.search.handle(req);
            }
        }
    }
}

fn resume(view: &mut LogView) {
    view.follow = true;
    view.unseen = 0;
}

/// Move the paused window by `by` shown lines; scrolling past the end resumes following.
fn scroll(view: &mut LogView, page: usize, by: isize) {
    if view.follow {
        if by >= 0 {
            return;
        }
        view.top = view.top_of_last_page(page);
        view.follow = false;
        view.unseen = 0;
    }
    let top = view.top.max(view.dropped);
    let moved = if by >= 0 {
        view.shown_from(top).nth(by.unsigned_abs()).map(|(s, _)| s)
    } else {
        view.shown_before(top)
            .take(by.unsigned_abs())
            .last()
            .map(|(s, _)| s)
            .or(Some(top))
    };
    match moved {
        Some(seq) if seq < view.top_of_last_page(page) => view.top = seq,
        _ => resume(view),
    }
}

/// `n` (forward) / `N` (back): the next shown line matching the search, from the current
/// match or the window's top; pauses there so the match stays on screen. Enter after typing
/// finds the newest match (`forward` false from the end).
fn find(view: &mut LogView, page: usize, forward: bool) {
    if view.search.value().is_empty() {
        return;
    }
    let from = view
        .found
        .unwrap_or(if view.follow { view.end() } else { view.top });
    let hit = if forward {
        view.shown_from(from + 1)
            .find(|(_, l)| view.matches(l))
            .map(|(s, _)| s)
    } else {
        view.shown_before(from)
            .find(|(_, l)| view.matches(l))
            .map(|(s, _)| s)
    };
    view.not_found = hit.is_none();
    if let Some(seq) = hit {
        view.found = Some(seq);
        view.follow = false;
        view.unseen = 0;
        // Keep the match visible: put it at the top unless that is past the last page.
        view.top = seq.min(view.top_of_last_page(page));
    }
}

fn text_request(key: Key) -> Option<tui_input::InputRequest> {
    use tui_input::InputRequest as R;
    Some(match key {
        Key::Char(c) => R::InsertChar(c),
        Key::Backspace => R::DeletePrevChar,
        Key::Delete => R::DeleteNextChar,
        Key::Left => R::GoToPrevChar,
        Key::Right => R::GoToNextChar,
        Key::Home => R::GoToStart,
        Key::End => R::GoToEnd,
        Key::Ctrl('u') => R::DeleteLine,
        Key::Ctrl('w') => R::DeletePrevWord,
        _ => return None,
    })
}

/// Tests: two streams and `n` lines `x0`, `x1`, … alternating between them.
#[cfg(test)]
pub(crate) fn fixture_lines(state: &mut State, n: usize) {
    let Some(session) = state.logs.as_ref().map(|l| l.session) else {
        return;
    };
    let streams = ["web-1", "web-2"]
        .iter()
        .map(|p| StreamName {
            pod: p.to_string(),
            container: "app".into(),
        })
        .collect();
    on_event(state, LogEvent::Streams { session, streams });
    for i in 0..n {
        let lines = vec![Untrusted::new(format!("x{i}"))];
        on_event(
            state,
            LogEvent::Lines {
                session,
                stream: i % 2,
                lines,
            },
        );
    }
}

#[cfg(test)]
#[path = "logs_tests.rs"]
mod tests;
