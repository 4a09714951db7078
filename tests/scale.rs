//! Reading stores in one pass (issue 11): the one-pass reader gives the same messages as the
//! per-conversation one, also when a store's rows are not in time order, and a preview page is
//! the same page a full read gives. Speed itself is measured by scripts/bench-store.sh.
mod common;

use chatvault::crypto::recovery::{KdfParams, RecoveryCode};
use chatvault::crypto::MasterKey;
use chatvault::model::Selection;
use chatvault::repo::backup::{backup, BackupRequest};
use chatvault::repo::restore::{restore, RestoreRequest};
use chatvault::repo::Repo;
use chatvault::run::job::{Cancel, NoProgress};
use chatvault::store::{self, MessageQuery, StoreKey, Variant};
use common::store::{local_op, win3_insert, win3_shard};
use std::path::Path;

/// Inserts a message the way an import of old history does: an old time, a new row at the end.
fn import_old_message(root: &Path, key: &StoreKey, talker: &str, text: &str, time: i64) {
    win3_insert(&win3_shard(root, "MSG1.db", key), talker, text, time, false);
}

#[test]
fn a_conversation_whose_rows_are_out_of_time_order_is_backed_up_whole() {
    let store_dir = tempfile::tempdir().unwrap();
    let target = tempfile::tempdir().unwrap();
    let demo = store::demo::write(store_dir.path(), Variant::WechatWin3, 600).unwrap();
    let key = StoreKey::parse(&demo.key.unwrap()).unwrap();
    // Three old messages land after the newest rows, in months already seen earlier.
    for (i, t) in [1_483_228_800, 1_500_000_000, 1_420_070_400]
        .iter()
        .enumerate()
    {
        import_old_message(
            &demo.path,
            &key,
            "wxid_bobsmith",
            &format!("imported {i}"),
            *t,
        );
    }
    let s = store::open(&demo.path, Some(&key)).unwrap();
    let expected = s
        .messages("wxid_bobsmith", &MessageQuery::default())
        .unwrap();
    assert!(expected.iter().any(|m| m.text == "imported 2"));
    common::runtime().block_on(async {
        let mk = MasterKey::generate();
        let repo = Repo::init(
            local_op(target.path()),
            &mk,
            &RecoveryCode::generate(),
            KdfParams::TEST,
        )
        .await
        .unwrap();
        let selection = Selection::everything();
        let req = BackupRequest {
            store: s.as_ref(),
            store_root: &demo.path,
            selection: &selection,
        };
        let report = backup(&repo, &req, &NoProgress, &Cancel::new())
            .await
            .unwrap();
        assert_eq!(report.messages, 603);
        let restored = restore(
            &repo,
            &RestoreRequest {
                conversations: vec!["wxid_bobsmith".into()],
                ..Default::default()
            },
            &NoProgress,
            &Cancel::new(),
        )
        .await
        .unwrap();
        let got: Vec<(String, String)> = restored[0]
            .messages
            .iter()
            .map(|m| (m.id.clone(), m.text.clone()))
            .collect();
        let want: Vec<(String, String)> = expected
            .iter()
            .map(|m| (m.id.clone(), m.text.clone()))
            .collect();
        assert_eq!(got, want);
        let v = chatvault::repo::maintenance::verify(&repo, true)
            .await
            .unwrap();
        assert!(v.errors.is_empty(), "{:?}", v.errors);
    });
}

#[test]
fn one_pass_reading_gives_what_per_conversation_reading_gives() {
    let store_dir = tempfile::tempdir().unwrap();
    let demo = store::demo::write(store_dir.path(), Variant::WechatWin3, 800).unwrap();
    let key = StoreKey::parse(&demo.key.unwrap()).unwrap();
    let s = store::open(&demo.path, Some(&key)).unwrap();
    let convs = s.conversations().unwrap();
    let ids: Vec<String> = convs.iter().map(|c| c.id.clone()).collect();
    let mut scanned: std::collections::HashMap<String, Vec<String>> = Default::default();
    s.scan(&ids, &mut |id, m| {
        scanned.entry(id.to_string()).or_default().push(m.id);
        Ok(())
    })
    .unwrap();
    for c in &convs {
        let mut one: Vec<String> = s
            .messages(&c.id, &MessageQuery::default())
            .unwrap()
            .into_iter()
            .map(|m| m.id)
            .collect();
        let mut got = scanned.remove(&c.id).unwrap_or_default();
        one.sort();
        got.sort();
        assert_eq!(got, one, "{}", c.id);
        assert_eq!(got.len() as u64, c.message_count);
    }
}

#[test]
fn a_preview_page_is_the_first_page_of_the_full_read() {
    for variant in [Variant::WechatWin3, Variant::Wechat4, Variant::WechatMac3] {
        let store_dir = tempfile::tempdir().unwrap();
        let demo = store::demo::write(store_dir.path(), variant, 700).unwrap();
        let key = StoreKey::parse(&demo.key.unwrap()).unwrap();
        let s = store::open(&demo.path, Some(&key)).unwrap();
        for c in s.conversations().unwrap() {
            let all = s.messages(&c.id, &MessageQuery::default()).unwrap();
            let page = s
                .messages(
                    &c.id,
                    &MessageQuery {
                        limit: Some(25),
                        ..Default::default()
                    },
                )
                .unwrap();
            let want: Vec<&str> = all.iter().take(25).map(|m| m.id.as_str()).collect();
            let got: Vec<&str> = page.iter().map(|m| m.id.as_str()).collect();
            assert_eq!(got, want, "{variant:?} {}", c.id);
        }
    }
}
