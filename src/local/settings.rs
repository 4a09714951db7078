//! User preferences that are not tied to a backup profile: language and theme.
//! Stored as TOML in the config folder; holds no secrets.

use crate::error::Result;
use crate::local::paths::AppPaths;
use crate::local::toml_file;
use serde::{Deserialize, Serialize};
use ts_rs::TS;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
pub enum Language {
    #[serde(rename = "zh-CN")]
    ZhCn,
    #[serde(rename = "en")]
    En,
}

impl Language {
    /// Picks the UI language for an OS locale such as `zh_CN.UTF-8`, `zh-Hans-CN` or `en-US`:
    /// any Chinese locale gets Simplified Chinese, everything else English.
    pub fn from_locale(locale: &str) -> Language {
        let lower = locale.to_ascii_lowercase();
        if lower.starts_with("zh") {
            Language::ZhCn
        } else {
            Language::En
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum Theme {
    #[default]
    System,
    Light,
    Dark,
}

#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, TS)]
#[serde(default)]
pub struct Settings {
    /// `None` follows the OS language.
    #[ts(optional = nullable)]
    pub language: Option<Language>,
    pub theme: Theme,
    /// Show a desktop notification when a scheduled backup succeeds (failures always notify).
    pub notify_on_success: bool,
    /// Start ChatVault (in the tray) when the user logs in.
    pub autostart: bool,
}

impl Settings {
    /// Reads the settings; a missing file gives the defaults.
    pub fn load(paths: &AppPaths) -> Result<Settings> {
        toml_file::load(
            &paths.settings_file(),
            "Fix the file by hand or delete it to return to the defaults.",
        )
    }

    /// Writes the settings atomically (temp file, then rename).
    pub fn save(&self, paths: &AppPaths) -> Result<()> {
        toml_file::save(&paths.settings_file(), self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chinese_locales_pick_simplified_chinese() {
        for l in ["zh_CN.UTF-8", "zh-Hans-CN", "zh-TW", "ZH"] {
            assert_eq!(Language::from_locale(l), Language::ZhCn, "{l}");
        }
        for l in ["en-US", "de_DE.UTF-8", "C", ""] {
            assert_eq!(Language::from_locale(l), Language::En, "{l}");
        }
    }

    #[test]
    fn settings_round_trip_and_default_when_missing() {
        let (_dir, paths) = AppPaths::temp();
        assert_eq!(Settings::load(&paths).unwrap(), Settings::default());
        let s = Settings {
            language: Some(Language::ZhCn),
            theme: Theme::Dark,
            notify_on_success: true,
            autostart: false,
        };
        s.save(&paths).unwrap();
        assert_eq!(Settings::load(&paths).unwrap(), s);
    }

    #[test]
    fn broken_settings_file_is_a_config_error_with_hint() {
        let (_dir, paths) = AppPaths::temp();
        std::fs::create_dir_all(&paths.config_dir).unwrap();
        std::fs::write(paths.settings_file(), "theme = 42").unwrap();
        let err = Settings::load(&paths).unwrap_err();
        assert_eq!(err.code(), crate::error::ErrorCode::ConfigInvalid);
        assert!(err.hint().is_some());
    }
}
