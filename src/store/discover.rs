//! Finding chat stores: the default locations of every supported variant on Windows, macOS
//! and Linux (including a Wine prefix), plus folders the user names. Paths from
//! ../shared/research/chat-stores.md §2.1, §3.1, §4, §5, §8.

use super::{numbered_files, Variant};
use crate::error::{Error, ErrorCode, Result};
use serde::Serialize;
use std::fs;
use std::path::{Path, PathBuf};
use ts_rs::TS;

/// A store found on this machine.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
pub struct StoreInfo {
    pub variant: Variant,
    /// wxid (Windows 3.x, 4.x), the account hash folder (macOS 3.x), or the file name.
    pub account_id: String,
    /// What to pass to `--store`: the account folder, or the database file.
    #[ts(type = "string")]
    pub path: PathBuf,
    /// Bytes of the store's database files.
    pub size: u64,
    pub needs_key: bool,
}

/// Says which variant `path` is and returns the store's root (account folder or file).
/// Accepts the account folder, or a folder inside it (`Msg`, `db_storage`, `Message`).
pub(crate) fn identify(path: &Path) -> Result<(Variant, PathBuf)> {
    let meta = fs::metadata(path).map_err(|e| {
        Error::new(ErrorCode::StoreNotFound, format!("{}: {e}", path.display()))
            .with_hint("Check the path to the chat app's account folder (or chat.db for iMessage).")
    })?;
    if meta.is_file() {
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().to_lowercase())
            .unwrap_or_default();
        return match name.as_str() {
            "enmicromsg.db" => Ok((Variant::Android, path.to_path_buf())),
            "chat.db" => Ok((Variant::IMessage, path.to_path_buf())),
            n if n.starts_with("msg") || n.starts_with("message_") || n == "micromsg.db" => {
                Err(Error::new(
                    ErrorCode::StoreNotChatStore,
                    format!("{} is one file of a WeChat store", path.display()),
                )
                .with_hint(
                    "Pick the account folder that holds it (the one named after your wxid).",
                ))
            }
            _ if is_imessage_db(path) => Ok((Variant::IMessage, path.to_path_buf())),
            _ => Err(Error::new(
                ErrorCode::StoreNotChatStore,
                format!("{} is not a chat store", path.display()),
            )
            .with_hint("Pick the chat app's account folder, EnMicroMsg.db, or chat.db.")),
        };
    }
    // A folder inside the account folder: step up to the account.
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    if matches!(name.as_str(), "Msg" | "db_storage" | "Message") {
        if let Some(parent) = path.parent() {
            if let Ok(found) = identify_dir(parent) {
                return Ok(found);
            }
        }
    }
    identify_dir(path)
}

fn identify_dir(dir: &Path) -> Result<(Variant, PathBuf)> {
    if dir.join("Msg").join("Multi").is_dir() || dir.join("Msg").join("MicroMsg.db").is_file() {
        return Ok((Variant::WechatWin3, dir.to_path_buf()));
    }
    if dir.join("db_storage").join("message").is_dir() {
        return Ok((Variant::Wechat4, dir.to_path_buf()));
    }
    if !numbered_files(&dir.join("Message"), "msg_").is_empty() {
        return Ok((Variant::WechatMac3, dir.to_path_buf()));
    }
    for (file, variant) in [
        ("EnMicroMsg.db", Variant::Android),
        ("chat.db", Variant::IMessage),
    ] {
        if dir.join(file).is_file() {
            return Ok((variant, dir.join(file)));
        }
    }
    Err(Error::new(ErrorCode::StoreNotFound, format!("no chat store in {}", dir.display())).with_hint(
        "Pick the account folder: WeChat Files/<wxid> (Windows 3.x), xwechat_files/<wxid>_xxxx \
         (4.x), the 32-hex folder under com.tencent.xinWeChat (macOS 3.x), EnMicroMsg.db, or chat.db.",
    ))
}

fn is_imessage_db(path: &Path) -> bool {
    let Ok(bytes) = fs::read(path).map(|b| b.into_iter().take(200_000).collect::<Vec<u8>>()) else {
        return false;
    };
    bytes.starts_with(b"SQLite format 3\0") && bytes.windows(17).any(|w| w == b"chat_message_join")
}

/// Where to look: the user's home (on any OS layout) and extra folders the user named.
#[derive(Debug, Clone, Default)]
pub struct SearchRoots {
    pub home: Option<PathBuf>,
    pub extra: Vec<PathBuf>,
}

impl SearchRoots {
    /// The places of this user (their home folder) and the `extra` folders they named.
    pub fn of_user(extra: Vec<PathBuf>) -> SearchRoots {
        SearchRoots {
            home: dirs::home_dir(),
            extra,
        }
    }
}

/// Every store under the default locations and the extra folders. Never fails: unreadable
/// places are skipped.
pub fn discover(roots: &SearchRoots) -> Vec<StoreInfo> {
    let mut candidates: Vec<PathBuf> = Vec::new();
    if let Some(home) = &roots.home {
        let mut documents = vec![home.join("Documents"), home.join("My Documents")];
        // Wine: WeChat for Windows under ~/.wine (and other prefixes named like .wine-*).
        for prefix in children(home)
            .into_iter()
            .filter(|p| name_of(p).starts_with(".wine"))
        {
            for user in children(&prefix.join("drive_c").join("users")) {
                documents.push(user.join("Documents"));
                documents.push(user.join("My Documents"));
            }
        }
        for docs in &documents {
            candidates.extend(children(&docs.join("WeChat Files"))); // 3.x
            candidates.extend(children(&docs.join("xwechat_files"))); // 4.x (Windows, Linux)
        }
        let mac = home.join("Library/Containers/com.tencent.xinWeChat/Data");
        candidates.extend(children(&mac.join("Documents/xwechat_files")));
        for version in children(&mac.join("Library/Application Support/com.tencent.xinWeChat")) {
            candidates.extend(children(&version));
        }
        // Some 4.x builds use this container name (chatlog's darwin detector).
        candidates.extend(children(&home.join(
            "Library/Containers/com.tencent.xWeChat/Data/Documents/xwechat_files",
        )));
        candidates.push(home.join("Library/Messages/chat.db"));
    }
    // Folders the user names (a copied WeChat Files folder, an unpacked phone backup) are
    // searched a few levels deep.
    for extra in &roots.extra {
        walk(extra, 6, &mut candidates);
    }
    let mut found: Vec<StoreInfo> = Vec::new();
    for c in candidates {
        let Ok((variant, root)) = identify(&c) else {
            continue;
        };
        if found.iter().any(|f| f.path == root) {
            continue;
        }
        found.push(StoreInfo {
            variant,
            account_id: account_id(variant, &root),
            size: dir_size(&root),
            needs_key: variant.needs_key(),
            path: root,
        });
    }
    found
}

/// The account id a store's folder names: `wxid_x` for 3.x, `wxid_x` from `wxid_x_1a2b` for
/// 4.x, the hash folder for macOS 3.x, the file name otherwise.
pub fn account_id(variant: Variant, root: &Path) -> String {
    let name = name_of(root);
    match variant {
        Variant::Wechat4 => strip_v4_suffix(&name).to_string(),
        Variant::WechatWin3 | Variant::WechatMac3 => name,
        Variant::Android | Variant::IMessage => name,
    }
}

/// `wxid_abc_7f3a` → `wxid_abc` (the folder is `<wxid>_<4+ hex>`; ylytdeng's regex).
pub(crate) fn strip_v4_suffix(folder: &str) -> &str {
    match folder.rsplit_once('_') {
        Some((head, tail))
            if tail.len() >= 4
                && tail.chars().all(|c| c.is_ascii_hexdigit())
                && !head.is_empty() =>
        {
            head
        }
        _ => folder,
    }
}

fn walk(dir: &Path, depth: u32, out: &mut Vec<PathBuf>) {
    out.push(dir.to_path_buf());
    if depth == 0 || identify(dir).is_ok() {
        return;
    }
    for child in children(dir) {
        if child.is_dir() {
            walk(&child, depth - 1, out);
        } else {
            let name = name_of(&child).to_lowercase();
            if name == "enmicromsg.db" || name == "chat.db" {
                out.push(child);
            }
        }
    }
}

fn name_of(p: &Path) -> String {
    p.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

fn children(dir: &Path) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = fs::read_dir(dir)
        .map(|r| r.flatten().map(|e| e.path()).collect())
        .unwrap_or_default();
    out.sort();
    out
}

fn dir_size(p: &Path) -> u64 {
    let Ok(meta) = fs::symlink_metadata(p) else {
        return 0;
    };
    if meta.is_file() {
        return meta.len();
    }
    children(p).iter().map(|c| dir_size(c)).sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strips_the_hex_suffix_of_v4_folders_only() {
        assert_eq!(strip_v4_suffix("wxid_abc_7f3a"), "wxid_abc");
        assert_eq!(strip_v4_suffix("wxid_abc"), "wxid_abc");
        assert_eq!(strip_v4_suffix("alice_zz12"), "alice_zz12");
    }
}
