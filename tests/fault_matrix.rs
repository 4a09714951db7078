//! The fault matrix of docs/RELIABILITY.md, crash column: the `chatvault` CLI killed with
//! SIGKILL at 20 points of a backup and of a prune, on each kind of target (a local folder, the
//! real S3 server and the real WebDAV server that `scripts/services.sh` starts). After every
//! kill, a run of the same command completes and `verify --read-data` is clean; at the end,
//! everything restores.
//!
//! The kill points are spread over the time an uninterrupted run of the same command takes
//! here (measured in the test), from a fixed seed, so a failure names a reproducible round.
mod common;

use common::user::User;
use std::process::Stdio;
use std::time::{Duration, Instant};

const ROUNDS: usize = 20;
const MESSAGES: usize = 4_000;

/// A demo store's user whose repository lives on the target `kind` names; None when that
/// service is not running (a bare `cargo test`).
fn user_on(kind: &str, tag: &str) -> Option<User> {
    let u = User::new(MESSAGES);
    let unique = format!(
        "matrix-{tag}-{}-{}",
        std::process::id(),
        chatvault::repo::now_ms()
    );
    let target = match kind {
        "local" => return Some(u),
        "s3" => format!(
            "s3://{}/{unique}?endpoint={}&region=us-east-1",
            common::service_env("CHATVAULT_TEST_S3_BUCKET")?,
            common::service_env("CHATVAULT_TEST_S3_ENDPOINT")?
        ),
        "webdav" => format!(
            "{}/{unique}",
            common::service_env("CHATVAULT_TEST_WEBDAV_URL")?.trim_end_matches('/')
        ),
        _ => unreachable!(),
    };
    Some(User { target, ..u })
}

/// Fractions in [0.02, 0.98) of an uninterrupted run, from a fixed seed (xorshift64).
fn kill_points(seed: u64) -> Vec<f64> {
    let mut s = seed;
    (0..ROUNDS)
        .map(|_| {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            0.02 + (s % 960) as f64 / 1000.0
        })
        .collect()
}

/// Runs `args` and kills it with SIGKILL after `delay` (if it has not finished by then);
/// whether it was killed.
fn kill_after(u: &User, args: &[&str], delay: Duration) -> bool {
    let mut child = u
        .cmd(args)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let t0 = Instant::now();
    while t0.elapsed() < delay {
        if child.try_wait().unwrap().is_some() {
            return false;
        }
        std::thread::sleep(Duration::from_millis(2));
    }
    let _ = child.kill(); // SIGKILL on Unix
    let _ = child.wait();
    true
}

fn verify_clean(u: &User, what: &str) {
    let v = u.ok(&["verify", "--json", "--read-data", "--target", &u.target]);
    assert!(
        v["errors"].as_array().unwrap().is_empty(),
        "{what}: verify --read-data found errors: {v}"
    );
}

/// Every message of the store restores from the newest snapshot.
fn everything_restores(u: &User, expected: u64) {
    let out = u.path("restored");
    let r = u.restore_into(&out, "json");
    assert_eq!(r["messages"].as_u64(), Some(expected), "{r}");
}

fn store_messages(u: &User) -> u64 {
    let list = u.ok(&[
        "conversations",
        "--json",
        "--store",
        &u.store,
        "--key-file",
        &u.key_file,
    ]);
    list.as_array()
        .unwrap()
        .iter()
        .map(|c| c["message_count"].as_u64().unwrap())
        .sum()
}

fn forget_repo_keys(repo_id: &str) {
    use chatvault::platform::keychain::Keychain;
    let kc = chatvault::platform::keychain::OsKeychain::default();
    let _ = kc.delete(&format!("repo:{repo_id}"));
    let _ = kc.delete(&format!("repo:{repo_id}:recovery"));
}

/// New messages in a few chats, so that every backup round has segments, trees, an index and
/// a snapshot to write.
fn new_messages(u: &User, round: usize) {
    for (i, talker) in ["wxid_alicechen", "wxid_bobsmith", "wxid_wangfang"]
        .iter()
        .enumerate()
    {
        let t = 1_760_000_000 + (round * 10 + i) as i64 * 3_600;
        u.add_message(talker, &format!("round {round} message {i}"), t);
    }
}

fn backup_killed_at_20_points(kind: &str) {
    if common::service_env("CHATVAULT_TEST_KEYRING").is_none() {
        return;
    }
    let Some(u) = user_on(kind, "backup") else {
        return;
    };
    let repo_id = u.init();
    // Every round kills the incremental run that follows new messages (what a scheduled run
    // does every day); the points spread over the time such a run takes, measured here.
    // The shortest of three, so that most points fall inside a run.
    u.backup(&[]);
    let incremental = (1000..1003)
        .map(|r| {
            new_messages(&u, r);
            let t0 = Instant::now();
            u.backup(&[]);
            t0.elapsed()
        })
        .min()
        .unwrap();
    let mut killed = 0;
    for (round, frac) in kill_points(0x9e37_79b9_7f4a_7c15).into_iter().enumerate() {
        new_messages(&u, round);
        let delay = incremental.mul_f64(frac);
        killed += kill_after(&u, &u.backup_args(&[]), delay) as usize;
        // The run that completes keeps the three newest snapshots (retention and prune run
        // inside it), so the repository stays the size a real one is.
        let done = u.backup(&["--keep-last", "3"]);
        assert!(done["snapshot"].is_string(), "round {round}: {done}");
        verify_clean(
            &u,
            &format!("{kind} backup round {round}, killed after {delay:?}"),
        );
    }
    eprintln!("figure: {kind} backup: {killed} of {ROUNDS} runs killed mid-way");
    assert!(
        killed >= ROUNDS / 4,
        "only {killed} of {ROUNDS} runs were killed mid-way"
    );
    everything_restores(&u, store_messages(&u));
    forget_repo_keys(&repo_id);
}

fn prune_killed_at_20_points(kind: &str) {
    if common::service_env("CHATVAULT_TEST_KEYRING").is_none() {
        return;
    }
    let Some(u) = user_on(kind, "prune") else {
        return;
    };
    let repo_id = u.init();
    u.backup(&[]);
    let prune = ["prune", "--json", "--target", u.target.as_str()];
    // Something to prune in every round: a new snapshot, then the oldest one forgotten.
    let garbage = |round: usize| {
        new_messages(&u, round);
        u.backup(&[]);
        let oldest = u.snapshots()[0]["id"].as_str().unwrap().to_string();
        u.ok(&[
            "forget",
            "--json",
            "--target",
            &u.target,
            "--snapshot",
            &oldest,
        ]);
    };
    garbage(100);
    let t0 = Instant::now();
    u.ok(&prune);
    let full = t0.elapsed();
    let mut killed = 0;
    for (round, frac) in kill_points(0x2545_f491_4f6c_dd1d).into_iter().enumerate() {
        garbage(round);
        let delay = full.mul_f64(frac);
        killed += kill_after(&u, &prune, delay) as usize;
        u.ok(&prune);
        verify_clean(
            &u,
            &format!("{kind} prune round {round}, killed after {delay:?}"),
        );
    }
    eprintln!("figure: {kind} prune: {killed} of {ROUNDS} prunes killed mid-way");
    assert!(
        killed >= ROUNDS / 4,
        "only {killed} of {ROUNDS} prunes were killed mid-way"
    );
    assert_eq!(
        u.snapshots().len(),
        1,
        "one snapshot is left after the last forget"
    );
    everything_restores(&u, store_messages(&u));
    forget_repo_keys(&repo_id);
}

#[test]
fn local_backup_killed_at_20_points() {
    backup_killed_at_20_points("local");
}

#[test]
fn local_prune_killed_at_20_points() {
    prune_killed_at_20_points("local");
}

#[test]
fn s3_backup_killed_at_20_points() {
    backup_killed_at_20_points("s3");
}

#[test]
fn s3_prune_killed_at_20_points() {
    prune_killed_at_20_points("s3");
}

#[test]
fn webdav_backup_killed_at_20_points() {
    backup_killed_at_20_points("webdav");
}

#[test]
fn webdav_prune_killed_at_20_points() {
    prune_killed_at_20_points("webdav");
}

#[test]
fn kill_points_spread_over_the_run() {
    let p = kill_points(1);
    assert_eq!(p.len(), ROUNDS);
    assert!(p.iter().all(|f| (0.02..0.98).contains(f)));
    assert!(p.iter().any(|f| *f < 0.35) && p.iter().any(|f| *f > 0.65));
}
