//! ChatVault's TOML files in the config folder (settings, profiles, the known repositories):
//! read with the defaults when there is none yet, written privately and atomically.

use crate::error::{Error, ErrorCode, Result};
use crate::local::private_file;
use serde::de::DeserializeOwned;
use serde::Serialize;
use std::path::Path;

/// The content of `file`, or the default when there is no such file. A file that does not
/// parse is `config_invalid` with `hint` (what the user can do about it).
pub(crate) fn load<T: DeserializeOwned + Default>(file: &Path, hint: &str) -> Result<T> {
    match std::fs::read_to_string(file) {
        Ok(text) => toml::from_str(&text).map_err(|e| {
            Error::new(ErrorCode::ConfigInvalid, format!("{}: {e}", file.display()))
                .with_hint(hint.to_string())
        }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(T::default()),
        Err(e) => Err(Error::io(format!("reading {}", file.display()), &e)),
    }
}

/// Replaces `file` with `value` (a temporary file renamed over it), in a private folder.
pub(crate) fn save<T: Serialize>(file: &Path, value: &T) -> Result<()> {
    if let Some(dir) = file.parent() {
        private_file::create_private_dir_all(dir)?;
    }
    let text = toml::to_string(value).map_err(|e| Error::internal(e.to_string()))?;
    private_file::write_private_atomic(file, text.as_bytes())
}
