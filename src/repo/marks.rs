//! High-water marks against rollback (FORMAT.md §13). The target alone cannot tell an old state
//! from the current one, so this computer remembers, per repository, the newest key table and
//! forgotten-list generations and, per lineage, the newest snapshot it has seen, plus every index
//! object it has seen superseded. A target that later serves something older is refused with
//! `repo_rolled_back` instead of being trusted: an old key table would silently bring back keys
//! of forgotten conversations, an old forgotten list would let a forgotten conversation be
//! backed up again, a superseded index could point at packs that prune deleted.
//!
//! The file holds no secrets and no names: generations, keyed lineage hashes, snapshot ids and
//! object names, all of which the storage itself sees.

use crate::error::{Error, ErrorCode, Result};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Marks {
    #[serde(default)]
    pub keytable_gen: u64,
    #[serde(default)]
    pub forgotten_gen: u64,
    /// lineage (hex) -> the newest snapshot seen: (id hex, finished ms).
    #[serde(default)]
    pub lineages: BTreeMap<String, (String, i64)>,
    /// Index object names seen superseded (hex): never trusted again.
    #[serde(default)]
    pub superseded: BTreeSet<String>,
}

pub fn load(path: &Path) -> Marks {
    std::fs::read_to_string(path)
        .ok()
        .and_then(|t| serde_json::from_str(&t).ok())
        .unwrap_or_default()
}

pub fn save(path: &Path, marks: &Marks) -> Result<()> {
    let text = serde_json::to_string(marks).map_err(|e| Error::internal(e.to_string()))?;
    if let Some(dir) = path.parent() {
        crate::local::private_file::create_private_dir_all(dir)?;
    }
    crate::local::private_file::write_private_atomic(path, text.as_bytes())
}

pub(crate) fn rolled_back(what: String, path: &Path) -> Error {
    Error::new(ErrorCode::RepoRolledBack, what).with_hint(format!(
        "The storage serves an older state than this computer saw: an old copy was put back, or \
         the storage lost recent changes. ChatVault writes nothing to it until you check. If you \
         restored an older copy on purpose, delete {} to accept it.",
        path.display()
    ))
}
