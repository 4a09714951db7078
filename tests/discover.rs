//! `chatvault stores` on fake home folders laid out as each OS and app version lays them out
//! (paths from ../shared/research/chat-stores.md §2.1, §3.1, §4, §5, §8).
use chatvault::store::discover::{discover, SearchRoots};
use chatvault::store::Variant;
use std::fs;
use std::path::{Path, PathBuf};

fn touch(root: &Path, rel: &str, bytes: usize) {
    let p = root.join(rel);
    fs::create_dir_all(p.parent().unwrap()).unwrap();
    fs::write(p, vec![0u8; bytes]).unwrap();
}

fn found(home: Option<&Path>, extra: &[PathBuf]) -> Vec<(Variant, String, PathBuf, u64)> {
    let mut v: Vec<_> = discover(&SearchRoots {
        home: home.map(Path::to_path_buf),
        extra: extra.to_vec(),
    })
    .into_iter()
    .map(|s| (s.variant, s.account_id, s.path, s.size))
    .collect();
    v.sort_by(|a, b| a.2.cmp(&b.2));
    v
}

#[test]
fn windows_home_with_wechat_3_and_4() {
    let home = tempfile::tempdir().unwrap();
    let h = home.path();
    touch(
        h,
        "Documents/WeChat Files/wxid_alice01/Msg/MicroMsg.db",
        4096,
    );
    touch(
        h,
        "Documents/WeChat Files/wxid_alice01/Msg/Multi/MSG0.db",
        8192,
    );
    touch(h, "Documents/WeChat Files/All Users/config/config.data", 10); // not an account
    touch(
        h,
        "Documents/xwechat_files/wxid_alice01_8f3a/db_storage/message/message_0.db",
        4096,
    );
    let f = found(Some(h), &[]);
    assert_eq!(f.len(), 2, "{f:?}");
    assert_eq!(
        (f[0].0, f[0].1.as_str(), f[0].3),
        (Variant::WechatWin3, "wxid_alice01", 12288)
    );
    assert_eq!(
        (f[1].0, f[1].1.as_str()),
        (Variant::Wechat4, "wxid_alice01")
    );
    assert!(f[1].2.ends_with("wxid_alice01_8f3a"));
}

#[test]
fn macos_home_with_wechat_3_wechat_4_and_imessage() {
    let home = tempfile::tempdir().unwrap();
    let h = home.path();
    let mac3 = "Library/Containers/com.tencent.xinWeChat/Data/Library/Application Support/com.tencent.xinWeChat/2.0b4.0.9/1bfa1b23d5187d6512425776b7de35d7";
    touch(h, &format!("{mac3}/Message/msg_0.db"), 1024);
    touch(h, &format!("{mac3}/Contact/wccontact_new2.db"), 1024);
    touch(h, "Library/Containers/com.tencent.xinWeChat/Data/Documents/xwechat_files/wxid_bob_beef/db_storage/message/message_0.db", 4096);
    touch(h, "Library/Messages/chat.db", 2048);
    let f = found(Some(h), &[]);
    let variants: Vec<Variant> = f.iter().map(|x| x.0).collect();
    assert!(variants.contains(&Variant::WechatMac3), "{f:?}");
    assert!(variants.contains(&Variant::Wechat4), "{f:?}");
    assert!(variants.contains(&Variant::IMessage), "{f:?}");
    assert_eq!(f.len(), 3);
    let mac = f.iter().find(|x| x.0 == Variant::WechatMac3).unwrap();
    assert_eq!(mac.1, "1bfa1b23d5187d6512425776b7de35d7");
}

#[test]
fn linux_home_with_wechat_for_linux_and_a_wine_prefix() {
    let home = tempfile::tempdir().unwrap();
    let h = home.path();
    touch(
        h,
        "Documents/xwechat_files/wxid_carol_00aa/db_storage/message/message_0.db",
        4096,
    );
    touch(
        h,
        ".wine/drive_c/users/carol/Documents/WeChat Files/wxid_carol/Msg/MicroMsg.db",
        4096,
    );
    touch(
        h,
        ".wine/drive_c/users/carol/Documents/WeChat Files/wxid_carol/Msg/Multi/MSG0.db",
        4096,
    );
    let f = found(Some(h), &[]);
    assert_eq!(f.len(), 2, "{f:?}");
    assert!(f.iter().any(|x| x.0 == Variant::WechatWin3
        && x.1 == "wxid_carol"
        && x.2.to_string_lossy().contains(".wine")));
    assert!(f
        .iter()
        .any(|x| x.0 == Variant::Wechat4 && x.1 == "wxid_carol"));
}

#[test]
fn an_android_backup_in_a_named_folder_is_found_deep_inside() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    touch(d, "phone-backup/apps/com.tencent.mm/r/MicroMsg/2c644d942ab78a4d933ed0d19f881307/EnMicroMsg.db", 1024);
    touch(d, "phone-backup/notes.txt", 10);
    let f = found(None, &[d.join("phone-backup")]);
    assert_eq!(f.len(), 1, "{f:?}");
    assert_eq!(f[0].0, Variant::Android);
    assert!(f[0].2.ends_with("EnMicroMsg.db"));
}

#[test]
fn nothing_is_found_in_an_empty_home() {
    let home = tempfile::tempdir().unwrap();
    assert!(found(Some(home.path()), &[]).is_empty());
}
