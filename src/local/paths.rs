//! Where ChatVault keeps its own files. Hosts resolve these once from the OS conventions
//! (XDG on Linux, ~/Library on macOS, %APPDATA% on Windows) and pass them down, so tests can
//! point everything at a temporary folder.

use crate::error::{Error, Result};
use serde::Serialize;
use std::path::{Path, PathBuf};
use ts_rs::TS;

const DIR_NAME: &str = "chatvault";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
pub struct AppPaths {
    /// Settings and profiles (no secrets).
    #[ts(type = "string")]
    pub config_dir: PathBuf,
    /// The restored library, run history, logs.
    #[ts(type = "string")]
    pub data_dir: PathBuf,
    /// Caches that can be deleted at any time.
    #[ts(type = "string")]
    pub cache_dir: PathBuf,
}

impl AppPaths {
    /// The OS-conventional folders for the current user.
    pub fn from_os() -> Result<Self> {
        let missing = || {
            Error::internal("cannot determine the home folder's config/data locations")
                .with_hint("Set HOME (or XDG_CONFIG_HOME and XDG_DATA_HOME) and try again.")
        };
        Ok(AppPaths {
            config_dir: dirs::config_dir().ok_or_else(missing)?.join(DIR_NAME),
            data_dir: dirs::data_dir().ok_or_else(missing)?.join(DIR_NAME),
            cache_dir: dirs::cache_dir().ok_or_else(missing)?.join(DIR_NAME),
        })
    }

    /// All three folders under one root (tests, portable installs).
    pub fn under(root: &Path) -> Self {
        AppPaths {
            config_dir: root.join("config"),
            data_dir: root.join("data"),
            cache_dir: root.join("cache"),
        }
    }

    /// Paths under a new temporary folder, for unit tests (the folder goes when it is dropped).
    #[cfg(test)]
    pub(crate) fn temp() -> (tempfile::TempDir, AppPaths) {
        let dir = tempfile::tempdir().unwrap();
        let paths = AppPaths::under(dir.path());
        (dir, paths)
    }

    pub fn settings_file(&self) -> PathBuf {
        self.config_dir.join("settings.toml")
    }

    /// `<data>/logs`, where runs nobody watched leave a line.
    pub fn logs_dir(&self) -> PathBuf {
        self.data_dir.join("logs")
    }

    /// `<cache>/repos`, this machine's notes per repository (lock holders).
    pub fn repos_cache_dir(&self) -> PathBuf {
        self.cache_dir.join("repos")
    }

    /// Creates ChatVault's folders 0700 (narrowing ones an older version made wider), so
    /// nothing below them is readable by other users whatever its own mode. Hosts call this
    /// once at start; each writer also creates its own folder privately.
    pub fn create_private(&self) -> Result<()> {
        for dir in [
            &self.config_dir,
            &self.data_dir,
            &self.logs_dir(),
            &self.cache_dir,
            &self.repos_cache_dir(),
        ] {
            crate::local::private_file::create_private_dir_all(dir)?;
        }
        Ok(())
    }
}
