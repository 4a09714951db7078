//! Settings: the repositories this computer knows, their keys (status, show the recovery code
//! again, change it), target credentials, verify now, and where ChatVault keeps its files.

use super::store::blocking;
use crate::ipc::RepoOverview;
use crate::AppState;
use chatvault::error::{Error, WireError};
use chatvault::keychain::{Keychain, OsKeychain};
use chatvault::paths::AppPaths;
use chatvault::repo::access;
use chatvault::repo::maintenance::{self, VerifyReport};
use chatvault::target::{TargetCredentials, TargetSpec};
use tauri::State;

type CmdResult<T> = Result<T, WireError>;

use super::{open_repo as open, runtime};

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
    let paths = state.paths.clone();
    blocking(move || {
        let kc = OsKeychain::default();
        let mut out = Vec::new();
        for url in access::known_urls(&paths)? {
            let id = access::known_repo_id(&paths, &url)?;
            let key = match id {
                Some(id) => kc.get(&access::key_account(id)).ok().flatten().is_some(),
                None => false,
            };
            let credentials = url
                .parse::<TargetSpec>()
                .ok()
                .and_then(|s| TargetCredentials::load(&kc, &s).ok().flatten())
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
#[tauri::command]
pub async fn show_recovery_code(state: State<'_, AppState>, url: String) -> CmdResult<String> {
    let paths = state.paths.clone();
    blocking(move || {
        let id = access::known_repo_id(&paths, &url)?
            .ok_or_else(|| Error::new(chatvault::ErrorCode::KeyMissing, "unknown repository"))?;
        let code = access::recovery_code(&OsKeychain::default(), id)?.ok_or_else(|| {
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

/// Replaces the recovery code (the old one stops working) and returns the new one, once.
#[tauri::command]
pub async fn rotate_recovery_code(state: State<'_, AppState>, url: String) -> CmdResult<String> {
    let paths = state.paths.clone();
    blocking(move || {
        let rt = runtime()?;
        let repo = open(&rt, &paths, &url)?;
        let code = rt.block_on(access::rotate(
            &repo,
            &OsKeychain::default(),
            chatvault::crypto::recovery::KdfParams::RECOMMENDED,
        ))?;
        Ok(code.display().expose().clone())
    })
    .await
}

#[tauri::command]
pub async fn verify_repository(
    state: State<'_, AppState>,
    url: String,
    read_data: bool,
) -> CmdResult<VerifyReport> {
    let paths = state.paths.clone();
    blocking(move || {
        let rt = runtime()?;
        let repo = open(&rt, &paths, &url)?;
        rt.block_on(maintenance::verify(&repo, read_data))
    })
    .await
}

#[tauri::command]
pub async fn forget_credentials(url: String) -> CmdResult<bool> {
    blocking(move || {
        let spec: TargetSpec = url.parse()?;
        TargetCredentials::forget(&OsKeychain::default() as &dyn Keychain, &spec)
    })
    .await
}
