//! Find my key as a user runs it: `chatvault key find` against a stand-in WeChat process
//! (tests/support/wechat_standin.py) that holds the fixture's keys among decoys, and against
//! an Android backup with shared_prefs. Reading another process's memory needs the right to
//! trace it: root (as in CI), or Yama ptrace_scope 0.
mod common;

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

fn chatvault() -> Command {
    Command::new(env!("CARGO_BIN_EXE_chatvault"))
}

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/stores")
}

fn expected(variant: &str) -> serde_json::Value {
    let text = std::fs::read_to_string(fixtures().join(variant).join("expected.json")).unwrap();
    serde_json::from_str(&text).unwrap()
}

fn v4_store() -> PathBuf {
    fixtures().join(expected("wechat4")["store_root"].as_str().unwrap())
}

/// The stand-in WeChat, killed when dropped.
struct StandIn {
    child: Child,
    _dir: tempfile::TempDir,
}

impl StandIn {
    /// Starts the stand-in under the process name `name` (a symlink to python3) holding what
    /// `config` says, and waits until it is ready.
    fn start(name: &str, config: serde_json::Value) -> StandIn {
        let dir = tempfile::tempdir().unwrap();
        let python = python();
        let exe = dir.path().join(name);
        std::os::unix::fs::symlink(&python, &exe).unwrap();
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/support/wechat_standin.py");
        let mut child = Command::new(&exe)
            .arg(script)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let mut stdin = child.stdin.take().unwrap();
        writeln!(stdin, "{config}").unwrap();
        // Keep stdin open: the stand-in lives until it closes.
        std::mem::forget(stdin);
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        assert_eq!(line.trim(), "ready");
        StandIn { child, _dir: dir }
    }

    fn pid(&self) -> String {
        self.child.id().to_string()
    }
}

impl Drop for StandIn {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The real interpreter (not a pyenv shim, which would run a program named after the link).
fn python() -> PathBuf {
    let out = Command::new("python3")
        .args([
            "-c",
            "import sys, os; print(os.path.realpath(sys.executable))",
        ])
        .output()
        .expect("python3 on PATH");
    PathBuf::from(String::from_utf8(out.stdout).unwrap().trim())
}

fn raw_keys() -> Vec<String> {
    expected("wechat4")["key"]["raw_keys"]
        .as_object()
        .unwrap()
        .values()
        .map(|v| v.as_str().unwrap().to_string())
        .collect()
}

fn some_db() -> String {
    v4_store()
        .join("db_storage/message/message_0.db")
        .display()
        .to_string()
}

fn run_json(args: &[&str]) -> (bool, serde_json::Value) {
    let out = chatvault().args(args).arg("--json").output().unwrap();
    let v = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "{e}: {}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    (out.status.success(), v)
}

/// `chatvault key find` of `store` in process `pid`, writing the key to `key_file`.
fn find_key(store: &Path, pid: &str, key_file: &Path) -> (bool, serde_json::Value) {
    run_json(&[
        "key",
        "find",
        "--store",
        store.to_str().unwrap(),
        "--pid",
        pid,
        "--key-file-out",
        key_file.to_str().unwrap(),
    ])
}

#[test]
fn finds_the_raw_keys_of_a_v4_store_in_a_running_wechat_and_the_key_file_opens_it() {
    let standin = StandIn::start(
        "wechat",
        serde_json::json!({"raw_keys": raw_keys(), "decoys": 200, "open": [some_db()]}),
    );
    let dir = tempfile::tempdir().unwrap();
    let key_file = dir.path().join("wechat.key");
    let store = v4_store();
    let (ok, v) = find_key(&store, &standin.pid(), &key_file);
    assert!(ok, "{v}");
    let r = &v[0];
    assert_eq!(r["kind"], "raw_keys");
    assert_eq!(r["variant"], "wechat4");
    assert_eq!(
        r["process"]["pid"].as_u64().unwrap().to_string(),
        standin.pid()
    );
    assert_eq!(r["process"]["name"], "wechat");
    // Every database file of the fixture (one raw key each in its expected.json).
    assert_eq!(r["databases_opened"], raw_keys().len());
    assert_eq!(r["databases_total"], raw_keys().len());
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(&key_file).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600);

    // The key file opens the store as any key file does.
    let out = chatvault()
        .args(["conversations", "--json", "--store"])
        .arg(&store)
        .arg("--key-file")
        .arg(&key_file)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let list: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        list.as_array().unwrap().len(),
        expected("wechat4")["conversations"]
            .as_array()
            .unwrap()
            .len()
    );
}

#[test]
fn finds_wechat_by_its_process_name_without_a_pid() {
    let _standin = StandIn::start(
        "wechat",
        serde_json::json!({"raw_keys": raw_keys(), "decoys": 20, "open": [some_db()]}),
    );
    let store = v4_store();
    let (ok, v) = run_json(&["key", "find", "--store", store.to_str().unwrap()]);
    assert!(ok, "{v}");
    // Another test's stand-in may run under the same name at the same time; either will do.
    assert_eq!(v[0]["process"]["name"], "wechat", "{v}");
    assert_eq!(v[0]["databases_opened"], raw_keys().len());
}

#[test]
fn finds_the_accounts_32_byte_key_held_in_a_string_object() {
    let key = expected("wechat4")["key"]["hex"]
        .as_str()
        .unwrap()
        .to_string();
    let standin = StandIn::start(
        "standin-key32",
        serde_json::json!({"key32": key, "decoys": 20, "open": [some_db()]}),
    );
    let dir = tempfile::tempdir().unwrap();
    let key_file = dir.path().join("k");
    let store = v4_store();
    let (ok, v) = find_key(&store, &standin.pid(), &key_file);
    assert!(ok, "{v}");
    assert_eq!(v[0]["kind"], "key");
    assert_eq!(v[0]["databases_opened"], raw_keys().len());
    assert_eq!(std::fs::read_to_string(&key_file).unwrap().trim(), key);
}

#[test]
fn a_process_holding_only_decoys_gives_key_not_found_and_writes_no_file() {
    let standin = StandIn::start(
        "standin-decoys",
        serde_json::json!({"decoys": 300, "decoy_objects": 2, "open": [some_db()]}),
    );
    let dir = tempfile::tempdir().unwrap();
    let key_file = dir.path().join("k");
    let store = v4_store();
    let (ok, v) = find_key(&store, &standin.pid(), &key_file);
    assert!(!ok);
    assert_eq!(v["error"]["code"], "key_not_found", "{v}");
    assert!(
        v["error"]["hint"].as_str().unwrap().contains("log in"),
        "{v}"
    );
    assert!(!key_file.exists());
}

#[test]
fn a_wechat_with_no_database_open_is_not_logged_in() {
    let standin = StandIn::start("standin-nologin", serde_json::json!({"decoys": 5}));
    let store = v4_store();
    let (ok, v) = run_json(&[
        "key",
        "find",
        "--store",
        store.to_str().unwrap(),
        "--pid",
        &standin.pid(),
    ]);
    assert!(!ok);
    assert_eq!(v["error"]["code"], "wechat_not_logged_in", "{v}");
}

#[test]
fn a_process_that_is_not_there_is_not_running() {
    let store = v4_store();
    let (ok, v) = run_json(&[
        "key",
        "find",
        "--store",
        store.to_str().unwrap(),
        "--pid",
        "4000000000",
    ]);
    assert!(!ok);
    assert_eq!(v["error"]["code"], "wechat_not_running", "{v}");
}

/// A WeChat for Android backup: `com.tencent.mm/MicroMsg/<md5("mm"+uin)>/EnMicroMsg.db` with
/// `com.tencent.mm/shared_prefs` beside it.
fn android_backup(dir: &Path) -> PathBuf {
    let e = expected("android");
    let mm = dir.join("com.tencent.mm");
    let user = mm
        .join("MicroMsg")
        .join(e["key"]["userdir"].as_str().unwrap());
    std::fs::create_dir_all(&user).unwrap();
    std::fs::copy(
        fixtures().join("android/EnMicroMsg.db"),
        user.join("EnMicroMsg.db"),
    )
    .unwrap();
    std::fs::create_dir_all(mm.join("shared_prefs")).unwrap();
    std::fs::write(
        mm.join("shared_prefs/auth_info_key_prefs.xml"),
        format!(
            "<?xml version='1.0' encoding='utf-8' standalone='yes' ?>\n<map>\n    \
             <boolean name=\"key_auth_update_version\" value=\"true\" />\n    \
             <int name=\"_auth_uin\" value=\"{}\" />\n</map>\n",
            e["key"]["uin"].as_str().unwrap()
        ),
    )
    .unwrap();
    user.join("EnMicroMsg.db")
}

#[test]
fn finds_the_android_key_from_the_backups_shared_prefs_and_the_phones_imei() {
    let dir = tempfile::tempdir().unwrap();
    let db = android_backup(dir.path());
    let e = expected("android");
    let key_file = dir.path().join("android.key");
    // The fixture's phone had a real IMEI: the placeholder alone does not open it.
    let (ok, v) = run_json(&["key", "find", "--store", db.to_str().unwrap()]);
    assert!(!ok);
    assert_eq!(v["error"]["code"], "key_not_found", "{v}");
    assert!(v["error"]["hint"].as_str().unwrap().contains("IMEI"), "{v}");

    let (ok, v) = run_json(&[
        "key",
        "find",
        "--store",
        db.to_str().unwrap(),
        "--imei",
        e["key"]["imei"].as_str().unwrap(),
        "--key-file-out",
        key_file.to_str().unwrap(),
    ]);
    assert!(ok, "{v}");
    assert_eq!(v[0]["kind"], "android_password");
    assert!(v[0]["uin_file"]
        .as_str()
        .unwrap()
        .ends_with("auth_info_key_prefs.xml"));
    assert_eq!(
        std::fs::read_to_string(&key_file).unwrap().trim(),
        e["key"]["password"].as_str().unwrap()
    );
    let out = chatvault()
        .args(["conversations", "--json", "--store"])
        .arg(&db)
        .arg("--key-file")
        .arg(&key_file)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn a_found_key_is_remembered_and_backs_up_the_store_with_messages_and_backup() {
    if common::service_env("CHATVAULT_TEST_KEYRING").is_none() {
        return;
    }
    let standin = StandIn::start(
        "wechat",
        serde_json::json!({"raw_keys": raw_keys(), "decoys": 50, "open": [some_db()]}),
    );
    // A copy of the store, so its keychain entry is this test's own.
    let scratch = tempfile::tempdir().unwrap();
    let store = scratch.path().join("wxid_chenxm2015_8f3a");
    copy_dir(&v4_store(), &store);
    let key_file = scratch.path().join("wechat.key");
    let u = common::user::User {
        store: store.display().to_string(),
        key_file: key_file.display().to_string(),
        ..common::user::User::new(10)
    };
    u.ok(&[
        "key",
        "find",
        "--json",
        "--store",
        &u.store,
        "--pid",
        &standin.pid(),
        "--remember",
        "--key-file-out",
        &u.key_file,
    ]);
    // Remembered: no key file needed.
    let list = u.ok(&["conversations", "--json", "--store", &u.store]);
    let conversation = list[0]["id"].as_str().unwrap().to_string();
    let messages = u.ok(&[
        "messages",
        "--json",
        "--store",
        &u.store,
        "--key-file",
        &u.key_file,
        "--conversation",
        &conversation,
    ]);
    assert_eq!(
        messages.as_array().unwrap().len() as u64,
        list[0]["message_count"].as_u64().unwrap()
    );
    u.init();
    let report = u.backup(&[]);
    assert_eq!(
        report["messages"].as_u64().unwrap(),
        expected("wechat4")["messages"].as_array().unwrap().len() as u64
    );
    use chatvault::platform::keychain::Keychain;
    assert!(chatvault::platform::keychain::OsKeychain::default()
        .delete(&chatvault::store::StoreKey::keychain_account(&store))
        .unwrap());
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let target = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &target);
        } else {
            std::fs::copy(e.path(), target).unwrap();
        }
    }
}

#[test]
fn a_raw_key_file_without_a_files_salt_says_to_find_the_key_again() {
    let dir = tempfile::tempdir().unwrap();
    let key_file = dir.path().join("partial.key");
    let e = expected("wechat4");
    let keys: Vec<String> = e["key"]["raw_keys"]
        .as_object()
        .unwrap()
        .iter()
        .filter(|(file, _)| !file.ends_with("contact.db"))
        .map(|(_, k)| k.as_str().unwrap().to_string())
        .collect();
    std::fs::write(&key_file, keys.join("\n")).unwrap();
    let (ok, v) = run_json(&[
        "conversations",
        "--store",
        v4_store().to_str().unwrap(),
        "--key-file",
        key_file.to_str().unwrap(),
    ]);
    assert!(!ok);
    assert_eq!(v["error"]["code"], "store_wrong_key", "{v}");
    assert!(
        v["error"]["hint"].as_str().unwrap().contains("key find"),
        "{v}"
    );
}

/// Another user may not read the stand-in's memory (the kernel's ptrace access check): as
/// root, the CLI runs as `nobody` through runuser. Skipped when not root.
#[test]
fn a_process_the_os_will_not_let_us_read_gives_key_access_denied_with_what_to_do() {
    if !Path::new("/proc/self/mem").exists()
        || std::fs::read_to_string("/proc/self/status")
            .unwrap()
            .lines()
            .find(|l| l.starts_with("Uid:"))
            .is_none_or(|l| l.split_whitespace().nth(1) != Some("0"))
    {
        eprintln!("skipped: needs root to run the CLI as another user");
        return;
    }
    let standin = StandIn::start(
        "wechat",
        serde_json::json!({"raw_keys": raw_keys(), "open": [some_db()]}),
    );
    // Folders `nobody` may write (the test run's own XDG folders belong to root).
    let home = tempfile::tempdir().unwrap();
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(home.path(), std::fs::Permissions::from_mode(0o777)).unwrap();
    }
    let h = home.path().display();
    let out = Command::new("runuser")
        .args(["-u", "nobody", "--", "env"])
        .arg(format!("HOME={h}"))
        .arg(format!("XDG_CONFIG_HOME={h}/config"))
        .arg(format!("XDG_DATA_HOME={h}/data"))
        .arg(format!("XDG_CACHE_HOME={h}/cache"))
        .arg(env!("CARGO_BIN_EXE_chatvault"))
        .args(["key", "find", "--json", "--store"])
        .arg(v4_store())
        .args(["--pid", &standin.pid()])
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stderr)));
    assert_eq!(v["error"]["code"], "key_access_denied", "{v}");
    assert!(
        v["error"]["hint"]
            .as_str()
            .unwrap()
            .contains("ptrace_scope"),
        "{v}"
    );
}
