//! Stores, selections, targets and repositories as the library-level tests set them up (the
//! CLI-level tests go through `common::user::User` instead).

use chatvault::crypto::recovery::{KdfParams, RecoveryCode};
use chatvault::crypto::MasterKey;
use chatvault::model::Selection;
use chatvault::repo::Repo;
use chatvault::store::{demo, ChatStore, StoreKey, Variant};
use chatvault::target::{TargetCredentials, TargetSpec};
use std::path::{Path, PathBuf};

/// Every conversation the store lists, each whole: the selection a user makes with "select
/// all" in step 2 (a list, unlike `Selection { all: true }`, which also takes conversations
/// that appear later).
pub fn select_all(store: &dyn ChatStore) -> Selection {
    Selection::of(store.conversations().unwrap().into_iter().map(|c| c.id))
}

/// A demo WeChat for Windows 3.x store of `messages` messages written into `dir`, with its key.
pub fn demo_win3(dir: &Path, messages: usize) -> (PathBuf, StoreKey) {
    let d = demo::write(dir, Variant::WechatWin3, messages).unwrap();
    (d.path, StoreKey::parse(&d.key.unwrap()).unwrap())
}

/// One of a WeChat for Windows 3.x store's message databases (`MSG1.db`, …), opened and keyed
/// as WeChat opens it (SQLCipher 3 settings), for a test to write to.
pub fn win3_shard(root: &Path, file: &str, key: &StoreKey) -> rusqlite::Connection {
    let conn = rusqlite::Connection::open(root.join("Msg/Multi").join(file)).unwrap();
    conn.pragma_update(None, "hexkey", key.hex().unwrap().expose().as_str())
        .unwrap();
    conn.pragma_update(None, "cipher_compatibility", 3).unwrap();
    conn.pragma_update(None, "cipher_page_size", 4096).unwrap();
    conn
}

/// A text message in an open 3.x shard, as WeChat writes one (`time` in seconds; the server id
/// and sequence follow from it).
pub fn win3_insert(conn: &rusqlite::Connection, talker: &str, text: &str, time: i64, mine: bool) {
    conn.execute(
        "INSERT INTO MSG(MsgSvrID, Type, SubType, IsSender, CreateTime, Sequence, StrTalker, StrContent) VALUES (?1, 1, 0, ?2, ?3, ?4, ?5, ?6)",
        rusqlite::params![time, mine as i64, time, time * 1000, talker, text],
    )
    .unwrap();
}

/// A message the user sent, added to `MSG1.db` of a 3.x store.
pub fn win3_add_message(root: &Path, key: &StoreKey, talker: &str, text: &str, time: i64) {
    win3_insert(&win3_shard(root, "MSG1.db", key), talker, text, time, true);
}

/// A local-folder target at `dir`.
pub fn local_op(dir: &Path) -> opendal::Operator {
    let spec: TargetSpec = dir.display().to_string().parse().unwrap();
    spec.operator(&Default::default()).unwrap()
}

/// The test S3 bucket under `prefix`, reached through a fault proxy; None (test skipped) when
/// no S3 server runs.
pub fn s3_through(
    proxy: &super::faultproxy::FaultProxy,
    prefix: &str,
) -> Option<opendal::Operator> {
    let bucket = super::service_env("CHATVAULT_TEST_S3_BUCKET")?;
    let url = format!(
        "s3://{bucket}/{prefix}?endpoint={}&region=us-east-1",
        url::form_urlencoded::byte_serialize(proxy.endpoint().as_bytes()).collect::<String>()
    );
    let spec: TargetSpec = url.parse().unwrap();
    Some(
        spec.operator(&TargetCredentials::from_env(|k| std::env::var(k).ok()))
            .unwrap(),
    )
}

/// A new repository on `op` under a new master key (test KDF parameters).
pub async fn new_repo(op: opendal::Operator) -> (Repo, MasterKey, RecoveryCode) {
    let mk = MasterKey::generate();
    let code = RecoveryCode::generate();
    let repo = Repo::init(op, &mk, &code, KdfParams::TEST).await.unwrap();
    (repo, mk, code)
}
