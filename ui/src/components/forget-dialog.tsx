import { useState } from "preact/hooks";
import { call, type ForgetResult } from "../ipc";
import { useAction } from "../action";
import { useI18n } from "../i18n";
import { fill } from "../format";
import { ErrorBanner } from "./error-banner";

/** "Forget this conversation…": says what happens, offers to purge the local copies, asks for
 *  an explicit confirmation, then forgets and prunes under a progress indicator and reports. */
export function ForgetDialog(props: { url: string; conversation: { id: string; title: string }; onClose: (forgotten: boolean) => void }) {
  const { t } = useI18n();
  const { url, conversation, onClose } = props;
  const [purgeLibrary, setPurgeLibrary] = useState(true);
  const [purgeExports, setPurgeExports] = useState(true);
  const [understood, setUnderstood] = useState(false);
  const { busy, error, setError, run } = useAction();
  const [result, setResult] = useState<ForgetResult | null>(null);

  const forget = () => run(async () => setResult(await call("forget_conversation", { url, conversation: conversation.id, purgeLibrary, purgeExports })));

  return (
    <div class="dialog-backdrop">
      <div class="dialog" role="dialog" aria-modal="true" aria-labelledby="forget-title" data-testid="forget-dialog">
        <h2 id="forget-title">{fill(t("forget.title"), { title: conversation.title })}</h2>
        <p>{fill(t("forget.what"), { target: url })}</p>
        {error && <ErrorBanner error={error} onDismiss={() => setError(null)} />}
        {result ? (
          <>
            <p
              class="ok"
              data-testid="forget-result"
              data-rewritten={result.snapshots_rewritten}
              data-keys={result.keys_destroyed}
              data-packs={result.packs_deleted}
              data-exports={result.export_files_deleted}
              data-library={result.library_messages_deleted}
            >
              {fill(t("forget.done"), {
                rewritten: result.snapshots_rewritten,
                deleted: result.snapshots_deleted,
                keys: result.keys_destroyed,
                packs: result.packs_deleted,
                library: result.library_messages_deleted,
                exports: result.export_files_deleted,
              })}
            </p>
            <div class="row-actions">
              <button type="button" class="primary" data-testid="forget-close" onClick={() => onClose(true)}>
                {t("forget.close")}
              </button>
            </div>
          </>
        ) : (
          <>
            <label class="inline">
              <input type="checkbox" data-testid="forget-purge-library" checked={purgeLibrary} disabled={busy} onChange={(e) => setPurgeLibrary(e.currentTarget.checked)} />
              {t("forget.library")}
            </label>
            <label class="inline">
              <input type="checkbox" data-testid="forget-purge-exports" checked={purgeExports} disabled={busy} onChange={(e) => setPurgeExports(e.currentTarget.checked)} />
              {t("forget.exports")}
            </label>
            <label class="inline danger-confirm">
              <input type="checkbox" data-testid="forget-understood" checked={understood} disabled={busy} onChange={(e) => setUnderstood(e.currentTarget.checked)} />
              {t("forget.confirm")}
            </label>
            {busy && (
              <p data-testid="forget-progress">
                <progress /> {t("forget.running")}
              </p>
            )}
            <div class="row-actions">
              <button type="button" class="danger" data-testid="forget-run" disabled={!understood || busy} onClick={forget}>
                {t("forget.run")}
              </button>
              <button type="button" data-testid="forget-cancel" disabled={busy} onClick={() => onClose(false)}>
                {t("forget.cancel")}
              </button>
            </div>
          </>
        )}
      </div>
    </div>
  );
}
