//! `wait`'s pure parts: the target, the kinds, which cluster, and the verdict per state.
use super::*;
use crate::core::model::ReleaseKey;
use crate::core::msg::ObjectKind;
use crate::core::testkit::fleet;
use crate::core::text::Untrusted;

fn target(s: &str) -> Target {
    parse_target(s).unwrap()
}

fn relisted(cluster: &str, kind: ObjectKind) -> Msg {
    Msg::Relisted {
        cluster: cluster.into(),
        kind,
        objects: vec![],
    }
}

fn connected(cluster: &str) -> Msg {
    Msg::Connection {
        cluster: cluster.into(),
        connection: Connection::Connected,
    }
}

/// Every release kind listed on every cluster of the test fleet.
fn all_listed(at: Instant) -> Listed {
    let mut l = Listed::default();
    for c in ["prod-eu-1", "staging"] {
        for k in [
            ObjectKind::Deployment,
            ObjectKind::Rollout,
            ObjectKind::Canary,
        ] {
            l.note(&relisted(c, k), at);
        }
    }
    l
}

fn checkout_key() -> ReleaseKey {
    ReleaseKey {
        cluster: "prod-eu-1".into(),
        kind: ReleaseKind::Rollout,
        namespace: "shop".into(),
        name: "checkout".into(),
    }
}

#[test]
fn targets_have_two_or_three_non_empty_parts() {
    assert_eq!(
        target("prod-eu-1/shop/checkout"),
        Target {
            cluster: Some("prod-eu-1".into()),
            namespace: "shop".into(),
            name: "checkout".into()
        }
    );
    assert_eq!(target("shop/checkout").cluster, None);
    assert_eq!(target("shop/checkout").to_string(), "shop/checkout");
    for bad in ["checkout", "a/b/c/d", "/shop/x", "shop/", "a//x", ""] {
        let err = parse_target(bad).unwrap_err();
        assert!(err.contains("CLUSTER/NAMESPACE/NAME"), "{bad}: {err}");
    }
    // Shown escaped: a terminal escape in a typed target is not echoed raw.
    let err = parse_target("a\u{1b}[2J").unwrap_err();
    assert!(!err.contains('\u{1b}'), "{err}");
}

#[test]
fn kinds_prefer_the_release_over_its_workload() {
    assert_eq!(
        kinds(None),
        [
            ReleaseKind::Rollout,
            ReleaseKind::Canary,
            ReleaseKind::Deployment
        ]
    );
    assert_eq!(kinds(Some("canary")), [ReleaseKind::Canary]);
    assert_eq!(kinds(Some("Deployment")), [ReleaseKind::Deployment]);
}

#[test]
fn exit_codes_are_distinct_and_documented() {
    let codes = [
        Outcome::Reached,
        Outcome::TimedOut,
        Outcome::Degraded,
        Outcome::NotFound,
    ]
    .map(|o| o.code());
    assert_eq!(codes, [0, 3, 4, 5]);
    let mut cmd = <crate::cli::Cli as clap::CommandFactory>::command();
    let help = cmd
        .find_subcommand_mut("wait")
        .unwrap()
        .render_long_help()
        .to_string();
    for (code, what) in [
        (0, "reached"),
        (2, "bad usage"),
        (3, "--timeout"),
        (4, "degraded"),
        (5, "not found"),
    ] {
        assert!(help.contains(&format!("  {code}  ")), "{code}: {help}");
        assert!(help.contains(what), "{what}: {help}");
    }
}

#[test]
fn the_paused_rollout_is_reached_for_paused_and_waits_for_healthy() {
    let state = fleet();
    let t = target("prod-eu-1/shop/checkout");
    let now = Instant::now();
    let listed = all_listed(now);
    let ks = kinds(None);
    let v = judge(&state, "prod-eu-1", &t, &ks, WaitFor::Paused, &listed, now);
    let Verdict::Done(Outcome::Reached, line) = v else {
        panic!("{v:?}");
    };
    assert!(
        line.starts_with("prod-eu-1/shop/checkout Rollout: Paused, step 1/4"),
        "{line}"
    );
    let v = judge(&state, "prod-eu-1", &t, &ks, WaitFor::Healthy, &listed, now);
    assert!(
        matches!(v, Verdict::Waiting(Some(r)) if r.key == checkout_key()),
        "{v:?}"
    );
    // Only a Deployment of that name is asked for: there is none.
    let only_deploy = kinds(Some("deployment"));
    let v = judge(
        &state,
        "prod-eu-1",
        &t,
        &only_deploy,
        WaitFor::Paused,
        &listed,
        now,
    );
    assert!(
        matches!(&v, Verdict::Done(Outcome::NotFound, l) if l.contains("no Deployment prod-eu-1/shop/checkout")),
        "{v:?}"
    );
}

#[test]
fn degraded_ends_a_wait_for_healthy_or_paused_and_is_reached_for_degraded() {
    let mut state = fleet();
    if let Some(r) = state.releases.get_mut(&checkout_key()) {
        r.phase = Phase::Degraded;
        r.message = Untrusted::new("RolloutAborted: metric \u{1b}[31merror-rate");
    }
    let t = target("prod-eu-1/shop/checkout");
    let now = Instant::now();
    let listed = all_listed(now);
    let ks = kinds(None);
    for (want, outcome) in [
        (WaitFor::Healthy, Outcome::Degraded),
        (WaitFor::Paused, Outcome::Degraded),
        (WaitFor::Degraded, Outcome::Reached),
    ] {
        let v = judge(&state, "prod-eu-1", &t, &ks, want, &listed, now);
        let Verdict::Done(got, line) = v else {
            panic!("{want:?}: {v:?}");
        };
        assert_eq!(got, outcome, "{want:?}");
        assert!(line.contains("Degraded"), "{line}");
        assert!(!line.contains('\u{1b}'), "escaped: {line}");
    }
    // Healthy is not the end of a wait for degraded.
    if let Some(r) = state.releases.get_mut(&checkout_key()) {
        r.phase = Phase::Healthy;
    }
    let v = judge(
        &state,
        "prod-eu-1",
        &t,
        &ks,
        WaitFor::Degraded,
        &listed,
        now,
    );
    assert!(matches!(v, Verdict::Waiting(Some(_))), "{v:?}");
    let v = judge(&state, "prod-eu-1", &t, &ks, WaitFor::Healthy, &listed, now);
    assert!(matches!(v, Verdict::Done(Outcome::Reached, _)), "{v:?}");
}

#[test]
fn missing_is_not_found_only_once_the_kinds_listed_or_the_grace_passed() {
    let state = fleet();
    let t = target("prod-eu-1/shop/nope");
    let ks = kinds(None);
    let start = Instant::now();
    let mut listed = Listed::default();
    listed.note(&connected("prod-eu-1"), start);
    listed.note(&relisted("prod-eu-1", ObjectKind::Deployment), start);
    listed.note(&relisted("prod-eu-1", ObjectKind::Rollout), start);
    let v = judge(
        &state,
        "prod-eu-1",
        &t,
        &ks,
        WaitFor::Healthy,
        &listed,
        start,
    );
    assert_eq!(v, Verdict::Waiting(None), "Canaries not listed yet");
    // A kind that never lists (its CRD absent) stops counting after the grace.
    let later = start + LIST_GRACE;
    let v = judge(
        &state,
        "prod-eu-1",
        &t,
        &ks,
        WaitFor::Healthy,
        &listed,
        later,
    );
    assert!(
        matches!(&v, Verdict::Done(Outcome::NotFound, l) if l.contains("no Rollout or Canary or Deployment prod-eu-1/shop/nope")),
        "{v:?}"
    );
    // A forbidden kind counts as listed (it can never be seen).
    listed.note(
        &Msg::KindForbidden {
            cluster: "prod-eu-1".into(),
            kind: "canaries.flagger.app".into(),
            reason: Untrusted::new("403"),
        },
        start,
    );
    let v = judge(
        &state,
        "prod-eu-1",
        &t,
        &ks,
        WaitFor::Healthy,
        &listed,
        start,
    );
    assert!(matches!(v, Verdict::Done(Outcome::NotFound, _)), "{v:?}");
}

#[test]
fn missing_is_not_found_at_once_when_the_cluster_synced_without_the_grace() {
    let state = fleet();
    let t = target("prod-eu-1/shop/nope");
    let ks = kinds(None);
    let start = Instant::now();
    let mut listed = Listed::default();
    listed.note(&connected("prod-eu-1"), start);
    listed.note(&relisted("prod-eu-1", ObjectKind::Deployment), start);
    let judged = |l: &Listed| judge(&state, "prod-eu-1", &t, &ks, WaitFor::Healthy, l, start);
    listed.note(
        &Msg::Synced {
            cluster: "staging".into(),
        },
        start,
    );
    assert_eq!(
        judged(&listed),
        Verdict::Waiting(None),
        "another cluster synced"
    );
    // Canaries' and Rollouts' CRDs absent: they never list, but the cluster says its first
    // picture is complete, so there is nothing left to wait for.
    listed.note(
        &Msg::Synced {
            cluster: "prod-eu-1".into(),
        },
        start,
    );
    let v = judged(&listed);
    assert!(matches!(v, Verdict::Done(Outcome::NotFound, _)), "{v:?}");
}

#[test]
fn deleted_after_being_seen_and_unreachable_before_are_not_found() {
    let mut state = fleet();
    let t = target("prod-eu-1/shop/checkout");
    let ks = kinds(None);
    let now = Instant::now();
    let mut listed = Listed::default();
    state.clusters[0].connection = Connection::Unreachable {
        reason: Untrusted::new("client error (Connect)"),
    };
    state.releases.clear();
    let v = judge(&state, "prod-eu-1", &t, &ks, WaitFor::Healthy, &listed, now);
    assert!(
        matches!(&v, Verdict::Done(Outcome::NotFound, l) if l == "cluster prod-eu-1 cannot be read: client error (Connect)"),
        "{v:?}"
    );
    listed.seen = true;
    state.clusters[0].connection = Connection::Connected;
    let v = judge(&state, "prod-eu-1", &t, &ks, WaitFor::Healthy, &listed, now);
    assert!(
        matches!(&v, Verdict::Done(Outcome::NotFound, l) if l.contains("deleted while waiting")),
        "{v:?}"
    );
}

#[test]
fn the_cluster_is_named_the_only_one_or_found_by_the_release() {
    let state = fleet();
    let now = Instant::now();
    let ks = kinds(None);
    let none = Listed::default();
    let listed = all_listed(now);
    assert_eq!(
        pick(&state, &target("staging/web/frontend"), &ks, &none, now),
        Pick::One("staging".into())
    );
    let Pick::Usage(why) = pick(&state, &target("qa/web/frontend"), &ks, &none, now) else {
        panic!("unknown cluster");
    };
    assert!(
        why.contains("no cluster \"qa\" (clusters: prod-eu-1, staging)"),
        "{why}"
    );
    // NS/NAME over several clusters: found once every cluster listed.
    let t = target("shop/checkout");
    assert_eq!(pick(&state, &t, &ks, &none, now), Pick::NotYet);
    assert_eq!(
        pick(&state, &t, &ks, &listed, now),
        Pick::One("prod-eu-1".into())
    );
    assert!(matches!(
        pick(&state, &target("shop/nope"), &ks, &listed, now),
        Pick::Nowhere(_)
    ));
    // On two clusters: the user must say which.
    let mut twice = fleet();
    let mut other = twice.releases[&checkout_key()].clone();
    other.key.cluster = "staging".into();
    twice.releases.insert(other.key.clone(), other);
    let Pick::Usage(why) = pick(&twice, &t, &ks, &none, now) else {
        panic!("ambiguous");
    };
    assert!(
        why.contains("several clusters (prod-eu-1, staging)"),
        "{why}"
    );
    assert!(why.contains("CLUSTER/shop/checkout"), "{why}");
    // One cluster (live, narrowed by the wiring): it, whatever its display name.
    let mut one = fleet();
    one.clusters.truncate(1);
    assert_eq!(
        pick(&one, &target("kind-a/shop/checkout"), &ks, &none, now),
        Pick::One("prod-eu-1".into())
    );
}

#[test]
fn durations_read_as_typed() {
    assert_eq!(humanize(Duration::from_secs(600)), "10m");
    assert_eq!(humanize(Duration::from_secs(5400)), "1h30m");
    assert_eq!(humanize(Duration::from_secs(90)), "1m30s");
    assert_eq!(humanize(Duration::from_millis(300)), "0s");
}
