//! The ChatVault desktop shell. It holds state, registers commands and forwards events; all
//! behaviour lives in the `chatvault` core. Each command is a short adapter: take state, call
//! the core, map the error to the `{code, message, hint}` wire shape.
#![forbid(unsafe_code)]

#[cfg(test)]
mod command_table;
mod commands;
pub mod ipc;
pub mod media;
mod tray;

use chatvault::local::paths::AppPaths;
use chatvault::platform::keychain::{Keychain, OsKeychain};
use chatvault::run::job::Cancel;
use chatvault::store::{ChatStore, StoreKey};
use std::collections::{HashMap, HashSet};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use tauri::Manager;

/// State shared by all commands. Its parts are shared (`Arc`), so a clone is cheap and sees the
/// same store, jobs and keychain.
#[derive(Clone)]
pub struct AppState {
    pub paths: AppPaths,
    /// Where repository keys, store keys and target credentials are kept: the OS keychain in
    /// the app, another one in tests. Every command asks this one.
    pub keychain: Arc<dyn Keychain>,
    /// The chat store open in the wizard.
    pub store: Arc<Mutex<Option<OpenStore>>>,
    /// Cancellation flags of running jobs, by the id the UI chose.
    pub jobs: Arc<Mutex<HashMap<String, Cancel>>>,
    /// Scheduled runs wait until then (the tray's "Pause").
    pub paused_until: Arc<Mutex<Option<jiff::Timestamp>>>,
    /// Recovery code changes waiting for the user to have the new code, by target URL: until
    /// then the old code keeps working.
    pub rotations: Arc<Mutex<HashMap<String, chatvault::repo::access::PendingRotation>>>,
    /// The export files `restore_selection` wrote in this session (canonical paths): the only
    /// files `open_path` opens.
    pub exports: Arc<Mutex<HashSet<PathBuf>>>,
    /// Messages of the open store whose media the page may ask for (`chatvault-media:`).
    pub media: Arc<Mutex<media::MediaIndex>>,
}

/// A store opened in the wizard, with what a backup of it needs.
pub struct OpenStore {
    pub store: Box<dyn ChatStore>,
    pub path: PathBuf,
    pub key: Option<StoreKey>,
}

impl OpenStore {
    /// The wizard's store slot, locked.
    pub(crate) fn lock(
        slot: &Mutex<Option<OpenStore>>,
    ) -> Result<std::sync::MutexGuard<'_, Option<OpenStore>>, chatvault::Error> {
        slot.lock()
            .map_err(|_| chatvault::Error::internal("store lock poisoned"))
    }

    /// The error of a command that needs an open store when none is.
    pub(crate) fn none_open() -> chatvault::Error {
        chatvault::Error::invalid_input("no chat store is open").with_hint("Open a store first.")
    }
}

impl AppState {
    /// Opens the repository at `url` with this computer's key for it.
    pub(crate) async fn open_repo(&self, url: &str) -> chatvault::Result<chatvault::repo::Repo> {
        chatvault::repo::access::open_url(url, self.keychain.as_ref(), &self.paths).await
    }

    /// The app's state, with the OS keychain.
    pub fn new(paths: AppPaths) -> Self {
        chatvault::store::sqlite::keep_derived_keys_in(Box::new(OsKeychain::default()));
        Self::with_keychain(paths, Arc::new(OsKeychain::default()))
    }

    pub fn with_keychain(paths: AppPaths, keychain: Arc<dyn Keychain>) -> Self {
        AppState {
            paths,
            keychain,
            store: Arc::new(Mutex::new(None)),
            jobs: Arc::new(Mutex::new(HashMap::new())),
            paused_until: Arc::new(Mutex::new(None)),
            rotations: Arc::new(Mutex::new(HashMap::new())),
            exports: Arc::new(Mutex::new(HashSet::new())),
            media: Arc::new(Mutex::new(media::MediaIndex::default())),
        }
    }
}

/// Adds ChatVault's state and commands to a builder (the real one, or tauri's mock in tests).
pub fn with_commands<R: tauri::Runtime>(
    builder: tauri::Builder<R>,
    state: AppState,
) -> tauri::Builder<R> {
    media::register(builder)
        .manage(state)
        .invoke_handler(tauri::generate_handler![
            commands::app_info,
            commands::get_settings,
            commands::set_settings,
            commands::store::list_stores,
            commands::store::open_store,
            commands::store::find_store_key,
            commands::pick::pick_path,
            commands::store::load_messages,
            commands::store::create_demo_store,
            commands::store::count_selection,
            commands::repo::test_target,
            commands::repo::repo_status,
            commands::repo::create_repo,
            commands::repo::unlock_repo,
            commands::repo::start_backup,
            commands::repo::cancel_job,
            commands::repo::save_profile,
            commands::repo::choose_recovery_code_file,
            commands::repo::save_recovery_code,
            commands::settings::default_backup_folder,
            commands::schedule::schedule_overview,
            commands::schedule::set_schedule,
            commands::schedule::pause_schedules,
            commands::home::home_status,
            commands::home::backup_contents,
            commands::home::pause_profile,
            commands::home::preview_schedule,
            commands::settings::app_paths,
            commands::settings::repositories_overview,
            commands::settings::show_recovery_code,
            commands::settings::rotate_recovery_code,
            commands::settings::finish_recovery_code_rotation,
            commands::settings::cancel_recovery_code_rotation,
            commands::settings::verify_repository,
            commands::settings::forget_credentials,
            commands::repo::run_history,
            commands::repo::list_profiles,
            commands::repo::run_profile,
            commands::restore::known_targets,
            commands::restore::list_snapshots,
            commands::restore::snapshot_conversations,
            commands::restore::preview_backup,
            commands::restore::restore_selection,
            commands::restore::open_path,
            commands::restore::library_conversations,
            commands::restore::library_messages,
            commands::forget::forget_conversation,
            commands::forget::forgotten_conversations,
            commands::forget::include_again,
        ])
}

pub fn run() {
    let paths = match AppPaths::from_os() {
        Ok(p) => p,
        Err(e) => {
            eprintln!("ChatVault cannot start: {e}");
            std::process::exit(1);
        }
    };
    // ChatVault's own folders are private before anything is written into them.
    if let Err(e) = paths.create_private() {
        eprintln!("ChatVault cannot start: {e}");
        std::process::exit(1);
    }
    chatvault::local::logs::append(
        &paths,
        &format!(
            "{} app started, version {}",
            jiff::Timestamp::now(),
            chatvault::version_line()
        ),
    );
    let state = AppState::new(paths.clone());
    let log_paths = paths.clone();
    let paused = state.paused_until.clone();
    let keychain = state.keychain.clone();
    let builder = with_commands(tauri::Builder::default(), state)
        .plugin(tauri_plugin_notification::init())
        .plugin(tauri_plugin_dialog::init())
        .setup(move |app| {
            // A desktop without a tray host still gets the window; the tray is a convenience.
            if let Err(e) = tray::install(app.handle()) {
                eprintln!("ChatVault: no tray icon ({e})");
                chatvault::local::logs::append(
                    &paths,
                    &format!("{} no tray icon: {e}", jiff::Timestamp::now()),
                );
            }
            commands::schedule::spawn_loop(
                app.handle().clone(),
                paths.clone(),
                paused.clone(),
                keychain.clone(),
            );
            // Started at login: stay in the tray until the user opens the window.
            if std::env::args().any(|a| a == chatvault::schedule::autostart::HIDDEN_ARG) {
                if let Some(w) = app.get_webview_window("main") {
                    let _ = w.hide();
                }
            }
            Ok(())
        });
    if let Err(e) = builder.run(tauri::generate_context!()) {
        eprintln!("ChatVault stopped with an error: {e}");
        chatvault::local::logs::append(
            &log_paths,
            &format!("{} app stopped with an error: {e}", jiff::Timestamp::now()),
        );
        std::process::exit(1);
    }
}
