//! Packs: blobs back to back, then an encrypted trailer and its length (FORMAT.md §7.1).

use super::format::{
    self, kind, BlobId, IndexBlob, IndexPack, Name, ObjectKind, PackClass, PackTrailer, TrailerBlob,
};
use super::{pack_path, random_name, Repo};
use crate::error::{Error, ErrorCode, Result};

/// Packs of trees and segments.
pub const CLASS_S: PackClass = PackClass::S;
/// Packs of attachment chunks.
pub const CLASS_A: PackClass = PackClass::A;

/// Collects sealed blobs until the pack is full.
pub struct PackWriter {
    class: PackClass,
    target: usize,
    /// The sealed blobs, each as it was sealed: the pack is never copied into one buffer.
    parts: Vec<bytes::Bytes>,
    /// Their bytes.
    len: usize,
    blobs: Vec<TrailerBlob>,
    /// The ids in `blobs`, for dedup within the open pack (thousands of small segments).
    ids: std::collections::HashSet<BlobId>,
}

impl PackWriter {
    pub fn new(class: PackClass, target: usize) -> PackWriter {
        PackWriter {
            class,
            target,
            parts: Vec::new(),
            len: 0,
            blobs: Vec::new(),
            ids: std::collections::HashSet::new(),
        }
    }

    /// An empty writer of the same class and target.
    pub(crate) fn renew(&self) -> PackWriter {
        PackWriter::new(self.class, self.target)
    }

    pub fn is_empty(&self) -> bool {
        self.blobs.is_empty()
    }

    pub fn contains(&self, id: &BlobId) -> bool {
        self.ids.contains(id)
    }

    /// True when adding `len` more bytes would cross the target size.
    pub(crate) fn would_overflow(&self, len: usize) -> bool {
        !self.blobs.is_empty() && self.len + len > self.target
    }

    pub fn add(&mut self, id: BlobId, kind: ObjectKind, sealed: Vec<u8>, raw_len: usize) {
        self.ids.insert(id);
        self.blobs.push(TrailerBlob {
            id,
            kind,
            length: sealed.len() as u32,
            raw_len: raw_len as u32,
        });
        self.len += sealed.len();
        self.parts.push(sealed.into());
    }

    /// Uploads the pack and returns its index entry.
    pub async fn upload(self, repo: &Repo) -> Result<IndexPack> {
        let full = self.finish(repo);
        repo.putter()
            .put(&full.path, full.bytes, full.cached)
            .await?;
        Ok(full.entry)
    }

    /// The pack's bytes with their trailer, where they go, and the index entry they will have
    /// once they land.
    pub(crate) fn finish(self, repo: &Repo) -> FullPack {
        let name: Name = random_name();
        let path = pack_path(&name);
        let trailer = PackTrailer {
            class: self.class,
            blobs: self.blobs,
        };
        let identity = format!("data/{}", hex::encode(name));
        let mut sealed = repo.seal_trailer(&identity, &format::encode(&trailer), self.len as u64);
        let tlen = sealed.len() as u32;
        sealed.extend_from_slice(&tlen.to_le_bytes());
        let len = (self.len + sealed.len()) as u64;
        let mut parts = self.parts;
        parts.push(sealed.into());
        let bytes = opendal::Buffer::from(parts);
        let mut offset = 0u32;
        let blobs = trailer
            .blobs
            .iter()
            .map(|b| {
                let entry = IndexBlob {
                    id: b.id,
                    kind: b.kind,
                    offset,
                    length: b.length,
                    raw_len: b.raw_len,
                };
                offset += b.length;
                entry
            })
            .collect();
        FullPack {
            path,
            bytes,
            // Trees and segments stay readable here without asking the target (§7.3).
            cached: self.class == CLASS_S,
            ids: self.ids,
            entry: IndexPack {
                name,
                class: self.class,
                len,
                blobs,
            },
        }
    }
}

/// A pack ready to upload ([`PackWriter::finish`]).
pub(crate) struct FullPack {
    pub path: String,
    pub bytes: opendal::Buffer,
    /// Kept in the local cache too (class S).
    pub cached: bool,
    /// The blobs it holds, for dedup while it is on its way.
    pub ids: std::collections::HashSet<BlobId>,
    pub entry: IndexPack,
}

/// Reads a pack's trailer (for verify and for adopting packs an interrupted run left behind).
pub(crate) fn read_trailer(repo: &Repo, name: &Name, pack: &[u8]) -> Result<PackTrailer> {
    let path = pack_path(name);
    if pack.len() < 4 {
        return Err(Error::new(
            ErrorCode::RepoTruncated,
            format!("{path}: {} bytes", pack.len()),
        ));
    }
    let tlen = u32::from_le_bytes(pack[pack.len() - 4..].try_into().expect("4 bytes")) as usize;
    if tlen + 4 > pack.len() {
        return Err(Error::new(
            ErrorCode::RepoTruncated,
            format!("{path}: trailer length {tlen} exceeds the pack"),
        ));
    }
    let start = pack.len() - 4 - tlen;
    let body = repo.open_meta(
        kind::PACK_TRAILER,
        &format!("data/{}", hex::encode(name)),
        &pack[start..pack.len() - 4],
    )?;
    let t: PackTrailer = format::decode(&body, &path)?;
    let sum: u64 = t.blobs.iter().map(|b| b.length as u64).sum();
    if sum != start as u64 {
        return Err(Error::new(
            ErrorCode::RepoCorrupt,
            format!("{path}: blob lengths do not add up to the pack"),
        ));
    }
    Ok(t)
}
