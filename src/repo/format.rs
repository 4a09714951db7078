//! The bodies of repository objects and blobs (docs/FORMAT.md §6-§10, §11.1). Every body is
//! one `body_version` byte followed by postcard; fields are encoded in declaration order, so
//! the structs below are the format: do not reorder fields.

use crate::crypto::keys::SubKey;
use crate::error::{Error, ErrorCode, Result};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use std::fmt;
use zeroize::{Zeroize, ZeroizeOnDrop};

pub const BODY_VERSION: u8 = 1;
pub const FORMAT: u16 = 1;

pub type Name = [u8; 32];
pub type BlobId = [u8; 32];
pub type Ctok = [u8; 16];

/// Object kinds (envelope `kind`, FORMAT.md §3).
pub mod kind {
    pub const CONFIG: u8 = 0x01;
    pub const KEY: u8 = 0x02;
    pub const KEYTABLE: u8 = 0x03;
    pub const INDEX: u8 = 0x04;
    pub const SNAPSHOT: u8 = 0x05;
    pub const LOCK: u8 = 0x06;
    pub const PACK_TRAILER: u8 = 0x07;
    pub const FORGOTTEN: u8 = 0x08;
    pub const TREE: u8 = 0x10;
    pub const SEGMENT: u8 = 0x11;
    pub const CHUNK: u8 = 0x12;
}

pub fn encode<T: Serialize>(value: &T) -> Vec<u8> {
    let mut out = vec![BODY_VERSION];
    out.extend(postcard::to_stdvec(value).expect("in-memory postcard encoding cannot fail"));
    out
}

/// Decodes a body, rejecting unknown versions and trailing bytes.
pub fn decode<T: DeserializeOwned>(body: &[u8], what: &str) -> Result<T> {
    let (&version, rest) = body
        .split_first()
        .ok_or_else(|| Error::new(ErrorCode::RepoCorrupt, format!("{what}: empty body")))?;
    if version != BODY_VERSION {
        return Err(Error::new(
            ErrorCode::RepoVersionUnsupported,
            format!("{what}: body version {version} is newer than this ChatVault understands"),
        )
        .with_hint("Update ChatVault and try again."));
    }
    let (value, remainder) = postcard::take_from_bytes::<T>(rest)
        .map_err(|e| Error::new(ErrorCode::RepoCorrupt, format!("{what}: {e}")))?;
    if !remainder.is_empty() {
        return Err(Error::new(
            ErrorCode::RepoCorrupt,
            format!("{what}: {} trailing bytes", remainder.len()),
        ));
    }
    Ok(value)
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Config {
    pub format: u16,
    pub repo_id: [u8; 16],
    pub created: i64,
    pub max_body_version: u8,
    pub pack_target: (u32, u32),
    pub cdc: (u32, u32, u32, u8),
    pub segment_max_messages: u16,
}

/// A conversation key CK as the key table holds it: encoded as its 32 bytes (a newtype adds
/// nothing to postcard), wiped when dropped, never printed.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize, Zeroize, ZeroizeOnDrop)]
pub struct ConvKey([u8; 32]);

impl ConvKey {
    pub fn of(ck: &SubKey) -> ConvKey {
        ConvKey(*ck.expose())
    }

    pub fn subkey(&self) -> SubKey {
        SubKey::from_bytes(self.0)
    }
}

impl fmt::Debug for ConvKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ConvKey([redacted])")
    }
}

/// Its keys are [`ConvKey`]s, so a table wipes them when dropped and prints none of them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyTable {
    pub generation: u64,
    /// (ctok, CK, created), sorted by ctok.
    pub entries: Vec<(Ctok, ConvKey, i64)>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AttachmentRec {
    pub role: u8,
    pub path: String,
    pub name: Option<String>,
    pub mime: Option<String>,
    pub size: u64,
    /// 0 stored, 1 not in the store, 2 skipped by policy, 3 unreadable.
    pub state: u8,
    pub chunks: Vec<BlobId>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MessageRec {
    pub id: String,
    pub ts: i64,
    pub sender: Option<String>,
    pub sender_name: Option<String>,
    pub from_me: bool,
    pub kind: u16,
    pub text: String,
    pub reply_to: Option<String>,
    pub quoted_text: Option<String>,
    pub url: Option<String>,
    pub raw_type: i64,
    pub payload: Option<Vec<u8>>,
    pub edited: Option<i64>,
    pub attachments: Vec<AttachmentRec>,
    pub ext: Vec<(u16, Vec<u8>)>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Segment {
    /// YYYYMM.
    pub month: u32,
    pub part: u16,
    pub messages: Vec<MessageRec>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SegRef {
    pub month: u32,
    pub part: u16,
    pub id: BlobId,
    pub messages: u32,
    pub first_ts: i64,
    pub last_ts: i64,
    pub attachments: u32,
    pub attachment_bytes: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tree {
    pub ctok: Ctok,
    pub native_id: String,
    /// 0 other, 1 direct, 2 group.
    pub conv_kind: u8,
    pub title: String,
    pub members: Vec<(String, Option<String>)>,
    pub avatar: Option<AttachmentRec>,
    pub cursor: Vec<u8>,
    pub rescanned: i64,
    pub excluded: Vec<(i64, i64)>,
    pub segments: Vec<SegRef>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConvRef {
    pub ctok: Ctok,
    pub tree: BlobId,
    pub messages: u64,
    pub attachments: u64,
    pub attachment_bytes: u64,
    pub first_ts: i64,
    pub last_ts: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Snapshot {
    pub id: [u8; 16],
    pub revision: u32,
    pub lineage: [u8; 16],
    pub parent: Option<[u8; 16]>,
    pub started: i64,
    pub finished: i64,
    /// (source_kind, account id, account display name, store-wide cursor)
    pub source: (u8, String, Option<String>, Vec<u8>),
    /// (all conversations?, chosen ctoks sorted, since, until)
    pub selection: (bool, Vec<Ctok>, Option<i64>, Option<i64>),
    pub keytable_gen: u64,
    pub conversations: Vec<ConvRef>,
    /// (conversations, messages, attachments, attachment bytes)
    pub totals: (u32, u64, u64, u64),
    /// (new segments, reused segments, new chunks, bytes uploaded, warnings)
    pub run: (u64, u64, u64, u64, u32),
    pub complete: bool,
    pub app: String,
}

/// What follows the 32-byte store fingerprint in `Snapshot::source.3` (FORMAT.md §11.2):
/// the marks an incremental run reads on from. A snapshot without it is read on from by a
/// full read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoreMarks {
    /// 1.
    pub version: u8,
    /// SHA-256 of the selection and the forgotten list's generation the marks were taken with.
    pub settings: Vec<u8>,
    /// The oldest `rescanned` among the snapshot's trees: the next full read is due a week on.
    pub full_read: i64,
    /// Segments the snapshot's trees list, all together.
    pub segments: u64,
    /// (shard name, largest row id read) per shard: a database file, or a chat table in one.
    pub shards: Vec<(String, i64)>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IndexPack {
    pub name: Name,
    pub class: u8,
    pub len: u64,
    /// (id, kind, offset, length, raw_len)
    pub blobs: Vec<(BlobId, u8, u32, u32, u32)>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IndexBody {
    pub supersedes: Vec<Name>,
    pub packs: Vec<IndexPack>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PackTrailer {
    pub class: u8,
    /// (id, kind, length, raw_len) in file order.
    pub blobs: Vec<(BlobId, u8, u32, u32)>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LockBody {
    pub lock_id: [u8; 16],
    /// 1 shared, 2 append, 3 exclusive.
    pub mode: u8,
    /// 1 backup, 2 restore, 3 verify, 4 forget, 5 prune, 6 key rotate.
    pub op: u8,
    pub holder: [u8; 16],
    pub seq: u32,
    pub created: i64,
    pub expires: i64,
}

/// Message kind codes, fixed by the format (not the Rust enum order).
pub fn kind_code(k: crate::model::MessageKind) -> u16 {
    use crate::model::MessageKind as K;
    match k {
        K::Unknown => 0,
        K::Text => 1,
        K::Image => 2,
        K::Voice => 3,
        K::Video => 4,
        K::File => 5,
        K::Link => 6,
        K::Quote => 7,
        K::Sticker => 8,
        K::Location => 9,
        K::Call => 10,
        K::Transfer => 11,
        K::RedPacket => 12,
        K::ContactCard => 13,
        K::System => 14,
        K::Recalled => 15,
    }
}

pub fn kind_from_code(c: u16) -> crate::model::MessageKind {
    use crate::model::MessageKind as K;
    match c {
        1 => K::Text,
        2 => K::Image,
        3 => K::Voice,
        4 => K::Video,
        5 => K::File,
        6 => K::Link,
        7 => K::Quote,
        8 => K::Sticker,
        9 => K::Location,
        10 => K::Call,
        11 => K::Transfer,
        12 => K::RedPacket,
        13 => K::ContactCard,
        14 => K::System,
        15 => K::Recalled,
        _ => K::Unknown,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bodies_round_trip_and_reject_trailing_bytes_and_new_versions() {
        let t = KeyTable {
            generation: 3,
            entries: vec![([1; 16], ConvKey([2; 32]), 5)],
        };
        let bytes = encode(&t);
        assert_eq!(bytes[0], BODY_VERSION);
        assert_eq!(decode::<KeyTable>(&bytes, "t").unwrap(), t);
        let mut longer = bytes.clone();
        longer.push(0);
        assert_eq!(
            decode::<KeyTable>(&longer, "t").unwrap_err().code(),
            ErrorCode::RepoCorrupt
        );
        let mut newer = bytes;
        newer[0] = 2;
        assert_eq!(
            decode::<KeyTable>(&newer, "t").unwrap_err().code(),
            ErrorCode::RepoVersionUnsupported
        );
    }

    #[test]
    fn a_key_table_is_encoded_as_raw_key_bytes() {
        #[derive(Serialize)]
        struct Plain {
            generation: u64,
            entries: Vec<(Ctok, [u8; 32], i64)>,
        }
        let plain = Plain {
            generation: 3,
            entries: vec![([1; 16], [0xab; 32], 5)],
        };
        let table = KeyTable {
            generation: 3,
            entries: vec![([1; 16], ConvKey([0xab; 32]), 5)],
        };
        assert_eq!(encode(&table), encode(&plain));
    }

    #[test]
    fn a_key_table_never_prints_its_keys() {
        let key = [0xa7u8; 32];
        let table = KeyTable {
            generation: 1,
            entries: vec![([1; 16], ConvKey(key), 5)],
        };
        for shown in [format!("{table:?}"), format!("{table:#?}")] {
            assert!(!shown.contains(&hex::encode(key)), "{shown}");
            assert!(!shown.contains(&hex::encode_upper(key)), "{shown}");
            assert!(
                !shown.contains("a7, a7") && !shown.contains("A7, A7"),
                "{shown}"
            );
            // 0xa7 = 167
            assert!(!shown.contains("167"), "{shown}");
            assert!(shown.contains("redacted"), "{shown}");
        }
        fn wiped_on_drop<T: ZeroizeOnDrop>() {}
        wiped_on_drop::<ConvKey>();
    }

    #[test]
    fn every_kind_has_a_distinct_fixed_code() {
        use crate::model::MessageKind as K;
        let all = [
            K::Unknown,
            K::Text,
            K::Image,
            K::Voice,
            K::Video,
            K::File,
            K::Link,
            K::Quote,
            K::Sticker,
            K::Location,
            K::Call,
            K::Transfer,
            K::RedPacket,
            K::ContactCard,
            K::System,
            K::Recalled,
        ];
        for k in all {
            assert_eq!(kind_from_code(kind_code(k)), k);
        }
        assert_eq!(kind_code(K::Text), 1);
        assert_eq!(kind_code(K::Recalled), 15);
    }
}
