//! `y` / `Y`: copy the selected release's `cluster/namespace/name`, or the `kubectl` command
//! that shows it. The core only decides the text (every character from a cluster through
//! the sanitising boundary, `text::escape`) and numbers the request; the terminal adapter
//! writes it as OSC 52 once (`term::osc52`). Pure; no IO.

use super::model::Release;
use super::state::{Level, Notice, State};
use super::text::escape;

/// A copy the terminal adapter has to write (`seq` grows by one per copy).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Clip {
    pub seq: u64,
    pub text: String,
}

/// What `y` copies: `cluster/namespace/name`.
pub fn path_of(r: &Release) -> String {
    escape(&format!(
        "{}/{}/{}",
        r.key.cluster, r.key.namespace, r.key.name
    ))
    .into_owned()
}

/// What `Y` copies: the `kubectl` command that shows the object (its kubeconfig context is
/// the cluster's name).
pub fn kubectl_of(r: &Release) -> String {
    let api = r.key.kind.kind().api();
    let resource = if api.group.is_empty() {
        api.plural.to_string()
    } else {
        format!("{}.{}", api.plural, api.group)
    };
    escape(&format!(
        "kubectl --context {} -n {} get {resource} {}",
        r.key.cluster, r.key.namespace, r.key.name
    ))
    .into_owned()
}

/// Copy `kubectl` (`Y`) or the path (`y`) of the selected release, with a visible toast.
pub fn copy_selected(state: &mut State, kubectl: bool) {
    let Some(r) = state.selected_release() else {
        state.dirty = false;
        return;
    };
    let text = if kubectl { kubectl_of(r) } else { path_of(r) };
    let seq = state.view.clip.as_ref().map_or(1, |c| c.seq + 1);
    state.view.notice = Some(Notice {
        text: format!("copied: {text}"),
        level: Level::Info,
        at: state.now,
    });
    state.view.clip = Some(Clip { seq, text });
    state.dirty = true;
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::facts::ObjectFacts;
    use crate::core::model::Cluster;
    use crate::core::msg::{Key, Msg};
    use crate::core::state::Settings;
    use crate::core::testkit::paused_rollout;
    use crate::core::update::update;
    use jiff::Timestamp;

    fn state_with(name: &str) -> State {
        let mut s = State::new(
            Timestamp::UNIX_EPOCH,
            Settings::default(),
            vec![Cluster::new("prod-eu")],
            vec![],
        );
        update(
            &mut s,
            Msg::Upsert {
                cluster: "prod-eu".into(),
                facts: ObjectFacts::Rollout(paused_rollout("shop", name)),
            },
        );
        update(&mut s, Msg::Tick(Timestamp::UNIX_EPOCH));
        s
    }

    #[test]
    fn y_copies_the_path_and_capital_y_the_kubectl_command() {
        let mut s = state_with("web");
        crate::core::update::settle(&mut s);
        update(&mut s, Msg::Key(Key::Char('y')));
        let clip = s.view.clip.clone().unwrap_or_default();
        assert_eq!((clip.seq, clip.text.as_str()), (1, "prod-eu/shop/web"));
        let toast = s
            .view
            .notice
            .as_ref()
            .map(|n| n.text.clone())
            .unwrap_or_default();
        assert_eq!(toast, "copied: prod-eu/shop/web");
        update(&mut s, Msg::Key(Key::Char('Y')));
        let clip = s.view.clip.clone().unwrap_or_default();
        assert_eq!(
            (clip.seq, clip.text.as_str()),
            (
                2,
                "kubectl --context prod-eu -n shop get rollouts.argoproj.io web"
            )
        );
    }

    #[test]
    fn a_hostile_name_is_escaped_before_it_is_copied() {
        let mut s = state_with("web\u{1b}]52;c;ZXZpbA==\u{7}\u{202e}");
        crate::core::update::settle(&mut s);
        update(&mut s, Msg::Key(Key::Char('y')));
        let clip = s.view.clip.clone().unwrap_or_default();
        assert_eq!(
            clip.text,
            "prod-eu/shop/web\\x1b]52;c;ZXZpbA==\\x07\\u{202e}"
        );
        assert!(!clip.text.chars().any(crate::core::text::needs_escape));
    }
}
