//! The one run path (docs/FORMAT.md §11.2, DESIGN §7): every backup run — the wizard's, Back up
//! now, the tray, the in-app scheduler, an OS timer and the CLI — is a [`RunRequest`] given to
//! [`run`]. It applies the guards of scheduled runs (battery, metered network), opens the store
//! and the repository, backs up, applies the retention policy and prunes after a successful
//! run, and records the run in the history and the log. Hosts only build the request and show
//! the outcome.
//!
//! Beside it: the run history ([`history`]), what every long job shares (progress and
//! cancellation, [`job`]) and "am I backed up?" derived from the history ([`status`]).

pub mod history;
pub mod job;
pub mod status;

use crate::error::{Error, Result};
use crate::local::paths::AppPaths;
use crate::local::profile::Profile;
use crate::model::Selection;
use crate::platform::keychain::Keychain;
use crate::repo::access;
use crate::repo::backup::{self, BackupReport};
use crate::repo::maintenance::{self, Retention};
use crate::store::{self, ChatStore, StoreKey};
use history::RunRecord;
use job::{Cancel, Progress};
use std::path::{Path, PathBuf};

/// Who started a run (kept in the history; scheduled runs obey the profile's guards).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    /// The app's wizard or Back up now.
    App,
    /// The tray's Back up now.
    Tray,
    /// The command line.
    Cli,
    /// A schedule: the app's scheduler or an OS timer.
    Schedule,
}

impl Origin {
    pub fn as_str(self) -> &'static str {
        match self {
            Origin::App => "app",
            Origin::Tray => "tray",
            Origin::Cli => "cli",
            Origin::Schedule => "schedule",
        }
    }
}

/// The chat store of a run.
pub enum StoreInput<'a> {
    /// Opened by the run, with a key given for it or else the one remembered in the keychain.
    Path {
        path: PathBuf,
        key: Option<StoreKey>,
        /// Remember `key` in the keychain for later unattended runs.
        remember_key: bool,
    },
    /// Already open in the host (the wizard's store).
    Open {
        store: &'a dyn ChatStore,
        path: &'a Path,
    },
}

/// Everything one backup run needs.
pub struct RunRequest<'a> {
    pub profile_name: Option<String>,
    pub store: StoreInput<'a>,
    pub selection: Selection,
    pub target: String,
    pub upload_limit_kib: Option<u32>,
    /// Applied after a successful run (then pruned); empty: keep everything.
    pub retention: Retention,
    /// Scheduled runs wait while on battery / on a metered network.
    pub skip_on_battery: bool,
    pub skip_on_metered: bool,
    /// The profile is paused: scheduled runs wait.
    pub paused: bool,
    pub origin: Origin,
}

impl RunRequest<'static> {
    /// A run of a saved profile (or of the profile a CLI invocation describes).
    pub fn for_profile(name: Option<&str>, profile: &Profile, origin: Origin) -> Self {
        RunRequest {
            profile_name: name.map(str::to_string),
            store: StoreInput::Path {
                path: profile.store.clone(),
                key: None,
                remember_key: false,
            },
            selection: profile.selection(),
            target: profile.target.clone(),
            upload_limit_kib: profile.upload_limit_kib,
            retention: profile.retention(),
            skip_on_battery: profile.skip_on_battery,
            skip_on_metered: profile.skip_on_metered,
            paused: profile.paused,
            origin,
        }
    }
}

impl Profile {
    /// The selection a profile stands for: no conversation listed means all of them.
    pub fn selection(&self) -> Selection {
        Selection {
            all: self.conversations.is_empty(),
            since: self.since,
            until: self.until,
            ..Selection::of(self.conversations.iter().cloned())
        }
    }

    pub fn retention(&self) -> Retention {
        Retention {
            last: self.keep_last,
            daily: self.keep_daily,
            weekly: self.keep_weekly,
            monthly: self.keep_monthly,
        }
    }
}

/// What a run did.
#[derive(Debug)]
pub enum RunOutcome {
    Done(BackupReport),
    /// A scheduled run that waits (on battery, on a metered network); nothing was done.
    Postponed(&'static str),
}

/// Runs a backup end to end; see the module docs. Errors are recorded in the history too.
pub fn run(
    paths: &AppPaths,
    keychain: &dyn Keychain,
    req: RunRequest<'_>,
    progress: &dyn Progress,
    cancel: &Cancel,
) -> Result<RunOutcome> {
    if req.origin == Origin::Schedule {
        let why = if req.paused {
            Some("paused")
        } else {
            postponed(req.skip_on_battery, req.skip_on_metered)
        };
        if let Some(why) = why {
            crate::local::logs::append(
                paths,
                &format!(
                    "{} {} profile={} target={} postponed: {why}\n",
                    jiff::Timestamp::now(),
                    req.origin.as_str(),
                    req.profile_name.as_deref().unwrap_or("-"),
                    req.target
                ),
            );
            return Ok(RunOutcome::Postponed(why));
        }
    }
    let started = jiff::Timestamp::now();
    let result = run_backup(paths, keychain, &req, progress, cancel);
    let report = result.as_ref().ok();
    let record = RunRecord {
        started,
        finished: jiff::Timestamp::now(),
        profile: req.profile_name.clone(),
        target: req.target.clone(),
        origin: req.origin.as_str().to_string(),
        ok: result.is_ok(),
        error: result.as_ref().err().map(|e| e.to_wire()),
        conversations: report.map_or(0, |r| r.conversations),
        messages: report.map_or(0, |r| r.messages),
        bytes_uploaded: report.map_or(0, |r| r.bytes_uploaded),
        unchanged: report.is_some_and(|r| r.unchanged),
        snapshots_removed: report.map_or(0, |r| r.snapshots_removed),
        skipped_forgotten: report.map_or(0, |r| r.skipped_forgotten),
        warnings: report.map_or_else(Vec::new, |r| r.warnings.clone()),
    };
    // A history that cannot be written must not turn a good backup into a failure.
    let _ = history::append(paths, &record);
    crate::local::logs::append(paths, &log_text(&record));
    result.map(RunOutcome::Done)
}

fn log_text(r: &RunRecord) -> String {
    let outcome = match &r.error {
        None => format!(
            "ok: {} conversations, {} messages, {} bytes uploaded{}{}",
            r.conversations,
            r.messages,
            r.bytes_uploaded,
            if r.snapshots_removed > 0 {
                format!(", {} old snapshots removed", r.snapshots_removed)
            } else {
                String::new()
            },
            if r.warnings.is_empty() {
                String::new()
            } else {
                format!("; warnings: {}", r.warnings.join("; "))
            }
        ),
        Some(e) => format!("failed: {}: {}", e.code, e.message),
    };
    format!(
        "{} {} profile={} target={} {outcome}\n",
        r.finished,
        r.origin,
        r.profile.as_deref().unwrap_or("-"),
        r.target
    )
}

/// Why a scheduled run should wait, if it should.
fn postponed(skip_on_battery: bool, skip_on_metered: bool) -> Option<&'static str> {
    if skip_on_battery && crate::schedule::power::on_battery() {
        return Some("on battery");
    }
    (skip_on_metered && crate::schedule::power::on_metered_network())
        .then_some("on a metered connection")
}

fn run_backup(
    paths: &AppPaths,
    keychain: &dyn Keychain,
    req: &RunRequest<'_>,
    progress: &dyn Progress,
    cancel: &Cancel,
) -> Result<BackupReport> {
    let opened;
    let (store, store_root): (&dyn ChatStore, &Path) = match &req.store {
        StoreInput::Open { store, path } => (*store, path),
        StoreInput::Path {
            path,
            key,
            remember_key,
        } => {
            opened = store::open_with_keychain(path, key.clone(), keychain, *remember_key)?.0;
            (opened.as_ref(), path.as_path())
        }
    };
    let op = crate::target::operator_for(&req.target, keychain, req.upload_limit_kib)?;
    // A worker thread keeps the lease refreshed while this thread reads the store.
    let rt = runtime_with(Some(1))?;
    rt.block_on(async {
        let repo = access::open(op, &req.target, keychain, paths).await?;
        let breq = backup::BackupRequest {
            store,
            store_root,
            selection: &req.selection,
        };
        let mut report = backup::backup(&repo, &breq, progress, cancel).await?;
        if !req.retention.is_empty() {
            // The backup has landed; a retention step that cannot finish (another run holds
            // the repository, a damaged object blocks prune) is a warning, retried next run.
            match maintenance::apply_retention(&repo, &report.snapshot, &req.retention).await {
                Ok(r) => {
                    report.snapshots_removed = r.snapshots_removed;
                    report.packs_pruned =
                        r.prune.map_or(0, |p| p.packs_deleted + p.packs_rewritten);
                }
                Err(e) => report
                    .warnings
                    .push(format!("retention did not run: {}", e.message())),
            }
        }
        Ok(report)
    })
}

/// A tokio runtime for a host that has none (the CLI, a test) to drive the async core.
pub fn runtime() -> Result<tokio::runtime::Runtime> {
    runtime_with(None)
}

fn runtime_with(workers: Option<usize>) -> Result<tokio::runtime::Runtime> {
    let mut builder = tokio::runtime::Builder::new_multi_thread();
    if let Some(n) = workers {
        builder.worker_threads(n);
    }
    builder
        .enable_all()
        .build()
        .map_err(|e| Error::internal(format!("starting the async runtime: {e}")))
}
