//! One error type for the whole core.
//!
//! Rules: every error carries a [`ErrorCode`] from a closed set that hosts may branch on, a
//! message saying what went wrong (in English, with the detail a support request needs), and
//! where there is one, a hint saying what the user can do next. The UI shows its own
//! translation of the code's message and hint; the message here is the detail line.
//! Errors never contain secrets: constructors take no key material and library errors are
//! only ever reduced to their display text after the caller has checked it carries none.

use serde::{Deserialize, Serialize};
use std::fmt;
use ts_rs::TS;

/// What kind of failure this is. Closed: a variant is added only when a host must tell it
/// apart from the others (a different message, hint or action in the UI).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// A bug or an impossible state; the message has the detail.
    Internal,
    /// The request itself is malformed (bad argument, bad value in a form).
    InvalidInput,
    /// The user cancelled the job.
    Cancelled,
    /// A local file or folder could not be read or written.
    Io,
    /// The settings or profile file could not be parsed.
    ConfigInvalid,
    /// The OS keychain (Secret Service, macOS Keychain, Windows Credential Manager) is not
    /// reachable or refused access.
    KeychainUnavailable,
    /// The target URL could not be understood.
    TargetUrlInvalid,
    /// The target could not be reached (connection refused, DNS, TLS, timeout).
    TargetUnreachable,
    /// The target refused our credentials.
    TargetAuth,
    /// The bucket or folder on the target does not exist.
    TargetNotFound,
    /// The target answered, but not as expected (server error, odd reply).
    TargetFailed,
    /// The secure (TLS) connection to the storage failed.
    TargetTls,
    /// This computer's clock is too far off for the storage.
    TargetClockSkew,
    /// The storage is full or over its quota.
    TargetQuota,
    /// No chat store at the given path.
    StoreNotFound,
    /// The store is encrypted and no key was given.
    StoreKeyRequired,
    /// The key does not decrypt the store.
    StoreWrongKey,
    /// The file or folder is not a chat store ChatVault knows.
    StoreNotChatStore,
    /// The store is truncated or damaged.
    StoreCorrupt,
    /// A store of a version whose layout ChatVault does not understand.
    StoreUnsupported,
    /// The store's files cannot be read (permissions, locked by the chat app).
    StoreUnreadable,
    /// The messages are there but the contacts database is missing.
    StoreContactsMissing,
    /// A repository already exists at the target.
    RepoExists,
    /// There is no ChatVault repository at the target.
    RepoNotFound,
    /// A backup object is incomplete.
    RepoTruncated,
    /// A backup object is damaged.
    RepoCorrupt,
    /// A backup object was changed by someone other than ChatVault.
    RepoTampered,
    /// This backup was written by a newer ChatVault.
    RepoVersionUnsupported,
    /// The key in this computer's keychain does not belong to this backup.
    RepoWrongKey,
    /// A backup object is missing from the storage.
    RepoObjectMissing,
    /// Another ChatVault run is using this backup.
    RepoLocked,
    /// This run's lease on the backup ran out (the computer slept, or the storage stopped
    /// answering); it stopped before changing anything else.
    RepoLockLost,
    /// The storage serves an older state of the backup than this computer has seen.
    RepoRolledBack,
    /// This computer does not have the backup's key.
    KeyMissing,
    /// The recovery code has a typo.
    RecoveryCodeInvalid,
    /// That recovery code belongs to another backup.
    RecoveryCodeWrong,
    /// Find my key: WeChat (or the process named) is not running.
    WechatNotRunning,
    /// Find my key: WeChat runs but is not logged in, so it holds no key yet.
    WechatNotLoggedIn,
    /// Find my key: nothing in WeChat's memory (or the backup) opens the store.
    KeyNotFound,
    /// Find my key: the OS did not let ChatVault read WeChat's memory.
    KeyAccessDenied,
}

impl ErrorCode {
    /// The storage could not be reached or refused the request (as opposed to bad content).
    pub(crate) fn is_target_problem(self) -> bool {
        self.is_target() || self == ErrorCode::Io
    }

    /// A code the target itself caused: unreachable, refused, missing, full, or out of step.
    pub(crate) fn is_target(self) -> bool {
        matches!(
            self,
            ErrorCode::TargetUnreachable
                | ErrorCode::TargetAuth
                | ErrorCode::TargetNotFound
                | ErrorCode::TargetFailed
                | ErrorCode::TargetTls
                | ErrorCode::TargetClockSkew
                | ErrorCode::TargetQuota
        )
    }

    /// Every code, for catalogue completeness checks.
    #[cfg(test)]
    pub(crate) const ALL: [ErrorCode; 40] = [
        ErrorCode::Internal,
        ErrorCode::InvalidInput,
        ErrorCode::Cancelled,
        ErrorCode::Io,
        ErrorCode::ConfigInvalid,
        ErrorCode::KeychainUnavailable,
        ErrorCode::TargetUrlInvalid,
        ErrorCode::TargetUnreachable,
        ErrorCode::TargetAuth,
        ErrorCode::TargetNotFound,
        ErrorCode::TargetFailed,
        ErrorCode::TargetTls,
        ErrorCode::TargetClockSkew,
        ErrorCode::TargetQuota,
        ErrorCode::StoreNotFound,
        ErrorCode::StoreKeyRequired,
        ErrorCode::StoreWrongKey,
        ErrorCode::StoreNotChatStore,
        ErrorCode::StoreCorrupt,
        ErrorCode::StoreUnsupported,
        ErrorCode::StoreUnreadable,
        ErrorCode::StoreContactsMissing,
        ErrorCode::RepoExists,
        ErrorCode::RepoNotFound,
        ErrorCode::RepoTruncated,
        ErrorCode::RepoCorrupt,
        ErrorCode::RepoTampered,
        ErrorCode::RepoVersionUnsupported,
        ErrorCode::RepoWrongKey,
        ErrorCode::RepoObjectMissing,
        ErrorCode::RepoLocked,
        ErrorCode::RepoLockLost,
        ErrorCode::RepoRolledBack,
        ErrorCode::KeyMissing,
        ErrorCode::RecoveryCodeInvalid,
        ErrorCode::RecoveryCodeWrong,
        ErrorCode::WechatNotRunning,
        ErrorCode::WechatNotLoggedIn,
        ErrorCode::KeyNotFound,
        ErrorCode::KeyAccessDenied,
    ];

    /// The snake_case name used on the wire and in catalogues.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::Internal => "internal",
            ErrorCode::InvalidInput => "invalid_input",
            ErrorCode::Cancelled => "cancelled",
            ErrorCode::Io => "io",
            ErrorCode::ConfigInvalid => "config_invalid",
            ErrorCode::KeychainUnavailable => "keychain_unavailable",
            ErrorCode::TargetUrlInvalid => "target_url_invalid",
            ErrorCode::TargetUnreachable => "target_unreachable",
            ErrorCode::TargetAuth => "target_auth",
            ErrorCode::TargetNotFound => "target_not_found",
            ErrorCode::TargetFailed => "target_failed",
            ErrorCode::TargetTls => "target_tls",
            ErrorCode::TargetClockSkew => "target_clock_skew",
            ErrorCode::TargetQuota => "target_quota",
            ErrorCode::StoreNotFound => "store_not_found",
            ErrorCode::StoreKeyRequired => "store_key_required",
            ErrorCode::StoreWrongKey => "store_wrong_key",
            ErrorCode::StoreNotChatStore => "store_not_chat_store",
            ErrorCode::StoreCorrupt => "store_corrupt",
            ErrorCode::StoreUnsupported => "store_unsupported",
            ErrorCode::StoreUnreadable => "store_unreadable",
            ErrorCode::StoreContactsMissing => "store_contacts_missing",
            ErrorCode::RepoExists => "repo_exists",
            ErrorCode::RepoNotFound => "repo_not_found",
            ErrorCode::RepoTruncated => "repo_truncated",
            ErrorCode::RepoCorrupt => "repo_corrupt",
            ErrorCode::RepoTampered => "repo_tampered",
            ErrorCode::RepoVersionUnsupported => "repo_version_unsupported",
            ErrorCode::RepoWrongKey => "repo_wrong_key",
            ErrorCode::RepoObjectMissing => "repo_object_missing",
            ErrorCode::RepoLocked => "repo_locked",
            ErrorCode::RepoLockLost => "repo_lock_lost",
            ErrorCode::RepoRolledBack => "repo_rolled_back",
            ErrorCode::KeyMissing => "key_missing",
            ErrorCode::RecoveryCodeInvalid => "recovery_code_invalid",
            ErrorCode::RecoveryCodeWrong => "recovery_code_wrong",
            ErrorCode::WechatNotRunning => "wechat_not_running",
            ErrorCode::WechatNotLoggedIn => "wechat_not_logged_in",
            ErrorCode::KeyNotFound => "key_not_found",
            ErrorCode::KeyAccessDenied => "key_access_denied",
        }
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A core error: code, message, optional hint.
#[derive(Debug)]
pub struct Error {
    code: ErrorCode,
    message: String,
    hint: Option<String>,
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Error {
            code,
            message: message.into(),
            hint: None,
        }
    }

    /// Adds what the user can do about it.
    pub fn with_hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }

    /// Prefixes the message with where it happened, keeping code and hint.
    pub fn context(mut self, context: impl fmt::Display) -> Self {
        self.message = format!("{context}: {}", self.message);
        self
    }

    pub fn code(&self) -> ErrorCode {
        self.code
    }

    pub fn message(&self) -> &str {
        &self.message
    }

    pub fn hint(&self) -> Option<&str> {
        self.hint.as_deref()
    }

    pub fn internal(message: impl Into<String>) -> Self {
        Error::new(ErrorCode::Internal, message)
    }

    pub fn invalid_input(message: impl Into<String>) -> Self {
        Error::new(ErrorCode::InvalidInput, message)
    }

    pub fn io(what: impl fmt::Display, err: &std::io::Error) -> Self {
        let hint = match err.kind() {
            std::io::ErrorKind::PermissionDenied => Some("Check the file's permissions."),
            std::io::ErrorKind::NotFound => Some("Check that the path exists."),
            std::io::ErrorKind::StorageFull => Some("Free some disk space and try again."),
            _ => None,
        };
        let e = Error::new(ErrorCode::Io, format!("{what}: {err}"));
        match hint {
            Some(h) => e.with_hint(h),
            None => e,
        }
    }

    /// The shape that crosses process boundaries (IPC, `--json` output).
    pub fn to_wire(&self) -> WireError {
        WireError {
            code: self.code,
            message: self.message.clone(),
            hint: self.hint.clone(),
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)?;
        if let Some(h) = &self.hint {
            write!(f, "\nhint: {h}")?;
        }
        Ok(())
    }
}

impl std::error::Error for Error {}

/// The error as hosts see it: `{code, message, hint}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct WireError {
    pub code: ErrorCode,
    pub message: String,
    #[ts(optional = nullable)]
    pub hint: Option<String>,
}

impl From<Error> for WireError {
    fn from(e: Error) -> Self {
        WireError {
            code: e.code,
            message: e.message,
            hint: e.hint,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wire_shape_is_code_message_hint() {
        let e = Error::new(ErrorCode::TargetAuth, "403 from server").with_hint("Check the key");
        let v = serde_json::to_value(e.to_wire()).unwrap();
        assert_eq!(
            v,
            serde_json::json!({"code": "target_auth", "message": "403 from server", "hint": "Check the key"})
        );
    }

    #[test]
    fn as_str_matches_serde_name_for_every_code() {
        for code in ErrorCode::ALL {
            let v = serde_json::to_value(code).unwrap();
            assert_eq!(v.as_str(), Some(code.as_str()));
        }
    }

    #[test]
    fn context_keeps_code_and_hint() {
        let e = Error::new(ErrorCode::Io, "disk full")
            .with_hint("free space")
            .context("writing pack");
        assert_eq!(e.code(), ErrorCode::Io);
        assert_eq!(e.message(), "writing pack: disk full");
        assert_eq!(e.hint(), Some("free space"));
    }
}
