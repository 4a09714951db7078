//! Full disks, driven through the CLI as a user meets them (issue 15, fault matrix): a local
//! folder target, a WebDAV server (wsgidav) and an S3 server (moto) whose data sit on a small
//! filesystem that fills up mid-backup, and the local disk filling up while restoring. The small filesystems are tmpfs mounts (size=…), which needs root (as in CI);
//! without it the tests say so and skip.
mod common;

use common::server::{Kind, Server};
use common::user::{files_under, User};
use std::path::{Path, PathBuf};
use std::process::Command;

fn has_keychain() -> bool {
    common::service_env("CHATVAULT_TEST_KEYRING").is_some()
}

/// A tmpfs of `size_kib` mounted at `path`, unmounted on drop.
struct Mount(PathBuf);

impl Mount {
    fn tmpfs(path: &Path, size_kib: u64) -> Option<Mount> {
        std::fs::create_dir_all(path).unwrap();
        let out = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size_kib}k,mode=0700")])
            .arg("tmpfs")
            .arg(path)
            .output();
        match out {
            Ok(o) if o.status.success() => Some(Mount(path.to_path_buf())),
            Ok(o) => {
                eprintln!(
                    "skipped: cannot mount a small tmpfs (needs root, as in CI): {}",
                    String::from_utf8_lossy(&o.stderr).trim()
                );
                None
            }
            Err(e) => {
                eprintln!("skipped: no mount command: {e}");
                None
            }
        }
    }

    /// Free bytes left on the filesystem.
    fn free(&self) -> u64 {
        let out = Command::new("df")
            .args(["--output=avail", "-B1"])
            .arg(&self.0)
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .nth(1)
            .unwrap()
            .trim()
            .parse()
            .unwrap()
    }

    /// Fills the filesystem until `leave` bytes are free, with a file at `name`.
    fn fill(&self, name: &str, leave: u64) -> PathBuf {
        let path = self.0.join(name);
        let free = self.free();
        let len = free.saturating_sub(leave);
        // Written, not sparse: tmpfs counts pages written.
        std::fs::write(&path, vec![0x5au8; len as usize]).unwrap();
        path
    }
}

impl Drop for Mount {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.0).status();
    }
}

fn bytes_under(dir: &Path) -> u64 {
    files_under(dir)
        .iter()
        .map(|f| std::fs::metadata(f).map(|m| m.len()).unwrap_or(0))
        .sum()
}

fn verify_clean(u: &User) -> serde_json::Value {
    let v = u.ok(&["verify", "--json", "--read-data", "--target", &u.target]);
    assert!(v["errors"].as_array().unwrap().is_empty(), "{v}");
    v
}

/// Number of messages every conversation of the newest snapshot restores to (JSON export).
fn restored_messages(u: &User, into: &Path) -> u64 {
    let r = u.restore_into(into, "json");
    r["messages"].as_u64().unwrap()
}

#[test]
fn a_target_that_fills_up_mid_backup_says_so_loses_nothing_and_the_next_backup_completes() {
    if !has_keychain() {
        return;
    }
    let mut u = User::new(3000);
    let Some(m) = Mount::tmpfs(&u.path("small"), 32 * 1024) else {
        return;
    };
    u.target = format!("file://{}", m.0.join("target").display());
    u.init();
    // A first, small backup fits.
    u.backup(&["--conversation", "wxid_alicechen"]);
    let first = u.snapshots();
    assert_eq!(first.len(), 1);
    let before = bytes_under(&m.0.join("target"));

    // The disk fills at different points of the whole-store backup: with room for part of a
    // pack or a few objects, and with nothing left. Each fails clearly; nothing is lost. What a
    // failed run uploaded stays (the next run does not upload it again), so the room left
    // shrinks from one fault to the next, and all of it together (340 KiB) stays below what the
    // whole store needs (about 660 KB: its photos are drawn PNGs, which compress well).
    let mut faults = 0;
    for leave_kib in [256u64, 64, 16, 4, 0] {
        let filler = m.fill("filler", leave_kib * 1024);
        let e = u.err(&u.backup_args(&[]));
        faults += 1;
        assert_eq!(e["code"], "target_quota", "leave {leave_kib} KiB: {e}");
        assert!(
            e["hint"].as_str().unwrap().contains("full"),
            "the hint says the storage is full: {e}"
        );
        // The snapshot that was there is still the only one and lists while the disk is full;
        // verify takes a lock (an object on the target), so it too says the storage is full.
        assert_eq!(u.snapshots().len(), 1, "leave {leave_kib} KiB");
        if leave_kib == 0 {
            let e = u.err(&["verify", "--json", "--read-data", "--target", &u.target]);
            assert_eq!(e["code"], "target_quota", "{e}");
        }
        std::fs::remove_file(filler).unwrap();
        // Space freed: the repository reads in full, the old snapshot intact.
        let v = verify_clean(&u);
        assert_eq!(v["snapshots"], 1, "{v}");
    }
    // A failed write takes its part file with it.
    let leftover = files_under(&m.0.join("target").join(".chatvault-tmp"));
    assert!(leftover.is_empty(), "part files left: {leftover:?}");
    eprintln!(
        "target full: {faults} faults injected; repository {before} bytes before, \
         nothing left in .chatvault-tmp by the failed writes"
    );

    // Space freed: the next backup completes, and both snapshots restore.
    let out = u.backup(&[]);
    assert!(out["messages"].as_u64().unwrap() > 0, "{out}");
    assert_eq!(u.snapshots().len(), 2);
    let v = verify_clean(&u);
    assert_eq!(v["snapshots"], 2, "{v}");
    assert_eq!(restored_messages(&u, &u.path("restored")), 3000);
}

#[test]
fn a_local_disk_that_fills_while_restoring_says_so_and_leaves_no_half_written_file() {
    if !has_keychain() {
        return;
    }
    let u = User::new(3000);
    u.init();
    u.backup(&[]);
    let Some(m) = Mount::tmpfs(&u.path("small"), 1024) else {
        return;
    };
    let mut faults = 0;
    for leave_kib in [0u64, 100, 600] {
        let filler = m.fill("filler", leave_kib * 1024);
        let out_dir = m.0.join(format!("export-{leave_kib}"));
        let e = u.err(&[
            "restore",
            "--json",
            "--target",
            &u.target,
            "--into",
            out_dir.to_str().unwrap(),
            "--format",
            "html,json,txt",
        ]);
        faults += 1;
        assert_eq!(e["code"], "io", "leave {leave_kib} KiB: {e}");
        assert!(
            e["hint"].as_str().unwrap_or("").contains("disk space"),
            "the hint says to free disk space: {e}"
        );
        // What is there is whole: no temporary part left, every JSON export parses.
        for f in files_under(&out_dir) {
            let name = f.file_name().unwrap().to_string_lossy().to_string();
            assert!(!name.ends_with(".chatvault-part"), "{f:?} left behind");
            if name.ends_with(".json") {
                let bytes = std::fs::read(&f).unwrap();
                serde_json::from_slice::<serde_json::Value>(&bytes)
                    .unwrap_or_else(|e| panic!("{f:?} is half-written: {e}"));
            }
        }
        std::fs::remove_file(filler).unwrap();
        std::fs::remove_dir_all(&out_dir).ok();
    }
    eprintln!("local disk full while restoring: {faults} faults injected");
    // With room, the same restore completes.
    drop(m);
    assert_eq!(restored_messages(&u, &u.path("restored")), 3000);
    verify_clean(&u);
}

/// A WebDAV or S3 server whose data folder is a small tmpfs: the disk fills at different points
/// of a whole-store backup. Each backup fails with an error that says what to do, the earlier
/// snapshot verifies in full, and once space is freed the next backup completes.
fn a_server_that_fills_up(kind: Kind) {
    if !has_keychain() {
        return;
    }
    let started = std::time::Instant::now();
    let mut u = User::new(3000);
    let Some(m) = Mount::tmpfs(&u.path("small"), 32 * 1024) else {
        return;
    };
    let Some(server) = Server::start(kind, &m.0.join("server")) else {
        return;
    };
    u.target = server.target("repo");
    u.init();
    u.backup(&["--conversation", "wxid_alicechen"]);
    assert_eq!(u.snapshots().len(), 1);

    let mut faults = 0;
    let mut codes = Vec::new();
    for leave_kib in [0u64, 64, 512] {
        let filler = m.fill("filler", leave_kib * 1024);
        let e = u.err(&u.backup_args(&[]));
        faults += 1;
        let code = e["code"].as_str().unwrap().to_string();
        let hint = e["hint"].as_str().unwrap_or("");
        match kind {
            // wsgidav answers 500 with "No space left on device" in its body.
            Kind::WebDav => {
                assert_eq!(code, "target_quota", "leave {leave_kib} KiB: {e}");
                assert!(
                    hint.contains("full"),
                    "the hint says the storage is full: {e}"
                );
            }
            // moto answers a bare 500 Internal Server Error: S3 has no "disk full" code.
            Kind::S3 => {
                assert!(
                    code == "target_failed" || code == "target_quota",
                    "leave {leave_kib} KiB: {e}"
                );
                assert!(
                    hint.contains("disk space") || hint.contains("full"),
                    "the hint names a full storage: {e}"
                );
            }
        }
        codes.push(code);
        std::fs::remove_file(filler).unwrap();
        // Space freed: the repository reads in full, the old snapshot intact.
        let v = verify_clean(&u);
        assert_eq!(v["snapshots"], 1, "leave {leave_kib} KiB: {v}");
    }

    let out = u.backup(&[]);
    assert!(out["messages"].as_u64().unwrap() > 0, "{out}");
    assert_eq!(u.snapshots().len(), 2);
    let v = verify_clean(&u);
    assert_eq!(v["snapshots"], 2, "{v}");
    assert_eq!(restored_messages(&u, &u.path("restored")), 3000);
    eprintln!(
        "{kind:?} server full: {faults} faults injected, errors {codes:?}; 4 verify --read-data \
         clean; the backup after freeing space completed; {:.0} s",
        started.elapsed().as_secs_f64()
    );
}

#[test]
fn a_webdav_server_that_fills_up_mid_backup_says_so_loses_nothing_and_the_next_backup_completes() {
    a_server_that_fills_up(Kind::WebDav);
}

#[test]
fn an_s3_server_that_fills_up_mid_backup_says_so_loses_nothing_and_the_next_backup_completes() {
    a_server_that_fills_up(Kind::S3);
}

#[test]
fn a_backup_removes_part_files_killed_runs_left_but_not_those_of_a_run_in_flight() {
    if !has_keychain() {
        return;
    }
    let u = User::new(200);
    u.init();
    u.backup(&[]);
    let tmp = u.target_dir().join(".chatvault-tmp");
    std::fs::create_dir_all(&tmp).unwrap();
    // A run killed an hour ago left a part file; another computer's run is writing one now.
    let stale = tmp.join(format!("{}.1a2b3c4d", "ab".repeat(32)));
    let in_flight = tmp.join(format!("{}.5e6f7a8b", "cd".repeat(32)));
    std::fs::write(&stale, vec![7u8; 300_000]).unwrap();
    std::fs::write(&in_flight, vec![7u8; 300_000]).unwrap();
    let hour_ago = std::time::SystemTime::now() - std::time::Duration::from_secs(3600);
    std::fs::File::options()
        .write(true)
        .open(&stale)
        .unwrap()
        .set_modified(hour_ago)
        .unwrap();
    u.add_message("wxid_alicechen", "after the crash", 1_767_225_600);
    u.backup(&[]);
    assert!(!stale.exists(), "the killed run's part file is removed");
    assert!(
        in_flight.exists(),
        "a young part file may be a live upload: kept"
    );
    verify_clean(&u);
}
