//! WeChat 4.x (Windows, macOS, Linux): `xwechat_files/<wxid>_<hex>/db_storage/` with
//! `message/message_<n>.db` (one `Msg_<md5(username)>` table per chat, `Name2Id` for senders),
//! `contact/contact.db` and `session/session.db`. SQLCipher 4 defaults; the 32-byte key is the
//! passphrase. Schema: chat-stores.md §3.2-3.4 (chatlog v4 datasource, 0xlane's table doc).

use super::v4media::MediaRow;
use super::{
    chat_table_marks, chat_tables, content, file_name, normalise, table_hash, table_stats,
    tally_tables, ChatShards, Contacts, RawMessage, ShardTables, TableStats,
};
use crate::crypto::secret::Secret;
use crate::error::{Error, ErrorCode, Result};
use crate::model::{Conversation, Message};
use crate::store::discover::strip_v4_suffix;
use crate::store::sqlite::{
    damaged_not_wrong_key, each_on_a_thread, open_each, require_table, sql_error, Cipher, Db,
    KeyForm,
};
use crate::store::wechat::win3::value_bytes;
use crate::store::{
    md5_hex, numbered_files, rows, timestamp_from_seconds, ChatStore, MessageQuery, ShardEnd,
    Variant,
};
use std::collections::HashMap;
use std::path::Path;
use std::sync::{Mutex, OnceLock, RwLock};

pub struct V4Store {
    account: String,
    contacts: Contacts,
    /// Every `message_<n>.db`, in order, each opened on first use.
    shards: Vec<Shard>,
    /// md5(username) → username, for every user the contacts and the opened shards' `Name2Id`
    /// mention.
    by_hash: RwLock<HashMap<String, String>>,
    /// Shards an incremental run found unchanged since its marks (by their stamps), with their
    /// newest message time: a span after it is not looked for there, and the shard stays
    /// unopened (no private copy, no key, no schema).
    quiet: Mutex<HashMap<usize, i64>>,
    /// Where each message's photo, video, file and voice clip are: read on first use, so
    /// listing conversations does not pay for hardlink.db and media_<n>.db (two more key
    /// derivations of 256,000 rounds).
    media: OnceLock<super::v4media::Media>,
    /// What opening the media databases needs later: the account folder and an owned key.
    root: std::path::PathBuf,
    key: OwnedKey,
}

/// One `message_<n>.db`.
struct Shard {
    path: std::path::PathBuf,
    /// The file's name (`message_0.db`): its mark's name, and with a table's hash the table's.
    name: String,
    /// Its [`crate::store::file_stamp`] when the store was opened (before any copy of it).
    stamp: u64,
    open: OnceLock<ShardDb>,
    /// Its chat tables' counts, times and marks: one pass over each, shared by the
    /// conversation list and the marks of a full read.
    stats: OnceLock<HashMap<String, TableStats>>,
}

/// An opened `message_<n>.db`: md5 hash (lower-case) → its `Msg_<md5>` table, listed once
/// (looking a table up per conversation listed every table each time), and whether it has
/// `Name2Id`.
struct ShardDb {
    db: Db,
    tables: HashMap<String, String>,
    has_name2id: bool,
}

/// [`V4Key`] kept by the store (the secrets are wiped when dropped).
enum OwnedKey {
    Passphrase(Secret<String>),
    Raw(Vec<Secret<String>>),
}

impl OwnedKey {
    fn of(key: &V4Key<'_>) -> OwnedKey {
        match key {
            V4Key::Passphrase(h) => OwnedKey::Passphrase((*h).clone()),
            V4Key::Raw(k) => OwnedKey::Raw(k.to_vec()),
        }
    }

    fn borrow(&self) -> V4Key<'_> {
        match self {
            OwnedKey::Passphrase(h) => V4Key::Passphrase(h),
            OwnedKey::Raw(k) => V4Key::Raw(k),
        }
    }
}

/// A 4.x store's key: the account's 32-byte key, or WCDB's raw keys (one per database file,
/// chosen by the salt in the file's first 16 bytes).
pub enum V4Key<'a> {
    Passphrase(&'a Secret<String>),
    Raw(&'a [Secret<String>]),
}

fn cipher(key: &V4Key<'_>, path: &Path) -> Result<Cipher> {
    let form = match key {
        V4Key::Passphrase(hex) => KeyForm::PassphraseHex((*hex).clone()),
        V4Key::Raw(keys) => {
            let mut salt = [0u8; 16];
            std::fs::File::open(path)
                .and_then(|mut f| std::io::Read::read_exact(&mut f, &mut salt))
                .map_err(|e| {
                    Error::new(
                        ErrorCode::StoreUnreadable,
                        format!("cannot read {}: {e}", path.display()),
                    )
                    .with_hint("Check the path and that ChatVault may read the store.")
                })?;
            let salt = hex::encode(salt);
            let raw = keys
                .iter()
                .find(|k| k.expose().len() == 96 && k.expose()[64..] == salt)
                .ok_or_else(|| {
                    Error::new(
                        ErrorCode::StoreWrongKey,
                        format!("the key file has no raw key for {}", path.display()),
                    )
                    .with_hint(
                        "WeChat made a new database since the key was found: find the key \
                         again (Find my key, or chatvault key find).",
                    )
                })?;
            KeyForm::RawHex(raw.clone())
        }
    };
    Ok(Cipher::Sqlcipher {
        key: form,
        compatibility: 4,
        page_size: 4096,
    })
}

impl V4Store {
    pub fn open(root: &Path, key: &V4Key<'_>) -> Result<V4Store> {
        let storage = root.join("db_storage");
        let folder = root
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let account = strip_v4_suffix(&folder).to_string();
        let contact_db = storage.join("contact").join("contact.db");
        if !contact_db.is_file() {
            return Err(Error::new(
                ErrorCode::StoreContactsMissing,
                format!("{} is missing", contact_db.display()),
            )
            .with_hint(
                "Copy the whole xwechat_files/<account> folder, including db_storage/contact.",
            ));
        }
        let contacts_db = Db::open(&contact_db, &cipher(key, &contact_db)?)?;
        require_table(&contacts_db, &contact_db, "contact")?;
        let mut contacts = Contacts::default();
        let mut by_hash = HashMap::new();
        for id in contacts.load_names(
            &contacts_db,
            "contact",
            "SELECT username, remark, nick_name FROM contact",
        )? {
            by_hash.insert(md5_hex(&id), id);
        }
        if contacts_db.has_table("chatroom_member")? && contacts_db.has_table("chat_room")? {
            let sql = "SELECT r.username, count(m.member_id) FROM chat_room r \
                       JOIN chatroom_member m ON m.room_id = r.id GROUP BY r.username";
            for (room, n) in rows::<(String, i64)>(&contacts_db, sql, [])? {
                contacts.set_members(room, n as u32);
            }
        }
        let files = numbered_files(&storage.join("message"), "message_");
        if files.is_empty() {
            return Err(Error::new(
                ErrorCode::StoreNotFound,
                "no message_<n>.db in db_storage/message",
            )
            .with_hint("Pick the xwechat_files/<account> folder."));
        }
        // The key is proven on contact.db. The shards are opened when first read (an
        // incremental run leaves the ones it does not need alone); what can be told without
        // opening them is told now.
        let mut shards = Vec::new();
        for (_, path) in &files {
            let stamp = crate::store::file_stamp(path);
            Db::check(path, &cipher(key, path)?)?;
            shards.push(Shard {
                path: path.clone(),
                name: file_name(path),
                stamp,
                open: OnceLock::new(),
                stats: OnceLock::new(),
            });
        }
        Ok(V4Store {
            account,
            contacts,
            shards,
            by_hash: RwLock::new(by_hash),
            quiet: Mutex::new(HashMap::new()),
            media: OnceLock::new(),
            root: root.to_path_buf(),
            key: OwnedKey::of(key),
        })
    }

    fn open_shard(&self, shard: &Shard) -> Result<Db> {
        cipher(&self.key.borrow(), &shard.path).and_then(|c| Db::open(&shard.path, &c))
    }

    /// Lists an opened shard's chat tables and adds its `Name2Id` names to `by_hash`.
    fn keep_open(&self, shard: &Shard, db: Db) -> Result<()> {
        let has_name2id = db.has_table("Name2Id")?;
        if has_name2id {
            let names = rows::<(String,)>(&db, "SELECT user_name FROM Name2Id", [])?;
            let mut by_hash = self.by_hash.write().unwrap_or_else(|p| p.into_inner());
            for (name,) in names {
                by_hash.entry(md5_hex(&name)).or_insert(name);
            }
        }
        let tables = chat_tables(&db, "Msg_")?;
        let _ = shard.open.set(ShardDb {
            db,
            tables,
            has_name2id,
        });
        Ok(())
    }

    /// The shard at `i`, opened on first use.
    fn shard_db(&self, i: usize) -> Result<&ShardDb> {
        let shard = &self.shards[i];
        if shard.open.get().is_none() {
            let db = self
                .open_shard(shard)
                .map_err(damaged_not_wrong_key(&shard.path))?;
            self.keep_open(shard, db)?;
        }
        Ok(shard.open.get().expect("set above"))
    }

    /// Every shard opened (those not open yet at once, on every core).
    fn all_shards(&self) -> Result<()> {
        let closed: Vec<&Shard> = self
            .shards
            .iter()
            .filter(|s| s.open.get().is_none())
            .collect();
        let opened = open_each(&closed, |s| self.open_shard(s));
        for (shard, db) in closed.into_iter().zip(opened) {
            self.keep_open(shard, db.map_err(damaged_not_wrong_key(&shard.path))?)?;
        }
        Ok(())
    }

    /// Every shard opened and its tables passed over once (the shards on every core).
    fn all_stats(&self) -> Result<()> {
        self.all_shards()?;
        let todo: Vec<&Shard> = self
            .shards
            .iter()
            .filter(|s| s.stats.get().is_none())
            .collect();
        let done = each_on_a_thread(&todo, |s| {
            let open = s.open.get().expect("opened above");
            table_stats(&open.db, &open.tables, "create_time")
        });
        for (shard, stats) in todo.into_iter().zip(done) {
            let _ = shard.stats.set(stats?);
        }
        Ok(())
    }

    /// The hardlink tables and the voice databases, read once. Media indexes that cannot be
    /// opened (a raw key file made before WeChat created them) leave those attachments to the
    /// documented layout (images, videos, files) or missing (voice); messages still read.
    fn open_media(
        root: &Path,
        storage: &Path,
        key: &V4Key<'_>,
        account: &str,
    ) -> super::v4media::Media {
        use super::v4media::{Hardlinks, VoiceIndex};
        let hardlink = storage.join("hardlink").join("hardlink.db");
        let links = if hardlink.is_file() {
            cipher(key, &hardlink)
                .and_then(|c| Db::open(&hardlink, &c))
                .and_then(|db| Hardlinks::load(&db))
                .unwrap_or_default()
        } else {
            Hardlinks::default()
        };
        let mut voice_dbs = Vec::new();
        for (n, path) in numbered_files(&storage.join("message"), "media_") {
            if let Ok(db) = cipher(key, &path).and_then(|c| Db::open(&path, &c)) {
                voice_dbs.push((format!("db_storage/message/media_{n}.db"), db));
            }
        }
        let voice = VoiceIndex::load(&voice_dbs).unwrap_or_default();
        super::v4media::Media::new(root, links, voice_dbs, voice, account)
    }

    /// Whether the account's V2 image key was derived, and how (for the log; names no key).
    pub fn image_key_note(&self) -> &str {
        &self.media().image_key_note
    }

    fn media(&self) -> &super::v4media::Media {
        self.media.get_or_init(|| {
            Self::open_media(
                &self.root,
                &self.root.join("db_storage"),
                &self.key.borrow(),
                &self.account,
            )
        })
    }

    /// The opened shards among `which`, as a [`ChatShards`] reading with `by_hash`.
    fn chat_shards<'a>(
        &'a self,
        which: &[usize],
        by_hash: &'a HashMap<String, String>,
    ) -> ChatShards<'a> {
        ChatShards {
            shards: which
                .iter()
                .filter_map(|&no| {
                    let shard = &self.shards[no];
                    shard.open.get().map(|open| ShardTables {
                        no,
                        db: &open.db,
                        name: &shard.name,
                        tables: &open.tables,
                    })
                })
                .collect(),
            by_hash,
            time_col: "create_time",
        }
    }

    fn by_hash(&self) -> std::sync::RwLockReadGuard<'_, HashMap<String, String>> {
        self.by_hash.read().unwrap_or_else(|p| p.into_inner())
    }

    /// A conversation's messages of `query` from the shards `which` (opened).
    fn read(
        &self,
        conversation_id: &str,
        query: &MessageQuery,
        which: &[usize],
    ) -> Result<Vec<Message>> {
        let hash = table_hash(conversation_id);
        let group = conversation_id.ends_with("@chatroom");
        let sql = |shard_no: usize, table: &str| {
            let has_name2id = self.shards[shard_no]
                .open
                .get()
                .is_some_and(|o| o.has_name2id);
            let sender_col = if has_name2id { "n.user_name" } else { "NULL" };
            let join = if has_name2id {
                "LEFT JOIN Name2Id n ON m.real_sender_id = n.rowid"
            } else {
                ""
            };
            format!(
                "SELECT m.local_id, m.server_id, m.local_type, m.create_time, m.status, m.message_content, \
                 {sender_col}, m.sort_seq, m.packed_info_data FROM \"{table}\" m {join} WHERE m.create_time BETWEEN ?1 AND ?2"
            )
        };
        let mut row = |r: &rusqlite::Row<'_>| {
            let local_id: i64 = r.get(0).map_err(sql_error)?;
            let server_id: Option<i64> = r.get(1).map_err(sql_error)?;
            let local_type: i64 = r.get(2).map_err(sql_error)?;
            let time: i64 = r.get(3).map_err(sql_error)?;
            let status: Option<i64> = r.get(4).map_err(sql_error)?;
            let raw_content = content::v4_content(&value_bytes(r.get_ref(5).map_err(sql_error)?));
            let sender_name: Option<String> = r.get(6).map_err(sql_error)?;
            let sort_seq: i64 = r
                .get::<_, Option<i64>>(7)
                .map_err(sql_error)?
                .unwrap_or(local_id);
            let base = local_type & 0xffff_ffff;
            let packed = r.get_ref(8).map_err(sql_error)?;
            let packed = match packed {
                rusqlite::types::ValueRef::Blob(b) => Some(b),
                _ => None,
            };
            let (prefix_sender, body) = if group {
                let (p, b) = content::split_sender_prefix(&raw_content);
                (p.map(str::to_string), b.to_string())
            } else {
                (None, raw_content.clone())
            };
            let sender = prefix_sender
                .or(sender_name.clone())
                .filter(|s| !s.is_empty());
            let from_me = match sender_name.as_deref() {
                Some(s) if !s.is_empty() => s == self.account,
                _ => status == Some(2),
            };
            let sender = if group {
                sender
            } else {
                Some(conversation_id.to_string())
            };
            let id = match server_id {
                Some(s) if s != 0 => s.to_string(),
                _ => format!("local-{hash}-{local_id}"),
            };
            let (attachments, v2) = self.media().attachments(&MediaRow {
                base_type: base,
                server_id,
                create_time: time,
                conversation_id,
                packed_info: packed,
                content: &body,
            });
            // A V2 image needs the account's key to be shown again (FORMAT.md §6.2 tag 1).
            let ext = match (&self.media().image_key, v2) {
                (Some(k), true) => vec![k.ext()],
                _ => Vec::new(),
            };
            let raw = RawMessage {
                id,
                conversation_id: conversation_id.to_string(),
                at: timestamp_from_seconds(time),
                base_type: base,
                raw_type: local_type,
                from_me,
                sender,
                content: body,
                attachments,
                ext,
            };
            Ok((
                time,
                sort_seq,
                normalise(raw, &self.account, &self.contacts),
            ))
        };
        let by_hash = self.by_hash();
        self.chat_shards(which, &by_hash)
            .messages(conversation_id, query, &sql, &mut row)
    }
}

impl ChatStore for V4Store {
    fn variant(&self) -> Variant {
        Variant::Wechat4
    }

    fn account_id(&self) -> Option<&str> {
        Some(&self.account)
    }

    /// When the account has images but no V2 image key could be derived, why.
    fn notes(&self) -> Vec<String> {
        let media = self.media();
        let has_images = media.image_key.is_none()
            && std::fs::read_dir(media.root().join("msg/attach"))
                .is_ok_and(|mut d| d.next().is_some());
        if has_images {
            vec![media.image_key_note.clone()]
        } else {
            Vec::new()
        }
    }

    /// Files relative to the account folder; voice clips as `<media db>#<svr_id>` rows.
    fn attachment_source(
        &self,
        a: &crate::model::AttachmentRef,
    ) -> Option<crate::model::AttachmentSource> {
        self.media().source(a)
    }

    /// Every chat table's mark (`<file>/<hash>`: its largest rowid), then each file's own
    /// (`<file>`: its stamp and newest message time, mark 0), from one pass over each table
    /// that the conversation list shares.
    fn shard_cursors(&self) -> Result<Option<Vec<ShardEnd>>> {
        self.all_stats()?;
        let mut out = Vec::new();
        for shard in &self.shards {
            let stats = shard.stats.get().expect("read above");
            let mut tables: Vec<(&String, &TableStats)> = stats.iter().collect();
            tables.sort_by_key(|(hash, _)| *hash);
            for (hash, s) in &tables {
                out.push(ShardEnd::mark(format!("{}/{hash}", shard.name), s.end));
            }
            out.push(shard.end(tables.iter().filter_map(|(_, s)| s.last).max()));
        }
        Ok(Some(out))
    }

    /// The rows after each chat table's mark, by rowid (a table without one is new: read
    /// whole). A file whose stamp is the one of its mark has no new rows: it is not opened,
    /// its tables keep their marks, and [`ChatStore::messages_between`] then looks in it only
    /// for spans before its newest message.
    fn rows_after(
        &self,
        after: &HashMap<String, ShardEnd>,
        sink: &mut dyn FnMut(&str, i64),
    ) -> Result<Vec<ShardEnd>> {
        let marks_of: HashMap<String, i64> =
            after.iter().map(|(n, e)| (n.clone(), e.mark)).collect();
        let mut out = Vec::new();
        let mut quiet = HashMap::new();
        // New rows by table hash: names come after every shard that needs opening is open.
        let mut new_rows: Vec<(String, i64)> = Vec::new();
        for (i, shard) in self.shards.iter().enumerate() {
            let was = after.get(&shard.name);
            if let Some(was) = was.filter(|w| w.stamp != 0 && w.stamp == shard.stamp) {
                quiet.insert(i, was.newest.unwrap_or(i64::MIN));
                let prefix = format!("{}/", shard.name);
                let mut tables: Vec<&ShardEnd> = after
                    .iter()
                    .filter(|(n, _)| n.starts_with(&prefix))
                    .map(|(_, e)| e)
                    .collect();
                tables.sort_by(|a, b| a.name.cmp(&b.name));
                out.extend(tables.into_iter().cloned());
                out.push(was.clone());
                continue;
            }
            let open = self.shard_db(i)?;
            let mut newest = None::<i64>;
            let mut marks = Vec::new();
            let mut seen = |hash: &str, time: i64| {
                newest = newest.max(Some(time));
                new_rows.push((hash.to_string(), time));
            };
            chat_table_marks(
                &open.db,
                &shard.name,
                &open.tables,
                "create_time",
                &|hash| hash.to_string(),
                Some((&marks_of, &mut seen)),
                &mut marks,
            )?;
            out.extend(marks.into_iter().map(|(n, m)| ShardEnd::mark(n, m)));
            // The newest time: the mark's and the new rows'; a file without a mark (new, or
            // marked before files had their own) is passed over whole once.
            let newest = match was.filter(|w| w.stamp != 0) {
                Some(w) => w.newest.max(newest),
                None => {
                    if shard.stats.get().is_none() {
                        let _ =
                            shard
                                .stats
                                .set(table_stats(&open.db, &open.tables, "create_time")?);
                    }
                    let stats = shard.stats.get().expect("set above");
                    stats.values().filter_map(|s| s.last).max()
                }
            };
            out.push(shard.end(newest));
        }
        *self.quiet.lock().unwrap_or_else(|p| p.into_inner()) = quiet;
        // A table only an unopened shard's Name2Id names: every shard's names are needed.
        let unnamed = {
            let by_hash = self.by_hash();
            new_rows.iter().any(|(hash, _)| !by_hash.contains_key(hash))
        };
        if unnamed {
            self.all_shards()?;
        }
        let by_hash = self.by_hash();
        for (hash, time) in new_rows {
            sink(&super::id_of_hash(&by_hash, &hash), time);
        }
        Ok(out)
    }

    fn conversations(&self) -> Result<Vec<Conversation>> {
        self.all_stats()?;
        let by_hash = self.by_hash();
        Ok(tally_tables(
            self.shards.iter().filter_map(|s| s.stats.get()),
            &by_hash,
            &self.contacts,
        ))
    }

    fn messages(&self, conversation_id: &str, query: &MessageQuery) -> Result<Vec<Message>> {
        self.all_shards()?;
        let all: Vec<usize> = (0..self.shards.len()).collect();
        self.read(conversation_id, query, &all)
    }

    /// Each conversation's own tables, in the shards that may hold the span: one unchanged
    /// since the marks whose newest message is older than the span is left unopened.
    fn messages_between(
        &self,
        ids: &[String],
        since: i64,
        until: i64,
        sink: &mut dyn FnMut(&str, Message) -> Result<()>,
    ) -> Result<()> {
        let quiet = self.quiet.lock().unwrap_or_else(|p| p.into_inner()).clone();
        let mut which = Vec::new();
        for i in 0..self.shards.len() {
            if quiet.get(&i).is_some_and(|&newest| newest < since) {
                continue;
            }
            self.shard_db(i)?;
            which.push(i);
        }
        crate::store::each_between(ids, since, until, &|id, q| self.read(id, q, &which), sink)
    }
}

impl Shard {
    /// The file's own mark: its stamp and newest message time.
    fn end(&self, newest: Option<i64>) -> ShardEnd {
        ShardEnd {
            name: self.name.clone(),
            mark: 0,
            stamp: self.stamp,
            newest,
        }
    }
}
