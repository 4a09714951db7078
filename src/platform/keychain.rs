//! The OS keychain: where the master key and target credentials live.
//!
//! On Linux this is the Secret Service (gnome-keyring, KWallet) over D-Bus; on macOS the login
//! Keychain; on Windows the Credential Manager. Every entry is filed under one service name
//! so that tests can use their own (and the user's real entries are never touched).

use crate::crypto::secret::Secret;
use crate::error::{Error, ErrorCode, Result};

/// The service name entries are filed under in the real app.
pub(crate) const SERVICE: &str = "app.chatvault";

/// Where secrets are kept. The core takes a `&dyn Keychain` so hosts and tests choose the store.
pub trait Keychain: Send + Sync {
    /// The secret for `account`, or `None` when there is no such entry.
    fn get(&self, account: &str) -> Result<Option<Secret<String>>>;
    /// Stores (or replaces) the secret for `account`.
    fn set(&self, account: &str, secret: &Secret<String>) -> Result<()>;
    /// Removes the entry; `Ok(false)` when there was none.
    fn delete(&self, account: &str) -> Result<bool>;
}

/// The platform keychain through the `keyring` crate.
#[derive(Debug, Clone)]
pub struct OsKeychain {
    service: String,
}

impl OsKeychain {
    pub fn new(service: impl Into<String>) -> Self {
        OsKeychain {
            service: service.into(),
        }
    }

    fn entry(&self, account: &str) -> Result<keyring::Entry> {
        keyring::Entry::new(&self.service, account).map_err(|e| map_keyring_error(e, account))
    }
}

impl Default for OsKeychain {
    fn default() -> Self {
        OsKeychain::new(SERVICE)
    }
}

impl Keychain for OsKeychain {
    fn get(&self, account: &str) -> Result<Option<Secret<String>>> {
        match self.entry(account)?.get_password() {
            Ok(p) => Ok(Some(Secret::new(p))),
            Err(keyring::Error::NoEntry) => Ok(None),
            Err(e) => Err(map_keyring_error(e, account)),
        }
    }

    fn set(&self, account: &str, secret: &Secret<String>) -> Result<()> {
        self.entry(account)?
            .set_password(secret.expose())
            .map_err(|e| map_keyring_error(e, account))
    }

    fn delete(&self, account: &str) -> Result<bool> {
        match self.entry(account)?.delete_credential() {
            Ok(()) => Ok(true),
            Err(keyring::Error::NoEntry) => Ok(false),
            Err(e) => Err(map_keyring_error(e, account)),
        }
    }
}

/// keyring's errors carry no secret values (only names and platform messages), so their text is
/// safe to include.
fn map_keyring_error(e: keyring::Error, account: &str) -> Error {
    let hint = if cfg!(target_os = "linux") {
        "Make sure a Secret Service provider (GNOME Keyring or KWallet) is running and unlocked \
         in your desktop session."
    } else {
        "Make sure the system keychain is unlocked and ChatVault may use it."
    };
    Error::new(
        ErrorCode::KeychainUnavailable,
        format!("keychain entry '{account}': {e}"),
    )
    .with_hint(hint)
}
