//! The repository commands as a user runs them, with the real OS keychain (gnome-keyring in a
//! private D-Bus session under scripts/test.sh): init, backup, restore to HTML, the recovery
//! paths, keys that never reach a file, and kill -9 at random points of a backup.
mod common;

use chatvault::platform::keychain::{Keychain, OsKeychain};
use common::user::User;
use std::path::{Path, PathBuf};
use std::process::Stdio;

fn has_keychain() -> bool {
    common::service_env("CHATVAULT_TEST_KEYRING").is_some()
}

fn all_files(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut out = Vec::new();
    if let Ok(rd) = std::fs::read_dir(dir) {
        for e in rd.flatten() {
            let p = e.path();
            if p.is_dir() {
                out.extend(all_files(&p));
            } else {
                out.push((p.clone(), std::fs::read(&p).unwrap()));
            }
        }
    }
    out
}

#[test]
fn init_backup_restore_to_html_and_an_unchanged_second_run() {
    if !has_keychain() {
        return;
    }
    let u = User::new(400);
    let repo_id = u.init();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(u.path("recovery.txt"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600, "the recovery code file is private");
    }
    let first_run = u.run(&u.backup_args(&["--save-profile", "daily"]));
    assert!(
        first_run.status.success(),
        "{}",
        String::from_utf8_lossy(&first_run.stderr)
    );
    let first: serde_json::Value = serde_json::from_slice(&first_run.stdout).unwrap();
    // Without a terminal, progress arrives as JSON events on stderr, with message counts.
    let events: Vec<serde_json::Value> = String::from_utf8_lossy(&first_run.stderr)
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect();
    let last = events
        .iter()
        .rev()
        .find(|e| e["event"] == "progress")
        .expect("progress events");
    assert_eq!(last["done"], last["total"]);
    assert_eq!(last["messages"], 400);
    // The messages to read are known before the one-pass read starts, so the bar and its
    // time left go by messages while no conversation has finished yet.
    let opening = events
        .iter()
        .find(|e| e["event"] == "progress")
        .expect("progress events");
    assert_eq!(
        (&opening["done"], &opening["messages_total"]),
        (&0.into(), &400.into())
    );
    assert_eq!(last["messages_total"], 400);
    assert_eq!(first["conversations"], 6);
    assert_eq!(first["messages"], 400);
    // The saved profile runs with no key file and no secrets in its file.
    let profiles = std::fs::read_to_string(u.path("config/chatvault/profiles.toml")).unwrap();
    assert!(profiles.contains("[profiles.daily]") && !profiles.contains("c0ffee"));
    let second = u.ok(&[
        "backup",
        "--json",
        "--profile",
        "daily",
        "--origin",
        "schedule",
    ]);
    // Runs nobody watched leave a line in the log folder (and in the history).
    let log = std::fs::read_to_string(u.path("data/chatvault/logs/chatvault.log")).unwrap();
    assert!(
        log.lines()
            .any(|l| l.contains(" schedule profile=daily ") && l.contains(" ok: 6 conversations")),
        "{log}"
    );
    assert_eq!(second["unchanged"], true);
    assert_eq!(second["new_segments"], 0);
    let snaps = u.ok(&["snapshots", "--json", "--target", &u.target]);
    assert_eq!(snaps.as_array().unwrap().len(), 2);

    let conv = "wxid_alicechen";
    let msgs = u.ok(&[
        "messages",
        "--json",
        "--store",
        &u.store,
        "--key-file",
        &u.key_file,
        "--conversation",
        conv,
    ]);
    let out_dir = u.path("export");
    let r = u.ok(&[
        "restore",
        "--json",
        "--target",
        &u.target,
        "--conversation",
        conv,
        "--into",
        out_dir.to_str().unwrap(),
        "--format",
        "html",
    ]);
    assert_eq!(r["conversations"], 1);
    // One conversation: one page besides index.html, named by its title (safe for any disk).
    let pages: Vec<_> = std::fs::read_dir(&out_dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n.ends_with(".html") && n != "index.html")
        .collect();
    assert_eq!(pages.len(), 1, "{pages:?}");
    let html = std::fs::read_to_string(out_dir.join(&pages[0])).unwrap();
    let texts: Vec<&str> = msgs
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["kind"] == "text")
        .map(|m| m["text"].as_str().unwrap())
        .collect();
    assert!(texts.len() > 10);
    for t in &texts {
        let escaped = t
            .replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;")
            .replace('"', "&quot;")
            .replace('\'', "&#39;");
        assert!(
            html.contains(&escaped),
            "{t:?} missing from the HTML export"
        );
    }
    assert!(std::fs::read_to_string(out_dir.join("index.html"))
        .unwrap()
        .contains("Alice Chen"));

    // Without --into: into the local library in the data folder.
    let lib = u.ok(&["restore", "--json", "--target", &u.target]);
    assert_eq!(lib["library_messages"], 400);
    assert!(u.path("data/chatvault/library.sqlite").is_file());
    let _ = OsKeychain::default().delete(&chatvault::store::StoreKey::keychain_account(Path::new(
        &u.store,
    )));

    let v = u.ok(&["verify", "--json", "--read-data", "--target", &u.target]);
    assert_eq!(v["errors"].as_array().unwrap().len(), 0);
    OsKeychain::default()
        .delete(&format!("repo:{repo_id}"))
        .unwrap();
}

#[test]
fn a_lost_key_is_recovered_with_the_code_and_never_written_to_disk() {
    if !has_keychain() {
        return;
    }
    let u = User::new(120);
    let repo_id = u.init();
    u.backup(&[]);
    let kc = OsKeychain::default();
    let mk_hex = kc
        .get(&format!("repo:{repo_id}"))
        .unwrap()
        .unwrap()
        .expose()
        .clone();

    // Lost laptop: the keychain no longer has the key.
    u.forget_keys(&repo_id);
    let e = u.err(&["restore", "--json", "--target", &u.target]);
    assert_eq!(e["code"], "key_missing");
    assert!(
        e["hint"].as_str().unwrap().contains("recovery-code-file"),
        "{e}"
    );

    // A typo, then another repository's code, then the right one.
    // The file is the app's too: a title, the code on a line of its own, a line on keeping it.
    let file = std::fs::read_to_string(u.path("recovery.txt")).unwrap();
    let code = file
        .lines()
        .find(|l| chatvault::crypto::recovery::RecoveryCode::parse(l).is_ok())
        .unwrap();
    let mut typo = code.trim().to_string();
    let last = typo.pop().unwrap();
    typo.push(if last == 'Z' { 'Y' } else { 'Z' });
    std::fs::write(u.path("typo.txt"), &typo).unwrap();
    let e = u.err(&u.unlock_args(&u.path("typo.txt")));
    assert_eq!(e["code"], "recovery_code_invalid");
    assert!(
        !e.to_string().contains(&typo),
        "the error must not echo the code"
    );

    let other = User::new(20);
    let other_id = other.init();
    let e = u.err(&u.unlock_args(&other.path("recovery.txt")));
    assert_eq!(e["code"], "recovery_code_wrong");

    u.ok(&u.unlock_args(&u.path("recovery.txt")));
    let restored = u.ok(&[
        "restore",
        "--json",
        "--target",
        &u.target,
        "--into",
        u.path("out").to_str().unwrap(),
    ]);
    assert_eq!(restored["messages"], 120);
    let status = u.ok(&["key", "status", "--json", "--target", &u.target]);
    assert_eq!(status["key_opens_repository"], true);

    // The master key's bytes are in no file of the config, data or cache folders, in any form.
    let raw = hex::decode(&mk_hex).unwrap();
    let b64 = base64_std(&raw);
    for (path, bytes) in all_files(u.dir.path())
        .into_iter()
        .filter(|(p, _)| !p.starts_with(u.path("target")))
    {
        for needle in [
            mk_hex.as_bytes(),
            mk_hex.to_uppercase().as_bytes(),
            raw.as_slice(),
            b64.as_bytes(),
        ] {
            assert!(
                !bytes.windows(needle.len()).any(|w| w == needle),
                "master key found in {}",
                path.display()
            );
        }
    }
    for id in [repo_id, other_id] {
        u.forget_keys(&id);
    }
}

fn base64_std(data: &[u8]) -> String {
    const T: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for c in data.chunks(3) {
        let n = (c[0] as u32) << 16
            | (*c.get(1).unwrap_or(&0) as u32) << 8
            | *c.get(2).unwrap_or(&0) as u32;
        for i in 0..4 {
            if i <= c.len() {
                out.push(T[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[test]
fn kill_dash_nine_at_random_points_never_breaks_the_repository() {
    if !has_keychain() {
        return;
    }
    let u = User::new(12_000);
    let repo_id = u.init();
    // How long an uninterrupted backup takes here, measured on a scratch repository.
    let scratch = User {
        store: u.store.clone(),
        key_file: u.key_file.clone(),
        target: format!("file://{}", u.path("scratch").display()),
        dir: tempfile::tempdir().unwrap(),
    };
    let scratch_id = scratch.init();
    let t0 = std::time::Instant::now();
    scratch.backup(&[]);
    let full = t0.elapsed();

    // Deterministic "random" kill points spread over the run.
    let mut seed = 0x9e37_79b9_7f4a_7c15u64;
    for round in 0..10 {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        let frac = 0.05 + (seed % 900) as f64 / 1000.0;
        let delay = full.mul_f64(frac);
        let mut child = u
            .cmd(&u.backup_args(&[]))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(delay);
        let _ = child.kill(); // SIGKILL on Unix
        let _ = child.wait();
        let v = u.ok(&["verify", "--json", "--target", &u.target]);
        assert!(
            v["errors"].as_array().unwrap().is_empty(),
            "round {round} (killed after {delay:?}): {v}"
        );
    }
    // The next run completes and nothing is lost.
    let last = u.backup(&[]);
    assert_eq!(last["messages"], 12_000);
    let v = u.ok(&["verify", "--json", "--read-data", "--target", &u.target]);
    assert!(v["errors"].as_array().unwrap().is_empty(), "{v}");
    let restored = u.restore_into(&u.path("out"), "json");
    assert_eq!(restored["messages"], 12_000);
    for id in [repo_id, scratch_id] {
        u.forget_keys(&id);
    }
}

#[cfg(unix)]
fn mode(p: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::symlink_metadata(p).unwrap().permissions().mode() & 0o777
}

#[cfg(unix)]
#[test]
fn local_files_are_private_after_init_backup_and_restore() {
    if !has_keychain() {
        return;
    }
    let u = User::new(40);
    let repo_id = u.init();
    u.ok(&u.backup_args(&["--save-profile", "daily"]));
    u.ok(&["restore", "--json", "--target", &u.target]);
    let paths = chatvault::local::paths::AppPaths {
        config_dir: u.path("config/chatvault"),
        data_dir: u.path("data/chatvault"),
        cache_dir: u.path("cache/chatvault"),
    };
    // The app writes settings.toml through the same core function.
    chatvault::local::settings::Settings::default()
        .save(&paths)
        .unwrap();

    for f in [
        paths.config_dir.join("profiles.toml"),
        paths.config_dir.join("repositories.toml"),
        paths.settings_file(),
        paths.data_dir.join("history.jsonl"),
        paths.data_dir.join("library.sqlite"),
    ] {
        assert_eq!(mode(&f), 0o600, "{}", f.display());
    }
    for d in [
        paths.config_dir.clone(),
        paths.data_dir.clone(),
        paths.logs_dir(),
        paths.cache_dir.clone(),
        paths.repos_cache_dir().join(&repo_id),
    ] {
        assert_eq!(mode(&d), 0o700, "{}", d.display());
    }
    // Everything else below the three folders too, the run log and rollback marks included.
    assert!(paths.logs_dir().join("chatvault.log").exists());
    for (f, _) in all_files(&paths.config_dir)
        .into_iter()
        .chain(all_files(&paths.data_dir))
        .chain(all_files(&paths.cache_dir))
    {
        assert_eq!(mode(&f), 0o600, "{}", f.display());
    }
    u.forget_keys(&repo_id);
}

#[cfg(unix)]
#[test]
fn init_never_overwrites_a_file_nor_saves_the_code_next_to_the_backup() {
    if !has_keychain() {
        return;
    }
    let u = User::new(10);
    let existing = u.path("notes.txt");
    std::fs::write(&existing, "my notes").unwrap();
    let e = u.err(&[
        "init",
        "--json",
        "--target",
        &u.target,
        "--recovery-code-file",
        existing.to_str().unwrap(),
    ]);
    assert_eq!(e["code"], "invalid_input", "{e}");
    assert!(e["hint"].as_str().unwrap().contains("new file"), "{e}");
    assert_eq!(std::fs::read_to_string(&existing).unwrap(), "my notes");
    assert!(
        !u.path("target/config").exists(),
        "no repository is created whose code could not be kept"
    );

    // Inside the target folder, or a synced folder: refused unless allowed.
    std::fs::create_dir_all(u.path("target")).unwrap();
    std::fs::create_dir_all(u.path("Dropbox")).unwrap();
    for place in ["target/code.txt", "Dropbox/code.txt"] {
        let e = u.err(&[
            "init",
            "--json",
            "--target",
            &u.target,
            "--recovery-code-file",
            u.path(place).to_str().unwrap(),
        ]);
        assert_eq!(e["code"], "invalid_input", "{place}: {e}");
        assert!(
            e["hint"]
                .as_str()
                .unwrap()
                .contains("--allow-synced-folder"),
            "{e}"
        );
        assert!(!u.path(place).exists());
    }
    let out = u.ok(&[
        "init",
        "--json",
        "--target",
        &u.target,
        "--recovery-code-file",
        u.path("Dropbox/code.txt").to_str().unwrap(),
        "--allow-synced-folder",
    ]);
    assert_eq!(mode(&u.path("Dropbox/code.txt")), 0o600);
    let repo_id = out["repository"].as_str().unwrap();
    u.forget_keys(repo_id);
}

#[test]
fn a_failed_save_during_key_rotate_keeps_the_old_code_working() {
    if !has_keychain() {
        return;
    }
    let u = User::new(30);
    let repo_id = u.init();
    u.backup(&[]);
    let wraps = || std::fs::read_dir(u.path("target/keys")).unwrap().count();
    assert_eq!(wraps(), 1);

    // The new code cannot be saved (its folder does not exist): nothing changes.
    let unwritable = u.path("no-such-folder/new-code.txt");
    let e = u.err(&[
        "key",
        "rotate",
        "--json",
        "--target",
        &u.target,
        "--recovery-code-file",
        unwritable.to_str().unwrap(),
    ]);
    assert_eq!(e["code"], "io", "{e}");
    assert_eq!(wraps(), 1, "the new, unsaved wrap is removed again");

    // A lost laptop later: the old code still unlocks the repository.
    let kc = OsKeychain::default();
    u.forget_keys(&repo_id);
    let unlock = |file: &Path| u.run(&u.unlock_args(file));
    assert!(unlock(&u.path("recovery.txt")).status.success());

    // A rotation that can save the code replaces the old one.
    let new_file = u.path("new-code.txt");
    u.ok(&[
        "key",
        "rotate",
        "--json",
        "--target",
        &u.target,
        "--recovery-code-file",
        new_file.to_str().unwrap(),
    ]);
    #[cfg(unix)]
    assert_eq!(mode(&new_file), 0o600);
    assert_eq!(wraps(), 1);
    kc.delete(&format!("repo:{repo_id}")).unwrap();
    let e = u.err(&u.unlock_args(&u.path("recovery.txt")));
    assert_eq!(e["code"], "recovery_code_wrong");
    assert!(unlock(&new_file).status.success());
    u.forget_keys(&repo_id);
}

/// Byte-for-byte copies of target objects in the cache, by path relative to the target.
fn cached_objects(u: &User, repo_id: &str) -> Vec<(String, Vec<u8>)> {
    let base = u.path(&format!("cache/chatvault/repos/{repo_id}/objects"));
    let mut out: Vec<(String, Vec<u8>)> = all_files(&base)
        .into_iter()
        .map(|(p, bytes)| {
            let rel = p
                .strip_prefix(&base)
                .unwrap()
                .to_string_lossy()
                .into_owned();
            // Packs are cached flat (`data/<name>`); on the target they are `data/<nn>/<name>`.
            let rel = match rel.strip_prefix("data/") {
                Some(name) => format!("data/{}/{name}", &name[..2]),
                None => rel,
            };
            (rel, bytes)
        })
        .collect();
    out.sort();
    out
}

#[test]
fn the_local_cache_mirrors_the_target_is_checked_on_use_and_follows_deletions() {
    if !has_keychain() {
        return;
    }
    let u = User::new(300);
    let repo_id = u.init();
    u.backup(&[]);
    // Every cached object is the target's object, byte for byte (so: sealed, never plaintext).
    let cached = cached_objects(&u, &repo_id);
    for dir in ["keytable/", "index/", "snapshots/", "data/"] {
        assert!(
            cached.iter().any(|(p, _)| p.starts_with(dir)),
            "nothing of {dir} cached: {:?}",
            cached.iter().map(|(p, _)| p).collect::<Vec<_>>()
        );
    }
    for (rel, bytes) in &cached {
        assert_eq!(
            &std::fs::read(u.target_dir().join(rel)).unwrap(),
            bytes,
            "{rel} differs from the target"
        );
    }
    let restored = |extra: &[&str]| {
        let mut args = vec!["restore", "--json", "--target", &u.target];
        args.extend_from_slice(extra);
        u.ok(&args)["messages"].as_u64().unwrap()
    };
    assert_eq!(restored(&[]), 300);

    // A damaged cache (a flipped byte in a pack, a truncated index object) is never trusted:
    // the restore is still right, and the damaged copies are replaced by the target's.
    let base = u.path(&format!("cache/chatvault/repos/{repo_id}/objects"));
    let (pack, _) = cached.iter().find(|(p, _)| p.starts_with("data/")).unwrap();
    let pack_file = base.join("data").join(pack.rsplit('/').next().unwrap());
    let mut bytes = std::fs::read(&pack_file).unwrap();
    bytes[100] ^= 0xff;
    std::fs::write(&pack_file, &bytes).unwrap();
    let (index, _) = cached
        .iter()
        .find(|(p, _)| p.starts_with("index/"))
        .unwrap();
    let index_file = base.join(index);
    std::fs::write(&index_file, b"CVLT").unwrap();
    assert_eq!(restored(&[]), 300);
    assert_eq!(
        std::fs::read(&pack_file).unwrap(),
        std::fs::read(u.target_dir().join(pack)).unwrap()
    );
    assert_eq!(
        std::fs::read(&index_file).unwrap(),
        std::fs::read(u.target_dir().join(index)).unwrap()
    );
    // Without a cache at all, whole packs are fetched again; --ranged-reads reads ranges.
    std::fs::remove_dir_all(&base).unwrap();
    assert_eq!(restored(&["--ranged-reads"]), 300);
    assert!(
        !base.join("data").exists()
            || std::fs::read_dir(base.join("data"))
                .unwrap()
                .next()
                .is_none(),
        "ranged reads cache no pack"
    );
    assert_eq!(restored(&[]), 300);
    assert!(base.join("data").read_dir().unwrap().next().is_some());

    // What is gone from the target is gone from the cache once listed: a second run, then the
    // first snapshot forgotten and pruned from the CLI.
    u.add_message("wxid_alicechen", "one more", 1_760_000_000);
    u.backup(&[]);
    let first = u.snapshots()[0]["id"].as_str().unwrap().to_string();
    u.ok(&[
        "forget",
        "--json",
        "--target",
        &u.target,
        "--snapshot",
        &first,
        "--prune",
    ]);
    for (rel, bytes) in cached_objects(&u, &repo_id) {
        assert_eq!(
            std::fs::read(u.target_dir().join(&rel)).ok().as_ref(),
            Some(&bytes),
            "{rel} is cached but not on the target"
        );
    }
    // An object another computer deleted (here: a cached name the target does not list) goes
    // at the next listing of its folder.
    let stale = base.join("snapshots").join("ab".repeat(32));
    std::fs::write(&stale, b"an old snapshot").unwrap();
    assert_eq!(u.snapshots().len(), 1);
    assert!(
        !stale.exists(),
        "a name the target no longer lists stays cached"
    );
    u.forget_keys(&repo_id);
}

/// Snapshots share most trees and segments: `verify --read-data` opens each once, so a second
/// snapshot after one new message costs a few blobs, not a second pass over everything.
#[test]
fn verify_read_data_opens_each_shared_blob_once() {
    if !has_keychain() {
        return;
    }
    let u = User::new(2_000);
    let repo_id = u.init();
    u.backup(&[]);
    let verify = || u.ok(&["verify", "--json", "--read-data", "--target", &u.target]);
    let one = verify();
    assert!(one["errors"].as_array().unwrap().is_empty(), "{one}");
    let blobs_one = one["blobs_read"].as_u64().unwrap();
    u.add_message("wxid_alicechen", "one more", 1_767_225_600);
    u.backup(&[]);
    let two = verify();
    assert!(two["errors"].as_array().unwrap().is_empty(), "{two}");
    assert_eq!(two["snapshots"], 2);
    let blobs_two = two["blobs_read"].as_u64().unwrap();
    // The changed conversation's new tree and newest segment, nothing else.
    assert!(
        blobs_two > blobs_one && blobs_two <= blobs_one + 4,
        "one snapshot: {blobs_one} blobs, two: {blobs_two}"
    );
    u.forget_keys(&repo_id);
}
