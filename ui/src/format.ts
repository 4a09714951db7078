// Formatting shared by the views: dates in the user's language, date-input <-> RFC 3339,
// message kinds as labels, message templates.
import type { Language, Message, MessageKind } from "./ipc";
import type { MessageKey, Translate } from "./i18n";

/** `YYYY-MM-DD` from a date input to the start (or end) of that day in UTC, RFC 3339. */
export function dayToTimestamp(day: string, endOfDay: boolean): string | null {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(day)) return null;
  return endOfDay ? `${day}T23:59:59Z` : `${day}T00:00:00Z`;
}

/** The `YYYY-MM-DD` part of an RFC 3339 timestamp, for date inputs. */
export function timestampToDay(ts: string | null | undefined): string {
  return ts ? ts.slice(0, 10) : "";
}

export function formatDate(ts: string | null | undefined, lang: Language): string {
  if (!ts) return "";
  return new Intl.DateTimeFormat(lang, { year: "numeric", month: "short", day: "numeric" }).format(new Date(ts));
}

/** `YYYY-MM` as a month and year in the user's language ("Jan 2024", "2024年1月"). */
export function formatMonth(month: string, lang: Language): string {
  const [y, m] = month.split("-").map(Number);
  if (!y || !m) return month;
  return new Intl.DateTimeFormat(lang, { year: "numeric", month: "short", timeZone: "UTC" }).format(new Date(Date.UTC(y, m - 1, 1)));
}

export function formatDateTime(ts: string, lang: Language): string {
  return new Intl.DateTimeFormat(lang, {
    year: "numeric",
    month: "2-digit",
    day: "2-digit",
    hour: "2-digit",
    minute: "2-digit",
  }).format(new Date(ts));
}

/** Replaces `{name}` placeholders. */
export function fill(template: string, values: Record<string, string | number>): string {
  return template.replace(/\{(\w+)\}/g, (whole, name: string) => (name in values ? String(values[name]) : whole));
}

/** The label shown before a non-text message, e.g. "[Image]"; empty for text. */
export function kindLabel(t: Translate, kind: MessageKind): string {
  return kind === "text" ? "" : t(`kind.${kind}` as MessageKey);
}

/** One line a person can read for any message: its label and its text. */
export function messageLine(t: Translate, m: Message): string {
  return [kindLabel(t, m.kind), m.text].filter((s) => s.length > 0).join(" ");
}

export function humanBytes(n: number): string {
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let v = n;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return i === 0 ? `${n} B` : `${v.toFixed(1)} ${units[i]}`;
}
