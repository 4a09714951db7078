import { describe, expect, it } from "vitest";
import { normalizeTime, parseRule, ruleText, toggleDay, weekdayName, withKind } from "../src/schedule-rule";

describe("the schedule picker", () => {
  it("produces the core's rules", () => {
    expect(ruleText({ kind: "hours", every: 6 })).toBe("every 6h");
    expect(ruleText({ kind: "daily", at: "2:30" })).toBe("daily 02:30");
    expect(ruleText({ kind: "weekly", days: ["thu", "mon"], at: "20:00" })).toBe("weekly mon,thu 20:00");
    expect(ruleText({ kind: "off" })).toBeNull();
  });

  it("gives no rule for a pick that is not complete", () => {
    expect(ruleText({ kind: "weekly", days: [], at: "20:00" })).toBeNull();
    expect(ruleText({ kind: "daily", at: "" })).toBeNull();
    expect(ruleText({ kind: "daily", at: "24:00" })).toBeNull();
    expect(ruleText({ kind: "hours", every: 0 })).toBeNull();
    expect(ruleText({ kind: "hours", every: 1.5 })).toBeNull();
    expect(ruleText({ kind: "hours", every: 169 })).toBeNull();
  });

  it("reads saved rules back, and keeps rules it cannot show as text", () => {
    for (const rule of ["every 6h", "daily 02:30", "weekly mon,thu 20:00"]) {
      expect(ruleText(parseRule(rule))).toBe(rule);
    }
    expect(parseRule("weekly THU,mon 7:05")).toEqual({ kind: "weekly", days: ["mon", "thu"], at: "07:05" });
    expect(parseRule(null)).toEqual({ kind: "off" });
    expect(parseRule("every 30m")).toEqual({ kind: "custom", text: "every 30m" });
    expect(ruleText(parseRule("every 30m"))).toBe("every 30m");
  });

  it("keeps the time of day when switching between daily and weekly", () => {
    const weekly = withKind({ kind: "daily", at: "21:15" }, "weekly");
    expect(weekly).toEqual({ kind: "weekly", days: ["mon", "thu"], at: "21:15" });
    expect(withKind(weekly, "daily")).toEqual({ kind: "daily", at: "21:15" });
    expect(withKind(weekly, "hours")).toEqual({ kind: "hours", every: 6 });
  });

  it("keeps chosen days in week order", () => {
    expect(toggleDay(["thu"], "mon")).toEqual(["mon", "thu"]);
    expect(toggleDay(["mon", "thu"], "mon")).toEqual(["thu"]);
  });

  it("names weekdays in the user's language", () => {
    expect(weekdayName("mon", "en")).toBe("Mon");
    expect(weekdayName("sun", "zh-CN")).toMatch(/日/);
    expect(normalizeTime("9:05")).toBe("09:05");
  });
});
