//! Leases on the target that keep two runs from changing one repository at once
//! (FORMAT.md §10). This implements acquire, conflict check and release; runs here are short,
//! so the 15-minute lease is not refreshed yet (a TODO for very long first backups).

use super::format::{self, kind, LockBody};
use super::{now_ms, random_name, Repo};
use crate::crypto::envelope::Padding;
use crate::error::{Error, ErrorCode, Result};

pub const TTL_MS: i64 = 15 * 60 * 1000;
pub const SKEW_MS: i64 = 5 * 60 * 1000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Shared = 1,
    Append = 2,
    Exclusive = 3,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Backup = 1,
    Restore = 2,
    Verify = 3,
    Forget = 4,
    Prune = 5,
    Rotate = 6,
}

/// Shared runs only clash with exclusive ones; two appends clash; exclusive clashes with all.
fn conflicts(a: u8, b: u8) -> bool {
    let (append, exclusive) = (Mode::Append as u8, Mode::Exclusive as u8);
    a == exclusive || b == exclusive || (a == append && b == append)
}

/// A held lease; call [`Lock::release`] when done (a crash leaves it to expire).
pub struct Lock {
    path: String,
    pub body: LockBody,
}

impl Lock {
    pub async fn acquire(repo: &Repo, mode: Mode, op: Op) -> Result<Lock> {
        let now = now_ms();
        let body = LockBody {
            lock_id: crate::crypto::keys::random_bytes::<16>(),
            mode: mode as u8,
            op: op as u8,
            holder: crate::crypto::keys::random_bytes::<16>(),
            seq: 0,
            created: now,
            expires: now + TTL_MS,
        };
        let path = format!("locks/{}", hex::encode(random_name()));
        active().insert(body.holder);
        record_holder(repo, &body.holder);
        repo.put(
            &path,
            repo.seal_meta(kind::LOCK, &path, &format::encode(&body), Padding::Pow2),
        )
        .await?;
        for (other, _) in repo.list_names("locks/").await? {
            if other == path {
                continue;
            }
            let live = match repo
                .get(&other)
                .await
                .and_then(|raw| repo.open_meta(kind::LOCK, &other, &raw))
            {
                Ok(b) => match format::decode::<LockBody>(&b, &other) {
                    Ok(l) if now <= l.expires + SKEW_MS => Some(l),
                    Ok(_) => None,
                    Err(_) => None,
                },
                // Deleted meanwhile: not a conflict.
                Err(e) if e.code() == ErrorCode::RepoObjectMissing => None,
                Err(_) => None,
            };
            if let Some(l) = live {
                if holder_is_dead(repo, &l.holder) {
                    // A run on this machine that died (kill -9, power loss) left it behind.
                    let _ = repo.delete(&other).await;
                    forget_holder(repo, &l.holder);
                    continue;
                }
                if conflicts(body.mode, l.mode) {
                    let _ = repo.delete(&path).await;
                    active().remove(&body.holder);
                    let age = (now - l.created).max(0) / 1000;
                    return Err(Error::new(
                        ErrorCode::RepoLocked,
                        format!("another ChatVault run ({}) started {age} s ago holds the repository", op_name(l.op)),
                    )
                    .with_hint("Wait for it to finish; a lock left by a crashed run expires after 15 minutes."));
                }
            }
        }
        Ok(Lock { path, body })
    }

    pub async fn release(self, repo: &Repo) -> Result<()> {
        // No longer held, even if the target cannot be told (it may be down): a later run in
        // this process then treats the leftover lease as stale.
        active().remove(&self.body.holder);
        repo.delete(&self.path).await?;
        forget_holder(repo, &self.body.holder);
        Ok(())
    }
}

fn holder_file(repo: &Repo, holder: &[u8; 16]) -> Option<std::path::PathBuf> {
    repo.local_dir
        .as_ref()
        .map(|d| d.join("holders").join(hex::encode(holder)))
}

/// Notes this process as the holder, so a later run on this machine can tell it died.
fn record_holder(repo: &Repo, holder: &[u8; 16]) {
    if let Some(f) = holder_file(repo, holder) {
        if let Some(parent) = f.parent() {
            let _ = std::fs::create_dir_all(parent);
        }
        let _ = std::fs::write(f, std::process::id().to_string());
    }
}

fn forget_holder(repo: &Repo, holder: &[u8; 16]) {
    if let Some(f) = holder_file(repo, holder) {
        let _ = std::fs::remove_file(f);
    }
}

/// Holders of leases this process currently holds.
fn active() -> std::sync::MutexGuard<'static, std::collections::HashSet<[u8; 16]>> {
    static ACTIVE: std::sync::OnceLock<std::sync::Mutex<std::collections::HashSet<[u8; 16]>>> =
        std::sync::OnceLock::new();
    ACTIVE
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(|p| p.into_inner())
}

/// True when the lock's holder was a run on this machine that is over: its process died, or
/// it was this process and the run ended without the target hearing of it.
fn holder_is_dead(repo: &Repo, holder: &[u8; 16]) -> bool {
    let Some(f) = holder_file(repo, holder) else {
        return false;
    };
    let Ok(pid) = std::fs::read_to_string(f) else {
        return false;
    };
    let pid = pid.trim();
    if pid == std::process::id().to_string() {
        return !active().contains(holder);
    }
    process_gone(pid)
}

#[cfg(target_os = "linux")]
fn process_gone(pid: &str) -> bool {
    !std::path::Path::new("/proc").join(pid).exists()
}

#[cfg(not(target_os = "linux"))]
fn process_gone(_pid: &str) -> bool {
    false // without a cheap portable check, wait for the lease to expire
}

fn op_name(op: u8) -> &'static str {
    match op {
        1 => "backup",
        2 => "restore",
        3 => "verify",
        4 => "forget",
        5 => "prune",
        6 => "key rotate",
        _ => "unknown",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conflict_table_matches_the_format() {
        let (s, a, x) = (
            Mode::Shared as u8,
            Mode::Append as u8,
            Mode::Exclusive as u8,
        );
        assert!(!conflicts(s, s) && !conflicts(s, a) && !conflicts(a, s));
        assert!(
            conflicts(a, a)
                && conflicts(x, s)
                && conflicts(s, x)
                && conflicts(x, x)
                && conflicts(a, x)
        );
    }
}
