//! Find my key: the key of the user's own WeChat store, found in the user's own running WeChat
//! (or, for Android, derived from the backup's preferences), with the user's consent.
//!
//! Only reading: the process's private memory is read through the OS's debugging interface
//! ([`memory`]), never written; no code is injected and nothing is hooked. Every candidate is
//! checked on page 1 of the store's own database files ([`check`]) before it is reported, and
//! nothing found leaves the computer. Sources: chat-stores.md §7 and §7.1.

pub mod android;
pub mod check;
pub mod memory;
pub mod process;
pub mod scan;

use crate::crypto::secret::Secret;
use crate::error::{Error, ErrorCode, Result};
use crate::store::{discover, StoreKey, Variant};
use check::{Page1, Params, KEY_LEN, SALT_LEN};
use memory::ProcessMemory;
use process::ProcessInfo;
use serde::Serialize;
use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use ts_rs::TS;
use zeroize::Zeroizing;

/// How far a search has got, for a progress bar.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, TS)]
pub struct FindProgress {
    pub bytes_scanned: u64,
    pub bytes_total: u64,
    /// 32-byte candidates checked with the full key derivation so far.
    pub candidates_checked: u32,
    pub candidates_total: u32,
}

/// Limits of one search.
#[derive(Debug, Clone, Copy)]
pub struct Options {
    /// At most this many 32-byte candidates get the full key derivation (0.1-0.3 s each for
    /// 4.x); raw keys are always all checked.
    pub max_slow_candidates: usize,
    /// Bytes read from the process at a time.
    pub chunk: usize,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            max_slow_candidates: 2_000,
            chunk: 8 << 20,
        }
    }
}

/// What was found, without the key itself (safe to print and serialise).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
pub struct KeyFound {
    #[ts(type = "string")]
    pub store: PathBuf,
    pub variant: Variant,
    /// `key` (the account's 32-byte key), `raw_keys` (one derived key per database file, as
    /// WeChat 4.x caches them) or `android_password`.
    pub kind: KeyKind,
    /// The process it was read from; `None` for Android (from the backup's files).
    #[ts(optional = nullable)]
    pub process: Option<ProcessInfo>,
    /// For Android: the preferences file the uin came from.
    #[ts(optional = nullable, type = "string | null")]
    pub uin_file: Option<PathBuf>,
    /// Encrypted database files of the store that the key opens, and how many there are.
    pub databases_opened: u32,
    pub databases_total: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum KeyKind {
    Key,
    RawKeys,
    AndroidPassword,
}

/// The result: a report and the key (secret).
pub struct Found {
    pub report: KeyFound,
    pub key: StoreKey,
}

/// One encrypted database file of the store, by its page 1.
pub struct DbFile {
    pub path: PathBuf,
    pub page: Page1,
}

/// Every encrypted database file of a desktop WeChat store (plain SQLite files, `-wal`s and
/// files shorter than a page are left out).
pub fn store_files(variant: Variant, root: &Path) -> Vec<DbFile> {
    let Some(params) = passphrase_params(variant) else {
        return Vec::new();
    };
    let base = match variant {
        Variant::Wechat4 => root.join("db_storage"),
        Variant::WechatWin3 => root.join("Msg"),
        _ => root.to_path_buf(),
    };
    let mut paths = Vec::new();
    collect_db_files(&base, 6, &mut paths);
    paths.sort();
    paths
        .into_iter()
        .filter_map(|path| {
            let page = Page1::read(&path, params.page_size).ok().flatten()?;
            Some(DbFile { path, page })
        })
        .collect()
}

fn collect_db_files(dir: &Path, depth: u32, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let p = e.path();
        let Ok(ft) = e.file_type() else { continue };
        if ft.is_dir() && depth > 0 {
            collect_db_files(&p, depth - 1, out);
        } else if ft.is_file() && p.extension().is_some_and(|x| x == "db") {
            out.push(p);
        }
    }
}

/// The parameters a 32-byte key of `variant` is checked with.
fn passphrase_params(variant: Variant) -> Option<Params> {
    match variant {
        Variant::Wechat4 => Some(check::WECHAT4),
        Variant::WechatWin3 => Some(check::WIN3),
        Variant::WechatMac3 => Some(check::MAC3),
        Variant::Android | Variant::IMessage => None,
    }
}

/// What a memory search found.
pub enum MemoryKey {
    /// The account's 32-byte key (opens every file).
    Key(Zeroizing<[u8; KEY_LEN]>),
    /// Derived keys with their salts, one per database file they open.
    RawKeys(Vec<(Zeroizing<[u8; KEY_LEN]>, [u8; SALT_LEN])>),
}

/// Searches `mem` for a key of the store whose encrypted files are `files`. `None` when no
/// candidate opens any of them.
pub fn find_in_memory(
    variant: Variant,
    files: &[DbFile],
    mem: &dyn ProcessMemory,
    opts: &Options,
    progress: &(dyn Fn(FindProgress) + Sync),
) -> Option<MemoryKey> {
    let params = passphrase_params(variant)?;
    if files.is_empty() {
        return None;
    }
    let total: u64 = mem.regions().iter().map(|r| r.len).sum();
    let mut state = FindProgress {
        bytes_scanned: 0,
        bytes_total: total,
        candidates_checked: 0,
        candidates_total: 0,
    };
    let mut raw_hits: Vec<scan::RawKeyHit> = Vec::new();
    let mut raw_seen: HashSet<[u8; KEY_LEN + SALT_LEN]> = HashSet::new();
    let mut pointers: HashSet<u64> = HashSet::new();
    let overlap = scan::RAW_KEY_TEXT_LEN.div_ceil(8) * 8;
    let chunk = opts.chunk.max(overlap * 2) / 8 * 8;
    let mut buf = vec![0u8; chunk];
    for region in mem.regions() {
        let mut addr = region.start;
        let end = region.start + region.len;
        while addr < end {
            let want = ((end - addr) as usize).min(chunk);
            let got = match mem.read(addr, &mut buf[..want]) {
                Ok(n) if n > 0 => n,
                // A region that vanished or cannot be read: skip the rest of it.
                _ => break,
            };
            let data = &buf[..got];
            scan::raw_key_strings(data, |hit| {
                let mut id = [0u8; KEY_LEN + SALT_LEN];
                id[..KEY_LEN].copy_from_slice(hit.key.as_ref());
                id[KEY_LEN..].copy_from_slice(&hit.salt);
                if raw_seen.insert(id) {
                    raw_hits.push(hit);
                }
                zeroize::Zeroize::zeroize(&mut id);
            });
            if pointers.len() < 1_000_000 {
                scan::string_pointers(data, |p| {
                    pointers.insert(p);
                });
            }
            let advance = if got < want || addr + got as u64 >= end {
                got as u64
            } else {
                (got - overlap) as u64
            };
            state.bytes_scanned += advance;
            progress(state);
            addr += advance;
        }
    }
    buf.iter_mut().for_each(|b| *b = 0);
    let mut raw_seen: Vec<_> = raw_seen.into_iter().collect();
    raw_seen.iter_mut().for_each(zeroize::Zeroize::zeroize);

    // WCDB's raw keys: matched to files by salt, checked cheaply.
    let mut raw_keys = Vec::new();
    let mut unmatched: Vec<&DbFile> = Vec::new();
    if variant == Variant::Wechat4 {
        for f in files {
            let hit = raw_hits
                .iter()
                .find(|h| h.salt == *f.page.salt() && f.page.opens(&check::WECHAT4_RAW, &h.key));
            match hit {
                Some(h) => raw_keys.push((h.key.clone(), h.salt)),
                None => unmatched.push(f),
            }
        }
        if unmatched.is_empty() {
            return Some(MemoryKey::RawKeys(raw_keys));
        }
    } else {
        unmatched = files.iter().collect();
    }

    // 32-byte strings: read what each pointer points at, prefilter, then the full check on one
    // file that no raw key opened.
    let regions = mem.regions();
    let mut candidates: Vec<Zeroizing<[u8; KEY_LEN]>> = Vec::new();
    let mut seen: HashSet<[u8; KEY_LEN]> = HashSet::new();
    let mut pointers: Vec<u64> = pointers.into_iter().collect();
    pointers.sort_unstable();
    for p in pointers {
        if !regions.iter().any(|r| r.contains(p, KEY_LEN as u64)) {
            continue;
        }
        let mut c = Zeroizing::new([0u8; KEY_LEN]);
        if !matches!(mem.read(p, c.as_mut()), Ok(KEY_LEN)) || !scan::looks_like_key(&c) {
            continue;
        }
        if seen.insert(*c) {
            candidates.push(c);
        }
        if candidates.len() >= opts.max_slow_candidates {
            break;
        }
    }
    let mut seen: Vec<_> = seen.into_iter().collect();
    seen.iter_mut().for_each(zeroize::Zeroize::zeroize);
    state.candidates_total = candidates.len() as u32;
    progress(state);
    let probe = unmatched[0];
    let key = check_parallel(
        &candidates,
        |c| probe.page.opens(&params, c),
        |n| {
            progress(FindProgress {
                candidates_checked: n as u32,
                ..state
            })
        },
    );
    match key {
        Some(k) => Some(MemoryKey::Key(k)),
        None if !raw_keys.is_empty() => Some(MemoryKey::RawKeys(raw_keys)),
        None => None,
    }
}

/// The first candidate `opens` accepts, checked on every core.
fn check_parallel(
    candidates: &[Zeroizing<[u8; KEY_LEN]>],
    opens: impl Fn(&[u8; KEY_LEN]) -> bool + Sync,
    progress: impl Fn(usize) + Sync,
) -> Option<Zeroizing<[u8; KEY_LEN]>> {
    let next = AtomicUsize::new(0);
    let done = AtomicUsize::new(0);
    let stop = AtomicBool::new(false);
    let found = std::sync::Mutex::new(None);
    let threads = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
        .min(candidates.len().max(1));
    std::thread::scope(|s| {
        for _ in 0..threads {
            s.spawn(|| {
                while !stop.load(Ordering::Relaxed) {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(c) = candidates.get(i) else { break };
                    if opens(c) {
                        stop.store(true, Ordering::Relaxed);
                        *found.lock().unwrap_or_else(|p| p.into_inner()) = Some(c.clone());
                    }
                    progress(done.fetch_add(1, Ordering::Relaxed) + 1);
                }
            });
        }
    });
    found.into_inner().unwrap_or_else(|p| p.into_inner())
}

/// Finds the key of the store at `store`: from WeChat's memory (process `pid`, else every
/// running WeChat) for the desktop variants; from the backup's preferences for Android
/// (`imeis` are tried besides WeChat's placeholder).
pub fn find_key(
    store: &Path,
    pid: Option<u32>,
    imeis: &[String],
    opts: &Options,
    progress: &(dyn Fn(FindProgress) + Sync),
) -> Result<Found> {
    let (variant, root) = discover::identify(store)?;
    match variant {
        Variant::IMessage => {
            return Err(Error::invalid_input(format!(
                "{} is not encrypted: it needs no key",
                root.display()
            ))
            .with_hint("Back it up without a key."))
        }
        Variant::Android => {
            let k = android::find(&root, imeis)?;
            return Ok(Found {
                report: KeyFound {
                    store: root,
                    variant,
                    kind: KeyKind::AndroidPassword,
                    process: None,
                    uin_file: Some(k.uin_file),
                    databases_opened: 1,
                    databases_total: 1,
                },
                key: StoreKey::AndroidPassword(k.password),
            });
        }
        _ => {}
    }
    let files = store_files(variant, &root);
    if files.is_empty() {
        return Err(Error::new(
            ErrorCode::StoreNotFound,
            format!("no encrypted database files in {}", root.display()),
        )
        .with_hint("Pick the WeChat account folder that holds the databases."));
    }
    let processes = match pid {
        Some(pid) => match process::name_of(pid) {
            Some(name) => vec![ProcessInfo { pid, name }],
            None => {
                return Err(Error::new(
                    ErrorCode::WechatNotRunning,
                    format!("there is no process {pid}"),
                )
                .with_hint("Check the process id, or leave it out to look for WeChat by name."))
            }
        },
        None => process::find_by_name(&process::WECHAT_NAMES),
    };
    if processes.is_empty() {
        return Err(
            Error::new(ErrorCode::WechatNotRunning, "WeChat is not running")
                .with_hint("Start WeChat and log in to this account, then try again."),
        );
    }
    let mut denied = None;
    let mut logged_out = 0;
    for p in &processes {
        let mem = match memory::open(p.pid) {
            Ok(m) => m,
            Err(e) if e.code() == ErrorCode::KeyAccessDenied => {
                denied = Some(e);
                continue;
            }
            Err(e) => return Err(e),
        };
        if let Some(k) = find_in_memory(variant, &files, mem.as_ref(), opts, progress) {
            let (key, kind, opened) = into_store_key(variant, k, &files);
            return Ok(Found {
                report: KeyFound {
                    store: root,
                    variant,
                    kind,
                    process: Some(p.clone()),
                    uin_file: None,
                    databases_opened: opened,
                    databases_total: files.len() as u32,
                },
                key,
            });
        }
        if process::has_open_databases(p.pid) == Some(false) {
            logged_out += 1;
        }
    }
    if let Some(e) = denied {
        return Err(e);
    }
    if logged_out == processes.len() {
        return Err(Error::new(
            ErrorCode::WechatNotLoggedIn,
            "WeChat is running but has no chat database open: it is not logged in",
        )
        .with_hint("Log in to WeChat with this account, then try again."));
    }
    Err(Error::new(
        ErrorCode::KeyNotFound,
        format!(
            "no key in the memory of {} opens {}",
            describe(&processes),
            root.display()
        ),
    )
    .with_hint(
        "Check that WeChat is logged in to this store's account. Newer WeChat builds clear the \
         key soon after login: quit WeChat, start it and log in again, then try right away. \
         Or type the key by hand.",
    ))
}

fn describe(processes: &[ProcessInfo]) -> String {
    processes
        .iter()
        .map(|p| format!("{} (pid {})", p.name, p.pid))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The key in the form stores and key files take, what kind it is, and how many files it opens.
fn into_store_key(
    variant: Variant,
    found: MemoryKey,
    files: &[DbFile],
) -> (StoreKey, KeyKind, u32) {
    match found {
        MemoryKey::Key(k) => {
            let params = passphrase_params(variant).expect("desktop variant");
            let opened = files.iter().filter(|f| f.page.opens(&params, &k)).count() as u32;
            (
                StoreKey::Hex(Secret::new(hex::encode(k.as_ref()))),
                KeyKind::Key,
                opened,
            )
        }
        MemoryKey::RawKeys(keys) => {
            let opened = keys.len() as u32;
            let texts = keys
                .iter()
                .map(|(k, salt)| {
                    let mut s = hex::encode(k.as_ref());
                    s.push_str(&hex::encode(salt));
                    Secret::new(s)
                })
                .collect();
            (StoreKey::RawKeys(texts), KeyKind::RawKeys, opened)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v4_root() -> PathBuf {
        PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/stores/wechat4/wxid_chenxm2015_8f3a")
    }

    fn raw_keys() -> Vec<String> {
        let text = std::fs::read_to_string(
            PathBuf::from(env!("CARGO_MANIFEST_DIR"))
                .join("tests/fixtures/stores/wechat4/expected.json"),
        )
        .unwrap();
        let v: serde_json::Value = serde_json::from_str(&text).unwrap();
        v["key"]["raw_keys"]
            .as_object()
            .unwrap()
            .values()
            .map(|s| s.as_str().unwrap().to_string())
            .collect()
    }

    #[test]
    fn raw_key_strings_in_an_image_open_every_v4_file() {
        let files = store_files(Variant::Wechat4, &v4_root());
        // Every database file of the fixture (its expected.json records one raw key each).
        assert_eq!(files.len(), raw_keys().len());
        let mut heap = vec![0x5au8; 300_000];
        for (i, k) in raw_keys().iter().enumerate() {
            // Spread over two regions, one across a chunk boundary.
            let at = 1000 + i * 50_000;
            heap[at..at + k.len()].copy_from_slice(k.as_bytes());
        }
        let decoy = format!("x'{}'", "7".repeat(96));
        heap[299_000..299_000 + decoy.len()].copy_from_slice(decoy.as_bytes());
        let (a, b) = heap.split_at(150_003);
        let mem = memory::Image::new(vec![(0x10000, a.to_vec()), (0x900000, b.to_vec())]);
        let opts = Options {
            chunk: 4096,
            ..Options::default()
        };
        let found = find_in_memory(Variant::Wechat4, &files, &mem, &opts, &|_| {}).unwrap();
        let MemoryKey::RawKeys(keys) = found else {
            panic!("expected raw keys")
        };
        assert_eq!(keys.len(), files.len());
    }

    #[test]
    fn decoys_alone_find_nothing() {
        let files = store_files(Variant::Wechat4, &v4_root());
        let mut heap = Vec::new();
        for i in 0..50u8 {
            heap.extend_from_slice(format!("x'{}'", hex::encode([i; 48])).as_bytes());
            heap.extend_from_slice(&[i; 13]);
        }
        let mem = memory::Image::new(vec![(0x10000, heap)]);
        assert!(
            find_in_memory(Variant::Wechat4, &files, &mem, &Options::default(), &|_| {}).is_none()
        );
    }
}
