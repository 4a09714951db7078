//! The encrypted repository end to end on a local folder target (S3 and WebDAV run the same
//! suite in tests/targets_repo.rs): round trip, privacy, incremental runs, selective restore,
//! tampering, forgetting for real.
mod common;

use chatvault::crypto::recovery::{KdfParams, RecoveryCode};
use chatvault::crypto::secret::Secret;
use chatvault::crypto::MasterKey;
use chatvault::model::{Message, Selection};
use chatvault::repo::backup::{backup, BackupRequest};
use chatvault::repo::format::{kind, IndexBlob, KeyTable};
use chatvault::repo::maintenance::{forget, verify, Forget};
use chatvault::repo::restore::{restore, RestoreRequest, RestoredConversation};
use chatvault::repo::{ConvKeys, Repo};
use chatvault::run::job::{Cancel, NoProgress};
use chatvault::store::{self, ChatStore, MessageQuery, StoreKey};
use chatvault::ErrorCode;
use common::store::{demo_win3, local_op, new_repo, select_all, win3_add_message};
use std::path::{Path, PathBuf};

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/stores")
}

/// Opens a fixture store with the key its expected.json records.
fn fixture(variant: &str) -> (PathBuf, Box<dyn ChatStore>, serde_json::Value) {
    let e: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(fixtures().join(variant).join("expected.json")).unwrap(),
    )
    .unwrap();
    let root = fixtures().join(e["store_root"].as_str().unwrap());
    let key = match e["key"]["kind"].as_str().unwrap() {
        "none" => None,
        "android-imei-uin" => Some(StoreKey::AndroidDevice {
            imei: Secret::new(e["key"]["imei"].as_str().unwrap().into()),
            uin: Secret::new(e["key"]["uin"].as_str().unwrap().into()),
        }),
        _ => Some(StoreKey::parse(e["key"]["hex"].as_str().unwrap()).unwrap()),
    };
    let s = store::open(&root, key.as_ref()).unwrap();
    (root, s, e)
}

fn rt() -> tokio::runtime::Runtime {
    common::runtime()
}

/// A restore of one conversation, all of it.
fn only(conversation: &str) -> RestoreRequest {
    RestoreRequest {
        conversations: vec![conversation.into()],
        ..Default::default()
    }
}

async fn run_backup(
    repo: &Repo,
    root: &Path,
    store: &dyn ChatStore,
    sel: &Selection,
) -> chatvault::repo::backup::BackupReport {
    backup(
        repo,
        &BackupRequest {
            store,
            store_root: root,
            selection: sel,
        },
        &NoProgress,
        &Cancel::new(),
    )
    .await
    .unwrap()
}

async fn run_restore(
    repo: &Repo,
    req: RestoreRequest,
) -> chatvault::Result<Vec<RestoredConversation>> {
    restore(repo, &req, &NoProgress, &Cancel::new()).await
}

/// Every file under `dir` as (relative path, bytes).
fn files(dir: &Path) -> Vec<(String, Vec<u8>)> {
    fn walk(d: &Path, base: &Path, out: &mut Vec<(String, Vec<u8>)>) {
        for e in std::fs::read_dir(d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                walk(&p, base, out);
            } else {
                out.push((
                    p.strip_prefix(base).unwrap().to_string_lossy().into_owned(),
                    std::fs::read(&p).unwrap(),
                ));
            }
        }
    }
    let mut out = Vec::new();
    walk(dir, dir, &mut out);
    out.sort();
    out
}

#[test]
fn every_store_variant_round_trips_message_by_message() {
    for variant in [
        "wechat-win3",
        "wechat4",
        "wechat-mac3",
        "android",
        "imessage",
    ] {
        let target = tempfile::tempdir().unwrap();
        let (root, store, _) = fixture(variant);
        let sel = select_all(store.as_ref());
        rt().block_on(async {
            let (repo, _, _) = new_repo(local_op(target.path())).await;
            let report = run_backup(&repo, &root, store.as_ref(), &sel).await;
            assert!(report.messages > 0, "{variant}");
            let restored = run_restore(&repo, RestoreRequest::default()).await.unwrap();
            assert_eq!(restored.len(), sel.conversations.len(), "{variant}");
            for conv in restored {
                let original = store.messages(&conv.id, &MessageQuery::default()).unwrap();
                let mut sorted = original.clone();
                sorted.sort_by(|a, b| (a.at, a.id.as_bytes()).cmp(&(b.at, b.id.as_bytes())));
                // Sub-millisecond precision is not kept (FORMAT.md §2: times are ms).
                let trunc = |m: &Message| Message {
                    at: jiff::Timestamp::from_millisecond(m.at.as_millisecond()).unwrap(),
                    ..m.clone()
                };
                let want: Vec<Message> = sorted.iter().map(trunc).collect();
                assert_eq!(conv.messages, want, "{variant} {}", conv.id);
            }
        });
    }
}

#[test]
fn imessage_messages_outside_any_chat_are_listed_and_backed_up() {
    let target = tempfile::tempdir().unwrap();
    let (root, store, e) = fixture("imessage");
    let sel = select_all(store.as_ref());
    let outside: Vec<&serde_json::Value> = e["messages"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| {
            m["conversation_id"]
                .as_str()
                .unwrap()
                .starts_with("outside-chats:")
        })
        .collect();
    assert!(
        outside.len() >= 2,
        "the fixture has messages outside any chat"
    );
    rt().block_on(async {
        let (repo, _, _) = new_repo(local_op(target.path())).await;
        run_backup(&repo, &root, store.as_ref(), &sel).await;
        let restored = run_restore(&repo, RestoreRequest::default()).await.unwrap();
        let ids: Vec<&str> = restored
            .iter()
            .flat_map(|c| c.messages.iter().map(|m| m.id.as_str()))
            .collect();
        assert_eq!(ids.len(), e["messages"].as_array().unwrap().len());
        for m in outside {
            assert!(
                ids.contains(&m["id"].as_str().unwrap()),
                "{m} was not backed up"
            );
        }
    });
}

#[test]
fn the_target_learns_no_names_texts_ids_or_dates() {
    let target = tempfile::tempdir().unwrap();
    let mut needles: Vec<String> = Vec::new();
    rt().block_on(async {
        let (repo, _, _) = new_repo(local_op(target.path())).await;
        for variant in ["wechat-win3", "wechat4", "imessage"] {
            let (root, store, e) = fixture(variant);
            run_backup(&repo, &root, store.as_ref(), &select_all(store.as_ref())).await;
            for c in e["conversations"].as_array().unwrap() {
                needles.push(c["id"].as_str().unwrap().to_string());
                needles.push(c["title"].as_str().unwrap().to_string());
                needles.push(c["first_at"].as_str().unwrap()[..10].to_string());
            }
            for m in e["messages"].as_array().unwrap() {
                if let Some(t) = m["text"].as_str().filter(|t| t.chars().count() >= 6) {
                    needles.push(t.to_string());
                }
                if let Some(s) = m["sender_name"].as_str() {
                    needles.push(s.to_string());
                }
                needles.push(m["id"].as_str().unwrap().to_string());
                let at = m["at"].as_str().unwrap();
                needles.push(at.to_string());
                let ts: jiff::Timestamp = at.parse().unwrap();
                needles.push(ts.as_second().to_string());
                needles.push(ts.as_millisecond().to_string());
            }
            needles.push(e["account"]["id"].as_str().unwrap().to_string());
        }
    });
    needles.retain(|n| n.len() >= 4);
    needles.sort();
    needles.dedup();
    assert!(needles.len() >= 50, "only {} needles", needles.len());
    let objects = files(target.path());
    let name_re = |n: &str| {
        n == "config"
            || n.rsplit('/')
                .next()
                .is_some_and(|last| last.len() == 64 && last.bytes().all(|b| b.is_ascii_hexdigit()))
    };
    for (name, bytes) in &objects {
        assert!(name_re(name), "object name {name} is not random hex");
        for needle in &needles {
            assert!(!name.contains(needle.as_str()), "{name} names {needle}");
            let hit = bytes.windows(needle.len()).any(|w| w == needle.as_bytes());
            assert!(!hit, "{name} contains {needle:?}");
        }
    }
    assert!(objects.len() > 5);
}

#[test]
fn incremental_runs_upload_only_what_changed() {
    let store_dir = tempfile::tempdir().unwrap();
    let target = tempfile::tempdir().unwrap();
    let (root, key) = demo_win3(store_dir.path(), 600);
    rt().block_on(async {
        let (repo, _, _) = new_repo(local_op(target.path())).await;
        let store = store::open(&root, Some(&key)).unwrap();
        let sel = select_all(store.as_ref());
        let first = run_backup(&repo, &root, store.as_ref(), &sel).await;
        assert!(first.new_segments > 10);
        drop(store);
        let packs_before = files(&target.path().join("data")).len();

        // Unchanged store: nothing read, no pack, no index.
        let store = store::open(&root, Some(&key)).unwrap();
        let again = run_backup(&repo, &root, store.as_ref(), &sel).await;
        assert!(again.unchanged);
        assert_eq!(again.new_segments, 0);
        assert_eq!(files(&target.path().join("data")).len(), packs_before);
        assert_eq!(
            again.objects_uploaded, 1,
            "only the snapshot (the lock is counted outside the run)"
        );
        drop(store);

        // One new message: one segment and one tree, in one new pack.
        win3_add_message(
            &root,
            &key,
            "wxid_alicechen",
            "A brand new message 新消息",
            1_767_225_600 + 3600,
        );
        let store = store::open(&root, Some(&key)).unwrap();
        let third = run_backup(&repo, &root, store.as_ref(), &sel).await;
        assert!(!third.unchanged);
        assert_eq!(third.new_segments, 1);
        assert_eq!(
            third.conversations_read, 1,
            "only the changed conversation is read"
        );
        assert_eq!(
            third.reused_segments,
            first.new_segments + first.reused_segments
        );
        assert_eq!(files(&target.path().join("data")).len(), packs_before + 1);
        assert_eq!(third.messages, first.messages + 1);
        let restored = run_restore(&repo, only("wxid_alicechen")).await.unwrap();
        assert_eq!(
            restored[0].messages.last().unwrap().text,
            "A brand new message 新消息"
        );
    });
}

#[test]
fn restoring_one_conversation_reads_only_its_blobs() {
    let store_dir = tempfile::tempdir().unwrap();
    let target = tempfile::tempdir().unwrap();
    let (root, key) = demo_win3(store_dir.path(), 1500);
    rt().block_on(async {
        let (repo, mk, _) = new_repo(local_op(target.path())).await;
        let store = store::open(&root, Some(&key)).unwrap();
        run_backup(&repo, &root, store.as_ref(), &select_all(store.as_ref())).await;

        let measure = |convs: Vec<String>| {
            let mk = MasterKey::from_bytes(*mk.expose());
            let op = local_op(target.path());
            async move {
                let repo = Repo::open(op, &mk).await.unwrap();
                let before = repo.stats.snapshot().3;
                let out = run_restore(
                    &repo,
                    RestoreRequest {
                        conversations: convs,
                        ..Default::default()
                    },
                )
                .await
                .unwrap();
                (out, repo.stats.snapshot().3 - before)
            }
        };
        let (all, all_bytes) = measure(vec![]).await;
        let (one, one_bytes) = measure(vec!["wxid_bobsmith".into()]).await;
        assert_eq!(one.len(), 1);
        assert_eq!(all.len(), 6);
        // Metadata (index, snapshot, key table) is read either way; data is what differs.
        let (_, meta_bytes) = measure(vec!["wxid_bobsmith".into()]).await;
        assert_eq!(meta_bytes, one_bytes, "restores are repeatable");
        assert!(
            one_bytes * 2 < all_bytes,
            "one conversation read {one_bytes} bytes, all {all_bytes}"
        );
        let (ranged, ranged_bytes) = {
            let mk = MasterKey::from_bytes(*mk.expose());
            let repo = Repo::open(local_op(target.path()), &mk).await.unwrap();
            let before = repo.stats.snapshot().3;
            let out = run_restore(
                &repo,
                RestoreRequest {
                    conversations: vec!["wxid_bobsmith".into()],
                    since: Some("2024-01-01T00:00:00Z".parse().unwrap()),
                    until: Some("2024-03-31T23:59:59Z".parse().unwrap()),
                    ..Default::default()
                },
            )
            .await
            .unwrap();
            (out, repo.stats.snapshot().3 - before)
        };
        assert!(ranged[0]
            .messages
            .iter()
            .all(|m| m.at.to_string().starts_with("2024-0")));
        assert!(ranged_bytes < one_bytes);
    });
}

#[test]
fn tampering_is_detected_and_named_and_nothing_wrong_is_restored() {
    let target = tempfile::tempdir().unwrap();
    let (root, store, _) = fixture("wechat-win3");
    rt().block_on(async {
        let (repo, mk, _) = new_repo(local_op(target.path())).await;
        run_backup(&repo, &root, store.as_ref(), &select_all(store.as_ref())).await;
        run_backup(
            &repo,
            &root,
            store.as_ref(),
            &Selection {
                all: false,
                conversations: select_all(store.as_ref()).conversations[..2].to_vec(),
                since: None,
                until: None,
            },
        )
        .await;
        assert!(verify(&repo, true).await.unwrap().errors.is_empty());
        // The pack holding the tree of a conversation the restore below reads (a pack may also
        // hold blobs no snapshot needs, e.g. segments rebuilt when a store's rows were out of
        // time order).
        let (_, latest) = repo.snapshots().await.unwrap().pop().unwrap();
        let index = repo.load_index().await.unwrap();
        let loc = index.at(&latest.conversations[0].tree).unwrap();
        let hex_name = hex::encode(loc.pack);
        let pack = &target
            .path()
            .join("data")
            .join(&hex_name[..2])
            .join(&hex_name);
        let original = std::fs::read(pack).unwrap();
        let pack_name = pack.file_name().unwrap().to_string_lossy().into_owned();

        // A flipped byte in that blob.
        let mut flipped = original.clone();
        flipped[loc.offset as usize + 40] ^= 0x01;
        std::fs::write(pack, &flipped).unwrap();
        let repo = Repo::open(local_op(target.path()), &mk).await.unwrap();
        let err = run_restore(&repo, RestoreRequest::default())
            .await
            .unwrap_err();
        assert_eq!(err.code(), ErrorCode::RepoTampered, "{err}");
        assert!(err.message().contains(&pack_name), "{err}");
        let report = verify(&repo, true).await.unwrap();
        assert!(
            report
                .errors
                .iter()
                .any(|e| e.contains("repo_tampered") && e.contains(&pack_name)),
            "{:?}",
            report.errors
        );

        // A truncated pack.
        std::fs::write(pack, &original[..original.len() - 7]).unwrap();
        let report = verify(&repo, false).await.unwrap();
        assert!(
            report
                .errors
                .iter()
                .any(|e| e.contains("repo_truncated") && e.contains(&pack_name)),
            "{:?}",
            report.errors
        );
        std::fs::write(pack, &original).unwrap();
        assert!(verify(&repo, true).await.unwrap().errors.is_empty());

        // Two snapshot objects with their contents swapped.
        let snaps: Vec<PathBuf> = files(&target.path().join("snapshots"))
            .into_iter()
            .map(|(n, _)| target.path().join("snapshots").join(n))
            .collect();
        assert_eq!(snaps.len(), 2);
        let (a, b) = (
            std::fs::read(&snaps[0]).unwrap(),
            std::fs::read(&snaps[1]).unwrap(),
        );
        std::fs::write(&snaps[0], &b).unwrap();
        std::fs::write(&snaps[1], &a).unwrap();
        // Each is skipped and named as tampered, not a bricked repository.
        assert!(repo.snapshots().await.unwrap().is_empty());
        let damage = repo.damage();
        assert_eq!(damage.len(), 2, "{damage:?}");
        assert!(damage
            .iter()
            .all(|d| d.code == ErrorCode::RepoTampered && d.object.starts_with("snapshots/")));
    });
}

#[test]
fn a_wrong_master_key_is_reported_as_such() {
    let target = tempfile::tempdir().unwrap();
    rt().block_on(async {
        new_repo(local_op(target.path())).await;
        let err = Repo::open(local_op(target.path()), &MasterKey::generate())
            .await
            .err()
            .unwrap();
        assert_eq!(err.code(), ErrorCode::RepoWrongKey);
        let empty = tempfile::tempdir().unwrap();
        assert_eq!(
            Repo::open(local_op(empty.path()), &MasterKey::generate())
                .await
                .err()
                .unwrap()
                .code(),
            ErrorCode::RepoNotFound
        );
        let again = Repo::init(
            local_op(target.path()),
            &MasterKey::generate(),
            &RecoveryCode::generate(),
            KdfParams::TEST,
        )
        .await;
        assert_eq!(again.err().unwrap().code(), ErrorCode::RepoExists);
    });
}

#[test]
fn the_recovery_code_alone_recovers_the_master_key() {
    let target = tempfile::tempdir().unwrap();
    rt().block_on(async {
        let (repo, mk, code) = new_repo(local_op(target.path())).await;
        let (found, repo_id) = Repo::unlock(&local_op(target.path()), &code).await.unwrap();
        assert_eq!(found.expose(), mk.expose());
        assert_eq!(repo_id, repo.repo_id());
        let wrong = Repo::unlock(&local_op(target.path()), &RecoveryCode::generate())
            .await
            .err()
            .unwrap();
        assert_eq!(wrong.code(), ErrorCode::RecoveryCodeWrong);
    });
}

/// Opens every blob of every pack with every conversation key the key table still holds.
async fn decrypt_everything(repo: &Repo) -> Vec<Vec<u8>> {
    let (_, table): (_, KeyTable) = repo.load_keytable().await.unwrap();
    let index = repo.load_index().await.unwrap();
    let mut out = Vec::new();
    for pack in index.pack_lists() {
        for &IndexBlob { id, kind: k, .. } in &pack.blobs {
            for e in &table.entries {
                let keys = ConvKeys::new(e.ck.subkey());
                if let Ok(body) = repo.read_blob(&index, &id, &keys).await {
                    out.push(body);
                }
            }
            assert!(k == kind::TREE || k == kind::SEGMENT || k == kind::CHUNK);
        }
    }
    out
}

#[test]
fn forgetting_a_conversation_and_pruning_leaves_nothing_decryptable() {
    let target = tempfile::tempdir().unwrap();
    let (root, store, e) = fixture("wechat-win3");
    let victim = "wxid_alice01";
    let texts: Vec<String> = e["messages"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["conversation_id"] == victim && m["kind"] == "text")
        .map(|m| m["text"].as_str().unwrap().to_string())
        .collect();
    assert!(texts.len() >= 3);
    // The victim's photos, voice clips, videos and files: from each, 64 bytes that no other
    // conversation's attachment holds (JPEGs share their standard tables, for one).
    let bytes_of = |id: &str| -> Vec<Vec<u8>> {
        store
            .messages(id, &MessageQuery::default())
            .unwrap()
            .iter()
            .flat_map(|m| &m.attachments)
            .filter_map(|a| store.attachment_bytes(a))
            .collect()
    };
    let others: Vec<Vec<u8>> = store
        .conversations()
        .unwrap()
        .iter()
        .filter(|c| c.id != victim)
        .flat_map(|c| bytes_of(&c.id))
        .collect();
    let media: Vec<Vec<u8>> = bytes_of(victim)
        .iter()
        .filter_map(|b| {
            (0..b.len().saturating_sub(64))
                .rev()
                .step_by(61)
                .map(|i| &b[i..i + 64])
                .find(|w| !others.iter().any(|o| o.windows(64).any(|x| x == *w)))
                .map(<[u8]>::to_vec)
        })
        .collect();
    assert!(media.len() >= 3, "the fixture's victim has media");
    rt().block_on(async {
        let (repo, _, _) = new_repo(local_op(target.path())).await;
        let sel = select_all(store.as_ref());
        run_backup(&repo, &root, store.as_ref(), &sel).await;
        let bodies = decrypt_everything(&repo).await;
        let found = |bodies: &[Vec<u8>], t: &str| {
            bodies
                .iter()
                .any(|b| b.windows(t.len()).any(|w| w == t.as_bytes()))
        };
        let found_bytes = |bodies: &[Vec<u8>], t: &[u8]| {
            bodies.iter().any(|b| b.windows(t.len()).any(|w| w == t))
        };
        assert!(
            texts.iter().all(|t| found(&bodies, t)),
            "before: the texts are there (sanity)"
        );
        assert!(
            media.iter().all(|m| found_bytes(&bodies, m)),
            "before: the media are there (sanity)"
        );

        let report = forget(&repo, &Forget::Conversation(victim.into()), true)
            .await
            .unwrap();
        assert_eq!(report.keys_destroyed, 1);
        let bodies = decrypt_everything(&repo).await;
        for t in &texts {
            assert!(
                !found(&bodies, t),
                "{t:?} still decrypts after forget + prune"
            );
        }
        for (i, m) in media.iter().enumerate() {
            assert!(
                !found_bytes(&bodies, m),
                "attachment {i} still decrypts after forget + prune"
            );
        }
        assert!(verify(&repo, true).await.unwrap().errors.is_empty());
        let restored = run_restore(&repo, RestoreRequest::default()).await.unwrap();
        assert_eq!(restored.len(), sel.conversations.len() - 1);
        assert!(restored.iter().all(|c| c.id != victim));
        let err = run_restore(&repo, only(victim)).await.unwrap_err();
        assert_eq!(err.code(), ErrorCode::InvalidInput);
        // No pack keeps an unreachable blob: every blob opens with a remaining key.
        let index = repo.load_index().await.unwrap();
        assert_eq!(decrypt_everything(&repo).await.len(), index.blobs.len());
    });
}

#[test]
fn forgetting_a_time_range_removes_it_and_later_backups_do_not_bring_it_back() {
    let store_dir = tempfile::tempdir().unwrap();
    let target = tempfile::tempdir().unwrap();
    let (root, key) = demo_win3(store_dir.path(), 800);
    let conv = "wxid_lina1990";
    let since: jiff::Timestamp = "2023-01-01T00:00:00Z".parse().unwrap();
    let until: jiff::Timestamp = "2024-01-01T00:00:00Z".parse().unwrap();
    rt().block_on(async {
        let (repo, _, _) = new_repo(local_op(target.path())).await;
        let store = store::open(&root, Some(&key)).unwrap();
        let sel = select_all(store.as_ref());
        run_backup(&repo, &root, store.as_ref(), &sel).await;
        let all = store.messages(conv, &MessageQuery::default()).unwrap();
        let in_range: Vec<&Message> = all
            .iter()
            .filter(|m| m.at >= since && m.at < until)
            .collect();
        assert!(in_range.len() >= 5, "the demo has messages in 2023");

        forget(
            &repo,
            &Forget::Range {
                conversation: conv.into(),
                since: since.as_millisecond(),
                until: until.as_millisecond(),
            },
            true,
        )
        .await
        .unwrap();
        let restored = run_restore(&repo, only(conv)).await.unwrap();
        assert_eq!(restored[0].messages.len(), all.len() - in_range.len());
        assert!(restored[0]
            .messages
            .iter()
            .all(|m| m.at < since || m.at >= until));
        // No remaining object decrypts to a forgotten message (ids are unique strings).
        let bodies = decrypt_everything(&repo).await;
        let hay: Vec<u8> = bodies.concat();
        for m in &in_range {
            assert!(
                !hay.windows(m.id.len()).any(|w| w == m.id.as_bytes()),
                "message {} survived",
                m.id
            );
        }
        assert!(verify(&repo, true).await.unwrap().errors.is_empty());

        // The store changes (a new message elsewhere): the next backup reads it all again,
        // and still leaves the forgotten range out.
        drop(store);
        win3_add_message(
            &root,
            &key,
            "wxid_bobsmith",
            "later message",
            1_767_225_600 + 7200,
        );
        let store = store::open(&root, Some(&key)).unwrap();
        let report = run_backup(&repo, &root, store.as_ref(), &sel).await;
        assert!(!report.unchanged);
        let restored = run_restore(&repo, only(conv)).await.unwrap();
        assert_eq!(restored[0].messages.len(), all.len() - in_range.len());
    });
}

#[test]
fn retention_keeps_the_newest_snapshots_of_a_selection() {
    let store_dir = tempfile::tempdir().unwrap();
    let target = tempfile::tempdir().unwrap();
    let (root, key) = demo_win3(store_dir.path(), 300);
    rt().block_on(async {
        let (repo, _, _) = new_repo(local_op(target.path())).await;
        let mut last = String::new();
        for i in 0..4 {
            win3_add_message(
                &root,
                &key,
                "wxid_bobsmith",
                &format!("run {i}"),
                1_767_225_600 + 60 * i,
            );
            let store = store::open(&root, Some(&key)).unwrap();
            last = run_backup(&repo, &root, store.as_ref(), &select_all(store.as_ref()))
                .await
                .snapshot;
        }
        assert_eq!(repo.snapshots().await.unwrap().len(), 4);
        let policy = chatvault::repo::maintenance::Retention {
            last: Some(2),
            ..Default::default()
        };
        let forgotten = chatvault::repo::maintenance::apply_retention(&repo, &last, &policy)
            .await
            .unwrap();
        assert_eq!(forgotten.snapshots_removed, 2);
        let left = repo.snapshots().await.unwrap();
        assert_eq!(left.len(), 2);
        assert!(
            left.iter().any(|(_, s)| hex::encode(s.id) == last),
            "the newest is kept"
        );
        assert!(verify(&repo, true).await.unwrap().errors.is_empty());
        let restored = run_restore(&repo, RestoreRequest::default()).await.unwrap();
        assert!(restored
            .iter()
            .any(|c| c.messages.iter().any(|m| m.text == "run 3")));
    });
}

#[test]
fn two_runs_on_one_repository_never_overlap() {
    use chatvault::repo::lock::{Lock, Mode, Op};
    let target = tempfile::tempdir().unwrap();
    let (root, store, _) = fixture("wechat-win3");
    rt().block_on(async {
        let (repo, mk, _) = new_repo(local_op(target.path())).await;
        // Another run (another process, the app or a timer) holds the repository.
        let other = Repo::open(local_op(target.path()), &mk).await.unwrap();
        let held = Lock::acquire(&other, Mode::Append, Op::Backup)
            .await
            .unwrap();
        let sel = select_all(store.as_ref());
        let err = backup(
            &repo,
            &BackupRequest {
                store: store.as_ref(),
                store_root: &root,
                selection: &sel,
            },
            &NoProgress,
            &Cancel::new(),
        )
        .await
        .unwrap_err();
        assert_eq!(err.code(), ErrorCode::RepoLocked, "{err}");
        assert!(
            err.message().contains("backup"),
            "names what holds it: {err}"
        );
        // A prune must wait too; a restore may read alongside.
        assert_eq!(
            chatvault::repo::maintenance::prune(&repo)
                .await
                .unwrap_err()
                .code(),
            ErrorCode::RepoLocked
        );
        held.release(&other).await.unwrap();
        run_backup(&repo, &root, store.as_ref(), &sel).await;
        assert!(
            repo.list_names("locks/").await.unwrap().is_empty(),
            "every lease is released"
        );
    });
}

#[test]
fn attachment_files_are_chunked_encrypted_deduplicated_and_restored_byte_for_byte() {
    let store_dir = tempfile::tempdir().unwrap();
    let target = tempfile::tempdir().unwrap();
    let out = tempfile::tempdir().unwrap();
    let (root, key) = demo_win3(store_dir.path(), 900);
    rt().block_on(async {
        let (repo, _, _) = new_repo(local_op(target.path())).await;
        let store = store::open(&root, Some(&key)).unwrap();
        let sel = select_all(store.as_ref());
        let first = run_backup(&repo, &root, store.as_ref(), &sel).await;
        assert!(
            first.attachments >= 5,
            "the demo has image files: {first:?}"
        );

        // Every file the store has, restored next to an export, identical.
        let restored = run_restore(
            &repo,
            RestoreRequest {
                attachments_dir: Some(out.path().to_path_buf()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
        let mut compared = 0;
        for conv in &restored {
            let originals = store.messages(&conv.id, &MessageQuery::default()).unwrap();
            for m in conv.messages.iter().filter(|m| !m.attachments.is_empty()) {
                let original = originals.iter().find(|o| o.id == m.id).unwrap();
                // A photo comes with its thumbnail, a video with its poster: each is a file.
                assert_eq!(m.attachments.len(), original.attachments.len());
                for (a, o) in m.attachments.iter().zip(&original.attachments) {
                    assert_eq!(a.role, o.role);
                    let source = store.attachment_bytes(o).unwrap();
                    let copy = out.path().join(&a.path);
                    assert_eq!(std::fs::read(&copy).unwrap(), source, "{}", copy.display());
                    compared += 1;
                }
            }
        }
        assert_eq!(compared as u32, first.attachments);

        // The bytes never reach the target in the clear.
        let sample = store
            .attachment_bytes(
                &restored
                    .iter()
                    .flat_map(|c| &c.messages)
                    .find(|m| !m.attachments.is_empty())
                    .map(|m| {
                        let conv = restored
                            .iter()
                            .find(|c| c.messages.iter().any(|x| x.id == m.id))
                            .unwrap();
                        store
                            .messages(&conv.id, &MessageQuery::default())
                            .unwrap()
                            .into_iter()
                            .find(|o| o.id == m.id)
                            .unwrap()
                            .attachments[0]
                            .clone()
                    })
                    .unwrap(),
            )
            .unwrap();
        let needle = &sample[64..128];
        for (name, bytes) in files(target.path()) {
            assert!(
                !bytes.windows(needle.len()).any(|w| w == needle),
                "{name} holds attachment bytes"
            );
        }

        // Unchanged files are not uploaded again; prune keeps the chunks snapshots still need.
        drop(store);
        win3_add_message(
            &root,
            &key,
            "wxid_alicechen",
            "new text",
            1_767_225_600 + 10,
        );
        let store = store::open(&root, Some(&key)).unwrap();
        let second = run_backup(&repo, &root, store.as_ref(), &sel).await;
        assert!(
            second.bytes_uploaded < first.attachment_bytes / 4,
            "{second:?}"
        );
        chatvault::repo::maintenance::prune(&repo).await.unwrap();
        assert!(verify(&repo, true).await.unwrap().errors.is_empty());
    });
}

/// FORMAT.md §4: decoders cap a chunk's output at 4 MiB (everything else at 64 MiB), so a chunk
/// blob one byte larger is corrupt, while a segment of that size opens.
#[test]
fn a_chunk_over_4_mib_is_corrupt() {
    use chatvault::crypto::envelope::{self, Padding};
    use chatvault::crypto::SubKey;
    use chatvault::repo::pack::{PackWriter, CLASS_A, CLASS_S};
    let dir = tempfile::tempdir().unwrap();
    rt().block_on(async {
        let (repo, _, _) = new_repo(local_op(dir.path())).await;
        let keys = ConvKeys::new(SubKey::generate());
        let body = vec![7u8; (4 << 20) + 1];
        let mut packs = Vec::new();
        let mut ids = Vec::new();
        for (k, class) in [(kind::CHUNK, CLASS_A), (kind::SEGMENT, CLASS_S)] {
            let id = keys.blob_id(k, &body);
            let identity = format!("blob/{}", hex::encode(id));
            let sealed = envelope::Binding::new(&keys.aead, repo.key_id(), k, &identity)
                .seal(&body, Padding::Padme);
            let mut writer = PackWriter::new(class, 16 << 20);
            writer.add(id, k, sealed, body.len());
            packs.push(writer.upload(&repo).await.unwrap());
            ids.push(id);
        }
        repo.write_index(packs, Vec::new()).await.unwrap();
        let index = repo.load_index().await.unwrap();
        let err = repo.read_blob(&index, &ids[0], &keys).await.unwrap_err();
        assert_eq!(err.code(), ErrorCode::RepoCorrupt, "{err:?}");
        assert_eq!(repo.read_blob(&index, &ids[1], &keys).await.unwrap(), body);
    });
}

/// Every photo file under `d`, in path order.
fn photo_files(d: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut entries: Vec<PathBuf> = std::fs::read_dir(d)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            out.extend(photo_files(&p));
        } else if p.to_string_lossy().contains("/Image/") && p.to_string_lossy().ends_with(".dat") {
            out.push(p);
        }
    }
    out
}

/// `len` pseudo-random bytes (xorshift from `seed`): as incompressible as a photo.
fn noise(seed: u64, len: usize) -> Vec<u8> {
    let mut x = seed;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect()
}

/// The attachment chunks the repository's packs hold, one entry per stored copy.
fn chunk_blobs(index: &chatvault::repo::Index) -> Vec<IndexBlob> {
    index
        .pack_lists()
        .flat_map(|p| p.blobs)
        .filter(|b| b.kind == kind::CHUNK)
        .collect()
}

#[test]
fn a_chunk_in_a_pack_still_on_its_way_is_not_stored_again() {
    let store_dir = tempfile::tempdir().unwrap();
    let target = tempfile::tempdir().unwrap();
    let (root, key) = demo_win3(store_dir.path(), 300);
    // Two photos with the same 24 MiB of random bytes: more than an attachment pack holds
    // (16 MiB), so while the second photo is read the first one's first pack has been sent and
    // has not landed yet (it is indexed only when the pack after it is sent, or at the end).
    // Its chunks must count as stored all the same.
    let photos = photo_files(&root.join("FileStorage"));
    assert!(photos.len() >= 2, "the demo has photos");
    let content = noise(0x2545_F491_4F6C_DD1D, 24 << 20);
    for p in &photos[..2] {
        std::fs::write(p, &content).unwrap();
    }
    rt().block_on(async {
        let (repo, _, _) = new_repo(local_op(target.path())).await;
        let store = store::open(&root, Some(&key)).unwrap();
        let sel = select_all(store.as_ref());
        let report = run_backup(&repo, &root, store.as_ref(), &sel).await;
        assert!(
            report.attachment_bytes >= 2 * content.len() as u64,
            "{report:?}"
        );
        let index = repo.load_index().await.unwrap();
        let chunks = chunk_blobs(&index);
        let distinct: std::collections::HashSet<_> = chunks.iter().map(|b| b.id).collect();
        assert_eq!(chunks.len(), distinct.len(), "a chunk was stored twice");
        let stored: u64 = chunks.iter().map(|b| b.raw_len as u64).sum();
        assert!(
            stored < content.len() as u64 + (8 << 20),
            "the second photo was stored again: {stored} bytes of chunks"
        );
        assert!(
            index
                .packs
                .values()
                .filter(|p| p.class == chatvault::repo::pack::CLASS_A)
                .count()
                >= 2,
            "the photo spans packs"
        );
    });
}

#[test]
fn repeated_content_within_an_attachment_is_stored_once() {
    let store_dir = tempfile::tempdir().unwrap();
    let target = tempfile::tempdir().unwrap();
    let out = tempfile::tempdir().unwrap();
    let (root, key) = demo_win3(store_dir.path(), 300);
    // One photo becomes a 2 MiB random block eight times over: its chunks repeat within one
    // window of the backup's pipeline (chunks are identified and sealed 8 at a time, on all
    // cores) and across windows. Each must be sealed and stored once.
    let photo = photo_files(&root.join("FileStorage"))
        .into_iter()
        .next()
        .expect("the demo has photos");
    let content = noise(0x9E37_79B9_7F4A_7C15, 2 << 20).repeat(8);
    std::fs::write(&photo, &content).unwrap();
    rt().block_on(async {
        let (repo, _, _) = new_repo(local_op(target.path())).await;
        let store = store::open(&root, Some(&key)).unwrap();
        let sel = select_all(store.as_ref());
        let report = run_backup(&repo, &root, store.as_ref(), &sel).await;
        assert!(
            report.attachment_bytes >= content.len() as u64,
            "{report:?}"
        );
        // Every chunk is stored once: the packs hold as many chunk blobs as there are distinct
        // chunk ids. (Where the keyed chunker cuts the repeats depends on the master key, so
        // how many distinct chunks the photo has varies from run to run; that each is stored
        // once does not.)
        let index = repo.load_index().await.unwrap();
        let stored = chunk_blobs(&index);
        let distinct: std::collections::HashSet<_> = stored.iter().map(|b| b.id).collect();
        assert_eq!(
            stored.len(),
            distinct.len(),
            "a repeated chunk was stored again"
        );

        run_restore(
            &repo,
            RestoreRequest {
                attachments_dir: Some(out.path().to_path_buf()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
        assert!(
            files(out.path()).iter().any(|(_, b)| *b == content),
            "the photo comes back byte for byte"
        );
    });
}

#[test]
fn a_big_index_compacts_into_objects_under_4_mib_that_load_whole() {
    use chatvault::repo::format::{BlobId, IndexPack, Name, PackClass};
    // 40 index objects of 3,000 blobs each: one body of them all would be about 5.8 MiB.
    let target = tempfile::tempdir().unwrap();
    rt().block_on(async {
        let (repo, _, _) = new_repo(local_op(target.path())).await;
        let id = |pack: u32, blob: u32| {
            let mut b = [0u8; 32];
            b[..4].copy_from_slice(&pack.to_le_bytes());
            b[4..8].copy_from_slice(&blob.to_le_bytes());
            b[8..].copy_from_slice(&[0x5a; 24]);
            b
        };
        for p in 0..40u32 {
            let blobs = (0..3_000u32)
                .map(|b| IndexBlob {
                    id: BlobId(id(p, b)),
                    kind: kind::SEGMENT,
                    offset: b * 1_000,
                    length: 900 + b % 97,
                    raw_len: 2_000 + b,
                })
                .collect();
            let pack = IndexPack {
                name: Name(id(p, u32::MAX)),
                class: PackClass::S,
                len: 3_000_000,
                blobs,
            };
            repo.write_index(vec![pack], Vec::new()).await.unwrap();
        }
        let before = repo.load_index().await.unwrap();
        assert_eq!(before.objects.len(), 40);
        assert_eq!(before.blobs.len(), 120_000);
        chatvault::repo::backup::compact_index(&repo, &before, false)
            .await
            .unwrap();

        let objects: Vec<u64> = std::fs::read_dir(target.path().join("index"))
            .unwrap()
            .map(|e| e.unwrap().metadata().unwrap().len())
            .collect();
        assert!(objects.len() >= 2, "{objects:?}");
        assert!(
            objects.iter().all(|&len| len <= (4 << 20) + 4096),
            "{objects:?}"
        );
        let after = repo.load_index().await.unwrap();
        assert_eq!(after.objects.len(), objects.len());
        assert_eq!(after.blobs.len(), before.blobs.len());
        assert!(before.blobs.ids().all(|id| after.at(id) == before.at(id)));
        assert!(after.pack_lists().eq(before.pack_lists()));
    });
}
