// Which attachments of a message the views show, and the `chatvault-media:` URLs they load them
// from. The page never names a file on disk: store media by conversation, message and index;
// restored media by their path relative to the folder the app restored into (the host checks
// it stays inside).
import type { AttachmentRef, Message } from "./ipc";

/** Where the messages a view shows come from. */
export type MediaSource = "store" | "library" | "preview";

/** How a message's media are shown. */
export interface MediaPlan {
  /** Inline image (a thumbnail where there is one) and the larger one the overlay opens. */
  image?: { inline: number; large: number; thumbnailOnly: boolean };
  voice?: number;
  video?: { index: number; poster?: number };
  /** Attachments shown as a chip (name and size): files, and media that cannot be shown. */
  chips: number[];
}

const present = (a: AttachmentRef | undefined): a is AttachmentRef => a !== undefined && !a.missing;

export function mediaPlan(m: Message): MediaPlan {
  const at = m.attachments;
  const originals = at.map((a, i) => ({ a, i })).filter(({ a }) => a.role === "original");
  const thumbs = at.map((a, i) => ({ a, i })).filter(({ a }) => a.role === "thumbnail" && !a.missing);
  const original = originals.find(({ a }) => present(a));
  const thumb = thumbs[0];
  const plan: MediaPlan = { chips: [] };
  if (m.kind === "image" || m.kind === "sticker") {
    if (original || thumb) {
      plan.image = {
        inline: (thumb ?? original)!.i,
        large: (original ?? thumb)!.i,
        thumbnailOnly: !original && originals.some(({ a }) => a.missing),
      };
    }
    return plan;
  }
  if (m.kind === "voice" && original) {
    plan.voice = original.i;
    return plan;
  }
  if (m.kind === "video" && original) {
    plan.video = { index: original.i, poster: thumb?.i };
    return plan;
  }
  // Files and anything else: each original as a chip (also a missing one: it says so).
  plan.chips = originals.map(({ i }) => i);
  return plan;
}

/**
 * The URL of attachment `index` of `m` (`base` from `mediaBase()`), or null when a restored
 * attachment has no usable relative path (an older library entry keeps the store's path).
 */
export function mediaUrl(base: string, source: MediaSource, m: Message, index: number): string | null {
  const a = m.attachments[index];
  if (!a || a.missing) return null;
  if (source === "store") {
    return `${base}store/${encodeURIComponent(m.conversation_id)}/${encodeURIComponent(m.id)}/${index}`;
  }
  const rel = a.viewable ?? a.path;
  const parts = rel.split("/");
  if (parts.some((p) => p === "" || p === "." || p === ".." || p.includes("\\") || p.includes(":"))) {
    return null;
  }
  const kind = a.role === "thumbnail" ? "image" : m.kind;
  return `${base}${source}/${parts.map(encodeURIComponent).join("/")}?kind=${kind}`;
}

/** A row's height in the message list: text rows, and taller rows for media. */
export function rowHeight(m: Message): number {
  const plan = mediaPlan(m);
  if (plan.image) return plan.image.thumbnailOnly ? 212 : 192;
  if (plan.video) return 228;
  if (plan.voice !== undefined) return 116;
  if (plan.chips.length > 0) return 68 + 34 * Math.min(plan.chips.length, 3);
  return 68;
}
