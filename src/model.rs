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
    #[ts(type = "number")]
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

/// A file a message refers to (its bytes are read separately, when present on disk).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct AttachmentRef {
    /// Path relative to the store's root, as the store records it.
    pub path: String,
    #[ts(optional = nullable)]
    pub name: Option<String>,
    #[ts(optional = nullable)]
    pub mime: Option<String>,
    #[ts(optional = nullable, type = "number")]
    pub size: Option<u64>,
}

/// One message, normalised.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct Message {
    /// Stable across reads of the same store: the server id where there is one, else a
    /// store-local id prefixed so the two cannot collide.
    pub id: String,
    pub conversation_id: String,
    #[ts(type = "string")]
    pub at: Timestamp,
    /// Sender's id (for messages I sent: my own id where known, else "me").
    pub sender: String,
    pub sender_name: String,
    pub from_me: bool,
    pub kind: MessageKind,
    /// What to show: the text, a link's or file's title, a quote's reply, a system line.
    pub text: String,
    /// For quotes: the id of the message replied to.
    #[ts(optional = nullable)]
    pub reply_to: Option<String>,
    /// The quoted text, for quotes.
    #[ts(optional = nullable)]
    pub quoted_text: Option<String>,
    /// Link target for links.
    #[ts(optional = nullable)]
    pub url: Option<String>,
    pub attachments: Vec<AttachmentRef>,
    /// The store's type code, kept so unknown kinds can be read later.
    #[ts(type = "number")]
    pub raw_type: i64,
}
