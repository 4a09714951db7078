import { useEffect, useMemo, useState } from "preact/hooks";
import { call, HostError, type Message, type RestoreResult, type SnapshotConversation, type SnapshotInfo, type WireError } from "../ipc";
import { useI18n } from "../i18n";
import { dayToTimestamp, fill, formatDate, formatDateTime } from "../format";
import { ErrorBanner } from "../components/error-banner";
import { BrowseButton } from "../components/browse-button";
import { MessageView } from "../components/message-view";
import { ForgetDialog } from "../components/forget-dialog";

/** Restore: pick a backup location and a snapshot, choose conversations and a range, preview
 *  them from the backup, restore into the library and/or export them. */
export function RestorePage() {
  const { t, lang } = useI18n();
  const [known, setKnown] = useState<string[]>([]);
  const [url, setUrl] = useState("");
  const [snapshots, setSnapshots] = useState<SnapshotInfo[] | null>(null);
  const [snapshot, setSnapshot] = useState<SnapshotInfo | null>(null);
  const [convs, setConvs] = useState<SnapshotConversation[]>([]);
  const [picked, setPicked] = useState<string[]>([]);
  const [active, setActive] = useState<SnapshotConversation | null>(null);
  const [preview, setPreview] = useState<Message[] | null>(null);
  const [since, setSince] = useState<string | null>(null);
  const [until, setUntil] = useState<string | null>(null);
  const [toLibrary, setToLibrary] = useState(true);
  const [exportDir, setExportDir] = useState("");
  const [formats, setFormats] = useState<string[]>(["html", "json", "txt"]);
  const [busy, setBusy] = useState(false);
  const [result, setResult] = useState<RestoreResult | null>(null);
  const [error, setError] = useState<WireError | null>(null);
  const [forgetting, setForgetting] = useState<SnapshotConversation | null>(null);

  const fail = (e: unknown) => e instanceof HostError && setError(e.wire);

  useEffect(() => {
    call("known_targets")
      .then((k) => {
        setKnown(k);
        // Suggest a known target, never over what the user has typed meanwhile.
        const first = k[0];
        if (first) setUrl((typed) => (typed.trim() ? typed : first));
      })
      .catch(fail);
  }, []);

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
    setSnapshot(s);
    setActive(null);
    setPicked([]);
    setResult(null);
    call("snapshot_conversations", { url, snapshot: s.id }).then(setConvs).catch(fail);
  };

  useEffect(() => {
    if (!active || !snapshot) return;
    setPreview(null);
    call("preview_backup", { url, snapshot: snapshot.id, conversation: active.id, since, until }).then(setPreview).catch(fail);
  }, [active, snapshot, since, until]);

  const total = useMemo(() => convs.filter((c) => picked.includes(c.id)).reduce((n, c) => n + c.message_count, 0), [convs, picked]);

  const run = async () => {
    if (!snapshot) return;
    setBusy(true);
    setError(null);
    try {
      setResult(
        await call("restore_selection", {
          url,
          snapshot: snapshot.id,
          conversations: picked,
          since,
          until,
          toLibrary,
          exportDir: exportDir.trim() || null,
          formats,
        }),
      );
    } catch (e) {
      fail(e);
    } finally {
      setBusy(false);
    }
  };

  return (
    <section>
      <h1 data-testid="page-title">{t("restore.title")}</h1>
      <p class="muted">{t("restore.intro")}</p>
      {error && <ErrorBanner error={error} onDismiss={() => setError(null)} />}
      <div class="form-row">
        <label for="restore-target">{t("restore.target")}</label>
        {known.length > 0 && (
          <select data-testid="restore-known" value={url} onChange={(e) => setUrl(e.currentTarget.value)}>
            {known.map((k) => (
              <option key={k} value={k}>
                {k}
              </option>
            ))}
          </select>
        )}
        <input id="restore-target" data-testid="restore-target" class="grow" placeholder={t("restore.other")} value={url} onInput={(e) => setUrl(e.currentTarget.value)} />
        <button type="button" data-testid="load-snapshots" disabled={!url.trim()} onClick={load}>
          {t("restore.load")}
        </button>
      </div>
      {snapshots && snapshots.length === 0 && <p class="muted">{t("restore.none")}</p>}
      {snapshots && snapshots.length > 0 && (
        <div class="select-grid">
          <div>
            <h2>{t("restore.snapshots")}</h2>
            <ul class="timeline">
              {snapshots.map((s) => (
                <li key={s.id}>
                  <button type="button" data-testid="snapshot-row" class={snapshot?.id === s.id ? "store-row active" : "store-row"} onClick={() => choose(s)}>
                    <strong>{formatDateTime(s.time, lang)}</strong> <span class="mono small">{s.short_id}</span>
                    <div class="muted small">{fill(t("restore.snapshot_line"), { conversations: s.conversations, messages: s.messages })}</div>
                  </button>
                </li>
              ))}
            </ul>
            {snapshot && (
              <>
                <div class="row-actions">
                  <button type="button" data-testid="restore-select-all" onClick={() => setPicked(convs.map((c) => c.id))}>
                    {t("select.all")}
                  </button>
                  <button type="button" onClick={() => setPicked([])}>
                    {t("select.none")}
                  </button>
                </div>
                {convs.map((c) => (
                  <div key={c.id} class={`conversation-row ${active?.id === c.id ? "active" : ""}`} data-testid="restore-conv-row" data-id={c.id} onClick={() => setActive(c)}>
                    <input
                      type="checkbox"
                      data-testid="restore-conv-check"
                      checked={picked.includes(c.id)}
                      onClick={(e) => e.stopPropagation()}
                      onChange={() => setPicked(picked.includes(c.id) ? picked.filter((x) => x !== c.id) : [...picked, c.id])}
                    />
                    <div class="conversation-main">
                      <div class="title">{c.title}</div>
                      <div class="muted small">
                        {c.message_count} {t("select.messages")} · {formatDate(c.first_at, lang)} – {formatDate(c.last_at, lang)}
                      </div>
                    </div>
                    <button
                      type="button"
                      class="row-link"
                      data-testid="forget-conv"
                      title={t("forget.open")}
                      aria-label={t("forget.open")}
                      onClick={(e) => {
                        e.stopPropagation();
                        setForgetting(c);
                      }}
                    >
                      {t("forget.open_short")}
                    </button>
                  </div>
                ))}
                <fieldset class="range">
                  <legend>{t("select.range")}</legend>
                  <label>
                    {t("select.from")}
                    <input type="date" data-testid="restore-since" onInput={(e) => setSince(dayToTimestamp(e.currentTarget.value, false))} />
                  </label>
                  <label>
                    {t("select.to")}
                    <input type="date" data-testid="restore-until" onInput={(e) => setUntil(dayToTimestamp(e.currentTarget.value, true))} />
                  </label>
                </fieldset>
                <div class="store-form">
                  <label class="inline">
                    <input type="checkbox" data-testid="restore-to-library" checked={toLibrary} onChange={(e) => setToLibrary(e.currentTarget.checked)} />
                    {t("restore.to_library")}
                  </label>
                  <label>
                    {t("restore.export_dir")}
                    <input data-testid="restore-export-dir" value={exportDir} placeholder={t("restore.export_placeholder")} onInput={(e) => setExportDir(e.currentTarget.value)} />
                  </label>
                  <div class="row-actions">
                    <BrowseButton purpose="export_folder" testId="restore-pick-folder" onPicked={setExportDir} />
                  </div>
                  <div class="row-actions">
                    {t("restore.formats")}:
                    {["html", "json", "txt"].map((f) => (
                      <label key={f} class="inline">
                        <input
                          type="checkbox"
                          data-testid={`fmt-${f}`}
                          checked={formats.includes(f)}
                          onChange={() => setFormats(formats.includes(f) ? formats.filter((x) => x !== f) : [...formats, f])}
                        />
                        {f.toUpperCase()}
                      </label>
                    ))}
                  </div>
                  <div class="summary" data-testid="restore-summary">
                    {fill(t("select.summary"), { conversations: picked.length, messages: total })}
                  </div>
                  <button type="button" class="primary" data-testid="restore-run" disabled={busy || picked.length === 0 || (!toLibrary && !exportDir.trim())} onClick={run}>
                    {busy ? t("restore.running") : t("restore.run")}
                  </button>
                  {result && (
                    <p class="ok" data-testid="restore-result" data-messages={result.messages}>
                      {fill(t("restore.done"), { conversations: result.conversations, messages: result.messages })}{" "}
                      {result.index_html && (
                        <button type="button" data-testid="open-export" data-path={result.index_html} onClick={() => call("open_path", { path: result.index_html! }).catch(fail)}>
                          {t("restore.open_html")}
                        </button>
                      )}
                    </p>
                  )}
                </div>
              </>
            )}
          </div>
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
        </div>
      )}
      {forgetting && <ForgetDialog url={url} conversation={forgetting} onClose={forgotten} />}
    </section>
  );
}
