import type { ComponentChildren } from "preact";
import { useI18n } from "../i18n";
import { formatDate } from "../format";

/** What every conversation list shows of one: its title (after any badges), how many
 *  messages, and the days they span. */
export function ConversationSummary({ c, badges, extra }: {
  c: { title: string; message_count: number; first_at: string | null; last_at: string | null };
  badges?: ComponentChildren;
  extra?: string;
}) {
  const { t, lang } = useI18n();
  return (
    <div class="conversation-main">
      <div class="title">
        {badges}
        {c.title}
      </div>
      <div class="muted small">
        {c.message_count} {t("select.messages")} · {formatDate(c.first_at, lang)} – {formatDate(c.last_at, lang)}
        {extra}
      </div>
    </div>
  );
}
