//! Temporary files that failed or killed writes leave on a local-folder target.
//!
//! A local target writes every object to `.chatvault-tmp/` first and renames it into place
//! ([`crate::target::LOCAL_TMP_DIR`]). A write that fails (a full disk) removes its own part
//! file ([`super::Repo::put`] aborts it); a run that is killed cannot, and its part file would
//! stay forever. Each backup removes the part files that are older than any live lease by the
//! storage's clock: a younger one may be an upload in flight of a run on another computer.
//! S3 and WebDAV have no such folder and are not asked.

use super::Repo;
use crate::target::LOCAL_TMP_DIR;

/// What a sweep found.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Swept {
    /// Part files removed, and their bytes.
    pub removed: u32,
    pub bytes: u64,
    /// Part files left because they may belong to a run in progress.
    pub young: u32,
}

impl Repo {
    /// Removes the part files in the local temporary folder that are older than a lease's
    /// lifetime plus the clock skew allowed (FORMAT.md §10), measured by the storage's clock.
    /// Call it holding a lease. A part file that cannot be listed or stated is left alone.
    pub(crate) async fn sweep_stale_temp(&self) -> Swept {
        let mut swept = Swept::default();
        // Only a local target has the folder: no request at all to S3 or WebDAV, which are
        // sent no path but the format's (FORMAT.md §3).
        if !matches!(self.operator().info().scheme(), "fs" | "file") {
            return swept;
        }
        let dir = format!("{LOCAL_TMP_DIR}/");
        let Ok(entries) = self.operator().list(&dir).await else {
            return swept;
        };
        let times = self.lease_times;
        let now = self.storage_now().await;
        for e in entries {
            let path = e.path();
            if path.ends_with('/') || path == dir {
                continue;
            }
            let Ok(meta) = self.operator().stat(path).await else {
                continue;
            };
            let age = meta
                .last_modified()
                .map(|t| now - t.into_inner().as_millisecond());
            if age.is_some_and(|a| a > times.ttl_ms + times.skew_ms) {
                // Best effort: a part file that cannot be removed must not stop the backup.
                if self.delete(path).await.is_ok() {
                    swept.removed += 1;
                    swept.bytes += meta.content_length();
                }
            } else {
                swept.young += 1;
            }
        }
        swept
    }
}
