//! The `chatvault-media:` protocol: photos, voice and video for the webview, served by the app
//! itself (never from the network; the CSP allows this scheme for `img-src` and `media-src`
//! only).
//!
//! Three kinds of request, none of which names a filesystem path the page chose:
//!
//! - `store/<conversation>/<message>/<index>`: attachment `index` of a message of the open chat
//!   store, as `load_messages` handed it out. The bytes come from the store
//!   (`ChatStore::attachment_bytes`) and are turned into a viewable form by
//!   `chatvault::media::viewable` (else served as they are when `media::sniff` knows them).
//! - `library/<relative path>`: a file inside the folder restores into the library write.
//! - `preview/<relative path>`: a file inside the folder the restore preview writes.
//!
//! Relative paths stay inside their folder: only plain components (no `..`, no root, no
//! drive), no symlink anywhere below the folder, a regular file at the end. Whatever is not an
//! image, audio or video is refused (the UI shows a file chip instead).

use crate::AppState;
use chatvault::model::{AttachmentRef, AttachmentRole, Message, MessageExt, MessageKind};
use chatvault::store::MessageQuery;
use std::collections::HashMap;
use std::path::{Component, Path, PathBuf};
use tauri::http::{header, Request, Response, StatusCode};
use tauri::Manager;

pub const SCHEME: &str = "chatvault-media";

/// Library restores write their attachments here (inside the app's data folder).
pub fn library_dir(paths: &chatvault::local::paths::AppPaths) -> PathBuf {
    paths.data_dir.join("library-media")
}

/// The restore preview writes the previewed conversation's attachments here; emptied before
/// each preview.
pub fn preview_dir(paths: &chatvault::local::paths::AppPaths) -> PathBuf {
    paths.cache_dir.join("restore-preview")
}

/// What the protocol needs of a message of the open store: its kind and extras (which pick
/// and key the decoder) and its attachments. Filled by `load_messages`.
struct Known {
    kind: MessageKind,
    ext: Vec<MessageExt>,
    attachments: Vec<AttachmentRef>,
}

/// Messages of the open store the page has been given, by conversation and message id.
#[derive(Default)]
pub struct MediaIndex {
    conversations: HashMap<String, HashMap<String, Known>>,
}

/// Conversations kept in the index (the previews the user looked at last).
const KEEP_CONVERSATIONS: usize = 8;

impl MediaIndex {
    /// Remembers the media of `messages` (of one conversation).
    pub fn remember(&mut self, conversation: &str, messages: &[Message]) {
        if !self.conversations.contains_key(conversation)
            && self.conversations.len() >= KEEP_CONVERSATIONS
        {
            self.conversations.clear();
        }
        let conv = self
            .conversations
            .entry(conversation.to_string())
            .or_default();
        for m in messages.iter().filter(|m| !m.attachments.is_empty()) {
            conv.insert(
                m.id.clone(),
                Known {
                    kind: m.kind,
                    ext: m.ext.clone(),
                    attachments: m.attachments.clone(),
                },
            );
        }
    }

    /// Forgets everything (another store was opened).
    pub fn clear(&mut self) {
        self.conversations.clear();
    }

    fn find(&self, conversation: &str, message: &str, index: usize) -> Option<Target> {
        let m = self.conversations.get(conversation)?.get(message)?;
        let a = m.attachments.get(index)?;
        Some(Target {
            kind: m.kind,
            ext: m.ext.clone(),
            attachment: a.clone(),
        })
    }
}

struct Target {
    kind: MessageKind,
    ext: Vec<MessageExt>,
    attachment: AttachmentRef,
}

/// Why a request was not answered with media.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// The request names something outside what the protocol serves.
    Forbidden,
    NotFound,
    /// The bytes are not an image, audio or video the webview shows.
    NotMedia,
}

impl Refusal {
    fn status(self) -> StatusCode {
        match self {
            Refusal::Forbidden => StatusCode::FORBIDDEN,
            Refusal::NotFound => StatusCode::NOT_FOUND,
            Refusal::NotMedia => StatusCode::UNSUPPORTED_MEDIA_TYPE,
        }
    }
}

/// The file at `rel` (a `/`-separated relative path) inside `root`, if it stays inside: only
/// plain components, no symlink at or below `root`, a regular file at the end.
pub fn file_inside(root: &Path, rel: &str) -> Result<PathBuf, Refusal> {
    if rel.is_empty() {
        return Err(Refusal::Forbidden);
    }
    let mut path = root.to_path_buf();
    for seg in rel.split('/') {
        // Backslashes and colons are separators or drive letters on Windows: never part of a
        // name ChatVault writes.
        if seg.contains(['\\', ':', '\0']) {
            return Err(Refusal::Forbidden);
        }
        let mut comps = Path::new(seg).components();
        match (comps.next(), comps.next()) {
            (Some(Component::Normal(c)), None) if c == seg => path.push(c),
            _ => return Err(Refusal::Forbidden),
        }
        match std::fs::symlink_metadata(&path) {
            Ok(m) if m.file_type().is_symlink() => return Err(Refusal::Forbidden),
            Ok(_) => {}
            Err(_) => return Err(Refusal::NotFound),
        }
    }
    let meta = std::fs::symlink_metadata(&path).map_err(|_| Refusal::NotFound)?;
    if !meta.is_file() {
        return Err(Refusal::NotFound);
    }
    // The folder itself may be reached through a symlink (a home on another disk): compare
    // resolved paths.
    let (root_c, path_c) = (
        root.canonicalize().map_err(|_| Refusal::NotFound)?,
        path.canonicalize().map_err(|_| Refusal::NotFound)?,
    );
    if !path_c.starts_with(&root_c) {
        return Err(Refusal::Forbidden);
    }
    Ok(path)
}

/// Bytes as the webview gets them: decoded by the media module where it knows the format,
/// else as they are when they already are an image, audio or video; else refused.
pub fn viewable(bytes: Vec<u8>, kind: MessageKind, ext: &[MessageExt]) -> Result<Media, Refusal> {
    if let Some(v) = chatvault::media::viewable(&bytes, kind, ext) {
        return Media::checked(v.bytes, v.mime);
    }
    match chatvault::media::sniff(&bytes) {
        Some((mime, _)) => Media::checked(bytes, mime),
        None => Err(Refusal::NotMedia),
    }
}

/// Bytes and their type, known to be an image, audio or video.
#[derive(Debug)]
pub struct Media {
    pub bytes: Vec<u8>,
    pub mime: &'static str,
}

impl Media {
    fn checked(bytes: Vec<u8>, mime: &'static str) -> Result<Media, Refusal> {
        if ["image/", "audio/", "video/"]
            .iter()
            .any(|p| mime.starts_with(p))
        {
            Ok(Media { bytes, mime })
        } else {
            Err(Refusal::NotMedia)
        }
    }
}

/// `%XX` escapes decoded; `None` for malformed escapes or text that is not UTF-8.
fn percent_decode(s: &str) -> Option<String> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            let hex = std::str::from_utf8(b.get(i + 1..i + 3)?).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// A message kind named in a query (`?kind=image`), for files of a restore folder.
fn kind_of_query(query: Option<&str>) -> MessageKind {
    query
        .into_iter()
        .flat_map(|q| q.split('&'))
        .find_map(|kv| kv.strip_prefix("kind="))
        .and_then(|k| serde_json::from_value(serde_json::Value::String(k.to_string())).ok())
        .unwrap_or(MessageKind::Unknown)
}

/// Answers one request of the protocol.
pub fn serve(state: &AppState, uri_path: &str, query: Option<&str>) -> Result<Media, Refusal> {
    let path = uri_path.trim_start_matches('/');
    let (area, rest) = path.split_once('/').ok_or(Refusal::NotFound)?;
    match area {
        "store" => {
            let parts: Vec<String> = rest
                .split('/')
                .map(percent_decode)
                .collect::<Option<_>>()
                .ok_or(Refusal::Forbidden)?;
            let [conversation, message, index] = parts.as_slice() else {
                return Err(Refusal::NotFound);
            };
            let index: usize = index.parse().map_err(|_| Refusal::NotFound)?;
            from_store(state, conversation, message, index)
        }
        "library" | "preview" => {
            let rel = rest
                .split('/')
                .map(percent_decode)
                .collect::<Option<Vec<_>>>()
                .ok_or(Refusal::Forbidden)?;
            // A decoded segment must still be one segment.
            if rel.iter().any(|s| s.contains('/')) {
                return Err(Refusal::Forbidden);
            }
            let root = if area == "library" {
                library_dir(&state.paths)
            } else {
                preview_dir(&state.paths)
            };
            let file = file_inside(&root, &rel.join("/"))?;
            let bytes = std::fs::read(file).map_err(|_| Refusal::NotFound)?;
            viewable(bytes, kind_of_query(query), &[])
        }
        _ => Err(Refusal::NotFound),
    }
}

fn from_store(
    state: &AppState,
    conversation: &str,
    message: &str,
    index: usize,
) -> Result<Media, Refusal> {
    let guard = state.store.lock().map_err(|_| Refusal::NotFound)?;
    let opened = guard.as_ref().ok_or(Refusal::NotFound)?;
    let mut known = state.media.lock().map_err(|_| Refusal::NotFound)?;
    if known.find(conversation, message, index).is_none() {
        // Not handed out in this session (a reload of the page): read the conversation again.
        // Only messages the store has can be named, so this serves nothing the page could not
        // get through load_messages.
        let messages = opened
            .store
            .messages(conversation, &MessageQuery::default())
            .map_err(|_| Refusal::NotFound)?;
        known.remember(conversation, &messages);
    }
    let target = known
        .find(conversation, message, index)
        .ok_or(Refusal::NotFound)?;
    drop(known);
    if target.attachment.missing {
        return Err(Refusal::NotFound);
    }
    let bytes = opened
        .store
        .attachment_bytes(&target.attachment)
        .ok_or(Refusal::NotFound)?;
    drop(guard);
    // A thumbnail is an image whatever its message is.
    let kind = match target.attachment.role {
        AttachmentRole::Thumbnail => MessageKind::Image,
        AttachmentRole::Original => target.kind,
    };
    viewable(bytes, kind, &target.ext)
}

/// A response to `request`: the media (or the requested byte range of it), or a refusal's
/// status with no body. Media are never cached by the webview beyond this session's memory and
/// never sniffed as something else.
pub fn respond(state: &AppState, request: &Request<Vec<u8>>) -> Response<Vec<u8>> {
    let uri = request.uri();
    let result = serve(state, uri.path(), uri.query());
    let mut builder = Response::builder()
        .header(header::CACHE_CONTROL, "no-store")
        .header("X-Content-Type-Options", "nosniff");
    // The app's own page fetches voice and video (to play them from a blob): allow its origin,
    // and no other.
    if let Some(origin) = request
        .headers()
        .get(header::ORIGIN)
        .and_then(|o| o.to_str().ok())
        .filter(|o| APP_ORIGINS.contains(o))
    {
        builder = builder
            .header(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin)
            .header(header::VARY, "Origin");
    }
    let media = match result {
        Ok(m) => m,
        Err(r) => {
            return builder
                .status(r.status())
                .body(Vec::new())
                .unwrap_or_default()
        }
    };
    let total = media.bytes.len();
    let builder = builder
        .header(header::CONTENT_TYPE, media.mime)
        .header(header::ACCEPT_RANGES, "bytes");
    // Media elements ask for ranges (GStreamer on Linux, AVFoundation on macOS).
    if let Some((start, end)) = request
        .headers()
        .get(header::RANGE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| byte_range(v, total))
    {
        return builder
            .status(StatusCode::PARTIAL_CONTENT)
            .header(
                header::CONTENT_RANGE,
                format!("bytes {start}-{end}/{total}"),
            )
            .body(media.bytes[start..=end].to_vec())
            .unwrap_or_default();
    }
    builder
        .status(StatusCode::OK)
        .body(media.bytes)
        .unwrap_or_default()
}

/// Where the app's page is loaded from: Linux and macOS, Windows (http or https), the dev server.
const APP_ORIGINS: [&str; 4] = [
    "tauri://localhost",
    "http://tauri.localhost",
    "https://tauri.localhost",
    "http://localhost:5173",
];

/// A single `bytes=a-b` / `bytes=a-` / `bytes=-n` range within `total` bytes (inclusive).
fn byte_range(header: &str, total: usize) -> Option<(usize, usize)> {
    let spec = header.strip_prefix("bytes=")?;
    if spec.contains(',') || total == 0 {
        return None;
    }
    let (a, b) = spec.split_once('-')?;
    let (start, end) = match (a.trim(), b.trim()) {
        ("", n) => {
            let n: usize = n.parse().ok()?;
            (total.saturating_sub(n), total - 1)
        }
        (a, "") => (a.parse().ok()?, total - 1),
        (a, b) => (a.parse().ok()?, b.parse::<usize>().ok()?.min(total - 1)),
    };
    (start <= end && start < total).then_some((start, end))
}

/// Registers the protocol on a builder; requests are answered off the UI thread.
pub fn register<R: tauri::Runtime>(builder: tauri::Builder<R>) -> tauri::Builder<R> {
    builder.register_asynchronous_uri_scheme_protocol(SCHEME, |ctx, request, responder| {
        let app = ctx.app_handle().clone();
        tauri::async_runtime::spawn_blocking(move || {
            let state = app.state::<AppState>();
            responder.respond(respond(&state, &request));
        });
    })
}

/// Copies the attachment files `conversations` refer to (relative to `from`) into the same
/// relative places under `to`, so the library keeps them when a restore wrote them into an
/// export folder.
pub fn copy_attachments(
    conversations: &[chatvault::repo::restore::RestoredConversation],
    from: &Path,
    to: &Path,
) -> Result<(), chatvault::Error> {
    for a in conversations
        .iter()
        .flat_map(|c| &c.messages)
        .flat_map(|m| &m.attachments)
        .filter(|a| !a.missing)
    {
        for rel in std::iter::once(&a.path).chain(a.viewable.as_ref()) {
            let Ok(src) = file_inside(from, rel) else {
                continue;
            };
            let dst = to.join(rel);
            if let Some(parent) = dst.parent() {
                chatvault::local::private_file::create_private_dir_all(parent)?;
            }
            std::fs::copy(&src, &dst).map_err(|e| {
                chatvault::Error::io(format!("copying {} to the library", src.display()), &e)
            })?;
        }
    }
    Ok(())
}

/// Deletes the library's and the restore preview's copies of a conversation's attachments.
pub fn remove_conversation(paths: &chatvault::local::paths::AppPaths, conversation: &str) {
    let name = chatvault::safe_text::file_name(conversation);
    for root in [library_dir(paths), preview_dir(paths)] {
        let dir = root.join("attachments").join(&name);
        if std::fs::symlink_metadata(&dir).is_ok_and(|m| m.is_dir()) {
            let _ = std::fs::remove_dir_all(&dir);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_are_served_only_from_inside_their_folder() {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path().join("library-media");
        std::fs::create_dir_all(root.join("attachments/wxid_a")).unwrap();
        std::fs::write(root.join("attachments/wxid_a/1-photo.png"), b"\x89PNG....").unwrap();
        std::fs::write(tmp.path().join("secret.png"), b"\x89PNG....").unwrap();
        assert_eq!(
            file_inside(&root, "attachments/wxid_a/1-photo.png").unwrap(),
            root.join("attachments/wxid_a/1-photo.png")
        );
        for bad in [
            "../secret.png",
            "attachments/../../secret.png",
            "attachments/./wxid_a/1-photo.png",
            "/etc/passwd",
            "attachments//wxid_a/1-photo.png",
            "attachments\\..\\..\\secret.png",
            "C:/secret.png",
            "",
        ] {
            assert_eq!(file_inside(&root, bad), Err(Refusal::Forbidden), "{bad}");
        }
        assert_eq!(
            file_inside(&root, "attachments/wxid_a/nope.png"),
            Err(Refusal::NotFound)
        );
        assert_eq!(
            file_inside(&root, "attachments/wxid_a"),
            Err(Refusal::NotFound),
            "a folder is no file"
        );
        #[cfg(unix)]
        {
            // A symlink planted in the folder, to a file or a folder outside, is not followed.
            std::os::unix::fs::symlink(
                tmp.path().join("secret.png"),
                root.join("attachments/wxid_a/link.png"),
            )
            .unwrap();
            std::os::unix::fs::symlink(tmp.path(), root.join("attachments/out")).unwrap();
            assert_eq!(
                file_inside(&root, "attachments/wxid_a/link.png"),
                Err(Refusal::Forbidden)
            );
            assert_eq!(
                file_inside(&root, "attachments/out/secret.png"),
                Err(Refusal::Forbidden)
            );
        }
    }

    #[test]
    fn requests_outside_the_served_areas_and_non_media_are_refused() {
        let tmp = tempfile::tempdir().unwrap();
        let paths = chatvault::local::paths::AppPaths::under(tmp.path());
        let state = AppState::new(paths.clone());
        let dir = library_dir(&paths).join("attachments/c");
        std::fs::create_dir_all(&dir).unwrap();
        let png = b"\x89PNG\r\n\x1a\n rest".to_vec();
        std::fs::write(dir.join("a.png"), &png).unwrap();
        std::fs::write(
            dir.join("a.dat"),
            png.iter().map(|b| b ^ 0x5A).collect::<Vec<_>>(),
        )
        .unwrap();
        std::fs::write(dir.join("notes.txt"), b"hello").unwrap();
        std::fs::write(paths.data_dir.join("library.png"), &png).unwrap();

        let ok = serve(&state, "/library/attachments/c/a.png", None).unwrap();
        assert_eq!((ok.mime, ok.bytes), ("image/png", png.clone()));
        let dat = serve(&state, "/library/attachments/c/a.dat", Some("kind=image")).unwrap();
        assert_eq!((dat.mime, dat.bytes), ("image/png", png.clone()), "decoded");
        assert_eq!(
            serve(&state, "/library/attachments/c/notes.txt", None).unwrap_err(),
            Refusal::NotMedia
        );
        for bad in [
            "/library/../library.png",
            "/library/attachments/%2E%2E/%2E%2E/library.png",
            "/library/attachments%2F..%2F..%2Flibrary.png",
            "/library/%2Fetc%2Fpasswd",
            "/preview/..%2F..%2Fdata%2Flibrary.png",
        ] {
            assert_eq!(
                serve(&state, bad, None).unwrap_err(),
                Refusal::Forbidden,
                "{bad}"
            );
        }
        assert_eq!(
            serve(&state, "/elsewhere/x", None).unwrap_err(),
            Refusal::NotFound
        );
        assert_eq!(
            serve(&state, "/store/c/m/0", None).unwrap_err(),
            Refusal::NotFound,
            "no store open"
        );
    }

    #[test]
    fn store_media_are_named_by_message_and_decoded_from_the_open_store() {
        use chatvault::store::{self, demo, StoreKey};
        let tmp = tempfile::tempdir().unwrap();
        let paths = chatvault::local::paths::AppPaths::under(&tmp.path().join("app"));
        let state = AppState::new(paths);
        let d = demo::write(&tmp.path().join("demo"), store::Variant::WechatWin3, 300).unwrap();
        let key = StoreKey::parse(d.key.as_deref().unwrap()).unwrap();
        let opened = store::open(&d.path, Some(&key)).unwrap();
        // A conversation's first photo, made a real WeChat 3.x `.dat` (a PNG XOR-ed with 0x33).
        let (conv, photo) = opened
            .conversations()
            .unwrap()
            .iter()
            .find_map(|c| {
                let msgs = opened.messages(&c.id, &MessageQuery::default()).unwrap();
                msgs.into_iter()
                    .find(|m| m.kind == MessageKind::Image && !m.attachments.is_empty())
                    .map(|m| (c.id.clone(), m))
            })
            .expect("the demo store has photos");
        let png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR the rest".to_vec();
        let file = match opened.attachment_source(&photo.attachments[0]).unwrap() {
            chatvault::model::AttachmentSource::File(f) => f,
            other => panic!("a photo is a file: {other:?}"),
        };
        std::fs::write(&file, png.iter().map(|b| b ^ 0x33).collect::<Vec<_>>()).unwrap();
        *state.store.lock().unwrap() = Some(crate::OpenStore {
            store: opened,
            path: d.path.clone(),
            key: Some(key),
        });
        let enc = |s: &str| s.replace('@', "%40");
        let url = format!("/store/{}/{}/0", enc(&conv), enc(&photo.id));
        // Not loaded by the page yet: the conversation is read again to find the message.
        let media = serve(&state, &url, None).unwrap();
        assert_eq!((media.mime, media.bytes), ("image/png", png));
        for bad in [
            // One past its last attachment (the demo's photos have a thumbnail too).
            format!(
                "/store/{}/{}/{}",
                enc(&conv),
                enc(&photo.id),
                photo.attachments.len()
            ),
            format!("/store/{}/no-such-message/0", enc(&conv)),
            format!("/store/no-such-chat/{}/0", enc(&photo.id)),
            format!("/store/{}/{}/x", enc(&conv), enc(&photo.id)),
        ] {
            assert_eq!(
                serve(&state, &bad, None).unwrap_err(),
                Refusal::NotFound,
                "{bad}"
            );
        }
        // A request is answered with the type and, for a range, the part asked for.
        let request = Request::builder()
            .uri(format!("chatvault-media://localhost{url}"))
            .header(header::RANGE, "bytes=0-3")
            .body(Vec::new())
            .unwrap();
        let response = respond(&state, &request);
        assert_eq!(response.status(), StatusCode::PARTIAL_CONTENT);
        assert_eq!(response.headers()[header::CONTENT_TYPE], "image/png");
        assert_eq!(response.body().as_slice(), b"\x89PNG");
        assert!(!response
            .headers()
            .contains_key(header::ACCESS_CONTROL_ALLOW_ORIGIN));
        let from = |origin: &str| {
            let request = Request::builder()
                .uri(format!("chatvault-media://localhost{url}"))
                .header(header::ORIGIN, origin)
                .body(Vec::new())
                .unwrap();
            respond(&state, &request)
                .headers()
                .get(header::ACCESS_CONTROL_ALLOW_ORIGIN)
                .map(|v| v.to_str().unwrap().to_string())
        };
        assert_eq!(
            from("tauri://localhost").as_deref(),
            Some("tauri://localhost")
        );
        assert_eq!(from("https://example.com"), None, "no other origin");
    }

    #[test]
    fn library_copies_are_made_from_inside_the_restore_folder_and_removed_on_forget() {
        use chatvault::model::{AttachmentRef, ConversationKind};
        use chatvault::repo::restore::RestoredConversation;
        let tmp = tempfile::tempdir().unwrap();
        let paths = chatvault::local::paths::AppPaths::under(&tmp.path().join("app"));
        let export = tmp.path().join("export");
        std::fs::create_dir_all(export.join("attachments/wxid_a")).unwrap();
        std::fs::write(export.join("attachments/wxid_a/1-a.dat"), b"dat").unwrap();
        std::fs::write(export.join("attachments/wxid_a/1-a.png"), b"png").unwrap();
        std::fs::write(tmp.path().join("secret"), b"secret").unwrap();
        let mut a = AttachmentRef::file("attachments/wxid_a/1-a.dat");
        a.viewable = Some("attachments/wxid_a/1-a.png".into());
        let outside = AttachmentRef::file("../secret");
        let json = serde_json::json!({
            "id": "1", "conversation_id": "wxid_a", "at": "2024-01-01T00:00:00Z",
            "from_me": false, "kind": "image", "text": "", "attachments": [], "raw_type": 3
        });
        let mut m: Message = serde_json::from_value(json).unwrap();
        m.attachments = vec![a, outside];
        let convs = [RestoredConversation {
            id: "wxid_a".into(),
            title: "A".into(),
            kind: ConversationKind::Direct,
            messages: vec![m],
        }];
        let lib = library_dir(&paths);
        copy_attachments(&convs, &export, &lib).unwrap();
        assert_eq!(
            std::fs::read(lib.join("attachments/wxid_a/1-a.dat")).unwrap(),
            b"dat"
        );
        assert_eq!(
            std::fs::read(lib.join("attachments/wxid_a/1-a.png")).unwrap(),
            b"png"
        );
        assert!(
            !paths.data_dir.join("secret").exists(),
            "a reference outside the restore folder is not copied"
        );
        assert_eq!(
            std::fs::read_dir(&lib).unwrap().count(),
            1,
            "only attachments/"
        );

        std::fs::create_dir_all(preview_dir(&paths).join("attachments/wxid_a")).unwrap();
        std::fs::create_dir_all(lib.join("attachments/wxid_b")).unwrap();
        remove_conversation(&paths, "wxid_a");
        assert!(!lib.join("attachments/wxid_a").exists());
        assert!(!preview_dir(&paths).join("attachments/wxid_a").exists());
        assert!(
            lib.join("attachments/wxid_b").exists(),
            "other conversations stay"
        );
    }

    #[test]
    fn ranges_are_parsed_within_the_length() {
        assert_eq!(byte_range("bytes=0-", 10), Some((0, 9)));
        assert_eq!(byte_range("bytes=2-4", 10), Some((2, 4)));
        assert_eq!(byte_range("bytes=2-40", 10), Some((2, 9)));
        assert_eq!(byte_range("bytes=-3", 10), Some((7, 9)));
        assert_eq!(byte_range("bytes=10-", 10), None);
        assert_eq!(byte_range("bytes=0-1,3-4", 10), None);
        assert_eq!(byte_range("items=0-1", 10), None);
    }
}
