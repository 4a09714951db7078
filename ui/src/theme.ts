import type { Theme } from "./ipc";

/** Applies a theme choice; "system" leaves it to the OS through prefers-color-scheme. */
export function applyTheme(theme: Theme, root: HTMLElement = document.documentElement): void {
  root.dataset.theme = theme;
}
