//! The repository, profile and schedule commands driven through the IPC layer as the
//! window calls them (tauri's mock runtime), against a local target and a keychain of the
//! test's own: the one `AppState` holds, so these tests never touch the user's keychain and
//! show that every command asks it.

use super::tests::{invoke, mock_app_with};
use crate::AppState;
use chatvault::crypto::secret::Secret;
use chatvault::local::paths::AppPaths;
use chatvault::platform::keychain::Keychain;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// A keychain in memory.
#[derive(Default)]
struct MemoryKeychain(Mutex<HashMap<String, String>>);

impl MemoryKeychain {
    fn len(&self) -> usize {
        self.0.lock().unwrap().len()
    }
}

impl Keychain for MemoryKeychain {
    fn get(&self, account: &str) -> chatvault::Result<Option<Secret<String>>> {
        Ok(self
            .0
            .lock()
            .unwrap()
            .get(account)
            .cloned()
            .map(Secret::new))
    }

    fn set(&self, account: &str, secret: &Secret<String>) -> chatvault::Result<()> {
        self.0
            .lock()
            .unwrap()
            .insert(account.into(), secret.expose().clone());
        Ok(())
    }

    fn delete(&self, account: &str) -> chatvault::Result<bool> {
        Ok(self.0.lock().unwrap().remove(account).is_some())
    }
}

/// A mock app with a keychain of its own and a local target, in a temporary folder.
struct Fixture {
    dir: tempfile::TempDir,
    paths: AppPaths,
    url: String,
    keychain: Arc<MemoryKeychain>,
    _app: tauri::App<tauri::test::MockRuntime>,
    webview: tauri::WebviewWindow<tauri::test::MockRuntime>,
}

impl Fixture {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let paths = AppPaths::under(&dir.path().join("app"));
        let url = format!("file://{}", dir.path().join("target").display());
        let keychain = Arc::new(MemoryKeychain::default());
        let (app, webview) = app(&paths, &keychain);
        Fixture {
            dir,
            paths,
            url,
            keychain,
            _app: app,
            webview,
        }
    }

    /// The command's result; a test failure when it returns an error.
    fn call(&self, cmd: &str, args: Value) -> Value {
        invoke(&self.webview, cmd, args).unwrap_or_else(|e| panic!("{cmd}: {e}"))
    }

    /// Creates the repository at the target and opens the demo store; returns the store.
    fn repo_and_demo_store(&self) -> Value {
        self.call("create_repo", json!({ "url": self.url }));
        let demo = self.call("create_demo_store", json!({}));
        self.call(
            "open_store",
            json!({"path": demo["path"], "key": demo["key"], "remember": false}),
        )
    }
}

fn app(
    paths: &AppPaths,
    keychain: &Arc<MemoryKeychain>,
) -> (
    tauri::App<tauri::test::MockRuntime>,
    tauri::WebviewWindow<tauri::test::MockRuntime>,
) {
    mock_app_with(AppState::with_keychain(paths.clone(), keychain.clone()))
}

#[test]
fn a_repository_is_created_backed_up_verified_restored_and_its_code_changed_through_the_commands() {
    let f = Fixture::new();
    let (url, keychain, webview) = (&f.url, &f.keychain, &f.webview);
    let call = |cmd: &str, args: Value| f.call(cmd, args);

    call(
        "test_target",
        json!({"url": url, "credentials": null, "remember": false}),
    );
    assert_eq!(
        call("repo_status", json!({ "url": url })),
        json!({"exists": false, "unlocked": false})
    );
    let created = call("create_repo", json!({ "url": url }));
    let code = created["recovery_code"].as_str().unwrap().to_string();
    assert_eq!(created["repo_id"].as_str().unwrap().len(), 32);
    assert!(
        keychain.len() >= 2,
        "the key and the recovery code are in the state's keychain"
    );
    assert_eq!(
        call("repo_status", json!({ "url": url })),
        json!({"exists": true, "unlocked": true})
    );
    assert_eq!(
        call("show_recovery_code", json!({ "url": url })),
        json!(code)
    );
    let overview = call("repositories_overview", json!({}));
    assert_eq!(overview[0]["url"], url.as_str());
    assert_eq!(overview[0]["key_in_keychain"], true);
    assert_eq!(overview[0]["credentials_saved"], false);

    // Back up two conversations of the demo store.
    let demo = call("create_demo_store", json!({}));
    let opened = call(
        "open_store",
        json!({"path": demo["path"], "key": demo["key"], "remember": false}),
    );
    let chosen: Vec<Value> = opened["conversations"].as_array().unwrap()[..2]
        .iter()
        .map(|c| json!({"id": c["id"], "since": null, "until": null}))
        .collect();
    let selection = json!({"all": false, "conversations": chosen, "since": null, "until": null});
    let report = call(
        "start_backup",
        json!({"jobId": "job-1", "url": url, "selection": selection}),
    );
    assert_eq!(report["conversations"], 2);
    assert_eq!(
        call("cancel_job", json!({"jobId": "job-1"})),
        false,
        "a finished job is no longer cancellable"
    );

    let snapshots = call("list_snapshots", json!({ "url": url }));
    assert_eq!(snapshots.as_array().unwrap().len(), 1);
    let snapshot = snapshots[0]["id"].as_str().unwrap().to_string();
    let convs = call(
        "snapshot_conversations",
        json!({"url": url, "snapshot": snapshot}),
    );
    assert_eq!(convs.as_array().unwrap().len(), 2);
    let conv = convs[0]["id"].as_str().unwrap().to_string();
    // `since` and `until` left out: optional arguments may be (commands.ts marks them so).
    let preview = call(
        "preview_backup",
        json!({"url": url, "snapshot": snapshot, "conversation": conv}),
    );
    assert_eq!(
        preview.as_array().unwrap().len() as u64,
        convs[0]["message_count"].as_u64().unwrap()
    );
    assert_eq!(
        call("backup_contents", json!({ "url": url }))["snapshots"],
        1
    );
    let verified = call("verify_repository", json!({"url": url, "readData": true}));
    assert_eq!(verified["errors"], json!([]));
    assert_eq!(verified["snapshots"], 1);

    let export = f.dir.path().join("export");
    let restored = call(
        "restore_selection",
        json!({
            "url": url, "snapshot": snapshot, "conversations": [conv], "since": null,
            "until": null, "toLibrary": true, "exportDir": export, "formats": ["html", "json"],
        }),
    );
    assert_eq!(restored["conversations"], 1);
    assert!(export.join("index.html").is_file());
    assert_eq!(
        restored["index_html"],
        export.join("index.html").display().to_string()
    );
    let library = call("library_conversations", json!({}));
    assert_eq!(library[0]["id"], conv.as_str());
    let err = invoke(
        webview,
        "restore_selection",
        json!({
            "url": url, "snapshot": snapshot, "conversations": [conv], "toLibrary": false,
            "exportDir": export, "formats": ["pdf"],
        }),
    )
    .unwrap_err();
    assert_eq!(err["code"], "invalid_input");

    // Changing the recovery code: the new one is shown, and kept only once the user has it.
    let err = invoke(
        webview,
        "finish_recovery_code_rotation",
        json!({ "url": url }),
    )
    .unwrap_err();
    assert_eq!(err["code"], "invalid_input", "no change is waiting");
    let new_code = call("rotate_recovery_code", json!({ "url": url }));
    assert_ne!(new_code, json!(code));
    assert_eq!(
        call("show_recovery_code", json!({ "url": url })),
        json!(code)
    );
    call("finish_recovery_code_rotation", json!({ "url": url }));
    assert_eq!(call("show_recovery_code", json!({ "url": url })), new_code);
    let err = invoke(
        webview,
        "cancel_recovery_code_rotation",
        json!({ "url": url }),
    )
    .unwrap_err();
    assert_eq!(err["code"], "invalid_input");
}

#[test]
fn another_computer_unlocks_the_repository_with_the_recovery_code_into_its_own_keychain() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("file://{}", dir.path().join("target").display());
    let first = Arc::new(MemoryKeychain::default());
    let (_a, webview_a) = app(&AppPaths::under(&dir.path().join("a")), &first);
    let created = invoke(&webview_a, "create_repo", json!({ "url": url })).unwrap();
    let code = created["recovery_code"].as_str().unwrap();

    let second = Arc::new(MemoryKeychain::default());
    let (_b, webview_b) = app(&AppPaths::under(&dir.path().join("b")), &second);
    assert_eq!(
        invoke(&webview_b, "repo_status", json!({ "url": url })).unwrap(),
        json!({"exists": true, "unlocked": false})
    );
    let err = invoke(&webview_b, "list_snapshots", json!({ "url": url })).unwrap_err();
    assert_eq!(err["code"], "key_missing");
    assert!(err["hint"].is_string());

    let other = chatvault::crypto::recovery::RecoveryCode::generate()
        .display()
        .expose()
        .clone();
    let err = invoke(
        &webview_b,
        "unlock_repo",
        json!({"url": url, "code": other}),
    )
    .unwrap_err();
    assert_eq!(err["code"], "recovery_code_wrong");
    assert_eq!(second.len(), 0);

    invoke(&webview_b, "unlock_repo", json!({"url": url, "code": code})).unwrap();
    assert!(second.len() >= 1, "the key went into this app's keychain");
    assert_eq!(
        invoke(&webview_b, "repo_status", json!({ "url": url })).unwrap(),
        json!({"exists": true, "unlocked": true})
    );
    assert_eq!(
        invoke(&webview_b, "list_snapshots", json!({ "url": url })).unwrap(),
        json!([])
    );
    assert_eq!(
        invoke(&webview_b, "forget_credentials", json!({ "url": url })).unwrap(),
        json!(false),
        "a local folder has no saved credentials"
    );
}

#[test]
fn a_saved_profile_runs_with_the_store_key_the_state_keychain_remembered_and_its_schedule_is_set() {
    let f = Fixture::new();
    let (paths, url, keychain, webview) = (&f.paths, &f.url, &f.keychain, &f.webview);
    let call = |cmd: &str, args: Value| f.call(cmd, args);
    let opened = f.repo_and_demo_store();
    let first = opened["conversations"][0]["id"].clone();
    let selection = json!({
        "all": false, "conversations": [{"id": first, "since": null, "until": null}],
        "since": null, "until": null,
    });
    let before = keychain.len();
    call(
        "save_profile",
        json!({"name": "home", "url": url, "selection": selection}),
    );
    assert_eq!(
        keychain.len(),
        before + 1,
        "the store key, for runs nobody types it for"
    );
    let profiles = call("list_profiles", json!({}));
    assert_eq!(profiles[0]["name"], "home");
    assert_eq!(profiles[0]["profile"]["conversations"], json!([first]));

    // The run reads the store with the remembered key (none is open for it).
    let report = call("run_profile", json!({"name": "home"}));
    assert_eq!(report["conversations"], 1);
    let history = call("run_history", json!({}));
    assert_eq!(history[0]["profile"], "home");
    assert_eq!(history[0]["ok"], true);
    let status = call("home_status", json!({}));
    assert_eq!(status[0]["name"], "home");
    assert_eq!(status[0]["key"], "in_keychain");

    // Schedule: a bad rule is refused; the guards change only when given.
    let err = invoke(
        webview,
        "set_schedule",
        json!({"name": "home", "rule": "now and then"}),
    )
    .unwrap_err();
    assert!(err["hint"].is_string(), "{err}");
    call(
        "set_schedule",
        json!({"name": "home", "rule": "every 6h", "skipOnBattery": true}),
    );
    call(
        "set_schedule",
        json!({"name": "home", "rule": "daily 02:30"}),
    );
    let profile = chatvault::local::profile::get(paths, "home").unwrap();
    assert_eq!(profile.schedule.as_deref(), Some("daily 02:30"));
    assert!(profile.skip_on_battery && !profile.skip_on_metered);
    let overview = call("schedule_overview", json!({}));
    assert_eq!(overview[0]["rule"], "daily 02:30");
    let next: jiff::Timestamp = overview[0]["next_run"].as_str().unwrap().parse().unwrap();
    let preview = call("preview_schedule", json!({"rule": "daily 02:30"}));
    let runs: Vec<jiff::Timestamp> = preview
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t.as_str().unwrap().parse().unwrap())
        .collect();
    assert_eq!(runs.len(), 3);
    assert!(runs[0] < runs[1] && runs[1] < runs[2]);

    // Pausing every schedule moves the next run to the end of the pause.
    let until = next + jiff::SignedDuration::from_hours(24 * 3);
    call("pause_schedules", json!({ "until": until.to_string() }));
    let overview = call("schedule_overview", json!({}));
    assert_eq!(overview[0]["next_run"], until.to_string());
    call("pause_schedules", json!({}));
    call("pause_profile", json!({"name": "home", "paused": true}));
    assert!(
        chatvault::local::profile::get(paths, "home")
            .unwrap()
            .paused
    );
    assert_eq!(call("home_status", json!({}))[0]["paused"], true);
    // A paused profile runs on no schedule, so the Schedule page shows no next run for it.
    assert_eq!(
        call("schedule_overview", json!({}))[0]["next_run"],
        json!(null)
    );
}

#[test]
fn a_store_key_remembered_in_the_state_keychain_opens_the_store_again_without_typing_it() {
    let f = Fixture::new();
    let (keychain, webview) = (&f.keychain, &f.webview);
    let demo = invoke(webview, "create_demo_store", json!({})).unwrap();
    let wrong = "0".repeat(64);
    let err = invoke(
        webview,
        "open_store",
        json!({"path": demo["path"], "key": wrong, "remember": true}),
    )
    .unwrap_err();
    assert_eq!(err["code"], "store_wrong_key");
    assert_eq!(keychain.len(), 0, "a wrong key is not remembered");
    invoke(
        webview,
        "open_store",
        json!({"path": demo["path"], "key": demo["key"], "remember": true}),
    )
    .unwrap();
    assert_eq!(keychain.len(), 1);
    // No key given (left out): the remembered one is used.
    let opened = invoke(
        webview,
        "open_store",
        json!({"path": demo["path"], "remember": false}),
    )
    .unwrap();
    let conv = &opened["conversations"][0];
    let messages = invoke(
        webview,
        "load_messages",
        json!({"request": {"conversation_id": conv["id"], "limit": 5}}),
    )
    .unwrap();
    assert_eq!(messages.as_array().unwrap().len(), 5);
    let count = invoke(
        webview,
        "count_selection",
        json!({"selection": {
            "all": false, "since": null, "until": null,
            "conversations": [{"id": conv["id"], "since": null, "until": null}],
        }}),
    )
    .unwrap();
    assert_eq!(
        count,
        json!({"conversations": 1, "messages": conv["message_count"]})
    );
}

#[test]
fn a_forgotten_conversation_is_listed_for_the_open_store_and_can_be_included_again() {
    let f = Fixture::new();
    let url = &f.url;
    let call = |cmd: &str, args: Value| f.call(cmd, args);
    let opened = f.repo_and_demo_store();
    let ids: Vec<Value> = opened["conversations"].as_array().unwrap()[..2]
        .iter()
        .map(|c| c["id"].clone())
        .collect();
    let selection = json!({
        "all": false,
        "conversations": ids
            .iter()
            .map(|id| json!({"id": id, "since": null, "until": null}))
            .collect::<Vec<_>>(),
        "since": null, "until": null,
    });
    call(
        "start_backup",
        json!({"jobId": "j", "url": url, "selection": selection}),
    );
    let forgotten = call(
        "forget_conversation",
        json!({"url": url, "conversation": ids[0], "purgeLibrary": true, "purgeExports": true}),
    );
    assert_eq!(forgotten["keys_destroyed"], 1);
    assert_eq!(
        call("forgotten_conversations", json!({})),
        json!([{"id": ids[0], "whole": true, "targets": [url]}])
    );
    assert_eq!(
        call(
            "include_again",
            json!({"conversation": ids[0], "targets": [url]})
        ),
        json!(1)
    );
    assert_eq!(call("forgotten_conversations", json!({})), json!([]));
}
