//! Is a place on disk quietly copied to a cloud? A recovery code saved inside the backup target
//! (which may be a NAS or a synced folder) or inside a folder a sync client mirrors (OneDrive,
//! iCloud Drive, Dropbox, 坚果云, …) hands the key to the very storage it is meant to be kept
//! apart from. The CLI refuses such a place without `--allow-synced-folder`; the app asks the
//! user to confirm.
//!
//! The check is lexical, on path components compared case-insensitively, and accepts both `/`
//! and `\` separators so a Windows path is judged the same on any OS. It recognises the
//! default folder names of the common clients; a sync client pointed at a folder of another
//! name is not detected.

use std::path::{Component, Path, PathBuf};

/// Why a place is exposed to a cloud.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Exposure {
    /// Inside the folder a local (file://) backup target writes to.
    BackupTarget(PathBuf),
    /// Inside a folder the named sync client mirrors.
    SyncFolder(&'static str),
}

impl std::fmt::Display for Exposure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Exposure::BackupTarget(p) => write!(f, "inside the backup target {}", p.display()),
            Exposure::SyncFolder(name) => write!(f, "inside a folder {name} copies to the cloud"),
        }
    }
}

/// (how the folder name starts, lowercased; the client's name). A prefix so that
/// "OneDrive - Contoso", "Dropbox (Personal)", "GoogleDrive-me@example.com" and
/// "Nextcloud2" all match.
const PREFIXES: &[(&str, &str)] = &[
    ("onedrive", "OneDrive"),
    ("icloud drive", "iCloud Drive"),
    ("iclouddrive", "iCloud Drive"),
    ("com~apple~clouddocs", "iCloud Drive"),
    ("dropbox", "Dropbox"),
    ("nextcloud", "Nextcloud"),
    ("owncloud", "ownCloud"),
    ("google drive", "Google Drive"),
    ("googledrive", "Google Drive"),
    ("nutstore", "坚果云 Nutstore"),
    ("seafile", "Seafile"),
    ("seadrive", "Seafile"),
    ("pcloud", "pCloud"),
    ("box sync", "Box"),
    ("megasync", "MEGA"),
    ("yandex.disk", "Yandex Disk"),
    ("baidusyncdisk", "百度网盘 Baidu Netdisk"),
];

/// Whole folder names (lowercased) that only a sync client uses.
const EXACT: &[(&str, &str)] = &[
    // macOS: ~/Library/Mobile Documents is iCloud Drive's real home.
    ("mobile documents", "iCloud Drive"),
    ("my drive", "Google Drive"),
    ("我的云端硬盘", "Google Drive"),
    ("box", "Box"),
];

/// Folder names containing these are a sync client's (Chinese clients name folders so).
const CONTAINS: &[(&str, &str)] = &[
    ("坚果云", "坚果云 Nutstore"),
    ("百度网盘", "百度网盘 Baidu Netdisk"),
];

/// macOS's home of File Provider clients (OneDrive, Dropbox, Google Drive, Box) since
/// macOS 12; named only when no folder below it says which client it is.
const MAC_CLOUD_STORAGE: &str = "cloudstorage";

fn components(path: &str) -> Vec<String> {
    path.split(['/', '\\'])
        .filter(|c| !c.is_empty() && *c != ".")
        .map(str::to_lowercase)
        .collect()
}

/// The sync client whose folder holds `path`, if its folders follow the client's defaults.
pub(crate) fn sync_client(path: &Path) -> Option<&'static str> {
    let text = path.to_string_lossy();
    let parts = components(&text);
    // Folders above the file only: a file merely *named* "Dropbox.txt" is not synced.
    let folders = &parts[..parts.len().saturating_sub(1)];
    folders
        .iter()
        .find_map(|c| {
            PREFIXES
                .iter()
                .find(|(p, _)| c.starts_with(p))
                .or_else(|| EXACT.iter().find(|(e, _)| c == e))
                .or_else(|| CONTAINS.iter().find(|(s, _)| c.contains(s)))
                .map(|(_, name)| *name)
        })
        .or_else(|| {
            folders
                .iter()
                .any(|c| c == MAC_CLOUD_STORAGE)
                .then_some("a cloud storage provider")
        })
}

/// Lexical containment, component by component (case-insensitively on Windows and macOS,
/// whose file systems usually are).
fn inside(path: &Path, folder: &Path) -> bool {
    let norm = |p: &Path| -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for c in p.components() {
            match c {
                Component::CurDir => {}
                Component::ParentDir => {
                    out.pop();
                }
                other => {
                    let s = other.as_os_str().to_string_lossy().to_string();
                    out.push(if cfg!(any(windows, target_os = "macos")) {
                        s.to_lowercase()
                    } else {
                        s
                    });
                }
            }
        }
        out
    };
    let (p, f) = (norm(path), norm(folder));
    !f.is_empty() && p.len() > f.len() && p[..f.len()] == f[..]
}

/// Whether saving a secret at `path` would hand it to a cloud: inside one of the local
/// backup target folders, or inside a sync client's folder. Pure: callers pass canonical
/// paths where they can (see [`exposure_on_disk`]).
pub(crate) fn exposure(path: &Path, local_targets: &[PathBuf]) -> Option<Exposure> {
    if let Some(t) = local_targets.iter().find(|t| inside(path, t)) {
        return Some(Exposure::BackupTarget(t.clone()));
    }
    sync_client(path).map(Exposure::SyncFolder)
}

/// [`exposure`] of `path` as given and with symlinks resolved (its folder and the targets,
/// where they exist), so a link into a synced folder does not hide it.
pub(crate) fn exposure_on_disk(path: &Path, local_targets: &[PathBuf]) -> Option<Exposure> {
    let mut targets: Vec<PathBuf> = local_targets.to_vec();
    targets.extend(local_targets.iter().filter_map(|t| t.canonicalize().ok()));
    exposure(path, &targets).or_else(|| {
        let dir = path.parent()?.canonicalize().ok()?;
        exposure(&dir.join(path.file_name()?), &targets)
    })
}

/// The local folders among target URLs (file:// or plain paths); others are ignored.
pub(crate) fn local_target_folders<'a>(urls: impl IntoIterator<Item = &'a str>) -> Vec<PathBuf> {
    urls.into_iter()
        .filter_map(|u| match u.parse::<crate::target::TargetSpec>() {
            Ok(crate::target::TargetSpec::Local { path }) => Some(path),
            _ => None,
        })
        .collect()
}

/// Where a recovery code for the repository at `url`, saved at `path`, would be copied to: the
/// folder of a local target (this one or another this computer knows) or a synced folder.
pub fn exposure_of_recovery_file(
    paths: &crate::local::paths::AppPaths,
    url: &str,
    path: &Path,
) -> Option<Exposure> {
    let mut urls = vec![url.to_string()];
    urls.extend(crate::repo::access::known_urls(paths).unwrap_or_default());
    exposure_on_disk(path, &local_target_folders(urls.iter().map(String::as_str)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn client(p: &str) -> Option<&'static str> {
        sync_client(Path::new(p))
    }

    #[test]
    fn default_sync_folders_are_recognised_on_every_os() {
        for (p, want) in [
            ("/home/me/Dropbox/code.txt", "Dropbox"),
            ("/Users/me/Dropbox (Personal)/keys/code.txt", "Dropbox"),
            ("C:\\Users\\me\\OneDrive\\Documents\\code.txt", "OneDrive"),
            ("C:\\Users\\me\\OneDrive - Contoso\\code.txt", "OneDrive"),
            ("c:\\users\\me\\onedrive\\code.txt", "OneDrive"),
            (
                "/Users/me/Library/Mobile Documents/com~apple~CloudDocs/code.txt",
                "iCloud Drive",
            ),
            ("C:\\Users\\me\\iCloudDrive\\code.txt", "iCloud Drive"),
            (
                "/Users/me/Library/CloudStorage/GoogleDrive-me@example.com/My Drive/code.txt",
                "Google Drive",
            ),
            ("G:\\My Drive\\code.txt", "Google Drive"),
            ("/home/me/Nextcloud/code.txt", "Nextcloud"),
            ("/home/me/ownCloud/code.txt", "ownCloud"),
            ("D:\\我的坚果云\\code.txt", "坚果云 Nutstore"),
            (
                "/home/me/Nutstore Files/我的坚果云/code.txt",
                "坚果云 Nutstore",
            ),
            ("/home/me/坚果云/code.txt", "坚果云 Nutstore"),
            ("/home/me/Seafile/My Library/code.txt", "Seafile"),
            ("/home/me/SeaDrive/code.txt", "Seafile"),
            ("P:\\pCloud Drive\\code.txt", "pCloud"),
            ("/home/me/pCloudDrive/code.txt", "pCloud"),
            ("D:\\BaiduSyncdisk\\code.txt", "百度网盘 Baidu Netdisk"),
            (
                "/Users/me/Library/CloudStorage/Box-Box/code.txt",
                "a cloud storage provider",
            ),
        ] {
            assert_eq!(client(p), Some(want), "{p}");
        }
    }

    #[test]
    fn ordinary_folders_and_look_alike_file_names_are_not_sync_folders() {
        for p in [
            "/home/me/Documents/ChatVault recovery code 0123abcd.txt",
            "C:\\Users\\me\\Documents\\code.txt",
            "/home/me/Documents/Dropbox.txt",
            "/home/me/文档/恢复码.txt",
            "/home/me/boxes/code.txt",
            "/media/usb/code.txt",
        ] {
            assert_eq!(client(p), None, "{p}");
        }
    }

    #[test]
    fn a_place_inside_a_local_backup_target_is_exposed() {
        let targets = local_target_folders([
            "file:///mnt/nas/chatvault",
            "s3://bucket/x?endpoint=http://127.0.0.1:9",
        ]);
        assert_eq!(targets, vec![PathBuf::from("/mnt/nas/chatvault")]);
        assert_eq!(
            exposure(Path::new("/mnt/nas/chatvault/code.txt"), &targets),
            Some(Exposure::BackupTarget(PathBuf::from("/mnt/nas/chatvault")))
        );
        assert!(exposure(
            Path::new("/mnt/nas/chatvault/../elsewhere/code.txt"),
            &targets
        )
        .is_none());
        assert!(exposure(Path::new("/mnt/nas/chatvault-codes/code.txt"), &targets).is_none());
        assert!(exposure(Path::new("/home/me/code.txt"), &targets).is_none());
        assert_eq!(
            exposure(Path::new("/home/me/Dropbox/code.txt"), &targets),
            Some(Exposure::SyncFolder("Dropbox"))
        );
    }

    #[cfg(unix)]
    #[test]
    fn a_symlink_into_a_sync_folder_is_seen_through() {
        let dir = tempfile::tempdir().unwrap();
        let synced = dir.path().join("Dropbox");
        std::fs::create_dir(&synced).unwrap();
        let link = dir.path().join("safe");
        std::os::unix::fs::symlink(&synced, &link).unwrap();
        assert_eq!(
            exposure_on_disk(&link.join("code.txt"), &[]),
            Some(Exposure::SyncFolder("Dropbox"))
        );
    }
}
