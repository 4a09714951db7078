import { useState } from "preact/hooks";
import { call } from "../ipc";
import { useProfileStatus, useRunProfile } from "../profiles";
import { useAction } from "../action";
import { describeError, useI18n } from "../i18n";
import { formatDateTime } from "../format";
import { ErrorBanner } from "../components/error-banner";
import { SchedulePicker } from "../components/schedule-picker";

/** Per profile: the schedule picker, the next run, the last result, "Back up now"; pause all. */
export function SchedulePage() {
  const { t, lang } = useI18n();
  const [paused, setPaused] = useState(false);
  const { error, setError, fail } = useAction();
  const [entries, load] = useProfileStatus(fail);
  const [running, runProfile] = useRunProfile(fail, () => void load());

  const off = (name: string) =>
    call("set_schedule", { name, rule: null })
      .then(load)
      .catch(fail);

  const now = (name: string) => {
    setError(null);
    return runProfile(name);
  };

  const pause = (on: boolean) =>
    call("pause_schedules", { until: on ? new Date(Date.now() + 3600_000).toISOString() : null })
      .then(() => setPaused(on))
      .then(load)
      .catch(fail);

  return (
    <section>
      <h1 data-testid="page-title">{t("schedule.title")}</h1>
      <p class="muted">{t("schedule.intro")}</p>
      {error && <ErrorBanner error={error} onDismiss={() => setError(null)} />}
      <div class="row-actions">
        <button type="button" data-testid="pause-schedules" onClick={() => pause(!paused)}>
          {paused ? t("schedule.resume") : t("schedule.pause_hour")}
        </button>
        {paused && <span class="muted">{t("schedule.paused")}</span>}
      </div>
      {entries !== null && entries.length === 0 && <p class="muted">{t("schedule.none")}</p>}
      <ul class="store-list">
        {entries?.map((e) => {
          const last = e.last;
          const failure = last && !last.ok && last.error ? describeError(t, last.error) : null;
          return (
            <li key={e.name} class="repo-card" data-testid="schedule-row" data-name={e.name} data-rule={e.rule ?? ""}>
              <div>
                <strong>{e.name}</strong> <span class="mono small">{e.target}</span>
              </div>
              <SchedulePicker
                key={`${e.rule ?? ""}|${e.skip_on_battery}|${e.skip_on_metered}`}
                name={e.name}
                rule={e.rule ?? null}
                skipOnBattery={e.skip_on_battery}
                skipOnMetered={e.skip_on_metered}
                onSaved={() => void load()}
              />
              <div class="small">
                {t("schedule.next")}:{" "}
                <span data-testid="schedule-next">
                  {e.paused ? t("home.paused") : e.rule && e.next_run ? `${formatDateTime(e.next_run, lang)} (${e.rule})` : t("schedule.never")}
                </span>
              </div>
              <div class="small" data-testid="schedule-last" data-ok={last ? String(last.ok) : ""}>
                {t("schedule.last")}: {last ? `${formatDateTime(last.started, lang)} · ${last.ok ? t("history.ok") : t("history.failed")}` : t("schedule.last_none")}
                {failure && ` — ${failure.message} ${failure.hint}`}
              </div>
              <div class="row-actions">
                <button type="button" data-testid="backup-now" disabled={running !== null} onClick={() => now(e.name)}>
                  {running === e.name ? t("schedule.running") : t("schedule.now")}
                </button>
                {e.rule && (
                  <button type="button" data-testid="schedule-off" onClick={() => off(e.name)}>
                    {t("schedule.off")}
                  </button>
                )}
              </div>
            </li>
          );
        })}
      </ul>
      <p class="muted small">{t("schedule.app_only")}</p>
    </section>
  );
}
