//! Finds the commit this source tree is, for `chatvault --version` and the app's About:
//! `CHATVAULT_GIT_COMMIT` if set (distribution builds), else `git rev-parse HEAD` of this tree,
//! else the `COMMIT` file that `git archive` fills in (export-subst, `.gitattributes`), else
//! `unknown`. Works in a clone, a worktree, and a tarball without `.git`; never fails the build.

use std::path::{Path, PathBuf};
use std::process::Command;

fn main() {
    println!("cargo:rerun-if-env-changed=CHATVAULT_GIT_COMMIT");
    let top = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").unwrap());
    let commit_file = top.join("COMMIT");
    println!("cargo:rerun-if-changed={}", commit_file.display());

    let commit = std::env::var("CHATVAULT_GIT_COMMIT")
        .ok()
        .map(|c| c.trim().to_string())
        .filter(|c| is_commit(c))
        .or_else(|| from_git(&top))
        .or_else(|| from_archive(&commit_file))
        .unwrap_or_else(|| "unknown".into());
    println!("cargo:rustc-env=CHATVAULT_GIT_COMMIT={commit}");
}

fn is_commit(s: &str) -> bool {
    s.len() == 40 && s.bytes().all(|b| b.is_ascii_hexdigit())
}

fn git(top: &Path, args: &[&str]) -> Option<String> {
    let out = Command::new("git")
        .arg("-C")
        .arg(top)
        .args(args)
        .output()
        .ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
}

/// HEAD of the repository whose top level is `top` (not of some repository a tarball was
/// unpacked into), and the files whose change means a new HEAD.
fn from_git(top: &Path) -> Option<String> {
    let toplevel = PathBuf::from(git(top, &["rev-parse", "--show-toplevel"])?);
    if toplevel.canonicalize().ok()? != top.canonicalize().ok()? {
        return None;
    }
    let head = git(top, &["rev-parse", "HEAD"]).filter(|c| is_commit(c))?;
    // HEAD itself, the branch it points at, and packed-refs (where a branch may live instead).
    let mut watch = vec![git(top, &["rev-parse", "--git-path", "HEAD"])?];
    if let Some(branch) = git(top, &["symbolic-ref", "-q", "HEAD"]) {
        watch.push(git(top, &["rev-parse", "--git-path", &branch])?);
    }
    watch.push(git(top, &["rev-parse", "--git-path", "packed-refs"])?);
    for p in watch {
        let p = if Path::new(&p).is_absolute() {
            PathBuf::from(p)
        } else {
            top.join(p)
        };
        // A missing file would make cargo rerun this script on every build.
        if p.exists() {
            println!("cargo:rerun-if-changed={}", p.display());
        }
    }
    Some(head)
}

/// `COMMIT` as `git archive` writes it (`$Format:%H$` replaced by the commit id).
fn from_archive(file: &Path) -> Option<String> {
    let text = std::fs::read_to_string(file).ok()?;
    let c = text.trim();
    is_commit(c).then(|| c.to_string())
}
