//! `chatvault schedule`: set a rule on a profile, install the OS timer (on Linux a systemd user
//! timer, checked with systemd-analyze where available), see its status, remove it.
use std::path::Path;
use std::process::Command;

fn chatvault(home: &Path, args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_chatvault"))
        .args(args)
        .env("XDG_CONFIG_HOME", home.join("config"))
        .env("XDG_DATA_HOME", home.join("data"))
        .env("XDG_CACHE_HOME", home.join("cache"))
        .output()
        .unwrap()
}

#[test]
fn a_profile_gets_an_os_timer_that_can_be_removed() {
    let home = tempfile::tempdir().unwrap();
    let cfg = home.path().join("config/chatvault");
    std::fs::create_dir_all(&cfg).unwrap();
    std::fs::write(cfg.join("profiles.toml"), "[profiles.family]\nstore = \"/nonexistent/store\"\ntarget = \"file:///nonexistent/target\"\n").unwrap();

    let no_rule = chatvault(home.path(), &["schedule", "install", "--profile", "family"]);
    assert_eq!(no_rule.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&no_rule.stderr).contains("schedule set"));

    let bad = chatvault(
        home.path(),
        &["schedule", "set", "--profile", "family", "sometimes"],
    );
    assert_eq!(bad.status.code(), Some(1));
    let set = chatvault(
        home.path(),
        &[
            "schedule",
            "set",
            "--profile",
            "family",
            "weekly thu,mon 21:00",
        ],
    );
    assert!(
        set.status.success(),
        "{}",
        String::from_utf8_lossy(&set.stderr)
    );
    assert!(std::fs::read_to_string(cfg.join("profiles.toml"))
        .unwrap()
        .contains("schedule = \"weekly mon,thu 21:00\""));

    let out = chatvault(
        home.path(),
        &["schedule", "install", "--json", "--profile", "family"],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    if cfg!(target_os = "linux") {
        let dir = home.path().join("config/systemd/user");
        let timer = std::fs::read_to_string(dir.join("chatvault-backup-family.timer")).unwrap();
        assert!(timer.contains("OnCalendar=Mon,Thu *-*-* 21:00:00"));
        let service = dir.join("chatvault-backup-family.service");
        assert!(std::fs::read_to_string(&service)
            .unwrap()
            .contains(env!("CARGO_BIN_EXE_chatvault")));
        // systemd's own checker, where the machine has it.
        if let Ok(v) = Command::new("systemd-analyze")
            .arg("verify")
            .arg(&service)
            .arg(dir.join("chatvault-backup-family.timer"))
            .output()
        {
            assert!(
                v.status.success(),
                "systemd-analyze verify: {}",
                String::from_utf8_lossy(&v.stderr)
            );
        }
    }
    let status = chatvault(
        home.path(),
        &["schedule", "status", "--json", "--profile", "family"],
    );
    let v: serde_json::Value = serde_json::from_slice(&status.stdout).unwrap();
    assert_eq!(v["schedule"], "weekly mon,thu 21:00");
    assert!(
        v["next_run"].is_string(),
        "a profile that never ran is due: {v}"
    );
    if cfg!(target_os = "linux") {
        assert_eq!(v["timer_files"].as_array().unwrap().len(), 2);
    }
    let removed = chatvault(home.path(), &["schedule", "remove", "--profile", "family"]);
    assert!(removed.status.success());
    let v: serde_json::Value = serde_json::from_slice(
        &chatvault(
            home.path(),
            &["schedule", "status", "--json", "--profile", "family"],
        )
        .stdout,
    )
    .unwrap();
    assert_eq!(v["timer_files"].as_array().unwrap().len(), 0);
}

#[test]
fn a_paused_profile_has_no_next_run_and_its_scheduled_runs_wait() {
    let home = tempfile::tempdir().unwrap();
    let cfg = home.path().join("config/chatvault");
    std::fs::create_dir_all(&cfg).unwrap();
    std::fs::write(
        cfg.join("profiles.toml"),
        "[profiles.family]\nstore = \"/nonexistent/store\"\ntarget = \"file:///nonexistent/target\"\nschedule = \"daily 02:30\"\npaused = true\n",
    )
    .unwrap();
    let out = chatvault(
        home.path(),
        &["schedule", "status", "--json", "--profile", "family"],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let status: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(status["paused"], true);
    assert!(status["next_run"].is_null());
    // What an OS timer runs: postponed, nothing tried (the store does not even exist).
    let run = chatvault(
        home.path(),
        &[
            "backup",
            "--profile",
            "family",
            "--origin",
            "schedule",
            "--json",
        ],
    );
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let report: serde_json::Value = serde_json::from_slice(&run.stdout).unwrap();
    assert_eq!(report["postponed"], "paused");
}
