//! Exports of restored conversations a person can keep and read without ChatVault:
//! HTML (one page per conversation, chat bubbles, an index page; no scripts, no network),
//! JSON (the model as `chatvault messages --json` prints it) and plain text.

pub mod record;

use crate::error::{Error, Result};
use crate::media;
use crate::model::{AttachmentRef, ConversationKind, Message, MessageKind};
use crate::repo::restore::RestoredConversation;
use crate::safe_text::{conversation_stem, short_hash};
use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};

/// One conversation as the text of one export file.
type Render<'a> = &'a dyn Fn(&RestoredConversation) -> Result<String>;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Html,
    Json,
    Txt,
}

impl std::str::FromStr for Format {
    type Err = Error;
    fn from_str(s: &str) -> Result<Format> {
        match s.trim().to_ascii_lowercase().as_str() {
            "html" => Ok(Format::Html),
            "json" => Ok(Format::Json),
            "txt" | "text" => Ok(Format::Txt),
            other => Err(
                Error::invalid_input(format!("unknown export format '{other}'"))
                    .with_hint("Use html, json or txt."),
            ),
        }
    }
}

/// Writes the conversations into `dir` in each format; returns the files written.
pub fn export(
    dir: &Path,
    conversations: &[RestoredConversation],
    formats: &[Format],
) -> Result<Vec<PathBuf>> {
    fs::create_dir_all(dir).map_err(|e| Error::io(format!("creating {}", dir.display()), &e))?;
    let mut written = Vec::new();
    let write = |path: PathBuf, text: String, written: &mut Vec<PathBuf>| -> Result<()> {
        write_whole(&path, text.as_bytes())
            .map_err(|e| Error::io(format!("writing {}", path.display()), &e))?;
        written.push(path);
        Ok(())
    };
    for f in formats {
        let (ext, render): (&str, Render<'_>) = match f {
            Format::Json => ("json", &|c| {
                serde_json::to_string_pretty(c).map_err(|e| Error::internal(e.to_string()))
            }),
            Format::Txt => ("txt", &|c| Ok(to_text(c))),
            Format::Html => ("html", &|c| Ok(to_html_in(c, Some(dir)))),
        };
        for c in conversations {
            let name = format!("{}.{ext}", conversation_stem(&c.id, &c.title));
            write(dir.join(name), render(c)?, &mut written)?;
        }
        if *f == Format::Html {
            write(
                dir.join("index.html"),
                index_html(conversations),
                &mut written,
            )?;
        }
    }
    Ok(written)
}

/// Writes `bytes` to `path` whole or not at all: into a hidden sibling first, renamed into place
/// once complete, so a full disk or a failed write never leaves a truncated file under the real
/// name (no fsync: a power cut may still lose the newest files, as with any copy).
pub(crate) fn write_whole(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write as _;
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy())
        .unwrap_or_default();
    let part = path.with_file_name(format!(".{name}.chatvault-part"));
    let result = (|| {
        let mut f = fs::File::create(&part)?;
        f.write_all(bytes)?;
        fs::rename(&part, path)
    })();
    if result.is_err() {
        let _ = fs::remove_file(&part);
    }
    result
}

fn label(kind: MessageKind) -> &'static str {
    match kind {
        MessageKind::Text => "",
        MessageKind::Image => "[图片 Image]",
        MessageKind::Voice => "[语音 Voice]",
        MessageKind::Video => "[视频 Video]",
        MessageKind::File => "[文件 File]",
        MessageKind::Link => "[链接 Link]",
        MessageKind::Quote => "[回复 Reply]",
        MessageKind::Sticker => "[表情 Sticker]",
        MessageKind::Location => "[位置 Location]",
        MessageKind::Call => "[通话 Call]",
        MessageKind::Transfer => "[转账 Transfer]",
        MessageKind::RedPacket => "[红包 Red packet]",
        MessageKind::ContactCard => "[名片 Contact card]",
        MessageKind::System => "",
        MessageKind::Recalled => "[撤回 Recalled]",
        MessageKind::Unknown => "[其他 Other]",
    }
}

fn line(m: &Message) -> String {
    let mut parts = Vec::new();
    if !label(m.kind).is_empty() {
        parts.push(label(m.kind).to_string());
    }
    if let Some(q) = &m.quoted_text {
        parts.push(format!("「{q}」"));
    }
    if !m.text.is_empty() {
        parts.push(m.text.clone());
    }
    if let Some(u) = &m.url {
        if u != &m.text {
            parts.push(u.clone());
        }
    }
    parts.join(" ")
}

/// Who sent `m`, as the export names them: the name the store shows, else the sender's id.
fn sender_label(m: &Message) -> String {
    m.sender_name
        .clone()
        .or(m.sender.clone())
        .unwrap_or_default()
}

pub(crate) fn to_text(c: &RestoredConversation) -> String {
    let mut out = format!(
        "{}\n{}\n\n",
        c.title,
        "=".repeat(c.title.chars().count().max(3))
    );
    for m in &c.messages {
        let who = if m.kind == MessageKind::System {
            "--".to_string()
        } else {
            sender_label(m)
        };
        let _ = writeln!(
            out,
            "{}  {}: {}",
            m.at.strftime("%Y-%m-%d %H:%M:%S"),
            who,
            line(m)
        );
    }
    out
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

const CSS: &str = "body{font-family:system-ui,-apple-system,'PingFang SC','Microsoft YaHei','Noto Sans CJK SC',sans-serif;\
background:#ededed;margin:0;color:#1d2330}header{background:#2368d8;color:#fff;padding:12px 20px}\
header a{color:#fff}main{max-width:760px;margin:0 auto;padding:16px}.day{text-align:center;color:#888;\
font-size:.8rem;margin:18px 0 8px}.row{display:flex;margin:6px 0}.row.me{justify-content:flex-end}\
.row.sys{justify-content:center;color:#888;font-size:.85rem}.bubble{max-width:75%;background:#fff;\
border-radius:8px;padding:6px 10px;white-space:pre-wrap;word-break:break-word}.me .bubble{background:#95ec69}\
.who{font-size:.75rem;color:#777}.time{font-size:.7rem;color:#999;margin-left:6px}.kind{color:#2368d8}\
.quote{display:block;color:#666;border-left:3px solid #ccc;padding-left:6px;margin:2px 0}\
ul{list-style:none;padding:0}img.att,video.att{max-width:240px;max-height:240px;border-radius:6px}\
.note{font-size:.75rem;color:#8a6d3b;white-space:normal}li{background:#fff;margin:6px 0;padding:10px;border-radius:8px}";

/// The page of a conversation exported into `dir`, where the restore wrote its attachments
/// (their notes, saying why one has no viewable form, are read from there).
pub(crate) fn to_html_in(c: &RestoredConversation, dir: Option<&Path>) -> String {
    let mut out = String::new();
    let _ = write!(
        out,
        "<!doctype html><html><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width\">\
         <title>{}</title><style>{CSS}</style></head><body><header><a href=\"index.html\">&larr;</a> <strong>{}</strong> \
         · {} {}</header><main>",
        esc(&c.title),
        esc(&c.title),
        c.messages.len(),
        if c.kind == ConversationKind::Group { "messages · group" } else { "messages" }
    );
    let mut last_day = String::new();
    for m in &c.messages {
        let day = m.at.strftime("%Y-%m-%d").to_string();
        if day != last_day {
            let _ = write!(out, "<div class=\"day\">{day}</div>");
            last_day = day;
        }
        let time = m.at.strftime("%H:%M").to_string();
        if matches!(m.kind, MessageKind::System | MessageKind::Recalled) {
            let _ = write!(
                out,
                "<div class=\"row sys\">{} {}</div>",
                esc(label(m.kind)),
                esc(&m.text)
            );
            continue;
        }
        let who = if m.from_me {
            String::new()
        } else {
            sender_label(m)
        };
        let _ = write!(
            out,
            "<div class=\"row{}\"><div class=\"bubble\">",
            if m.from_me { " me" } else { "" }
        );
        if !who.is_empty() {
            let _ = write!(out, "<div class=\"who\">{}</div>", esc(&who));
        }
        if let Some(q) = &m.quoted_text {
            let _ = write!(out, "<span class=\"quote\">{}</span>", esc(q));
        }
        if !label(m.kind).is_empty() {
            let _ = write!(out, "<span class=\"kind\">{}</span> ", esc(label(m.kind)));
        }
        let _ = write!(out, "{}", esc(&m.text));
        if let Some(u) = m
            .url
            .as_deref()
            .filter(|u| u.starts_with("http://") || u.starts_with("https://"))
        {
            let _ = write!(
                out,
                " <a href=\"{}\" rel=\"noreferrer\">{}</a>",
                esc(u),
                esc(u)
            );
        }
        attachments_html(&mut out, m, dir);
        let _ = write!(out, "<span class=\"time\">{time}</span></div></div>");
    }
    out.push_str("</main></body></html>\n");
    out
}

/// How a browser shows a file, by its extension.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Shown {
    Image,
    Audio,
    Video,
    Link,
}

fn shown(path: &str) -> Shown {
    let ext = path.rsplit_once('.').map(|(_, e)| e.to_ascii_lowercase());
    match ext.as_deref() {
        Some("jpg" | "jpeg" | "png" | "gif" | "webp" | "bmp") => Shown::Image,
        Some("wav" | "mp3" | "ogg" | "oga" | "opus" | "m4a" | "aac") => Shown::Audio,
        Some("mp4" | "m4v" | "webm" | "mov") => Shown::Video,
        _ => Shown::Link,
    }
}

/// The first bytes of a file, enough for [`media::sniff`].
fn head(path: &Path) -> Option<Vec<u8>> {
    use std::io::Read as _;
    let mut buf = Vec::with_capacity(16);
    fs::File::open(path)
        .ok()?
        .take(16)
        .read_to_end(&mut buf)
        .ok()?;
    Some(buf)
}

/// A message's attachments as the page shows them: photos inline (their viewable form),
/// voice and video with the browser's controls, files as links, all by relative links to the
/// files the restore wrote beside the page. A thumbnail is shown only in place of an original
/// that is not there (never downloaded) or not viewable, and as a video's poster.
fn attachments_html(out: &mut String, m: &Message, dir: Option<&Path>) {
    use crate::model::AttachmentRole;
    let restored = |a: &&AttachmentRef| !a.missing && a.path.starts_with("attachments/");
    let shown_file = |a: &AttachmentRef| a.viewable.clone().unwrap_or_else(|| a.path.clone());
    let thumb = m
        .attachments
        .iter()
        .filter(|a| a.role == AttachmentRole::Thumbnail)
        .filter(restored)
        .map(shown_file)
        .find(|f| shown(f) == Shown::Image);
    let originals: Vec<&AttachmentRef> = m
        .attachments
        .iter()
        .filter(|a| a.role == AttachmentRole::Original)
        .collect();
    let mut thumb_used = false;
    for a in &originals {
        let name = a.name.as_deref().unwrap_or(&a.path);
        if a.missing {
            continue;
        }
        if !a.path.starts_with("attachments/") {
            // Exported without its files (from the library): the name only.
            let _ = write!(out, "<div class=\"who\">📎 {}</div>", esc(name));
            continue;
        }
        let file = shown_file(a);
        let how = match (&a.viewable, dir) {
            // An original a browser shows as it is, whatever its name (WeChat names
            // unobfuscated pictures `.dat` too): its first bytes tell.
            (None, Some(d)) => head(&d.join(&a.path))
                .and_then(|h| media::sniff(&h))
                .map_or(shown(&file), |(_, ext)| shown(&format!("x.{ext}"))),
            _ => shown(&file),
        };
        match how {
            Shown::Image => {
                let _ = write!(
                    out,
                    "<div><a href=\"{0}\"><img src=\"{0}\" alt=\"{1}\" class=\"att\" loading=\"lazy\"></a></div>",
                    esc(&file),
                    esc(name)
                );
            }
            Shown::Audio => {
                let _ = write!(
                    out,
                    "<div><audio controls preload=\"none\" src=\"{}\" title=\"{}\"></audio></div>",
                    esc(&file),
                    esc(name)
                );
            }
            Shown::Video => {
                let poster = thumb
                    .as_deref()
                    .map(|t| format!(" poster=\"{}\"", esc(t)))
                    .unwrap_or_default();
                thumb_used |= thumb.is_some();
                let _ = write!(
                    out,
                    "<div><video controls preload=\"none\" class=\"att\" src=\"{}\"{poster} title=\"{}\"></video></div>",
                    esc(&file),
                    esc(name)
                );
            }
            Shown::Link => {
                // A photo or voice clip no browser opens (its note says why): the thumbnail,
                // if there is one, stands in for it.
                if let (Some(t), MessageKind::Image | MessageKind::Sticker) = (&thumb, m.kind) {
                    let _ = write!(
                        out,
                        "<div><img src=\"{}\" alt=\"{}\" class=\"att\" loading=\"lazy\"></div>",
                        esc(t),
                        esc(name)
                    );
                    thumb_used = true;
                }
                let _ = write!(
                    out,
                    "<div class=\"who\">📎 <a href=\"{}\">{}</a></div>",
                    esc(&a.path),
                    esc(name)
                );
            }
        }
        if let Some(note) =
            dir.and_then(|d| std::fs::read_to_string(d.join(media::note_name(&a.path))).ok())
        {
            let _ = write!(out, "<div class=\"note\">{}</div>", esc(note.trim()));
        }
    }
    if originals.iter().any(|a| !a.missing) {
        return;
    }
    let note = if originals.is_empty() {
        ""
    } else {
        NEVER_DOWNLOADED
    };
    match (&thumb, thumb_used) {
        (Some(t), false) => {
            let _ = write!(
                out,
                "<div><a href=\"{0}\"><img src=\"{0}\" alt=\"\" class=\"att\" loading=\"lazy\"></a></div>",
                esc(t)
            );
            if !note.is_empty() {
                let _ = write!(out, "<div class=\"note\">{note} {THUMBNAIL_ONLY}</div>");
            }
        }
        _ if !note.is_empty() => {
            let names: Vec<&str> = originals
                .iter()
                .map(|a| a.name.as_deref().unwrap_or(&a.path))
                .collect();
            let _ = write!(
                out,
                "<div class=\"who\">📎 {}</div><div class=\"note\">{note}</div>",
                esc(&names.join(", "))
            );
        }
        _ => {}
    }
}

/// Said under a message whose original file the chat store never had.
const NEVER_DOWNLOADED: &str = "原文件未下载 · The original was never downloaded.";
const THUMBNAIL_ONLY: &str = "只保留了缩略图 · Only its thumbnail is kept.";

pub fn index_html(conversations: &[RestoredConversation]) -> String {
    let mut out = format!(
        "<!doctype html><html><head><meta charset=\"utf-8\"><title>ChatVault</title><style>{CSS}</style></head>\
         <body><header><strong>ChatVault</strong> · {} conversations</header><main><ul>",
        conversations.len()
    );
    for c in conversations {
        let range = match (c.messages.first(), c.messages.last()) {
            (Some(a), Some(b)) => format!(
                "{} – {}",
                a.at.strftime("%Y-%m-%d"),
                b.at.strftime("%Y-%m-%d")
            ),
            _ => String::new(),
        };
        let _ = write!(
            out,
            "<li id=\"c-{}\"><a href=\"{}.html\">{}</a> <span class=\"who\">{} messages · {}</span></li>",
            index_key(&c.id),
            esc(&conversation_stem(&c.id, &c.title)),
            esc(&c.title),
            c.messages.len(),
            range
        );
    }
    out.push_str("</ul></main></body></html>\n");
    out
}

/// The key of a conversation's entry in `index.html` (a hash: the page may be shared, the id
/// need not be in it).
fn index_key(id: &str) -> String {
    short_hash(id)
}

/// `index.html` as [`index_html`] wrote it, without the entry of conversation `id` (its
/// conversation purged); None when no entry is left, and the page can go.
pub(crate) fn remove_from_index(html: &str, id: &str) -> Option<String> {
    let entry = format!("<li id=\"c-{}\">", index_key(id));
    let mut out = html.to_string();
    while let Some(start) = out.find(&entry) {
        let Some(len) = out[start..].find("</li>") else {
            break;
        };
        out.replace_range(start..start + len + "</li>".len(), "");
    }
    let left = out.matches("<li id=\"c-").count();
    if left == 0 {
        return None;
    }
    // The header's count: "· N conversations</header>".
    let tail = " conversations</header>";
    if let (Some(end), Some(head)) = (out.find(tail), out.find("</strong> · ")) {
        let from = head + "</strong> · ".len();
        if from <= end {
            out.replace_range(from..end, &left.to_string());
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::Timestamp;

    fn conv() -> RestoredConversation {
        let at = "2024-02-10T08:00:00Z".parse::<Timestamp>().unwrap();
        let m = |id: &str, kind, text: &str, me: bool| Message {
            sender_name: Some("张三 <Zhang>".into()),
            from_me: me,
            kind,
            ..Message::text_for_test(id, "g@chatroom", at, text)
        };
        RestoredConversation {
            id: "g@chatroom".into(),
            title: "家人 & friends".into(),
            kind: ConversationKind::Group,
            messages: vec![
                m(
                    "1",
                    MessageKind::Text,
                    "<script>alert(1)</script> 你好",
                    false,
                ),
                m("2", MessageKind::File, "报告.pdf", true),
            ],
        }
    }

    #[test]
    fn html_escapes_content_and_shows_kinds_and_names() {
        let html = to_html_in(&conv(), None);
        assert!(!html.contains("<script>"));
        assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt; 你好"));
        assert!(html.contains("张三 &lt;Zhang&gt;"));
        assert!(html.contains("[文件 File]</span> 报告.pdf"));
        assert!(html.contains("<title>家人 &amp; friends</title>"));
    }

    #[test]
    fn exports_write_one_file_per_conversation_and_an_index() {
        let dir = tempfile::tempdir().unwrap();
        let files = export(
            dir.path(),
            &[conv()],
            &[Format::Html, Format::Json, Format::Txt],
        )
        .unwrap();
        let names: Vec<String> = files
            .iter()
            .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
            .collect();
        // Named by the title, readable, with a hash of the id.
        let stem = conversation_stem("g@chatroom", "家人 & friends");
        assert!(stem.starts_with("家人 _ friends~"), "{stem}");
        assert_eq!(
            names,
            [
                format!("{stem}.html"),
                "index.html".into(),
                format!("{stem}.json"),
                format!("{stem}.txt")
            ]
        );
        let txt = fs::read_to_string(dir.path().join(format!("{stem}.txt"))).unwrap();
        assert!(txt.contains("2024-02-10 08:00:00  张三 <Zhang>: <script>alert(1)</script> 你好"));
        let json: serde_json::Value = serde_json::from_str(
            &fs::read_to_string(dir.path().join(format!("{stem}.json"))).unwrap(),
        )
        .unwrap();
        assert_eq!(json["messages"][1]["kind"], "file");
    }

    #[test]
    fn html_embeds_viewable_media_and_says_when_only_a_thumbnail_exists() {
        use crate::model::AttachmentRef;
        let dir = tempfile::tempdir().unwrap();
        let mut c = conv();
        let at = |p: &str| AttachmentRef::file(format!("attachments/g/{p}"));
        let with_view = |mut a: AttachmentRef, v: &str| {
            a.viewable = Some(format!("attachments/g/{v}"));
            a
        };
        let mut missing = at("4-big.dat");
        missing.missing = true;
        let media = [
            (
                MessageKind::Image,
                vec![
                    with_view(at("1-a.dat"), "1-a.view.jpg"),
                    at("1-thumb-a.dat").thumbnail(),
                ],
            ),
            (
                MessageKind::Voice,
                vec![with_view(at("2-v.silk"), "2-v.view.wav")],
            ),
            (
                MessageKind::Video,
                vec![
                    at("3-v.mp4"),
                    with_view(at("3-thumb-v.dat"), "3-thumb-v.view.jpg").thumbnail(),
                ],
            ),
            (
                MessageKind::Image,
                vec![
                    missing,
                    with_view(at("4-thumb-big.dat"), "4-thumb-big.view.jpg").thumbnail(),
                ],
            ),
            (
                MessageKind::Image,
                vec![at("5-w.dat"), at("5-thumb-w.jpg").thumbnail()],
            ),
            (MessageKind::File, vec![at("6-report.pdf")]),
            (MessageKind::Image, vec![at("7-p.dat")]),
        ];
        c.messages = media
            .into_iter()
            .enumerate()
            .map(|(i, (kind, attachments))| Message {
                id: (i + 1).to_string(),
                kind,
                attachments,
                ..c.messages[0].clone()
            })
            .collect();
        fs::create_dir_all(dir.path().join("attachments/g")).unwrap();
        fs::write(
            dir.path().join("attachments/g/5-w.note.txt"),
            "wxgf <note>\n",
        )
        .unwrap();
        fs::write(dir.path().join("attachments/g/5-w.dat"), "wxgf....").unwrap();
        // WeChat names a picture it did not obfuscate `.dat` too.
        fs::write(
            dir.path().join("attachments/g/7-p.dat"),
            b"\x89PNG\r\n\x1a\n....",
        )
        .unwrap();
        let html = to_html_in(&c, Some(dir.path()));
        for want in [
            "<img src=\"attachments/g/1-a.view.jpg\" alt=\"1-a.dat\" class=\"att\" loading=\"lazy\">",
            "<audio controls preload=\"none\" src=\"attachments/g/2-v.view.wav\"",
            "<video controls preload=\"none\" class=\"att\" src=\"attachments/g/3-v.mp4\" poster=\"attachments/g/3-thumb-v.view.jpg\"",
            "<img src=\"attachments/g/4-thumb-big.view.jpg\"",
            "The original was never downloaded. 只保留了缩略图 · Only its thumbnail is kept.",
            // Not viewable: its thumbnail stands in, the original is a link, the note says why.
            "<img src=\"attachments/g/5-thumb-w.jpg\" alt=\"5-w.dat\"",
            "<a href=\"attachments/g/5-w.dat\">5-w.dat</a></div><div class=\"note\">wxgf &lt;note&gt;</div>",
            "📎 <a href=\"attachments/g/6-report.pdf\">6-report.pdf</a>",
            "<img src=\"attachments/g/7-p.dat\" alt=\"7-p.dat\" class=\"att\" loading=\"lazy\">",
        ] {
            assert!(html.contains(want), "{want}\n{html}");
        }
        // A thumbnail is not shown beside its (viewable) original.
        assert!(!html.contains("1-thumb-a.dat"), "{html}");
        assert!(!html.contains("http://") && !html.contains("https://"));
        let json = serde_json::to_value(&c).unwrap();
        let a = &json["messages"][0]["attachments"][0];
        assert_eq!(a["path"], "attachments/g/1-a.dat");
        assert_eq!(a["viewable"], "attachments/g/1-a.view.jpg");
        assert_eq!(a["role"], "original");
        assert_eq!(json["messages"][3]["attachments"][0]["missing"], true);
        assert_eq!(json["messages"][3]["attachments"][1]["role"], "thumbnail");
    }

    #[test]
    fn an_index_loses_only_the_purged_conversation_and_goes_when_empty() {
        let a = conv();
        let mut b = conv();
        b.id = "wxid_other".into();
        b.title = "Other".into();
        let html = index_html(&[a.clone(), b.clone()]);
        let without_a = remove_from_index(&html, &a.id).unwrap();
        assert!(!without_a.contains(&esc(&a.title)), "{without_a}");
        let other = format!("{}.html", conversation_stem("wxid_other", "Other"));
        assert!(without_a.contains(&other), "{without_a}");
        assert!(
            without_a.contains("· 1 conversations</header>"),
            "{without_a}"
        );
        assert_eq!(
            remove_from_index(&without_a, "not-there").unwrap(),
            without_a
        );
        assert!(remove_from_index(&without_a, &b.id).is_none());
    }
}
