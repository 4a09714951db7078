//! Incremental runs read only what is new (issue 11): the rows after each shard's mark, and the
//! months they land in, read again whole. Driven through the CLI on the demo WeChat for Windows
//! 3.x store (real SQLCipher files) and a local-folder target; every restore is compared with
//! the store. The CLI uses the real OS keychain (gnome-keyring under scripts/services.sh).
mod common;

use chatvault::model::Message;
use chatvault::store::{self, MessageQuery};
use common::store::{win3_insert, win3_shard};
use common::user::User;
use std::path::{Path, PathBuf};

fn has_keychain() -> bool {
    common::service_env("CHATVAULT_TEST_KEYRING").is_some()
}

/// A connection to one of the demo store's MSG shards, keyed as WeChat keys it.
fn shard(u: &User, file: &str) -> rusqlite::Connection {
    win3_shard(Path::new(&u.store), file, &u.key())
}

fn shard_path(u: &User, file: &str) -> PathBuf {
    Path::new(&u.store).join("Msg/Multi").join(file)
}

fn insert(conn: &rusqlite::Connection, talker: &str, text: &str, time: i64) {
    win3_insert(conn, talker, text, time, true);
}

/// Every message of the store, per conversation, as the store reads it now.
fn store_messages(u: &User) -> Vec<(String, Vec<Message>)> {
    let s = store::open(Path::new(&u.store), u.store_key().as_ref()).unwrap();
    let mut out: Vec<(String, Vec<Message>)> = s
        .conversations()
        .unwrap()
        .into_iter()
        .map(|c| {
            let m = s.messages(&c.id, &MessageQuery::default()).unwrap();
            (c.id, m)
        })
        .collect();
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

/// What matters of a message for "the restore equals the store".
fn key_of(m: &serde_json::Value) -> (String, String, String, bool) {
    (
        m["id"].as_str().unwrap_or_default().to_string(),
        m["at"].as_str().unwrap_or_default().to_string(),
        m["text"].as_str().unwrap_or_default().to_string(),
        m["from_me"].as_bool().unwrap_or_default(),
    )
}

/// Restores the latest snapshot as JSON and checks every conversation equals the store.
fn assert_restore_equals_store(u: &User, name: &str) {
    let out = u.path(name);
    u.restore_into(&out, "json");
    let expected = store_messages(u);
    // Each exported file names its conversation inside (file names follow titles).
    let mut files = std::collections::HashMap::new();
    for e in std::fs::read_dir(&out).unwrap() {
        let path = e.unwrap().path();
        if path.extension().is_some_and(|x| x == "json") {
            let v: serde_json::Value =
                serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
            files.insert(v["id"].as_str().unwrap().to_string(), v);
        }
    }
    for (id, messages) in &expected {
        let restored = files
            .get(id.as_str())
            .unwrap_or_else(|| panic!("{id} was not restored"));
        let got: Vec<_> = restored["messages"]
            .as_array()
            .unwrap()
            .iter()
            .map(key_of)
            .collect();
        let want: Vec<_> = messages
            .iter()
            .map(|m| key_of(&serde_json::to_value(m).unwrap()))
            .collect();
        assert_eq!(got, want, "{id} restored differs from the store");
    }
}

fn total(u: &User) -> u64 {
    store_messages(u).iter().map(|(_, m)| m.len() as u64).sum()
}

fn month_count(u: &User, id: &str, any_time: i64) -> u64 {
    let month = |t: i64| {
        jiff::Timestamp::from_second(t)
            .unwrap()
            .strftime("%Y%m")
            .to_string()
    };
    let s = store::open(Path::new(&u.store), u.store_key().as_ref()).unwrap();
    s.messages(id, &MessageQuery::default())
        .unwrap()
        .iter()
        .filter(|m| month(m.at.as_second()) == month(any_time))
        .count() as u64
}

#[test]
fn an_incremental_run_reads_only_the_new_rows_and_their_months() {
    if !has_keychain() {
        return;
    }
    let u = User::new(600);
    u.init();
    let first = u.backup(&[]);
    assert_eq!(first["incremental"], false);
    assert_eq!(first["messages_read"], total(&u), "{first}");

    // Two new messages in one conversation, in one new month (2026-01).
    let t = 1_767_225_600 + 3600;
    u.add_message("wxid_alicechen", "new one", t);
    u.add_message("wxid_alicechen", "new two", t + 60);
    let run = u.backup(&[]);
    assert_eq!(run["incremental"], true, "{run}");
    assert_eq!(run["new_rows"], 2, "{run}");
    assert_eq!(run["conversations_read"], 1, "{run}");
    assert_eq!(
        run["messages_read"],
        month_count(&u, "wxid_alicechen", t),
        "only the touched month is read again: {run}"
    );
    assert_eq!(run["new_segments"], 1, "{run}");
    assert_eq!(
        run["messages"].as_u64().unwrap(),
        first["messages"].as_u64().unwrap() + 2
    );
    assert_restore_equals_store(&u, "out-1");

    // A new message in an old month of a busy conversation: that month is rebuilt byte for
    // byte as a full read builds it, the others are kept.
    let old = store_messages(&u)
        .into_iter()
        .find(|(id, _)| id == "wxid_bobsmith")
        .unwrap()
        .1[3]
        .at
        .as_second();
    u.add_message("wxid_bobsmith", "late arrival", old + 1);
    let run = u.backup(&[]);
    assert_eq!(run["incremental"], true, "{run}");
    assert_eq!(run["new_rows"], 1, "{run}");
    assert_eq!(
        run["messages_read"],
        month_count(&u, "wxid_bobsmith", old),
        "{run}"
    );
    assert_restore_equals_store(&u, "out-2");

    // Nothing new since: nothing read at all.
    let run = u.backup(&[]);
    assert_eq!(run["unchanged"], true, "{run}");
    assert_eq!(run["messages_read"], 0, "{run}");

    // The weekly full read (here forced by a zero interval) reads everything again and
    // uploads nothing new: the incremental segments are the ones a full read makes.
    u.add_message("wxid_alicechen", "one more", t + 120);
    let full = u.ok_env(&u.backup_args(&[]), &[("CHATVAULT_FULL_READ_EVERY", "0")]);
    assert_eq!(full["incremental"], false, "{full}");
    // Everything is read (Bob's late arrival puts his rows out of time order: his are read
    // twice, see tests/scale.rs).
    assert!(
        full["messages_read"].as_u64().unwrap() >= total(&u),
        "{full}"
    );
    assert_eq!(full["conversations_read"], full["conversations"], "{full}");
    assert_eq!(
        full["new_segments"], 1,
        "only the month of the newest message changed: {full}"
    );
    assert_restore_equals_store(&u, "out-3");
}

#[test]
fn a_shard_that_did_not_change_is_opened_only_for_the_months_it_holds() {
    if !has_keychain() {
        return;
    }
    let u = User::new(600);
    u.init();
    // The store: MicroMsg.db, two message shards (the older half of the messages in
    // MSG0.db) and MediaMSG0.db (voice clips), all opened by the full read.
    let first = u.backup(&[]);
    assert_eq!(first["databases"]["opened"], 4, "{first}");

    // New messages go to the newest shard, as WeChat appends them, in a month after every
    // message of MSG0.db: MSG0.db is neither copied nor read.
    let t = 1_767_225_600 + 3600;
    u.add_message("wxid_alicechen", "new one", t);
    let run = u.backup(&[]);
    assert_eq!(run["incremental"], true, "{run}");
    assert_eq!(run["new_rows"], 1, "{run}");
    assert_eq!(
        run["databases"]["opened"], 2,
        "MicroMsg.db and MSG1.db only: {run}"
    );
    assert_restore_equals_store(&u, "out-1");

    // A late message for the store's oldest month, which MSG0.db holds: MSG0.db is unchanged
    // but is read for that month, and the month is rebuilt whole.
    let oldest = store_messages(&u)
        .iter()
        .flat_map(|(_, m)| m.iter().map(|m| m.at.as_second()))
        .min()
        .unwrap();
    u.add_message("wxid_bobsmith", "late arrival", oldest + 1);
    let run = u.backup(&[]);
    assert_eq!(run["incremental"], true, "{run}");
    let opened = run["databases"]["opened"].as_u64().unwrap();
    assert!(
        opened >= 3,
        "MSG0.db and MSG1.db, and voice if that month has any: {run}"
    );
    assert_eq!(
        run["messages_read"],
        month_count(&u, "wxid_bobsmith", oldest),
        "{run}"
    );
    assert_restore_equals_store(&u, "out-2");
}

#[test]
fn rows_that_live_only_in_the_wal_are_read() {
    if !has_keychain() {
        return;
    }
    let u = User::new(300);
    u.init();
    u.backup(&[]);
    // WeChat keeps its shards in WAL mode: new rows sit in MSG1.db-wal until a checkpoint.
    let conn = shard(&u, "MSG1.db");
    let mode: String = conn
        .query_row("PRAGMA journal_mode=WAL", [], |r| r.get(0))
        .unwrap();
    assert_eq!(mode, "wal");
    conn.pragma_update(None, "wal_autocheckpoint", 0).unwrap();
    let t = 1_767_225_600 + 7200;
    insert(&conn, "wxid_alicechen", "only in the WAL", t);
    let wal = shard_path(&u, "MSG1.db-wal");
    assert!(std::fs::metadata(&wal).unwrap().len() > 0);
    // The connection stays open: nothing is checkpointed into MSG1.db during the run.
    let run = u.backup(&[]);
    assert_eq!(run["incremental"], true, "{run}");
    assert_eq!(run["new_rows"], 1, "{run}");
    assert!(std::fs::metadata(&wal).unwrap().len() > 0);
    assert_restore_equals_store(&u, "out");
    drop(conn);
}

/// Recalls a message the way WeChat does: its row is rewritten into a system notice.
fn recall(u: &User, id: &str) {
    let mut changed = 0;
    for file in ["MSG0.db", "MSG1.db"] {
        if shard_path(u, file).exists() {
            changed += shard(u, file)
                .execute(
                    "UPDATE MSG SET Type = 10000, StrContent = 'You recalled a message' WHERE MsgSvrID = ?1",
                    [id.parse::<i64>().unwrap()],
                )
                .unwrap();
        }
    }
    assert_eq!(changed, 1, "message {id} is in one shard");
}

#[test]
fn a_recall_is_caught_when_its_month_is_read_again_and_at_the_latest_by_the_full_read() {
    if !has_keychain() {
        return;
    }
    let u = User::new(600);
    u.init();
    u.backup(&[]);
    let bob = store_messages(&u)
        .into_iter()
        .find(|(id, _)| id == "wxid_bobsmith")
        .unwrap()
        .1;
    let month = |m: &Message| m.at.strftime("%Y%m").to_string();
    let (a, b) = (
        &bob[2],
        bob.iter()
            .rev()
            .find(|m| month(m) != month(&bob[2]))
            .unwrap(),
    );
    assert!(a.id.parse::<i64>().is_ok() && b.id.parse::<i64>().is_ok());

    // 1. A recall in a month that also gets a new message: read again, caught.
    recall(&u, &a.id);
    u.add_message(
        "wxid_bobsmith",
        "same month as the recall",
        a.at.as_second() + 1,
    );
    // 2. A recall in a month without new rows: the marks cannot see it.
    recall(&u, &b.id);
    let run = u.backup(&[]);
    assert_eq!(run["incremental"], true, "{run}");
    let restored = |name: &str| -> Vec<serde_json::Value> {
        let out = u.path(name);
        u.ok(&[
            "restore",
            "--json",
            "--target",
            &u.target,
            "--conversation",
            "wxid_bobsmith",
            "--into",
            out.to_str().unwrap(),
            "--format",
            "json",
        ]);
        // One conversation restored: one JSON file (named by its title).
        let file = std::fs::read_dir(&out)
            .unwrap()
            .map(|e| e.unwrap().path())
            .find(|p| p.extension().is_some_and(|x| x == "json"))
            .unwrap();
        let v: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(file).unwrap()).unwrap();
        assert_eq!(v["id"], "wxid_bobsmith");
        v["messages"].as_array().unwrap().clone()
    };
    let text_of = |msgs: &[serde_json::Value], id: &str| {
        msgs.iter()
            .find(|m| m["id"] == id)
            .map(|m| m["text"].as_str().unwrap().to_string())
    };
    let after_inc = restored("inc");
    assert_eq!(
        text_of(&after_inc, &a.id).as_deref(),
        Some("You recalled a message"),
        "the recall in a month read again is caught"
    );
    assert_eq!(
        text_of(&after_inc, &b.id).as_deref(),
        Some(b.text.as_str()),
        "a recall in a month without new rows waits for the full read"
    );

    // The periodic full read catches it (the interval set to zero makes it due now).
    u.add_message("wxid_alicechen", "a new day", 1_767_225_600 + 86_400);
    let full = u.ok_env(&u.backup_args(&[]), &[("CHATVAULT_FULL_READ_EVERY", "0")]);
    assert_eq!(full["incremental"], false, "{full}");
    let after_full = restored("full");
    assert_eq!(
        text_of(&after_full, &b.id).as_deref(),
        Some("You recalled a message")
    );
    assert_restore_equals_store(&u, "all");

    // Within the week after a full read, runs are incremental again.
    u.add_message("wxid_alicechen", "next", 1_767_225_600 + 2 * 86_400);
    let run = u.ok_env(
        &u.backup_args(&[]),
        &[("CHATVAULT_FULL_READ_EVERY", "604800")],
    );
    assert_eq!(run["incremental"], true, "within the week: {run}");
}

#[test]
fn a_new_shard_is_read_whole() {
    if !has_keychain() {
        return;
    }
    let u = User::new(300);
    u.init();
    let first = u.backup(&[]);
    // WeChat starts MSG2.db when MSG1.db is full: same schema, new rows only there.
    std::fs::copy(shard_path(&u, "MSG1.db"), shard_path(&u, "MSG2.db")).unwrap();
    let conn = shard(&u, "MSG2.db");
    conn.execute("DELETE FROM MSG", []).unwrap();
    let t = 1_767_225_600 + 86_400 * 40;
    insert(&conn, "wxid_alicechen", "first in the new shard", t);
    insert(&conn, "wxid_bobsmith", "second in the new shard", t + 5);
    insert(&conn, "wxid_bobsmith", "third in the new shard", t + 9);
    drop(conn);
    let run = u.backup(&[]);
    assert_eq!(run["incremental"], true, "{run}");
    assert_eq!(run["new_rows"], 3, "the new shard is read whole: {run}");
    assert_eq!(run["conversations_read"], 2, "{run}");
    assert_eq!(
        run["messages"].as_u64().unwrap(),
        first["messages"].as_u64().unwrap() + 3
    );
    assert_restore_equals_store(&u, "out");
}

/// A connection to one of the demo WeChat 4.x store's message shards.
fn v4_shard(u: &User, n: u32) -> rusqlite::Connection {
    let path = Path::new(&u.store).join(format!("db_storage/message/message_{n}.db"));
    let conn = rusqlite::Connection::open(path).unwrap();
    conn.pragma_update(None, "hexkey", u.key().hex().unwrap().expose().as_str())
        .unwrap();
    conn.pragma_update(None, "cipher_compatibility", 4).unwrap();
    conn
}

fn md5_hex(s: &str) -> String {
    use md5::{Digest, Md5};
    Md5::digest(s.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[test]
fn wechat4_reads_the_new_rows_of_each_chat_table() {
    if !has_keychain() {
        return;
    }
    let u = User::with_variant(400, "wechat4");
    u.init();
    let first = u.backup(&[]);
    assert_eq!(first["incremental"], false, "{first}");
    let t = 1_767_225_600 + 600;
    v4_insert(&u, 1, "wxid_alicechen", "a new 4.x message", t);
    let run = u.backup(&[]);
    assert_eq!(run["incremental"], true, "{run}");
    assert_eq!(run["new_rows"], 1, "{run}");
    assert_eq!(run["conversations_read"], 1, "{run}");
    assert_eq!(
        run["messages_read"],
        month_count(&u, "wxid_alicechen", t),
        "{run}"
    );
    assert_restore_equals_store(&u, "out");
}

/// Adds a text message from the other side to `talker`'s chat table in 4.x `message_<n>.db`.
fn v4_insert(u: &User, n: u32, talker: &str, text: &str, t: i64) {
    let conn = v4_shard(u, n);
    conn.execute(
        &format!(
            "INSERT INTO Msg_{}(server_id, local_type, sort_seq, create_time, status, message_content) \
             VALUES (?1, 1, ?2, ?1, 2, ?3)",
            md5_hex(talker)
        ),
        rusqlite::params![t, t * 1000, text],
    )
    .unwrap();
}

#[test]
fn wechat4_leaves_a_message_db_that_did_not_change_unopened() {
    if !has_keychain() {
        return;
    }
    let u = User::with_variant(401, "wechat4");
    u.init();
    // The store: contact.db, two message shards split by time (the older half of the messages
    // in message_0.db), hardlink.db and media_0.db (voice), all opened by the full read.
    let first = u.backup(&[]);
    assert_eq!(first["incremental"], false, "{first}");
    let full = first["databases"]["opened"].as_u64().unwrap();
    assert_eq!(full, 5, "{first}");

    // New messages go to the newest shard, in a month after every message of message_0.db:
    // message_0.db is neither copied nor read.
    let t = 1_767_225_600 + 3600;
    v4_insert(&u, 1, "wxid_alicechen", "new one", t);
    let run = u.backup(&[]);
    assert_eq!(run["incremental"], true, "{run}");
    assert_eq!(run["new_rows"], 1, "{run}");
    assert_eq!(
        run["databases"]["opened"],
        full - 1,
        "all but message_0.db: {run}"
    );
    assert_eq!(
        run["messages_read"],
        month_count(&u, "wxid_alicechen", t),
        "{run}"
    );
    assert_restore_equals_store(&u, "out-1");

    // A late message for the store's oldest month, which message_0.db holds: message_0.db is
    // unchanged but is read for that month, and the month is rebuilt whole.
    let oldest = store_messages(&u)
        .iter()
        .flat_map(|(_, m)| m.iter().map(|m| m.at.as_second()))
        .min()
        .unwrap();
    v4_insert(&u, 1, "wxid_bobsmith", "late arrival", oldest + 1);
    let run = u.backup(&[]);
    assert_eq!(run["incremental"], true, "{run}");
    assert_eq!(run["databases"]["opened"], full, "{run}");
    assert_eq!(
        run["messages_read"],
        month_count(&u, "wxid_bobsmith", oldest),
        "{run}"
    );
    assert_restore_equals_store(&u, "out-2");
}

/// Adds one text message to `conversation` of a demo store of `variant`, as its app writes it.
fn add_native_message(u: &User, variant: &str, conversation: &str, text: &str, t: i64) {
    let key = std::fs::read_to_string(&u.key_file).unwrap_or_default();
    let key = key.trim();
    match variant {
        "wechat-mac3" => {
            let path = Path::new(&u.store).join("Message/msg_0.db");
            let conn = rusqlite::Connection::open(path).unwrap();
            conn.pragma_update(None, "key", format!("x'{key}'"))
                .unwrap();
            conn.pragma_update(None, "cipher_compatibility", 3).unwrap();
            conn.pragma_update(None, "cipher_page_size", 1024).unwrap();
            conn.execute(
                &format!(
                    "INSERT INTO Chat_{}(mesSvrID, msgCreateTime, msgContent, messageType, mesDes) VALUES (?1, ?1, ?2, 1, 0)",
                    md5_hex(conversation)
                ),
                rusqlite::params![t, text],
            )
            .unwrap();
        }
        "android" => {
            let conn = rusqlite::Connection::open(&u.store).unwrap();
            conn.pragma_update(None, "key", key).unwrap();
            conn.pragma_update(None, "cipher_compatibility", 1).unwrap();
            conn.pragma_update(None, "cipher_page_size", 1024).unwrap();
            conn.execute(
                "INSERT INTO message(msgSvrId, type, status, isSend, createTime, talker, content) VALUES (?1, 1, 3, 1, ?2, ?3, ?4)",
                rusqlite::params![t, t * 1000, conversation, text],
            )
            .unwrap();
        }
        "imessage" => {
            let conn = rusqlite::Connection::open(&u.store).unwrap();
            conn.execute(
                "INSERT INTO message(guid, text, date, is_from_me, service) VALUES (?1, ?2, ?3, 1, 'iMessage')",
                rusqlite::params![
                    format!("new-{t}"),
                    text,
                    (t - 978_307_200) * 1_000_000_000
                ],
            )
            .unwrap();
            let id = conn.last_insert_rowid();
            conn.execute(
                "INSERT INTO chat_message_join(chat_id, message_id, message_date) SELECT ROWID, ?1, 0 FROM chat WHERE guid = ?2",
                rusqlite::params![id, conversation],
            )
            .unwrap();
        }
        _ => unreachable!(),
    }
}

#[test]
fn macos_android_and_imessage_stores_read_only_their_new_rows() {
    if !has_keychain() {
        return;
    }
    for variant in ["wechat-mac3", "android", "imessage"] {
        let u = User::with_variant(300, variant);
        u.init();
        let first = u.backup(&[]);
        assert_eq!(first["incremental"], false, "{variant}: {first}");
        let busiest = store_messages(&u)
            .into_iter()
            .max_by_key(|(_, m)| m.len())
            .unwrap()
            .0;
        let t = 1_767_225_600 + 900;
        add_native_message(&u, variant, &busiest, "new since the last run", t);
        let run = u.backup(&[]);
        assert_eq!(run["incremental"], true, "{variant}: {run}");
        assert_eq!(run["new_rows"], 1, "{variant}: {run}");
        assert_eq!(run["conversations_read"], 1, "{variant}: {run}");
        assert_eq!(
            run["messages_read"],
            month_count(&u, &busiest, t),
            "{variant}: {run}"
        );
        assert_eq!(
            run["messages"].as_u64().unwrap(),
            first["messages"].as_u64().unwrap() + 1,
            "{variant}"
        );
        assert_restore_equals_store(&u, "out");
    }
}
