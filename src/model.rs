//! The normalised chat model every store reader produces and every later stage (selection,
//! repository, export) consumes. It is deliberately small and flat: what a person needs to
//! read a conversation again, plus the raw type code so nothing is lost silently.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use ts_rs::TS;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum ConversationKind {
    Direct,
    Group,
}

/// One chat: a person or a group.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct Conversation {
    /// The store's own id: a wxid, `…@chatroom`, an iMessage chat identifier.
    pub id: String,
    /// Remark, else nickname, else the id.
    pub title: String,
    pub kind: ConversationKind,
    /// Members of a group (including me) where the store records them.
    #[ts(optional = nullable)]
    pub member_count: Option<u32>,
    pub message_count: u64,
    #[ts(type = "string | null")]
    pub first_at: Option<Timestamp>,
    #[ts(type = "string | null")]
    pub last_at: Option<Timestamp>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum MessageKind {
    Text,
    Image,
    Voice,
    Video,
    File,
    Link,
    Quote,
    Sticker,
    Location,
    Call,
    Transfer,
    RedPacket,
    ContactCard,
    System,
    Recalled,
    Unknown,
}

/// What an attachment is to its message (FORMAT.md §6.3 `role`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum AttachmentRole {
    /// The photo, voice clip, video or file itself.
    #[default]
    Original,
    /// A smaller preview the store keeps beside (or instead of) the original.
    Thumbnail,
}

/// A file a message refers to (its bytes are read separately, when present on disk).
///
/// Its kind is the message's (an image message's original is the photo); a thumbnail is an
/// image. A message whose original is `missing` but whose thumbnail is not has only the
/// thumbnail (the original was never downloaded).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(optional_fields = nullable)]
pub struct AttachmentRef {
    /// Path relative to the store's root, as the store records it (for media kept inside a
    /// database, a path naming the database and the row: see the reader). After a restore:
    /// the written file, relative to the restore folder.
    pub path: String,
    pub name: Option<String>,
    pub mime: Option<String>,
    #[ts(optional = nullable, type = "number")]
    pub size: Option<u64>,
    #[serde(default)]
    pub role: AttachmentRole,
    /// The store does not have the bytes (never downloaded, cleaned up, or moved).
    #[serde(default)]
    pub missing: bool,
    /// After a restore: a form browsers show or play (a decoded `.dat` image, voice as WAV),
    /// relative to the restore folder, when the original is not one already.
    #[serde(default)]
    pub viewable: Option<String>,
}

impl AttachmentRef {
    /// A reference to an original file at `path`, named after its last path component.
    pub fn file(path: impl Into<String>) -> AttachmentRef {
        let path = path.into();
        AttachmentRef {
            name: path.rsplit(['/', '\\']).next().map(str::to_string),
            path,
            mime: None,
            size: None,
            role: AttachmentRole::Original,
            missing: false,
            viewable: None,
        }
    }

    pub fn thumbnail(mut self) -> AttachmentRef {
        self.role = AttachmentRole::Thumbnail;
        self
    }
}

/// Where the bytes of an attachment are: a file in the store's folders, or a database row
/// (voice clips live in WeChat's media databases) already read.
#[derive(Debug)]
pub enum AttachmentSource {
    File(std::path::PathBuf),
    Bytes(Vec<u8>),
}

/// One message, normalised.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(optional_fields = nullable)]
pub struct Message {
    /// Stable across reads of the same store: the server id where there is one, else a
    /// store-local id prefixed so the two cannot collide.
    pub id: String,
    pub conversation_id: String,
    #[ts(type = "string")]
    pub at: Timestamp,
    /// Sender's id (for messages I sent: my own id where known, else "me"); none for system
    /// lines, which no person sent.
    pub sender: Option<String>,
    /// Remark, else nickname, else the sender's id.
    pub sender_name: Option<String>,
    pub from_me: bool,
    pub kind: MessageKind,
    /// What to show: the text, a link's or file's title, a quote's reply, a system line.
    pub text: String,
    /// For quotes: the id of the message replied to.
    pub reply_to: Option<String>,
    /// The quoted text, for quotes.
    pub quoted_text: Option<String>,
    /// Link target for links.
    pub url: Option<String>,
    pub attachments: Vec<AttachmentRef>,
    /// The store's type code, kept so unknown kinds can be read later.
    pub raw_type: i64,
    /// Reader-specific extras the backup keeps with the message (FORMAT.md §6.2 `ext`), such
    /// as the key that turns a WeChat 4.x image back into a JPEG. Never shown, never exported.
    #[serde(skip)]
    #[ts(skip)]
    pub ext: Vec<MessageExt>,
}

#[cfg(test)]
impl Message {
    /// A text message `wxid_a` ("A") sent, for unit tests: a test overrides what it is about.
    pub(crate) fn text_for_test(
        id: &str,
        conversation_id: &str,
        at: Timestamp,
        text: &str,
    ) -> Message {
        Message {
            id: id.into(),
            conversation_id: conversation_id.into(),
            at,
            sender: Some("wxid_a".into()),
            sender_name: Some("A".into()),
            from_me: false,
            kind: MessageKind::Text,
            text: text.into(),
            reply_to: None,
            quoted_text: None,
            url: None,
            attachments: vec![],
            raw_type: 1,
            ext: Vec::new(),
        }
    }
}

/// One reader-specific extra of a message; tags are listed in FORMAT.md §6.2.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageExt {
    pub tag: u16,
    pub data: Vec<u8>,
}

/// `MessageExt` tags.
pub mod ext_tag {
    /// WeChat 4.x `.dat` images: the account's 16-byte AES key (ASCII, as WeChat uses it)
    /// followed by the one XOR byte.
    pub const WECHAT_IMAGE_KEY: u16 = 1;
}

/// What the user chose to keep: conversations, each with an optional time range of its own,
/// inside an optional overall range.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct Selection {
    /// Every conversation of the store, also those that appear later (less the forgotten
    /// ones); `conversations` then only narrows ranges. Runs of such a selection chain up as one
    /// lineage whatever conversations come and go.
    #[serde(default)]
    pub all: bool,
    pub conversations: Vec<SelectedConversation>,
    #[ts(type = "string | null")]
    pub since: Option<Timestamp>,
    #[ts(type = "string | null")]
    pub until: Option<Timestamp>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct SelectedConversation {
    pub id: String,
    /// Narrows the overall range for this conversation.
    #[ts(type = "string | null")]
    pub since: Option<Timestamp>,
    #[ts(type = "string | null")]
    pub until: Option<Timestamp>,
}

impl SelectedConversation {
    /// The conversation with no range of its own.
    pub fn whole(id: String) -> SelectedConversation {
        SelectedConversation {
            id,
            since: None,
            until: None,
        }
    }
}

impl Selection {
    /// Every conversation of the store, also those that appear later.
    pub fn everything() -> Selection {
        Selection {
            all: true,
            ..Selection::default()
        }
    }

    /// These conversations, each whole, and no others.
    pub fn of(ids: impl IntoIterator<Item = String>) -> Selection {
        Selection {
            all: false,
            conversations: ids.into_iter().map(SelectedConversation::whole).collect(),
            since: None,
            until: None,
        }
    }

    /// The effective range of one conversation: the later start and the earlier end of the
    /// overall and the conversation's own range.
    pub(crate) fn range_of(
        &self,
        c: &SelectedConversation,
    ) -> (Option<Timestamp>, Option<Timestamp>) {
        let since = match (self.since, c.since) {
            (Some(a), Some(b)) => Some(a.max(b)),
            (a, b) => a.or(b),
        };
        let until = match (self.until, c.until) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        (since, until)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_conversation_range_narrows_the_overall_one() {
        let t = |s: &str| s.parse::<Timestamp>().unwrap();
        let sel = Selection {
            all: false,
            conversations: vec![],
            since: Some(t("2022-01-01T00:00:00Z")),
            until: Some(t("2024-01-01T00:00:00Z")),
        };
        let c = SelectedConversation {
            id: "x".into(),
            since: Some(t("2021-06-01T00:00:00Z")),
            until: Some(t("2023-01-01T00:00:00Z")),
        };
        assert_eq!(
            sel.range_of(&c),
            (
                Some(t("2022-01-01T00:00:00Z")),
                Some(t("2023-01-01T00:00:00Z"))
            )
        );
        let open = SelectedConversation {
            id: "y".into(),
            since: None,
            until: None,
        };
        assert_eq!(sel.range_of(&open), (sel.since, sel.until));
    }
}
