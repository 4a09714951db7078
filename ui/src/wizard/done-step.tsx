import { useState } from "preact/hooks";
import { call, type BackupReport, type Selection } from "../ipc";
import { useAction } from "../action";
import { useI18n } from "../i18n";
import { fill, humanBytes } from "../format";
import { ErrorBanner } from "../components/error-banner";

/** Step 6: what was saved, where, how big; save a profile; offer a schedule. */
export function DoneStep(props: { url: string; selection: Selection; report: BackupReport; onSchedule: () => void; onAgain: () => void }) {
  const { t } = useI18n();
  const { report } = props;
  const [name, setName] = useState("chats");
  const [saved, setSaved] = useState(false);
  const { error, setError, fail } = useAction();
  const where = props.url.replace(/^file:\/\//, "").replace(/\?.*$/, "");
  return (
    <section class="step" data-testid="step-done">
      {error && <ErrorBanner error={error} onDismiss={() => setError(null)} />}
      <h2>{t("done.title")}</h2>
      <p data-testid="done-summary" data-messages={report.messages} data-new-segments={report.new_segments} data-unchanged={String(report.unchanged)} data-skipped-forgotten={report.skipped_forgotten}>
        {fill(t("done.summary"), { conversations: report.conversations, messages: report.messages, target: where })}
      </p>
      <p class="muted">
        {report.unchanged
          ? t("done.unchanged")
          : fill(t("done.uploaded"), { bytes: humanBytes(report.bytes_uploaded), objects: report.objects_uploaded, reused: report.reused_segments })}
      </p>
      <div class="wizard-nav">
        <label>
          {t("done.profile")}{" "}
          <input data-testid="profile-name" value={name} onInput={(e) => setName(e.currentTarget.value)} />
        </label>
        <button
          type="button"
          data-testid="save-profile"
          onClick={() =>
            call("save_profile", { name, url: props.url, selection: props.selection })
              .then(() => setSaved(true))
              .catch(fail)
          }
        >
          {t("done.save")}
        </button>
        {saved && <span class="ok" data-testid="profile-saved">{t("done.saved")}</span>}
      </div>
      <div class="wizard-nav">
        <button type="button" onClick={props.onSchedule}>
          {t("done.schedule")}
        </button>
        <button type="button" data-testid="backup-again" onClick={props.onAgain}>
          {t("done.again")}
        </button>
      </div>
    </section>
  );
}
