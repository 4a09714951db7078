//! Restore: the timeline of snapshots, their conversations, a preview from the backup, restoring
//! into the library or exporting, and the library ("Restored") itself.

use super::store::{blocking, blocking_with};
use crate::ipc::RestoreResult;
use crate::AppState;
use chatvault::error::{Error, WireError};
use chatvault::export::{self, Format};
use chatvault::local::library::Library;
use chatvault::model::{Conversation, Message};
use chatvault::repo::access;
use chatvault::repo::restore::{self, RestoreRequest, SnapshotConversation, SnapshotInfo};
use chatvault::run::job::{Cancel, NoProgress};
use jiff::Timestamp;
use std::path::PathBuf;
use tauri::State;

type CmdResult<T> = Result<T, WireError>;

use super::wait;

/// Targets this computer has backed up to (for the restore page's picker).
#[tauri::command]
pub async fn known_targets(state: State<'_, AppState>) -> CmdResult<Vec<String>> {
    let paths = state.paths.clone();
    blocking(move || {
        let mut urls = access::known_urls(&paths)?;
        for p in chatvault::local::profile::list(&paths)?.into_values() {
            if !urls.contains(&p.target) {
                urls.push(p.target);
            }
        }
        Ok(urls)
    })
    .await
}

#[tauri::command]
pub async fn list_snapshots(
    state: State<'_, AppState>,
    url: String,
) -> CmdResult<Vec<SnapshotInfo>> {
    let repo = state.open_repo(&url).await?;
    let mut list: Vec<SnapshotInfo> = repo
        .snapshots()
        .await?
        .iter()
        .map(|(_, s)| SnapshotInfo::from(s))
        .collect();
    list.reverse(); // newest first
    Ok(list)
}

#[tauri::command]
pub async fn snapshot_conversations(
    state: State<'_, AppState>,
    url: String,
    snapshot: String,
) -> CmdResult<Vec<SnapshotConversation>> {
    let repo = state.open_repo(&url).await?;
    Ok(restore::snapshot_contents(&repo, Some(&snapshot)).await?)
}

/// Messages of one conversation as the backup holds them (downloads only its segments).
#[tauri::command]
pub async fn preview_backup(
    state: State<'_, AppState>,
    url: String,
    snapshot: String,
    conversation: String,
    since: Option<Timestamp>,
    until: Option<Timestamp>,
) -> CmdResult<Vec<Message>> {
    let paths = &state.paths;
    let repo = state.open_repo(&url).await?;
    // The previewed conversation's attachments go to a private folder in the cache (only
    // the last preview's), from which `chatvault-media:` serves them.
    let dir = crate::media::preview_dir(paths);
    if std::fs::symlink_metadata(&dir).is_ok() {
        std::fs::remove_dir_all(&dir)
            .map_err(|e| Error::io(format!("emptying {}", dir.display()), &e))?;
    }
    chatvault::local::private_file::create_private_dir_all(&dir)?;
    let req = RestoreRequest {
        snapshot: Some(snapshot),
        conversations: vec![conversation],
        since,
        until,
        attachments_dir: Some(dir),
    };
    let mut out = restore::restore(&repo, &req, &NoProgress, &Cancel::new()).await?;
    Ok(out.pop().map(|c| c.messages).unwrap_or_default())
}

/// Restores the chosen conversations into the library and/or exports them to a folder.
#[tauri::command]
#[allow(clippy::too_many_arguments)]
pub async fn restore_selection(
    state: State<'_, AppState>,
    url: String,
    snapshot: String,
    conversations: Vec<String>,
    since: Option<Timestamp>,
    until: Option<Timestamp>,
    to_library: bool,
    export_dir: Option<String>,
    formats: Vec<String>,
) -> CmdResult<RestoreResult> {
    // Off the async workers: the export and the library write many files.
    blocking_with(&state, move |s| {
        let paths = &s.paths;
        let formats: Vec<Format> = formats
            .iter()
            .map(|f| f.parse())
            .collect::<Result<_, _>>()?;
        let repo = wait(s.open_repo(&url))?;
        let export_dir = export_dir
            .filter(|d| !d.trim().is_empty())
            .map(PathBuf::from);
        // Attachments are written into the export folder, else (library only) into the
        // library's media folder; with both, they are copied from the first to the second.
        let library_media = crate::media::library_dir(paths);
        if to_library {
            chatvault::local::private_file::create_private_dir_all(&library_media)?;
        }
        let attachments_dir = export_dir
            .clone()
            .or_else(|| to_library.then(|| library_media.clone()));
        let req = RestoreRequest {
            snapshot: Some(snapshot),
            conversations,
            since,
            until,
            attachments_dir,
        };
        let convs = wait(restore::restore(&repo, &req, &NoProgress, &Cancel::new()))?;
        let messages = convs.iter().map(|c| c.messages.len() as u64).sum();
        let mut files = Vec::new();
        let mut index_html = None;
        if let Some(dir) = export_dir {
            let written = export::export(&dir, &convs, &formats)?;
            // So that forgetting a conversation can delete its exports, also in a later session.
            chatvault::export::record::record(paths, &dir, &convs, &written)?;
            if formats.contains(&Format::Html) {
                index_html = Some(dir.join("index.html").display().to_string());
            }
            let mut opened = s
                .exports
                .lock()
                .map_err(|_| Error::internal("exports lock"))?;
            for p in written
                .iter()
                .chain(index_html.as_ref().map(PathBuf::from).as_ref())
            {
                if let Ok(c) = p.canonicalize() {
                    opened.insert(c);
                }
            }
            files = written.iter().map(|p| p.display().to_string()).collect();
        }
        if to_library {
            if let Some(dir) = &req.attachments_dir {
                if dir != &library_media {
                    crate::media::copy_attachments(&convs, dir, &library_media)?;
                }
            }
            Library::open(paths)?.add(&convs)?;
        }
        Ok(RestoreResult {
            conversations: convs.len() as u32,
            messages,
            files,
            index_html,
        })
    })
    .await
}

/// Opens an export ChatVault wrote in this session (the HTML index) with the system's default
/// program. Nothing else: the webview must not be able to launch arbitrary files or programs.
#[tauri::command]
pub fn open_path(state: State<'_, AppState>, path: String) -> CmdResult<()> {
    let exports = state
        .exports
        .lock()
        .map_err(|_| WireError::from(Error::internal("exports lock")))?;
    let target = export_to_open(&exports, std::path::Path::new(&path))?;
    let program = if cfg!(target_os = "macos") {
        "open"
    } else if cfg!(target_os = "windows") {
        "explorer"
    } else {
        "xdg-open"
    };
    std::process::Command::new(program)
        .arg(&target)
        .spawn()
        .map(|_| ())
        .map_err(|e| WireError::from(Error::io(format!("opening {path}"), &e)))
}

/// `path` if it is (not a symlink to) one of the files written this session.
pub(crate) fn export_to_open(
    exports: &std::collections::HashSet<PathBuf>,
    path: &std::path::Path,
) -> Result<PathBuf, Error> {
    let refused = || {
        Error::invalid_input(format!("{} is not an export ChatVault wrote", path.display()))
            .with_hint("ChatVault opens only the exports it has just written; open other files from your file manager.")
    };
    let meta = std::fs::symlink_metadata(path).map_err(|_| refused())?;
    if !meta.is_file() {
        return Err(refused());
    }
    let canonical = path.canonicalize().map_err(|_| refused())?;
    if exports.contains(&canonical) {
        Ok(canonical)
    } else {
        Err(refused())
    }
}

#[tauri::command]
pub async fn library_conversations(state: State<'_, AppState>) -> CmdResult<Vec<Conversation>> {
    let paths = state.paths.clone();
    blocking(move || Library::open(&paths)?.conversations()).await
}

#[tauri::command]
pub async fn library_messages(
    state: State<'_, AppState>,
    conversation: String,
    search: Option<String>,
) -> CmdResult<Vec<Message>> {
    let paths = state.paths.clone();
    blocking(move || {
        Library::open(&paths)?.messages(&conversation, search.as_deref().filter(|s| !s.is_empty()))
    })
    .await
}
