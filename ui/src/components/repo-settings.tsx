import { useState } from "preact/hooks";
import { call, type RepoOverview, type VerifyReport } from "../ipc";
import { useAction } from "../action";
import { useI18n } from "../i18n";
import { fill } from "../format";
import { ErrorBanner } from "./error-banner";
import { SaveCodeButton } from "./save-code";

type Pending = "show" | "rotate" | null;

/** One repository in Settings: key status, verify now, the recovery code, credentials. */
export function RepoSettings({ repo, onChanged }: { repo: RepoOverview; onChanged: () => void }) {
  const { t } = useI18n();
  const { busy, error, setError, run } = useAction();
  const [report, setReport] = useState<VerifyReport | null>(null);
  const [confirm, setConfirm] = useState<Pending>(null);
  // "pending": a new code whose old one still works until the user confirms having it.
  const [code, setCode] = useState<{ text: string; fresh: "no" | "pending" | "done" } | null>(null);
  const [tested, setTested] = useState(false);
  const [editing, setEditing] = useState(false);
  const [creds, setCreds] = useState({ access_key_id: "", secret_access_key: "", password: "" });
  const isS3 = repo.url.startsWith("s3://");
  const remote = !repo.url.startsWith("file://");

  const verify = (readData: boolean) => run(async () => setReport(await call("verify_repository", { url: repo.url, readData })));

  return (
    <li class="repo-card" data-testid="repo-card" data-url={repo.url}>
      {error && <ErrorBanner error={error} onDismiss={() => setError(null)} />}
      <div class="mono small">{repo.url}</div>
      <div class="small">
        {repo.key_in_keychain ? t("settings.key_ok") : t("settings.key_missing")}
        {repo.credentials_saved && ` · ${t("settings.creds_saved")}`}
      </div>
      <div class="row-actions">
        <button type="button" data-testid="verify-now" disabled={busy} onClick={() => verify(false)}>
          {busy ? t("settings.verifying") : t("settings.verify")}
        </button>
        <button type="button" disabled={busy} onClick={() => verify(true)}>
          {t("settings.verify_data")}
        </button>
        {repo.key_in_keychain && (
          <>
            <button type="button" data-testid="show-code" disabled={busy} onClick={() => setConfirm("show")}>
              {t("settings.show_code")}
            </button>
            <button type="button" data-testid="rotate-code" disabled={busy} onClick={() => setConfirm("rotate")}>
              {t("settings.rotate")}
            </button>
          </>
        )}
        <button
          type="button"
          data-testid="retest"
          disabled={busy}
          onClick={() => run(async () => {
            setTested(false);
            await call("test_target", { url: repo.url, credentials: null, remember: false });
            setTested(true);
          })}
        >
          {t("settings.retest")}
        </button>
        {remote && (
          <button type="button" data-testid="edit-creds" onClick={() => setEditing(!editing)}>
            {t("settings.update_creds")}
          </button>
        )}
        {repo.credentials_saved && (
          <button type="button" disabled={busy} onClick={() => run(async () => { await call("forget_credentials", { url: repo.url }); onChanged(); })}>
            {t("settings.forget_creds")}
          </button>
        )}
      </div>
      {tested && <p class="ok" data-testid="retest-ok">{t("settings.retest_ok")}</p>}
      {editing && (
        <div class="store-form">
          {isS3 ? (
            <>
              <label>
                {t("target.access_key")}
                <input value={creds.access_key_id} onInput={(e) => setCreds({ ...creds, access_key_id: e.currentTarget.value })} />
              </label>
              <label>
                {t("target.secret_key")}
                <input type="password" value={creds.secret_access_key} onInput={(e) => setCreds({ ...creds, secret_access_key: e.currentTarget.value })} />
              </label>
            </>
          ) : (
            <label>
              {t("target.password")}
              <input type="password" value={creds.password} onInput={(e) => setCreds({ ...creds, password: e.currentTarget.value })} />
            </label>
          )}
          <button
            type="button"
            class="primary"
            disabled={busy}
            onClick={() => run(async () => {
              await call("test_target", { url: repo.url, credentials: creds, remember: true });
              setEditing(false);
              setTested(true);
              onChanged();
            })}
          >
            {t("settings.save_creds")}
          </button>
        </div>
      )}
      {confirm && (
        <div class="confirm" data-testid="confirm-box">
          <p>{confirm === "show" ? t("settings.show_confirm") : t("settings.rotate_confirm")}</p>
          <button
            type="button"
            class="primary"
            data-testid="confirm-yes"
            onClick={() => {
              const what = confirm;
              setConfirm(null);
              void run(async () => {
                const text = await call(what === "show" ? "show_recovery_code" : "rotate_recovery_code", { url: repo.url });
                setCode({ text, fresh: what === "rotate" ? "pending" : "no" });
              });
            }}
          >
            {t("settings.show_yes")}
          </button>
          <button type="button" onClick={() => setConfirm(null)}>
            {t("settings.cancel")}
          </button>
        </div>
      )}
      {code && (
        <div>
          {code.fresh === "pending" && <p data-testid="rotate-pending">{t("settings.rotate_pending")}</p>}
          {code.fresh === "done" && <p data-testid="rotate-done">{t("settings.rotate_done")}</p>}
          <p class="code mono" data-testid="shown-code">
            {code.text}
          </p>
          {code.fresh !== "done" && <SaveCodeButton url={repo.url} code={code.text} onError={setError} />}
          {code.fresh === "pending" && (
            <div class="row-actions">
              <button
                type="button"
                class="primary"
                data-testid="rotate-finish"
                disabled={busy}
                onClick={() => run(async () => {
                  await call("finish_recovery_code_rotation", { url: repo.url });
                  setCode({ text: code.text, fresh: "done" });
                })}
              >
                {t("settings.rotate_finish")}
              </button>
              <button
                type="button"
                data-testid="rotate-cancel"
                disabled={busy}
                onClick={() => run(async () => {
                  await call("cancel_recovery_code_rotation", { url: repo.url });
                  setCode(null);
                })}
              >
                {t("settings.rotate_cancel")}
              </button>
            </div>
          )}
        </div>
      )}
      {report && (
        <div data-testid="verify-result" data-errors={report.errors.length}>
          {report.errors.length === 0 ? (
            <p class="ok">{fill(t("settings.verify_ok"), { snapshots: report.snapshots, conversations: report.conversations, packs: report.packs })}</p>
          ) : (
            <>
              <p class="field-error">{fill(t("settings.verify_bad"), { count: report.errors.length })}</p>
              <ul class="small mono">
                {report.errors.map((e, i) => (
                  <li key={i}>{e}</li>
                ))}
              </ul>
            </>
          )}
        </div>
      )}
    </li>
  );
}
