// The schedule picker's model and the text rule it stands for. The rules are the core's
// (src/schedule/mod.rs): `every 6h`, `daily 02:30`, `weekly mon,thu 20:00`. A rule the picker cannot
// show (`every 30m`, set from the command line) stays as it is, shown as text.

export const WEEKDAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"] as const;
export type Weekday = (typeof WEEKDAYS)[number];

export type SchedulePick =
  | { kind: "off" }
  | { kind: "hours"; every: number }
  | { kind: "daily"; at: string }
  | { kind: "weekly"; days: Weekday[]; at: string }
  | { kind: "custom"; text: string };

const TIME = /^([01]?\d|2[0-3]):([0-5]\d)$/;

/** `7:05` -> `07:05`; null when it is not a time of day. */
export function normalizeTime(at: string): string | null {
  const m = TIME.exec(at.trim());
  return m ? `${m[1]!.padStart(2, "0")}:${m[2]}` : null;
}

/** The text rule for a pick; null for "off" and for picks that are not complete yet. */
export function ruleText(pick: SchedulePick): string | null {
  switch (pick.kind) {
    case "off":
      return null;
    case "hours":
      return Number.isInteger(pick.every) && pick.every >= 1 && pick.every <= 168 ? `every ${pick.every}h` : null;
    case "daily": {
      const at = normalizeTime(pick.at);
      return at ? `daily ${at}` : null;
    }
    case "weekly": {
      const at = normalizeTime(pick.at);
      const days = WEEKDAYS.filter((d) => pick.days.includes(d));
      return at && days.length > 0 ? `weekly ${days.join(",")} ${at}` : null;
    }
    case "custom":
      return pick.text;
  }
}

/** The pick for a saved rule (none: off). */
export function parseRule(text: string | null | undefined): SchedulePick {
  const rule = (text ?? "").trim();
  if (!rule) return { kind: "off" };
  const parts = rule.split(/\s+/);
  const hours = parts.length === 2 && parts[0] === "every" ? /^(\d+)h$/.exec(parts[1]!) : null;
  if (hours) return { kind: "hours", every: Number(hours[1]) };
  if (parts.length === 2 && parts[0] === "daily") {
    const at = normalizeTime(parts[1]!);
    if (at) return { kind: "daily", at };
  }
  if (parts.length === 3 && parts[0] === "weekly") {
    const days = parts[1]!.toLowerCase().split(",");
    const at = normalizeTime(parts[2]!);
    if (at && days.every((d): d is Weekday => (WEEKDAYS as readonly string[]).includes(d))) {
      return { kind: "weekly", days: WEEKDAYS.filter((d) => days.includes(d)), at };
    }
  }
  return { kind: "custom", text: rule };
}

/** Switches the kind of a pick, keeping what carries over (the time of day). */
export function withKind(pick: SchedulePick, kind: "off" | "hours" | "daily" | "weekly"): SchedulePick {
  const at = pick.kind === "daily" || pick.kind === "weekly" ? pick.at : "02:30";
  switch (kind) {
    case "off":
      return { kind: "off" };
    case "hours":
      return { kind: "hours", every: pick.kind === "hours" ? pick.every : 6 };
    case "daily":
      return { kind: "daily", at };
    case "weekly":
      return { kind: "weekly", days: pick.kind === "weekly" ? pick.days : ["mon", "thu"], at };
  }
}

/** Adds or removes a day of a weekly pick. */
export function toggleDay(days: readonly Weekday[], day: Weekday): Weekday[] {
  return days.includes(day) ? days.filter((d) => d !== day) : WEEKDAYS.filter((d) => d === day || days.includes(d));
}

/** A weekday's short name in the user's language (2024-01-01 was a Monday). */
export function weekdayName(day: Weekday, lang: string): string {
  const date = new Date(Date.UTC(2024, 0, 1 + WEEKDAYS.indexOf(day), 12));
  return new Intl.DateTimeFormat(lang, { weekday: "short", timeZone: "UTC" }).format(date);
}
