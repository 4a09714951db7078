//! The encrypted repository on a target (docs/FORMAT.md). This module holds the handle: keys,
//! object I/O, the key table, the index and snapshots. Jobs live beside it: `backup`,
//! `restore`, `maintenance` (verify, forget, prune), `lock`.

pub mod access;
pub mod backup;
mod blobs;
pub mod cache;
pub mod forgotten;
pub mod format;
pub mod leftovers;
pub mod lock;
pub mod maintenance;
pub mod marks;
pub mod pack;
pub mod restore;
pub mod stats;

use crate::crypto::envelope::{self, Padding};
use crate::crypto::key_object;
use crate::crypto::recovery::{KdfParams, RecoveryCode};
use crate::crypto::{KeyId, MasterKey, SubKey};
use crate::error::{Error, ErrorCode, Result};
use crate::target::map_opendal_error;
use format::{
    kind, BlobId, Config, Ctok, IndexBlob, IndexBody, IndexPack, KeyTable, Name, ObjectKind,
    Snapshot,
};
use opendal::Operator;
use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use zeroize::Zeroizing;

/// The decoder output cap for metadata objects (§4).
const MAX_META: usize = envelope::MAX_OUT_OTHER;

/// The decoder output cap for a blob of this kind (FORMAT.md §4): 4 MiB for attachment chunks,
/// 64 MiB for trees and segments.
pub(crate) fn blob_max_out(kind: ObjectKind) -> usize {
    if kind == kind::CHUNK {
        envelope::MAX_OUT_CHUNK
    } else {
        envelope::MAX_OUT_OTHER
    }
}

/// No object ChatVault writes is larger than this (packs: 16 MiB target plus one 4 MiB chunk;
/// metadata: 64 MiB). A larger one is damage or hostility, never read into memory.
pub(crate) const MAX_OBJECT: u64 = 96 << 20;

/// An object that could not be used, and why: skipped and reported, not fatal (§13).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Damage {
    pub object: String,
    pub code: ErrorCode,
    pub message: String,
}

impl std::fmt::Display for Damage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}: {}: {}",
            self.object,
            self.code.as_str(),
            self.message
        )
    }
}

/// Errors that say "this object is bad", as opposed to "the storage cannot be reached".
pub(crate) fn is_damage(code: ErrorCode) -> bool {
    matches!(
        code,
        ErrorCode::RepoCorrupt
            | ErrorCode::RepoTampered
            | ErrorCode::RepoTruncated
            | ErrorCode::RepoWrongKey
            | ErrorCode::RepoVersionUnsupported
    )
}

/// Counts of what crossed the wire, for tests, progress and run statistics.
#[derive(Debug, Default)]
pub struct IoStats {
    pub puts: AtomicU64,
    pub put_bytes: AtomicU64,
    pub gets: AtomicU64,
    pub get_bytes: AtomicU64,
    pub deletes: AtomicU64,
}

impl IoStats {
    fn count_get(&self, bytes: usize) {
        self.gets.fetch_add(1, Ordering::Relaxed);
        self.get_bytes.fetch_add(bytes as u64, Ordering::Relaxed);
    }

    pub fn snapshot(&self) -> (u64, u64, u64, u64) {
        (
            self.puts.load(Ordering::Relaxed),
            self.put_bytes.load(Ordering::Relaxed),
            self.gets.load(Ordering::Relaxed),
            self.get_bytes.load(Ordering::Relaxed),
        )
    }
}

/// Where a blob lives, as the index keeps it: its pack by number ([`Index::pack_names`]), so
/// that an entry is 20 bytes, not 48 (a big store's index has a million of them).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BlobLoc {
    pub pack: u32,
    pub kind: ObjectKind,
    pub offset: u32,
    pub length: u32,
    pub raw_len: u32,
}

/// Where a blob lives, its pack named: what reading it needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BlobAt {
    pub pack: Name,
    pub kind: ObjectKind,
    pub offset: u32,
    pub length: u32,
}

impl BlobAt {
    /// Where `blob` of the pack `pack` lives.
    pub fn of(pack: Name, blob: &IndexBlob) -> BlobAt {
        BlobAt {
            pack,
            kind: blob.kind,
            offset: blob.offset,
            length: blob.length,
        }
    }
}

/// A pack the index lists: its class and length, and where its blobs are in
/// [`Index::blobs`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PackInfo {
    pub class: format::PackClass,
    pub len: u64,
    /// Its entries in [`Index::blobs`], in the order the index object listed them.
    start: u32,
    end: u32,
}

/// The union of all live index objects.
#[derive(Debug, Default, Clone)]
pub struct Index {
    /// Live index object names.
    pub objects: Vec<Name>,
    pub packs: BTreeMap<Name, PackInfo>,
    /// Every pack's blobs (each pack's list is kept once, here, not beside a lookup map).
    pub blobs: blobs::BlobTable,
    /// The packs [`BlobLoc::pack`] numbers, and their numbers.
    pack_names: Vec<Name>,
    pack_numbers: HashMap<Name, u32>,
}

impl Index {
    /// Adds a pack and its blobs; a pack listed already (by two index objects, after a
    /// compaction that stopped half way) is the same pack and is skipped.
    fn add_pack(&mut self, p: IndexPack) {
        if self.packs.contains_key(&p.name) {
            return;
        }
        let number = self.pack_number(p.name);
        let start = self.blobs.entries() as u32;
        for b in &p.blobs {
            self.blobs.push(
                b.id,
                BlobLoc {
                    pack: number,
                    kind: b.kind,
                    offset: b.offset,
                    length: b.length,
                    raw_len: b.raw_len,
                },
            );
        }
        let end = self.blobs.entries() as u32;
        self.packs.insert(
            p.name,
            PackInfo {
                class: p.class,
                len: p.len,
                start,
                end,
            },
        );
    }

    /// The number of pack `name`, given on first sight.
    fn pack_number(&mut self, name: Name) -> u32 {
        *self.pack_numbers.entry(name).or_insert_with(|| {
            self.pack_names.push(name);
            (self.pack_names.len() - 1) as u32
        })
    }

    /// Where blob `id` lives, if the index has it.
    pub fn at(&self, id: &BlobId) -> Option<BlobAt> {
        self.blobs.get(id).map(|loc| BlobAt {
            pack: self.pack_names[loc.pack as usize],
            kind: loc.kind,
            offset: loc.offset,
            length: loc.length,
        })
    }

    /// Pack `name` as an index object lists it, blobs included.
    pub fn pack(&self, name: &Name) -> Option<IndexPack> {
        self.packs.get(name).map(|p| IndexPack {
            name: *name,
            class: p.class,
            len: p.len,
            blobs: self.blobs.range(p.start, p.end).collect(),
        })
    }

    /// The ids of pack `name`'s blobs, in its order.
    pub fn pack_ids(&self, name: &Name) -> impl Iterator<Item = BlobId> + '_ {
        let (start, end) = self.packs.get(name).map_or((0, 0), |p| (p.start, p.end));
        self.blobs.range(start, end).map(|b| b.id)
    }

    /// Every pack as an index object lists it, one at a time, in name order.
    pub fn pack_lists(&self) -> impl Iterator<Item = IndexPack> + '_ {
        self.packs.keys().filter_map(|name| self.pack(name))
    }

    /// Removes the packs `gone`: their blobs are found again only where another pack has them.
    fn drop_packs(&mut self, gone: &std::collections::HashSet<Name>) {
        let old = std::mem::take(&mut self.blobs);
        self.blobs.reserve(old.len());
        let packs = std::mem::take(&mut self.packs);
        for (name, mut p) in packs {
            if gone.contains(&name) {
                continue;
            }
            let start = self.blobs.entries() as u32;
            for (id, loc) in old.locs(p.start, p.end) {
                self.blobs.push(id, loc);
            }
            (p.start, p.end) = (start, self.blobs.entries() as u32);
            self.packs.insert(name, p);
        }
    }
}

/// How blobs are read from the target (FORMAT.md §7.1, §13).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ReadMode {
    /// Trees and segments come from the local cache of class-S packs; a pack missing from it
    /// is downloaded whole, and a restore downloads every missing one before it reads any, so
    /// which of them it needed stays hidden. Attachment chunks are read by whole class-A packs.
    /// Without a local cache (a handle with no [`Repo::with_local_dir`]) it reads like
    /// `Ranged`.
    #[default]
    Private,
    /// Blobs not in the cache are read with one ranged GET each, and reads cache nothing:
    /// fewer bytes, but the ranges show which blobs are read together.
    Ranged,
}

/// An open repository.
pub struct Repo {
    op: Operator,
    key_id: KeyId,
    k_meta: SubKey,
    k_keytable: SubKey,
    k_ctok: SubKey,
    /// Seeds the content-defined chunker, so chunk boundaries reveal nothing (§6.3).
    pub cdc_seed: u64,
    pub config: Config,
    pub stats: Arc<IoStats>,
    /// This machine's folder for the repository (`<cache>/repos/<repo id>`), where lock holders
    /// record their process id so a crashed run's lock is recognised at once.
    pub local_dir: Option<std::path::PathBuf>,
    /// Lease constants (tests shorten them).
    pub lease_times: lock::LeaseTimes,
    /// The lease this handle's current run holds; PUT and DELETE check it first.
    pub(crate) lease: std::sync::Mutex<Option<Arc<lock::Lease>>>,
    /// Objects skipped as damaged since the handle was opened.
    damage: std::sync::Mutex<Vec<Damage>>,
    /// High-water marks against rollback (`<data>/repos/<repo id>/marks.json`), when known.
    pub(crate) marks: Option<std::path::PathBuf>,
    /// This computer's copy of metadata and class-S packs (`<local_dir>/objects`), if any.
    cache: Option<cache::Cache>,
    /// How blobs are read; see [`ReadMode`].
    pub reads: ReadMode,
    /// Metadata objects are read from the target, not the cache (verify judges the target;
    /// prune deletes and must see what is really there). Copies that open still refresh it.
    meta_from_target: std::sync::atomic::AtomicBool,
    /// The last whole class-A pack read (attachment chunks are read by whole packs, usually
    /// several from one pack in a row).
    last_pack: std::sync::Mutex<Option<(Name, Arc<Vec<u8>>)>>,
}

/// An owned handle for one PUT ([`Repo::putter`]).
pub(crate) struct Putter {
    op: Operator,
    stats: Arc<IoStats>,
    lease: Option<Arc<lock::Lease>>,
    cache: Option<cache::Cache>,
}

impl Putter {
    /// Writes a whole object (the lease checked first); `keep` also keeps a copy in the local
    /// cache when the cache takes objects of this kind.
    pub(crate) async fn put(
        &self,
        path: &str,
        bytes: impl Into<opendal::Buffer>,
        keep: bool,
    ) -> Result<()> {
        if let Some(lease) = &self.lease {
            lease.check()?;
        }
        let buf: opendal::Buffer = bytes.into();
        let n = buf.len() as u64;
        write_whole(&self.op, path, buf.clone())
            .await
            .map_err(|e| meta_err(e, &format!("writing {path}")))?;
        self.stats.puts.fetch_add(1, Ordering::Relaxed);
        self.stats.put_bytes.fetch_add(n, Ordering::Relaxed);
        if let Some(c) = self.cache.as_ref().filter(|c| keep && c.accepts(path)) {
            c.put(path, &buf.to_vec());
        }
        Ok(())
    }
}

pub(crate) fn random_name() -> Name {
    Name(crate::crypto::keys::random_bytes::<32>())
}

pub fn now_ms() -> i64 {
    jiff::Timestamp::now().as_millisecond()
}

fn meta_err(e: opendal::Error, what: &str) -> Error {
    map_opendal_error(e).context(what)
}

impl Repo {
    /// Creates a repository: `keys/<name>` first, `config` last (FORMAT.md §11.1).
    pub async fn init(
        op: Operator,
        mk: &MasterKey,
        code: &RecoveryCode,
        params: KdfParams,
    ) -> Result<Repo> {
        if op
            .exists("config")
            .await
            .map_err(|e| meta_err(e, "checking for an existing repository"))?
        {
            return Err(Error::new(
                ErrorCode::RepoExists,
                "the target already holds a ChatVault repository",
            )
            .with_hint("Unlock it with its recovery code, or choose an empty folder or prefix."));
        }
        let repo_id = crate::crypto::keys::random_bytes::<16>();
        let created = now_ms();
        let key_name = hex::encode(random_name());
        let key_obj = key_object::wrap_master_key(
            code,
            params,
            &format!("keys/{key_name}"),
            mk,
            repo_id,
            created,
        );
        let config = Config {
            format: format::FORMAT,
            repo_id,
            created,
            max_body_version: format::BODY_VERSION,
            pack_target: format::PackTarget {
                class_s: 4 << 20,
                class_a: 16 << 20,
            },
            cdc: format::CdcParams {
                min: 256 << 10,
                avg: 1 << 20,
                max: 4 << 20,
                level: 1,
            },
            segment_max_messages: 1024,
        };
        let repo = Repo::with_keys(op, mk, config);
        repo.put(&format!("keys/{key_name}"), key_obj).await?;
        let body = format::encode(&repo.config);
        let sealed = repo.seal_meta(kind::CONFIG, "config", &body, Padding::Pow2);
        repo.put("config", sealed).await?;
        // Read back: catches a concurrent init that won the race.
        let check = Repo::open(repo.op.clone(), mk).await?;
        if check.config.repo_id != repo_id {
            return Err(Error::new(
                ErrorCode::RepoExists,
                "another ChatVault created a repository here at the same time",
            ));
        }
        Ok(repo)
    }

    fn with_keys(op: Operator, mk: &MasterKey, config: Config) -> Repo {
        Repo {
            op,
            key_id: mk.key_id(),
            k_meta: mk.subkey("chatvault/v1/meta"),
            k_keytable: mk.subkey("chatvault/v1/keytable"),
            k_ctok: mk.subkey("chatvault/v1/ctok"),
            cdc_seed: u64::from_le_bytes(
                mk.subkey("chatvault/v1/cdc-seed").expose()[..8]
                    .try_into()
                    .expect("8 bytes"),
            ),
            config,
            stats: Arc::new(IoStats::default()),
            local_dir: None,
            lease_times: lock::LeaseTimes::default(),
            lease: std::sync::Mutex::new(None),
            damage: std::sync::Mutex::new(Vec::new()),
            marks: None,
            cache: None,
            reads: ReadMode::default(),
            meta_from_target: std::sync::atomic::AtomicBool::new(false),
            last_pack: std::sync::Mutex::new(None),
        }
    }

    /// Opens the repository with the master key.
    pub async fn open(op: Operator, mk: &MasterKey) -> Result<Repo> {
        let probe = Repo::with_keys(
            op,
            mk,
            Config {
                format: 0,
                repo_id: [0; 16],
                created: 0,
                max_body_version: 0,
                pack_target: format::PackTarget {
                    class_s: 0,
                    class_a: 0,
                },
                cdc: format::CdcParams {
                    min: 0,
                    avg: 0,
                    max: 0,
                    level: 0,
                },
                segment_max_messages: 0,
            },
        );
        let raw = match probe.op.read("config").await {
            Ok(b) => b.to_vec(),
            Err(e) if e.kind() == opendal::ErrorKind::NotFound => {
                return Err(Error::new(
                    ErrorCode::RepoNotFound,
                    "there is no ChatVault repository at the target",
                )
                .with_hint("Check the target URL, or create a repository with `chatvault init`."))
            }
            Err(e) => return Err(meta_err(e, "reading config")),
        };
        let body = probe.open_meta(kind::CONFIG, "config", &raw)?;
        let config: Config = format::decode(&body, "config")?;
        if config.format != format::FORMAT {
            return Err(Error::new(
                ErrorCode::RepoVersionUnsupported,
                format!("repository format {}", config.format),
            )
            .with_hint("Update ChatVault and try again."));
        }
        Ok(Repo { config, ..probe })
    }

    /// Keeps rollback high-water marks under `data_dir` (FORMAT.md §13).
    pub(crate) fn with_marks_dir(mut self, data_dir: &std::path::Path) -> Repo {
        self.marks = Some(
            data_dir
                .join("repos")
                .join(hex::encode(self.config.repo_id))
                .join("marks.json"),
        );
        self
    }

    /// Objects skipped as damaged so far (snapshots, index objects, key tables).
    pub fn damage(&self) -> Vec<Damage> {
        self.damage
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    fn note_damage(&self, object: &str, e: &Error) {
        let mut d = self.damage.lock().unwrap_or_else(|p| p.into_inner());
        if !d.iter().any(|x| x.object == object) {
            d.push(Damage {
                object: object.to_string(),
                code: e.code(),
                message: e.message().to_string(),
            });
        }
    }

    /// Fails unless nothing was found damaged: operations that delete (prune) must see the
    /// whole repository, or they could delete what only a damaged object still references.
    pub(crate) fn require_undamaged(&self, what: &str) -> Result<()> {
        let d = self.damage();
        if d.is_empty() {
            return Ok(());
        }
        let names: Vec<String> = d.iter().map(|x| x.to_string()).collect();
        Err(Error::new(
            ErrorCode::RepoCorrupt,
            format!("{what} stopped before deleting anything: {} damaged object(s): {}", d.len(), names.join("; ")),
        )
        .with_hint("Run `chatvault verify --read-data` to see what each one affects. Backups and restores of the rest keep working."))
    }

    /// `Err(RepoLockLost)` when this handle's run holds a lease that may have expired.
    pub(crate) fn check_lease(&self) -> Result<()> {
        match self
            .lease
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .as_ref()
        {
            Some(l) => l.check(),
            None => Ok(()),
        }
    }

    /// Finds the master key by trying the recovery code on every `keys/` object.
    pub async fn unlock(op: &Operator, code: &RecoveryCode) -> Result<(MasterKey, [u8; 16])> {
        let entries = op
            .list("keys/")
            .await
            .map_err(|e| meta_err(e, "listing keys/"))?;
        let mut last = Error::new(ErrorCode::RepoNotFound, "the target holds no key objects")
            .with_hint("Check the target URL: this does not look like a ChatVault repository.");
        for entry in entries
            .iter()
            .filter(|e| e.path().len() > "keys/".len() && !e.path().ends_with('/'))
        {
            let bytes = op
                .read(entry.path())
                .await
                .map_err(|e| meta_err(e, entry.path()))?
                .to_vec();
            match key_object::unwrap_master_key(code, entry.path(), &bytes) {
                Ok(found) => return Ok(found),
                Err(e) => last = e,
            }
        }
        Err(last)
    }

    /// Sets where this machine keeps its notes about the repository (see [`Repo::local_dir`]).
    /// Also keeps the local object cache there (`objects/`, see [`cache`]).
    pub fn with_local_dir(mut self, cache_dir: &std::path::Path) -> Repo {
        let dir = cache_dir
            .join("repos")
            .join(hex::encode(self.config.repo_id));
        self.cache = Some(cache::Cache::new(dir.join("objects")));
        self.local_dir = Some(dir);
        self
    }

    /// The local object cache, when this handle has one.
    pub fn cache(&self) -> Option<&cache::Cache> {
        self.cache.as_ref()
    }

    /// From now on, this handle reads metadata objects from the target (see
    /// `meta_from_target`).
    pub(crate) fn read_meta_from_target(&self) {
        self.meta_from_target.store(true, Ordering::Relaxed);
    }

    /// True when blobs are read through the cache by whole packs ([`ReadMode::Private`]).
    pub(crate) fn private_reads(&self) -> bool {
        self.cache.is_some() && self.reads == ReadMode::Private
    }

    pub fn repo_id(&self) -> [u8; 16] {
        self.config.repo_id
    }

    pub fn key_id(&self) -> KeyId {
        self.key_id
    }

    pub fn operator(&self) -> &Operator {
        &self.op
    }

    // ---- object I/O ------------------------------------------------------------------------

    /// Writes an object. Metadata objects (key tables, index objects, snapshots, forgotten
    /// lists) are also kept in the local cache, as written.
    pub async fn put(&self, path: &str, bytes: Vec<u8>) -> Result<()> {
        let keep = !path.starts_with("data/");
        self.put_inner(path, bytes, keep).await
    }

    async fn put_inner(&self, path: &str, bytes: Vec<u8>, keep: bool) -> Result<()> {
        self.putter().put(path, bytes, keep).await
    }

    /// What a PUT needs, owned: an upload that runs on its own task while this handle goes on
    /// (a full pack lands while the next one fills). It holds the run's lease as it is now.
    pub(crate) fn putter(&self) -> Putter {
        Putter {
            op: self.op.clone(),
            stats: self.stats.clone(),
            lease: self.lease.lock().unwrap_or_else(|p| p.into_inner()).clone(),
            cache: self.cache.clone(),
        }
    }

    /// Reads a whole object; one larger than [`MAX_OBJECT`] is refused before it is read.
    pub async fn get(&self, path: &str) -> Result<Vec<u8>> {
        let meta = self.op.stat(path).await.map_err(|e| missing_or(e, path))?;
        if meta.content_length() > MAX_OBJECT {
            return Err(Error::new(
                ErrorCode::RepoCorrupt,
                format!(
                    "{path} is {} bytes, larger than any object ChatVault writes",
                    meta.content_length()
                ),
            ));
        }
        let bytes = self
            .op
            .read(path)
            .await
            .map_err(|e| missing_or(e, path))?
            .to_vec();
        self.stats.count_get(bytes.len());
        Ok(bytes)
    }

    pub(crate) async fn get_range(&self, path: &str, offset: u64, len: u64) -> Result<Vec<u8>> {
        if len > MAX_OBJECT {
            return Err(Error::new(
                ErrorCode::RepoCorrupt,
                format!(
                    "{path}: the index lists a {len}-byte blob, larger than any ChatVault writes"
                ),
            ));
        }
        let bytes = self
            .op
            .read_with(path)
            .range(offset..offset + len)
            .await
            .map_err(|e| missing_or(e, path))?
            .to_vec();
        self.stats.count_get(bytes.len());
        if (bytes.len() as u64) < len {
            return Err(Error::new(
                ErrorCode::RepoTruncated,
                format!("{path}: short read ({} of {len} bytes)", bytes.len()),
            ));
        }
        Ok(bytes)
    }

    pub async fn delete(&self, path: &str) -> Result<()> {
        self.check_lease()?;
        self.op
            .delete(path)
            .await
            .map_err(|e| meta_err(e, &format!("deleting {path}")))?;
        self.stats.deletes.fetch_add(1, Ordering::Relaxed);
        if let Some(c) = &self.cache {
            c.remove(path);
        }
        Ok(())
    }

    /// Object names (64 hex digits) directly or one level below `dir` (for `data/<nn>/`).
    pub async fn list_names(&self, dir: &str) -> Result<Vec<(String, Name)>> {
        let entries = match self.op.list_with(dir).recursive(true).await {
            Ok(e) => e,
            Err(e) if e.kind() == opendal::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(meta_err(e, &format!("listing {dir}"))),
        };
        let mut out = Vec::new();
        for e in entries {
            let path = e.path();
            if path.ends_with('/') {
                continue;
            }
            let last = path.rsplit('/').next().unwrap_or("");
            if let Some(name) = parse_name(last) {
                out.push((path.to_string(), name));
            }
        }
        out.sort();
        if let Some(c) = self
            .cache
            .as_ref()
            .filter(|_| cache::CACHED_DIRS.contains(&dir))
        {
            // Names are random and objects never change: what the target no longer lists
            // is gone (deleted, superseded, rolled back), and so is its cached copy.
            c.retain_listed(dir, &out.iter().map(|(p, _)| p.clone()).collect());
        }
        Ok(out)
    }

    pub(crate) fn seal_meta(
        &self,
        kind: ObjectKind,
        identity: &str,
        body: &[u8],
        padding: Padding,
    ) -> Vec<u8> {
        envelope::Binding::new(&self.k_meta, self.key_id, kind, identity).seal(body, padding)
    }

    /// Seals a pack trailer so that the whole pack (blobs, trailer, its length) is padme-sized.
    pub(crate) fn seal_trailer(&self, identity: &str, body: &[u8], blobs_len: u64) -> Vec<u8> {
        envelope::Binding::new(&self.k_meta, self.key_id, kind::PACK_TRAILER, identity).seal_within(
            body,
            Padding::Padme,
            blobs_len + 4,
        )
    }

    pub(crate) fn open_meta(
        &self,
        kind: ObjectKind,
        identity: &str,
        data: &[u8],
    ) -> Result<Vec<u8>> {
        envelope::Binding::new(&self.k_meta, self.key_id, kind, identity).open(data, MAX_META)
    }

    // ---- conversations and their keys -------------------------------------------------------

    /// The conversation token: a keyed hash of where the conversation comes from (§6.1).
    pub(crate) fn ctok(&self, source_kind: u8, account: &str, native_id: &str) -> Ctok {
        let h = self.k_ctok.hmac(&[
            &[source_kind],
            account.as_bytes(),
            &[0],
            native_id.as_bytes(),
        ]);
        Ctok(h[..16].try_into().expect("16 bytes"))
    }

    /// Reads and opens a metadata object of `kind`: `Ok(None)` when it vanished meanwhile or
    /// is damaged (then noted in [`Repo::damage`]); storage failures are errors.
    async fn read_meta<T: serde::de::DeserializeOwned>(
        &self,
        path: &str,
        open: impl Fn(&[u8]) -> Result<Vec<u8>>,
    ) -> Result<Option<T>> {
        // Wiped once decoded: the body of a key table is conversation keys.
        let decode =
            |raw: &[u8]| open(raw).and_then(|b| format::decode::<T>(&Zeroizing::new(b), path));
        if let Some(c) = self
            .cache
            .as_ref()
            .filter(|_| !self.meta_from_target.load(Ordering::Relaxed))
        {
            if let Some(raw) = c.get(path) {
                match decode(&raw) {
                    Ok(v) => return Ok(Some(v)),
                    // A damaged copy is never trusted: the target's is read instead.
                    Err(_) => c.remove(path),
                }
            }
        }
        let opened = match self.get(path).await {
            Ok(raw) => {
                let v = decode(&raw);
                if let (Ok(_), Some(c)) = (&v, &self.cache) {
                    c.put(path, &raw);
                }
                v
            }
            Err(e) if e.code() == ErrorCode::RepoObjectMissing => return Ok(None),
            Err(e) => Err(e),
        };
        match opened {
            Ok(v) => Ok(Some(v)),
            Err(e) if is_damage(e.code()) => {
                self.note_damage(path, &e);
                Ok(None)
            }
            Err(e) => Err(e),
        }
    }

    /// The highest key table generation (an empty table when there is none). Unreadable
    /// tables are skipped and reported through [`Repo::damage`]; a generation older than this
    /// computer has seen is `repo_rolled_back`.
    pub async fn load_keytable(&self) -> Result<(Vec<(String, u64)>, KeyTable)> {
        let open = |path: &str, raw: &[u8]| {
            envelope::Binding::new(&self.k_keytable, self.key_id, kind::KEYTABLE, path)
                .open(raw, MAX_META)
        };
        let (all, best) = self
            .generations("keytable/", open, |t: &KeyTable| t.generation)
            .await?;
        let best = best.unwrap_or(KeyTable {
            generation: 0,
            entries: Vec::new(),
        });
        self.check_generation("the key table on the target", best.generation, |m| {
            &mut m.keytable_gen
        })?;
        Ok((all, best))
    }

    /// `repo_corrupt` when an object under `dir` could not be read: a new generation is not
    /// written over one whose generation is unknown.
    fn refuse_over_damage(&self, dir: &str, message: &str) -> Result<()> {
        if self.damage().iter().any(|d| d.object.starts_with(dir)) {
            return Err(Error::new(ErrorCode::RepoCorrupt, message)
                .with_hint("Run `chatvault verify` to see which object is damaged."));
        }
        Ok(())
    }

    /// Every readable object under `dir` with its generation, and the one of the highest
    /// generation. Unreadable objects are skipped and reported through [`Repo::damage`].
    async fn generations<T: serde::de::DeserializeOwned>(
        &self,
        dir: &str,
        open: impl Fn(&str, &[u8]) -> Result<Vec<u8>>,
        generation: fn(&T) -> u64,
    ) -> Result<(Vec<(String, u64)>, Option<T>)> {
        let mut best: Option<T> = None;
        let mut all = Vec::new();
        for (path, _) in self.list_names(dir).await? {
            let Some(t) = self.read_meta::<T>(&path, |raw| open(&path, raw)).await? else {
                continue;
            };
            let g = generation(&t);
            all.push((path, g));
            if best.as_ref().is_none_or(|b| g > generation(b)) {
                best = Some(t);
            }
        }
        Ok((all, best))
    }

    /// `repo_rolled_back` when `generation` of `what` is older than the one this computer has
    /// seen (`seen` in its marks); remembers a newer one.
    fn check_generation(
        &self,
        what: &str,
        generation: u64,
        seen: fn(&mut marks::Marks) -> &mut u64,
    ) -> Result<()> {
        let Some(file) = &self.marks else {
            return Ok(());
        };
        let mut m = marks::load(file);
        let known = *seen(&mut m);
        if generation < known {
            return Err(marks::rolled_back(
                format!("{what} is generation {generation}, this computer has seen {known}"),
                file,
            ));
        }
        if generation > known {
            *seen(&mut m) = generation;
            marks::save(file, &m)?;
        }
        Ok(())
    }

    /// Remembers that this computer wrote `generation` (`seen` in its marks).
    fn note_generation(
        &self,
        generation: u64,
        seen: fn(&mut marks::Marks) -> &mut u64,
    ) -> Result<()> {
        if let Some(file) = &self.marks {
            let mut m = marks::load(file);
            let known = seen(&mut m);
            *known = (*known).max(generation);
            marks::save(file, &m)?;
        }
        Ok(())
    }

    /// Writes a key table and reads it back (FORMAT.md §8).
    pub(crate) async fn write_keytable(&self, table: &KeyTable) -> Result<String> {
        // Its generation is unknown: a new table could reuse it, or drop keys it holds.
        self.refuse_over_damage(
            "keytable/",
            "a key table on the target cannot be read; no new key table is written over it",
        )?;
        let path = format!("keytable/{}", hex::encode(random_name()));
        let sealed = envelope::Binding::new(&self.k_keytable, self.key_id, kind::KEYTABLE, &path)
            .seal(&Zeroizing::new(format::encode(table)), Padding::Pow2);
        self.put(&path, sealed).await?;
        let back = self.get(&path).await?;
        drop(Zeroizing::new(
            envelope::Binding::new(&self.k_keytable, self.key_id, kind::KEYTABLE, &path)
                .open(&back, MAX_META)?,
        ));
        self.note_generation(table.generation, |m| &mut m.keytable_gen)?;
        Ok(path)
    }

    // ---- index ------------------------------------------------------------------------------

    /// The union of the live index objects. Damaged ones are skipped and reported through
    /// [`Repo::damage`]; an object this computer has seen superseded is never trusted again,
    /// even if it reappears.
    pub async fn load_index(&self) -> Result<Index> {
        let mut bodies = Vec::new();
        for (path, name) in self.list_names("index/").await? {
            let open = |raw: &[u8]| self.open_meta(kind::INDEX, &path, raw);
            if let Some(body) = self.read_meta::<IndexBody>(&path, open).await? {
                bodies.push((name, body));
            }
        }
        let mut superseded: std::collections::HashSet<Name> = bodies
            .iter()
            .flat_map(|(_, b)| b.supersedes.iter().copied())
            .collect();
        if let Some(file) = &self.marks {
            let mut m = marks::load(file);
            let before = m.superseded.len();
            m.superseded.extend(superseded.iter().map(hex::encode));
            superseded.extend(m.superseded.iter().filter_map(|h| parse_name(h)));
            if m.superseded.len() != before {
                marks::save(file, &m)?;
            }
        }
        let mut index = Index::default();
        // Sized once: a big store's index has a million blobs, and growing the table to that
        // size copies it a dozen times, into fresh memory each time.
        index.blobs.reserve(
            bodies
                .iter()
                .filter(|(name, _)| !superseded.contains(name))
                .flat_map(|(_, b)| &b.packs)
                .map(|p| p.blobs.len())
                .sum(),
        );
        for (name, body) in bodies {
            if superseded.contains(&name) {
                continue;
            }
            index.objects.push(name);
            for p in body.packs {
                index.add_pack(p);
            }
        }
        Ok(index)
    }

    /// Drops from `index` the packs the target no longer has (one LIST of `data/`), so that
    /// dedup never relies on a blob in a pack that is gone. Returns how many were dropped.
    pub(crate) async fn drop_missing_packs(&self, index: &mut Index) -> Result<usize> {
        let present: std::collections::HashSet<Name> = self
            .list_names("data/")
            .await?
            .into_iter()
            .map(|(_, n)| n)
            .collect();
        let gone: Vec<Name> = index
            .packs
            .keys()
            .filter(|n| !present.contains(*n))
            .copied()
            .collect();
        if !gone.is_empty() {
            index.drop_packs(&gone.iter().copied().collect());
        }
        Ok(gone.len())
    }

    pub async fn write_index(&self, packs: Vec<IndexPack>, supersedes: Vec<Name>) -> Result<Name> {
        let name = random_name();
        let path = format!("index/{}", hex::encode(name));
        let mut packs = packs;
        packs.sort_by_key(|p| p.name);
        let mut supersedes = supersedes;
        supersedes.sort();
        let body = format::encode(&IndexBody { supersedes, packs });
        self.put(
            &path,
            self.seal_meta(kind::INDEX, &path, &body, Padding::Pow2),
        )
        .await?;
        Ok(name)
    }

    /// Writes `packs` as new index objects that replace `supersedes` (compaction, prune): each
    /// body under 4 MiB (FORMAT.md §7.2), so that memory stays flat however big the index.
    /// Only the last object names what it supersedes: a crash before it leaves the old objects
    /// live beside the new ones (packs listed twice, which is harmless).
    pub async fn write_index_whole(
        &self,
        packs: impl IntoIterator<Item = IndexPack>,
        supersedes: Vec<Name>,
    ) -> Result<()> {
        /// Under 4 MiB with room: an encoded blob entry is at most 48 bytes, a pack's own
        /// fields at most 52.
        const BODY_BUDGET: usize = 3 << 20;
        let mut group: Vec<IndexPack> = Vec::new();
        let mut size = 0usize;
        for p in packs {
            let bytes = 52 + 48 * p.blobs.len();
            if !group.is_empty() && size + bytes > BODY_BUDGET {
                self.write_index(std::mem::take(&mut group), Vec::new())
                    .await?;
                size = 0;
            }
            group.push(p);
            size += bytes;
        }
        self.write_index(group, supersedes).await?;
        Ok(())
    }

    // ---- snapshots --------------------------------------------------------------------------

    /// Every readable snapshot object: (path, snapshot). Damaged ones are skipped and
    /// reported through [`Repo::damage`].
    async fn snapshot_bodies(&self) -> Result<Vec<(String, Snapshot)>> {
        let mut out = Vec::new();
        for (path, _) in self.list_names("snapshots/").await? {
            let open = |raw: &[u8]| self.open_meta(kind::SNAPSHOT, &path, raw);
            if let Some(s) = self.read_meta::<Snapshot>(&path, open).await? {
                out.push((path, s));
            }
        }
        Ok(out)
    }

    /// Current snapshots (highest revision per id), oldest first. A damaged snapshot is
    /// skipped and reported through [`Repo::damage`]; a lineage whose newest snapshot is older
    /// than the newest this computer has seen (which is gone) is `repo_rolled_back`.
    pub async fn snapshots(&self) -> Result<Vec<(String, Snapshot)>> {
        let mut by_id: HashMap<[u8; 16], (String, Snapshot)> = HashMap::new();
        for (path, s) in self.snapshot_bodies().await? {
            match by_id.get(&s.id) {
                Some((_, old)) if old.revision >= s.revision => {}
                _ => {
                    by_id.insert(s.id, (path, s));
                }
            }
        }
        let mut list: Vec<_> = by_id.into_values().collect();
        list.sort_by_key(|(_, s)| (s.finished, s.id));
        self.check_snapshot_marks(&list)?;
        Ok(list)
    }

    fn check_snapshot_marks(&self, list: &[(String, Snapshot)]) -> Result<()> {
        let Some(file) = &self.marks else {
            return Ok(());
        };
        let mut m = marks::load(file);
        let mut newest: BTreeMap<String, (String, i64)> = BTreeMap::new();
        for (_, s) in list {
            newest.insert(hex::encode(s.lineage), (hex::encode(s.id), s.finished));
        }
        let damaged = !self.damage().is_empty();
        for (lineage, (id, finished)) in &m.lineages {
            let present = list.iter().any(|(_, s)| &hex::encode(s.id) == id);
            let newer = newest.get(lineage).is_some_and(|(_, f)| f >= finished);
            if !present && !newer && !damaged {
                return Err(marks::rolled_back(
                    format!(
                        "snapshot {} is gone and nothing newer of its backup replaced it",
                        &id[..8]
                    ),
                    file,
                ));
            }
        }
        let mut changed = false;
        for (lineage, mark) in newest {
            if m.lineages.get(&lineage).is_none_or(|old| old.1 < mark.1) {
                m.lineages.insert(lineage, mark);
                changed = true;
            }
        }
        if changed {
            marks::save(file, &m)?;
        }
        Ok(())
    }

    /// Tells the rollback marks that this computer deleted a snapshot on purpose (forget,
    /// retention), so its absence is not taken for a rollback.
    pub(crate) fn note_snapshot_deleted(&self, id: &[u8; 16]) -> Result<()> {
        let Some(file) = &self.marks else {
            return Ok(());
        };
        let mut m = marks::load(file);
        let id = hex::encode(id);
        let before = m.lineages.len();
        m.lineages.retain(|_, (s, _)| *s != id);
        if m.lineages.len() != before {
            marks::save(file, &m)?;
        }
        Ok(())
    }

    /// All snapshot objects, including superseded revisions: (path, id, revision).
    pub(crate) async fn snapshot_objects(&self) -> Result<Vec<(String, [u8; 16], u32)>> {
        Ok(self
            .snapshot_bodies()
            .await?
            .into_iter()
            .map(|(p, s)| (p, s.id, s.revision))
            .collect())
    }

    pub(crate) async fn write_snapshot(&self, s: &Snapshot) -> Result<String> {
        let path = format!("snapshots/{}", hex::encode(random_name()));
        let sealed = self.seal_meta(kind::SNAPSHOT, &path, &format::encode(s), Padding::Pow2);
        self.put(&path, sealed).await?;
        if let Some(file) = &self.marks {
            let mut m = marks::load(file);
            let lineage = hex::encode(s.lineage);
            if m.lineages
                .get(&lineage)
                .is_none_or(|old| old.1 <= s.finished)
            {
                m.lineages.insert(lineage, (hex::encode(s.id), s.finished));
                marks::save(file, &m)?;
            }
        }
        Ok(path)
    }

    // ---- blobs ------------------------------------------------------------------------------

    /// Reads and opens one blob with its conversation key, checking its id.
    pub async fn read_blob(&self, index: &Index, id: &BlobId, ck: &ConvKeys) -> Result<Vec<u8>> {
        let loc = index.at(id).ok_or_else(|| {
            Error::new(
                ErrorCode::RepoObjectMissing,
                format!("blob {} is in no index", hex::encode(id)),
            )
            .with_hint("Run `chatvault verify`; an index or pack may have been deleted.")
        })?;
        let path = pack_path(&loc.pack);
        let identity = format!("blob/{}", hex::encode(id));
        self.open_blob_at(index, &loc, |raw| {
            let body = envelope::Binding::new(&ck.aead, self.key_id, loc.kind, &identity)
                .open(raw, blob_max_out(loc.kind))
                .map_err(|e| e.context(format!("pack {path}")))?;
            if ck.blob_id(loc.kind, &body) != *id {
                return Err(Error::new(
                    ErrorCode::RepoTampered,
                    format!("{identity} in {path}: content does not match its id"),
                ));
            }
            Ok(body)
        })
        .await
    }

    /// Brings into the cache, whole, every pack that holds one of `ids` and is not cached yet.
    /// A backup calls it with all of the parent snapshot's trees before it reads any, so that
    /// what it downloads does not depend on which conversations changed (FORMAT.md §13).
    /// Nothing happens without a cache or with ranged reads.
    pub(crate) async fn cache_packs_of<'a>(
        &self,
        index: &Index,
        ids: impl IntoIterator<Item = &'a BlobId>,
    ) -> Result<()> {
        let Some(cache) = self.cache.as_ref().filter(|_| self.private_reads()) else {
            return Ok(());
        };
        let packs: std::collections::BTreeSet<Name> = ids
            .into_iter()
            .filter_map(|id| index.at(id))
            .map(|at| at.pack)
            .collect();
        for name in packs {
            if cache.len(&pack_path(&name)).is_none() {
                self.fetch_pack(index, &name).await?;
            }
        }
        Ok(())
    }

    /// Reads the sealed blob at `loc` and opens it with `open`. A cached copy that does not
    /// open is dropped and the pack is downloaded again (whole), once.
    pub(crate) async fn open_blob_at(
        &self,
        index: &Index,
        loc: &BlobAt,
        open: impl Fn(&[u8]) -> Result<Vec<u8>>,
    ) -> Result<Vec<u8>> {
        let (raw, cached) = self.sealed_blob(index, loc).await?;
        match open(&raw) {
            Err(e) if cached && is_damage(e.code()) => {
                if let Some(c) = &self.cache {
                    c.remove(&pack_path(&loc.pack));
                }
                let (raw, _) = self.sealed_blob(index, loc).await?;
                open(&raw)
            }
            r => r,
        }
    }

    /// The sealed bytes of a blob, and whether they came from the local cache.
    async fn sealed_blob(&self, index: &Index, loc: &BlobAt) -> Result<(Vec<u8>, bool)> {
        let path = pack_path(&loc.pack);
        let (offset, len) = (loc.offset as u64, loc.length as u64);
        if let Some(c) = &self.cache {
            if let Some(b) = c.read_at(&path, offset, len) {
                return Ok((b, true));
            }
        }
        if self.private_reads() {
            let pack = if loc.kind == kind::CHUNK {
                self.whole_a_pack(index, &loc.pack).await?
            } else {
                Arc::new(self.fetch_pack(index, &loc.pack).await?)
            };
            return slice(&pack, &path, offset, len).map(|b| (b, false));
        }
        Ok((self.get_range(&path, offset, len).await?, false))
    }

    /// Downloads a whole pack, checks its length against the index, and keeps a class-S one
    /// in the cache.
    async fn fetch_pack(&self, index: &Index, name: &Name) -> Result<Vec<u8>> {
        let path = pack_path(name);
        let bytes = self.get(&path).await?;
        let entry = index.packs.get(name);
        if let Some(p) = entry {
            if bytes.len() as u64 != p.len {
                return Err(Error::new(
                    if (bytes.len() as u64) < p.len {
                        ErrorCode::RepoTruncated
                    } else {
                        ErrorCode::RepoCorrupt
                    },
                    format!("{path}: {} bytes, the index says {}", bytes.len(), p.len),
                ));
            }
        }
        if let (Some(c), Some(p)) = (&self.cache, entry) {
            if p.class == pack::CLASS_S {
                c.put(&path, &bytes);
            }
        }
        Ok(bytes)
    }

    /// A whole class-A pack, from memory when it was the last one read.
    async fn whole_a_pack(&self, index: &Index, name: &Name) -> Result<Arc<Vec<u8>>> {
        if let Some((n, b)) = self
            .last_pack
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .as_ref()
        {
            if n == name {
                return Ok(b.clone());
            }
        }
        let bytes = Arc::new(self.fetch_pack(index, name).await?);
        *self.last_pack.lock().unwrap_or_else(|p| p.into_inner()) = Some((*name, bytes.clone()));
        Ok(bytes)
    }

    /// Downloads every class-S pack of the index that the cache lacks, whole and in name
    /// order, so that what a restore then reads stays on this computer (FORMAT.md §13).
    /// Returns the packs and bytes downloaded.
    pub(crate) async fn fill_cache(&self, index: &Index) -> Result<(u64, u64)> {
        let Some(c) = &self.cache else {
            return Ok((0, 0));
        };
        let (mut packs, mut bytes) = (0, 0);
        for (name, p) in &index.packs {
            if p.class != pack::CLASS_S || c.len(&pack_path(name)) == Some(p.len) {
                continue;
            }
            bytes += self.fetch_pack(index, name).await?.len() as u64;
            packs += 1;
        }
        Ok((packs, bytes))
    }
}

fn slice(pack: &[u8], path: &str, offset: u64, len: u64) -> Result<Vec<u8>> {
    pack.get(offset as usize..(offset + len) as usize)
        .map(<[u8]>::to_vec)
        .ok_or_else(|| {
            Error::new(
                ErrorCode::RepoTruncated,
                format!("{path}: the index places a blob past the end of the pack"),
            )
        })
}

/// A conversation's keys: CK and what derives from it.
#[derive(Clone)]
pub struct ConvKeys {
    pub ck: SubKey,
    pub aead: SubKey,
    pub name: SubKey,
}

impl ConvKeys {
    pub fn new(ck: SubKey) -> ConvKeys {
        ConvKeys {
            aead: ck.derive("chatvault/v1/conv-aead"),
            name: ck.derive("chatvault/v1/conv-name"),
            ck,
        }
    }

    /// `id = HMAC(CK_name, kind ‖ body)` (§6.5).
    pub fn blob_id(&self, kind: ObjectKind, body: &[u8]) -> BlobId {
        BlobId(self.name.hmac(&[&[kind.into()], body]))
    }
}

pub(crate) fn pack_path(name: &Name) -> String {
    let hex = hex::encode(name);
    format!("data/{}/{hex}", &hex[..2])
}

fn parse_name(s: &str) -> Option<Name> {
    if s.len() != 64 {
        return None;
    }
    hex::decode(s).ok()?.try_into().ok().map(Name)
}

fn missing_or(e: opendal::Error, path: &str) -> Error {
    if e.kind() == opendal::ErrorKind::NotFound {
        Error::new(
            ErrorCode::RepoObjectMissing,
            format!("{path} is missing from the target"),
        )
        .with_hint("Run `chatvault verify`; the storage may have lost the object.")
    } else {
        meta_err(e, &format!("reading {path}"))
    }
}

/// Writes one whole object. A write that fails leaves nothing of its own behind where it can:
/// it is aborted, so a local target's part file in `.chatvault-tmp/` goes with it (a full disk
/// would otherwise keep what it holds), and a torn object under its final name (a WebDAV
/// server may keep the part of a PUT it received before its disk filled) is deleted. A torn
/// object is one whose length differs from what was written: ChatVault writes each name once,
/// so it is this write's, and a complete object of that name is left alone.
pub(crate) async fn write_whole(
    op: &Operator,
    path: &str,
    buf: opendal::Buffer,
) -> opendal::Result<()> {
    let len = buf.len() as u64;
    let mut w = op.writer(path).await?;
    let written = match w.write(buf).await {
        Ok(()) => w.close().await.map(|_| ()),
        Err(e) => Err(e),
    };
    if written.is_err() {
        // Best effort: S3 and WebDAV have nothing to abort for a single PUT.
        let _ = w.abort().await;
        if let Ok(meta) = op.stat(path).await {
            if meta.content_length() != len {
                let _ = op.delete(path).await;
            }
        }
    }
    written
}

#[cfg(test)]
mod index_tests {
    use super::*;
    use format::{IndexBlob, PackClass};

    fn blob(id: u8, offset: u32) -> IndexBlob {
        IndexBlob {
            id: BlobId([id; 32]),
            kind: kind::SEGMENT,
            offset,
            length: 100 + id as u32,
            raw_len: 7,
        }
    }

    fn pack(name: u8, blobs: Vec<IndexBlob>) -> IndexPack {
        IndexPack {
            name: Name([name; 32]),
            class: PackClass::S,
            len: 1000,
            blobs,
        }
    }

    #[test]
    fn a_pack_list_comes_back_exactly_and_a_blob_stored_twice_is_found_in_its_first_pack() {
        let mut index = Index::default();
        let a = pack(1, vec![blob(1, 0), blob(2, 101)]);
        let b = pack(2, vec![blob(2, 0), blob(3, 102)]);
        index.add_pack(a.clone());
        index.add_pack(b.clone());
        // The same pack listed by a second index object adds nothing.
        index.add_pack(b.clone());
        assert_eq!(index.blobs.len(), 3);
        assert_eq!(index.blobs.entries(), 4);
        assert_eq!(index.pack(&a.name), Some(a.clone()));
        assert_eq!(
            index.pack_lists().collect::<Vec<_>>(),
            vec![a.clone(), b.clone()]
        );
        assert_eq!(index.at(&BlobId([2; 32])).unwrap().pack, a.name);

        // Pack 1 is gone: blob 2 is still there, in pack 2; blob 1 is not.
        index.drop_packs(&[a.name].into_iter().collect());
        assert_eq!(index.at(&BlobId([2; 32])).unwrap().pack, b.name);
        assert_eq!(index.at(&BlobId([2; 32])).unwrap().offset, 0);
        assert!(index.at(&BlobId([1; 32])).is_none());
        assert_eq!(index.pack_lists().collect::<Vec<_>>(), vec![b]);
    }

    #[test]
    fn a_table_of_more_blobs_than_a_block_finds_each() {
        let mut index = Index::default();
        let ids: Vec<BlobId> = (0..70_000u32)
            .map(|i| {
                let mut id = [0u8; 32];
                // Ids share their first bytes in runs, so slots collide and are told apart by
                // the whole id.
                id[..4].copy_from_slice(&(i / 3).to_le_bytes());
                id[28..].copy_from_slice(&i.to_le_bytes());
                BlobId(id)
            })
            .collect();
        for (n, chunk) in ids.chunks(1000).enumerate() {
            let blobs = chunk
                .iter()
                .enumerate()
                .map(|(k, id)| IndexBlob {
                    id: *id,
                    kind: kind::SEGMENT,
                    offset: k as u32,
                    length: 1,
                    raw_len: 1,
                })
                .collect();
            let mut p = pack(0, blobs);
            p.name = Name([1; 32]);
            p.name.0[..4].copy_from_slice(&(n as u32).to_le_bytes());
            index.add_pack(p);
        }
        assert_eq!(index.blobs.len(), ids.len());
        for (i, id) in ids.iter().enumerate() {
            assert_eq!(index.blobs.get(id).unwrap().offset, (i % 1000) as u32);
        }
        assert!(!index.blobs.contains_key(&BlobId([0xff; 32])));
    }
}
