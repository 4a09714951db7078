// Generated from the Rust types by src-tauri/src/ipc.rs. Do not edit by hand:
// run `UPDATE_BINDINGS=1 cargo test -p chatvault-app bindings` after changing them.

export type ErrorCode = "internal" | "invalid_input" | "cancelled" | "io" | "config_invalid" | "keychain_unavailable" | "target_url_invalid" | "target_unreachable" | "target_auth" | "target_not_found" | "target_failed" | "target_tls" | "target_clock_skew" | "target_quota" | "store_not_found" | "store_key_required" | "store_wrong_key" | "store_not_chat_store" | "store_corrupt" | "store_unsupported" | "store_unreadable" | "store_contacts_missing" | "repo_exists" | "repo_not_found" | "repo_truncated" | "repo_corrupt" | "repo_tampered" | "repo_version_unsupported" | "repo_wrong_key" | "repo_object_missing" | "repo_locked" | "repo_lock_lost" | "repo_rolled_back" | "key_missing" | "recovery_code_invalid" | "recovery_code_wrong" | "wechat_not_running" | "wechat_not_logged_in" | "key_not_found" | "key_access_denied";

export type WireError = { code: ErrorCode, message: string, hint?: string | null, };

export type Language = "zh-CN" | "en";

export type Theme = "system" | "light" | "dark";

export type Settings = { 
/**
 * `None` follows the OS language.
 */
language?: Language | null, theme: Theme, 
/**
 * Show a desktop notification when a scheduled backup succeeds (failures always notify).
 */
notify_on_success: boolean, 
/**
 * Start ChatVault (in the tray) when the user logs in.
 */
autostart: boolean, };

export type AppInfo = { 
/**
 * The product version (same as `chatvault --version`).
 */
version: string, 
/**
 * The git commit the app was built from (first 12 hex digits), or `unknown`.
 */
commit: string, 
/**
 * The repository format this build writes and reads (docs/FORMAT.md).
 */
format_version: number, 
/**
 * The OS locale as reported by the system, e.g. `zh-CN` or `en-US`.
 */
os_locale: string, 
/**
 * The language the UI should use: the saved choice, else the OS locale's.
 */
language: Language, };

export type Variant = "wechat-win3" | "wechat4" | "wechat-mac3" | "android" | "imessage";

export type StoreInfo = { variant: Variant, 
/**
 * wxid (Windows 3.x, 4.x), the account hash folder (macOS 3.x), or the file name.
 */
account_id: string, 
/**
 * What to pass to `--store`: the account folder, or the database file.
 */
path: string, 
/**
 * Bytes of the store's database files.
 */
size: number, needs_key: boolean, };

export type ConversationKind = "direct" | "group";

export type Conversation = { 
/**
 * The store's own id: a wxid, `…@chatroom`, an iMessage chat identifier.
 */
id: string, 
/**
 * Remark, else nickname, else the id.
 */
title: string, kind: ConversationKind, 
/**
 * Members of a group (including me) where the store records them.
 */
member_count?: number | null, message_count: number, first_at: string | null, last_at: string | null, };

export type MessageKind = "text" | "image" | "voice" | "video" | "file" | "link" | "quote" | "sticker" | "location" | "call" | "transfer" | "red_packet" | "contact_card" | "system" | "recalled" | "unknown";

export type AttachmentRole = "original" | "thumbnail";

export type AttachmentRef = { 
/**
 * Path relative to the store's root, as the store records it (for media kept inside a
 * database, a path naming the database and the row: see the reader). After a restore:
 * the written file, relative to the restore folder.
 */
path: string, name?: string | null, mime?: string | null, size?: number, role: AttachmentRole, 
/**
 * The store does not have the bytes (never downloaded, cleaned up, or moved).
 */
missing: boolean, 
/**
 * After a restore: a form browsers show or play (a decoded `.dat` image, voice as WAV),
 * relative to the restore folder, when the original is not one already.
 */
viewable?: string | null, };

export type Message = { 
/**
 * Stable across reads of the same store: the server id where there is one, else a
 * store-local id prefixed so the two cannot collide.
 */
id: string, conversation_id: string, at: string, 
/**
 * Sender's id (for messages I sent: my own id where known, else "me"); none for system
 * lines, which no person sent.
 */
sender?: string | null, 
/**
 * Remark, else nickname, else the sender's id.
 */
sender_name?: string | null, from_me: boolean, kind: MessageKind, 
/**
 * What to show: the text, a link's or file's title, a quote's reply, a system line.
 */
text: string, 
/**
 * For quotes: the id of the message replied to.
 */
reply_to?: string | null, 
/**
 * The quoted text, for quotes.
 */
quoted_text?: string | null, 
/**
 * Link target for links.
 */
url?: string | null, attachments: Array<AttachmentRef>, 
/**
 * The store's type code, kept so unknown kinds can be read later.
 */
raw_type: number, };

export type SelectedConversation = { id: string, 
/**
 * Narrows the overall range for this conversation.
 */
since: string | null, until: string | null, };

export type Selection = { 
/**
 * Every conversation of the store, also those that appear later (less the forgotten
 * ones); `conversations` then only narrows ranges. Runs of such a selection chain up as one
 * lineage whatever conversations come and go.
 */
all: boolean, conversations: Array<SelectedConversation>, since: string | null, until: string | null, };

export type OpenedStore = { variant: Variant, account_id?: string | null, path: string, conversations: Array<Conversation>, };

export type ProcessInfo = { pid: number, name: string, };

export type KeyKind = "key" | "raw_keys" | "android_password";

export type KeyFound = { store: string, variant: Variant, 
/**
 * `key` (the account's 32-byte key), `raw_keys` (one derived key per database file, as
 * WeChat 4.x caches them) or `android_password`.
 */
kind: KeyKind, 
/**
 * The process it was read from; `None` for Android (from the backup's files).
 */
process?: ProcessInfo | null, 
/**
 * For Android: the preferences file the uin came from.
 */
uin_file?: string | null, 
/**
 * Encrypted database files of the store that the key opens, and how many there are.
 */
databases_opened: number, databases_total: number, };

export type FindProgress = { bytes_scanned: number, bytes_total: number, 
/**
 * 32-byte candidates checked with the full key derivation so far.
 */
candidates_checked: number, candidates_total: number, };

export type FoundStoreKey = { found: KeyFound, store: OpenedStore, };

export type PickPurpose = "store_folder" | "store_file" | "target_folder" | "export_folder";

export type KeyProgress = { job_id: string, progress: FindProgress, };

export type MessageRequest = { conversation_id: string, since?: string, until?: string, search?: string | null, limit?: number | null, };

export type DemoStoreInfo = { path: string, 
/**
 * The demo store's key; not a secret (it is printed by `chatvault demo` too).
 */
key: string, };

export type SelectionCount = { conversations: number, messages: number, };

export type CredentialsInput = { access_key_id?: string | null, secret_access_key?: string | null, password?: string | null, };

export type RepoStatus = { 
/**
 * A ChatVault repository is at the target.
 */
exists: boolean, 
/**
 * This computer holds its key.
 */
unlocked: boolean, };

export type CreatedRepo = { repo_id: string, 
/**
 * Shown once to the user; also kept in the keychain.
 */
recovery_code: string, };

export type RecoveryFileChoice = { 
/**
 * Null when the user closed the dialog.
 */
path?: string | null, 
/**
 * Set when the place is inside the backup target or a synced folder: the UI asks the user
 * to confirm before saving there.
 */
exposed?: ExposedPlace | null, };

export type ExposedPlace = { "kind": "backup_target", folder: string, } | { "kind": "sync_folder", client: string, };

export type BackupProgress = { job_id: string, 
/**
 * Conversations done and in all.
 */
done: number, total: number, 
/**
 * Messages read (or found unchanged) so far.
 */
messages: number, 
/**
 * The messages the backup will handle, 0 when not known: then the bar and the time left
 * go by messages (a one-pass read finishes its conversations together at the end).
 */
messages_total: number, 
/**
 * Bytes uploaded so far.
 */
bytes: number, elapsed_ms: number, };

export type ProbeReport = { wrote: boolean, read_back: boolean, listed: boolean, deleted: boolean, };

export type BackupReport = { snapshot: string, conversations: number, messages: number, new_segments: number, reused_segments: number, bytes_uploaded: number, objects_uploaded: number, 
/**
 * The store had not changed: nothing was read.
 */
unchanged: boolean, 
/**
 * Conversations whose messages were read (the others had not changed).
 */
conversations_read: number, 
/**
 * Only what was new since the parent was read: the rows after each shard's mark and the
 * months they landed in (FORMAT.md §11.2).
 */
incremental: boolean, 
/**
 * Rows found after the parent's marks (an incremental run).
 */
new_rows: number, 
/**
 * Messages read and decoded from the store in this run.
 */
messages_read: number, 
/**
 * Attachment files found in the store and stored (new or deduplicated).
 */
attachments: number, attachment_bytes: number, 
/**
 * Selected conversations left out because the user forgot them (FORMAT.md §8.1).
 */
skipped_forgotten: number, 
/**
 * Snapshots the profile's retention policy removed after the run.
 */
snapshots_removed: number, 
/**
 * Packs deleted or rewritten by the prune after retention.
 */
packs_pruned: number, 
/**
 * Problems that did not fail the run (a retention or prune step that could not finish,
 * damaged objects that were skipped).
 */
warnings: Array<string>, };

export type SnapshotInfo = { id: string, short_id: string, time: string, account: string, conversations: number, messages: number, };

export type SnapshotConversation = { id: string, title: string, kind: ConversationKind, message_count: number, first_at: string | null, last_at: string | null, };

export type RestoreResult = { conversations: number, messages: number, 
/**
 * Files written by an export.
 */
files: Array<string>, 
/**
 * The export's index.html, when HTML was exported.
 */
index_html?: string | null, };

export type RunRecord = { started: string, finished: string, 
/**
 * The profile that ran, if any.
 */
profile?: string | null, target: string, 
/**
 * "app", "cli" or "schedule".
 */
origin: string, ok: boolean, error?: WireError | null, conversations: number, messages: number, bytes_uploaded: number, unchanged: boolean, 
/**
 * Old snapshots the retention policy removed after the run.
 */
snapshots_removed: number, 
/**
 * Selected conversations left out because the user forgot them.
 */
skipped_forgotten: number, 
/**
 * What did not fail the run but deserves a look.
 */
warnings: Array<string>, };

export type Profile = { 
/**
 * The store: account folder, EnMicroMsg.db or chat.db.
 */
store: string, 
/**
 * The target URL (no credentials in it).
 */
target: string, 
/**
 * Conversation ids to keep; empty means every conversation.
 */
conversations: Array<string>, since: string | null, until: string | null, 
/**
 * When to run, e.g. "every 6h" or "daily 02:30" (used by the scheduler).
 */
schedule?: string | null, 
/**
 * How many snapshots of this profile to keep (none: all).
 */
keep_last?: number | null, 
/**
 * Upload bandwidth limit in KiB/s (none: as fast as the target takes it).
 */
upload_limit_kib?: number | null, 
/**
 * Scheduled runs wait while the computer runs on battery.
 */
skip_on_battery: boolean, 
/**
 * Scheduled runs wait while the network connection is metered (where the OS tells).
 */
skip_on_metered: boolean, 
/**
 * Also keep the newest snapshot of each of the last N days / weeks / months.
 */
keep_daily?: number | null, keep_weekly?: number | null, keep_monthly?: number | null, 
/**
 * Scheduled runs of this profile wait until it is resumed (Back up now still runs it).
 */
paused: boolean, };

export type NamedProfile = { name: string, profile: Profile, };

export type RepoOverview = { url: string, repo_id: string, key_in_keychain: boolean, credentials_saved: boolean, };

export type ScheduleEntry = { name: string, target: string, 
/**
 * `every 6h`, `daily 02:30`, `weekly mon,thu 20:00`; none when off.
 */
rule?: string | null, next_run?: string, last?: RunRecord | null, };

export type ScheduleRunState = "started" | "ok" | "failed" | "postponed";

export type ScheduleRun = { profile: string, state: ScheduleRunState, 
/**
 * Why a postponed run waits (on battery, on a metered network); only with `postponed`.
 */
reason?: string | null, };

export type VerifyReport = { snapshots: number, conversations: number, packs: number, blobs_read: number, 
/**
 * Each problem names the object: `data/ab/ab12…: repo_tampered: …`.
 */
errors: Array<string>, };

export type KeyStatus = "in_keychain" | "needs_recovery_code" | "unknown";

export type Attention = { "kind": "overdue", 
/**
 * The last success (none: never).
 */
since: string | null, } | { "kind": "store_key", error: WireError, } | { "kind": "repo_key" } | { "kind": "target", error: WireError, } | { "kind": "damaged", problems: number, error?: WireError | null, };

export type ProfileStatus = { name: string, store: string, target: string, 
/**
 * `every 6h`, `daily 02:30`, `weekly mon,thu 20:00`; none when off.
 */
rule?: string | null, 
/**
 * Scheduled runs of this profile are paused.
 */
paused: boolean, skip_on_battery: boolean, skip_on_metered: boolean, 
/**
 * The last run, successful or not.
 */
last?: RunRecord | null, last_success: string | null, 
/**
 * Failed runs since the last success.
 */
failures: number, 
/**
 * When the scheduler will run it next (none: no schedule, or paused).
 */
next_run: string | null, key: KeyStatus, attention: Array<Attention>, };

export type MonthCount = { 
/**
 * `YYYY-MM`.
 */
month: string, messages: number, };

export type ConversationShare = { id: string, title: string, messages: number, 
/**
 * Its stored (compressed, encrypted) message segments and tree, plus its attachments.
 */
bytes: number, };

export type BackupContents = { snapshots: number, 
/**
 * The data packs on the target, as the index lists them.
 */
size_bytes: number, conversations: number, messages: number, 
/**
 * The newest snapshot's time.
 */
latest: string | null, 
/**
 * Oldest month first, months without messages included (0), so a chart has no gaps.
 */
months: Array<MonthCount>, 
/**
 * Largest first.
 */
shares: Array<ConversationShare>, };

export type AppPaths = { 
/**
 * Settings and profiles (no secrets).
 */
config_dir: string, 
/**
 * The restored library, run history, logs.
 */
data_dir: string, 
/**
 * Caches that can be deleted at any time.
 */
cache_dir: string, };

export type ForgetResult = { snapshots_rewritten: number, 
/**
 * Snapshots that held only this conversation, deleted.
 */
snapshots_deleted: number, keys_destroyed: number, 
/**
 * Packs deleted from the storage by the prune.
 */
packs_deleted: number, 
/**
 * Messages deleted from the library on this computer.
 */
library_messages_deleted: number, 
/**
 * Export files ChatVault wrote of it, deleted.
 */
export_files_deleted: number, };

export type ForgottenInStore = { id: string, 
/**
 * The whole conversation (else some ranges of it).
 */
whole: boolean, 
/**
 * The repositories (URLs) whose forgotten list holds it.
 */
targets: Array<string>, };
