//! A Kustomization's source through the real update loop: opening its detail asks for its
//! GitRepository once; the answer is shown; an answer for another source, or a source
//! kind shipdeck does not read, is not.

use super::*;
use crate::core::kinds::Kind;
use crate::core::kinds::flux::{FluxFacts, Ready, SourceRef};
use crate::core::model::Cluster;
use crate::core::msg::{Key, Msg};
use crate::core::state::Settings;
use crate::core::testkit::{FleetBuilder, meta, t};
use crate::core::{settle, update};

fn console(source_kind: &str) -> State {
    let mut f = FleetBuilder::new(t(0), Settings::default(), vec![Cluster::new("a")], vec![]);
    f.upsert(
        "a",
        ObjectFacts::Kustomization(FluxFacts {
            meta: meta("flux-system", "apps", "5"),
            source: SourceRef {
                kind: source_kind.into(),
                namespace: "flux-system".into(),
                name: "fleet".into(),
            },
            ready: Ready::False,
            ready_message: Untrusted::new("kustomization path not found"),
            observed_generation: Some(0),
            ..FluxFacts::default()
        }),
    );
    let mut s = f.settled();
    let at = s.view.order.iter().position(|k| k.name == "apps");
    s.view.selected = at.unwrap_or_else(|| panic!("apps is listed"));
    s
}

fn fetched(fx: &[Effect]) -> Vec<FluxSourceQuery> {
    fx.iter()
        .filter_map(|e| match e {
            Effect::FetchFluxSource(q) => Some(q.clone()),
            _ => None,
        })
        .collect()
}

fn source(rev: &str) -> FluxSourceFacts {
    FluxSourceFacts {
        meta: meta("flux-system", "fleet", "9"),
        kind: "GitRepository".into(),
        ready: Ready::True,
        ready_message: Untrusted::new(format!("stored artifact for revision '{rev}'")),
        artifact_revision: rev.into(),
        ..FluxSourceFacts::default()
    }
}

#[test]
fn opening_the_detail_reads_the_source_once_and_shows_its_answer() {
    let mut s = console("GitRepository");
    let fx = update(&mut s, Msg::Key(Key::Enter));
    settle(&mut s);
    let q = fetched(&fx);
    assert_eq!(
        q,
        [FluxSourceQuery {
            cluster: "a".into(),
            kind: Kind::GitRepository,
            namespace: "flux-system".into(),
            name: "fleet".into(),
        }]
    );
    assert_eq!(q[0].resource().plural, "gitrepositories");
    let shown = |s: &State| crate::ui::screenshot(s, &crate::ui::theme::Theme::no_color(), 250, 40);
    let text = shown(&s);
    assert!(
        text.contains("source   reading…") && text.contains("    GitRepository/flux-system/fleet"),
        "{text}"
    );
    // An answer for another source is not this one's.
    let mut other = q[0].clone();
    other.name = "other".into();
    update(
        &mut s,
        Msg::FluxSource {
            query: other,
            result: Ok(source("main@sha1:dead")),
        },
    );
    assert_eq!(
        s.view.flux_source.as_ref().and_then(|v| v.result.clone()),
        None
    );
    update(
        &mut s,
        Msg::FluxSource {
            query: q[0].clone(),
            result: Ok(source("main@sha1:0123abcd")),
        },
    );
    settle(&mut s);
    let text = shown(&s);
    assert!(
        text.contains("source   Ready=True")
            && text.contains("    GitRepository/flux-system/fleet"),
        "{text}"
    );
    assert!(text.contains("artifact main@sha1:0123abcd"), "{text}");
    assert!(
        text.contains("stored artifact for revision 'main@sha1:0123abcd'"),
        "{text}"
    );
    // An error is said, not hidden.
    update(
        &mut s,
        Msg::FluxSource {
            query: q[0].clone(),
            result: Err(Untrusted::new("gitrepositories \"fleet\" is forbidden")),
        },
    );
    settle(&mut s);
    let text = shown(&s);
    assert!(
        text.contains("source   not read: gitrepositories \"fleet\" is forbidden"),
        "{text}"
    );
}

#[test]
fn a_source_kind_not_read_here_is_named_and_not_fetched() {
    let mut s = console("Bucket");
    let fx = update(&mut s, Msg::Key(Key::Enter));
    settle(&mut s);
    assert!(fetched(&fx).is_empty());
    let text = crate::ui::screenshot(&s, &crate::ui::theme::Theme::no_color(), 250, 40);
    assert!(
        text.contains("    Bucket/flux-system/fleet")
            && text.contains("source   not read (shipdeck reads Git and OCI repositories)"),
        "{text}"
    );
}
