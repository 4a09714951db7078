// Message catalogues: one JSON file per language, typed keys. English is the reference; the
// type of zh-CN forces it to have every English key, and a test checks there are no extras.
import { createContext } from "preact";
import { useContext } from "preact/hooks";
import type { ErrorCode, Language, WireError } from "../ipc";
import en from "./en.json";
import zhCN from "./zh-CN.json";

export type MessageKey = keyof typeof en;
export type Catalogue = Record<MessageKey, string>;

export const catalogues: Record<Language, Catalogue> = { en, "zh-CN": zhCN };

export const LANGUAGES: readonly { id: Language; label: string }[] = [
  { id: "zh-CN", label: "简体中文" },
  { id: "en", label: "English" },
];

/** The UI language for a BCP 47 or POSIX locale: any Chinese locale gets Simplified Chinese. */
export function languageForLocale(locale: string | undefined): Language {
  return locale?.toLowerCase().startsWith("zh") ? "zh-CN" : "en";
}

export type Translate = (key: MessageKey) => string;

export function translator(lang: Language): Translate {
  const cat = catalogues[lang];
  return (key) => cat[key];
}

/** An error from the host, in the user's language: the code's message and hint, plus the detail. */
export function describeError(t: Translate, err: WireError): { message: string; hint: string; detail: string } {
  const code: ErrorCode = err.code;
  return {
    message: t(`error.${code}.message` as MessageKey),
    hint: t(`error.${code}.hint` as MessageKey),
    detail: err.message,
  };
}

export const I18n = createContext<{ lang: Language; t: Translate }>({ lang: "en", t: translator("en") });

export function useI18n() {
  return useContext(I18n);
}
