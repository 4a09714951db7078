//! What the storage learns from what ChatVault reads (docs/FORMAT.md §13), checked where the
//! storage itself would look: a recording proxy in front of the real S3 test server logs every
//! request (method, object, Range, bytes each way).
//!
//! Two repositories are made from two identical stores, each with two conversations A and B
//! of the same shape. Then conversation A changes in one store and B in the other, and the
//! records of the next backup, of restoring the changed conversation, of verify and of prune
//! are compared after replacing the random object names and the repository prefix: they must
//! be the same requests with the same sizes. The backup with a warm cache downloads nothing
//! from `data/` at all, and in the default read mode no blob is ever read by a ranged GET.
mod common;

use chatvault::crypto::recovery::{KdfParams, RecoveryCode};
use chatvault::crypto::MasterKey;
use chatvault::model::Selection;
use chatvault::repo::backup::{backup, BackupRequest};
use chatvault::repo::maintenance::{forget, prune, verify, Forget};
use chatvault::repo::restore::{restore, RestoreRequest};
use chatvault::repo::{ReadMode, Repo};
use chatvault::run::job::{Cancel, NoProgress};
use chatvault::store::{self, demo, StoreKey, Variant};

use common::faultproxy::{FaultProxy, Seen};
use common::store::{s3_through, win3_add_message};
use std::path::{Path, PathBuf};

const A: &str = "wxid_symmetric_aa";
const B: &str = "wxid_symmetric_bb";

/// The demo store plus conversations A and B with the same messages at the same times.
fn symmetric_store(dir: &Path) -> (PathBuf, StoreKey) {
    let d = demo::write(dir, Variant::WechatWin3, 400).unwrap();
    let key = StoreKey::parse(&d.key.unwrap()).unwrap();
    for i in 0..40i64 {
        let t = 1_700_000_000 + i * 86_400;
        for talker in [A, B] {
            win3_add_message(
                &d.path,
                &key,
                talker,
                &format!("same words, message {i:03}"),
                t,
            );
        }
    }
    (d.path, key)
}

/// One computer with one repository: its store, its own cache folder.
struct Side {
    op: opendal::Operator,
    mk: MasterKey,
    prefix: String,
    root: PathBuf,
    key: StoreKey,
    local: tempfile::TempDir,
    _store: tempfile::TempDir,
}

impl Side {
    /// Opens the repository as the CLI does for each command (config read, cache attached).
    async fn open(&self) -> Repo {
        Repo::open(self.op.clone(), &self.mk)
            .await
            .unwrap()
            .with_local_dir(self.local.path())
    }

    async fn backup(&self) -> chatvault::repo::backup::BackupReport {
        let repo = self.open().await;
        let store = store::open(&self.root, Some(&self.key)).unwrap();
        let selection = Selection::everything();
        let req = BackupRequest {
            store: store.as_ref(),
            store_root: &self.root,
            selection: &selection,
        };
        backup(&repo, &req, &NoProgress, &Cancel::new())
            .await
            .unwrap()
    }

    async fn restore(&self, conversation: &str, mode: ReadMode) -> usize {
        let mut repo = self.open().await;
        repo.reads = mode;
        let convs = restore(
            &repo,
            &RestoreRequest {
                conversations: vec![conversation.to_string()],
                ..Default::default()
            },
            &NoProgress,
            &Cancel::new(),
        )
        .await
        .unwrap();
        convs[0].messages.len()
    }

    /// A new computer: the same repository with an empty cache.
    fn forget_cache(&mut self) {
        self.local = tempfile::tempdir().unwrap();
    }
}

/// A request with what differs between any two repositories (random names, the prefix)
/// replaced: what is left is what the storage could compare.
fn normalise(s: &Seen, prefix: &str) -> String {
    let mut t = s.target.replace(prefix, "<repo>");
    // 64 hex digits are an object name; `data/ab/` the folder derived from it.
    let mut out = String::new();
    let b = t.as_bytes();
    let mut i = 0;
    while i < b.len() {
        let run = b[i..]
            .iter()
            .take_while(|c| c.is_ascii_digit() || (b'a'..=b'f').contains(c))
            .count();
        if run >= 64 {
            out.push_str("<name>");
            i += run;
        } else if run == 2 && b.get(i + 2) == Some(&b'/') && out.ends_with("data/") {
            out.push_str("<nn>");
            i += 2;
        } else {
            out.push(b[i] as char);
            i += 1;
        }
    }
    t = out;
    format!(
        "{} {} range={:?} sent={} status={} received={}",
        s.method, t, s.range, s.sent, s.status, s.received
    )
}

fn record(proxy: &FaultProxy, prefix: &str) -> Vec<String> {
    let log = std::mem::take(&mut *proxy.faults.log.lock().unwrap());
    log.iter()
        // Only this repository's requests (the two sides never run at once anyway).
        .filter(|s| s.target.contains(prefix))
        .map(|s| normalise(s, prefix))
        .collect()
}

fn sorted(mut v: Vec<String>) -> Vec<String> {
    v.sort();
    v
}

fn data_gets(rec: &[String]) -> Vec<&String> {
    rec.iter()
        // Object downloads, not listings (which are GETs of the bucket with a query).
        .filter(|r| r.starts_with("GET ") && r.contains("/data/") && !r.contains("list-type"))
        .collect()
}

fn ranged(rec: &[String]) -> Vec<&String> {
    rec.iter().filter(|r| !r.contains("range=None")).collect()
}

#[test]
fn the_storage_cannot_tell_which_conversation_changed_was_restored_or_was_pruned() {
    let Some(up) = common::service_env("CHATVAULT_TEST_S3_ENDPOINT") else {
        return;
    };
    let proxy = FaultProxy::start(up.trim_start_matches("http://"));
    let pid = std::process::id();
    // Two worlds that differ only in which conversation changed: the same user, so the same
    // master key on both sides. (With two keys the keyed chunker would cut the 700 KB demo
    // images differently, and pack sizes would differ for a reason that says nothing about
    // which conversation changed.)
    let mk = MasterKey::generate();
    let mut sides: Vec<Side> = Vec::new();
    for letter in ["x", "y"] {
        let prefix = format!("privacy-{letter}-{pid}");
        let Some(op) = s3_through(&proxy, &prefix) else {
            return;
        };
        let dir = tempfile::tempdir().unwrap();
        let (root, key) = symmetric_store(dir.path());
        sides.push(Side {
            op,
            mk: mk.clone(),
            prefix,
            root,
            key,
            local: tempfile::tempdir().unwrap(),
            _store: dir,
        });
    }
    let changed = [A, B];
    common::runtime().block_on(async {
        for s in &sides {
            Repo::init(s.op.clone(), &s.mk, &RecoveryCode::generate(), KdfParams::TEST)
                .await
                .unwrap();
        }
        // The first backups: the same store, the same requests.
        let mut first = Vec::new();
        for s in &sides {
            record(&proxy, &s.prefix);
            let report = s.backup().await;
            assert!(report.messages > 400);
            first.push(record(&proxy, &s.prefix));
        }
        assert_eq!(
            sorted(first[0].clone()),
            sorted(first[1].clone()),
            "identical first runs look identical (the normalisation hides only names)"
        );

        // One new message: in conversation A on one side, in B on the other.
        for (s, talker) in sides.iter().zip(changed) {
            win3_add_message(&s.root, &s.key, talker, "one more message, same length", 1_710_000_000);
        }
        let mut second = Vec::new();
        for s in &sides {
            record(&proxy, &s.prefix);
            let report = s.backup().await;
            assert_eq!(report.conversations_read, 1, "only the changed conversation");
            assert_eq!(report.new_segments, 1);
            second.push(record(&proxy, &s.prefix));
        }
        assert!(
            data_gets(&second[0]).is_empty(),
            "a backup with the cache reads nothing from data/: {:#?}",
            data_gets(&second[0])
        );
        assert!(
            ranged(&second[0]).is_empty(),
            "{:#?}",
            ranged(&second[0])
        );
        assert_eq!(
            second[0], second[1],
            "the backup after A changed and the one after B changed are the same requests in the same order with the same sizes"
        );

        // The next backup on a new computer (empty cache), after the same change on both
        // sides: the class-S packs holding parent trees are downloaded whole, and they are the
        // same on both sides although A's newest tree is in the second pack on one side and
        // B's on the other.
        let mut third = Vec::new();
        for s in sides.iter_mut() {
            s.forget_cache();
            win3_add_message(&s.root, &s.key, "wxid_alicechen", "on both sides", 1_720_000_000);
            record(&proxy, &s.prefix);
            let report = s.backup().await;
            assert_eq!(report.conversations_read, 1);
            third.push(record(&proxy, &s.prefix));
        }
        assert!(ranged(&third[0]).is_empty(), "{:#?}", ranged(&third[0]));
        assert_eq!(data_gets(&third[0]).len(), 2, "{:#?}", data_gets(&third[0]));
        assert_eq!(sorted(third[0].clone()), sorted(third[1].clone()));

        // Restoring the changed conversation on a new computer (empty cache): every
        // trees-and-segments pack is downloaded whole; nothing says which conversation.
        let mut restored = Vec::new();
        for (s, talker) in sides.iter_mut().zip(changed) {
            s.forget_cache();
            record(&proxy, &s.prefix);
            assert_eq!(s.restore(talker, ReadMode::Private).await, 41);
            restored.push(record(&proxy, &s.prefix));
        }
        assert!(ranged(&restored[0]).is_empty(), "{:#?}", ranged(&restored[0]));
        assert!(!data_gets(&restored[0]).is_empty(), "the packs were downloaded");
        assert_eq!(sorted(restored[0].clone()), sorted(restored[1].clone()));
        // Once cached, a restore reads no data at all.
        for (s, talker) in sides.iter().zip(changed) {
            record(&proxy, &s.prefix);
            assert_eq!(s.restore(talker, ReadMode::Private).await, 41);
            let rec = record(&proxy, &s.prefix);
            assert!(data_gets(&rec).is_empty(), "{:#?}", data_gets(&rec));
        }
        // For contrast, what --ranged-reads gives up: on a new computer, the ranges read for
        // A and for B differ (offsets), so the storage can tell them apart.
        let mut by_range = Vec::new();
        for (s, talker) in sides.iter_mut().zip(changed) {
            s.forget_cache();
            record(&proxy, &s.prefix);
            assert_eq!(s.restore(talker, ReadMode::Ranged).await, 41);
            let rec = record(&proxy, &s.prefix);
            assert!(!ranged(&rec).is_empty());
            by_range.push(sorted(rec));
        }
        assert_ne!(by_range[0], by_range[1], "ranged reads do show which blobs were read");

        // verify, and verify --read-data, from a warm cache and from an empty one.
        for read_data in [false, true] {
            for cold in [false, true] {
                let mut recs = Vec::new();
                for s in sides.iter_mut() {
                    if cold {
                        s.forget_cache();
                    }
                    let repo = s.open().await;
                    record(&proxy, &s.prefix);
                    let report = verify(&repo, read_data).await.unwrap();
                    assert!(report.errors.is_empty(), "{:?}", report.errors);
                    recs.push(record(&proxy, &s.prefix));
                }
                assert!(ranged(&recs[0]).is_empty(), "{:#?}", ranged(&recs[0]));
                assert_eq!(
                    sorted(recs[0].clone()),
                    sorted(recs[1].clone()),
                    "verify read_data={read_data} cold={cold}"
                );
            }
        }

        // Forget the first snapshot and prune: A's old blobs go on one side, B's on the
        // other; the mixed pack is rewritten from the cache, with the same sizes.
        let mut pruned = Vec::new();
        for s in &sides {
            let repo = s.open().await;
            let oldest = repo.snapshots().await.unwrap()[0].1.id;
            record(&proxy, &s.prefix);
            forget(&repo, &Forget::Snapshot(hex::encode(oldest)), false)
                .await
                .unwrap();
            let p = prune(&repo).await.unwrap();
            assert!(p.packs_rewritten >= 1, "{p:?}");
            pruned.push(record(&proxy, &s.prefix));
            // What prune deleted is gone from the cache too.
            let cache = repo.cache().unwrap();
            let listed: Vec<String> = repo
                .list_names("data/")
                .await
                .unwrap()
                .into_iter()
                .map(|(_, n)| hex::encode(n))
                .collect();
            for name in cache.names("data/") {
                assert!(listed.contains(&name), "a deleted pack stayed cached");
            }
        }
        assert!(data_gets(&pruned[0]).is_empty(), "{:#?}", data_gets(&pruned[0]));
        assert_eq!(sorted(pruned[0].clone()), sorted(pruned[1].clone()));
    });
}
