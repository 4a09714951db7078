//! The repository on real remote targets: an S3 server (moto) and WebDAV servers (wsgidav,
//! anonymous; rclone, basic auth) on 127.0.0.1, started by scripts/services.sh. Round trip,
//! privacy, incremental, tamper-free verify and forget + prune on each.
mod common;

use chatvault::crypto::recovery::{KdfParams, RecoveryCode};
use chatvault::crypto::secret::Secret;
use chatvault::crypto::MasterKey;
use chatvault::repo::backup::{backup, BackupRequest};
use chatvault::repo::maintenance::{forget, verify, Forget};
use chatvault::repo::restore::{restore, RestoreRequest};
use chatvault::repo::Repo;
use chatvault::run::job::{Cancel, NoProgress};
use chatvault::store::{self, MessageQuery, StoreKey};
use chatvault::target::{TargetCredentials, TargetSpec};
use common::store::select_all;
use opendal::Operator;
use std::path::Path;

fn targets() -> Vec<(&'static str, Operator)> {
    let mut out = Vec::new();
    let unique = format!("t{}-{}", std::process::id(), chatvault::repo::now_ms());
    if let (Some(endpoint), Some(bucket)) = (
        common::service_env("CHATVAULT_TEST_S3_ENDPOINT"),
        common::service_env("CHATVAULT_TEST_S3_BUCKET"),
    ) {
        let url = format!(
            "s3://{bucket}/{unique}?endpoint={}&region=us-east-1",
            url::form_urlencoded::byte_serialize(endpoint.as_bytes()).collect::<String>()
        );
        let spec: TargetSpec = url.parse().unwrap();
        out.push((
            "s3",
            spec.operator(&TargetCredentials::from_env(|k| std::env::var(k).ok()))
                .unwrap(),
        ));
    }
    if let Some(url) = common::service_env("CHATVAULT_TEST_WEBDAV_URL") {
        let spec: TargetSpec = format!("{url}{unique}").parse().unwrap();
        out.push((
            "webdav",
            spec.operator(&TargetCredentials::default()).unwrap(),
        ));
    }
    if let (Some(url), Some(pw)) = (
        common::service_env("CHATVAULT_TEST_WEBDAV_AUTH_URL"),
        common::service_env("CHATVAULT_TEST_WEBDAV_AUTH_PASSWORD"),
    ) {
        let spec: TargetSpec = format!("{url}{unique}").parse().unwrap();
        let creds = TargetCredentials {
            password: Some(Secret::new(pw)),
            ..Default::default()
        };
        out.push(("webdav-auth", spec.operator(&creds).unwrap()));
    }
    out
}

async fn every_object(op: &Operator) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    for e in op.list_with("").recursive(true).await.unwrap() {
        if e.path().ends_with('/') {
            continue;
        }
        out.push((
            e.path().to_string(),
            op.read(e.path()).await.unwrap().to_vec(),
        ));
    }
    out
}

#[test]
fn the_repository_works_the_same_on_s3_and_webdav() {
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/stores");
    let e: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(fixtures.join("wechat-win3/expected.json")).unwrap(),
    )
    .unwrap();
    let root = fixtures.join(e["store_root"].as_str().unwrap());
    let key = StoreKey::parse(e["key"]["hex"].as_str().unwrap()).unwrap();
    let store = store::open(&root, Some(&key)).unwrap();
    let sel = select_all(store.as_ref());
    let needles: Vec<String> = e["messages"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|m| {
            m["text"]
                .as_str()
                .filter(|t| t.len() >= 8)
                .map(str::to_string)
        })
        .chain(
            e["conversations"]
                .as_array()
                .unwrap()
                .iter()
                .map(|c| c["id"].as_str().unwrap().to_string()),
        )
        .collect();
    for (name, op) in targets() {
        common::runtime().block_on(async {
            let mk = MasterKey::generate();
            let repo = Repo::init(op.clone(), &mk, &RecoveryCode::generate(), KdfParams::TEST)
                .await
                .unwrap();
            let req = BackupRequest {
                store: store.as_ref(),
                store_root: &root,
                selection: &sel,
            };
            let first = backup(&repo, &req, &NoProgress, &Cancel::new())
                .await
                .unwrap();
            assert_eq!(
                first.messages,
                e["messages"].as_array().unwrap().len() as u64,
                "{name}"
            );

            let again = backup(&repo, &req, &NoProgress, &Cancel::new())
                .await
                .unwrap();
            assert!(
                again.unchanged && again.new_segments == 0,
                "{name}: second run uploads no data"
            );

            let restored = restore(
                &repo,
                &RestoreRequest::default(),
                &NoProgress,
                &Cancel::new(),
            )
            .await
            .unwrap();
            for c in &restored {
                let original = store.messages(&c.id, &MessageQuery::default()).unwrap();
                assert_eq!(c.messages.len(), original.len(), "{name} {}", c.id);
                assert_eq!(
                    c.messages.iter().map(|m| &m.text).collect::<Vec<_>>(),
                    original.iter().map(|m| &m.text).collect::<Vec<_>>()
                );
            }
            let v = verify(&repo, true).await.unwrap();
            assert!(v.errors.is_empty(), "{name}: {:?}", v.errors);

            for (path, bytes) in every_object(&op).await {
                for n in &needles {
                    assert!(!path.contains(n.as_str()), "{name}: {path}");
                    assert!(
                        !bytes.windows(n.len()).any(|w| w == n.as_bytes()),
                        "{name}: {path} holds {n:?}"
                    );
                }
            }

            forget(&repo, &Forget::Conversation("wxid_alice01".into()), true)
                .await
                .unwrap();
            let after = restore(
                &repo,
                &RestoreRequest::default(),
                &NoProgress,
                &Cancel::new(),
            )
            .await
            .unwrap();
            assert_eq!(after.len(), restored.len() - 1, "{name}");
            assert!(
                verify(&repo, true).await.unwrap().errors.is_empty(),
                "{name}"
            );
            let reopened = Repo::open(op.clone(), &mk).await.unwrap();
            assert_eq!(reopened.repo_id(), repo.repo_id());
        });
    }
}
