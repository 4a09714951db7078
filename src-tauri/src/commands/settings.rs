//! Settings: the repositories this computer knows, their keys (status, show the recovery code
//! again, change it), target credentials, verify now, and where ChatVault keeps its files.

use super::store::{blocking, blocking_with};
use crate::ipc::RepoOverview;
use crate::AppState;
use chatvault::error::{Error, WireError};
use chatvault::local::paths::AppPaths;
use chatvault::repo::access;
use chatvault::repo::maintenance::{self, VerifyReport};
use chatvault::target::{TargetCredentials, TargetSpec};
use tauri::State;

type CmdResult<T> = Result<T, WireError>;

use super::wait;

/// The folder the wizard suggests for a first, local backup: "ChatVault Backups" in the
/// user's documents (or home) folder. Nothing is created until the user tests it.
#[tauri::command]
pub fn default_backup_folder() -> String {
    dirs::document_dir()
        .or_else(dirs::home_dir)
        .map(|d| d.join("ChatVault Backups").display().to_string())
        .unwrap_or_default()
}

#[tauri::command]
pub fn app_paths(state: State<'_, AppState>) -> AppPaths {
    state.paths.clone()
}

#[tauri::command]
pub async fn repositories_overview(state: State<'_, AppState>) -> CmdResult<Vec<RepoOverview>> {
    blocking_with(&state, move |s| {
        let kc = &s.keychain;
        let mut out = Vec::new();
        for url in access::known_urls(&s.paths)? {
            let id = access::known_repo_id(&s.paths, &url)?;
            let key = match id {
                Some(id) => kc.get(&access::key_account(id)).ok().flatten().is_some(),
                None => false,
            };
            let credentials = url
                .parse::<TargetSpec>()
                .ok()
                .and_then(|spec| TargetCredentials::load(kc.as_ref(), &spec).ok().flatten())
                .is_some();
            out.push(RepoOverview {
                url,
                repo_id: id.map(hex::encode).unwrap_or_default(),
                key_in_keychain: key,
                credentials_saved: credentials,
            });
        }
        Ok(out)
    })
    .await
}

/// The recovery code kept in the keychain; the UI asks the user to confirm first.
///
/// Why not an OS re-authentication prompt: Linux has none that works everywhere (polkit needs
/// a policy file installed system-wide and an agent, which a per-user install or a headless
/// session lacks), and the macOS (LocalAuthentication) and Windows (Windows Hello /
/// `UserConsentVerifier`) prompts, e.g. through the `robius-authentication` crate, cannot be
/// built or tested on the Linux machines that run this project's tests. Reading the code
/// already needs the unlocked keychain, which on macOS and Windows is the user's login. Until
/// a macOS/Windows runner can test it, the in-app confirmation is the gate.
#[tauri::command]
pub async fn show_recovery_code(state: State<'_, AppState>, url: String) -> CmdResult<String> {
    blocking_with(&state, move |s| {
        let id = access::known_repo_id(&s.paths, &url)?
            .ok_or_else(|| Error::new(chatvault::ErrorCode::KeyMissing, "unknown repository"))?;
        let code = access::recovery_code(s.keychain.as_ref(), id)?.ok_or_else(|| {
            Error::new(
                chatvault::ErrorCode::KeyMissing,
                "the recovery code is not in this computer's keychain",
            )
            .with_hint("Change the recovery code to get a new one shown.")
        })?;
        Ok(code.display().expose().clone())
    })
    .await
}

/// Starts changing the recovery code and returns the new one, once. The old code keeps
/// working until the user says they have the new one ([`finish_recovery_code_rotation`]), so
/// a code that was never written down cannot lock anyone out. (Off the async workers: the new
/// code's key derivation takes a while on purpose.)
#[tauri::command]
pub async fn rotate_recovery_code(state: State<'_, AppState>, url: String) -> CmdResult<String> {
    blocking_with(&state, move |s| {
        let repo = wait(s.open_repo(&url))?;
        // A change left half-way (the window was closed) is dropped first.
        let earlier = s
            .rotations
            .lock()
            .map_err(|_| Error::internal("rotations lock"))?
            .remove(&url);
        if let Some(p) = earlier {
            let _ = wait(access::abandon_rotation(&repo, p));
        }
        let pending = wait(access::begin_rotation(
            &repo,
            s.keychain.as_ref(),
            chatvault::crypto::recovery::KdfParams::RECOMMENDED,
        ))?;
        let code = pending.code().display().expose().clone();
        s.rotations
            .lock()
            .map_err(|_| Error::internal("rotations lock"))?
            .insert(url, pending);
        Ok(code)
    })
    .await
}

fn no_rotation(url: &str) -> Error {
    Error::invalid_input(format!("no recovery code change is waiting for {url}"))
        .with_hint("Start again with “Change the recovery code”.")
}

/// The user has the new code: it goes to the keychain and the old code stops working.
#[tauri::command]
pub async fn finish_recovery_code_rotation(
    state: State<'_, AppState>,
    url: String,
) -> CmdResult<()> {
    let keychain = state.keychain.as_ref();
    let pending = take_rotation(&state, &url)?;
    let done = match state.open_repo(&url).await {
        Ok(repo) => access::finish_rotation(&repo, keychain, &pending).await,
        Err(e) => Err(e),
    };
    if done.is_err() {
        // Keep it, so the user can try again (or cancel).
        if let Ok(mut r) = state.rotations.lock() {
            r.insert(url, pending);
        }
    }
    Ok(done?)
}

/// The change waiting for `url`, taken out of the state (the lock is not held across awaits).
fn take_rotation(state: &AppState, url: &str) -> Result<access::PendingRotation, Error> {
    state
        .rotations
        .lock()
        .map_err(|_| Error::internal("rotations lock"))?
        .remove(url)
        .ok_or_else(|| no_rotation(url))
}

/// The user gave up on the new code: it is deleted and the old one stays.
#[tauri::command]
pub async fn cancel_recovery_code_rotation(
    state: State<'_, AppState>,
    url: String,
) -> CmdResult<()> {
    let pending = take_rotation(&state, &url)?;
    let repo = state.open_repo(&url).await?;
    Ok(access::abandon_rotation(&repo, pending).await?)
}

#[tauri::command]
pub async fn verify_repository(
    state: State<'_, AppState>,
    url: String,
    read_data: bool,
) -> CmdResult<VerifyReport> {
    // Off the async workers: reading every pack back is long work.
    blocking_with(&state, move |s| {
        let report = wait(async {
            let repo = s.open_repo(&url).await?;
            maintenance::verify(&repo, read_data).await
        });
        // The home page shows a repository that failed its last verify.
        let outcome = report.as_ref().map(|r| r.errors.len() as u32);
        let _ = chatvault::run::status::record_verify(&s.paths, &url, outcome);
        report
    })
    .await
}

#[tauri::command]
pub async fn forget_credentials(state: State<'_, AppState>, url: String) -> CmdResult<bool> {
    let keychain = state.keychain.clone();
    blocking(move || {
        let spec: TargetSpec = url.parse()?;
        TargetCredentials::forget(keychain.as_ref(), &spec)
    })
    .await
}
