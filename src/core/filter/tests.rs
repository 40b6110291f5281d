//! The filter against the demo fleet's real names (what a newcomer types at `--demo`) and a
//! few hand-made objects for the panels.

use super::*;
use crate::core::model::{Phase, ReleaseKind};
use crate::core::msg::{Key, Msg};
use crate::core::state::Settings;
use crate::core::testkit::t;
use crate::core::{settle, slo_eval, update};
use crate::source::demo::Fleet;

/// The demo fleet as `shipdeck --demo --seed 1` starts it, settled, with a week's recent
/// window so its long-settled Healthy releases are rows too (the filter's subject here is
/// names, not ageing).
fn demo() -> State {
    let mut fleet = Fleet::new(1, t(0));
    let slos = fleet
        .slo_specs()
        .into_iter()
        .map(slo_eval::initial)
        .collect();
    let settings = Settings {
        recent: jiff::SignedDuration::from_hours(7 * 24),
        ..Settings::default()
    };
    let mut s = State::new(t(0), settings, fleet.clusters(), slos);
    for m in fleet.initial() {
        update(&mut s, m);
    }
    settle(&mut s);
    s
}

fn type_filter(s: &mut State, text: &str) {
    update(s, Msg::Key(Key::Char('/')));
    update(s, Msg::Key(Key::Ctrl('u')));
    for c in text.chars() {
        update(s, Msg::Key(Key::Char(c)));
    }
    update(s, Msg::Key(Key::Enter));
    settle(s);
}

fn shown(s: &State) -> Vec<String> {
    s.view.order.iter().map(ToString::to_string).collect()
}

#[test]
fn the_demo_has_what_these_tests_assume() {
    let s = demo();
    let all = shown(&s);
    assert!(all.len() >= 10, "{all:?}");
    assert!(
        all.contains(&"prod-eu-1/shop/checkout".to_string()),
        "{all:?}"
    );
    let checkouts = all.iter().filter(|k| k.ends_with("/checkout")).count();
    assert!(
        checkouts >= 2,
        "checkout runs on more than one cluster: {all:?}"
    );
}

#[test]
fn words_are_anded_case_insensitively() {
    let mut s = demo();
    type_filter(&mut s, "prod-eu-1 checkout");
    assert_eq!(shown(&s), ["prod-eu-1/shop/checkout"]);
    type_filter(&mut s, "PROD-EU-1   CheckOut");
    assert_eq!(shown(&s), ["prod-eu-1/shop/checkout"]);
    type_filter(&mut s, "checkout");
    assert!(shown(&s).len() >= 2, "{:?}", shown(&s));
    type_filter(&mut s, "checkout no-such-word");
    assert!(shown(&s).is_empty());
}

#[test]
fn paths_name_cluster_namespace_and_name() {
    let mut s = demo();
    type_filter(&mut s, "prod-eu-1/shop/checkout");
    assert_eq!(shown(&s), ["prod-eu-1/shop/checkout"]);
    // The last part is a prefix; earlier parts are exact.
    type_filter(&mut s, "prod-eu-1/shop/check");
    assert_eq!(shown(&s), ["prod-eu-1/shop/checkout"]);
    type_filter(&mut s, "prod-eu/shop/checkout");
    assert!(shown(&s).is_empty(), "{:?}", shown(&s));
    // cluster/name
    type_filter(&mut s, "prod-eu-1/checkout");
    assert_eq!(shown(&s), ["prod-eu-1/shop/checkout"]);
    // ns/name: every cluster's shop/checkout
    type_filter(&mut s, "shop/checkout");
    let all = shown(&s);
    assert!(all.len() >= 2, "{all:?}");
    assert!(all.iter().all(|k| k.ends_with("/shop/checkout")), "{all:?}");
    // cluster/ns while it is being typed
    type_filter(&mut s, "prod-eu-1/sh");
    let all = shown(&s);
    assert!(
        all.contains(&"prod-eu-1/shop/checkout".to_string()),
        "{all:?}"
    );
    assert!(all.iter().all(|k| k.starts_with("prod-eu-1/")), "{all:?}");
}

#[test]
fn field_terms_narrow_by_cluster_namespace_kind_and_phase() {
    let mut s = demo();
    type_filter(&mut s, "cluster:staging kind:rollout");
    let keys = s.view.order.clone();
    assert!(!keys.is_empty());
    for k in &keys {
        assert_eq!(k.cluster, "staging");
        assert_eq!(k.kind, ReleaseKind::Rollout);
    }
    for form in [
        "kind:Deploy",
        "kind:deployment",
        "kind:deployments",
        "KIND:DEP",
    ] {
        type_filter(&mut s, form);
        assert!(!s.view.order.is_empty(), "{form}");
        assert!(
            s.view
                .order
                .iter()
                .all(|k| k.kind == ReleaseKind::Deployment),
            "{form}"
        );
    }
    type_filter(&mut s, "ns:shop phase:prog");
    for r in s.view.order.iter().filter_map(|k| s.releases.get(k)) {
        assert_eq!(r.key.namespace, "shop");
        assert_eq!(r.phase, Phase::Progressing);
    }
    // A term still being typed (`kind:`) matches everything instead of blinking empty.
    let everything = demo().view.order.len();
    type_filter(&mut s, "kind:");
    assert_eq!(s.view.order.len(), everything);
}

#[test]
fn the_filter_is_parsed_once_per_edit() {
    let mut s = demo();
    type_filter(&mut s, "cluster:staging");
    let parsed = s.view.shown.filter.clone();
    assert_eq!(parsed.source(), "cluster:staging");
    assert_eq!(parsed.terms, [Term::Cluster("staging".into())]);
    // Data arriving re-sorts the table but does not re-parse: the parsed filter is the same
    // value (and `reparse` says nothing changed).
    assert!(!reparse(&mut s));
    update(&mut s, Msg::Tick(t(10)));
    settle(&mut s);
    assert_eq!(s.view.shown.filter, parsed);
}

#[test]
fn the_filter_and_the_chooser_apply_to_failures_and_slos() {
    let mut s = demo();
    let failures_all = s.view.shown.failures.len();
    let slos_all = s.view.shown.slos.len();
    assert_eq!(failures_all, s.failures.len());
    assert_eq!(slos_all, s.slos.len());
    assert!(
        failures_all >= 2 && slos_all >= 3,
        "{failures_all} {slos_all}"
    );

    type_filter(&mut s, "cluster:staging kind:rollout");
    let failures: Vec<&Failure> = s
        .view
        .shown
        .failures
        .iter()
        .map(|i| &s.failures.items()[*i])
        .collect();
    assert!(
        failures.iter().all(|f| f.cluster == "staging"),
        "{failures:?}"
    );
    assert!(failures.len() < failures_all);
    let services: BTreeSet<&str> = s
        .view
        .order
        .iter()
        .filter_map(|k| s.releases.get(k)?.service.as_deref())
        .collect();
    let slos: Vec<&str> = s.shown_slos().map(|x| x.spec.service.as_str()).collect();
    assert!(slos.len() < slos_all, "{slos:?}");
    assert!(
        slos.iter().all(|x| services.contains(x)),
        "{slos:?} {services:?}"
    );

    // An SLO is also found by its own name.
    type_filter(&mut s, "payments-availability");
    let names: Vec<&str> = s.shown_slos().map(|x| x.spec.name.as_str()).collect();
    assert_eq!(names, ["payments-availability"]);

    // The chooser: hiding every cluster but one hides the others' failures.
    type_filter(&mut s, "");
    for c in ["prod-eu-1", "prod-us-1"] {
        s.view.hidden_clusters.insert(c.into());
    }
    s.view.order_dirty = true;
    settle(&mut s);
    let items = s.failures.items();
    assert!(
        s.view
            .shown
            .failures
            .iter()
            .all(|i| items[*i].cluster == "staging")
    );
    assert!(s.view.shown.failures.len() < failures_all);
}

#[test]
fn a_new_failure_is_shown_without_a_reorder() {
    let mut s = demo();
    let before = s.view.shown.failures.len();
    let event = crate::core::facts::WarningEvent {
        namespace: "shop".into(),
        object_kind: "Pod".into(),
        object_name: "checkout-zzz".into(),
        reason: "BackOff".into(),
        message: crate::core::text::Untrusted::new("boom"),
        count: 1,
        last_seen: Some(t(1)),
    };
    update(
        &mut s,
        Msg::Warning {
            cluster: "prod-eu-1".into(),
            event,
        },
    );
    settle(&mut s);
    assert_eq!(s.view.shown.failures.len(), before + 1);
}

#[test]
fn terms_parse_as_documented() {
    let f = Filter::parse(
        "  Cluster:EU ns:shop namespace:web kind:ro phase:P a/b x/y/z w foo:bar a/b/c/d ",
    );
    assert_eq!(
        f.terms,
        [
            Term::Cluster("eu".into()),
            Term::Namespace("shop".into()),
            Term::Namespace("web".into()),
            Term::Kind("ro".into()),
            Term::Phase("p".into()),
            Term::Path(vec!["a".into(), "b".into()]),
            Term::Path(vec!["x".into(), "y".into(), "z".into()]),
            Term::Word("w".into()),
            Term::Word("foo:bar".into()),
            Term::Word("a/b/c/d".into()),
        ]
    );
    assert!(Filter::parse("   ").is_empty());
    assert!(Filter::parse("cluster: ns:").is_empty());
}

#[test]
fn matching_is_case_insensitive_beyond_ascii() {
    assert!(contains("Straße-Prod", "straße"));
    assert!(contains("ÉTÉ", "été"));
    assert!(!contains("abc", "abcd"));
    assert!(starts_with("Ünicode", "ü"));
    assert!(equals("Ünicode", "ünicode"));
}
