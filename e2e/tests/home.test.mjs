// The home page in the real window: a profile made from the command line, its card checked
// against the CLI's `snapshots --json` and the run history, the charts of what the backup
// holds, the attention banner after a failing run (and gone after Retry), and a weekly
// schedule set with the picker and read back with `chatvault schedule status`.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, renameSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { byTestId, ROOT, startApp } from "../lib/app.mjs";

const CLI = process.env.CHATVAULT_CLI_BIN ?? join(ROOT, "target", "debug", "chatvault");
const work = mkdtempSync(join(tmpdir(), "chatvault-e2e-home-"));
const targetDir = join(work, "target");
const target = `file://${targetDir}`;
const PROFILE = "home";
let app;

/** Runs the CLI with --json (same XDG folders and keychain as the app) and parses its output. */
function cli(...args) {
  return JSON.parse(execFileSync(CLI, [...args, "--json"], { encoding: "utf8" }));
}

before(async () => {
  const demo = cli("demo", join(work, "demo"), "--messages", "400");
  cli("init", "--target", target, "--recovery-code-file", join(work, "code.txt"));
  cli("backup", "--target", target, "--store", demo.store, "--key-file", demo.key_file, "--save-profile", PROFILE);
  app = await startApp();
  const { browser } = app;
  await byTestId(browser, "language-select").waitForDisplayed({ timeout: 15000 });
  await byTestId(browser, "language-select").selectByAttribute("value", "en");
});

after(async () => {
  await app?.stop();
});

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

function card(browser) {
  return browser.$(`[data-testid="home-card"][data-name="${PROFILE}"]`);
}

function lastRun() {
  const { data_dir } = cli("paths");
  const lines = readFileSync(join(data_dir, "history.jsonl"), "utf8").trim().split("\n");
  return JSON.parse(lines[lines.length - 1]);
}

/** Home in both languages and both themes, for docs/SCREENSHOTS.md. */
async function shotAll(name) {
  const { browser } = app;
  for (const theme of ["light", "dark"]) {
    await byTestId(browser, "nav-settings").click();
    await byTestId(browser, "settings-theme").selectByAttribute("value", theme);
    await browser.waitUntil(async () => (await browser.execute(() => document.documentElement.dataset.theme)) === theme, { timeout: 5000 });
    for (const lang of ["en", "zh-CN"]) {
      await byTestId(browser, "language-select").selectByAttribute("value", lang);
      await byTestId(browser, "nav-home").click();
      await byTestId(browser, "home-contents").waitForDisplayed({ timeout: 15000 });
      await app.screenshot(`${name}-${lang}-${theme}`);
    }
  }
  await byTestId(browser, "language-select").selectByAttribute("value", "en");
  await byTestId(browser, "nav-settings").click();
  await byTestId(browser, "settings-theme").selectByAttribute("value", "system");
  await byTestId(browser, "nav-home").click();
}

test("home is the start page once a profile exists, its card agrees with the CLI", async () => {
  const { browser } = app;
  await byTestId(browser, "page-home").waitForDisplayed({ timeout: 15000 });
  const c = await card(browser);
  await c.waitForDisplayed({ timeout: 15000 });
  assert.equal(await c.$('[data-testid="home-target"]').getText(), target);
  assert.equal(await c.$('[data-testid="home-key"]').getAttribute("data-key"), "in_keychain");
  assert.ok(await byTestId(browser, "all-ok").isDisplayed(), "nothing needs the user");

  const snapshots = cli("snapshots", "--target", target);
  const newest = snapshots[snapshots.length - 1];
  const run = lastRun();
  const last = c.$('[data-testid="home-last"]');
  assert.equal(await last.getAttribute("data-ok"), "true");
  assert.equal(Number(await last.getAttribute("data-messages")), run.messages);
  assert.equal(new Date(await last.getAttribute("data-started")).getTime(), new Date(run.started).getTime());

  const contents = c.$('[data-testid="home-contents"]');
  await contents.waitForDisplayed({ timeout: 20000 });
  assert.equal(Number(await contents.getAttribute("data-snapshots")), snapshots.length);
  assert.equal(Number(await contents.getAttribute("data-conversations")), newest.conversations);
  assert.equal(Number(await contents.getAttribute("data-messages")), newest.messages);
  assert.ok(Number(await contents.getAttribute("data-size")) > 0);

  // The charts are drawn, with data.
  const months = c.$('[data-testid="chart-months"]');
  const shares = c.$('[data-testid="chart-shares"]');
  assert.ok(Number(await months.getAttribute("data-points")) > 1, "messages in several months");
  assert.ok(Number(await shares.getAttribute("data-points")) > 1, "several conversations");
  const drawn = await browser.execute(() =>
    [...document.querySelectorAll('[data-testid="chart-months"] canvas, [data-testid="chart-shares"] canvas')].map((cv) => cv.width > 0 && cv.height > 0),
  );
  assert.deepEqual(drawn, [true, true]);
  assert.ok((await browser.$$('[data-testid="home-share"]').length) > 1);
  await shotAll("home");
});

test("a failing run raises the attention banner; Retry after the fix clears it", async () => {
  const { browser } = app;
  renameSync(targetDir, `${targetDir}-gone`);
  const c = await card(browser);
  await c.$('[data-testid="home-backup-now"]').click();
  const banner = byTestId(browser, "attention-banner");
  await banner.waitForDisplayed({ timeout: 30000 });
  const item = byTestId(browser, "attention-item");
  assert.equal(await item.getAttribute("data-kind"), "target");
  assert.equal(await item.getAttribute("data-profile"), PROFILE);
  assert.equal(await c.$('[data-testid="home-failure"]').getAttribute("data-code"), "repo_not_found");
  assert.equal(lastRun().ok, false);
  await app.screenshot("home-attention-en");
  // The failed run may leave an empty folder (the local target's temp folder) where the
  // repository was; the repository comes back in its place.
  rmSync(targetDir, { recursive: true, force: true });
  renameSync(`${targetDir}-gone`, targetDir);
  await c.$('[data-testid="home-retry"]').click();
  await byTestId(browser, "all-ok").waitForDisplayed({ timeout: 30000 });
  assert.equal(await c.$('[data-testid="home-last"]').getAttribute("data-ok"), "true");
});

test("a weekly schedule set with the picker is what `chatvault schedule status` reports", async () => {
  const { browser } = app;
  await byTestId(browser, "nav-schedule").click();
  const row = await browser.$(`[data-testid="schedule-row"][data-name="${PROFILE}"]`);
  await row.waitForDisplayed({ timeout: 10000 });
  await row.$('[data-testid="schedule-kind-weekly"]').click();
  // Default days are Monday and Thursday; make it Tuesday and Saturday.
  await row.$('[data-testid="schedule-day-mon"]').click();
  await row.$('[data-testid="schedule-day-thu"]').click();
  await row.$('[data-testid="schedule-day-tue"]').click();
  await row.$('[data-testid="schedule-day-sat"]').click();
  await setInput(browser, "schedule-time", "20:15");
  await browser.waitUntil(async () => (await row.$('[data-testid="schedule-picker"]').getAttribute("data-rule")) === "weekly tue,sat 20:15", {
    timeout: 5000,
  });
  await browser.waitUntil(async () => (await row.$$('[data-testid="schedule-upcoming-item"]').length) === 3, { timeout: 10000 });
  const upcoming = [];
  for (const li of await row.$$('[data-testid="schedule-upcoming-item"]')) upcoming.push(await li.getAttribute("data-at"));
  for (const at of upcoming) {
    assert.ok([2, 6].includes(new Date(at).getDay()), `${at} is a Tuesday or Saturday`);
    assert.equal(new Date(at).getHours() * 60 + new Date(at).getMinutes(), 20 * 60 + 15);
  }
  await row.$('[data-testid="schedule-ac-only"]').click();
  await row.$('[data-testid="schedule-save"]').click();
  await browser.waitUntil(async () => (await row.getAttribute("data-rule")) === "weekly tue,sat 20:15", { timeout: 10000 });

  const status = cli("schedule", "status", "--profile", PROFILE);
  assert.equal(status.schedule, "weekly tue,sat 20:15");
  assert.equal(new Date(status.next_run).getTime(), new Date(upcoming[0]).getTime());
  const { config_dir } = cli("paths");
  assert.match(readFileSync(join(config_dir, "profiles.toml"), "utf8"), /skip_on_battery = true/);
  await byTestId(browser, "nav-home").click();
  const next = (await card(browser)).$('[data-testid="home-next"]');
  await browser.waitUntil(async () => (await next.getText()).includes("weekly tue,sat 20:15"), { timeout: 10000 });
});
