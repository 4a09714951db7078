// The one module through which the UI reaches the host. Nothing else imports @tauri-apps/*
// (a test enforces it). Commands are typed by name; errors always come out as WireError.
import { convertFileSrc, invoke } from "@tauri-apps/api/core";
import { listen } from "@tauri-apps/api/event";
import type {
  AppInfo,
  BackupProgress,
  BackupReport,
  ForgetResult,
  ForgottenInStore,
  CreatedRepo,
  CredentialsInput,
  ProbeReport,
  RecoveryFileChoice,
  RepoStatus,
  RestoreResult,
  ScheduleEntry,
  ProfileStatus,
  BackupContents,
  AppPaths,
  RepoOverview,
  VerifyReport,
  RunRecord,
  NamedProfile,
  SnapshotConversation,
  SnapshotInfo,
  Conversation,
  DemoStoreInfo,
  ErrorCode,
  FoundStoreKey,
  KeyProgress,
  PickPurpose,
  Message,
  MessageRequest,
  OpenedStore,
  Selection,
  SelectionCount,
  Settings,
  StoreInfo,
  WireError,
} from "./bindings";

export type * from "./bindings";

/** Every host command: its arguments and its result. */
export interface Commands {
  app_info: { args: Record<string, never>; result: AppInfo };
  get_settings: { args: Record<string, never>; result: Settings };
  set_settings: { args: { settings: Settings }; result: Settings };
  list_stores: { args: { extra: string[] }; result: StoreInfo[] };
  open_store: { args: { path: string; key: string | null; remember: boolean }; result: OpenedStore };
  pick_path: { args: { purpose: PickPurpose }; result: string | null };
  find_store_key: { args: { jobId: string; path: string; remember: boolean }; result: FoundStoreKey };
  load_messages: { args: { request: MessageRequest }; result: Message[] };
  count_selection: { args: { selection: Selection }; result: SelectionCount };
  create_demo_store: { args: Record<string, never>; result: DemoStoreInfo };
  test_target: { args: { url: string; credentials: CredentialsInput | null; remember: boolean }; result: ProbeReport };
  repo_status: { args: { url: string }; result: RepoStatus };
  create_repo: { args: { url: string }; result: CreatedRepo };
  unlock_repo: { args: { url: string; code: string }; result: null };
  start_backup: { args: { jobId: string; url: string; selection: Selection }; result: BackupReport };
  cancel_job: { args: { jobId: string }; result: boolean };
  save_profile: { args: { name: string; url: string; selection: Selection }; result: null };
  choose_recovery_code_file: { args: { url: string }; result: RecoveryFileChoice };
  save_recovery_code: { args: { code: string; path: string }; result: string };
  known_targets: { args: Record<string, never>; result: string[] };
  list_snapshots: { args: { url: string }; result: SnapshotInfo[] };
  snapshot_conversations: { args: { url: string; snapshot: string }; result: SnapshotConversation[] };
  preview_backup: {
    args: { url: string; snapshot: string; conversation: string; since: string | null; until: string | null };
    result: Message[];
  };
  restore_selection: {
    args: {
      url: string;
      snapshot: string;
      conversations: string[];
      since: string | null;
      until: string | null;
      toLibrary: boolean;
      exportDir: string | null;
      formats: string[];
    };
    result: RestoreResult;
  };
  open_path: { args: { path: string }; result: null };
  library_conversations: { args: Record<string, never>; result: Conversation[] };
  library_messages: { args: { conversation: string; search: string | null }; result: Message[] };
  forget_conversation: {
    args: { url: string; conversation: string; purgeLibrary: boolean; purgeExports: boolean };
    result: ForgetResult;
  };
  forgotten_conversations: { args: Record<string, never>; result: ForgottenInStore[] };
  include_again: { args: { conversation: string; targets: string[] }; result: number };
  run_history: { args: Record<string, never>; result: RunRecord[] };
  list_profiles: { args: Record<string, never>; result: NamedProfile[] };
  run_profile: { args: { name: string }; result: BackupReport };
  app_paths: { args: Record<string, never>; result: AppPaths };
  default_backup_folder: { args: Record<string, never>; result: string };
  repositories_overview: { args: Record<string, never>; result: RepoOverview[] };
  show_recovery_code: { args: { url: string }; result: string };
  rotate_recovery_code: { args: { url: string }; result: string };
  finish_recovery_code_rotation: { args: { url: string }; result: null };
  cancel_recovery_code_rotation: { args: { url: string }; result: null };
  verify_repository: { args: { url: string; readData: boolean }; result: VerifyReport };
  forget_credentials: { args: { url: string }; result: boolean };
  schedule_overview: { args: Record<string, never>; result: ScheduleEntry[] };
  set_schedule: {
    args: { name: string; rule: string | null; skipOnBattery?: boolean; skipOnMetered?: boolean };
    result: null;
  };
  home_status: { args: Record<string, never>; result: ProfileStatus[] };
  backup_contents: { args: { url: string }; result: BackupContents };
  pause_profile: { args: { name: string; paused: boolean }; result: null };
  preview_schedule: { args: { name: string | null; rule: string }; result: string[] };
  pause_schedules: { args: { until: string | null }; result: null };
}

/** Events the host sends, by name. */
export interface Events {
  "backup-progress": BackupProgress;
  "key-progress": KeyProgress;
  "schedule-run": { profile: string; state: "started" | "ok" | "failed" | "postponed" };
}

/** Subscribes to a host event; returns the unsubscribe function. */
export function onEvent<E extends keyof Events>(name: E, handler: (payload: Events[E]) => void): Promise<() => void> {
  return listen<Events[E]>(name, (e) => handler(e.payload));
}

export type CommandName = keyof Commands;

// A Record keyed by the generated union: adding a code in Rust fails the type check here.
const ERROR_CODES: Record<ErrorCode, true> = {
  internal: true,
  invalid_input: true,
  cancelled: true,
  io: true,
  config_invalid: true,
  keychain_unavailable: true,
  target_url_invalid: true,
  target_unreachable: true,
  target_auth: true,
  target_not_found: true,
  target_failed: true,
  target_tls: true,
  target_clock_skew: true,
  target_quota: true,
  store_not_found: true,
  store_key_required: true,
  store_wrong_key: true,
  store_not_chat_store: true,
  store_corrupt: true,
  store_unsupported: true,
  store_unreadable: true,
  store_contacts_missing: true,
  repo_exists: true,
  repo_not_found: true,
  repo_truncated: true,
  repo_corrupt: true,
  repo_tampered: true,
  repo_version_unsupported: true,
  repo_wrong_key: true,
  repo_object_missing: true,
  repo_locked: true,
  repo_lock_lost: true,
  repo_rolled_back: true,
  key_missing: true,
  recovery_code_invalid: true,
  recovery_code_wrong: true,
  wechat_not_running: true,
  wechat_not_logged_in: true,
  key_not_found: true,
  key_access_denied: true,
};

export const errorCodes = Object.keys(ERROR_CODES) as ErrorCode[];

export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === "string" && Object.hasOwn(ERROR_CODES, value);
}

/** Turns anything a call may throw into the wire error shape. */
export function toWireError(thrown: unknown): WireError {
  if (typeof thrown === "object" && thrown !== null) {
    const o = thrown as Record<string, unknown>;
    if (isErrorCode(o.code) && typeof o.message === "string") {
      return { code: o.code, message: o.message, hint: typeof o.hint === "string" ? o.hint : null };
    }
  }
  const message = thrown instanceof Error ? thrown.message : String(thrown);
  return { code: "internal", message, hint: null };
}

/** Thrown by [`call`]: carries the host's `{code, message, hint}`. */
export class HostError extends Error {
  readonly wire: WireError;
  constructor(wire: WireError) {
    super(wire.message);
    this.name = "HostError";
    this.wire = wire;
  }
}

type Invoke = (cmd: string, args?: Record<string, unknown>) => Promise<unknown>;
let invokeImpl: Invoke = (cmd, args) => invoke(cmd, args);

/** For tests: replace the transport. */
export function setTransport(fn: Invoke): void {
  invokeImpl = fn;
}

export async function call<C extends CommandName>(
  cmd: C,
  ...args: Commands[C]["args"] extends Record<string, never> ? [] : [Commands[C]["args"]]
): Promise<Commands[C]["result"]> {
  try {
    return (await invokeImpl(cmd, args[0])) as Commands[C]["result"];
  } catch (thrown) {
    throw new HostError(toWireError(thrown));
  }
}

/**
 * The base URL of the app's media protocol, ending in `/`: `chatvault-media://localhost/` on
 * Linux and macOS, `http://chatvault-media.localhost/` on Windows. Outside the app (tests) the
 * Linux form.
 */
export function mediaBase(): string {
  try {
    return convertFileSrc("", "chatvault-media");
  } catch {
    return "chatvault-media://localhost/";
  }
}
