import { useEffect, useMemo, useState } from "preact/hooks";
import { call, type RestoreResult, type SnapshotConversation, type SnapshotInfo } from "../ipc";
import { useI18n } from "../i18n";
import { fill } from "../format";
import type { Action } from "../action";
import { BrowseButton } from "../components/browse-button";
import { RangeFields, type Range } from "../components/range-fields";

export const FORMATS = ["html", "json", "txt"] as const;

/** Where restored messages go; kept by the page so a new "Load" does not forget them. */
export interface Destination {
  toLibrary: boolean;
  exportDir: string;
  formats: string[];
}

export const DEFAULT_DESTINATION: Destination = { toLibrary: true, exportDir: "", formats: [...FORMATS] };


/** The range, the destination (library and/or an export folder in chosen formats), the
 *  summary of what is picked, and "Restore" with its result. */
export function RestoreOptions(props: {
  url: string;
  snapshot: SnapshotInfo;
  convs: SnapshotConversation[];
  picked: string[];
  range: Range;
  onRange: (r: Range) => void;
  destination: Destination;
  onDestination: (d: Destination) => void;
  action: Action;
}) {
  const { t } = useI18n();
  const { url, snapshot, convs, picked, range, destination: d, action } = props;
  const [result, setResult] = useState<RestoreResult | null>(null);
  const set = (change: Partial<Destination>) => props.onDestination({ ...d, ...change });

  // A result belongs to one choice of snapshot: the page hands a new object on every choice.
  useEffect(() => setResult(null), [snapshot]);

  const total = useMemo(() => convs.filter((c) => picked.includes(c.id)).reduce((n, c) => n + c.message_count, 0), [convs, picked]);

  const run = () =>
    action.run(async () =>
      setResult(
        await call("restore_selection", {
          url,
          snapshot: snapshot.id,
          conversations: picked,
          since: range.since,
          until: range.until,
          toLibrary: d.toLibrary,
          exportDir: d.exportDir.trim() || null,
          formats: d.formats,
        }),
      ),
    );

  return (
    <>
      <RangeFields legend="select.range" testIds={["restore-since", "restore-until"]} onChange={(field, value) => props.onRange({ ...range, [field]: value })} />
      <div class="store-form">
        <label class="inline">
          <input type="checkbox" data-testid="restore-to-library" checked={d.toLibrary} onChange={(e) => set({ toLibrary: e.currentTarget.checked })} />
          {t("restore.to_library")}
        </label>
        <label>
          {t("restore.export_dir")}
          <input data-testid="restore-export-dir" value={d.exportDir} placeholder={t("restore.export_placeholder")} onInput={(e) => set({ exportDir: e.currentTarget.value })} />
        </label>
        <div class="row-actions">
          <BrowseButton purpose="export_folder" testId="restore-pick-folder" onPicked={(exportDir) => set({ exportDir })} />
        </div>
        <div class="row-actions">
          {t("restore.formats")}:
          {FORMATS.map((f) => (
            <label key={f} class="inline">
              <input
                type="checkbox"
                data-testid={`fmt-${f}`}
                checked={d.formats.includes(f)}
                onChange={() => set({ formats: d.formats.includes(f) ? d.formats.filter((x) => x !== f) : [...d.formats, f] })}
              />
              {f.toUpperCase()}
            </label>
          ))}
        </div>
        <div class="summary" data-testid="restore-summary">
          {fill(t("select.summary"), { conversations: picked.length, messages: total })}
        </div>
        <button type="button" class="primary" data-testid="restore-run" disabled={action.busy || picked.length === 0 || (!d.toLibrary && !d.exportDir.trim())} onClick={run}>
          {action.busy ? t("restore.running") : t("restore.run")}
        </button>
        {result && (
          <p class="ok" data-testid="restore-result" data-messages={result.messages}>
            {fill(t("restore.done"), { conversations: result.conversations, messages: result.messages })}{" "}
            {result.index_html && (
              <button type="button" data-testid="open-export" data-path={result.index_html} onClick={() => call("open_path", { path: result.index_html! }).catch(action.fail)}>
                {t("restore.open_html")}
              </button>
            )}
          </p>
        )}
      </div>
    </>
  );
}
