//! Faults a real server cannot produce on cue, injected by a proxy in front of the real S3 test
//! server: transient 503s (retried), a torn response (retried or reported, never trusted),
//! a slow server, and the server dying mid-backup and coming back. The WebDAV server (wsgidav)
//! is killed for real mid-upload and started again on its data.
mod common;

use chatvault::crypto::recovery::{KdfParams, RecoveryCode};
use chatvault::crypto::MasterKey;
use chatvault::model::Selection;
use chatvault::repo::backup::{backup, BackupRequest};
use chatvault::repo::maintenance::verify;
use chatvault::repo::restore::{restore, RestoreRequest};
use chatvault::repo::Repo;
use chatvault::run::job::{Cancel, NoProgress};
use chatvault::store::{self, demo, StoreKey, Variant};
use chatvault::target::{TargetCredentials, TargetSpec};
use chatvault::ErrorCode;
use common::faultproxy::FaultProxy;
use common::server::{Kind, Server};
use common::store::{s3_through, select_all};
use common::user::files_under;
use std::sync::atomic::Ordering;

fn upstream() -> Option<String> {
    common::service_env("CHATVAULT_TEST_S3_ENDPOINT")
        .map(|e| e.trim_start_matches("http://").to_string())
}

struct Demo {
    _dir: tempfile::TempDir,
    root: std::path::PathBuf,
    store: Box<dyn store::ChatStore>,
    selection: Selection,
}

fn demo_store(messages: usize) -> Demo {
    let dir = tempfile::tempdir().unwrap();
    let d = demo::write(dir.path(), Variant::WechatWin3, messages).unwrap();
    let store = store::open(&d.path, Some(&StoreKey::parse(&d.key.unwrap()).unwrap())).unwrap();
    let selection = select_all(store.as_ref());
    Demo {
        root: d.path,
        store,
        selection,
        _dir: dir,
    }
}

#[test]
fn transient_errors_and_a_torn_response_are_retried_and_nothing_wrong_is_trusted() {
    let Some(up) = upstream() else { return };
    let proxy = FaultProxy::start(&up);
    let Some(op) = s3_through(&proxy, &format!("faults-{}", std::process::id())) else {
        return;
    };
    let d = demo_store(800);
    common::runtime().block_on(async {
        let repo = Repo::init(
            op.clone(),
            &MasterKey::generate(),
            &RecoveryCode::generate(),
            KdfParams::TEST,
        )
        .await
        .unwrap();
        // Every third request fails once, for a while: the retry layer absorbs it.
        proxy.faults.fail_next.store(3, Ordering::SeqCst);
        let req = BackupRequest {
            store: d.store.as_ref(),
            store_root: &d.root,
            selection: &d.selection,
        };
        let report = backup(&repo, &req, &NoProgress, &Cancel::new())
            .await
            .unwrap();
        assert_eq!(report.messages, 800);
        assert_eq!(
            proxy.faults.fail_next.load(Ordering::SeqCst),
            0,
            "the 503s were served"
        );

        // A response cut in half during restore: never decoded as data.
        proxy.faults.tear_next.store(1, Ordering::SeqCst);
        match restore(
            &repo,
            &RestoreRequest::default(),
            &NoProgress,
            &Cancel::new(),
        )
        .await
        {
            Ok(convs) => assert_eq!(convs.iter().map(|c| c.messages.len()).sum::<usize>(), 800),
            Err(e) => assert!(
                matches!(
                    e.code(),
                    ErrorCode::RepoTruncated
                        | ErrorCode::TargetUnreachable
                        | ErrorCode::TargetFailed
                ),
                "{e}"
            ),
        }
        assert_eq!(
            proxy.faults.tear_next.load(Ordering::SeqCst),
            0,
            "the torn response was served"
        );
        // A slow server is only slow.
        proxy.faults.delay_ms.store(50, Ordering::SeqCst);
        assert!(verify(&repo, true).await.unwrap().errors.is_empty());
    });
}

#[test]
fn the_server_dies_mid_backup_comes_back_and_the_next_run_completes() {
    let Some(up) = upstream() else { return };
    let proxy = FaultProxy::start(&up);
    let Some(op) = s3_through(&proxy, &format!("killed-{}", std::process::id())) else {
        return;
    };
    let d = demo_store(6000);
    common::runtime().block_on(async {
        let mk = MasterKey::generate();
        let local = tempfile::tempdir().unwrap();
        let repo = Repo::init(op.clone(), &mk, &RecoveryCode::generate(), KdfParams::TEST)
            .await
            .unwrap()
            .with_local_dir(local.path());
        let req = BackupRequest {
            store: d.store.as_ref(),
            store_root: &d.root,
            selection: &d.selection,
        };
        // Let a few requests through (lock, key table, some packs), then the server dies.
        proxy.faults.die_after.store(6, Ordering::SeqCst);
        let err = backup(&repo, &req, &NoProgress, &Cancel::new())
            .await
            .unwrap_err();
        assert!(proxy.is_dead());
        assert!(
            matches!(
                err.code(),
                ErrorCode::TargetUnreachable | ErrorCode::TargetFailed
            ),
            "a dead server is reported as such: {err}"
        );

        proxy.restart();
        // The dead run's lease is still on the target; this machine knows its run is over.
        after_the_outage_the_next_run_completes(&op, &mk, local.path(), &req).await;
    });
}

#[test]
fn the_webdav_server_is_killed_mid_upload_comes_back_and_the_next_run_completes() {
    let dir = tempfile::tempdir().unwrap();
    let Some(mut server) = Server::start(Kind::WebDav, &dir.path().join("dav")) else {
        return;
    };
    let started = std::time::Instant::now();
    let spec: TargetSpec = server.target("repo").parse().unwrap();
    let op = spec.operator(&TargetCredentials::default()).unwrap();
    let d = demo_store(6000);
    let data = server.root.join("repo").join("data");
    let mk = MasterKey::generate();
    let local = tempfile::tempdir().unwrap();
    let rt = common::runtime();
    let repo = rt
        .block_on(Repo::init(
            op.clone(),
            &mk,
            &RecoveryCode::generate(),
            KdfParams::TEST,
        ))
        .unwrap()
        .with_local_dir(local.path());
    let req = BackupRequest {
        store: d.store.as_ref(),
        store_root: &d.root,
        selection: &d.selection,
    };
    // The server is killed (SIGKILL) as soon as the first pack has landed: mid-upload.
    let done = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let killer = {
        let done = done.clone();
        let data = data.clone();
        std::thread::spawn(move || {
            while !done.load(Ordering::SeqCst) {
                if !files_under(&data).is_empty() {
                    server.kill();
                    return (server, true);
                }
                std::thread::sleep(std::time::Duration::from_millis(2));
            }
            (server, false)
        })
    };
    let first = rt.block_on(backup(&repo, &req, &NoProgress, &Cancel::new()));
    done.store(true, Ordering::SeqCst);
    let (mut server, killed) = killer.join().unwrap();
    assert!(killed, "the server was killed mid-upload");
    let err = first.expect_err("a backup whose server died mid-upload fails");
    assert!(
        matches!(
            err.code(),
            ErrorCode::TargetUnreachable | ErrorCode::TargetFailed
        ),
        "a dead server is reported as such: {err}"
    );
    let landed = files_under(&data).len();
    let code = err.code().as_str();

    server.restart();
    rt.block_on(async {
        after_the_outage_the_next_run_completes(&op, &mk, local.path(), &req).await;
    });
    eprintln!(
        "WebDAV server killed mid-upload ({landed} pack files had landed; the run failed with \
         {code}), restarted; the next \
         run completed, verify --read-data clean, 6000 of 6000 messages restore; {:.1} s",
        started.elapsed().as_secs_f64()
    );
}

/// After an outage the repository verifies clean, and the next run (the dead run's lease still
/// on the target; this machine knows its run is over) completes and restores every message.
async fn after_the_outage_the_next_run_completes(
    op: &opendal::Operator,
    mk: &MasterKey,
    local: &std::path::Path,
    req: &BackupRequest<'_>,
) {
    let repo = Repo::open(op.clone(), mk)
        .await
        .unwrap()
        .with_local_dir(local);
    assert!(
        verify(&repo, false).await.unwrap().errors.is_empty(),
        "consistent after the crash"
    );
    let report = backup(&repo, req, &NoProgress, &Cancel::new())
        .await
        .unwrap();
    assert_eq!(report.messages, 6000);
    assert!(verify(&repo, true).await.unwrap().errors.is_empty());
    let restored = restore(
        &repo,
        &RestoreRequest::default(),
        &NoProgress,
        &Cancel::new(),
    )
    .await
    .unwrap();
    assert_eq!(
        restored.iter().map(|c| c.messages.len()).sum::<usize>(),
        6000
    );
}
