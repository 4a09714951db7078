// The busy flag and error every control that calls the host needs, written once. A HostError
// becomes the WireError the banner shows; anything else (a bug in the UI) is left to the console.
import { useState } from "preact/hooks";
import { HostError, type WireError } from "./ipc";

export interface Action {
  /** True while a call started by `run` is under way. */
  busy: boolean;
  /** The last host error, for an ErrorBanner; null once dismissed or when a new run starts. */
  error: WireError | null;
  setError: (e: WireError | null) => void;
  /** Hands a rejected call's error to the banner (or to `report`): for `.catch(fail)`. */
  fail: (e: unknown) => void;
  /** Clears the error, marks busy, awaits `f`, reports its error, and clears busy. */
  run: (f: () => Promise<void>) => Promise<void>;
}

/** `report` sends errors to a parent's banner instead of this component's own. */
export function useAction(report?: (e: WireError) => void): Action {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<WireError | null>(null);
  const fail = (e: unknown) => {
    if (e instanceof HostError) (report ?? setError)(e.wire);
  };
  const run = async (f: () => Promise<void>) => {
    setBusy(true);
    setError(null);
    try {
      await f();
    } catch (e) {
      fail(e);
    } finally {
      setBusy(false);
    }
  };
  return { busy, error, setError, fail, run };
}
