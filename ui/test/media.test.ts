import { describe, expect, it } from "vitest";
import type { AttachmentRef, Message, MessageKind } from "../src/ipc";
import { mediaPlan, mediaUrl, rowHeight } from "../src/media";
import { rowAt } from "../src/components/virtual-list";
import { formatDuration } from "../src/components/message-view";

const BASE = "chatvault-media://localhost/";

function att(path: string, more: Partial<AttachmentRef> = {}): AttachmentRef {
  return { path, name: path.split("/").pop(), role: "original", missing: false, ...more };
}

function msg(kind: MessageKind, attachments: AttachmentRef[]): Message {
  return {
    id: "m/1 ?",
    conversation_id: "wxid_a b",
    at: "2024-01-01T00:00:00Z",
    from_me: false,
    kind,
    text: "",
    attachments,
    raw_type: 3,
  };
}

describe("media plan", () => {
  it("shows a thumbnail inline and the original larger", () => {
    const m = msg("image", [att("a.dat"), att("a_t.dat", { role: "thumbnail" })]);
    expect(mediaPlan(m).image).toEqual({ inline: 1, large: 0, thumbnailOnly: false });
  });

  it("says so when only the thumbnail exists", () => {
    const m = msg("image", [att("a.dat", { missing: true }), att("a_t.dat", { role: "thumbnail" })]);
    expect(mediaPlan(m).image).toEqual({ inline: 1, large: 1, thumbnailOnly: true });
    expect(rowHeight(m)).toBeGreaterThan(rowHeight(msg("text", [])));
  });

  it("plays voice and video, and shows files and missing media as chips", () => {
    expect(mediaPlan(msg("voice", [att("v.silk")])).voice).toBe(0);
    expect(mediaPlan(msg("video", [att("v.mp4"), att("v.jpg", { role: "thumbnail" })])).video).toEqual({ index: 0, poster: 1 });
    expect(mediaPlan(msg("file", [att("a.pdf")])).chips).toEqual([0]);
    expect(mediaPlan(msg("voice", [att("v.silk", { missing: true })])).chips).toEqual([0]);
    expect(mediaPlan(msg("image", [att("a.dat", { missing: true })])).image).toBeUndefined();
  });
});

describe("media URLs", () => {
  it("name store media by conversation, message and index, escaped", () => {
    const m = msg("image", [att("FileStorage/x.dat")]);
    expect(mediaUrl(BASE, "store", m, 0)).toBe(`${BASE}store/wxid_a%20b/m%2F1%20%3F/0`);
    expect(mediaUrl(BASE, "store", m, 1)).toBeNull();
  });

  it("name restored media by their relative path, preferring the viewable form", () => {
    const m = msg("image", [att("attachments/c/1-a.dat", { viewable: "attachments/c/1-a.jpg" })]);
    expect(mediaUrl(BASE, "library", m, 0)).toBe(`${BASE}library/attachments/c/1-a.jpg?kind=image`);
    for (const bad of ["/etc/passwd", "attachments/../../x", "C:/x", "a\\..\\b", "attachments//x"]) {
      expect(mediaUrl(BASE, "preview", msg("image", [att(bad)]), 0), bad).toBeNull();
    }
  });
});

describe("rowAt", () => {
  it("finds the row at a position among rows of different heights", () => {
    const offsets = [0, 68, 260, 328];
    expect(rowAt(offsets, 0)).toBe(0);
    expect(rowAt(offsets, 67)).toBe(0);
    expect(rowAt(offsets, 68)).toBe(1);
    expect(rowAt(offsets, 300)).toBe(2);
    expect(rowAt(offsets, 9999)).toBe(2);
    expect(rowAt([0], 10)).toBe(0);
  });
});

describe("formatDuration", () => {
  it("writes seconds as m:ss", () => {
    expect(formatDuration(2.5)).toBe("0:03");
    expect(formatDuration(61)).toBe("1:01");
    expect(formatDuration(0)).toBe("0:00");
  });
});
