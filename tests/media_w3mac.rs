//! Media of WeChat for Windows 3.x and macOS 3.x (issue 13), as a user meets them through the
//! CLI, against the fixtures made by independent software (tests/fixtures/README.md): XOR-ed
//! `.dat` photos and their thumbnails, a photo that only has its thumbnail, SILK voice kept in a
//! database row (Windows) or a file (macOS), a video with its poster, a PDF.
//!
//! `messages --json` lists every attachment with its role and whether the store lacks it; a
//! backup and a restore bring every original back byte for byte (sha256 as expected.json
//! records it), the thumbnail-only photo comes back as its thumbnail with the original marked
//! missing, and the source store is not changed by any of it.
mod common;

use chatvault::platform::keychain::{Keychain, OsKeychain};
use common::user::{exported_json, User};
use serde_json::Value;
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

const VARIANTS: [&str; 2] = ["wechat-win3", "wechat-mac3"];

fn stores_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/stores")
}

fn expected(variant: &str) -> Value {
    let text = std::fs::read_to_string(stores_dir().join(variant).join("expected.json")).unwrap();
    serde_json::from_str(&text).unwrap()
}

fn sha256(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// Every file under `dir` with the sha256 of its bytes.
fn hashes(dir: &Path) -> BTreeMap<PathBuf, String> {
    common::user::files_under(dir)
        .into_iter()
        .map(|p| {
            let h = sha256(&std::fs::read(&p).unwrap());
            (p, h)
        })
        .collect()
}

/// A CLI user whose store is the fixture of `variant` (read in place), with its key in a file.
fn fixture_user(variant: &str) -> (User, Value) {
    let e = expected(variant);
    let dir = tempfile::tempdir().unwrap();
    let key_file = dir.path().join("store.key");
    std::fs::write(&key_file, e["key"]["hex"].as_str().unwrap()).unwrap();
    let u = User {
        store: stores_dir()
            .join(e["store_root"].as_str().unwrap())
            .to_string_lossy()
            .into_owned(),
        key_file: key_file.to_string_lossy().into_owned(),
        target: format!("file://{}", dir.path().join("target").display()),
        dir,
    };
    (u, e)
}

/// (path, role, missing) of attachments, sorted.
fn refs(list: &Value) -> Vec<(String, String, bool)> {
    let mut out: Vec<(String, String, bool)> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            (
                a["path"].as_str().unwrap().to_string(),
                a["role"].as_str().unwrap().to_string(),
                a["missing"].as_bool().unwrap(),
            )
        })
        .collect();
    out.sort();
    out
}

fn messages_with_media(e: &Value) -> Vec<&Value> {
    e["messages"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| !m["attachments"].as_array().unwrap().is_empty())
        .collect()
}

#[test]
fn messages_json_lists_every_attachment_with_its_role_and_whether_it_is_missing() {
    for variant in VARIANTS {
        let (u, e) = fixture_user(variant);
        let before = hashes(&stores_dir().join(variant));
        let media = messages_with_media(&e);
        assert!(media.len() >= 6, "{variant}: the fixture has media");
        let mut kinds = std::collections::BTreeSet::new();
        let mut thumbnail_only = 0;
        for conv in e["conversations"].as_array().unwrap() {
            let id = conv["id"].as_str().unwrap();
            let got = u.ok(&[
                "messages",
                "--json",
                "--store",
                &u.store,
                "--key-file",
                &u.key_file,
                "--conversation",
                id,
            ]);
            let got: BTreeMap<&str, &Value> = got
                .as_array()
                .unwrap()
                .iter()
                .map(|m| (m["id"].as_str().unwrap(), m))
                .collect();
            for w in e["messages"].as_array().unwrap() {
                if w["conversation_id"] != conv["id"] {
                    continue;
                }
                let mid = w["id"].as_str().unwrap();
                let g = got[mid];
                assert_eq!(
                    refs(&g["attachments"]),
                    refs(&w["attachments"]),
                    "{variant}: message {mid} ({})",
                    w["kind"]
                );
                for (a, want) in g["attachments"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .zip(w["attachments"].as_array().unwrap())
                {
                    if a["path"] == want["path"] && want["missing"] == false {
                        assert_eq!(a["size"], want["size"], "{variant}: {} size", a["path"]);
                        assert!(a["name"].is_string(), "{variant}: {} has a name", a["path"]);
                    }
                }
                let atts = w["attachments"].as_array().unwrap();
                if !atts.is_empty() {
                    kinds.insert(w["kind"].as_str().unwrap().to_string());
                }
                if atts
                    .iter()
                    .any(|a| a["role"] == "original" && a["missing"] == true)
                    && atts
                        .iter()
                        .any(|a| a["role"] == "thumbnail" && a["missing"] == false)
                {
                    thumbnail_only += 1;
                }
            }
        }
        let want: std::collections::BTreeSet<String> = ["file", "image", "video", "voice"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        assert_eq!(kinds, want, "{variant}: every kind of media is listed");
        assert_eq!(thumbnail_only, 1, "{variant}: the thumbnail-only photo");
        assert_eq!(
            hashes(&stores_dir().join(variant)),
            before,
            "{variant}: listing changed the store"
        );
    }
}

#[test]
fn backup_and_restore_bring_back_every_original_byte_identical_and_the_thumbnail_of_a_photo_never_downloaded(
) {
    if common::service_env("CHATVAULT_TEST_KEYRING").is_none() {
        return;
    }
    for variant in VARIANTS {
        let (u, e) = fixture_user(variant);
        let before = hashes(&stores_dir().join(variant));
        let repo_id = u.init();
        let report = u.backup(&[]);
        assert_eq!(
            report["messages"].as_u64(),
            Some(e["messages"].as_array().unwrap().len() as u64),
            "{variant}: {report}"
        );
        let out = u.path("restored");
        u.restore_into(&out, "json");
        let mut restored_files = 0;
        for w in messages_with_media(&e) {
            let mid = w["id"].as_str().unwrap();
            let conv = w["conversation_id"].as_str().unwrap();
            let export: Value = serde_json::from_str(&exported_json(&out, conv)).unwrap();
            let m = export["messages"]
                .as_array()
                .unwrap()
                .iter()
                .find(|m| m["id"] == mid)
                .unwrap_or_else(|| panic!("{variant}: message {mid} not restored"));
            let got = m["attachments"].as_array().unwrap();
            assert_eq!(
                got.len(),
                w["attachments"].as_array().unwrap().len(),
                "{variant}: message {mid}: {got:?}"
            );
            for want in w["attachments"].as_array().unwrap() {
                let role = want["role"].as_str().unwrap();
                let a = got
                    .iter()
                    .find(|a| a["role"] == role)
                    .unwrap_or_else(|| panic!("{variant}: message {mid}: no {role}"));
                if want["missing"] == true {
                    assert_eq!(a["missing"], true, "{variant}: message {mid} {role}");
                    assert!(
                        !a["path"].as_str().unwrap().starts_with("attachments/"),
                        "{variant}: message {mid}: a missing {role} has no restored file"
                    );
                    continue;
                }
                assert_eq!(a["missing"], false, "{variant}: message {mid} {role}");
                let path = a["path"].as_str().unwrap();
                assert!(path.starts_with("attachments/"), "{variant}: {path}");
                let bytes = std::fs::read(out.join(path)).unwrap();
                assert_eq!(
                    sha256(&bytes),
                    want["sha256"].as_str().unwrap(),
                    "{variant}: message {mid} {role} restored as {path}"
                );
                restored_files += 1;
            }
        }
        let want_files = messages_with_media(&e)
            .iter()
            .flat_map(|m| m["attachments"].as_array().unwrap())
            .filter(|a| a["missing"] == false)
            .count();
        assert_eq!(restored_files, want_files, "{variant}");
        assert_eq!(
            hashes(&stores_dir().join(variant)),
            before,
            "{variant}: backing up changed the store"
        );
        OsKeychain::default()
            .delete(&format!("repo:{repo_id}"))
            .unwrap();
    }
}
