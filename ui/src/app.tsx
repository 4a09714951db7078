import { useEffect, useLayoutEffect, useMemo, useRef, useState } from "preact/hooks";
import { call, type Language, type Settings } from "./ipc";
import { useAction } from "./action";
import { I18n, LANGUAGES, languageForLocale, translator, type MessageKey } from "./i18n";
import { applyTheme } from "./theme";
import { ErrorBanner } from "./components/error-banner";
import { Select } from "./components/choice";
import { HomePage } from "./pages/home";
import { BackupPage } from "./pages/backup";
import { RestorePage } from "./pages/restore";
import { LibraryPage } from "./pages/library";
import { HistoryPage } from "./pages/history";
import { SchedulePage } from "./pages/schedule";
import { SettingsPage, type About } from "./pages/settings";

export type PageId = "home" | "backup" | "restore" | "library" | "history" | "schedule" | "settings";

const PAGES: readonly { id: PageId; label: MessageKey }[] = [
  { id: "home", label: "nav.home" },
  { id: "backup", label: "nav.backup" },
  { id: "restore", label: "nav.restore" },
  { id: "library", label: "nav.library" },
  { id: "history", label: "nav.history" },
  { id: "schedule", label: "nav.schedule" },
  { id: "settings", label: "nav.settings" },
];

export function App() {
  // The wizard is the start page until a profile exists; then Home is.
  const [page, setPageState] = useState<PageId>("backup");
  const navigated = useRef(false);
  const setPage = (id: PageId) => {
    navigated.current = true;
    setPageState(id);
  };
  const [lang, setLang] = useState<Language>(languageForLocale(navigator.language));
  const [settings, setSettings] = useState<Settings>({ language: null, theme: "system", notify_on_success: false, autostart: false });
  const [about, setAbout] = useState<About>({ version: "", commit: "", format: 0 });
  const { error, setError, fail } = useAction();

  useEffect(() => {
    Promise.all([call("app_info"), call("get_settings")])
      .then(([info, saved]) => {
        setAbout({ version: info.version, commit: info.commit, format: info.format_version });
        setLang(info.language);
        setSettings(saved);
        applyTheme(saved.theme);
      })
      .catch(fail);
    call("list_profiles")
      .then((list) => list.length > 0 && !navigated.current && setPageState("home"))
      .catch(fail);
  }, []);

  // Before the browser paints: the text and its language attribute change together (screen
  // readers, and anything that reads the page between the two).
  useLayoutEffect(() => {
    document.documentElement.lang = lang;
  }, [lang]);

  const i18n = useMemo(() => ({ lang, t: translator(lang) }), [lang]);
  const { t } = i18n;

  const save = (next: Settings) =>
    call("set_settings", { settings: next })
      .then((saved) => {
        setSettings(saved);
        applyTheme(saved.theme);
        if (saved.language) setLang(saved.language);
        setError(null);
      })
      .catch(fail);

  return (
    <I18n.Provider value={i18n}>
      <div class="shell">
        <header class="topbar">
          <div class="brand">
            <img src="/icon.png" alt="" width={28} height={28} />
            <span data-testid="app-name">{t("app.name")}</span>
          </div>
          <label class="lang">
            <span class="sr-only">{t("language.label")}</span>
            <Select testId="language-select" value={lang} options={LANGUAGES} onChange={(language) => save({ ...settings, language })} />
          </label>
        </header>
        <nav class="sidebar" aria-label={t("app.name")}>
          {PAGES.map((p) => (
            <button
              key={p.id}
              type="button"
              data-testid={`nav-${p.id}`}
              class={page === p.id ? "active" : ""}
              aria-current={page === p.id ? "page" : undefined}
              onClick={() => setPage(p.id)}
            >
              {t(p.label)}
            </button>
          ))}
        </nav>
        <main class="content" data-testid={`page-${page}`}>
          {error && <ErrorBanner error={error} onDismiss={() => setError(null)} />}
          {page === "home" && <HomePage onNewBackup={() => setPage("backup")} />}
          {page === "backup" && <BackupPage onSchedule={() => setPage("schedule")} />}
          {page === "restore" && <RestorePage />}
          {page === "library" && <LibraryPage />}
          {page === "history" && <HistoryPage />}
          {page === "schedule" && <SchedulePage />}
          {page === "settings" && <SettingsPage settings={settings} about={about} onChange={save} />}
        </main>
      </div>
    </I18n.Provider>
  );
}
