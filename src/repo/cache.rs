//! This computer's copy of repository objects (FORMAT.md §7.3): metadata objects (key tables,
//! index objects, snapshots, forgotten lists) and whole class-S packs (trees and segments),
//! kept **exactly as they are on the target**, under `<cache>/repos/<repo id>/objects/`.
//!
//! - **Encrypted at rest** because nothing is stored decrypted: every cached file is the sealed
//!   object (AES-256-GCM under K_meta, K_keytable or a conversation key), byte for byte.
//! - **Never trusted over authentication:** a cached object is opened and checked like one
//!   just downloaded; one that fails is dropped and fetched again from the target (whole pack).
//! - **Validated against listings:** names are random and objects never change, so a cached
//!   object is current as long as the target lists its name; every listing of a directory drops
//!   the cached objects of that directory it no longer shows. Deleting an object deletes its
//!   cached copy.
//! - **Best effort:** a cache that cannot be written (full disk, read-only folder) only costs
//!   downloads; the folder can be deleted at any time.

use std::collections::HashSet;
use std::fs;
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

/// Directories whose objects are cached (`data/` holds only class-S packs here).
pub(crate) const CACHED_DIRS: [&str; 5] =
    ["keytable/", "index/", "snapshots/", "forgotten/", "data/"];

#[derive(Debug, Clone)]
pub struct Cache {
    dir: PathBuf,
}

fn is_name(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

impl Cache {
    /// A cache rooted at `dir` (`<cache>/repos/<repo id>/objects`); created on first write.
    pub fn new(dir: PathBuf) -> Cache {
        Cache { dir }
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The file for an object path, or `None` for a path the cache never holds (config,
    /// locks, keys, anything not shaped like a ChatVault object name).
    fn file(&self, path: &str) -> Option<PathBuf> {
        let mut parts = path.split('/');
        let top = parts.next()?;
        match top {
            "keytable" | "index" | "snapshots" | "forgotten" => {
                let name = parts.next()?;
                (is_name(name) && parts.next().is_none()).then(|| self.dir.join(top).join(name))
            }
            "data" => {
                let nn = parts.next()?;
                let name = parts.next()?;
                (is_name(name) && name.starts_with(nn) && nn.len() == 2 && parts.next().is_none())
                    .then(|| self.dir.join("data").join(name))
            }
            _ => None,
        }
    }

    /// Whether objects of this path are kept here at all (not whether a copy is present:
    /// that is [`Cache::len`]).
    pub(crate) fn accepts(&self, path: &str) -> bool {
        self.file(path).is_some()
    }

    /// The cached copy of an object.
    pub fn get(&self, path: &str) -> Option<Vec<u8>> {
        fs::read(self.file(path)?).ok()
    }

    /// The cached object's length.
    pub fn len(&self, path: &str) -> Option<u64> {
        fs::metadata(self.file(path)?).ok().map(|m| m.len())
    }

    /// `len` bytes at `offset` of a cached object (a blob of a cached pack).
    pub(crate) fn read_at(&self, path: &str, offset: u64, len: u64) -> Option<Vec<u8>> {
        let mut f = fs::File::open(self.file(path)?).ok()?;
        f.seek(SeekFrom::Start(offset)).ok()?;
        let mut buf = vec![0u8; len as usize];
        f.read_exact(&mut buf).ok()?;
        Some(buf)
    }

    /// Keeps a copy (temporary file and rename, 0600 in 0700 folders). Failures are ignored:
    /// the object is simply downloaded again when next needed.
    pub fn put(&self, path: &str, bytes: &[u8]) {
        let Some(file) = self.file(path) else { return };
        let _ = self.write(&file, bytes);
    }

    fn write(&self, file: &Path, bytes: &[u8]) -> std::io::Result<()> {
        let parent = file.parent().expect("a cache file has a folder");
        if !parent.is_dir() {
            crate::local::private_file::create_private_dir_all(parent)
                .map_err(|e| std::io::Error::other(e.to_string()))?;
        }
        let mut random = [0u8; 6];
        getrandom::fill(&mut random).map_err(|e| std::io::Error::other(e.to_string()))?;
        let tmp = parent.join(format!(".{}.tmp", hex::encode(random)));
        let mut o = fs::OpenOptions::new();
        o.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut o, 0o600);
        let written = o
            .open(&tmp)
            .and_then(|mut f| f.write_all(bytes))
            .and_then(|()| fs::rename(&tmp, file));
        if written.is_err() {
            let _ = fs::remove_file(&tmp);
        }
        written
    }

    pub fn remove(&self, path: &str) {
        if let Some(file) = self.file(path) {
            let _ = fs::remove_file(file);
        }
    }

    /// Drops every cached object of `dir` (one of [`CACHED_DIRS`]) whose path is not in
    /// `listed` (the target's listing of `dir`). Returns how many were dropped.
    pub(crate) fn retain_listed(&self, dir: &str, listed: &HashSet<String>) -> usize {
        let top = dir.trim_end_matches('/');
        if !CACHED_DIRS.contains(&dir) {
            return 0;
        }
        let names: HashSet<&str> = listed.iter().filter_map(|p| p.rsplit('/').next()).collect();
        let Ok(rd) = fs::read_dir(self.dir.join(top)) else {
            return 0;
        };
        let mut dropped = 0;
        for e in rd.flatten() {
            let name = e.file_name();
            let name = name.to_string_lossy();
            // Leftover temporary files of an interrupted write go too.
            if !names.contains(name.as_ref()) {
                let _ = fs::remove_file(e.path());
                dropped += 1;
            }
        }
        dropped
    }

    /// Names of the cached objects of `dir` (for tests and statistics).
    pub fn names(&self, dir: &str) -> Vec<String> {
        let Ok(rd) = fs::read_dir(self.dir.join(dir.trim_end_matches('/'))) else {
            return Vec::new();
        };
        let mut out: Vec<String> = rd
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| is_name(n))
            .collect();
        out.sort();
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn holds_only_object_shaped_paths_and_drops_what_is_no_longer_listed() {
        let dir = tempfile::tempdir().unwrap();
        let c = Cache::new(dir.path().join("objects"));
        let name = "ab".to_string() + &"0".repeat(62);
        let other = "cd".to_string() + &"1".repeat(62);
        for bad in [
            "config",
            "locks/x",
            "keys/aa",
            "index/../config",
            "data/ab/../../x",
        ] {
            assert!(!c.accepts(bad), "{bad}");
        }
        assert!(
            !c.accepts(&format!("data/cd/{name}")),
            "the folder must match the name"
        );
        c.put(&format!("index/{name}"), b"sealed");
        c.put(&format!("data/ab/{name}"), b"pack bytes");
        c.put(&format!("data/cd/{other}"), b"other pack");
        assert_eq!(c.get(&format!("index/{name}")).unwrap(), b"sealed");
        assert_eq!(
            c.read_at(&format!("data/ab/{name}"), 5, 5).unwrap(),
            b"bytes"
        );
        assert!(c.read_at(&format!("data/ab/{name}"), 8, 5).is_none());
        let listed: HashSet<String> = [format!("data/cd/{other}")].into_iter().collect();
        assert_eq!(c.retain_listed("data/", &listed), 1);
        assert!(c.get(&format!("data/ab/{name}")).is_none());
        assert!(c.get(&format!("data/cd/{other}")).is_some());
        assert!(
            c.get(&format!("index/{name}")).is_some(),
            "other folders stay"
        );
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let f = dir.path().join("objects/index").join(&name);
            assert_eq!(fs::metadata(f).unwrap().permissions().mode() & 0o777, 0o600);
        }
    }
}
