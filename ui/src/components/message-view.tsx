import type { Message } from "../ipc";
import { useI18n } from "../i18n";
import { formatDateTime, kindLabel } from "../format";
import { VirtualList } from "./virtual-list";

/** A conversation's messages as chat bubbles (mine on the right), virtualised. */
export function MessageView({ messages, height }: { messages: readonly Message[]; height: number }) {
  const { t, lang } = useI18n();
  return (
    <VirtualList
      testId="message-list"
      items={messages}
      rowHeight={68}
      height={height}
      render={(m) => (
        <div
          class={`bubble-row ${m.from_me ? "mine" : ""} ${m.kind === "system" || m.kind === "recalled" ? "system" : ""}`}
          data-testid="message"
          data-kind={m.kind}
        >
          <div class="bubble">
            <div class="bubble-meta">
              {m.sender_name && !m.from_me && <span class="sender">{m.sender_name}</span>}
              <span class="time">{formatDateTime(m.at, lang)}</span>
            </div>
            <div class="bubble-text">
              {m.kind !== "text" && <span class={`kind kind-${m.kind}`}>{kindLabel(t, m.kind)} </span>}
              {m.quoted_text && <span class="quoted">「{m.quoted_text}」 </span>}
              <span data-testid="message-text">{m.text}</span>
            </div>
          </div>
        </div>
      )}
    />
  );
}
