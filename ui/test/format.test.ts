import { describe, expect, it } from "vitest";
import { dayToTimestamp, fill, formatMonth, humanBytes, kindLabel, messageLine, timestampToDay } from "../src/format";
import { translator } from "../src/i18n";
import type { Message, MessageKind } from "../src/ipc";

describe("date inputs", () => {
  it("map a day to its first and last second in UTC and back", () => {
    expect(dayToTimestamp("2024-02-29", false)).toBe("2024-02-29T00:00:00Z");
    expect(dayToTimestamp("2024-02-29", true)).toBe("2024-02-29T23:59:59Z");
    expect(dayToTimestamp("", false)).toBeNull();
    expect(dayToTimestamp("29/02/2024", false)).toBeNull();
    expect(timestampToDay("2024-02-29T23:59:59Z")).toBe("2024-02-29");
    expect(timestampToDay(null)).toBe("");
  });
});

function msg(kind: MessageKind, text: string): Message {
  return {
    id: "1",
    conversation_id: "c",
    at: "2024-01-01T00:00:00Z",
    sender: "s",
    sender_name: "S",
    from_me: false,
    kind,
    text,
    attachments: [],
    raw_type: 0,
  };
}

describe("messages as text", () => {

  it("label every non-text kind in both languages and leave text bare", () => {
    const kinds: MessageKind[] = [
      "image", "voice", "video", "file", "link", "quote", "sticker", "location",
      "call", "transfer", "red_packet", "contact_card", "system", "recalled", "unknown",
    ];
    for (const lang of ["en", "zh-CN"] as const) {
      const t = translator(lang);
      expect(kindLabel(t, "text")).toBe("");
      const labels = kinds.map((k) => kindLabel(t, k));
      expect(labels.every((l) => l.length > 0)).toBe(true);
      expect(new Set(labels).size).toBe(kinds.length);
    }
    const t = translator("zh-CN");
    expect(messageLine(t, msg("file", "报告.pdf"))).toBe("[文件] 报告.pdf");
    expect(messageLine(t, msg("text", "你好"))).toBe("你好");
    expect(messageLine(t, msg("image", ""))).toBe("[图片]");
  });
});

describe("small helpers", () => {
  it("fill placeholders and keep unknown ones", () => {
    expect(fill("{a} of {b} {c}", { a: 1, b: "two" })).toBe("1 of two {c}");
  });
  it("print sizes in binary units", () => {
    expect(humanBytes(512)).toBe("512 B");
    expect(humanBytes(1536)).toBe("1.5 KiB");
    expect(humanBytes(5 * 1024 ** 3)).toBe("5.0 GiB");
  });
});

describe("formatMonth", () => {
  it("names a month in the user's language", () => {
    expect(formatMonth("2024-01", "en")).toBe("Jan 2024");
    expect(formatMonth("2024-01", "zh-CN")).toBe("2024年1月");
    expect(formatMonth("nonsense", "en")).toBe("nonsense");
  });
});
