import { useEffect, useState } from "preact/hooks";
import { call } from "../ipc";
import { useAction } from "../action";
import { useI18n } from "../i18n";
import { formatDateTime } from "../format";
import { parseRule, ruleText, toggleDay, WEEKDAYS, weekdayName, withKind, type SchedulePick } from "../schedule-rule";
import { ErrorBanner } from "./error-banner";

/** Chooses a profile's schedule without syntax: every N hours, daily at a time, weekly on
 *  chosen days at a time; shows the next three runs as the user edits (computed by the core,
 *  shown in the user's time zone and language); only on AC power, not on metered networks. */
export function SchedulePicker({ name, rule, skipOnBattery, skipOnMetered, onSaved }: {
  name: string;
  rule: string | null;
  skipOnBattery: boolean;
  skipOnMetered: boolean;
  onSaved: () => void;
}) {
  const { t, lang } = useI18n();
  const [pick, setPick] = useState<SchedulePick>(parseRule(rule));
  const [battery, setBattery] = useState(skipOnBattery);
  const [metered, setMetered] = useState(skipOnMetered);
  const [upcoming, setUpcoming] = useState<string[]>([]);
  const { error, setError, run } = useAction();
  const [saved, setSaved] = useState(false);
  const text = ruleText(pick);

  useEffect(() => {
    setSaved(false);
    if (!text) {
      setUpcoming([]);
      return;
    }
    let live = true;
    call("preview_schedule", { name, rule: text })
      .then((list) => live && setUpcoming(list))
      .catch(() => live && setUpcoming([]));
    return () => {
      live = false;
    };
  }, [text, name]);

  const save = () =>
    run(async () => {
      await call("set_schedule", { name, rule: text, skipOnBattery: battery, skipOnMetered: metered });
      setSaved(true);
      onSaved();
    });

  const kinds = ["off", "hours", "daily", "weekly"] as const;
  return (
    <div class="schedule-picker" data-testid="schedule-picker" data-rule={text ?? ""}>
      {error && <ErrorBanner error={error} onDismiss={() => setError(null)} />}
      <div class="segmented" role="radiogroup" aria-label={t("schedule.rule")}>
        {kinds.map((k) => (
          <button
            key={k}
            type="button"
            role="radio"
            aria-checked={pick.kind === k}
            class={pick.kind === k ? "active" : ""}
            data-testid={`schedule-kind-${k}`}
            onClick={() => setPick(withKind(pick, k))}
          >
            {t(`schedule.kind.${k}`)}
          </button>
        ))}
      </div>
      {pick.kind === "hours" && (
        <label class="form-row">
          {t("schedule.every")}
          <input
            type="number"
            min={1}
            max={168}
            data-testid="schedule-hours"
            value={pick.every}
            onInput={(e) => setPick({ kind: "hours", every: Number(e.currentTarget.value) })}
          />
          {t("schedule.hours")}
        </label>
      )}
      {pick.kind === "weekly" && (
        <div class="weekdays" role="group" aria-label={t("schedule.days")}>
          {WEEKDAYS.map((d) => (
            <label key={d} class="weekday">
              <input
                type="checkbox"
                data-testid={`schedule-day-${d}`}
                checked={pick.days.includes(d)}
                onChange={() => setPick({ ...pick, days: toggleDay(pick.days, d) })}
              />
              {weekdayName(d, lang)}
            </label>
          ))}
        </div>
      )}
      {(pick.kind === "daily" || pick.kind === "weekly") && (
        <label class="form-row">
          {t("schedule.at")}
          <input type="time" data-testid="schedule-time" value={pick.at} onInput={(e) => setPick({ ...pick, at: e.currentTarget.value })} />
        </label>
      )}
      {pick.kind === "custom" && (
        <p class="small">
          {t("schedule.custom")} <span class="mono">{pick.text}</span>
        </p>
      )}
      <label class="check-row">
        <input type="checkbox" data-testid="schedule-ac-only" checked={battery} onChange={(e) => setBattery(e.currentTarget.checked)} />
        {t("schedule.ac_only")}
      </label>
      <label class="check-row">
        <input type="checkbox" data-testid="schedule-not-metered" checked={metered} onChange={(e) => setMetered(e.currentTarget.checked)} />
        {t("schedule.not_metered")}
      </label>
      {text && upcoming.length > 0 && (
        <div class="small" data-testid="schedule-upcoming">
          {t("schedule.upcoming")}:
          <ol class="upcoming">
            {upcoming.map((at) => (
              <li key={at} data-testid="schedule-upcoming-item" data-at={at}>
                {formatDateTime(at, lang)}
              </li>
            ))}
          </ol>
        </div>
      )}
      {pick.kind !== "off" && !text && <p class="field-error small">{t("schedule.incomplete")}</p>}
      <div class="row-actions">
        <button type="button" class="primary" data-testid="schedule-save" disabled={pick.kind !== "off" && !text} onClick={save}>
          {t("schedule.save")}
        </button>
        {saved && <span class="ok small" data-testid="schedule-saved">{t("schedule.saved")}</span>}
      </div>
    </div>
  );
}
