//! WeChat for macOS 3.x: `<32-hex account>/Message/msg_<n>.db` with one `Chat_<md5(username)>`
//! table per chat, contacts in `Contact/wccontact_new2.db` (`WCContact`) and groups in
//! `Group/group_new.db` (`GroupContact`). SQLCipher 3 with 1024-byte pages and the 32-byte key
//! used directly (raw key, no KDF). Schema: chat-stores.md §4 (chatlog `message_darwinv3.go`).

use super::{
    chat_tables, content, count_members, file_name, normalise, table_hash, ChatShards, Contacts,
    RawMessage, RowsAfter, ShardTables,
};
use crate::crypto::secret::Secret;
use crate::error::{Error, ErrorCode, Result};
use crate::model::{Conversation, Message};
use crate::store::sqlite::{damaged_not_wrong_key, require_table, sql_error, Cipher, Db, KeyForm};
use crate::store::wechat::win3::value_bytes;
use crate::store::{
    md5_hex, numbered_files, rows, timestamp_from_seconds, ChatStore, MessageQuery, Variant,
};
use std::collections::HashMap;
use std::path::Path;
use std::sync::OnceLock;

pub struct Mac3Store {
    root: std::path::PathBuf,
    key: Secret<String>,
    /// `hldata.db`: media md5 → file under `Message/MessageTemp`, loaded whole (one pass) by the
    /// first read that meets an image, video or file.
    hldata: OnceLock<HashMap<String, String>>,
    account: String,
    contacts: Contacts,
    shards: Vec<Db>,
    /// Each shard's file name (`msg_0.db`), which with a table's hash names its mark.
    names: Vec<String>,
    /// Per shard: md5 hash → its `Chat_<md5>` table, listed once at open.
    tables: Vec<HashMap<String, String>>,
    by_hash: HashMap<String, String>,
}

fn cipher(key: &Secret<String>) -> Cipher {
    Cipher::Sqlcipher {
        key: KeyForm::RawHex(key.clone()),
        compatibility: 3,
        page_size: 1024,
    }
}

impl Mac3Store {
    pub fn open(root: &Path, key: &Secret<String>) -> Result<Mac3Store> {
        let account = root
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let contact_db = root.join("Contact").join("wccontact_new2.db");
        if !contact_db.is_file() {
            return Err(Error::new(
                ErrorCode::StoreContactsMissing,
                format!("{} is missing", contact_db.display()),
            )
            .with_hint("Copy the whole account folder, including Contact/wccontact_new2.db."));
        }
        let mut contacts = Contacts::default();
        let mut by_hash = HashMap::new();
        let first = Db::open(&contact_db, &cipher(key))?;
        require_table(&first, &contact_db, "WCContact")?;
        let mut dbs = vec![(first, "WCContact")];
        let group_db = root.join("Group").join("group_new.db");
        if group_db.is_file() {
            dbs.push((
                Db::open(&group_db, &cipher(key)).map_err(damaged_not_wrong_key(&group_db))?,
                "GroupContact",
            ));
        }
        for (db, table) in &dbs {
            if !db.has_table(table)? {
                continue;
            }
            let cols = db.columns(table)?;
            let members = if cols.iter().any(|c| c == "m_nsChatRoomMemList") {
                "m_nsChatRoomMemList"
            } else {
                "NULL"
            };
            let sql =
                format!("SELECT m_nsUsrName, m_nsRemark, nickname, {members} FROM \"{table}\"");
            type Row = (String, Option<String>, Option<String>, Option<String>);
            for (id, remark, nick, list) in rows::<Row>(db, &sql, [])? {
                by_hash.insert(md5_hex(&id), id.clone());
                if let Some(list) = list.filter(|l| !l.is_empty()) {
                    contacts.set_members(id.clone(), count_members(&list));
                }
                contacts.insert(id, remark, nick);
            }
        }
        // Chats with people in no contact table are still named by the session list and the
        // group member lists; tables are named md5(username), so every known name helps.
        for (file, table, column) in [
            ("Session/session_new.db", "SessionAbstract", "m_nsUserName"),
            ("Group/group_new.db", "GroupMember", "m_nsUsrName"),
        ] {
            let path = root.join(file);
            if !path.is_file() {
                continue;
            }
            let db = Db::open(&path, &cipher(key)).map_err(damaged_not_wrong_key(&path))?;
            if !db.has_table(table)? {
                continue;
            }
            // Group members who are not contacts still have a nickname there.
            let nick = if db.columns(table)?.iter().any(|c| c == "nickname") {
                "nickname"
            } else {
                "NULL"
            };
            let sql = format!("SELECT {column}, {nick} FROM \"{table}\"");
            for (name, nickname) in rows::<(Option<String>, Option<String>)>(&db, &sql, [])? {
                if let Some(name) = name {
                    if !contacts.knows(&name) {
                        contacts.insert(name.clone(), None, nickname);
                    }
                    by_hash.entry(md5_hex(&name)).or_insert(name);
                }
            }
        }
        let files = numbered_files(&root.join("Message"), "msg_");
        let mut shards = Vec::new();
        let mut names = Vec::new();
        for (_, path) in files {
            names.push(file_name(&path));
            shards.push(Db::open(&path, &cipher(key)).map_err(damaged_not_wrong_key(&path))?);
        }
        // The account folder is md5(own wxid); the own contact row names it.
        let account = by_hash
            .get(&account.to_ascii_lowercase())
            .cloned()
            .unwrap_or(account);
        let tables = shards
            .iter()
            .map(|db| chat_tables(db, "Chat_"))
            .collect::<Result<Vec<HashMap<String, String>>>>()?;
        Ok(Mac3Store {
            root: root.to_path_buf(),
            key: key.clone(),
            hldata: OnceLock::new(),
            account,
            contacts,
            shards,
            names,
            tables,
            by_hash,
        })
    }

    fn chat_shards(&self) -> ChatShards<'_> {
        ChatShards {
            shards: (self.shards.iter().zip(&self.names).zip(&self.tables))
                .enumerate()
                .map(|(no, ((db, name), tables))| ShardTables {
                    no,
                    db,
                    name,
                    tables,
                })
                .collect(),
            by_hash: &self.by_hash,
            time_col: "msgCreateTime",
        }
    }
}

impl ChatStore for Mac3Store {
    fn variant(&self) -> Variant {
        Variant::WechatMac3
    }

    fn account_id(&self) -> Option<&str> {
        Some(&self.account)
    }

    /// Paths are relative to the account folder (`Message/MessageTemp/...`).
    fn attachment_source(
        &self,
        a: &crate::model::AttachmentRef,
    ) -> Option<crate::model::AttachmentSource> {
        let p = self.root.join(&a.path);
        p.is_file()
            .then_some(crate::model::AttachmentSource::File(p))
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
        let sql = |_: usize, table: &str| {
            format!(
                "SELECT mesLocalID, mesSvrID, messageType, msgCreateTime, msgContent, mesDes FROM \"{table}\" \
                 WHERE msgCreateTime BETWEEN ?1 AND ?2"
            )
        };
        let mut row = |r: &rusqlite::Row<'_>| {
            let local_id: i64 = r.get(0).map_err(sql_error)?;
            let svr_id: Option<i64> = r.get(1).map_err(sql_error)?;
            let base: i64 = r.get(2).map_err(sql_error)?;
            let time: i64 = r.get(3).map_err(sql_error)?;
            let text = String::from_utf8_lossy(&value_bytes(r.get_ref(4).map_err(sql_error)?))
                .into_owned();
            let des: i64 = r.get::<_, Option<i64>>(5).map_err(sql_error)?.unwrap_or(1);
            let from_me = des == 0;
            let (sender, body) = if group && !from_me {
                let (p, b) = content::split_sender_prefix(&text);
                (p.map(str::to_string), b.to_string())
            } else {
                (Some(conversation_id.to_string()), text.clone())
            };
            let id = match svr_id {
                Some(s) if s != 0 => s.to_string(),
                _ => format!("local-{hash}-{local_id}"),
            };
            let mut raw = RawMessage {
                id,
                conversation_id: conversation_id.to_string(),
                at: timestamp_from_seconds(time),
                base_type: base,
                raw_type: base,
                from_me,
                sender,
                content: body,
                attachments: Vec::new(),
                ext: Vec::new(),
            };
            self.media_of(&mut raw, &hash, local_id, time)?;
            Ok((
                time,
                local_id,
                normalise(raw, &self.account, &self.contacts),
            ))
        };
        self.chat_shards()
            .messages(conversation_id, query, &sql, &mut row)
    }
}

/// Media (issue 13): WeChat for macOS 3.x keeps a chat's files, unencrypted, under
/// `Message/MessageTemp/<md5(talker)>/`: `Image/<mesLocalID><msgCreateTime>_.pic.jpg` with
/// `_.pic_thumb.jpg` (and `_.pic_hd.jpg`), `Video/<mesLocalID>_<msgCreateTime>.mp4`,
/// `Audio/<mesLocalID>.aud.silk` (SILK with a 0x02 prefix), `File/<title>`. `hldata.db`
/// (`HlinkMediaRecord.mediaMd5` = the XML's md5 → `HlinkMediaDetail.relativePath` + `fileName`,
/// chat-stores.md §4, chatlog `darwinv3` `GetMedia`) names downloaded images, videos and files;
/// the names above are the fallback and give thumbnails and voice. Sources for the names: chatlog
/// forks' `MessageDarwinV3.Wrap` (`_.pic.jpg`, `_.pic_hd.jpg`, `_.pic_thumb.jpg`, `<time>.mp4`),
/// a WeChat-reading CLI's macOS resolver (`{local_id}{timestamp}_.pic_thumb.jpg`,
/// `{local_id}_{timestamp}.mp4`, `Audio/*.aud.silk`, `File/<title>`) and users' notes
/// (`Audio/111.aud.silk`), all in the code index. Which voice file belongs to which message is
/// not documented: by `mesLocalID`, as those notes show (uncertain); the video poster's name
/// is not documented either (`<video stem>.jpg`, uncertain).
impl Mac3Store {
    fn media_of(&self, raw: &mut RawMessage, hash: &str, local_id: i64, time: i64) -> Result<()> {
        use crate::model::AttachmentRef;
        let temp = format!("Message/MessageTemp/{hash}");
        let xml = content::media_xml(&raw.content);
        let linked = match (&xml.md5, raw.base_type) {
            (Some(md5), 3 | 43 | 49) => self.hldata()?.get(md5).cloned(),
            _ => None,
        };
        let mut out: Vec<AttachmentRef> = Vec::new();
        match raw.base_type {
            3 => {
                let orig =
                    linked.unwrap_or_else(|| format!("{temp}/Image/{local_id}{time}_.pic.jpg"));
                // The thumbnail beside the photo, in the photo's format (`.jpg`, or `.png`).
                let thumb = match orig.rsplit_once("_.pic") {
                    Some((stem, rest)) => {
                        let ext = rest.rsplit_once('.').map_or("jpg", |(_, e)| e);
                        format!("{stem}_.pic_thumb.{ext}")
                    }
                    None => format!("{temp}/Image/{local_id}{time}_.pic_thumb.jpg"),
                };
                out.push(AttachmentRef::file(orig));
                out.push(AttachmentRef::file(thumb).thumbnail());
            }
            43 => {
                let orig = linked.unwrap_or_else(|| format!("{temp}/Video/{local_id}_{time}.mp4"));
                if let Some((stem, _)) = orig.rsplit_once('.') {
                    out.push(AttachmentRef::file(format!("{stem}.jpg")).thumbnail());
                }
                out.insert(0, AttachmentRef::file(orig));
            }
            34 => {
                let silk = format!("{temp}/Audio/{local_id}.aud.silk");
                let aud = format!("{temp}/Audio/{local_id}.aud");
                let path = if !self.root.join(&silk).is_file() && self.root.join(&aud).is_file() {
                    aud
                } else {
                    silk
                };
                out.push(AttachmentRef::file(path));
            }
            49 if matches!(xml.app_type, Some(6 | 74)) => {
                let title = xml.title.clone().unwrap_or_default();
                let fallback = (!title.is_empty() && !title.contains(['/', '\\']) && title != "..")
                    .then(|| format!("{temp}/File/{title}"));
                if let Some(p) = linked.or(fallback) {
                    let mut a = AttachmentRef::file(p);
                    if !title.trim().is_empty() {
                        a.name = Some(title);
                    }
                    out.push(a);
                }
            }
            _ => {}
        }
        for a in &mut out {
            match std::fs::metadata(self.root.join(&a.path)) {
                Ok(m) if m.is_file() => a.size = Some(m.len()),
                _ => a.missing = true,
            }
            a.mime = content::media_mime(&a.path).map(str::to_string);
        }
        out.retain(|a| a.role == crate::model::AttachmentRole::Original || !a.missing);
        raw.attachments = out;
        Ok(())
    }

    fn hldata(&self) -> Result<&HashMap<String, String>> {
        if let Some(m) = self.hldata.get() {
            return Ok(m);
        }
        let loaded = self.load_hldata()?;
        Ok(self.hldata.get_or_init(|| loaded))
    }

    fn load_hldata(&self) -> Result<HashMap<String, String>> {
        let mut map = HashMap::new();
        let Some(path) = ["Hardlink/hldata.db", "hldata.db"]
            .iter()
            .map(|p| self.root.join(p))
            .find(|p| p.is_file())
        else {
            return Ok(map);
        };
        let db = Db::open(&path, &cipher(&self.key)).map_err(damaged_not_wrong_key(&path))?;
        if !db.has_table("HlinkMediaRecord")? || !db.has_table("HlinkMediaDetail")? {
            return Ok(map);
        }
        // Both tables read once and joined here: HlinkMediaDetail has no index on inodeNumber.
        let mut by_inode: HashMap<i64, (String, String)> = HashMap::new();
        let sql = "SELECT inodeNumber, relativePath, fileName FROM HlinkMediaDetail";
        for row in rows::<(Option<i64>, Option<String>, Option<String>)>(&db, sql, [])? {
            if let (Some(inode), Some(dir), Some(name)) = row {
                by_inode.entry(inode).or_insert((dir, name));
            }
        }
        let sql = "SELECT mediaMd5, inodeNumber FROM HlinkMediaRecord";
        for row in rows::<(Option<String>, Option<i64>)>(&db, sql, [])? {
            let (Some(md5), Some(inode)) = row else {
                continue;
            };
            let Some((dir, name)) = by_inode.get(&inode) else {
                continue;
            };
            let dir = dir.trim_matches('/');
            let safe = |s: &str| !s.split('/').any(|c| c == "..");
            if name.is_empty() || name.contains('/') || !safe(dir) || !safe(name) {
                continue;
            }
            map.entry(md5.to_ascii_lowercase()).or_insert_with(|| {
                if dir.is_empty() {
                    format!("Message/MessageTemp/{name}")
                } else {
                    format!("Message/MessageTemp/{dir}/{name}")
                }
            });
        }
        Ok(map)
    }
}
