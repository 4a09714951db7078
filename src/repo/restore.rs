//! restore: bring conversations back from a snapshot (FORMAT.md §11.3). Trees and segments
//! are read from the local cache of class-S packs, which is first completed by downloading
//! every pack it lacks (whole); with [`super::ReadMode::Ranged`], only the blobs of the chosen
//! conversations and months are downloaded, each by a ranged read.

use super::format::{self, AttachState, Segment, Snapshot, Tree};
use super::lock::{Lock, Mode, Op};
use super::{ConvKeys, Repo};
use crate::error::{Error, ErrorCode, Result};
use crate::model::{AttachmentRef, ConversationKind, Message};
use crate::run::job::{Cancel, Progress};
use jiff::Timestamp;
use serde::Serialize;

#[derive(Debug, Clone, Default)]
pub struct RestoreRequest {
    /// A snapshot id (or a prefix of its hex), or `None` / "latest" for the newest.
    pub snapshot: Option<String>,
    /// Conversation ids as the store names them; empty means all.
    pub conversations: Vec<String>,
    pub since: Option<Timestamp>,
    pub until: Option<Timestamp>,
    /// Also restore attachment files into `<dir>/attachments/<conversation>/`; their
    /// references then point there (relative to `dir`).
    pub attachments_dir: Option<std::path::PathBuf>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RestoredConversation {
    pub id: String,
    pub title: String,
    pub kind: ConversationKind,
    pub messages: Vec<Message>,
}

/// The snapshot a request names.
pub(crate) fn pick_snapshot(list: &[(String, Snapshot)], wanted: Option<&str>) -> Result<Snapshot> {
    let found = match wanted.filter(|w| *w != "latest") {
        None => list.last(),
        Some(prefix) => {
            let matches: Vec<_> = list
                .iter()
                .filter(|(_, s)| hex::encode(s.id).starts_with(&prefix.to_lowercase()))
                .collect();
            if matches.len() > 1 {
                return Err(
                    Error::invalid_input(format!("snapshot id '{prefix}' is ambiguous")).with_hint(
                        "Give more digits of the id, as `chatvault snapshots` shows it.",
                    ),
                );
            }
            matches.into_iter().next()
        }
    };
    found.map(|(_, s)| s.clone()).ok_or_else(|| {
        Error::new(ErrorCode::InvalidInput, "no such snapshot")
            .with_hint("Run `chatvault snapshots` to list them.")
    })
}

pub async fn restore(
    repo: &Repo,
    req: &RestoreRequest,
    progress: &dyn Progress,
    cancel: &Cancel,
) -> Result<Vec<RestoredConversation>> {
    Lock::with(repo, Mode::Shared, Op::Restore, async || {
        run(repo, req, progress, cancel).await
    })
    .await
}

async fn run(
    repo: &Repo,
    req: &RestoreRequest,
    progress: &dyn Progress,
    cancel: &Cancel,
) -> Result<Vec<RestoredConversation>> {
    let snapshots = repo.snapshots().await?;
    let snap = pick_snapshot(&snapshots, req.snapshot.as_deref())?;
    let (_, keytable) = repo.load_keytable().await?;
    let index = repo.load_index().await?;
    // Every trees-and-segments pack this computer lacks, before reading any: the target sees
    // the same reads whichever conversations are restored (FORMAT.md §13).
    if repo.private_reads() {
        repo.fill_cache(&index).await?;
    }
    let (source_kind, account) = (snap.source.kind, snap.source.account.clone());
    // Conversation tokens are computable from the ids: other conversations' trees stay unread.
    let wanted: Option<Vec<format::Ctok>> = (!req.conversations.is_empty()).then(|| {
        req.conversations
            .iter()
            .map(|id| repo.ctok(source_kind.into(), &account, id))
            .collect()
    });
    if let Some(w) = &wanted {
        for (ctok, id) in w.iter().zip(&req.conversations) {
            if !snap.conversations.iter().any(|c| &c.ctok == ctok) {
                return Err(Error::invalid_input(format!(
                    "conversation '{id}' is not in snapshot {}",
                    &hex::encode(snap.id)[..8]
                ))
                .with_hint("Run `chatvault snapshots --json` to see what each snapshot holds."));
            }
        }
    }
    let since = req.since.map(|t| t.as_millisecond());
    let until = req.until.map(|t| t.as_millisecond());
    let refs: Vec<_> = snap
        .conversations
        .iter()
        .filter(|c| wanted.as_ref().is_none_or(|w| w.contains(&c.ctok)))
        .collect();
    progress.phase("conversations", Some(refs.len() as u64));
    let mut out = Vec::new();
    for conv in refs {
        cancel.check()?;
        let (keys, tree) = read_tree(repo, &index, &keytable, conv).await?;
        if tree.ctok != conv.ctok {
            return Err(Error::new(
                ErrorCode::RepoTampered,
                "a tree belongs to another conversation than its snapshot says",
            ));
        }
        let mut messages = Vec::new();
        for seg in &tree.segments {
            if since.is_some_and(|s| seg.last_ts < s) || until.is_some_and(|u| seg.first_ts > u) {
                continue;
            }
            cancel.check()?;
            let segment: Segment =
                format::decode(&repo.read_blob(&index, &seg.id, &keys).await?, "segment")?;
            for r in segment.messages {
                if since.is_some_and(|s| r.ts < s) || until.is_some_and(|u| r.ts > u) {
                    continue;
                }
                let mut r = r;
                let mut viewables = vec![None; r.attachments.len()];
                if let Some(dir) = &req.attachments_dir {
                    let names: Vec<String> = r
                        .attachments
                        .iter()
                        .map(|a| attachment_rel(&tree.native_id, &r.id, a))
                        .collect();
                    let message = MediaContext {
                        kind: format::kind_from_code(r.kind),
                        ext: r
                            .ext
                            .iter()
                            .map(|e| crate::model::MessageExt {
                                tag: e.tag,
                                data: e.data.clone(),
                            })
                            .collect(),
                        originals: &names,
                    };
                    for (i, a) in r.attachments.iter_mut().enumerate() {
                        if a.state != AttachState::Stored {
                            continue;
                        }
                        let bytes = read_attachment(repo, &index, &keys, &r.id, a).await?;
                        write_file(dir, &names[i], &bytes)?;
                        viewables[i] = write_viewable(dir, &names[i], &bytes, a, &message);
                        a.path = names[i].clone();
                    }
                }
                let mut m = from_record(&tree.native_id, r);
                for (a, v) in m.attachments.iter_mut().zip(viewables) {
                    a.viewable = v;
                }
                messages.push(m);
            }
        }
        out.push(RestoredConversation {
            id: tree.native_id.clone(),
            title: tree.title.clone(),
            kind: tree.conv_kind.model(),
            messages,
        });
        progress.advance(1, 0);
    }
    Ok(out)
}

/// Reassembles an attachment from its chunks, checking its size.
async fn read_attachment(
    repo: &Repo,
    index: &super::Index,
    keys: &ConvKeys,
    message_id: &str,
    a: &format::AttachmentRec,
) -> Result<Vec<u8>> {
    let mut bytes = Vec::with_capacity(a.size as usize);
    for c in &a.chunks {
        bytes.extend(repo.read_blob(index, c, keys).await?);
    }
    if bytes.len() as u64 != a.size {
        return Err(Error::new(
            ErrorCode::RepoCorrupt,
            format!(
                "attachment of message {message_id}: {} bytes, expected {}",
                bytes.len(),
                a.size
            ),
        ));
    }
    Ok(bytes)
}

/// Where an attachment's original is restored, relative to the restore folder:
/// `attachments/<conversation>/<message id>-[thumb-]<name>`.
fn attachment_rel(conversation: &str, message_id: &str, a: &format::AttachmentRec) -> String {
    let base = a.name.clone().unwrap_or_else(|| {
        a.path
            .rsplit(['/', '\\'])
            .next()
            .unwrap_or("file")
            .to_string()
    });
    // A thumbnail may share its original's file name (a video's `.jpg` poster does not, a
    // 3.x thumbnail `.dat` does): its own prefix keeps the two apart.
    let role = match a.role.model() {
        crate::model::AttachmentRole::Original => "",
        crate::model::AttachmentRole::Thumbnail => "thumb-",
    };
    let name = crate::safe_text::file_name(&format!("{message_id}-{role}{base}"));
    format!(
        "attachments/{}/{name}",
        crate::safe_text::file_name(conversation)
    )
}

fn write_file(dir: &std::path::Path, rel: &str, bytes: &[u8]) -> Result<()> {
    let path = dir.join(rel);
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)
            .map_err(|e| Error::io(format!("creating {}", parent.display()), &e))?;
    }
    crate::export::write_whole(&path, bytes)
        .map_err(|e| Error::io(format!("writing {}", path.display()), &e))
}

/// What decoding an attachment needs to know of its message.
struct MediaContext<'a> {
    kind: crate::model::MessageKind,
    ext: Vec<crate::model::MessageExt>,
    /// Where the message's attachments are restored: a viewable form or note never takes
    /// one of these names.
    originals: &'a [String],
}

/// Writes the viewable form of the original just restored at `rel` beside it and returns its
/// path; or, when it needs one that cannot be made, a note beside it saying why. The original
/// is never touched, and this never fails the restore: a decoder that fails (even by
/// panicking), or a form that cannot be written, leaves the original, which the user can
/// still open. Holds one attachment and its decoded form at a time.
fn write_viewable(
    dir: &std::path::Path,
    rel: &str,
    bytes: &[u8],
    a: &format::AttachmentRec,
    message: &MediaContext<'_>,
) -> Option<String> {
    use crate::media::{self, Decoded};
    // A thumbnail is an image whatever its message is.
    let kind = match a.role.model() {
        crate::model::AttachmentRole::Thumbnail => crate::model::MessageKind::Image,
        crate::model::AttachmentRole::Original => message.kind,
    };
    let decoded = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        media::decode(bytes, kind, &message.ext)
    }))
    .unwrap_or(Decoded::Note(if kind == crate::model::MessageKind::Voice {
        media::Note::UnknownVoice
    } else {
        media::Note::UnknownImage
    }));
    let free = |name: &str| !message.originals.iter().any(|o| o == name);
    match decoded {
        Decoded::AsIs => None,
        Decoded::Viewable(v) => {
            let name = media::viewable_name(rel, v.ext);
            (free(&name) && write_file(dir, &name, &v.bytes).is_ok()).then_some(name)
        }
        Decoded::Note(note) => {
            let name = media::note_name(rel);
            if free(&name) {
                let _ = write_file(dir, &name, format!("{}\n", note.message()).as_bytes());
            }
            None
        }
    }
}

fn from_record(conversation_id: &str, r: format::MessageRec) -> Message {
    Message {
        id: r.id,
        conversation_id: conversation_id.to_string(),
        at: Timestamp::from_millisecond(r.ts).unwrap_or(Timestamp::UNIX_EPOCH),
        sender: r.sender,
        sender_name: r.sender_name,
        from_me: r.from_me,
        kind: format::kind_from_code(r.kind),
        text: r.text,
        reply_to: r.reply_to,
        quoted_text: r.quoted_text,
        url: r.url,
        attachments: r
            .attachments
            .into_iter()
            .map(|a| AttachmentRef {
                path: a.path,
                name: a.name,
                mime: a.mime,
                size: (a.size > 0).then_some(a.size),
                role: a.role.model(),
                missing: a.state != AttachState::Stored,
                viewable: None,
            })
            .collect(),
        raw_type: r.raw_type,
        ext: r
            .ext
            .into_iter()
            .map(|e| crate::model::MessageExt {
                tag: e.tag,
                data: e.data,
            })
            .collect(),
    }
}

/// One conversation as a snapshot holds it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ts_rs::TS)]
pub struct SnapshotConversation {
    pub id: String,
    pub title: String,
    pub kind: ConversationKind,
    pub message_count: u64,
    #[ts(type = "string | null")]
    pub first_at: Option<Timestamp>,
    #[ts(type = "string | null")]
    pub last_at: Option<Timestamp>,
}

/// A snapshot as the restore timeline shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ts_rs::TS)]
pub struct SnapshotInfo {
    pub id: String,
    pub short_id: String,
    #[ts(type = "string")]
    pub time: Timestamp,
    pub account: String,
    pub conversations: u32,
    pub messages: u64,
}

impl SnapshotInfo {
    pub fn from(s: &Snapshot) -> SnapshotInfo {
        let id = hex::encode(s.id);
        SnapshotInfo {
            short_id: id[..8].to_string(),
            id,
            time: Timestamp::from_millisecond(s.finished).unwrap_or(Timestamp::UNIX_EPOCH),
            account: s.source.account.clone(),
            conversations: s.totals.conversations,
            messages: s.totals.messages,
        }
    }
}

/// A conversation's keys, from the key table, and its tree.
async fn read_tree(
    repo: &Repo,
    index: &super::Index,
    keytable: &format::KeyTable,
    conv: &format::ConvRef,
) -> Result<(ConvKeys, Tree)> {
    let entry = keytable.get(&conv.ctok).ok_or_else(|| {
        Error::new(
            ErrorCode::RepoCorrupt,
            "a snapshot refers to a conversation key that is not in the key table",
        )
        .with_hint("Run `chatvault verify`.")
    })?;
    let keys = ConvKeys::new(entry.ck.subkey());
    let tree = format::decode(&repo.read_blob(index, &conv.tree, &keys).await?, "tree")?;
    Ok((keys, tree))
}

/// The conversations of a snapshot, newest first (reads their trees, not their messages).
pub async fn snapshot_contents(
    repo: &Repo,
    snapshot: Option<&str>,
) -> Result<Vec<SnapshotConversation>> {
    let snapshots = repo.snapshots().await?;
    let snap = pick_snapshot(&snapshots, snapshot)?;
    let (_, keytable) = repo.load_keytable().await?;
    let index = repo.load_index().await?;
    let mut out = Vec::new();
    for conv in &snap.conversations {
        let (_, tree) = read_tree(repo, &index, &keytable, conv).await?;
        out.push(SnapshotConversation {
            id: tree.native_id,
            title: tree.title,
            kind: tree.conv_kind.model(),
            message_count: conv.messages,
            first_at: (conv.messages > 0)
                .then(|| Timestamp::from_millisecond(conv.first_ts).ok())
                .flatten(),
            last_at: (conv.messages > 0)
                .then(|| Timestamp::from_millisecond(conv.last_ts).ok())
                .flatten(),
        });
    }
    out.sort_by(|a, b| {
        b.last_at
            .cmp(&a.last_at)
            .then_with(|| a.title.cmp(&b.title))
    });
    Ok(out)
}
