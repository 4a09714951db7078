//! WeChat for Android: `EnMicroMsg.db` (messages in `message`, contacts in `rcontact`, groups
//! in `chatroom`, own id in `userinfo` id 2). SQLCipher 1.x parameters
//! (`cipher_compatibility = 1`); the passphrase is `md5(IMEI + uin)[..7]`. `createTime` is in
//! milliseconds. Schema: chat-stores.md §5 (wechat-dump `wechat/parser.py`, `msg.py`).

use super::{content, conversation_kind, normalise, Contacts, RawMessage};
use crate::crypto::secret::Secret;
use crate::error::Result;
use crate::model::{Conversation, Message};
use crate::store::sqlite::{require_table, sql_error, Cipher, Db, KeyForm};
use crate::store::wechat::win3::value_bytes;
use crate::store::{
    rows, sort_conversations, unknown_conversation, ChatStore, MessageQuery, MessageTable,
    RowsAfter, Variant,
};
use jiff::Timestamp;
use std::path::Path;

pub struct AndroidStore {
    /// The folder holding `EnMicroMsg.db` and, beside it, the media folders (see
    /// [`super::android_media`]).
    dir: std::path::PathBuf,
    account: String,
    contacts: Contacts,
    db: Db,
    /// `ImgInfo2` by msgSvrId, read once at open (not a query per message).
    images: super::android_media::ImageIndex,
}

impl AndroidStore {
    pub fn open(file: &Path, password: &Secret<String>) -> Result<AndroidStore> {
        let cipher = Cipher::Sqlcipher {
            key: KeyForm::Text(password.clone()),
            compatibility: 1,
            page_size: 1024,
        };
        let db = Db::open(file, &cipher)?;
        require_table(&db, file, "message")?;
        let mut contacts = Contacts::default();
        contacts.load_names(
            &db,
            "rcontact",
            "SELECT username, conRemark, nickname FROM rcontact",
        )?;
        contacts.load_member_lists(
            &db,
            "chatroom",
            "SELECT chatroomname, memberlist FROM chatroom",
        )?;
        let mut account = "me".to_string();
        if db.has_table("userinfo")? {
            if let Ok(v) = db
                .conn()
                .query_row("SELECT value FROM userinfo WHERE id = 2", [], |r| {
                    r.get::<_, String>(0)
                })
            {
                account = v;
            }
        }
        let images = super::android_media::ImageIndex::load(&db)?;
        Ok(AndroidStore {
            images,
            dir: file.parent().map(Path::to_path_buf).unwrap_or_default(),
            account,
            contacts,
            db,
        })
    }
}

impl AndroidStore {
    fn message_table(&self) -> MessageTable<'_> {
        MessageTable {
            db: &self.db,
            rowid: "msgId",
        }
    }
}

fn millis(ms: i64) -> Timestamp {
    Timestamp::from_millisecond(ms).unwrap_or(Timestamp::UNIX_EPOCH)
}

/// Android packs app-message sub-kinds into the type (low 16 bits = 49), except a few.
fn base_type(t: i64) -> i64 {
    if t > 0xffff && t & 0xffff == 49 {
        49
    } else {
        t
    }
}

impl ChatStore for AndroidStore {
    fn variant(&self) -> Variant {
        Variant::Android
    }

    fn account_id(&self) -> Option<&str> {
        Some(&self.account)
    }

    /// Paths are relative to the folder of `EnMicroMsg.db`.
    fn attachment_source(
        &self,
        a: &crate::model::AttachmentRef,
    ) -> Option<crate::model::AttachmentSource> {
        super::android_media::source(&self.dir, a)
    }

    /// `message.msgId` (the rowid): the one shard's mark; the rows after it by msgId, talker
    /// and time only.
    fn marks(&self, after: RowsAfter<'_>) -> Result<Option<Vec<(String, i64)>>> {
        self.message_table().marks(
            after,
            "SELECT talker, createTime FROM message WHERE msgId > ?1 AND talker IS NOT NULL",
            |ms| ms.div_euclid(1000),
        )
    }

    fn conversations(&self) -> Result<Vec<Conversation>> {
        let sql = "SELECT talker, count(*), min(createTime), max(createTime) FROM message \
                   WHERE talker IS NOT NULL GROUP BY talker";
        let mut list = Vec::new();
        for (id, n, first, last) in rows::<(String, i64, i64, i64)>(&self.db, sql, [])? {
            list.push(Conversation {
                title: self.contacts.title(&id),
                kind: conversation_kind(&id),
                member_count: self.contacts.members(&id),
                message_count: n as u64,
                first_at: Some(millis(first)),
                last_at: Some(millis(last)),
                id,
            });
        }
        sort_conversations(&mut list);
        Ok(list)
    }

    fn messages(&self, conversation_id: &str, query: &MessageQuery) -> Result<Vec<Message>> {
        let (since, until) = query.bounds();
        let group = conversation_id.ends_with("@chatroom");
        let known: bool = self
            .db
            .conn()
            .query_row(
                "SELECT EXISTS (SELECT 1 FROM message WHERE talker = ?1)",
                [conversation_id],
                |r| r.get(0),
            )
            .map_err(sql_error)?;
        if !known {
            return Err(unknown_conversation(conversation_id));
        }
        let conn = self.db.conn();
        let mut stmt = conn
            .prepare(
                "SELECT msgId, msgSvrId, type, isSend, createTime, content, imgPath FROM message \
                 WHERE talker = ?1 AND createTime BETWEEN ?2 AND ?3 ORDER BY createTime, msgId",
            )
            .map_err(sql_error)?;
        let lo = since.saturating_mul(1000);
        let hi = until.saturating_mul(1000).saturating_add(999);
        let mut rows = stmt
            .query(rusqlite::params![conversation_id, lo, hi])
            .map_err(sql_error)?;
        let mut out = Vec::new();
        while let Some(r) = rows.next().map_err(sql_error)? {
            let local_id: i64 = r.get(0).map_err(sql_error)?;
            let svr_id: Option<i64> = r.get(1).map_err(sql_error)?;
            let t: i64 = r.get(2).map_err(sql_error)?;
            let is_send: i64 = r.get::<_, Option<i64>>(3).map_err(sql_error)?.unwrap_or(0);
            let time: i64 = r.get(4).map_err(sql_error)?;
            let text = String::from_utf8_lossy(&value_bytes(r.get_ref(5).map_err(sql_error)?))
                .into_owned();
            let img_path: Option<String> = r.get(6).map_err(sql_error)?;
            let from_me = is_send == 1;
            let (sender, body) = if group && !from_me {
                let (p, b) = content::split_sender_prefix(&text);
                (p.map(str::to_string), b.to_string())
            } else {
                (Some(conversation_id.to_string()), text.clone())
            };
            let id = match svr_id {
                Some(s) if s != 0 => s.to_string(),
                _ => format!("local-{local_id}"),
            };
            let raw = RawMessage {
                id,
                conversation_id: conversation_id.to_string(),
                at: millis(time),
                base_type: base_type(t),
                raw_type: t,
                from_me,
                sender,
                attachments: super::android_media::attachments(
                    &self.dir,
                    &self.images,
                    base_type(t),
                    svr_id,
                    img_path.as_deref(),
                    &body,
                ),
                content: body,
                ext: Vec::new(),
            };
            out.push(normalise(raw, &self.account, &self.contacts));
        }
        Ok(query.finish(out))
    }
}
