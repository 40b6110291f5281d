//! Build metadata for `--version`: the package version and, inside a git checkout, the short
//! commit with `-dirty` when tracked files differ from it. Outside a checkout (a source
//! tarball, a vendored copy) the version is the package's alone. Never fails the build.

use std::path::{Path, PathBuf};
use std::process::Command;

fn git(args: &[&str]) -> Option<String> {
    let out = Command::new("git").args(args).output().ok()?;
    if !out.status.success() {
        return None;
    }
    let text = String::from_utf8(out.stdout).ok()?;
    Some(text.trim().to_string())
}

/// A path git printed, relative to the manifest directory when it is not absolute.
fn git_path(args: &[&str]) -> Option<PathBuf> {
    let p = PathBuf::from(git(args)?);
    Some(if p.is_absolute() {
        p
    } else {
        Path::new(&std::env::var_os("CARGO_MANIFEST_DIR")?).join(p)
    })
}

fn main() {
    let version = std::env::var("CARGO_PKG_VERSION").unwrap_or_default();
    // Rebuild when the commit or the working tree's state changes. In a worktree the HEAD
    // lives in its own git dir and the branch ref in the common one.
    for p in ["src", "Cargo.toml", "Cargo.lock", "themes", "build.rs"] {
        println!("cargo:rerun-if-changed={p}");
    }
    // Only this package's own checkout: not a repository it happens to be vendored into.
    let manifest_dir = std::env::var_os("CARGO_MANIFEST_DIR").map(PathBuf::from);
    let top = git_path(&["rev-parse", "--show-toplevel"]);
    let own = match (top, manifest_dir) {
        (Some(top), Some(dir)) => top.canonicalize().ok() == dir.canonicalize().ok(),
        _ => false,
    };
    if !own {
        println!("cargo:rustc-env=SHIPDECK_VERSION={version}");
        return;
    }
    let commit = git(&["rev-parse", "--short", "HEAD"]);
    if let Some(git_dir) = git_path(&["rev-parse", "--git-dir"]) {
        println!("cargo:rerun-if-changed={}", git_dir.join("HEAD").display());
        println!("cargo:rerun-if-changed={}", git_dir.join("index").display());
    }
    if let (Some(common), Some(head_ref)) = (
        git_path(&["rev-parse", "--git-common-dir"]),
        git(&["symbolic-ref", "-q", "HEAD"]),
    ) {
        println!(
            "cargo:rerun-if-changed={}",
            common.join(&head_ref).display()
        );
        println!(
            "cargo:rerun-if-changed={}",
            common.join("packed-refs").display()
        );
    }
    let full = match commit {
        Some(commit) if !commit.is_empty() => {
            let dirty = git(&["status", "--porcelain", "--untracked-files=no"])
                .is_some_and(|s| !s.is_empty());
            format!(
                "{version} (commit {commit}{})",
                if dirty { "-dirty" } else { "" }
            )
        }
        _ => version,
    };
    println!("cargo:rustc-env=SHIPDECK_VERSION={full}");
}
