//! The commands the UI may call (each also needs a permission in capabilities/default.json).

pub mod forget;
pub mod home;
pub mod pick;
pub mod repo;
pub mod restore;
pub mod schedule;
pub mod settings;
pub mod store;

/// Waits for async core work from blocking work (`store::blocking`), on the app's runtime.
/// For commands that must stay off the async workers: a key derivation, a long verify, or a
/// chat store held locked while the repository answers.
pub(crate) fn wait<F: std::future::Future>(work: F) -> F::Output {
    tokio::runtime::Handle::current().block_on(work)
}

use crate::ipc::AppInfo;
use crate::AppState;
use chatvault::error::WireError;
use chatvault::local::settings::{Language, Settings};
use tauri::State;

type CmdResult<T> = Result<T, WireError>;

#[tauri::command]
pub fn app_info(state: State<'_, AppState>) -> CmdResult<AppInfo> {
    let os_locale = sys_locale::get_locale().unwrap_or_else(|| "en-US".into());
    let settings = Settings::load(&state.paths)?;
    Ok(AppInfo {
        version: chatvault::VERSION.to_string(),
        commit: chatvault::COMMIT.chars().take(12).collect(),
        format_version: chatvault::FORMAT_VERSION,
        language: settings
            .language
            .unwrap_or_else(|| Language::from_locale(&os_locale)),
        os_locale,
    })
}

#[tauri::command]
pub fn get_settings(state: State<'_, AppState>) -> CmdResult<Settings> {
    Ok(Settings::load(&state.paths)?)
}

#[tauri::command]
pub fn set_settings(state: State<'_, AppState>, settings: Settings) -> CmdResult<Settings> {
    let before = Settings::load(&state.paths).unwrap_or_default();
    settings.save(&state.paths)?;
    if before.autostart != settings.autostart {
        let exe = std::env::current_exe()
            .map_err(|e| WireError::from(chatvault::Error::io("finding this program", &e)))?;
        chatvault::schedule::autostart::set(settings.autostart, &exe)?;
    }
    Ok(settings)
}

#[cfg(test)]
mod repo_tests;

#[cfg(test)]
mod tests {
    use crate::{with_commands, AppState};
    use chatvault::local::paths::AppPaths;
    use serde_json::json;
    use tauri::ipc::{CallbackFn, InvokeBody};
    use tauri::test::{get_ipc_response, mock_builder, mock_context, noop_assets, INVOKE_KEY};
    use tauri::webview::InvokeRequest;
    use tauri::WebviewWindowBuilder;

    pub(super) fn invoke(
        webview: &tauri::WebviewWindow<tauri::test::MockRuntime>,
        cmd: &str,
        body: serde_json::Value,
    ) -> Result<serde_json::Value, serde_json::Value> {
        get_ipc_response(
            webview,
            InvokeRequest {
                cmd: cmd.into(),
                callback: CallbackFn(0),
                error: CallbackFn(1),
                url: webview.url().unwrap(),
                body: InvokeBody::from(body),
                headers: Default::default(),
                invoke_key: INVOKE_KEY.to_string(),
            },
        )
        .map(|b| b.deserialize::<serde_json::Value>().unwrap())
    }

    #[test]
    fn settings_commands_round_trip_and_errors_have_the_wire_shape() {
        let dir = tempfile::tempdir().unwrap();
        let paths = AppPaths::under(dir.path());
        let app = with_commands(mock_builder(), AppState::new(paths.clone()))
            .build(mock_context(noop_assets()))
            .unwrap();
        let webview = WebviewWindowBuilder::new(&app, "main", Default::default())
            .build()
            .unwrap();

        let saved = invoke(
            &webview,
            "set_settings",
            json!({"settings": {"language": "zh-CN", "theme": "dark"}}),
        )
        .unwrap();
        assert_eq!(saved["language"], "zh-CN");
        let info = invoke(&webview, "app_info", json!({})).unwrap();
        assert_eq!(info["language"], "zh-CN");
        assert_eq!(info["version"], chatvault::VERSION);
        let short: String = chatvault::COMMIT.chars().take(12).collect();
        assert_eq!(info["commit"], short.as_str());
        assert_eq!(info["format_version"], 1);

        std::fs::write(paths.settings_file(), "language = 7").unwrap();
        let err = invoke(&webview, "get_settings", json!({})).unwrap_err();
        assert_eq!(err["code"], "config_invalid");
        assert!(err["message"].as_str().unwrap().contains("settings.toml"));
        assert!(err["hint"].is_string());
    }

    fn mock_app(
        paths: &AppPaths,
    ) -> (
        tauri::App<tauri::test::MockRuntime>,
        tauri::WebviewWindow<tauri::test::MockRuntime>,
    ) {
        mock_app_with(AppState::new(paths.clone()))
    }

    /// The app with its commands on tauri's mock runtime, and its main window.
    pub(super) fn mock_app_with(
        state: AppState,
    ) -> (
        tauri::App<tauri::test::MockRuntime>,
        tauri::WebviewWindow<tauri::test::MockRuntime>,
    ) {
        let app = with_commands(mock_builder(), state)
            .build(mock_context(noop_assets()))
            .unwrap();
        let webview = WebviewWindowBuilder::new(&app, "main", Default::default())
            .build()
            .unwrap();
        (app, webview)
    }

    #[test]
    fn open_path_refuses_files_chatvault_did_not_export_and_symlinks_to_exports() {
        use tauri::Manager;
        let dir = tempfile::tempdir().unwrap();
        let (app, webview) = mock_app(&AppPaths::under(dir.path()));
        let other = dir.path().join("other.html");
        std::fs::write(&other, "<p>not ours</p>").unwrap();
        for path in [
            other.to_str().unwrap(),
            "/etc/passwd",
            "/usr/bin/xterm",
            "https://example.com",
        ] {
            let err = invoke(&webview, "open_path", json!({ "path": path })).unwrap_err();
            assert_eq!(err["code"], "invalid_input", "{path}");
            assert!(err["hint"].is_string());
        }
        // A symlink to an export is not the export.
        let export = dir.path().join("index.html");
        std::fs::write(&export, "<p>ours</p>").unwrap();
        let state = app.state::<AppState>();
        state
            .exports
            .lock()
            .unwrap()
            .insert(export.canonicalize().unwrap());
        #[cfg(unix)]
        {
            let link = dir.path().join("link.html");
            std::os::unix::fs::symlink(&export, &link).unwrap();
            let err = invoke(&webview, "open_path", json!({ "path": link })).unwrap_err();
            assert_eq!(err["code"], "invalid_input");
        }
        let exports = state.exports.lock().unwrap();
        assert_eq!(
            super::restore::export_to_open(&exports, &export).unwrap(),
            export.canonicalize().unwrap()
        );
    }

    #[test]
    fn forgotten_conversations_need_an_open_store_and_skip_repositories_that_cannot_be_opened() {
        let dir = tempfile::tempdir().unwrap();
        let paths = AppPaths::under(dir.path());
        let (_app, webview) = mock_app(&paths);
        let err = invoke(&webview, "forgotten_conversations", json!({})).unwrap_err();
        assert_eq!(err["code"], "invalid_input");
        assert!(err["hint"].is_string());

        let demo = invoke(&webview, "create_demo_store", json!({})).unwrap();
        invoke(
            &webview,
            "open_store",
            json!({"path": demo["path"], "key": demo["key"], "remember": false}),
        )
        .unwrap();
        // A repository this computer knows whose folder is gone: skipped, quietly.
        let gone = dir.path().join("gone");
        chatvault::repo::access::remember_repo(
            &paths,
            &format!("file://{}", gone.display()),
            [7; 16],
        )
        .unwrap();
        let list = invoke(&webview, "forgotten_conversations", json!({})).unwrap();
        assert_eq!(list, json!([]));
        assert!(
            !gone.exists(),
            "looking does not create a missing target folder"
        );
    }

    #[test]
    fn forgetting_purges_nothing_when_the_repository_cannot_be_opened() {
        // The library and the exports are purged only after the repository forgot the
        // conversation: a failure there leaves the local copies alone.
        let dir = tempfile::tempdir().unwrap();
        let paths = AppPaths::under(dir.path());
        let mut lib = chatvault::local::library::Library::open(&paths).unwrap();
        lib.add(&[chatvault::repo::restore::RestoredConversation {
            id: "wxid_a".into(),
            title: "A".into(),
            kind: chatvault::model::ConversationKind::Direct,
            messages: vec![],
        }])
        .unwrap();
        drop(lib);
        let (_app, webview) = mock_app(&paths);
        let url = format!("file://{}", dir.path().join("nowhere").display());
        let err = invoke(
            &webview,
            "forget_conversation",
            json!({"url": url, "conversation": "wxid_a", "purgeLibrary": true, "purgeExports": true}),
        )
        .unwrap_err();
        assert!(err["code"].is_string() && err["message"].is_string());
        let lib = chatvault::local::library::Library::open(&paths).unwrap();
        assert_eq!(lib.conversations().unwrap().len(), 1);
    }

    #[test]
    fn the_recovery_code_is_saved_to_a_new_private_file_and_never_over_another() {
        let dir = tempfile::tempdir().unwrap();
        let (_app, webview) = mock_app(&AppPaths::under(dir.path()));
        let code = chatvault::crypto::recovery::RecoveryCode::generate()
            .display()
            .expose()
            .clone();
        let existing = dir.path().join("notes.txt");
        std::fs::write(&existing, "my notes").unwrap();
        let err = invoke(
            &webview,
            "save_recovery_code",
            json!({ "code": code, "path": existing }),
        )
        .unwrap_err();
        assert_eq!(err["code"], "io");
        assert!(err["hint"].is_string());
        assert_eq!(std::fs::read_to_string(&existing).unwrap(), "my notes");

        let fresh = dir.path().join("code.txt");
        invoke(
            &webview,
            "save_recovery_code",
            json!({ "code": code, "path": fresh }),
        )
        .unwrap();
        assert!(std::fs::read_to_string(&fresh).unwrap().contains(&code));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&fresh).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }
}
