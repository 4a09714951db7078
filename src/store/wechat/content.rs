//! Decoding WeChat message payloads, shared by every WeChat variant: type codes, LZ4 and zstd
//! content, the group sender, appmsg XML. Sources: ../shared/research/chat-stores.md §2.3,
//! §2.6, §3.3 (chatlog `internal/model/message*.go`, PyWxDump `type_converter`).

use crate::model::MessageKind;
use std::collections::HashMap;

/// The kind of a message from its base type and, for app messages (49), the `<appmsg><type>`.
pub fn kind_of(base: i64, app_type: Option<i64>) -> MessageKind {
    use MessageKind as K;
    match base {
        1 => K::Text,
        3 => K::Image,
        34 => K::Voice,
        42 => K::ContactCard,
        43 | 62 => K::Video,
        47 => K::Sticker,
        48 => K::Location,
        50 => K::Call,
        10000 => K::System,
        10002 => K::Recalled,
        49 => match app_type {
            Some(57) => K::Quote,
            Some(6 | 74) => K::File,
            Some(2000) => K::Transfer,
            Some(2001 | 2003) => K::RedPacket,
            Some(8) => K::Sticker,
            Some(1) => K::Text,
            Some(3 | 4 | 5 | 19 | 24 | 33 | 36 | 40 | 50 | 51 | 53 | 63 | 76 | 87 | 88 | 92) => {
                K::Link
            }
            _ => K::Unknown,
        },
        _ => K::Unknown,
    }
}

/// A raw LZ4 block with no size prefix (Windows 3.x `CompressContent`). The output size is
/// unknown, so the buffer grows until the block fits.
pub fn lz4_block(data: &[u8]) -> Option<String> {
    let mut cap = data.len().max(64) * 8;
    while cap <= 64 << 20 {
        if let Ok(out) = lz4_flex::block::decompress(data, cap) {
            let text = String::from_utf8_lossy(&out)
                .trim_end_matches('\0')
                .to_string();
            return Some(text);
        }
        cap *= 4;
    }
    None
}

const ZSTD_MAGIC: [u8; 4] = [0x28, 0xb5, 0x2f, 0xfd];

/// The most a compressed message body may inflate to: chat partners control these bytes, so a
/// zstd frame that claims more (a decompression bomb) is shown as it is, not inflated.
pub const MAX_CONTENT: usize = 16 << 20;

/// WeChat 4.x `message_content`: plain text, or a zstd frame (by magic), inflated to at most
/// [`MAX_CONTENT`] with a decompression context kept per thread (one per message cost more than
/// the inflating itself in a big store).
pub fn v4_content(data: &[u8]) -> String {
    if data.starts_with(&ZSTD_MAGIC) {
        thread_local! {
            static CONTEXT: std::cell::RefCell<Option<zstd::bulk::Decompressor<'static>>> =
                const { std::cell::RefCell::new(None) };
        }
        let out = CONTEXT.with(|c| {
            let mut c = c.borrow_mut();
            if c.is_none() {
                *c = zstd::bulk::Decompressor::new().ok();
            }
            let d = c.as_mut()?;
            let size = zstd::zstd_safe::get_frame_content_size(data).ok().flatten();
            let capacity = match size {
                Some(n) if n as usize <= MAX_CONTENT => n as usize,
                Some(_) => return None,
                None => MAX_CONTENT,
            };
            d.decompress(data, capacity).ok()
        });
        if let Some(out) = out {
            return String::from_utf8_lossy(&out).into_owned();
        }
    }
    String::from_utf8_lossy(data).into_owned()
}

/// Group messages on 4.x, macOS and Android start with `"<sender id>:\n"`.
pub fn split_sender_prefix(content: &str) -> (Option<&str>, &str) {
    if let Some((head, rest)) = content.split_once(":\n") {
        let plausible = !head.is_empty()
            && head.len() <= 64
            && !head.contains(char::is_whitespace)
            && !head.starts_with('<');
        if plausible {
            return (Some(head), rest);
        }
    }
    (None, content)
}

/// The group sender in a Windows 3.x `BytesExtra` protobuf: field 3 holds repeated items
/// `{1: type, 2: value}`; type 1 is the sender's wxid.
pub fn bytes_extra_sender(data: &[u8]) -> Option<String> {
    bytes_extra_items(data)
        .into_iter()
        .find(|(k, _)| *k == 1)
        .map(|(_, v)| v)
}

/// The media file a Windows 3.x message refers to: `BytesExtra` item type 4 (type 3 is the
/// thumbnail), written as `<wxid>\FileStorage\...`; returned relative to the account folder
/// with `/` separators.
pub fn bytes_extra_media_path(data: &[u8]) -> Option<String> {
    let items = bytes_extra_items(data);
    let raw = items
        .iter()
        .find(|(k, _)| *k == 4)
        .or_else(|| items.iter().find(|(k, _)| *k == 3))?;
    let normal = raw.1.replace('\\', "/");
    let rel = match normal.split_once('/') {
        Some((first, rest)) if !first.contains('.') && rest.starts_with("FileStorage") => {
            rest.to_string()
        }
        _ => normal,
    };
    Some(rel).filter(|r| !r.is_empty())
}

fn bytes_extra_items(data: &[u8]) -> Vec<(u64, String)> {
    let mut out = Vec::new();
    for (field, value) in protobuf_fields(data) {
        if let (3, Wire::Bytes(item)) = (field, value) {
            let mut kind = None;
            let mut text = None;
            for (f, v) in protobuf_fields(item) {
                match (f, v) {
                    (1, Wire::Varint(k)) => kind = Some(k),
                    (2, Wire::Bytes(b)) => text = Some(String::from_utf8_lossy(b).into_owned()),
                    _ => {}
                }
            }
            if let (Some(k), Some(t)) = (kind, text) {
                out.push((k, t));
            }
        }
    }
    out
}

enum Wire<'a> {
    Varint(u64),
    Bytes(&'a [u8]),
    Other,
}

/// A tolerant protobuf field walker: stops at the first malformed byte.
fn protobuf_fields(mut data: &[u8]) -> Vec<(u64, Wire<'_>)> {
    fn varint(d: &mut &[u8]) -> Option<u64> {
        let mut v = 0u64;
        for shift in (0..64).step_by(7) {
            let (&b, rest) = d.split_first()?;
            *d = rest;
            v |= u64::from(b & 0x7f) << shift;
            if b & 0x80 == 0 {
                return Some(v);
            }
        }
        None
    }
    let mut out = Vec::new();
    while !data.is_empty() {
        let Some(tag) = varint(&mut data) else { break };
        let wire = match tag & 7 {
            0 => match varint(&mut data) {
                Some(v) => Wire::Varint(v),
                None => break,
            },
            2 => {
                let Some(len) = varint(&mut data) else { break };
                let Ok(len) = usize::try_from(len) else { break };
                if len > data.len() {
                    break;
                }
                let (b, rest) = data.split_at(len);
                data = rest;
                Wire::Bytes(b)
            }
            1 if data.len() >= 8 => {
                data = &data[8..];
                Wire::Other
            }
            5 if data.len() >= 4 => {
                data = &data[4..];
                Wire::Other
            }
            _ => break,
        };
        out.push((tag >> 3, wire));
    }
    out
}

/// Flattens XML into `path → text` and `path@attr → value` (first occurrence wins), e.g.
/// `msg/appmsg/title`, `msg/appmsg/refermsg/svrid`, `msg/location@poiname`.
pub fn xml_fields(xml: &str) -> HashMap<String, String> {
    use quick_xml::events::Event;
    let mut out = HashMap::new();
    let mut reader = quick_xml::Reader::from_str(xml.trim_start_matches('\u{feff}').trim());
    let mut path: Vec<String> = Vec::new();
    // Text of the current element, gathered across text, CDATA and entity events.
    let mut text = String::new();
    let flush = |out: &mut HashMap<String, String>, path: &[String], text: &mut String| {
        let t = text.trim();
        if !t.is_empty() {
            out.entry(path.join("/")).or_insert_with(|| t.to_string());
        }
        text.clear();
    };
    loop {
        match reader.read_event() {
            Ok(Event::Start(e)) => {
                flush(&mut out, &path, &mut text);
                path.push(e.name().as_ref().to_string());
                attrs_into(&mut out, &path, &e);
            }
            Ok(Event::Empty(e)) => {
                flush(&mut out, &path, &mut text);
                path.push(e.name().as_ref().to_string());
                attrs_into(&mut out, &path, &e);
                path.pop();
            }
            Ok(Event::End(_)) => {
                flush(&mut out, &path, &mut text);
                path.pop();
            }
            Ok(Event::Text(t)) => text.push_str(&unescape(&t)),
            Ok(Event::CData(t)) => text.push_str(&t),
            Ok(Event::GeneralRef(r)) => text.push_str(match r.as_ref() {
                "amp" => "&",
                "lt" => "<",
                "gt" => ">",
                "quot" => "\"",
                "apos" => "'",
                _ => "",
            }),
            Ok(Event::Eof) | Err(_) => break,
            Ok(_) => {}
        }
    }
    out
}

fn attrs_into(
    out: &mut HashMap<String, String>,
    path: &[String],
    e: &quick_xml::events::BytesStart<'_>,
) {
    let base = path.join("/");
    for a in e.attributes().flatten() {
        let key = format!("{base}@{}", a.key.as_ref());
        let value = unescape(&a.value);
        out.entry(key).or_insert(value);
    }
}

fn unescape(s: &str) -> String {
    if !s.contains('&') {
        return s.to_string();
    }
    s.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&apos;", "'")
        .replace("&amp;", "&")
}

/// What an XML-bearing message says, reduced to the fields the model keeps.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Decoded {
    pub kind: Option<MessageKind>,
    pub text: String,
    pub url: Option<String>,
    pub reply_to: Option<String>,
    pub quoted_text: Option<String>,
}

/// Decodes the content of a non-text message given its base type.
pub fn decode_xml_message(base: i64, content: &str) -> Decoded {
    let f = xml_fields(content);
    let get = |k: &str| f.get(k).cloned();
    let mut d = Decoded::default();
    match base {
        49 => {
            let app_type = get("msg/appmsg/type").and_then(|t| t.parse().ok());
            d.kind = Some(kind_of(49, app_type));
            let title = get("msg/appmsg/title").unwrap_or_default();
            match d.kind {
                Some(MessageKind::Quote) => {
                    d.text = title;
                    d.reply_to = get("msg/appmsg/refermsg/svrid");
                    d.quoted_text = get("msg/appmsg/refermsg/content");
                }
                Some(MessageKind::Transfer) => {
                    d.text = get("msg/appmsg/wcpayinfo/feedesc")
                        .or_else(|| get("msg/appmsg/des"))
                        .unwrap_or(title);
                }
                _ => {
                    d.text = title;
                    d.url = get("msg/appmsg/url").filter(|u| !u.is_empty());
                }
            }
        }
        48 => {
            d.text = [get("msg/location@poiname"), get("msg/location@label")]
                .into_iter()
                .flatten()
                .filter(|s| !s.is_empty())
                .collect::<Vec<_>>()
                .join(" ");
        }
        42 => {
            d.text = get("msg@nickname")
                .or_else(|| get("msg@username"))
                .unwrap_or_default()
        }
        10000 | 10002 => {
            d.text = get("sysmsg/revokemsg/replacemsg")
                .or_else(|| get("sysmsg/revokemsg/content"))
                .unwrap_or_else(|| strip_tags(content));
            if f.contains_key("sysmsg/revokemsg/replacemsg")
                || f.get("sysmsg@type").is_some_and(|t| t == "revokemsg")
            {
                d.kind = Some(MessageKind::Recalled);
            }
        }
        50 => d.text = get("voipmsg/VoIPBubbleMsg/msg").unwrap_or_default(),
        _ => {}
    }
    d
}

fn strip_tags(s: &str) -> String {
    if !s.trim_start().starts_with('<') {
        return s.to_string();
    }
    let mut out = String::new();
    let mut depth = 0;
    for c in s.chars() {
        match c {
            '<' => depth += 1,
            '>' if depth > 0 => depth -= 1,
            _ if depth == 0 => out.push(c),
            _ => {}
        }
    }
    out.trim().to_string()
}

/// Windows 3.x and macOS 3.x media (issue 13): what a message's `BytesExtra` and XML say about
/// its files. Sources: chat-stores.md §2.3 (BytesExtra item types 3 thumbnail, 4 file), §2.5
/// (the `md5` attribute keys the HardLink databases), §4 (macOS `hldata.db`).
///
/// The `BytesExtra` path of item type `kind` (3 thumbnail, 4 image/video/file), relative to the
/// account folder with `/` separators (the leading `<wxid>\` stripped).
pub fn bytes_extra_path(data: &[u8], kind: u64) -> Option<String> {
    let items = bytes_extra_items(data);
    let raw = items.iter().find(|(k, _)| *k == kind)?;
    let normal = raw.1.replace('\\', "/");
    let rel = match normal.split_once('/') {
        Some((first, rest)) if !first.contains('.') && rest.starts_with("FileStorage") => {
            rest.to_string()
        }
        _ => normal,
    };
    // Only paths inside the account folder: no `..`, no absolute or drive paths.
    Some(rel).filter(|r| {
        !r.is_empty() && !r.starts_with('/') && !r.contains(':') && !r.split('/').any(|c| c == "..")
    })
}

/// What a media message's XML names: the file's md5 (`<img md5>`, `<videomsg md5>`, an app
/// message's `<md5>`), and for files the title and the app message type.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct MediaXml {
    pub md5: Option<String>,
    pub app_type: Option<i64>,
    pub title: Option<String>,
}

pub fn media_xml(content: &str) -> MediaXml {
    let f = xml_fields(content);
    let md5 = ["msg/img@md5", "msg/videomsg@md5", "msg/appmsg/md5"]
        .iter()
        .find_map(|k| f.get(*k))
        .map(|m| m.trim().to_ascii_lowercase())
        .filter(|m| m.len() == 32 && m.bytes().all(|b| b.is_ascii_hexdigit()));
    MediaXml {
        md5,
        app_type: f.get("msg/appmsg/type").and_then(|t| t.trim().parse().ok()),
        title: f.get("msg/appmsg/title").cloned(),
    }
}

/// The MIME type of a media file by its name, for the formats WeChat keeps as they are (a
/// `.dat` image is obfuscated and has none until decoded).
pub fn media_mime(name: &str) -> Option<&'static str> {
    let ext = name.rsplit_once('.')?.1.to_ascii_lowercase();
    Some(match ext.as_str() {
        "jpg" | "jpeg" => "image/jpeg",
        "png" => "image/png",
        "gif" => "image/gif",
        "webp" => "image/webp",
        "mp4" => "video/mp4",
        "mov" => "video/quicktime",
        "pdf" => "application/pdf",
        "txt" => "text/plain",
        "zip" => "application/zip",
        "docx" => "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "xlsx" => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "silk" | "aud" => "audio/silk",
        _ => return None,
    })
}

#[cfg(test)]
mod media_tests {
    use super::*;

    fn item(kind: u8, value: &str) -> Vec<u8> {
        let mut b = vec![
            0x1a,
            (4 + value.len()) as u8,
            0x08,
            kind,
            0x12,
            value.len() as u8,
        ];
        b.extend(value.as_bytes());
        b
    }

    #[test]
    fn bytes_extra_paths_stay_inside_the_account_folder() {
        let mut b = item(
            3,
            "wxid_me\\FileStorage\\MsgAttach\\ab\\Thumb\\2024-01\\x_t.dat",
        );
        b.extend(item(4, "wxid_me\\FileStorage\\Video\\2024-01\\v.mp4"));
        assert_eq!(
            bytes_extra_path(&b, 3).as_deref(),
            Some("FileStorage/MsgAttach/ab/Thumb/2024-01/x_t.dat")
        );
        assert_eq!(
            bytes_extra_path(&b, 4).as_deref(),
            Some("FileStorage/Video/2024-01/v.mp4")
        );
        for bad in [
            "wxid_me\\FileStorage\\..\\..\\secret",
            "/etc/passwd",
            "C:\\Windows\\win.ini",
        ] {
            assert_eq!(bytes_extra_path(&item(4, bad), 4), None, "{bad}");
        }
    }

    #[test]
    fn media_xml_finds_the_md5_of_photos_videos_and_files() {
        let md5 = "0123456789abcdef0123456789ABCDEF";
        let img = media_xml(&format!(r#"<msg><img length="1" md5="{md5}"/></msg>"#));
        assert_eq!(img.md5.as_deref(), Some(&*md5.to_ascii_lowercase()));
        let video = media_xml(&format!(r#"<msg><videomsg md5="{md5}" length="2"/></msg>"#));
        assert!(video.md5.is_some());
        let file = media_xml(&format!(
            "<msg><appmsg><title>报告.pdf</title><type>6</type><md5>{md5}</md5></appmsg></msg>"
        ));
        assert_eq!(
            (file.app_type, file.title.as_deref()),
            (Some(6), Some("报告.pdf"))
        );
        assert!(media_xml(r#"<msg><img md5="not-an-md5"/></msg>"#)
            .md5
            .is_none());
        assert_eq!(media_mime("a/b/c.MP4"), Some("video/mp4"));
        assert_eq!(media_mime("x.dat"), None);
    }
}

/// WeChat 4.x `packed_info_data` (chat-stores.md §3.3, chatlog `wxproto/packedinfo.proto`):
/// `{1: type, 2: version, 3: {4: image md5}, 4: {8: video md5}}`. Returns (image md5, video
/// md5), each only when it is 32 hex digits.
pub fn packed_info_md5s(data: &[u8]) -> (Option<String>, Option<String>) {
    let inner = |b: &[u8], want: u64| -> Option<String> {
        protobuf_fields(b)
            .into_iter()
            .find_map(|(f, v)| match (f, v) {
                (f, Wire::Bytes(s)) if f == want => {
                    let s = std::str::from_utf8(s).ok()?;
                    (s.len() == 32 && s.bytes().all(|c| c.is_ascii_hexdigit()))
                        .then(|| s.to_ascii_lowercase())
                }
                _ => None,
            })
    };
    let mut image = None;
    let mut video = None;
    for (field, value) in protobuf_fields(data) {
        match (field, value) {
            (3, Wire::Bytes(b)) if image.is_none() => image = inner(b, 4),
            (4, Wire::Bytes(b)) if video.is_none() => video = inner(b, 8),
            _ => {}
        }
    }
    (image, video)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lz4_raw_block_without_size_prefix_decodes() {
        let xml = "<msg><appmsg><title>季度报告 Q3</title><type>6</type></appmsg></msg>".repeat(3);
        let block = lz4_flex::block::compress(xml.as_bytes());
        assert_eq!(lz4_block(&block).unwrap(), xml);
    }

    #[test]
    fn a_zstd_bomb_is_not_inflated() {
        let huge = vec![b'a'; MAX_CONTENT + 1];
        let z = zstd::encode_all(&huge[..], 3).unwrap();
        assert!(z.len() < 4096);
        assert!(v4_content(&z).len() < 4096, "shown as the bytes it is");
    }

    #[test]
    fn zstd_and_plain_v4_content() {
        let xml = "<msg><appmsg><title>链接</title></appmsg></msg>";
        let z = zstd::encode_all(xml.as_bytes(), 3).unwrap();
        assert_eq!(v4_content(&z), xml);
        assert_eq!(v4_content("你好".as_bytes()), "你好");
    }

    #[test]
    fn group_prefix_is_split_only_when_it_looks_like_an_id() {
        assert_eq!(
            split_sender_prefix("wxid_bob:\n晚上好"),
            (Some("wxid_bob"), "晚上好")
        );
        assert_eq!(
            split_sender_prefix("note: see\nthis"),
            (None, "note: see\nthis")
        );
        assert_eq!(
            split_sender_prefix("<msg>:\n</msg>"),
            (None, "<msg>:\n</msg>")
        );
    }

    #[test]
    fn bytes_extra_type_1_is_the_sender() {
        // {1: {1:1, 2:0}, 3: {1: 7, 2: "x"}, 3: {1: 1, 2: "wxid_carol"}}
        let mut b = vec![0x0a, 0x04, 0x08, 0x01, 0x10, 0x00];
        b.extend([0x1a, 0x05, 0x08, 0x07, 0x12, 0x01, b'x']);
        b.extend([0x1a, 0x0e, 0x08, 0x01, 0x12, 0x0a]);
        b.extend(b"wxid_carol");
        assert_eq!(bytes_extra_sender(&b).as_deref(), Some("wxid_carol"));
        assert_eq!(bytes_extra_sender(&[0xff, 0xff]), None);

        let path = "wxid_me\\FileStorage\\MsgAttach\\abc\\Image\\2024-01\\x.dat";
        let mut m = vec![
            0x1a,
            (4 + path.len()) as u8,
            0x08,
            0x04,
            0x12,
            path.len() as u8,
        ];
        m.extend(path.as_bytes());
        assert_eq!(
            bytes_extra_media_path(&m).as_deref(),
            Some("FileStorage/MsgAttach/abc/Image/2024-01/x.dat")
        );
    }

    #[test]
    fn quote_link_transfer_location_and_revoke_decode() {
        let q = decode_xml_message(
            49,
            "<msg><appmsg><title>好的 👍</title><type>57</type><refermsg><svrid>123</svrid><content>明天见？</content></refermsg></appmsg></msg>",
        );
        assert_eq!(q.kind, Some(MessageKind::Quote));
        assert_eq!(
            (
                q.text.as_str(),
                q.reply_to.as_deref(),
                q.quoted_text.as_deref()
            ),
            ("好的 👍", Some("123"), Some("明天见？"))
        );

        let l = decode_xml_message(49, "<msg><appmsg><title>Rust 1.95</title><type>5</type><url>https://a.example/?x=1&amp;y=2</url></appmsg></msg>");
        assert_eq!(l.kind, Some(MessageKind::Link));
        assert_eq!(l.url.as_deref(), Some("https://a.example/?x=1&y=2"));

        let t = decode_xml_message(49, "<msg><appmsg><title>微信转账</title><type>2000</type><wcpayinfo><feedesc>￥88.00</feedesc></wcpayinfo></appmsg></msg>");
        assert_eq!(
            (t.kind, t.text.as_str()),
            (Some(MessageKind::Transfer), "￥88.00")
        );

        let loc = decode_xml_message(
            48,
            r#"<msg><location x="39.9" y="116.4" label="北京市东城区" poiname="天安门"/></msg>"#,
        );
        assert_eq!(loc.text, "天安门 北京市东城区");

        let r = decode_xml_message(
            10002,
            r#"<sysmsg type="revokemsg"><revokemsg><replacemsg><![CDATA["Alice" 撤回了一条消息]]></replacemsg></revokemsg></sysmsg>"#,
        );
        assert_eq!(
            (r.kind, r.text.as_str()),
            (Some(MessageKind::Recalled), "\"Alice\" 撤回了一条消息")
        );
    }

    #[test]
    fn packed_info_gives_the_image_and_video_md5() {
        let md5 = "0123456789abcdef0123456789ABCDEF";
        let mut img = vec![0x08, 106, 0x10, 14, 0x1a, 34, 0x22, 32];
        img.extend(md5.as_bytes());
        assert_eq!(
            packed_info_md5s(&img),
            (Some(md5.to_ascii_lowercase()), None)
        );
        let mut vid = vec![0x08, 106, 0x22, 34, 0x42, 32];
        vid.extend(md5.as_bytes());
        assert_eq!(
            packed_info_md5s(&vid),
            (None, Some(md5.to_ascii_lowercase()))
        );
        assert_eq!(packed_info_md5s(&[0xff, 0x01]), (None, None));
    }
}
