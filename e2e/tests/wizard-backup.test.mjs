// The whole backup wizard in the real window: demo store, two conversations and a range,
// a local folder (after a failing one), a new key with its recovery code confirmed, the run,
// the summary; a second run uploads nothing new; then the same flow to the S3 test server.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execFileSync } from "node:child_process";
import { byTestId, ROOT, startApp } from "../lib/app.mjs";

let app;
let lastCode = "";
let firstPass = true;
const targetDir = mkdtempSync(join(tmpdir(), "chatvault-e2e-target-"));
// The save dialog is the OS's (GTK) and WebDriver cannot drive it: the e2e build of the app
// takes this folder as the user's choice instead (see choose_recovery_code_file). A folder
// named like Dropbox's, so the sync-folder warning shows.
const saveDir = join(mkdtempSync(join(tmpdir(), "chatvault-e2e-save-")), "Dropbox");
mkdirSync(saveDir);

before(async () => {
  process.env.CHATVAULT_E2E_SAVE_DIR = saveDir;
  app = await startApp();
  const { browser } = app;
  await byTestId(browser, "language-select").waitForDisplayed({ timeout: 15000 });
  await byTestId(browser, "language-select").selectByAttribute("value", "en");
});

after(async () => {
  await app?.stop();
});

/** Screenshots of the current view in English and Simplified Chinese (for docs/screenshots). */
async function shotBoth(name) {
  const { browser } = app;
  await app.screenshot(`${name}-en`);
  await byTestId(browser, "language-select").selectByAttribute("value", "zh-CN");
  await browser.waitUntil(async () => /[\u4e00-\u9fff]/.test(await byTestId(browser, "nav-backup").getText()), { timeout: 5000 });
  await app.screenshot(`${name}-zh-CN`);
  await byTestId(browser, "language-select").selectByAttribute("value", "en");
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

/** Steps 1 and 2: the demo store, two conversations, messages since 2022. */
async function openDemoAndSelect(browser) {
  await byTestId(browser, "nav-restore").click();
  await byTestId(browser, "nav-backup").click();
  if (firstPass) await shotBoth("wizard-1-store");
  await byTestId(browser, "open-demo").click();
  await byTestId(browser, "step-select").waitForDisplayed({ timeout: 30000 });
  const checks = await browser.$$('[data-testid="conversation-check"]');
  await checks[0].click();
  await checks[2].click();
  await setInput(browser, "range-since", "2022-01-01");
  await browser.waitUntil(async () => /2 conversations · \d+ messages/.test(await byTestId(browser, "selection-summary").getText()), {
    timeout: 5000,
  });
  if (firstPass) await shotBoth("wizard-2-select");
  await byTestId(browser, "wizard-next").click();
  await byTestId(browser, "step-target").waitForDisplayed({ timeout: 5000 });
}

/** Steps 4 to 6 from a tested target: new key, confirmed code, run, done. */
async function protectAndRun(browser, shotPrefix) {
  await byTestId(browser, "wizard-next").click();
  await byTestId(browser, "create-key").waitForDisplayed({ timeout: 15000 });
  await byTestId(browser, "create-key").click();
  const codeEl = byTestId(browser, "recovery-code");
  await codeEl.waitForDisplayed({ timeout: 15000 });
  const code = await codeEl.getText();
  lastCode = code;
  assert.match(code, /^[0-9A-HJKMNP-TV-Z]{4}(-[0-9A-HJKMNP-TV-Z]{4}){6}$/);
  if (shotPrefix) await shotBoth(`${shotPrefix}-4-protect`);
  if (shotPrefix === "wizard") {
    // Saving into a synced folder needs a confirmation; the file is new and private.
    await byTestId(browser, "save-code").click();
    const warning = byTestId(browser, "save-code-warning");
    await warning.waitForDisplayed({ timeout: 10000 });
    assert.equal(await warning.getAttribute("data-kind"), "sync_folder");
    assert.match(await warning.getText(), /Dropbox/);
    await byTestId(browser, "save-code-anyway").click();
    const done = byTestId(browser, "save-code-done");
    await done.waitForDisplayed({ timeout: 10000 });
    const saved = await done.getAttribute("data-path");
    assert.ok(saved.startsWith(saveDir) && /ChatVault recovery code [0-9a-f]{8}\.txt$/.test(saved), saved);
    assert.ok(readFileSync(saved, "utf8").includes(code));
    assert.equal(statSync(saved).mode & 0o777, 0o600);
  }
  assert.equal(await byTestId(browser, "wizard-next").isEnabled(), false, "cannot go on before confirming");
  const [a, b] = (await byTestId(browser, "confirm-prompt").getAttribute("data-groups")).split(",").map(Number);
  const groups = code.split("-");
  await setInput(browser, "confirm-group-0", groups[a - 1].toLowerCase());
  await setInput(browser, "confirm-group-1", groups[b - 1]);
  await browser.waitUntil(() => byTestId(browser, "wizard-next").isEnabled(), { timeout: 3000 });
  await byTestId(browser, "wizard-next").click();
  await byTestId(browser, "step-done").waitForDisplayed({ timeout: 60000 });
  if (shotPrefix) await shotBoth(`${shotPrefix}-6-done`);
  return byTestId(browser, "done-summary");
}

test("a failing folder shows its message and hint; a good one passes the test", async () => {
  const { browser } = app;
  await openDemoAndSelect(browser);
  await setInput(browser, "target-path", "relative/folder");
  assert.ok(await byTestId(browser, "target-error").isDisplayed(), "relative paths are refused as typed");
  assert.equal(await byTestId(browser, "test-connection").isEnabled(), false);

  await setInput(browser, "target-path", "/proc/chatvault-cannot-write-here");
  await byTestId(browser, "test-connection").click();
  const banner = byTestId(browser, "error-banner");
  await banner.waitForDisplayed({ timeout: 15000 });
  assert.ok((await byTestId(browser, "error-hint").getText()).length > 10, "a hint is shown");
  assert.equal(await byTestId(browser, "wizard-next").isEnabled(), false);

  await setInput(browser, "target-path", targetDir);
  await byTestId(browser, "test-connection").click();
  await byTestId(browser, "test-result").waitForDisplayed({ timeout: 15000 });
  await shotBoth("wizard-3-target");
});

test("create the key, confirm the code, run, and see what was saved", async () => {
  firstPass = false;
  const { browser } = app;
  const summary = await protectAndRun(browser, "wizard");
  assert.ok(Number(await summary.getAttribute("data-messages")) > 10);
  assert.ok(Number(await summary.getAttribute("data-new-segments")) > 0);
  assert.ok(readdirSync(targetDir).includes("config"), "the repository is in the chosen folder");

  await byTestId(browser, "save-profile").click();
  await byTestId(browser, "profile-saved").waitForDisplayed({ timeout: 5000 });
});

test("a run that fails shows its message and hint and can be retried; the retry uploads nothing new", async () => {
  const { browser } = app;
  const { renameSync } = await import("node:fs");
  renameSync(targetDir, `${targetDir}-gone`);
  await byTestId(browser, "backup-again").click();
  await byTestId(browser, "retry-run").waitForDisplayed({ timeout: 30000 });
  assert.equal(await byTestId(browser, "error-banner").getAttribute("data-code"), "repo_not_found");
  assert.ok((await byTestId(browser, "error-hint").getText()).length > 10);
  await shotBoth("wizard-5-run");
  renameSync(`${targetDir}-gone`, targetDir);
  await byTestId(browser, "retry-run").click();
  await byTestId(browser, "step-done").waitForDisplayed({ timeout: 60000 });
  await browser.waitUntil(async () => (await byTestId(browser, "done-summary").getAttribute("data-unchanged")) === "true", {
    timeout: 60000,
    timeoutMsg: "the second run should find nothing changed",
  });
  assert.equal(await byTestId(browser, "done-summary").getAttribute("data-new-segments"), "0");
});

test("restore one conversation into a folder, preview it first, and read it in the library", async () => {
  const { browser } = app;
  const HAN = /[\u4e00-\u9fff]/;
  await byTestId(browser, "nav-restore").click();
  await setInput(browser, "restore-target", `file://${targetDir}`);
  await byTestId(browser, "load-snapshots").click();
  await browser.waitUntil(async () => (await browser.$$('[data-testid="snapshot-row"]').length) === 2, { timeout: 15000 });
  await (await browser.$$('[data-testid="snapshot-row"]'))[0].click();
  await browser.waitUntil(async () => (await browser.$$('[data-testid="restore-conv-row"]').length) === 2, { timeout: 15000 });
  const row = (await browser.$$('[data-testid="restore-conv-row"]'))[0];
  const id = await row.getAttribute("data-id");
  await row.click();
  await browser.waitUntil(async () => (await browser.$$('[data-testid="message-text"]').length) > 0, { timeout: 15000 });
  const previewed = [];
  for (const el of await browser.$$('[data-testid="message-text"]')) previewed.push(await el.getText());
  await (await browser.$$('[data-testid="restore-conv-check"]'))[0].click();
  const exportDir = mkdtempSync(join(tmpdir(), "chatvault-e2e-export-"));
  await setInput(browser, "restore-export-dir", exportDir);
  await byTestId(browser, "restore-run").click();
  await byTestId(browser, "restore-result").waitForDisplayed({ timeout: 30000 });
  await shotBoth("restore");
  // One conversation restored: one page besides index.html, named by the chat's title.
  const pages = readdirSync(exportDir).filter((n) => n.endsWith(".html") && n !== "index.html");
  assert.equal(pages.length, 1, pages.join(", "));
  const html = readFileSync(join(exportDir, pages[0]), "utf8");
  const texts = previewed.filter((t) => t.length > 3).slice(0, 5);
  assert.ok(texts.length > 0);
  for (const t of texts) {
    const escaped = t.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;").replace(/'/g, "&#39;");
    assert.ok(html.includes(escaped), `exported HTML has ${t}`);
  }
  assert.ok(readdirSync(exportDir).includes("index.html"));
  assert.ok(HAN.test("恢复"));

  await byTestId(browser, "nav-library").click();
  await browser.waitUntil(async () => (await browser.$$('[data-testid="library-conv-row"]').length) === 1, { timeout: 10000 });
  await (await browser.$$('[data-testid="library-conv-row"]'))[0].click();
  await browser.waitUntil(async () => (await browser.$$('[data-testid="message"]').length) > 0, { timeout: 10000 });
});

async function historyRows(browser) {
  await byTestId(browser, "nav-library").click(); // leave and come back: the page reloads
  await byTestId(browser, "nav-history").click();
  await byTestId(browser, "page-history").waitForDisplayed({ timeout: 5000 });
  await browser.pause(300);
  const rows = await browser.$$('[data-testid="history-row"]');
  const out = [];
  for (let i = 0; i < rows.length; i++) {
    out.push({ ok: await rows[i].getAttribute("data-ok"), origin: await rows[i].getAttribute("data-origin"), text: await rows[i].getText() });
  }
  return out;
}

test("settings verify the backup, show the recovery code after confirming, and change it", async () => {
  const { browser } = app;
  await byTestId(browser, "nav-settings").click();
  const card = await browser.$(`[data-testid="repo-card"][data-url="file://${targetDir}"]`);
  await card.waitForDisplayed({ timeout: 10000 });
  await card.$('[data-testid="verify-now"]').click();
  await card.$('[data-testid="verify-result"]').waitForDisplayed({ timeout: 30000 });
  assert.equal(await card.$('[data-testid="verify-result"]').getAttribute("data-errors"), "0");
  await card.$('[data-testid="retest"]').click();
  await card.$('[data-testid="retest-ok"]').waitForDisplayed({ timeout: 15000 });
  await card.$('[data-testid="show-code"]').click();
  assert.ok(await card.$('[data-testid="confirm-box"]').isDisplayed(), "asks before showing the code");
  await card.$('[data-testid="confirm-yes"]').click();
  await card.$('[data-testid="shown-code"]').waitForDisplayed({ timeout: 10000 });
  assert.equal(await card.$('[data-testid="shown-code"]').getText(), lastCode);
  await card.$('[data-testid="rotate-code"]').click();
  await card.$('[data-testid="confirm-yes"]').click();
  await browser.waitUntil(async () => (await card.$('[data-testid="shown-code"]').getText()) !== lastCode, { timeout: 20000 });
  // The old code works until the user confirms having the new one.
  await card.$('[data-testid="rotate-pending"]').waitForDisplayed({ timeout: 5000 });
  await card.$('[data-testid="rotate-finish"]').click();
  await card.$('[data-testid="rotate-done"]').waitForDisplayed({ timeout: 20000 });
  await shotBoth("settings");
});

test("history shows every run; a failed scheduled profile shows its hint and can be retried", async () => {
  const { browser } = app;
  const before = await historyRows(browser);
  assert.ok(before.filter((r) => r.ok === "true").length >= 2, "the wizard's two runs are listed");

  // Make the saved profile fail: its folder disappears.
  const { renameSync } = await import("node:fs");
  renameSync(targetDir, `${targetDir}-away`);
  await byTestId(browser, "nav-schedule").click();
  const row = await browser.$('[data-testid="schedule-row"][data-name="chats"]');
  await row.waitForDisplayed({ timeout: 10000 });
  await row.$('[data-testid="backup-now"]').click();
  await browser.waitUntil(async () => (await row.$('[data-testid="schedule-last"]').getAttribute("data-ok")) === "false", { timeout: 30000 });

  const failed = await historyRows(browser);
  assert.equal(failed[0].ok, "false");
  assert.ok(await byTestId(browser, "history-error").isDisplayed(), "the failure shows its message and hint");
  await shotBoth("history");
  renameSync(`${targetDir}-away`, targetDir);
  await byTestId(browser, "history-retry").click();
  await browser.waitUntil(async () => (await browser.$$('[data-testid="history-row"]'))[0].getAttribute("data-ok").then((v) => v === "true"), {
    timeout: 30000,
    timeoutMsg: "the retry should succeed once the folder is back",
  });
});

test("a short schedule runs by itself, and pausing moves the next run", async () => {
  const { browser } = app;
  await byTestId(browser, "nav-schedule").click();
  const row = await browser.$('[data-testid="schedule-row"][data-name="chats"]');
  await row.waitForDisplayed({ timeout: 10000 });
  const runsBefore = (await historyRows(browser)).filter((r) => r.origin === "schedule").length;
  // The picker offers hours at the shortest; a one-minute rule comes from the command line.
  execFileSync(process.env.CHATVAULT_CLI_BIN ?? join(ROOT, "target", "debug", "chatvault"), ["schedule", "set", "--profile", "chats", "every 1m"]);
  await byTestId(browser, "nav-schedule").click();
  await browser.waitUntil(async () => (await byTestId(browser, "schedule-next").getText()).includes("every 1m"), { timeout: 10000 });
  await shotBoth("schedule");
  // The last run was the retry just now: the scheduler runs again about a minute later.
  await browser.waitUntil(async () => (await historyRows(browser)).filter((r) => r.origin === "schedule").length > runsBefore, {
    timeout: 120000,
    interval: 5000,
    timeoutMsg: "no scheduled run appeared in History",
  });
  await byTestId(browser, "nav-schedule").click();
  const nextBefore = await byTestId(browser, "schedule-next").getText();
  await byTestId(browser, "pause-schedules").click();
  await browser.waitUntil(async () => (await byTestId(browser, "schedule-next").getText()) !== nextBefore, { timeout: 15000 });
  await byTestId(browser, "schedule-off").click();
  await byTestId(browser, "pause-schedules").click();
});

test("the same flow to the S3 server", { skip: !process.env.CHATVAULT_TEST_S3_ENDPOINT }, async () => {
  const { browser } = app;
  await openDemoAndSelect(browser);
  await byTestId(browser, "target-kind-s3").click();
  await byTestId(browser, "s3-preset").selectByAttribute("value", "minio");
  await setInput(browser, "s3-endpoint", process.env.CHATVAULT_TEST_S3_ENDPOINT);
  await setInput(browser, "s3-bucket", process.env.CHATVAULT_TEST_S3_BUCKET);
  await setInput(browser, "s3-prefix", `e2e-${process.pid}`);
  await setInput(browser, "s3-access-key", process.env.AWS_ACCESS_KEY_ID);
  await setInput(browser, "s3-secret-key", process.env.AWS_SECRET_ACCESS_KEY);
  await byTestId(browser, "test-connection").click();
  await byTestId(browser, "test-result").waitForDisplayed({ timeout: 20000 });
  const summary = await protectAndRun(browser, null);
  assert.ok(Number(await summary.getAttribute("data-messages")) > 10);
});
