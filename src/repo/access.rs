//! Reaching a repository from this machine: which repository a target URL holds (a small
//! file in the config folder, no secrets), and its master key and recovery code in the OS
//! keychain (`repo:<repo id>` and `repo:<repo id>:recovery`, FORMAT.md §5.3).

use super::lock::{Lock, Mode, Op};
use super::Repo;
use crate::crypto::recovery::{KdfParams, RecoveryCode};
use crate::crypto::MasterKey;
use crate::error::{Error, ErrorCode, Result};
use crate::local::paths::AppPaths;
use crate::local::private_file;
use crate::platform::keychain::Keychain;
use opendal::Operator;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::Path;
use zeroize::Zeroizing;

#[derive(Debug, Default, Serialize, Deserialize)]
struct KnownRepos {
    /// target URL -> repository id (hex)
    #[serde(default)]
    repos: BTreeMap<String, String>,
}

fn known_file(paths: &AppPaths) -> std::path::PathBuf {
    paths.config_dir.join("repositories.toml")
}

fn load_known(paths: &AppPaths) -> Result<KnownRepos> {
    crate::local::toml_file::load(
        &known_file(paths),
        "Delete the file; unlock each repository again with its recovery code.",
    )
}

pub fn remember_repo(paths: &AppPaths, url: &str, repo_id: [u8; 16]) -> Result<()> {
    let mut known = load_known(paths)?;
    known.repos.insert(url.to_string(), hex::encode(repo_id));
    // This machine's notes about the repository (lock holders) go under the cache: private too.
    private_file::create_private_dir_all(&paths.repos_cache_dir().join(hex::encode(repo_id)))?;
    crate::local::toml_file::save(&known_file(paths), &known)
}

/// Every target URL this computer has used a repository at.
pub fn known_urls(paths: &AppPaths) -> Result<Vec<String>> {
    Ok(load_known(paths)?.repos.into_keys().collect())
}

pub fn known_repo_id(paths: &AppPaths, url: &str) -> Result<Option<[u8; 16]>> {
    Ok(load_known(paths)?
        .repos
        .get(url)
        .and_then(|h| hex::decode(h).ok())
        .and_then(|b| b.try_into().ok()))
}

pub fn key_account(repo_id: [u8; 16]) -> String {
    format!("repo:{}", hex::encode(repo_id))
}

fn store_keys(
    keychain: &dyn Keychain,
    repo_id: [u8; 16],
    mk: &MasterKey,
    code: Option<&RecoveryCode>,
) -> Result<()> {
    keychain.set(&key_account(repo_id), &mk.to_hex())?;
    if let Some(code) = code {
        keychain.set(
            &format!("{}:recovery", key_account(repo_id)),
            &code.display(),
        )?;
    }
    Ok(())
}

fn missing_key(url: &str) -> Error {
    Error::new(ErrorCode::KeyMissing, format!("this computer has no key for the repository at {url}")).with_hint(
        "Unlock it with its recovery code: chatvault key unlock --target URL --recovery-code-file FILE",
    )
}

fn no_repository(url: &str) -> Error {
    Error::new(
        ErrorCode::RepoNotFound,
        format!("there is no ChatVault repository at {url}"),
    )
    .with_hint("Check the target URL (folder, bucket and prefix), or create one with `chatvault init --target URL`.")
}

/// Creates a repository; the master key and recovery code go to the keychain.
pub async fn init(
    op: Operator,
    url: &str,
    keychain: &dyn Keychain,
    paths: &AppPaths,
    params: KdfParams,
) -> Result<(Repo, RecoveryCode)> {
    let mk = MasterKey::generate();
    let code = RecoveryCode::generate();
    let repo = Repo::init(op, &mk, &code, params)
        .await?
        .with_local_dir(&paths.cache_dir)
        .with_marks_dir(&paths.data_dir);
    store_keys(keychain, repo.repo_id(), &mk, Some(&code))?;
    remember_repo(paths, url, repo.repo_id())?;
    Ok((repo, code))
}

/// Opens the repository at `url` with the master key from the keychain.
pub async fn open(
    op: Operator,
    url: &str,
    keychain: &dyn Keychain,
    paths: &AppPaths,
) -> Result<Repo> {
    let known = known_repo_id(paths, url)?;
    let mk_hex = match known {
        Some(id) => keychain.get(&key_account(id))?,
        None => None,
    };
    let (Some(repo_id), Some(mk_hex)) = (known, mk_hex) else {
        // Say "no repository here" rather than "no key" when that is the case.
        let exists = op.exists("config").await.map_err(|e| {
            crate::target::map_opendal_error(e).context("checking for a repository")
        })?;
        if !exists {
            return Err(no_repository(url));
        }
        return Err(missing_key(url));
    };
    let mk = MasterKey::from_hex(mk_hex.expose())?;
    let repo = Repo::open(op, &mk)
        .await?
        .with_local_dir(&paths.cache_dir)
        .with_marks_dir(&paths.data_dir);
    if repo.repo_id() != repo_id {
        return Err(Error::new(ErrorCode::RepoWrongKey, format!("the repository at {url} is not the one this computer knows"))
            .with_hint("Unlock it with its own recovery code: chatvault key unlock --target URL --recovery-code-file FILE"));
    }
    Ok(repo)
}

/// Opens the repository at `url`: the target with its saved credentials, the master key from
/// the keychain.
pub async fn open_url(url: &str, keychain: &dyn Keychain, paths: &AppPaths) -> Result<Repo> {
    open(
        crate::target::operator_for(url, keychain, None)?,
        url,
        keychain,
        paths,
    )
    .await
}

/// Writes the recovery code to a new file only this user can read (never over an existing
/// file, never through a symlink), with a line saying what it is; [`read_recovery_code`]
/// reads it back.
pub fn save_recovery_code(path: &Path, code: &RecoveryCode) -> Result<()> {
    let text = Zeroizing::new(format!(
        "ChatVault recovery code\n\n    {}\n\nKeep it safe and private: with it, anyone can read your backups;\nwithout it, a lost computer means lost backups.\n",
        code.display().expose()
    ));
    private_file::write_new_private(path, text.as_bytes())
}

/// The recovery code in a file: one [`save_recovery_code`] wrote, or one that holds only the
/// code (as typed or printed).
pub fn read_recovery_code(path: &Path) -> Result<RecoveryCode> {
    let text = Zeroizing::new(
        std::fs::read_to_string(path)
            .map_err(|e| Error::io(format!("reading {}", path.display()), &e))?,
    );
    RecoveryCode::parse(&text).or_else(|whole| {
        text.lines()
            .find_map(|line| RecoveryCode::parse(line).ok())
            .ok_or(whole)
    })
}

/// Finds the master key with the recovery code and stores it (and the code) in the keychain.
pub async fn unlock(
    op: Operator,
    url: &str,
    code: &RecoveryCode,
    keychain: &dyn Keychain,
    paths: &AppPaths,
) -> Result<Repo> {
    let (mk, repo_id) = Repo::unlock(&op, code).await?;
    let repo = Repo::open(op, &mk)
        .await?
        .with_local_dir(&paths.cache_dir)
        .with_marks_dir(&paths.data_dir);
    if repo.repo_id() != repo_id {
        return Err(Error::new(
            ErrorCode::RepoCorrupt,
            "the key object and the config name different repositories",
        ));
    }
    store_keys(keychain, repo_id, &mk, Some(code))?;
    remember_repo(paths, url, repo_id)?;
    Ok(repo)
}

/// The recovery code kept in the keychain (for "show it again").
pub fn recovery_code(keychain: &dyn Keychain, repo_id: [u8; 16]) -> Result<Option<RecoveryCode>> {
    match keychain.get(&format!("{}:recovery", key_account(repo_id)))? {
        Some(text) => RecoveryCode::parse(text.expose()).map(Some),
        None => Ok(None),
    }
}

/// A new recovery code whose key wrap is on the target beside the old ones: until
/// [`finish_rotation`] runs, the old code and the new one both open the repository, so the new
/// code can be shown, printed or saved first and a failure there loses nothing.
pub struct PendingRotation {
    code: RecoveryCode,
    new_wrap: String,
    old_wraps: Vec<String>,
}

impl PendingRotation {
    pub fn code(&self) -> &RecoveryCode {
        &self.code
    }
}

/// Runs `f` under an exclusive lease for a key rotation.
async fn locked<T>(repo: &Repo, f: impl std::future::Future<Output = Result<T>>) -> Result<T> {
    Lock::with(repo, Mode::Exclusive, Op::Rotate, async || f.await).await
}

/// Step one of changing the recovery code: wraps the master key under a new code and writes
/// it next to the old wraps (which stay, and keep working).
pub async fn begin_rotation(
    repo: &Repo,
    keychain: &dyn Keychain,
    params: KdfParams,
) -> Result<PendingRotation> {
    let mk_hex = keychain
        .get(&key_account(repo.repo_id()))?
        .ok_or_else(|| missing_key("this target"))?;
    let mk = MasterKey::from_hex(mk_hex.expose())?;
    locked(repo, async {
        let old_wraps = repo
            .list_names("keys/")
            .await?
            .into_iter()
            .map(|(path, _)| path)
            .collect();
        let code = RecoveryCode::generate();
        let name = format!("keys/{}", hex::encode(super::random_name()));
        let obj = crate::crypto::key_object::wrap_master_key(
            &code,
            params,
            &name,
            &mk,
            repo.repo_id(),
            super::now_ms(),
        );
        repo.put(&name, obj).await?;
        // Read back before anything relies on it.
        let back = repo.get(&name).await?;
        crate::crypto::key_object::unwrap_master_key(&code, &name, &back)?;
        Ok(PendingRotation {
            code,
            new_wrap: name,
            old_wraps,
        })
    })
    .await
}

/// Step two, once the user has the new code: keeps it in the keychain, then deletes the old
/// wraps, so the old code stops working.
pub async fn finish_rotation(
    repo: &Repo,
    keychain: &dyn Keychain,
    pending: &PendingRotation,
) -> Result<()> {
    let mk_hex = keychain
        .get(&key_account(repo.repo_id()))?
        .ok_or_else(|| missing_key("this target"))?;
    let mk = MasterKey::from_hex(mk_hex.expose())?;
    locked(repo, async {
        // Never leave the repository without a wrap: the new one must still be there.
        let back = repo.get(&pending.new_wrap).await?;
        crate::crypto::key_object::unwrap_master_key(&pending.code, &pending.new_wrap, &back)?;
        store_keys(keychain, repo.repo_id(), &mk, Some(&pending.code))?;
        for path in &pending.old_wraps {
            repo.delete(path).await?;
        }
        Ok(())
    })
    .await
}

/// Gives up a rotation the user did not complete: deletes the new wrap; the old code stays.
pub async fn abandon_rotation(repo: &Repo, pending: PendingRotation) -> Result<()> {
    locked(repo, repo.delete(&pending.new_wrap)).await
}

/// Replaces the recovery code in one go: `deliver` (print it, save it to a file) runs after
/// the new code works and before the old one is deleted; if it fails, the rotation is
/// abandoned and the old code keeps working.
pub async fn rotate(
    repo: &Repo,
    keychain: &dyn Keychain,
    params: KdfParams,
    deliver: impl FnOnce(&RecoveryCode) -> Result<()>,
) -> Result<RecoveryCode> {
    let pending = begin_rotation(repo, keychain, params).await?;
    if let Err(e) = deliver(&pending.code) {
        // Best effort: a leftover wrap of a code nobody has opens nothing for anyone.
        let _ = abandon_rotation(repo, pending).await;
        return Err(e);
    }
    finish_rotation(repo, keychain, &pending).await?;
    Ok(pending.code)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_saved_recovery_code_file_and_a_bare_code_read_back_as_the_code() {
        let dir = tempfile::tempdir().unwrap();
        let code = RecoveryCode::generate();
        let saved = dir.path().join("code.txt");
        save_recovery_code(&saved, &code).unwrap();
        let text = std::fs::read_to_string(&saved).unwrap();
        assert!(text.starts_with("ChatVault recovery code\n"), "{text}");
        let read = read_recovery_code(&saved).unwrap();
        assert_eq!(read.display().expose(), code.display().expose());

        let bare = dir.path().join("bare.txt");
        std::fs::write(&bare, format!("{}\n", code.display().expose())).unwrap();
        let read = read_recovery_code(&bare).unwrap();
        assert_eq!(read.display().expose(), code.display().expose());

        // Never over an existing file.
        assert!(save_recovery_code(&saved, &RecoveryCode::generate()).is_err());
        assert_eq!(std::fs::read_to_string(&saved).unwrap(), text);
        let junk = dir.path().join("junk.txt");
        std::fs::write(&junk, "no code here\n").unwrap();
        assert_eq!(
            read_recovery_code(&junk).unwrap_err().code(),
            ErrorCode::RecoveryCodeInvalid
        );
    }
}
