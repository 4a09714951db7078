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
      <label>
        {t("select.from")}
        <input
          type="date"
          data-testid={props.testIds[0]}
          value={value && timestampToDay(value.since)}
          onInput={(e) => onChange("since", dayToTimestamp(e.currentTarget.value, false))}
        />
      </label>
      <label>
        {t("select.to")}
        <input
          type="date"
          data-testid={props.testIds[1]}
          value={value && timestampToDay(value.until)}
          onInput={(e) => onChange("until", dayToTimestamp(e.currentTarget.value, true))}
        />
      </label>
    </fieldset>
  );
}
