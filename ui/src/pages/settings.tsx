import type { Settings, Theme } from "../ipc";
import { LANGUAGES, useI18n, type MessageKey } from "../i18n";
import type { Language } from "../ipc";

const THEMES: readonly { id: Theme; label: MessageKey }[] = [
  { id: "system", label: "theme.system" },
  { id: "light", label: "theme.light" },
  { id: "dark", label: "theme.dark" },
];

export function SettingsPage(props: { settings: Settings; version: string; onChange: (s: Settings) => void }) {
  const { t, lang } = useI18n();
  const { settings, onChange } = props;
  return (
    <section>
      <h1 data-testid="page-title">{t("settings.title")}</h1>
      <div class="form-row">
        <label for="settings-language">{t("language.label")}</label>
        <select
          id="settings-language"
          data-testid="settings-language"
          value={lang}
          onChange={(e) => onChange({ ...settings, language: e.currentTarget.value as Language })}
        >
          {LANGUAGES.map((l) => (
            <option key={l.id} value={l.id}>
              {l.label}
            </option>
          ))}
        </select>
      </div>
      <div class="form-row">
        <label for="settings-theme">{t("theme.label")}</label>
        <select
          id="settings-theme"
          data-testid="settings-theme"
          value={settings.theme}
          onChange={(e) => onChange({ ...settings, theme: e.currentTarget.value as Theme })}
        >
          {THEMES.map((th) => (
            <option key={th.id} value={th.id}>
              {t(th.label)}
            </option>
          ))}
        </select>
      </div>
      <p class="muted">
        {t("settings.version")} <span data-testid="app-version">{props.version}</span>
      </p>
    </section>
  );
}
