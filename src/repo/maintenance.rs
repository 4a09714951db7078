//! verify, forget and prune (FORMAT.md §11.4-§11.6).

use super::backup::{segments_from, Uploader};
use super::format::{
    self, kind, BlobId, Ctok, IndexBlob, IndexPack, KeyTable, Name, Snapshot, Totals, Tree,
};
use super::format::{AttachState, SegRef};
use super::lock::{Lock, Mode, Op};
use super::pack::{read_trailer, PackWriter, CLASS_S};
use super::{pack_path, ConvKeys, Repo};
use crate::crypto::envelope::{self, Padding};
use crate::error::{Error, ErrorCode, Result};
use serde::Serialize;
use std::collections::{HashMap, HashSet};

#[derive(Debug, Clone, Default, Serialize, ts_rs::TS)]
pub struct VerifyReport {
    pub snapshots: u32,
    pub conversations: u32,
    pub packs: u32,
    pub blobs_read: u64,
    /// Each problem names the object: `data/ab/ab12…: repo_tampered: …`.
    pub errors: Vec<String>,
}

fn problem(report: &mut VerifyReport, e: &Error) {
    report.errors.push(format!("{}: {}", e.code(), e.message()));
}

fn keys_for(table: &KeyTable, ctok: &Ctok) -> Option<ConvKeys> {
    table.get(ctok).map(|e| ConvKeys::new(e.ck.subkey()))
}

/// Checks the structure; with `read_data`, also opens every reachable blob and pack trailer.
pub async fn verify(repo: &Repo, read_data: bool) -> Result<VerifyReport> {
    Lock::with(repo, Mode::Shared, Op::Verify, async || {
        let mut report = run_verify(repo, read_data).await?;
        // Objects skipped as damaged while loading, each with what it affects.
        for d in repo.damage() {
            report.errors.push(format!("{d} ({})", affects(&d.object)));
        }
        Ok(report)
    })
    .await
}

/// What a damaged object of this path costs the user, for verify's report.
fn affects(object: &str) -> &'static str {
    match object.split('/').next().unwrap_or("") {
        "snapshots" => "this one backup run cannot be listed or restored; other snapshots are unaffected; prune is blocked until it is removed",
        "index" => "blobs only it lists cannot be found: restores of them fail and later backups upload them again; prune is blocked",
        "keytable" => "conversations whose keys only this table held cannot be decrypted; no new key table is written until it is resolved",
        "forgotten" => "the list of forgotten conversations may be incomplete; it is not rewritten until this is resolved",
        _ => "see the message",
    }
}

async fn run_verify(repo: &Repo, read_data: bool) -> Result<VerifyReport> {
    // Verify judges the target: its metadata objects are read from there, not from the cache.
    repo.read_meta_from_target();
    let (_, table) = repo.load_keytable().await?;
    let index = repo.load_index().await?;
    let snapshots = repo.snapshots().await?;
    let mut v = Verifier {
        repo,
        index: &index,
        table: &table,
        read_data,
        report: VerifyReport {
            snapshots: snapshots.len() as u32,
            ..VerifyReport::default()
        },
        chunks: HashMap::new(),
        trees_seen: HashMap::new(),
        segments_seen: HashMap::new(),
    };
    let a_packs = v.check_packs().await;
    for (spath, snap) in &snapshots {
        for conv in &snap.conversations {
            v.check_conversation(spath, conv).await;
        }
    }
    v.check_chunks(a_packs).await;
    Ok(v.report)
}

/// What verify carries from step to step.
struct Verifier<'a> {
    repo: &'a Repo,
    index: &'a super::Index,
    table: &'a KeyTable,
    read_data: bool,
    report: VerifyReport,
    /// The chunks reachable from the snapshots, with their keys (`--read-data`).
    chunks: HashMap<BlobId, ConvKeys>,
    /// Most snapshots share most trees and segments with the one before: each is checked once
    /// (a blob's id is a keyed hash of its content, so one id is one content). A tree maps to
    /// its message total...
    trees_seen: HashMap<BlobId, u64>,
    /// ...a segment to its message count.
    segments_seen: HashMap<BlobId, u32>,
}

impl<'a> Verifier<'a> {
    /// Step 1: every indexed pack is there with its indexed length. With --read-data, every
    /// pack is downloaded whole, once: class-S packs now (into the cache, so the walk reads
    /// trees and segments locally), class-A packs (returned) after the walk has found which
    /// chunks are reachable. No blob is read by a ranged GET (FORMAT.md §13).
    async fn check_packs(&mut self) -> Vec<&'a Name> {
        let (repo, index) = (self.repo, self.index);
        let mut a_packs: Vec<&Name> = Vec::new();
        for (name, p) in &index.packs {
            self.report.packs += 1;
            let path = pack_path(name);
            match repo.operator().stat(&path).await {
                Ok(meta) if meta.content_length() == p.len => {}
                Ok(meta) => self.report.errors.push(format!(
                    "{path}: {}: {} bytes, the index says {}",
                    if meta.content_length() < p.len {
                        "repo_truncated"
                    } else {
                        "repo_corrupt"
                    },
                    meta.content_length(),
                    p.len
                )),
                Err(_) => self.report.errors.push(format!(
                    "{path}: repo_object_missing: listed in the index but not on the target"
                )),
            }
            if !self.read_data {
                continue;
            }
            if p.class == CLASS_S {
                if let Some(bytes) = download_pack(repo, index, name, &mut self.report).await {
                    if let Some(c) = repo.cache() {
                        c.put(&path, &bytes);
                    }
                }
            } else {
                a_packs.push(name);
            }
        }
        a_packs
    }

    /// Step 2, for one conversation of a snapshot: its tree, its segments and the chunks
    /// reachable from them.
    async fn check_conversation(&mut self, spath: &str, conv: &format::ConvRef) {
        self.report.conversations += 1;
        if let Some(&messages) = self.trees_seen.get(&conv.tree) {
            if messages != conv.messages {
                self.report.errors.push(format!(
                    "{spath}: repo_corrupt: tree and snapshot disagree on the message count"
                ));
            }
            return;
        }
        let errors_before = self.report.errors.len();
        let Some(keys) = keys_for(self.table, &conv.ctok) else {
            self.report.errors.push(format!(
                "{spath}: repo_corrupt: a conversation key is missing from the key table"
            ));
            return;
        };
        let tree: Tree = match self
            .repo
            .read_blob(self.index, &conv.tree, &keys)
            .await
            .and_then(|b| format::decode(&b, "tree"))
        {
            Ok(t) => t,
            Err(e) => {
                problem(&mut self.report, &e);
                return;
            }
        };
        self.report.blobs_read += 1;
        let mut messages = 0u64;
        for seg in &tree.segments {
            messages += seg.messages as u64;
            self.check_segment(spath, seg, &keys).await;
        }
        if messages != conv.messages {
            self.report.errors.push(format!(
                "{spath}: repo_corrupt: tree and snapshot disagree on the message count"
            ));
        }
        // A tree with a problem is checked again in every snapshot that holds it, so that
        // each affected snapshot is named.
        if self.report.errors.len() == errors_before {
            self.trees_seen.insert(conv.tree, messages);
        }
    }

    async fn check_segment(&mut self, spath: &str, seg: &SegRef, keys: &ConvKeys) {
        if !self.index.blobs.contains_key(&seg.id) {
            self.report.errors.push(format!(
                "{spath}: repo_object_missing: segment {} is in no index",
                hex::encode(seg.id)
            ));
            return;
        }
        if let Some(&count) = self.segments_seen.get(&seg.id) {
            if count != seg.messages {
                self.report.errors.push(format!(
                    "{spath}: repo_corrupt: segment message count differs from its tree"
                ));
            }
            return;
        }
        if !self.read_data {
            return;
        }
        match self
            .repo
            .read_blob(self.index, &seg.id, keys)
            .await
            .and_then(|b| format::decode::<format::Segment>(&b, "segment"))
        {
            Ok(s) if s.messages.len() as u32 == seg.messages => {
                self.segments_seen.insert(seg.id, seg.messages);
                self.report.blobs_read += 1;
                for c in s
                    .messages
                    .iter()
                    .flat_map(|m| &m.attachments)
                    .filter(|a| a.state == AttachState::Stored)
                    .flat_map(|a| &a.chunks)
                {
                    if self.index.blobs.contains_key(c) {
                        self.chunks.insert(*c, keys.clone());
                    } else {
                        self.report.errors.push(format!(
                            "{spath}: repo_object_missing: chunk {} is in no index",
                            hex::encode(c)
                        ));
                    }
                }
            }
            Ok(_) => self.report.errors.push(format!(
                "{spath}: repo_corrupt: segment message count differs from its tree"
            )),
            Err(e) => problem(&mut self.report, &e),
        }
    }

    /// Step 3: class-A packs whole: every reachable chunk in them opens and matches its id.
    async fn check_chunks(&mut self, a_packs: Vec<&Name>) {
        let mut opened: HashSet<BlobId> = HashSet::new();
        for name in a_packs {
            let Some(p) = self.index.pack(name) else {
                continue;
            };
            let Some(bytes) = download_pack(self.repo, self.index, name, &mut self.report).await
            else {
                continue;
            };
            for blob in &p.blobs {
                let Some(keys) = self.chunks.get(&blob.id) else {
                    continue;
                };
                if opened.contains(&blob.id) {
                    continue;
                }
                match open_in_pack(self.repo, name, &bytes, blob, keys) {
                    Ok(()) => {
                        opened.insert(blob.id);
                        self.report.blobs_read += 1;
                    }
                    Err(e) => problem(&mut self.report, &e.context(pack_path(name))),
                }
            }
        }
    }
}

/// Opens a blob of a downloaded pack and checks that its content matches its id.
fn open_in_pack(
    repo: &Repo,
    name: &Name,
    bytes: &[u8],
    blob: &IndexBlob,
    keys: &ConvKeys,
) -> Result<()> {
    let IndexBlob {
        id,
        kind,
        offset,
        length,
        ..
    } = *blob;
    let identity = format!("blob/{}", hex::encode(id));
    let raw = bytes
        .get(offset as usize..offset as usize + length as usize)
        .ok_or_else(|| {
            Error::new(
                ErrorCode::RepoTruncated,
                format!("{}: a blob lies past its end", pack_path(name)),
            )
        })?;
    let body = envelope::Binding::new(&keys.aead, repo.key_id(), kind, &identity)
        .open(raw, super::blob_max_out(kind))?;
    if keys.blob_id(kind, &body) != id {
        return Err(Error::new(
            ErrorCode::RepoTampered,
            format!("{identity}: content does not match its id"),
        ));
    }
    Ok(())
}

/// Downloads a whole pack and checks its trailer against the index (`--read-data`).
async fn download_pack(
    repo: &Repo,
    index: &super::Index,
    name: &Name,
    report: &mut VerifyReport,
) -> Option<Vec<u8>> {
    let path = pack_path(name);
    match repo.get(&path).await {
        Ok(bytes) => match read_trailer(repo, name, &bytes) {
            Ok(t) if t.blobs.iter().map(|b| b.id).eq(index.pack_ids(name)) => Some(bytes),
            Ok(_) => {
                report
                    .errors
                    .push(format!("{path}: repo_corrupt: trailer and index disagree"));
                None
            }
            Err(e) => {
                problem(report, &e.context(&path));
                None
            }
        },
        Err(e) => {
            problem(report, &e);
            None
        }
    }
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct ForgetReport {
    pub snapshots_rewritten: u32,
    pub snapshots_deleted: u32,
    pub keys_destroyed: u32,
    pub prune: Option<PruneReport>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct PruneReport {
    pub packs_deleted: u32,
    /// Unindexed packs left for a later prune: too young to be sure no run still writes them.
    pub packs_young_unindexed: u32,
    pub packs_rewritten: u32,
    pub blobs_kept: u64,
    pub blobs_removed: u64,
}

/// What to forget.
#[derive(Debug, Clone)]
pub enum Forget {
    /// A snapshot by id or id prefix.
    Snapshot(String),
    /// A conversation, by its id in the store, from every snapshot; its key is destroyed.
    Conversation(String),
    /// The messages of a conversation in [since, until) (ms), from every snapshot; later
    /// backups skip the range.
    Range {
        conversation: String,
        since: i64,
        until: i64,
    },
}

pub async fn forget(repo: &Repo, what: &Forget, prune_after: bool) -> Result<ForgetReport> {
    Lock::with(repo, Mode::Exclusive, Op::Forget, async || {
        let mut report = run_forget(repo, what).await?;
        if prune_after {
            report.prune = Some(run_prune(repo).await?);
        }
        Ok(report)
    })
    .await
}

/// Takes conversations off the forgotten list (the user included them again on purpose):
/// later backups of a selection that holds them back them up again. Returns how many were
/// on the list.
pub async fn include_again(repo: &Repo, ctoks: &[Ctok]) -> Result<u32> {
    Lock::with(repo, Mode::Exclusive, Op::Forget, async || {
        let (old, mut list) = repo.load_forgotten().await?;
        let removed = ctoks.iter().filter(|c| list.remove(c)).count() as u32;
        if removed > 0 {
            list.generation += 1;
            repo.write_forgotten(&list, &old).await?;
        }
        Ok(removed)
    })
    .await
}

/// A conversation of a store that the repository's forgotten list holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ts_rs::TS)]
pub struct ForgottenConversation {
    pub id: String,
    pub title: String,
    /// The whole conversation (else only `ranges`).
    pub whole: bool,
    /// Forgotten `[since, until)` ranges in ms.
    #[ts(type = "Array<[number, number]>")]
    pub ranges: Vec<(i64, i64)>,
}

/// Which conversations of `store` the user forgot in this repository.
pub async fn forgotten_in(
    repo: &Repo,
    store: &dyn crate::store::ChatStore,
) -> Result<Vec<ForgottenConversation>> {
    let (_, list) = repo.load_forgotten().await?;
    if list.entries.is_empty() {
        return Ok(Vec::new());
    }
    let kind = super::backup::source_kind(store.variant());
    let account = store.account_id().unwrap_or("").to_string();
    Ok(store
        .conversations()?
        .into_iter()
        .filter_map(|c| {
            let e = list.get(&repo.ctok(kind.into(), &account, &c.id))?;
            Some(ForgottenConversation {
                id: c.id,
                title: c.title,
                whole: e.whole,
                ranges: e.ranges.iter().map(|r| (r.since, r.until)).collect(),
            })
        })
        .collect())
}

/// Includes conversations of `store` again (see [`include_again`]); returns how many were
/// forgotten.
pub async fn include_again_in(
    repo: &Repo,
    store: &dyn crate::store::ChatStore,
    ids: &[String],
) -> Result<u32> {
    let kind = super::backup::source_kind(store.variant());
    let account = store.account_id().unwrap_or("").to_string();
    let ctoks: Vec<Ctok> = ids
        .iter()
        .map(|id| repo.ctok(kind.into(), &account, id))
        .collect();
    include_again(repo, &ctoks).await
}

/// Records on the forgotten list, before anything is deleted: a crash after this point leaves
/// the conversation excluded from every later backup, and re-running forget finishes.
async fn record_forgotten(
    repo: &Repo,
    ctoks: &HashSet<Ctok>,
    range: Option<(i64, i64)>,
) -> Result<()> {
    let (old, mut list) = repo.load_forgotten().await?;
    let now = super::now_ms();
    for c in ctoks {
        list.add(
            *c,
            range.map(|(since, until)| format::TimeRange { since, until }),
            now,
        );
    }
    list.generation += 1;
    repo.write_forgotten(&list, &old).await
}

fn no_such_conversation(native_id: &str) -> Error {
    Error::invalid_input(format!("no snapshot holds conversation '{native_id}'"))
        .with_hint("Check the id with `chatvault snapshots --json` or `chatvault conversations`.")
}

/// Rewrites the conversation's trees without the messages in the range (§11.5). The key is
/// kept; the old segments become garbage that prune removes.
async fn forget_range(
    repo: &Repo,
    native_id: &str,
    since: i64,
    until: i64,
    report: &mut ForgetReport,
) -> Result<()> {
    let objects = repo.snapshot_objects().await?;
    let current = repo.snapshots().await?;
    let (_, table) = repo.load_keytable().await?;
    let mut index = repo.load_index().await?;
    let mut uploader = Uploader::new(repo);
    let mut rewritten: HashMap<BlobId, (BlobId, u64, i64, i64)> = HashMap::new();
    let holders = holders(repo, &current, native_id)?;
    record_forgotten(repo, &holders, Some((since, until))).await?;
    let mut any = false;
    for (_, snap) in &current {
        let ctok = ctok_in(repo, snap, native_id);
        let Some(pos) = snap.conversations.iter().position(|c| c.ctok == ctok) else {
            continue;
        };
        any = true;
        let keys = keys_for(&table, &ctok)
            .ok_or_else(|| Error::new(ErrorCode::RepoCorrupt, "a conversation key is missing"))?;
        let old_tree = snap.conversations[pos].tree;
        if rewritten.contains_key(&old_tree) {
            continue;
        }
        let mut tree: Tree =
            format::decode(&repo.read_blob(&index, &old_tree, &keys).await?, "tree")?;
        let mut kept = Vec::new();
        let mut affected = Vec::new();
        for seg in tree.segments.drain(..) {
            if seg.last_ts < since || seg.first_ts >= until {
                kept.push(seg);
            } else {
                let s: format::Segment =
                    format::decode(&repo.read_blob(&index, &seg.id, &keys).await?, "segment")?;
                affected.extend(
                    s.messages
                        .into_iter()
                        .filter(|m| m.ts < since || m.ts >= until),
                );
            }
        }
        for segment in segments_from(affected, repo.config.segment_max_messages as usize) {
            let body = format::encode(&segment);
            let id = keys.blob_id(kind::SEGMENT, &body);
            uploader
                .add(repo, &mut index, &keys, kind::SEGMENT, id, &body)
                .await?;
            let (attachments, attachment_bytes) = crate::repo::backup::stored_attachments(&segment);
            kept.push(SegRef {
                month: segment.month,
                part: segment.part,
                id,
                messages: segment.messages.len() as u32,
                first_ts: segment.messages.first().map_or(0, |m| m.ts),
                last_ts: segment.messages.last().map_or(0, |m| m.ts),
                attachments,
                attachment_bytes,
            });
        }
        kept.sort_by_key(|s| (s.month, s.part));
        tree.segments = kept;
        tree.excluded.push(format::TimeRange { since, until });
        tree.excluded.sort_unstable();
        let body = format::encode(&tree);
        let id = keys.blob_id(kind::TREE, &body);
        uploader
            .add(repo, &mut index, &keys, kind::TREE, id, &body)
            .await?;
        let messages = tree.segments.iter().map(|s| s.messages as u64).sum();
        let first = tree.segments.first().map_or(0, |s| s.first_ts);
        let last = tree.segments.last().map_or(0, |s| s.last_ts);
        rewritten.insert(old_tree, (id, messages, first, last));
    }
    if !any {
        return Err(no_such_conversation(native_id));
    }
    // Data before references: the new trees are in packs and indexed before snapshots change.
    uploader.flush(repo, &mut index).await?;
    for (_, snap) in &current {
        if !snap
            .conversations
            .iter()
            .any(|c| rewritten.contains_key(&c.tree))
        {
            continue;
        }
        let mut s = snap.clone();
        for c in &mut s.conversations {
            if let Some(&(id, messages, first, last)) = rewritten.get(&c.tree) {
                c.tree = id;
                c.messages = messages;
                c.first_ts = first;
                c.last_ts = last;
            }
        }
        s.revision += 1;
        s.totals.messages = s.conversations.iter().map(|c| c.messages).sum();
        repo.write_snapshot(&s).await?;
        report.snapshots_rewritten += 1;
        for (old, _, _) in objects.iter().filter(|(_, id, _)| *id == snap.id) {
            repo.delete(old).await?;
        }
    }
    Ok(())
}

async fn run_forget(repo: &Repo, what: &Forget) -> Result<ForgetReport> {
    let mut report = ForgetReport::default();
    let objects = repo.snapshot_objects().await?;
    let current = repo.snapshots().await?;
    match what {
        Forget::Range {
            conversation,
            since,
            until,
        } => {
            forget_range(repo, conversation, *since, *until, &mut report).await?;
        }
        Forget::Snapshot(prefix) => {
            let snap = super::restore::pick_snapshot(&current, Some(prefix))?;
            repo.note_snapshot_deleted(&snap.id)?;
            for (path, _, _) in objects.iter().filter(|(_, id, _)| *id == snap.id) {
                repo.delete(path).await?;
                report.snapshots_deleted += 1;
            }
        }
        Forget::Conversation(native_id) => {
            let holders = holders(repo, &current, native_id)?;
            record_forgotten(repo, &holders, None).await?;
            let mut gone: HashSet<Ctok> = HashSet::new();
            // References first: rewrite every snapshot without the conversation...
            for (_, snap) in &current {
                let ctok = ctok_in(repo, snap, native_id);
                if !snap.conversations.iter().any(|c| c.ctok == ctok) {
                    continue;
                }
                gone.insert(ctok);
                let mut s: Snapshot = snap.clone();
                s.conversations.retain(|c| c.ctok != ctok);
                s.selection.ctoks.retain(|c| *c != ctok);
                s.revision += 1;
                s.totals = Totals::of(&s.conversations);
                if s.conversations.is_empty() {
                    repo.note_snapshot_deleted(&s.id)?;
                    report.snapshots_deleted += 1;
                } else {
                    repo.write_snapshot(&s).await?;
                    report.snapshots_rewritten += 1;
                }
                for (old, _, _) in objects.iter().filter(|(_, id, _)| *id == snap.id) {
                    repo.delete(old).await?;
                }
            }
            if gone.is_empty() {
                return Err(no_such_conversation(native_id));
            }
            // ...then the keys: a new key table without them, and the old tables deleted.
            let (tables, mut table) = repo.load_keytable().await?;
            let before = table.entries.len();
            table.entries.retain(|e| !gone.contains(&e.ctok));
            report.keys_destroyed = (before - table.entries.len()) as u32;
            table.generation += 1;
            repo.write_keytable(&table).await?;
            for (path, generation) in tables {
                if generation < table.generation {
                    repo.delete(&path).await?;
                }
            }
        }
    }
    Ok(report)
}

/// The token the conversation `native_id` has in the account of `snap`.
fn ctok_in(repo: &Repo, snap: &Snapshot, native_id: &str) -> Ctok {
    repo.ctok(snap.source.kind.into(), &snap.source.account, native_id)
}

/// The tokens of the conversation `native_id` in the accounts of `current` that hold it;
/// `invalid_input` when none does.
fn holders(repo: &Repo, current: &[(String, Snapshot)], native_id: &str) -> Result<HashSet<Ctok>> {
    let holders: HashSet<Ctok> = current
        .iter()
        .map(|(_, snap)| ctok_in(repo, snap, native_id))
        .filter(|c| {
            current
                .iter()
                .any(|(_, s)| s.conversations.iter().any(|r| r.ctok == *c))
        })
        .collect();
    if holders.is_empty() {
        return Err(no_such_conversation(native_id));
    }
    Ok(holders)
}

pub async fn prune(repo: &Repo) -> Result<PruneReport> {
    Lock::with(repo, Mode::Exclusive, Op::Prune, async || {
        run_prune(repo).await
    })
    .await
}

/// Strict prune: afterwards no pack holds a blob that no snapshot reaches (§11.6).
async fn run_prune(repo: &Repo) -> Result<PruneReport> {
    let mut report = PruneReport::default();
    // What is deleted is judged from the target's objects, not from cached copies of them.
    repo.read_meta_from_target();
    // Everything is read first; with any object unreadable, nothing is deleted: a damaged
    // snapshot's data, or packs only a damaged index lists, would otherwise look like garbage.
    let current = repo.snapshots().await?;
    let objects = repo.snapshot_objects().await?;
    let (tables, mut table) = repo.load_keytable().await?;
    let index = repo.load_index().await?;
    repo.load_forgotten().await?;
    repo.require_undamaged("prune")?;

    delete_superseded_revisions(repo, &current, objects).await?;
    let Live { blobs: live, ctoks } = mark(repo, &current, &table, &index).await?;
    // 3. Keys nobody references go.
    let before = table.entries.len();
    table.entries.retain(|e| ctoks.contains(&e.ctok));
    if table.entries.len() != before {
        table.generation += 1;
        repo.write_keytable(&table).await?;
    }
    let Sweep { keep, doomed } = sweep(repo, &index, &live, &mut report).await?;

    // 5.-8. New index over what remains, then delete old tables, old indexes, dead packs.
    let remaining: HashSet<Name> = keep.iter().map(|p| p.name).collect();
    let reindex = !doomed.is_empty() || index.objects.len() > 1;
    if reindex {
        repo.write_index_whole(keep, index.objects.clone()).await?;
    }
    for (path, generation) in tables {
        if generation < table.generation {
            repo.delete(&path).await?;
        }
    }
    if reindex {
        for name in &index.objects {
            repo.delete(&format!("index/{}", hex::encode(name))).await?;
        }
    }
    for name in doomed {
        repo.delete(&pack_path(&name)).await?;
    }
    delete_old_unindexed_packs(repo, &index, &remaining, &mut report).await?;
    Ok(report)
}

/// Prune step 1: the leftovers of superseded snapshot revisions.
async fn delete_superseded_revisions(
    repo: &Repo,
    current: &[(String, Snapshot)],
    objects: Vec<(String, [u8; 16], u32)>,
) -> Result<()> {
    let current_paths: HashSet<&str> = current.iter().map(|(p, _)| p.as_str()).collect();
    for (path, _, _) in objects {
        if !current_paths.contains(path.as_str()) {
            repo.delete(&path).await?;
        }
    }
    Ok(())
}

/// What the snapshots reach.
struct Live {
    /// Every reachable blob, with the key that opens it.
    blobs: HashMap<BlobId, ConvKeys>,
    /// The conversations whose keys are still needed.
    ctoks: HashSet<Ctok>,
}

/// Prune step 2, mark: every tree of every snapshot, its segments and their attachment chunks.
async fn mark(
    repo: &Repo,
    current: &[(String, Snapshot)],
    table: &KeyTable,
    index: &super::Index,
) -> Result<Live> {
    let mut live = Live {
        blobs: HashMap::new(),
        ctoks: HashSet::new(),
    };
    for (spath, snap) in current {
        for conv in &snap.conversations {
            let keys = keys_for(table, &conv.ctok).ok_or_else(|| {
                Error::new(ErrorCode::RepoCorrupt, format!("{spath}: a conversation key is missing; prune stopped before deleting anything"))
                    .with_hint("Run `chatvault verify`.")
            })?;
            live.ctoks.insert(conv.ctok);
            let tree: Tree =
                format::decode(&repo.read_blob(index, &conv.tree, &keys).await?, "tree")?;
            live.blobs.insert(conv.tree, keys.clone());
            for seg in tree.segments {
                mark_segment(repo, index, &seg, &keys, &mut live.blobs).await?;
            }
        }
    }
    Ok(live)
}

/// A segment is live, and so are the attachment chunks it references.
async fn mark_segment(
    repo: &Repo,
    index: &super::Index,
    seg: &SegRef,
    keys: &ConvKeys,
    live: &mut HashMap<BlobId, ConvKeys>,
) -> Result<()> {
    if !index.blobs.contains_key(&seg.id) {
        return Err(Error::new(
            ErrorCode::RepoObjectMissing,
            "a segment is missing; prune stopped before deleting anything",
        )
        .with_hint("Run `chatvault verify`."));
    }
    live.insert(seg.id, keys.clone());
    if seg.attachments == 0 {
        return Ok(());
    }
    let body = repo.read_blob(index, &seg.id, keys).await?;
    let segment: format::Segment = format::decode(&body, "segment")?;
    for a in segment
        .messages
        .into_iter()
        .flat_map(|m| m.attachments)
        .filter(|a| a.state == AttachState::Stored)
    {
        for c in a.chunks {
            live.insert(c, keys.clone());
        }
    }
    Ok(())
}

/// What the sweep leaves: the packs of the new index, and the packs to delete.
struct Sweep {
    keep: Vec<IndexPack>,
    doomed: Vec<Name>,
}

/// Prune step 4, sweep: keeps whole packs that are all live; rewrites mixed ones with fresh
/// nonces.
async fn sweep(
    repo: &Repo,
    index: &super::Index,
    live: &HashMap<BlobId, ConvKeys>,
    report: &mut PruneReport,
) -> Result<Sweep> {
    let new_writer = || PackWriter::new(CLASS_S, repo.config.pack_target.class_s as usize);
    let mut keep: Vec<IndexPack> = Vec::new();
    let mut doomed: Vec<Name> = Vec::new();
    let mut writer = new_writer();
    let mut written: HashSet<BlobId> = HashSet::new();
    for pack in index.pack_lists() {
        let name = &pack.name;
        let live_here: Vec<_> = pack
            .blobs
            .iter()
            .filter(|b| live.contains_key(&b.id))
            .collect();
        if live_here.len() == pack.blobs.len() && live_here.iter().all(|b| written.insert(b.id)) {
            report.blobs_kept += live_here.len() as u64;
            keep.push(pack);
            continue;
        }
        report.blobs_removed += (pack.blobs.len() - live_here.len()) as u64;
        doomed.push(*name);
        if live_here.is_empty() {
            report.packs_deleted += 1;
            continue;
        }
        report.packs_rewritten += 1;
        for &&blob in &live_here {
            let id = blob.id;
            if written.contains(&id) && keep.iter().any(|p| p.blobs.iter().any(|b| b.id == id)) {
                continue;
            }
            let sealed = reseal(repo, index, name, blob, &live[&id]).await?;
            if writer.would_overflow(sealed.len()) {
                let full = std::mem::replace(&mut writer, new_writer());
                keep.push(full.upload(repo).await?);
            }
            writer.add(id, blob.kind, sealed, blob.raw_len as usize);
            written.insert(id);
            report.blobs_kept += 1;
        }
    }
    if !writer.is_empty() {
        keep.push(writer.upload(repo).await?);
    }
    Ok(Sweep { keep, doomed })
}

/// A live blob of a pack being rewritten, opened and sealed again with a fresh nonce.
async fn reseal(
    repo: &Repo,
    index: &super::Index,
    pack: &Name,
    blob: IndexBlob,
    keys: &ConvKeys,
) -> Result<Vec<u8>> {
    let path = pack_path(pack);
    let identity = format!("blob/{}", hex::encode(blob.id));
    let binding = envelope::Binding::new(&keys.aead, repo.key_id(), blob.kind, &identity);
    // Through the cache (whole packs): which blobs survive is not read off the target.
    let loc = super::BlobAt::of(*pack, &blob);
    let body = repo
        .open_blob_at(index, &loc, |raw| {
            binding
                .open(raw, super::blob_max_out(blob.kind))
                .map_err(|e| e.context(&path))
        })
        .await?;
    Ok(binding.seal(&body, Padding::Padme))
}

/// Packs no index lists (a run killed before indexing them) are garbage too, once they are
/// older than any live lease: a writer indexes each pack right after it lands, so a younger
/// one may belong to a run this prune cannot see (one whose lease it took for expired).
/// Judged from the index this prune holds in memory, never from a re-listing.
async fn delete_old_unindexed_packs(
    repo: &Repo,
    index: &super::Index,
    remaining: &HashSet<Name>,
    report: &mut PruneReport,
) -> Result<()> {
    let times = repo.lease_times;
    let now = repo.storage_now().await;
    for (path, name) in repo.list_names("data/").await? {
        if remaining.contains(&name) || index.packs.contains_key(&name) {
            continue;
        }
        let age = repo
            .operator()
            .stat(&path)
            .await
            .ok()
            .and_then(|m| m.last_modified())
            .map(|t| now - t.into_inner().as_millisecond());
        if age.is_some_and(|a| a > times.ttl_ms + times.skew_ms) {
            repo.delete(&path).await?;
            report.packs_deleted += 1;
        } else {
            report.packs_young_unindexed += 1;
        }
    }
    Ok(())
}

/// Which snapshots of a selection to keep, like restic's `forget --keep-*`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Retention {
    /// The newest N.
    pub last: Option<u32>,
    /// The newest snapshot of each of the last N days (weeks, months) that have one.
    pub daily: Option<u32>,
    pub weekly: Option<u32>,
    pub monthly: Option<u32>,
}

impl Retention {
    pub fn is_empty(&self) -> bool {
        self.last.is_none()
            && self.daily.is_none()
            && self.weekly.is_none()
            && self.monthly.is_none()
    }

    /// The ids to keep among `(id, finished)` snapshots, periods counted in `tz`. The newest
    /// snapshot is always kept.
    pub fn keep(
        &self,
        snapshots: &[([u8; 16], jiff::Timestamp)],
        tz: &jiff::tz::TimeZone,
    ) -> HashSet<[u8; 16]> {
        let mut sorted: Vec<_> = snapshots.to_vec();
        sorted.sort_by_key(|(id, t)| std::cmp::Reverse((*t, *id)));
        let mut keep = HashSet::new();
        if let Some((id, _)) = sorted.first() {
            keep.insert(*id);
        }
        if let Some(n) = self.last {
            keep.extend(sorted.iter().take(n as usize).map(|(id, _)| *id));
        }
        let mut per = |n: Option<u32>, key: &dyn Fn(jiff::civil::Date) -> (i16, i16)| {
            let Some(n) = n else { return };
            let mut seen: Vec<(i16, i16)> = Vec::new();
            for (id, t) in &sorted {
                let k = key(tz.to_datetime(*t).date());
                if !seen.contains(&k) {
                    if seen.len() == n as usize {
                        break;
                    }
                    seen.push(k);
                    keep.insert(*id);
                }
            }
        };
        per(self.daily, &|d| (d.year(), d.day_of_year()));
        per(self.weekly, &|d| {
            let w = d.iso_week_date();
            (w.year(), w.week() as i16)
        });
        per(self.monthly, &|d| (d.year(), d.month() as i16));
        keep
    }
}

/// Applies `policy` to the lineage `snapshot_id` belongs to: forgets the other snapshots and
/// prunes what only they held. Returns how many snapshots were forgotten.
pub async fn apply_retention(
    repo: &Repo,
    snapshot_id: &str,
    policy: &Retention,
) -> Result<RetentionReport> {
    Lock::with(repo, Mode::Exclusive, Op::Forget, async || {
        let current = repo.snapshots().await?;
        let Some((_, latest)) = current
            .iter()
            .find(|(_, s)| hex::encode(s.id) == snapshot_id)
        else {
            return Ok(RetentionReport::default());
        };
        let same: Vec<([u8; 16], jiff::Timestamp)> = current
            .iter()
            .map(|(_, s)| s)
            .filter(|s| s.lineage == latest.lineage)
            .map(|s| {
                (
                    s.id,
                    jiff::Timestamp::from_millisecond(s.finished)
                        .unwrap_or(jiff::Timestamp::UNIX_EPOCH),
                )
            })
            .collect();
        let keep = policy.keep(&same, &jiff::tz::TimeZone::system());
        let surplus: Vec<[u8; 16]> = same
            .iter()
            .map(|(id, _)| *id)
            // The snapshot this run just made stays whatever its time says: on a computer
            // whose clock is behind it would sort oldest, yet it alone has the new messages.
            .filter(|id| !keep.contains(id) && *id != latest.id)
            .collect();
        if surplus.is_empty() {
            return Ok(RetentionReport::default());
        }
        for id in &surplus {
            repo.note_snapshot_deleted(id)?;
        }
        for (path, id, _) in repo.snapshot_objects().await? {
            if surplus.contains(&id) {
                repo.delete(&path).await?;
            }
        }
        let prune = run_prune(repo).await?;
        Ok(RetentionReport {
            snapshots_removed: surplus.len() as u32,
            prune: Some(prune),
        })
    })
    .await
}

/// What a retention policy removed after a run.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct RetentionReport {
    pub snapshots_removed: u32,
    pub prune: Option<PruneReport>,
}

#[cfg(test)]
mod retention_tests {
    use super::*;

    #[test]
    fn keeps_the_newest_of_each_period_and_always_the_newest() {
        let t = |s: &str| s.parse::<jiff::Timestamp>().unwrap();
        let snaps: Vec<([u8; 16], jiff::Timestamp)> = [
            "2026-11-26T10:00:00Z",
            "2026-11-26T08:00:00Z",
            "2026-11-25T10:00:00Z",
            "2026-11-18T10:00:00Z",
            "2026-10-31T10:00:00Z",
            "2026-09-15T10:00:00Z",
        ]
        .iter()
        .enumerate()
        .map(|(i, s)| ([i as u8; 16], t(s)))
        .collect();
        let utc = jiff::tz::TimeZone::UTC;
        let kept = |policy: Retention| {
            let mut v: Vec<u8> = policy
                .keep(&snaps, &utc)
                .into_iter()
                .map(|id| id[0])
                .collect();
            v.sort();
            v
        };
        // (last, daily, weekly, monthly) and the snapshots kept.
        let cases: [([Option<u32>; 4], Vec<u8>); 4] = [
            ([None, Some(2), None, None], vec![0, 2]),
            ([None, None, Some(2), None], vec![0, 3]),
            ([None, None, None, Some(3)], vec![0, 4, 5]),
            ([Some(1), None, None, None], vec![0]),
        ];
        for ([last, daily, weekly, monthly], ids) in cases {
            let policy = Retention {
                last,
                daily,
                weekly,
                monthly,
            };
            assert_eq!(kept(policy), ids, "{policy:?}");
        }
        assert_eq!(
            kept(Retention::default()),
            vec![0],
            "the newest survives any policy"
        );
    }
}
