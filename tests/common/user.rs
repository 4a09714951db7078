//! A user of the `chatvault` CLI: their own config/data/cache folders, a demo store (WeChat
//! for Windows 3.x, made by `chatvault demo`) and a local-folder target.

use std::path::PathBuf;
use std::process::{Command, Output};

pub struct User {
    pub dir: tempfile::TempDir,
    pub store: String,
    pub key_file: String,
    pub target: String,
}

impl User {
    pub fn new(messages: usize) -> User {
        User::with_variant(messages, "wechat-win3")
    }

    /// A user of a demo store of another variant (`chatvault demo --variant`).
    pub fn with_variant(messages: usize, variant: &str) -> User {
        let dir = tempfile::tempdir().unwrap();
        let u = User {
            store: String::new(),
            key_file: String::new(),
            target: format!("file://{}", dir.path().join("target").display()),
            dir,
        };
        let out = u.ok(&[
            "demo",
            "--json",
            "--messages",
            &messages.to_string(),
            "--variant",
            variant,
            u.dir.path().join("demo").to_str().unwrap(),
        ]);
        User {
            store: out["store"].as_str().unwrap().into(),
            // iMessage stores have no key.
            key_file: out["key_file"].as_str().unwrap_or_default().into(),
            ..u
        }
    }

    pub fn cmd(&self, args: &[&str]) -> Command {
        let mut c = Command::new(env!("CARGO_BIN_EXE_chatvault"));
        let d = self.dir.path();
        c.args(args)
            .env("XDG_CONFIG_HOME", d.join("config"))
            .env("XDG_DATA_HOME", d.join("data"))
            .env("XDG_CACHE_HOME", d.join("cache"));
        c
    }

    pub fn run(&self, args: &[&str]) -> Output {
        self.cmd(args).output().unwrap()
    }

    /// Runs a command that must succeed; its stdout as JSON (Null when not JSON).
    pub fn ok(&self, args: &[&str]) -> serde_json::Value {
        self.ok_env(args, &[])
    }

    /// [`User::ok`] with extra environment variables.
    pub fn ok_env(&self, args: &[&str], env: &[(&str, &str)]) -> serde_json::Value {
        let out = self.cmd(args).envs(env.iter().copied()).output().unwrap();
        assert!(
            out.status.success(),
            "{args:?}: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).unwrap_or(serde_json::Value::Null)
    }

    /// Runs a `--json` command that must fail; its `error` object.
    pub fn err(&self, args: &[&str]) -> serde_json::Value {
        let out = self.run(args);
        assert_eq!(
            out.status.code(),
            Some(1),
            "{args:?} should fail: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        v["error"].clone()
    }

    pub fn path(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }

    pub fn target_dir(&self) -> PathBuf {
        self.path("target")
    }

    /// Creates the repository; returns its id.
    pub fn init(&self) -> String {
        let code_file = self.path("recovery.txt");
        let out = self.ok(&[
            "init",
            "--json",
            "--target",
            &self.target,
            "--recovery-code-file",
            code_file.to_str().unwrap(),
        ]);
        out["repository"].as_str().unwrap().to_string()
    }

    /// Backs up every conversation of the store, plus `extra` arguments.
    pub fn backup(&self, extra: &[&str]) -> serde_json::Value {
        self.ok(&self.backup_args(extra))
    }

    /// The arguments of a `--json` backup of every conversation of the store to the target
    /// (with the key file, when the store has one), plus `extra`.
    pub fn backup_args<'a>(&'a self, extra: &[&'a str]) -> Vec<&'a str> {
        let mut args = vec![
            "backup",
            "--json",
            "--target",
            &self.target,
            "--store",
            &self.store,
        ];
        if !self.key_file.is_empty() {
            args.extend_from_slice(&["--key-file", &self.key_file]);
        }
        args.extend_from_slice(extra);
        args
    }

    pub fn key(&self) -> chatvault::store::StoreKey {
        chatvault::store::StoreKey::parse(&std::fs::read_to_string(&self.key_file).unwrap())
            .unwrap()
    }

    /// The store's key, none for a store without one (iMessage).
    pub fn store_key(&self) -> Option<chatvault::store::StoreKey> {
        (!self.key_file.is_empty()).then(|| self.key())
    }

    /// A new message in the demo store, as WeChat would write it (SQLCipher 3, MSG1.db).
    pub fn add_message(&self, talker: &str, text: &str, time: i64) {
        let root = std::path::Path::new(&self.store);
        super::store::win3_add_message(root, &self.key(), talker, text, time);
    }

    /// The keychain forgets repository `repo_id`'s master key and recovery entry: a lost
    /// laptop, or a test cleaning up after itself in the session's keyring.
    pub fn forget_keys(&self, repo_id: &str) {
        use chatvault::platform::keychain::Keychain;
        let kc = chatvault::platform::keychain::OsKeychain::default();
        let _ = kc.delete(&format!("repo:{repo_id}"));
        let _ = kc.delete(&format!("repo:{repo_id}:recovery"));
    }

    /// `key unlock` of this user's target with the recovery code in `code_file`.
    pub fn unlock_args<'a>(&'a self, code_file: &'a std::path::Path) -> Vec<&'a str> {
        let file = code_file.to_str().unwrap();
        let t = &self.target;
        vec![
            "key",
            "unlock",
            "--json",
            "--target",
            t,
            "--recovery-code-file",
            file,
        ]
    }

    /// `restore --into DIR --format FORMATS` of everything in the newest snapshot; its report.
    pub fn restore_into(&self, dir: &std::path::Path, formats: &str) -> serde_json::Value {
        let into = dir.to_str().unwrap();
        let t = &self.target;
        self.ok(&[
            "restore", "--json", "--target", t, "--into", into, "--format", formats,
        ])
    }

    /// Every snapshot, as `snapshots --json` lists them.
    pub fn snapshots(&self) -> Vec<serde_json::Value> {
        self.ok(&["snapshots", "--json", "--target", &self.target])
            .as_array()
            .unwrap()
            .clone()
    }

    /// The repository's master key, from the keychain this user's runs put it in.
    pub fn master_key(&self, repo_id: &str) -> chatvault::crypto::MasterKey {
        use chatvault::platform::keychain::Keychain;
        let hex = chatvault::platform::keychain::OsKeychain::default()
            .get(&format!("repo:{repo_id}"))
            .unwrap()
            .expect("the master key is in the keychain");
        chatvault::crypto::MasterKey::from_hex(hex.expose()).unwrap()
    }
}

/// Every file under `dir`, recursively.
pub fn files_under(dir: &std::path::Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    if let Ok(rd) = std::fs::read_dir(dir) {
        for e in rd.flatten() {
            let p = e.path();
            if p.is_dir() {
                out.extend(files_under(&p));
            } else {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

/// The JSON export of conversation `id` in `dir`, as text (export files are named by title,
/// so the one whose `id` field matches is read).
pub fn exported_json(dir: &std::path::Path, id: &str) -> String {
    for e in std::fs::read_dir(dir).unwrap() {
        let path = e.unwrap().path();
        if path.extension().is_some_and(|x| x == "json") {
            let text = std::fs::read_to_string(&path).unwrap();
            let v: serde_json::Value = serde_json::from_str(&text).unwrap();
            if v["id"] == id {
                return text;
            }
        }
    }
    panic!("no JSON export of {id} in {}", dir.display())
}
