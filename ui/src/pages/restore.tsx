import { useI18n } from "../i18n";

export function RestorePage() {
  const { t } = useI18n();
  return (
    <section>
      <h1 data-testid="page-title">{t("restore.title")}</h1>
      <p>{t("restore.intro")}</p>
      <p class="muted">{t("restore.empty")}</p>
    </section>
  );
}
