//! WeChat 4.x and Android media (#13), driven as a user does: `chatvault messages --json`
//! lists every attachment with its role and whether the store lacks it; a CLI backup and
//! restore brings back every original byte for byte (sha256 from the fixture's expected.json)
//! and leaves the store untouched; 4.x V2 images keep the account's image key (FORMAT.md §6.2
//! ext tag 1) through the backup.
//!
//! The fixtures come from tests/fixtures/make_fixtures.py (independent software: Pillow
//! JPEGs, V1/V2 `.dat` by `cryptography`, SILK by silk-python, SQLCipher by sqlcipher3).

mod common;

use chatvault::crypto::recovery::{KdfParams, RecoveryCode};
use chatvault::crypto::MasterKey;
use chatvault::model::{ext_tag, AttachmentRole, Selection};
use chatvault::repo::backup::{backup, BackupRequest};
use chatvault::repo::restore::{restore, RestoreRequest};
use chatvault::repo::Repo;
use chatvault::run::job::{Cancel, NoProgress};
use chatvault::store::{self, ChatStore, MessageQuery, StoreKey};
use common::store::select_all;
use common::user::User;
use serde_json::Value;
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

fn stores() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/stores")
}

fn expected(variant: &str) -> Value {
    serde_json::from_str(
        &std::fs::read_to_string(stores().join(variant).join("expected.json")).unwrap(),
    )
    .unwrap()
}

fn sha256(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let p = e.unwrap().path();
        let dest = to.join(p.file_name().unwrap());
        if p.is_dir() {
            copy_dir(&p, &dest);
        } else {
            std::fs::copy(&p, &dest).unwrap();
        }
    }
}

/// sha256 of every file under `dir`, by relative path.
fn tree_hashes(dir: &Path) -> BTreeMap<String, String> {
    common::user::files_under(dir)
        .into_iter()
        .map(|p| {
            (
                p.strip_prefix(dir).unwrap().display().to_string(),
                sha256(&std::fs::read(&p).unwrap()),
            )
        })
        .collect()
}

/// A fixture store laid out as on the user's disk, in `home`, with its key file: the 4.x
/// account under `Documents/xwechat_files/` with WeChat's `kvcomm` at
/// `Documents/app_data/net/kvcomm` (macOS), the Android folder as it is.
struct Fixture {
    e: Value,
    /// What to pass to `--store`.
    store: PathBuf,
    /// The folder the attachment paths are relative to.
    media_root: PathBuf,
    key_file: PathBuf,
    /// Everything the user has of the store (hashed before and after).
    whole: PathBuf,
}

fn lay_out(variant: &str, home: &Path, with_kvcomm: bool) -> Fixture {
    let e = expected(variant);
    let key_file = home.join("store.key");
    if variant == "wechat4" {
        let account = Path::new(e["store_root"].as_str().unwrap())
            .file_name()
            .unwrap()
            .to_owned();
        let docs = home.join("Documents");
        let root = docs.join("xwechat_files").join(&account);
        copy_dir(&stores().join(e["store_root"].as_str().unwrap()), &root);
        if with_kvcomm {
            copy_dir(
                &stores()
                    .join("wechat4")
                    .join(e["media"]["kvcomm"].as_str().unwrap()),
                &docs.join("app_data/net/kvcomm"),
            );
        }
        std::fs::write(&key_file, e["key"]["hex"].as_str().unwrap()).unwrap();
        Fixture {
            store: root.clone(),
            media_root: root,
            key_file,
            whole: docs,
            e,
        }
    } else {
        let folder = home.join("phone-backup");
        copy_dir(&stores().join(e["store_root"].as_str().unwrap()), &folder);
        std::fs::write(&key_file, e["key"]["password"].as_str().unwrap()).unwrap();
        Fixture {
            store: folder.join("EnMicroMsg.db"),
            media_root: folder.clone(),
            key_file,
            whole: folder,
            e,
        }
    }
}

/// Expected attachments by message id (only messages that have some).
fn expected_attachments(e: &Value) -> BTreeMap<String, Vec<Value>> {
    e["messages"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|m| {
            let a = m["attachments"].as_array()?;
            (!a.is_empty()).then(|| (m["id"].as_str().unwrap().to_string(), a.clone()))
        })
        .collect()
}

fn cli_messages(u: &User, f: &Fixture) -> BTreeMap<String, Value> {
    let mut out = BTreeMap::new();
    for c in f.e["conversations"].as_array().unwrap() {
        let list = u.ok(&[
            "messages",
            "--json",
            "--store",
            f.store.to_str().unwrap(),
            "--key-file",
            f.key_file.to_str().unwrap(),
            "--conversation",
            c["id"].as_str().unwrap(),
        ]);
        for m in list.as_array().unwrap() {
            out.insert(m["id"].as_str().unwrap().to_string(), m.clone());
        }
    }
    out
}

#[test]
fn messages_json_lists_every_photo_voice_video_and_file_with_role_and_missing() {
    for variant in ["wechat4", "android"] {
        let home = tempfile::tempdir().unwrap();
        let f = lay_out(variant, home.path(), true);
        let u = User {
            dir: tempfile::tempdir().unwrap(),
            store: String::new(),
            key_file: String::new(),
            target: String::new(),
        };
        let got = cli_messages(&u, &f);
        let want = expected_attachments(&f.e);
        assert!(want.len() >= 6, "{variant}: fixture has media");
        let mut thumbnail_only = 0;
        for (id, atts) in &want {
            let m = &got[id];
            let shown = m["attachments"].as_array().unwrap();
            let simplify = |a: &Value| {
                (
                    a["path"].as_str().unwrap().to_string(),
                    a["role"].as_str().unwrap().to_string(),
                    a["missing"].as_bool().unwrap(),
                )
            };
            assert_eq!(
                shown.iter().map(simplify).collect::<Vec<_>>(),
                atts.iter().map(simplify).collect::<Vec<_>>(),
                "{variant} message {id} ({})",
                m["kind"]
            );
            for (s, a) in shown.iter().zip(atts) {
                if !a["missing"].as_bool().unwrap() {
                    assert_eq!(s["size"], a["size"], "{variant} {}", a["path"]);
                }
                if let Some(mime) = a.get("mime") {
                    assert_eq!(&s["mime"], mime, "{variant} {}", a["path"]);
                }
                if let Some(name) = a.get("name") {
                    assert_eq!(&s["name"], name, "{variant} {}", a["path"]);
                }
            }
            if atts[0]["missing"] == true && atts.iter().any(|a| a["role"] == "thumbnail") {
                thumbnail_only += 1;
            }
        }
        assert_eq!(
            thumbnail_only, 1,
            "{variant}: one photo was never downloaded"
        );
        // Every image message of the store is listed as an image with its files.
        for m in f.e["messages"].as_array().unwrap() {
            if m["kind"] == "image" {
                let id = m["id"].as_str().unwrap();
                assert_eq!(got[id]["kind"], "image", "{variant} {id}");
                assert!(want.contains_key(id), "{variant}: image {id} has files");
            }
        }
        // No message lists a file the store does not have without saying so.
        for m in got.values() {
            for a in m["attachments"].as_array().unwrap() {
                let path = a["path"].as_str().unwrap();
                let on_disk = path.contains('#') || f.media_root.join(path).is_file();
                assert_eq!(
                    a["missing"].as_bool().unwrap(),
                    !on_disk,
                    "{variant} {path}"
                );
            }
        }
    }
}

fn has_keychain() -> bool {
    common::service_env("CHATVAULT_TEST_KEYRING").is_some()
}

#[test]
fn cli_backup_and_restore_bring_back_every_original_byte_for_byte() {
    if !has_keychain() {
        return;
    }
    for variant in ["wechat4", "android"] {
        let home = tempfile::tempdir().unwrap();
        let f = lay_out(variant, home.path(), true);
        let before = tree_hashes(&f.whole);
        let dir = tempfile::tempdir().unwrap();
        let u = User {
            target: format!("file://{}", dir.path().join("target").display()),
            store: f.store.display().to_string(),
            key_file: f.key_file.display().to_string(),
            dir,
        };
        let repo_id = u.init();
        let report = u.backup(&[]);
        let want = expected_attachments(&f.e);
        let present: usize = want
            .values()
            .flatten()
            .filter(|a| a["missing"] == false)
            .count();
        assert_eq!(
            report["attachments"].as_u64(),
            Some(present as u64),
            "{variant}: {report}"
        );
        let out = u.path("restored");
        u.restore_into(&out, "json");
        let mut restored: BTreeMap<String, Value> = BTreeMap::new();
        for p in std::fs::read_dir(&out).unwrap() {
            let p = p.unwrap().path();
            if p.extension().is_some_and(|x| x == "json") {
                let v: Value = serde_json::from_str(&std::fs::read_to_string(&p).unwrap()).unwrap();
                for m in v["messages"].as_array().into_iter().flatten() {
                    restored.insert(m["id"].as_str().unwrap().to_string(), m.clone());
                }
            }
        }
        let (mut checked, mut missing, mut voice) = (0, 0, 0);
        for (id, atts) in &want {
            let got = restored[id]["attachments"].as_array().unwrap();
            assert_eq!(got.len(), atts.len(), "{variant} {id}");
            for (g, a) in got.iter().zip(atts) {
                assert_eq!(g["role"], a["role"], "{variant} {id}");
                if a["missing"] == true {
                    // The original was never downloaded: the restore says so.
                    assert_eq!(g["missing"], true, "{variant} {id}");
                    missing += 1;
                    continue;
                }
                let path = g["path"].as_str().unwrap();
                assert!(path.starts_with("attachments/"), "{variant} {path}");
                let bytes = std::fs::read(out.join(path)).unwrap();
                assert_eq!(
                    sha256(&bytes),
                    a["sha256"].as_str().unwrap(),
                    "{variant} {id} {}",
                    a["path"]
                );
                if a["path"].as_str().unwrap().contains('#') || a["mime"] == "audio/silk" {
                    assert!(bytes.starts_with(b"\x02#!SILK_V3"));
                    voice += 1;
                }
                checked += 1;
            }
        }
        assert_eq!(checked, present, "{variant}");
        assert_eq!((missing, voice), (1, 1), "{variant}");
        // The store is as it was.
        assert_eq!(
            tree_hashes(&f.whole),
            before,
            "{variant}: the store changed"
        );
        let _ = chatvault::platform::keychain::Keychain::delete(
            &chatvault::platform::keychain::OsKeychain::default(),
            &format!("repo:{repo_id}"),
        );
    }
}

fn open(f: &Fixture) -> Box<dyn ChatStore> {
    let key = StoreKey::parse(&std::fs::read_to_string(&f.key_file).unwrap()).unwrap();
    store::open(&f.store, Some(&key)).unwrap()
}

fn image_key_of(e: &Value) -> Vec<u8> {
    let mut k = e["media"]["image_key"]["aes"]
        .as_str()
        .unwrap()
        .as_bytes()
        .to_vec();
    k.push(e["media"]["image_key"]["xor"].as_u64().unwrap() as u8);
    k
}

#[test]
fn v2_images_carry_the_derived_image_key_through_backup_and_restore() {
    let home = tempfile::tempdir().unwrap();
    let f = lay_out("wechat4", home.path(), true);
    let store = open(&f);
    let key = image_key_of(&f.e);
    let v2: Vec<&str> = f.e["messages"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["ext_image_key"] == true)
        .map(|m| m["id"].as_str().unwrap())
        .collect();
    assert_eq!(v2.len(), 2, "a V2 photo and a V2 thumbnail-only photo");
    let target = tempfile::tempdir().unwrap();
    let spec: chatvault::target::TargetSpec = target.path().display().to_string().parse().unwrap();
    let op = spec.operator(&Default::default()).unwrap();
    let sel = select_all(store.as_ref());
    let restored = common::runtime().block_on(async {
        let repo = Repo::init(
            op,
            &MasterKey::generate(),
            &RecoveryCode::generate(),
            KdfParams::TEST,
        )
        .await
        .unwrap();
        backup(
            &repo,
            &BackupRequest {
                store: store.as_ref(),
                store_root: &f.store,
                selection: &sel,
            },
            &NoProgress,
            &Cancel::new(),
        )
        .await
        .unwrap();
        restore(
            &repo,
            &RestoreRequest::default(),
            &NoProgress,
            &Cancel::new(),
        )
        .await
        .unwrap()
    });
    let mut seen = 0;
    for c in &restored {
        let read = store.messages(&c.id, &MessageQuery::default()).unwrap();
        for m in &c.messages {
            let tagged: Vec<_> = m
                .ext
                .iter()
                .filter(|x| x.tag == ext_tag::WECHAT_IMAGE_KEY)
                .collect();
            if v2.contains(&m.id.as_str()) {
                assert_eq!(tagged.len(), 1, "{}", m.id);
                assert_eq!(tagged[0].data, key, "{}: the derived key", m.id);
                seen += 1;
            } else {
                assert!(tagged.is_empty(), "{} ({:?}) has no V2 image", m.id, m.kind);
            }
            // The reader's own message carries the same extra as the restored one.
            let original = read.iter().find(|o| o.id == m.id).unwrap();
            assert_eq!(original.ext, m.ext);
            for (a, b) in original.attachments.iter().zip(&m.attachments) {
                assert_eq!((a.role, a.missing), (b.role, b.missing));
            }
        }
    }
    assert_eq!(seen, 2);
    // The V1 photo needs no account key; its thumbnail is a thumbnail.
    let v1 = restored
        .iter()
        .flat_map(|c| &c.messages)
        .find(|m| {
            m.attachments
                .first()
                .is_some_and(|a| !a.missing && m.ext.is_empty() && a.path.ends_with(".dat"))
        })
        .expect("the V1 photo");
    assert_eq!(
        v1.attachments.last().unwrap().role,
        AttachmentRole::Thumbnail
    );
}

#[test]
fn without_kvcomm_no_image_key_is_given_and_the_reason_is_told() {
    let home = tempfile::tempdir().unwrap();
    let f = lay_out("wechat4", home.path(), false);
    let secret =
        chatvault::crypto::secret::Secret::new(f.e["key"]["hex"].as_str().unwrap().to_string());
    let v4 = chatvault::store::wechat::v4::V4Store::open(
        &f.store,
        &chatvault::store::wechat::v4::V4Key::Passphrase(&secret),
    )
    .unwrap();
    // (A machine with WeChat installed has a kvcomm of its own: its uins open no thumbnail.)
    assert!(
        v4.image_key_note()
            .contains("cannot be shown after a restore"),
        "{}",
        v4.image_key_note()
    );
    for c in v4.conversations().unwrap() {
        for m in v4.messages(&c.id, &MessageQuery::default()).unwrap() {
            assert!(m.ext.is_empty(), "{}", m.id);
        }
    }
    // A backup says so in its warnings (which the log keeps).
    let target = tempfile::tempdir().unwrap();
    let spec: chatvault::target::TargetSpec = target.path().display().to_string().parse().unwrap();
    let op = spec.operator(&Default::default()).unwrap();
    let sel = Selection::everything();
    let report = common::runtime().block_on(async {
        let repo = Repo::init(
            op,
            &MasterKey::generate(),
            &RecoveryCode::generate(),
            KdfParams::TEST,
        )
        .await
        .unwrap();
        backup(
            &repo,
            &BackupRequest {
                store: &v4,
                store_root: &f.store,
                selection: &sel,
            },
            &NoProgress,
            &Cancel::new(),
        )
        .await
        .unwrap()
    });
    assert!(
        report.warnings.iter().any(|w| w.contains("image key")),
        "{:?}",
        report.warnings
    );
    // With kvcomm in place the key is derived and confirmed on a V2 thumbnail.
    let home2 = tempfile::tempdir().unwrap();
    let f2 = lay_out("wechat4", home2.path(), true);
    let v4 = chatvault::store::wechat::v4::V4Store::open(
        &f2.store,
        &chatvault::store::wechat::v4::V4Key::Passphrase(&secret),
    )
    .unwrap();
    assert!(
        v4.image_key_note().contains("confirmed on a thumbnail"),
        "{}",
        v4.image_key_note()
    );
}

#[test]
fn demo_stores_have_real_photos_and_voice_that_plays() {
    use chatvault::store::demo;
    for variant in [store::Variant::Wechat4, store::Variant::Android] {
        let dir = tempfile::tempdir().unwrap();
        let d = demo::write(dir.path(), variant, 400).unwrap();
        let key = StoreKey::parse(d.key.as_deref().unwrap()).unwrap();
        let s = store::open(&d.path, Some(&key)).unwrap();
        let (mut photos, mut voices, mut amr, mut keyed) = (0, 0, 0, 0);
        for c in s.conversations().unwrap() {
            for m in s.messages(&c.id, &MessageQuery::default()).unwrap() {
                for a in m.attachments.iter().filter(|a| !a.missing) {
                    let bytes = s.attachment_bytes(a).expect("present bytes are readable");
                    assert_eq!(Some(bytes.len() as u64), a.size, "{variant:?} {}", a.path);
                    match m.kind {
                        chatvault::model::MessageKind::Voice => {
                            // SILK as WeChat writes it; AMR-NB as older Android phones did.
                            let is_amr = bytes.starts_with(b"#!AMR\n");
                            assert!(bytes.starts_with(b"\x02#!SILK_V3") || is_amr, "{}", a.path);
                            let v = chatvault::media::viewable(&bytes, m.kind, &[])
                                .expect("every demo voice clip decodes");
                            assert_eq!(v.mime, "audio/wav", "{}", a.path);
                            voices += 1;
                            amr += usize::from(is_amr);
                        }
                        chatvault::model::MessageKind::Image
                            if variant == store::Variant::Android =>
                        {
                            assert!(bytes.starts_with(&[0xff, 0xd8, 0xff]), "{}", a.path);
                            photos += 1;
                        }
                        chatvault::model::MessageKind::Image => {
                            assert!(bytes.starts_with(&[0x07, 0x08, 0x56]), "{}", a.path);
                            photos += 1;
                        }
                        _ => {}
                    }
                }
                keyed += m
                    .ext
                    .iter()
                    .filter(|x| x.tag == ext_tag::WECHAT_IMAGE_KEY && x.data.len() == 17)
                    .count();
            }
        }
        assert!(
            photos >= 4 && voices >= 2,
            "{variant:?}: {photos} photos, {voices} voices"
        );
        if variant == store::Variant::Wechat4 {
            assert!(keyed >= 2, "V2 demo photos carry the demo account's key");
        } else {
            assert!(
                amr >= 1 && amr < voices,
                "Android: {amr} AMR of {voices} voices"
            );
        }
    }
}
