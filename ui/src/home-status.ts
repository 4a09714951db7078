// What the home page derives from the profiles' status: the banner's lines and the chart data.
import type { Attention, ConversationShare, ProfileStatus } from "./ipc";
import type { MessageKey } from "./i18n";

/** One banner line: which profile and what needs the user. */
export interface AttentionLine {
  profile: string;
  key: MessageKey;
  attention: Attention;
}

export function attentionKey(a: Attention): MessageKey {
  return `home.attention.${a.kind}` as MessageKey;
}

/** Every attention of every profile, in profile order. */
export function attentionLines(profiles: readonly ProfileStatus[]): AttentionLine[] {
  return profiles.flatMap((p) => p.attention.map((attention) => ({ profile: p.name, key: attentionKey(attention), attention })));
}

/** The largest `top` conversations and the rest summed up as one slice (title null). */
export function shareSlices(shares: readonly ConversationShare[], top = 6): { title: string | null; bytes: number }[] {
  const sorted = shares.toSorted((a, b) => b.bytes - a.bytes);
  const head = sorted.slice(0, top).map((s) => ({ title: s.title, bytes: s.bytes }));
  const rest = sorted.slice(top).reduce((sum, s) => sum + s.bytes, 0);
  return rest > 0 ? [...head, { title: null, bytes: rest }] : head;
}

/** Share of a total as a whole percentage (0 for an empty total). */
export function percent(part: number, total: number): number {
  return total > 0 ? Math.round((part / total) * 100) : 0;
}
