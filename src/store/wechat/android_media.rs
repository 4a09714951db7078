//! WeChat for Android media (chat-stores.md §5; ppwwyyxx/wechat-dump `wechat/res.py`).
//!
//! The phone keeps media unencrypted on shared storage (`tencent/MicroMsg/<md5("mm"+uin)>/`),
//! the database in app storage. ChatVault expects a backup folder that holds both side by side:
//!
//! ```text
//! <folder>/EnMicroMsg.db
//! <folder>/image2/<n[0:2]>/<n[2:4]>/<n>       photos (ImgInfo2.bigImgPath) and th_<md5> thumbnails
//! <folder>/voice2/<md5(imgPath)[0:2]>/<[2:4]>/msg_<imgPath>.amr   voice (AMR or SILK by header)
//! <folder>/video/<imgPath>.mp4, <imgPath>.jpg  videos and their thumbnails
//! <folder>/Download/<file name>                 received files (tencent/MicroMsg/Download)
//! ```
//!
//! For an image, `n` is the file name without a `th_` prefix. Paths in attachment references
//! are relative to `<folder>`.

use crate::model::{AttachmentRef, AttachmentSource, MessageKind};
use crate::store::sqlite::{sql_error, Db};
use std::collections::HashMap;
use std::path::Path;

const THUMB_PREFIX: &str = "THUMBNAIL_DIRPATH://";

/// `ImgInfo2` rows by msgSvrId: (bigImgPath, thumbImgPath).
#[derive(Default)]
pub struct ImageIndex {
    by_svr: HashMap<i64, (Option<String>, Option<String>)>,
}

impl ImageIndex {
    pub fn load(db: &Db) -> crate::Result<ImageIndex> {
        let mut by_svr = HashMap::new();
        if !db.has_table("ImgInfo2")? {
            return Ok(ImageIndex { by_svr });
        }
        let conn = db.conn();
        let mut stmt = conn
            .prepare("SELECT msgSvrId, bigImgPath, thumbImgPath FROM ImgInfo2 WHERE msgSvrId IS NOT NULL AND msgSvrId != 0 ORDER BY id")
            .map_err(sql_error)?;
        let mut rows = stmt.query([]).map_err(sql_error)?;
        while let Some(r) = rows.next().map_err(sql_error)? {
            let svr: i64 = r.get(0).map_err(sql_error)?;
            let big: Option<String> = r.get(1).map_err(sql_error)?;
            let thumb: Option<String> = r.get(2).map_err(sql_error)?;
            by_svr.insert(svr, (big, thumb));
        }
        Ok(ImageIndex { by_svr })
    }
}

/// One path component from the database, or nothing when it could climb out of the folder.
fn component(s: &str) -> Option<&str> {
    (!s.is_empty() && s != "." && s != ".." && !s.contains(['/', '\\', '\0'])).then_some(s)
}

/// `image2/<k[0:2]>/<k[2:4]>/<name>` with `k` the name less any `th_`.
fn image_path(name: &str) -> Option<String> {
    let name = component(name.strip_prefix(THUMB_PREFIX).unwrap_or(name))?;
    let key = name.strip_prefix("th_").unwrap_or(name);
    let (a, b) = (key.get(0..2)?, key.get(2..4)?);
    Some(format!("image2/{a}/{b}/{name}"))
}

fn file_ref(dir: &Path, rel: String, mime: Option<&str>) -> AttachmentRef {
    let mut a = AttachmentRef::file(rel);
    a.mime = mime.map(str::to_string);
    match std::fs::metadata(dir.join(&a.path)) {
        Ok(m) if m.is_file() => a.size = Some(m.len()),
        _ => a.missing = true,
    }
    a
}

/// AMR (`#!AMR`) or SILK (`#!SILK_V3`, WeChat prefixes `\x02`) by the file's first bytes.
fn voice_mime(p: &Path) -> &'static str {
    let mut head = [0u8; 10];
    let n = std::fs::File::open(p)
        .and_then(|mut f| std::io::Read::read(&mut f, &mut head))
        .unwrap_or(0);
    let head = &head[..n];
    if head.starts_with(b"#!SILK") || head.get(1..).is_some_and(|h| h.starts_with(b"#!SILK")) {
        "audio/silk"
    } else {
        "audio/amr"
    }
}

/// A message's attachments: `base_type` as the reader normalised it, `img_path` the row's
/// `imgPath`, `content` its XML (for files).
pub fn attachments(
    dir: &Path,
    images: &ImageIndex,
    base_type: i64,
    svr_id: Option<i64>,
    img_path: Option<&str>,
    content: &str,
) -> Vec<AttachmentRef> {
    let img_path = img_path.filter(|p| !p.is_empty());
    let mut out = Vec::new();
    match base_type {
        3 => {
            let row = svr_id.and_then(|s| images.by_svr.get(&s));
            let big = row
                .and_then(|(b, _)| b.as_deref())
                .filter(|b| !b.is_empty() && !b.starts_with("SERVERID://"))
                .and_then(image_path);
            let thumb = row
                .and_then(|(_, t)| t.as_deref())
                .filter(|t| !t.is_empty())
                .or(img_path)
                .and_then(image_path);
            match big {
                Some(rel) => out.push(file_ref(dir, rel, None)),
                // Never downloaded: the original is listed as missing beside its thumbnail.
                None => {
                    let mut a = AttachmentRef::file(
                        thumb
                            .as_deref()
                            .map(|t| t.replacen("/th_", "/", 1))
                            .unwrap_or_else(|| format!("image2/{}", svr_id.unwrap_or(0))),
                    );
                    a.missing = true;
                    out.push(a);
                }
            }
            if let Some(t) = thumb {
                let t = file_ref(dir, t, None).thumbnail();
                if !t.missing {
                    out.push(t);
                }
            }
        }
        34 => {
            if let Some(name) = img_path.and_then(component) {
                let h = crate::store::md5_hex(name);
                let rel = format!("voice2/{}/{}/msg_{name}.amr", &h[0..2], &h[2..4]);
                let mime = voice_mime(&dir.join(&rel));
                out.push(file_ref(dir, rel, Some(mime)));
            }
        }
        43 | 62 => {
            if let Some(name) = img_path.and_then(component) {
                out.push(file_ref(
                    dir,
                    format!("video/{name}.mp4"),
                    Some("video/mp4"),
                ));
                let t = file_ref(dir, format!("video/{name}.jpg"), Some("image/jpeg")).thumbnail();
                if !t.missing {
                    out.push(t);
                }
            }
        }
        49 if content.trim_start().starts_with('<') => {
            let f = super::content::xml_fields(content);
            let app = f.get("msg/appmsg/type").and_then(|t| t.parse().ok());
            if super::content::kind_of(49, app) == MessageKind::File {
                if let Some(title) = f.get("msg/appmsg/title").and_then(|t| component(t)) {
                    let mut a = file_ref(dir, format!("Download/{title}"), None);
                    if a.missing {
                        a.size = f
                            .get("msg/appmsg/appattach/totallen")
                            .and_then(|t| t.parse().ok());
                    }
                    out.push(a);
                }
            }
        }
        _ => {}
    }
    out
}

/// The file behind a reference, under the backup folder.
pub fn source(dir: &Path, a: &AttachmentRef) -> Option<AttachmentSource> {
    if a.path.split('/').any(|c| c == ".." || c.is_empty()) {
        return None;
    }
    let p = dir.join(&a.path);
    p.is_file().then_some(AttachmentSource::File(p))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn image_paths_follow_wechat_dump() {
        assert_eq!(
            image_path("THUMBNAIL_DIRPATH://th_0123abcd").as_deref(),
            Some("image2/01/23/th_0123abcd")
        );
        assert_eq!(
            image_path("0123abcd.jpg").as_deref(),
            Some("image2/01/23/0123abcd.jpg")
        );
        assert_eq!(image_path("../x"), None);
        assert_eq!(image_path("a"), None);
    }

    #[test]
    fn voice_files_are_amr_or_silk_by_their_header() {
        let d = tempfile::tempdir().unwrap();
        for (name, head, mime) in [
            ("a.amr", &b"#!AMR\n\x3c"[..], "audio/amr"),
            ("s.amr", &b"\x02#!SILK_V3\x0c"[..], "audio/silk"),
            ("p.amr", &b"#!SILK_V3"[..], "audio/silk"),
        ] {
            std::fs::write(d.path().join(name), head).unwrap();
            assert_eq!(voice_mime(&d.path().join(name)), mime, "{name}");
        }
    }
}
