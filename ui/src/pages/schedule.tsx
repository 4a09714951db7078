import { useI18n } from "../i18n";

export function SchedulePage() {
  const { t } = useI18n();
  return (
    <section>
      <h1 data-testid="page-title">{t("schedule.title")}</h1>
      <p>{t("schedule.intro")}</p>
      <p class="muted">{t("schedule.empty")}</p>
    </section>
  );
}
