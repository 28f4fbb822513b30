//! Embeds the commit this binary is built from, so a report names the code that ran
//! rather than whatever the checkout holds when it runs.
//!
//! Sets `VITRINE_BUILD_COMMIT` to the short HEAD, with `-dirty` when tracked files
//! differ from it, or `unknown` when git or the repository is unavailable.

use std::path::Path;
use std::process::Command;

fn main() {
    println!("cargo:rerun-if-env-changed=VITRINE_COMMIT");
    let commit = match std::env::var("VITRINE_COMMIT") {
        Ok(c) if !c.trim().is_empty() => c.trim().to_owned(),
        _ => from_git(),
    };
    println!("cargo:rustc-env=VITRINE_BUILD_COMMIT={commit}");
}

/// The output of a git command, when it succeeds.
fn git(args: &[&str]) -> Option<String> {
    Command::new("git")
        .args(args)
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
}

fn from_git() -> String {
    let Some(git_dir) = git(&["rev-parse", "--absolute-git-dir"]) else {
        return "unknown".into();
    };
    // A new commit, branch switch or staged change moves one of these.
    // Limitation: an edit to a tracked file that is neither staged nor built from this
    // crate does not rerun this script, so `-dirty` can lag until the next rebuild of it.
    let dir = Path::new(&git_dir);
    for name in ["HEAD", "refs", "packed-refs", "index"] {
        let path = dir.join(name);
        if path.exists() {
            println!("cargo:rerun-if-changed={}", path.display());
        }
    }

    let Some(head) = git(&["rev-parse", "--short=12", "HEAD"]) else {
        return "unknown".into();
    };
    let dirty =
        git(&["status", "--porcelain", "--untracked-files=no"]).is_some_and(|s| !s.is_empty());
    if dirty {
        format!("{head}-dirty")
    } else {
        head
    }
}
