//! The index's blobs in memory: every blob of every pack, once, in the packs' order, and a
//! hash table from a blob's id to its first copy.
//!
//! A big store's index lists a million blobs. Held as a `HashMap` (for lookups) beside each
//! pack's list (for compaction, prune and verify), every blob cost about 150 bytes: its entry
//! twice, the map's empty buckets, and for a while both halves of the map when it doubled.
//! Here a blob costs its entry (52 bytes, in blocks that never move) and a 4-byte slot of the
//! table (with the table's own slack, about 10 bytes). A pack's list is the run of entries it
//! added, so it is rebuilt exactly, a blob stored twice included.

use super::format::{BlobId, IndexBlob};
use super::BlobLoc;

/// Entries per block: blocks are allocated whole and never copied as the index grows.
const BLOCK: usize = 1 << 16;

#[derive(Debug, Clone, Copy)]
struct Entry {
    id: BlobId,
    loc: BlobLoc,
}

#[derive(Clone, Default)]
pub struct BlobTable {
    blocks: Vec<Vec<Entry>>,
    len: usize,
    /// The position of each id's first entry.
    first: hashbrown::HashTable<u32>,
}

impl std::fmt::Debug for BlobTable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BlobTable")
            .field("entries", &self.len)
            .field("ids", &self.first.len())
            .finish()
    }
}

/// Ids are keyed hashes: their first 8 bytes, mixed so that the table's control bytes (the
/// top bits) depend on all of them even for ids that are not (tests).
fn hash(id: &BlobId) -> u64 {
    let mut head = [0u8; 8];
    head.copy_from_slice(&id.0[..8]);
    let m = u64::from_le_bytes(head).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    m ^ (m >> 32)
}

impl BlobTable {
    fn entry(&self, at: u32) -> &Entry {
        let at = at as usize;
        &self.blocks[at / BLOCK][at % BLOCK]
    }

    /// Entries so far (a blob stored in two packs counts twice).
    pub fn entries(&self) -> usize {
        self.len
    }

    /// Distinct blobs.
    pub fn len(&self) -> usize {
        self.first.len()
    }

    pub fn is_empty(&self) -> bool {
        self.first.is_empty()
    }

    /// Room for `additional` more blobs without growing the table.
    pub fn reserve(&mut self, additional: usize) {
        let blocks = &self.blocks;
        self.first.reserve(additional, |&at| {
            let at = at as usize;
            hash(&blocks[at / BLOCK][at % BLOCK].id)
        });
    }

    /// Appends a blob's entry; the table points at it unless an earlier entry has the id.
    /// Returns the entry's position.
    pub fn push(&mut self, id: BlobId, loc: BlobLoc) -> u32 {
        let at = u32::try_from(self.len).expect("fewer than 4 billion blobs in an index");
        if self.blocks.last().is_none_or(|b| b.len() == BLOCK) {
            self.blocks.push(Vec::with_capacity(BLOCK));
        }
        self.blocks
            .last_mut()
            .expect("a block with room")
            .push(Entry { id, loc });
        self.len += 1;
        let h = hash(&id);
        let blocks = &self.blocks;
        let entry_of = |at: u32| -> &Entry {
            let at = at as usize;
            &blocks[at / BLOCK][at % BLOCK]
        };
        if self.first.find(h, |&i| entry_of(i).id == id).is_none() {
            self.first.insert_unique(h, at, |&i| hash(&entry_of(i).id));
        }
        at
    }

    pub fn get(&self, id: &BlobId) -> Option<&BlobLoc> {
        self.first
            .find(hash(id), |&i| self.entry(i).id == *id)
            .map(|&i| &self.entry(i).loc)
    }

    /// Every distinct blob id.
    pub fn ids(&self) -> impl Iterator<Item = &BlobId> + '_ {
        self.first.iter().map(|&i| &self.entry(i).id)
    }

    pub fn contains_key(&self, id: &BlobId) -> bool {
        self.get(id).is_some()
    }

    /// The entries from `start` to `end`, as a pack's list.
    pub fn range(&self, start: u32, end: u32) -> impl Iterator<Item = IndexBlob> + '_ {
        (start..end).map(|i| {
            let e = self.entry(i);
            IndexBlob {
                id: e.id,
                kind: e.loc.kind,
                offset: e.loc.offset,
                length: e.loc.length,
                raw_len: e.loc.raw_len,
            }
        })
    }

    /// The entries from `start` to `end` with their places.
    pub fn locs(&self, start: u32, end: u32) -> impl Iterator<Item = (BlobId, BlobLoc)> + '_ {
        (start..end).map(|i| {
            let e = self.entry(i);
            (e.id, e.loc)
        })
    }
}
