//! The home page: every profile's status (computed by `chatvault::run::status`), what its backup
//! holds, pausing one profile, and the schedule picker's preview of the next runs.

use super::store::{blocking, blocking_with};
use crate::AppState;
use chatvault::error::{Error, WireError};
use chatvault::local::paths::AppPaths;
use chatvault::platform::keychain::Keychain;
use chatvault::repo::access;
use chatvault::repo::stats::BackupContents;
use chatvault::run::status::{self, Clock, ProfileFacts, ProfileStatus};
use chatvault::schedule::{state_from_history, upcoming, Rule};
use jiff::tz::TimeZone;
use jiff::Timestamp;
use tauri::State;

type CmdResult<T> = Result<T, WireError>;

/// Whether the repository key of `url` is in the keychain (none: not known here).
fn key_in_keychain(paths: &AppPaths, kc: &dyn Keychain, url: &str) -> Option<bool> {
    let id = access::known_repo_id(paths, url).ok().flatten()?;
    kc.get(&access::key_account(id)).ok().map(|k| k.is_some())
}

/// Every profile's status; with a keychain, also whether each repository key is in it.
pub(crate) fn statuses(
    paths: &AppPaths,
    paused_until: Option<Timestamp>,
    keychain: Option<&dyn Keychain>,
) -> Result<Vec<ProfileStatus>, Error> {
    let profiles = chatvault::local::profile::list(paths)?;
    let runs = chatvault::run::history::list(paths)?;
    let checks = status::list_checks(paths)?;
    let facts: Vec<ProfileFacts<'_>> = profiles
        .iter()
        .map(|(name, profile)| ProfileFacts {
            name,
            profile,
            key_in_keychain: keychain.and_then(|kc| key_in_keychain(paths, kc, &profile.target)),
        })
        .collect();
    let clock = Clock {
        now: Timestamp::now(),
        tz: TimeZone::system(),
        paused_until,
    };
    Ok(status::status(&facts, &runs, &checks, &clock))
}

fn paused_until(state: &AppState) -> Result<Option<Timestamp>, WireError> {
    let until = *state
        .paused_until
        .lock()
        .map_err(|_| WireError::from(Error::internal("lock")))?;
    Ok(until.filter(|u| *u > Timestamp::now()))
}

#[tauri::command]
pub async fn home_status(state: State<'_, AppState>) -> CmdResult<Vec<ProfileStatus>> {
    let paused = paused_until(&state)?;
    blocking_with(&state, move |s| {
        statuses(&s.paths, paused, Some(s.keychain.as_ref()))
    })
    .await
}

/// What the repository at `url` holds (reads snapshots, index and trees; writes nothing).
#[tauri::command]
pub async fn backup_contents(state: State<'_, AppState>, url: String) -> CmdResult<BackupContents> {
    let repo = state.open_repo(&url).await?;
    Ok(chatvault::repo::stats::contents(&repo).await?)
}

/// Pauses or resumes a profile's scheduled runs (the in-app scheduler and the OS timer).
#[tauri::command]
pub async fn pause_profile(
    state: State<'_, AppState>,
    name: String,
    paused: bool,
) -> CmdResult<()> {
    let paths = state.paths.clone();
    blocking(move || {
        let mut p = chatvault::local::profile::get(&paths, &name)?;
        p.paused = paused;
        chatvault::local::profile::save(&paths, &name, &p)
    })
    .await
}

/// The next three runs `rule` would give (for a saved profile, after its last runs), as the
/// schedule picker shows them while the user edits.
#[tauri::command]
pub async fn preview_schedule(
    state: State<'_, AppState>,
    name: Option<String>,
    rule: String,
) -> CmdResult<Vec<Timestamp>> {
    let paths = state.paths.clone();
    blocking(move || {
        let rule: Rule = rule.parse()?;
        let runs = match &name {
            Some(_) => chatvault::run::history::list(&paths)?,
            None => Vec::new(),
        };
        let state = name
            .as_deref()
            .map(|n| state_from_history(&runs, n))
            .unwrap_or_default();
        Ok(upcoming(
            &rule,
            &state,
            Timestamp::now(),
            &TimeZone::system(),
            3,
        ))
    })
    .await
}
