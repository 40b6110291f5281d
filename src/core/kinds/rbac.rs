//! The RBAC permissions release kinds' actions need: each kind module lists its `NEEDS`;
//! doctor reports them per cluster and the detail view checks them for the release in view.
//! Pure; no IO.

use crate::core::action::ActionKind;
use crate::core::keys::{self, Command};
use crate::core::model::Release;

/// One RBAC permission a release kind's actions need (doctor lists them; the detail view
/// checks them for the release in view).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Need {
    pub verb: &'static str,
    /// `plural` or `plural/subresource`.
    pub resource: &'static str,
    /// API group of `resource`.
    pub group: &'static str,
    /// Who the actions below act on, for doctor ("Rollout", "Flagger", ...).
    pub who: &'static str,
    /// The actions that need it (doctor names them with their keys from the key table).
    pub actions: &'static [ActionKind],
    /// How the actions use it, when that is not obvious (e.g. "through the loadtester").
    pub how: &'static str,
    /// Only needed when the release has a rollback webhook configured.
    pub with_webhook: bool,
}

impl Need {
    /// What it enables, for doctor: "Rollout pause (space), restart (r), ..." — action names
    /// from the kind module, keys from the key table.
    pub fn enables(&self) -> String {
        let actions: Vec<String> = self
            .actions
            .iter()
            .map(|&a| match keys::label_of(Command::Act(a)) {
                Some(key) => format!("{a} ({key})"),
                None => a.to_string(),
            })
            .collect();
        let how = if self.how.is_empty() {
            String::new()
        } else {
            format!(" {}", self.how)
        };
        format!("{} {}{how}", self.who, actions.join(", "))
    }
}

/// The (verb, resource) pairs to check for this release's actions.
pub fn access_needs(r: &Release) -> Vec<(&'static str, &'static str)> {
    r.key
        .kind
        .needs()
        .iter()
        .filter(|n| !n.with_webhook || r.facts.rollback_webhook.is_some())
        .map(|n| (n.verb, n.resource))
        .collect()
}

#[cfg(test)]
mod tests {
    use crate::core::kinds::ReleaseKind;

    #[test]
    fn every_need_names_its_actions_with_their_keys() {
        let rollout = ReleaseKind::Rollout.needs();
        let status = rollout.iter().find(|n| n.resource == "rollouts/status");
        assert_eq!(
            status.map(|n| n.enables()).as_deref(),
            Some("Rollout promote (p), promote-full (P), abort (a), retry (R)")
        );
        for kind in [
            ReleaseKind::Deployment,
            ReleaseKind::Rollout,
            ReleaseKind::Canary,
        ] {
            for need in kind.needs() {
                assert!(!need.actions.is_empty(), "{kind:?} {}", need.resource);
                for a in need.actions {
                    assert!(
                        kind.supports().contains(a),
                        "{kind:?} needs {} for {a}, which it does not support",
                        need.resource
                    );
                }
            }
        }
    }
}
