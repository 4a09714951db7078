import { useEffect, useMemo, useState } from "preact/hooks";
import { call } from "../ipc";
import { useAction } from "../action";
import { useI18n, type MessageKey } from "../i18n";
import { ErrorBanner } from "../components/error-banner";
import { BrowseButton } from "../components/browse-button";
import { Select } from "../components/choice";
import { localUrl, s3Url, S3_PRESETS, webdavUrl, WEBDAV_PRESETS, type S3Form, type TargetKind, type WebDavForm } from "../targets";

/** Step 3: where the encrypted backup goes; "Test connection" must pass before going on. */
export function TargetStep({ onReady }: { onReady: (url: string) => void }) {
  const { t } = useI18n();
  const [kind, setKind] = useState<TargetKind>("local");
  const [path, setPath] = useState("");
  const [s3, setS3] = useState<S3Form>(() => {
    const p = S3_PRESETS[0]!;
    return { preset: p.id, endpoint: p.endpoint(p.region), region: p.region, bucket: "", prefix: "chatvault", virtualHost: p.virtualHost, accessKeyId: "", secretAccessKey: "" };
  });
  const [dav, setDav] = useState<WebDavForm>({ preset: "jianguoyun", url: WEBDAV_PRESETS[1]!.url, user: "", password: "" });
  const { busy, error, setError, run } = useAction();
  const [tested, setTested] = useState<string | null>(null);

  // Suggest a local folder, so the default path needs one click (Test connection).
  useEffect(() => {
    call("default_backup_folder")
      .then((d) => setPath((p) => p || d))
      .catch(() => undefined);
  }, []);

  const built = useMemo(() => (kind === "local" ? localUrl(path) : kind === "s3" ? s3Url(s3) : webdavUrl(dav)), [kind, path, s3, dav]);
  const dirty = (f: () => void) => {
    f();
    setTested(null);
  };

  const test = async () => {
    const url = built.url;
    if (!url) return;
    await run(async () => {
      const credentials =
        kind === "s3"
          ? { access_key_id: s3.accessKeyId, secret_access_key: s3.secretAccessKey, password: null }
          : kind === "webdav"
            ? { access_key_id: null, secret_access_key: null, password: dav.password }
            : null;
      await call("test_target", { url, credentials, remember: true });
      setTested(url);
    });
  };

  const field = (label: MessageKey, testId: string, value: string, set: (v: string) => void, type = "text") => (
    <label>
      {t(label)}
      <input data-testid={testId} type={type} value={value} autocomplete="off" onInput={(e) => dirty(() => set(e.currentTarget.value))} />
    </label>
  );

  return (
    <section class="step" data-testid="step-target">
      {error && <ErrorBanner error={error} onDismiss={() => setError(null)} />}
      <div class="tabs" role="tablist">
        {(["local", "s3", "webdav"] as const).map((k) => (
          <button key={k} type="button" role="tab" data-testid={`target-kind-${k}`} class={kind === k ? "active" : ""} aria-selected={kind === k} onClick={() => dirty(() => setKind(k))}>
            {t(`target.kind.${k}` as MessageKey)}
          </button>
        ))}
      </div>
      <div class="store-form">
        {kind === "local" && (
          <label>
            {t("target.path")}
            <input data-testid="target-path" value={path} placeholder={t("target.path_placeholder")} onInput={(e) => dirty(() => setPath(e.currentTarget.value))} />
          </label>
        )}
        {kind === "local" && (
          <div class="row-actions">
            <BrowseButton purpose="target_folder" testId="target-pick-folder" onPicked={(p) => dirty(() => setPath(p))} onError={setError} />
          </div>
        )}
        {kind === "s3" && (
          <>
            <label>
              {t("target.preset")}
              <Select
                testId="s3-preset"
                value={s3.preset}
                options={S3_PRESETS}
                onChange={(id) => {
                  const p = S3_PRESETS.find((x) => x.id === id)!;
                  dirty(() => setS3({ ...s3, preset: p.id, endpoint: p.endpoint(p.region), region: p.region, virtualHost: p.virtualHost }));
                }}
              />
            </label>
            {field("target.endpoint", "s3-endpoint", s3.endpoint, (v) => setS3({ ...s3, endpoint: v }))}
            {field("target.region", "s3-region", s3.region, (v) => setS3({ ...s3, region: v }))}
            {field("target.bucket", "s3-bucket", s3.bucket, (v) => setS3({ ...s3, bucket: v }))}
            {field("target.prefix", "s3-prefix", s3.prefix, (v) => setS3({ ...s3, prefix: v }))}
            <label class="inline">
              <input type="checkbox" checked={s3.virtualHost} onChange={(e) => dirty(() => setS3({ ...s3, virtualHost: e.currentTarget.checked }))} />
              {t("target.virtual_host")}
            </label>
            {field("target.access_key", "s3-access-key", s3.accessKeyId, (v) => setS3({ ...s3, accessKeyId: v }))}
            {field("target.secret_key", "s3-secret-key", s3.secretAccessKey, (v) => setS3({ ...s3, secretAccessKey: v }), "password")}
          </>
        )}
        {kind === "webdav" && (
          <>
            <label>
              {t("target.preset")}
              <Select
                testId="webdav-preset"
                value={dav.preset}
                options={WEBDAV_PRESETS}
                onChange={(id) => {
                  const p = WEBDAV_PRESETS.find((x) => x.id === id)!;
                  dirty(() => setDav({ ...dav, preset: p.id, url: p.url }));
                }}
              />
            </label>
            {field("target.webdav_url", "webdav-url", dav.url, (v) => setDav({ ...dav, url: v }))}
            {field("target.user", "webdav-user", dav.user, (v) => setDav({ ...dav, user: v }))}
            {field("target.password", "webdav-password", dav.password, (v) => setDav({ ...dav, password: v }), "password")}
          </>
        )}
        {built.error && (
          <p class="field-error" data-testid="target-error">
            {t(built.error as MessageKey)}
          </p>
        )}
        {kind !== "local" && <p class="muted small">{t("target.secrets_note")}</p>}
        <div class="wizard-nav">
          <button type="button" data-testid="test-connection" disabled={busy || !built.url} onClick={test}>
            {busy ? t("target.testing") : t("target.test")}
          </button>
          <button type="button" class="primary" data-testid="wizard-next" disabled={!tested || tested !== built.url} onClick={() => tested && onReady(tested)}>
            {t("wizard.next")}
          </button>
        </div>
        {tested && (
          <p class="ok" data-testid="test-result">
            {t("target.ok")}
          </p>
        )}
      </div>
    </section>
  );
}
