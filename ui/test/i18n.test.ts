import { describe, expect, it } from "vitest";
import { catalogues, describeError, languageForLocale, translator } from "../src/i18n";
import { errorCodes } from "../src/ipc";

describe("message catalogues", () => {
  it("have the same keys in every language", () => {
    expect(Object.keys(catalogues["zh-CN"]).toSorted()).toEqual(Object.keys(catalogues.en).toSorted());
  });

  it("have no empty messages", () => {
    for (const [lang, cat] of Object.entries(catalogues)) {
      for (const [key, text] of Object.entries(cat)) {
        expect(text.trim(), `${lang} ${key}`).not.toBe("");
      }
    }
  });

  it("give every error code a message and a hint in every language", () => {
    for (const lang of ["en", "zh-CN"] as const) {
      const t = translator(lang);
      for (const code of errorCodes) {
        const d = describeError(t, { code, message: "detail", hint: null });
        expect(d.message, `${lang} ${code}`).toBeTruthy();
        expect(d.hint, `${lang} ${code}`).toBeTruthy();
        expect(d.detail).toBe("detail");
      }
    }
  });

  it("are really translated: Chinese navigation uses Chinese characters", () => {
    const zh = translator("zh-CN");
    for (const key of ["nav.backup", "nav.restore", "nav.schedule", "nav.settings"] as const) {
      expect(zh(key)).toMatch(/[\u4e00-\u9fff]/);
      expect(zh(key)).not.toBe(translator("en")(key));
    }
  });
});

describe("languageForLocale", () => {
  it("picks Simplified Chinese for any Chinese locale and English otherwise", () => {
    expect(languageForLocale("zh-CN")).toBe("zh-CN");
    expect(languageForLocale("zh-Hans-SG")).toBe("zh-CN");
    expect(languageForLocale("en-GB")).toBe("en");
    expect(languageForLocale("fr")).toBe("en");
    expect(languageForLocale(undefined)).toBe("en");
  });
});
