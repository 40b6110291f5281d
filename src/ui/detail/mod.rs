//! The detail screen for the selected release: a summary line; strategy steps with the
//! current one marked and a timed pause counting down; weights, analysis, ReplicaSets,
//! images, the linked SLO and this object's failures; and the action bar, where every
//! action is listed with its key and, when it cannot be taken, the reason why.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};

pub(super) mod argocd;
mod events;
mod flux;
mod slo;

pub(super) use events::event_line;

use super::releases::analysis_style;
use super::{action_bar, failures, fmt, grid, theme::Theme};
use crate::core::action::ActionKind;
use crate::core::facts::CanaryStep;
use crate::core::keys::{self, Command};
use crate::core::model::{BlueGreenRole, Cluster, Release, ReleaseKind, RsRole};
use crate::core::state::State;
use crate::core::text;

pub fn render(frame: &mut Frame, area: Rect, state: &State, theme: &Theme) {
    let Some(r) = state.selected_release() else {
        let msg = "  this release is no longer in view (finished or filtered out) — Esc goes back";
        grid::draw_lines(frame, area, vec![Line::styled(msg, theme.dim)]);
        return;
    };
    let cluster = state.cluster(&r.key.cluster);
    let wide = area.width >= 160;
    let actions_h = action_bar::height(r);
    let summary_h = 1;
    let middle_h = area.height.saturating_sub(summary_h + actions_h);
    let summary = Rect {
        height: summary_h.min(area.height),
        ..area
    };
    let middle = Rect {
        y: area.y + summary.height,
        height: middle_h,
        ..area
    };
    let actions = Rect {
        y: middle.y + middle.height,
        height: area.height.saturating_sub(summary.height + middle.height),
        ..area
    };
    grid::draw_lines(frame, summary, vec![summary_line(r, cluster, theme)]);

    let left_w = if wide {
        area.width / 3
    } else {
        area.width * 9 / 20
    };
    let left = Rect {
        width: left_w,
        ..middle
    };
    let right = Rect {
        x: middle.x + left_w + 1,
        width: middle.width.saturating_sub(left_w + 1),
        ..middle
    };
    let mut left_lines = steps_section(state, r, theme, left.width, left.height);
    left_lines.extend(progress_section(r, theme, left.width));
    left_lines.extend(argocd::owner_lines(state, r, theme));
    left_lines.extend(flux::source_lines(state, r, theme));
    left_lines.extend(analysis_runs(state, r, theme, left.width));
    grid::draw_lines(frame, left, left_lines);
    grid::draw_lines(
        frame,
        right,
        right_section(state, r, theme, right.width, right.height),
    );
    grid::draw_lines(
        frame,
        actions,
        action_bar::lines(state, r, theme, actions.width),
    );
}

/// cluster (PROD) · kind · namespace/name · phase · message.
fn summary_line<'a>(r: &'a Release, cluster: Option<&Cluster>, theme: &Theme) -> Line<'a> {
    let mut spans = vec![Span::styled(
        format!(" {}", text::escape(&r.key.cluster)),
        theme.table_header,
    )];
    if cluster.is_some_and(Cluster::is_prod) {
        spans.push(Span::raw(" "));
        spans.push(Span::styled(
            format!(" {} PROD ", crate::ui::marks::PROD),
            theme.prod_banner,
        ));
    }
    if cluster.is_some_and(|c| c.read_only) {
        spans.push(Span::styled(" read-only", theme.readonly));
    }
    spans.extend([
        Span::styled(" · ", theme.dim),
        Span::raw(r.key.kind.short()),
        Span::styled(" · ", theme.dim),
        Span::styled(
            format!(
                "{}/{}",
                text::escape(&r.key.namespace),
                text::escape(&r.key.name)
            ),
            theme.table_header,
        ),
        Span::styled(" · ", theme.dim),
        Span::styled(r.phase.as_str(), theme.phase(r.phase)),
        Span::styled(" · ", theme.dim),
        Span::raw(r.message.shown()),
    ]);
    Line::from(spans)
}

pub(super) fn section_title<'a>(name: &'a str, theme: &Theme, width: u16) -> Line<'a> {
    grid::title_bar(name, Vec::new(), false, theme, width)
}

/// The strategy's steps, current one marked ▶, done ones ✓; a window around the current
/// step when they do not all fit.
fn steps_section<'a>(
    state: &State,
    r: &'a Release,
    theme: &Theme,
    width: u16,
    height: u16,
) -> Vec<Line<'a>> {
    let mut lines = vec![section_title("Steps", theme, width)];
    match r.key.kind {
        ReleaseKind::Rollout if !r.steps.is_empty() => {
            let current = r.step.map_or(0, |(i, _)| i as usize);
            // Leave room for the progress lines below.
            let room = (height as usize).saturating_sub(6).max(3);
            let start = current
                .saturating_sub(room / 3)
                .min(r.steps.len().saturating_sub(room));
            if start > 0 {
                lines.push(Line::styled(format!("  … {start} earlier"), theme.dim));
            }
            for (i, step) in r.steps.iter().enumerate().skip(start).take(room) {
                lines.push(step_line(state, r, i, step, current, theme));
            }
            if current >= r.steps.len() {
                lines.push(Line::styled("✓ all steps complete", theme.phase_healthy));
            }
        }
        ReleaseKind::Rollout => {
            lines.push(Line::raw(format!(
                "  {} strategy: no steps",
                r.strategy.as_str()
            )));
        }
        ReleaseKind::Canary => {
            let text = match r.step {
                Some((i, n)) => format!("  Flagger analysis: step {i} of {n}"),
                None => "  Flagger analysis: not started".into(),
            };
            lines.push(Line::raw(text));
            lines.extend(gate_line(state, r, theme, width));
        }
        ReleaseKind::Kustomization | ReleaseKind::HelmRelease => {
            lines.push(Line::raw(format!(
                "  reconciled by Flux: {}",
                r.message.shown()
            )));
        }
        ReleaseKind::Deployment => {
            lines.push(Line::raw(format!(
                "  {} update, no steps",
                r.strategy.as_str()
            )));
        }
        ReleaseKind::Application => lines.extend(argocd::app_lines(r, theme)),
    }
    lines
}

/// A Canary's confirm gate as the loadtester last answered (`core::gates`): asked when
/// the detail opened and after a gate action, never polled. "<hook> gate: <state>" on one
/// line when it fits, else the state on a line of its own.
fn gate_line<'a>(state: &State, r: &Release, theme: &Theme, width: u16) -> Vec<Line<'a>> {
    use crate::core::facts::GateState;
    let Some(gate) = crate::core::gates::gate_to_check(r) else {
        return Vec::new();
    };
    let check = state.gate_checks.get(&r.key);
    let hook = check.map_or(gate.hook, |c| c.hook).as_str();
    // The key that drives the gate, unless this console may not write to the cluster.
    let read_only =
        state.settings.read_only || state.cluster(&r.key.cluster).is_none_or(|c| c.read_only);
    let hint = |action| match keys::label_of(Command::Act(action)) {
        Some(key) if !read_only => {
            let verb = if action == ActionKind::Promote {
                "opens"
            } else {
                "closes"
            };
            format!(" ({key} {verb} it)")
        }
        _ => String::new(),
    };
    let (said, style) = match check.map(|c| c.state.as_ref()) {
        None => ("not asked yet".to_string(), theme.dim),
        Some(None) => ("asking the loadtester…".to_string(), theme.dim),
        Some(Some(GateState::Open)) => (
            format!("open{}", hint(ActionKind::Pause)),
            theme.phase_healthy,
        ),
        Some(Some(GateState::Closed)) => (
            format!("closed{}", hint(ActionKind::Promote)),
            theme.notice_warn,
        ),
        Some(Some(GateState::Unknown(why))) => {
            (format!("unknown — {}", text::escape(why)), theme.dim)
        }
    };
    let mark = if matches!(
        check.and_then(|c| c.state.as_ref()),
        Some(GateState::Closed)
    ) {
        crate::ui::marks::NEEDS_HUMAN
    } else {
        " "
    };
    let width = width as usize;
    let one = format!("{mark} {hook} gate: {said}");
    let lines = if one.chars().count() <= width {
        vec![one]
    } else {
        vec![format!("{mark} {hook} gate:"), format!("    {said}")]
    };
    lines
        .into_iter()
        .map(|l| Line::styled(fmt::fit(&l, width).into_owned(), style))
        .collect()
}

fn step_line<'a>(
    state: &State,
    r: &Release,
    i: usize,
    step: &CanaryStep,
    current: usize,
    theme: &Theme,
) -> Line<'a> {
    let (marker, style) = match i.cmp(&current) {
        std::cmp::Ordering::Less => ("✓ ", theme.dim),
        std::cmp::Ordering::Equal => ("▶ ", theme.current),
        std::cmp::Ordering::Greater => ("  ", theme.text),
    };
    let mut text = format!("{marker}{i:>2} {}", step_text(step));
    if i == current
        && let Some(left) = r.pause.as_ref().and_then(|p| p.remaining(state.now))
    {
        text.push_str(&format!(" ({} left)", fmt::duration(left)));
    } else if i == current && r.pause.is_some() {
        let key = keys::label_of(Command::Act(ActionKind::Promote)).unwrap_or("p");
        text.push_str(&format!(" — waiting for promote ({key})"));
    }
    Line::styled(text, style)
}

fn step_text(step: &CanaryStep) -> String {
    match step {
        CanaryStep::SetWeight(w) => format!("setWeight {w}%"),
        CanaryStep::Pause(Some(d)) => format!("pause {}", fmt::duration(*d)),
        CanaryStep::Pause(None) => "pause".into(),
        CanaryStep::Analysis(names) => {
            let names: Vec<String> = names.iter().map(|n| text::escape(n).into_owned()).collect();
            format!("analysis {}", names.join(", "))
        }
        CanaryStep::Experiment => "experiment".into(),
        CanaryStep::SetCanaryScale => "setCanaryScale".into(),
        CanaryStep::Other(s) => text::escape(s).into_owned(),
    }
}

/// Weights, analysis, replicas and GitOps ownership.
fn progress_section<'a>(r: &'a Release, theme: &Theme, width: u16) -> Vec<Line<'a>> {
    let mut lines = vec![section_title("Progress", theme, width)];
    let pct = |w: Option<u32>| w.map_or("?".to_string(), |w| format!("{w}%"));
    if r.set_weight.is_some() || r.actual_weight.is_some() {
        lines.push(Line::raw(format!(
            "  weight   set {} · actual {}",
            pct(r.set_weight),
            pct(r.actual_weight)
        )));
    }
    lines.push(Line::raw(format!(
        "  replicas {} available of {}",
        r.replicas.0, r.replicas.1
    )));
    match &r.analysis {
        Some(a) => lines.push(Line::from(vec![
            Span::raw("  analysis "),
            Span::styled(a.phase.as_str(), analysis_style(a.phase, theme)),
            Span::raw(format!(" {} {}", text::escape(&a.name), a.message.shown())),
        ])),
        None => lines.push(Line::styled("  analysis none", theme.dim)),
    }
    if let Some(owner) = &r.gitops {
        let who = match owner {
            crate::core::model::GitOpsOwner::ArgoCd(app) => {
                format!("Argo CD app {}", text::escape(app))
            }
            crate::core::model::GitOpsOwner::Flux(k) => format!("Flux {}", text::escape(k)),
        };
        lines.push(Line::styled(format!("  managed by {who}"), theme.dim));
    }
    lines
}

/// The release's AnalysisRuns (owned by its uid) and each metric's counts and last
/// value: why an analysis passed or failed. Only this cluster and namespace are scanned.
fn analysis_runs<'a>(state: &'a State, r: &Release, theme: &Theme, width: u16) -> Vec<Line<'a>> {
    let (cluster, ns) = (r.key.cluster.clone(), r.key.namespace.clone());
    let runs: Vec<_> = state
        .inventory
        .analysis_runs_in(&cluster, &ns)
        .filter(|run| !r.uid.is_empty() && run.owner_uid == r.uid)
        .collect();
    if runs.is_empty() {
        return Vec::new();
    }
    let mut lines = vec![section_title("Analysis runs", theme, width)];
    for run in runs.iter().rev().take(3) {
        let phase = run.phase;
        lines.push(Line::from(vec![
            Span::raw(format!("  {} ", text::escape(&run.meta.name))),
            Span::styled(phase.as_str(), analysis_style(phase, theme)),
            Span::raw(format!(" {}", run.message.shown())),
        ]));
        for m in &run.metrics {
            let phase = crate::core::facts::AnalysisPhase::parse(&m.phase);
            // The measured values against the conditions they are judged by.
            let values = if m.recent.is_empty() {
                m.last_value.shown().into_owned()
            } else {
                let shown: Vec<String> = m.recent.iter().map(|v| v.shown().into_owned()).collect();
                shown.join(" → ")
            };
            let mut judged = Vec::new();
            if !m.success_condition.is_empty() {
                judged.push(format!("pass if {}", m.success_condition.shown()));
            }
            if !m.failure_condition.is_empty() {
                judged.push(format!("fail if {}", m.failure_condition.shown()));
            }
            let judged = if judged.is_empty() {
                String::new()
            } else {
                format!(" ({})", judged.join(", "))
            };
            lines.push(Line::from(vec![
                Span::raw(format!("    {} ", text::escape(&m.name))),
                Span::styled(phase.as_str(), analysis_style(phase, theme)),
                Span::raw(format!(" {values}{judged}")),
                Span::styled(
                    format!(
                        " · ok {} · failed {} · inconclusive {}",
                        m.successful, m.failed, m.inconclusive,
                    ),
                    theme.dim,
                ),
            ]));
        }
    }
    lines
}

/// ReplicaSets with their images, the linked SLO, the release's images, failures and
/// events — budgeted to `height`: when they do not all fit, the ReplicaSets drop their
/// image lines, the SLO its burn lines, and the failures give rows to the events so both
/// show a few (what is left out is counted; `m` shows it all in full).
fn right_section<'a>(
    state: &'a State,
    r: &'a Release,
    theme: &Theme,
    width: u16,
    height: u16,
) -> Vec<Line<'a>> {
    let h = usize::from(height);
    let mut rs = replicasets(state, r, theme, width, true);
    let mut slo = slo::lines(state, r, theme, width);
    let mut images = Vec::new();
    // ReplicaSets already list their images; show the spec's images when there are none.
    if r.revisions.is_empty() && !r.images.is_empty() {
        images.push(section_title("Images", theme, width));
        for image in &r.images {
            images.push(Line::raw(format!("  {}", text::escape(image))));
        }
    }
    let fails = failure_lines(state, r, theme, width);
    let events = events::lines(state, r, theme, width);
    let (fail_min, event_min) = (fails.len().min(2), events.len().min(4));
    let top = |rs: &Vec<Line>, slo: &Vec<Line>| rs.len() + slo.len() + images.len();
    if top(&rs, &slo) + fails.len() + events.len() > h {
        if top(&rs, &slo) + fail_min + event_min > h {
            rs = replicasets(state, r, theme, width, false);
        }
        if top(&rs, &slo) + fail_min + event_min > h {
            slo.truncate(2);
        }
    }
    let room = h.saturating_sub(top(&rs, &slo));
    let fail_n = fails
        .len()
        .min(room.saturating_sub(event_min).max(fail_min));
    let event_n = room.saturating_sub(fail_n);
    let mut lines = rs;
    lines.extend(slo);
    lines.extend(images);
    lines.extend(budget(fails, fail_n, "failures", theme));
    lines.extend(budget(events, event_n, "events", theme));
    lines
}

/// A section (title first) kept to `n` lines: the last one then counts what is left out.
fn budget<'a>(mut lines: Vec<Line<'a>>, n: usize, what: &str, theme: &Theme) -> Vec<Line<'a>> {
    if lines.len() <= n {
        return lines;
    }
    if n < 2 {
        lines.truncate(n);
        return lines;
    }
    let more = lines.len() - (n - 1);
    lines.truncate(n - 1);
    lines.push(Line::styled(
        format!("  … {more} more {what} · m: all, in full"),
        theme.dim,
    ));
    lines
}

/// The ReplicaSet rows (the one Enter opens marked), with their images when `images`.
fn replicasets<'a>(
    state: &State,
    r: &'a Release,
    theme: &Theme,
    width: u16,
    images: bool,
) -> Vec<Line<'a>> {
    let mut lines = vec![section_title("ReplicaSets", theme, width)];
    if r.revisions.is_empty() {
        lines.push(Line::styled("  none seen", theme.dim));
    }
    for (i, rs) in r.revisions.iter().enumerate() {
        // Blue-green: the service that selects it, as the Argo plugin tags it.
        let role = match (rs.blue_green, rs.role) {
            (Some(BlueGreenRole::Active), _) => ("active", theme.phase_healthy),
            (Some(BlueGreenRole::Preview), _) => ("preview", theme.phase_progressing),
            (None, RsRole::Stable) => ("stable", theme.phase_healthy),
            (None, RsRole::Canary) => ("canary", theme.phase_progressing),
            (None, RsRole::Old) => ("old", theme.dim),
            (None, RsRole::New) => ("new", theme.phase_progressing),
        };
        // The row Enter opens (its pods); Tab moves it.
        let chosen = i
            == state
                .view
                .rs_selected
                .min(r.revisions.len().saturating_sub(1));
        let mut line = Line::from(vec![
            Span::raw(format!(
                "{} rev {:<3} ",
                if chosen { "▸" } else { " " },
                rs.revision.map_or("?".into(), |v| v.to_string())
            )),
            Span::styled(format!("{:<7}", role.0), role.1),
            Span::raw(format!(
                "{}/{} ready  {}",
                rs.ready,
                rs.desired,
                text::escape(&rs.name)
            )),
        ]);
        if chosen {
            line = line.style(theme.selected);
        }
        lines.push(line);
        if images {
            for image in &rs.images {
                lines.push(Line::styled(
                    format!("      {}", text::escape(image)),
                    theme.dim,
                ));
            }
        }
    }
    lines
}

/// The failures about this release (title first).
fn failure_lines<'a>(state: &'a State, r: &Release, theme: &Theme, width: u16) -> Vec<Line<'a>> {
    let mut lines = vec![section_title("Failures", theme, width)];
    let mut any = false;
    for f in failures::for_release(state, r).take(20) {
        any = true;
        lines.push(Line::from(vec![
            Span::raw(format!(
                "  ×{:<3} {:>4} ",
                f.count,
                fmt::age(state.now, Some(f.last_seen))
            )),
            Span::styled(text::escape(&f.reason), theme.phase_degraded),
            Span::raw(format!(
                " {} {}",
                text::escape(&f.object),
                f.message.shown()
            )),
        ]));
    }
    if !any {
        lines.push(Line::styled("  none for this object", theme.dim));
    }
    lines
}
