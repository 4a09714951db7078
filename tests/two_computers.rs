//! Two computers backing up the same conversations into one repository at the same moment
//! (issue 15, fault matrix), driven through the CLI: each has its own config, data and cache
//! folders; the second gets the repository's key with `key unlock --recovery-code-file`, as a
//! user does on a new computer. Both CLIs start together, several rounds: a run either completes
//! or says clearly that the other holds the repository (`repo_locked`) and completes when run
//! again; afterwards the repository verifies and every snapshot restores.
mod common;

use common::user::User;
use std::process::{Output, Stdio};

fn has_keychain() -> bool {
    common::service_env("CHATVAULT_TEST_KEYRING").is_some()
}

fn json(out: &Output) -> serde_json::Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|_| {
        panic!(
            "not JSON: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    })
}

#[test]
fn two_computers_backing_up_the_same_conversations_at_once_lose_nothing() {
    if !has_keychain() {
        return;
    }
    let a = User::new(400);
    a.init();
    // The second computer: its own folders, the same chat store (the same conversations) and
    // the same target; it unlocks the repository with the recovery code.
    let b = User {
        dir: tempfile::tempdir().unwrap(),
        store: a.store.clone(),
        key_file: a.key_file.clone(),
        target: a.target.clone(),
    };
    b.ok(&[
        "key",
        "unlock",
        "--json",
        "--target",
        &b.target,
        "--recovery-code-file",
        a.path("recovery.txt").to_str().unwrap(),
    ]);

    let rounds = 6;
    let (mut together, mut locked, mut snapshots) = (0, 0, Vec::new());
    for round in 0..rounds {
        let text = format!("round {round}: new on both computers");
        a.add_message("wxid_alicechen", &text, 1_767_225_600 + round);
        let spawn = |u: &User| {
            u.cmd(&u.backup_args(&[]))
                .stdout(Stdio::piped())
                .stderr(Stdio::null())
                .spawn()
                .unwrap()
        };
        let (pa, pb) = (spawn(&a), spawn(&b));
        let outs = [
            pa.wait_with_output().unwrap(),
            pb.wait_with_output().unwrap(),
        ];
        let mut ok_here = 0;
        for (u, out) in [&a, &b].into_iter().zip(&outs) {
            let v = json(out);
            if out.status.success() {
                ok_here += 1;
                snapshots.push((v["snapshot"].as_str().unwrap().to_string(), text.clone()));
                continue;
            }
            // The only acceptable failure: the other computer holds the repository, said
            // clearly; the run goes through when tried again (as the next scheduled run would).
            assert_eq!(v["error"]["code"], "repo_locked", "round {round}: {v}");
            assert!(v["error"]["hint"].as_str().unwrap().contains("Wait"), "{v}");
            locked += 1;
            let again = u.backup(&[]);
            snapshots.push((
                again["snapshot"].as_str().unwrap().to_string(),
                text.clone(),
            ));
        }
        if ok_here == 2 {
            together += 1;
        }
    }
    eprintln!(
        "two computers: {rounds} rounds started together, {together} with both runs completing, \
         {locked} runs told repo_locked and completed when run again; {} snapshots",
        snapshots.len()
    );

    let v = a.ok(&["verify", "--json", "--read-data", "--target", &a.target]);
    assert!(v["errors"].as_array().unwrap().is_empty(), "{v}");
    assert_eq!(v["snapshots"], snapshots.len(), "{v}");
    // Every snapshot restores, on either computer, with the round's new message.
    for (i, (id, text)) in snapshots.iter().enumerate() {
        let u = if i % 2 == 0 { &a } else { &b };
        let dir = u.path(&format!("restore-{i}"));
        let r = u.ok(&[
            "restore",
            "--json",
            "--target",
            &u.target,
            "--snapshot",
            id,
            "--into",
            dir.to_str().unwrap(),
            "--format",
            "json",
        ]);
        assert_eq!(r["messages"].as_u64().unwrap(), 400 + 1 + (i as u64 / 2));
        let alice = common::user::exported_json(&dir, "wxid_alicechen");
        assert!(
            alice.contains(text.as_str()),
            "snapshot {id} lacks {text:?}"
        );
        std::fs::remove_dir_all(dir).unwrap();
    }
}
