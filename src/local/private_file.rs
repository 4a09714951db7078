//! Files only this user can read. Everything ChatVault keeps under its own folders (settings,
//! profiles, repositories.toml, history, logs, the library, the cache) and every recovery code
//! it writes goes through here, so the CLI, the app and scheduled runs agree on the rules:
//!
//! - folders are created 0700 and files 0600 (on Unix); a file ChatVault created earlier with
//!   wider permissions is narrowed when it is written again;
//! - a file that must be new ([`write_new_private`]) is never an existing file or a symlink
//!   (`O_CREAT | O_EXCL`, which does not follow links);
//! - a file that is replaced ([`write_private_atomic`]) is written to a new temporary file
//!   beside it, synced and renamed over it, so a crash leaves the old or the new content and a
//!   symlink at the destination is replaced rather than followed;
//! - a file that is appended to ([`append_private`]) is opened with `O_NOFOLLOW`.
//!
//! On Windows the mode bits do not exist: the files live under the user's profile
//! (`%APPDATA%`, `%LOCALAPPDATA%`), whose inherited ACL grants access to the user, SYSTEM and
//! Administrators only; a recovery code saved elsewhere inherits that folder's ACL.

use crate::error::{Error, Result};
use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

#[cfg(unix)]
const FILE_MODE: u32 = 0o600;
#[cfg(unix)]
const DIR_MODE: u32 = 0o700;

fn io(what: &str, path: &Path, e: &std::io::Error) -> Error {
    Error::io(format!("{what} {}", path.display()), e)
}

/// Creates `path` and its missing parents with mode 0700. `path` itself is one of
/// ChatVault's own folders, so an existing one with wider permissions is narrowed to 0700;
/// parents that already exist (the user's home, Documents) are left as they are.
pub fn create_private_dir_all(path: &Path) -> Result<()> {
    let mut builder = fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, DIR_MODE);
    builder.create(path).map_err(|e| io("creating", path, &e))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let meta = fs::symlink_metadata(path).map_err(|e| io("reading", path, &e))?;
        if meta.is_dir() && meta.permissions().mode() & 0o777 != DIR_MODE {
            fs::set_permissions(path, fs::Permissions::from_mode(DIR_MODE))
                .map_err(|e| io("restricting", path, &e))?;
        }
    }
    Ok(())
}

fn new_file_options() -> OpenOptions {
    let mut o = OpenOptions::new();
    o.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut o, FILE_MODE);
    o
}

fn write_and_sync(mut f: File, path: &Path, bytes: &[u8]) -> Result<()> {
    f.write_all(bytes).map_err(|e| io("writing", path, &e))?;
    f.sync_all().map_err(|e| io("writing", path, &e))
}

/// Writes a new file readable only by the user. An existing file (or a symlink, even a
/// dangling one) at `path` is an error and is left untouched.
pub fn write_new_private(path: &Path, bytes: &[u8]) -> Result<()> {
    let f = new_file_options().open(path).map_err(|e| {
        let err = io("creating", path, &e);
        if e.kind() == std::io::ErrorKind::AlreadyExists {
            err.with_hint("A file of that name exists and is not overwritten: choose another name, or move the old file away first.")
        } else {
            err
        }
    })?;
    if let Err(e) = write_and_sync(f, path, bytes) {
        // Leave no half-written secret behind.
        let _ = fs::remove_file(path);
        return Err(e);
    }
    Ok(())
}

/// Replaces (or creates) `path` atomically with a file readable only by the user: a new
/// temporary file in the same folder, synced, then renamed over `path`.
pub(crate) fn write_private_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let name = path
        .file_name()
        .ok_or_else(|| Error::internal(format!("{} names no file", path.display())))?;
    let mut tmp_name = std::ffi::OsString::from(".");
    tmp_name.push(name);
    let mut random = [0u8; 6];
    getrandom::fill(&mut random).map_err(|e| Error::internal(format!("random: {e}")))?;
    tmp_name.push(format!(".{}.tmp", hex::encode(random)));
    let tmp: PathBuf = path.with_file_name(tmp_name);
    let f = new_file_options()
        .open(&tmp)
        .map_err(|e| io("creating", &tmp, &e))?;
    let written = write_and_sync(f, &tmp, bytes)
        .and_then(|()| fs::rename(&tmp, path).map_err(|e| io("writing", path, &e)));
    if written.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    written?;
    #[cfg(unix)]
    if let Some(dir) = path.parent() {
        // Make the rename itself durable; a failure here loses nothing already written.
        let _ = File::open(dir).and_then(|d| d.sync_all());
    }
    Ok(())
}

/// Opens `path` for appending (creating it 0600), never through a symlink. A file created
/// earlier with wider permissions is narrowed to 0600.
pub(crate) fn open_private_append(path: &Path) -> Result<File> {
    let mut o = OpenOptions::new();
    o.create(true).append(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        o.mode(FILE_MODE).custom_flags(libc::O_NOFOLLOW);
    }
    let f = o.open(path).map_err(|e| io("opening", path, &e))?;
    restrict_file(&f, path)?;
    Ok(f)
}

/// Appends `bytes` to `path` (see [`open_private_append`]): history lines, log lines.
pub(crate) fn append_private(path: &Path, bytes: &[u8]) -> Result<()> {
    let mut f = open_private_append(path)?;
    f.write_all(bytes).map_err(|e| io("writing", path, &e))
}

/// Makes sure a file that another library creates (SQLite's database) starts out 0600: an
/// empty new file if there is none, else the existing one narrowed to 0600. Never follows a
/// symlink.
pub(crate) fn ensure_private_file(path: &Path) -> Result<()> {
    match new_file_options().open(path) {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            let mut o = OpenOptions::new();
            o.read(true);
            #[cfg(unix)]
            std::os::unix::fs::OpenOptionsExt::custom_flags(&mut o, libc::O_NOFOLLOW);
            let f = o.open(path).map_err(|e| io("opening", path, &e))?;
            restrict_file(&f, path)
        }
        Err(e) => Err(io("creating", path, &e)),
    }
}

fn restrict_file(f: &File, path: &Path) -> Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = f
            .metadata()
            .map_err(|e| io("reading", path, &e))?
            .permissions()
            .mode();
        if mode & 0o777 != FILE_MODE {
            f.set_permissions(fs::Permissions::from_mode(FILE_MODE))
                .map_err(|e| io("restricting", path, &e))?;
        }
    }
    #[cfg(not(unix))]
    let _ = (f, path);
    Ok(())
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn mode(p: &Path) -> u32 {
        fs::symlink_metadata(p).unwrap().permissions().mode() & 0o777
    }

    #[test]
    fn write_new_private_creates_0600_and_refuses_an_existing_file() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("code.txt");
        write_new_private(&f, b"secret").unwrap();
        assert_eq!(mode(&f), 0o600);
        fs::write(&f, b"keep me").unwrap();
        let err = write_new_private(&f, b"other").unwrap_err();
        assert!(err.hint().is_some());
        assert_eq!(fs::read(&f).unwrap(), b"keep me");
    }

    #[test]
    fn write_new_private_refuses_a_symlink_even_a_dangling_one() {
        let dir = tempfile::tempdir().unwrap();
        let victim = dir.path().join("victim");
        fs::write(&victim, b"untouched").unwrap();
        let link = dir.path().join("link");
        std::os::unix::fs::symlink(&victim, &link).unwrap();
        assert!(write_new_private(&link, b"secret").is_err());
        assert_eq!(fs::read(&victim).unwrap(), b"untouched");
        let dangling = dir.path().join("dangling");
        std::os::unix::fs::symlink(dir.path().join("nowhere"), &dangling).unwrap();
        assert!(write_new_private(&dangling, b"secret").is_err());
        assert!(!dir.path().join("nowhere").exists());
    }

    #[test]
    fn atomic_writes_replace_a_symlink_instead_of_following_it() {
        let dir = tempfile::tempdir().unwrap();
        let victim = dir.path().join("victim");
        fs::write(&victim, b"untouched").unwrap();
        let f = dir.path().join("settings.toml");
        std::os::unix::fs::symlink(&victim, &f).unwrap();
        write_private_atomic(&f, b"a = 1").unwrap();
        assert_eq!(fs::read(&victim).unwrap(), b"untouched");
        assert_eq!(fs::read(&f).unwrap(), b"a = 1");
        assert_eq!(mode(&f), 0o600);
        assert_eq!(
            fs::read_dir(dir.path()).unwrap().count(),
            2,
            "no temp file left"
        );
    }

    #[test]
    fn appends_refuse_symlinks_and_narrow_old_files() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("history.jsonl");
        fs::write(&f, b"old\n").unwrap();
        fs::set_permissions(&f, fs::Permissions::from_mode(0o644)).unwrap();
        append_private(&f, b"new\n").unwrap();
        assert_eq!(mode(&f), 0o600);
        assert_eq!(fs::read(&f).unwrap(), b"old\nnew\n");
        let link = dir.path().join("link");
        std::os::unix::fs::symlink(&f, &link).unwrap();
        assert!(append_private(&link, b"x\n").is_err());
    }

    #[test]
    fn private_folders_are_0700_and_an_old_leaf_is_narrowed() {
        let dir = tempfile::tempdir().unwrap();
        let deep = dir.path().join("a/b/c");
        create_private_dir_all(&deep).unwrap();
        assert_eq!(mode(&dir.path().join("a")), 0o700);
        assert_eq!(mode(&deep), 0o700);
        fs::set_permissions(&deep, fs::Permissions::from_mode(0o755)).unwrap();
        create_private_dir_all(&deep).unwrap();
        assert_eq!(mode(&deep), 0o700);
    }
}
