import { useEffect, useMemo, useState } from "preact/hooks";
import { call, type RepoStatus } from "../ipc";
import { useAction } from "../action";
import { useI18n } from "../i18n";
import { fill } from "../format";
import { ErrorBanner } from "../components/error-banner";
import { SaveCodeButton } from "../components/save-code";

const norm = (s: string) => s.trim().toUpperCase();

/** Step 4: create the key and have the recovery code confirmed, or unlock an existing backup. */
export function ProtectStep({ url, onReady }: { url: string; onReady: () => void }) {
  const { t } = useI18n();
  const [status, setStatus] = useState<RepoStatus | null>(null);
  const [code, setCode] = useState<string | null>(null);
  const [typed, setTyped] = useState(["", ""]);
  const [unlockCode, setUnlockCode] = useState("");
  const [copied, setCopied] = useState(false);
  const { busy, error, setError, fail, run } = useAction();

  useEffect(() => {
    call("repo_status", { url })
      .then(setStatus)
      .catch(fail);
  }, [url]);

  // Two different groups (1-based) the user must type back.
  const asked = useMemo(() => {
    const a = 1 + Math.floor(Math.random() * 7);
    let b = 1 + Math.floor(Math.random() * 7);
    if (b === a) b = (a % 7) + 1;
    return [Math.min(a, b), Math.max(a, b)] as const;
  }, [code]);
  const groups = code?.split("-") ?? [];
  const confirmed = code !== null && norm(typed[0]!) === groups[asked[0] - 1] && norm(typed[1]!) === groups[asked[1] - 1];

  return (
    <section class="step" data-testid="step-protect">
      {error && <ErrorBanner error={error} onDismiss={() => setError(null)} />}
      {status === null && !error && <p class="muted">{t("protect.checking")}</p>}
      {status?.unlocked && (
        <>
          <p data-testid="protect-ready">{t("protect.ready")}</p>
          <button type="button" class="primary" data-testid="wizard-next" onClick={onReady}>
            {t("wizard.next")}
          </button>
        </>
      )}
      {status && status.exists && !status.unlocked && (
        <div class="store-form">
          <p>{t("protect.unlock_intro")}</p>
          <label>
            {t("protect.code_input")}
            <input data-testid="unlock-code" class="mono" value={unlockCode} autocomplete="off" onInput={(e) => setUnlockCode(e.currentTarget.value)} />
          </label>
          <button type="button" class="primary" data-testid="unlock" disabled={busy} onClick={() => run(async () => {
            await call("unlock_repo", { url, code: unlockCode });
            onReady();
          })}>
            {t("protect.unlock")}
          </button>
        </div>
      )}
      {status && !status.exists && code === null && (
        <>
          <p>{t("protect.create_intro")}</p>
          <button type="button" class="primary" data-testid="create-key" disabled={busy} onClick={() => run(async () => {
            const created = await call("create_repo", { url });
            setCode(created.recovery_code);
          })}>
            {t("protect.create")}
          </button>
        </>
      )}
      {code !== null && (
        <div class="recovery">
          <h2>{t("protect.code_title")}</h2>
          <p class="code mono" data-testid="recovery-code">
            {code}
          </p>
          <p class="muted">{t("protect.code_note")}</p>
          <div class="wizard-nav">
            <button type="button" onClick={() => navigator.clipboard?.writeText(code).then(() => setCopied(true))}>
              {copied ? t("protect.copied") : t("protect.copy")}
            </button>
            <button type="button" onClick={() => window.print()}>
              {t("protect.print")}
            </button>
          </div>
          <div class="wizard-nav">
            <SaveCodeButton url={url} code={code} onError={setError} />
          </div>
          <p data-testid="confirm-prompt" data-groups={`${asked[0]},${asked[1]}`}>
            {fill(t("protect.confirm"), { a: asked[0], b: asked[1] })}
          </p>
          <div class="wizard-nav">
            {[0, 1].map((i) => (
              <input
                key={i}
                class="mono group"
                data-testid={`confirm-group-${i}`}
                maxLength={4}
                value={typed[i]}
                onInput={(e) => {
                  const next = [...typed];
                  next[i] = e.currentTarget.value;
                  setTyped(next);
                }}
              />
            ))}
            {confirmed && <span class="ok">{t("protect.confirmed")}</span>}
          </div>
          <button type="button" class="primary" data-testid="wizard-next" disabled={!confirmed} onClick={onReady}>
            {t("wizard.next")}
          </button>
        </div>
      )}
    </section>
  );
}
