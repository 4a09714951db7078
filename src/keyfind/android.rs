//! WeChat for Android: the key is not in any process but derived from the phone, as the first
//! 7 hex digits of md5(IMEI + uin) (chat-stores.md §5). The uin is in the backup's
//! `shared_prefs`; the IMEI is often WeChat's placeholder `1234567890ABCDEF`, else the user
//! types the phone's (dial *#06#). Each combination is checked on page 1.

use super::check::{Page1, ANDROID};
use crate::crypto::secret::Secret;
use crate::error::{Error, ErrorCode, Result};
use quick_xml::events::Event;
use std::path::{Path, PathBuf};
use zeroize::Zeroizing;

/// The IMEI WeChat uses when it cannot read the phone's.
pub(crate) const PLACEHOLDER_IMEI: &str = "1234567890ABCDEF";

/// Preference files and the entries that hold the uin (wechat-dump, chat-stores.md §5, §7.1).
const UIN_ENTRIES: [(&str, &str); 3] = [
    ("auth_info_key_prefs.xml", "_auth_uin"),
    ("system_config_prefs.xml", "default_uin"),
    ("com.tencent.mm_preferences.xml", "last_login_uin"),
];

/// What opened an Android store.
pub struct AndroidKey {
    pub password: Secret<String>,
    /// The preferences file the uin came from.
    pub uin_file: PathBuf,
    pub placeholder_imei: bool,
}

/// Finds the password of `db` (an `EnMicroMsg.db`) from the `shared_prefs` of the backup it is
/// in, trying the placeholder IMEI and each of `imeis`.
pub fn find(db: &Path, imeis: &[String]) -> Result<AndroidKey> {
    let page = Page1::read(db, ANDROID.page_size)
        .map_err(|e| Error::io(format!("reading {}", db.display()), &e))?
        .ok_or_else(|| {
            Error::new(
                ErrorCode::StoreNotChatStore,
                format!("{} is not an encrypted WeChat database", db.display()),
            )
            .with_hint("Pick the EnMicroMsg.db of a WeChat for Android backup.")
        })?;
    let uins = uins_near(db);
    if uins.is_empty() {
        return Err(Error::new(
            ErrorCode::KeyNotFound,
            format!("no shared_prefs with WeChat's uin next to {}", db.display()),
        )
        .with_hint(
            "Copy the whole com.tencent.mm folder of the backup (with shared_prefs, \
             next to MicroMsg), or type the key by hand.",
        ));
    }
    let mut tries: Vec<(&str, bool)> = vec![(PLACEHOLDER_IMEI, true)];
    tries.extend(imeis.iter().map(|i| (i.trim(), false)));
    for (uin, file) in &uins {
        for (imei, placeholder) in &tries {
            let mut input = Zeroizing::new(String::with_capacity(imei.len() + uin.len()));
            input.push_str(imei);
            input.push_str(uin);
            let hex = Zeroizing::new(crate::store::md5_hex(&input));
            if page.opens_with_password(&ANDROID, hex[..7].as_bytes()) {
                return Ok(AndroidKey {
                    password: Secret::new(hex[..7].to_string()),
                    uin_file: file.clone(),
                    placeholder_imei: *placeholder,
                });
            }
        }
    }
    Err(Error::new(
        ErrorCode::KeyNotFound,
        format!(
            "the uin in the backup's shared_prefs with {} IMEI(s) tried does not open {}",
            tries.len(),
            db.display()
        ),
    )
    .with_hint(
        "WeChat used this phone's IMEI: dial *#06# on the phone and give it \
         (chatvault key find --imei NUMBER), or type the key by hand.",
    ))
}

/// Every uin in a `shared_prefs` folder beside the database or above it (a backup keeps
/// `com.tencent.mm/shared_prefs` next to `com.tencent.mm/MicroMsg/<user>/EnMicroMsg.db`).
fn uins_near(db: &Path) -> Vec<(String, PathBuf)> {
    let mut out: Vec<(String, PathBuf)> = Vec::new();
    for dir in db.ancestors().skip(1).take(5) {
        let prefs = dir.join("shared_prefs");
        for (file, entry) in UIN_ENTRIES {
            let path = prefs.join(file);
            let Ok(text) = std::fs::read_to_string(&path) else {
                continue;
            };
            if let Some(uin) = pref_value(&text, entry) {
                if uin != "0" && !out.iter().any(|(u, _)| *u == uin) {
                    out.push((uin, path));
                }
            }
        }
    }
    out
}

/// The value of `<int|long|string name="NAME" value="V"/>` or `<string name="NAME">V</string>`
/// in an Android preferences file.
fn pref_value(xml: &str, name: &str) -> Option<String> {
    let mut reader = quick_xml::Reader::from_str(xml);
    let mut in_wanted = false;
    loop {
        match reader.read_event().ok()? {
            Event::Start(e) | Event::Empty(e) => {
                let mut named = false;
                let mut value = None;
                for a in e.attributes().flatten() {
                    let v: &str = &a.value;
                    match a.key.as_ref() {
                        "name" => named = v == name,
                        "value" => value = Some(v.to_string()),
                        _ => {}
                    }
                }
                if named {
                    if let Some(v) = value {
                        return Some(v.trim().to_string());
                    }
                    in_wanted = true;
                }
            }
            Event::Text(t) if in_wanted => {
                let v = t.trim().to_string();
                return (!v.is_empty()).then_some(v);
            }
            Event::End(_) => in_wanted = false,
            Event::Eof => return None,
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_uin_from_each_preferences_shape() {
        let auth = r#"<?xml version='1.0' encoding='utf-8' standalone='yes' ?>
<map>
    <boolean name="key_auth_update_version" value="true" />
    <int name="_auth_uin" value="-1234567" />
</map>"#;
        assert_eq!(pref_value(auth, "_auth_uin").as_deref(), Some("-1234567"));
        let sys = r#"<map><string name="other">x</string><string name="default_uin">2033445566</string></map>"#;
        assert_eq!(
            pref_value(sys, "default_uin").as_deref(),
            Some("2033445566")
        );
        assert_eq!(pref_value(sys, "missing"), None);
    }
}
