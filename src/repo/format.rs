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

/// An id of the format: its bytes on the target (a newtype adds nothing to postcard), hex
/// when printed.
macro_rules! id_type {
    ($(#[$m:meta])* $name:ident, $len:literal) => {
        $(#[$m])*
        #[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub [u8; $len]);

        /// The first 8 bytes: the ids are random or keyed hashes, so these are as good as all
        /// of them, and a big store's index hashes a million ids.
        impl std::hash::Hash for $name {
            fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
                let mut head = [0u8; 8];
                head.copy_from_slice(&self.0[..8]);
                state.write_u64(u64::from_le_bytes(head));
            }
        }

        impl AsRef<[u8]> for $name {
            fn as_ref(&self) -> &[u8] {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&hex::encode(self.0))
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}({self})", stringify!($name))
            }
        }
    };
}

id_type!(
    /// A pack's or an index's or a snapshot's random name (`data/…`, `index/…`).
    Name,
    32
);
id_type!(
    /// A blob's keyed id (FORMAT.md §6.5).
    BlobId,
    32
);
id_type!(
    /// A conversation token (FORMAT.md §6.1).
    Ctok,
    16
);

/// A format field of one byte: an enum encoded as its code, exactly as the `u8` it replaced.
/// A code this version does not know fails the decode (`repo_corrupt`) instead of being read
/// as something else.
macro_rules! byte_enum {
    ($(#[$m:meta])* pub enum $name:ident { $($(#[$vm:meta])* $var:ident = $code:literal,)+ }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
        #[serde(into = "u8", try_from = "u8")]
        #[repr(u8)]
        pub enum $name {
            $($(#[$vm])* $var = $code,)+
        }

        impl From<$name> for u8 {
            fn from(v: $name) -> u8 {
                v as u8
            }
        }

        impl TryFrom<u8> for $name {
            type Error = UnknownCode;
            fn try_from(code: u8) -> std::result::Result<$name, UnknownCode> {
                match code {
                    $($code => Ok($name::$var),)+
                    _ => Err(UnknownCode { what: stringify!($name), code }),
                }
            }
        }
    };
}

/// A byte field holds a code this version of the format does not define.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UnknownCode {
    pub what: &'static str,
    pub code: u8,
}

impl fmt::Display for UnknownCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "unknown {} code {}", self.what, self.code)
    }
}

byte_enum! {
    /// Object and blob kinds (envelope `kind`, FORMAT.md §3).
    pub enum ObjectKind {
        Config = 0x01,
        Key = 0x02,
        KeyTable = 0x03,
        Index = 0x04,
        Snapshot = 0x05,
        Lock = 0x06,
        PackTrailer = 0x07,
        Forgotten = 0x08,
        Tree = 0x10,
        Segment = 0x11,
        Chunk = 0x12,
    }
}

/// The kinds under their short names, as the code reads them (`kind::TREE`).
pub mod kind {
    use super::ObjectKind;
    pub const CONFIG: ObjectKind = ObjectKind::Config;
    pub const KEY: ObjectKind = ObjectKind::Key;
    pub const KEYTABLE: ObjectKind = ObjectKind::KeyTable;
    pub const INDEX: ObjectKind = ObjectKind::Index;
    pub const SNAPSHOT: ObjectKind = ObjectKind::Snapshot;
    pub const LOCK: ObjectKind = ObjectKind::Lock;
    pub const PACK_TRAILER: ObjectKind = ObjectKind::PackTrailer;
    pub const FORGOTTEN: ObjectKind = ObjectKind::Forgotten;
    pub const TREE: ObjectKind = ObjectKind::Tree;
    pub const SEGMENT: ObjectKind = ObjectKind::Segment;
    pub const CHUNK: ObjectKind = ObjectKind::Chunk;
}

byte_enum! {
    /// The store a snapshot was taken from (`SnapSource::kind`, `source_kind` of the ctok,
    /// FORMAT.md §6.1).
    pub enum SourceKind {
        WechatWin3 = 1,
        Wechat4 = 2,
        WechatMac3 = 3,
        Android = 4,
        IMessage = 5,
    }
}

byte_enum! {
    /// What an attachment is to its message (`AttachmentRec::role`).
    pub enum Role {
        Original = 0,
        Thumbnail = 1,
        Avatar = 2,
    }
}

impl From<crate::model::AttachmentRole> for Role {
    fn from(r: crate::model::AttachmentRole) -> Role {
        match r {
            crate::model::AttachmentRole::Original => Role::Original,
            crate::model::AttachmentRole::Thumbnail => Role::Thumbnail,
        }
    }
}

impl Role {
    /// The role as the model has it (an avatar is an original picture).
    pub fn model(self) -> crate::model::AttachmentRole {
        match self {
            Role::Thumbnail => crate::model::AttachmentRole::Thumbnail,
            Role::Original | Role::Avatar => crate::model::AttachmentRole::Original,
        }
    }
}

byte_enum! {
    /// Whether an attachment's contents are in the repository (`AttachmentRec::state`).
    pub enum AttachState {
        Stored = 0,
        /// The store names the file but does not have it (never downloaded, or moved).
        NotInStore = 1,
        SkippedByPolicy = 2,
        Unreadable = 3,
    }
}

byte_enum! {
    /// `Tree::conv_kind`.
    pub enum ConvKind {
        Other = 0,
        Direct = 1,
        Group = 2,
    }
}

impl From<crate::model::ConversationKind> for ConvKind {
    fn from(k: crate::model::ConversationKind) -> ConvKind {
        match k {
            crate::model::ConversationKind::Direct => ConvKind::Direct,
            crate::model::ConversationKind::Group => ConvKind::Group,
        }
    }
}

impl ConvKind {
    /// The kind as the model has it (other conversations are shown as direct ones).
    pub fn model(self) -> crate::model::ConversationKind {
        match self {
            ConvKind::Group => crate::model::ConversationKind::Group,
            ConvKind::Direct | ConvKind::Other => crate::model::ConversationKind::Direct,
        }
    }
}

byte_enum! {
    /// Which packs a pack's blobs go with (`IndexPack::class`, `PackTrailer::class`).
    pub enum PackClass {
        /// Trees and segments.
        S = 0,
        /// Attachment chunks.
        A = 1,
    }
}

byte_enum! {
    /// A lease's mode (`LockBody::mode`): shared runs only clash with exclusive ones; two
    /// appends clash; exclusive clashes with all.
    pub enum Mode {
        Shared = 1,
        Append = 2,
        Exclusive = 3,
    }
}

byte_enum! {
    /// What a lease was taken for (`LockBody::op`).
    pub enum Op {
        Backup = 1,
        Restore = 2,
        Verify = 3,
        Forget = 4,
        Prune = 5,
        Rotate = 6,
    }
}

impl Op {
    /// How an error about another client's lease names it.
    pub fn name(self) -> &'static str {
        match self {
            Op::Backup => "backup",
            Op::Restore => "restore",
            Op::Verify => "verify",
            Op::Forget => "forget",
            Op::Prune => "prune",
            Op::Rotate => "key rotate",
        }
    }
}

pub fn encode<T: Serialize>(value: &T) -> Vec<u8> {
    // One buffer, written in place: a big store encodes hundreds of thousands of small
    // segments, and growing a fresh vector from empty and copying it after the version byte
    // cost more than the encoding.
    let mut out = Vec::with_capacity(1024);
    out.push(BODY_VERSION);
    postcard::to_extend(value, out).expect("in-memory postcard encoding cannot fail")
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
    pub pack_target: PackTarget,
    pub cdc: CdcParams,
    pub segment_max_messages: u16,
}

/// The size a pack is filled to, per pack class (`Config::pack_target`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct PackTarget {
    /// Packs of trees and segments (class S).
    pub class_s: u32,
    /// Packs of attachment chunks (class A).
    pub class_a: u32,
}

/// How attachments are cut into chunks (`Config::cdc`, FORMAT.md §6.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct CdcParams {
    pub min: u32,
    pub avg: u32,
    pub max: u32,
    /// The FastCDC normalization level.
    pub level: u8,
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
    /// Sorted by ctok.
    pub entries: Vec<KeyEntry>,
}

impl KeyTable {
    /// The entry of this conversation, if the table holds its key.
    pub fn get(&self, ctok: &Ctok) -> Option<&KeyEntry> {
        self.entries.iter().find(|e| &e.ctok == ctok)
    }
}

/// One conversation's key in a [`KeyTable`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyEntry {
    pub ctok: Ctok,
    pub ck: ConvKey,
    /// When the key was made (ms).
    pub created: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AttachmentRec {
    pub role: Role,
    pub path: String,
    pub name: Option<String>,
    pub mime: Option<String>,
    pub size: u64,
    pub state: AttachState,
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
    /// Sorted by tag.
    pub ext: Vec<Ext>,
}

/// A reader-specific extra of a message (`MessageRec::ext`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ext {
    pub tag: u16,
    pub data: Vec<u8>,
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
    pub conv_kind: ConvKind,
    pub title: String,
    /// Sorted.
    pub members: Vec<Member>,
    pub avatar: Option<AttachmentRec>,
    pub cursor: Vec<u8>,
    pub rescanned: i64,
    /// Forgotten ranges, sorted and disjoint.
    pub excluded: Vec<TimeRange>,
    pub segments: Vec<SegRef>,
}

/// A forgotten range of a conversation, `[since, until)` in ms (`Tree::excluded`,
/// `ForgottenEntry::ranges`). Ordered by `since`, then `until`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct TimeRange {
    pub since: i64,
    pub until: i64,
}

impl TimeRange {
    pub fn contains(&self, ts: i64) -> bool {
        ts >= self.since && ts < self.until
    }
}

/// A member of a conversation (`Tree::members`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Member {
    pub native_id: String,
    pub name: Option<String>,
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
    pub source: SnapSource,
    pub selection: SnapSelection,
    pub keytable_gen: u64,
    pub conversations: Vec<ConvRef>,
    pub totals: Totals,
    pub run: RunCounts,
    pub complete: bool,
    pub app: String,
}

/// Where a snapshot's messages come from (`Snapshot::source`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SnapSource {
    /// `source_kind` as in the ctok (FORMAT.md §6.1).
    pub kind: SourceKind,
    pub account: String,
    pub account_name: Option<String>,
    /// The 32-byte store fingerprint, then optionally the encoded [`StoreMarks`].
    pub cursor: Vec<u8>,
}

/// What a snapshot's run was asked to back up (`Snapshot::selection`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SnapSelection {
    /// Every conversation of the account.
    pub all: bool,
    /// The conversations backed up, sorted.
    pub ctoks: Vec<Ctok>,
    pub since: Option<i64>,
    pub until: Option<i64>,
}

/// A snapshot's sums over its conversations (`Snapshot::totals`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Totals {
    pub conversations: u32,
    pub messages: u64,
    pub attachments: u64,
    pub attachment_bytes: u64,
}

impl Totals {
    /// The sums over these conversations.
    pub fn of(conversations: &[ConvRef]) -> Totals {
        Totals {
            conversations: conversations.len() as u32,
            messages: conversations.iter().map(|c| c.messages).sum(),
            attachments: conversations.iter().map(|c| c.attachments).sum(),
            attachment_bytes: conversations.iter().map(|c| c.attachment_bytes).sum(),
        }
    }
}

/// What the run that wrote a snapshot did (`Snapshot::run`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunCounts {
    pub new_segments: u64,
    pub reused_segments: u64,
    pub new_chunks: u64,
    pub bytes_uploaded: u64,
    pub warnings: u32,
}

/// What follows the 32-byte store fingerprint in `Snapshot::source.cursor` (FORMAT.md §11.2):
/// the marks an incremental run reads on from. A snapshot without it is read on from by a
/// full read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoreMarks {
    /// [`StoreMarks::VERSION`]. Marks of another version are not read on from: the next run
    /// reads the store in full and writes marks of this one.
    pub version: u8,
    /// SHA-256 of the selection and the forgotten list's generation the marks were taken with.
    pub settings: Vec<u8>,
    /// The oldest `rescanned` among the snapshot's trees: the next full read is due a week on.
    pub full_read: i64,
    /// Segments the snapshot's trees list, all together.
    pub segments: u64,
    /// One per shard: a database file, or a chat table in one.
    pub shards: Vec<ShardMark>,
}

impl StoreMarks {
    /// 2: shards with their stamps and newest times (1 had the marks alone).
    pub const VERSION: u8 = 2;
}

/// How far a shard was read (`StoreMarks::shards`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShardMark {
    pub name: String,
    /// The largest row id read.
    pub mark: i64,
    /// The shard file's size and modification time with its WAL's, hashed; 0 for none.
    pub stamp: u64,
    /// The newest message time in the shard (Unix seconds), where the reader knows it.
    pub newest: Option<i64>,
}

impl ShardMark {
    /// The marks as the store readers give them.
    pub fn all(shards: Vec<crate::store::ShardEnd>) -> Vec<ShardMark> {
        shards
            .into_iter()
            .map(|e| ShardMark {
                name: e.name,
                mark: e.mark,
                stamp: e.stamp,
                newest: e.newest,
            })
            .collect()
    }

    /// As a store reader reads on from it.
    pub fn end(&self) -> crate::store::ShardEnd {
        crate::store::ShardEnd {
            name: self.name.clone(),
            mark: self.mark,
            stamp: self.stamp,
            newest: self.newest,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IndexPack {
    pub name: Name,
    pub class: PackClass,
    pub len: u64,
    pub blobs: Vec<IndexBlob>,
}

/// Where one blob is in a pack (`IndexPack::blobs`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct IndexBlob {
    pub id: BlobId,
    pub kind: ObjectKind,
    /// Where its envelope starts in the pack.
    pub offset: u32,
    /// The envelope's length.
    pub length: u32,
    /// The uncompressed body's length.
    pub raw_len: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IndexBody {
    pub supersedes: Vec<Name>,
    pub packs: Vec<IndexPack>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PackTrailer {
    pub class: PackClass,
    /// In file order: each blob starts where the one before ends.
    pub blobs: Vec<TrailerBlob>,
}

/// One blob of a pack as its trailer lists it (`PackTrailer::blobs`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct TrailerBlob {
    pub id: BlobId,
    pub kind: ObjectKind,
    /// The envelope's length.
    pub length: u32,
    /// The uncompressed body's length.
    pub raw_len: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LockBody {
    pub lock_id: [u8; 16],
    pub mode: Mode,
    pub op: Op,
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
            entries: vec![KeyEntry {
                ctok: Ctok([1; 16]),
                ck: ConvKey([2; 32]),
                created: 5,
            }],
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
            entries: Vec<([u8; 16], [u8; 32], i64)>,
        }
        let plain = Plain {
            generation: 3,
            entries: vec![([1; 16], [0xab; 32], 5)],
        };
        let table = KeyTable {
            generation: 3,
            entries: vec![KeyEntry {
                ctok: Ctok([1; 16]),
                ck: ConvKey([0xab; 32]),
                created: 5,
            }],
        };
        assert_eq!(encode(&table), encode(&plain));
    }

    #[test]
    fn a_key_table_never_prints_its_keys() {
        let key = [0xa7u8; 32];
        let table = KeyTable {
            generation: 1,
            entries: vec![KeyEntry {
                ctok: Ctok([1; 16]),
                ck: ConvKey(key),
                created: 5,
            }],
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
    fn a_byte_field_is_encoded_as_its_code_and_an_unknown_code_is_corrupt() {
        fn check<T>(all: &[T], unknown: u8)
        where
            T: Copy + Into<u8> + Serialize + DeserializeOwned + PartialEq + fmt::Debug,
        {
            for &v in all {
                let code: u8 = v.into();
                assert_eq!(encode(&v), encode(&code));
                assert_eq!(decode::<T>(&encode(&code), "b").unwrap(), v);
            }
            let err = decode::<T>(&encode(&unknown), "b").unwrap_err();
            assert_eq!(err.code(), ErrorCode::RepoCorrupt);
        }
        use ObjectKind as K;
        let kinds = [
            K::Config,
            K::Key,
            K::KeyTable,
            K::Index,
            K::Snapshot,
            K::Lock,
            K::PackTrailer,
            K::Forgotten,
            K::Tree,
            K::Segment,
            K::Chunk,
        ];
        check(&kinds, 0x13);
        assert_eq!(u8::from(K::Chunk), 0x12);
        use SourceKind as S;
        let sources = [
            S::WechatWin3,
            S::Wechat4,
            S::WechatMac3,
            S::Android,
            S::IMessage,
        ];
        check(&sources, 6);
        assert_eq!(u8::from(S::IMessage), 5);
        check(&[Role::Original, Role::Thumbnail, Role::Avatar], 3);
        use AttachState as A;
        check(
            &[A::Stored, A::NotInStore, A::SkippedByPolicy, A::Unreadable],
            4,
        );
        check(&[ConvKind::Other, ConvKind::Direct, ConvKind::Group], 3);
        check(&[PackClass::S, PackClass::A], 2);
        assert_eq!(u8::from(PackClass::S), 0);
        check(&[Mode::Shared, Mode::Append, Mode::Exclusive], 0);
        use Op as O;
        check(
            &[
                O::Backup,
                O::Restore,
                O::Verify,
                O::Forget,
                O::Prune,
                O::Rotate,
            ],
            7,
        );
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

/// The exact bytes of one fully-populated value of each object and blob body. They pin the
/// format: renaming or re-typing the fields must leave every one of these unchanged.
#[cfg(test)]
mod bytes {
    use super::*;
    use crate::repo::forgotten::{Forgotten, ForgottenEntry};

    fn attachment(seed: u8) -> AttachmentRec {
        AttachmentRec {
            role: Role::Thumbnail,
            path: format!("a/{seed}.jpg"),
            name: Some("photo.jpg".into()),
            mime: Some("image/jpeg".into()),
            size: 70_000,
            state: AttachState::SkippedByPolicy,
            chunks: vec![BlobId([seed; 32]), BlobId([seed + 1; 32])],
        }
    }

    fn config() -> Config {
        Config {
            format: FORMAT,
            repo_id: [0x11; 16],
            created: 1_700_000_000_000,
            max_body_version: BODY_VERSION,
            pack_target: PackTarget {
                class_s: 16 << 20,
                class_a: 64 << 20,
            },
            cdc: CdcParams {
                min: 512 << 10,
                avg: 1 << 20,
                max: 4 << 20,
                level: 21,
            },
            segment_max_messages: 2000,
        }
    }

    fn key_table() -> KeyTable {
        KeyTable {
            generation: 7,
            entries: vec![
                KeyEntry {
                    ctok: Ctok([0x21; 16]),
                    ck: ConvKey([0x22; 32]),
                    created: 1_700_000_000_001,
                },
                KeyEntry {
                    ctok: Ctok([0x23; 16]),
                    ck: ConvKey([0x24; 32]),
                    created: -5,
                },
            ],
        }
    }

    fn segment() -> Segment {
        Segment {
            month: 202_311,
            part: 2,
            messages: vec![MessageRec {
                id: "m1".into(),
                ts: 1_700_000_000_002,
                sender: Some("wxid_a".into()),
                sender_name: Some("Ann".into()),
                from_me: true,
                kind: 7,
                text: "hello".into(),
                reply_to: Some("m0".into()),
                quoted_text: Some("hi".into()),
                url: Some("https://x".into()),
                raw_type: 49,
                payload: Some(vec![1, 2, 3]),
                edited: Some(1_700_000_000_003),
                attachments: vec![attachment(0x31)],
                ext: vec![
                    Ext {
                        tag: 3,
                        data: vec![9, 8],
                    },
                    Ext {
                        tag: 300,
                        data: vec![],
                    },
                ],
            }],
        }
    }

    fn tree() -> Tree {
        Tree {
            ctok: Ctok([0x41; 16]),
            native_id: "room@chat".into(),
            conv_kind: ConvKind::Group,
            title: "Room".into(),
            members: vec![
                Member {
                    native_id: "wxid_a".into(),
                    name: Some("Ann".into()),
                },
                Member {
                    native_id: "wxid_b".into(),
                    name: None,
                },
            ],
            avatar: Some(attachment(0x42)),
            cursor: vec![5, 6],
            rescanned: 1_700_000_000_004,
            excluded: vec![
                TimeRange {
                    since: 10,
                    until: 20,
                },
                TimeRange {
                    since: -1,
                    until: i64::MAX,
                },
            ],
            segments: vec![SegRef {
                month: 202_311,
                part: 1,
                id: BlobId([0x43; 32]),
                messages: 150,
                first_ts: 1_700_000_000_005,
                last_ts: 1_700_000_000_006,
                attachments: 4,
                attachment_bytes: 300_000,
            }],
        }
    }

    fn snapshot() -> Snapshot {
        Snapshot {
            id: [0x51; 16],
            revision: 3,
            lineage: [0x52; 16],
            parent: Some([0x53; 16]),
            started: 1_700_000_000_007,
            finished: 1_700_000_000_008,
            source: SnapSource {
                kind: SourceKind::WechatWin3,
                account: "wxid_me".into(),
                account_name: Some("Me".into()),
                cursor: vec![0x54; 3],
            },
            selection: SnapSelection {
                all: false,
                ctoks: vec![Ctok([0x55; 16]), Ctok([0x56; 16])],
                since: Some(100),
                until: Some(200),
            },
            keytable_gen: 7,
            conversations: vec![ConvRef {
                ctok: Ctok([0x57; 16]),
                tree: BlobId([0x58; 32]),
                messages: 150,
                attachments: 4,
                attachment_bytes: 300_000,
                first_ts: 1_700_000_000_005,
                last_ts: 1_700_000_000_006,
            }],
            totals: Totals {
                conversations: 1,
                messages: 150,
                attachments: 4,
                attachment_bytes: 300_000,
            },
            run: RunCounts {
                new_segments: 2,
                reused_segments: 3,
                new_chunks: 4,
                bytes_uploaded: 5_000_000,
                warnings: 1,
            },
            complete: true,
            app: "chatvault 0.1.0".into(),
        }
    }

    fn marks() -> StoreMarks {
        StoreMarks {
            version: StoreMarks::VERSION,
            settings: vec![0x61; 32],
            full_read: 1_700_000_000_009,
            segments: 12,
            shards: vec![
                ShardMark {
                    name: "MSG0.db".into(),
                    mark: 4000,
                    stamp: 0x0102_0304_0506_0708,
                    newest: Some(1_700_000_000),
                },
                ShardMark {
                    name: "MSG1.db/Chat_ab".into(),
                    mark: -1,
                    stamp: 0,
                    newest: None,
                },
            ],
        }
    }

    fn index() -> IndexBody {
        IndexBody {
            supersedes: vec![Name([0x71; 32])],
            packs: vec![IndexPack {
                name: Name([0x72; 32]),
                class: PackClass::A,
                len: 17_000_000,
                blobs: vec![
                    IndexBlob {
                        id: BlobId([0x73; 32]),
                        kind: kind::SEGMENT,
                        offset: 0,
                        length: 5000,
                        raw_len: 12_000,
                    },
                    IndexBlob {
                        id: BlobId([0x74; 32]),
                        kind: kind::CHUNK,
                        offset: 5000,
                        length: 70_000,
                        raw_len: 70_000,
                    },
                ],
            }],
        }
    }

    fn trailer() -> PackTrailer {
        PackTrailer {
            class: PackClass::A,
            blobs: vec![
                TrailerBlob {
                    id: BlobId([0x81; 32]),
                    kind: kind::TREE,
                    length: 800,
                    raw_len: 1600,
                },
                TrailerBlob {
                    id: BlobId([0x82; 32]),
                    kind: kind::CHUNK,
                    length: 70_000,
                    raw_len: 70_000,
                },
            ],
        }
    }

    fn lock() -> LockBody {
        LockBody {
            lock_id: [0x91; 16],
            mode: Mode::Append,
            op: Op::Backup,
            holder: [0x92; 16],
            seq: 4,
            created: 1_700_000_000_010,
            expires: 1_700_000_000_011,
        }
    }

    fn forgotten() -> Forgotten {
        Forgotten {
            generation: 2,
            entries: vec![
                ForgottenEntry {
                    ctok: Ctok([0xa1; 16]),
                    whole: true,
                    ranges: vec![],
                    at: 1_700_000_000_012,
                },
                ForgottenEntry {
                    ctok: Ctok([0xa2; 16]),
                    whole: false,
                    ranges: vec![
                        TimeRange { since: 1, until: 2 },
                        TimeRange {
                            since: 30,
                            until: 40,
                        },
                    ],
                    at: 1_700_000_000_013,
                },
            ],
        }
    }

    /// Encodes, compares with the pinned hex and decodes back to the same value.
    fn pinned<T>(what: &str, value: T, hex: &str) -> Option<String>
    where
        T: Serialize + DeserializeOwned + PartialEq + fmt::Debug,
    {
        let bytes = encode(&value);
        assert_eq!(decode::<T>(&bytes, what).unwrap(), value, "{what}");
        let got = hex::encode(&bytes);
        (got != hex).then(|| format!("{what}: {got}"))
    }

    #[test]
    fn every_body_keeps_its_exact_bytes() {
        let wrong: Vec<String> = [
            pinned("config", config(), CONFIG),
            pinned("key table", key_table(), KEY_TABLE),
            pinned("segment", segment(), SEGMENT),
            pinned("tree", tree(), TREE),
            pinned("snapshot", snapshot(), SNAPSHOT),
            pinned("store marks", marks(), STORE_MARKS),
            pinned("index", index(), INDEX),
            pinned("pack trailer", trailer(), PACK_TRAILER),
            pinned("lock", lock(), LOCK),
            pinned("forgotten", forgotten(), FORGOTTEN),
        ]
        .into_iter()
        .flatten()
        .collect();
        assert!(wrong.is_empty(), "bytes changed:\n{}", wrong.join("\n"));
    }

    const CONFIG: &str = "01011111111111111111111111111111111180a0abfef9620180808008808080208080208080408080800215d00f";
    const KEY_TABLE: &str = "01070221212121212121212121212121212121222222222222222222222222222222222222222222222222222222222222222282a0abfef96223232323232323232323232323232323242424242424242424242424242424242424242424242424242424242424242409";
    const SEGMENT: &str = "01c7ac0c0201026d3184a0abfef9620106777869645f610103416e6e01070568656c6c6f01026d3001026869010968747470733a2f2f786201030102030186a0abfef962010108612f34392e6a7067010970686f746f2e6a7067010a696d6167652f6a706567f0a2040202313131313131313131313131313131313131313131313131313131313131313132323232323232323232323232323232323232323232323232323232323232320203020908ac0200";
    const TREE: &str = "014141414141414141414141414141414109726f6f6d40636861740204526f6f6d0206777869645f610103416e6e06777869645f6200010108612f36362e6a7067010970686f746f2e6a7067010a696d6167652f6a706567f0a20402024242424242424242424242424242424242424242424242424242424242424242434343434343434343434343434343434343434343434343434343434343434302050688a0abfef96202142801feffffffffffffffff0101c7ac0c01434343434343434343434343434343434343434343434343434343434343434396018aa0abfef9628ca0abfef96204e0a712";
    const SNAPSHOT: &str = "0151515151515151515151515151515151035252525252525252525252525252525201535353535353535353535353535353538ea0abfef96290a0abfef9620107777869645f6d6501024d65035454540002555555555555555555555555555555555656565656565656565656565656565601c8010190030701575757575757575757575757575757575858585858585858585858585858585858585858585858585858585858585858960104e0a7128aa0abfef9628ca0abfef96201960104e0a712020304c096b10201010f636861747661756c7420302e312e30";
    const STORE_MARKS: &str = "010220616161616161616161616161616161616161616161616161616161616161616192a0abfef9620c02074d5347302e6462c03e888e98a8c0e08081010180c49fd50c0f4d5347312e64622f436861745f6162010000";
    const INDEX: &str = "0101717171717171717171717171717171717171717171717171717171717171717101727272727272727272727272727272727272727272727272727272727272727201c0cc8d0802737373737373737373737373737373737373737373737373737373737373737311008827e05d7474747474747474747474747474747474747474747474747474747474747474128827f0a204f0a204";
    const PACK_TRAILER: &str = "010102818181818181818181818181818181818181818181818181818181818181818110a006c00c828282828282828282828282828282828282828282828282828282828282828212f0a204f0a204";
    const LOCK: &str = "01919191919191919191919191919191910201929292929292929292929292929292920494a0abfef96296a0abfef962";
    const FORGOTTEN: &str = "010202a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1010098a0abfef962a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2000202043c509aa0abfef962";
}
