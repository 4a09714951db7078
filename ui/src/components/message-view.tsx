import { useEffect, useState } from "preact/hooks";
import type { Message } from "../ipc";
import { mediaBase } from "../ipc";
import { useI18n } from "../i18n";
import { formatDateTime, humanBytes, kindLabel } from "../format";
import { mediaPlan, mediaUrl, rowHeight, type MediaSource } from "../media";
import { VirtualList } from "./virtual-list";

/**
 * A conversation's messages as chat bubbles (mine on the right), virtualised: photos inline
 * (click for a larger view), voice and video playable, files as chips. `source` says where the
 * media come from: the open chat store (wizard), the restore preview or the library.
 */
export function MessageView({ messages, height, source }: { messages: readonly Message[]; height: number; source: MediaSource }) {
  const { t, lang } = useI18n();
  const [large, setLarge] = useState<string | null>(null);
  const base = mediaBase();
  return (
    <>
      <VirtualList
        testId="message-list"
        items={messages}
        rowHeight={rowHeight}
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
              {m.attachments.length > 0 && <Attachments key={`${m.conversation_id}/${m.id}`} m={m} source={source} base={base} onOpen={setLarge} />}
            </div>
          </div>
        )}
      />
      {large && <Overlay src={large} onClose={() => setLarge(null)} />}
    </>
  );
}

function Attachments({ m, source, base, onOpen }: { m: Message; source: MediaSource; base: string; onOpen: (url: string) => void }) {
  const { t } = useI18n();
  // Attachments the host refused or could not find: shown as chips instead.
  const [failed, setFailed] = useState<readonly number[]>([]);
  const fail = (i: number) => setFailed((f) => (f.includes(i) ? f : [...f, i]));
  const plan = mediaPlan(m);
  const url = (i: number) => (failed.includes(i) ? null : mediaUrl(base, source, m, i));
  const chips = [...plan.chips];
  const out = [];
  if (plan.image) {
    const { inline, large, thumbnailOnly } = plan.image;
    const src = url(inline);
    if (src) {
      const big = url(large) ?? src;
      out.push(
        <button type="button" class="media-thumb" title={t("media.open")} onClick={() => onOpen(big)} data-testid="message-image-open">
          <img src={src} loading="lazy" alt={t("media.image_alt")} data-testid="message-image" onError={() => fail(inline)} />
        </button>,
      );
      if (thumbnailOnly) {
        out.push(
          <div class="media-note" data-testid="thumbnail-only">
            {t("media.thumbnail_only")}
          </div>,
        );
      }
    } else {
      chips.push(large);
    }
  }
  if (plan.voice !== undefined) {
    const src = url(plan.voice);
    if (src) {
      const index = plan.voice;
      out.push(<Playable kind="audio" url={src} onFail={() => fail(index)} />);
    } else {
      chips.push(plan.voice);
    }
  }
  if (plan.video) {
    const { index, poster } = plan.video;
    const src = url(index);
    if (src) {
      const posterUrl = poster === undefined ? null : url(poster);
      out.push(<Playable kind="video" url={src} poster={posterUrl} onFail={() => fail(index)} />);
    } else {
      chips.push(index);
    }
  }
  for (const i of chips.slice(0, 3)) {
    const a = m.attachments[i];
    if (!a) continue;
    const name = a.name ?? a.path.split(/[/\\]/).pop() ?? "";
    out.push(
      <div class="file-chip" data-testid="file-chip" title={name}>
        <span class="file-name">{name}</span>
        {a.size !== undefined && a.size !== null && <span class="file-size">{humanBytes(a.size)}</span>}
        {a.missing && <span class="file-missing">{t("media.missing")}</span>}
      </div>,
    );
  }
  return <div class="bubble-media">{out}</div>;
}

/**
 * Voice or video. WebKitGTK (Linux) cannot play media straight from a custom URI scheme, so the
 * bytes are fetched from the app's protocol and played from a blob URL (the CSP allows
 * `blob:` for media only). Voice is fetched when its row comes into view (clips are small, and
 * the player then shows the duration); a video only when the user starts it.
 */
function Playable({ kind, url, poster, onFail }: { kind: "audio" | "video"; url: string; poster?: string | null; onFail: () => void }) {
  const { t } = useI18n();
  const [wanted, setWanted] = useState(kind === "audio");
  const [src, setSrc] = useState<string | null>(null);
  const [duration, setDuration] = useState<number | null>(null);
  useEffect(() => {
    if (!wanted) return;
    let live = true;
    let made: string | null = null;
    fetch(url)
      .then((r) => (r.ok ? r.blob() : Promise.reject(new Error(String(r.status)))))
      .then((b) => {
        if (!live) return;
        made = URL.createObjectURL(b);
        setSrc(made);
      })
      .catch(() => live && onFail());
    return () => {
      live = false;
      if (made) URL.revokeObjectURL(made);
    };
    // onFail changes identity on every render; the fetch depends on the URL only.
  }, [url, wanted]);
  if (kind === "audio") {
    return (
      <div class="media-voice">
        <audio
          class="media-audio"
          controls
          preload="metadata"
          src={src ?? undefined}
          data-testid="message-audio"
          onLoadedMetadata={(e) => setDuration(e.currentTarget.duration)}
          onError={() => src && onFail()}
        />
        {duration !== null && Number.isFinite(duration) && (
          <span class="media-duration" data-testid="audio-duration">
            {formatDuration(duration)}
          </span>
        )}
      </div>
    );
  }
  if (!wanted) {
    return (
      <button type="button" class="media-video-start" onClick={() => setWanted(true)} data-testid="message-video-start" title={t("media.play_video")}>
        {poster ? <img src={poster} alt="" loading="lazy" /> : <span class="media-video-blank" />}
        <span class="media-play">▶ {t("media.play_video")}</span>
      </button>
    );
  }
  return <video class="media-video" controls autoPlay preload="none" src={src ?? undefined} poster={poster ?? undefined} data-testid="message-video" onError={() => src && onFail()} />;
}

/** Seconds as `m:ss`. */
export function formatDuration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, "0")}`;
}

/** A photo at full size over the page; a click or Escape closes it. */
function Overlay({ src, onClose }: { src: string; onClose: () => void }) {
  const { t } = useI18n();
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if (e.key === "Escape") onClose();
    };
    window.addEventListener("keydown", onKey);
    return () => window.removeEventListener("keydown", onKey);
  }, [onClose]);
  return (
    <div class="media-overlay" role="dialog" aria-label={t("media.overlay")} data-testid="media-overlay" onClick={onClose}>
      <img src={src} alt={t("media.image_alt")} data-testid="media-overlay-image" />
      <button type="button" class="secondary" onClick={onClose} data-testid="media-overlay-close">
        {t("media.close")}
      </button>
    </div>
  );
}
