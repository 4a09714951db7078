//! Paths picked with the OS's own file dialogs (Tauri's dialog plugin): the store in step 1,
//! a local target folder in step 3, the export folder in Restore. Typing a path stays possible;
//! this only fills the field.

use super::repo::E2E_IDENTIFIER;
use super::store::blocking;
use chatvault::error::WireError;
use serde::Deserialize;
use tauri::{AppHandle, Manager};
use ts_rs::TS;

/// What the path is for: decides folder or file, the dialog's title and where it starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum PickPurpose {
    /// A chat store's account folder (WeChat).
    StoreFolder,
    /// A chat store's database file (EnMicroMsg.db, chat.db).
    StoreFile,
    /// A local folder or NAS mount to back up into.
    TargetFolder,
    /// Where a restore writes its export.
    ExportFolder,
}

/// Shows the OS dialog and returns the chosen path, or `None` when the user cancelled.
///
/// A native GTK dialog cannot be driven by WebDriver: only in the end-to-end build
/// (identifier `app.chatvault.e2e`) the variable `CHATVAULT_E2E_PICK` stands in for the user's
/// choice.
#[tauri::command]
pub async fn pick_path<R: tauri::Runtime>(
    app: AppHandle<R>,
    purpose: PickPurpose,
) -> Result<Option<String>, WireError> {
    blocking(move || {
        if app.config().identifier == E2E_IDENTIFIER {
            if let Some(p) = std::env::var_os("CHATVAULT_E2E_PICK") {
                return Ok(Some(std::path::PathBuf::from(p).display().to_string()));
            }
        }
        use tauri_plugin_dialog::DialogExt;
        let start = match purpose {
            PickPurpose::StoreFolder | PickPurpose::StoreFile | PickPurpose::ExportFolder => {
                dirs::document_dir().or_else(dirs::home_dir)
            }
            PickPurpose::TargetFolder => dirs::home_dir(),
        };
        let mut dialog = app.dialog().file();
        if let Some(w) = app.get_webview_window("main") {
            dialog = dialog.set_parent(&w);
        }
        if let Some(dir) = start {
            dialog = dialog.set_directory(dir);
        }
        let picked = match purpose {
            PickPurpose::StoreFile => dialog
                .add_filter("Chat database", &["db"])
                .blocking_pick_file(),
            _ => dialog.blocking_pick_folder(),
        };
        Ok(picked
            .and_then(|p| p.into_path().ok())
            .map(|p| p.display().to_string()))
    })
    .await
}
