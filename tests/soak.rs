//! Soak (issue 15): scheduled-style runs (`backup --profile` with retention) against a store
//! that changes between runs as WeChat changes it (new messages; recalls, which rewrite an old
//! row in place; a new shard, `MSG2.db`, that new messages go to once it exists), on one
//! repository.
//! Every run verifies (`--read-data` every 20th run and the last), the newest snapshot restores
//! to every message of the store, the repository grows with the new data only, and the peak
//! memory of a run stays flat.
//!
//! `cargo test --test soak` runs a short soak (5 runs); `scripts/soak.sh [RUNS]` runs the long
//! one (`soak_long`, ignored by default; 200 runs unless told).
mod common;

use common::store::{win3_insert, win3_shard};
use common::user::User;
use std::process::Command;

fn has_keychain() -> bool {
    common::service_env("CHATVAULT_TEST_KEYRING").is_some()
}

fn bytes_under(dir: &std::path::Path) -> u64 {
    common::user::files_under(dir)
        .iter()
        .map(|f| std::fs::metadata(f).map(|m| m.len()).unwrap_or(0))
        .sum()
}

/// Runs the CLI as `u` under /usr/bin/time; its JSON output and peak RSS in KiB (0 without
/// /usr/bin/time).
fn run_measured(u: &User, args: &[&str]) -> (serde_json::Value, u64) {
    let rss_file = u.path("rss.txt");
    let timed = std::path::Path::new("/usr/bin/time").exists();
    let mut c = if timed {
        let mut c = Command::new("/usr/bin/time");
        c.args(["-f", "%M", "-o"])
            .arg(&rss_file)
            .arg(env!("CARGO_BIN_EXE_chatvault"));
        c
    } else {
        Command::new(env!("CARGO_BIN_EXE_chatvault"))
    };
    let d = u.dir.path();
    let out = c
        .args(args)
        .env("XDG_CONFIG_HOME", d.join("config"))
        .env("XDG_DATA_HOME", d.join("data"))
        .env("XDG_CACHE_HOME", d.join("cache"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{args:?}: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let rss = if timed {
        std::fs::read_to_string(&rss_file)
            .unwrap()
            .trim()
            .parse()
            .unwrap_or(0)
    } else {
        0
    };
    (serde_json::from_slice(&out.stdout).unwrap(), rss)
}

/// The demo store's message database `file` (`MSG1.db`, `MSG2.db`), opened as WeChat 3.x does.
fn shard(u: &User, file: &str) -> rusqlite::Connection {
    win3_shard(std::path::Path::new(&u.store), file, &u.key())
}

/// A new message in shard `file`, as WeChat writes it.
fn add_message_to(u: &User, file: &str, talker: &str, text: &str, time: i64) {
    win3_insert(&shard(u, file), talker, text, time, true);
}

/// WeChat opens a new shard when the last one is full: MSG2.db, same schema, no rows yet.
fn open_new_shard(u: &User) {
    let multi = std::path::Path::new(&u.store).join("Msg/Multi");
    std::fs::copy(multi.join("MSG1.db"), multi.join("MSG2.db")).unwrap();
    shard(u, "MSG2.db").execute("DELETE FROM MSG", []).unwrap();
}

/// The user recalls their message `text`: WeChat rewrites its row in place as a system line.
/// Returns whether a row was found.
fn recall(u: &User, text: &str) -> bool {
    let mut n = 0;
    for file in ["MSG1.db", "MSG2.db"] {
        if std::path::Path::new(&u.store)
            .join("Msg/Multi")
            .join(file)
            .exists()
        {
            n += shard(u, file)
                .execute(
                    "UPDATE MSG SET Type = 10000, SubType = 0, StrContent = '你撤回了一条消息' WHERE StrContent = ?1",
                    [text],
                )
                .unwrap();
        }
    }
    n == 1
}

fn soak(runs: usize) {
    if !has_keychain() {
        return;
    }
    let base = 300;
    let u = User::new(base);
    u.init();
    let convs = ["wxid_alicechen", "wxid_bobsmith"];
    let started = std::time::Instant::now();
    // The first run saves the profile the scheduled runs use: keep the last 3 snapshots.
    u.backup(&["--keep-last", "3", "--save-profile", "soak"]);
    let first_size = bytes_under(&u.target_dir());
    let mut sizes = Vec::with_capacity(runs);
    let mut rss = Vec::with_capacity(runs);
    let mut uploaded = 0u64;
    let mut read_data_checks = 0;
    // A new shard opens halfway (in the short soak, at run 3); new messages go there after.
    let shard_at = if runs < 20 {
        runs.saturating_sub(2)
    } else {
        runs / 2
    };
    let mut recalled = Vec::new();
    let mut in_new_shard = 0u64;
    for run in 0..runs {
        // The store changes: a new message (every run) in one of two conversations; every
        // tenth run three at once; every fifth run, first, the user recalls the message of two
        // runs before (same conversation, same month: the new row leads the run to re-read it).
        if run % 5 == 2 {
            let text = format!("soak run {} message 0", run - 2);
            assert!(recall(&u, &text), "run {run}: {text} is in the store");
            recalled.push(text);
        }
        if run == shard_at {
            open_new_shard(&u);
        }
        let file = if run >= shard_at {
            "MSG2.db"
        } else {
            "MSG1.db"
        };
        let n = if run % 10 == 9 { 3 } else { 1 };
        for k in 0..n {
            add_message_to(
                &u,
                file,
                convs[run % convs.len()],
                &format!("soak run {run} message {k}"),
                1_767_225_600 + (run * 10 + k) as i64,
            );
        }
        if run >= shard_at {
            in_new_shard += n as u64;
        }
        let (out, peak) = run_measured(&u, &["backup", "--json", "--profile", "soak"]);
        assert!(out["snapshot"].is_string(), "run {run}: {out}");
        uploaded += out["bytes_uploaded"].as_u64().unwrap_or(0);
        rss.push(peak);
        let read_data = run % 20 == 19 || run + 1 == runs;
        let mut args = vec!["verify", "--json", "--target", &u.target];
        if read_data {
            args.push("--read-data");
            read_data_checks += 1;
        }
        let v = u.ok(&args);
        assert!(v["errors"].as_array().unwrap().is_empty(), "run {run}: {v}");
        assert!(
            v["snapshots"].as_u64().unwrap() <= 3,
            "run {run}: retention holds: {v}"
        );
        sizes.push(bytes_under(&u.target_dir()));
    }
    // The newest snapshot restores every message the store holds.
    let added: u64 = (0..runs).map(|r| if r % 10 == 9 { 3 } else { 1 }).sum();
    let dir = u.path("restored");
    let r = u.restore_into(&dir, "json");
    assert_eq!(r["messages"].as_u64().unwrap(), base as u64 + added, "{r}");
    // The newest messages (in the new shard) are there; no recalled text is, and each
    // recall shows as the notice WeChat wrote in its place.
    let mut exported = String::new();
    for c in convs {
        let text = common::user::exported_json(&dir, c);
        let last = (0..runs).rev().find(|r| convs[r % 2] == c);
        if let Some(last) = last {
            assert!(
                text.contains(&format!("\"soak run {last} message 0\"")),
                "{c}"
            );
        }
        exported.push_str(&text);
    }
    for text in &recalled {
        assert!(
            !exported.contains(&format!("\"{text}\"")),
            "the recalled {text:?} is gone from the newest snapshot"
        );
    }
    let notices = exported.matches("\"你撤回了一条消息\"").count();
    assert_eq!(
        notices,
        recalled.len(),
        "every recall shows as WeChat's notice"
    );
    for c in convs {
        let v: serde_json::Value =
            serde_json::from_str(&common::user::exported_json(&dir, c)).unwrap();
        for m in v["messages"].as_array().unwrap() {
            if m["text"] == "你撤回了一条消息" {
                assert_eq!(m["kind"], "recalled", "{m}");
            }
        }
    }
    // Growth with the new data only: after retention and prune the repository holds three
    // snapshots' metadata plus the new messages' segments, so its size may not climb by much
    // more per run than one run's small objects.
    let last_size = *sizes.last().unwrap();
    let per_run = last_size.saturating_sub(first_size) / runs as u64;
    let (rss_first, rss_max) = (rss[0], *rss.iter().max().unwrap());
    let rss_last = *rss.last().unwrap();
    eprintln!(
        "soak: {runs} runs in {:.0} s, {added} messages added ({in_new_shard} in a new shard \
         opened at run {shard_at}), {} recalled, {read_data_checks} read-data verifies, all clean; repository {first_size} -> {last_size} bytes ({per_run} bytes/run), \
         {uploaded} bytes uploaded; peak RSS first/last/max {rss_first}/{rss_last}/{rss_max} KiB",
        started.elapsed().as_secs_f64(),
        recalled.len()
    );
    assert!(
        per_run < 64 * 1024,
        "the repository grows {per_run} bytes per run for a message or three"
    );
    if rss_first > 0 {
        assert!(
            rss_last < rss_first + rss_first / 2 + 8 * 1024,
            "memory grows: {rss:?}"
        );
    }
}

#[test]
fn soak_short() {
    soak(5);
}

#[test]
#[ignore = "long: run through scripts/soak.sh"]
fn soak_long() {
    let runs = std::env::var("CHATVAULT_SOAK_RUNS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(200);
    soak(runs);
}
