//! Running a backup of a profile end to end, the same way from the CLI, the app and a timer:
//! open the store with the key remembered in the keychain, open the repository with its key
//! from the keychain, back up, and record the run in the history.

use crate::error::Result;
use crate::history::{self, RunRecord};
use crate::job::{Cancel, Progress};
use crate::keychain::Keychain;
use crate::model::{SelectedConversation, Selection};
use crate::paths::AppPaths;
use crate::profile::Profile;
use crate::repo::access;
use crate::repo::backup::{self, BackupReport};
use crate::store::{self, StoreKey};
use crate::target::{TargetCredentials, TargetSpec};

pub struct RunOptions<'a> {
    pub profile_name: Option<&'a str>,
    /// A key given for this run (else the keychain's).
    pub store_key: Option<StoreKey>,
    /// Remember `store_key` in the keychain (for later unattended runs).
    pub remember_store_key: bool,
    /// "app", "cli" or "schedule", for the history.
    pub origin: &'a str,
}

pub fn run_profile(
    paths: &AppPaths,
    keychain: &dyn Keychain,
    profile: &Profile,
    opts: RunOptions<'_>,
    progress: &dyn Progress,
    cancel: &Cancel,
) -> Result<BackupReport> {
    let started = jiff::Timestamp::now();
    let result = run(paths, keychain, profile, &opts, progress, cancel);
    let record = RunRecord {
        started,
        finished: jiff::Timestamp::now(),
        profile: opts.profile_name.map(str::to_string),
        target: profile.target.clone(),
        origin: opts.origin.to_string(),
        ok: result.is_ok(),
        error: result.as_ref().err().map(|e| e.to_wire()),
        conversations: result.as_ref().map_or(0, |r| r.conversations),
        messages: result.as_ref().map_or(0, |r| r.messages),
        bytes_uploaded: result.as_ref().map_or(0, |r| r.bytes_uploaded),
        unchanged: result.as_ref().is_ok_and(|r| r.unchanged),
    };
    // A history that cannot be written must not turn a good backup into a failure.
    let _ = history::append(paths, &record);
    log_run(paths, &record);
    result
}

/// One line per run in `<data>/logs/chatvault.log`, for runs nobody watched (OS timers).
fn log_run(paths: &AppPaths, r: &RunRecord) {
    use std::io::Write;
    let dir = paths.data_dir.join("logs");
    if std::fs::create_dir_all(&dir).is_err() {
        return;
    }
    let outcome = match &r.error {
        None => format!(
            "ok: {} conversations, {} messages, {} bytes uploaded",
            r.conversations, r.messages, r.bytes_uploaded
        ),
        Some(e) => format!("failed: {}: {}", e.code, e.message),
    };
    let line = format!(
        "{} {} profile={} target={} {outcome}\n",
        r.finished,
        r.origin,
        r.profile.as_deref().unwrap_or("-"),
        r.target
    );
    if let Ok(mut f) = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(dir.join("chatvault.log"))
    {
        let _ = f.write_all(line.as_bytes());
    }
}

/// Whether a scheduled run of `profile` should wait (on battery, if the profile says so).
pub fn postponed(profile: &Profile) -> Option<&'static str> {
    if profile.skip_on_battery && crate::power::on_battery() {
        return Some("on battery");
    }
    (profile.skip_on_metered && crate::power::on_metered_network())
        .then_some("on a metered connection")
}

fn run(
    paths: &AppPaths,
    keychain: &dyn Keychain,
    profile: &Profile,
    opts: &RunOptions<'_>,
    progress: &dyn Progress,
    cancel: &Cancel,
) -> Result<BackupReport> {
    let key = match &opts.store_key {
        Some(k) => Some(k.clone()),
        None => StoreKey::recall(keychain, &profile.store).ok().flatten(),
    };
    let opened = store::open(&profile.store, key.as_ref())?;
    if let (true, Some(k)) = (opts.remember_store_key, &key) {
        k.remember(keychain, &profile.store)?;
    }
    let ids: Vec<String> = if profile.conversations.is_empty() {
        opened.conversations()?.into_iter().map(|c| c.id).collect()
    } else {
        profile.conversations.clone()
    };
    let selection = Selection {
        conversations: ids
            .into_iter()
            .map(|id| SelectedConversation {
                id,
                since: None,
                until: None,
            })
            .collect(),
        since: profile.since,
        until: profile.until,
    };
    let spec: TargetSpec = profile.target.parse()?;
    let creds = TargetCredentials::resolve(keychain, &spec, |k| std::env::var(k).ok());
    let op = spec.operator_with(&creds, profile.upload_limit_kib)?;
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| crate::Error::internal(format!("runtime: {e}")))?;
    rt.block_on(async {
        let repo = access::open(op, &profile.target, keychain, paths).await?;
        let req = backup::BackupRequest {
            store: opened.as_ref(),
            store_root: &profile.store,
            selection: &selection,
        };
        backup::backup(&repo, &req, progress, cancel).await
    })
}
