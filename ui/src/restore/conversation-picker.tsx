import type { SnapshotConversation } from "../ipc";
import { useI18n } from "../i18n";
import { ConversationSummary } from "../components/conversation-summary";

/** The chosen snapshot's conversations: tick the ones to restore, click one to preview it, or
 *  open "Forget this conversation…" on it. */
export function ConversationPicker(props: {
  convs: SnapshotConversation[];
  picked: string[];
  onPicked: (ids: string[]) => void;
  active: SnapshotConversation | null;
  onActive: (c: SnapshotConversation) => void;
  onForget: (c: SnapshotConversation) => void;
}) {
  const { t } = useI18n();
  const { convs, picked, onPicked, active } = props;
  return (
    <>
      <div class="row-actions">
        <button type="button" data-testid="restore-select-all" onClick={() => onPicked(convs.map((c) => c.id))}>
          {t("select.all")}
        </button>
        <button type="button" onClick={() => onPicked([])}>
          {t("select.none")}
        </button>
      </div>
      {convs.map((c) => (
        <div key={c.id} class={`conversation-row ${active?.id === c.id ? "active" : ""}`} data-testid="restore-conv-row" data-id={c.id} onClick={() => props.onActive(c)}>
          <input
            type="checkbox"
            data-testid="restore-conv-check"
            checked={picked.includes(c.id)}
            onClick={(e) => e.stopPropagation()}
            onChange={() => onPicked(picked.includes(c.id) ? picked.filter((x) => x !== c.id) : [...picked, c.id])}
          />
          <ConversationSummary c={c} />
          <button
            type="button"
            class="row-link"
            data-testid="forget-conv"
            title={t("forget.open")}
            aria-label={t("forget.open")}
            onClick={(e) => {
              e.stopPropagation();
              props.onForget(c);
            }}
          >
            {t("forget.open_short")}
          </button>
        </div>
      ))}
    </>
  );
}
