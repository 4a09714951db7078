import { useEffect, useState } from "preact/hooks";
import { call, type SnapshotInfo } from "../ipc";
import { useI18n } from "../i18n";
import { fill, formatDateTime } from "../format";

/** Where to restore from: a known target or a typed URL, and "Load" to list its snapshots. */
export function TargetRow({ url, onUrl, onLoad, onError }: { url: string; onUrl: (next: string | ((typed: string) => string)) => void; onLoad: () => void; onError: (e: unknown) => void }) {
  const { t } = useI18n();
  const [known, setKnown] = useState<string[]>([]);

  useEffect(() => {
    call("known_targets")
      .then((k) => {
        setKnown(k);
        // Suggest a known target, never over what the user has typed meanwhile.
        const first = k[0];
        if (first) onUrl((typed) => (typed.trim() ? typed : first));
      })
      .catch(onError);
  }, []);

  return (
    <div class="form-row">
      <label for="restore-target">{t("restore.target")}</label>
      {known.length > 0 && (
        <select data-testid="restore-known" value={url} onChange={(e) => onUrl(e.currentTarget.value)}>
          {known.map((k) => (
            <option key={k} value={k}>
              {k}
            </option>
          ))}
        </select>
      )}
      <input id="restore-target" data-testid="restore-target" class="grow" placeholder={t("restore.other")} value={url} onInput={(e) => onUrl(e.currentTarget.value)} />
      <button type="button" data-testid="load-snapshots" disabled={!url.trim()} onClick={onLoad}>
        {t("restore.load")}
      </button>
    </div>
  );
}

/** The target's snapshots, newest first as the host lists them; one is chosen at a time. */
export function SnapshotPicker({ snapshots, chosen, onChoose }: { snapshots: SnapshotInfo[]; chosen: SnapshotInfo | null; onChoose: (s: SnapshotInfo) => void }) {
  const { t, lang } = useI18n();
  return (
    <>
      <h2>{t("restore.snapshots")}</h2>
      <ul class="timeline">
        {snapshots.map((s) => (
          <li key={s.id}>
            <button type="button" data-testid="snapshot-row" class={chosen?.id === s.id ? "store-row active" : "store-row"} onClick={() => onChoose(s)}>
              <strong>{formatDateTime(s.time, lang)}</strong> <span class="mono small">{s.short_id}</span>
              <div class="muted small">{fill(t("restore.snapshot_line"), { conversations: s.conversations, messages: s.messages })}</div>
            </button>
          </li>
        ))}
      </ul>
    </>
  );
}
