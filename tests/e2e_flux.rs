#![cfg(feature = "e2e")]
//! Flux on its real controllers (source-controller and kustomize-controller of the test
//! environment, a git server on loopback): suspend, resume and reconcile as the console
//! sends them, and "suspend the owner first" before a manual pause. Each test has its own
//! namespace (its GitRepository, Kustomization and what they apply) and its own bare
//! repository under the environment's git root.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[allow(dead_code, reason = "shared helpers; this suite uses some")]
mod actions;
#[path = "support/flux_cli.rs"]
mod flux_cli;
mod support;

use std::panic::AssertUnwindSafe;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, anyhow, bail};
use futures::FutureExt;
use serde_json::{Value, json};
use shipdeck::action::executor::ActionTarget;
use shipdeck::core::action::{ActionKind, ROLLOUTS};
use shipdeck::core::facts::ObjectFacts;
use shipdeck::core::kinds::flux_source::FluxSourceQuery;
use shipdeck::core::kinds::kustomization::{KUSTOMIZATIONS, KustomizationFacts};
use shipdeck::core::model::{Phase, Release};
use shipdeck::core::owner;
use shipdeck::core::status::Ctx;
use shipdeck::source::kube::project::{self, Keep, Projected};

use actions::{Console, Fixture, assert_applied};
use flux_cli::{FluxCli, KsRow, truncate_hex};
use support::TestEnv;
use support::manifests::Rollout;
use support::wait::{Check, wait_until};

const TIMEOUT: Duration = Duration::from_secs(120);

/// A bare repository served by the environment's git server, and a work tree to commit from.
struct Repo {
    url: String,
    bare: PathBuf,
    work: tempfile::TempDir,
}

async fn git(dir: &std::path::Path, args: &[&str]) -> Result<String> {
    let out = tokio::process::Command::new("git")
        .args(args)
        .current_dir(dir)
        .env("GIT_AUTHOR_NAME", "shipdeck-e2e")
        .env("GIT_AUTHOR_EMAIL", "e2e@shipdeck.invalid")
        .env("GIT_COMMITTER_NAME", "shipdeck-e2e")
        .env("GIT_COMMITTER_EMAIL", "e2e@shipdeck.invalid")
        .output()
        .await
        .context("run git")?;
    if !out.status.success() {
        bail!("git {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    }
    Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
}

impl Repo {
    async fn new(env: &TestEnv, name: &str) -> Result<Repo> {
        let root = env.var("SHIPDECK_TESTENV_GIT_ROOT").ok_or_else(|| {
            anyhow!(
                "no git server in this environment: run tests/env/build flux, then tests/env/up"
            )
        })?;
        let url = env.var("SHIPDECK_TESTENV_GIT_URL").unwrap_or_default();
        let bare = PathBuf::from(root).join(format!("{name}.git"));
        let parent = bare.parent().unwrap().to_path_buf();
        std::fs::create_dir_all(&parent)?;
        git(
            &parent,
            &["init", "-q", "--bare", "-b", "main", bare.to_str().unwrap()],
        )
        .await?;
        let work = tempfile::tempdir()?;
        git(work.path(), &["init", "-q", "-b", "main"]).await?;
        Ok(Repo {
            url: format!("{url}/{name}.git"),
            bare,
            work,
        })
    }

    /// Replace the tree with `files`, commit and push; returns the commit's sha.
    async fn commit(&self, files: &[(&str, String)], message: &str) -> Result<String> {
        for entry in std::fs::read_dir(self.work.path())? {
            let p = entry?.path();
            if p.is_file() {
                std::fs::remove_file(p)?;
            }
        }
        for (name, content) in files {
            std::fs::write(self.work.path().join(name), content)?;
        }
        let w = self.work.path();
        git(w, &["add", "-A"]).await?;
        git(w, &["commit", "-q", "-m", message]).await?;
        git(w, &["push", "-q", self.bare.to_str().unwrap(), "main"]).await?;
        git(w, &["rev-parse", "HEAD"]).await
    }

    async fn remove(self) {
        let _ = std::fs::remove_dir_all(&self.bare);
    }
}

fn config_map(data: &str) -> String {
    format!(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: app-config\ndata:\n  rev: \"{data}\"\n"
    )
}

/// The GitRepository and the Kustomization applying it into the fixture's namespace.
async fn flux_objects(
    fx: &Fixture,
    repo: &Repo,
    source_every: &str,
    apply_every: &str,
) -> Result<()> {
    let ns = &fx.ns;
    fx.apply(&format!(
        "apiVersion: source.toolkit.fluxcd.io/v1\nkind: GitRepository\nmetadata:\n  name: app\nspec:\n  interval: {source_every}\n  url: {}\n  ref:\n    branch: main\n",
        repo.url
    ))
    .await?;
    fx.apply(&format!(
        "apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata:\n  name: app\nspec:\n  interval: {apply_every}\n  path: ./\n  prune: false\n  targetNamespace: {ns}\n  sourceRef:\n    kind: GitRepository\n    name: app\n"
    ))
    .await
}

fn ctx(fx: &Fixture) -> Ctx<'_> {
    Ctx {
        cluster: &fx.cluster,
        service_label: "app.kubernetes.io/name",
        service_override: None,
    }
}

/// The Kustomization `app` as the console derives it (through its own projection).
async fn kustomization(fx: &Fixture) -> Result<(Release, Value)> {
    let (r, _, v) = kustomization_named(fx, "app").await?;
    Ok((r, v))
}

/// The Kustomization `name` as the console derives it, the facts it derived it from, and
/// the object as read.
async fn kustomization_named(
    fx: &Fixture,
    name: &str,
) -> Result<(Release, KustomizationFacts, Value)> {
    let mut v = fx.get(&KUSTOMIZATIONS, name).await?;
    v["apiVersion"] = json!("kustomize.toolkit.fluxcd.io/v1");
    v["kind"] = json!("Kustomization");
    let Projected::Object(ObjectFacts::Kustomization(k)) =
        project::from_value(v.clone(), &Keep::default()).map_err(|e| anyhow!(e))?
    else {
        bail!("{name} did not project as a Kustomization");
    };
    Ok((
        shipdeck::core::kinds::kustomization::derive(&ctx(fx), &k),
        k,
        v,
    ))
}

async fn config_rev(fx: &Fixture) -> Result<Option<String>> {
    let api: kube::Api<k8s_openapi::api::core::v1::ConfigMap> =
        kube::Api::namespaced(fx.admin.clone(), &fx.ns);
    Ok(api
        .get_opt("app-config")
        .await?
        .and_then(|c| c.data)
        .and_then(|d| d.get("rev").cloned()))
}

/// Wait until the ConfigMap the Kustomization applies has `rev`, and the Kustomization says
/// it applied `sha`.
async fn wait_applied(fx: &Fixture, rev: &str, sha: &str) -> Result<Release> {
    wait_until(&format!("rev {rev} ({sha}) applied"), TIMEOUT, || async {
        let (k, raw) = kustomization(fx).await?;
        let seen = config_rev(fx).await?;
        let applied = raw["status"]["lastAppliedRevision"].as_str().unwrap_or("");
        Ok(if seen.as_deref() == Some(rev) && applied.ends_with(sha) {
            Check::Done(k)
        } else {
            Check::NotYet(format!(
                "config {seen:?}, applied {applied:?}, {}",
                k.message.raw()
            ))
        })
    })
    .await
}

/// The GitRepository's artifact is at `sha` (the source has fetched the commit).
async fn wait_source_at(fx: &Fixture, sha: &str) -> Result<()> {
    let git_repos = shipdeck::core::action::Resource {
        group: "source.toolkit.fluxcd.io",
        version: "v1",
        plural: "gitrepositories",
        subresource: None,
    };
    wait_until(&format!("source at {sha}"), TIMEOUT, || async {
        let v = fx.get(&git_repos, "app").await?;
        let rev = v["status"]["artifact"]["revision"]
            .as_str()
            .unwrap_or("")
            .to_string();
        Ok(if rev.ends_with(sha) {
            Check::Done(())
        } else {
            Check::NotYet(format!("artifact {rev:?}"))
        })
    })
    .await
}

/// The releases the console would know: just the owner.
fn known(owner: Release) -> std::collections::BTreeMap<shipdeck::core::model::ReleaseKey, Release> {
    std::collections::BTreeMap::from([(owner.key.clone(), owner)])
}

async fn act(fx: &Fixture, id: u64, kind: ActionKind, r: &Release) -> Result<()> {
    let plan = fx.plan(kind, r)?;
    let mut console = Console::new(
        &fx.cluster,
        actions::target(TestEnv::get()?, &format!("{}-oncall", fx.cluster)).await?,
        None,
    );
    let outcome = console.run(id, plan).await?;
    assert_applied(&outcome, &format!("{kind} {}", r.key));
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn flux_suspended_skips_a_new_commit() -> Result<()> {
    let env = TestEnv::get()?;
    let fx = Fixture::new("a").await?;
    let repo = Repo::new(env, &fx.ns).await?;
    let test = async {
        let a = repo
            .commit(&[("config.yaml", config_map("a"))], "a")
            .await?;
        // The source polls every 2 s; the Kustomization follows each new artifact at once.
        flux_objects(&fx, &repo, "2s", "1h").await?;
        let started = Instant::now();
        let k = wait_applied(&fx, "a", &a).await?;
        let first_apply = started.elapsed();
        assert_eq!(k.phase, Phase::Healthy, "{}", k.message.raw());
        // The detail reads the source when it opens: the same GET through the on-call
        // target, against the real source-controller's GitRepository.
        let query = FluxSourceQuery {
            cluster: fx.cluster.clone(),
            kind: shipdeck::core::kinds::Kind::GitRepository,
            namespace: fx.ns.clone(),
            name: "app".into(),
        };
        let oncall = actions::target(env, &format!("{}-oncall", fx.cluster)).await?;
        let source = oncall
            .flux_source(query)
            .await
            .map_err(|e| anyhow!("source not read: {}", e.raw()))?;
        println!("flux source as the detail shows it: {}", source.summary());
        assert_eq!(source.kind, "GitRepository");
        assert_eq!(source.ready, shipdeck::core::kinds::flux::Ready::True);
        assert!(
            source.artifact_revision.ends_with(&a),
            "artifact {} is commit {a}",
            source.artifact_revision
        );
        assert!(
            source.ready_message.raw().contains(&a[..7]) || source.ready_message.raw().contains(&a),
            "{}",
            source.ready_message.raw()
        );
        act(&fx, 1, ActionKind::Pause, &k).await?;
        let k = wait_until("suspended", TIMEOUT, || async {
            let (k, _) = kustomization(&fx).await?;
            Ok(if k.facts.spec_paused {
                Check::Done(k)
            } else {
                Check::NotYet(k.message.raw().into())
            })
        })
        .await?;
        assert_eq!(k.phase, Phase::Paused);
        assert!(
            k.message.raw().starts_with("suspended"),
            "{}",
            k.message.raw()
        );
        // Sync is refused on a suspended object, with the reason.
        let refused = fx.plan(ActionKind::Sync, &k).unwrap_err().to_string();
        assert!(refused.contains("suspended"), "{refused}");
        let b = repo
            .commit(&[("config.yaml", config_map("b"))], "b")
            .await?;
        let pushed = Instant::now();
        wait_source_at(&fx, &b).await?;
        // Not applied: observed for three times what the first apply took after its source
        // was ready (at least 10 s), the ConfigMap stays at a.
        let window = (first_apply * 3).max(Duration::from_secs(10));
        while pushed.elapsed() < window {
            assert_eq!(
                config_rev(&fx).await?.as_deref(),
                Some("a"),
                "applied while suspended"
            );
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
        let (k, raw) = kustomization(&fx).await?;
        assert!(
            raw["status"]["lastAppliedRevision"]
                .as_str()
                .unwrap_or("")
                .ends_with(&a)
        );
        act(&fx, 2, ActionKind::Resume, &k).await?;
        let resumed = Instant::now();
        let k = wait_applied(&fx, "b", &b).await?;
        println!(
            "first apply {:.1} s; suspended: b not applied for {:.1} s after its push; resumed: b applied in {:.1} s",
            first_apply.as_secs_f64(),
            window.as_secs_f64(),
            resumed.elapsed().as_secs_f64()
        );
        assert_eq!(k.phase, Phase::Healthy, "{}", k.message.raw());
        Ok(())
    };
    let result = AssertUnwindSafe(test).catch_unwind().await;
    repo.remove().await;
    fx.done(result).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn flux_reconcile_applies_at_once() -> Result<()> {
    let env = TestEnv::get()?;
    let fx = Fixture::new("a").await?;
    let repo = Repo::new(env, &fx.ns).await?;
    let test = async {
        let a = repo
            .commit(&[("config.yaml", config_map("a"))], "a")
            .await?;
        // Nothing reconciles on its own for an hour.
        flux_objects(&fx, &repo, "1h", "1h").await?;
        let k = wait_applied(&fx, "a", &a).await?;
        // Drift: someone edits the applied object by hand.
        let api: kube::Api<k8s_openapi::api::core::v1::ConfigMap> =
            kube::Api::namespaced(fx.admin.clone(), &fx.ns);
        api.patch(
            "app-config",
            &kube::api::PatchParams::default(),
            &kube::api::Patch::Merge(json!({"data": {"rev": "edited by hand"}})),
        )
        .await?;
        let k = fx
            .settled(|| async { Ok(kustomization(&fx).await?.0) })
            .await
            .unwrap_or(k);
        let plan = fx.plan(ActionKind::Sync, &k)?;
        let requested = plan.calls[0]
            .body_text()
            .lines()
            .find_map(|l| {
                l.trim()
                    .strip_prefix("\"reconcile.fluxcd.io/requestedAt\": \"")
            })
            .map(|v| v.trim_end_matches(['"', ',']).to_string())
            .ok_or_else(|| anyhow!("no requestedAt in {}", plan.calls[0].body_text()))?;
        let mut console = Console::new(&fx.cluster, actions::target(env, "a-oncall").await?, None);
        let sent = Instant::now();
        assert_applied(&console.run(1, plan).await?, "reconcile");
        // Done as `flux reconcile` waits: lastHandledReconcileAt is ours and Ready decided.
        let k = wait_until("reconcile handled", TIMEOUT, || async {
            let (k, raw) = kustomization(&fx).await?;
            let handled = raw["status"]["lastHandledReconcileAt"]
                .as_str()
                .unwrap_or("");
            Ok(
                if handled == requested && !k.phase.eq(&Phase::Progressing) {
                    Check::Done(k)
                } else {
                    Check::NotYet(format!(
                        "handled {handled:?}, {:?} {}",
                        k.phase,
                        k.message.raw()
                    ))
                },
            )
        })
        .await?;
        let handled_in = sent.elapsed();
        assert_eq!(k.phase, Phase::Healthy, "{}", k.message.raw());
        assert_eq!(
            config_rev(&fx).await?.as_deref(),
            Some("a"),
            "drift corrected by the reconcile"
        );
        println!(
            "reconcile handled and drift corrected {:.1} s after the request (interval 1h)",
            handled_in.as_secs_f64()
        );
        assert!(handled_in < Duration::from_secs(60));
        Ok(())
    };
    let result = AssertUnwindSafe(test).catch_unwind().await;
    repo.remove().await;
    fx.done(result).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn suspend_owner_first_then_pause_survives_reconcile() -> Result<()> {
    let env = TestEnv::get()?;
    let fx = Fixture::new("a").await?;
    let repo = Repo::new(env, &fx.ns).await?;
    let test = async {
        // The Rollout in git says `paused: false`: the Kustomization owns that field, so a
        // manual pause is reverted at its next reconcile (every 3 s here).
        let rollout = |image: &str, pending: bool| -> Result<String> {
            let mut v = Rollout::canary("web", image).value();
            v["spec"]["paused"] = json!(false);
            if pending {
                // The new version's pods cannot be scheduled: the update stays in flight
                // at its first step (not paused, not promoted), where pause applies.
                v["spec"]["template"]["spec"]["nodeSelector"] = json!({"shipdeck.test/none": "x"});
            }
            Ok(serde_yaml::to_string(&v)?)
        };
        repo.commit(
            &[("rollout.yaml", rollout("example.test/shop:1", false)?)],
            "v1",
        )
        .await?;
        flux_objects(&fx, &repo, "2s", "3s").await?;
        fx.wait_release(
            "web v1 healthy",
            || fx.rollout("web"),
            |r| r.phase == Phase::Healthy && r.facts.fully_promoted,
        )
        .await?;
        let v2 = repo
            .commit(
                &[("rollout.yaml", rollout("example.test/shop:2", true)?)],
                "v2",
            )
            .await?;
        wait_until("Kustomization applied v2", TIMEOUT, || async {
            let (_, raw) = kustomization(&fx).await?;
            let applied = raw["status"]["lastAppliedRevision"]
                .as_str()
                .unwrap_or("")
                .to_string();
            Ok(if applied.ends_with(&v2) {
                Check::Done(())
            } else {
                Check::NotYet(applied)
            })
        })
        .await?;
        let r = fx
            .wait_release(
                "web v2 in flight",
                || fx.rollout("web"),
                |r| {
                    r.phase == Phase::Progressing && !r.facts.fully_promoted && !r.facts.spec_paused
                },
            )
            .await?;
        assert!(
            r.owner.is_some(),
            "the Rollout names its owner: {:?}",
            r.owner
        );
        // Control: a pause alone is reverted by the owner's next reconcile.
        let r = fx.settled(|| fx.rollout("web")).await?;
        act(&fx, 1, ActionKind::Pause, &r).await?;
        let paused_at = Instant::now();
        wait_until("manual pause reverted by Flux", TIMEOUT, || async {
            let v = fx.get(&ROLLOUTS, "web").await?;
            Ok(if v["spec"]["paused"] == json!(false) {
                Check::Done(())
            } else {
                Check::NotYet(format!("paused {}", v["spec"]["paused"]))
            })
        })
        .await?;
        let reverted_in = paused_at.elapsed();
        // Suspend the owner first, then pause: one plan, the owner's suspend first.
        let r = fx.settled(|| fx.rollout("web")).await?;
        let (k, _) = kustomization(&fx).await?;
        let mut plan = fx.plan(ActionKind::Pause, &r)?;
        plan.owner_first = owner::pre_step(ActionKind::Pause, &r, &known(k));
        let first = plan
            .owner_first
            .clone()
            .ok_or_else(|| anyhow!("no owner pre-step for {:?}", r.owner))?;
        assert_eq!(first.owner, format!("Flux Kustomization {}/app", fx.ns));
        let plan = plan.with_owner_first();
        assert_eq!(plan.calls.len(), 2);
        let mut console = Console::new(&fx.cluster, actions::target(env, "a-oncall").await?, None);
        let outcome = console.run(2, plan).await?;
        assert_applied(&outcome, "suspend owner, then pause");
        let (k, _) = kustomization(&fx).await?;
        assert!(k.facts.spec_paused, "owner suspended");
        assert!(matches!(
            owner::owner_state(&fx.rollout("web").await?, &known(k)),
            Some(owner::OwnerState::Suspended { .. })
        ));
        // The pause survives: watched for three times what the revert took (at least three
        // reconcile intervals), it stays.
        let window = (reverted_in * 3).max(Duration::from_secs(9));
        let since = Instant::now();
        while since.elapsed() < window {
            let v = fx.get(&ROLLOUTS, "web").await?;
            assert_eq!(
                v["spec"]["paused"],
                json!(true),
                "pause reverted although the owner is suspended"
            );
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
        let r = fx.rollout("web").await?;
        assert_eq!(r.phase, Phase::Paused, "{}", r.message.raw());
        println!(
            "without suspending the owner the pause was reverted in {:.1} s; with it, still paused after {:.1} s",
            reverted_in.as_secs_f64(),
            window.as_secs_f64()
        );
        Ok(())
    };
    let result = AssertUnwindSafe(test).catch_unwind().await;
    repo.remove().await;
    fx.done(result).await
}

/// The row `flux get kustomizations` would print for what the console derived: the same
/// fields, hex cut as the CLI cuts it.
fn console_row(name: &str, k: &KustomizationFacts) -> KsRow {
    KsRow {
        name: name.to_string(),
        revision: truncate_hex(&k.last_applied_revision),
        suspended: if k.suspend { "True" } else { "False" }.to_string(),
        ready: k.ready.as_str().to_string(),
        message: truncate_hex(k.ready_message.raw()),
    }
}

/// In a settled state, `flux get kustomizations` and the console say the same of `names`;
/// the console's phase follows (suspended: paused; Ready and not suspended: healthy). Both
/// read the same version of each object: the CLI's table is taken between two reads that
/// return the same resourceVersions, so a status write in between cannot make them differ.
/// Prints `state | name | field | flux | shipdeck`; returns the console's releases.
async fn agree(fx: &Fixture, cli: &FluxCli, state: &str, names: &[&str]) -> Result<Vec<Release>> {
    let read = || async {
        let mut out = Vec::new();
        for name in names {
            out.push(kustomization_named(fx, name).await?);
        }
        anyhow::Ok(out)
    };
    let version = |objs: &[(Release, KustomizationFacts, Value)]| -> Vec<String> {
        objs.iter()
            .map(|(_, _, v)| v["metadata"]["resourceVersion"].to_string())
            .collect()
    };
    let (table, objs) = wait_until(&format!("{state}: a stable read"), TIMEOUT, || async {
        let before = read().await?;
        let table = cli.kustomizations(&fx.ns).await?;
        let after = read().await?;
        Ok(if version(&before) == version(&after) {
            Check::Done((table, after))
        } else {
            Check::NotYet(format!("{:?} → {:?}", version(&before), version(&after)))
        })
    })
    .await?;
    let mut releases = Vec::new();
    for (name, (release, facts, _)) in names.iter().zip(objs) {
        let flux = table
            .get(*name)
            .ok_or_else(|| anyhow!("{state}: flux get lists no {name}: {table:?}"))?;
        let ours = console_row(name, &facts);
        for (field, f, s) in [
            ("revision", &flux.revision, &ours.revision),
            ("suspended", &flux.suspended, &ours.suspended),
            ("ready", &flux.ready, &ours.ready),
            ("message", &flux.message, &ours.message),
        ] {
            println!("{state} | {name} | {field} | {f} | {s} | {}", f == s);
        }
        assert_eq!(
            flux, &ours,
            "{state}: flux get and shipdeck differ on {name}"
        );
        let want = if facts.suspend {
            Phase::Paused
        } else {
            Phase::Healthy
        };
        assert_eq!(
            release.phase,
            want,
            "{state}: {name}: {}",
            release.message.raw()
        );
        releases.push(release);
    }
    Ok(releases)
}

/// Every Kustomization in `names` has applied `sha` and decided Ready.
async fn wait_all_applied(fx: &Fixture, names: &[&str], sha: &str) -> Result<()> {
    wait_until(&format!("{names:?} applied {sha}"), TIMEOUT, || async {
        for name in names {
            let (_, k, _) = kustomization_named(fx, name).await?;
            if !k.last_applied_revision.ends_with(sha) || k.reconciling() {
                return Ok(Check::NotYet(format!(
                    "{name}: applied {:?}, Ready={}",
                    k.last_applied_revision,
                    k.ready.as_str()
                )));
            }
        }
        Ok(Check::Done(()))
    })
    .await
}

/// shipdeck and the `flux` CLI (v2.9.5, the release of the environment's controllers) agree
/// on Kustomizations: in each settled state `flux get kustomizations` prints what the console
/// derived (revision, suspended, ready, message); a suspend or a resume sent by either is
/// read the same by both; and the two leave the same `spec.suspend`. Two Kustomizations of
/// one source: shipdeck suspends `one`, the CLI `two`; then each resumes the other's.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shipdeck_and_the_flux_cli_agree_on_kustomizations() -> Result<()> {
    let env = TestEnv::get()?;
    let cli = FluxCli::of(env, "a-admin")?;
    let fx = Fixture::new("a").await?;
    let repo = Repo::new(env, &fx.ns).await?;
    let names = ["one", "two"];
    let test = async {
        let ns = &fx.ns;
        let a = repo
            .commit(&[("config.yaml", config_map("a"))], "a")
            .await?;
        fx.apply(&format!(
            "apiVersion: source.toolkit.fluxcd.io/v1\nkind: GitRepository\nmetadata:\n  name: app\nspec:\n  interval: 2s\n  url: {}\n  ref:\n    branch: main\n",
            repo.url
        ))
        .await?;
        // Each applies the repository's ConfigMap under its own name prefix.
        for name in names {
            fx.apply(&format!(
                "apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata:\n  name: {name}\nspec:\n  interval: 1h\n  path: ./\n  prune: false\n  namePrefix: {name}-\n  targetNamespace: {ns}\n  sourceRef:\n    kind: GitRepository\n    name: app\n"
            ))
            .await?;
        }
        wait_all_applied(&fx, &names, &a).await?;
        agree(&fx, &cli, "applied a", &names).await?;

        // Suspend: `one` from the console, `two` with `flux suspend`.
        let (one, _, _) = kustomization_named(&fx, "one").await?;
        act(&fx, 1, ActionKind::Pause, &one).await?;
        cli.run(ns, &["suspend", "kustomization", "two"]).await?;
        let suspended = agree(&fx, &cli, "suspended", &names).await?;
        assert!(suspended.iter().all(|r| r.facts.spec_paused));
        // Sync is refused on either, whoever suspended it.
        for r in &suspended {
            let refused = fx.plan(ActionKind::Sync, r).unwrap_err().to_string();
            assert!(refused.contains("suspended"), "{}: {refused}", r.key);
        }

        // A new commit reaches the source and neither applies it.
        let b = repo
            .commit(&[("config.yaml", config_map("b"))], "b")
            .await?;
        wait_source_at(&fx, &b).await?;
        let held = agree(&fx, &cli, "b fetched, both suspended", &names).await?;
        assert!(held.iter().all(|r| r.message.raw().contains(&a)));

        // Resume each other's: `one` with `flux resume` (it waits for Ready), `two` from the
        // console.
        cli.run(ns, &["resume", "kustomization", "one", "--timeout=2m"])
            .await?;
        let (two, _, _) = kustomization_named(&fx, "two").await?;
        act(&fx, 2, ActionKind::Resume, &two).await?;
        wait_all_applied(&fx, &names, &b).await?;
        agree(&fx, &cli, "resumed, b applied", &names).await?;
        // What each left in the spec: not suspended. The CLI's merge patch drops the field
        // (`suspend` is omitempty), the console writes false; Flux reads both as false.
        for name in names {
            let v = fx.get(&KUSTOMIZATIONS, name).await?;
            let left = &v["spec"]["suspend"];
            println!("spec.suspend of {name} after resume: {left}");
            assert!(left.is_null() || left == &json!(false), "{name}: {left}");
        }
        Ok(())
    };
    let result = AssertUnwindSafe(test).catch_unwind().await;
    repo.remove().await;
    fx.done(result).await
}
