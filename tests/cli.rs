//! The `chatvault` binary as a user runs it.
mod common;

use chatvault::platform::keychain::{Keychain, OsKeychain};
use chatvault::store::StoreKey;
use std::path::Path;
use std::process::Command;

fn chatvault() -> Command {
    Command::new(env!("CARGO_BIN_EXE_chatvault"))
}

#[test]
fn version_shows_the_workspace_version_commit_and_format() {
    let out = chatvault().arg("--version").output().unwrap();
    assert!(out.status.success());
    let line = String::from_utf8(out.stdout).unwrap();
    let short: String = chatvault::COMMIT.chars().take(12).collect();
    assert_eq!(
        line.trim(),
        format!(
            "chatvault {} (commit {short}, repository format 1)",
            chatvault::VERSION
        )
    );
    // From a git checkout the commit is HEAD of this tree (from a tarball it may be unknown).
    let head = Command::new("git")
        .args(["rev-parse", "HEAD"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap();
    if head.status.success() {
        assert_eq!(
            chatvault::COMMIT,
            String::from_utf8(head.stdout).unwrap().trim()
        );
    }
}

#[test]
fn target_test_on_a_local_folder_succeeds() {
    let dir = tempfile::tempdir().unwrap();
    let out = chatvault()
        .args(["target", "test", "--json"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["deleted"], true);
    // Only the (empty) folder where a local target's objects are written before their rename.
    let left: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(
        left,
        [chatvault::target::LOCAL_TMP_DIR],
        "the probe object is removed"
    );
    let tmp = dir.path().join(chatvault::target::LOCAL_TMP_DIR);
    assert_eq!(std::fs::read_dir(tmp).unwrap().count(), 0);
}

#[test]
fn bad_target_url_fails_with_message_and_hint() {
    let out = chatvault()
        .args(["target", "test", "ftp://example.org/x"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(err.contains("unsupported scheme 'ftp'"), "{err}");
    assert!(err.contains("hint: Use file:///"), "{err}");
}

#[test]
fn json_errors_have_the_wire_shape() {
    let out = chatvault()
        .args(["target", "test", "--json", "s3://"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["error"]["code"], "target_url_invalid");
    assert!(v["error"]["hint"].is_string());
}

#[test]
fn target_urls_that_would_leak_a_secret_are_refused_without_echoing_it() {
    let refused = |url: &str| {
        let out = chatvault()
            .args(["target", "test", "--json", url])
            .env("CHATVAULT_WEBDAV_PASSWORD", "pw-hunter2")
            .env("AWS_ACCESS_KEY_ID", "AKIDKEY")
            .env("AWS_SECRET_ACCESS_KEY", "s3cret")
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(1), "{url}");
        let (stdout, stderr) = (
            String::from_utf8(out.stdout).unwrap(),
            String::from_utf8(out.stderr).unwrap(),
        );
        for secret in ["pw-hunter2", "s3cret"] {
            assert!(
                !stdout.contains(secret) && !stderr.contains(secret),
                "{stdout}{stderr}"
            );
        }
        let v: serde_json::Value = serde_json::from_str(&stdout).unwrap();
        assert_eq!(v["error"]["code"], "target_url_invalid", "{v}");
        v["error"]["hint"].as_str().unwrap().to_string()
    };
    // Basic auth over plain http to another machine; port 9 so nothing is ever reached.
    let hint = refused("webdav+http://bob@192.0.2.1:9/dav");
    assert!(hint.contains("?insecure=1"), "{hint}");
    refused("s3://bucket/p?endpoint=https://AKIDKEY:s3cret@192.0.2.1:9&region=us-east-1");
}

#[test]
fn a_remembered_store_key_comes_from_the_keychain() {
    if common::service_env("CHATVAULT_TEST_KEYRING").is_none() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let out = chatvault()
        .args(["demo", "--json", "--messages", "50"])
        .arg(dir.path())
        .output()
        .unwrap();
    let demo: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let store = demo["store"].as_str().unwrap();
    let key_file = demo["key_file"].as_str().unwrap();

    let without_key = chatvault()
        .args(["conversations", "--store", store])
        .output()
        .unwrap();
    assert_eq!(without_key.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&without_key.stderr).contains("is encrypted"));

    let remembered = chatvault()
        .args([
            "conversations",
            "--json",
            "--store",
            store,
            "--key-file",
            key_file,
            "--remember-key",
        ])
        .output()
        .unwrap();
    assert!(
        remembered.status.success(),
        "{}",
        String::from_utf8_lossy(&remembered.stderr)
    );

    let from_keychain = chatvault()
        .args(["conversations", "--json", "--store", store])
        .output()
        .unwrap();
    assert!(
        from_keychain.status.success(),
        "{}",
        String::from_utf8_lossy(&from_keychain.stderr)
    );
    assert_eq!(from_keychain.stdout, remembered.stdout);

    assert!(OsKeychain::default()
        .delete(&StoreKey::keychain_account(Path::new(store)))
        .unwrap());
}

#[test]
fn target_credentials_live_in_the_keychain_not_in_argv_or_files() {
    if common::service_env("CHATVAULT_TEST_KEYRING").is_none() {
        return;
    }
    let Some(url) = common::service_env("CHATVAULT_TEST_WEBDAV_AUTH_URL") else {
        return;
    };
    let password = common::service_env("CHATVAULT_TEST_WEBDAV_AUTH_PASSWORD").unwrap();
    let clean = |args: &[&str]| {
        let mut c = chatvault();
        c.args(args)
            .env_remove("AWS_ACCESS_KEY_ID")
            .env_remove("AWS_SECRET_ACCESS_KEY")
            .env_remove("CHATVAULT_WEBDAV_PASSWORD");
        c
    };
    let target = format!("{url}creds-{}", std::process::id());
    let without = clean(&["target", "test", "--json", &target])
        .output()
        .unwrap();
    let err: serde_json::Value = serde_json::from_slice(&without.stdout).unwrap();
    assert_eq!(err["error"]["code"], "target_auth", "{err}");

    let mut save = clean(&["target", "save-credentials", &target])
        .stdin(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    save.stdin
        .take()
        .unwrap()
        .write_all(format!("CHATVAULT_WEBDAV_PASSWORD={password}\n").as_bytes())
        .unwrap();
    assert!(save.wait().unwrap().success());

    let with = clean(&["target", "test", "--json", &target])
        .output()
        .unwrap();
    assert!(
        with.status.success(),
        "{}",
        String::from_utf8_lossy(&with.stdout)
    );
    assert!(clean(&["target", "forget-credentials", &target])
        .output()
        .unwrap()
        .status
        .success());
    let again = clean(&["target", "test", "--json", &target])
        .output()
        .unwrap();
    assert_eq!(again.status.code(), Some(1));
}

#[test]
fn unknown_conversation_id_is_an_error_with_a_hint() {
    let store = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/stores/imessage");
    let out = chatvault()
        .args(["messages", "--store"])
        .arg(&store)
        .args(["--conversation", "iMessage;-;+10000000000"])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(1),
        "an unknown id must not print []"
    );
    assert!(out.stdout.is_empty());
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(
        err.contains("'iMessage;-;+10000000000' is not in this store"),
        "{err}"
    );
    assert!(err.contains("hint: Run `chatvault conversations`"), "{err}");

    let out = chatvault()
        .args(["messages", "--json", "--store"])
        .arg(&store)
        .args(["--conversation", "nope"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["error"]["code"], "invalid_input");
    assert!(v["error"]["hint"].is_string());
}

/// Names and text come from chat partners: a title or message that holds terminal escape
/// sequences (set the window title, clear the screen, 8-bit CSI) or a right-to-left override
/// is printed with those characters shown escaped, never sent to the terminal; `--json` keeps
/// the exact text, with the dangerous characters as JSON escapes.
#[test]
fn names_and_text_from_chat_partners_never_reach_the_terminal_as_control_characters() {
    let dir = tempfile::tempdir().unwrap();
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/stores/imessage");
    for f in ["chat.db", "chat.db-wal"] {
        std::fs::copy(fixture.join(f), dir.path().join(f)).unwrap();
    }
    let db = dir.path().join("chat.db");
    let title = "Mallory\u{1b}]0;owned\u{7}\u{1b}[2J\u{202e}gpj.exe";
    let text = "hello\rHIDDEN\u{9b}31m red\u{1b}[0m\u{2066}";
    {
        let c = rusqlite::Connection::open(&db).unwrap();
        c.execute("UPDATE chat SET display_name = ?1 WHERE ROWID = 1", [title])
            .unwrap();
        c.execute("UPDATE message SET text = ?1 WHERE ROWID = 4", [text])
            .unwrap();
    }
    let bad = |s: &str| {
        s.chars().find(|&c| {
            (c.is_control() && c != '\n' && c != '\t')
                || ('\u{202a}'..='\u{202e}').contains(&c)
                || ('\u{2066}'..='\u{2069}').contains(&c)
        })
    };
    let run = |args: &[&str]| {
        let out = chatvault().args(args).output().unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    };
    let store = db.to_str().unwrap();
    let listed = run(&["conversations", "--store", store]);
    assert_eq!(bad(&listed), None, "{listed:?}");
    assert!(listed.contains("Mallory\\u{1b}]0;owned\\u{7}"), "{listed}");
    assert!(listed.contains("\\u{202e}gpj.exe"), "{listed}");

    let id = "iMessage;-;+8613800138000";
    let shown = run(&["messages", "--store", store, "--conversation", id]);
    assert_eq!(bad(&shown), None, "{shown:?}");
    assert!(shown.contains("hello\\u{d}HIDDEN\\u{9b}31m red"), "{shown}");

    let json = run(&["--json", "conversations", "--store", store]);
    assert_eq!(bad(&json), None, "{json:?}");
    let list: serde_json::Value = serde_json::from_str(&json).unwrap();
    let found = list
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == id)
        .expect("the chat is listed");
    assert_eq!(found["title"], title, "--json keeps the exact title");
}
