//! WeChat 4.x media: where a message's photo, video, file and voice clip are (chat-stores.md
//! §3.3-3.4, §6.2-6.4; chatlog `media_v4.go`).
//!
//! - Images: `packed_info_data` field 3.4 names the md5; `hardlink/hardlink.db`
//!   `image_hardlink_info_v3|v4` maps it to `dir1`/`dir2` (rowids of `dir2id`: the chat's
//!   md5 and the month) and the file name: `msg/attach/<md5(talker)>/<YYYY-MM>/Img/<md5>.dat`,
//!   with `<md5>_t.dat` (thumbnail) and `<md5>_h.dat` (HD) beside it.
//! - Videos: field 4.8 → `video_hardlink_info_*` → `msg/video/<YYYY-MM>/<md5>.mp4`, thumbnail
//!   `<md5>_thumb.jpg`.
//! - Files (app message type 6): the XML `<md5>` → `file_hardlink_info_*` →
//!   `msg/file/<YYYY-MM>/<name>`.
//! - Voice: `message/media_<n>.db` `VoiceInfo.voice_data` (SILK) by `svr_id`, named
//!   `db_storage/message/media_<n>.db#<svr_id>` (FORMAT.md §6.3).
//!
//! Where the hardlink table has no row (or hardlink.db cannot be opened), the documented
//! layout is used with the message's own month and chat. The tables are read once, when the
//! store is opened, so reading a conversation's messages costs no query per message.

use crate::model::{AttachmentRef, AttachmentSource, MessageKind};
use crate::store::sqlite::{sql_error, Db};
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// One hardlink row: the folder relative to the account (`msg/attach/<chat>/<month>/Img`),
/// the file's name and its recorded size.
#[derive(Debug, Clone)]
struct Link {
    dir: String,
    file_name: String,
    size: Option<u64>,
}

/// The three hardlink tables, md5 (lower-case) → row.
#[derive(Default)]
pub struct Hardlinks {
    image: HashMap<String, Link>,
    video: HashMap<String, Link>,
    file: HashMap<String, Link>,
}

impl Hardlinks {
    /// Reads `image|video|file_hardlink_info_v3` and `_v4` (newer rows win) in one pass each.
    pub fn load(db: &Db) -> crate::Result<Hardlinks> {
        let mut dirs: HashMap<i64, String> = HashMap::new();
        if db.has_table("dir2id")? {
            let sql = "SELECT rowid, username FROM dir2id";
            for (id, name) in crate::store::rows::<(i64, Option<String>)>(db, sql, [])? {
                if let Some(name) = name {
                    dirs.insert(id, name);
                }
            }
        }
        let mut out = Hardlinks::default();
        for (kind, map) in [
            ("image", &mut out.image),
            ("video", &mut out.video),
            ("file", &mut out.file),
        ] {
            for version in ["v3", "v4"] {
                let table = format!("{kind}_hardlink_info_{version}");
                if !db.has_table(&table)? {
                    continue;
                }
                let conn = db.conn();
                let mut stmt = conn
                    .prepare(&format!(
                        "SELECT md5, file_name, file_size, dir1, dir2 FROM \"{table}\""
                    ))
                    .map_err(sql_error)?;
                let mut rows = stmt.query([]).map_err(sql_error)?;
                while let Some(r) = rows.next().map_err(sql_error)? {
                    let md5: Option<String> = r.get(0).map_err(sql_error)?;
                    let file_name: Option<String> = r.get(1).map_err(sql_error)?;
                    let size: Option<i64> = r.get(2).map_err(sql_error)?;
                    let dir1: Option<i64> = r.get(3).map_err(sql_error)?;
                    let dir2: Option<i64> = r.get(4).map_err(sql_error)?;
                    let (Some(md5), Some(file_name)) = (md5, file_name) else {
                        continue;
                    };
                    if !safe_name(&file_name) {
                        continue;
                    }
                    let d1 = dir1.and_then(|d| dirs.get(&d)).filter(|d| safe_name(d));
                    let d2 = dir2.and_then(|d| dirs.get(&d)).filter(|d| safe_name(d));
                    let dir = match (kind, d1, d2) {
                        ("image", Some(a), Some(b)) => format!("msg/attach/{a}/{b}/Img"),
                        ("video", Some(a), _) => format!("msg/video/{a}"),
                        ("file", Some(a), _) => format!("msg/file/{a}"),
                        _ => continue,
                    };
                    map.insert(
                        md5.to_ascii_lowercase(),
                        Link {
                            dir,
                            file_name,
                            size: size.and_then(|s| u64::try_from(s).ok()),
                        },
                    );
                }
            }
        }
        Ok(out)
    }

    pub fn len(&self) -> usize {
        self.image.len() + self.video.len() + self.file.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// A name from a table that becomes part of a path: one component, nothing that climbs out.
fn safe_name(s: &str) -> bool {
    !s.is_empty() && s != "." && s != ".." && !s.contains(['/', '\\', '\0'])
}

/// Voice clips by server id: which `media_<n>.db` and which row, and the clip's size.
#[derive(Default)]
pub struct VoiceIndex {
    by_svr: HashMap<i64, (usize, i64, u64)>,
}

impl VoiceIndex {
    /// Reads `VoiceInfo(svr_id, rowid, length(voice_data))` of every media database once.
    pub fn load(dbs: &[(String, Db)]) -> crate::Result<VoiceIndex> {
        let mut by_svr = HashMap::new();
        for (i, (_, db)) in dbs.iter().enumerate() {
            if !db.has_table("VoiceInfo")? {
                continue;
            }
            let conn = db.conn();
            let mut stmt = conn
                .prepare("SELECT svr_id, rowid, length(voice_data) FROM VoiceInfo WHERE svr_id IS NOT NULL AND svr_id != 0")
                .map_err(sql_error)?;
            let mut rows = stmt.query([]).map_err(sql_error)?;
            while let Some(r) = rows.next().map_err(sql_error)? {
                let svr: i64 = r.get(0).map_err(sql_error)?;
                let rowid: i64 = r.get(1).map_err(sql_error)?;
                let len: Option<i64> = r.get(2).map_err(sql_error)?;
                by_svr.entry(svr).or_insert((
                    i,
                    rowid,
                    len.and_then(|l| u64::try_from(l).ok()).unwrap_or(0),
                ));
            }
        }
        Ok(VoiceIndex { by_svr })
    }
}

/// Everything the 4.x reader needs to name a message's media.
pub struct Media {
    root: PathBuf,
    links: Hardlinks,
    /// `(path relative to the account, database)` of each `message/media_<n>.db`.
    voice_dbs: Vec<(String, Db)>,
    voice: VoiceIndex,
    /// The account's V2 image key (`None`: none could be derived) and what happened.
    pub image_key: Option<super::image_key::ImageKey>,
    pub image_key_note: String,
}

/// What a message row says about its media.
pub struct MediaRow<'a> {
    pub base_type: i64,
    pub server_id: Option<i64>,
    pub create_time: i64,
    pub conversation_id: &'a str,
    pub packed_info: Option<&'a [u8]>,
    /// The content after any group prefix (app-message XML for files).
    pub content: &'a str,
}

fn month(time: i64) -> String {
    let t = crate::store::timestamp_from_seconds(time);
    jiff::tz::TimeZone::UTC
        .to_datetime(t)
        .strftime("%Y-%m")
        .to_string()
}

impl Media {
    pub fn new(
        root: &Path,
        links: Hardlinks,
        voice_dbs: Vec<(String, Db)>,
        voice: VoiceIndex,
        wxid: &str,
    ) -> Media {
        let (image_key, image_key_note) = super::image_key::find(root, wxid);
        Media {
            root: root.to_path_buf(),
            links,
            voice_dbs,
            voice,
            image_key,
            image_key_note,
        }
    }

    /// The account folder.
    pub fn root(&self) -> &Path {
        &self.root
    }

    fn file_ref(&self, rel: String, mime: Option<&str>, recorded: Option<u64>) -> AttachmentRef {
        let mut a = AttachmentRef::file(rel);
        a.mime = mime.map(str::to_string);
        match std::fs::metadata(self.root.join(&a.path)) {
            Ok(m) if m.is_file() => a.size = Some(m.len()),
            _ => {
                a.missing = true;
                a.size = recorded;
            }
        }
        a
    }

    /// The message's attachments and whether one of its images is a V2 `.dat` (which needs
    /// the account's image key to be shown).
    pub fn attachments(&self, row: &MediaRow<'_>) -> (Vec<AttachmentRef>, bool) {
        let mut out = Vec::new();
        let mut v2 = false;
        let (image_md5, video_md5) = row
            .packed_info
            .map(super::content::packed_info_md5s)
            .unwrap_or((None, None));
        match row.base_type {
            3 => {
                let md5 = image_md5.or_else(|| xml_md5(row.content, "msg/img@md5"));
                let Some(md5) = md5 else { return (out, false) };
                let (dir, base) = match self.links.image.get(&md5) {
                    Some(l) => (l.dir.clone(), dat_base(&l.file_name).to_string()),
                    None => (
                        format!(
                            "msg/attach/{}/{}/Img",
                            super::table_hash(row.conversation_id),
                            month(row.create_time)
                        ),
                        md5.clone(),
                    ),
                };
                let original = self.file_ref(format!("{dir}/{base}.dat"), None, None);
                let hd = self.file_ref(format!("{dir}/{base}_h.dat"), None, None);
                let thumb = self
                    .file_ref(format!("{dir}/{base}_t.dat"), None, None)
                    .thumbnail();
                // The original, its HD copy when WeChat has one, then the thumbnail; an
                // original never downloaded is listed as missing beside its thumbnail.
                let has_hd = !hd.missing;
                if !original.missing || !has_hd {
                    out.push(original);
                }
                if has_hd {
                    out.push(hd);
                }
                if !thumb.missing {
                    out.push(thumb);
                }
                v2 = out
                    .iter()
                    .filter(|a| !a.missing)
                    .any(|a| is_v2_file(&self.root.join(&a.path)));
            }
            43 | 62 => {
                let md5 = video_md5.or_else(|| xml_md5(row.content, "msg/videomsg@md5"));
                let Some(md5) = md5 else { return (out, false) };
                let (dir, name, size) = match self.links.video.get(&md5) {
                    Some(l) => (l.dir.clone(), l.file_name.clone(), l.size),
                    None => (
                        format!("msg/video/{}", month(row.create_time)),
                        format!("{md5}.mp4"),
                        None,
                    ),
                };
                let stem = name.rsplit_once('.').map_or(name.as_str(), |(s, _)| s);
                let thumb = self
                    .file_ref(format!("{dir}/{stem}_thumb.jpg"), Some("image/jpeg"), None)
                    .thumbnail();
                out.push(self.file_ref(format!("{dir}/{name}"), Some("video/mp4"), size));
                if !thumb.missing {
                    out.push(thumb);
                }
            }
            34 => {
                if let Some(svr) = row.server_id.filter(|s| *s != 0) {
                    let voice = self.voice.by_svr.get(&svr).map(|&(i, _, len)| (i, len));
                    let db_path = voice
                        .map(|(i, _)| self.voice_dbs[i].0.clone())
                        .unwrap_or_else(|| "db_storage/message/media_0.db".to_string());
                    let mut a = AttachmentRef::file(format!("{db_path}#{svr}"));
                    a.name = Some(format!("{svr}.silk"));
                    a.mime = Some("audio/silk".to_string());
                    match voice {
                        Some((_, len)) => a.size = Some(len),
                        None => a.missing = true,
                    }
                    out.push(a);
                }
            }
            49 => {
                let f = super::content::xml_fields(row.content);
                if super::content::kind_of(
                    49,
                    f.get("msg/appmsg/type").and_then(|t| t.parse().ok()),
                ) != MessageKind::File
                {
                    return (out, false);
                }
                let title = f.get("msg/appmsg/title").filter(|t| safe_name(t)).cloned();
                let recorded = f
                    .get("msg/appmsg/appattach/totallen")
                    .and_then(|t| t.parse().ok());
                let md5 = f
                    .get("msg/appmsg/md5")
                    .or_else(|| f.get("msg/md5"))
                    .map(|m| m.to_ascii_lowercase());
                let link = md5.as_ref().and_then(|m| self.links.file.get(m));
                let rel = match (link, &title) {
                    (Some(l), _) => format!("{}/{}", l.dir, l.file_name),
                    (None, Some(t)) => format!("msg/file/{}/{t}", month(row.create_time)),
                    (None, None) => return (out, false),
                };
                let mut a = self.file_ref(rel, None, link.and_then(|l| l.size).or(recorded));
                if let Some(t) = title {
                    a.name = Some(t);
                }
                out.push(a);
            }
            _ => {}
        }
        (out, v2)
    }

    /// The bytes of a reference: a file under the account folder, or a voice row.
    pub fn source(&self, a: &AttachmentRef) -> Option<AttachmentSource> {
        if let Some((db_path, key)) = a.path.split_once('#') {
            let svr: i64 = key.parse().ok()?;
            let &(i, rowid, _) = self.voice.by_svr.get(&svr)?;
            let (name, db) = self.voice_dbs.get(i)?;
            if name != db_path {
                return None;
            }
            let bytes: Option<Vec<u8>> = db
                .conn()
                .query_row(
                    "SELECT voice_data FROM VoiceInfo WHERE rowid = ?1",
                    [rowid],
                    |r| r.get(0),
                )
                .ok()?;
            return bytes.map(AttachmentSource::Bytes);
        }
        if a.path.split('/').any(|c| c == ".." || c.is_empty()) {
            return None;
        }
        let p = self.root.join(&a.path);
        p.is_file().then_some(AttachmentSource::File(p))
    }
}

/// `abc.dat`, `abc_t.dat`, `abc_h.dat` → `abc`.
fn dat_base(name: &str) -> &str {
    let stem = name.strip_suffix(".dat").unwrap_or(name);
    stem.strip_suffix("_t")
        .or_else(|| stem.strip_suffix("_h"))
        .unwrap_or(stem)
}

fn xml_md5(content: &str, key: &str) -> Option<String> {
    if !content.trim_start().starts_with('<') {
        return None;
    }
    super::content::xml_fields(content)
        .get(key)
        .filter(|m| m.len() == 32 && m.bytes().all(|b| b.is_ascii_hexdigit()))
        .map(|m| m.to_ascii_lowercase())
}

fn is_v2_file(p: &Path) -> bool {
    let mut head = [0u8; 6];
    std::fs::File::open(p)
        .and_then(|mut f| std::io::Read::read_exact(&mut f, &mut head))
        .is_ok()
        && super::image_key::is_v2(&head)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dat_names_reduce_to_their_base() {
        assert_eq!(dat_base("abc.dat"), "abc");
        assert_eq!(dat_base("abc_t.dat"), "abc");
        assert_eq!(dat_base("abc_h.dat"), "abc");
        assert!(!safe_name("../x") && !safe_name("..") && safe_name("2025-06"));
    }
}
