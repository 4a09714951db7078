// Generated from the Rust types by src-tauri/src/ipc.rs. Do not edit by hand:
// run `UPDATE_BINDINGS=1 cargo test -p chatvault-app bindings` after changing them.

export type ErrorCode = "internal" | "invalid_input" | "cancelled" | "io" | "config_invalid" | "keychain_unavailable" | "target_url_invalid" | "target_unreachable" | "target_auth" | "target_not_found" | "target_failed" | "store_not_found" | "store_key_required" | "store_wrong_key" | "store_not_chat_store" | "store_corrupt" | "store_unsupported" | "store_unreadable" | "store_contacts_missing";

export type WireError = { code: ErrorCode, message: string, hint?: string | null, };

export type Language = "zh-CN" | "en";

export type Theme = "system" | "light" | "dark";

export type Settings = { 
/**
 * `None` follows the OS language.
 */
language?: Language | null, theme: Theme, };

export type AppInfo = { 
/**
 * The product version (same as `chatvault --version`).
 */
version: string, 
/**
 * The OS locale as reported by the system, e.g. `zh-CN` or `en-US`.
 */
os_locale: string, 
/**
 * The language the UI should use: the saved choice, else the OS locale's.
 */
language: Language, };
