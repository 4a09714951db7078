import { useEffect, useState } from "preact/hooks";
import { call, type BackupContents, type ProfileStatus, type WireError } from "../ipc";
import { useProfileStatus } from "../profiles";
import { useAction } from "../action";
import { describeError, useI18n, type MessageKey } from "../i18n";
import { fill, formatDateTime, formatMonth, humanBytes } from "../format";
import { attentionLines, percent, shareSlices } from "../home-status";
import { ErrorBanner } from "../components/error-banner";
import { MonthsChart, SharesChart } from "../components/charts";

/** The start page once a profile exists: am I backed up? One card per profile, a banner when
 *  something needs the user, and what each backup holds. */
export function HomePage({ onNewBackup }: { onNewBackup: () => void }) {
  const { t } = useI18n();
  const { error, setError, fail } = useAction();
  const [profiles, load] = useProfileStatus(fail);

  const lines = attentionLines(profiles ?? []);
  return (
    <section>
      <div class="page-head">
        <h1 data-testid="page-title">{t("home.title")}</h1>
        <button type="button" class="primary" data-testid="home-new-backup" onClick={onNewBackup}>
          {t("home.new_backup")}
        </button>
      </div>
      {error && <ErrorBanner error={error} onDismiss={() => setError(null)} />}
      {profiles !== null &&
        (lines.length > 0 ? (
          <div class="attention-banner" role="alert" data-testid="attention-banner" data-count={lines.length}>
            <strong>{t("home.attention.title")}</strong>
            <ul>
              {lines.map((l, i) => (
                <li key={i} data-testid="attention-item" data-kind={l.attention.kind} data-profile={l.profile}>
                  <span class="mono">{l.profile}</span>: {t(l.key)}
                  {"error" in l.attention && l.attention.error && ` — ${describeError(t, l.attention.error).message}`}
                </li>
              ))}
            </ul>
          </div>
        ) : (
          profiles.length > 0 && (
            <p class="all-ok" data-testid="all-ok">
              {t("home.all_ok")}
            </p>
          )
        ))}
      <ul class="store-list">
        {profiles?.map((p) => <ProfileCard key={p.name} status={p} onChanged={load} onError={setError} />)}
      </ul>
    </section>
  );
}

function ProfileCard({ status: p, onChanged, onError }: { status: ProfileStatus; onChanged: () => void; onError: (e: WireError) => void }) {
  const { t, lang } = useI18n();
  const [running, setRunning] = useState(false);
  const [contents, setContents] = useState<BackupContents | null>(null);
  const { error: contentsError, setError: setContentsError, fail: contentsFailed } = useAction();
  const { fail } = useAction(onError);
  const last = p.last;
  const failure = last && !last.ok && last.error ? describeError(t, last.error) : null;

  const loadContents = () =>
    call("backup_contents", { url: p.target })
      .then((c) => {
        setContents(c);
        setContentsError(null);
      })
      .catch(contentsFailed);
  // Reread what the backup holds after each successful run.
  const lastOk = p.last_success ?? "";
  useEffect(() => {
    void loadContents();
  }, [p.target, lastOk]);

  const now = async () => {
    setRunning(true);
    try {
      await call("run_profile", { name: p.name });
    } catch {
      // The run is in the history: the card shows its message, hint and Retry.
    } finally {
      setRunning(false);
      onChanged();
    }
  };
  const pause = (paused: boolean) =>
    call("pause_profile", { name: p.name, paused })
      .then(onChanged)
      .catch(fail);

  const changed = last?.ok
    ? last.unchanged
      ? t("home.unchanged")
      : fill(t("home.changed"), { conversations: last.conversations, messages: last.messages, bytes: humanBytes(last.bytes_uploaded) })
    : "";
  const slices = contents ? shareSlices(contents.shares).map((s) => ({ title: s.title ?? t("home.others"), bytes: s.bytes })) : [];
  const total = contents?.shares.reduce((sum, s) => sum + s.bytes, 0) ?? 0;

  return (
    <li class={`repo-card home-card ${p.attention.length > 0 ? "needs-attention" : ""}`} data-testid="home-card" data-name={p.name}>
      <div class="card-head">
        <strong>{p.name}</strong>
        <span class={`badge ${p.attention.length > 0 ? "badge-warn" : last?.ok ? "badge-ok" : ""}`} data-testid="home-health">
          {running ? t("home.running") : p.attention.length > 0 ? t("home.needs_attention") : last?.ok ? t("home.backed_up") : t("home.not_yet")}
        </span>
      </div>
      <dl class="facts small">
        <dt>{t("home.store")}</dt>
        <dd class="mono" data-testid="home-store">{p.store}</dd>
        <dt>{t("home.target")}</dt>
        <dd class="mono" data-testid="home-target">{p.target}</dd>
        <dt>{t("home.last")}</dt>
        <dd data-testid="home-last" data-ok={last ? String(last.ok) : ""} data-messages={last?.messages ?? ""} data-started={last?.started ?? ""}>
          {last ? `${formatDateTime(last.started, lang)} · ${last.ok ? t("history.ok") : t("history.failed")}${changed ? ` · ${changed}` : ""}` : t("schedule.last_none")}
        </dd>
        <dt>{t("home.next")}</dt>
        <dd data-testid="home-next" data-at={p.next_run ?? ""}>
          {p.paused ? t("home.paused") : p.next_run ? `${formatDateTime(p.next_run, lang)} (${p.rule})` : t("schedule.never")}
        </dd>
        <dt>{t("home.key")}</dt>
        <dd data-testid="home-key" data-key={p.key}>
          {t(`home.key.${p.key}` as MessageKey)}
        </dd>
      </dl>
      {failure && (
        <div class="error-banner" data-testid="home-failure" data-code={last?.error?.code}>
          <strong>{failure.message}</strong>
          <p>
            {t("error.hint")}: {failure.hint}
          </p>
          <button type="button" data-testid="home-retry" disabled={running} onClick={now}>
            {t("history.retry")}
          </button>
        </div>
      )}
      <div class="row-actions">
        <button type="button" class="primary" data-testid="home-backup-now" disabled={running} onClick={now}>
          {running ? t("schedule.running") : t("schedule.now")}
        </button>
        {p.rule && (
          <button type="button" data-testid="home-pause" data-paused={String(p.paused)} onClick={() => pause(!p.paused)}>
            {p.paused ? t("home.resume") : t("home.pause")}
          </button>
        )}
      </div>
      {contentsError && !failure && <p class="muted small" data-testid="home-contents-error">{describeError(t, contentsError).message}</p>}
      {contents && (
        <div class="contents" data-testid="home-contents" data-snapshots={contents.snapshots} data-conversations={contents.conversations} data-messages={contents.messages} data-size={contents.size_bytes}>
          <div class="stats">
            {(
              [
                [humanBytes(contents.size_bytes), "home.size"],
                [contents.conversations, "home.conversations"],
                [contents.messages, "home.messages"],
                [contents.snapshots, "home.snapshots"],
              ] as const
            ).map(([value, label]) => (
              <div key={label}>
                <span class="stat">{value}</span>
                <span class="muted small">{t(label)}</span>
              </div>
            ))}
          </div>
          {contents.months.length > 0 && (
            <figure>
              <figcaption class="small muted">
                {fill(t("home.months_chart"), { from: formatMonth(contents.months[0]!.month, lang), to: formatMonth(contents.months[contents.months.length - 1]!.month, lang) })}
              </figcaption>
              <MonthsChart months={contents.months} label={t("home.messages")} />
            </figure>
          )}
          {slices.length > 0 && (
            <figure>
              <figcaption class="small muted">{t("home.shares_chart")}</figcaption>
              <SharesChart slices={slices} label={t("home.size")} />
              <ul class="shares small">
                {slices.map((s, i) => (
                  <li key={i} data-testid="home-share">
                    {s.title}: {humanBytes(s.bytes)} ({percent(s.bytes, total)}%)
                  </li>
                ))}
              </ul>
            </figure>
          )}
        </div>
      )}
    </li>
  );
}
