//! Forgetting a conversation from the app: forget and prune in the repository, and on request
//! its copy in the library and the exports ChatVault wrote of it; which conversations of the
//! wizard's open store are forgotten, and including one again.

use super::store::blocking_with;
use super::wait;
use crate::ipc::{ForgetResult, ForgottenInStore};
use crate::{AppState, OpenStore};
use chatvault::error::WireError;
use chatvault::local::library::Library;
use chatvault::repo::access;
use chatvault::repo::maintenance::{self, Forget};
use chatvault::target::TargetSpec;
use tauri::State;

type CmdResult<T> = Result<T, WireError>;

/// Forgets a conversation in the repository at `url` (every snapshot, its key destroyed, its
/// data pruned) and, when asked, deletes it from the library and its exports.
#[tauri::command]
pub async fn forget_conversation(
    state: State<'_, AppState>,
    url: String,
    conversation: String,
    purge_library: bool,
    purge_exports: bool,
) -> CmdResult<ForgetResult> {
    // Off the async workers: the prune rewrites packs, the purge deletes files and rows.
    blocking_with(&state, move |s| {
        let paths = &s.paths;
        let repo = wait(s.open_repo(&url))?;
        let what = Forget::Conversation(conversation.clone());
        let report = wait(maintenance::forget(&repo, &what, true))?;
        let library_messages_deleted = if purge_library {
            crate::media::remove_conversation(paths, &conversation);
            Library::open(paths)?.remove_conversation(&conversation)?
        } else {
            0
        };
        let export_files_deleted = if purge_exports {
            chatvault::export::record::purge(paths, &conversation)?.files_deleted
        } else {
            0
        };
        Ok(ForgetResult {
            snapshots_rewritten: report.snapshots_rewritten,
            snapshots_deleted: report.snapshots_deleted,
            keys_destroyed: report.keys_destroyed,
            packs_deleted: report.prune.map_or(0, |p| p.packs_deleted),
            library_messages_deleted,
            export_files_deleted,
        })
    })
    .await
}

/// The conversations of the wizard's open store that a repository this computer knows (and
/// holds the key of) has forgotten. Repositories that cannot be opened now are skipped.
#[tauri::command]
pub async fn forgotten_conversations(
    state: State<'_, AppState>,
) -> CmdResult<Vec<ForgottenInStore>> {
    // Off the async workers: the chat store stays locked while the repositories answer.
    blocking_with(&state, move |s| {
        if OpenStore::lock(&s.store)?.is_none() {
            return Err(OpenStore::none_open());
        }
        // Open the repositories (network round trips) before taking the store, so that the
        // step's previews are not kept waiting.
        let repos: Vec<_> = access::known_urls(&s.paths)?
            .into_iter()
            .filter(|url| folder_present(url))
            .filter_map(|url| wait(s.open_repo(&url)).ok().map(|r| (url, r)))
            .collect();
        let guard = OpenStore::lock(&s.store)?;
        let opened = guard.as_ref().ok_or_else(OpenStore::none_open)?;
        let mut out: Vec<ForgottenInStore> = Vec::new();
        for (url, repo) in repos {
            let Ok(list) = wait(maintenance::forgotten_in(&repo, opened.store.as_ref())) else {
                continue;
            };
            for f in list {
                match out.iter_mut().find(|o| o.id == f.id) {
                    Some(o) => {
                        o.whole |= f.whole;
                        o.targets.push(url.clone());
                    }
                    None => out.push(ForgottenInStore {
                        id: f.id,
                        whole: f.whole,
                        targets: vec![url.clone()],
                    }),
                }
            }
        }
        Ok(out)
    })
    .await
}

/// False for a local target whose folder is not there (a NAS not mounted, a drive not
/// plugged in): opening it would create the folder (OpenDAL's Fs sets up its root).
fn folder_present(url: &str) -> bool {
    match url.parse::<TargetSpec>() {
        Ok(TargetSpec::Local { path }) => path.is_dir(),
        Ok(_) => true,
        Err(_) => false,
    }
}

/// Takes a conversation of the open store off the forgotten list of each of `targets` (the
/// user confirmed): later backups of it keep it again. Returns how many lists held it.
#[tauri::command]
pub async fn include_again(
    state: State<'_, AppState>,
    conversation: String,
    targets: Vec<String>,
) -> CmdResult<u32> {
    // Off the async workers: the chat store stays locked while the repositories answer.
    blocking_with(&state, move |s| {
        let guard = OpenStore::lock(&s.store)?;
        let opened = guard.as_ref().ok_or_else(OpenStore::none_open)?;
        let mut included = 0;
        for url in targets {
            let repo = wait(s.open_repo(&url))?;
            included += wait(maintenance::include_again_in(
                &repo,
                opened.store.as_ref(),
                std::slice::from_ref(&conversation),
            ))?;
        }
        Ok(included)
    })
    .await
}
