import { useI18n, type MessageKey } from "../i18n";
import { dayToTimestamp, timestampToDay } from "../format";

export interface Range {
  since: string | null;
  until: string | null;
}

/** A from–to pair of day fields: "from" is the start of its day, "to" the end of its day.
 *  Without `value` the fields keep what the user typed themselves (uncontrolled). */
export function RangeFields(props: {
  legend: MessageKey;
  testIds: readonly [since: string, until: string];
  value?: Range;
  onChange: (field: keyof Range, timestamp: string | null) => void;
}) {
  const { t } = useI18n();
  const { value, onChange } = props;
  return (
    <fieldset class="range">
      <legend>{t(props.legend)}</legend>
      {(["since", "until"] as const).map((field, i) => (
        <label key={field}>
          {t(field === "since" ? "select.from" : "select.to")}
          <input
            type="date"
            data-testid={props.testIds[i]}
            value={value && timestampToDay(value[field])}
            onInput={(e) => onChange(field, dayToTimestamp(e.currentTarget.value, field === "until"))}
          />
        </label>
      ))}
    </fieldset>
  );
}
