//! What the home page draws of a repository: counts, size and months match what was backed up.
mod common;

use chatvault::crypto::recovery::{KdfParams, RecoveryCode};
use chatvault::crypto::MasterKey;
use chatvault::model::Selection;
use chatvault::repo::backup::{backup, BackupRequest};
use chatvault::repo::stats::contents;
use chatvault::repo::Repo;
use chatvault::run::job::{Cancel, NoProgress};
use chatvault::store::{self, demo, StoreKey, Variant};

#[test]
fn contents_count_what_the_backups_kept_month_by_month() {
    let dir = tempfile::tempdir().unwrap();
    let d = demo::write(&dir.path().join("store"), Variant::WechatWin3, 300).unwrap();
    let key = StoreKey::parse(&d.key.unwrap()).unwrap();
    let store = store::open(&d.path, Some(&key)).unwrap();
    let target = dir.path().join("target");
    std::fs::create_dir_all(&target).unwrap();
    let spec: chatvault::target::TargetSpec = target.display().to_string().parse().unwrap();
    let op = spec.operator(&Default::default()).unwrap();
    common::runtime().block_on(async {
        let repo = Repo::init(
            op,
            &MasterKey::generate(),
            &RecoveryCode::generate(),
            KdfParams::TEST,
        )
        .await
        .unwrap();
        let empty = contents(&repo).await.unwrap();
        assert_eq!((empty.snapshots, empty.conversations), (0, 0));
        assert!(empty.months.is_empty());
        let selection = Selection {
            all: true,
            conversations: Vec::new(),
            since: None,
            until: None,
        };
        let req = BackupRequest {
            store: store.as_ref(),
            store_root: &d.path,
            selection: &selection,
        };
        let report = backup(&repo, &req, &NoProgress, &Cancel::new())
            .await
            .unwrap();
        backup(&repo, &req, &NoProgress, &Cancel::new())
            .await
            .unwrap();
        let c = contents(&repo).await.unwrap();
        assert_eq!(c.snapshots, 2);
        assert_eq!(c.conversations, report.conversations);
        assert_eq!(c.messages, report.messages);
        assert_eq!(
            c.months.iter().map(|m| m.messages).sum::<u64>(),
            report.messages
        );
        assert!(
            c.months.len() > 12,
            "the demo spans years: {}",
            c.months.len()
        );
        assert!(c.months.windows(2).all(|w| w[0].month < w[1].month));
        assert!(c.size_bytes > 0);
        assert!(c.shares.windows(2).all(|w| w[0].bytes >= w[1].bytes));
        assert!(c.shares.iter().all(|s| s.bytes > 0 && !s.title.is_empty()));
    });
}
