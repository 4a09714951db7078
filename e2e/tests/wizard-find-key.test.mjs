// Find my key in the real window: a WeChat 4.x store found in the user's home gets a Find my
// key button with its consent sentence (English and Chinese); against a stand-in WeChat process
// (tests/support/wechat_standin.py, named "wechat", holding the fixture's raw keys among
// decoys) it finds the key, shows where from and how many database files it opens, and the
// store opens with it. The store path can also be picked with the OS dialog (in this build
// CHATVAULT_E2E_PICK stands in for the user's choice, since WebDriver cannot drive a GTK dialog).
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { cpSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ROOT, byTestId, startApp } from "../lib/app.mjs";

const FIXTURE = join(ROOT, "tests/fixtures/stores/wechat4");
const expected = JSON.parse(readFileSync(join(FIXTURE, "expected.json"), "utf8"));
const en = JSON.parse(readFileSync(join(ROOT, "ui/src/i18n/en.json"), "utf8"));
const zh = JSON.parse(readFileSync(join(ROOT, "ui/src/i18n/zh-CN.json"), "utf8"));
const scratch = mkdtempSync(join(tmpdir(), "chatvault-e2e-findkey-"));
const home = join(scratch, "home");
const account = "wxid_chenxm2015_8f3a";
const storePath = join(home, "Documents", "xwechat_files", account);
let app;
let standin;

/** The stand-in WeChat: python3 (the real interpreter, not a shim) under the name "wechat". */
function startStandIn() {
  const real = spawnSync("python3", ["-c", "import os, sys; print(os.path.realpath(sys.executable))"], {
    encoding: "utf8",
  }).stdout.trim();
  const exe = join(scratch, "wechat");
  symlinkSync(real, exe);
  const child = spawn(exe, [join(ROOT, "tests/support/wechat_standin.py")], { stdio: ["pipe", "pipe", "inherit"] });
  const config = {
    raw_keys: Object.values(expected.key.raw_keys),
    decoys: 200,
    open: [join(storePath, "db_storage/message/message_0.db")],
  };
  child.stdin.write(JSON.stringify(config) + "\n");
  return new Promise((resolve, reject) => {
    child.stdout.once("data", (d) => (String(d).trim() === "ready" ? resolve(child) : reject(new Error(String(d)))));
    child.once("exit", (code) => reject(new Error(`stand-in exited with ${code}`)));
  });
}

before(async () => {
  // The app looks for stores in this home only; the store is a copy of the fixture.
  cpSync(join(ROOT, "tests/fixtures/stores", expected.store_root), storePath, { recursive: true });
  process.env.HOME = home;
  process.env.CHATVAULT_E2E_PICK = storePath;
  standin = await startStandIn();
  app = await startApp();
  const { browser } = app;
  await byTestId(browser, "language-select").waitForDisplayed({ timeout: 15000 });
  await byTestId(browser, "language-select").selectByAttribute("value", "en");
  await byTestId(browser, "nav-backup").click();
  await byTestId(browser, "step-store").waitForDisplayed({ timeout: 5000 });
});

after(async () => {
  await app?.stop();
  standin?.kill();
  rmSync(scratch, { recursive: true, force: true });
});

test("the found store offers Find my key with its consent sentence in both languages", async () => {
  const { browser } = app;
  await byTestId(browser, "find-key-button").waitForDisplayed({ timeout: 15000 });
  assert.equal(await byTestId(browser, "find-key-button").getText(), en["store.find_key"]);
  assert.equal(await byTestId(browser, "find-key-consent").getText(), en["store.find_key_consent"]);
  await byTestId(browser, "language-select").selectByAttribute("value", "zh-CN");
  await browser.waitUntil(async () => (await byTestId(browser, "find-key-button").getText()) === zh["store.find_key"], {
    timeout: 5000,
  });
  assert.equal(await byTestId(browser, "find-key-consent").getText(), zh["store.find_key_consent"]);
  await app.screenshot("wizard-1-find-key-zh-CN");
  await byTestId(browser, "language-select").selectByAttribute("value", "en");
  // The manual field stays as the fallback.
  assert.ok(await byTestId(browser, "store-key").isDisplayed());
});

test("the store path can be picked with the OS dialog and typed", async () => {
  const { browser } = app;
  await byTestId(browser, "store-path").setValue("typed by hand");
  assert.equal(await byTestId(browser, "store-path").getValue(), "typed by hand");
  await byTestId(browser, "store-pick-folder").click();
  await browser.waitUntil(async () => (await byTestId(browser, "store-path").getValue()) === storePath, { timeout: 5000 });
});

test("Find my key finds the key in the running WeChat and the store opens with it", async () => {
  const { browser } = app;
  await byTestId(browser, "remember-key").click(); // do not remember a fixture key
  await byTestId(browser, "find-key-button").click();
  const result = byTestId(browser, "find-key-result");
  const banner = byTestId(browser, "error-banner");
  await browser.waitUntil(async () => (await result.isDisplayed()) || (await banner.isDisplayed()), {
    timeout: 60000,
  });
  if (await banner.isDisplayed()) {
    await app.screenshot("wizard-1-find-key-error");
    assert.fail(`Find my key failed: ${await banner.getAttribute("data-code")}: ${await banner.getText()}`);
  }
  const text = await result.getText();
  assert.match(text, new RegExp(`wechat \\(pid ${standin.pid}\\)`));
  const dbs = Object.keys(expected.key.raw_keys).length;
  assert.match(text, new RegExp(`It opens ${dbs} of ${dbs} database files`));
  await app.screenshot("wizard-1-find-key-found-en");
  await byTestId(browser, "find-key-continue").click();
  await byTestId(browser, "step-select").waitForDisplayed({ timeout: 20000 });
  const rows = await browser.$$('[data-testid="conversation-row"]');
  assert.equal(rows.length, expected.conversations.length);
});
