//! Wizard steps 1 and 2: find and open a chat store, list its conversations, read messages.

use crate::ipc::{DemoStoreInfo, FoundStoreKey, KeyProgress, MessageRequest, OpenedStore};
use crate::{AppState, OpenStore};
use chatvault::error::{Error, WireError};
use chatvault::model::{Message, Selection};
use chatvault::store::discover::{self, SearchRoots, StoreInfo};
use chatvault::store::{self, demo, MessageQuery, SelectionCount, StoreKey};
use std::path::PathBuf;
use tauri::{AppHandle, Emitter, State};

type CmdResult<T> = Result<T, WireError>;

/// Runs blocking core work off the UI thread.
pub(crate) async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, Error> + Send + 'static,
) -> CmdResult<T> {
    tauri::async_runtime::spawn_blocking(f)
        .await
        .map_err(|e| WireError::from(Error::internal(format!("background task failed: {e}"))))?
        .map_err(WireError::from)
}

/// Runs blocking core work off the UI thread with the app's state: for a key derivation, a
/// prune, many files written, or a chat store held locked while a repository answers.
pub(crate) async fn blocking_with<T: Send + 'static>(
    state: &AppState,
    f: impl FnOnce(&AppState) -> Result<T, Error> + Send + 'static,
) -> CmdResult<T> {
    let state = state.clone();
    blocking(move || f(&state)).await
}

#[tauri::command]
pub async fn list_stores(extra: Vec<String>) -> CmdResult<Vec<StoreInfo>> {
    blocking(move || {
        Ok(discover::discover(&SearchRoots::of_user(
            extra.into_iter().map(PathBuf::from).collect(),
        )))
    })
    .await
}

/// Opens the store and lists its conversations. The key is checked at once; with no key given
/// the one remembered in the keychain is tried.
#[tauri::command]
pub async fn open_store(
    state: State<'_, AppState>,
    path: String,
    key: Option<String>,
    remember: bool,
) -> CmdResult<OpenedStore> {
    blocking_with(&state, move |s| {
        let path = PathBuf::from(path);
        let key = key
            .filter(|k| !k.trim().is_empty())
            .map(|k| StoreKey::parse(&k))
            .transpose()?;
        open_into(s, path, key, remember)
    })
    .await
}

/// Opens the store with `key` (else the remembered one), remembers the key if asked, and makes
/// it the wizard's store; the page may no longer ask for the previous store's media.
fn open_into(
    state: &AppState,
    path: PathBuf,
    key: Option<StoreKey>,
    remember: bool,
) -> Result<OpenedStore, Error> {
    let (opened, key) = store::open_with_keychain(&path, key, state.keychain.as_ref(), remember)?;
    let conversations = opened.conversations()?;
    let info = OpenedStore {
        variant: opened.variant(),
        account_id: opened.account_id().map(str::to_string),
        path: path.display().to_string(),
        conversations,
    };
    if let Ok(mut m) = state.media.lock() {
        m.clear();
    }
    *OpenStore::lock(&state.store)? = Some(OpenStore {
        store: opened,
        path,
        key,
    });
    Ok(info)
}

/// Find my key (the user agreed in the UI): finds the store's key in the running WeChat (or
/// the Android backup), then opens the store with it. Progress arrives as `key-progress`
/// events on `job_id`; the key itself never reaches the UI.
#[tauri::command]
pub async fn find_store_key<R: tauri::Runtime>(
    app: AppHandle<R>,
    state: State<'_, AppState>,
    job_id: String,
    path: String,
    remember: bool,
) -> CmdResult<FoundStoreKey> {
    blocking_with(&state, move |s| {
        let path = PathBuf::from(path);
        let progress = |p: chatvault::keyfind::FindProgress| {
            let _ = app.emit(
                "key-progress",
                KeyProgress {
                    job_id: job_id.clone(),
                    progress: p,
                },
            );
        };
        let found = chatvault::keyfind::find_key(
            &path,
            None,
            &[],
            &chatvault::keyfind::Options::default(),
            &progress,
        )?;
        let store = open_into(s, path, Some(found.key), remember)?;
        Ok(FoundStoreKey {
            found: found.report,
            store,
        })
    })
    .await
}

#[tauri::command]
pub async fn load_messages(
    state: State<'_, AppState>,
    request: MessageRequest,
) -> CmdResult<Vec<Message>> {
    let slot = state.store.clone();
    let media = state.media.clone();
    blocking(move || {
        let guard = OpenStore::lock(&slot)?;
        let opened = guard.as_ref().ok_or_else(OpenStore::none_open)?;
        let query = MessageQuery {
            since: request.since,
            until: request.until,
            search: request.search,
            limit: request.limit.map(|n| n as usize),
        };
        let messages = opened.store.messages(&request.conversation_id, &query)?;
        // The page may now ask for these messages' media (by conversation, message, index).
        media
            .lock()
            .map_err(|_| Error::internal("media lock poisoned"))?
            .remember(&request.conversation_id, &messages);
        Ok(messages)
    })
    .await
}

#[tauri::command]
pub async fn count_selection(
    state: State<'_, AppState>,
    selection: Selection,
) -> CmdResult<SelectionCount> {
    let slot = state.store.clone();
    blocking(move || {
        let guard = OpenStore::lock(&slot)?;
        let opened = guard.as_ref().ok_or_else(OpenStore::none_open)?;
        store::count_selection(opened.store.as_ref(), &selection)
    })
    .await
}

/// Writes the demo store into the app's data folder (once) and says how to open it.
#[tauri::command]
pub async fn create_demo_store(state: State<'_, AppState>) -> CmdResult<DemoStoreInfo> {
    let dir = state.paths.data_dir.join("demo");
    blocking(move || {
        let d = demo::write(&dir, store::Variant::WechatWin3, 2000)?;
        Ok(DemoStoreInfo {
            path: d.path.display().to_string(),
            key: d.key.unwrap_or_default(),
        })
    })
    .await
}
