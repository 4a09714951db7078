import { useI18n } from "../i18n";

export function BackupPage() {
  const { t } = useI18n();
  return (
    <section>
      <h1 data-testid="page-title">{t("backup.title")}</h1>
      <p>{t("backup.intro")}</p>
      <p class="steps">{t("backup.steps")}</p>
      <p class="muted">{t("backup.pending")}</p>
    </section>
  );
}
