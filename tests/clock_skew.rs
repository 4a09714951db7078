//! A computer whose clock is a day off (issue 15, fault matrix), driven through the CLI under
//! `faketime` (Debian package `faketime`, installed by `scripts/setup.sh test`): the process
//! sees the shifted time, the storage (here a local folder: the kernel stamps file times) keeps
//! the true one, as a shared target would. Backups with retention, leases and restore still
//! work, and nothing is deleted wrongly.
mod common;

use common::user::User;
use std::process::{Child, Command, Output, Stdio};

fn has_keychain() -> bool {
    common::service_env("CHATVAULT_TEST_KEYRING").is_some()
}

fn has_faketime() -> bool {
    let ok = Command::new("faketime")
        .args(["-f", "+1d", "true"])
        .status()
        .is_ok_and(|s| s.success());
    if !ok {
        if std::env::var("CHATVAULT_REQUIRE_SERVICES").as_deref() == Ok("1") {
            panic!("faketime is missing: run scripts/setup.sh test");
        }
        eprintln!("skipped: faketime is missing (scripts/setup.sh test installs it)");
    }
    ok
}

/// The CLI as `u` runs it, with the clock shifted by `offset` (faketime syntax: "+1d", "-1d").
fn skewed(u: &User, offset: &str, args: &[&str]) -> Command {
    let d = u.dir.path();
    let mut c = Command::new("faketime");
    c.args(["-f", offset])
        .arg(env!("CARGO_BIN_EXE_chatvault"))
        .args(args)
        .env("FAKETIME_DONT_FAKE_MONOTONIC", "1")
        .env("XDG_CONFIG_HOME", d.join("config"))
        .env("XDG_DATA_HOME", d.join("data"))
        .env("XDG_CACHE_HOME", d.join("cache"));
    c
}

fn ok(out: Output, what: &str) -> serde_json::Value {
    assert!(
        out.status.success(),
        "{what}: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap_or(serde_json::Value::Null)
}

/// The texts of `conversation` in snapshot `id`, restored as JSON.
fn restored_texts(u: &User, id: &str, conversation: &str) -> String {
    let dir = u.path(&format!("restore-{id}"));
    u.ok(&[
        "restore",
        "--json",
        "--target",
        &u.target,
        "--snapshot",
        id,
        "--conversation",
        conversation,
        "--into",
        dir.to_str().unwrap(),
        "--format",
        "json",
    ]);
    let text = common::user::exported_json(&dir, conversation);
    std::fs::remove_dir_all(&dir).unwrap();
    text
}

fn verify_clean(u: &User) {
    let v = u.ok(&["verify", "--json", "--read-data", "--target", &u.target]);
    assert!(v["errors"].as_array().unwrap().is_empty(), "{v}");
}

#[test]
fn backups_with_retention_on_a_clock_a_day_off_keep_each_runs_new_messages() {
    if !has_keychain() || !has_faketime() {
        return;
    }
    let u = User::new(200);
    u.init();
    let conv = "wxid_bobsmith";
    // Runs in real order; the clock jumps a day either way between them.
    let offsets = ["+1d", "+0", "-1d", "+0", "+1d", "-1d", "+0", "-1d"];
    for (i, offset) in offsets.iter().enumerate() {
        let text = format!("skew run {i} at {offset}");
        u.add_message(conv, &text, 1_767_225_600 + i as i64);
        let args = u.backup_args(&["--keep-last", "2"]);
        let run = ok(skewed(&u, offset, &args).output().unwrap(), &text);
        let id = run["snapshot"].as_str().unwrap().to_string();
        // Retention never removes the snapshot this run just made, whatever its clock says:
        // it is the only one with this run's new messages.
        let snaps = u.snapshots();
        assert!(
            snaps.iter().any(|s| s["id"] == id.as_str()),
            "run {i} ({offset}): its own snapshot was removed by retention: {snaps:?}"
        );
        assert!(
            restored_texts(&u, &id, conv).contains(&text),
            "run {i} ({offset})"
        );
        verify_clean(&u);
    }
    eprintln!("clock skew: {} runs at ±1 day, data lost: 0", offsets.len());
}

/// A backup on one computer while another computer, its clock a day ahead, prunes: the
/// pruner must not take the backup's lease for expired nor its fresh packs for old garbage.
#[test]
fn a_prune_on_a_computer_a_day_ahead_leaves_a_running_backup_alone() {
    if !has_keychain() || !has_faketime() {
        return;
    }
    let u = User::new(3000);
    u.init();
    u.backup(&["--conversation", "wxid_alicechen"]);
    let (mut rounds, mut locked) = (0, 0);
    // (backup's clock, prune's clock): the pruner a day ahead or behind, or the backup a day
    // behind (its lease's `expires` then looks long past to a pruner with the true clock).
    for (backup_offset, offset) in [("+0", "+1d"), ("+0", "-1d"), ("-1d", "+0")] {
        // Wait until the backup holds its lease.
        let backup: Child = skewed(&u, backup_offset, &u.backup_args(&[]))
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let locks = u.target_dir().join("locks");
        let t0 = std::time::Instant::now();
        while std::fs::read_dir(&locks).map_or(0, |d| d.count()) == 0 {
            assert!(
                t0.elapsed().as_secs() < 30,
                "the backup never took its lease"
            );
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        let prune = skewed(&u, offset, &["prune", "--json", "--target", &u.target])
            .output()
            .unwrap();
        let out = backup.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stdout)
        );
        if !prune.status.success() {
            locked += 1;
            let v: serde_json::Value = serde_json::from_slice(&prune.stdout).unwrap();
            assert_eq!(
                v["error"]["code"], "repo_locked",
                "{backup_offset}/{offset}: {v}"
            );
        }
        rounds += 1;
        verify_clean(&u);
        let id = serde_json::from_slice::<serde_json::Value>(&out.stdout).unwrap()["snapshot"]
            .as_str()
            .unwrap()
            .to_string();
        assert!(restored_texts(&u, &id, "wxid_bobsmith").len() > 100);
    }
    eprintln!(
        "clock skew: {rounds} prunes during a backup, one of the two a day off: \
         {locked} told repo_locked, data lost: 0"
    );
}
