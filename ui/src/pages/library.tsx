import { useEffect, useState } from "preact/hooks";
import { call, type Conversation, type Message } from "../ipc";
import { useAction } from "../action";
import { useI18n } from "../i18n";
import { ErrorBanner } from "../components/error-banner";
import { MessageView } from "../components/message-view";
import { ConversationSummary } from "../components/conversation-summary";

/** The "Restored" library: what came back from backups, browsable and searchable. */
export function LibraryPage() {
  const { t } = useI18n();
  const [convs, setConvs] = useState<Conversation[] | null>(null);
  const [active, setActive] = useState<Conversation | null>(null);
  const [search, setSearch] = useState("");
  const [messages, setMessages] = useState<Message[] | null>(null);
  const { error, setError, fail } = useAction();

  useEffect(() => {
    call("library_conversations")
      .then(setConvs)
      .catch(fail);
  }, []);

  useEffect(() => {
    if (!active) return;
    const timer = setTimeout(() => {
      call("library_messages", { conversation: active.id, search: search.trim() || null })
        .then(setMessages)
        .catch(fail);
    }, 150);
    return () => clearTimeout(timer);
  }, [active, search]);

  return (
    <section>
      <h1 data-testid="page-title">{t("library.title")}</h1>
      <p class="muted">{t("library.intro")}</p>
      {error && <ErrorBanner error={error} onDismiss={() => setError(null)} />}
      {convs !== null && convs.length === 0 && <p class="muted" data-testid="library-empty">{t("library.empty")}</p>}
      {convs !== null && convs.length > 0 && (
        <div class="select-grid">
          <div>
            {convs.map((c) => (
              <div key={c.id} class={`conversation-row ${active?.id === c.id ? "active" : ""}`} data-testid="library-conv-row" data-id={c.id} onClick={() => setActive(c)}>
                <ConversationSummary c={c} />
              </div>
            ))}
          </div>
          <div class="preview">
            {active && (
              <>
                <input class="search" data-testid="library-search" placeholder={t("library.search")} value={search} onInput={(e) => setSearch(e.currentTarget.value)} />
                {messages && <MessageView messages={messages} height={460} source="library" />}
              </>
            )}
          </div>
        </div>
      )}
    </section>
  );
}
