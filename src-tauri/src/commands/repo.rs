//! Wizard steps 3 to 6: where to keep the backup, the key, the run, and what it did.

use super::store::{blocking, blocking_with};
use crate::ipc::{
    BackupProgress, CreatedRepo, CredentialsInput, ExposedPlace, RecoveryFileChoice, RepoStatus,
};
use crate::{AppState, OpenStore};
use chatvault::crypto::secret::Secret;
use chatvault::error::{Error, WireError};
use chatvault::local::sync_folder::{self, Exposure};
use chatvault::model::Selection;
use chatvault::platform::keychain::Keychain;
use chatvault::repo::access;
use chatvault::repo::backup::BackupReport;
use chatvault::run::job::{Cancel, Progress};
use chatvault::target::{self, ProbeReport, TargetCredentials, TargetSpec};
use std::sync::atomic::{AtomicU64, Ordering};
use tauri::{AppHandle, Emitter, State};

type CmdResult<T> = Result<T, WireError>;

/// The credentials typed into the form, else the saved ones (keychain, environment).
fn credentials(
    keychain: &dyn Keychain,
    spec: &TargetSpec,
    input: Option<CredentialsInput>,
) -> TargetCredentials {
    let given = input.map(|c| TargetCredentials {
        access_key_id: c.access_key_id.filter(|s| !s.is_empty()),
        secret_access_key: c
            .secret_access_key
            .filter(|s| !s.is_empty())
            .map(Secret::new),
        password: c.password.filter(|s| !s.is_empty()).map(Secret::new),
    });
    match given {
        Some(c) if !c.is_empty() => c,
        _ => TargetCredentials::saved(keychain, spec),
    }
}

use super::wait;

/// Writes, reads, lists and deletes a probe object; on success the credentials may be saved.
#[tauri::command]
pub async fn test_target(
    state: State<'_, AppState>,
    url: String,
    credentials: Option<CredentialsInput>,
    remember: bool,
) -> CmdResult<ProbeReport> {
    let result = probe_target(state.keychain.as_ref(), &url, credentials, remember).await;
    // The home page shows a saved profile whose target fails its test.
    let _ =
        chatvault::run::status::record_target_test(&state.paths, &url, result.as_ref().map(|_| ()));
    Ok(result?)
}

async fn probe_target(
    keychain: &dyn Keychain,
    url: &str,
    credentials: Option<CredentialsInput>,
    remember: bool,
) -> Result<ProbeReport, Error> {
    let spec: TargetSpec = url.parse()?;
    if let TargetSpec::Local { path } = &spec {
        // The user's own folder (maybe shared, a NAS): its mode is theirs to choose.
        std::fs::create_dir_all(path)
            .map_err(|e| Error::io(format!("creating {}", path.display()), &e))?;
    }
    let creds = self::credentials(keychain, &spec, credentials);
    let op = spec.operator(&creds)?;
    let report = target::probe(&op).await?;
    if remember && !creds.is_empty() {
        creds.save(keychain, &spec)?;
    }
    Ok(report)
}

#[tauri::command]
pub async fn repo_status(state: State<'_, AppState>, url: String) -> CmdResult<RepoStatus> {
    let keychain = state.keychain.as_ref();
    let op = target::operator_for(&url, keychain, None)?;
    let exists = op
        .exists("config")
        .await
        .map_err(target::map_opendal_error)?;
    let unlocked = exists && access::open(op, &url, keychain, &state.paths).await.is_ok();
    Ok(RepoStatus { exists, unlocked })
}

/// Creates the repository; the recovery code is returned once, for the user to keep. (Off the
/// async workers: the recovery code's key derivation takes a while on purpose.)
#[tauri::command]
pub async fn create_repo(state: State<'_, AppState>, url: String) -> CmdResult<CreatedRepo> {
    blocking_with(&state, move |s| {
        let op = target::operator_for(&url, s.keychain.as_ref(), None)?;
        let (repo, code) = wait(access::init(
            op,
            &url,
            s.keychain.as_ref(),
            &s.paths,
            chatvault::crypto::recovery::KdfParams::RECOMMENDED,
        ))?;
        Ok(CreatedRepo {
            repo_id: hex::encode(repo.repo_id()),
            recovery_code: code.display().expose().clone(),
        })
    })
    .await
}

/// Unlocks the repository with its recovery code (off the async workers: key derivation).
#[tauri::command]
pub async fn unlock_repo(state: State<'_, AppState>, url: String, code: String) -> CmdResult<()> {
    blocking_with(&state, move |s| {
        let code = chatvault::crypto::recovery::RecoveryCode::parse(&code)?;
        let op = target::operator_for(&url, s.keychain.as_ref(), None)?;
        wait(access::unlock(
            op,
            &url,
            &code,
            s.keychain.as_ref(),
            &s.paths,
        ))?;
        Ok(())
    })
    .await
}

/// Sends progress to the window as `backup-progress` events on the caller's job id.
struct EventProgress<R: tauri::Runtime> {
    app: AppHandle<R>,
    job_id: String,
    total: AtomicU64,
    done: AtomicU64,
    messages: AtomicU64,
    messages_total: AtomicU64,
    started: std::time::Instant,
    bytes: AtomicU64,
    /// When the last event went, in ms since `started`: message counts are sent at most
    /// every [`EventProgress::EVERY_MS`].
    sent_ms: AtomicU64,
}

impl<R: tauri::Runtime> Progress for EventProgress<R> {
    fn phase(&self, _name: &str, total: Option<u64>) {
        self.total.store(total.unwrap_or(0), Ordering::Relaxed);
        self.emit();
    }

    /// Sent at most every [`EventProgress::EVERY_MS`] too (a run that reuses most trees
    /// finishes thousands of conversations in a burst), and always for the last one.
    fn advance(&self, items: u64, _bytes: u64) {
        let done = self.done.fetch_add(items, Ordering::Relaxed) + items;
        let total = self.total.load(Ordering::Relaxed);
        if (total > 0 && done >= total)
            || self.started.elapsed().as_millis() as u64
                >= self.sent_ms.load(Ordering::Relaxed) + Self::EVERY_MS
        {
            self.emit();
        }
    }

    fn messages(&self, n: u64) {
        self.messages.fetch_add(n, Ordering::Relaxed);
        if self.messages_total.load(Ordering::Relaxed) > 0
            && self.started.elapsed().as_millis() as u64
                >= self.sent_ms.load(Ordering::Relaxed) + Self::EVERY_MS
        {
            self.emit();
        }
    }

    fn messages_total(&self, total: u64) {
        self.messages_total.store(total, Ordering::Relaxed);
        self.emit();
    }

    fn uploaded(&self, total: u64) {
        self.bytes.store(total, Ordering::Relaxed);
    }
}

impl<R: tauri::Runtime> EventProgress<R> {
    const EVERY_MS: u64 = 200;

    fn new(app: AppHandle<R>, job_id: String) -> Self {
        EventProgress {
            app,
            job_id,
            total: AtomicU64::new(0),
            done: AtomicU64::new(0),
            messages: AtomicU64::new(0),
            messages_total: AtomicU64::new(0),
            started: std::time::Instant::now(),
            bytes: AtomicU64::new(0),
            sent_ms: AtomicU64::new(0),
        }
    }

    fn emit(&self) {
        self.sent_ms
            .store(self.started.elapsed().as_millis() as u64, Ordering::Relaxed);
        let _ = self.app.emit(
            "backup-progress",
            BackupProgress {
                job_id: self.job_id.clone(),
                done: self.done.load(Ordering::Relaxed),
                total: self.total.load(Ordering::Relaxed),
                messages: self.messages.load(Ordering::Relaxed),
                messages_total: self.messages_total.load(Ordering::Relaxed),
                bytes: self.bytes.load(Ordering::Relaxed),
                elapsed_ms: self.started.elapsed().as_millis() as u64,
            },
        );
    }
}

/// Runs a backup of the open store's selection to `url`. Progress arrives as events on
/// `job_id`; `cancel_job(job_id)` stops it at the next step, leaving the repository consistent.
#[tauri::command]
pub async fn start_backup<R: tauri::Runtime>(
    app: AppHandle<R>,
    state: State<'_, AppState>,
    job_id: String,
    url: String,
    selection: Selection,
) -> CmdResult<BackupReport> {
    let cancel = Cancel::new();
    state
        .jobs
        .lock()
        .map_err(|_| WireError::from(Error::internal("jobs lock")))?
        .insert(job_id.clone(), cancel.clone());
    let id = job_id.clone();
    let result = blocking_with(&state, move |s| {
        let guard = OpenStore::lock(&s.store)?;
        let opened = guard.as_ref().ok_or_else(OpenStore::none_open)?;
        let progress = EventProgress::new(app, id);
        let req = chatvault::run::RunRequest {
            profile_name: None,
            store: chatvault::run::StoreInput::Open {
                store: opened.store.as_ref(),
                path: &opened.path,
            },
            selection,
            target: url,
            upload_limit_kib: None,
            retention: Default::default(),
            skip_on_battery: false,
            skip_on_metered: false,
            paused: false,
            origin: chatvault::run::Origin::App,
        };
        done(chatvault::run::run(
            &s.paths,
            s.keychain.as_ref(),
            req,
            &progress,
            &cancel,
        )?)
    })
    .await;
    if let Ok(mut j) = state.jobs.lock() {
        j.remove(&job_id);
    }
    result
}

/// The report of a run the user started (only scheduled runs are ever postponed).
fn done(outcome: chatvault::run::RunOutcome) -> Result<BackupReport, Error> {
    match outcome {
        chatvault::run::RunOutcome::Done(r) => Ok(r),
        chatvault::run::RunOutcome::Postponed(why) => Err(Error::internal(format!(
            "a run the user started was postponed ({why})"
        ))),
    }
}

#[tauri::command]
pub async fn run_history(
    state: State<'_, AppState>,
) -> CmdResult<Vec<chatvault::run::history::RunRecord>> {
    let paths = state.paths.clone();
    blocking(move || chatvault::run::history::list(&paths)).await
}

#[tauri::command]
pub async fn list_profiles(state: State<'_, AppState>) -> CmdResult<Vec<crate::ipc::NamedProfile>> {
    let paths = state.paths.clone();
    blocking(move || {
        Ok(chatvault::local::profile::list(&paths)?
            .into_iter()
            .map(|(name, profile)| crate::ipc::NamedProfile { name, profile })
            .collect())
    })
    .await
}

/// Runs a saved profile now (History's "retry", the Schedule page's "Back up now").
#[tauri::command]
pub async fn run_profile<R: tauri::Runtime>(
    app: AppHandle<R>,
    state: State<'_, AppState>,
    name: String,
) -> CmdResult<BackupReport> {
    crate::tray::set_status(&app, "running");
    let result = blocking_with(&state, move |s| {
        let profile = chatvault::local::profile::get(&s.paths, &name)?;
        let req = chatvault::run::RunRequest::for_profile(
            Some(&name),
            &profile,
            chatvault::run::Origin::App,
        );
        done(chatvault::run::run(
            &s.paths,
            s.keychain.as_ref(),
            req,
            &chatvault::run::job::NoProgress,
            &Cancel::new(),
        )?)
    })
    .await;
    crate::tray::set_status(&app, "idle");
    result
}

#[tauri::command]
pub fn cancel_job(state: State<'_, AppState>, job_id: String) -> CmdResult<bool> {
    let jobs = state
        .jobs
        .lock()
        .map_err(|_| WireError::from(Error::internal("jobs lock")))?;
    Ok(match jobs.get(&job_id) {
        Some(c) => {
            c.cancel();
            true
        }
        None => false,
    })
}

/// The identifier of the binary scripts/test.sh builds for the end-to-end tests.
pub(crate) const E2E_IDENTIFIER: &str = "app.chatvault.e2e";

/// Asks where to save the recovery code with the OS save dialog, suggesting one file name
/// per repository, and says whether a cloud would get a copy there (inside a local backup
/// target or a synced folder) so the UI can ask the user to confirm.
///
/// A native GTK dialog cannot be driven by WebDriver: only in the end-to-end build
/// (identifier `app.chatvault.e2e`) the variable `CHATVAULT_E2E_SAVE_DIR` stands in for the
/// user's choice of folder; everything after the dialog is the same code.
#[tauri::command]
pub async fn choose_recovery_code_file<R: tauri::Runtime>(
    app: AppHandle<R>,
    state: State<'_, AppState>,
    url: String,
) -> CmdResult<RecoveryFileChoice> {
    let paths = state.paths.clone();
    blocking(move || {
        let id = access::known_repo_id(&paths, &url)?
            .map(hex::encode)
            .unwrap_or_default();
        let name = format!("ChatVault recovery code {}.txt", &id[..id.len().min(8)])
            .replace(" .txt", ".txt");
        let start = dirs::document_dir().or_else(dirs::home_dir);
        let e2e_dir = (app.config().identifier == E2E_IDENTIFIER)
            .then(|| std::env::var_os("CHATVAULT_E2E_SAVE_DIR"))
            .flatten();
        let chosen = match e2e_dir {
            Some(dir) => Some(std::path::PathBuf::from(dir).join(&name)),
            None => {
                use tauri_plugin_dialog::DialogExt;
                let mut dialog = app
                    .dialog()
                    .file()
                    .set_file_name(&name)
                    .add_filter("Text", &["txt"]);
                if let Some(dir) = &start {
                    dialog = dialog.set_directory(dir);
                }
                dialog.blocking_save_file().and_then(|p| p.into_path().ok())
            }
        };
        let Some(path) = chosen else {
            return Ok(RecoveryFileChoice {
                path: None,
                exposed: None,
            });
        };
        let exposed =
            sync_folder::exposure_of_recovery_file(&paths, &url, &path).map(|e| match e {
                Exposure::BackupTarget(folder) => ExposedPlace::BackupTarget {
                    folder: folder.display().to_string(),
                },
                Exposure::SyncFolder(client) => ExposedPlace::SyncFolder {
                    client: client.to_string(),
                },
            });
        Ok(RecoveryFileChoice {
            path: Some(path.display().to_string()),
            exposed,
        })
    })
    .await
}

/// Writes the recovery code to a new file readable only by the user (mode 0600 on Unix). An
/// existing file is never overwritten and a symlink never followed.
#[tauri::command]
pub async fn save_recovery_code(code: String, path: String) -> CmdResult<String> {
    blocking(move || {
        let code = chatvault::crypto::recovery::RecoveryCode::parse(&code)?;
        let path = std::path::PathBuf::from(path);
        access::save_recovery_code(&path, &code)?;
        Ok(path.display().to_string())
    })
    .await
}

/// Saves the wizard's choices as a profile, for scheduled and repeated runs.
#[tauri::command]
pub async fn save_profile(
    state: State<'_, AppState>,
    name: String,
    url: String,
    selection: Selection,
) -> CmdResult<()> {
    blocking_with(&state, move |s| {
        let guard = OpenStore::lock(&s.store)?;
        let opened = guard.as_ref().ok_or_else(OpenStore::none_open)?;
        let profile = chatvault::local::profile::Profile {
            // "Everything" stays everything: conversations that appear later are kept too.
            conversations: if selection.all {
                Vec::new()
            } else {
                selection
                    .conversations
                    .iter()
                    .map(|c| c.id.clone())
                    .collect()
            },
            since: selection.since,
            until: selection.until,
            ..chatvault::local::profile::Profile::new(opened.path.clone(), url)
        };
        // The profile runs later without anyone typing the store key.
        if let Some(k) = &opened.key {
            k.remember(s.keychain.as_ref(), &opened.path)?;
        }
        chatvault::local::profile::save(&s.paths, &name, &profile)
    })
    .await
}
