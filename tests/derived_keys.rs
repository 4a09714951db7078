//! Each database file's derived key is kept in the OS keychain after its first open (issue 11):
//! later runs open the files with it instead of deriving it again (256,000 rounds of
//! PBKDF2-HMAC-SHA512 per WeChat 4.x file). Driven through the CLI, whose `backup --json`
//! report counts how the run keyed its databases, against the real keychain (gnome-keyring
//! under scripts/services.sh).
mod common;

use common::user::User;
use std::path::Path;

fn has_keychain() -> bool {
    common::service_env("CHATVAULT_TEST_KEYRING").is_some()
}

/// (opened, keys derived, keys kept) of a backup's report.
fn keyed(run: &serde_json::Value) -> (u64, u64, u64) {
    let d = &run["databases"];
    (
        d["opened"].as_u64().unwrap(),
        d["keys_derived"].as_u64().unwrap(),
        d["keys_kept"].as_u64().unwrap(),
    )
}

#[test]
fn a_second_run_opens_every_database_with_its_kept_key_and_a_recreated_file_derives_again() {
    if !has_keychain() {
        return;
    }
    let u = User::with_variant(300, "wechat4");
    u.init();
    let (opened, derived, kept) = keyed(&u.backup(&[]));
    assert!(opened >= 2, "contact.db and the message shards: {opened}");
    assert_eq!(
        (derived, kept),
        (opened, 0),
        "the first run derives each key"
    );

    let run = u.backup(&[]);
    let (opened, derived, kept) = keyed(&run);
    assert_eq!((derived, kept), (0, opened), "{run}");

    // WeChat re-creates a database file: same account key, a new salt. It derives again; the
    // others still use their kept keys.
    let other = User::with_variant(300, "wechat4");
    let shard = |u: &User| Path::new(&u.store).join("db_storage/message/message_0.db");
    let before = std::fs::read(shard(&u)).unwrap();
    std::fs::copy(shard(&other), shard(&u)).unwrap();
    assert_ne!(before[..16], std::fs::read(shard(&u)).unwrap()[..16]);
    let run = u.backup(&[]);
    let (opened, derived, kept) = keyed(&run);
    assert_eq!((derived, kept), (1, opened - 1), "{run}");
    let run = u.backup(&[]);
    let (opened, derived, kept) = keyed(&run);
    assert_eq!((derived, kept), (0, opened), "{run}");

    // A wrong account key finds nothing kept and is told as before.
    let wrong = u.path("wrong.key");
    std::fs::write(&wrong, "ab".repeat(32)).unwrap();
    let e = u.err(&[
        "backup",
        "--json",
        "--target",
        &u.target,
        "--store",
        &u.store,
        "--key-file",
        wrong.to_str().unwrap(),
    ]);
    assert_eq!(e["code"], "store_wrong_key", "{e}");
}

#[test]
fn windows_3x_databases_keep_their_keys_too() {
    if !has_keychain() {
        return;
    }
    let u = User::new(200);
    u.init();
    let (opened, derived, _) = keyed(&u.backup(&[]));
    assert_eq!(derived, opened);
    u.add_message("wxid_alicechen", "new", 1_767_225_600);
    let run = u.backup(&[]);
    let (opened, derived, kept) = keyed(&run);
    assert_eq!((derived, kept), (0, opened), "{run}");
    assert_eq!(run["incremental"], true, "{run}");
}
