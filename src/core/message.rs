//! The message view (`m`, issue 12 item 4): the selected thing's messages in full — the
//! release's message, its conditions, its analysis runs' measurements, its failures and
//! events; a failure-feed row; a pod's waiting / terminated messages and its events —
//! written once when opened (what was there then), then wrapped to the terminal's width
//! (words kept whole where they fit, longer tokens broken) and scrolled. Every outside
//! string goes through the sanitising boundary (`core::text`) here, in full: the view is
//! where a message cut elsewhere can be read to its end. Pure: reads `State`, writes only
//! `State::view.message`.

use jiff::Timestamp;

use super::effect::Effect;
use super::facts::{Condition, ObjectFacts};
use super::keys::Command;
use super::kinds::pod::{ContainerState, ObjectEvent, PodFacts};
use super::model::{Failure, Release};
use super::state::{Panel, Screen, State};
use super::text::{self, Untrusted};

/// Rows a wrapped paragraph continues on are indented by this much more than its first.
const HANG: usize = 2;

/// How a paragraph is drawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tone {
    /// A section title.
    Heading,
    Text,
    /// Context: times, counts, where it comes from.
    Dim,
    /// What is wrong (a failing reason, a Warning event).
    Bad,
}

/// One paragraph: shown (escaped) text, one logical line, and how far it is indented.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Para {
    pub tone: Tone,
    pub indent: usize,
    pub text: String,
}

/// The open message view.
#[derive(Debug, Clone, PartialEq)]
pub struct MessageView {
    /// What it is about, shown (escaped): `Pod shop/web-7d9-x2k4q on prod-eu-1`.
    pub title: String,
    pub paras: Vec<Para>,
    /// First row shown (of the rows wrapped to the terminal's width).
    pub offset: usize,
    /// Where Esc goes back to.
    pub from: Screen,
    /// When it was written (the title says "as of").
    pub at: Timestamp,
}

/// One wrapped row as drawn.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    pub tone: Tone,
    pub text: String,
}

/// Shown text of an outside string in full: each character through the boundary's escape
/// (controls, bidi, invisible characters made visible), without the length cut that keeps
/// one-line cells short — this view is where the whole message is read. Tabs become spaces
/// and a line's `\r` is dropped, so a stack trace reads as it was printed.
pub fn shown_full(s: &str) -> Vec<String> {
    s.split('\n')
        .map(|line| {
            let line = line
                .strip_suffix('\r')
                .unwrap_or(line)
                .replace('\t', "    ");
            // Pieces shorter than the boundary's cut, so nothing is cut.
            let chars: Vec<char> = line.chars().collect();
            chars
                .chunks(text::MAX_SHOWN_CHARS / 2)
                .map(|piece| text::escape(&piece.iter().collect::<String>()).into_owned())
                .collect::<String>()
        })
        .collect()
}

fn para(out: &mut Vec<Para>, tone: Tone, indent: usize, s: &str) {
    out.push(Para {
        tone,
        indent,
        text: s.to_string(),
    });
}

/// An outside message, one paragraph per line it holds.
fn message(out: &mut Vec<Para>, tone: Tone, indent: usize, m: &Untrusted) {
    if m.is_empty() {
        return;
    }
    for line in shown_full(m.raw()) {
        para(out, tone, indent, &line);
    }
}

fn heading(out: &mut Vec<Para>, s: &str) {
    if !out.is_empty() {
        para(out, Tone::Text, 0, "");
    }
    para(out, Tone::Heading, 0, s);
}

fn clock(t: Option<Timestamp>) -> String {
    t.map_or_else(
        || "time unknown".into(),
        |t| t.strftime("%Y-%m-%d %H:%M:%S UTC").to_string(),
    )
}

fn esc(s: &str) -> String {
    shown_full(s).join("\\x0a")
}

/// The rows of the view at `width` columns: each paragraph wrapped under itself, its
/// continuation rows hanging by [`HANG`].
pub fn rows(view: &MessageView, width: u16) -> Vec<Row> {
    let width = usize::from(width).max(8);
    let mut out = Vec::new();
    for p in &view.paras {
        let indent = p.indent.min(width / 2);
        if p.text.is_empty() {
            out.push(Row {
                tone: p.tone,
                text: String::new(),
            });
            continue;
        }
        let first = text::wrap(&p.text, width - indent);
        let head = first.first().cloned().unwrap_or_default();
        let rest = p.text.get(head.len()..).unwrap_or_default().trim_start();
        out.push(Row {
            tone: p.tone,
            text: format!("{}{head}", " ".repeat(indent)),
        });
        if rest.is_empty() {
            continue;
        }
        let hang = (indent + HANG).min(width / 2);
        for r in text::wrap(rest, width - hang) {
            out.push(Row {
                tone: p.tone,
                text: format!("{}{r}", " ".repeat(hang)),
            });
        }
    }
    out
}

/// Rows of text on screen: the body minus the view's title line.
pub fn page(state: &State) -> usize {
    usize::from(state.view.height).saturating_sub(4).max(1)
}

/// `m`: open the full message of what is selected on this screen.
pub fn open(state: &mut State) -> Vec<Effect> {
    let built = match state.view.screen {
        Screen::Pods => of_pod(state),
        Screen::Home if state.view.panel == Panel::Failures => of_failure(state),
        Screen::Home if state.view.panel == Panel::Slos => of_slo(state),
        Screen::Home | Screen::Detail => of_release(state),
        _ => None,
    };
    let Some((title, paras)) = built else {
        state.view.notice = Some(super::state::Notice {
            text: "nothing selected: no message to show".into(),
            level: super::state::Level::Info,
            at: state.now,
        });
        return Vec::new();
    };
    state.view.message = Some(MessageView {
        title,
        paras,
        offset: 0,
        from: state.view.screen,
        at: state.now,
    });
    state.view.screen = Screen::Message;
    Vec::new()
}

/// Keys in the message view: scroll by row, page, to either end; Esc back.
pub fn on_key(state: &mut State, cmd: Option<Command>) -> Vec<Effect> {
    let page = page(state);
    let width = state.view.width;
    let Some(m) = state.view.message.as_mut() else {
        state.view.screen = Screen::Home;
        return Vec::new();
    };
    let last = rows(m, width).len().saturating_sub(page);
    let at = m.offset.min(last);
    m.offset = match cmd {
        Some(Command::Back) => {
            state.view.screen = m.from;
            state.view.message = None;
            return Vec::new();
        }
        Some(Command::Down) => (at + 1).min(last),
        Some(Command::Up) => at.saturating_sub(1),
        Some(Command::PageDown) => (at + page).min(last),
        Some(Command::PageUp) => at.saturating_sub(page),
        Some(Command::First) => 0,
        Some(Command::Last) => last,
        _ => {
            state.dirty = false;
            at
        }
    };
    Vec::new()
}

fn conditions(facts: Option<&ObjectFacts>) -> &[Condition] {
    match facts {
        Some(ObjectFacts::Deployment(d)) => &d.conditions,
        Some(ObjectFacts::Rollout(r)) => &r.conditions,
        _ => &[],
    }
}

fn event(out: &mut Vec<Para>, e: &ObjectEvent, object: bool) {
    let tone = if e.is_warning() { Tone::Bad } else { Tone::Dim };
    let about = if object {
        format!(
            " {}/{}",
            esc(&e.object_kind.to_lowercase()),
            esc(&e.object_name)
        )
    } else {
        String::new()
    };
    para(
        out,
        tone,
        2,
        &format!(
            "{} {} ×{}{about} · last {}",
            esc(&e.type_),
            esc(e.reason.raw()),
            e.count,
            clock(e.last_seen)
        ),
    );
    message(out, Tone::Text, 4, &e.message);
}

fn failure_lines(out: &mut Vec<Para>, f: &Failure) {
    para(
        out,
        Tone::Bad,
        2,
        &format!("{} {} ×{}", esc(&f.reason), esc(&f.object), f.count),
    );
    para(
        out,
        Tone::Dim,
        4,
        &format!(
            "first seen {} · last seen {}",
            clock(Some(f.first_seen)),
            clock(Some(f.last_seen))
        ),
    );
    message(out, Tone::Text, 4, &f.message);
}

/// The release in view: its message, why it waits, its conditions, analysis (the runs'
/// measurements against their conditions), its failures and its listed events.
fn of_release(state: &State) -> Option<(String, Vec<Para>)> {
    let r = state.selected_release()?;
    let title = format!(
        "{} {}/{} on {}",
        r.key.kind.name(),
        esc(&r.key.namespace),
        esc(&r.key.name),
        esc(&r.key.cluster)
    );
    let mut out = Vec::new();
    heading(&mut out, &format!("Message · {}", r.phase.as_str()));
    if r.message.is_empty() {
        para(&mut out, Tone::Dim, 2, "(none)");
    }
    message(&mut out, Tone::Text, 2, &r.message);
    if let Some(h) = r.needs_human {
        para(
            &mut out,
            Tone::Bad,
            2,
            &format!("waiting on a person: {}", h.as_str()),
        );
    }
    let conds = conditions(state.inventory.workload(&r.key));
    if !conds.is_empty() {
        heading(&mut out, "Conditions");
        for c in conds {
            para(
                &mut out,
                Tone::Dim,
                2,
                &format!(
                    "{} {} {} · since {}",
                    esc(&c.type_),
                    esc(&c.status),
                    esc(&c.reason),
                    clock(c.last_transition)
                ),
            );
            message(&mut out, Tone::Text, 4, &c.message);
        }
    }
    analysis(state, r, &mut out);
    let failures: Vec<&Failure> = state
        .failures
        .items()
        .iter()
        .filter(|f| {
            f.cluster == r.key.cluster
                && f.namespace == r.key.namespace
                && f.object.contains(&r.key.name)
        })
        .collect();
    if !failures.is_empty() {
        heading(&mut out, "Failures");
        for f in failures {
            failure_lines(&mut out, f);
        }
    }
    if let Some(ev) = state.view.events.as_ref().filter(|e| e.release == r.key) {
        heading(&mut out, "Events");
        if let Some(e) = &ev.error {
            message(&mut out, Tone::Bad, 2, e);
        } else if ev.events.is_empty() {
            para(&mut out, Tone::Dim, 2, "none recorded");
        }
        for e in &ev.events {
            event(&mut out, e, true);
        }
    }
    Some((title, out))
}

/// The release's analysis and its AnalysisRuns: each metric's measured values against the
/// conditions that judge them.
fn analysis(state: &State, r: &Release, out: &mut Vec<Para>) {
    let runs: Vec<_> = state
        .inventory
        .analysis_runs_in(&r.key.cluster, &r.key.namespace)
        .filter(|run| !r.uid.is_empty() && run.owner_uid == r.uid)
        .collect();
    if r.analysis.is_none() && runs.is_empty() {
        return;
    }
    heading(out, "Analysis");
    if let Some(a) = &r.analysis {
        para(
            out,
            Tone::Text,
            2,
            &format!("{} {}", esc(&a.name), a.phase.as_str()),
        );
        message(out, Tone::Text, 4, &a.message);
    }
    for run in runs.iter().rev() {
        para(
            out,
            Tone::Text,
            2,
            &format!(
                "run {} {} · measured {}",
                esc(&run.meta.name),
                run.phase.as_str(),
                clock(run.last_measured)
            ),
        );
        message(out, Tone::Text, 4, &run.message);
        for m in &run.metrics {
            let values: Vec<String> = if m.recent.is_empty() {
                vec![esc(m.last_value.raw())]
            } else {
                m.recent.iter().map(|v| esc(v.raw())).collect()
            };
            para(
                out,
                Tone::Text,
                4,
                &format!(
                    "{} {} · ok {} · failed {} · inconclusive {}",
                    esc(&m.name),
                    esc(&m.phase),
                    m.successful,
                    m.failed,
                    m.inconclusive
                ),
            );
            para(
                out,
                Tone::Text,
                6,
                &format!("measured {}", values.join(" → ")),
            );
            if !m.success_condition.is_empty() {
                para(
                    out,
                    Tone::Dim,
                    6,
                    &format!("pass if {}", esc(m.success_condition.raw())),
                );
            }
            if !m.failure_condition.is_empty() {
                para(
                    out,
                    Tone::Dim,
                    6,
                    &format!("fail if {}", esc(m.failure_condition.raw())),
                );
            }
        }
    }
}

/// The failure under the cursor of the failures feed.
fn of_failure(state: &State) -> Option<(String, Vec<Para>)> {
    let v = &state.view;
    let f = v
        .shown
        .failures
        .get(v.failure_selected)
        .and_then(|i| state.failures.items().get(*i))?;
    let title = format!(
        "Failure {} {} in {} on {}",
        esc(&f.reason),
        esc(&f.object),
        esc(&f.namespace),
        esc(&f.cluster)
    );
    let mut out = Vec::new();
    heading(&mut out, "Failure");
    failure_lines(&mut out, f);
    Some((title, out))
}

/// The SLO under the cursor: why it cannot be evaluated, when it cannot.
fn of_slo(state: &State) -> Option<(String, Vec<Para>)> {
    let s = state.shown_slos().nth(state.view.slo_selected)?;
    let title = format!("SLO {}", esc(&s.spec.name));
    let mut out = Vec::new();
    heading(
        &mut out,
        &format!(
            "SLO {} · service {} · alert {}",
            esc(&s.spec.name),
            esc(&s.spec.service),
            s.alert.as_str()
        ),
    );
    match &s.error {
        Some(e) => message(&mut out, Tone::Bad, 2, e),
        None => para(&mut out, Tone::Dim, 2, "evaluated without error"),
    }
    Some((title, out))
}

fn container_lines(out: &mut Vec<Para>, p: &PodFacts) {
    for c in &p.containers {
        let (state, tone, msg) = match &c.state {
            ContainerState::Running { .. } => ("running".to_string(), Tone::Text, None),
            ContainerState::Waiting { reason, message } => (
                format!("waiting {}", esc(reason.raw())),
                Tone::Bad,
                Some(message),
            ),
            ContainerState::Terminated {
                reason,
                message,
                exit_code,
            } => (
                format!("terminated {} exit {exit_code}", esc(reason.raw())),
                Tone::Bad,
                Some(message),
            ),
            ContainerState::Unknown => ("no status yet".to_string(), Tone::Dim, None),
        };
        let image = if c.image.is_empty() {
            String::new()
        } else {
            format!(" · {}", esc(&c.image))
        };
        heading(
            out,
            &format!(
                "Container {}{image} · restarts {}",
                esc(&c.name),
                c.restarts
            ),
        );
        para(out, tone, 2, &state);
        if let Some(m) = msg {
            message(out, Tone::Text, 4, m);
        }
        if let Some(t) = &c.last {
            para(
                out,
                Tone::Bad,
                2,
                &format!(
                    "last termination: {} exit {} · finished {}",
                    esc(t.reason.raw()),
                    t.exit_code,
                    clock(t.finished)
                ),
            );
            message(out, Tone::Text, 4, &t.message);
        }
    }
}

/// The pod under the cursor of the pods screen: its own reason, its containers' waiting
/// and terminated messages (the last termination's message is often the crash's stack
/// trace) and its events.
fn of_pod(state: &State) -> Option<(String, Vec<Para>)> {
    let v = state.view.pods.as_ref()?;
    let p = v.selected_pod()?;
    let title = format!(
        "Pod {}/{} on {}",
        esc(&p.namespace),
        esc(&p.name),
        esc(&v.query.cluster)
    );
    let mut out = Vec::new();
    heading(
        &mut out,
        &format!(
            "Pod · {} · node {}",
            esc(p.status()),
            if p.node.is_empty() {
                "none".to_string()
            } else {
                esc(&p.node)
            }
        ),
    );
    if !p.reason.is_empty() || !p.message.is_empty() {
        para(&mut out, Tone::Bad, 2, &esc(p.reason.raw()));
        message(&mut out, Tone::Text, 4, &p.message);
    }
    container_lines(&mut out, p);
    heading(&mut out, "Events of this pod");
    let mut any = false;
    for e in super::inspect::events_of(state, &p.name) {
        any = true;
        event(&mut out, e, false);
    }
    if !any {
        para(&mut out, Tone::Dim, 2, "none recorded");
    }
    Some((title, out))
}

#[cfg(test)]
#[path = "message_tests.rs"]
mod tests;
