import { useEffect, useState } from "preact/hooks";
import { call, type Message, type SnapshotConversation, type SnapshotInfo } from "../ipc";
import { useI18n } from "../i18n";
import { MessageView } from "../components/message-view";
import type { Range } from "../components/range-fields";

/** The active conversation's messages within the range, read from the backup itself. */
export function RestorePreview(props: { url: string; snapshot: SnapshotInfo | null; active: SnapshotConversation | null; range: Range; onError: (e: unknown) => void }) {
  const { t } = useI18n();
  const { url, snapshot, active, range } = props;
  const [preview, setPreview] = useState<Message[] | null>(null);

  useEffect(() => {
    if (!active || !snapshot) return;
    setPreview(null);
    call("preview_backup", { url, snapshot: snapshot.id, conversation: active.id, since: range.since, until: range.until }).then(setPreview).catch(props.onError);
  }, [active, snapshot, range.since, range.until]);

  return (
    <div class="preview" data-testid="restore-preview">
      {!snapshot ? (
        <p class="muted">{t("restore.pick_snapshot")}</p>
      ) : !active ? (
        <p class="muted">{t("select.pick")}</p>
      ) : (
        <>
          <h3>{active.title}</h3>
          {preview === null ? <p class="muted">{t("select.loading")}</p> : preview.length === 0 ? <p class="muted">{t("select.empty")}</p> : <MessageView messages={preview} height={460} source="preview" />}
        </>
      )}
    </div>
  );
}
