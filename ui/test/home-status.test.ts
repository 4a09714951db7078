import { describe, expect, it } from "vitest";
import type { ProfileStatus } from "../src/ipc";
import { attentionLines, percent, shareSlices } from "../src/home-status";
import en from "../src/i18n/en.json";
import zhCN from "../src/i18n/zh-CN.json";

function status(name: string, attention: ProfileStatus["attention"]): ProfileStatus {
  return {
    name,
    store: "/s",
    target: "file:///t",
    rule: "daily 02:30",
    paused: false,
    skip_on_battery: false,
    skip_on_metered: false,
    last: null,
    last_success: null,
    failures: 0,
    next_run: null,
    key: "in_keychain",
    attention,
  };
}

describe("the home page", () => {
  it("lists every attention of every profile, with a message in both languages", () => {
    const lines = attentionLines([
      status("a", []),
      status("b", [{ kind: "overdue", since: null }, { kind: "target", error: { code: "repo_not_found", message: "x", hint: null } }]),
      status("c", [{ kind: "repo_key" }, { kind: "store_key", error: { code: "store_wrong_key", message: "x", hint: null } }, { kind: "damaged", problems: 2, error: null }]),
    ]);
    expect(lines.map((l) => `${l.profile}:${l.attention.kind}`)).toEqual(["b:overdue", "b:target", "c:repo_key", "c:store_key", "c:damaged"]);
    for (const l of lines) {
      expect((en as Record<string, string>)[l.key]).toBeTruthy();
      expect((zhCN as Record<string, string>)[l.key]).toBeTruthy();
    }
  });

  it("draws the largest conversations and sums up the rest as one slice", () => {
    const shares = [5, 50, 1, 20, 3].map((bytes, i) => ({ id: String(i), title: `c${i}`, messages: 1, bytes }));
    expect(shareSlices(shares, 2)).toEqual([
      { title: "c1", bytes: 50 },
      { title: "c3", bytes: 20 },
      { title: null, bytes: 9 },
    ]);
    expect(shareSlices(shares, 10)).toHaveLength(5);
    expect(shares.map((s) => s.bytes)).toEqual([5, 50, 1, 20, 3]);
    expect(percent(1, 3)).toBe(33);
    expect(percent(1, 0)).toBe(0);
  });
});
