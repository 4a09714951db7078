//! Reading an unencrypted SQLite database (iMessage's chat.db) in place, without writing a
//! byte anywhere: the main file and its `-wal` are read into memory, the WAL's committed
//! frames are applied to the page image here, and the result is handed to SQLite with
//! `sqlite3_deserialize` (rusqlite's `serialize` feature) as a read-only in-memory database.
//!
//! Why not let SQLite open the file itself:
//! - `mode=ro` still opens `chat.db-shm` read-write (read marks and the wal-index live there)
//!   and creates it when missing, so the source folder changes; with `readonly_shm=1` a stale
//!   or missing `-shm` makes the open fail or depend on the Messages app's state;
//! - `immutable=1` never touches `-shm`, but it ignores the WAL entirely, and on a running Mac
//!   the newest messages live only in `chat.db-wal`;
//! - copying the three files to a temporary folder (what WeChat's encrypted files still do)
//!   would put an unencrypted copy of the user's messages on disk.
//!
//! The WAL is applied as SQLite itself would on open (sqlite.org/fileformat2.html §4): frames
//! whose salts match the WAL header and whose cumulative checksums hold, up to the last commit
//! frame; later uncommitted or stale frames (left behind after a WAL restart) are ignored.
//!
//! Limits: the whole database is held in memory while the store is open (a chat.db of 1 GB
//! needs about 1 GB of RAM, twice that briefly while loading). The snapshot is taken once, at
//! open: messages that arrive later are read on the next run. If Messages checkpoints or
//! restarts the WAL while the files are being read, the read is retried (the WAL is read
//! before and after the main file and must not change in between).

use crate::error::{Error, Result};
use rusqlite::{Connection, OpenFlags};
use std::collections::BTreeMap;
use std::path::Path;

const WAL_HEADER: usize = 32;
const FRAME_HEADER: usize = 24;
const ATTEMPTS: usize = 5;

/// Opens `path` (plain SQLite) with its `-wal` applied, entirely in memory and read-only.
/// `unreadable` maps I/O errors on the source files to the caller's error.
pub fn open(
    path: &Path,
    unreadable: impl Fn(&Path, &std::io::Error) -> Error,
) -> Result<Connection> {
    let wal_path = super::sqlite::with_suffix(path, "-wal");
    let read_wal = || match std::fs::read(&wal_path) {
        Ok(b) => Ok(b),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Vec::new()),
        Err(e) => Err(unreadable(&wal_path, &e)),
    };
    let mut image = None;
    for _ in 0..ATTEMPTS {
        let before = read_wal()?;
        let main = std::fs::read(path).map_err(|e| unreadable(path, &e))?;
        let after = read_wal()?;
        if before == after {
            image = Some(apply_wal(main, &after));
            break;
        }
    }
    let mut image = image.ok_or_else(|| {
        Error::new(
            crate::ErrorCode::StoreUnreadable,
            format!("{} kept changing while it was read", path.display()),
        )
        .with_hint("Quit Messages (or wait until it is idle) and try again.")
    })?;
    // The header says WAL mode (file format bytes 18-19 = 2); the in-memory image has no WAL,
    // so mark it as a rollback-journal database or SQLite would look for a -shm.
    if image.len() >= 100 {
        image[18] = 1;
        image[19] = 1;
    }
    let mut conn = Connection::open_with_flags(
        ":memory:",
        OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_CREATE
            | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(|e| super::sqlite::corrupt(path, &e.to_string()))?;
    let len = image.len();
    conn.deserialize_read_exact(rusqlite::MAIN_DB, &image[..], len, true)
        .map_err(|e| super::sqlite::corrupt(path, &e.to_string()))?;
    Ok(conn)
}

/// The main file's pages with the WAL's committed frames applied (the file as SQLite would
/// see it right after opening). A missing, empty or foreign WAL leaves `main` as it is.
pub(crate) fn apply_wal(mut main: Vec<u8>, wal: &[u8]) -> Vec<u8> {
    let Some((page_size, frames, db_pages)) = committed_frames(wal) else {
        return main;
    };
    let size = db_pages as usize * page_size;
    if main.len() < size {
        main.resize(size, 0);
    }
    for (pgno, offset) in frames {
        let at = (pgno as usize - 1) * page_size;
        if at + page_size <= main.len() {
            main[at..at + page_size].copy_from_slice(&wal[offset..offset + page_size]);
        }
    }
    main.truncate(size);
    main
}

/// Page size, page number → offset of its newest committed copy in `wal`, and the database
/// size in pages after the last commit. None when the WAL holds no committed transaction.
fn committed_frames(wal: &[u8]) -> Option<(usize, BTreeMap<u32, usize>, u32)> {
    if wal.len() < WAL_HEADER {
        return None;
    }
    let be = |b: &[u8]| u32::from_be_bytes([b[0], b[1], b[2], b[3]]);
    let magic = be(&wal[0..4]);
    if magic & !1 != 0x377f_0682 {
        return None;
    }
    // The magic's low bit says in which byte order the checksums read the words.
    let big_endian = magic & 1 == 1;
    let page_size = match be(&wal[8..12]) {
        1 => 65536,
        n if n.is_power_of_two() && (512..=32768).contains(&n) => n as usize,
        _ => return None,
    };
    let (salt1, salt2) = (be(&wal[16..20]), be(&wal[20..24]));
    let mut sum = checksum((0, 0), &wal[0..24], big_endian);
    if sum != (be(&wal[24..28]), be(&wal[28..32])) {
        return None;
    }
    let mut pending = Vec::new();
    let mut committed = BTreeMap::new();
    let mut db_pages = None;
    let mut at = WAL_HEADER;
    while at + FRAME_HEADER + page_size <= wal.len() {
        let h = &wal[at..at + FRAME_HEADER];
        if be(&h[8..12]) != salt1 || be(&h[12..16]) != salt2 {
            break;
        }
        sum = checksum(sum, &h[0..8], big_endian);
        let page = &wal[at + FRAME_HEADER..at + FRAME_HEADER + page_size];
        sum = checksum(sum, page, big_endian);
        if sum != (be(&h[16..20]), be(&h[20..24])) {
            break;
        }
        let pgno = be(&h[0..4]);
        if pgno == 0 {
            break;
        }
        pending.push((pgno, at + FRAME_HEADER));
        let commit_size = be(&h[4..8]);
        if commit_size != 0 {
            committed.extend(pending.drain(..));
            db_pages = Some(commit_size);
        }
        at += FRAME_HEADER + page_size;
    }
    db_pages.map(|n| (page_size, committed, n))
}

/// SQLite's WAL checksum over `data` (a multiple of 8 bytes), continuing from `(s0, s1)`.
fn checksum((mut s0, mut s1): (u32, u32), data: &[u8], big_endian: bool) -> (u32, u32) {
    let word = |b: &[u8]| {
        let b = [b[0], b[1], b[2], b[3]];
        if big_endian {
            u32::from_be_bytes(b)
        } else {
            u32::from_le_bytes(b)
        }
    };
    for pair in data.chunks_exact(8) {
        s0 = s0.wrapping_add(word(&pair[0..4])).wrapping_add(s1);
        s1 = s1.wrapping_add(word(&pair[4..8])).wrapping_add(s0);
    }
    (s0, s1)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A WAL-mode database whose newest rows live only in its -wal, as a running Mac leaves it:
    /// the writer stays open while the files are copied (closing would checkpoint).
    fn wal_database(dir: &Path) -> (std::path::PathBuf, Connection) {
        let path = dir.join("live.db");
        let conn = Connection::open(&path).unwrap();
        conn.execute_batch(
            "PRAGMA journal_mode = WAL; PRAGMA wal_autocheckpoint = 0;
             CREATE TABLE t (x TEXT); INSERT INTO t VALUES ('checkpointed');
             PRAGMA wal_checkpoint(TRUNCATE);
             INSERT INTO t VALUES ('only in the wal');",
        )
        .unwrap();
        (path, conn)
    }

    fn rows(conn: &Connection) -> Vec<String> {
        let mut stmt = conn.prepare("SELECT x FROM t ORDER BY rowid").unwrap();
        let rows = stmt.query_map([], |r| r.get(0)).unwrap();
        rows.collect::<rusqlite::Result<_>>().unwrap()
    }

    #[test]
    fn committed_wal_frames_are_read_and_the_source_files_stay_as_they_were() {
        let dir = tempfile::tempdir().unwrap();
        let (path, _writer) = wal_database(dir.path());
        let files = ["live.db", "live.db-wal", "live.db-shm"];
        let before: Vec<_> = files
            .iter()
            .map(|f| std::fs::read(dir.path().join(f)).unwrap())
            .collect();
        let conn = open(&path, |p, e| Error::io(p.display().to_string(), e)).unwrap();
        assert_eq!(rows(&conn), ["checkpointed", "only in the wal"]);
        assert!(conn.execute("INSERT INTO t VALUES ('x')", []).is_err());
        let after: Vec<_> = files
            .iter()
            .map(|f| std::fs::read(dir.path().join(f)).unwrap())
            .collect();
        assert!(before == after, "a source file changed");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), files.len());
    }

    #[test]
    fn a_torn_or_uncommitted_wal_tail_is_ignored() {
        let dir = tempfile::tempdir().unwrap();
        let (path, _writer) = wal_database(dir.path());
        let main = std::fs::read(&path).unwrap();
        let wal = std::fs::read(super::super::sqlite::with_suffix(&path, "-wal")).unwrap();
        let whole = apply_wal(main.clone(), &wal);
        // One byte changed in the last frame breaks its checksum: its transaction is dropped.
        let mut torn = wal.clone();
        let last = torn.len() - 1;
        torn[last] ^= 0xff;
        assert_ne!(apply_wal(main.clone(), &torn), whole);
        assert_eq!(apply_wal(main.clone(), &torn[..WAL_HEADER]), main);
        assert_eq!(apply_wal(main.clone(), b"not a wal"), main);
    }
}
