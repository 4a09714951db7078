import { useEffect, useState } from "preact/hooks";
import { call, HostError, type OpenedStore, type StoreInfo, type Variant, type WireError } from "../ipc";
import { useI18n, type MessageKey } from "../i18n";
import { ErrorBanner } from "../components/error-banner";
import { humanBytes } from "../format";

/** Step 1: pick a detected store or name one, give its key (checked at once), or try the demo. */
export function StoreStep({ onOpened }: { onOpened: (store: OpenedStore) => void }) {
  const { t } = useI18n();
  const [found, setFound] = useState<StoreInfo[] | null>(null);
  const [path, setPath] = useState("");
  const [key, setKey] = useState("");
  const [remember, setRemember] = useState(true);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<WireError | null>(null);

  useEffect(() => {
    call("list_stores", { extra: [] })
      .then(setFound)
      .catch(() => setFound([]));
  }, []);

  const open = async (p: string, k: string | null, rememberKey: boolean) => {
    setBusy(true);
    setError(null);
    try {
      onOpened(await call("open_store", { path: p, key: k, remember: rememberKey }));
    } catch (e) {
      if (e instanceof HostError) setError(e.wire);
    } finally {
      setBusy(false);
    }
  };

  const openDemo = async () => {
    setBusy(true);
    setError(null);
    try {
      const demo = await call("create_demo_store");
      setPath(demo.path);
      setKey(demo.key);
      await open(demo.path, demo.key, false);
    } catch (e) {
      if (e instanceof HostError) setError(e.wire);
      setBusy(false);
    }
  };

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

export type { Variant };
