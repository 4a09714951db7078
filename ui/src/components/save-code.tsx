import { useState } from "preact/hooks";
import { call, type ExposedPlace, type WireError } from "../ipc";
import { useAction } from "../action";
import { useI18n } from "../i18n";
import { fill } from "../format";

/**
 * "Save to a file" for a recovery code: the host opens the OS save dialog (one suggested name
 * per repository); a place a cloud would copy (the backup target, a synced folder) must be
 * confirmed first. The file is always new and private to the user.
 */
export function SaveCodeButton({ url, code, onError }: { url: string; code: string; onError: (e: WireError) => void }) {
  const { t } = useI18n();
  const { busy, run: guard } = useAction(onError);
  const [asking, setAsking] = useState<{ path: string; exposed: ExposedPlace } | null>(null);
  const [savedTo, setSavedTo] = useState<string | null>(null);

  const save = (path: string) => guard(async () => setSavedTo(await call("save_recovery_code", { code, path })));
  const choose = () =>
    guard(async () => {
      setAsking(null);
      const choice = await call("choose_recovery_code_file", { url });
      if (!choice.path) return;
      if (choice.exposed) setAsking({ path: choice.path, exposed: choice.exposed });
      else await save(choice.path);
    });

  return (
    <>
      <button type="button" data-testid="save-code" disabled={busy} onClick={choose}>
        {t("protect.save")}
      </button>
      {asking && (
        <div class="confirm" data-testid="save-code-warning" data-kind={asking.exposed.kind}>
          <p class="field-error">
            {asking.exposed.kind === "backup_target"
              ? fill(t("save.exposed_target"), { folder: asking.exposed.folder })
              : fill(t("save.exposed_sync"), { client: asking.exposed.client })}
          </p>
          <p class="mono small">{asking.path}</p>
          <button type="button" data-testid="save-code-anyway" disabled={busy} onClick={() => { const p = asking.path; setAsking(null); void save(p); }}>
            {t("save.anyway")}
          </button>
          <button type="button" data-testid="save-code-elsewhere" disabled={busy} onClick={choose}>
            {t("save.elsewhere")}
          </button>
        </div>
      )}
      {savedTo && (
        <p class="muted small" data-testid="save-code-done" data-path={savedTo}>
          {fill(t("protect.saved"), { path: savedTo })}
        </p>
      )}
    </>
  );
}
