//! Leases on the target that keep two runs from changing one repository at once
//! (FORMAT.md §10): acquire with a conflict check, refresh while the run lives, a lease check
//! before every PUT and DELETE, and release.
//!
//! A held lease is refreshed by a task on the caller's tokio runtime every `refresh` (a new lock
//! object with `seq + 1`, then the old one deleted). [`Repo::put`] and [`Repo::delete`] call
//! [`Repo::check_lease`] first: once `ttl − margin` has passed since the last successful
//! refresh (the laptop slept, the storage stopped answering), the run stops with
//! `repo_lock_lost` before it changes anything else, because another client may by then treat
//! the lease as expired. A lock object that cannot be read or opened counts as a live exclusive
//! lock until its storage time is older than `ttl + skew` (fail closed).

use super::format::{self, kind, LockBody};
pub use super::format::{Mode, Op};
use super::{now_ms, random_name, Repo};
use crate::crypto::envelope::{self, Padding};
use crate::crypto::{KeyId, SubKey};
use crate::error::{Error, ErrorCode, Result};
use opendal::Operator;
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::sync::{Arc, Mutex};

/// How long leases live and how often they are renewed (FORMAT.md §10 constants).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LeaseTimes {
    /// A lease expires this long after its last refresh.
    pub ttl_ms: i64,
    /// A held lease is renewed this often.
    pub refresh_ms: i64,
    /// Clocks of two clients may differ by this much.
    pub skew_ms: i64,
    /// Writes stop this long before the lease would expire.
    pub margin_ms: i64,
}

impl Default for LeaseTimes {
    fn default() -> Self {
        LeaseTimes {
            ttl_ms: 15 * 60 * 1000,
            refresh_ms: 5 * 60 * 1000,
            skew_ms: 5 * 60 * 1000,
            margin_ms: 60 * 1000,
        }
    }
}

/// Shared runs only clash with exclusive ones; two appends clash; exclusive clashes with all.
fn conflicts(a: Mode, b: Mode) -> bool {
    a == Mode::Exclusive || b == Mode::Exclusive || (a == Mode::Append && b == Mode::Append)
}

/// What the refresher and the lease check share.
pub(crate) struct Lease {
    path: Mutex<String>,
    body: Mutex<LockBody>,
    /// Wall-clock ms of the last successful PUT of the lease.
    refreshed: AtomicI64,
    stop: AtomicBool,
    wake: tokio::sync::Notify,
    times: LeaseTimes,
}

impl Lease {
    /// `Err(RepoLockLost)` when the lease may have expired in another client's eyes.
    pub(crate) fn check(&self) -> Result<()> {
        let since = now_ms() - self.refreshed.load(Ordering::SeqCst);
        if since >= self.times.ttl_ms - self.times.margin_ms {
            return Err(Error::new(
                ErrorCode::RepoLockLost,
                format!(
                    "this run's lease on the repository was last renewed {} s ago",
                    since / 1000
                ),
            )
            .with_hint("The computer slept or the storage stopped answering; nothing was lost. Run it again."));
        }
        Ok(())
    }
}

/// Seals and writes lock objects without borrowing the repository (the refresher outlives
/// borrows).
#[derive(Clone)]
struct LockWriter {
    op: Operator,
    k_meta: SubKey,
    key_id: KeyId,
}

impl LockWriter {
    async fn put(&self, path: &str, body: &LockBody) -> Result<()> {
        let sealed = envelope::Binding::new(&self.k_meta, self.key_id, kind::LOCK, path)
            .seal(&format::encode(body), Padding::Pow2);
        super::write_whole(&self.op, path, sealed.into())
            .await
            .map_err(|e| crate::target::map_opendal_error(e).context(format!("writing {path}")))
    }
}

/// A held lease; call [`Lock::release`] when done (a crash leaves it to expire).
pub struct Lock {
    lease: Arc<Lease>,
    writer: LockWriter,
    refresher: Option<tokio::task::JoinHandle<()>>,
}

impl Lock {
    pub async fn acquire(repo: &Repo, mode: Mode, op: Op) -> Result<Lock> {
        let times = repo.lease_times;
        let now = now_ms();
        let body = LockBody {
            lock_id: crate::crypto::keys::random_bytes::<16>(),
            mode,
            op,
            holder: crate::crypto::keys::random_bytes::<16>(),
            seq: 0,
            created: now,
            expires: now + times.ttl_ms,
        };
        let path = format!("locks/{}", hex::encode(random_name()));
        let writer = LockWriter {
            op: repo.operator().clone(),
            k_meta: repo.k_meta.clone(),
            key_id: repo.key_id(),
        };
        active().insert(body.holder);
        record_holder(repo, &body.holder);
        if let Err(e) = writer.put(&path, &body).await {
            active().remove(&body.holder);
            forget_holder(repo, &body.holder);
            return Err(e);
        }
        let lease = Arc::new(Lease {
            path: Mutex::new(path.clone()),
            body: Mutex::new(body.clone()),
            refreshed: AtomicI64::new(now),
            stop: AtomicBool::new(false),
            wake: tokio::sync::Notify::new(),
            times,
        });
        let mut lock = Lock {
            lease,
            writer,
            refresher: None,
        };
        if let Err(e) = check_others(repo, &path, &body, times).await {
            let _ = lock.release(repo).await;
            return Err(e);
        }
        lock.refresher = Some(tokio::spawn(refresh_loop(
            lock.lease.clone(),
            lock.writer.clone(),
        )));
        *repo.lease.lock().unwrap_or_else(|p| p.into_inner()) = Some(lock.lease.clone());
        Ok(lock)
    }

    /// Runs `f` under a lease of `mode`, releasing it whatever `f` returns.
    pub async fn with<T>(
        repo: &Repo,
        mode: Mode,
        op: Op,
        f: impl AsyncFnOnce() -> Result<T>,
    ) -> Result<T> {
        let lock = Lock::acquire(repo, mode, op).await?;
        let result = f().await;
        let released = lock.release(repo).await;
        let value = result?;
        released?;
        Ok(value)
    }

    pub async fn release(mut self, repo: &Repo) -> Result<()> {
        self.lease.stop.store(true, Ordering::SeqCst);
        self.lease.wake.notify_one();
        if let Some(task) = self.refresher.take() {
            let _ = task.await;
        }
        {
            let mut slot = repo.lease.lock().unwrap_or_else(|p| p.into_inner());
            if slot.as_ref().is_some_and(|l| Arc::ptr_eq(l, &self.lease)) {
                *slot = None;
            }
        }
        let holder = self
            .lease
            .body
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .holder;
        // No longer held, even if the target cannot be told (it may be down): a later run in
        // this process then treats the leftover lease as stale.
        active().remove(&holder);
        let path = self
            .lease
            .path
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone();
        repo.operator()
            .delete(&path)
            .await
            .map_err(|e| crate::target::map_opendal_error(e).context(format!("deleting {path}")))?;
        forget_holder(repo, &holder);
        Ok(())
    }
}

/// Fails with `repo_locked` when a live lease of another run conflicts with `mine`.
async fn check_others(repo: &Repo, path: &str, mine: &LockBody, times: LeaseTimes) -> Result<()> {
    let now = now_ms();
    // The storage's clock, from the time it stamped on the lock just written: a lease is only
    // taken for expired when the storage agrees, so a computer whose clock runs ahead (a day,
    // say) does not prune under another computer's running backup (FORMAT.md §10).
    let storage_now = storage_time(repo, path).await;
    for (other, _) in repo.list_names("locks/").await? {
        if other == path {
            continue;
        }
        let opened = match repo.get(&other).await {
            Ok(raw) => repo
                .open_meta(kind::LOCK, &other, &raw)
                .and_then(|b| format::decode::<LockBody>(&b, &other)),
            // Deleted meanwhile (released, or refreshed under a new name): not a conflict.
            Err(e) if e.code() == ErrorCode::RepoObjectMissing => continue,
            Err(e) => Err(e),
        };
        let live = match opened {
            Ok(l) if now > l.expires + times.skew_ms => {
                let age = match (storage_now, storage_time(repo, &other).await) {
                    (Some(n), Some(t)) => Some(n - t),
                    _ => None,
                };
                if age.is_none_or(|a| a > times.ttl_ms + times.skew_ms) {
                    continue;
                }
                l
            }
            Ok(l) => l,
            Err(e) if e.code().is_target_problem() => return Err(e),
            // Unreadable: a live exclusive lease, unless the storage says it is old (fail
            // closed: a lease we cannot read may belong to a prune in progress).
            Err(_) => {
                let age = match repo.operator().stat(&other).await {
                    Ok(meta) => meta
                        .last_modified()
                        .map(|t| storage_now.unwrap_or(now) - t.into_inner().as_millisecond()),
                    Err(e) if e.kind() == opendal::ErrorKind::NotFound => continue,
                    Err(e) => return Err(crate::target::map_opendal_error(e)),
                };
                if age.is_some_and(|a| a > times.ttl_ms + times.skew_ms) {
                    continue;
                }
                return Err(Error::new(
                    ErrorCode::RepoLocked,
                    format!("{other} cannot be read; it is treated as another run's lock"),
                )
                .with_hint("If no other ChatVault uses this backup, it stops counting 20 minutes after it was written; or delete that object from the storage."));
            }
        };
        if holder_is_dead(repo, &live.holder) {
            // A run on this machine that died (kill -9, power loss) left it behind.
            let _ = repo.operator().delete(&other).await;
            forget_holder(repo, &live.holder);
            continue;
        }
        if conflicts(mine.mode, live.mode) {
            let age = (now - live.created).max(0) / 1000;
            return Err(Error::new(
                ErrorCode::RepoLocked,
                format!(
                    "another ChatVault run ({}) started {age} s ago holds the repository",
                    live.op.name()
                ),
            )
            .with_hint(
                "Wait for it to finish; a lock left by a crashed run expires after 15 minutes.",
            ));
        }
    }
    Ok(())
}

/// The time the storage stamped on `path`, in ms since the epoch (None when it gives none or
/// the object is gone).
async fn storage_time(repo: &Repo, path: &str) -> Option<i64> {
    let meta = repo.operator().stat(path).await.ok()?;
    meta.last_modified()
        .map(|t| t.into_inner().as_millisecond())
}

impl Repo {
    /// "Now" by the storage's clock: the time it stamped on this run's newest lock object, or
    /// this computer's clock when there is none. Ages of objects on the storage are measured
    /// with it, so a computer whose clock is off does not take young objects for old ones.
    pub(crate) async fn storage_now(&self) -> i64 {
        let path = self
            .lease
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .as_ref()
            .map(|l| l.path.lock().unwrap_or_else(|p| p.into_inner()).clone());
        match path {
            Some(p) => storage_time(self, &p).await.unwrap_or_else(now_ms),
            None => now_ms(),
        }
    }
}

/// Renews the lease every `refresh` until released: PUT the next lock object, then DELETE
/// the previous one. A failed refresh is retried at the next tick; the lease check stops the
/// run if none succeeds in time.
async fn refresh_loop(lease: Arc<Lease>, writer: LockWriter) {
    let period = std::time::Duration::from_millis(lease.times.refresh_ms.max(10) as u64);
    loop {
        tokio::select! {
            _ = lease.wake.notified() => {}
            _ = tokio::time::sleep(period) => {}
        }
        if lease.stop.load(Ordering::SeqCst) {
            return;
        }
        let now = now_ms();
        let next = {
            let mut b = lease.body.lock().unwrap_or_else(|p| p.into_inner()).clone();
            b.seq += 1;
            b.expires = now + lease.times.ttl_ms;
            b
        };
        let path = format!("locks/{}", hex::encode(random_name()));
        if writer.put(&path, &next).await.is_err() {
            continue;
        }
        let old = std::mem::replace(
            &mut *lease.path.lock().unwrap_or_else(|p| p.into_inner()),
            path,
        );
        *lease.body.lock().unwrap_or_else(|p| p.into_inner()) = next;
        lease.refreshed.store(now, Ordering::SeqCst);
        let _ = writer.op.delete(&old).await;
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
            let _ = crate::local::private_file::create_private_dir_all(parent);
        }
        let _ = crate::local::private_file::write_private_atomic(
            &f,
            std::process::id().to_string().as_bytes(),
        );
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conflict_table_matches_the_format() {
        let (s, a, x) = (Mode::Shared, Mode::Append, Mode::Exclusive);
        assert!(!conflicts(s, s) && !conflicts(s, a) && !conflicts(a, s));
        assert!(
            conflicts(a, a)
                && conflicts(x, s)
                && conflicts(s, x)
                && conflicts(x, x)
                && conflicts(a, x)
        );
    }

    #[test]
    fn a_lease_not_renewed_in_time_stops_writes() {
        let times = LeaseTimes {
            ttl_ms: 10_000,
            refresh_ms: 3_000,
            skew_ms: 0,
            margin_ms: 1_000,
        };
        let lease = |age: i64| Lease {
            path: Mutex::new(String::new()),
            body: Mutex::new(LockBody {
                lock_id: [0; 16],
                mode: Mode::Append,
                op: Op::Backup,
                holder: [0; 16],
                seq: 0,
                created: 0,
                expires: 0,
            }),
            refreshed: AtomicI64::new(now_ms() - age),
            stop: AtomicBool::new(false),
            wake: tokio::sync::Notify::new(),
            times,
        };
        assert!(lease(2_000).check().is_ok());
        assert_eq!(
            lease(9_500).check().unwrap_err().code(),
            ErrorCode::RepoLockLost
        );
    }
}
