//! An incremental run (FORMAT.md §11.2): the rows after the parent snapshot's per-shard marks
//! say which months of which conversations changed; those months are read again through an
//! index the store has and rebuilt exactly as a full read builds them (the same segments, so
//! dedup uploads only what changed), and every other month keeps the parent's segments.

use super::{month_of, parent_tree, BackupReport, ConvBuild, Counts, Sink, Uploader};
use crate::error::Result;
use crate::model::Message;
use crate::repo::forgotten::Forgotten;
use crate::repo::format::{
    self, kind, ConvRef, Ctok, KeyTable, SegRef, ShardMark, Snapshot, StoreMarks, Tree,
};
use crate::repo::{ConvKeys, Index, Repo};
use crate::run::job::{Cancel, Progress};
use crate::store::ChatStore;
use jiff::Timestamp;
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// The tree cursor of a conversation an incremental run rebuilt: it matches no reader's
/// cursor, so the next full read reads the conversation again.
pub(super) fn incremental_cursor() -> Vec<u8> {
    format::encode(&(2u8,))
}

/// A conversation's selected range (since, until).
type RangeOf<'a> = &'a dyn Fn(&str) -> (Option<Timestamp>, Option<Timestamp>);

pub(super) struct Incremental<'a> {
    pub repo: &'a Repo,
    pub store: &'a dyn ChatStore,
    pub parent: &'a Snapshot,
    pub marks: &'a StoreMarks,
    pub keytable: &'a KeyTable,
    pub forgotten: &'a Forgotten,
    /// The chosen conversations (sorted), `None` for everything.
    pub ids: Option<&'a [String]>,
    pub range_of: RangeOf<'a>,
    pub kind_byte: u8,
    pub account: &'a str,
}

/// A conversation with new rows: its months to rebuild and its parent tree.
struct Touched {
    id: String,
    ctok: Ctok,
    keys: ConvKeys,
    months: BTreeSet<u32>,
    tree: Tree,
}

/// What the store says changed since the marks; it needs nothing of the repository, so it is
/// read on a thread of its own while the repository's index loads.
pub(super) struct StoreChanges {
    /// Every shard's new mark.
    shards: Vec<crate::store::ShardEnd>,
    /// The (conversation, months) the new rows land in.
    touched: BTreeMap<String, BTreeSet<u32>>,
    new_rows: u64,
    /// Each touched month's messages of the chosen conversations it touches, read ahead when
    /// the new rows are few (a daily run); otherwise read month by month as they are rebuilt,
    /// which keeps memory to a month's messages.
    months: Option<BTreeMap<u32, Vec<(String, Message)>>>,
}

/// At most this many new rows have their months read ahead (see [`StoreChanges::months`]).
const READ_AHEAD_ROWS: u64 = 20_000;

impl StoreChanges {
    /// 1. New rows, one pass per shard by row id: which (conversation, month) they touch;
    ///    then, when they are few, those months of the chosen conversations (`ids`, `None`
    ///    for every one).
    pub fn read(
        store: &dyn ChatStore,
        marks: &StoreMarks,
        ids: Option<&[String]>,
        cancel: &Cancel,
    ) -> Result<StoreChanges> {
        let after: HashMap<String, crate::store::ShardEnd> = (marks.shards.iter())
            .map(|shard| (shard.name.clone(), shard.end()))
            .collect();
        let mut touched: BTreeMap<String, BTreeSet<u32>> = BTreeMap::new();
        let mut new_rows = 0u64;
        let shards = store.rows_after(&after, &mut |id, secs| {
            new_rows += 1;
            let month = month_of(secs.saturating_mul(1000));
            match touched.get_mut(id) {
                Some(months) => {
                    months.insert(month);
                }
                None => {
                    touched.insert(id.to_string(), BTreeSet::from([month]));
                }
            }
        })?;
        cancel.check()?;
        let mut changes = StoreChanges {
            shards,
            touched,
            new_rows,
            months: None,
        };
        if new_rows <= READ_AHEAD_ROWS {
            let mut by_month: BTreeMap<u32, Vec<String>> = BTreeMap::new();
            for (id, months) in &changes.touched {
                if ids.is_some_and(|ids| ids.binary_search(id).is_err()) {
                    continue;
                }
                for &month in months {
                    by_month.entry(month).or_default().push(id.clone());
                }
            }
            let mut read = BTreeMap::new();
            for (month, who) in by_month {
                cancel.check()?;
                read.insert(month, read_month(store, month, &who)?);
            }
            changes.months = Some(read);
        }
        Ok(changes)
    }
}

/// The messages of `month` of the conversations `ids`, each conversation's in time order.
fn read_month(store: &dyn ChatStore, month: u32, ids: &[String]) -> Result<Vec<(String, Message)>> {
    let (from, to) = month_bounds(month);
    let mut got = Vec::new();
    store.messages_between(ids, from, to, &mut |id, m| {
        if month_of(m.at.as_millisecond()) == month {
            got.push((id.to_string(), m));
        }
        Ok(())
    })?;
    Ok(got)
}

impl Incremental<'_> {
    /// Gives the index back, with the snapshot's conversations and the new marks when it ran.
    /// `None` when only a full read can tell (a shard gone or shorter than its mark, a new
    /// conversation, a parent tree that cannot be read): nothing was written then.
    pub async fn run(
        &self,
        index: Index,
        changes: StoreChanges,
        report: &mut BackupReport,
        progress: &dyn Progress,
        cancel: &Cancel,
    ) -> Result<(Index, Option<(Vec<ConvRef>, StoreMarks)>)> {
        let repo = self.repo;
        let StoreChanges {
            shards,
            touched,
            new_rows,
            mut months,
        } = changes;
        let after: HashMap<&str, i64> = (self.marks.shards.iter())
            .map(|shard| (shard.name.as_str(), shard.mark))
            .collect();
        // A shard that is gone or ends before its mark was rewritten: rows may have moved.
        let now: HashMap<&str, i64> = shards.iter().map(|e| (e.name.as_str(), e.mark)).collect();
        if after
            .iter()
            .any(|(name, was)| now.get(name).is_none_or(|end| end < was))
        {
            return Ok((index, None));
        }

        // 2. The conversations they belong to, each with its parent tree, before anything is
        //    written (a new conversation needs its title and key: a full read does that).
        let parent_refs: HashMap<Ctok, &ConvRef> = self
            .parent
            .conversations
            .iter()
            .map(|c| (c.ctok, c))
            .collect();
        let mut work: Vec<Touched> = Vec::new();
        let mut skipped_forgotten = 0;
        for (id, months) in touched {
            if self.ids.is_some_and(|ids| ids.binary_search(&id).is_err()) {
                continue;
            }
            let ctok = repo.ctok(self.kind_byte, self.account, &id);
            if self.forgotten.is_whole(&ctok) {
                skipped_forgotten += 1;
                continue;
            }
            let Some(parent_ref) = parent_refs.get(&ctok) else {
                return Ok((index, None));
            };
            let Some(entry) = self.keytable.get(&ctok) else {
                return Ok((index, None));
            };
            let keys = ConvKeys::new(entry.ck.subkey());
            let Some(tree) = parent_tree(repo, &index, &parent_ref.tree, &keys, report).await?
            else {
                return Ok((index, None));
            };
            work.push(Touched {
                id,
                ctok,
                keys,
                months,
                tree,
            });
        }
        report.new_rows = new_rows;
        report.skipped_forgotten += skipped_forgotten;
        report.conversations_read = work.len() as u32;

        // 3. Each touched month read again whole and rebuilt; the other months kept.
        progress.phase("conversations", Some(work.len() as u64));
        let mut sink = Sink {
            repo,
            store: self.store,
            index,
            writer: Uploader::new(repo),
            chunks: Uploader::for_chunks(repo),
            counts: Counts::default(),
            progress,
        };
        let mut convs: Vec<ConvRef> = self.parent.conversations.clone();
        let mut segments = self.marks.segments;
        // One build per touched conversation, open while the months are read in order: each
        // month once for all the conversations it touched.
        let mut builds: Vec<(Ctok, Vec<SegRef>, ConvBuild)> = Vec::new();
        let mut by_month: BTreeMap<u32, Vec<usize>> = BTreeMap::new();
        for t in work {
            let (since, until) = (self.range_of)(&t.id);
            let kept: Vec<SegRef> = t
                .tree
                .segments
                .iter()
                .filter(|s| !t.months.contains(&s.month))
                .cloned()
                .collect();
            segments = segments.saturating_sub(t.tree.segments.len() as u64);
            for &month in &t.months {
                by_month.entry(month).or_default().push(builds.len());
            }
            let b = ConvBuild::new(
                t.id,
                t.keys,
                since.map(|t| t.as_millisecond()),
                until.map(|t| t.as_millisecond()),
                Tree {
                    cursor: incremental_cursor(),
                    segments: Vec::new(),
                    ..t.tree
                },
            );
            builds.push((t.ctok, kept, b));
        }
        for (month, who) in by_month {
            cancel.check()?;
            let ids: Vec<String> = who.iter().map(|&i| builds[i].2.id.clone()).collect();
            let position: HashMap<&str, usize> =
                who.iter().map(|&i| (builds[i].2.id.as_str(), i)).collect();
            let read = match months.as_mut().and_then(|m| m.remove(&month)) {
                Some(read) => read,
                None => read_month(self.store, month, &ids)?,
            };
            let got: Vec<(usize, Message)> = read
                .into_iter()
                .filter_map(|(id, m)| position.get(id.as_str()).map(|&i| (i, m)))
                .collect();
            drop(position);
            sink.will_read(
                got.iter()
                    .filter(|(i, m)| builds[*i].2.keeps(m.at.as_millisecond()))
                    .map(|(_, m)| m),
            );
            for (i, m) in got {
                sink.push(&mut builds[i].2, m).await?;
            }
            for &i in &who {
                sink.flush(&mut builds[i].2).await?;
            }
        }
        for (ctok, kept, mut b) in builds {
            cancel.check()?;
            let mut all = kept;
            all.append(&mut b.tree.segments);
            all.sort_by_key(|s| (s.month, s.part));
            b.tree.segments = all;
            segments += b.tree.segments.len() as u64;
            let body = format::encode(&b.tree);
            let tree_id = b.keys.blob_id(kind::TREE, &body);
            sink.writer
                .add(repo, &mut sink.index, &b.keys, kind::TREE, tree_id, &body)
                .await?;
            let s = &b.tree.segments;
            let r = convs
                .iter_mut()
                .find(|c| c.ctok == ctok)
                .expect("a touched conversation is in the parent");
            *r = ConvRef {
                ctok,
                tree: tree_id,
                messages: s.iter().map(|s| s.messages as u64).sum(),
                attachments: s.iter().map(|s| s.attachments as u64).sum(),
                attachment_bytes: s.iter().map(|s| s.attachment_bytes).sum(),
                first_ts: s.iter().map(|s| s.first_ts).min().unwrap_or(0),
                last_ts: s.iter().map(|s| s.last_ts).max().unwrap_or(0),
            };
            progress.advance(1, 0);
        }
        report.new_segments += sink.counts.new_segments;
        report.reused_segments += segments.saturating_sub(sink.counts.new_segments);
        report.attachments += sink.counts.attachments;
        report.attachment_bytes += sink.counts.attachment_bytes;
        report.messages_read = sink.counts.read;
        let Sink {
            mut index,
            mut writer,
            mut chunks,
            ..
        } = sink;
        chunks.flush(repo, &mut index).await?;
        writer.flush(repo, &mut index).await?;
        super::compact_index(repo, &index, false).await?;
        convs.sort_by_key(|c| c.ctok);
        let marks = StoreMarks {
            version: StoreMarks::VERSION,
            settings: self.marks.settings.clone(),
            full_read: self.marks.full_read,
            segments,
            shards: ShardMark::all(shards),
        };
        Ok((index, Some((convs, marks))))
    }
}

/// A month's first and last second (UTC, as segments cut months).
pub(super) fn month_bounds(month: u32) -> (i64, i64) {
    let (y, m) = ((month / 100) as i16, (month % 100) as i8);
    let start = |y: i16, m: i8| {
        jiff::tz::TimeZone::UTC
            .to_timestamp(jiff::civil::date(y, m, 1).at(0, 0, 0, 0))
            .map_or(0, |t| t.as_second())
    };
    let next = if m >= 12 {
        start(y + 1, 1)
    } else {
        start(y, m + 1)
    };
    (start(y, m), next - 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn month_bounds_cover_the_month_exactly() {
        let (a, b) = month_bounds(202602);
        assert_eq!(month_of(a * 1000), 202602);
        assert_eq!(month_of(b * 1000), 202602);
        assert_eq!(month_of((a - 1) * 1000), 202601);
        assert_eq!(month_of((b + 1) * 1000), 202603);
        let (_, dec) = month_bounds(202512);
        assert_eq!(month_of((dec + 1) * 1000), 202601);
    }
}
