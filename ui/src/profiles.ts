// The profiles' status as Home and Schedule show it: reread every 5 s (scheduled runs land
// while a page is open) and at once when the scheduler reports a run.
import { useEffect, useState } from "preact/hooks";
import { call, onEvent, type ProfileStatus } from "./ipc";

/** The status list (null until the first answer) and a function to reread it now. */
export function useProfileStatus(fail: (e: unknown) => void): [ProfileStatus[] | null, () => Promise<void>] {
  const [profiles, setProfiles] = useState<ProfileStatus[] | null>(null);
  const load = () => call("home_status").then(setProfiles).catch(fail);
  useEffect(() => {
    void load();
    const timer = setInterval(load, 5000);
    const stop = onEvent("schedule-run", () => void load());
    return () => {
      clearInterval(timer);
      void stop.then((f) => f());
    };
  }, []);
  return [profiles, load];
}

/** "Back up now" for a saved profile by name: which one is running (null when none), and the
 *  action, which reports a failure to `fail` and calls `after` (a reload) either way. */
export function useRunProfile(fail: (e: unknown) => void, after: () => void): [string | null, (name: string) => Promise<void>] {
  const [running, setRunning] = useState<string | null>(null);
  const run = async (name: string) => {
    setRunning(name);
    try {
      await call("run_profile", { name });
    } catch (e) {
      fail(e);
    } finally {
      setRunning(null);
      after();
    }
  };
  return [running, run];
}
