//! Apple Messages: `~/Library/Messages/chat.db`, plain SQLite. Dates count from 2001-01-01
//! UTC, in seconds on older macOS and nanoseconds on newer; newer macOS often leaves `text`
//! NULL and keeps the body only in `attributedBody`, an NSAttributedString in typedstream
//! form. Schema and rules: chat-stores.md §8 (learned from imessage-exporter, GPL-3.0; no code
//! taken).
//!
//! Messages outside any chat: a `message` row need not have a `chat_message_join` row (a
//! chat deleted on another device leaves its messages behind; imessage-exporter calls them
//! "orphaned"). They are still the user's messages, so they are listed as conversations of
//! their own, one per handle address (`handle.id`: the phone number or e-mail, so iMessage
//! and SMS rows from the same address stay together) and one for rows without a handle. Their
//! ids are `outside-chats:<address>` and `outside-chats:` (see [`OUTSIDE_CHATS`]); real chat
//! guids always have the form `<service>;<-|+>;<identifier>`, so the two cannot collide, and a
//! chat guid is looked up first anyway.
//!
//! chat.db is read in place, never copied (a copy would be plaintext on disk): see
//! `store::memdb` for how the WAL is applied in memory and what that costs.

use crate::error::{Error, ErrorCode, Result};
use crate::model::{AttachmentRef, Conversation, ConversationKind, Message, MessageKind};
use crate::store::sqlite::{sql_error, Cipher, Db};
use crate::store::{
    rows, sort_conversations, unknown_conversation, ChatStore, MessageQuery, MessageTable,
    RowsAfter, Variant,
};
use jiff::Timestamp;
use rusqlite::types::ValueRef;
use std::path::Path;

/// Prefix of the ids of conversations made of messages outside any chat.
pub(crate) const OUTSIDE_CHATS: &str = "outside-chats:";

/// A message in no chat: no join row to a chat that exists.
const OUTSIDE_ANY_CHAT: &str = "NOT EXISTS (SELECT 1 FROM chat_message_join oj JOIN chat oc \
     ON oc.ROWID = oj.chat_id WHERE oj.message_id = m.ROWID)";

/// Seconds from the Unix epoch to 2001-01-01T00:00:00Z.
const APPLE_EPOCH: i64 = 978_307_200;

pub(crate) struct IMessageStore {
    file: std::path::PathBuf,
    db: Db,
    /// Optional columns present in this chat.db, by name (newer macOS adds columns).
    columns: Vec<String>,
    attachment_columns: Vec<String>,
    me: Option<String>,
}

impl IMessageStore {
    pub fn open(file: &Path) -> Result<IMessageStore> {
        let db = Db::open(file, &Cipher::Plain)?;
        for table in ["message", "chat", "chat_message_join", "handle"] {
            if !db.has_table(table)? {
                return Err(Error::new(
                    ErrorCode::StoreNotChatStore,
                    format!(
                        "{} has no '{table}' table: not an iMessage chat.db",
                        file.display()
                    ),
                )
                .with_hint("Pick ~/Library/Messages/chat.db."));
            }
        }
        let columns = db.columns("message")?;
        let attachment_columns = if db.has_table("attachment")? {
            db.columns("attachment")?
        } else {
            Vec::new()
        };
        // The account this Mac sends from: the most common destination_caller_id of my messages.
        let me = if columns.iter().any(|c| c == "destination_caller_id") {
            db.conn()
                .query_row(
                    "SELECT destination_caller_id FROM message WHERE is_from_me = 1 AND destination_caller_id <> '' \
                     GROUP BY destination_caller_id ORDER BY count(*) DESC LIMIT 1",
                    [],
                    |r| r.get::<_, String>(0),
                )
                .ok()
        } else {
            None
        };
        Ok(IMessageStore {
            file: file.to_path_buf(),
            db,
            columns,
            attachment_columns,
            me,
        })
    }

    fn message_table(&self) -> MessageTable<'_> {
        MessageTable {
            db: &self.db,
            rowid: "ROWID",
        }
    }

    fn has_chat(&self, guid: &str) -> Result<bool> {
        self.db
            .conn()
            .query_row(
                "SELECT EXISTS (SELECT 1 FROM chat WHERE guid = ?1)",
                [guid],
                |r| r.get(0),
            )
            .map_err(sql_error)
    }

    /// Conversations of messages outside any chat: one per handle address, one for rows
    /// without a handle (see the module doc).
    fn outside_chats(&self) -> Result<Vec<Conversation>> {
        let sql = format!(
            "SELECT coalesce(h.id, ''), count(*), min(m.date), max(m.date) \
             FROM message m LEFT JOIN handle h ON h.ROWID = m.handle_id \
             WHERE {OUTSIDE_ANY_CHAT} GROUP BY coalesce(h.id, '')"
        );
        let mut list = Vec::new();
        for (address, n, first, last) in
            rows::<(String, i64, Option<i64>, Option<i64>)>(&self.db, &sql, [])?
        {
            list.push(Conversation {
                id: format!("{OUTSIDE_CHATS}{address}"),
                title: if address.is_empty() {
                    "Messages outside any chat".to_string()
                } else {
                    format!("{address} (messages outside any chat)")
                },
                kind: ConversationKind::Direct,
                member_count: None,
                message_count: n as u64,
                first_at: first.map(apple_time),
                last_at: last.map(apple_time),
            });
        }
        Ok(list)
    }

    fn col(&self, name: &str) -> String {
        if self.columns.iter().any(|c| c == name) {
            format!("m.{name}")
        } else {
            "NULL".to_string()
        }
    }

    fn attachment_col(&self, name: &str) -> String {
        if self.attachment_columns.iter().any(|c| c == name) {
            format!("coalesce(a.{name}, '')")
        } else {
            "''".to_string()
        }
    }
}

/// An Apple timestamp (seconds or nanoseconds since 2001) as a [`Timestamp`].
pub(crate) fn apple_time(value: i64) -> Timestamp {
    let nanos: i128 = if value.abs() >= 1_000_000_000_000 {
        value as i128
    } else {
        value as i128 * 1_000_000_000
    };
    Timestamp::from_nanosecond(nanos + APPLE_EPOCH as i128 * 1_000_000_000)
        .unwrap_or(Timestamp::UNIX_EPOCH)
}

/// The plain text inside a typedstream-archived NSAttributedString: the first NSString's
/// bytes, which follow a `+` (0x2B) type tag and a length (one byte, or 0x81 + u16 LE, or
/// 0x82 + u32 LE).
pub(crate) fn attributed_body_text(blob: &[u8]) -> Option<String> {
    let start = find(blob, b"NSString")?;
    let rest = &blob[start..];
    let plus = find(rest, b"\x01+")? + 2;
    let rest = &rest[plus..];
    let (&first, rest) = rest.split_first()?;
    let (len, rest) = match first {
        0x81 => (
            u16::from_le_bytes([*rest.first()?, *rest.get(1)?]) as usize,
            rest.get(2..)?,
        ),
        0x82 => (
            u32::from_le_bytes(rest.get(..4)?.try_into().ok()?) as usize,
            rest.get(4..)?,
        ),
        n => (n as usize, rest),
    };
    let bytes = rest.get(..len)?;
    String::from_utf8(bytes.to_vec()).ok()
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

impl ChatStore for IMessageStore {
    fn variant(&self) -> Variant {
        Variant::IMessage
    }

    fn account_id(&self) -> Option<&str> {
        self.me.as_deref()
    }

    /// `~/Library/Messages/Attachments/...`: `~` is the home this chat.db sits in
    /// (`<home>/Library/Messages/chat.db`).
    fn attachment_source(&self, a: &AttachmentRef) -> Option<crate::model::AttachmentSource> {
        let p = match a.path.strip_prefix("~/") {
            Some(rest) => self.file.parent()?.parent()?.parent()?.join(rest),
            None => std::path::PathBuf::from(&a.path),
        };
        p.is_file()
            .then_some(crate::model::AttachmentSource::File(p))
    }

    /// `message.ROWID`: the one shard's mark; the rows after it by ROWID, with the chat (or
    /// the outside-any-chat conversation) each belongs to.
    fn marks(&self, after: RowsAfter<'_>) -> Result<Option<Vec<(String, i64)>>> {
        let sql = format!(
            "SELECT c.guid, m.date FROM message m JOIN chat_message_join j ON j.message_id = m.ROWID \
             JOIN chat c ON c.ROWID = j.chat_id WHERE m.ROWID > ?1 \
             UNION ALL \
             SELECT '{OUTSIDE_CHATS}' || coalesce(h.id, ''), m.date FROM message m \
             LEFT JOIN handle h ON h.ROWID = m.handle_id WHERE m.ROWID > ?1 AND {OUTSIDE_ANY_CHAT}"
        );
        self.message_table()
            .marks(after, &sql, |date| apple_time(date).as_second())
    }

    fn conversations(&self) -> Result<Vec<Conversation>> {
        let sql = "SELECT c.guid, c.display_name, c.style, \
                          (SELECT count(*) FROM chat_handle_join h WHERE h.chat_id = c.ROWID), \
                          count(m.ROWID), min(m.date), max(m.date), c.chat_identifier \
                   FROM chat c JOIN chat_message_join j ON j.chat_id = c.ROWID \
                   JOIN message m ON m.ROWID = j.message_id GROUP BY c.ROWID";
        type Row = (
            String,
            Option<String>,
            Option<i64>,
            i64,
            i64,
            Option<i64>,
            Option<i64>,
            Option<String>,
        );
        let mut list = Vec::new();
        for (id, display, style, handles, n, first, last, ident) in rows::<Row>(&self.db, sql, [])?
        {
            // chat.style: 43 = group, 45 = one-to-one.
            let kind = if style == Some(43) {
                ConversationKind::Group
            } else {
                ConversationKind::Direct
            };
            list.push(Conversation {
                title: display
                    .filter(|d| !d.trim().is_empty())
                    .or(ident)
                    .unwrap_or_else(|| id.clone()),
                kind,
                member_count: (kind == ConversationKind::Group).then_some(handles as u32 + 1),
                message_count: n as u64,
                first_at: first.map(apple_time),
                last_at: last.map(apple_time),
                id,
            });
        }
        list.extend(self.outside_chats()?);
        sort_conversations(&mut list);
        Ok(list)
    }

    fn messages(&self, conversation_id: &str, query: &MessageQuery) -> Result<Vec<Message>> {
        let (from, key) = if self.has_chat(conversation_id)? {
            (
                "chat c JOIN chat_message_join j ON j.chat_id = c.ROWID \
                 JOIN message m ON m.ROWID = j.message_id LEFT JOIN handle h ON h.ROWID = m.handle_id \
                 WHERE c.guid = ?1"
                    .to_string(),
                conversation_id,
            )
        } else if let Some(address) = conversation_id.strip_prefix(OUTSIDE_CHATS) {
            let from = format!(
                "message m LEFT JOIN handle h ON h.ROWID = m.handle_id \
                 WHERE {OUTSIDE_ANY_CHAT} AND coalesce(h.id, '') = ?1"
            );
            let known: bool = self
                .db
                .conn()
                .query_row(
                    &format!("SELECT EXISTS (SELECT 1 FROM {from})"),
                    [address],
                    |r| r.get(0),
                )
                .map_err(sql_error)?;
            if !known {
                return Err(unknown_conversation(conversation_id));
            }
            (from, address)
        } else {
            return Err(unknown_conversation(conversation_id));
        };
        let sql = format!(
            "SELECT m.guid, m.text, {body}, m.date, m.is_from_me, h.id, {item_type}, {group_title}, \
                    {balloon}, {thread}, {retracted}, {audio}, \
                    (SELECT a.mime_type || char(31) || {transfer} || char(31) || coalesce(a.filename, '') \
                            || char(31) || {sticker} || char(31) || {bytes} \
                     FROM message_attachment_join x JOIN attachment a ON a.ROWID = x.attachment_id \
                     WHERE x.message_id = m.ROWID LIMIT 1) \
             FROM {from} ORDER BY m.date, m.ROWID",
            body = self.col("attributedBody"),
            item_type = self.col("item_type"),
            group_title = self.col("group_title"),
            balloon = self.col("balloon_bundle_id"),
            thread = self.col("thread_originator_guid"),
            retracted = self.col("date_retracted"),
            audio = self.col("is_audio_message"),
            transfer = self.attachment_col("transfer_name"),
            sticker = self.attachment_col("is_sticker"),
            bytes = self.attachment_col("total_bytes"),
        );
        let conn = self.db.conn();
        let mut stmt = conn.prepare(&sql).map_err(sql_error)?;
        let mut rows = stmt.query([key]).map_err(sql_error)?;
        let mut out = Vec::new();
        while let Some(r) = rows.next().map_err(sql_error)? {
            let guid: String = r.get(0).map_err(sql_error)?;
            let text: Option<String> = r.get(1).map_err(sql_error)?;
            let body = match r.get_ref(2).map_err(sql_error)? {
                ValueRef::Blob(b) => attributed_body_text(b),
                _ => None,
            };
            let date: i64 = r.get::<_, Option<i64>>(3).map_err(sql_error)?.unwrap_or(0);
            let from_me = r.get::<_, Option<i64>>(4).map_err(sql_error)?.unwrap_or(0) == 1;
            let handle: Option<String> = r.get(5).map_err(sql_error)?;
            let item: i64 = r.get::<_, Option<i64>>(6).map_err(sql_error)?.unwrap_or(0);
            let group_title: Option<String> = r.get(7).map_err(sql_error)?;
            let balloon: Option<String> = r.get(8).map_err(sql_error)?;
            let thread: Option<String> = r.get(9).map_err(sql_error)?;
            let retracted = r.get::<_, Option<i64>>(10).map_err(sql_error)?.unwrap_or(0) != 0;
            let audio = r.get::<_, Option<i64>>(11).map_err(sql_error)?.unwrap_or(0) == 1;
            let attachment: Option<String> = r.get(12).map_err(sql_error)?;

            // U+FFFC marks where an attachment sits in the text.
            let mut text = text.filter(|t| !t.is_empty()).or(body).unwrap_or_default();
            text = text.replace('\u{fffc}', "").trim().to_string();
            let mut attachments = Vec::new();
            let mut reply_to = None;
            let mut url = None;
            let kind = if item != 0 {
                text = group_title.unwrap_or_default();
                MessageKind::System
            } else if retracted {
                text.clear();
                MessageKind::Recalled
            } else if let Some(a) = attachment {
                let parts: Vec<&str> = a.split('\u{1f}').collect();
                let field = |i: usize| parts.get(i).copied().unwrap_or("").to_string();
                let (mime, name, path) = (field(0), field(1), field(2));
                let kind = if field(3) == "1" {
                    MessageKind::Sticker
                } else if audio || mime.starts_with("audio/") {
                    MessageKind::Voice
                } else if mime.contains("vcard") {
                    text = name.trim_end_matches(".vcf").to_string();
                    MessageKind::ContactCard
                } else if mime.starts_with("image/") {
                    MessageKind::Image
                } else if mime.starts_with("video/") {
                    MessageKind::Video
                } else {
                    if text.is_empty() {
                        text = name.clone();
                    }
                    MessageKind::File
                };
                let mut a = AttachmentRef {
                    path,
                    name: Some(name).filter(|n| !n.is_empty()),
                    mime: Some(mime).filter(|m| !m.is_empty()),
                    size: field(4).parse().ok(),
                    role: Default::default(),
                    missing: false,
                    viewable: None,
                };
                // Not downloaded from iCloud, or deleted to free space.
                a.missing = self.attachment_source(&a).is_none();
                attachments.push(a);
                kind
            } else if let Some(b) = balloon.filter(|b| !b.is_empty()) {
                if b.ends_with("URLBalloonProvider") {
                    url = Some(text.clone()).filter(|t| !t.is_empty());
                    MessageKind::Link
                } else {
                    MessageKind::Unknown
                }
            } else if audio {
                MessageKind::Voice
            } else if let Some(t) = thread.filter(|t| !t.is_empty()) {
                reply_to = Some(t);
                MessageKind::Quote
            } else {
                MessageKind::Text
            };
            let sender = if kind == MessageKind::System {
                None
            } else if from_me {
                Some(self.me.clone().unwrap_or_else(|| "me".to_string()))
            } else {
                Some(handle.unwrap_or_else(|| conversation_id.to_string()))
            };
            out.push(Message {
                id: guid,
                conversation_id: conversation_id.to_string(),
                at: apple_time(date),
                sender_name: sender.clone(),
                sender,
                from_me: from_me && kind != MessageKind::System,
                kind,
                text,
                reply_to,
                quoted_text: None,
                url,
                attachments,
                raw_type: item,
                ext: Vec::new(),
            });
        }
        Ok(query.finish(out))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn apple_dates_in_seconds_and_nanoseconds() {
        // From imessage-database's fixture (chat-stores.md §8): 760569924490443648 ns.
        assert_eq!(
            apple_time(760_569_924_490_443_648).as_second(),
            978_307_200 + 760_569_924
        );
        assert_eq!(apple_time(0).to_string(), "2001-01-01T00:00:00Z");
        assert_eq!(apple_time(86_400).to_string(), "2001-01-02T00:00:00Z");
    }

    #[test]
    fn text_from_an_attributed_body() {
        let mut blob = b"\x04\x0bstreamtyped\x81\xe8\x03\x84\x01@\x84\x84\x84\x12NSAttributedString\x00\x84\x84\x08NSObject\x00\x85\x92\x84\x84\x84\x08NSString\x01\x94\x84\x01+".to_vec();
        let text = "晚饭吃什么？";
        blob.push(text.len() as u8);
        blob.extend(text.as_bytes());
        blob.extend(b"\x86\x84\x02iI\x01");
        assert_eq!(attributed_body_text(&blob).as_deref(), Some(text));
        assert_eq!(attributed_body_text(b"garbage"), None);
    }
}
