//! Profiles: named, saved backups (store, selection, target, schedule, retention) in
//! `profiles.toml` in the config folder. No secrets: the store key and the repository key are
//! in the OS keychain, target credentials too (or the environment).

use crate::error::{Error, Result};
use crate::local::paths::AppPaths;
use crate::local::toml_file;
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::PathBuf;
use ts_rs::TS;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(optional_fields = nullable)]
pub struct Profile {
    /// The store: account folder, EnMicroMsg.db or chat.db.
    #[ts(type = "string")]
    pub store: PathBuf,
    /// The target URL (no credentials in it).
    pub target: String,
    /// Conversation ids to keep; empty means every conversation.
    #[serde(default)]
    pub conversations: Vec<String>,
    #[serde(default)]
    #[ts(type = "string | null")]
    pub since: Option<Timestamp>,
    #[serde(default)]
    #[ts(type = "string | null")]
    pub until: Option<Timestamp>,
    /// When to run, e.g. "every 6h" or "daily 02:30" (used by the scheduler).
    #[serde(default)]
    pub schedule: Option<String>,
    /// How many snapshots of this profile to keep (none: all).
    #[serde(default)]
    pub keep_last: Option<u32>,
    /// Upload bandwidth limit in KiB/s (none: as fast as the target takes it).
    #[serde(default)]
    pub upload_limit_kib: Option<u32>,
    /// Scheduled runs wait while the computer runs on battery.
    #[serde(default)]
    pub skip_on_battery: bool,
    /// Scheduled runs wait while the network connection is metered (where the OS tells).
    #[serde(default)]
    pub skip_on_metered: bool,
    /// Also keep the newest snapshot of each of the last N days / weeks / months.
    #[serde(default)]
    pub keep_daily: Option<u32>,
    #[serde(default)]
    pub keep_weekly: Option<u32>,
    #[serde(default)]
    pub keep_monthly: Option<u32>,
    /// Scheduled runs of this profile wait until it is resumed (Back up now still runs it).
    #[serde(default)]
    pub paused: bool,
}

impl Profile {
    /// A profile of every conversation of `store` to `target`, run by hand, keeping every
    /// snapshot: what the fields say when nobody chose otherwise.
    pub fn new(store: PathBuf, target: String) -> Profile {
        Profile {
            store,
            target,
            conversations: Vec::new(),
            since: None,
            until: None,
            schedule: None,
            keep_last: None,
            upload_limit_kib: None,
            skip_on_battery: false,
            skip_on_metered: false,
            keep_daily: None,
            keep_weekly: None,
            keep_monthly: None,
            paused: false,
        }
    }
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct ProfileFile {
    #[serde(default)]
    profiles: BTreeMap<String, Profile>,
}

fn file(paths: &AppPaths) -> PathBuf {
    paths.config_dir.join("profiles.toml")
}

fn load_file(paths: &AppPaths) -> Result<ProfileFile> {
    toml_file::load(
        &file(paths),
        "Fix the file by hand, or delete the broken profile from it.",
    )
}

pub fn list(paths: &AppPaths) -> Result<BTreeMap<String, Profile>> {
    Ok(load_file(paths)?.profiles)
}

pub fn get(paths: &AppPaths, name: &str) -> Result<Profile> {
    let all = list(paths)?;
    all.get(name).cloned().ok_or_else(|| {
        let names: Vec<&str> = all.keys().map(String::as_str).collect();
        Error::invalid_input(format!("there is no profile named '{name}'")).with_hint(
            if names.is_empty() {
                "Save one with `chatvault backup ... --save-profile NAME`.".to_string()
            } else {
                format!("Profiles: {}.", names.join(", "))
            },
        )
    })
}

pub fn save(paths: &AppPaths, name: &str, profile: &Profile) -> Result<()> {
    if name.is_empty()
        || !name
            .chars()
            .all(|c| c.is_alphanumeric() || matches!(c, '-' | '_' | '.'))
    {
        return Err(
            Error::invalid_input(format!("'{name}' cannot name a profile"))
                .with_hint("Use letters, digits, '-', '_' and '.'."),
        );
    }
    let mut f = load_file(paths)?;
    f.profiles.insert(name.to_string(), profile.clone());
    toml_file::save(&file(paths), &f)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn profiles_round_trip_and_unknown_names_list_the_known_ones() {
        let (_dir, paths) = AppPaths::temp();
        let p = Profile {
            store: "/home/me/WeChat Files/wxid_a".into(),
            target: "s3://b/p?endpoint=https%3A%2F%2Fcos.example".into(),
            conversations: vec!["x@chatroom".into()],
            since: Some("2024-01-01T00:00:00Z".parse().unwrap()),
            until: None,
            schedule: Some("daily 02:30".into()),
            keep_last: Some(30),
            upload_limit_kib: Some(512),
            skip_on_battery: true,
            skip_on_metered: true,
            keep_daily: Some(7),
            keep_weekly: Some(4),
            keep_monthly: Some(12),
            paused: true,
        };
        save(&paths, "family", &p).unwrap();
        assert_eq!(get(&paths, "family").unwrap(), p);
        let err = get(&paths, "work").unwrap_err();
        assert!(err.hint().unwrap().contains("family"));
        assert!(save(&paths, "bad name", &p).is_err());
    }
}
