//! The ChatVault desktop shell. It holds state, registers commands and forwards events; all
//! behaviour lives in the `chatvault` core. Each command is a short adapter: take state, call
//! the core, map the error to the `{code, message, hint}` wire shape.
#![forbid(unsafe_code)]

mod commands;
pub mod ipc;

use chatvault::paths::AppPaths;

/// State shared by all commands.
pub struct AppState {
    pub paths: AppPaths,
}

/// Adds ChatVault's state and commands to a builder (the real one, or tauri's mock in tests).
pub fn with_commands<R: tauri::Runtime>(
    builder: tauri::Builder<R>,
    state: AppState,
) -> tauri::Builder<R> {
    builder
        .manage(state)
        .invoke_handler(tauri::generate_handler![
            commands::app_info,
            commands::get_settings,
            commands::set_settings,
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
    if let Err(e) =
        with_commands(tauri::Builder::default(), AppState { paths }).run(tauri::generate_context!())
    {
        eprintln!("ChatVault stopped with an error: {e}");
        std::process::exit(1);
    }
}
