//! The Schedule page and the in-app scheduler loop: while the app runs, profiles with a
//! schedule are backed up when due (catch-up once, back-off after failures, never two at once).

use super::store::blocking;
use crate::ipc::{ScheduleEntry, ScheduleRun, ScheduleRunState};
use crate::AppState;
use chatvault::error::{Error, WireError};
use chatvault::local::paths::AppPaths;
use chatvault::local::profile;
use chatvault::platform::keychain::Keychain;
use chatvault::run::history;
use chatvault::run::job::{Cancel, NoProgress};
use chatvault::schedule::{active_rule, decide, state_from_history, Rule};
use jiff::tz::TimeZone;
use jiff::Timestamp;
use std::sync::{Arc, Mutex};
use tauri::{AppHandle, Emitter, Runtime, State};

type CmdResult<T> = Result<T, WireError>;

fn overview(paths: &AppPaths, paused: Option<Timestamp>) -> Result<Vec<ScheduleEntry>, Error> {
    let runs = history::list(paths)?;
    let now = Timestamp::now();
    let tz = TimeZone::system();
    let mut out = Vec::new();
    for (name, p) in profile::list(paths)? {
        // A paused profile has no next run (it showed one here until 2026-11-30).
        let next_run = active_rule(&p).map(|r| {
            chatvault::schedule::next_run(&r, &state_from_history(&runs, &name), now, &tz, paused)
        });
        out.push(ScheduleEntry {
            last: runs
                .iter()
                .find(|r| r.profile.as_deref() == Some(name.as_str()))
                .cloned(),
            name,
            target: p.target,
            rule: p.schedule,
            next_run,
        });
    }
    Ok(out)
}

#[tauri::command]
pub async fn schedule_overview(state: State<'_, AppState>) -> CmdResult<Vec<ScheduleEntry>> {
    let paths = state.paths.clone();
    let paused = *state
        .paused_until
        .lock()
        .map_err(|_| WireError::from(Error::internal("lock")))?;
    blocking(move || overview(&paths, paused)).await
}

/// Sets (or with `None`, turns off) a profile's schedule; the rule is checked first. The
/// options "only on AC power" and "not on metered networks" change only when given.
#[tauri::command]
pub async fn set_schedule(
    state: State<'_, AppState>,
    name: String,
    rule: Option<String>,
    skip_on_battery: Option<bool>,
    skip_on_metered: Option<bool>,
) -> CmdResult<()> {
    let paths = state.paths.clone();
    blocking(move || {
        let rule = match rule.map(|r| r.trim().to_string()).filter(|r| !r.is_empty()) {
            Some(r) => Some(r.parse::<Rule>()?.to_string()),
            None => None,
        };
        let mut p = profile::get(&paths, &name)?;
        p.schedule = rule;
        if let Some(b) = skip_on_battery {
            p.skip_on_battery = b;
        }
        if let Some(m) = skip_on_metered {
            p.skip_on_metered = m;
        }
        profile::save(&paths, &name, &p)
    })
    .await
}

/// Pauses scheduled runs until a time (`None` resumes them).
#[tauri::command]
pub fn pause_schedules(state: State<'_, AppState>, until: Option<Timestamp>) -> CmdResult<()> {
    *state
        .paused_until
        .lock()
        .map_err(|_| WireError::from(Error::internal("lock")))? = until;
    Ok(())
}

fn emit_run<R: Runtime>(
    app: &AppHandle<R>,
    profile: &str,
    state: ScheduleRunState,
    reason: Option<&str>,
) {
    let _ = app.emit(
        "schedule-run",
        ScheduleRun {
            profile: profile.to_string(),
            state,
            reason: reason.map(str::to_string),
        },
    );
}

/// Checks every few seconds whether a scheduled profile is due and runs it.
pub fn spawn_loop<R: Runtime>(
    app: AppHandle<R>,
    paths: AppPaths,
    paused: Arc<Mutex<Option<Timestamp>>>,
    keychain: Arc<dyn Keychain>,
) {
    std::thread::spawn(move || loop {
        std::thread::sleep(std::time::Duration::from_secs(5));
        // The tray shows ok / needs attention as runs, checks and the clock change it.
        crate::tray::refresh(&app);
        if paused
            .lock()
            .map(|p| p.is_some_and(|until| Timestamp::now() < until))
            .unwrap_or(false)
        {
            continue;
        }
        let Ok(runs) = history::list(&paths) else {
            continue;
        };
        let Ok(profiles) = profile::list(&paths) else {
            continue;
        };
        let tz = TimeZone::system();
        for (name, p) in profiles {
            let Some(rule) = active_rule(&p) else {
                continue;
            };
            if !decide(
                &rule,
                &state_from_history(&runs, &name),
                Timestamp::now(),
                &tz,
            )
            .run_now
            {
                continue;
            }
            crate::tray::set_status(&app, "running");
            emit_run(&app, &name, ScheduleRunState::Started, None);
            // The one run path applies the profile's guards (battery, metered network),
            // retention and prune, history and log.
            let req = chatvault::run::RunRequest::for_profile(
                Some(&name),
                &p,
                chatvault::run::Origin::Schedule,
            );
            let result =
                chatvault::run::run(&paths, keychain.as_ref(), req, &NoProgress, &Cancel::new());
            if let Ok(chatvault::run::RunOutcome::Postponed(why)) = &result {
                crate::tray::set_status(&app, "idle");
                emit_run(&app, &name, ScheduleRunState::Postponed, Some(why));
                continue;
            }
            crate::tray::set_status(&app, "idle");
            crate::tray::notify_result(
                &app,
                &name,
                result.is_ok(),
                &result
                    .as_ref()
                    .err()
                    .map(|e| e.message().to_string())
                    .unwrap_or_default(),
            );
            let state = if result.is_ok() {
                ScheduleRunState::Ok
            } else {
                ScheduleRunState::Failed
            };
            emit_run(&app, &name, state, None);
        }
    });
}
