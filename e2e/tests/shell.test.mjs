// The app shell: the window opens, every page can be reached, the language switch changes
// what the user reads and is remembered.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { byTestId, startApp } from "../lib/app.mjs";

const PAGES = ["home", "backup", "restore", "library", "history", "schedule", "settings"];
const HAN = /[\u4e00-\u9fff]/;
let app;

before(async () => {
  app = await startApp();
  await byTestId(app.browser, "nav-backup").waitForDisplayed({ timeout: 15000 });
});

after(async () => {
  await app?.stop();
});

test("the window shows ChatVault with its navigation", async () => {
  const { browser } = app;
  assert.equal(await browser.getTitle(), "ChatVault");
  for (const id of PAGES) {
    assert.ok(await byTestId(browser, `nav-${id}`).isDisplayed(), `nav-${id} is shown`);
  }
});

test("each navigation entry opens its page", async () => {
  const { browser } = app;
  for (const id of PAGES) {
    await byTestId(browser, `nav-${id}`).click();
    await byTestId(browser, `page-${id}`).waitForDisplayed({ timeout: 5000 });
    const title = await byTestId(browser, "page-title").getText();
    assert.ok(title.length > 0, `page ${id} has a title`);
    assert.equal(await byTestId(browser, `nav-${id}`).getAttribute("aria-current"), "page");
  }
  const version = await byTestId(browser, "app-version").getText();
  assert.match(version, /^\d+\.\d+\.\d+/);
  assert.match(await byTestId(browser, "app-commit").getText(), /^[0-9a-f]{12}$/);
  assert.equal(await byTestId(browser, "app-format").getText(), "1");
});

test("switching the language changes the visible text and is remembered", async () => {
  const { browser } = app;
  await byTestId(browser, "nav-backup").click();
  await byTestId(browser, "language-select").selectByAttribute("value", "en");
  await browser.waitUntil(async () => (await byTestId(browser, "nav-backup").getText()) === "Backup", {
    timeout: 5000,
    timeoutMsg: "English navigation did not appear",
  });
  const englishTitle = await byTestId(browser, "page-title").getText();
  await app.screenshot("shell-en");

  await byTestId(browser, "language-select").selectByAttribute("value", "zh-CN");
  await browser.waitUntil(async () => HAN.test(await byTestId(browser, "nav-backup").getText()), {
    timeout: 5000,
    timeoutMsg: "Chinese navigation did not appear",
  });
  const chineseTitle = await byTestId(browser, "page-title").getText();
  assert.notEqual(chineseTitle, englishTitle);
  assert.match(chineseTitle, HAN);
  await browser.waitUntil(async () => (await browser.execute(() => document.documentElement.lang)) === "zh-CN", {
    timeout: 5000,
    timeoutMsg: "the page's language attribute did not follow",
  });
  await app.screenshot("shell-zh-CN");

  // Saved in the settings file under the test's XDG config folder, not the real home.
  const settings = readFileSync(join(process.env.XDG_CONFIG_HOME, "chatvault", "settings.toml"), "utf8");
  assert.match(settings, /language = "zh-CN"/);
});

test("the theme can be forced to dark", async () => {
  const { browser } = app;
  await byTestId(browser, "nav-settings").click();
  await byTestId(browser, "settings-theme").selectByAttribute("value", "dark");
  await browser.waitUntil(async () => (await browser.execute(() => document.documentElement.dataset.theme)) === "dark", {
    timeout: 5000,
  });
  const bg = await browser.execute(() => getComputedStyle(document.body).backgroundColor);
  assert.equal(bg, "rgb(21, 24, 30)");
  await byTestId(browser, "settings-theme").selectByAttribute("value", "system");
});

test("starting at login is opt-in and can be turned off again", async () => {
  const { browser } = app;
  const { existsSync, readdirSync } = await import("node:fs");
  const dir = join(process.env.XDG_CONFIG_HOME, "autostart");
  const entries = () => (existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith(".desktop")) : []);
  // XDG_CONFIG_HOME is the test's own folder: the entry must land there, not in the real home.
  assert.equal(entries().length, 0, "off by default");
  await byTestId(browser, "nav-settings").click();
  await byTestId(browser, "settings-autostart").click();
  await browser.waitUntil(async () => entries().length === 1, { timeout: 5000, timeoutMsg: "no autostart entry was written" });
  await byTestId(browser, "settings-autostart").click();
  await browser.waitUntil(async () => entries().length === 0, { timeout: 5000, timeoutMsg: "the autostart entry stayed" });
});
