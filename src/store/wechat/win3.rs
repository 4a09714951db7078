//! WeChat for Windows 3.x: `<wxid>/Msg/MicroMsg.db` (contacts) and `Msg/Multi/MSG<n>.db`
//! (messages, sharded by time). SQLCipher 3 parameters with 4096-byte pages; the 32-byte key
//! is the passphrase. Schema: chat-stores.md §2.2-2.4 (chatlog `message_v3.go`, `contact.go`).

use super::{content, normalise, Contacts, RawMessage, Tally};
use crate::crypto::secret::Secret;
use crate::error::{Error, ErrorCode, Result};
use crate::model::{AttachmentRef, Conversation, Message};
use crate::store::sqlite::{
    damaged_not_wrong_key, each_on_a_thread, open_each, require_table, sql_error, Cipher, Db,
    KeyForm,
};
use crate::store::{
    numbered_files, timestamp_from_seconds, unknown_conversation, ChatStore, MessageQuery,
    ShardEnd, Variant,
};
use rusqlite::types::ValueRef;
use std::collections::HashMap;
use std::path::Path;
use std::sync::OnceLock;

pub struct Win3Store {
    root: std::path::PathBuf,
    account: String,
    contacts: Contacts,
    /// Every `MSG<n>.db`, in order, each opened on first use.
    shards: Vec<Shard>,
    /// Shards an incremental run found unchanged since its marks (by their stamps), with their
    /// newest message time: a month after it is not looked for there, and the shard stays
    /// unopened (no private copy, no key, no schema).
    quiet: std::sync::Mutex<HashMap<usize, i64>>,
    /// The store's key, for the databases opened on first need.
    key: Secret<String>,
    /// `Msg/Multi/MediaMSG*.db` (voice), opened by the first read that meets a voice message.
    voice: OnceLock<Vec<VoiceShard>>,
    /// `Msg/HardLink{Image,Video,File}.db`: md5 → file, each loaded whole (one linear pass) by
    /// the first message whose `BytesExtra` does not name its file.
    hardlinks: [OnceLock<HashMap<[u8; 16], String>>; 3],
}

/// One `MediaMSG<n>.db`: table `Media(Key, Reserved0 = MsgSvrID, Buf = SILK, …)`
/// (chat-stores.md §2.2; WeChat 3.9.12's own DDL indexes `Reserved0`).
struct VoiceShard {
    /// Relative to the account folder (`Msg/Multi/MediaMSG0.db`): the part of a voice
    /// attachment's path before `#` (FORMAT.md §6.3).
    rel: String,
    db: Db,
    /// `Reserved0` → size of `Buf`, loaded once when the table has no index on `Reserved0`
    /// (so that a read never scans the table once per message).
    unindexed: Option<HashMap<i64, u64>>,
}

/// The HardLink databases (chat-stores.md §2.5; chatlog `windowsv3` `GetMedia`, `MediaV3.Wrap`).
#[derive(Clone, Copy)]
enum HardLink {
    Image = 0,
    Video = 1,
    File = 2,
}

impl HardLink {
    fn name(self) -> &'static str {
        match self {
            HardLink::Image => "Image",
            HardLink::Video => "Video",
            HardLink::File => "File",
        }
    }

    /// Where a row's file is: images `FileStorage/MsgAttach/<Dir1>/Image/<Dir2>/<FileName>`,
    /// videos `FileStorage/Video/<Dir2>/<FileName>`, files `FileStorage/File/<Dir2>/<FileName>`.
    fn path(self, dir1: &str, dir2: &str, file: &str) -> String {
        match self {
            HardLink::Image => format!("FileStorage/MsgAttach/{dir1}/Image/{dir2}/{file}"),
            HardLink::Video => format!("FileStorage/Video/{dir2}/{file}"),
            HardLink::File => format!("FileStorage/File/{dir2}/{file}"),
        }
    }
}

/// One `MSG<n>.db`. Its position among them numbers its messages without a server id
/// (`local-<position>-<localId>`).
struct Shard {
    path: std::path::PathBuf,
    /// The file's name (`MSG0.db`), which names its incremental-read mark.
    name: String,
    /// Its [`crate::store::file_stamp`] when the store was opened (before any copy of it).
    stamp: u64,
    /// The opened database, `None` when the file has no `MSG` table.
    open: OnceLock<Option<ShardDb>>,
}

/// An opened `MSG<n>.db` and what its `MSG` table has.
struct ShardDb {
    db: Db,
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
        // Contacts first: it is small, so a wrong key is reported before the big shards are
        // copied. The shards are opened when first read (an incremental run leaves the ones
        // it does not need alone); what can be told without opening them is told now.
        let micro_db = Db::open(&micro, &cipher(key))?;
        require_table(&micro_db, &micro, "Contact")?;
        let contacts = read_contacts(&micro_db)?;
        let mut shards = Vec::new();
        for (_, path) in &files {
            let stamp = crate::store::file_stamp(path);
            Db::check(path, &cipher(key))?;
            shards.push(Shard {
                name: path
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default(),
                path: path.clone(),
                stamp,
                open: OnceLock::new(),
            });
        }
        Ok(Win3Store {
            root: root.to_path_buf(),
            account,
            contacts,
            shards,
            quiet: Default::default(),
            key: key.clone(),
            voice: OnceLock::new(),
            hardlinks: Default::default(),
        })
    }
}

impl Win3Store {
    /// The shard at `i`, opened on first use; `None` when its file has no `MSG` table.
    fn shard_db(&self, i: usize) -> Result<Option<&ShardDb>> {
        let shard = &self.shards[i];
        if let Some(open) = shard.open.get() {
            return Ok(open.as_ref());
        }
        let db = Db::open(&shard.path, &cipher(&self.key))
            .map_err(damaged_not_wrong_key(&shard.path))?;
        let _ = shard.open.set(ShardDb::of(db, &shard.path)?);
        Ok(shard.open.get().and_then(Option::as_ref))
    }

    /// Every shard with a `MSG` table, opened (those not open yet at once, on every core), with
    /// its position.
    fn all_shards(&self) -> Result<Vec<(usize, &ShardDb)>> {
        let closed: Vec<&Shard> = self
            .shards
            .iter()
            .filter(|s| s.open.get().is_none())
            .collect();
        let opened = open_each(&closed, |s| Db::open(&s.path, &cipher(&self.key)));
        for (shard, db) in closed.into_iter().zip(opened) {
            let db = db.map_err(damaged_not_wrong_key(&shard.path))?;
            let _ = shard.open.set(ShardDb::of(db, &shard.path)?);
        }
        Ok(self
            .shards
            .iter()
            .enumerate()
            .filter_map(|(i, s)| s.open.get().and_then(Option::as_ref).map(|db| (i, db)))
            .collect())
    }
}

impl ShardDb {
    /// What the shard's `MSG` table has; `None` without one.
    fn of(db: Db, path: &Path) -> Result<Option<ShardDb>> {
        if !db.has_table("MSG")? {
            return Ok(None);
        }
        let cols = db.columns("MSG")?;
        let has = |c: &str| cols.iter().any(|x| x == c);
        for required in ["StrTalker", "CreateTime", "Type", "IsSender", "StrContent"] {
            if !has(required) {
                return Err(Error::new(
                    ErrorCode::StoreUnsupported,
                    format!("{}: table MSG has no column {required}", path.display()),
                )
                .with_hint("This WeChat version stores messages differently; please report it."));
            }
        }
        Ok(Some(ShardDb {
            has_talker_id: has("TalkerId") && db.has_table("Name2ID")? && talker_ids_match(&db)?,
            has_sequence: has("Sequence"),
            has_compress: has("CompressContent"),
            has_bytes_extra: has("BytesExtra"),
            db,
        }))
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

    /// Paths are relative to the account folder (`FileStorage/...`); a voice clip's is
    /// `Msg/Multi/MediaMSG<n>.db#<MsgSvrID>` (FORMAT.md §6.3), read from that row.
    fn attachment_source(&self, a: &AttachmentRef) -> Option<crate::model::AttachmentSource> {
        if let Some((db, svr_id)) = a.path.split_once('#') {
            let svr_id: i64 = svr_id.parse().ok()?;
            let shard = self.voice_shards().ok()?.iter().find(|s| s.rel == db)?;
            return shard
                .voice(svr_id)
                .ok()
                .flatten()
                .map(crate::model::AttachmentSource::Bytes);
        }
        let p = self.root.join(&a.path);
        p.is_file()
            .then_some(crate::model::AttachmentSource::File(p))
    }

    /// One pass over each shard, tallied in memory (a GROUP BY on the unindexed StrTalker
    /// would sort the whole table); the shards on every core.
    fn conversations(&self) -> Result<Vec<Conversation>> {
        let shards = self.all_shards()?;
        let tallies = each_on_a_thread(&shards, |(_, shard)| shard.tally());
        let mut tally = Tally::default();
        for per in tallies {
            for (talker, (n, first, last)) in per? {
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
        let quiet = self.quiet.lock().unwrap_or_else(|p| p.into_inner()).clone();
        for shard_no in 0..self.shards.len() {
            // Unchanged since the marks and all older than the span: nothing of it there.
            if quiet.get(&shard_no).is_some_and(|&newest| newest < since) {
                continue;
            }
            let Some(shard) = self.shard_db(shard_no)? else {
                continue;
            };
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
                let (time, seq, raw) = shard.decode(r, shard_no, talker)?;
                out.push((time, seq, self.finish(raw)?));
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

    /// Each shard's largest `MSG` rowid (`localId`) and newest `CreateTime`, by the primary
    /// key and WeChat's CreateTime index, with the stamp its file had when the store was
    /// opened.
    fn shard_cursors(&self) -> Result<Option<Vec<ShardEnd>>> {
        let mut out = Vec::new();
        for (i, shard) in self.all_shards()? {
            out.push(self.shards[i].end(shard)?);
        }
        Ok(Some(out))
    }

    /// `MSG` rows after each shard's mark, by rowid: only the talker and time, nothing decoded.
    /// A shard whose stamp is the one of its mark has no new rows: it is not opened, and
    /// [`ChatStore::messages_between`] then looks in it only for spans before its newest
    /// message.
    fn rows_after(
        &self,
        after: &std::collections::HashMap<String, ShardEnd>,
        sink: &mut dyn FnMut(&str, i64),
    ) -> Result<Vec<ShardEnd>> {
        let mut marks = Vec::new();
        let mut quiet = HashMap::new();
        for (i, file) in self.shards.iter().enumerate() {
            let was = after.get(&file.name);
            if let Some(was) = was.filter(|w| w.stamp != 0 && w.stamp == file.stamp) {
                if let Some(newest) = was.newest {
                    quiet.insert(i, newest);
                }
                marks.push(was.clone());
                continue;
            }
            let Some(shard) = self.shard_db(i)? else {
                continue;
            };
            let from = was.map_or(i64::MIN, |w| w.mark);
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
            marks.push(file.end(shard)?);
        }
        *self.quiet.lock().unwrap_or_else(|p| p.into_inner()) = quiet;
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
        for (shard_no, shard) in self.all_shards()? {
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
                let (_, _, raw) = shard.decode(r, shard_no, id)?;
                sink(id, self.finish(raw)?)?;
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
        for shard_no in 0..self.shards.len() {
            // Opened one by one: a page of the oldest messages may not need the later shards.
            let Some(shard) = self.shard_db(shard_no)? else {
                continue;
            };
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
                let (time, seq, raw) = shard.decode(r, shard_no, conversation_id)?;
                out.push((time, seq, self.finish(raw)?));
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

impl Shard {
    /// How far `db` (this shard, opened) reaches: its mark, newest message and stamp.
    fn end(&self, db: &ShardDb) -> Result<ShardEnd> {
        let newest: Option<i64> = db
            .db
            .conn()
            .query_row("SELECT max(CreateTime) FROM MSG", [], |r| r.get(0))
            .map_err(sql_error)?;
        Ok(ShardEnd {
            name: self.name.clone(),
            mark: db.max_rowid()?,
            stamp: self.stamp,
            newest,
        })
    }
}

/// Per talker: messages, first and last `CreateTime`.
type TalkerTally = HashMap<String, (u64, i64, i64)>;

impl ShardDb {
    /// Per talker: messages, first and last `CreateTime`, in one pass over `MSG`.
    fn tally(&self) -> Result<TalkerTally> {
        let mut per = TalkerTally::new();
        let conn = self.db.conn();
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
        Ok(per)
    }

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

    /// The columns [`ShardDb::decode`] reads, in its order.
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

    /// One MSG row (columns as [`ShardDb::columns`]) as (time, order, raw message).
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
            // The file (item 4) then its thumbnail (item 3); `Win3Store::finish` checks them
            // against the disk and fills in what `BytesExtra` leaves out.
            attachments: extra
                .as_deref()
                .map(|e| {
                    let original = content::bytes_extra_path(e, 4).map(AttachmentRef::file);
                    let thumb =
                        content::bytes_extra_path(e, 3).map(|p| AttachmentRef::file(p).thumbnail());
                    original.into_iter().chain(thumb).collect()
                })
                .unwrap_or_default(),
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

/// Media (issue 13): every file a message has, as WeChat for Windows 3.x records it.
///
/// - images (3): `BytesExtra` item 4 (`FileStorage/MsgAttach/<md5(talker)>/Image/<YYYY-MM>/
///   <md5>.dat`, XOR-ed) and item 3 (the thumbnail under `…/Thumb/…`), else the HardLinkImage row
///   of the `<img md5>`; an image never downloaded has only its thumbnail on disk;
/// - videos (43): item 4 (`FileStorage/Video/<YYYY-MM>/<name>.mp4`) and item 3 (its `.jpg`
///   poster), else HardLinkVideo, the poster beside the video;
/// - files (49/6): item 4 (`FileStorage/File/<YYYY-MM>/<name>`), else HardLinkFile;
/// - voice (34): the `Media` row of `MediaMSG*.db` whose `Reserved0` is the MsgSvrID (chatlog
///   `GetVoice`), SILK bytes kept in the database.
///
/// A file the store names but does not have is kept as `missing`; a thumbnail is listed only
/// when it is there.
impl Win3Store {
    fn finish(&self, mut raw: RawMessage) -> Result<Message> {
        match raw.base_type {
            3 | 43 | 49 => self.files_of(&mut raw)?,
            34 => {
                if let Some(v) = self.voice_ref(&raw.id)? {
                    raw.attachments = vec![v];
                }
            }
            _ => {}
        }
        for a in &mut raw.attachments {
            self.stat(a);
        }
        // Thumbnails that are not there say nothing worth keeping.
        raw.attachments
            .retain(|a| a.role == crate::model::AttachmentRole::Original || !a.missing);
        Ok(normalise(raw, &self.account, &self.contacts))
    }

    fn files_of(&self, raw: &mut RawMessage) -> Result<()> {
        use crate::model::AttachmentRole as Role;
        let xml = content::media_xml(&raw.content);
        let link = match raw.base_type {
            3 => HardLink::Image,
            43 => HardLink::Video,
            _ if matches!(xml.app_type, Some(6 | 74)) => HardLink::File,
            _ => return Ok(()),
        };
        let has = |role| {
            raw.attachments
                .iter()
                .any(|a: &AttachmentRef| a.role == role)
        };
        let (has_original, has_thumbnail) = (has(Role::Original), has(Role::Thumbnail));
        if !has_original {
            let from_link = match &xml.md5 {
                Some(md5) => self.hardlink(link, md5)?,
                None => None,
            };
            // An image with only its thumbnail named: the original's place beside it.
            let from_thumb = || {
                raw.attachments
                    .iter()
                    .find(|a| a.role == Role::Thumbnail && matches!(link, HardLink::Image))
                    .and_then(|t| {
                        let p = t.path.replacen("/Thumb/", "/Image/", 1);
                        (p != t.path).then(|| p.replace("_t.dat", ".dat"))
                    })
            };
            if let Some(p) = from_link.or_else(from_thumb) {
                raw.attachments.insert(0, AttachmentRef::file(p));
            }
        }
        if !has_thumbnail {
            let thumb = raw.attachments.first().and_then(|o| match link {
                HardLink::Image => {
                    let p = o.path.replacen("/Image/", "/Thumb/", 1);
                    (p != o.path).then(|| match p.strip_suffix(".dat") {
                        Some(stem) if !stem.ends_with("_t") => format!("{stem}_t.dat"),
                        _ => p,
                    })
                }
                HardLink::Video => o
                    .path
                    .rsplit_once('.')
                    .map(|(stem, _)| format!("{stem}.jpg")),
                HardLink::File => None,
            });
            if let Some(p) = thumb {
                raw.attachments.push(AttachmentRef::file(p).thumbnail());
            }
        }
        if let (HardLink::File, Some(title), Some(o)) =
            (link, xml.title, raw.attachments.first_mut())
        {
            // The file keeps the name it was sent with (the disk may add ` (1)` to it).
            if !title.trim().is_empty() && o.role == Role::Original {
                o.name = Some(title);
            }
        }
        Ok(())
    }

    /// Size and MIME type from the disk; `missing` when the file is not there.
    fn stat(&self, a: &mut AttachmentRef) {
        if a.path.contains('#') {
            return; // a database row, already sized
        }
        match std::fs::metadata(self.root.join(&a.path)) {
            Ok(m) if m.is_file() => a.size = Some(m.len()),
            _ => a.missing = true,
        }
        if a.mime.is_none() {
            a.mime = content::media_mime(&a.path).map(str::to_string);
        }
    }

    /// The voice clip of the message with server id `id`: its `Media` row, or a missing
    /// reference when no shard has it.
    fn voice_ref(&self, id: &str) -> Result<Option<AttachmentRef>> {
        let Ok(svr_id) = id.parse::<i64>() else {
            return Ok(None);
        };
        let shards = self.voice_shards()?;
        for shard in shards {
            if let Some(size) = shard.size(svr_id)? {
                let mut a = AttachmentRef::file(format!("{}#{svr_id}", shard.rel));
                a.name = Some(format!("{svr_id}.silk"));
                a.size = Some(size);
                a.mime = Some("audio/silk".into());
                return Ok(Some(a));
            }
        }
        let rel = shards
            .first()
            .map_or("Msg/Multi/MediaMSG0.db", |s| s.rel.as_str());
        let mut a = AttachmentRef::file(format!("{rel}#{svr_id}"));
        a.name = Some(format!("{svr_id}.silk"));
        a.missing = true;
        Ok(Some(a))
    }

    fn voice_shards(&self) -> Result<&[VoiceShard]> {
        if let Some(v) = self.voice.get() {
            return Ok(v);
        }
        let mut shards = Vec::new();
        for (n, path) in numbered_files(&self.root.join("Msg").join("Multi"), "MediaMSG") {
            let db = Db::open(&path, &cipher(&self.key)).map_err(damaged_not_wrong_key(&path))?;
            if !db.has_table("Media")? {
                continue;
            }
            let indexed: bool = db
                .conn()
                .query_row(
                    "SELECT EXISTS (SELECT 1 FROM sqlite_master WHERE type = 'index' \
                     AND tbl_name = 'Media' AND sql LIKE '%(Reserved0%')",
                    [],
                    |r| r.get(0),
                )
                .map_err(sql_error)?;
            let unindexed = if indexed {
                None
            } else {
                let conn = db.conn();
                let mut stmt = conn
                    .prepare("SELECT Reserved0, length(Buf) FROM Media")
                    .map_err(sql_error)?;
                let rows = stmt
                    .query_map([], |r| {
                        Ok((r.get::<_, Option<i64>>(0)?, r.get::<_, Option<i64>>(1)?))
                    })
                    .map_err(sql_error)?;
                let mut map = HashMap::new();
                for row in rows {
                    if let (Some(id), Some(len)) = row.map_err(sql_error)? {
                        if len > 0 {
                            map.entry(id).or_insert(len as u64);
                        }
                    }
                }
                Some(map)
            };
            shards.push(VoiceShard {
                rel: format!("Msg/Multi/MediaMSG{n}.db"),
                db,
                unindexed,
            });
        }
        Ok(self.voice.get_or_init(|| shards))
    }

    /// The file HardLink `link` records for `md5` (hex), relative to the account folder.
    fn hardlink(&self, link: HardLink, md5: &str) -> Result<Option<String>> {
        let Ok(key) = <[u8; 16]>::try_from(hex::decode(md5).unwrap_or_default()) else {
            return Ok(None);
        };
        let cell = &self.hardlinks[link as usize];
        let map = match cell.get() {
            Some(m) => m,
            None => {
                let loaded = self.load_hardlink(link)?;
                cell.get_or_init(|| loaded)
            }
        };
        Ok(map.get(&key).cloned())
    }

    fn load_hardlink(&self, link: HardLink) -> Result<HashMap<[u8; 16], String>> {
        let mut map = HashMap::new();
        let name = link.name();
        let path = self.root.join("Msg").join(format!("HardLink{name}.db"));
        if !path.is_file() {
            return Ok(map);
        }
        let db = Db::open(&path, &cipher(&self.key)).map_err(damaged_not_wrong_key(&path))?;
        let (attr, ids) = (
            format!("HardLink{name}Attribute"),
            format!("HardLink{name}ID"),
        );
        if !db.has_table(&attr)? || !db.has_table(&ids)? {
            return Ok(map);
        }
        let conn = db.conn();
        // Dir ids join through the ID table's primary key: one pass over the attributes.
        let mut stmt = conn
            .prepare(&format!(
                "SELECT a.MD5, a.FileName, coalesce(d1.Dir, ''), coalesce(d2.Dir, '') \
                 FROM \"{attr}\" a LEFT JOIN \"{ids}\" d1 ON a.DirID1 = d1.DirID \
                 LEFT JOIN \"{ids}\" d2 ON a.DirID2 = d2.DirID"
            ))
            .map_err(sql_error)?;
        let mut rows = stmt.query([]).map_err(sql_error)?;
        while let Some(r) = rows.next().map_err(sql_error)? {
            let md5 = value_bytes(r.get_ref(0).map_err(sql_error)?);
            let Ok(md5) = <[u8; 16]>::try_from(md5.as_slice()) else {
                continue;
            };
            let file: Option<String> = r.get(1).map_err(sql_error)?;
            let (d1, d2): (String, String) =
                (r.get(2).map_err(sql_error)?, r.get(3).map_err(sql_error)?);
            let Some(file) = file.filter(|f| !f.is_empty() && !f.contains(['/', '\\'])) else {
                continue;
            };
            if [&d1, &d2].iter().any(|d| d.contains("..")) {
                continue;
            }
            map.entry(md5).or_insert_with(|| link.path(&d1, &d2, &file));
        }
        Ok(map)
    }
}

impl VoiceShard {
    /// The size of the clip of `svr_id`, if this shard has it.
    fn size(&self, svr_id: i64) -> Result<Option<u64>> {
        if let Some(map) = &self.unindexed {
            return Ok(map.get(&svr_id).copied());
        }
        let size = self.clip_row(svr_id, "length(Buf)", |r| {
            r.get::<_, Option<i64>>(0).map_err(sql_error)
        })?;
        Ok(size.flatten().map(|n| n as u64))
    }

    /// `column` of the first row of `svr_id` whose clip is not empty.
    fn clip_row<T>(
        &self,
        svr_id: i64,
        column: &str,
        get: impl FnOnce(&rusqlite::Row<'_>) -> Result<T>,
    ) -> Result<Option<T>> {
        let conn = self.db.conn();
        let mut stmt = conn
            .prepare_cached(&format!(
                "SELECT {column} FROM Media WHERE Reserved0 = ?1 AND length(Buf) > 0 LIMIT 1"
            ))
            .map_err(sql_error)?;
        let mut rows = stmt.query([svr_id]).map_err(sql_error)?;
        match rows.next().map_err(sql_error)? {
            Some(r) => get(r).map(Some),
            None => Ok(None),
        }
    }

    /// The SILK bytes of `svr_id`.
    fn voice(&self, svr_id: i64) -> Result<Option<Vec<u8>>> {
        self.clip_row(svr_id, "Buf", |r| {
            Ok(value_bytes(r.get_ref(0).map_err(sql_error)?))
        })
    }
}
