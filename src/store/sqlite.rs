//! Opening a store's database files without ever writing to them or writing plaintext.
//!
//! Each encrypted database file is copied, still encrypted, with its `-wal` (messages not yet
//! checkpointed live there), into a private 0700 temporary folder; SQLCipher opens the copy
//! and decrypts pages in memory only. An unencrypted file (iMessage's chat.db) is never
//! copied, since a copy would be plaintext on disk: it is read in place into memory with its
//! WAL applied ([`super::memdb`]). Temp tables and sorts stay in memory
//! (`temp_store = MEMORY`), and the connection is `query_only`, so nothing we run can write.
//! The source files are only ever read.

use super::derived_keys::{DerivedKeys, FileKey};
use crate::crypto::secret::Secret;
use crate::error::{Error, ErrorCode, Result};
use crate::platform::keychain::Keychain;
use rusqlite::{Connection, OpenFlags};
use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use zeroize::Zeroizing;

const SQLITE_MAGIC: &[u8; 16] = b"SQLite format 3\0";

/// How SQLCipher must be keyed for one database file.
#[derive(Debug, Clone)]
pub enum Cipher {
    /// Not encrypted (iMessage, or a store another tool already decrypted).
    Plain,
    /// SQLCipher with the given compatibility level and key form.
    Sqlcipher {
        key: KeyForm,
        compatibility: u8,
        page_size: u32,
    },
}

#[derive(Debug, Clone)]
pub enum KeyForm {
    /// Bytes given in hex that go through SQLCipher's KDF (WeChat Windows 3.x and 4.x).
    PassphraseHex(Secret<String>),
    /// A 32-byte key used directly, no KDF (WeChat macOS 3.x).
    RawHex(Secret<String>),
    /// A text passphrase (WeChat Android's 7 characters).
    Text(Secret<String>),
}

/// A private, still-encrypted copy of one database file and its WAL.
pub struct PrivateCopy {
    _dir: tempfile::TempDir,
    path: PathBuf,
}

impl PrivateCopy {
    pub fn of(source: &Path) -> Result<PrivateCopy> {
        let dir = tempfile::Builder::new()
            .prefix("chatvault-store-")
            .tempdir()
            .map_err(|e| Error::io("creating a private temporary folder", &e))?;
        restrict(dir.path())?;
        let name = source
            .file_name()
            .ok_or_else(|| Error::invalid_input("not a file path"))?;
        let path = dir.path().join(name);
        copy_source(source, &path)?;
        let wal = with_suffix(source, "-wal");
        if wal.exists() {
            copy_source(&wal, &with_suffix(&path, "-wal"))?;
        }
        Ok(PrivateCopy { _dir: dir, path })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }
}

#[cfg(unix)]
fn restrict(dir: &Path) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    fs::set_permissions(dir, fs::Permissions::from_mode(0o700))
        .map_err(|e| Error::io(format!("protecting {}", dir.display()), &e))
}

#[cfg(not(unix))]
fn restrict(_dir: &Path) -> Result<()> {
    Ok(()) // the per-user temp folder is already private on Windows
}

pub(crate) fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut s = path.as_os_str().to_owned();
    s.push(suffix);
    PathBuf::from(s)
}

fn copy_source(from: &Path, to: &Path) -> Result<()> {
    fs::copy(from, to)
        .map(|_| ())
        .map_err(|e| unreadable(from, &e))
}

fn unreadable(path: &Path, e: &std::io::Error) -> Error {
    let hint = match e.kind() {
        std::io::ErrorKind::NotFound => "Check the path; the file may have been moved.",
        std::io::ErrorKind::PermissionDenied => {
            "Give ChatVault permission to read it (on macOS: Full Disk Access), or copy the \
             folder somewhere readable."
        }
        _ => "Close the chat app if it holds the file locked, then try again.",
    };
    Error::new(
        ErrorCode::StoreUnreadable,
        format!("cannot read {}: {e}", path.display()),
    )
    .with_hint(hint)
}

/// Opens `source` with the given cipher, proving the key on page 1 before anything else:
/// through a private encrypted copy that lives as long as the returned value, or, for a plain
/// SQLite file, in memory.
pub struct Db {
    /// Behind a mutex so that stores are `Sync`: a backup reads a store on one thread while it
    /// encrypts and uploads on another. Each store is read by one thread at a time.
    conn: std::sync::Mutex<Connection>,
    _copy: Option<PrivateCopy>,
    keyed: Keyed,
}

/// How a database was keyed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Keyed {
    /// Plain, or with the key as given (SQLCipher derived it, if its form needs that).
    AsGiven,
    /// With the key derived here, now kept in the keychain.
    Derived,
    /// With the derived key kept in the keychain: no derivation.
    Kept,
}

/// What opening databases cost this process so far (`chatvault backup --json` reports it).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct OpenCounts {
    /// Encrypted database files opened (each through a private copy).
    pub opened: u64,
    /// Of those, files whose key was derived (PBKDF2, here or by SQLCipher).
    pub keys_derived: u64,
    /// Of those, files opened with the derived key kept in the keychain (no derivation).
    pub keys_kept: u64,
}

static OPENED: AtomicU64 = AtomicU64::new(0);
static DERIVED: AtomicU64 = AtomicU64::new(0);
static KEPT: AtomicU64 = AtomicU64::new(0);

/// This process's [`OpenCounts`].
pub fn open_counts() -> OpenCounts {
    OpenCounts {
        opened: OPENED.load(Ordering::Relaxed),
        keys_derived: DERIVED.load(Ordering::Relaxed),
        keys_kept: KEPT.load(Ordering::Relaxed),
    }
}

static DERIVED_KEYS: std::sync::OnceLock<DerivedKeys> = std::sync::OnceLock::new();

/// From now on, every database this process opens keeps its derived key in `keychain` and
/// opens with the kept key the next time ([`super::derived_keys`]). Hosts call it once at
/// start; without it every open derives its key.
pub fn keep_derived_keys_in(keychain: Box<dyn Keychain>) {
    let _ = DERIVED_KEYS.set(DerivedKeys::new(keychain));
}

impl Db {
    pub fn open(source: &Path, cipher: &Cipher) -> Result<Db> {
        Db::open_keeping(source, cipher, DERIVED_KEYS.get())
    }

    /// [`Db::open`], with the derived keys kept in `kept` where the cipher allows it.
    pub(crate) fn open_keeping(
        source: &Path,
        cipher: &Cipher,
        kept: Option<&DerivedKeys>,
    ) -> Result<Db> {
        let (header, plain) = Db::check(source, cipher)?;
        if plain {
            let conn = super::memdb::open(source, unreadable)?;
            return Db::finish(source, conn, true);
        }
        let copy = PrivateCopy::of(source)?;
        OPENED.fetch_add(1, Ordering::Relaxed);
        let Cipher::Sqlcipher {
            key,
            compatibility,
            page_size,
        } = cipher
        else {
            unreachable!("a file that is not plain SQLite needs SQLCipher (checked above)");
        };
        let file = match (key, kept) {
            (KeyForm::PassphraseHex(hex), Some(kept)) if kept.available() => {
                FileKey::new(hex.expose(), *compatibility, &header)
            }
            _ => None,
        };
        let open = |key: &KeyForm| -> Result<Db> {
            let conn = Connection::open_with_flags(
                copy.path(),
                OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
            )
            .map_err(|e| corrupt(source, &e.to_string()))?;
            apply_key(&conn, key, *compatibility, *page_size)
                .map_err(|e| corrupt(source, &e.to_string()))?;
            Db::finish(source, conn, false)
        };
        let as_given = |key: &KeyForm| {
            if matches!(key, KeyForm::PassphraseHex(_) | KeyForm::Text(_)) {
                DERIVED.fetch_add(1, Ordering::Relaxed);
            }
            open(key)
        };
        let (Some(file), Some(kept)) = (file, kept) else {
            return as_given(key).map(|db| db.with_copy(copy));
        };
        // The kept key; one that no longer opens the file is derived again and replaced.
        if let Some(raw) = kept.lookup(&file) {
            match open(&KeyForm::RawHex(raw)) {
                Ok(db) => {
                    KEPT.fetch_add(1, Ordering::Relaxed);
                    return Ok(Db {
                        keyed: Keyed::Kept,
                        ..db.with_copy(copy)
                    });
                }
                Err(e) if e.code() == ErrorCode::StoreWrongKey => {}
                Err(e) => return Err(e),
            }
        }
        if !kept.available() {
            // No keychain to keep it in: SQLCipher derives it, as without one.
            return as_given(key).map(|db| db.with_copy(copy));
        }
        let raw = file.derive();
        DERIVED.fetch_add(1, Ordering::Relaxed);
        let db = open(&KeyForm::RawHex(raw.clone()))?;
        kept.remember(&file, &raw);
        Ok(Db {
            keyed: Keyed::Derived,
            ..db.with_copy(copy)
        })
    }

    /// What can be told of a database file without opening it: it is readable, not empty
    /// and, when encrypted, a whole number of pages. Returns its first bytes and whether it
    /// is plain SQLite.
    pub fn check(source: &Path, cipher: &Cipher) -> Result<(Vec<u8>, bool)> {
        let header = read_header(source)?;
        let plain = header.starts_with(SQLITE_MAGIC);
        if let Cipher::Sqlcipher { page_size, .. } = cipher {
            let len = fs::metadata(source)
                .map_err(|e| unreadable(source, &e))?
                .len();
            if !plain && (len < *page_size as u64 || len % *page_size as u64 != 0) {
                return Err(corrupt(
                    source,
                    &format!("{len} bytes is not a whole number of {page_size}-byte pages"),
                ));
            }
        } else if !plain {
            return Err(not_sqlite(source));
        }
        Ok((header, plain))
    }

    fn with_copy(mut self, copy: PrivateCopy) -> Db {
        self._copy = Some(copy);
        self
    }

    /// Makes the connection read-only and reads page 1, which holds the schema: that checks
    /// the key (HMAC) before anything else.
    fn finish(source: &Path, conn: Connection, plain: bool) -> Result<Db> {
        conn.execute_batch("PRAGMA temp_store = MEMORY; PRAGMA query_only = ON;")
            .map_err(|e| classify(source, e, plain))?;
        if !plain {
            // The private copy is this connection's alone: it locks the file once and keeps its
            // page cache, instead of locking, re-reading and decrypting page 1 for every
            // statement (a 4.x store's marks and reads run thousands of them, one per chat
            // table). Set before the first read, so a WAL's index lives in memory too.
            conn.execute_batch("PRAGMA locking_mode = EXCLUSIVE;")
                .map_err(|e| classify(source, e, plain))?;
            // Reads go through the store in one pass, or down an index: a small page cache
            // holds the pages they come back to (a big store has dozens of databases open at
            // once, each with SQLite's default of 2 MiB).
            conn.execute_batch("PRAGMA cache_size = -512;")
                .map_err(|e| classify(source, e, plain))?;
        }
        conn.query_row("SELECT count(*) FROM sqlite_master", [], |r| {
            r.get::<_, i64>(0)
        })
        .map_err(|e| classify(source, e, plain))?;
        Ok(Db {
            conn: std::sync::Mutex::new(conn),
            _copy: None,
            keyed: Keyed::AsGiven,
        })
    }

    /// How this database was keyed.
    pub fn keyed(&self) -> Keyed {
        self.keyed
    }

    /// The connection (see the field's note).
    pub fn conn(&self) -> std::sync::MutexGuard<'_, Connection> {
        self.conn.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Names of the tables in this database.
    pub fn tables(&self) -> Result<Vec<String>> {
        let conn = self.conn();
        let mut stmt = conn
            .prepare("SELECT name FROM sqlite_master WHERE type = 'table'")
            .map_err(sql_error)?;
        let names = stmt.query_map([], |r| r.get(0)).map_err(sql_error)?;
        names.collect::<Result<Vec<String>, _>>().map_err(sql_error)
    }

    pub fn has_table(&self, name: &str) -> Result<bool> {
        self.conn()
            .query_row(
                "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = ?1",
                [name],
                |r| r.get::<_, i64>(0),
            )
            .map(|n| n > 0)
            .map_err(sql_error)
    }

    /// Column names of a table (schema probing: columns differ between app versions).
    pub fn columns(&self, table: &str) -> Result<Vec<String>> {
        let conn = self.conn();
        let mut stmt = conn
            .prepare(&format!("PRAGMA table_info(\"{table}\")"))
            .map_err(sql_error)?;
        let cols = stmt
            .query_map([], |r| r.get::<_, String>(1))
            .map_err(sql_error)?;
        cols.collect::<Result<Vec<_>, _>>().map_err(sql_error)
    }
}

/// Opens each of `items` with `open` on every core (see [`each_on_a_thread`]), so that their
/// key derivations (SQLCipher 4: 256,000 rounds of PBKDF2-HMAC-SHA512, a quarter of a second
/// each) and private copies run in parallel; the results in the order of `items`. Callers open
/// the small contacts database first, alone, so that a wrong key is told before the big shards
/// are copied.
pub fn open_each<T: Sync>(items: &[T], open: impl Fn(&T) -> Result<Db> + Sync) -> Vec<Result<Db>> {
    each_on_a_thread(items, open)
}

/// `work` on each of `items`, on as many threads as there are cores, each taking the next item
/// when it is done; the results in order (a panic is an internal error for its item). Not a
/// thread per item: a big store has dozens of databases, and that many threads at once held
/// a page cache and an allocator heap each, 175 MB at 5,000,000 messages, for no more speed.
pub fn each_on_a_thread<T: Sync, R: Send>(
    items: &[T],
    work: impl Fn(&T) -> Result<R> + Sync,
) -> Vec<Result<R>> {
    let threads = std::thread::available_parallelism()
        .map_or(2, |n| n.get())
        .clamp(1, items.len().max(1));
    let next = std::sync::atomic::AtomicUsize::new(0);
    let (work, next) = (&work, &next);
    let done: Vec<(usize, Result<R>)> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..threads)
            .map(|_| {
                s.spawn(move || {
                    let mut out = Vec::new();
                    loop {
                        let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        let Some(item) = items.get(i) else {
                            return out;
                        };
                        let r =
                            std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| work(item)))
                                .unwrap_or_else(|_| {
                                    Err(Error::internal("reading a database panicked"))
                                });
                        out.push((i, r));
                    }
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap_or_default())
            .collect()
    });
    let mut slots: Vec<Option<Result<R>>> = items.iter().map(|_| None).collect();
    for (i, r) in done {
        slots[i] = Some(r);
    }
    slots
        .into_iter()
        .map(|r| r.unwrap_or_else(|| Err(Error::internal("reading a database panicked"))))
        .collect()
}

/// Sets up SQLCipher's process-wide crypto provider once, before any thread keys a database:
/// keying the first databases from several threads at once failed now and then with
/// "PRAGMA key requires a key of one or more characters" (seen in parallel tests).
pub fn init_sqlcipher() {
    static INIT: std::sync::Once = std::sync::Once::new();
    INIT.call_once(|| {
        if let Ok(c) = Connection::open_in_memory() {
            let _ =
                c.execute_batch("PRAGMA key = 'chatvault'; SELECT count(*) FROM sqlite_master;");
        }
    });
}

fn apply_key(
    conn: &Connection,
    key: &KeyForm,
    compatibility: u8,
    page_size: u32,
) -> rusqlite::Result<()> {
    init_sqlcipher();
    // Not `pragma_update`: it would format the key into a statement of its own and free it
    // unwiped. The statement is built here, in memory that is wiped when it is dropped.
    let sql = match key {
        KeyForm::PassphraseHex(hex) => key_pragma("hexkey", &[hex.expose()]),
        KeyForm::RawHex(hex) => key_pragma("key", &["x'", hex.expose(), "'"]),
        KeyForm::Text(text) => key_pragma("key", &[text.expose()]),
    };
    conn.execute_batch(&sql)?;
    conn.pragma_update(None, "cipher_compatibility", compatibility)?;
    conn.pragma_update(None, "cipher_page_size", page_size)?;
    Ok(())
}

/// `PRAGMA name = 'value'`, the value the concatenation of `parts` quoted as an SQL string
/// (what `pragma_update` writes), in a string that never reallocates and is wiped on drop.
fn key_pragma(name: &str, parts: &[&str]) -> Zeroizing<String> {
    let len: usize = parts.iter().map(|p| p.len()).sum();
    // Quoting at most doubles the value.
    let mut sql = Zeroizing::new(String::with_capacity(name.len() + 2 * len + 12));
    let capacity = sql.capacity();
    sql.push_str("PRAGMA ");
    sql.push_str(name);
    sql.push_str(" = '");
    for c in parts.iter().flat_map(|p| p.chars()) {
        if c == '\'' {
            sql.push('\'');
        }
        sql.push(c);
    }
    sql.push('\'');
    debug_assert_eq!(
        sql.capacity(),
        capacity,
        "a reallocation leaves an unwiped copy"
    );
    sql
}

fn read_header(path: &Path) -> Result<Vec<u8>> {
    let mut f = fs::File::open(path).map_err(|e| unreadable(path, &e))?;
    let mut buf = vec![0u8; 100];
    let mut n = 0;
    while n < buf.len() {
        match f.read(&mut buf[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) => return Err(unreadable(path, &e)),
        }
    }
    buf.truncate(n);
    if n == 0 {
        return Err(corrupt(path, "the file is empty"));
    }
    Ok(buf)
}

fn classify(path: &Path, e: rusqlite::Error, plain: bool) -> Error {
    use rusqlite::ErrorCode as C;
    match e.sqlite_error_code() {
        Some(C::NotADatabase) if !plain => Error::new(
            ErrorCode::StoreWrongKey,
            format!("{}: the key does not open this database", path.display()),
        )
        .with_hint(
            "Check the key (64 hex digits for WeChat, 7 characters or IMEI + uin for Android). \
             If WeChat was updated since the key was saved, find it again: Find my key in the \
             app, or `chatvault key find --store PATH`.",
        ),
        Some(C::NotADatabase) => not_sqlite(path),
        Some(C::DatabaseBusy | C::DatabaseLocked) => Error::new(
            ErrorCode::StoreUnreadable,
            format!("{} is locked: {e}", path.display()),
        )
        .with_hint("Close the chat app and try again."),
        _ => corrupt(path, &e.to_string()),
    }
}

pub fn corrupt(path: &Path, why: &str) -> Error {
    Error::new(
        ErrorCode::StoreCorrupt,
        format!("{} is damaged: {why}", path.display()),
    )
    .with_hint(
        "The file may be truncated or only partly copied. Copy it again from the original \
         device, with its -wal file, and retry.",
    )
}

fn not_sqlite(path: &Path) -> Error {
    Error::new(
        ErrorCode::StoreNotChatStore,
        format!("{} is not a database", path.display()),
    )
    .with_hint("Pick the chat app's data folder (or chat.db for iMessage).")
}

/// One key serves every file of a WeChat account. Once it has opened one file, another file
/// of the same store that it does not open is damaged (or not SQLCipher at all), not keyed
/// differently: say so instead of "wrong key".
pub fn damaged_not_wrong_key(path: &Path) -> impl FnOnce(Error) -> Error + '_ {
    move |e| {
        if e.code() == ErrorCode::StoreWrongKey {
            corrupt(
                path,
                "the account's key opens its other files but not this one",
            )
        } else {
            e
        }
    }
}

/// Fails unless `db` has `table`: the file is some other database.
pub fn require_table(db: &Db, path: &Path, table: &str) -> Result<()> {
    if db.has_table(table)? {
        return Ok(());
    }
    Err(Error::new(
        ErrorCode::StoreNotChatStore,
        format!(
            "{} has no {table} table: it is not the chat app's database",
            path.display()
        ),
    )
    .with_hint("Pick the chat app's own account folder; this file belongs to something else."))
}

/// Errors from queries after the store opened: the file is readable but not as expected.
pub fn sql_error(e: rusqlite::Error) -> Error {
    match e.sqlite_error_code() {
        Some(rusqlite::ErrorCode::DatabaseCorrupt) => Error::new(
            ErrorCode::StoreCorrupt,
            format!("the database is damaged: {e}"),
        )
        .with_hint("Copy the store again from the original device and retry."),
        _ => Error::new(
            ErrorCode::StoreUnsupported,
            format!("unexpected database content: {e}"),
        )
        .with_hint("This version of the chat app may store data differently; please report it."),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn work_on_each_database_keeps_the_order_and_turns_a_panic_into_that_items_error() {
        let items: Vec<u32> = (0..50).collect();
        let out = each_on_a_thread(&items, |&i| {
            assert_ne!(i, 7, "item 7 panics");
            Ok(i * 2)
        });
        assert_eq!(out.len(), 50);
        for (i, r) in out.iter().enumerate() {
            match r {
                Ok(v) => assert_eq!(*v, i as u32 * 2),
                Err(e) => {
                    assert_eq!(i, 7);
                    assert!(e.to_string().contains("panicked"), "{e}");
                }
            }
        }
        assert!(out[7].is_err());
        assert!(each_on_a_thread(&[] as &[u32], |&i| Ok(i)).is_empty());
    }

    #[test]
    fn private_copy_is_in_a_0700_folder_and_includes_the_wal() {
        let dir = tempfile::tempdir().unwrap();
        let src = dir.path().join("x.db");
        fs::write(&src, b"main").unwrap();
        fs::write(dir.path().join("x.db-wal"), b"wal").unwrap();
        let copy = PrivateCopy::of(&src).unwrap();
        assert_eq!(fs::read(copy.path()).unwrap(), b"main");
        assert_eq!(fs::read(with_suffix(copy.path(), "-wal")).unwrap(), b"wal");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = fs::metadata(copy.path().parent().unwrap())
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o700);
        }
    }

    #[test]
    fn key_pragmas_quote_the_key_as_pragma_update_does() {
        assert_eq!(
            key_pragma("key", &["x'", "00ff", "'"]).as_str(),
            "PRAGMA key = 'x''00ff'''"
        );
        assert_eq!(
            key_pragma("hexkey", &["abcd"]).as_str(),
            "PRAGMA hexkey = 'abcd'"
        );
        assert_eq!(
            key_pragma("key", &["it's; DROP"]).as_str(),
            "PRAGMA key = 'it''s; DROP'"
        );
        let quotes = "'".repeat(40);
        assert_eq!(key_pragma("key", &[&quotes]).len(), 15 + 80);
    }

    /// Keys a new database with `key`, writes a row, and reads it back through [`Db::open`].
    fn round_trip(key: KeyForm) -> Result<i64> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("k.db");
        let conn = Connection::open(&path).unwrap();
        apply_key(&conn, &key, 4, 4096).unwrap();
        conn.execute_batch("CREATE TABLE t(v); INSERT INTO t VALUES (42);")
            .unwrap();
        drop(conn);
        assert_ne!(&read_header(&path).unwrap()[..16], SQLITE_MAGIC);
        let db = Db::open(
            &path,
            &Cipher::Sqlcipher {
                key,
                compatibility: 4,
                page_size: 4096,
            },
        )?;
        let v = db
            .conn()
            .query_row("SELECT v FROM t", [], |r| r.get(0))
            .unwrap();
        Ok(v)
    }

    #[test]
    fn every_key_form_opens_what_it_encrypted() {
        let hex = "a1".repeat(32);
        assert_eq!(
            round_trip(KeyForm::RawHex(Secret::new(hex.clone()))).unwrap(),
            42
        );
        assert_eq!(
            round_trip(KeyForm::PassphraseHex(Secret::new(hex))).unwrap(),
            42
        );
        assert_eq!(
            round_trip(KeyForm::Text(Secret::new("it's 7ch".into()))).unwrap(),
            42
        );
    }

    /// A SQLCipher 4 database keyed with the account key `hex`, as WeChat 4.x writes them.
    fn v4_db(dir: &Path, name: &str, hex: &str) -> (PathBuf, Cipher) {
        let path = dir.join(name);
        let _ = fs::remove_file(&path);
        let key = KeyForm::PassphraseHex(Secret::new(hex.to_string()));
        let conn = Connection::open(&path).unwrap();
        apply_key(&conn, &key, 4, 4096).unwrap();
        conn.execute_batch("CREATE TABLE t(v); INSERT INTO t VALUES (42);")
            .unwrap();
        let cipher = Cipher::Sqlcipher {
            key,
            compatibility: 4,
            page_size: 4096,
        };
        (path, cipher)
    }

    #[test]
    fn a_kept_derived_key_opens_without_deriving_and_a_new_salt_derives_again() {
        use super::super::derived_keys::tests::MemoryKeychain;
        let dir = tempfile::tempdir().unwrap();
        let kc = MemoryKeychain::default();
        let kept = DerivedKeys::new(Box::new(kc.clone()));
        let hex = "5a".repeat(32);
        let (path, cipher) = v4_db(dir.path(), "m.db", &hex);
        let open = |kept: &DerivedKeys| Db::open_keeping(&path, &cipher, Some(kept)).unwrap();
        let first = open(&kept);
        assert_eq!(first.keyed(), Keyed::Derived);
        let v: i64 = first
            .conn()
            .query_row("SELECT v FROM t", [], |r| r.get(0))
            .unwrap();
        assert_eq!(v, 42);
        // Another process, the same keychain.
        let second = DerivedKeys::new(Box::new(kc.clone()));
        assert_eq!(open(&second).keyed(), Keyed::Kept);
        // WeChat re-creates the file: a new salt, derived again, and both keys kept.
        v4_db(dir.path(), "m.db", &hex);
        assert_eq!(open(&second).keyed(), Keyed::Derived);
        assert_eq!(open(&second).keyed(), Keyed::Kept);
        let text = kc.entries.lock().unwrap().values().next().unwrap().clone();
        assert_eq!(text.lines().count(), 2);
    }

    #[test]
    fn a_kept_key_that_no_longer_opens_is_derived_again_and_replaced() {
        use super::super::derived_keys::tests::MemoryKeychain;
        let dir = tempfile::tempdir().unwrap();
        let kc = MemoryKeychain::default();
        let hex = "5a".repeat(32);
        let (path, cipher) = v4_db(dir.path(), "m.db", &hex);
        Db::open_keeping(
            &path,
            &cipher,
            Some(&DerivedKeys::new(Box::new(kc.clone()))),
        )
        .unwrap();
        // Spoil the kept key (same tag).
        for text in kc.entries.lock().unwrap().values_mut() {
            let (tag, _) = text.split_once(' ').unwrap();
            *text = format!("{tag} {}\n", "00".repeat(32));
        }
        let kept = DerivedKeys::new(Box::new(kc.clone()));
        let db = Db::open_keeping(&path, &cipher, Some(&kept)).unwrap();
        assert_eq!(db.keyed(), Keyed::Derived);
        let again = DerivedKeys::new(Box::new(kc.clone()));
        let db = Db::open_keeping(&path, &cipher, Some(&again)).unwrap();
        assert_eq!(db.keyed(), Keyed::Kept);
    }

    #[test]
    fn a_wrong_account_key_is_still_told_and_keeps_nothing() {
        use super::super::derived_keys::tests::MemoryKeychain;
        let dir = tempfile::tempdir().unwrap();
        let kc = MemoryKeychain::default();
        let kept = DerivedKeys::new(Box::new(kc.clone()));
        let (path, cipher) = v4_db(dir.path(), "m.db", &"5a".repeat(32));
        Db::open_keeping(&path, &cipher, Some(&kept)).unwrap();
        let wrong = Cipher::Sqlcipher {
            key: KeyForm::PassphraseHex(Secret::new("5b".repeat(32))),
            compatibility: 4,
            page_size: 4096,
        };
        let e = Db::open_keeping(&path, &wrong, Some(&kept)).err().unwrap();
        assert_eq!(e.code(), ErrorCode::StoreWrongKey);
        assert_eq!(kc.entries.lock().unwrap().len(), 1);
        // Without a keychain, SQLCipher derives as before.
        let none = DerivedKeys::new(Box::new(MemoryKeychain {
            broken: true,
            ..Default::default()
        }));
        let db = Db::open_keeping(&path, &cipher, Some(&none)).unwrap();
        assert_eq!(db.keyed(), Keyed::AsGiven);
    }

    #[test]
    fn empty_and_ragged_files_are_corrupt_not_wrong_key() {
        let dir = tempfile::tempdir().unwrap();
        let cipher = Cipher::Sqlcipher {
            key: KeyForm::PassphraseHex(Secret::new("00".repeat(32))),
            compatibility: 3,
            page_size: 4096,
        };
        let empty = dir.path().join("empty.db");
        fs::write(&empty, b"").unwrap();
        assert_eq!(
            Db::open(&empty, &cipher).err().unwrap().code(),
            ErrorCode::StoreCorrupt
        );
        let ragged = dir.path().join("ragged.db");
        fs::write(&ragged, vec![7u8; 5000]).unwrap();
        assert_eq!(
            Db::open(&ragged, &cipher).err().unwrap().code(),
            ErrorCode::StoreCorrupt
        );
    }
}
