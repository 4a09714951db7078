//! WeChat stores: one reader per variant, sharing payload decoding and contact lookup.

pub mod android;
pub mod android_media;
pub mod content;
pub mod image_key;
pub mod mac3;
pub mod v4;
pub mod v4media;
pub mod win3;

use crate::model::{ConversationKind, Message, MessageKind};
use std::collections::HashMap;

/// Display names by user id: remark, else nickname.
#[derive(Debug, Default, Clone)]
pub struct Contacts {
    names: HashMap<String, String>,
    members: HashMap<String, u32>,
}

impl Contacts {
    pub fn insert(&mut self, id: String, remark: Option<String>, nickname: Option<String>) {
        let title = remark
            .filter(|s| !s.trim().is_empty())
            .or(nickname.filter(|s| !s.trim().is_empty()));
        if let Some(t) = title {
            self.names.insert(id, t);
        }
    }

    /// Adds every `(id, remark, nickname)` row of `sql`, if `table` exists.
    pub fn load_names(
        &mut self,
        db: &crate::store::sqlite::Db,
        table: &str,
        sql: &str,
    ) -> crate::Result<Vec<String>> {
        let mut ids = Vec::new();
        if !db.has_table(table)? {
            return Ok(ids);
        }
        for (id, remark, nick) in
            crate::store::rows::<(String, Option<String>, Option<String>)>(db, sql, [])?
        {
            ids.push(id.clone());
            self.insert(id, remark, nick);
        }
        Ok(ids)
    }

    /// Adds the member counts of every `(room, member list)` row of `sql`, if `table` exists.
    pub fn load_member_lists(
        &mut self,
        db: &crate::store::sqlite::Db,
        table: &str,
        sql: &str,
    ) -> crate::Result<()> {
        use crate::store::sqlite::sql_error;
        if !db.has_table(table)? {
            return Ok(());
        }
        let conn = db.conn();
        let mut stmt = conn.prepare(sql).map_err(sql_error)?;
        let rows = stmt
            .query_map([], |r| {
                Ok((r.get::<_, String>(0)?, r.get::<_, Option<String>>(1)?))
            })
            .map_err(sql_error)?;
        for row in rows {
            let (room, list) = row.map_err(sql_error)?;
            if let Some(list) = list {
                self.set_members(room, count_members(&list));
            }
        }
        Ok(())
    }

    pub fn knows(&self, id: &str) -> bool {
        self.names.contains_key(id)
    }

    pub fn set_members(&mut self, room: String, count: u32) {
        self.members.insert(room, count);
    }

    /// Remark > nickname > id.
    pub fn title(&self, id: &str) -> String {
        self.names
            .get(id)
            .cloned()
            .unwrap_or_else(|| id.to_string())
    }

    pub fn members(&self, room: &str) -> Option<u32> {
        self.members.get(room).copied()
    }
}

/// Message counts and first/last times (Unix seconds) per conversation, summed over shards.
#[derive(Debug, Default)]
pub struct Tally(std::collections::BTreeMap<String, (u64, i64, i64)>);

impl Tally {
    pub fn add(&mut self, id: &str, count: u64, first: Option<i64>, last: Option<i64>) {
        if count == 0 {
            return;
        }
        let e = self
            .0
            .entry(id.to_string())
            .or_insert((0, i64::MAX, i64::MIN));
        e.0 += count;
        e.1 = e.1.min(first.unwrap_or(i64::MAX));
        e.2 = e.2.max(last.unwrap_or(i64::MIN));
    }

    /// The conversations, titled from `contacts`, newest first.
    pub fn into_conversations(self, contacts: &Contacts) -> Vec<crate::model::Conversation> {
        let mut list: Vec<crate::model::Conversation> = self
            .0
            .into_iter()
            .map(|(id, (n, first, last))| crate::model::Conversation {
                title: contacts.title(&id),
                kind: conversation_kind(&id),
                member_count: contacts.members(&id),
                message_count: n,
                first_at: Some(crate::store::timestamp_from_seconds(first)),
                last_at: Some(crate::store::timestamp_from_seconds(last)),
                id,
            })
            .collect();
        crate::store::sort_conversations(&mut list);
        list
    }
}

/// The `<md5>` in the name of a chat's table (`Msg_<md5>` in 4.x, `Chat_<md5>` on macOS 3.x).
/// A table no contact, Name2Id or session row names is still listed, under the hash itself as
/// its id and title, so its messages are kept; a WeChat username is never 32 hex digits
/// (`wxid_` + 14 characters, 6-20 characters chosen by the user, or `<digits>@chatroom`), so
/// such an id always means the hash.
pub fn table_hash(conversation_id: &str) -> String {
    if conversation_id.len() == 32 && conversation_id.bytes().all(|b| b.is_ascii_hexdigit()) {
        conversation_id.to_ascii_lowercase()
    } else {
        crate::store::md5_hex(conversation_id)
    }
}

pub fn conversation_kind(id: &str) -> ConversationKind {
    if id.ends_with("@chatroom") {
        ConversationKind::Group
    } else {
        ConversationKind::Direct
    }
}

/// Counts `;`-separated or `^G`-separated member lists.
pub fn count_members(list: &str) -> u32 {
    list.split([';', '\u{7}', ','])
        .filter(|s| !s.trim().is_empty())
        .count() as u32
}

/// Everything a reader found in one row, before normalisation.
pub struct RawMessage {
    pub id: String,
    pub conversation_id: String,
    pub at: jiff::Timestamp,
    pub base_type: i64,
    pub raw_type: i64,
    pub from_me: bool,
    /// Sender id when known (group sender, or the talker in a direct chat).
    pub sender: Option<String>,
    /// The content with any group prefix already removed.
    pub content: String,
    /// Files the row points at, relative to the store's account folder.
    pub attachments: Vec<crate::model::AttachmentRef>,
    /// Extras kept with the message in the backup (`Message::ext`).
    pub ext: Vec<crate::model::MessageExt>,
}

/// Turns a raw row into a [`Message`]: kind from the type (and the XML for app messages),
/// display text, sender names.
pub fn normalise(raw: RawMessage, me: &str, contacts: &Contacts) -> Message {
    let base_kind = content::kind_of(raw.base_type, None);
    let xml_like = raw.content.trim_start().starts_with('<');
    let mut kind = base_kind;
    let mut text = String::new();
    let mut url = None;
    let mut reply_to = None;
    let mut quoted_text = None;
    match raw.base_type {
        1 => text = raw.content.clone(),
        49 | 48 | 42 | 50 | 10000 | 10002 => {
            if xml_like {
                let d = content::decode_xml_message(raw.base_type, &raw.content);
                if let Some(k) = d.kind {
                    kind = k;
                }
                text = d.text;
                url = d.url;
                reply_to = d.reply_to;
                quoted_text = d.quoted_text;
            } else {
                text = raw.content.clone();
            }
            if raw.base_type == 10000 && !xml_like && looks_like_recall(&text) {
                kind = MessageKind::Recalled;
            }
        }
        _ => {}
    }
    // System lines and recall notices are written by WeChat, not by a person.
    let sender = if matches!(kind, MessageKind::System | MessageKind::Recalled) {
        None
    } else if raw.from_me {
        Some(me.to_string())
    } else {
        Some(
            raw.sender
                .clone()
                .unwrap_or_else(|| raw.conversation_id.clone()),
        )
    };
    let sender_name = sender.as_deref().map(|s| contacts.title(s));
    let from_me = raw.from_me && sender.is_some();
    Message {
        id: raw.id,
        conversation_id: raw.conversation_id,
        at: raw.at,
        sender,
        sender_name,
        from_me,
        kind,
        text,
        reply_to,
        quoted_text,
        url,
        attachments: raw.attachments,
        raw_type: raw.raw_type,
        ext: raw.ext,
    }
}

/// WeChat writes recalls as plain system lines on older clients.
fn looks_like_recall(text: &str) -> bool {
    text.contains("撤回了一条消息") || text.contains("recalled a message")
}

/// A message with its time and its order among messages of that time, for sorting.
pub(crate) type TimedMessage = (i64, i64, Message);

/// One opened message shard of a store with a chat table per conversation (WeChat 4.x,
/// macOS 3.x), as its reader holds it.
pub(crate) struct ShardTables<'a> {
    /// Its position among the store's shards (numbers its messages without a server id).
    pub no: usize,
    pub db: &'a crate::store::sqlite::Db,
    /// Its file name, which with a table's hash names the table's mark.
    pub name: &'a str,
    /// Its chat tables: md5 hash → table.
    pub tables: &'a HashMap<String, String>,
}

/// The message shards of a store with a chat table per conversation (WeChat 4.x, macOS 3.x)
/// that a read needs, and md5(username) → username for every name the store knows.
/// `time_col` is a chat table's column of Unix seconds.
pub(crate) struct ChatShards<'a> {
    pub shards: Vec<ShardTables<'a>>,
    pub by_hash: &'a HashMap<String, String>,
    pub time_col: &'static str,
}

/// What one pass over a chat table tells: its messages, first and last time, and largest
/// rowid (its mark).
#[derive(Debug, Clone, Copy)]
pub(crate) struct TableStats {
    pub count: u64,
    pub first: Option<i64>,
    pub last: Option<i64>,
    pub end: i64,
}

/// Every chat table's [`TableStats`] by its hash, one statement per table.
pub(crate) fn table_stats(
    db: &crate::store::sqlite::Db,
    tables: &HashMap<String, String>,
    time_col: &str,
) -> crate::Result<HashMap<String, TableStats>> {
    use crate::store::sqlite::sql_error;
    let conn = db.conn();
    let mut out = HashMap::with_capacity(tables.len());
    for (hash, table) in tables {
        let stats = conn
            .query_row(
                &format!(
                    "SELECT count(*), min({time_col}), max({time_col}), coalesce(max(rowid), 0) \
                     FROM \"{table}\""
                ),
                [],
                |r| {
                    Ok(TableStats {
                        count: r.get::<_, i64>(0)? as u64,
                        first: r.get(1)?,
                        last: r.get(2)?,
                        end: r.get(3)?,
                    })
                },
            )
            .map_err(sql_error)?;
        out.insert(hash.clone(), stats);
    }
    Ok(out)
}

/// The conversation of a chat table: the username its hash stands for, else the hash (see
/// [`table_hash`]).
pub(crate) fn id_of_hash(by_hash: &HashMap<String, String>, hash: &str) -> String {
    by_hash
        .get(hash)
        .cloned()
        .unwrap_or_else(|| hash.to_string())
}

/// Every conversation with messages, from each shard's [`TableStats`].
pub(crate) fn tally_tables<'s>(
    stats: impl IntoIterator<Item = &'s HashMap<String, TableStats>>,
    by_hash: &HashMap<String, String>,
    contacts: &Contacts,
) -> Vec<crate::model::Conversation> {
    let mut tally = Tally::default();
    for shard in stats {
        for (hash, s) in shard {
            tally.add(&id_of_hash(by_hash, hash), s.count, s.first, s.last);
        }
    }
    tally.into_conversations(contacts)
}

impl ChatShards<'_> {
    /// Every chat table's mark and, with `after`, the rows past it (see [`chat_table_marks`]).
    pub fn marks(&self, mut after: RowsAfter<'_>) -> crate::Result<Vec<(String, i64)>> {
        let mut marks = Vec::new();
        let id_of = |hash: &str| id_of_hash(self.by_hash, hash);
        for s in &self.shards {
            let after = after
                .as_mut()
                .map(|(a, s)| (&**a, &mut **s as &mut dyn FnMut(&str, i64)));
            chat_table_marks(
                s.db,
                s.name,
                s.tables,
                self.time_col,
                &id_of,
                after,
                &mut marks,
            )?;
        }
        Ok(marks)
    }

    /// A conversation's messages from `since` to `until` of `query`, from its table in each
    /// shard: `sql` selects them from a shard's table (its number, the table's name) with the
    /// bounds as `?1` and `?2`, `row` makes each into (time, order within the time, message).
    pub fn messages(
        &self,
        conversation_id: &str,
        query: &crate::store::MessageQuery,
        sql: &dyn Fn(usize, &str) -> String,
        row: &mut dyn FnMut(&rusqlite::Row<'_>) -> crate::Result<TimedMessage>,
    ) -> crate::Result<Vec<Message>> {
        use crate::store::sqlite::sql_error;
        let (since, until) = query.bounds();
        let hash = table_hash(conversation_id);
        let mut out: Vec<TimedMessage> = Vec::new();
        let mut known = false;
        for s in &self.shards {
            let Some(table) = s.tables.get(&hash) else {
                continue;
            };
            known = true;
            let conn = s.db.conn();
            let mut stmt = conn.prepare(&sql(s.no, table)).map_err(sql_error)?;
            let mut rows = stmt
                .query(rusqlite::params![since, until])
                .map_err(sql_error)?;
            while let Some(r) = rows.next().map_err(sql_error)? {
                out.push(row(r)?);
            }
        }
        if !known {
            return Err(crate::store::unknown_conversation(conversation_id));
        }
        out.sort_by_key(|(t, s, _)| (*t, *s));
        Ok(query.finish(out.into_iter().map(|(_, _, m)| m).collect()))
    }

    /// Every conversation with messages, counted table by table.
    pub fn conversations(
        &self,
        contacts: &Contacts,
    ) -> crate::Result<Vec<crate::model::Conversation>> {
        let stats = self
            .shards
            .iter()
            .map(|s| table_stats(s.db, s.tables, self.time_col))
            .collect::<crate::Result<Vec<_>>>()?;
        Ok(tally_tables(&stats, self.by_hash, contacts))
    }
}

/// The chat tables of a shard, `<prefix><md5>`, by their lowercase md5 (others, such as macOS
/// `Chat_<md5>_dels`, are not chats).
pub(crate) fn chat_tables(
    db: &crate::store::sqlite::Db,
    prefix: &str,
) -> crate::Result<HashMap<String, String>> {
    Ok(db
        .tables()?
        .into_iter()
        .filter_map(|t| {
            t.strip_prefix(prefix)
                .map(|h| (h.to_ascii_lowercase(), t.clone()))
        })
        .filter(|(h, _)| h.len() == 32)
        .collect())
}

/// A shard's file name, which names its marks.
pub(crate) fn file_name(path: &std::path::Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

pub(crate) use crate::store::RowsAfter;

/// Incremental reads of a store with a chat table per conversation (WeChat 4.x, macOS 3.x):
/// each table is a shard named `<file>/<hash>`, marked by its largest rowid. With `after`, the
/// rows past each table's mark (a table without one is new: all its rows) go to the sink as
/// (conversation id, `time_col`). Pushes every table's mark onto `marks`.
pub(crate) fn chat_table_marks(
    db: &crate::store::sqlite::Db,
    file: &str,
    tables: &HashMap<String, String>,
    time_col: &str,
    id_of: &dyn Fn(&str) -> String,
    mut after: RowsAfter<'_>,
    marks: &mut Vec<(String, i64)>,
) -> crate::Result<()> {
    use crate::store::sqlite::sql_error;
    // A table declared AUTOINCREMENT (WeChat 4.x's are) has the largest rowid it ever gave in
    // sqlite_sequence: one statement tells which tables can have rows after their marks, where
    // one per table (thousands, most unchanged) would cost more than the new rows. Such a
    // table that lost its last rows keeps its mark until the full read.
    let sequence: HashMap<String, i64> = match &after {
        Some(_) if db.has_table("sqlite_sequence")? => {
            crate::store::rows::<(String, i64)>(db, "SELECT name, seq FROM sqlite_sequence", [])?
                .into_iter()
                .collect()
        }
        _ => HashMap::new(),
    };
    let conn = db.conn();
    let mut sorted: Vec<(&String, &String)> = tables.iter().collect();
    sorted.sort();
    for (hash, table) in sorted {
        let shard = format!("{file}/{hash}");
        if let (Some((after, _)), Some(&seq)) = (&after, sequence.get(table.as_str())) {
            if let Some(&from) = after.get(&shard).filter(|&&from| seq <= from) {
                marks.push((shard, from));
                continue;
            }
        }
        // The real end: a table that lost rows reports it below its old mark.
        let end: i64 = conn
            .query_row(
                &format!("SELECT coalesce(max(rowid), 0) FROM \"{table}\""),
                [],
                |r| r.get(0),
            )
            .map_err(sql_error)?;
        if let Some((after, sink)) = after.as_mut() {
            let from = after.get(&shard).copied().unwrap_or(i64::MIN);
            if end <= from {
                // Nothing past the mark (most chats, on most runs): no second statement.
                marks.push((shard, end));
                continue;
            }
            let id = id_of(hash);
            let mut stmt = conn
                .prepare(&format!(
                    "SELECT {time_col} FROM \"{table}\" WHERE rowid > ?1"
                ))
                .map_err(sql_error)?;
            let mut rows = stmt.query([from]).map_err(sql_error)?;
            while let Some(r) = rows.next().map_err(sql_error)? {
                let time: i64 = r.get::<_, Option<i64>>(0).map_err(sql_error)?.unwrap_or(0);
                sink(&id, time);
            }
        }
        marks.push((shard, end));
    }
    Ok(())
}
