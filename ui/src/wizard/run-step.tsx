import { useEffect, useRef, useState } from "preact/hooks";
import { call, onEvent, type BackupProgress, type BackupReport, type Selection } from "../ipc";
import { useAction } from "../action";
import { useI18n } from "../i18n";
import { fill, humanBytes } from "../format";
import { ErrorBanner } from "../components/error-banner";

/** Step 5: the backup itself, with progress, speed, ETA and cancel. */
export function RunStep(props: { url: string; selection: Selection; onDone: (r: BackupReport) => void }) {
  const { t } = useI18n();
  const [progress, setProgress] = useState<BackupProgress | null>(null);
  const { busy: running, error, setError, run } = useAction();
  const job = useRef("");

  const start = () =>
    run(async () => {
      job.current = `backup-${Date.now()}-${Math.random().toString(16).slice(2)}`;
      setProgress(null);
      const stop = await onEvent("backup-progress", (p) => p.job_id === job.current && setProgress(p));
      try {
        const report = await call("start_backup", { jobId: job.current, url: props.url, selection: props.selection });
        props.onDone(report);
      } finally {
        stop();
      }
    });

  useEffect(() => {
    void start();
  }, []);

  // By messages when their total is known (a store read in one pass finishes its
  // conversations together at the end), else by conversations.
  const [part, whole] = !progress ? [0, 0] : progress.messages_total > 0 ? [Math.min(progress.messages, progress.messages_total), progress.messages_total] : [progress.done, progress.total];
  const pct = whole > 0 ? Math.round((part / whole) * 100) : 0;
  const seconds = progress ? progress.elapsed_ms / 1000 : 0;
  const rate = progress && seconds > 0 ? progress.bytes / seconds : 0;
  const eta = part > 0 && whole > part ? Math.round((seconds / part) * (whole - part)) : 0;

  return (
    <section class="step" data-testid="step-run">
      {error && <ErrorBanner error={error} onDismiss={() => setError(null)} />}
      {error?.code === "cancelled" && <p data-testid="run-cancelled">{t("run.cancelled")}</p>}
      {running && <p>{t("run.running")}</p>}
      <progress data-testid="run-progress" max={100} value={pct} />
      {progress && (
        <p class="muted" data-testid="run-stats">
          {fill(t("run.conversations"), { done: progress.done, total: progress.total })} · {fill(t("run.messages"), { messages: progress.messages })} · {fill(t("run.uploaded"), { bytes: humanBytes(progress.bytes) })} ·{" "}
          {fill(t("run.rate"), { rate: humanBytes(Math.round(rate)) })}
          {eta > 0 && ` · ${fill(t("run.eta"), { seconds: eta })}`}
        </p>
      )}
      <div class="wizard-nav">
        {running ? (
          <button type="button" data-testid="cancel-run" onClick={() => call("cancel_job", { jobId: job.current })}>
            {t("run.cancel")}
          </button>
        ) : (
          error && (
            <button type="button" class="primary" data-testid="retry-run" onClick={start}>
              {t("run.retry")}
            </button>
          )
        )}
      </div>
    </section>
  );
}
