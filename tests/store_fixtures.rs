//! Every reader against fixtures made by independent software (SQLCipher via the PyPI
//! sqlcipher3 package; see tests/fixtures/README.md), compared with the content the fixture
//! generator recorded in each store's expected.json. Reading must leave every source byte as
//! it was, and messages that live only in a -wal file must be read too.
use chatvault::crypto::secret::Secret;
use chatvault::model::Message;
use chatvault::store::{self, MessageQuery, StoreKey};
use chatvault::ErrorCode;
use serde_json::Value;
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

fn stores_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/stores")
}

fn expected(variant: &str) -> Value {
    let text = std::fs::read_to_string(stores_dir().join(variant).join("expected.json")).unwrap();
    serde_json::from_str(&text).unwrap()
}

fn key_of(e: &Value) -> Option<StoreKey> {
    let k = &e["key"];
    match k["kind"].as_str().unwrap() {
        "none" => None,
        "android-imei-uin" => Some(StoreKey::AndroidDevice {
            imei: Secret::new(k["imei"].as_str().unwrap().to_string()),
            uin: Secret::new(k["uin"].as_str().unwrap().to_string()),
        }),
        _ => Some(StoreKey::parse(k["hex"].as_str().unwrap()).unwrap()),
    }
}

fn snapshot(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    let mut out = BTreeMap::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let p = entry.unwrap().path();
        if p.is_dir() {
            out.extend(snapshot(&p));
        } else {
            out.insert(p.clone(), std::fs::read(&p).unwrap());
        }
    }
    out
}

fn check(variant: &str) {
    let e = expected(variant);
    let root = stores_dir().join(e["store_root"].as_str().unwrap());
    let before = snapshot(&stores_dir().join(variant));
    let key = key_of(&e);
    let store = store::open(&root, key.as_ref()).unwrap_or_else(|err| panic!("{variant}: {err}"));

    // Conversations: id, title, kind, counts and first/last times.
    let got: HashMap<String, Value> = store
        .conversations()
        .unwrap()
        .into_iter()
        .map(|c| (c.id.clone(), serde_json::to_value(c).unwrap()))
        .collect();
    let want = e["conversations"].as_array().unwrap();
    assert_eq!(
        got.len(),
        want.len(),
        "{variant}: number of conversations: {:?}",
        got.keys()
    );
    for w in want {
        let id = w["id"].as_str().unwrap();
        let g = got
            .get(id)
            .unwrap_or_else(|| panic!("{variant}: conversation {id} missing"));
        for field in ["title", "kind", "message_count", "first_at", "last_at"] {
            assert_eq!(g[field], w[field], "{variant}: conversation {id} {field}");
        }
    }

    // Messages, compared by the store's own id.
    let mut got: HashMap<String, Message> = HashMap::new();
    for id in got_ids(&e) {
        for m in store.messages(&id, &MessageQuery::default()).unwrap() {
            got.insert(m.id.clone(), m);
        }
    }
    let want = e["messages"].as_array().unwrap();
    assert_eq!(got.len(), want.len(), "{variant}: number of messages");
    for w in want {
        let id = w["id"].as_str().unwrap();
        let g = got
            .get(id)
            .unwrap_or_else(|| panic!("{variant}: message {id} missing"));
        let gv = serde_json::to_value(g).unwrap();
        for field in ["conversation_id", "at", "sender", "from_me", "kind"] {
            assert_eq!(gv[field], w[field], "{variant}: message {id} {field}: {gv}");
        }
        // iMessage keeps no name for the account's owner in chat.db.
        if !(variant == "imessage" && g.from_me) {
            assert_eq!(
                gv["sender_name"], w["sender_name"],
                "{variant}: message {id} sender_name"
            );
        }
        if w["text_normative"] == true {
            assert_eq!(gv["text"], w["text"], "{variant}: message {id} text");
        }
        if let Some(want) = w["attachments"].as_array() {
            check_attachments(variant, store.as_ref(), g, want);
        }
        if let Some(q) = w["quote_of"].as_str() {
            assert_eq!(
                g.reply_to.as_deref(),
                Some(q),
                "{variant}: message {id} reply target"
            );
        }
    }
    for id in e["wal_only_message_ids"].as_array().into_iter().flatten() {
        assert!(
            got.contains_key(id.as_str().unwrap()),
            "{variant}: WAL-only message {id} not read"
        );
    }
    drop(store);
    assert!(
        snapshot(&stores_dir().join(variant)) == before,
        "{variant}: a source file changed"
    );
}

/// A message's attachments as expected.json lists them (issue 13): path, role and `missing`,
/// and the sha256 and size of the bytes the store hands out for each that is not missing.
fn check_attachments(variant: &str, store: &dyn store::ChatStore, g: &Message, want: &[Value]) {
    use sha2::{Digest, Sha256};
    let id = &g.id;
    let mut got: Vec<(String, String, bool)> = g
        .attachments
        .iter()
        .map(|a| {
            let v = serde_json::to_value(a).unwrap();
            (
                a.path.clone(),
                v["role"].as_str().unwrap().to_string(),
                a.missing,
            )
        })
        .collect();
    let mut exp: Vec<(String, String, bool)> = want
        .iter()
        .map(|w| {
            (
                w["path"].as_str().unwrap().to_string(),
                w["role"].as_str().unwrap().to_string(),
                w["missing"].as_bool().unwrap(),
            )
        })
        .collect();
    got.sort();
    exp.sort();
    assert_eq!(got, exp, "{variant}: message {id} attachments");
    for w in want.iter().filter(|w| w["missing"] == false) {
        let a = g
            .attachments
            .iter()
            .find(|a| a.path == w["path"].as_str().unwrap())
            .unwrap();
        let bytes = store
            .attachment_bytes(a)
            .unwrap_or_else(|| panic!("{variant}: message {id}: no bytes for {}", a.path));
        assert_eq!(
            hex::encode(Sha256::digest(&bytes)),
            w["sha256"].as_str().unwrap(),
            "{variant}: message {id}: bytes of {}",
            a.path
        );
        assert_eq!(a.size, w["size"].as_u64(), "{variant}: {} size", a.path);
    }
}

fn got_ids(e: &Value) -> Vec<String> {
    e["conversations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn wechat_windows_3() {
    check("wechat-win3");
}

#[test]
fn wechat_4() {
    check("wechat4");
}

#[test]
fn wechat_mac_3() {
    check("wechat-mac3");
}

#[test]
fn wechat_android() {
    check("android");
}

#[test]
fn imessage() {
    check("imessage");
}

#[test]
fn time_range_search_and_limit_narrow_the_messages() {
    let e = expected("wechat-win3");
    let root = stores_dir().join(e["store_root"].as_str().unwrap());
    let store = store::open(&root, key_of(&e).as_ref()).unwrap();
    let all = store
        .messages("wxid_alice01", &MessageQuery::default())
        .unwrap();
    let since: jiff::Timestamp = "2019-01-01T00:00:00Z".parse().unwrap();
    let until: jiff::Timestamp = "2024-01-01T00:00:00Z".parse().unwrap();
    let ranged = store
        .messages(
            "wxid_alice01",
            &MessageQuery {
                since: Some(since),
                until: Some(until),
                ..Default::default()
            },
        )
        .unwrap();
    let expect: Vec<&Message> = all
        .iter()
        .filter(|m| m.at >= since && m.at <= until)
        .collect();
    assert!(!ranged.is_empty() && ranged.len() < all.len());
    assert_eq!(ranged.iter().collect::<Vec<_>>(), expect);
    let found = store
        .messages(
            "wxid_alice01",
            &MessageQuery {
                search: Some("merry CHRISTMAS".into()),
                ..Default::default()
            },
        )
        .unwrap();
    assert_eq!(found.len(), 1);
    assert!(found[0].text.starts_with("Merry Christmas!"));
    let limited = store
        .messages(
            "wxid_alice01",
            &MessageQuery {
                limit: Some(2),
                ..Default::default()
            },
        )
        .unwrap();
    assert_eq!(limited, all[..2].to_vec());
}

// ---- negative cases (tests/fixtures/stores/negative/expected.json) ----

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let p = entry.unwrap().path();
        let dest = to.join(p.file_name().unwrap());
        if p.is_dir() {
            copy_dir(&p, &dest);
        } else {
            std::fs::copy(&p, &dest).unwrap();
        }
    }
}

fn open_err(root: &Path, key: Option<&StoreKey>) -> chatvault::Error {
    match store::open(root, key) {
        Ok(_) => panic!("{} opened but should not", root.display()),
        Err(e) => e,
    }
}

#[test]
fn wrong_keys_are_reported_as_wrong_keys_for_every_encrypted_variant() {
    let neg = expected("negative");
    for case in neg["cases"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["expect"] == "wrong_key")
    {
        let variant = case["path"].as_str().unwrap().split('/').next().unwrap();
        let e = expected(variant);
        let root = stores_dir().join(e["store_root"].as_str().unwrap());
        let key = match case["key_hex"].as_str() {
            Some(h) => StoreKey::parse(h).unwrap(),
            None => StoreKey::AndroidDevice {
                imei: Secret::new(case["imei"].as_str().unwrap().into()),
                uin: Secret::new(case["uin"].as_str().unwrap().into()),
            },
        };
        let err = open_err(&root, Some(&key));
        assert_eq!(
            err.code(),
            ErrorCode::StoreWrongKey,
            "{}: {err}",
            case["name"]
        );
        assert!(err.hint().is_some());
        let shown = err.to_string();
        if let Some(h) = case["key_hex"].as_str() {
            assert!(!shown.contains(h), "the key must not appear in the error");
        }
    }
}

#[test]
fn a_missing_key_asks_for_one() {
    let e = expected("wechat4");
    let err = open_err(&stores_dir().join(e["store_root"].as_str().unwrap()), None);
    assert_eq!(err.code(), ErrorCode::StoreKeyRequired);
}

/// A copy of the Windows 3.x store with one message shard replaced.
fn win3_with_shard(content: &[u8]) -> (tempfile::TempDir, PathBuf, StoreKey) {
    let e = expected("wechat-win3");
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("wxid_chenxm2015");
    copy_dir(&stores_dir().join(e["store_root"].as_str().unwrap()), &root);
    std::fs::write(root.join("Msg/Multi/MSG0.db"), content).unwrap();
    (dir, root, key_of(&e).unwrap())
}

#[test]
fn a_truncated_shard_is_corrupt_not_a_wrong_key() {
    let bytes = std::fs::read(stores_dir().join("negative/truncated-MSG0.db")).unwrap();
    let (_dir, root, key) = win3_with_shard(&bytes);
    let err = open_err(&root, Some(&key));
    assert_eq!(err.code(), ErrorCode::StoreCorrupt, "{err}");
    assert!(err.message().contains("MSG0.db"));
}

#[test]
fn garbage_in_a_shard_is_corrupt_once_the_key_is_proven_on_the_contacts() {
    let bytes = std::fs::read(stores_dir().join("negative/garbage.db")).unwrap();
    let (_dir, root, key) = win3_with_shard(&bytes);
    // Whole pages of garbage look like a shard until it is opened, which is on first read (an
    // incremental run leaves unchanged shards unopened): the first read tells.
    let store = store::open(&root, Some(&key)).expect("the contacts prove the key");
    let err = store.conversations().unwrap_err();
    assert_eq!(err.code(), ErrorCode::StoreCorrupt, "{err}");
    assert!(err.message().contains("MSG0.db"), "{err}");
}

#[test]
fn an_empty_shard_is_corrupt() {
    let (_dir, root, key) = win3_with_shard(b"");
    assert_eq!(open_err(&root, Some(&key)).code(), ErrorCode::StoreCorrupt);
}

/// A copy of the WeChat 4.x store with `message_1.db` replaced (the databases open at once,
/// each on a thread of its own: which one failed, and how, must still be told right).
fn v4_with_shard(content: &[u8]) -> (tempfile::TempDir, PathBuf, StoreKey) {
    let e = expected("wechat4");
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("wxid_chenxm2015_8f3a");
    copy_dir(&stores_dir().join(e["store_root"].as_str().unwrap()), &root);
    std::fs::write(root.join("db_storage/message/message_1.db"), content).unwrap();
    (dir, root, key_of(&e).unwrap())
}

#[test]
fn a_damaged_4x_shard_is_corrupt_and_named_while_the_others_open() {
    // Whole pages of garbage look like a shard until it is opened, which is on first read (an
    // incremental run leaves unchanged shards unopened): the first read tells, and names it.
    let first_read_err = |root: &Path, key: &StoreKey| {
        let store = store::open(root, Some(key)).expect("the contacts prove the key");
        store.conversations().unwrap_err()
    };
    let bytes = std::fs::read(stores_dir().join("negative/garbage.db")).unwrap();
    let (_dir, root, key) = v4_with_shard(&bytes);
    let err = first_read_err(&root, &key);
    assert_eq!(err.code(), ErrorCode::StoreCorrupt, "{err}");
    assert!(err.message().contains("message_1.db"), "{err}");
    // A shard keyed differently (another account's) is damaged too, not a wrong key: the
    // key was proven on contact.db.
    let win3 = expected("wechat-win3");
    let other = stores_dir()
        .join(win3["store_root"].as_str().unwrap())
        .join("Msg/Multi/MSG0.db");
    let (_dir, root, key) = v4_with_shard(&std::fs::read(other).unwrap());
    let err = first_read_err(&root, &key);
    assert_eq!(err.code(), ErrorCode::StoreCorrupt, "{err}");
    assert!(err.message().contains("message_1.db"), "{err}");
    // A shard cut short is told at open.
    let (_dir, root, key) = v4_with_shard(&bytes[..bytes.len() - 100]);
    let err = open_err(&root, Some(&key));
    assert_eq!(err.code(), ErrorCode::StoreCorrupt, "{err}");
    assert!(err.message().contains("message_1.db"), "{err}");
    // An intact store opens every shard, with every conversation of both shards listed.
    let e = expected("wechat4");
    let store = store::open(
        &stores_dir().join(e["store_root"].as_str().unwrap()),
        key_of(&e).as_ref(),
    )
    .unwrap();
    let ids: std::collections::BTreeSet<String> = e["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["conversation_id"].as_str().unwrap().to_string())
        .collect();
    let listed: std::collections::BTreeSet<String> = store
        .conversations()
        .unwrap()
        .into_iter()
        .map(|c| c.id)
        .collect();
    assert_eq!(listed, ids);
}

#[test]
fn another_apps_database_is_not_a_chat_store() {
    let places = stores_dir().join("negative/places.sqlite");
    let err = open_err(&places, None);
    assert_eq!(err.code(), ErrorCode::StoreNotChatStore, "{err}");
    // The same file where WeChat's contacts should be.
    let e = expected("wechat-win3");
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("wxid_chenxm2015");
    copy_dir(&stores_dir().join(e["store_root"].as_str().unwrap()), &root);
    std::fs::copy(&places, root.join("Msg/MicroMsg.db")).unwrap();
    let err = open_err(&root, key_of(&e).as_ref());
    assert_eq!(err.code(), ErrorCode::StoreNotChatStore, "{err}");
}

#[test]
fn a_missing_contacts_database_is_named() {
    let e = expected("wechat-win3");
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("wxid_chenxm2015");
    copy_dir(&stores_dir().join(e["store_root"].as_str().unwrap()), &root);
    std::fs::remove_file(root.join("Msg/MicroMsg.db")).unwrap();
    let err = open_err(&root, key_of(&e).as_ref());
    assert_eq!(err.code(), ErrorCode::StoreContactsMissing);
    assert!(err.hint().unwrap().contains("MicroMsg.db"));
}

#[test]
fn a_folder_without_a_store_says_where_to_look() {
    let dir = tempfile::tempdir().unwrap();
    let err = open_err(dir.path(), None);
    assert_eq!(err.code(), ErrorCode::StoreNotFound);
    assert!(err.hint().unwrap().contains("WeChat Files"));
}

// ---- rows that fall through a join must still be listed and read ----

/// The conversation `id` of `variant` is listed under `title` with exactly the messages
/// expected.json gives it, and reading it returns them all.
fn listed_and_read(variant: &str, id: &str, title: &str) {
    let e = expected(variant);
    let store = store::open(
        &stores_dir().join(e["store_root"].as_str().unwrap()),
        key_of(&e).as_ref(),
    )
    .unwrap();
    let want: Vec<&str> = e["messages"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["conversation_id"] == id)
        .map(|m| m["id"].as_str().unwrap())
        .collect();
    assert!(!want.is_empty(), "{variant}: the fixture has no {id}");
    let conv = store
        .conversations()
        .unwrap()
        .into_iter()
        .find(|c| c.id == id)
        .unwrap_or_else(|| panic!("{variant}: {id} is not listed"));
    assert_eq!(conv.title, title, "{variant}");
    assert_eq!(conv.message_count, want.len() as u64, "{variant}");
    let got: Vec<String> = store
        .messages(id, &MessageQuery::default())
        .unwrap()
        .into_iter()
        .map(|m| m.id)
        .collect();
    assert_eq!(got, want, "{variant}: messages of {id}");
}

#[test]
fn imessage_messages_outside_any_chat_are_listed_and_read() {
    // No chat_message_join row, or one to a deleted chat; SMS and iMessage handles of one
    // address stay together.
    listed_and_read(
        "imessage",
        "outside-chats:+8613911112222",
        "+8613911112222 (messages outside any chat)",
    );
    // Sent into a group chat that no longer exists: no handle at all.
    listed_and_read("imessage", "outside-chats:", "Messages outside any chat");
}

/// md5("wxid_nobody42"): the fixtures' chat that no contact, Name2Id or session row names.
const NOBODY42_MD5: &str = "47fc8228a1bf9a709812061fe850e469";

#[test]
fn wechat_4_a_chat_table_that_nothing_names_is_listed_under_its_hash() {
    // Msg_<md5> whose username is in no Name2Id, contact or session row.
    listed_and_read("wechat4", NOBODY42_MD5, NOBODY42_MD5);
}

#[test]
fn wechat_mac_3_a_chat_table_that_nothing_names_is_listed_and_read_under_its_hash() {
    listed_and_read("wechat-mac3", NOBODY42_MD5, NOBODY42_MD5);
}

#[test]
fn wechat_windows_3_and_android_messages_from_someone_in_no_contact_table_are_listed() {
    for variant in ["wechat-win3", "android"] {
        listed_and_read(variant, "wxid_nobody42", "wxid_nobody42");
        listed_and_read(variant, "wxid_ghost77", "wxid_ghost77");
    }
}

#[test]
fn every_reader_rejects_an_unknown_conversation_id_with_a_hint() {
    for variant in [
        "wechat-win3",
        "wechat4",
        "wechat-mac3",
        "android",
        "imessage",
    ] {
        let e = expected(variant);
        let store = store::open(
            &stores_dir().join(e["store_root"].as_str().unwrap()),
            key_of(&e).as_ref(),
        )
        .unwrap();
        for id in [
            "wxid_not_here",
            "iMessage;-;+10000000000",
            "outside-chats:+10000000000",
            &"0".repeat(32),
        ] {
            let err = store
                .messages(id, &MessageQuery::default())
                .err()
                .unwrap_or_else(|| panic!("{variant}: {id} was accepted"));
            assert_eq!(err.code(), ErrorCode::InvalidInput, "{variant}: {err}");
            assert!(err.message().contains(id), "{variant}: {err}");
            assert!(err.hint().unwrap().contains("conversations"), "{variant}");
        }
    }
}
