import { useEffect, useState } from "preact/hooks";
import {
  call,
  onEvent,
  type FindProgress,
  type FoundStoreKey,
  type OpenedStore,
  type StoreInfo,
  type Variant,
} from "../ipc";
import { useI18n, type MessageKey } from "../i18n";
import { ErrorBanner } from "../components/error-banner";
import { BrowseButton } from "../components/browse-button";
import { humanBytes } from "../format";
import { useAction } from "../action";

/** Step 1: pick a detected store or name one, give its key (checked at once), or try the demo. */
export function StoreStep({ onOpened }: { onOpened: (store: OpenedStore) => void }) {
  const { t } = useI18n();
  const [found, setFound] = useState<StoreInfo[] | null>(null);
  const [path, setPath] = useState("");
  const [key, setKey] = useState("");
  const [remember, setRemember] = useState(true);
  const { busy, error, setError, run } = useAction();
  // Find my key: the store being searched, its progress, and what was found.
  const [finding, setFinding] = useState<string | null>(null);
  const [progress, setProgress] = useState<FindProgress | null>(null);
  const [result, setResult] = useState<FoundStoreKey | null>(null);

  useEffect(() => {
    call("list_stores", { extra: [] })
      .then(setFound)
      .catch(() => setFound([]));
  }, []);

  const open = (p: string, k: string | null, rememberKey: boolean) =>
    run(async () => onOpened(await call("open_store", { path: p, key: k, remember: rememberKey })));

  const findKey = (p: string) =>
    run(async () => {
      const jobId = `key-${Date.now()}-${Math.random().toString(36).slice(2)}`;
      setResult(null);
      setProgress(null);
      setFinding(p);
      setPath(p);
      const stop = await onEvent("key-progress", (e) => {
        if (e.job_id === jobId) setProgress(e.progress);
      });
      try {
        setResult(await call("find_store_key", { jobId, path: p, remember }));
      } finally {
        stop();
        setFinding(null);
      }
    });

  const openDemo = () =>
    run(async () => {
      const demo = await call("create_demo_store");
      setPath(demo.path);
      setKey(demo.key);
      await open(demo.path, demo.key, false);
    });

  return (
    <section class="step" data-testid="step-store">
      {error && <ErrorBanner error={error} onDismiss={() => setError(null)} />}
      <h2>{t("store.detected")}</h2>
      {found === null ? (
        <p class="muted">{t("store.searching")}</p>
      ) : found.length === 0 ? (
        <p class="muted" data-testid="no-stores">
          {t("store.none")}
        </p>
      ) : (
        <ul class="store-list" data-testid="store-list">
          {found.map((s) => (
            <li key={s.path}>
              <button
                type="button"
                class={path === s.path ? "store-row active" : "store-row"}
                data-testid="store-row"
                onClick={() => setPath(s.path)}
              >
                <strong>{t(`variant.${s.variant}` as MessageKey)}</strong> · {s.account_id} · {humanBytes(s.size)} ·{" "}
                {s.needs_key ? t("store.needs_key") : t("store.no_key")}
                <div class="muted small">{s.path}</div>
              </button>
              {s.needs_key && s.variant !== "android" && (
                <FindKey
                  store={s}
                  busy={busy}
                  finding={finding === s.path}
                  progress={finding === s.path ? progress : null}
                  result={result?.found.store === s.path || result?.store.path === s.path ? result : null}
                  onFind={() => void findKey(s.path)}
                  onContinue={(r) => onOpened(r.store)}
                />
              )}
            </li>
          ))}
        </ul>
      )}
      <div class="demo-offer">
        <button type="button" data-testid="open-demo" disabled={busy} onClick={openDemo}>
          {t("store.demo")}
        </button>
        <span class="muted">{t("store.demo_hint")}</span>
      </div>

      <h2>{t("store.manual")}</h2>
      <form
        class="store-form"
        onSubmit={(e) => {
          e.preventDefault();
          void open(path, key.trim() || null, remember);
        }}
      >
        <label>
          {t("store.path")}
          <input
            data-testid="store-path"
            value={path}
            placeholder={t("store.path_placeholder")}
            onInput={(e) => setPath(e.currentTarget.value)}
          />
        </label>
        <div class="row-actions">
          <BrowseButton purpose="store_folder" testId="store-pick-folder" onPicked={setPath} onError={setError} />
          <BrowseButton purpose="store_file" testId="store-pick-file" label={t("pick.file")} onPicked={setPath} onError={setError} />
        </div>
        <label>
          {t("store.key")}
          <input
            data-testid="store-key"
            type="password"
            autocomplete="off"
            value={key}
            placeholder={t("store.key_placeholder")}
            onInput={(e) => setKey(e.currentTarget.value)}
          />
        </label>
        <label class="inline">
          <input
            type="checkbox"
            data-testid="remember-key"
            checked={remember}
            onChange={(e) => setRemember(e.currentTarget.checked)}
          />
          {t("store.remember")}
        </label>
        <button type="submit" data-testid="open-store" disabled={busy || path.trim() === ""}>
          {busy ? t("store.opening") : t("store.open")}
        </button>
      </form>
    </section>
  );
}

/** Find my key for one store: the consent sentence, the button, progress, and the result. */
function FindKey(props: {
  store: StoreInfo;
  busy: boolean;
  finding: boolean;
  progress: FindProgress | null;
  result: FoundStoreKey | null;
  onFind: () => void;
  onContinue: (r: FoundStoreKey) => void;
}) {
  const { t } = useI18n();
  const { progress, result } = props;
  const pct = progress && progress.bytes_total > 0 ? Math.floor((progress.bytes_scanned * 100) / progress.bytes_total) : 0;
  return (
    <div class="find-key" data-testid="find-key">
      <p class="muted small" data-testid="find-key-consent">
        {t("store.find_key_consent")}
      </p>
      {!result && (
        <button type="button" data-testid="find-key-button" disabled={props.busy} onClick={props.onFind}>
          {props.finding ? t("store.finding_key") : t("store.find_key")}
        </button>
      )}
      {props.finding && (
        <div data-testid="find-key-progress">
          <progress max={100} value={pct} />{" "}
          <span class="muted small">
            {t("store.find_key_progress")} {pct}%
            {progress && progress.candidates_total > 0
              ? ` · ${progress.candidates_checked}/${progress.candidates_total} ${t("store.find_key_candidates")}`
              : ""}
          </span>
        </div>
      )}
      {result && (
        <div data-testid="find-key-result">
          <p>
            {result.found.process
              ? `${t("store.key_found")} ${result.found.process.name} (pid ${result.found.process.pid}). `
              : `${t("store.key_found_android")} `}
            {t("store.key_found_opens")
              .replace("{opened}", String(result.found.databases_opened))
              .replace("{total}", String(result.found.databases_total))}
          </p>
          <button type="button" data-testid="find-key-continue" onClick={() => props.onContinue(result)}>
            {t("store.continue")}
          </button>
        </div>
      )}
    </div>
  );
}

export type { Variant };
