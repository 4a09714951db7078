//! WeChat for Windows 3.x: `<wxid>/Msg/MicroMsg.db` (contacts) and `Msg/Multi/MSG<n>.db`
//! (messages, sharded by time). SQLCipher 3 parameters with 4096-byte pages; the 32-byte key
//! is the passphrase. Schema: chat-stores.md §2.2-2.4 (chatlog `message_v3.go`, `contact.go`).

use super::{content, normalise, Contacts, RawMessage, Tally};
use crate::error::{Error, ErrorCode, Result};
use crate::model::{AttachmentRef, Conversation, Message};
use crate::secret::Secret;
use crate::store::sqlite::{damaged_not_wrong_key, require_table, sql_error, Cipher, Db, KeyForm};
use crate::store::{
    numbered_files, timestamp_from_seconds, unknown_conversation, ChatStore, MessageQuery, Variant,
};
use rusqlite::types::ValueRef;

use std::path::Path;

pub struct Win3Store {
    root: std::path::PathBuf,
    account: String,
    contacts: Contacts,
    shards: Vec<Shard>,
}

struct Shard {
    db: Db,
    /// The file's name (`MSG0.db`), which names its incremental-read mark.
    name: String,
    /// `MSG.TalkerId` and `Name2ID` exist (WeChat indexes MSG on TalkerId).
    has_talker_id: bool,
    has_sequence: bool,
    has_compress: bool,
    has_bytes_extra: bool,
}

fn cipher(key: &Secret<String>) -> Cipher {
    Cipher::Sqlcipher {
        key: KeyForm::PassphraseHex(key.clone()),
        compatibility: 3,
        page_size: 4096,
    }
}

impl Win3Store {
    pub fn open(root: &Path, key: &Secret<String>) -> Result<Win3Store> {
        let msg = root.join("Msg");
        let account = root
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let files = numbered_files(&msg.join("Multi"), "MSG");
        if files.is_empty() {
            return Err(Error::new(
                ErrorCode::StoreNotFound,
                format!("no MSG*.db in {}", msg.join("Multi").display()),
            )
            .with_hint("Pick the WeChat Files/<wxid> folder of the account."));
        }
        let micro = msg.join("MicroMsg.db");
        if !micro.is_file() {
            return Err(Error::new(
                ErrorCode::StoreContactsMissing,
                format!("{} is missing", micro.display()),
            )
            .with_hint("Copy the whole WeChat Files/<wxid> folder, including Msg/MicroMsg.db."));
        }
        // Contacts first: it is small, so a wrong key is reported before the big shards are copied.
        let micro_db = Db::open(&micro, &cipher(key))?;
        require_table(&micro_db, &micro, "Contact")?;
        let contacts = read_contacts(&micro_db)?;
        let mut shards = Vec::new();
        for (_, path) in files {
            let db = Db::open(&path, &cipher(key)).map_err(damaged_not_wrong_key(&path))?;
            if !db.has_table("MSG")? {
                continue;
            }
            let cols = db.columns("MSG")?;
            let has = |c: &str| cols.iter().any(|x| x == c);
            for required in ["StrTalker", "CreateTime", "Type", "IsSender", "StrContent"] {
                if !has(required) {
                    return Err(Error::new(
                        ErrorCode::StoreUnsupported,
                        format!("{}: table MSG has no column {required}", path.display()),
                    )
                    .with_hint(
                        "This WeChat version stores messages differently; please report it.",
                    ));
                }
            }
            shards.push(Shard {
                name: path
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default(),
                has_talker_id: has("TalkerId")
                    && db.has_table("Name2ID")?
                    && talker_ids_match(&db)?,
                has_sequence: has("Sequence"),
                has_compress: has("CompressContent"),
                has_bytes_extra: has("BytesExtra"),
                db,
            });
        }
        Ok(Win3Store {
            root: root.to_path_buf(),
            account,
            contacts,
            shards,
        })
    }
}

/// Whether `MSG.TalkerId` is the rowid of the talker in `Name2ID`, checked on up to 16 talkers
/// spread over the table (index lookups only). Lookups by TalkerId also require StrTalker to
/// match, so a store where this does not hold falls back to StrTalker and loses nothing.
fn talker_ids_match(db: &Db) -> Result<bool> {
    let conn = db.conn();
    let indexed: bool = conn
        .query_row(
            "SELECT EXISTS (SELECT 1 FROM sqlite_master WHERE type = 'index' AND tbl_name = 'MSG' \
             AND sql LIKE '%(TalkerId%')",
            [],
            |r| r.get(0),
        )
        .map_err(sql_error)?;
    if !indexed {
        return Ok(false);
    }
    let n: i64 = conn
        .query_row("SELECT count(*) FROM Name2ID", [], |r| r.get(0))
        .map_err(sql_error)?;
    if n == 0 {
        return Ok(false);
    }
    let step = (n / 16).max(1);
    let mut stmt = conn
        .prepare("SELECT rowid, UsrName FROM Name2ID WHERE rowid % ?1 = 0 OR rowid = 1 LIMIT 16")
        .map_err(sql_error)?;
    let sample: Vec<(i64, String)> = stmt
        .query_map([step], |r| Ok((r.get(0)?, r.get(1)?)))
        .map_err(sql_error)?
        .collect::<rusqlite::Result<_>>()
        .map_err(sql_error)?;
    let mut checked = 0;
    for (rowid, name) in sample {
        let talker: Option<String> = conn
            .query_row(
                "SELECT StrTalker FROM MSG WHERE TalkerId = ?1 LIMIT 1",
                [rowid],
                |r| r.get(0),
            )
            .ok();
        match talker {
            Some(t) if t == name => checked += 1,
            Some(_) => return Ok(false),
            None => {}
        }
    }
    Ok(checked > 0)
}

fn read_contacts(db: &Db) -> Result<Contacts> {
    let mut contacts = Contacts::default();
    contacts.load_names(
        db,
        "Contact",
        "SELECT UserName, Remark, NickName FROM Contact",
    )?;
    contacts.load_member_lists(
        db,
        "ChatRoom",
        "SELECT ChatRoomName, UserNameList FROM ChatRoom",
    )?;
    Ok(contacts)
}

impl ChatStore for Win3Store {
    fn variant(&self) -> Variant {
        Variant::WechatWin3
    }

    fn account_id(&self) -> Option<&str> {
        Some(&self.account)
    }

    /// Paths are relative to the account folder (`FileStorage/...`).
    fn attachment_source(&self, a: &AttachmentRef) -> Option<crate::model::AttachmentSource> {
        let p = self.root.join(&a.path);
        p.is_file()
            .then_some(crate::model::AttachmentSource::File(p))
    }

    /// One pass over each shard, tallied in memory (a GROUP BY on the unindexed StrTalker
    /// would sort the whole table).
    fn conversations(&self) -> Result<Vec<Conversation>> {
        let mut tally = Tally::default();
        for shard in &self.shards {
            let mut per: std::collections::HashMap<String, (u64, i64, i64)> =
                std::collections::HashMap::new();
            let conn = shard.db.conn();
            let mut stmt = conn
                .prepare("SELECT StrTalker, CreateTime FROM MSG")
                .map_err(sql_error)?;
            let mut rows = stmt.query([]).map_err(sql_error)?;
            while let Some(r) = rows.next().map_err(sql_error)? {
                let ValueRef::Text(talker) = r.get_ref(0).map_err(sql_error)? else {
                    continue;
                };
                let time: i64 = r.get::<_, Option<i64>>(1).map_err(sql_error)?.unwrap_or(0);
                match per.get_mut(std::str::from_utf8(talker).unwrap_or("")) {
                    Some(e) => {
                        e.0 += 1;
                        e.1 = e.1.min(time);
                        e.2 = e.2.max(time);
                    }
                    None => {
                        per.insert(
                            String::from_utf8_lossy(talker).into_owned(),
                            (1, time, time),
                        );
                    }
                }
            }
            for (talker, (n, first, last)) in per {
                tally.add(&talker, n, Some(first), Some(last));
            }
        }
        Ok(tally.into_conversations(&self.contacts))
    }

    fn messages(&self, conversation_id: &str, query: &MessageQuery) -> Result<Vec<Message>> {
        self.read_conversation(conversation_id, query)
    }

    /// The span's rows of every shard through the `CreateTime` index, all conversations at
    /// once (a conversation's own rows through TalkerId would be read whole to find a month).
    fn messages_between(
        &self,
        ids: &[String],
        since: i64,
        until: i64,
        sink: &mut dyn FnMut(&str, Message) -> Result<()>,
    ) -> Result<()> {
        let mut per: std::collections::HashMap<&str, Vec<(i64, i64, Message)>> =
            ids.iter().map(|id| (id.as_str(), Vec::new())).collect();
        for (shard_no, shard) in self.shards.iter().enumerate() {
            let conn = shard.db.conn();
            let sql = format!(
                "SELECT {}, StrTalker FROM MSG WHERE CreateTime BETWEEN ?1 AND ?2",
                shard.columns()
            );
            let mut stmt = conn.prepare(&sql).map_err(sql_error)?;
            let mut rows = stmt.query([since, until]).map_err(sql_error)?;
            while let Some(r) = rows.next().map_err(sql_error)? {
                let talker = match r.get_ref(9).map_err(sql_error)? {
                    ValueRef::Text(t) => std::str::from_utf8(t).unwrap_or(""),
                    _ => "",
                };
                let Some(out) = per.get_mut(talker) else {
                    continue;
                };
                let (time, seq, mut raw) = shard.decode(r, shard_no, talker)?;
                self.mark_missing(&mut raw.attachments);
                out.push((time, seq, normalise(raw, &self.account, &self.contacts)));
            }
        }
        for id in ids {
            let Some(mut out) = per.remove(id.as_str()) else {
                continue;
            };
            out.sort_by_key(|(t, s, _)| (*t, *s));
            for (_, _, m) in out {
                sink(id, m)?;
            }
        }
        Ok(())
    }

    /// Each shard's largest `MSG` rowid (`localId`), by the primary key.
    fn shard_cursors(&self) -> Result<Option<Vec<(String, i64)>>> {
        let mut out = Vec::new();
        for shard in &self.shards {
            out.push((shard.name.clone(), shard.max_rowid()?));
        }
        Ok(Some(out))
    }

    /// `MSG` rows after each shard's mark, by rowid: only the talker and time, nothing decoded.
    fn rows_after(
        &self,
        after: &std::collections::HashMap<String, i64>,
        sink: &mut dyn FnMut(&str, i64),
    ) -> Result<Vec<(String, i64)>> {
        let mut marks = Vec::new();
        for shard in &self.shards {
            let from = after.get(&shard.name).copied().unwrap_or(i64::MIN);
            let conn = shard.db.conn();
            let mut stmt = conn
                .prepare("SELECT StrTalker, CreateTime FROM MSG WHERE rowid > ?1")
                .map_err(sql_error)?;
            let mut rows = stmt.query([from]).map_err(sql_error)?;
            while let Some(r) = rows.next().map_err(sql_error)? {
                let ValueRef::Text(talker) = r.get_ref(0).map_err(sql_error)? else {
                    continue;
                };
                let time: i64 = r.get::<_, Option<i64>>(1).map_err(sql_error)?.unwrap_or(0);
                sink(std::str::from_utf8(talker).unwrap_or(""), time);
            }
            drop(rows);
            drop(stmt);
            drop(conn);
            marks.push((shard.name.clone(), shard.max_rowid()?));
        }
        Ok(marks)
    }

    /// One pass over each shard's MSG table in row order (shards oldest first): linear in the
    /// store's size whatever the number of conversations, since MSG has no index on StrTalker.
    fn scan(
        &self,
        ids: &[String],
        sink: &mut dyn FnMut(&str, Message) -> Result<()>,
    ) -> Result<()> {
        let wanted: std::collections::HashSet<&str> = ids.iter().map(String::as_str).collect();
        for (shard_no, shard) in self.shards.iter().enumerate() {
            let conn = shard.db.conn();
            let sql = format!(
                "SELECT {}, StrTalker FROM MSG ORDER BY rowid",
                shard.columns()
            );
            let mut stmt = conn.prepare(&sql).map_err(sql_error)?;
            let mut rows = stmt.query([]).map_err(sql_error)?;
            while let Some(r) = rows.next().map_err(sql_error)? {
                let talker = match r.get_ref(9).map_err(sql_error)? {
                    ValueRef::Text(t) => std::str::from_utf8(t).unwrap_or(""),
                    _ => "",
                };
                let Some(&id) = wanted.get(talker) else {
                    continue;
                };
                let (_, _, mut raw) = shard.decode(r, shard_no, id)?;
                self.mark_missing(&mut raw.attachments);
                sink(id, normalise(raw, &self.account, &self.contacts))?;
            }
        }
        Ok(())
    }
}

impl Win3Store {
    /// A conversation's messages; an id no shard holds is an error.
    fn read_conversation(
        &self,
        conversation_id: &str,
        query: &MessageQuery,
    ) -> Result<Vec<Message>> {
        let (since, until) = query.bounds();
        let mut out: Vec<(i64, i64, Message)> = Vec::new();
        let mut known = false;
        for (shard_no, shard) in self.shards.iter().enumerate() {
            let conn = shard.db.conn();
            known = known
                || conn
                    .query_row(
                        "SELECT EXISTS (SELECT 1 FROM MSG WHERE StrTalker = ?1)",
                        [conversation_id],
                        |r| r.get::<_, bool>(0),
                    )
                    .map_err(sql_error)?;
            // WeChat indexes MSG on TalkerId (a row of Name2ID), not on StrTalker: look the
            // conversation up through it where the shard has it, so that a preview does not
            // scan the whole table.
            let talker_id: Option<i64> = if shard.has_talker_id {
                conn.query_row(
                    "SELECT rowid FROM Name2ID WHERE UsrName = ?1",
                    [conversation_id],
                    |r| r.get(0),
                )
                .ok()
            } else {
                None
            };
            let filter = match talker_id {
                Some(_) => "TalkerId = ?1 AND StrTalker = ?4",
                None => "StrTalker = ?4 AND ?1 IS NULL",
            };
            // A page (a preview) decodes only its rows: SQL sorts and cuts, not Rust.
            let page = match (query.limit, &query.search) {
                (Some(n), None) => format!(" ORDER BY CreateTime, {} LIMIT {n}", shard.order()),
                _ => String::new(),
            };
            let sql = format!(
                "SELECT {} FROM MSG WHERE {filter} AND CreateTime BETWEEN ?2 AND ?3{page}",
                shard.columns()
            );
            let mut stmt = conn.prepare_cached(&sql).map_err(sql_error)?;
            let mut rows = stmt
                .query(rusqlite::params![talker_id, since, until, conversation_id])
                .map_err(sql_error)?;
            while let Some(r) = rows.next().map_err(sql_error)? {
                let (time, seq, mut raw) = shard.decode(r, shard_no, conversation_id)?;
                self.mark_missing(&mut raw.attachments);
                out.push((time, seq, normalise(raw, &self.account, &self.contacts)));
            }
            // Shards hold consecutive time spans, oldest first: a full page needs no more.
            if query.search.is_none() && query.limit.is_some_and(|n| out.len() >= n) && known {
                break;
            }
        }
        if !known {
            return Err(unknown_conversation(conversation_id));
        }
        out.sort_by_key(|(t, s, _)| (*t, *s));
        Ok(query.finish(out.into_iter().map(|(_, _, m)| m).collect()))
    }
}

impl Win3Store {
    /// Marks the attachments whose files the account folder does not have (never downloaded,
    /// or cleaned up by WeChat's storage management).
    fn mark_missing(&self, attachments: &mut [AttachmentRef]) {
        for a in attachments {
            a.missing = !self.root.join(&a.path).is_file();
        }
    }
}

impl Shard {
    /// The largest rowid of `MSG` (0 when empty).
    fn max_rowid(&self) -> Result<i64> {
        self.db
            .conn()
            .query_row("SELECT coalesce(max(rowid), 0) FROM MSG", [], |r| r.get(0))
            .map_err(sql_error)
    }
    /// What orders messages of equal CreateTime.
    fn order(&self) -> &'static str {
        if self.has_sequence {
            "Sequence"
        } else {
            "localId"
        }
    }

    /// The columns [`Shard::decode`] reads, in its order.
    fn columns(&self) -> String {
        let order = self.order();
        format!(
            "localId, MsgSvrID, Type, IsSender, CreateTime, StrContent, {}, {}, {order}",
            if self.has_compress {
                "CompressContent"
            } else {
                "NULL"
            },
            if self.has_bytes_extra {
                "BytesExtra"
            } else {
                "NULL"
            },
        )
    }

    /// One MSG row (columns as [`Shard::columns`]) as (time, order, raw message).
    fn decode(
        &self,
        r: &rusqlite::Row<'_>,
        shard_no: usize,
        conversation_id: &str,
    ) -> Result<(i64, i64, RawMessage)> {
        let group = conversation_id.ends_with("@chatroom");
        let local_id: i64 = r.get(0).map_err(sql_error)?;
        let svr_id: Option<i64> = r.get(1).map_err(sql_error)?;
        let base: i64 = r.get(2).map_err(sql_error)?;
        let is_sender: i64 = r.get::<_, Option<i64>>(3).map_err(sql_error)?.unwrap_or(0);
        let time: i64 = r.get(4).map_err(sql_error)?;
        let str_content: String = r
            .get::<_, Option<String>>(5)
            .map_err(sql_error)?
            .unwrap_or_default();
        let compressed = blob(r.get_ref(6).map_err(sql_error)?);
        let extra = blob(r.get_ref(7).map_err(sql_error)?);
        let seq: i64 = r
            .get::<_, Option<i64>>(8)
            .map_err(sql_error)?
            .unwrap_or(local_id);
        let mut body = str_content;
        if body.trim().is_empty() {
            if let Some(c) = compressed.as_deref().and_then(content::lz4_block) {
                body = c;
            }
        }
        let sender = if group {
            extra.as_deref().and_then(content::bytes_extra_sender)
        } else {
            Some(conversation_id.to_string())
        };
        let id = match svr_id {
            Some(s) if s != 0 => s.to_string(),
            _ => format!("local-{shard_no}-{local_id}"),
        };
        let raw = RawMessage {
            id,
            conversation_id: conversation_id.to_string(),
            at: timestamp_from_seconds(time),
            base_type: base,
            raw_type: base,
            from_me: is_sender == 1,
            sender,
            content: body,
            attachments: extra
                .as_deref()
                .and_then(content::bytes_extra_media_path)
                .map(AttachmentRef::file)
                .into_iter()
                .collect(),
            ext: Vec::new(),
        };
        Ok((time, seq, raw))
    }
}

fn blob(v: ValueRef<'_>) -> Option<Vec<u8>> {
    match v {
        ValueRef::Blob(b) if !b.is_empty() => Some(b.to_vec()),
        ValueRef::Text(t) if !t.is_empty() => Some(t.to_vec()),
        _ => None,
    }
}

pub(crate) fn value_bytes(v: ValueRef<'_>) -> Vec<u8> {
    blob(v).unwrap_or_default()
}
