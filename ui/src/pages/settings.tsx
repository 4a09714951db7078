import { useEffect, useState } from "preact/hooks";
import { call, type AppPaths, type RepoOverview, type Settings, type Theme } from "../ipc";
import { RepoSettings } from "../components/repo-settings";
import { Checkbox, Select } from "../components/choice";
import { LANGUAGES, useI18n, type MessageKey } from "../i18n";

const THEMES: readonly { id: Theme; label: MessageKey }[] = [
  { id: "system", label: "theme.system" },
  { id: "light", label: "theme.light" },
  { id: "dark", label: "theme.dark" },
];

/** What the About line shows: the same facts as `chatvault --version`. */
export type About = { version: string; commit: string; format: number };

export function SettingsPage(props: { settings: Settings; about: About; onChange: (s: Settings) => void }) {
  const { t, lang } = useI18n();
  const { settings, onChange } = props;
  const [repos, setRepos] = useState<RepoOverview[] | null>(null);
  const [paths, setPaths] = useState<AppPaths | null>(null);
  const loadRepos = () => call("repositories_overview").then(setRepos).catch(() => setRepos([]));
  useEffect(() => {
    void loadRepos();
    call("app_paths").then(setPaths).catch(() => undefined);
  }, []);
  return (
    <section>
      <h1 data-testid="page-title">{t("settings.title")}</h1>
      <h2>{t("settings.general")}</h2>
      <div class="form-row">
        <label for="settings-language">{t("language.label")}</label>
        <Select id="settings-language" testId="settings-language" value={lang} options={LANGUAGES} onChange={(language) => onChange({ ...settings, language })} />
      </div>
      <div class="form-row">
        <label for="settings-theme">{t("theme.label")}</label>
        <Select
          id="settings-theme"
          testId="settings-theme"
          value={settings.theme}
          options={THEMES.map((th) => ({ id: th.id, label: t(th.label) }))}
          onChange={(theme) => onChange({ ...settings, theme })}
        />
      </div>
      <Checkbox class="inline form-row" testId="settings-notify-success" checked={settings.notify_on_success} onChange={(on) => onChange({ ...settings, notify_on_success: on })}>
        {t("settings.notify_success")}
      </Checkbox>
      <Checkbox class="inline form-row" testId="settings-autostart" checked={settings.autostart} onChange={(on) => onChange({ ...settings, autostart: on })}>
        {t("settings.autostart")}
      </Checkbox>
      <h2>{t("settings.backups")}</h2>
      {repos !== null && repos.length === 0 && <p class="muted">{t("settings.no_backups")}</p>}
      <ul class="store-list">
        {repos?.map((r) => (
          <RepoSettings key={r.url} repo={r} onChanged={loadRepos} />
        ))}
      </ul>
      <h2>{t("settings.folders")}</h2>
      {paths && (
        <dl class="small paths" data-testid="app-paths">
          <dt>{t("settings.config_dir")}</dt>
          <dd class="mono">{paths.config_dir}</dd>
          <dt>{t("settings.data_dir")}</dt>
          <dd class="mono">{paths.data_dir}</dd>
          <dt>{t("settings.cache_dir")}</dt>
          <dd class="mono">{paths.cache_dir}</dd>
        </dl>
      )}
      <p class="muted" data-testid="about">
        {t("settings.version")} <span data-testid="app-version">{props.about.version}</span>
        {" · "}
        {t("settings.commit")} <span data-testid="app-commit" class="mono">{props.about.commit}</span>
        {" · "}
        {t("settings.format_version")} <span data-testid="app-format">{props.about.format}</span>
      </p>
    </section>
  );
}
