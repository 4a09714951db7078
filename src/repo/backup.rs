//! backup: read the selection from a store and add a snapshot (FORMAT.md §11.2).
//!
//! Incremental in two ways: when the store's files are unchanged since the parent snapshot of
//! the same selection, nothing is read and the parent's trees are reused; otherwise segments
//! and trees are rebuilt and named by keyed hash, so only the ones that changed are uploaded.
//! Each pack gets its own index object as soon as it lands, so an interrupted run never
//! uploads a landed blob again.

use super::format::{
    self, kind, AttachState, AttachmentRec, ConvKind, ConvRef, KeyTable, MessageRec, ObjectKind,
    RunCounts, SegRef, Segment, SnapSelection, SnapSource, Snapshot, SourceKind, Totals, Tree,
};
use super::lock::{Lock, Mode, Op};
use super::pack::{PackWriter, CLASS_A, CLASS_S};
use super::{now_ms, ConvKeys, Index, Repo};
use crate::crypto::envelope::{self, Padding};
use crate::crypto::SubKey;
use crate::error::{Error, Result};
use crate::model::{Conversation, ConversationKind, Message, Selection};
use crate::run::job::{Cancel, Progress};
use crate::store::{ChatStore, MessageQuery, Variant};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::path::Path;

mod incremental;
mod readahead;
use incremental::{Incremental, StoreChanges};

pub struct BackupRequest<'a> {
    pub store: &'a dyn ChatStore,
    /// The store's root (account folder or database file), for the change fingerprint.
    pub store_root: &'a Path,
    pub selection: &'a Selection,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, ts_rs::TS)]
pub struct BackupReport {
    pub snapshot: String,
    pub conversations: u32,
    pub messages: u64,
    pub new_segments: u64,
    pub reused_segments: u64,
    pub bytes_uploaded: u64,
    pub objects_uploaded: u64,
    /// The store had not changed: nothing was read.
    pub unchanged: bool,
    /// Conversations whose messages were read (the others had not changed).
    pub conversations_read: u32,
    /// Only what was new since the parent was read: the rows after each shard's mark and the
    /// months they landed in (FORMAT.md §11.2).
    pub incremental: bool,
    /// Rows found after the parent's marks (an incremental run).
    pub new_rows: u64,
    /// Messages read and decoded from the store in this run.
    pub messages_read: u64,
    /// Attachment files found in the store and stored (new or deduplicated).
    pub attachments: u32,
    pub attachment_bytes: u64,
    /// Selected conversations left out because the user forgot them (FORMAT.md §8.1).
    pub skipped_forgotten: u32,
    /// Snapshots the profile's retention policy removed after the run.
    pub snapshots_removed: u32,
    /// Packs deleted or rewritten by the prune after retention.
    pub packs_pruned: u32,
    /// Problems that did not fail the run (a retention or prune step that could not finish,
    /// damaged objects that were skipped).
    pub warnings: Vec<String>,
}

/// A conversation is read in full at least this often, to catch edits and recalls that the
/// marks miss (they see new rows only): a week, or `CHATVAULT_FULL_READ_EVERY` seconds.
const RESCAN_MS: i64 = 7 * 24 * 3600 * 1000;

fn full_read_every_ms() -> i64 {
    std::env::var("CHATVAULT_FULL_READ_EVERY")
        .ok()
        .and_then(|s| s.trim().parse::<i64>().ok())
        .map_or(RESCAN_MS, |s| s.saturating_mul(1000))
}

fn nothing_selected(skipped_forgotten: u32) -> Error {
    if skipped_forgotten > 0 {
        Error::invalid_input("every selected conversation was forgotten").with_hint(
            "Include a conversation again (app: step 2) to back it up, or choose others.",
        )
    } else {
        Error::invalid_input("nothing is selected").with_hint("Choose at least one conversation.")
    }
}

/// The marks after the 32-byte fingerprint of a snapshot's store cursor, if it has them.
fn store_marks(cursor: &[u8]) -> Option<format::StoreMarks> {
    let rest = cursor.get(32..).filter(|r| !r.is_empty())?;
    // The marks' version follows the body version: one of another version is not decoded.
    if rest.get(1) != Some(&format::StoreMarks::VERSION) {
        return None;
    }
    format::decode::<format::StoreMarks>(rest, "store marks").ok()
}

/// The parent snapshot's tree of a conversation, or `None` when it cannot be read (a lost
/// shortcut: the store is read instead). The one place a backup gets a parent tree from.
async fn parent_tree(
    repo: &Repo,
    index: &Index,
    tree_id: &format::BlobId,
    ck: &ConvKeys,
    report: &mut BackupReport,
) -> Result<Option<Tree>> {
    match repo.read_blob(index, tree_id, ck).await {
        Ok(body) => Ok(format::decode::<Tree>(&body, "tree").ok()),
        Err(e) if e.code().is_target_problem() => Err(e),
        Err(e) => {
            report.warnings.push(format!(
                "a previous tree could not be read: {}",
                e.message()
            ));
            Ok(None)
        }
    }
}

pub fn source_kind(v: Variant) -> SourceKind {
    match v {
        Variant::WechatWin3 => SourceKind::WechatWin3,
        Variant::Wechat4 => SourceKind::Wechat4,
        Variant::WechatMac3 => SourceKind::WechatMac3,
        Variant::Android => SourceKind::Android,
        Variant::IMessage => SourceKind::IMessage,
    }
}

pub async fn backup(
    repo: &Repo,
    req: &BackupRequest<'_>,
    progress: &dyn Progress,
    cancel: &Cancel,
) -> Result<BackupReport> {
    Lock::with(repo, Mode::Append, Op::Backup, async || {
        // First, so a target that filled up gets back what killed runs left behind.
        repo.sweep_stale_temp().await;
        let mut report = run(repo, req, progress, cancel).await?;
        report
            .warnings
            .extend(repo.damage().iter().map(|d| d.to_string()));
        // What the reader could not do (e.g. derive the WeChat 4.x image key): said in the log.
        report.warnings.extend(req.store.notes());
        Ok(report)
    })
    .await
}

/// SHA-256 over the names, sizes and modification times of the store's files.
pub fn store_fingerprint(root: &Path) -> Vec<u8> {
    fn visit(p: &Path, base: &Path, out: &mut Vec<(String, u64, i128)>) {
        let Ok(meta) = std::fs::metadata(p) else {
            return;
        };
        if meta.is_dir() {
            if let Ok(rd) = std::fs::read_dir(p) {
                for e in rd.flatten() {
                    visit(&e.path(), base, out);
                }
            }
        } else {
            let mtime = meta
                .modified()
                .ok()
                .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
                .map_or(0, |d| d.as_nanos() as i128);
            out.push((
                p.strip_prefix(base)
                    .unwrap_or(p)
                    .to_string_lossy()
                    .into_owned(),
                meta.len(),
                mtime,
            ));
        }
    }
    let mut files = Vec::new();
    if root.is_file() {
        let base = root.parent().unwrap_or(root);
        for suffix in ["", "-wal", "-shm"] {
            let mut s = root.as_os_str().to_owned();
            s.push(suffix);
            visit(Path::new(&s), base, &mut files);
        }
    } else {
        visit(root, root, &mut files);
    }
    files.sort();
    let mut h = Sha256::new();
    for (name, len, mtime) in files {
        h.update(name.as_bytes());
        h.update([0]);
        h.update(len.to_le_bytes());
        h.update(mtime.to_le_bytes());
    }
    h.finalize().to_vec()
}

/// One backup run, step by step: [`plan`](Run::plan) what to read, find the conversation
/// keys, back up each conversation (reusing the parent's tree, reading only what is new, or
/// reading the store), and write the snapshot.
async fn run(
    repo: &Repo,
    req: &BackupRequest<'_>,
    progress: &dyn Progress,
    cancel: &Cancel,
) -> Result<BackupReport> {
    let mut run = Run::plan(repo, req, progress, cancel).await?;
    let (_, mut keytable) = repo.load_keytable().await?;
    let mut snapshot = run.new_snapshot(keytable.generation);

    // The parent's marks, when it has them and they were taken with these settings.
    let parent_marks = run
        .parent
        .as_ref()
        .and_then(|p| store_marks(&p.source.cursor))
        .filter(|m| m.settings == run.settings);
    let full_read_due = parent_marks
        .as_ref()
        .is_none_or(|m| run.started - m.full_read >= full_read_every_ms());
    let store_unchanged = run
        .parent
        .as_ref()
        .is_some_and(|p| p.source.cursor.get(..32) == Some(&run.fingerprint[..]));
    // When the run will likely read only what is new, the store tells what changed while the
    // repository's index loads (each on a core of its own).
    let ids = (!req.selection.all).then_some(&run.ids[..]);
    let (loaded, changes) = match parent_marks
        .as_ref()
        .filter(|_| !full_read_due && !store_unchanged)
    {
        Some(marks) => {
            alongside(load_repo(repo, run.parent.as_ref()), || {
                StoreChanges::read(req.store, marks, ids, cancel)
            })
            .await
        }
        None => (load_repo(repo, run.parent.as_ref()).await, Ok(None)),
    };
    let (mut index, dropped) = loaded?;
    if dropped > 0 {
        run.report.warnings.push(format!(
            "{dropped} indexed pack(s) are missing from the target; what they held was read from the store and uploaded again (run `chatvault verify`)"
        ));
    }
    let reuse = dropped == 0;
    if let Some(p) = run
        .parent
        .as_ref()
        .filter(|p| reuse && p.source.cursor.get(..32) == Some(&run.fingerprint[..]))
    {
        // The store has not changed since the parent: reuse every tree without reading.
        run.report.unchanged = true;
        snapshot.selection.ctoks = p.selection.ctoks.clone();
        snapshot.conversations = p.conversations.clone();
        snapshot.keytable_gen = keytable.generation;
        snapshot.source.cursor = p.source.cursor.clone();
    } else if let Some(marks) = parent_marks.filter(|_| reuse && !full_read_due) {
        let changes = match changes? {
            Some(changes) => changes,
            None => StoreChanges::read(req.store, &marks, ids, cancel)?,
        };
        // Only what is new since the parent: rows after each shard's mark, and the months
        // they land in read again (FORMAT.md §11.2).
        let mut report = std::mem::take(&mut run.report);
        let parent = run.parent.as_ref().expect("marks come from a parent");
        let range_of = |id: &str| run.range_of(id);
        let inc = Incremental {
            repo,
            store: req.store,
            parent,
            marks: &marks,
            keytable: &keytable,
            forgotten: &run.forgotten,
            ids,
            range_of: &range_of,
            kind_byte: run.kind_byte,
            account: &run.account,
        };
        let (back, done) = inc
            .run(index, changes, &mut report, progress, cancel)
            .await?;
        run.report = report;
        index = back;
        if let Some((convs, marks)) = done {
            run.report.incremental = true;
            snapshot.selection.ctoks = convs.iter().map(|c| c.ctok).collect();
            snapshot.selection.ctoks.sort();
            snapshot.conversations = convs;
            snapshot.source.cursor.extend(format::encode(&marks));
        }
    }
    if !run.report.unchanged && !run.report.incremental {
        run.read_store(index, &mut keytable, &mut snapshot, reuse, dropped)
            .await?;
    }
    run.write_snapshot(snapshot).await
}

/// The repository's index, without the packs the target no longer has, and how many those
/// were; the packs of the parent's trees in the cache.
async fn load_repo(repo: &Repo, parent: Option<&Snapshot>) -> Result<(Index, usize)> {
    let mut index = repo.load_index().await?;
    // Dedup must not count on a blob whose pack is gone (deleted by hand, a rolled-back or lossy
    // storage): then nothing of the parent is reused unread, and lost blobs are uploaded again.
    let dropped = repo.drop_missing_packs(&mut index).await?;
    // What a backup downloads must not tell which conversations changed (FORMAT.md §13): every
    // pack holding one of the parent's trees comes into the cache whole before any tree is read,
    // whichever conversations the run goes on to read. With a warm cache this downloads nothing.
    if let Some(p) = parent {
        repo.cache_packs_of(&index, p.conversations.iter().map(|c| &c.tree))
            .await?;
    }
    Ok((index, dropped))
}

/// The store's changes since the marks, read while `repo_work` runs on a thread of its own
/// (one after the other on a single-threaded runtime, which cannot be driven from another
/// thread).
async fn alongside<T: Send>(
    repo_work: impl std::future::Future<Output = Result<T>> + Send,
    store_work: impl FnOnce() -> Result<StoreChanges>,
) -> (Result<T>, Result<Option<StoreChanges>>) {
    let handle = tokio::runtime::Handle::current();
    if handle.runtime_flavor() == tokio::runtime::RuntimeFlavor::CurrentThread {
        let changes = store_work().map(Some);
        return (repo_work.await, changes);
    }
    // This worker waits here: the runtime hands its tasks to another, so the repository's I/O
    // goes on whatever the number of workers.
    tokio::task::block_in_place(|| {
        std::thread::scope(|scope| {
            let repo_side = scope.spawn(|| handle.block_on(repo_work));
            let changes = store_work().map(Some);
            let loaded = repo_side
                .join()
                .unwrap_or_else(|_| Err(Error::internal("loading the repository panicked")));
            (loaded, changes)
        })
    })
}

/// What a run works from: the selection resolved against the forgotten list, its lineage and
/// parent, and the fingerprints that tell whether anything changed.
struct Run<'a> {
    repo: &'a Repo,
    req: &'a BackupRequest<'a>,
    progress: &'a dyn Progress,
    cancel: &'a Cancel,
    started: i64,
    /// The repository's upload counters at the start.
    before: (u64, u64, u64, u64),
    kind_byte: u8,
    account: String,
    forgotten: super::forgotten::Forgotten,
    /// The chosen conversation ids, sorted ("everything": filled in by a full read).
    ids: Vec<String>,
    lineage: [u8; 16],
    /// What the parent's trees depend on besides the store (FORMAT.md §11.2).
    settings: Vec<u8>,
    /// The store's files and the settings.
    fingerprint: Vec<u8>,
    parent: Option<Snapshot>,
    report: BackupReport,
}

impl<'a> Run<'a> {
    /// Planning: the selection minus what was forgotten, its lineage, fingerprints and parent.
    async fn plan(
        repo: &'a Repo,
        req: &'a BackupRequest<'a>,
        progress: &'a dyn Progress,
        cancel: &'a Cancel,
    ) -> Result<Run<'a>> {
        let started = now_ms();
        let before = repo.stats.snapshot();
        let sel = req.selection;
        let kind_byte = u8::from(source_kind(req.store.variant()));
        let account = req.store.account_id().unwrap_or("").to_string();

        // What the user forgot stays forgotten, whatever the selection says (FORMAT.md §8.1).
        let (_, forgotten) = repo.load_forgotten().await?;
        // The chosen ids; "everything" is listed from the store only when a full read needs it.
        let mut ids: Vec<String> = sel.conversations.iter().map(|c| c.id.clone()).collect();
        ids.sort();
        ids.dedup();
        let mut skipped_forgotten = 0;
        if !sel.all {
            let selected = ids.len();
            ids.retain(|id| !forgotten.is_whole(&repo.ctok(kind_byte, &account, id)));
            skipped_forgotten = (selected - ids.len()) as u32;
            if ids.is_empty() {
                return Err(nothing_selected(skipped_forgotten));
            }
        }
        // A keyed id for "this account with this selection", so runs of one selection chain
        // up. "Everything" is one lineage however many conversations come, go or are forgotten.
        let lineage = if sel.all {
            repo.ctok(0, &format!("lineage-all\0{kind_byte}\0{account}"), "")
                .0
        } else {
            repo.ctok(
                0,
                &format!("lineage\0{kind_byte}\0{account}"),
                &ids.join("\n"),
            )
            .0
        };
        // What the parent's trees depend on besides the store: the selection with its ranges
        // and the forgotten list (a change to it is a change: the parent's trees may hold
        // forgotten data).
        let settings = {
            let mut chosen: Vec<(String, Option<i64>, Option<i64>)> = sel
                .conversations
                .iter()
                .map(|c| {
                    (
                        c.id.clone(),
                        c.since.map(|t| t.as_millisecond()),
                        c.until.map(|t| t.as_millisecond()),
                    )
                })
                .collect();
            chosen.sort();
            let mut h = Sha256::new();
            h.update(format::encode(&(
                sel.all,
                sel.since.map(|t| t.as_millisecond()),
                sel.until.map(|t| t.as_millisecond()),
                chosen,
                &ids,
                forgotten.generation,
            )));
            h.finalize().to_vec()
        };
        let fingerprint = {
            let mut h = Sha256::new();
            h.update(store_fingerprint(req.store_root));
            h.update(&settings);
            h.finalize().to_vec()
        };
        let parent = repo
            .snapshots()
            .await?
            .iter()
            .rev()
            .find(|(_, s)| s.lineage == lineage)
            .map(|(_, s)| s.clone());
        Ok(Run {
            repo,
            req,
            progress,
            cancel,
            started,
            before,
            kind_byte,
            account,
            forgotten,
            ids,
            lineage,
            settings,
            fingerprint,
            parent,
            report: BackupReport {
                skipped_forgotten,
                ..Default::default()
            },
        })
    }

    /// The selected range of a conversation.
    fn range_of(&self, id: &str) -> (Option<jiff::Timestamp>, Option<jiff::Timestamp>) {
        let sel = self.req.selection;
        let c = sel
            .conversations
            .iter()
            .find(|c| c.id == id)
            .cloned()
            .unwrap_or(crate::model::SelectedConversation {
                id: id.to_string(),
                since: None,
                until: None,
            });
        sel.range_of(&c)
    }

    /// The snapshot this run fills in, before anything is read.
    fn new_snapshot(&self, keytable_gen: u64) -> Snapshot {
        let sel = self.req.selection;
        Snapshot {
            id: crate::crypto::keys::random_bytes::<16>(),
            revision: 0,
            lineage: self.lineage,
            parent: self.parent.as_ref().map(|p| p.id),
            started: self.started,
            finished: 0,
            source: SnapSource {
                kind: source_kind(self.req.store.variant()),
                account: self.account.clone(),
                account_name: None,
                cursor: self.fingerprint.clone(),
            },
            selection: SnapSelection {
                all: sel.all,
                ctoks: Vec::new(),
                since: sel.since.map(|t| t.as_millisecond()),
                until: sel.until.map(|t| t.as_millisecond()),
            },
            keytable_gen,
            conversations: Vec::new(),
            totals: Totals::of(&[]),
            run: RunCounts {
                new_segments: 0,
                reused_segments: 0,
                new_chunks: 0,
                bytes_uploaded: 0,
                warnings: 0,
            },
            complete: true,
            app: format!("chatvault {}", crate::VERSION),
        }
    }

    /// Conversation keys: each conversation's from the key table, new ones generated and
    /// written to a new key table before anything is encrypted under them.
    async fn conversation_keys(
        &self,
        keytable: &mut KeyTable,
    ) -> Result<HashMap<String, (format::Ctok, ConvKeys)>> {
        let mut keys = HashMap::new();
        let mut added = false;
        for id in &self.ids {
            let ctok = self.repo.ctok(self.kind_byte, &self.account, id);
            let ck = match keytable.get(&ctok) {
                Some(e) => e.ck.subkey(),
                None => {
                    let ck = SubKey::generate();
                    keytable.entries.push(format::KeyEntry {
                        ctok,
                        ck: format::ConvKey::of(&ck),
                        created: now_ms(),
                    });
                    added = true;
                    ck
                }
            };
            keys.insert(id.clone(), (ctok, ConvKeys::new(ck)));
        }
        if added {
            keytable.entries.sort_by_key(|e| e.ctok);
            keytable.generation += 1;
            self.repo
                .write_keytable(&KeyTable {
                    generation: keytable.generation,
                    entries: keytable.entries.clone(),
                })
                .await?;
        }
        Ok(keys)
    }

    /// A full read: conversations unchanged since the parent reuse its tree unread, the others
    /// are read from the store in one pass and get new trees; the marks of this read go into the
    /// snapshot's cursor.
    async fn read_store(
        &mut self,
        index: Index,
        keytable: &mut KeyTable,
        snapshot: &mut Snapshot,
        reuse: bool,
        dropped: usize,
    ) -> Result<()> {
        let (repo, store, progress) = (self.repo, self.req.store, self.progress);
        let marks_before = store.shard_cursors()?;
        let convs: HashMap<String, Conversation> = store
            .conversations()?
            .into_iter()
            .map(|c| (c.id.clone(), c))
            .collect();
        if self.req.selection.all {
            let mut ids: Vec<String> = convs.keys().cloned().collect();
            ids.sort();
            let selected = ids.len();
            ids.retain(|id| {
                !self
                    .forgotten
                    .is_whole(&repo.ctok(self.kind_byte, &self.account, id))
            });
            self.report.skipped_forgotten = (selected - ids.len()) as u32;
            if ids.is_empty() {
                return Err(nothing_selected(self.report.skipped_forgotten));
            }
            self.ids = ids;
        }
        for id in &self.ids {
            if !convs.contains_key(id) {
                return Err(Error::invalid_input(format!(
                    "conversation '{id}' is not in this store"
                ))
                .with_hint("Run `chatvault conversations` to see the ids."));
            }
        }
        let keys = self.conversation_keys(keytable).await?;
        snapshot.keytable_gen = keytable.generation;

        progress.phase("conversations", Some(self.ids.len() as u64));
        // Known when nothing is cut by a range: the progress counts the messages kept.
        if self.ids.iter().all(|id| self.range_of(id) == (None, None)) {
            progress.messages_total(self.ids.iter().map(|id| convs[id].message_count).sum());
        }
        // For the marks: segments the snapshot lists, the oldest full read of a tree.
        let mut totals = (0u64, self.started);
        let builds = self
            .plan_conversations(&index, &convs, &keys, snapshot, reuse, &mut totals)
            .await?;
        self.report.conversations_read = builds.len() as u32;
        let (sink, builds) = self.scan(index, builds).await?;
        let read = self
            .write_trees(sink, builds, snapshot, &mut totals, dropped)
            .await?;
        snapshot.selection.ctoks.sort();
        snapshot.conversations.sort_by_key(|c| c.ctok);
        self.report.messages_read = read;
        if let Some(shards) = marks_before {
            snapshot
                .source
                .cursor
                .extend(format::encode(&format::StoreMarks {
                    version: format::StoreMarks::VERSION,
                    settings: self.settings.clone(),
                    full_read: totals.1,
                    segments: totals.0,
                    shards: format::ShardMark::all(shards),
                }));
        }
        Ok(())
    }

    /// Per conversation: unchanged since the parent, its tree is reused unread (and listed in
    /// the snapshot now); else it is to be read, and its new tree starts here.
    /// `totals`: segments listed so far, the oldest full read.
    async fn plan_conversations(
        &mut self,
        index: &Index,
        convs: &HashMap<String, Conversation>,
        keys: &HashMap<String, (format::Ctok, ConvKeys)>,
        snapshot: &mut Snapshot,
        reuse: bool,
        totals: &mut (u64, i64),
    ) -> Result<Vec<ConvBuild>> {
        let (repo, progress) = (self.repo, self.progress);
        let parent_trees: HashMap<format::Ctok, format::BlobId> = self
            .parent
            .iter()
            .flat_map(|p| p.conversations.iter().map(|c| (c.ctok, c.tree)))
            .collect();
        let mut builds: Vec<ConvBuild> = Vec::new();
        for id in &self.ids {
            self.cancel.check()?;
            let conv = &convs[id];
            let (ctok, ck) = &keys[id];
            let (since, until) = self.range_of(id);
            // The parent's tree: ranges the user forgot stay forgotten, and its cursor says
            // whether this conversation changed at all.
            let parent_tree = match parent_trees.get(ctok) {
                Some(tree_id) => parent_tree(repo, index, tree_id, ck, &mut self.report).await?,
                None => None,
            };
            let mut excluded = parent_tree
                .as_ref()
                .map(|t| t.excluded.clone())
                .unwrap_or_default();
            // Ranges the user forgot, also when this lineage never saw them forgotten.
            for r in self.forgotten.ranges(ctok) {
                if !excluded.contains(r) {
                    excluded.push(*r);
                }
            }
            excluded.sort_unstable();
            let cursor = format::encode(&(
                1u8,
                conv.message_count,
                conv.first_at.map(|t| t.as_millisecond()),
                conv.last_at.map(|t| t.as_millisecond()),
                &conv.title,
                since.map(|t| t.as_millisecond()),
                until.map(|t| t.as_millisecond()),
            ));
            if let (Some(pt), Some(parent_ref)) = (
                &parent_tree,
                self.parent
                    .as_ref()
                    .and_then(|p| p.conversations.iter().find(|c| c.ctok == *ctok)),
            ) {
                // Unchanged since the parent (and rescanned within the week): reuse its tree.
                if reuse
                    && pt.cursor == cursor
                    && pt.excluded == excluded
                    && self.started - pt.rescanned < full_read_every_ms()
                {
                    self.report.reused_segments += pt.segments.len() as u64;
                    totals.0 += pt.segments.len() as u64;
                    totals.1 = totals.1.min(pt.rescanned);
                    progress.messages(parent_ref.messages);
                    snapshot.selection.ctoks.push(*ctok);
                    snapshot.conversations.push(parent_ref.clone());
                    progress.advance(1, 0);
                    progress.uploaded(repo.stats.snapshot().1 - self.before.1);
                    continue;
                }
            }
            builds.push(ConvBuild::new(
                id.clone(),
                ck.clone(),
                since.map(|t| t.as_millisecond()),
                until.map(|t| t.as_millisecond()),
                Tree {
                    ctok: *ctok,
                    native_id: id.clone(),
                    conv_kind: match conv.kind {
                        ConversationKind::Direct => ConvKind::Direct,
                        ConversationKind::Group => ConvKind::Group,
                    },
                    title: conv.title.clone(),
                    members: Vec::new(),
                    avatar: None,
                    cursor,
                    rescanned: self.started,
                    excluded,
                    segments: Vec::new(),
                },
            ));
        }
        Ok(builds)
    }

    /// Reads the conversations to read in one pass: the store streams messages on this thread
    /// while another one cuts them into month segments, compresses, encrypts and uploads (both
    /// cores busy).
    async fn scan(
        &self,
        index: Index,
        builds: Vec<ConvBuild>,
    ) -> Result<(Sink<'a>, Vec<ConvBuild>)> {
        let (repo, store, cancel) = (self.repo, self.req.store, self.cancel);
        let sink = Sink {
            repo,
            store,
            index,
            writer: Uploader::new(repo),
            chunks: Uploader::for_chunks(repo),
            counts: Counts::default(),
            progress: self.progress,
        };
        let to_read: Vec<String> = builds.iter().map(|b| b.id.clone()).collect();
        let position: HashMap<&str, usize> = to_read
            .iter()
            .enumerate()
            .map(|(i, id)| (id.as_str(), i))
            .collect();
        let handle = tokio::runtime::Handle::current();
        let pipelined = handle.runtime_flavor() != tokio::runtime::RuntimeFlavor::CurrentThread;
        // Messages cross to the writer in batches: one hand-over per message would cost more
        // in wake-ups than the work it hands over.
        const BATCH: usize = 512;
        let (scanned, consumed) = if pipelined {
            let (tx, rx) = std::sync::mpsc::sync_channel::<Vec<(usize, Message)>>(16);
            std::thread::scope(|scope| {
                let consumer = scope.spawn(|| handle.block_on(consume(sink, builds, rx)));
                let mut batch = Vec::with_capacity(BATCH);
                let mut scanned = store.scan(&to_read, &mut |id, m| {
                    batch.push((position[id], m));
                    if batch.len() == BATCH {
                        cancel.check()?;
                        tx.send(std::mem::replace(&mut batch, Vec::with_capacity(BATCH)))
                            .map_err(|_| Error::internal("the backup stopped reading"))?;
                    }
                    Ok(())
                });
                if scanned.is_ok() && !batch.is_empty() {
                    scanned = tx
                        .send(batch)
                        .map_err(|_| Error::internal("the backup stopped reading"));
                }
                drop(tx);
                let consumed = consumer
                    .join()
                    .unwrap_or_else(|_| Err(Error::internal("the backup's writer panicked")));
                (scanned, consumed)
            })
        } else {
            // A single-threaded runtime cannot drive uploads from another thread: read first.
            let (tx, rx) = std::sync::mpsc::channel::<Vec<(usize, Message)>>();
            let scanned = store.scan(&to_read, &mut |id, m| {
                cancel.check()?;
                tx.send(vec![(position[id], m)])
                    .map_err(|_| Error::internal("the backup stopped reading"))
            });
            drop(tx);
            (scanned, consume(sink, builds, rx).await)
        };
        // The writer's error explains a reader that was told to stop.
        let consumed = consumed?;
        scanned?;
        Ok(consumed)
    }

    /// Conversations whose messages the store did not give in time order (history imported
    /// later) are read again on their own; then every tree is written and listed in the
    /// snapshot, and the last packs and the index land. Returns the messages read.
    async fn write_trees(
        &mut self,
        mut sink: Sink<'a>,
        mut builds: Vec<ConvBuild>,
        snapshot: &mut Snapshot,
        totals: &mut (u64, i64),
        dropped: usize,
    ) -> Result<u64> {
        let (repo, store, progress) = (self.repo, self.req.store, self.progress);
        for b in builds.iter_mut() {
            self.cancel.check()?;
            if b.disordered {
                b.reset();
                let again = store.messages(&b.id, &MessageQuery::default())?;
                for m in again {
                    sink.push(b, m).await?;
                }
            }
            sink.flush(b).await?;
            let body = format::encode(&b.tree);
            let tree_id = b.keys.blob_id(kind::TREE, &body);
            sink.writer
                .add(repo, &mut sink.index, &b.keys, kind::TREE, tree_id, &body)
                .await?;
            totals.0 += b.tree.segments.len() as u64;
            snapshot.selection.ctoks.push(b.tree.ctok);
            snapshot.conversations.push(ConvRef {
                ctok: b.tree.ctok,
                tree: tree_id,
                messages: b.messages,
                attachments: b.attachments,
                attachment_bytes: b.attachment_bytes,
                first_ts: b.first_ts.unwrap_or(0),
                last_ts: b.last_ts.unwrap_or(0),
            });
            progress.advance(1, 0);
            progress.uploaded(repo.stats.snapshot().1 - self.before.1);
        }
        let report = &mut self.report;
        report.new_segments += sink.counts.new_segments;
        report.reused_segments += sink.counts.reused_segments;
        report.attachments += sink.counts.attachments;
        report.attachment_bytes += sink.counts.attachment_bytes;
        let read = sink.counts.read;
        let Sink {
            mut index,
            mut writer,
            mut chunks,
            ..
        } = sink;
        chunks.flush(repo, &mut index).await?;
        writer.flush(repo, &mut index).await?;
        // Index objects that list a vanished pack are replaced by one that does not, so that
        // readers find the blobs uploaded again, not the lost copies.
        compact_index(repo, &index, dropped > 0).await?;
        Ok(read)
    }

    /// Snapshot writing: the totals and this run's counts, then the snapshot object.
    async fn write_snapshot(mut self, mut snapshot: Snapshot) -> Result<BackupReport> {
        let repo = self.repo;
        let report = &mut self.report;
        let after = repo.stats.snapshot();
        report.conversations = snapshot.conversations.len() as u32;
        report.messages = snapshot.conversations.iter().map(|c| c.messages).sum();
        snapshot.totals = Totals::of(&snapshot.conversations);
        snapshot.run = RunCounts {
            new_segments: report.new_segments,
            reused_segments: report.reused_segments,
            new_chunks: 0,
            bytes_uploaded: after.1 - self.before.1,
            warnings: 0,
        };
        snapshot.finished = now_ms();
        repo.write_snapshot(&snapshot).await?;
        let end = repo.stats.snapshot();
        report.bytes_uploaded = end.1 - self.before.1;
        report.objects_uploaded = end.0 - self.before.0;
        report.snapshot = hex::encode(snapshot.id);
        Ok(self.report)
    }
}

/// A conversation being read: its month being filled, its segments so far.
struct ConvBuild {
    id: String,
    keys: ConvKeys,
    since: Option<i64>,
    until: Option<i64>,
    tree: Tree,
    /// The month whose messages are being collected, and them.
    open: Option<u32>,
    buf: Vec<Message>,
    /// A message came for a month already written: the store's order is not time order for
    /// this conversation, so it is read again on its own.
    disordered: bool,
    messages: u64,
    attachments: u64,
    attachment_bytes: u64,
    first_ts: Option<i64>,
    last_ts: Option<i64>,
}

impl ConvBuild {
    fn new(id: String, keys: ConvKeys, since: Option<i64>, until: Option<i64>, tree: Tree) -> Self {
        ConvBuild {
            id,
            keys,
            since,
            until,
            tree,
            open: None,
            buf: Vec::new(),
            disordered: false,
            messages: 0,
            attachments: 0,
            attachment_bytes: 0,
            first_ts: None,
            last_ts: None,
        }
    }

    fn reset(&mut self) {
        self.tree.segments.clear();
        self.open = None;
        self.buf.clear();
        self.disordered = false;
        self.messages = 0;
        self.attachments = 0;
        self.attachment_bytes = 0;
        self.first_ts = None;
        self.last_ts = None;
    }

    /// Inside the selected range and outside every forgotten one.
    fn keeps(&self, ts: i64) -> bool {
        self.since.is_none_or(|s| ts >= s)
            && self.until.is_none_or(|u| ts <= u)
            && !self.tree.excluded.iter().any(|r| r.contains(ts))
    }
}

#[derive(Default)]
struct Counts {
    /// Messages the store gave.
    read: u64,
    new_segments: u64,
    reused_segments: u64,
    attachments: u32,
    attachment_bytes: u64,
}

/// Where messages go while a store is read: month segments cut as the stream goes, so memory
/// holds one month per conversation being read, not the store.
struct Sink<'a> {
    repo: &'a Repo,
    store: &'a dyn ChatStore,
    index: Index,
    writer: Uploader,
    chunks: Uploader,
    counts: Counts,
    progress: &'a dyn Progress,
}

impl Sink<'_> {
    /// Names the attachment files of messages the backup will keep to the kernel, so that
    /// they are read ahead of the cutter.
    fn will_read<'m>(&self, messages: impl Iterator<Item = &'m Message>) {
        let Some(readahead) = &self.chunks.readahead else {
            return;
        };
        for a in messages.flat_map(|m| &m.attachments) {
            if let Some(crate::model::AttachmentSource::File(path)) =
                self.store.attachment_source(a)
            {
                readahead.will_read(path);
            }
        }
    }

    async fn push(&mut self, b: &mut ConvBuild, m: Message) -> Result<()> {
        self.counts.read += 1;
        let ts = m.at.as_millisecond();
        if b.disordered || !b.keeps(ts) {
            return Ok(());
        }
        let month = month_of(ts);
        match b.open {
            Some(open) if month == open => {}
            Some(open) if month < open => {
                b.disordered = true;
                b.buf.clear();
                return Ok(());
            }
            Some(_) => {
                self.flush(b).await?;
                b.open = Some(month);
            }
            None => b.open = Some(month),
        }
        b.buf.push(m);
        Ok(())
    }

    /// Writes the open month: attachment files first, then its segments.
    async fn flush(&mut self, b: &mut ConvBuild) -> Result<()> {
        let messages = std::mem::take(&mut b.buf);
        if messages.is_empty() {
            return Ok(());
        }
        self.progress.messages(messages.len() as u64);
        let mut keys = Vec::new();
        let mut files = Vec::new();
        for m in &messages {
            for (i, a) in m.attachments.iter().enumerate() {
                if let Some(source) = self.store.attachment_source(a) {
                    keys.push((m.id.clone(), i));
                    files.push((a, source));
                }
            }
        }
        let recs =
            store_attachments(self.repo, &mut self.index, &mut self.chunks, &b.keys, files).await?;
        let mut stored: HashMap<(String, usize), AttachmentRec> =
            HashMap::with_capacity(recs.len());
        for (key, rec) in keys.into_iter().zip(recs) {
            self.counts.attachments += 1;
            self.counts.attachment_bytes += rec.size;
            stored.insert(key, rec);
        }
        let recs: Vec<MessageRec> = messages
            .into_iter()
            .map(|m| into_record(m, &mut stored))
            .collect();
        for segment in segments_from(recs, self.repo.config.segment_max_messages as usize) {
            let body = format::encode(&segment);
            let id = b.keys.blob_id(kind::SEGMENT, &body);
            let fresh = self
                .writer
                .add(
                    self.repo,
                    &mut self.index,
                    &b.keys,
                    kind::SEGMENT,
                    id,
                    &body,
                )
                .await?;
            if fresh {
                self.counts.new_segments += 1;
            } else {
                self.counts.reused_segments += 1;
            }
            let (atts, att_bytes) = stored_attachments(&segment);
            let first = segment.messages.first().map_or(0, |m| m.ts);
            let last = segment.messages.last().map_or(0, |m| m.ts);
            b.messages += segment.messages.len() as u64;
            b.attachments += atts as u64;
            b.attachment_bytes += att_bytes;
            b.first_ts = Some(b.first_ts.map_or(first, |f| f.min(first)));
            b.last_ts = Some(b.last_ts.map_or(last, |l| l.max(last)));
            b.tree.segments.push(SegRef {
                month: segment.month,
                part: segment.part,
                id,
                messages: segment.messages.len() as u32,
                first_ts: first,
                last_ts: last,
                attachments: atts,
                attachment_bytes: att_bytes,
            });
        }
        Ok(())
    }
}

/// Takes messages from the reader until it is done; returns the state for the finish.
async fn consume<'a>(
    mut sink: Sink<'a>,
    mut builds: Vec<ConvBuild>,
    rx: std::sync::mpsc::Receiver<Vec<(usize, Message)>>,
) -> Result<(Sink<'a>, Vec<ConvBuild>)> {
    while let Ok(batch) = rx.recv() {
        sink.will_read(
            batch
                .iter()
                .filter(|(i, m)| builds[*i].keeps(m.at.as_millisecond()))
                .map(|(_, m)| m),
        );
        for (i, m) in batch {
            sink.push(&mut builds[i], m).await?;
        }
    }
    Ok((sink, builds))
}

/// Records in canonical order, cut into month segments of at most `max` messages.
pub fn segments_from(mut recs: Vec<MessageRec>, max: usize) -> Vec<Segment> {
    recs.sort_by(|a, b| (a.ts, a.id.as_bytes()).cmp(&(b.ts, b.id.as_bytes())));
    let mut out: Vec<Segment> = Vec::new();
    for r in recs {
        let month = month_of(r.ts);
        match out.last_mut() {
            Some(s) if s.month == month && s.messages.len() < max => s.messages.push(r),
            Some(s) if s.month == month => {
                let part = s.part + 1;
                out.push(Segment {
                    month,
                    part,
                    messages: vec![r],
                });
            }
            _ => out.push(Segment {
                month,
                part: 0,
                messages: vec![r],
            }),
        }
    }
    out
}

pub fn month_of(ts_ms: i64) -> u32 {
    let t = jiff::Timestamp::from_millisecond(ts_ms).unwrap_or(jiff::Timestamp::UNIX_EPOCH);
    let d = jiff::tz::TimeZone::UTC.to_datetime(t).date();
    d.year() as u32 * 100 + d.month() as u32
}

/// Attachments with stored contents in a segment, and their bytes.
pub fn stored_attachments(segment: &Segment) -> (u32, u64) {
    segment
        .messages
        .iter()
        .flat_map(|m| &m.attachments)
        .filter(|a| a.state == AttachState::Stored)
        .fold((0, 0), |(n, b), a| (n + 1, b + a.size))
}

/// Chunks cut ahead of the workers: the reader thread keeps cutting while the window before
/// is identified and sealed, and memory holds at most this many chunks per stage (each at most
/// the 4 MiB cap of FORMAT.md §4).
const WINDOW_CHUNKS: usize = 8;

/// Chunks attachments' bytes with the repository's seeded FastCDC and uploads the chunks the
/// repository lacks; the records in `files` order. The bytes are kept exactly as the store has
/// them (a `.dat` image stays obfuscated, a voice clip stays SILK): a decoder that is wrong
/// later loses nothing.
///
/// A pipeline over both cores: a thread reads and cuts the files, one after another, while the
/// chunks cut before are identified (keyed chunk id) and sealed (zstd, AES-256-GCM) by the
/// workers, a window at a time, across file ends (a photo is one or two chunks); this thread
/// then packs them in order. Dedup stays exact: a chunk the index, a pack being filled or sent,
/// or an earlier chunk of the window has is not sealed again.
async fn store_attachments(
    repo: &Repo,
    index: &mut Index,
    chunks: &mut Uploader,
    ck: &ConvKeys,
    files: Vec<(&crate::model::AttachmentRef, crate::model::AttachmentSource)>,
) -> Result<Vec<AttachmentRec>> {
    if files.is_empty() {
        return Ok(Vec::new());
    }
    let mut names = Vec::with_capacity(files.len());
    let mut sources = Vec::with_capacity(files.len());
    let mut from_file = Vec::with_capacity(files.len());
    let mut recs: Vec<AttachmentRec> = Vec::with_capacity(files.len());
    for (a, source) in files {
        names.push(match &source {
            crate::model::AttachmentSource::File(path) => path.display().to_string(),
            crate::model::AttachmentSource::Bytes(_) => a.path.clone(),
        });
        from_file.push(matches!(source, crate::model::AttachmentSource::File(_)));
        sources.push(source);
        recs.push(AttachmentRec {
            role: a.role.into(),
            path: a.path.clone(),
            name: a.name.clone(),
            mime: a.mime.clone(),
            size: 0,
            state: AttachState::Stored,
            chunks: Vec::new(),
        });
    }
    let own;
    let cut = match &chunks.cut {
        Some(cut) => cut,
        None => {
            // An uploader not made for chunks: a thread for these files (dropped after `rx`).
            own = CutThread::start(repo);
            &own
        }
    };
    let rx = cut.cut(sources);
    // The file the next item belongs to, and its bytes cut so far.
    let (mut file, mut read) = (0, 0u64);
    while file < recs.len() {
        let mut window: Vec<(usize, Vec<u8>)> = Vec::with_capacity(WINDOW_CHUNKS);
        while window.len() < WINDOW_CHUNKS && file < recs.len() {
            // Sealing starts as soon as every worker has a chunk: waiting for a full window
            // would leave the cores idle while the reader cuts it.
            let item = if window.len() >= workers() {
                match rx.try_recv() {
                    Ok(item) => Ok(item),
                    Err(std::sync::mpsc::TryRecvError::Empty) => break,
                    Err(std::sync::mpsc::TryRecvError::Disconnected) => Err(()),
                }
            } else {
                rx.recv().map_err(|_| ())
            };
            match item {
                Ok(Cut::Chunk(data)) => {
                    read += data.len() as u64;
                    window.push((file, data));
                }
                Ok(Cut::End) => {
                    if let Some(readahead) = chunks.readahead.as_ref().filter(|_| from_file[file]) {
                        readahead.read_file(read);
                    }
                    read = 0;
                    file += 1;
                }
                Ok(Cut::Failed(e)) => {
                    return Err(Error::io(format!("reading {}", names[file]), &e))
                }
                Err(_) => {
                    return Err(Error::internal(format!(
                        "reading {}: the reader thread stopped",
                        names[file]
                    )))
                }
            }
        }
        let sealed = {
            let (index, uploader) = (&*index, &*chunks);
            let claimed = std::sync::Mutex::new(std::collections::HashSet::new());
            par_map(&window, |(_, data)| {
                let id = ck.blob_id(kind::CHUNK, data);
                let fresh =
                    !uploader.has(index, &id) && claimed.lock().expect("the claim set").insert(id);
                let sealed = fresh.then(|| Uploader::seal(repo, ck, kind::CHUNK, &id, data));
                (id, sealed)
            })
        };
        for ((f, data), (id, sealed)) in window.iter().zip(sealed) {
            if let Some(sealed) = sealed {
                chunks
                    .add_sealed(repo, index, id, kind::CHUNK, sealed, data.len())
                    .await?;
            }
            recs[*f].size += data.len() as u64;
            recs[*f].chunks.push(id);
        }
    }
    Ok(recs)
}

/// What the cutter hands over, in order: each file's chunks, then its end (or its failure,
/// which ends the job).
enum Cut {
    Chunk(Vec<u8>),
    End,
    Failed(std::io::Error),
}

/// Chunks read and cut ahead, as they come through a [`CutThread`]: a channel that closes
/// before the last file's end lost its thread.
type Cuts = std::sync::mpsc::Receiver<Cut>;

/// The thread that reads and cuts a run's attachment files, one after another, with one buffer
/// for the whole run. It ends when the run drops it.
struct CutThread {
    jobs: Option<std::sync::mpsc::Sender<(Vec<crate::model::AttachmentSource>, CutSender)>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

type CutSender = std::sync::mpsc::SyncSender<Cut>;

impl CutThread {
    fn start(repo: &Repo) -> CutThread {
        let mut cutter = Cutter::new(repo.config.cdc, repo.cdc_seed);
        let (jobs, rx) =
            std::sync::mpsc::channel::<(Vec<crate::model::AttachmentSource>, CutSender)>();
        let thread = std::thread::Builder::new()
            .name("chatvault-cut".into())
            .spawn(move || {
                for (files, tx) in rx {
                    cut_files(&mut cutter, files, &tx);
                }
            })
            .ok();
        CutThread {
            jobs: thread.is_some().then_some(jobs),
            thread,
        }
    }

    /// The chunks of `files`, in order, each file's followed by its end, at most
    /// [`WINDOW_CHUNKS`] cut ahead; or a failure as the last item.
    fn cut(&self, files: Vec<crate::model::AttachmentSource>) -> Cuts {
        let (tx, rx) = std::sync::mpsc::sync_channel(WINDOW_CHUNKS);
        let refused = match &self.jobs {
            Some(jobs) => jobs.send((files, tx)).err().map(|e| e.0 .1),
            None => Some(tx),
        };
        if let Some(tx) = refused {
            let _ = tx.send(Cut::Failed(std::io::Error::other(
                "the reader thread could not start",
            )));
        }
        rx
    }
}

/// Cuts one job's files; stops at a failure, or when the run no longer listens.
fn cut_files(cutter: &mut Cutter, files: Vec<crate::model::AttachmentSource>, tx: &CutSender) {
    for source in files {
        let reader: Box<dyn std::io::Read + Send> = match source {
            crate::model::AttachmentSource::File(path) => match std::fs::File::open(&path) {
                Ok(f) => Box::new(f),
                Err(e) => {
                    let _ = tx.send(Cut::Failed(e));
                    return;
                }
            },
            crate::model::AttachmentSource::Bytes(bytes) => Box::new(std::io::Cursor::new(bytes)),
        };
        cutter.start(reader);
        loop {
            let (item, last) = match cutter.next_chunk() {
                Ok(Some(data)) => (Cut::Chunk(data), false),
                Ok(None) => (Cut::End, true),
                Err(e) => {
                    let _ = tx.send(Cut::Failed(e));
                    return;
                }
            };
            if tx.send(item).is_err() {
                return;
            }
            if last {
                break;
            }
        }
    }
}

impl Drop for CutThread {
    fn drop(&mut self) {
        self.jobs = None;
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// FastCDC v2020 over a stream, cutting exactly where `fastcdc::v2020::StreamCDC` does (the
/// same `cut_gear` over at least `max` bytes, or all that is left) but reading into a buffer of
/// several chunks: `StreamCDC` shifts its buffer of one max-size chunk after every cut, which
/// moves each byte about three times more than the chunk itself.
struct Cutter {
    reader: Box<dyn std::io::Read + Send>,
    buf: Vec<u8>,
    /// The bytes not cut yet are `buf[pos..len]`.
    pos: usize,
    len: usize,
    eof: bool,
    min: usize,
    avg: usize,
    max: usize,
    masks: (u64, u64),
    gear: (
        std::borrow::Cow<'static, [u64]>,
        std::borrow::Cow<'static, [u64]>,
    ),
}

impl Cutter {
    fn new(cdc: format::CdcParams, seed: u64) -> Cutter {
        let (min, avg, max) = (cdc.min as usize, cdc.avg as usize, cdc.max as usize);
        Cutter {
            reader: Box::new(std::io::empty()),
            buf: Vec::new(),
            pos: 0,
            len: 0,
            eof: false,
            min,
            avg,
            max,
            masks: fastcdc::v2020::select_masks(avg, fastcdc::v2020::Normalization::Level1),
            gear: fastcdc::v2020::get_gear_with_seed(seed),
        }
    }

    /// Starts on a new file (the buffer stays).
    fn start(&mut self, reader: Box<dyn std::io::Read + Send>) {
        self.reader = reader;
        self.pos = 0;
        self.len = 0;
        self.eof = false;
    }

    /// The next chunk, or `None` at the end.
    fn next_chunk(&mut self) -> std::io::Result<Option<Vec<u8>>> {
        if self.len - self.pos < self.max && !self.eof {
            self.refill()?;
        }
        let (mask_s, mask_l) = self.masks;
        let (_, count) = fastcdc::v2020::cut_gear(
            &self.buf[self.pos..self.len],
            self.min,
            self.avg,
            self.max,
            mask_s,
            mask_l,
            mask_s << 1,
            mask_l << 1,
            &self.gear.0,
            &self.gear.1,
        );
        if count == 0 {
            return Ok(None);
        }
        let chunk = self.buf[self.pos..self.pos + count].to_vec();
        self.pos += count;
        Ok(Some(chunk))
    }

    /// Moves what is left to the front and reads until the buffer is full or the file ends.
    fn refill(&mut self) -> std::io::Result<()> {
        if self.buf.is_empty() {
            self.buf = vec![0; 4 * self.max];
        }
        self.buf.copy_within(self.pos..self.len, 0);
        self.len -= self.pos;
        self.pos = 0;
        while self.len < self.buf.len() {
            match self.reader.read(&mut self.buf[self.len..]) {
                Ok(0) => {
                    self.eof = true;
                    break;
                }
                Ok(n) => self.len += n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }
}

/// The threads [`par_map`] uses: the cores, at most 4 (a backup also has its store reader).
fn workers() -> usize {
    static N: std::sync::OnceLock<usize> = std::sync::OnceLock::new();
    *N.get_or_init(|| std::thread::available_parallelism().map_or(1, |n| n.get().min(4)))
}

/// `items.iter().map(f)` on [`workers`] threads (this one included), results in `items` order.
/// Items are handed out one at a time, so a big chunk does not hold up a small one's thread.
fn par_map<T: Sync, R: Send>(items: &[T], f: impl Fn(&T) -> R + Sync) -> Vec<R> {
    let threads = workers().min(items.len());
    if threads <= 1 {
        return items.iter().map(f).collect();
    }
    let next = std::sync::atomic::AtomicUsize::new(0);
    let work = || {
        let mut out = Vec::new();
        loop {
            let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            let Some(item) = items.get(i) else {
                return out;
            };
            out.push((i, f(item)));
        }
    };
    let mut all = std::thread::scope(|s| {
        let helpers: Vec<_> = (1..threads).map(|_| s.spawn(work)).collect();
        let mut all = work();
        for h in helpers {
            all.extend(h.join().unwrap_or_else(|p| std::panic::resume_unwind(p)));
        }
        all
    });
    all.sort_unstable_by_key(|(i, _)| *i);
    all.into_iter().map(|(_, r)| r).collect()
}

/// The record of a message (taken, not copied: a big store has millions), with the attachment
/// records stored for it by index.
pub fn into_record(m: Message, stored: &mut HashMap<(String, usize), AttachmentRec>) -> MessageRec {
    let attachments = m
        .attachments
        .into_iter()
        .enumerate()
        .map(|(i, a)| {
            stored
                .remove(&(m.id.clone(), i))
                .unwrap_or_else(|| AttachmentRec {
                    role: a.role.into(),
                    path: a.path,
                    name: a.name,
                    mime: a.mime,
                    size: a.size.unwrap_or(0),
                    state: AttachState::NotInStore, // never downloaded, or moved
                    chunks: Vec::new(),
                })
        })
        .collect();
    MessageRec {
        ts: m.at.as_millisecond(),
        id: m.id,
        sender: m.sender,
        sender_name: m.sender_name,
        from_me: m.from_me,
        kind: format::kind_code(m.kind),
        text: m.text,
        reply_to: m.reply_to,
        quoted_text: m.quoted_text,
        url: m.url,
        raw_type: m.raw_type,
        payload: None,
        edited: None,
        attachments,
        // FORMAT.md: sorted by tag.
        ext: {
            let mut ext: Vec<format::Ext> = m
                .ext
                .into_iter()
                .map(|e| format::Ext {
                    tag: e.tag,
                    data: e.data,
                })
                .collect();
            ext.sort_by_key(|e| e.tag);
            ext
        },
    }
}

/// Packs blobs and uploads each full pack with its own index object. A full pack is uploaded on
/// its own task while the next one fills; it is indexed once it has landed (data before
/// references), at the latest by [`Uploader::flush`].
pub(crate) struct Uploader {
    pack: PackWriter,
    /// The attachment uploader's thread that reads and cuts the files.
    cut: Option<CutThread>,
    /// The attachment uploader's hints to the kernel of the files it will read.
    readahead: Option<readahead::Readahead>,
    /// Full packs on their way to the target, oldest first.
    landing: std::collections::VecDeque<Landing>,
    /// At most this many bytes of them ([`LANDING_BYTES`], [`LANDING_BYTES_S`]).
    landing_bytes: usize,
}

/// Bytes of full attachment packs on their way at once: several packs overlap their writes (a
/// local disk syncs each file; a remote target takes parallel PUTs), and memory stays bounded
/// (at least one pack is always on its way, whatever the repository's pack size).
const LANDING_BYTES: usize = 48 << 20;
/// The same for packs of trees and segments: sealing them is the slow part (about 40 MB/s of
/// packs per core), so a few on their way keep the disk or the network busy, and a big
/// store's backup holds 32 MB less (docs/BENCHMARKS.md).
const LANDING_BYTES_S: usize = 16 << 20;

/// A full pack being uploaded: what the index will list once it lands, and the upload. Dropped
/// before it lands (a run that failed or was cancelled), the upload stops: the run's lease
/// ends with it.
struct Landing {
    entry: format::IndexPack,
    ids: std::collections::HashSet<format::BlobId>,
    len: usize,
    task: tokio::task::JoinHandle<Result<()>>,
}

impl Drop for Landing {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Uploader {
    pub(crate) fn new(repo: &Repo) -> Uploader {
        Uploader {
            pack: PackWriter::new(CLASS_S, repo.config.pack_target.class_s as usize),
            cut: None,
            readahead: None,
            landing: Default::default(),
            landing_bytes: LANDING_BYTES_S,
        }
    }

    /// An uploader for attachment chunks (class A packs, the larger target), with the thread
    /// that reads and cuts their files.
    pub(crate) fn for_chunks(repo: &Repo) -> Uploader {
        Uploader {
            pack: PackWriter::new(CLASS_A, repo.config.pack_target.class_a as usize),
            cut: Some(CutThread::start(repo)),
            readahead: Some(readahead::Readahead::start()),
            landing: Default::default(),
            landing_bytes: LANDING_BYTES,
        }
    }

    /// Adds a blob unless the index or the open pack already has it; true when it was new.
    pub(crate) async fn add(
        &mut self,
        repo: &Repo,
        index: &mut Index,
        ck: &ConvKeys,
        kind: format::ObjectKind,
        id: format::BlobId,
        body: &[u8],
    ) -> Result<bool> {
        if self.has(index, &id) {
            return Ok(false);
        }
        let sealed = Self::seal(repo, ck, kind, &id, body);
        self.add_sealed(repo, index, id, kind, sealed, body.len())
            .await?;
        Ok(true)
    }

    /// The index, the open pack or the pack on its way has this blob.
    fn has(&self, index: &Index, id: &format::BlobId) -> bool {
        index.blobs.contains_key(id)
            || self.pack.contains(id)
            || self.landing.iter().any(|l| l.ids.contains(id))
    }

    /// The blob's envelope (FORMAT.md §4), chunks at the media zstd level.
    fn seal(
        repo: &Repo,
        ck: &ConvKeys,
        kind: ObjectKind,
        id: &format::BlobId,
        body: &[u8],
    ) -> Vec<u8> {
        let identity = format!("blob/{}", hex::encode(id));
        let level = if kind == format::kind::CHUNK {
            envelope::ZSTD_LEVEL_MEDIA
        } else {
            envelope::ZSTD_LEVEL
        };
        envelope::Binding::new(&ck.aead, repo.key_id(), kind, &identity)
            .with_level(level)
            .seal(body, Padding::Padme)
    }

    /// Packs a sealed blob, uploading the open pack first when it would overflow.
    async fn add_sealed(
        &mut self,
        repo: &Repo,
        index: &mut Index,
        id: format::BlobId,
        kind: ObjectKind,
        sealed: Vec<u8>,
        raw_len: usize,
    ) -> Result<()> {
        if self.pack.would_overflow(sealed.len()) {
            self.send(repo, index).await?;
        }
        self.pack.add(id, kind, sealed, raw_len);
        Ok(())
    }

    /// Sends the open pack on its way and starts a new one; first the oldest packs on their
    /// way land until this one fits in the uploader's bound.
    async fn send(&mut self, repo: &Repo, index: &mut Index) -> Result<()> {
        if self.pack.is_empty() {
            return Ok(());
        }
        let next = self.pack.renew();
        let full = std::mem::replace(&mut self.pack, next).finish(repo);
        while !self.landing.is_empty()
            && self.landing.iter().map(|l| l.len).sum::<usize>() + full.bytes.len()
                > self.landing_bytes
        {
            self.land(repo, index).await?;
        }
        let putter = repo.putter();
        let (path, bytes, cached, len) = (full.path, full.bytes, full.cached, full.entry.len);
        let task = tokio::spawn(async move { putter.put(&path, bytes, cached).await });
        self.landing.push_back(Landing {
            entry: full.entry,
            ids: full.ids,
            len: len as usize,
            task,
        });
        Ok(())
    }

    /// Waits for the oldest pack on its way, then indexes it.
    async fn land(&mut self, repo: &Repo, index: &mut Index) -> Result<()> {
        let Some(mut landing) = self.landing.pop_front() else {
            return Ok(());
        };
        (&mut landing.task)
            .await
            .map_err(|e| Error::internal(format!("uploading a pack: {e}")))??;
        // Data before references: the pack has landed, now index it.
        let entry = format::IndexPack {
            blobs: std::mem::take(&mut landing.entry.blobs),
            ..landing.entry
        };
        let name = repo.write_index(vec![entry.clone()], Vec::new()).await?;
        index.objects.push(name);
        index.add_pack(entry);
        Ok(())
    }

    /// Uploads the open pack and waits until every pack has landed and is indexed.
    pub(crate) async fn flush(&mut self, repo: &Repo, index: &mut Index) -> Result<()> {
        self.send(repo, index).await?;
        while !self.landing.is_empty() {
            self.land(repo, index).await?;
        }
        Ok(())
    }
}

/// Keeps the number of live index objects small: past 32 (or when `force`d), new objects
/// (one, unless the index is too big for one body) replace them all.
pub async fn compact_index(repo: &Repo, index: &Index, force: bool) -> Result<()> {
    if index.objects.len() <= 32 && !force {
        return Ok(());
    }
    let old = index.objects.clone();
    repo.write_index_whole(index.pack_lists(), old.clone())
        .await?;
    for name in old {
        repo.delete(&format!("index/{}", hex::encode(name))).await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Hands out at most `step` bytes a read, as pipes and some files do.
    struct Trickle(std::io::Cursor<Vec<u8>>, usize);

    impl std::io::Read for Trickle {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            let n = buf.len().min(self.1);
            self.0.read(&mut buf[..n])
        }
    }

    fn noise(len: usize, mut x: u64) -> Vec<u8> {
        (0..len)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                x as u8
            })
            .collect()
    }

    #[test]
    fn the_cutter_cuts_where_stream_cdc_does() {
        let cdc = format::CdcParams {
            min: 16 << 10,
            avg: 64 << 10,
            max: 256 << 10,
            level: 1,
        };
        let seed = 0x5eed_1234_u64;
        // One cutter for every file, as a run has: its buffer carries nothing over.
        let mut cutter = Cutter::new(cdc, seed);
        // Sizes around the edges: empty, below min, one max, and several buffers' worth, with
        // a repeated stretch so that equal chunks occur.
        let mut long = noise(3 << 20, 7);
        long.extend_from_within(100_000..900_000);
        for data in [
            Vec::new(),
            noise(1000, 1),
            noise(256 << 10, 2),
            noise(4 * (256 << 10) + 1, 3),
            long,
        ] {
            let want: Vec<Vec<u8>> = fastcdc::v2020::StreamCDC::with_level_and_seed(
                std::io::Cursor::new(data.clone()),
                cdc.min as usize,
                cdc.avg as usize,
                cdc.max as usize,
                fastcdc::v2020::Normalization::Level1,
                seed,
            )
            .map(|c| c.unwrap().data)
            .collect();
            for step in [usize::MAX, 7_777] {
                let reader = Box::new(Trickle(std::io::Cursor::new(data.clone()), step));
                cutter.start(reader);
                let mut got = Vec::new();
                while let Some(c) = cutter.next_chunk().unwrap() {
                    got.push(c);
                }
                assert_eq!(got, want, "{} bytes, reads of {step}", data.len());
            }
        }
    }

    #[test]
    fn par_map_keeps_the_order() {
        let items: Vec<u64> = (0..1000).collect();
        assert_eq!(
            par_map(&items, |x| x * 2),
            items.iter().map(|x| x * 2).collect::<Vec<_>>()
        );
        assert!(par_map(&[] as &[u8], |x| *x).is_empty());
    }
}
