//! When a scheduled backup is due. Pure code with the clock and the time zone passed in, so it
//! can be tested across DST changes and time zones (no reading of the system clock here).
//!
//! Rules (the `schedule` field of a profile): `every 6h`, `daily 02:30`,
//! `weekly mon,thu 20:00`. A missed run (the computer was asleep or off) is caught up once,
//! not once per missed slot. After failures the next attempt backs off exponentially.
//!
//! Beside the rules: the OS timers that run a profile when the app is closed ([`timer`]), the
//! guards that hold a scheduled run back ([`power`]: battery, metered network) and starting the
//! app at login ([`autostart`]).

pub mod autostart;
pub mod power;
pub mod timer;

use crate::error::{Error, Result};
use jiff::civil::{Time, Weekday};
use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp, ToSpan};
use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rule {
    /// Every N minutes (`every 30m`), for short intervals.
    EveryMinutes(u32),
    EveryHours(u32),
    Daily(Time),
    Weekly(Vec<Weekday>, Time),
}

fn bad(spec: &str) -> Error {
    Error::invalid_input(format!("'{spec}' is not a schedule"))
        .with_hint("Use `every 6h`, `daily 02:30` or `weekly mon,thu 20:00`.")
}

fn parse_time(s: &str, spec: &str) -> Result<Time> {
    let (h, m) = s.split_once(':').ok_or_else(|| bad(spec))?;
    let (h, m): (i8, i8) = (
        h.parse().map_err(|_| bad(spec))?,
        m.parse().map_err(|_| bad(spec))?,
    );
    Time::new(h, m, 0, 0).map_err(|_| bad(spec))
}

fn weekday(s: &str) -> Option<Weekday> {
    Some(match s.to_ascii_lowercase().get(..3)? {
        "mon" => Weekday::Monday,
        "tue" => Weekday::Tuesday,
        "wed" => Weekday::Wednesday,
        "thu" => Weekday::Thursday,
        "fri" => Weekday::Friday,
        "sat" => Weekday::Saturday,
        "sun" => Weekday::Sunday,
        _ => return None,
    })
}

impl std::str::FromStr for Rule {
    type Err = Error;
    fn from_str(spec: &str) -> Result<Rule> {
        let parts: Vec<&str> = spec.split_whitespace().collect();
        match parts.as_slice() {
            ["every", n] if n.ends_with('m') => {
                let minutes: u32 = n.trim_end_matches('m').parse().map_err(|_| bad(spec))?;
                if !(1..=24 * 60).contains(&minutes) {
                    return Err(bad(spec));
                }
                Ok(Rule::EveryMinutes(minutes))
            }
            ["every", n] => {
                let hours: u32 = n
                    .strip_suffix('h')
                    .ok_or_else(|| bad(spec))?
                    .parse()
                    .map_err(|_| bad(spec))?;
                if !(1..=24 * 7).contains(&hours) {
                    return Err(bad(spec));
                }
                Ok(Rule::EveryHours(hours))
            }
            ["daily", at] => Ok(Rule::Daily(parse_time(at, spec)?)),
            ["weekly", days, at] => {
                let mut list: Vec<Weekday> = days
                    .split(',')
                    .map(weekday)
                    .collect::<Option<_>>()
                    .ok_or_else(|| bad(spec))?;
                list.sort_by_key(|d| d.to_monday_one_offset());
                list.dedup();
                if list.is_empty() {
                    return Err(bad(spec));
                }
                Ok(Rule::Weekly(list, parse_time(at, spec)?))
            }
            _ => Err(bad(spec)),
        }
    }
}

impl fmt::Display for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let hm = |t: &Time| format!("{:02}:{:02}", t.hour(), t.minute());
        match self {
            Rule::EveryMinutes(m) => write!(f, "every {m}m"),
            Rule::EveryHours(h) => write!(f, "every {h}h"),
            Rule::Daily(t) => write!(f, "daily {}", hm(t)),
            Rule::Weekly(days, t) => {
                let names: Vec<&str> = days
                    .iter()
                    .map(|d| match d {
                        Weekday::Monday => "mon",
                        Weekday::Tuesday => "tue",
                        Weekday::Wednesday => "wed",
                        Weekday::Thursday => "thu",
                        Weekday::Friday => "fri",
                        Weekday::Saturday => "sat",
                        Weekday::Sunday => "sun",
                    })
                    .collect();
                write!(f, "weekly {} {}", names.join(","), hm(t))
            }
        }
    }
}

impl Rule {
    /// The first slot strictly after `after`, in `tz`'s wall-clock time. A wall time that a
    /// DST change skips runs at the first moment after the gap; one that occurs twice runs once,
    /// at its first occurrence.
    pub(crate) fn next_slot(&self, after: Timestamp, tz: &TimeZone) -> Timestamp {
        match self {
            Rule::EveryMinutes(m) => after + SignedDuration::from_mins(*m as i64),
            Rule::EveryHours(h) => after + SignedDuration::from_hours(*h as i64),
            Rule::Daily(t) => self.next_matching(after, tz, *t, |_| true),
            Rule::Weekly(days, t) => self.next_matching(after, tz, *t, |d| days.contains(&d)),
        }
    }

    fn next_matching(
        &self,
        after: Timestamp,
        tz: &TimeZone,
        at: Time,
        day_ok: impl Fn(Weekday) -> bool,
    ) -> Timestamp {
        let mut date = tz.to_datetime(after).date();
        for _ in 0..16 {
            if day_ok(date.weekday()) {
                // `compatible`: a skipped time moves forward past the gap, a repeated one takes the first.
                if let Ok(t) = tz.to_ambiguous_timestamp(date.to_datetime(at)).compatible() {
                    if t > after {
                        return t;
                    }
                }
            }
            date = date.checked_add(1.day()).unwrap_or(date);
        }
        after + SignedDuration::from_hours(24)
    }
}

impl Rule {
    /// The longest time between two slots (a weekly rule on Monday and Thursday: four days).
    /// "Overdue" is measured in these.
    pub(crate) fn longest_gap(&self) -> SignedDuration {
        match self {
            Rule::EveryMinutes(m) => SignedDuration::from_mins(*m as i64),
            Rule::EveryHours(h) => SignedDuration::from_hours(*h as i64),
            Rule::Daily(_) => SignedDuration::from_hours(24),
            Rule::Weekly(days, _) => {
                let mut offs: Vec<i64> = days
                    .iter()
                    .map(|d| d.to_monday_zero_offset() as i64)
                    .collect();
                offs.sort_unstable();
                let gap = offs
                    .iter()
                    .zip(offs.iter().cycle().skip(1))
                    .map(|(a, b)| (b - a).rem_euclid(7))
                    .map(|g| if g == 0 { 7 } else { g })
                    .max()
                    .unwrap_or(7);
                SignedDuration::from_hours(24 * gap)
            }
        }
    }
}

/// The next `n` runs of `rule` for a profile in `state`, as the scheduler would start them
/// (a run due now is now), in `tz`. The schedule picker shows three of them as the user edits.
pub fn upcoming(
    rule: &Rule,
    state: &RunState,
    now: Timestamp,
    tz: &TimeZone,
    n: usize,
) -> Vec<Timestamp> {
    let d = decide(rule, state, now, tz);
    let mut next = if d.run_now { now } else { d.next };
    let mut out = Vec::with_capacity(n);
    for _ in 0..n {
        out.push(next);
        next = rule.next_slot(next, tz);
    }
    out
}

/// What the scheduler knows about a profile's past runs.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RunState {
    /// The last run that succeeded.
    pub last_success: Option<Timestamp>,
    /// The last attempt, successful or not.
    pub last_attempt: Option<Timestamp>,
    /// Failures since the last success.
    pub failures: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Decision {
    pub run_now: bool,
    /// When to look again (the next slot, or the end of a back-off).
    pub next: Timestamp,
}

/// Back-off after `failures` failures: 5 min, 10, 20, … capped at 6 h.
pub(crate) fn backoff(failures: u32) -> SignedDuration {
    let minutes = 5i64.saturating_mul(1i64 << failures.saturating_sub(1).min(10));
    SignedDuration::from_mins(minutes.min(6 * 60))
}

/// The run state of a profile from the run history (newest first).
pub fn state_from_history(runs: &[crate::run::history::RunRecord], profile: &str) -> RunState {
    let mut state = RunState::default();
    for r in runs
        .iter()
        .filter(|r| r.profile.as_deref() == Some(profile))
    {
        if state.last_attempt.is_none() {
            state.last_attempt = Some(r.started);
        }
        if r.ok {
            state.last_success = Some(r.started);
            break;
        }
        state.failures += 1;
    }
    state
}

/// The rule a profile runs by: its schedule, when it has a valid one and is not paused.
pub fn active_rule(profile: &crate::local::profile::Profile) -> Option<Rule> {
    if profile.paused {
        return None;
    }
    profile.schedule.as_deref().and_then(|s| s.parse().ok())
}

/// When a profile with `rule` runs next: `now` when a run is due, else the next slot or the
/// end of a back-off, and never before a pause of all schedules (`paused_until`) ends.
pub fn next_run(
    rule: &Rule,
    state: &RunState,
    now: Timestamp,
    tz: &TimeZone,
    paused_until: Option<Timestamp>,
) -> Timestamp {
    let d = decide(rule, state, now, tz);
    let next = if d.run_now { now } else { d.next };
    paused_until.map_or(next, |until| next.max(until))
}

/// Whether a run is due at `now`. A slot that passed since the last success (however many
/// slots were missed) makes one run due; failures delay the retry by [`backoff`].
pub fn decide(rule: &Rule, state: &RunState, now: Timestamp, tz: &TimeZone) -> Decision {
    let Some(last) = state.last_success else {
        // Never ran: due now, unless a failure asks to wait.
        return after_failures(rule, state, now, tz);
    };
    let due = rule.next_slot(last, tz);
    if due > now {
        return Decision {
            run_now: false,
            next: due,
        };
    }
    after_failures(rule, state, now, tz)
}

fn after_failures(rule: &Rule, state: &RunState, now: Timestamp, tz: &TimeZone) -> Decision {
    if state.failures > 0 {
        if let Some(attempt) = state.last_attempt {
            let retry_at = attempt + backoff(state.failures);
            if retry_at > now {
                return Decision {
                    run_now: false,
                    next: retry_at,
                };
            }
        }
    }
    Decision {
        run_now: true,
        next: rule.next_slot(now, tz),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ts(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    fn tz(name: &str) -> TimeZone {
        TimeZone::get(name).unwrap()
    }

    #[test]
    fn rules_parse_and_print_back() {
        for spec in [
            "every 6h",
            "every 30m",
            "daily 02:30",
            "weekly mon,thu 20:00",
        ] {
            assert_eq!(spec.parse::<Rule>().unwrap().to_string(), spec);
        }
        assert_eq!(
            "weekly THU,Mon,mon 7:05"
                .parse::<Rule>()
                .unwrap()
                .to_string(),
            "weekly mon,thu 07:05"
        );
        for bad in [
            "",
            "hourly",
            "every 0h",
            "every x",
            "daily 25:00",
            "weekly xyz 10:00",
            "weekly mon",
        ] {
            assert!(bad.parse::<Rule>().is_err(), "{bad}");
        }
    }

    #[test]
    fn daily_slots_follow_wall_clock_time_across_dst() {
        let ny = tz("America/New_York");
        let rule: Rule = "daily 02:30".parse().unwrap();
        // 2026-03-08: 02:00 -> 03:00 in New York; 02:30 does not exist that day.
        let next = rule.next_slot(ts("2026-03-07T08:00:00Z"), &ny);
        assert_eq!(
            next,
            ts("2026-03-08T07:30:00Z"),
            "03:30 EDT, right after the gap"
        );
        // The day after, 02:30 EDT = 06:30 UTC.
        assert_eq!(rule.next_slot(next, &ny), ts("2026-03-09T06:30:00Z"));
        // 2026-11-01: 02:00 -> 01:00; 01:30 happens twice, the run happens once.
        let r130: Rule = "daily 01:30".parse().unwrap();
        let first = r130.next_slot(ts("2026-10-31T12:00:00Z"), &ny);
        assert_eq!(first, ts("2026-11-01T05:30:00Z"), "the first 01:30 (EDT)");
        assert_eq!(
            r130.next_slot(first, &ny),
            ts("2026-11-02T06:30:00Z"),
            "not again at the second 01:30"
        );
    }

    #[test]
    fn the_same_rule_in_two_time_zones() {
        let rule: Rule = "daily 08:00".parse().unwrap();
        let after = ts("2026-06-01T00:00:00Z");
        assert_eq!(
            rule.next_slot(after, &tz("Asia/Shanghai")),
            ts("2026-06-02T00:00:00Z")
        );
        assert_eq!(
            rule.next_slot(after, &tz("Europe/Berlin")),
            ts("2026-06-01T06:00:00Z")
        );
    }

    #[test]
    fn weekly_slots_pick_the_next_listed_day() {
        let rule: Rule = "weekly mon,thu 20:00".parse().unwrap();
        let utc = TimeZone::UTC;
        // 2026-11-26 is a Thursday.
        assert_eq!(
            rule.next_slot(ts("2026-11-26T12:00:00Z"), &utc),
            ts("2026-11-26T20:00:00Z")
        );
        assert_eq!(
            rule.next_slot(ts("2026-11-26T20:00:00Z"), &utc),
            ts("2026-11-30T20:00:00Z")
        );
    }

    #[test]
    fn a_missed_run_is_caught_up_once_after_sleep() {
        let rule: Rule = "every 6h".parse().unwrap();
        let utc = TimeZone::UTC;
        let last = ts("2026-11-20T00:00:00Z");
        let state = RunState {
            last_success: Some(last),
            last_attempt: Some(last),
            failures: 0,
        };
        // Asleep for six days: 24 slots missed, one run now.
        let wake = ts("2026-11-26T09:00:00Z");
        let d = decide(&rule, &state, wake, &utc);
        assert!(d.run_now);
        let after = RunState {
            last_success: Some(wake),
            last_attempt: Some(wake),
            failures: 0,
        };
        let d2 = decide(&rule, &after, ts("2026-11-26T09:01:00Z"), &utc);
        assert!(!d2.run_now, "not again for the other missed slots");
        assert_eq!(d2.next, ts("2026-11-26T15:00:00Z"));
    }

    #[test]
    fn failures_back_off_exponentially_up_to_six_hours() {
        assert_eq!(backoff(1), SignedDuration::from_mins(5));
        assert_eq!(backoff(2), SignedDuration::from_mins(10));
        assert_eq!(backoff(4), SignedDuration::from_mins(40));
        assert_eq!(backoff(30), SignedDuration::from_hours(6));
        let rule: Rule = "every 1h".parse().unwrap();
        let utc = TimeZone::UTC;
        let attempt = ts("2026-11-26T10:00:00Z");
        let state = RunState {
            last_success: Some(ts("2026-11-26T06:00:00Z")),
            last_attempt: Some(attempt),
            failures: 3,
        };
        let d = decide(&rule, &state, ts("2026-11-26T10:10:00Z"), &utc);
        assert!(!d.run_now);
        assert_eq!(d.next, ts("2026-11-26T10:20:00Z"));
        assert!(decide(&rule, &state, ts("2026-11-26T10:20:00Z"), &utc).run_now);
    }

    #[test]
    fn a_profile_that_never_ran_is_due_now() {
        let rule: Rule = "daily 03:00".parse().unwrap();
        assert!(
            decide(
                &rule,
                &RunState::default(),
                ts("2026-11-26T12:00:00Z"),
                &TimeZone::UTC
            )
            .run_now
        );
    }

    #[test]
    fn the_longest_gap_of_a_weekly_rule_is_between_its_furthest_days() {
        let gap = |s: &str| s.parse::<Rule>().unwrap().longest_gap();
        assert_eq!(gap("every 6h"), SignedDuration::from_hours(6));
        assert_eq!(gap("daily 02:30"), SignedDuration::from_hours(24));
        assert_eq!(gap("weekly mon 20:00"), SignedDuration::from_hours(24 * 7));
        assert_eq!(
            gap("weekly mon,thu 20:00"),
            SignedDuration::from_hours(24 * 4)
        );
        assert_eq!(
            gap("weekly sat,sun 09:00"),
            SignedDuration::from_hours(24 * 6)
        );
    }

    #[test]
    fn upcoming_runs_start_with_a_due_run_now_then_follow_the_slots() {
        let utc = TimeZone::UTC;
        let now = ts("2026-11-26T12:00:00Z"); // a Thursday
        let weekly: Rule = "weekly mon,thu 20:00".parse().unwrap();
        let ran = RunState {
            last_success: Some(ts("2026-11-26T08:00:00Z")),
            last_attempt: Some(ts("2026-11-26T08:00:00Z")),
            failures: 0,
        };
        assert_eq!(
            upcoming(&weekly, &ran, now, &utc, 3),
            vec![
                ts("2026-11-26T20:00:00Z"),
                ts("2026-11-30T20:00:00Z"),
                ts("2026-12-03T20:00:00Z")
            ]
        );
        let never = upcoming(&weekly, &RunState::default(), now, &utc, 2);
        assert_eq!(never, vec![now, ts("2026-11-26T20:00:00Z")]);
        let hourly: Rule = "every 6h".parse().unwrap();
        assert_eq!(
            upcoming(&hourly, &ran, now, &utc, 2),
            vec![ts("2026-11-26T14:00:00Z"), ts("2026-11-26T20:00:00Z")]
        );
    }
}
