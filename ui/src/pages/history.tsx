import { useEffect, useState } from "preact/hooks";
import { call, type RunRecord } from "../ipc";
import { useAction } from "../action";
import { useRunProfile } from "../profiles";
import { describeError, useI18n, type MessageKey } from "../i18n";
import { fill, formatDateTime, humanBytes } from "../format";
import { ErrorBanner } from "../components/error-banner";

/** Every run with its result, duration, counts and bytes; failed runs show their message and
 *  hint, and a run of a saved profile can be retried. */
export function HistoryPage() {
  const { t, lang } = useI18n();
  const [runs, setRuns] = useState<RunRecord[] | null>(null);
  const { error, setError, fail } = useAction();

  const load = () =>
    call("run_history")
      .then(setRuns)
      .catch(fail);
  useEffect(() => {
    void load();
    // Scheduled runs land while the page is open.
    const timer = setInterval(load, 5000);
    return () => clearInterval(timer);
  }, []);

  const [busy, retry] = useRunProfile(fail, () => void load());

  return (
    <section>
      <h1 data-testid="page-title">{t("history.title")}</h1>
      <p class="muted">{t("history.intro")}</p>
      {error && <ErrorBanner error={error} onDismiss={() => setError(null)} />}
      {runs !== null && runs.length === 0 && <p class="muted">{t("history.empty")}</p>}
      <ul class="store-list">
        {runs?.map((r, i) => {
          const seconds = Math.max(0, Math.round((new Date(r.finished).getTime() - new Date(r.started).getTime()) / 1000));
          const failure = r.error ? describeError(t, r.error) : null;
          return (
            <li key={i} class={`history-row ${r.ok ? "ok-row" : "failed-row"}`} data-testid="history-row" data-ok={String(r.ok)} data-origin={r.origin}>
              <div>
                <strong>{r.ok ? t("history.ok") : t("history.failed")}</strong> · {formatDateTime(r.started, lang)} ·{" "}
                {r.profile ?? r.target} · {t(`history.origin.${r.origin}` as MessageKey)}
              </div>
              {r.ok ? (
                <div class="muted small">
                  {fill(t("history.line"), { conversations: r.conversations, messages: r.messages, bytes: humanBytes(r.bytes_uploaded), seconds })}
                  {r.unchanged && ` · ${t("history.unchanged")}`}
                </div>
              ) : (
                failure && (
                  <div class="small" data-testid="history-error" data-code={r.error?.code}>
                    {failure.message} {t("error.hint")}: {failure.hint}
                  </div>
                )
              )}
              {!r.ok && r.profile && (
                <button type="button" data-testid="history-retry" disabled={busy !== null} onClick={() => retry(r.profile!)}>
                  {busy === r.profile ? t("history.retrying") : t("history.retry")}
                </button>
              )}
            </li>
          );
        })}
      </ul>
    </section>
  );
}
