//! The promises of issue 10, each driven the way a user meets it: forget sticks, retention runs,
//! long runs keep their lease, a damaged or rolled-back target loses nothing silently.
//! The CLI tests use the real OS keychain (gnome-keyring under scripts/test.sh).
mod common;

use chatvault::crypto::MasterKey;
use chatvault::error::ErrorCode;
use chatvault::model::Selection;
use chatvault::repo::backup::{backup, BackupRequest};
use chatvault::repo::lock::LeaseTimes;
use chatvault::repo::maintenance::prune;
use chatvault::repo::restore::{restore, RestoreRequest};
use chatvault::repo::{ConvKeys, Repo};
use chatvault::run::job::{Cancel, NoProgress, Progress};
use chatvault::store;
use common::user::{files_under, User};
use opendal::Operator;
use std::path::Path;

fn has_keychain() -> bool {
    common::service_env("CHATVAULT_TEST_KEYRING").is_some()
}

/// Opens every blob of every pack with every conversation key the key table still holds.
async fn decrypt_everything(repo: &Repo) -> Vec<Vec<u8>> {
    let (_, table) = repo.load_keytable().await.unwrap();
    let index = repo.load_index().await.unwrap();
    let mut out = Vec::new();
    for pack in index.pack_lists() {
        for b in &pack.blobs {
            for e in &table.entries {
                let keys = ConvKeys::new(e.ck.subkey());
                if let Ok(body) = repo.read_blob(&index, &b.id, &keys).await {
                    out.push(body);
                }
            }
        }
    }
    out
}

fn contains(bodies: &[Vec<u8>], text: &str) -> bool {
    bodies
        .iter()
        .any(|b| b.windows(text.len()).any(|w| w == text.as_bytes()))
}

fn local(dir: &Path) -> Operator {
    chatvault::target::TargetSpec::Local {
        path: dir.to_path_buf(),
    }
    .operator(&Default::default())
    .unwrap()
}

#[test]
fn a_forgotten_conversation_stays_gone_when_new_messages_arrive_and_all_is_selected() {
    if !has_keychain() {
        return;
    }
    let u = User::new(300);
    let repo_id = u.init();
    u.add_message(
        "wxid_alicechen",
        "before forget: the secret plan",
        1_767_225_600,
    );
    // A profile that selects every conversation, as most users save it.
    u.backup(&["--save-profile", "everything"]);
    let out = u.ok(&[
        "forget",
        "--json",
        "--target",
        &u.target,
        "--conversation",
        "wxid_alicechen",
        "--prune",
    ]);
    assert_eq!(out["keys_destroyed"], 1);
    // New messages arrive, also in the forgotten conversation, then two scheduled-style runs.
    u.add_message(
        "wxid_alicechen",
        "after forget: still secret",
        1_767_225_700,
    );
    u.add_message("wxid_bobsmith", "after forget: hello Bob", 1_767_225_800);
    let run = u.ok(&["backup", "--json", "--profile", "everything"]);
    assert_eq!(run["skipped_forgotten"], 1, "{run}");
    u.add_message("wxid_bobsmith", "after forget: second", 1_767_225_900);
    u.ok(&["backup", "--json", "--profile", "everything"]);

    // Nothing of it is restorable...
    let err = u.err(&[
        "restore",
        "--json",
        "--target",
        &u.target,
        "--conversation",
        "wxid_alicechen",
        "--into",
        u.path("out-a").to_str().unwrap(),
    ]);
    assert_eq!(err["code"], "invalid_input", "{err}");
    u.restore_into(&u.path("out-all"), "json");
    let exported: String = files_under(&u.path("out-all"))
        .iter()
        .map(|f| String::from_utf8_lossy(&std::fs::read(f).unwrap()).into_owned())
        .collect();
    assert!(
        exported.contains("after forget: second"),
        "the rest is backed up"
    );
    assert!(!exported.contains("still secret") && !exported.contains("the secret plan"));

    // ...and after a prune no blob on the target decrypts to it, with any key that is left.
    u.ok(&["prune", "--json", "--target", &u.target]);
    let mk: MasterKey = u.master_key(&repo_id);
    common::runtime().block_on(async {
        let repo = Repo::open(local(&u.target_dir()), &mk).await.unwrap();
        let bodies = decrypt_everything(&repo).await;
        assert!(
            contains(&bodies, "after forget: hello Bob"),
            "sanity: the scan sees text"
        );
        // (Alice's name and id may still appear as a member of group chats that were kept.)
        for t in ["the secret plan", "still secret"] {
            assert!(!contains(&bodies, t), "{t:?} still decrypts");
        }
    });

    // The user includes it again, on purpose: the next run backs it up.
    let listed = u.ok(&[
        "forgotten",
        "--json",
        "--target",
        &u.target,
        "--store",
        &u.store,
        "--key-file",
        &u.key_file,
    ]);
    assert_eq!(listed["forgotten"][0]["id"], "wxid_alicechen", "{listed}");
    assert_eq!(listed["forgotten"][0]["whole"], true);
    let back = u.ok(&[
        "forgotten",
        "--json",
        "--target",
        &u.target,
        "--store",
        &u.store,
        "--key-file",
        &u.key_file,
        "--include",
        "wxid_alicechen",
    ]);
    assert_eq!(back["included"], 1);
    assert!(back["forgotten"].as_array().unwrap().is_empty());
    let run = u.ok(&["backup", "--json", "--profile", "everything"]);
    assert_eq!(run["skipped_forgotten"], 0);
    u.ok(&[
        "restore",
        "--json",
        "--target",
        &u.target,
        "--conversation",
        "wxid_alicechen",
        "--into",
        u.path("out-again").to_str().unwrap(),
    ]);
}

#[test]
fn retention_runs_after_every_run_of_a_profile_with_a_policy() {
    if !has_keychain() {
        return;
    }
    let u = User::new(200);
    u.init();
    u.backup(&["--keep-last", "1", "--save-profile", "p"]);
    for i in 0..2 {
        u.add_message("wxid_bobsmith", &format!("run {i}"), 1_767_225_600 + i);
        let run = u.ok(&["backup", "--json", "--profile", "p"]);
        assert_eq!(run["snapshots_removed"], 1, "{run}");
    }
    assert_eq!(u.snapshots().len(), 1, "keep-last 1 holds after each run");
    // The history says what retention removed.
    let history = std::fs::read_to_string(u.path("data/chatvault/history.jsonl")).unwrap();
    let last: serde_json::Value = serde_json::from_str(history.lines().last().unwrap()).unwrap();
    assert_eq!(last["snapshots_removed"], 1);
    let verify = u.ok(&["verify", "--json", "--read-data", "--target", &u.target]);
    assert!(verify["errors"].as_array().unwrap().is_empty(), "{verify}");
}

#[test]
fn a_target_without_a_repository_says_so() {
    if !has_keychain() {
        return;
    }
    let u = User::new(50);
    let empty = format!("file://{}", u.path("nothing-here").display());
    std::fs::create_dir_all(u.path("nothing-here")).unwrap();
    let err = u.err(&["snapshots", "--json", "--target", &empty]);
    assert_eq!(err["code"], "repo_not_found", "{err}");
}

#[test]
fn damaged_snapshots_and_index_objects_are_skipped_named_and_block_only_prune() {
    if !has_keychain() {
        return;
    }
    let u = User::new(200);
    let repo_id = u.init();
    for i in 0..3 {
        u.add_message("wxid_bobsmith", &format!("run {i}"), 1_767_225_600 + i);
        u.backup(&[]);
    }
    let snaps = files_under(&u.target_dir().join("snapshots"));
    assert_eq!(snaps.len(), 3);
    // One snapshot object is cut short.
    let victim = &snaps[0];
    let bytes = std::fs::read(victim).unwrap();
    std::fs::write(victim, &bytes[..bytes.len() / 2]).unwrap();
    // This computer still holds the intact, authenticated copy it wrote (FORMAT.md §7.3) and
    // keeps using it; verify and prune, which judge the target, do not (below). A computer
    // without that copy (here: its cache deleted) skips the damaged object and names it.
    assert_eq!(u.snapshots().len(), 3);
    std::fs::remove_dir_all(u.path(&format!("cache/chatvault/repos/{repo_id}/objects"))).unwrap();

    // Listing and restoring the rest keep working; the damage is named.
    let out = u.run(&["snapshots", "--json", "--target", &u.target]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let rows: Vec<serde_json::Value> = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(rows.len(), 2);
    let stderr = String::from_utf8_lossy(&out.stderr);
    let victim_name = victim.file_name().unwrap().to_str().unwrap();
    assert!(stderr.contains(victim_name), "{stderr}");
    u.ok(&[
        "restore",
        "--json",
        "--target",
        &u.target,
        "--snapshot",
        "latest",
        "--into",
        u.path("out").to_str().unwrap(),
    ]);

    // One index object grows to 100 MiB: it is refused before it is read.
    let index = files_under(&u.target_dir().join("index"));
    let huge = index.last().unwrap();
    std::fs::OpenOptions::new()
        .write(true)
        .open(huge)
        .unwrap()
        .set_len(100 << 20)
        .unwrap();

    // Verify reports every damaged object, with what it affects.
    let out = u.run(&["verify", "--json", "--read-data", "--target", &u.target]);
    assert_eq!(out.status.code(), Some(1));
    // The report, then the error that sets the exit code.
    let report: serde_json::Value = serde_json::Deserializer::from_slice(&out.stdout)
        .into_iter()
        .next()
        .unwrap()
        .unwrap();
    let errors: Vec<String> = report["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e.as_str().unwrap().to_string())
        .collect();
    let huge_name = huge.file_name().unwrap().to_str().unwrap();
    assert!(
        errors
            .iter()
            .any(|e| e.contains(victim_name) && e.contains("repo_truncated")),
        "{errors:?}"
    );
    assert!(
        errors
            .iter()
            .any(|e| e.contains(huge_name) && e.contains("larger than")),
        "{errors:?}"
    );

    // Prune, which deletes, refuses to run on a partial view, and deletes nothing.
    let before = files_under(&u.target_dir());
    let err = u.err(&["prune", "--json", "--target", &u.target]);
    assert_eq!(err["code"], "repo_corrupt", "{err}");
    assert!(err["message"]
        .as_str()
        .unwrap()
        .contains("before deleting anything"));
    assert_eq!(files_under(&u.target_dir()), before);
}

#[test]
fn a_pack_that_vanished_is_uploaded_again_instead_of_trusted() {
    if !has_keychain() {
        return;
    }
    let u = User::new(300);
    u.init();
    u.backup(&[]);
    // Local targets write through a temporary folder and rename: nothing is left there.
    let tmp = u.target_dir().join(chatvault::target::LOCAL_TMP_DIR);
    assert!(tmp.is_dir() && files_under(&tmp).is_empty());
    // The storage loses the pack of segments (the smallest class-S pack is enough).
    let packs = files_under(&u.target_dir().join("data"));
    let lost = packs
        .iter()
        .min_by_key(|p| std::fs::metadata(p).unwrap().len())
        .unwrap();
    std::fs::remove_file(lost).unwrap();
    // The store did not change, yet the run must not reuse what it cannot find.
    let run = u.backup(&[]);
    assert!(!run["warnings"].as_array().unwrap().is_empty(), "{run}");
    assert_eq!(run["unchanged"], false);
    let latest = u.snapshots().last().unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let out = u.ok(&[
        "restore",
        "--json",
        "--target",
        &u.target,
        "--snapshot",
        &latest,
        "--into",
        u.path("out").to_str().unwrap(),
        "--format",
        "json",
    ]);
    assert!(out["messages"].as_u64().unwrap() >= 300, "{out}");
}

#[test]
fn a_rolled_back_target_is_refused_instead_of_silently_rekeyed() {
    if !has_keychain() {
        return;
    }
    let u = User::new(200);
    u.init();
    u.backup(&[]);
    let old = u.path("old-copy");
    copy_dir(&u.target_dir(), &old);
    // Forgetting writes a newer key table and forgotten list.
    u.ok(&[
        "forget",
        "--json",
        "--target",
        &u.target,
        "--conversation",
        "wxid_alicechen",
        "--prune",
    ]);
    // The storage is rolled back to the copy from before the forget.
    std::fs::remove_dir_all(u.target_dir()).unwrap();
    copy_dir(&old, &u.target_dir());
    let before = files_under(&u.target_dir());
    u.add_message("wxid_alicechen", "new after rollback", 1_767_225_600);
    let mut args = vec![
        "backup", "--json", "--target", &u.target, "--store", &u.store,
    ];
    args.extend(["--key-file", &u.key_file]);
    let err = u.err(&args);
    assert_eq!(err["code"], "repo_rolled_back", "{err}");
    let after = files_under(&u.target_dir());
    // Nothing was written but this run's own lease, which it removed again.
    assert_eq!(before, after);
}

fn copy_dir(from: &Path, to: &Path) {
    for f in files_under(from) {
        let rel = f.strip_prefix(from).unwrap();
        let dest = to.join(rel);
        std::fs::create_dir_all(dest.parent().unwrap()).unwrap();
        std::fs::copy(&f, &dest).unwrap();
    }
}

/// Sleeps in every progress step, so that a backup outlives its (shortened) lease.
struct Slow(std::time::Duration);
impl Progress for Slow {
    fn advance(&self, _items: u64, _bytes: u64) {
        std::thread::sleep(self.0);
    }
}

#[test]
fn a_backup_longer_than_its_lease_keeps_it_and_a_prune_meanwhile_waits() {
    let target = tempfile::tempdir().unwrap();
    let store_dir = tempfile::tempdir().unwrap();
    let demo = store::demo::write(store_dir.path(), store::Variant::WechatWin3, 400).unwrap();
    let key = store::StoreKey::parse(&demo.key.unwrap()).unwrap();
    let lease = LeaseTimes {
        ttl_ms: 1_500,
        refresh_ms: 300,
        skew_ms: 0,
        margin_ms: 300,
    };
    let mk = MasterKey::generate();
    let rt = common::runtime();
    rt.block_on(async {
        let code = chatvault::crypto::recovery::RecoveryCode::generate();
        let params = chatvault::crypto::recovery::KdfParams::TEST;
        let mut repo = Repo::init(local(target.path()), &mk, &code, params)
            .await
            .unwrap();
        repo.lease_times = lease;
        let mut other = Repo::open(local(target.path()), &mk).await.unwrap();
        other.lease_times = lease;
        let s = store::open(&demo.path, Some(&key)).unwrap();
        let selection = Selection {
            all: true,
            ..Default::default()
        };
        let req = BackupRequest {
            store: s.as_ref(),
            store_root: &demo.path,
            selection: &selection,
        };
        // Six conversations, 700 ms each: the run takes about three lease lifetimes. A prune
        // starts on another task when the first lease would long have expired.
        let other = std::sync::Arc::new(other);
        let pruning = tokio::spawn({
            let other = other.clone();
            async move {
                tokio::time::sleep(std::time::Duration::from_millis(2_500)).await;
                prune(&other).await
            }
        });
        let slow = Slow(std::time::Duration::from_millis(700));
        let report = backup(&repo, &req, &slow, &Cancel::new())
            .await
            .expect("the backup keeps its lease and finishes");
        let err = pruning
            .await
            .unwrap()
            .expect_err("the prune must see the live lease");
        assert_eq!(err.code(), ErrorCode::RepoLocked, "{err}");
        // The backup's snapshot restores completely.
        let restored = restore(
            &other,
            &RestoreRequest {
                snapshot: Some(report.snapshot.clone()),
                ..Default::default()
            },
            &NoProgress,
            &Cancel::new(),
        )
        .await
        .unwrap();
        let messages: usize = restored.iter().map(|c| c.messages.len()).sum();
        assert_eq!(messages as u64, report.messages);
        assert!(messages >= 400);
        let v = chatvault::repo::maintenance::verify(&other, true)
            .await
            .unwrap();
        assert!(v.errors.is_empty(), "{:?}", v.errors);
    });
}

#[test]
fn an_unreadable_lock_counts_as_held_until_it_is_old() {
    let target = tempfile::tempdir().unwrap();
    let store_dir = tempfile::tempdir().unwrap();
    let demo = store::demo::write(store_dir.path(), store::Variant::WechatWin3, 100).unwrap();
    let key = store::StoreKey::parse(&demo.key.unwrap()).unwrap();
    let mk = MasterKey::generate();
    common::runtime().block_on(async {
        let code = chatvault::crypto::recovery::RecoveryCode::generate();
        let params = chatvault::crypto::recovery::KdfParams::TEST;
        let repo = Repo::init(local(target.path()), &mk, &code, params)
            .await
            .unwrap();
        // A lock object that does not open (damaged, or written by a newer ChatVault).
        let locks = target.path().join("locks");
        std::fs::create_dir_all(&locks).unwrap();
        std::fs::write(locks.join("ab".repeat(32)), vec![7u8; 4096]).unwrap();
        let s = store::open(&demo.path, Some(&key)).unwrap();
        let selection = Selection {
            all: true,
            ..Default::default()
        };
        let req = BackupRequest {
            store: s.as_ref(),
            store_root: &demo.path,
            selection: &selection,
        };
        let err = backup(&repo, &req, &NoProgress, &Cancel::new())
            .await
            .expect_err("fail closed");
        assert_eq!(err.code(), ErrorCode::RepoLocked, "{err}");
        assert!(repo.snapshots().await.unwrap().is_empty());
        // Once its storage time is older than TTL + SKEW, it no longer counts.
        let old = std::time::SystemTime::now() - std::time::Duration::from_secs(3600);
        std::fs::File::options()
            .write(true)
            .open(locks.join("ab".repeat(32)))
            .unwrap()
            .set_modified(old)
            .unwrap();
        backup(&repo, &req, &NoProgress, &Cancel::new())
            .await
            .unwrap();
    });
}
