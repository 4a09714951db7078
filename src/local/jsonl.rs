//! Append-only JSON-lines files in the data folder (the run history, the check results): one
//! record a line, each line written in one append so concurrent writers do not interleave
//! within a line, and a torn line (a crash mid-write) skipped when the file is read.

use crate::error::{Error, Result};
use crate::local::private_file;
use serde::de::DeserializeOwned;
use serde::Serialize;
use std::path::Path;

/// Appends `record` as one line to `file` (a private file in a private folder).
pub(crate) fn append<T: Serialize>(file: &Path, record: &T) -> Result<()> {
    if let Some(dir) = file.parent() {
        private_file::create_private_dir_all(dir)?;
    }
    let line = serde_json::to_string(record).map_err(|e| Error::internal(e.to_string()))?;
    private_file::append_private(file, format!("{line}\n").as_bytes())
}

/// Every record of `file`, newest (last written) first; none when there is no file yet.
pub(crate) fn newest_first<T: DeserializeOwned>(file: &Path) -> Result<Vec<T>> {
    let text = match std::fs::read_to_string(file) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => {
            let name = file
                .file_name()
                .unwrap_or(file.as_os_str())
                .to_string_lossy();
            return Err(Error::io(format!("reading {name}"), &e));
        }
    };
    let mut out: Vec<T> = text
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect();
    out.reverse();
    Ok(out)
}
