import { useEffect, useMemo, useState } from "preact/hooks";
import { call, type Conversation, type ForgottenInStore, type Message, type OpenedStore, type Selection } from "../ipc";
import { useAction } from "../action";
import { useI18n } from "../i18n";
import { fill, formatDate } from "../format";
import { ErrorBanner } from "../components/error-banner";
import { MessageView } from "../components/message-view";
import { VirtualList } from "../components/virtual-list";
import { RangeFields, type Range } from "../components/range-fields";
import { ConversationSummary } from "../components/conversation-summary";

/** Step 2: conversations with search, a live preview, and what to keep. */
export function SelectStep(props: {
  store: OpenedStore;
  selection: Selection;
  onChange: (s: Selection) => void;
}) {
  const { t, lang } = useI18n();
  const { store, selection, onChange } = props;
  const [filter, setFilter] = useState("");
  const [active, setActive] = useState<Conversation | null>(null);
  const [messages, setMessages] = useState<Message[] | null>(null);
  const { busy, error, setError, fail, run } = useAction();
  const [count, setCount] = useState<number | null>(null);
  // Conversations a known repository has forgotten: every backup skips them until included again.
  const [forgotten, setForgotten] = useState<ForgottenInStore[]>([]);
  const [including, setIncluding] = useState<Conversation | null>(null);

  useEffect(() => {
    call("forgotten_conversations")
      .then(setForgotten)
      .catch(fail);
  }, [store]);
  const forgottenOf = (id: string) => forgotten.find((f) => f.id === id);
  const includeAgain = async (c: Conversation) => {
    const f = forgottenOf(c.id);
    if (!f) return;
    await run(async () => {
      await call("include_again", { conversation: c.id, targets: f.targets });
      setForgotten(forgotten.filter((x) => x.id !== c.id));
      setIncluding(null);
    });
  };
  const forgottenPicked = selection.conversations.filter((c) => forgottenOf(c.id)).length;

  const shown = useMemo(() => {
    const f = filter.trim().toLowerCase();
    return f === ""
      ? store.conversations
      : store.conversations.filter((c) => c.title.toLowerCase().includes(f) || c.id.toLowerCase().includes(f));
  }, [filter, store]);

  const picked = (id: string) => selection.conversations.find((c) => c.id === id);
  const toggle = (c: Conversation) => {
    const has = picked(c.id);
    onChange({
      ...selection,
      all: false,
      conversations: has
        ? selection.conversations.filter((x) => x.id !== c.id)
        : [...selection.conversations, { id: c.id, since: null, until: null }],
    });
  };
  const activePick = active ? picked(active.id) : undefined;

  // The preview follows the active conversation and its effective range.
  const since = activePick?.since ?? selection.since;
  const until = activePick?.until ?? selection.until;
  useEffect(() => {
    if (!active) return;
    setMessages(null);
    call("load_messages", { request: { conversation_id: active.id, since: since ?? undefined, until: until ?? undefined } })
      .then(setMessages)
      .catch(fail);
  }, [active, since, until]);

  // Exact message count of what is selected, within its ranges.
  useEffect(() => {
    if (selection.conversations.length === 0) {
      setCount(0);
      return;
    }
    setCount(null);
    const timer = setTimeout(() => {
      call("count_selection", { selection })
        .then((c) => setCount(c.messages))
        .catch(fail);
    }, 150);
    return () => clearTimeout(timer);
  }, [selection]);

  const setConvRange = (field: keyof Range, value: string | null) => {
    if (!active) return;
    onChange({
      ...selection,
      conversations: selection.conversations.map((c) => (c.id === active.id ? { ...c, [field]: value } : c)),
    });
  };

  return (
    <section class="step select-step" data-testid="step-select">
      {error && <ErrorBanner error={error} onDismiss={() => setError(null)} />}
      <div class="select-grid">
        <div class="conversations">
          <input
            class="search"
            data-testid="conversation-search"
            placeholder={t("select.search")}
            value={filter}
            onInput={(e) => setFilter(e.currentTarget.value)}
          />
          <div class="row-actions">
            <button
              type="button"
              data-testid="select-all"
              onClick={() =>
                onChange({
                  ...selection,
                  // Everything, unfiltered: conversations that appear later are kept too.
                  all: shown.length === store.conversations.length,
                  // Forgotten conversations are left out: including them again is a choice of its own.
                  conversations: shown.filter((c) => !forgottenOf(c.id)).map((c) => picked(c.id) ?? { id: c.id, since: null, until: null }),
                })
              }
            >
              {t("select.all")}
            </button>
            <button type="button" onClick={() => onChange({ ...selection, all: false, conversations: [] })}>
              {t("select.none")}
            </button>
          </div>
          {including && (
            <div class="confirm" data-testid="include-confirm">
              <p>{fill(t("select.include_confirm"), { title: including.title })}</p>
              <button type="button" class="primary" data-testid="include-yes" disabled={busy} onClick={() => includeAgain(including)}>
                {t("select.include_yes")}
              </button>
              <button type="button" data-testid="include-no" disabled={busy} onClick={() => setIncluding(null)}>
                {t("select.include_no")}
              </button>
            </div>
          )}
          <VirtualList
            testId="conversation-list"
            items={shown}
            rowHeight={60}
            height={380}
            render={(c) => (
              <div
                class={`conversation-row ${active?.id === c.id ? "active" : ""}`}
                data-testid="conversation-row"
                data-id={c.id}
                onClick={() => setActive(c)}
              >
                <input
                  type="checkbox"
                  data-testid="conversation-check"
                  aria-label={t("select.include")}
                  checked={!!picked(c.id)}
                  onClick={(e) => e.stopPropagation()}
                  onChange={() => toggle(c)}
                />
                <ConversationSummary
                  c={c}
                  badges={
                    <>
                      <span class="badge">{c.kind === "group" ? t("select.group") : t("select.direct")}</span>{" "}
                      {forgottenOf(c.id) && (
                        <span class="badge forgotten" data-testid="forgotten-badge">
                          {forgottenOf(c.id)?.whole ? t("select.forgotten") : t("select.forgotten_part")}
                        </span>
                      )}{" "}
                    </>
                  }
                  extra={c.member_count ? ` · ${c.member_count} ${t("select.members")}` : ""}
                />
                {forgottenOf(c.id) && (
                  <button
                    type="button"
                    class="row-link"
                    data-testid="include-again"
                    onClick={(e) => {
                      e.stopPropagation();
                      setIncluding(c);
                    }}
                  >
                    {t("select.include_again")}
                  </button>
                )}
              </div>
            )}
          />
          <RangeFields legend="select.range" testIds={["range-since", "range-until"]} value={selection} onChange={(field, value) => onChange({ ...selection, [field]: value })} />
        </div>
        <div class="preview" data-testid="message-pane">
          {!active ? (
            <p class="muted">{t("select.pick")}</p>
          ) : (
            <>
              <h3 data-testid="preview-title">{active.title}</h3>
              {forgottenOf(active.id) && <p class="muted">{t("select.forgotten_note")}</p>}
              {activePick && (
                <RangeFields legend="select.conv_range" testIds={["conv-since", "conv-until"]} value={activePick} onChange={setConvRange} />
              )}
              {messages === null ? (
                <p class="muted">{t("select.loading")}</p>
              ) : messages.length === 0 ? (
                <p class="muted">{t("select.empty")}</p>
              ) : (
                <MessageView messages={messages} height={420} source="store" />
              )}
            </>
          )}
        </div>
      </div>
      <div class="summary" data-testid="selection-summary" data-conversations={selection.conversations.length}>
        {selection.conversations.length === 0
          ? t("select.summary_none")
          : fill(t("select.summary"), {
              conversations: selection.conversations.length,
              messages: count === null ? "…" : count,
            })}
        {(selection.since || selection.until) &&
          ` · ${formatDate(selection.since, lang) || "…"} – ${formatDate(selection.until, lang) || "…"}`}
      </div>
      {forgottenPicked > 0 && (
        <p class="muted" data-testid="forgotten-selected">
          {fill(t("select.forgotten_selected"), { count: forgottenPicked })}
        </p>
      )}
    </section>
  );
}
