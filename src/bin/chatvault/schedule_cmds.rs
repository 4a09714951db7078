//! `chatvault schedule`: a profile's schedule and its OS timer.

use crate::output::print_json;
use chatvault::local::paths::AppPaths;
use chatvault::{Error, Result};
use clap::Subcommand;
use std::path::PathBuf;

#[derive(Subcommand)]
pub enum ScheduleCommand {
    /// Set (or with "off", clear) a profile's schedule: "every 6h", "daily 02:30", "weekly mon,thu 20:00".
    Set {
        #[arg(long)]
        profile: String,
        rule: String,
    },
    /// Install an OS timer (systemd user timer, launchd agent, Task Scheduler task) running the profile.
    Install {
        #[arg(long)]
        profile: String,
    },
    /// Remove the profile's OS timer.
    Remove {
        #[arg(long)]
        profile: String,
    },
    /// Show the profile's schedule, next run and OS timer.
    Status {
        #[arg(long)]
        profile: String,
    },
}

/// The user's config root where OS timers live (XDG config on Linux, ~/Library on macOS).
fn timer_home() -> Result<PathBuf> {
    let home = if cfg!(target_os = "macos") {
        dirs::home_dir().map(|h| h.join("Library"))
    } else {
        dirs::config_dir()
    };
    home.ok_or_else(|| {
        Error::internal("cannot find the home folder").with_hint("Set HOME and try again.")
    })
}

pub fn run(cmd: ScheduleCommand, json: bool) -> Result<()> {
    use chatvault::schedule::Rule;
    let paths = AppPaths::from_os()?;
    let rule_of = |name: &str| -> Result<Rule> {
        let p = chatvault::local::profile::get(&paths, name)?;
        p.schedule
            .as_deref()
            .ok_or_else(|| {
                Error::invalid_input(format!("profile '{name}' has no schedule"))
                    .with_hint("Set one: chatvault schedule set --profile NAME \"daily 02:30\"")
            })?
            .parse()
    };
    match cmd {
        ScheduleCommand::Set { profile, rule } => {
            let mut p = chatvault::local::profile::get(&paths, &profile)?;
            p.schedule = if rule == "off" {
                None
            } else {
                Some(rule.parse::<Rule>()?.to_string())
            };
            chatvault::local::profile::save(&paths, &profile, &p)?;
            if !json {
                say!(
                    "{profile}: {}",
                    p.schedule.as_deref().unwrap_or("not scheduled")
                );
            }
        }
        ScheduleCommand::Install { profile } => {
            let rule = rule_of(&profile)?;
            let exe = std::env::current_exe().map_err(|e| Error::io("finding this program", &e))?;
            let installed =
                chatvault::schedule::timer::install(&profile, &rule, &exe, &timer_home()?)?;
            if json {
                print_json(&installed)?;
            } else {
                for f in &installed.files {
                    say!("wrote {}", f.display());
                }
                match &installed.loaded {
                    Some(_) => say!("The OS timer is active: {profile} runs {rule}."),
                    None => say!("Could not ask the OS to load it (no user session manager?); it loads at next login."),
                }
            }
        }
        ScheduleCommand::Remove { profile } => {
            let removed = chatvault::schedule::timer::remove(&profile, &timer_home()?)?;
            if json {
                print_json(&removed)?;
            } else {
                say!("removed {} file(s)", removed.len());
            }
        }
        ScheduleCommand::Status { profile } => {
            let p = chatvault::local::profile::get(&paths, &profile)?;
            let (files, os) = chatvault::schedule::timer::status(&profile, &timer_home()?);
            let runs = chatvault::run::history::list(&paths)?;
            let state = chatvault::schedule::state_from_history(&runs, &profile);
            let next = chatvault::schedule::active_rule(&p).map(|r| {
                chatvault::schedule::next_run(
                    &r,
                    &state,
                    jiff::Timestamp::now(),
                    &jiff::tz::TimeZone::system(),
                    None,
                )
            });
            let value = serde_json::json!({
                "profile": profile,
                "schedule": p.schedule,
                "paused": p.paused,
                "next_run": next.map(|t| t.to_string()),
                "last_success": state.last_success.map(|t| t.to_string()),
                "failures_since": state.failures,
                "timer_files": files,
                "os_timer": os,
            });
            // Human and --json output are the same JSON document here.
            print_json(&value)?;
        }
    }
    Ok(())
}
