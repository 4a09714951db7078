import { useState } from "preact/hooks";
import { call, type SnapshotConversation, type SnapshotInfo } from "../ipc";
import { useI18n } from "../i18n";
import { useAction } from "../action";
import { ErrorBanner } from "../components/error-banner";
import { ForgetDialog } from "../components/forget-dialog";
import { SnapshotPicker, TargetRow } from "../restore/snapshot-picker";
import { ConversationPicker } from "../restore/conversation-picker";
import { DEFAULT_DESTINATION, RestoreOptions, type Destination } from "../restore/restore-options";
import type { Range } from "../components/range-fields";
import { RestorePreview } from "../restore/restore-preview";

/** Restore: pick a backup location and a snapshot, choose conversations and a range, preview
 *  them from the backup, restore into the library and/or export them. */
export function RestorePage() {
  const { t } = useI18n();
  const action = useAction();
  const { error, setError, fail } = action;
  const [url, setUrl] = useState("");
  const [snapshots, setSnapshots] = useState<SnapshotInfo[] | null>(null);
  const [snapshot, setSnapshot] = useState<SnapshotInfo | null>(null);
  const [convs, setConvs] = useState<SnapshotConversation[]>([]);
  const [picked, setPicked] = useState<string[]>([]);
  const [active, setActive] = useState<SnapshotConversation | null>(null);
  const [range, setRange] = useState<Range>({ since: null, until: null });
  const [destination, setDestination] = useState<Destination>(DEFAULT_DESTINATION);
  const [forgetting, setForgetting] = useState<SnapshotConversation | null>(null);

  // After a forget the snapshots were rewritten (or deleted): list them again.
  const forgotten = (done: boolean) => {
    setForgetting(null);
    if (!done) return;
    setActive(null);
    setPicked([]);
    setConvs([]);
    load();
  };

  const load = () => {
    setError(null);
    setSnapshots(null);
    setSnapshot(null);
    call("list_snapshots", { url }).then(setSnapshots).catch(fail);
  };

  const choose = (s: SnapshotInfo) => {
    // A copy, so choosing the same snapshot again is a new choice (it clears the last result).
    setSnapshot({ ...s });
    setActive(null);
    setPicked([]);
    call("snapshot_conversations", { url, snapshot: s.id }).then(setConvs).catch(fail);
  };

  return (
    <section>
      <h1 data-testid="page-title">{t("restore.title")}</h1>
      <p class="muted">{t("restore.intro")}</p>
      {error && <ErrorBanner error={error} onDismiss={() => setError(null)} />}
      <TargetRow url={url} onUrl={setUrl} onLoad={load} onError={fail} />
      {snapshots && snapshots.length === 0 && <p class="muted">{t("restore.none")}</p>}
      {snapshots && snapshots.length > 0 && (
        <div class="select-grid">
          <div>
            <SnapshotPicker snapshots={snapshots} chosen={snapshot} onChoose={choose} />
            {snapshot && (
              <>
                <ConversationPicker convs={convs} picked={picked} onPicked={setPicked} active={active} onActive={setActive} onForget={setForgetting} />
                <RestoreOptions
                  url={url}
                  snapshot={snapshot}
                  convs={convs}
                  picked={picked}
                  range={range}
                  onRange={setRange}
                  destination={destination}
                  onDestination={setDestination}
                  action={action}
                />
              </>
            )}
          </div>
          <RestorePreview url={url} snapshot={snapshot} active={active} range={range} onError={fail} />
        </div>
      )}
      {forgetting && <ForgetDialog url={url} conversation={forgetting} onClose={forgotten} />}
    </section>
  );
}
