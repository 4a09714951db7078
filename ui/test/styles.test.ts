import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";

describe("styles.css", () => {
  it("closes every block (an unclosed one nests every later rule under it)", () => {
    const css = readFileSync(join(import.meta.dirname, "..", "src", "styles.css"), "utf8").replace(/\/\*[\s\S]*?\*\//g, "");
    let depth = 0;
    for (const [i, line] of css.split("\n").entries()) {
      for (const ch of line) {
        if (ch === "{") depth++;
        if (ch === "}") depth--;
        expect(depth, `line ${i + 1}`).toBeGreaterThanOrEqual(0);
      }
      // Top-level rules start at column 0; a rule there while a block is open is the bug.
      if (/^[.#a-z@:[*]/i.test(line) && line.trimEnd().endsWith("{")) expect(depth, `line ${i + 1}: ${line}`).toBe(1);
    }
    expect(depth).toBe(0);
  });
});
