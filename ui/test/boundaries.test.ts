import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { describe, expect, it } from "vitest";

const UI = join(import.meta.dirname, "..");
const SRC = join(UI, "src");

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    return statSync(p).isDirectory() ? files(p) : /\.(ts|tsx)$/.test(name) ? [p] : [];
  });
}

describe("module boundaries", () => {
  it("only src/ipc imports @tauri-apps/*", () => {
    const offenders = files(SRC)
      .filter((f) => !relative(SRC, f).startsWith("ipc"))
      .filter((f) => /from\s+["']@tauri-apps\//.test(readFileSync(f, "utf8")));
    expect(offenders.map((f) => relative(SRC, f))).toEqual([]);
  });

  it("loads nothing from the network", () => {
    const html = readFileSync(join(UI, "index.html"), "utf8");
    const sources = [html, ...files(SRC).map((f) => readFileSync(f, "utf8"))].join("\n");
    expect(sources).not.toMatch(/(src|href)=["']https?:\/\//);
    expect(sources).not.toMatch(/@import\s+url\(["']?https?:/);
  });
});
