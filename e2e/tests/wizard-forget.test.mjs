// Forgetting a conversation from the app: back up the demo store to a folder, restore one
// conversation into the library and a folder, forget it from the Restore page with both purge
// boxes ticked, and check the library, the export folder and the repository (through the CLI);
// then a new wizard on the same store shows it as forgotten in step 2, the user includes it
// again, and the next backup keeps it.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { byTestId, ROOT, startApp } from "../lib/app.mjs";

let app;
const targetDir = mkdtempSync(join(tmpdir(), "chatvault-e2e-forget-target-"));
const target = `file://${targetDir}`;
const exportDir = mkdtempSync(join(tmpdir(), "chatvault-e2e-forget-export-"));
const cli = process.env.CHATVAULT_CLI_BIN ?? join(ROOT, "target", "debug", "chatvault");
// The app writes its demo store into its data folder (create_demo_store).
const dataDir = join(process.env.XDG_DATA_HOME ?? join(process.env.HOME, ".local", "share"), "chatvault");
const demoStore = join(dataDir, "demo", "WeChat Files", "wxid_demo_me");
const demoKey = join(dataDir, "demo", "demo-key.txt");
let forgotten = { id: "", title: "" };
let conversationsBefore = 0;

before(async () => {
  app = await startApp();
  const { browser } = app;
  await byTestId(browser, "language-select").waitForDisplayed({ timeout: 15000 });
  await byTestId(browser, "language-select").selectByAttribute("value", "en");
});

after(async () => {
  await app?.stop();
});

function chatvault(...args) {
  return JSON.parse(execFileSync(cli, [...args, "--json"], { encoding: "utf8" }));
}

/** The language, set without a click: a modal dialog covers the language menu. */
async function setLanguage(browser, lang) {
  await browser.execute((v) => {
    const el = document.querySelector('[data-testid="language-select"]');
    el.value = v;
    el.dispatchEvent(new Event("change", { bubbles: true }));
  }, lang);
}

async function shotBoth(name) {
  const { browser } = app;
  await app.screenshot(`${name}-en`);
  await setLanguage(browser, "zh-CN");
  await browser.waitUntil(async () => /[\u4e00-\u9fff]/.test(await byTestId(browser, "nav-backup").getText()), { timeout: 5000 });
  await app.screenshot(`${name}-zh-CN`);
  await setLanguage(browser, "en");
  await browser.waitUntil(async () => (await byTestId(browser, "nav-backup").getText()) === "Backup", { timeout: 5000 });
}

async function setInput(browser, testId, value) {
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

/** A fresh wizard on the demo store, at step 2. */
async function openDemo(browser) {
  await byTestId(browser, "nav-restore").click();
  await byTestId(browser, "nav-backup").click();
  await byTestId(browser, "open-demo").click();
  await byTestId(browser, "step-select").waitForDisplayed({ timeout: 30000 });
}

/** Steps 3 to 6 to the local folder; a new key the first time. */
async function backUpToFolder(browser) {
  await byTestId(browser, "wizard-next").click();
  await byTestId(browser, "step-target").waitForDisplayed({ timeout: 5000 });
  await setInput(browser, "target-path", targetDir);
  await byTestId(browser, "test-connection").click();
  await byTestId(browser, "test-result").waitForDisplayed({ timeout: 15000 });
  await byTestId(browser, "wizard-next").click();
  await byTestId(browser, "step-protect").waitForDisplayed({ timeout: 15000 });
  await browser.waitUntil(async () => (await byTestId(browser, "create-key").isExisting()) || (await byTestId(browser, "protect-ready").isExisting()), {
    timeout: 15000,
  });
  if (await byTestId(browser, "create-key").isExisting()) {
    await byTestId(browser, "create-key").click();
    const code = await byTestId(browser, "recovery-code");
    await code.waitForDisplayed({ timeout: 15000 });
    const groups = (await code.getText()).split("-");
    const [a, b] = (await byTestId(browser, "confirm-prompt").getAttribute("data-groups")).split(",").map(Number);
    await setInput(browser, "confirm-group-0", groups[a - 1]);
    await setInput(browser, "confirm-group-1", groups[b - 1]);
    await browser.waitUntil(() => byTestId(browser, "wizard-next").isEnabled(), { timeout: 3000 });
  }
  await byTestId(browser, "wizard-next").click();
  await byTestId(browser, "step-done").waitForDisplayed({ timeout: 60000 });
  return byTestId(browser, "done-summary");
}

test("back up the demo store, then restore one conversation into the library and a folder", async () => {
  const { browser } = app;
  await openDemo(browser);
  await byTestId(browser, "select-all").click();
  const summary = await backUpToFolder(browser);
  assert.ok(Number(await summary.getAttribute("data-messages")) > 10);

  await byTestId(browser, "nav-restore").click();
  await setInput(browser, "restore-target", target);
  await byTestId(browser, "load-snapshots").click();
  await browser.waitUntil(async () => (await browser.$$('[data-testid="snapshot-row"]').length) === 1, { timeout: 15000 });
  await (await browser.$$('[data-testid="snapshot-row"]'))[0].click();
  await browser.waitUntil(async () => (await browser.$$('[data-testid="restore-conv-row"]').length) > 1, { timeout: 15000 });
  conversationsBefore = (await browser.$$('[data-testid="restore-conv-row"]')).length;
  const row = (await browser.$$('[data-testid="restore-conv-row"]'))[0];
  forgotten = { id: await row.getAttribute("data-id"), title: await row.$(".title").getText() };
  await row.$('[data-testid="restore-conv-check"]').click();
  await setInput(browser, "restore-export-dir", exportDir);
  await byTestId(browser, "restore-run").click();
  await byTestId(browser, "restore-result").waitForDisplayed({ timeout: 30000 });
  // One file per format, named by the conversation's title (safe on every disk).
  const written = readdirSync(exportDir).filter((n) => /\.(html|json|txt)$/.test(n) && n !== "index.html");
  const stems = new Set(written.map((n) => n.replace(/\.(html|json|txt)$/, "")));
  assert.equal(written.length, 3, written.join(", "));
  assert.equal(stems.size, 1, written.join(", "));
  assert.ok(existsSync(join(exportDir, "index.html")));
  writeFileSync(join(exportDir, "my own notes.txt"), "mine");

  await byTestId(browser, "nav-library").click();
  await browser.$(`[data-testid="library-conv-row"][data-id="${forgotten.id}"]`).waitForDisplayed({ timeout: 10000 });
});

test("forget it from the Restore page: gone from the backup, the library and the exports", async () => {
  const { browser } = app;
  await byTestId(browser, "nav-restore").click();
  await setInput(browser, "restore-target", target);
  await byTestId(browser, "load-snapshots").click();
  await browser.waitUntil(async () => (await browser.$$('[data-testid="snapshot-row"]').length) === 1, { timeout: 15000 });
  await (await browser.$$('[data-testid="snapshot-row"]'))[0].click();
  const row = await browser.$(`[data-testid="restore-conv-row"][data-id="${forgotten.id}"]`);
  await row.waitForDisplayed({ timeout: 15000 });
  await row.$('[data-testid="forget-conv"]').click();
  await byTestId(browser, "forget-dialog").waitForDisplayed({ timeout: 5000 });
  assert.ok(await byTestId(browser, "forget-purge-library").isSelected(), "library purge is on by default");
  assert.ok(await byTestId(browser, "forget-purge-exports").isSelected(), "exports purge is on by default");
  assert.equal(await byTestId(browser, "forget-run").isEnabled(), false, "needs the explicit confirmation");
  await shotBoth("forget-dialog");
  await byTestId(browser, "forget-understood").click();
  await byTestId(browser, "forget-run").click();
  const result = byTestId(browser, "forget-result");
  await result.waitForDisplayed({ timeout: 60000 });
  assert.equal(await result.getAttribute("data-keys"), "1");
  assert.ok(Number(await result.getAttribute("data-library")) > 0);
  assert.ok(Number(await result.getAttribute("data-exports")) >= 4, "html, json, txt, the index page and any attachments");
  await app.screenshot("forget-result-en");
  await byTestId(browser, "forget-close").click();

  // The export folder keeps only the user's own file.
  assert.deepEqual(readdirSync(exportDir), ["my own notes.txt"]);
  // The library no longer lists it.
  await byTestId(browser, "nav-library").click();
  await byTestId(browser, "page-title").waitForDisplayed({ timeout: 5000 });
  await browser.pause(500);
  assert.equal(await browser.$(`[data-testid="library-conv-row"][data-id="${forgotten.id}"]`).isExisting(), false);

  // The repository: forgotten, and no snapshot holds it.
  const listed = chatvault("forgotten", "--target", target, "--store", demoStore, "--key-file", demoKey);
  assert.ok(
    listed.forgotten.some((f) => f.id === forgotten.id && f.whole),
    JSON.stringify(listed),
  );
  const snapshots = chatvault("snapshots", "--target", target);
  assert.equal(snapshots.length, 1);
  assert.equal(snapshots[0].conversations, conversationsBefore - 1);
  let restoredCount = 0;
  try {
    restoredCount = chatvault("restore", "--target", target, "--conversation", forgotten.id, "--into", mkdtempSync(join(tmpdir(), "cv-"))).conversations;
  } catch {
    // No snapshot holds it: an error is the expected answer too.
  }
  assert.equal(restoredCount, 0);
});

test("step 2 shows it as forgotten; including it again backs it up again", async () => {
  const { browser } = app;
  await openDemo(browser);
  const row = await browser.$(`[data-testid="conversation-row"][data-id="${forgotten.id}"]`);
  await row.waitForDisplayed({ timeout: 15000 });
  await row.$('[data-testid="forgotten-badge"]').waitForDisplayed({ timeout: 15000 });
  await byTestId(browser, "select-all").click();
  assert.equal(await row.$('[data-testid="conversation-check"]').isSelected(), false, "select all leaves it out");
  // Selected by hand, it is said to be skipped.
  await row.$('[data-testid="conversation-check"]').click();
  await byTestId(browser, "forgotten-selected").waitForDisplayed({ timeout: 5000 });
  await shotBoth("forget-step2");

  await row.$('[data-testid="include-again"]').click();
  await byTestId(browser, "include-confirm").waitForDisplayed({ timeout: 5000 });
  await byTestId(browser, "include-yes").click();
  await browser.waitUntil(async () => !(await row.$('[data-testid="forgotten-badge"]').isExisting()), { timeout: 15000 });
  assert.equal(await byTestId(browser, "forgotten-selected").isExisting(), false);
  await byTestId(browser, "select-all").click();

  const summary = await backUpToFolder(browser);
  assert.equal(await summary.getAttribute("data-skipped-forgotten"), "0");
  const listed = chatvault("forgotten", "--target", target, "--store", demoStore, "--key-file", demoKey);
  assert.deepEqual(listed.forgotten, []);
  const restored = chatvault("restore", "--target", target, "--conversation", forgotten.id, "--into", mkdtempSync(join(tmpdir(), "cv-")));
  assert.equal(restored.conversations, 1);
  assert.ok(restored.messages > 0);
});
