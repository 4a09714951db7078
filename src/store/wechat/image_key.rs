//! The key of WeChat 4.x V2 `.dat` images, derived without reading WeChat's memory
//! (chat-stores.md §6.2, §6.4: jackwener/wx-cli, ylytdeng/wechat-decrypt PR #60).
//!
//! WeChat keeps a statistics file named `key_<uin>_<…>.statistic` in its `kvcomm` folder; the
//! account's V2 AES key is the first 16 hex characters of `md5(str(uin) + wxid)` (as ASCII,
//! the way WeChat uses it) and the XOR byte of the file's tail is `uin & 0xFF`. The account
//! folder's 4-hex suffix is `md5(str(uin))[..4]`, which tells which of several uins is this
//! account's; a `*_t.dat` thumbnail whose first AES block decrypts to a JPEG start confirms
//! the key. Nothing here is written anywhere but into the backup (FORMAT.md §6.2 ext tag 1).

use crate::model::{ext_tag, MessageExt};
use aes::cipher::{generic_array::GenericArray, BlockDecrypt, KeyInit};
use std::path::{Path, PathBuf};

/// The header of a V1 / V2 `.dat` image (`07 08 56 31|32 08 07`).
pub const V1_MAGIC: [u8; 6] = [0x07, 0x08, 0x56, 0x31, 0x08, 0x07];
pub const V2_MAGIC: [u8; 6] = [0x07, 0x08, 0x56, 0x32, 0x08, 0x07];
/// Header bytes before the encrypted body: signature, `aes_len`, `xor_len`, one byte.
pub const HEADER_LEN: usize = 15;

/// One account's V2 image key.
#[derive(Clone, PartialEq, Eq)]
pub struct ImageKey {
    /// 16 ASCII hex characters, used as the AES-128 key bytes.
    pub aes: [u8; 16],
    pub xor: u8,
}

impl std::fmt::Debug for ImageKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ImageKey(..)")
    }
}

impl ImageKey {
    /// The key of the account `wxid` whose uin is `uin` (§6.4).
    pub fn derive(uin: i64, wxid: &str) -> ImageKey {
        let hex = crate::store::md5_hex(&format!("{uin}{wxid}"));
        let mut aes = [0u8; 16];
        aes.copy_from_slice(&hex.as_bytes()[..16]);
        ImageKey {
            aes,
            xor: (uin & 0xff) as u8,
        }
    }

    /// FORMAT.md §6.2 ext tag 1: the 16 key bytes then the XOR byte.
    pub fn ext(&self) -> MessageExt {
        let mut data = self.aes.to_vec();
        data.push(self.xor);
        MessageExt {
            tag: ext_tag::WECHAT_IMAGE_KEY,
            data,
        }
    }

    /// Whether the first AES block of the V2 `.dat` `dat` decrypts to an image start (JPEG
    /// `FF D8 FF`, or `wxgf`); `None` when `dat` is no V2 file.
    pub fn opens(&self, dat: &[u8]) -> Option<bool> {
        if !dat.starts_with(&V2_MAGIC) || dat.len() < HEADER_LEN + 16 {
            return None;
        }
        let cipher = aes::Aes128::new(GenericArray::from_slice(&self.aes));
        let mut block = GenericArray::clone_from_slice(&dat[HEADER_LEN..HEADER_LEN + 16]);
        cipher.decrypt_block(&mut block);
        Some(block.starts_with(&[0xff, 0xd8, 0xff]) || block.starts_with(b"wxgf"))
    }
}

/// Whether `head` (a file's first bytes) is a V2 `.dat` image.
pub fn is_v2(head: &[u8]) -> bool {
    head.starts_with(&V2_MAGIC)
}

/// Where WeChat 4.x keeps `kvcomm`, relative to the account folder `<…>/xwechat_files/<account>`
/// as installs lay it out, then under this user's own folders:
/// - Linux: `~/.xwechat/net/kvcomm` beside `~/Documents/xwechat_files` (wx-cli PR #88);
/// - Windows: `%APPDATA%\Tencent\xwechat\net\kvcomm` (`AppData/Roaming` of the user whose
///   `Documents` holds `xwechat_files`; TraceMemo PR #31 reads the same metadata);
/// - macOS: `…/Data/Documents/app_data/net/kvcomm` beside `…/Data/Documents/xwechat_files`
///   (wx-cli `image_key/macos.rs`; the exact folder is **uncertain**).
pub fn kvcomm_dirs(account_root: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let files = account_root.parent();
    let documents = files.and_then(Path::parent);
    let home = documents.and_then(Path::parent);
    if let Some(home) = home {
        out.push(home.join(".xwechat/net/kvcomm"));
        out.push(home.join("AppData/Roaming/Tencent/xwechat/net/kvcomm"));
    }
    if let Some(documents) = documents {
        out.push(documents.join("app_data/net/kvcomm"));
        out.push(documents.join("xwechat/net/kvcomm"));
    }
    if let Some(home) = dirs::home_dir() {
        out.push(home.join(".xwechat/net/kvcomm"));
        out.push(
            home.join(
                "Library/Containers/com.tencent.xinWeChat/Data/Documents/app_data/net/kvcomm",
            ),
        );
    }
    if let Some(config) = dirs::config_dir() {
        out.push(config.join("Tencent/xwechat/net/kvcomm"));
    }
    out.dedup();
    out
}

/// The uins named by `key_<uin>_*.statistic` files in `dir`, in name order.
pub fn uins_in(dir: &Path) -> Vec<i64> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .map(|r| {
            r.flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    let mut out = Vec::new();
    for name in names {
        let Some(rest) = name
            .strip_prefix("key_")
            .filter(|_| name.ends_with(".statistic"))
        else {
            continue;
        };
        let digits = rest.split('_').next().unwrap_or("");
        if let Ok(uin) = digits.parse::<i64>() {
            if !out.contains(&uin) {
                out.push(uin);
            }
        }
    }
    out
}

/// Up to `max` V2 thumbnails (`msg/attach/<chat>/<month>/Img/*_t.dat`) of the account, read
/// whole (thumbnails are a few KB).
fn v2_thumbnails(account_root: &Path, max: usize) -> Vec<Vec<u8>> {
    fn children(p: &Path) -> Vec<PathBuf> {
        let mut v: Vec<PathBuf> = std::fs::read_dir(p)
            .map(|r| r.flatten().map(|e| e.path()).collect())
            .unwrap_or_default();
        v.sort();
        v
    }
    let mut out = Vec::new();
    for chat in children(&account_root.join("msg/attach")) {
        for month in children(&chat) {
            for file in children(&month.join("Img")) {
                let name = file.file_name().map(|n| n.to_string_lossy().into_owned());
                if !name.is_some_and(|n| n.ends_with("_t.dat")) {
                    continue;
                }
                let Ok(bytes) = std::fs::read(&file) else {
                    continue;
                };
                if is_v2(&bytes) {
                    out.push(bytes);
                    if out.len() >= max {
                        return out;
                    }
                }
            }
        }
    }
    out
}

/// The account's V2 image key, or why there is none (a line for the log; it names no key).
/// `wxid` is the account id without the folder's suffix; the folder's own name is tried too
/// (wx-cli tries both).
pub fn find(account_root: &Path, wxid: &str) -> (Option<ImageKey>, String) {
    let folder = account_root
        .file_name()
        .map(|n| n.to_string_lossy().into_owned());
    let mut wxids = vec![wxid.to_string()];
    if let Some(f) = folder.as_ref().filter(|f| f.as_str() != wxid) {
        wxids.push(f.clone());
    }
    let suffix = folder.and_then(|n| {
        n.rsplit_once('_')
            .map(|(_, t)| t.to_ascii_lowercase())
            .filter(|t| t.len() >= 4 && t.bytes().all(|b| b.is_ascii_hexdigit()))
    });
    let mut uins: Vec<i64> = Vec::new();
    for dir in kvcomm_dirs(account_root) {
        for uin in uins_in(&dir) {
            if !uins.contains(&uin) {
                uins.push(uin);
            }
        }
    }
    if uins.is_empty() {
        return (
            None,
            "WeChat 4.x image key: no kvcomm/key_<uin>_*.statistic file found; V2 images are \
             backed up as they are but cannot be shown after a restore"
                .to_string(),
        );
    }
    // The folder's suffix is md5(uin)[..4]: it picks this account's uin among others'.
    let mine: Vec<i64> = match &suffix {
        Some(s) => uins
            .iter()
            .copied()
            .filter(|u| crate::store::md5_hex(&u.to_string()).starts_with(s.as_str()))
            .collect(),
        None => uins.clone(),
    };
    let candidates = if mine.is_empty() { uins } else { mine };
    let thumbs = v2_thumbnails(account_root, 3);
    if thumbs.is_empty() {
        return (
            Some(ImageKey::derive(candidates[0], wxid)),
            "WeChat 4.x image key derived from kvcomm (no V2 thumbnail to confirm it)".to_string(),
        );
    }
    for id in &wxids {
        for uin in &candidates {
            let key = ImageKey::derive(*uin, id);
            if thumbs.iter().any(|t| key.opens(t) == Some(true)) {
                return (
                    Some(key),
                    "WeChat 4.x image key derived from kvcomm and confirmed on a thumbnail"
                        .to_string(),
                );
            }
        }
    }
    (
        None,
        "WeChat 4.x image key: the uins in kvcomm give no key that opens this account's \
         thumbnails; V2 images are backed up as they are but cannot be shown after a restore"
            .to_string(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use aes::cipher::BlockEncrypt;

    fn v2_dat(key: &ImageKey, plain_first_block: &[u8; 16]) -> Vec<u8> {
        let cipher = aes::Aes128::new(GenericArray::from_slice(&key.aes));
        let mut block = GenericArray::clone_from_slice(plain_first_block);
        cipher.encrypt_block(&mut block);
        let mut dat = V2_MAGIC.to_vec();
        dat.extend(16u32.to_le_bytes());
        dat.extend(0u32.to_le_bytes());
        dat.push(1);
        dat.extend(block);
        dat
    }

    #[test]
    fn derives_the_documented_key_and_checks_it_on_a_thumbnail() {
        let key = ImageKey::derive(1_234_567_890, "wxid_abc");
        let hex = crate::store::md5_hex("1234567890wxid_abc");
        assert_eq!(&key.aes[..], &hex.as_bytes()[..16]);
        assert_eq!(key.xor, (1_234_567_890i64 & 0xff) as u8);
        let ext = key.ext();
        assert_eq!((ext.tag, ext.data.len()), (1, 17));
        let mut jpeg = [0u8; 16];
        jpeg[..4].copy_from_slice(&[0xff, 0xd8, 0xff, 0xe0]);
        let dat = v2_dat(&key, &jpeg);
        assert_eq!(key.opens(&dat), Some(true));
        assert_eq!(ImageKey::derive(1, "wxid_abc").opens(&dat), Some(false));
        assert_eq!(key.opens(b"\xff\xd8\xff plain"), None);
    }

    #[test]
    fn finds_the_uin_of_this_account_among_several() {
        let home = tempfile::tempdir().unwrap();
        let uin = 2_033_445_566i64;
        let suffix = &crate::store::md5_hex(&uin.to_string())[..4];
        let account = home
            .path()
            .join(format!("Documents/xwechat_files/wxid_abc_{suffix}"));
        std::fs::create_dir_all(&account).unwrap();
        let kv = home.path().join(".xwechat/net/kvcomm");
        std::fs::create_dir_all(&kv).unwrap();
        std::fs::write(kv.join("key_1111_0.statistic"), b"").unwrap();
        std::fs::write(kv.join(format!("key_{uin}_3.statistic")), b"").unwrap();
        std::fs::write(kv.join("other.txt"), b"").unwrap();
        assert_eq!(uins_in(&kv), vec![1111, uin]);
        let (key, note) = find(&account, "wxid_abc");
        assert_eq!(key, Some(ImageKey::derive(uin, "wxid_abc")));
        assert!(note.contains("no V2 thumbnail"), "{note}");
        // A thumbnail made with another key: no key is given.
        let img = account.join("msg/attach/x/2025-01/Img");
        std::fs::create_dir_all(&img).unwrap();
        let mut jpeg = [0u8; 16];
        jpeg[..3].copy_from_slice(&[0xff, 0xd8, 0xff]);
        std::fs::write(
            img.join("a_t.dat"),
            v2_dat(&ImageKey::derive(7, "wxid_abc"), &jpeg),
        )
        .unwrap();
        let (key, note) = find(&account, "wxid_abc");
        assert!(
            key.is_none() && note.contains("no key that opens"),
            "{note}"
        );
        std::fs::write(
            img.join("b_t.dat"),
            v2_dat(&ImageKey::derive(uin, "wxid_abc"), &jpeg),
        )
        .unwrap();
        assert!(find(&account, "wxid_abc").0.is_some());
    }
}
