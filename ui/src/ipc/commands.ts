// Generated from the #[tauri::command] signatures and the `emit` calls by
// src-tauri/src/command_table.rs. Do not edit by hand: run
// `UPDATE_BINDINGS=1 cargo test -p chatvault-app bindings` after changing them.

import type { AppInfo, AppPaths, BackupContents, BackupProgress, BackupReport, Conversation, CreatedRepo, CredentialsInput, DemoStoreInfo, ForgetResult, ForgottenInStore, FoundStoreKey, KeyProgress, Message, MessageRequest, NamedProfile, OpenedStore, PickPurpose, ProbeReport, ProfileStatus, RecoveryFileChoice, RepoOverview, RepoStatus, RestoreResult, RunRecord, ScheduleEntry, ScheduleRun, Selection, SelectionCount, Settings, SnapshotConversation, SnapshotInfo, StoreInfo, VerifyReport } from "./bindings";

/** Every host command: its arguments (named as the UI sends them) and its result. */
export interface Commands {
  app_info: { args: Record<string, never>; result: AppInfo };
  get_settings: { args: Record<string, never>; result: Settings };
  set_settings: { args: { settings: Settings }; result: Settings };
  list_stores: { args: { extra: string[] }; result: StoreInfo[] };
  open_store: { args: { path: string; key?: string | null; remember: boolean }; result: OpenedStore };
  find_store_key: { args: { jobId: string; path: string; remember: boolean }; result: FoundStoreKey };
  pick_path: { args: { purpose: PickPurpose }; result: string | null };
  load_messages: { args: { request: MessageRequest }; result: Message[] };
  create_demo_store: { args: Record<string, never>; result: DemoStoreInfo };
  count_selection: { args: { selection: Selection }; result: SelectionCount };
  test_target: { args: { url: string; credentials?: CredentialsInput | null; remember: boolean }; result: ProbeReport };
  repo_status: { args: { url: string }; result: RepoStatus };
  create_repo: { args: { url: string }; result: CreatedRepo };
  unlock_repo: { args: { url: string; code: string }; result: null };
  start_backup: { args: { jobId: string; url: string; selection: Selection }; result: BackupReport };
  cancel_job: { args: { jobId: string }; result: boolean };
  save_profile: { args: { name: string; url: string; selection: Selection }; result: null };
  choose_recovery_code_file: { args: { url: string }; result: RecoveryFileChoice };
  save_recovery_code: { args: { code: string; path: string }; result: string };
  default_backup_folder: { args: Record<string, never>; result: string };
  schedule_overview: { args: Record<string, never>; result: ScheduleEntry[] };
  set_schedule: { args: { name: string; rule?: string | null; skipOnBattery?: boolean | null; skipOnMetered?: boolean | null }; result: null };
  pause_schedules: { args: { until?: string | null }; result: null };
  home_status: { args: Record<string, never>; result: ProfileStatus[] };
  backup_contents: { args: { url: string }; result: BackupContents };
  pause_profile: { args: { name: string; paused: boolean }; result: null };
  preview_schedule: { args: { name?: string | null; rule: string }; result: string[] };
  app_paths: { args: Record<string, never>; result: AppPaths };
  repositories_overview: { args: Record<string, never>; result: RepoOverview[] };
  show_recovery_code: { args: { url: string }; result: string };
  rotate_recovery_code: { args: { url: string }; result: string };
  finish_recovery_code_rotation: { args: { url: string }; result: null };
  cancel_recovery_code_rotation: { args: { url: string }; result: null };
  verify_repository: { args: { url: string; readData: boolean }; result: VerifyReport };
  forget_credentials: { args: { url: string }; result: boolean };
  run_history: { args: Record<string, never>; result: RunRecord[] };
  list_profiles: { args: Record<string, never>; result: NamedProfile[] };
  run_profile: { args: { name: string }; result: BackupReport };
  known_targets: { args: Record<string, never>; result: string[] };
  list_snapshots: { args: { url: string }; result: SnapshotInfo[] };
  snapshot_conversations: { args: { url: string; snapshot: string }; result: SnapshotConversation[] };
  preview_backup: { args: { url: string; snapshot: string; conversation: string; since?: string | null; until?: string | null }; result: Message[] };
  restore_selection: { args: { url: string; snapshot: string; conversations: string[]; since?: string | null; until?: string | null; toLibrary: boolean; exportDir?: string | null; formats: string[] }; result: RestoreResult };
  open_path: { args: { path: string }; result: null };
  library_conversations: { args: Record<string, never>; result: Conversation[] };
  library_messages: { args: { conversation: string; search?: string | null }; result: Message[] };
  forget_conversation: { args: { url: string; conversation: string; purgeLibrary: boolean; purgeExports: boolean }; result: ForgetResult };
  forgotten_conversations: { args: Record<string, never>; result: ForgottenInStore[] };
  include_again: { args: { conversation: string; targets: string[] }; result: number };
}

/** Events the host sends, by name, with their payload. */
export interface Events {
  "backup-progress": BackupProgress;
  "key-progress": KeyProgress;
  "schedule-run": ScheduleRun;
}
