//! WeChat 4.x (Windows, macOS, Linux): `xwechat_files/<wxid>_<hex>/db_storage/` with
//! `message/message_<n>.db` (one `Msg_<md5(username)>` table per chat, `Name2Id` for senders),
//! `contact/contact.db` and `session/session.db`. SQLCipher 4 defaults; the 32-byte key is the
//! passphrase. Schema: chat-stores.md §3.2-3.4 (chatlog v4 datasource, 0xlane's table doc).

use super::v4media::MediaRow;
use super::{
    chat_tables, content, file_name, normalise, table_hash, ChatShards, Contacts, RawMessage,
    RowsAfter,
};
use crate::crypto::secret::Secret;
use crate::error::{Error, ErrorCode, Result};
use crate::model::{Conversation, Message};
use crate::store::discover::strip_v4_suffix;
use crate::store::sqlite::{
    damaged_not_wrong_key, open_each, require_table, sql_error, Cipher, Db, KeyForm,
};
use crate::store::wechat::win3::value_bytes;
use crate::store::{
    md5_hex, numbered_files, rows, timestamp_from_seconds, ChatStore, MessageQuery, Variant,
};
use std::collections::HashMap;
use std::path::Path;

pub struct V4Store {
    account: String,
    contacts: Contacts,
    shards: Vec<Db>,
    /// Each shard's file name (`message_0.db`), which with a table's hash names its mark.
    names: Vec<String>,
    /// Per shard: md5 hash (lower-case) → its `Msg_<md5>` table, and whether it has `Name2Id`;
    /// listed once at open (looking the table up per conversation listed every table each time).
    tables: Vec<(HashMap<String, String>, bool)>,
    /// md5(username) → username, for every user the stores mention.
    by_hash: HashMap<String, String>,
    /// Where each message's photo, video, file and voice clip are: read on first use, so
    /// listing conversations does not pay for hardlink.db and media_<n>.db (two more key
    /// derivations of 256,000 rounds).
    media: std::sync::OnceLock<super::v4media::Media>,
    /// What opening the media databases needs later: the account folder and an owned key.
    root: std::path::PathBuf,
    key: OwnedKey,
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
        // The key is proven on contact.db: the shards open at once, on every core.
        let opened = open_each(&files, |(_, path)| {
            cipher(key, path).and_then(|c| Db::open(path, &c))
        });
        let mut shards = Vec::new();
        let mut tables = Vec::new();
        let mut names = Vec::new();
        for ((_, path), db) in files.iter().zip(opened) {
            names.push(file_name(path));
            let db = db.map_err(damaged_not_wrong_key(path))?;
            if db.has_table("Name2Id")? {
                for (name,) in rows::<(String,)>(&db, "SELECT user_name FROM Name2Id", [])? {
                    by_hash.entry(md5_hex(&name)).or_insert(name);
                }
            }
            tables.push((chat_tables(&db, "Msg_")?, db.has_table("Name2Id")?));
            shards.push(db);
        }
        Ok(V4Store {
            account,
            contacts,
            shards,
            names,
            tables,
            by_hash,
            media: std::sync::OnceLock::new(),
            root: root.to_path_buf(),
            key: OwnedKey::of(key),
        })
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

    fn chat_shards(&self) -> ChatShards<'_> {
        ChatShards {
            shards: &self.shards,
            names: &self.names,
            tables: self.tables.iter().map(|(t, _)| t).collect(),
            by_hash: &self.by_hash,
            time_col: "create_time",
        }
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

    /// Each chat table's largest rowid; with `after`, the rows past it (a table without a
    /// mark is new: read whole).
    fn marks(&self, after: RowsAfter<'_>) -> Result<Option<Vec<(String, i64)>>> {
        self.chat_shards().marks(after).map(Some)
    }

    fn conversations(&self) -> Result<Vec<Conversation>> {
        self.chat_shards().conversations(&self.contacts)
    }

    fn messages(&self, conversation_id: &str, query: &MessageQuery) -> Result<Vec<Message>> {
        let hash = table_hash(conversation_id);
        let group = conversation_id.ends_with("@chatroom");
        let sql = |shard_no: usize, table: &str| {
            let has_name2id = self.tables[shard_no].1;
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
        self.chat_shards()
            .messages(conversation_id, query, &sql, &mut row)
    }
}
