//! "Am I backed up?": the status of every profile, for the app's home page, its tray icon and
//! anyone else who asks. [`status`] is pure (profiles, run history, check results, the clock
//! and the time zone are passed in), so every rule below is unit-tested without a clock.
//!
//! A profile needs the user (an [`Attention`]) when
//! - it has had no successful run for longer than [`OVERDUE_INTERVALS`] times the longest gap
//!   of its schedule (missed runs are normal; three in a row are not);
//! - its last run failed because the chat store's key no longer opens the store;
//! - its last run failed because this computer lacks the repository's key;
//! - its target fails: the last run could not reach or use it, or its last test failed (a
//!   later successful run clears a failed test);
//! - its repository failed its last verify, or the last run found it damaged.
//!
//! Check results (verify, target test) are kept in `checks.jsonl` in the data folder: one line
//! per check, with counts and the error's code, never content or secrets.

use crate::error::{Error, ErrorCode, Result, WireError};
use crate::local::paths::AppPaths;
use crate::local::profile::Profile;
use crate::run::history::RunRecord;
use crate::schedule::{active_rule, state_from_history};
use jiff::tz::TimeZone;
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use ts_rs::TS;

/// No successful run for longer than this many schedule intervals needs the user.
pub(crate) const OVERDUE_INTERVALS: i32 = 3;

/// What kind of check a [`CheckRecord`] records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum CheckKind {
    /// `verify` of the repository.
    Verify,
    /// The target's write/read/list/delete probe.
    TargetTest,
}

/// One check of a target, as `checks.jsonl` keeps it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct CheckRecord {
    #[ts(type = "string")]
    pub at: Timestamp,
    pub target: String,
    pub kind: CheckKind,
    pub ok: bool,
    /// Problems a verify found.
    #[serde(default)]
    pub problems: u32,
    #[serde(default)]
    #[ts(optional = nullable)]
    pub error: Option<WireError>,
}

fn checks_file(paths: &AppPaths) -> std::path::PathBuf {
    paths.data_dir.join("checks.jsonl")
}

/// Records a check (a failure to record is not the check's failure: callers may ignore it).
pub(crate) fn record_check(paths: &AppPaths, record: &CheckRecord) -> Result<()> {
    crate::local::jsonl::append(&checks_file(paths), record)
}

/// Every recorded check, newest first; torn lines are skipped.
pub fn list_checks(paths: &AppPaths) -> Result<Vec<CheckRecord>> {
    crate::local::jsonl::newest_first(&checks_file(paths))
}

/// Records a verify's outcome: its problems, or an error that says the repository is damaged
/// (an error that says nothing about the repository, such as an unreachable target, is not a
/// verify result and is not recorded).
pub fn record_verify(
    paths: &AppPaths,
    target: &str,
    outcome: std::result::Result<u32, &Error>,
) -> Result<()> {
    let (ok, problems, error) = match outcome {
        Ok(problems) => (problems == 0, problems, None),
        Err(e) if is_damage(e.code()) => (false, 1, Some(e.to_wire())),
        Err(_) => return Ok(()),
    };
    record_check(
        paths,
        &CheckRecord {
            at: Timestamp::now(),
            target: target.to_string(),
            kind: CheckKind::Verify,
            ok,
            problems,
            error,
        },
    )
}

/// Records a target test's outcome.
pub fn record_target_test(
    paths: &AppPaths,
    target: &str,
    outcome: std::result::Result<(), &Error>,
) -> Result<()> {
    record_check(
        paths,
        &CheckRecord {
            at: Timestamp::now(),
            target: target.to_string(),
            kind: CheckKind::TargetTest,
            ok: outcome.is_ok(),
            problems: 0,
            error: outcome.err().map(Error::to_wire),
        },
    )
}

/// Whether this computer can open the profile's repository by itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum KeyStatus {
    /// The repository key is in this computer's keychain.
    InKeychain,
    /// It is not: the recovery code is needed (Settings → unlock, or `chatvault key unlock`).
    NeedsRecoveryCode,
    /// Not known (the repository was never opened here, or the keychain did not answer).
    Unknown,
}

/// Something about a profile that needs the user.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Attention {
    /// No successful run for longer than [`OVERDUE_INTERVALS`] intervals of the schedule.
    Overdue {
        /// The last success (none: never).
        #[ts(type = "string | null")]
        since: Option<Timestamp>,
    },
    /// The chat store's key no longer opens the store (or none is remembered).
    StoreKey { error: WireError },
    /// This computer does not hold the repository's key.
    RepoKey,
    /// The target cannot be reached or used.
    Target { error: WireError },
    /// The repository failed verify (or a run found it damaged).
    Damaged {
        problems: u32,
        #[ts(optional = nullable)]
        error: Option<WireError>,
    },
}

/// A profile at a glance: what the home page's card shows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[ts(optional_fields = nullable)]
pub struct ProfileStatus {
    pub name: String,
    pub store: String,
    pub target: String,
    /// `every 6h`, `daily 02:30`, `weekly mon,thu 20:00`; none when off.
    pub rule: Option<String>,
    /// Scheduled runs of this profile are paused.
    pub paused: bool,
    pub skip_on_battery: bool,
    pub skip_on_metered: bool,
    /// The last run, successful or not.
    pub last: Option<RunRecord>,
    #[ts(type = "string | null")]
    pub last_success: Option<Timestamp>,
    /// Failed runs since the last success.
    pub failures: u32,
    /// When the scheduler will run it next (none: no schedule, or paused).
    #[ts(type = "string | null")]
    pub next_run: Option<Timestamp>,
    pub key: KeyStatus,
    pub attention: Vec<Attention>,
}

/// A profile and what the host found out about its key.
pub struct ProfileFacts<'a> {
    pub name: &'a str,
    pub profile: &'a Profile,
    /// The repository key is in the keychain (none: unknown).
    pub key_in_keychain: Option<bool>,
}

/// The clock and pause state the status is computed at.
#[derive(Debug, Clone)]
pub struct Clock {
    pub now: Timestamp,
    pub tz: TimeZone,
    /// Every scheduled run waits until then (the tray's and Schedule page's pause).
    pub paused_until: Option<Timestamp>,
}

fn is_store_key(code: ErrorCode) -> bool {
    matches!(code, ErrorCode::StoreWrongKey | ErrorCode::StoreKeyRequired)
}

fn is_target(code: ErrorCode) -> bool {
    code.is_target() || code == ErrorCode::RepoNotFound
}

fn is_damage(code: ErrorCode) -> bool {
    matches!(
        code,
        ErrorCode::RepoCorrupt
            | ErrorCode::RepoTampered
            | ErrorCode::RepoTruncated
            | ErrorCode::RepoObjectMissing
            | ErrorCode::RepoRolledBack
    )
}

/// The status of each profile (in the order given). `runs` and `checks` are newest first, as
/// [`crate::run::history::list`] and [`list_checks`] return them.
pub fn status(
    profiles: &[ProfileFacts<'_>],
    runs: &[RunRecord],
    checks: &[CheckRecord],
    clock: &Clock,
) -> Vec<ProfileStatus> {
    profiles
        .iter()
        .map(|f| profile_status(f, runs, checks, clock))
        .collect()
}

fn profile_status(
    f: &ProfileFacts<'_>,
    runs: &[RunRecord],
    checks: &[CheckRecord],
    clock: &Clock,
) -> ProfileStatus {
    let p = f.profile;
    let mine: Vec<&RunRecord> = runs
        .iter()
        .filter(|r| r.profile.as_deref() == Some(f.name))
        .collect();
    let state = state_from_history(runs, f.name);
    let rule = active_rule(p);
    let next_run = rule
        .as_ref()
        .map(|r| crate::schedule::next_run(r, &state, clock.now, &clock.tz, clock.paused_until));
    let last = mine.first().map(|r| (*r).clone());
    let mut attention = Vec::new();

    // Overdue: measured from the last success, or from the first attempt if none succeeded.
    if let Some(r) = &rule {
        let since = state
            .last_success
            .or_else(|| mine.last().map(|r| r.started));
        if let Some(since) = since {
            let limit = r.longest_gap() * OVERDUE_INTERVALS;
            if clock.now.duration_since(since) > limit {
                attention.push(Attention::Overdue {
                    since: state.last_success,
                });
            }
        }
    }

    let failed = last
        .as_ref()
        .filter(|r| !r.ok)
        .and_then(|r| r.error.clone());
    if let Some(e) = failed.as_ref().filter(|e| is_store_key(e.code)) {
        attention.push(Attention::StoreKey { error: e.clone() });
    }
    let repo_key_failed = failed
        .as_ref()
        .is_some_and(|e| matches!(e.code, ErrorCode::KeyMissing | ErrorCode::RepoWrongKey));
    if repo_key_failed || f.key_in_keychain == Some(false) {
        attention.push(Attention::RepoKey);
    }

    // The target: the last run's failure, else a failed test newer than the last success.
    let last_ok_at = state.last_success;
    let newer_than_success = |at: Timestamp| last_ok_at.is_none_or(|ok| at > ok);
    let latest = |kind: CheckKind| {
        checks
            .iter()
            .find(|c| c.target == p.target && c.kind == kind)
    };
    if let Some(e) = failed.as_ref().filter(|e| is_target(e.code)) {
        attention.push(Attention::Target { error: e.clone() });
    } else if let Some(c) =
        latest(CheckKind::TargetTest).filter(|c| !c.ok && newer_than_success(c.at))
    {
        attention.push(Attention::Target {
            error: c.error.clone().unwrap_or(WireError {
                code: ErrorCode::TargetFailed,
                message: "the target failed its test".into(),
                hint: None,
            }),
        });
    }

    // Damage: the last run's, else the last verify's (a later good verify clears it).
    if let Some(e) = failed.as_ref().filter(|e| is_damage(e.code)) {
        attention.push(Attention::Damaged {
            problems: 1,
            error: Some(e.clone()),
        });
    } else if let Some(c) = latest(CheckKind::Verify).filter(|c| !c.ok) {
        attention.push(Attention::Damaged {
            problems: c.problems.max(1),
            error: c.error.clone(),
        });
    }

    ProfileStatus {
        name: f.name.to_string(),
        store: p.store.display().to_string(),
        target: p.target.clone(),
        rule: p.schedule.clone(),
        paused: p.paused,
        skip_on_battery: p.skip_on_battery,
        skip_on_metered: p.skip_on_metered,
        last,
        last_success: state.last_success,
        failures: state.failures,
        next_run,
        key: match f.key_in_keychain {
            Some(true) => KeyStatus::InKeychain,
            Some(false) => KeyStatus::NeedsRecoveryCode,
            None => KeyStatus::Unknown,
        },
        attention,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ts(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    fn profile(rule: Option<&str>) -> Profile {
        Profile {
            schedule: rule.map(str::to_string),
            ..Profile::new(
                "/home/me/WeChat Files/wxid_a".into(),
                "file:///backups".into(),
            )
        }
    }

    fn run(at: &str, ok: bool, code: Option<ErrorCode>) -> RunRecord {
        RunRecord {
            started: ts(at),
            finished: ts(at),
            profile: Some("daily".into()),
            target: "file:///backups".into(),
            origin: "schedule".into(),
            ok,
            error: code.map(|code| WireError {
                code,
                message: "detail".into(),
                hint: None,
            }),
            conversations: 3,
            messages: 100,
            bytes_uploaded: 10,
            unchanged: false,
            snapshots_removed: 0,
            skipped_forgotten: 0,
            warnings: Vec::new(),
        }
    }

    fn check(at: &str, kind: CheckKind, ok: bool) -> CheckRecord {
        CheckRecord {
            at: ts(at),
            target: "file:///backups".into(),
            kind,
            ok,
            problems: if ok { 0 } else { 2 },
            error: None,
        }
    }

    fn one(p: &Profile, runs: &[RunRecord], checks: &[CheckRecord], now: &str) -> ProfileStatus {
        let clock = Clock {
            now: ts(now),
            tz: TimeZone::UTC,
            paused_until: None,
        };
        let facts = [ProfileFacts {
            name: "daily",
            profile: p,
            key_in_keychain: Some(true),
        }];
        status(&facts, runs, checks, &clock).remove(0)
    }

    #[test]
    fn a_recent_success_needs_nothing_and_shows_the_next_run() {
        let p = profile(Some("daily 02:30"));
        let s = one(
            &p,
            &[run("2026-11-30T02:30:00Z", true, None)],
            &[],
            "2026-11-30T12:00:00Z",
        );
        assert!(s.attention.is_empty(), "{:?}", s.attention);
        assert_eq!(s.next_run, Some(ts("2026-12-01T02:30:00Z")));
        assert_eq!(s.last_success, Some(ts("2026-11-30T02:30:00Z")));
        assert_eq!(s.key, KeyStatus::InKeychain);
    }

    #[test]
    fn no_success_for_more_than_three_intervals_is_overdue_but_three_is_not() {
        let p = profile(Some("daily 02:30"));
        let runs = [run("2026-11-27T02:30:00Z", true, None)];
        assert!(one(&p, &runs, &[], "2026-11-30T02:30:00Z")
            .attention
            .is_empty());
        assert_eq!(
            one(&p, &runs, &[], "2026-11-30T03:00:00Z").attention,
            vec![Attention::Overdue {
                since: Some(ts("2026-11-27T02:30:00Z"))
            }]
        );
        // A weekly rule on one day allows three weeks.
        let weekly = profile(Some("weekly mon 20:00"));
        assert!(one(&weekly, &runs, &[], "2026-12-15T00:00:00Z")
            .attention
            .is_empty());
        // No schedule, or paused: nothing was promised.
        assert!(one(&profile(None), &runs, &[], "2027-06-01T00:00:00Z")
            .attention
            .is_empty());
        let mut paused = p.clone();
        paused.paused = true;
        let s = one(&paused, &runs, &[], "2027-06-01T00:00:00Z");
        assert!(s.attention.is_empty());
        assert_eq!(s.next_run, None);
    }

    #[test]
    fn a_profile_that_never_succeeded_is_overdue_from_its_first_attempt() {
        let p = profile(Some("every 1h"));
        let runs = [
            run("2026-11-30T09:00:00Z", false, Some(ErrorCode::Internal)),
            run("2026-11-30T08:00:00Z", false, Some(ErrorCode::Internal)),
        ];
        let s = one(&p, &runs, &[], "2026-11-30T11:30:00Z");
        assert_eq!(s.attention, vec![Attention::Overdue { since: None }]);
        assert_eq!(s.failures, 2);
        assert!(one(&p, &runs, &[], "2026-11-30T10:30:00Z")
            .attention
            .is_empty());
    }

    #[test]
    fn a_store_key_that_no_longer_opens_the_store_needs_the_user() {
        let p = profile(None);
        let runs = [
            run(
                "2026-11-30T09:00:00Z",
                false,
                Some(ErrorCode::StoreWrongKey),
            ),
            run("2026-11-29T09:00:00Z", true, None),
        ];
        let s = one(&p, &runs, &[], "2026-11-30T10:00:00Z");
        assert!(
            matches!(&s.attention[..], [Attention::StoreKey { error }] if error.code == ErrorCode::StoreWrongKey)
        );
        assert!(!s.last.unwrap().ok);
    }

    #[test]
    fn a_missing_repository_key_needs_the_recovery_code() {
        let p = profile(None);
        let clock = Clock {
            now: ts("2026-11-30T10:00:00Z"),
            tz: TimeZone::UTC,
            paused_until: None,
        };
        let facts = [ProfileFacts {
            name: "daily",
            profile: &p,
            key_in_keychain: Some(false),
        }];
        let s = status(&facts, &[], &[], &clock).remove(0);
        assert_eq!(s.key, KeyStatus::NeedsRecoveryCode);
        assert_eq!(s.attention, vec![Attention::RepoKey]);
    }

    #[test]
    fn a_target_that_fails_needs_the_user_until_a_run_succeeds() {
        let p = profile(None);
        let gone = [run(
            "2026-11-30T09:00:00Z",
            false,
            Some(ErrorCode::RepoNotFound),
        )];
        assert!(matches!(
            &one(&p, &gone, &[], "2026-11-30T10:00:00Z").attention[..],
            [Attention::Target { error }] if error.code == ErrorCode::RepoNotFound
        ));
        // A failed test after the last success; then a run that succeeds clears it.
        let runs = [run("2026-11-30T08:00:00Z", true, None)];
        let tests = [check("2026-11-30T09:00:00Z", CheckKind::TargetTest, false)];
        assert!(matches!(
            &one(&p, &runs, &tests, "2026-11-30T10:00:00Z").attention[..],
            [Attention::Target { .. }]
        ));
        let later = [
            run("2026-11-30T09:30:00Z", true, None),
            run("2026-11-30T08:00:00Z", true, None),
        ];
        assert!(one(&p, &later, &tests, "2026-11-30T10:00:00Z")
            .attention
            .is_empty());
        // Another target's test is not this profile's.
        let mut other = check("2026-11-30T09:00:00Z", CheckKind::TargetTest, false);
        other.target = "file:///elsewhere".into();
        assert!(one(&p, &runs, &[other], "2026-11-30T10:00:00Z")
            .attention
            .is_empty());
    }

    #[test]
    fn a_failed_verify_needs_the_user_until_a_verify_passes() {
        let p = profile(None);
        let runs = [run("2026-11-30T08:00:00Z", true, None)];
        let bad = check("2026-11-30T09:00:00Z", CheckKind::Verify, false);
        assert_eq!(
            one(
                &p,
                &runs,
                std::slice::from_ref(&bad),
                "2026-11-30T10:00:00Z"
            )
            .attention,
            vec![Attention::Damaged {
                problems: 2,
                error: None
            }]
        );
        let good = check("2026-11-30T09:30:00Z", CheckKind::Verify, true);
        assert!(one(&p, &runs, &[good, bad], "2026-11-30T10:00:00Z")
            .attention
            .is_empty());
    }

    #[test]
    fn the_global_pause_moves_the_next_run() {
        let p = profile(Some("every 1h"));
        let runs = [run("2026-11-30T09:00:00Z", true, None)];
        let clock = Clock {
            now: ts("2026-11-30T09:30:00Z"),
            tz: TimeZone::UTC,
            paused_until: Some(ts("2026-11-30T12:00:00Z")),
        };
        let facts = [ProfileFacts {
            name: "daily",
            profile: &p,
            key_in_keychain: None,
        }];
        let s = status(&facts, &runs, &[], &clock).remove(0);
        assert_eq!(s.next_run, Some(ts("2026-11-30T12:00:00Z")));
        assert_eq!(s.key, KeyStatus::Unknown);
    }

    #[test]
    fn checks_are_listed_newest_first() {
        let (_dir, paths) = AppPaths::temp();
        record_check(
            &paths,
            &check("2026-11-30T09:00:00Z", CheckKind::Verify, false),
        )
        .unwrap();
        record_check(
            &paths,
            &check("2026-11-30T10:00:00Z", CheckKind::Verify, true),
        )
        .unwrap();
        let list = list_checks(&paths).unwrap();
        assert_eq!(list.len(), 2);
        assert!(list[0].ok);
    }
}
