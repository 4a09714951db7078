//! The OS keychain through the real Secret Service (gnome-keyring in a private session bus).
mod common;

use chatvault::crypto::secret::Secret;
use chatvault::platform::keychain::{Keychain, OsKeychain};

#[test]
fn stores_reads_replaces_and_deletes_a_secret() {
    if common::service_env("CHATVAULT_TEST_KEYRING").is_none() {
        return;
    }
    let kc = OsKeychain::new("app.chatvault.test");
    let account = format!("smoke-{}", std::process::id());

    assert!(
        kc.get(&account).unwrap().is_none(),
        "fresh account must be empty"
    );
    kc.set(&account, &Secret::new("第一个秘密 first".to_string()))
        .unwrap();
    assert_eq!(
        kc.get(&account).unwrap().unwrap().expose(),
        "第一个秘密 first"
    );

    kc.set(&account, &Secret::new("second".to_string()))
        .unwrap();
    assert_eq!(kc.get(&account).unwrap().unwrap().expose(), "second");

    assert!(kc.delete(&account).unwrap());
    assert!(kc.get(&account).unwrap().is_none());
    assert!(
        !kc.delete(&account).unwrap(),
        "deleting twice reports there was nothing"
    );
}

#[test]
fn entries_of_different_services_do_not_mix() {
    if common::service_env("CHATVAULT_TEST_KEYRING").is_none() {
        return;
    }
    let a = OsKeychain::new("app.chatvault.test.a");
    let b = OsKeychain::new("app.chatvault.test.b");
    let account = format!("iso-{}", std::process::id());
    a.set(&account, &Secret::new("only-in-a".to_string()))
        .unwrap();
    assert!(b.get(&account).unwrap().is_none());
    assert!(a.delete(&account).unwrap());
}
