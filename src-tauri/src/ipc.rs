//! Types that cross IPC and exist only for the shell. Core types that cross IPC (errors,
//! settings) are defined in the core; all of them are exported to `ui/src/ipc/bindings.ts`.

use serde::{Deserialize, Serialize};
use ts_rs::TS;

#[derive(Debug, Clone, Serialize, TS)]
pub struct AppInfo {
    /// The product version (same as `chatvault --version`).
    pub version: String,
    /// The git commit the app was built from (first 12 hex digits), or `unknown`.
    pub commit: String,
    /// The repository format this build writes and reads (docs/FORMAT.md).
    pub format_version: u16,
    /// The OS locale as reported by the system, e.g. `zh-CN` or `en-US`.
    pub os_locale: String,
    /// The language the UI should use: the saved choice, else the OS locale's.
    pub language: chatvault::local::settings::Language,
}

/// A store opened in the wizard: what it is and its conversations.
#[derive(Debug, Clone, Serialize, TS)]
pub struct OpenedStore {
    pub variant: chatvault::store::Variant,
    #[ts(optional = nullable)]
    pub account_id: Option<String>,
    pub path: String,
    pub conversations: Vec<chatvault::model::Conversation>,
}

/// Find my key succeeded: what was found (never the key) and the store it opened.
#[derive(Debug, Clone, Serialize, TS)]
pub struct FoundStoreKey {
    pub found: chatvault::keyfind::KeyFound,
    pub store: OpenedStore,
}

/// Progress of a Find my key search, on the id the UI chose.
#[derive(Debug, Clone, Serialize, TS)]
pub struct KeyProgress {
    pub job_id: String,
    pub progress: chatvault::keyfind::FindProgress,
}

/// Which messages of the open store to load.
#[derive(Debug, Clone, Deserialize, TS)]
#[ts(optional_fields = nullable)]
pub struct MessageRequest {
    pub conversation_id: String,
    #[ts(optional = nullable, type = "string")]
    pub since: Option<jiff::Timestamp>,
    #[ts(optional = nullable, type = "string")]
    pub until: Option<jiff::Timestamp>,
    pub search: Option<String>,
    pub limit: Option<u32>,
}

#[derive(Debug, Clone, Serialize, TS)]
pub struct DemoStoreInfo {
    pub path: String,
    /// The demo store's key; not a secret (it is printed by `chatvault demo` too).
    pub key: String,
}

/// Credentials typed into the target form (sent once, kept only in the keychain).
#[derive(Debug, Clone, Deserialize, TS)]
#[ts(optional_fields = nullable)]
pub struct CredentialsInput {
    pub access_key_id: Option<String>,
    pub secret_access_key: Option<String>,
    pub password: Option<String>,
}

#[derive(Debug, Clone, Serialize, TS)]
pub struct RepoStatus {
    /// A ChatVault repository is at the target.
    pub exists: bool,
    /// This computer holds its key.
    pub unlocked: bool,
}

#[derive(Debug, Clone, Serialize, TS)]
pub struct CreatedRepo {
    pub repo_id: String,
    /// Shown once to the user; also kept in the keychain.
    pub recovery_code: String,
}

/// Where the user chose to save a recovery code, and whether a cloud would get a copy there.
#[derive(Debug, Clone, Serialize, TS)]
#[ts(optional_fields = nullable)]
pub struct RecoveryFileChoice {
    /// Null when the user closed the dialog.
    pub path: Option<String>,
    /// Set when the place is inside the backup target or a synced folder: the UI asks the user
    /// to confirm before saving there.
    pub exposed: Option<ExposedPlace>,
}

#[derive(Debug, Clone, Serialize, TS)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ExposedPlace {
    /// Inside the local folder a backup target writes to.
    BackupTarget { folder: String },
    /// Inside a folder a sync client (OneDrive, Dropbox, 坚果云, …) copies to the cloud.
    SyncFolder { client: String },
}

/// A `backup-progress` event.
#[derive(Debug, Clone, Serialize, TS)]
pub struct BackupProgress {
    pub job_id: String,
    /// Conversations done and in all.
    pub done: u64,
    pub total: u64,
    /// Messages read (or found unchanged) so far.
    pub messages: u64,
    /// The messages the backup will handle, 0 when not known: then the bar and the time left
    /// go by messages (a one-pass read finishes its conversations together at the end).
    pub messages_total: u64,
    /// Bytes uploaded so far.
    pub bytes: u64,
    pub elapsed_ms: u64,
}

#[derive(Debug, Clone, Serialize, TS)]
pub struct RestoreResult {
    pub conversations: u32,
    pub messages: u64,
    /// Files written by an export.
    pub files: Vec<String>,
    /// The export's index.html, when HTML was exported.
    #[ts(optional = nullable)]
    pub index_html: Option<String>,
}

#[derive(Debug, Clone, Serialize, TS)]
pub struct NamedProfile {
    pub name: String,
    pub profile: chatvault::local::profile::Profile,
}

#[derive(Debug, Clone, Serialize, TS)]
pub struct RepoOverview {
    pub url: String,
    pub repo_id: String,
    pub key_in_keychain: bool,
    pub credentials_saved: bool,
}

#[derive(Debug, Clone, Serialize, TS)]
#[ts(optional_fields = nullable)]
pub struct ScheduleEntry {
    pub name: String,
    pub target: String,
    /// `every 6h`, `daily 02:30`, `weekly mon,thu 20:00`; none when off.
    pub rule: Option<String>,
    #[ts(optional = nullable, type = "string")]
    pub next_run: Option<jiff::Timestamp>,
    pub last: Option<chatvault::run::history::RunRecord>,
}

/// A `schedule-run` event: a profile's scheduled run started, ended, or waits.
#[derive(Debug, Clone, Serialize, TS)]
pub struct ScheduleRun {
    pub profile: String,
    pub state: ScheduleRunState,
    /// Why a postponed run waits (on battery, on a metered network); only with `postponed`.
    #[ts(optional = nullable)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum ScheduleRunState {
    Started,
    Ok,
    Failed,
    Postponed,
}

/// What forgetting a conversation did.
#[derive(Debug, Clone, Serialize, TS)]
pub struct ForgetResult {
    pub snapshots_rewritten: u32,
    /// Snapshots that held only this conversation, deleted.
    pub snapshots_deleted: u32,
    pub keys_destroyed: u32,
    /// Packs deleted from the storage by the prune.
    pub packs_deleted: u32,
    /// Messages deleted from the library on this computer.
    pub library_messages_deleted: u64,
    /// Export files ChatVault wrote of it, deleted.
    pub export_files_deleted: u32,
}

/// A conversation of the open store that repositories this computer knows have forgotten.
#[derive(Debug, Clone, Serialize, TS)]
pub struct ForgottenInStore {
    pub id: String,
    /// The whole conversation (else some ranges of it).
    pub whole: bool,
    /// The repositories (URLs) whose forgotten list holds it.
    pub targets: Vec<String>,
}

/// Every declaration of `ui/src/ipc/bindings.ts`, in file order.
pub fn typescript_bindings() -> String {
    use chatvault::error::{ErrorCode, WireError};
    use chatvault::local::settings::{Language, Settings, Theme};
    use chatvault::model::{
        AttachmentRef, AttachmentRole, Conversation, ConversationKind, Message, MessageKind,
        SelectedConversation, Selection,
    };
    use chatvault::store::discover::StoreInfo;
    use chatvault::store::{SelectionCount, Variant};
    // serde_json writes u64 as a JSON number, and the counts and sizes that cross IPC stay far
    // below 2^53: `number` for every u64, not ts-rs's default `bigint`.
    let cfg = ts_rs::Config::default().with_large_int("number");
    let decls = [
        ErrorCode::decl(&cfg),
        WireError::decl(&cfg),
        Language::decl(&cfg),
        Theme::decl(&cfg),
        Settings::decl(&cfg),
        AppInfo::decl(&cfg),
        Variant::decl(&cfg),
        StoreInfo::decl(&cfg),
        ConversationKind::decl(&cfg),
        Conversation::decl(&cfg),
        MessageKind::decl(&cfg),
        AttachmentRole::decl(&cfg),
        AttachmentRef::decl(&cfg),
        Message::decl(&cfg),
        SelectedConversation::decl(&cfg),
        Selection::decl(&cfg),
        OpenedStore::decl(&cfg),
        chatvault::keyfind::process::ProcessInfo::decl(&cfg),
        chatvault::keyfind::KeyKind::decl(&cfg),
        chatvault::keyfind::KeyFound::decl(&cfg),
        chatvault::keyfind::FindProgress::decl(&cfg),
        FoundStoreKey::decl(&cfg),
        crate::commands::pick::PickPurpose::decl(&cfg),
        KeyProgress::decl(&cfg),
        MessageRequest::decl(&cfg),
        DemoStoreInfo::decl(&cfg),
        SelectionCount::decl(&cfg),
        CredentialsInput::decl(&cfg),
        RepoStatus::decl(&cfg),
        CreatedRepo::decl(&cfg),
        RecoveryFileChoice::decl(&cfg),
        ExposedPlace::decl(&cfg),
        BackupProgress::decl(&cfg),
        chatvault::target::ProbeReport::decl(&cfg),
        chatvault::repo::backup::BackupReport::decl(&cfg),
        chatvault::repo::restore::SnapshotInfo::decl(&cfg),
        chatvault::repo::restore::SnapshotConversation::decl(&cfg),
        RestoreResult::decl(&cfg),
        chatvault::run::history::RunRecord::decl(&cfg),
        chatvault::local::profile::Profile::decl(&cfg),
        NamedProfile::decl(&cfg),
        RepoOverview::decl(&cfg),
        ScheduleEntry::decl(&cfg),
        ScheduleRunState::decl(&cfg),
        ScheduleRun::decl(&cfg),
        chatvault::repo::maintenance::VerifyReport::decl(&cfg),
        chatvault::run::status::KeyStatus::decl(&cfg),
        chatvault::run::status::Attention::decl(&cfg),
        chatvault::run::status::ProfileStatus::decl(&cfg),
        chatvault::repo::stats::MonthCount::decl(&cfg),
        chatvault::repo::stats::ConversationShare::decl(&cfg),
        chatvault::repo::stats::BackupContents::decl(&cfg),
        chatvault::local::paths::AppPaths::decl(&cfg),
        ForgetResult::decl(&cfg),
        ForgottenInStore::decl(&cfg),
    ];
    let mut out = String::from(
        "// Generated from the Rust types by src-tauri/src/ipc.rs. Do not edit by hand:\n\
         // run `UPDATE_BINDINGS=1 cargo test -p chatvault-app bindings` after changing them.\n\n",
    );
    for d in decls {
        out.push_str("export ");
        out.push_str(&d);
        out.push_str("\n\n");
    }
    out.truncate(out.trim_end().len());
    out.push('\n');
    out
}

/// Compares a generated file of `ui/src/ipc/` with what the Rust side generates now, or with
/// `UPDATE_BINDINGS` set, rewrites it.
#[cfg(test)]
pub(crate) fn check_generated(file: &str, fresh: &str, from: &str) {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../ui/src/ipc")
        .join(file);
    if std::env::var_os("UPDATE_BINDINGS").is_some() {
        std::fs::write(&path, fresh).unwrap();
        return;
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == fresh,
        "ui/src/ipc/{file} is out of date with {from}; \
         run `UPDATE_BINDINGS=1 cargo test -p chatvault-app bindings` and commit the result"
    );
}

#[cfg(test)]
mod tests {
    #[test]
    fn bindings_file_matches_rust_types() {
        super::check_generated(
            "bindings.ts",
            &super::typescript_bindings(),
            "the Rust types",
        );
    }
}
