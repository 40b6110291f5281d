//! `shipdeck snapshot`: the fleet printed once, as JSON (for scripts and tests) or as a plain
//! aligned table. Pure functions of a settled `&State`: the order is the core's
//! (`update::by_urgency`) and the chip counts are the core's (`State::cluster_counts`); must
//! not derive, sort or count anything the core already does.

use serde_json::{Value, json};

use crate::core::State;
use crate::core::model::{BurnWindow, Connection, Release, ReleaseKind};
use crate::core::text::{self, escape};
use crate::core::update::by_urgency;

fn burn_of(state: &State, r: &Release) -> Option<f64> {
    state
        .slo_for(r)
        .and_then(|s| s.burn.get(&BurnWindow::H1).copied().flatten())
}

fn age_seconds(state: &State, r: &Release) -> Option<i64> {
    r.created
        .map(|t| state.now.duration_since(t).as_secs().max(0))
}

/// All releases in the table's order, without the table's filters (the UI filter, hidden
/// clusters, finished releases ageing out): a snapshot shows the whole fleet.
fn releases(state: &State) -> Vec<&Release> {
    let mut rows: Vec<&Release> = state.releases.values().collect();
    rows.sort_by(|a, b| by_urgency(a, b));
    rows
}

fn cluster_json(state: &State) -> Vec<Value> {
    state
        .clusters
        .iter()
        .map(|c| {
            let (in_flight, failing) = state.cluster_counts(&c.name);
            json!({
                "name": c.name,
                "labels": c.labels,
                "prod": c.is_prod(),
                "read_only": c.read_only || state.settings.read_only,
                "connection": c.connection,
                "status": c.connection.label(state.now),
                "server_version": c.server_version,
                "in_flight": in_flight,
                "failing": failing,
                "no_access": c.forbidden_kinds,
                "failing_kinds": c.failing_kinds.iter().map(|f| json!({
                    "kind": f.kind,
                    "status": f.status,
                    "detail": f.detail,
                    "since": f.since.to_string(),
                })).collect::<Vec<_>>(),
            })
        })
        .collect()
}

/// Live clusters that did not answer (anything but connected: still connecting, stale,
/// unreachable, no access), or answered but not for every kind (a kind whose list keeps
/// failing: a 500, an answer that cannot be decoded), each with what the console would show
/// for it. A snapshot with any of these is incomplete: "nothing in flight" there means
/// "nothing known". Kinds the identity may not read are not in this list: that is known,
/// and the JSON names them (`no_access`).
pub fn unanswered(state: &State) -> Vec<(String, String)> {
    state
        .clusters
        .iter()
        .filter(|c| c.live)
        .filter_map(|c| {
            let why = match &c.connection {
                Connection::Connected if c.failing_kinds.is_empty() => return None,
                Connection::Connected => c
                    .failing_kinds
                    .iter()
                    .map(|f| {
                        format!(
                            "{}: {} since {}: {}",
                            f.kind,
                            f.status,
                            f.since,
                            f.detail.shown()
                        )
                    })
                    .collect::<Vec<_>>()
                    .join("; "),
                Connection::Unreachable { reason } | Connection::NoAccess { reason } => {
                    format!("{}: {}", c.connection.label(state.now), reason.shown())
                }
                other => other.label(state.now),
            };
            Some((c.name.clone(), why))
        })
        .collect()
}

fn release_json(state: &State, r: &Release) -> Value {
    json!({
        "cluster": r.key.cluster,
        "namespace": r.key.namespace,
        "name": r.key.name,
        "kind": r.key.kind,
        "strategy": r.strategy.as_str(),
        "phase": r.phase,
        "message": r.message,
        "step": r.step.map(|s| s.0),
        "steps": r.step.map(|s| s.1),
        "set_weight": r.set_weight,
        "actual_weight": r.actual_weight,
        "analysis": r.analysis.as_ref().map(|a| json!({"name": a.name, "phase": a.phase, "message": a.message})),
        "slo_burn": burn_of(state, r),
        "service": r.service,
        "age_seconds": age_seconds(state, r),
        "images": r.images,
        "revisions": r.revisions,
        "replicas": {"available": r.replicas.0, "desired": r.replicas.1},
        "pause_remaining_seconds": r.pause.as_ref().and_then(|p| p.remaining(state.now)).map(|d| d.as_secs()),
        "needs_human": r.needs_human.is_some(),
        "needs_human_reason": r.needs_human.map(|w| w.as_str()),
        "replicas": {"available": r.replicas.0, "desired": r.replicas.1},
        "flagger_phase": (r.key.kind == ReleaseKind::Canary).then(|| r.facts.flagger_phase.as_str()),
        "failed_checks": r.failed_checks,
    })
}

fn slo_json(state: &State) -> Vec<Value> {
    state
        .slos
        .iter()
        .map(|s| {
            let burn: serde_json::Map<String, Value> = BurnWindow::ALL
                .iter()
                .map(|w| {
                    let v = s.burn.get(w).copied().flatten();
                    (w.as_str().to_string(), v.map_or(Value::Null, |b| json!(b)))
                })
                .collect();
            json!({
                "name": s.spec.name,
                "service": s.spec.service,
                "objective": s.spec.objective,
                "window": s.spec.window_label,
                "burn_rates": burn,
                "budget_remaining": s.budget_remaining,
                "alert": s.alert,
                "unknown_since": s.unknown_since.map(|t| t.to_string()),
                "error": s.error,
            })
        })
        .collect()
}

/// The fleet as JSON: clusters[], releases[], slos[], failures[].
pub fn to_json(state: &State) -> Value {
    let releases: Vec<Value> = releases(state)
        .into_iter()
        .map(|r| release_json(state, r))
        .collect();
    json!({
        "generated_at": state.now.to_string(),
        "clusters": cluster_json(state),
        "releases": releases,
        "slos": slo_json(state),
        "failures": state.failures.items(),
    })
}

/// Columns the table's MESSAGE column keeps (cut with `…`).
const MESSAGE_COLUMNS: usize = 60;

/// Rows of shown (escaped) cells as lines, each column padded to its widest cell in terminal
/// columns, so wide (CJK, emoji) names keep the columns aligned.
fn aligned(rows: &[Vec<String>]) -> String {
    let columns = rows.iter().map(Vec::len).max().unwrap_or(0);
    let widths: Vec<usize> = (0..columns)
        .map(|i| {
            rows.iter()
                .filter_map(|r| r.get(i))
                .map(|c| text::width(c))
                .max()
                .unwrap_or(0)
        })
        .collect();
    let mut out = String::new();
    for row in rows {
        let line: Vec<String> = row
            .iter()
            .zip(&widths)
            .map(|(cell, w)| text::pad(cell, *w))
            .collect();
        out.push_str(line.join("  ").trim_end());
        out.push('\n');
    }
    out
}

/// A plain aligned table; every external string is escaped.
pub fn to_table(state: &State) -> String {
    let mut rows: Vec<Vec<String>> = vec![
        [
            "CLUSTER",
            "NAMESPACE/NAME",
            "KIND",
            "PHASE",
            "STEP",
            "WEIGHT",
            "ANALYSIS",
            "BURN",
            "MESSAGE",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect(),
    ];
    for r in releases(state) {
        rows.push(vec![
            escape(&r.key.cluster).into_owned(),
            escape(&format!("{}/{}", r.key.namespace, r.key.name)).into_owned(),
            r.key.kind.short().to_string(),
            r.phase.as_str().to_string(),
            r.step.map_or("-".into(), |(i, n)| format!("{i}/{n}")),
            match (r.set_weight, r.actual_weight) {
                (Some(s), Some(a)) => format!("{s}/{a}"),
                (Some(s), None) => s.to_string(),
                _ => "-".into(),
            },
            r.analysis
                .as_ref()
                .map_or("-".into(), |a| a.phase.as_str().to_string()),
            burn_of(state, r).map_or("-".into(), |b| format!("{b:.1}x")),
            text::fit(&r.message.shown(), MESSAGE_COLUMNS).into_owned(),
        ]);
    }
    let mut out = aligned(&rows);
    if !state.slos.is_empty() {
        out.push('\n');
        for s in &state.slos {
            let b1 = s.burn.get(&BurnWindow::H1).copied().flatten();
            out.push_str(&format!(
                "SLO {}  burn1h={}  budget={}  alert={}\n",
                escape(&s.spec.name),
                b1.map_or("unknown".into(), |b| format!("{b:.2}x")),
                s.budget_remaining
                    .map_or("unknown".into(), |b| format!("{:.1}%", b * 100.0)),
                s.alert.as_str()
            ));
        }
    }
    if !state.failures.is_empty() {
        out.push('\n');
        for f in state.failures.items().iter().take(20) {
            out.push_str(&format!(
                "FAIL {} {}/{} {} x{}: {}\n",
                escape(&f.cluster),
                escape(&f.namespace),
                escape(&f.object),
                escape(&f.reason),
                f.count,
                text::fit(&f.message.shown(), 80)
            ));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::testkit::fleet;

    #[test]
    fn json_uses_the_core_order_and_counts() {
        let state = fleet();
        let v = to_json(&state);
        let names: Vec<&str> = v["releases"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["name"].as_str().unwrap())
            .collect();
        // Every release, in the table's order (paused before progressing).
        assert_eq!(names.len(), state.releases.len());
        let table: Vec<&str> = state.view.order.iter().map(|k| k.name.as_str()).collect();
        assert_eq!(names, table);
        for c in v["clusters"].as_array().unwrap() {
            let (in_flight, failing) = state.cluster_counts(c["name"].as_str().unwrap());
            assert_eq!(c["in_flight"], in_flight);
            assert_eq!(c["failing"], failing);
        }
        assert_eq!(v["clusters"][0]["in_flight"], 1, "the paused checkout");
    }

    #[test]
    fn json_says_which_releases_need_a_human() {
        let v = to_json(&fleet());
        let rel = |name: &str| {
            v["releases"]
                .as_array()
                .unwrap()
                .iter()
                .find(|r| r["name"] == name)
                .unwrap()
                .clone()
        };
        // checkout waits at `pause: {}`; the phase field is unchanged.
        let checkout = rel("checkout");
        assert_eq!(checkout["phase"], "Paused");
        assert_eq!(checkout["needs_human"], true);
        assert_eq!(checkout["needs_human_reason"], "indefinite pause step");
        let frontend = rel("frontend");
        assert_eq!(frontend["needs_human"], false);
        assert!(frontend["needs_human_reason"].is_null());
    }

    #[test]
    fn wide_cells_keep_columns_aligned_by_display_width() {
        let cells = |a: &str, b: &str| vec![a.to_string(), b.to_string()];
        let rows = vec![
            cells("CLUSTER", "NAME"),
            cells("日本-prod", "x"),
            cells("a", "y"),
        ];
        let text = aligned(&rows);
        let starts: Vec<usize> = text
            .lines()
            .map(|l| {
                let cut = l.rfind("  ").map_or(0, |i| i + 2);
                text::width(l.get(..cut).unwrap_or_default())
            })
            .collect();
        assert_eq!(starts, vec![11, 11, 11], "{text}");
    }

    #[test]
    fn a_kind_that_keeps_failing_makes_the_snapshot_incomplete() {
        use crate::core::model::KindFailure;
        use crate::core::text::Untrusted;
        let mut state = fleet();
        for c in &mut state.clusters {
            c.connection = Connection::Connected;
        }
        assert_eq!(unanswered(&state), vec![], "all connected, every kind read");
        // A kind the identity may not read is known, not missing: named in the JSON only.
        state.clusters[0].forbidden_kinds = vec!["canaries.flagger.app".into()];
        assert_eq!(unanswered(&state), vec![]);
        let since = state.now;
        state.clusters[0].failing_kinds = vec![KindFailure {
            kind: "rollouts.argoproj.io".into(),
            status: "500".into(),
            detail: Untrusted::new("invalid character 'n'\x1b[2J"),
            since,
        }];
        let missing = unanswered(&state);
        assert_eq!(missing.len(), 1, "{missing:?}");
        let (name, why) = &missing[0];
        assert_eq!(name, &state.clusters[0].name);
        assert!(
            why.starts_with("rollouts.argoproj.io: 500 since ")
                && why.contains("invalid character 'n'"),
            "{why}"
        );
        assert!(!why.contains('\x1b'), "escaped: {why:?}");
        let v = to_json(&state);
        let c = &v["clusters"][0];
        assert_eq!(c["no_access"], json!(["canaries.flagger.app"]));
        assert_eq!(c["failing_kinds"][0]["kind"], "rollouts.argoproj.io");
        assert_eq!(c["failing_kinds"][0]["status"], "500");
        assert_eq!(c["failing_kinds"][0]["since"], since.to_string());
        assert_eq!(v["clusters"][1]["failing_kinds"], json!([]));
    }

    #[test]
    fn table_lists_the_same_order() {
        let state = fleet();
        let text = to_table(&state);
        let rows: Vec<&str> = text.lines().skip(1).take_while(|l| !l.is_empty()).collect();
        assert!(rows[0].contains("shop/checkout"), "{text}");
        assert!(rows[1].contains("web/frontend"), "{text}");
    }
}
