// Wizard steps 1 and 2 in the real window: a wrong key is refused with its message and hint,
// the right key opens a fixture store, the demo store opens with one click, conversations can
// be previewed, picked and narrowed by time.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { ROOT, byTestId, startApp } from "../lib/app.mjs";

const HAN = /[\u4e00-\u9fff]/;
const FIXTURE = join(ROOT, "tests/fixtures/stores/wechat-win3");
const expected = JSON.parse(readFileSync(join(FIXTURE, "expected.json"), "utf8"));
const storePath = join(ROOT, "tests/fixtures/stores", expected.store_root);
const catalogue = JSON.parse(readFileSync(join(ROOT, "ui/src/i18n/en.json"), "utf8"));
let app;

before(async () => {
  app = await startApp();
  const { browser } = app;
  await byTestId(browser, "language-select").waitForDisplayed({ timeout: 15000 });
  await byTestId(browser, "language-select").selectByAttribute("value", "en");
  await byTestId(browser, "nav-backup").click();
  await byTestId(browser, "step-store").waitForDisplayed({ timeout: 5000 });
});

after(async () => {
  await app?.stop();
});

async function setDate(browser, testId, value) {
  await browser.execute(
    (id, v) => {
      const el = document.querySelector(`[data-testid="${id}"]`);
      el.value = v;
      el.dispatchEvent(new Event("input", { bubbles: true }));
    },
    testId,
    value,
  );
}

async function textsOf(browser, testId) {
  const els = await browser.$$(`[data-testid="${testId}"]`);
  const out = [];
  for (let i = 0; i < els.length; i++) out.push(await els[i].getText());
  return out;
}

async function summaryCount(browser) {
  const text = await byTestId(browser, "selection-summary").getText();
  const m = text.match(/(\d+) conversations · (\d+) messages/);
  return m ? { conversations: Number(m[1]), messages: Number(m[2]) } : null;
}

test("a wrong key is refused with the code's message and hint", async () => {
  const { browser } = app;
  await byTestId(browser, "store-path").setValue(storePath);
  await byTestId(browser, "store-key").setValue("00".repeat(32));
  await byTestId(browser, "open-store").click();
  const banner = byTestId(browser, "error-banner");
  await banner.waitForDisplayed({ timeout: 20000 });
  assert.equal(await banner.getAttribute("data-code"), "store_wrong_key");
  assert.equal(await byTestId(browser, "error-message").getText(), catalogue["error.store_wrong_key.message"]);
  assert.match(await byTestId(browser, "error-hint").getText(), new RegExp(catalogue["error.store_wrong_key.hint"].slice(0, 20)));
  await app.screenshot("wizard-1-wrong-key-en");
});

test("the right key opens the store and lists its conversations", async () => {
  const { browser } = app;
  await byTestId(browser, "store-key").setValue(expected.key.hex);
  await byTestId(browser, "remember-key").click(); // do not remember a fixture key
  await byTestId(browser, "open-store").click();
  await byTestId(browser, "step-select").waitForDisplayed({ timeout: 20000 });
  const titles = await textsOf(browser, "conversation-row");
  assert.equal(titles.length, expected.conversations.length);
  for (const c of expected.conversations) {
    assert.ok(titles.some((t) => t.includes(c.title)), `conversation ${c.title} listed`);
  }
  await byTestId(browser, "wizard-back").click();
  await byTestId(browser, "step-store").waitForDisplayed({ timeout: 5000 });
});

test("the demo store opens, previews messages and counts the selection", async () => {
  const { browser } = app;
  await byTestId(browser, "open-demo").click();
  await byTestId(browser, "step-select").waitForDisplayed({ timeout: 30000 });
  const rows = await browser.$$('[data-testid="conversation-row"]');
  assert.equal(rows.length, 6);

  await rows[0].click();
  await browser.waitUntil(async () => (await browser.$$('[data-testid="message"]').length) > 0, {
    timeout: 10000,
    timeoutMsg: "no messages in the preview",
  });
  const texts = await textsOf(browser, "message-text");
  assert.ok(texts.some((t) => HAN.test(t)), "Chinese text is rendered");

  const checks = await browser.$$('[data-testid="conversation-check"]');
  await checks[0].click();
  await checks[1].click();
  await browser.waitUntil(async () => (await summaryCount(browser))?.conversations === 2, { timeout: 5000 });
  await browser.waitUntil(async () => (await summaryCount(browser)) !== null, { timeout: 5000 });
  const all = await summaryCount(browser);
  assert.ok(all.messages > 0);

  await setDate(browser, "range-since", "2024-01-01");
  await browser.waitUntil(
    async () => {
      const c = await summaryCount(browser);
      return c !== null && c.messages < all.messages;
    },
    { timeout: 5000, timeoutMsg: "the time range did not narrow the selection" },
  );
  await app.screenshot("wizard-2-select-en");

  await byTestId(browser, "language-select").selectByAttribute("value", "zh-CN");
  await browser.waitUntil(async () => HAN.test(await byTestId(browser, "selection-summary").getText()), { timeout: 5000 });
  await app.screenshot("wizard-2-select-zh-CN");
  await byTestId(browser, "language-select").selectByAttribute("value", "en");
});
