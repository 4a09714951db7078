// The one module through which the UI reaches the host. Nothing else imports @tauri-apps/*
// (a test enforces it). Commands and events are typed by name (their tables are generated
// from the Rust side into ./commands.ts); errors always come out as WireError.
import { convertFileSrc, invoke } from "@tauri-apps/api/core";
import { listen } from "@tauri-apps/api/event";
import type { ErrorCode, WireError } from "./bindings";
import type { Commands, Events } from "./commands";

export type * from "./bindings";
export type { Commands, Events } from "./commands";

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
