fn main() {
    // Declaring the app's own commands makes each one need an explicit permission in
    // capabilities/, so the webview can call nothing that is not on the allow-list.
    let manifest = tauri_build::AppManifest::new().commands(&[
        "app_info",
        "get_settings",
        "set_settings",
        "list_stores",
        "open_store",
        "load_messages",
        "create_demo_store",
        "count_selection",
        "test_target",
        "repo_status",
        "create_repo",
        "unlock_repo",
        "start_backup",
        "cancel_job",
        "save_profile",
        "default_backup_folder",
        "schedule_overview",
        "set_schedule",
        "pause_schedules",
        "app_paths",
        "repositories_overview",
        "show_recovery_code",
        "rotate_recovery_code",
        "verify_repository",
        "forget_credentials",
        "run_history",
        "list_profiles",
        "run_profile",
        "known_targets",
        "list_snapshots",
        "snapshot_conversations",
        "preview_backup",
        "restore_selection",
        "open_path",
        "library_conversations",
        "library_messages",
    ]);
    tauri_build::try_build(tauri_build::Attributes::new().app_manifest(manifest))
        .expect("tauri build script failed");
}
