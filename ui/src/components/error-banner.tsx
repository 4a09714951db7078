import type { WireError } from "../ipc";
import { describeError, useI18n } from "../i18n";

/** Shows a host error as its code's message and hint in the current language. */
export function ErrorBanner({ error, onDismiss }: { error: WireError; onDismiss: () => void }) {
  const { t } = useI18n();
  const d = describeError(t, error);
  return (
    <div class="error-banner" role="alert" data-testid="error-banner" data-code={error.code}>
      <strong data-testid="error-message">{d.message}</strong>
      <p data-testid="error-hint">
        {t("error.hint")}: {d.hint}
      </p>
      <details>
        <summary>{error.code}</summary>
        <code>{d.detail}</code>
      </details>
      <button type="button" class="dismiss" onClick={onDismiss} aria-label="×">
        ×
      </button>
    </div>
  );
}
