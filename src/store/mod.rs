//! Chat stores: find them, open them read-only with the user's key, read them into the
//! normalised model. One reader per variant behind [`ChatStore`]; each probes its schema once.

pub mod demo;
pub mod derived_keys;
pub mod discover;
pub(crate) mod imessage;
mod memdb;
pub mod sqlite;
pub mod wechat;

use crate::crypto::secret::Secret;
use crate::error::{Error, ErrorCode, Result};
use crate::model::{Conversation, Message};
use jiff::Timestamp;
use md5::{Digest, Md5};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use ts_rs::TS;
use zeroize::{Zeroize, Zeroizing};

/// The store formats ChatVault reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, TS)]
pub enum Variant {
    /// WeChat for Windows 3.x: `WeChat Files/<wxid>/Msg/Multi/MSG*.db`.
    #[serde(rename = "wechat-win3")]
    WechatWin3,
    /// WeChat 4.x on Windows, macOS and Linux: `xwechat_files/<wxid>_<hex>/db_storage/`.
    #[serde(rename = "wechat4")]
    Wechat4,
    /// WeChat for macOS 3.x: `<32-hex account>/Message/msg_*.db`.
    #[serde(rename = "wechat-mac3")]
    WechatMac3,
    /// WeChat for Android: `EnMicroMsg.db` from a backup.
    #[serde(rename = "android")]
    Android,
    /// Apple Messages: `~/Library/Messages/chat.db`.
    #[serde(rename = "imessage")]
    IMessage,
}

impl Variant {
    pub(crate) const ALL: [Variant; 5] = [
        Variant::WechatWin3,
        Variant::Wechat4,
        Variant::WechatMac3,
        Variant::Android,
        Variant::IMessage,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Variant::WechatWin3 => "wechat-win3",
            Variant::Wechat4 => "wechat4",
            Variant::WechatMac3 => "wechat-mac3",
            Variant::Android => "android",
            Variant::IMessage => "imessage",
        }
    }

    pub fn needs_key(self) -> bool {
        self != Variant::IMessage
    }
}

impl std::str::FromStr for Variant {
    type Err = Error;
    fn from_str(s: &str) -> Result<Variant> {
        Variant::ALL
            .into_iter()
            .find(|v| v.as_str() == s)
            .ok_or_else(|| {
                Error::invalid_input(format!("unknown store variant '{s}'"))
                    .with_hint("Use one of wechat-win3, wechat4, wechat-mac3, android, imessage.")
            })
    }
}

/// A store's key as the user gives it.
#[derive(Debug, Clone)]
pub enum StoreKey {
    /// 32 bytes as 64 hex digits (every desktop WeChat).
    Hex(Secret<String>),
    /// WeChat Android's 7-character passphrase.
    AndroidPassword(Secret<String>),
    /// WeChat Android's IMEI and uin, from which the passphrase is derived.
    AndroidDevice {
        imei: Secret<String>,
        uin: Secret<String>,
    },
    /// WeChat 4.x keys as WCDB caches them, one per database file: 96 hex digits each, the
    /// derived key (64) then the salt of the file it opens (32). Find my key gives these when
    /// WeChat holds no longer the account's key itself.
    RawKeys(Vec<Secret<String>>),
}

/// The line prefix and suffix of a raw key in a key file: `x'<96 hex>'`, SQLCipher's own form.
const RAW_KEY_HEX_LEN: usize = 96;

fn parse_raw_key_line(line: &str) -> Option<String> {
    let inner = line
        .strip_prefix("x'")
        .or_else(|| line.strip_prefix("X'"))?
        .strip_suffix('\'')?;
    (inner.len() == RAW_KEY_HEX_LEN && inner.bytes().all(|b| b.is_ascii_hexdigit()))
        .then(|| inner.to_ascii_lowercase())
}

impl StoreKey {
    /// Parses a key file: 64 hex digits; or 7 characters (Android); or `imei=…` and `uin=…`
    /// lines (Android); or `x'<96 hex>'` lines (WeChat 4.x raw keys, one per database file).
    /// Whitespace, `#` comment lines and a `0x` prefix are ignored.
    pub fn parse(text: &str) -> Result<StoreKey> {
        let bad = || {
            Error::invalid_input(
                "the key is neither 64 hex digits, a 7-character Android key, imei=/uin= lines, \
                 nor x'<96 hex digits>' lines",
            )
            .with_hint("Put the key alone in the file: 64 hex digits for WeChat on a computer.")
        };
        let uncommented: String = text
            .lines()
            .map(str::trim)
            .filter(|l| !l.starts_with('#'))
            .collect::<Vec<_>>()
            .join("\n");
        let t = uncommented.trim();
        if t.starts_with("x'") || t.starts_with("X'") {
            let mut keys = Vec::new();
            for line in t.lines().filter(|l| !l.is_empty()) {
                keys.push(Secret::new(parse_raw_key_line(line).ok_or_else(bad)?));
            }
            return Ok(StoreKey::RawKeys(keys));
        }
        if t.contains('=') {
            let mut imei = None;
            let mut uin = None;
            for line in t.lines() {
                if let Some((k, v)) = line.split_once('=') {
                    match k.trim().to_ascii_lowercase().as_str() {
                        "imei" => imei = Some(v.trim().to_string()),
                        "uin" => uin = Some(v.trim().to_string()),
                        _ => return Err(bad()),
                    }
                }
            }
            return match (imei, uin) {
                (Some(imei), Some(uin)) => Ok(StoreKey::AndroidDevice {
                    imei: Secret::new(imei),
                    uin: Secret::new(uin),
                }),
                _ => Err(bad()),
            };
        }
        let compact: String = t
            .trim_start_matches("0x")
            .chars()
            .filter(|c| !c.is_whitespace())
            .collect();
        if compact.len() == 64 && compact.chars().all(|c| c.is_ascii_hexdigit()) {
            return Ok(StoreKey::Hex(Secret::new(compact.to_ascii_lowercase())));
        }
        if compact.len() == 7 && compact.chars().all(|c| c.is_ascii_alphanumeric()) {
            return Ok(StoreKey::AndroidPassword(Secret::new(compact)));
        }
        Err(bad())
    }

    /// The Android passphrase: `md5(IMEI + uin)` in lower-case hex, first 7 characters
    /// (wechat-dump `decrypt-db.py`).
    pub fn android_password(&self) -> Option<Secret<String>> {
        match self {
            StoreKey::AndroidPassword(p) => Some(p.clone()),
            StoreKey::AndroidDevice { imei, uin } => {
                // Every copy of the input and the digest is wiped; `format!` would leave some.
                let (imei, uin) = (imei.expose(), uin.expose());
                let mut input = Zeroizing::new(String::with_capacity(imei.len() + uin.len()));
                input.push_str(imei);
                input.push_str(uin);
                let mut digest: [u8; 16] = Md5::digest(input.as_bytes()).into();
                let hex = Zeroizing::new(hex::encode(digest));
                digest.zeroize();
                Some(Secret::new(hex[..7].to_string()))
            }
            StoreKey::Hex(_) | StoreKey::RawKeys(_) => None,
        }
    }

    pub fn hex(&self) -> Option<&Secret<String>> {
        match self {
            StoreKey::Hex(h) => Some(h),
            _ => None,
        }
    }
}

pub(crate) fn md5_hex(s: &str) -> String {
    let d = Md5::digest(s.as_bytes());
    d.iter().map(|b| format!("{b:02x}")).collect()
}

impl StoreKey {
    /// The keychain account under which the key of the store at `path` is remembered.
    pub fn keychain_account(path: &Path) -> String {
        let canonical = path.canonicalize().unwrap_or_else(|_| path.to_path_buf());
        format!("store-key:{}", canonical.display())
    }

    /// The text a key file (or the keychain) holds for this key.
    pub fn to_secret_text(&self) -> Secret<String> {
        match self {
            StoreKey::Hex(h) => h.clone(),
            StoreKey::AndroidPassword(p) => p.clone(),
            StoreKey::AndroidDevice { imei, uin } => {
                Secret::new(format!("imei={}\nuin={}", imei.expose(), uin.expose()))
            }
            StoreKey::RawKeys(keys) => {
                let mut text = String::from(
                    "# WeChat 4.x raw keys (derived key + database salt), one per database file\n",
                );
                for k in keys {
                    text.push_str("x'");
                    text.push_str(k.expose());
                    text.push_str("'\n");
                }
                Secret::new(text)
            }
        }
    }

    /// Remembers the key of the store at `path` in the keychain.
    pub fn remember(
        &self,
        keychain: &dyn crate::platform::keychain::Keychain,
        path: &Path,
    ) -> Result<()> {
        keychain.set(&Self::keychain_account(path), &self.to_secret_text())
    }

    /// The key remembered for the store at `path`, if any.
    pub fn recall(
        keychain: &dyn crate::platform::keychain::Keychain,
        path: &Path,
    ) -> Result<Option<StoreKey>> {
        match keychain.get(&Self::keychain_account(path))? {
            Some(text) => StoreKey::parse(text.expose()).map(Some),
            None => Ok(None),
        }
    }

    /// The key in a key file: 64 hex digits, an Android password, `imei=`/`uin=` lines, or
    /// WeChat 4.x raw keys.
    pub fn read_file(file: &Path) -> Result<StoreKey> {
        let text = Zeroizing::new(
            std::fs::read_to_string(file)
                .map_err(|e| Error::io(format!("reading {}", file.display()), &e))?,
        );
        StoreKey::parse(&text)
    }
}

/// Opens the store at `path` with `key`, or without one with the key remembered in the
/// keychain, and remembers the key there when asked. Every host opens a store this way (the
/// CLI with a key file, the app with a typed or found key, a profile's run with neither).
/// Returns the store and the key that opened it.
pub fn open_with_keychain(
    path: &Path,
    key: Option<StoreKey>,
    keychain: &dyn crate::platform::keychain::Keychain,
    remember: bool,
) -> Result<(Box<dyn ChatStore>, Option<StoreKey>)> {
    // No keychain (a headless box without Secret Service) just means no remembered key.
    let key = key.or_else(|| StoreKey::recall(keychain, path).ok().flatten());
    let opened = open(path, key.as_ref())?;
    if let (true, Some(k)) = (remember, &key) {
        k.remember(keychain, path)?;
    }
    Ok((opened, key))
}

/// Which messages to read.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MessageQuery {
    pub since: Option<Timestamp>,
    pub until: Option<Timestamp>,
    /// Case-insensitive substring of the text or the sender's name.
    pub search: Option<String>,
    pub limit: Option<usize>,
}

impl MessageQuery {
    /// Unix seconds bounds for SQL (inclusive).
    pub(crate) fn bounds(&self) -> (i64, i64) {
        (
            self.since.map_or(i64::MIN, |t| t.as_second()),
            self.until.map_or(i64::MAX, |t| t.as_second()),
        )
    }

    /// Applies the parts SQL could not (exact sub-second bounds, search, limit).
    pub(crate) fn finish(&self, mut messages: Vec<Message>) -> Vec<Message> {
        messages.retain(|m| {
            self.since.is_none_or(|s| m.at >= s) && self.until.is_none_or(|u| m.at <= u)
        });
        if let Some(needle) = self
            .search
            .as_deref()
            .map(str::to_lowercase)
            .filter(|s| !s.is_empty())
        {
            messages.retain(|m| {
                m.text.to_lowercase().contains(&needle)
                    || m.sender_name
                        .as_deref()
                        .is_some_and(|n| n.to_lowercase().contains(&needle))
            });
        }
        if let Some(n) = self.limit {
            messages.truncate(n);
        }
        messages
    }
}

/// How far a shard was read (FORMAT.md §11.2): its mark and, where the reader keeps them, the
/// stamp of its file and its newest message time, which let a later run leave an unchanged
/// shard unopened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShardEnd {
    /// A database file, or a chat table in one.
    pub name: String,
    /// The largest row id read.
    pub mark: i64,
    /// The file's size and modification time, with its WAL's, hashed (never 0); 0: none.
    pub stamp: u64,
    /// The newest message time in the shard (Unix seconds), where known.
    pub newest: Option<i64>,
}

impl ShardEnd {
    /// A mark without a stamp (readers whose shards are tables, or one table).
    pub fn mark(name: String, mark: i64) -> ShardEnd {
        ShardEnd {
            name,
            mark,
            stamp: 0,
            newest: None,
        }
    }
}

/// A file's stamp for [`ShardEnd::stamp`]: its size and modification time and those of its
/// WAL, hashed. A file that cannot be read has none (0).
pub(crate) fn file_stamp(path: &Path) -> u64 {
    use sha2::{Digest, Sha256};
    let Ok(meta) = std::fs::metadata(path) else {
        return 0;
    };
    let mut h = Sha256::new();
    for m in [
        Some(meta),
        std::fs::metadata(sqlite::with_suffix(path, "-wal")).ok(),
    ] {
        match m {
            Some(m) => {
                let mtime = m
                    .modified()
                    .ok()
                    .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
                    .map_or(0, |d| d.as_nanos());
                h.update(m.len().to_le_bytes());
                h.update(mtime.to_le_bytes());
            }
            None => h.update([0xff]),
        }
    }
    let d = h.finalize();
    u64::from_le_bytes(d[..8].try_into().expect("8 bytes")).max(1)
}

/// The marks to read on from and where the rows after them go: (conversation id, time).
pub(crate) type RowsAfter<'a> = Option<(
    &'a std::collections::HashMap<String, i64>,
    &'a mut dyn FnMut(&str, i64),
)>;

/// Each conversation of `ids` read by `read` from `since` to `until` (Unix seconds,
/// inclusive) into the sink; an id the store does not hold gives no messages.
pub(crate) fn each_between(
    ids: &[String],
    since: i64,
    until: i64,
    read: &dyn Fn(&str, &MessageQuery) -> Result<Vec<Message>>,
    sink: &mut dyn FnMut(&str, Message) -> Result<()>,
) -> Result<()> {
    let query = MessageQuery {
        since: Some(timestamp_from_seconds(since)),
        until: Some(timestamp_from_seconds(until)),
        ..Default::default()
    };
    for id in ids {
        match read(id, &query) {
            Ok(messages) => {
                for m in messages {
                    sink(id, m)?;
                }
            }
            Err(e) if e.code() == ErrorCode::InvalidInput => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// An opened store.
pub trait ChatStore: Send + Sync {
    fn variant(&self) -> Variant;
    /// The account the store belongs to (wxid, or the folder's account hash), where known.
    fn account_id(&self) -> Option<&str>;
    /// Every conversation with at least one message, newest first.
    fn conversations(&self) -> Result<Vec<Conversation>>;
    /// A conversation's messages in time order.
    fn messages(&self, conversation_id: &str, query: &MessageQuery) -> Result<Vec<Message>>;
    /// The messages of the conversations `ids`, each with its conversation's id, in one pass
    /// over the store where the store allows it: per conversation in time order, except where
    /// the store's own order is not (a consumer must cope with a conversation's messages out of
    /// order, e.g. history imported into WeChat later). The default reads one conversation
    /// after another, for stores that index messages by conversation (a table per chat, or an
    /// index the store has).
    fn scan(
        &self,
        ids: &[String],
        sink: &mut dyn FnMut(&str, Message) -> Result<()>,
    ) -> Result<()> {
        for id in ids {
            for m in self.messages(id, &MessageQuery::default())? {
                sink(id, m)?;
            }
        }
        Ok(())
    }

    /// A reader's incremental reads in one, which [`ChatStore::shard_cursors`] and
    /// [`ChatStore::rows_after`] call unless a reader overrides them: every shard's mark and,
    /// with `after`, the rows past the marks to the sink. `None`: this reader has none.
    fn marks(&self, _after: RowsAfter<'_>) -> Result<Option<Vec<(String, i64)>>> {
        Ok(None)
    }

    /// Per-shard high-water marks for incremental reads (FORMAT.md §11.2): a name for each
    /// shard (a database file, or a chat table in it) and the largest row id it holds. `None`:
    /// this reader has none, every changed store is read in full.
    fn shard_cursors(&self) -> Result<Option<Vec<ShardEnd>>> {
        Ok(self
            .marks(None)?
            .map(|m| m.into_iter().map(|(n, m)| ShardEnd::mark(n, m)).collect()))
    }

    /// The rows each shard holds after its mark in `after` (a shard not in it is new and read
    /// whole), in one pass per shard by row id: `sink(conversation id, Unix seconds)` for each.
    /// Returns the new marks of every shard, as [`ChatStore::shard_cursors`] would. A reader
    /// that keeps stamps leaves a shard whose stamp has not changed unopened.
    fn rows_after(
        &self,
        after: &std::collections::HashMap<String, ShardEnd>,
        sink: &mut dyn FnMut(&str, i64),
    ) -> Result<Vec<ShardEnd>> {
        let marks: std::collections::HashMap<String, i64> =
            after.iter().map(|(n, e)| (n.clone(), e.mark)).collect();
        Ok(self
            .marks(Some((&marks, sink)))?
            .ok_or_else(|| Error::internal("this store has no incremental reads"))?
            .into_iter()
            .map(|(n, m)| ShardEnd::mark(n, m))
            .collect())
    }

    /// The messages of the conversations `ids` from `since` to `until` (Unix seconds,
    /// inclusive), each conversation's in time order (a month read again after new rows landed
    /// in it), through an index the store has: by default each conversation's own read. An id
    /// the store does not hold gives no messages.
    fn messages_between(
        &self,
        ids: &[String],
        since: i64,
        until: i64,
        sink: &mut dyn FnMut(&str, Message) -> Result<()>,
    ) -> Result<()> {
        each_between(ids, since, until, &|id, q| self.messages(id, q), sink)
    }

    /// What the reader could not do that a user should hear of (a backup reports these as
    /// warnings, which go to the log): e.g. no WeChat 4.x image key could be derived. Never
    /// names a key.
    fn notes(&self) -> Vec<String> {
        Vec::new()
    }

    /// Where the bytes of an attachment reference are, when the store has them.
    fn attachment_source(
        &self,
        _attachment: &crate::model::AttachmentRef,
    ) -> Option<crate::model::AttachmentSource> {
        None
    }

    /// The bytes of an attachment as the store has them (for a preview), when it has them.
    fn attachment_bytes(&self, attachment: &crate::model::AttachmentRef) -> Option<Vec<u8>> {
        match self.attachment_source(attachment)? {
            crate::model::AttachmentSource::File(p) => std::fs::read(p).ok(),
            crate::model::AttachmentSource::Bytes(b) => Some(b),
        }
    }
}

/// How much of a store a selection holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, TS)]
pub struct SelectionCount {
    pub conversations: u32,
    pub messages: u64,
}

/// Counts the messages a selection holds in `store` (each conversation within its range).
pub fn count_selection(
    store: &dyn ChatStore,
    selection: &crate::model::Selection,
) -> Result<SelectionCount> {
    let mut messages = 0u64;
    for c in &selection.conversations {
        let (since, until) = selection.range_of(c);
        messages += store
            .messages(
                &c.id,
                &MessageQuery {
                    since,
                    until,
                    ..Default::default()
                },
            )?
            .len() as u64;
    }
    Ok(SelectionCount {
        conversations: selection.conversations.len() as u32,
        messages,
    })
}

/// Opens the store at `path` (an account folder for WeChat, the chat.db file for iMessage).
pub fn open(path: &Path, key: Option<&StoreKey>) -> Result<Box<dyn ChatStore>> {
    let (variant, root) = discover::identify(path)?;
    let need_key = || {
        Error::new(
            ErrorCode::StoreKeyRequired,
            format!("{} is encrypted", root.display()),
        )
        .with_hint(
            "Give the store's key with --key-file, or let ChatVault remember it in the keychain.",
        )
    };
    match variant {
        Variant::IMessage => Ok(Box::new(imessage::IMessageStore::open(&root)?)),
        Variant::WechatWin3 => {
            let key = key.and_then(StoreKey::hex).ok_or_else(need_key)?;
            Ok(Box::new(wechat::win3::Win3Store::open(&root, key)?))
        }
        Variant::Wechat4 => {
            let key = match key {
                Some(StoreKey::Hex(h)) => wechat::v4::V4Key::Passphrase(h),
                Some(StoreKey::RawKeys(k)) => wechat::v4::V4Key::Raw(k),
                _ => return Err(need_key()),
            };
            Ok(Box::new(wechat::v4::V4Store::open(&root, &key)?))
        }
        Variant::WechatMac3 => {
            let key = key.and_then(StoreKey::hex).ok_or_else(need_key)?;
            Ok(Box::new(wechat::mac3::Mac3Store::open(&root, key)?))
        }
        Variant::Android => {
            let password = key
                .and_then(StoreKey::android_password)
                .ok_or_else(need_key)?;
            Ok(Box::new(wechat::android::AndroidStore::open(
                &root, &password,
            )?))
        }
    }
}

/// The error every reader gives for a conversation id it does not hold (a typo, an id from
/// another store, or a chat deleted since it was listed): never an empty list, which would
/// look like a conversation with no messages.
/// Every row of `sql` (a small table: contacts, names, counts), each as a tuple of its
/// columns.
pub(crate) fn rows<T>(db: &sqlite::Db, sql: &str, params: impl rusqlite::Params) -> Result<Vec<T>>
where
    T: for<'r> TryFrom<&'r rusqlite::Row<'r>, Error = rusqlite::Error>,
{
    let conn = db.conn();
    let mut stmt = conn.prepare(sql).map_err(sqlite::sql_error)?;
    let rows = stmt
        .query_map(params, |r| T::try_from(r))
        .map_err(sqlite::sql_error)?;
    rows.collect::<rusqlite::Result<Vec<T>>>()
        .map_err(sqlite::sql_error)
}

/// Incremental reads of a store whose messages are one table, `message` (WeChat for Android,
/// iMessage): one shard, named `message`, marked by the table's largest row id.
pub(crate) struct MessageTable<'a> {
    pub db: &'a sqlite::Db,
    /// The row id column (`msgId`, `ROWID`).
    pub rowid: &'static str,
}

impl MessageTable<'_> {
    /// The one shard's mark and, with `after`, the rows past it: `sql`, given the mark,
    /// selects (conversation id, time) and `seconds` turns the store's time into Unix seconds
    /// for the sink.
    pub fn marks(
        &self,
        after: RowsAfter<'_>,
        sql: &str,
        seconds: fn(i64) -> i64,
    ) -> Result<Option<Vec<(String, i64)>>> {
        use sqlite::sql_error;
        if let Some((after, sink)) = after {
            let from = after.get("message").copied().unwrap_or(i64::MIN);
            let conn = self.db.conn();
            let mut stmt = conn.prepare(sql).map_err(sql_error)?;
            let mut rows = stmt.query([from]).map_err(sql_error)?;
            while let Some(r) = rows.next().map_err(sql_error)? {
                let id: String = r.get(0).map_err(sql_error)?;
                let time: i64 = r.get::<_, Option<i64>>(1).map_err(sql_error)?.unwrap_or(0);
                sink(&id, seconds(time));
            }
        }
        let end = self
            .db
            .conn()
            .query_row(
                &format!("SELECT coalesce(max({}), 0) FROM message", self.rowid),
                [],
                |r| r.get(0),
            )
            .map_err(sqlite::sql_error)?;
        Ok(Some(vec![("message".to_string(), end)]))
    }
}

pub(crate) fn unknown_conversation(id: &str) -> Error {
    Error::invalid_input(format!("conversation '{id}' is not in this store"))
        .with_hint("Run `chatvault conversations` with the same store to see the ids.")
}

/// Sorts conversations newest first, ties by title.
pub(crate) fn sort_conversations(list: &mut [Conversation]) {
    list.sort_by(|a, b| {
        b.last_at
            .cmp(&a.last_at)
            .then_with(|| a.title.cmp(&b.title))
    });
}

pub(crate) fn timestamp_from_seconds(s: i64) -> Timestamp {
    Timestamp::from_second(s).unwrap_or(Timestamp::UNIX_EPOCH)
}

/// Files of `dir` whose names match `prefix<digits>.db`, ordered by the number.
pub(crate) fn numbered_files(dir: &Path, prefix: &str) -> Vec<(u32, PathBuf)> {
    let mut out = Vec::new();
    if let Ok(entries) = std::fs::read_dir(dir) {
        for e in entries.flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            if let Some(num) = name
                .strip_prefix(prefix)
                .and_then(|r| r.strip_suffix(".db"))
            {
                if let Ok(n) = num.parse::<u32>() {
                    out.push((n, e.path()));
                }
            }
        }
    }
    out.sort();
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_key_form() {
        let hex = "AB".repeat(32);
        assert!(
            matches!(StoreKey::parse(&format!("  {hex}\n")).unwrap(), StoreKey::Hex(h) if h.expose() == &"ab".repeat(32))
        );
        assert!(matches!(
            StoreKey::parse("1a2b3c4").unwrap(),
            StoreKey::AndroidPassword(_)
        ));
        let dev = StoreKey::parse("imei=1234567890ABCDEF\nuin=-123456").unwrap();
        // md5("1234567890ABCDEF-123456"), first 7 hex digits
        assert_eq!(
            dev.android_password().unwrap().expose(),
            &md5_hex("1234567890ABCDEF-123456")[..7]
        );
        for bad in ["", "xyz", &"a".repeat(63), "imei=1"] {
            assert_eq!(
                StoreKey::parse(bad).unwrap_err().code(),
                ErrorCode::InvalidInput,
                "{bad}"
            );
        }
    }

    #[test]
    fn raw_key_files_round_trip_and_reject_a_short_line() {
        let a = format!("{}{}", "ab".repeat(32), "01".repeat(16));
        let b = format!("{}{}", "CD".repeat(32), "02".repeat(16));
        let text = format!("# found by chatvault key find\nx'{a}'\n\nX'{b}'\n");
        let StoreKey::RawKeys(keys) = StoreKey::parse(&text).unwrap() else {
            panic!("raw keys expected")
        };
        let got: Vec<&str> = keys.iter().map(|k| k.expose().as_str()).collect();
        assert_eq!(got, vec![a.clone(), b.to_ascii_lowercase()]);
        let again = StoreKey::parse(StoreKey::RawKeys(keys).to_secret_text().expose()).unwrap();
        assert!(matches!(again, StoreKey::RawKeys(k) if k.len() == 2));
        let short = format!("x'{a}'\nx'{}'", &b[1..]);
        assert_eq!(
            StoreKey::parse(&short).unwrap_err().code(),
            ErrorCode::InvalidInput
        );
        // A 64-hex-digit key after a comment line is still the plain key.
        assert!(matches!(
            StoreKey::parse(&format!("# key\n{}", "ef".repeat(32))).unwrap(),
            StoreKey::Hex(_)
        ));
    }

    #[test]
    fn key_errors_never_echo_the_key() {
        let attempt = "deadbeef".repeat(7);
        let err = StoreKey::parse(&attempt).unwrap_err();
        assert!(!err.to_string().contains(&attempt));
    }
}
