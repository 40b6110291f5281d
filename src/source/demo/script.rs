//! When the simulated teams ship: each workload may get a new version every few minutes
//! (only once its last release settled), so the screen stays alive without turning into
//! noise. Which versions are broken follows a fixed plan per workload.

use jiff::{SignedDuration, Timestamp};

use super::replicaset::Quality;
use super::rng::Rng;

#[derive(Debug, Clone)]
pub struct Script {
    /// Seconds between releases: (min, max), jittered by the seed.
    every: (i64, i64),
    next_at: Option<Timestamp>,
    /// Qualities of the next versions, in order, repeating.
    plan: Vec<Quality>,
    shipped: usize,
}

impl Script {
    /// A workload nobody ships to during the demo.
    pub fn idle() -> Self {
        Script {
            every: (0, 0),
            next_at: None,
            plan: Vec::new(),
            shipped: 0,
        }
    }

    /// Ships every `every` seconds (min, max), the first after `first_after` seconds.
    pub fn every(every: (i64, i64), first_after: i64, plan: &[Quality], now: Timestamp) -> Self {
        Script {
            every,
            next_at: Some(now + SignedDuration::from_secs(first_after)),
            plan: plan.to_vec(),
            shipped: 0,
        }
    }

    /// The quality of the version to ship now, if one is due and the workload is `settled`.
    /// A due release waits for the previous one to settle, like a team watching its deploy.
    pub fn due(&mut self, now: Timestamp, settled: bool, rng: &mut Rng) -> Option<Quality> {
        let next_at = self.next_at?;
        if now < next_at || !settled || self.plan.is_empty() {
            return None;
        }
        let quality = self.plan[self.shipped % self.plan.len()];
        self.shipped += 1;
        self.next_at = Some(now + SignedDuration::from_secs(rng.range(self.every.0, self.every.1)));
        Some(quality)
    }
}

/// The next patch version of an image: `repo/app:2.14.0` → `repo/app:2.14.1`.
pub fn bump_image(image: &str) -> String {
    let Some((repo, tag)) = image.rsplit_once(':') else {
        return format!("{image}:1.0.1");
    };
    let mut parts: Vec<String> = tag.split('.').map(str::to_string).collect();
    match parts.last().and_then(|p| p.parse::<u64>().ok()) {
        Some(n) => {
            if let Some(last) = parts.last_mut() {
                *last = (n + 1).to_string();
            }
            format!("{repo}:{}", parts.join("."))
        }
        None => format!("{repo}:{tag}-1"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bumps_the_patch_version() {
        assert_eq!(
            bump_image("ghcr.io/acme/checkout:2.14.0"),
            "ghcr.io/acme/checkout:2.14.1"
        );
        assert_eq!(
            bump_image("localhost:5000/app:1.9"),
            "localhost:5000/app:1.10"
        );
        assert_eq!(bump_image("app:latest"), "app:latest-1");
    }

    #[test]
    fn waits_until_due_and_settled() {
        let t0 = Timestamp::UNIX_EPOCH;
        let mut rng = Rng::new(1);
        let mut s = Script::every((60, 60), 10, &[Quality::Good, Quality::ErrorProne], t0);
        assert_eq!(s.due(t0, true, &mut rng), None);
        let later = t0 + SignedDuration::from_secs(10);
        assert_eq!(s.due(later, false, &mut rng), None);
        assert_eq!(s.due(later, true, &mut rng), Some(Quality::Good));
        assert_eq!(s.due(later, true, &mut rng), None);
        let next = later + SignedDuration::from_secs(60);
        assert_eq!(s.due(next, true, &mut rng), Some(Quality::ErrorProne));
        assert_eq!(Script::idle().due(next, true, &mut rng), None);
    }
}
