// Media in the real window: a demo store whose photos are real PNGs kept as WeChat 3.x keeps
// them (`.dat`, XOR-ed with one byte) shows them inline in step 2's preview, served by the app's
// chatvault-media: protocol, and larger in an overlay; requests for anything outside what the
// protocol serves are refused (`..`, encoded separators, a symlink, an unknown message). After
// a backup (CLI), the restore preview and the Restored library show the photos too, and the
// store's voice messages (SILK, as WeChat keeps them) play with their duration in the library and
// in step 2. An iMessage store whose attachments are made real photos and voice clips (WAV) shows
// both in step 2 and in the library.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { deflateSync } from "node:zlib";
import { byTestId, ROOT, startApp } from "../lib/app.mjs";

const cli = process.env.CHATVAULT_CLI_BIN ?? join(ROOT, "target", "debug", "chatvault");
const work = mkdtempSync(join(tmpdir(), "chatvault-e2e-media-"));
const targetDir = join(work, "target");
const target = `file://${targetDir}`;
const dataDir = join(process.env.XDG_DATA_HOME ?? join(process.env.HOME, ".local", "share"), "chatvault");
let app;
let store;
let conv; // { id, title } of the conversation with the most photos
let photos = 0;

function chatvault(...args) {
  return JSON.parse(execFileSync(cli, [...args, "--json"], { encoding: "utf8" }));
}

// --- a real PNG, written by hand (no image library in the test) ---
const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});
function crc32(buf) {
  let c = 0xffffffff;
  for (const b of buf) c = CRC_TABLE[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}
function chunk(type, data) {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, "ascii"), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([len, body, crc]);
}
/** A `w`×`h` RGB PNG: a diagonal gradient from one colour to another, with a light sun. */
function png(w, h, [r1, g1, b1], [r2, g2, b2]) {
  const rows = [];
  for (let y = 0; y < h; y++) {
    const row = Buffer.alloc(1 + w * 3);
    for (let x = 0; x < w; x++) {
      const t = (x + y) / (w + h);
      const sun = (x - w * 0.7) ** 2 + (y - h * 0.3) ** 2 < (h * 0.15) ** 2;
      row[1 + x * 3] = sun ? 255 : r1 + (r2 - r1) * t;
      row[2 + x * 3] = sun ? 236 : g1 + (g2 - g1) * t;
      row[3 + x * 3] = sun ? 160 : b1 + (b2 - b1) * t;
    }
    rows.push(row);
  }
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(w, 0);
  ihdr.writeUInt32BE(h, 4);
  ihdr.set([8, 2, 0, 0, 0], 8);
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk("IHDR", ihdr),
    chunk("IDAT", deflateSync(Buffer.concat(rows))),
    chunk("IEND", Buffer.alloc(0)),
  ]);
}
const PALETTE = [
  [[40, 90, 160], [250, 170, 90]],
  [[20, 120, 80], [200, 230, 120]],
  [[120, 40, 120], [250, 120, 150]],
  [[10, 40, 80], [90, 180, 220]],
];

/** A mono 16-bit WAV of `seconds` of a 440 Hz tone at 8 kHz (what the SILK decoder writes). */
function wav(seconds) {
  const rate = 8000;
  const n = Math.round(rate * seconds);
  const b = Buffer.alloc(44 + n * 2);
  b.write("RIFF", 0, "ascii");
  b.writeUInt32LE(36 + n * 2, 4);
  b.write("WAVEfmt ", 8, "ascii");
  b.writeUInt32LE(16, 16);
  b.writeUInt16LE(1, 20);
  b.writeUInt16LE(1, 22);
  b.writeUInt32LE(rate, 24);
  b.writeUInt32LE(rate * 2, 28);
  b.writeUInt16LE(2, 32);
  b.writeUInt16LE(16, 34);
  b.write("data", 36, "ascii");
  b.writeUInt32LE(n * 2, 40);
  for (let i = 0; i < n; i++) b.writeInt16LE(Math.round(8000 * Math.sin((2 * Math.PI * 440 * i) / rate)), 44 + i * 2);
  return b;
}

function filesUnder(dir) {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? filesUnder(p) : [p];
  });
}

before(async () => {
  const demo = chatvault("demo", join(work, "demo"));
  store = { path: demo.store, key: demo.key, keyFile: demo.key_file };
  // Every photo becomes a real PNG, XOR-ed like a WeChat 3.x `.dat` (a different key byte each).
  const perFolder = new Map();
  filesUnder(join(store.path, "FileStorage", "MsgAttach"))
    .filter((f) => f.endsWith(".dat"))
    .forEach((f, i) => {
      const [a, b] = PALETTE[i % PALETTE.length];
      const key = 0x21 + ((i * 37) % 200);
      writeFileSync(f, Buffer.from(png(240, 160, a, b).map((byte) => byte ^ key)));
      const folder = f.split("/MsgAttach/")[1].split("/")[0];
      perFolder.set(folder, (perFolder.get(folder) ?? 0) + 1);
    });
  // The conversation with the most photos (WeChat names its folder by the md5 of its id).
  const convs = chatvault("conversations", "--store", store.path, "--key-file", store.keyFile);
  const list = Array.isArray(convs) ? convs : convs.conversations;
  for (const c of list) {
    const n = perFolder.get(createHash("md5").update(c.id).digest("hex")) ?? 0;
    if (n > photos) {
      photos = n;
      conv = { id: c.id, title: c.title };
    }
  }
  assert.ok(photos > 0, "the demo store has photos");

  app = await startApp();
  const { browser } = app;
  await byTestId(browser, "language-select").waitForDisplayed({ timeout: 15000 });
  await byTestId(browser, "language-select").selectByAttribute("value", "en");
});

after(async () => {
  await app?.stop();
  rmSync(work, { recursive: true, force: true });
  // The test files share one XDG data folder (scripts/test.sh): leave the Restored library as
  // this file found it, empty, for the tests that count its rows.
  for (const f of ["library.sqlite", "library.sqlite-wal", "library.sqlite-shm", "library-media"]) {
    rmSync(join(dataDir, f), { recursive: true, force: true });
  }
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

async function setLanguage(browser, lang) {
  await browser.execute((v) => {
    const el = document.querySelector('[data-testid="language-select"]');
    el.value = v;
    el.dispatchEvent(new Event("change", { bubbles: true }));
  }, lang);
}

async function shotBoth(name, ready = photosLoaded) {
  const { browser } = app;
  await app.screenshot(`${name}-en`);
  await setLanguage(browser, "zh-CN");
  await browser.waitUntil(async () => /[\u4e00-\u9fff]/.test(await byTestId(browser, "nav-backup").getText()), { timeout: 5000 });
  await browser.waitUntil(() => ready(browser), { timeout: 10000 });
  await app.screenshot(`${name}-zh-CN`);
  await setLanguage(browser, "en");
  await browser.waitUntil(async () => (await byTestId(browser, "nav-backup").getText()) === "Backup", { timeout: 5000 });
}

/** Scrolls the message list until an element matching `selector` is in view (the list renders
 * only the rows in view), and puts its row at the top. */
async function scrollTo(browser, selector, what, above = 8) {
  await browser.waitUntil(async () => (await browser.$$('[data-testid="message"]').length) > 0, {
    timeout: 30000,
    timeoutMsg: "no messages in the preview",
  });
  await browser.execute(() => {
    const list = document.querySelector('[data-testid="message-list"]');
    list.scrollTop = 0;
    list.dispatchEvent(new Event("scroll"));
  });
  await browser.waitUntil(
    () =>
      browser.execute((sel, up) => {
        const list = document.querySelector('[data-testid="message-list"]');
        const el = list.querySelector(sel);
        if (el) {
          const row = el.closest(".virtual-row");
          list.scrollTop = Math.max(0, row.offsetTop - up);
          list.dispatchEvent(new Event("scroll"));
          return true;
        }
        list.scrollTop += 400;
        list.dispatchEvent(new Event("scroll"));
        return false;
      }, selector, above),
    { timeout: 30000, interval: 150, timeoutMsg: `no ${what} in the message list` },
  );
}

const scrollToPhoto = (browser) => scrollTo(browser, '[data-testid="message-image"]', "photo");

/** How many photos in the list have loaded (decoded to a picture with a width). */
function photosLoaded(browser) {
  return browser.execute(
    () => [...document.querySelectorAll('[data-testid="message-image"]')].filter((i) => i.complete && i.naturalWidth > 0).length,
  );
}

/** Loads `url` as audio in the page: its duration in seconds, or -1 when it fails to load. */
function probeAudio(browser, url) {
  return browser.executeAsync((u, done) => {
    const a = new Audio();
    a.preload = "metadata";
    a.onloadedmetadata = () => done(a.duration);
    a.onerror = () => done(`${a.error?.code} ${a.error?.message}`);
    document.addEventListener("securitypolicyviolation", (e) => done(`csp ${e.violatedDirective} ${e.blockedURI}`));
    fetch(u)
      .then((r) => (r.ok ? r.blob() : Promise.reject(new Error(`HTTP ${r.status}`))))
      .then((b) => {
        a.src = URL.createObjectURL(b);
      })
      .catch((e) => done(`fetch ${e}`));
  }, url);
}

/** Loads `url` as an image in the page: its natural width, or -1 when it fails to load. */
function probe(browser, url) {
  return browser.executeAsync((u, done) => {
    const img = new Image();
    img.onload = () => done(img.naturalWidth);
    img.onerror = () => done(-1);
    img.src = u;
  }, url);
}

async function expectPhotos(browser, where) {
  await scrollToPhoto(browser);
  await browser.waitUntil(async () => (await photosLoaded(browser)) > 0, { timeout: 20000, timeoutMsg: `no photo loaded in ${where}` });
  const img = await browser.$('[data-testid="message-image"]');
  const src = await img.getAttribute("src");
  assert.match(src, /^(chatvault-media:\/\/localhost\/|http:\/\/chatvault-media\.localhost\/)/, "served by the app's protocol");
  assert.equal(await browser.execute((el) => el.naturalWidth, img), 240, "the decoded PNG's width");
  return src;
}

test("step 2 shows the store's photos inline, larger on click, and the protocol refuses what it does not serve", async () => {
  const { browser } = app;
  await byTestId(browser, "nav-backup").click();
  await byTestId(browser, "step-store").waitForDisplayed({ timeout: 5000 });
  await setInput(browser, "store-path", store.path);
  await setInput(browser, "store-key", store.key);
  await byTestId(browser, "remember-key").click(); // do not remember a test key
  await byTestId(browser, "open-store").click();
  await byTestId(browser, "step-select").waitForDisplayed({ timeout: 30000 });
  await browser.$(`[data-testid="conversation-row"][data-id="${conv.id}"]`).click();
  const src = await expectPhotos(browser, "step 2");
  assert.match(src, /\/store\//, "store media are named by message, not by path");
  await shotBoth("media-preview");

  await byTestId(browser, "message-image-open").click();
  await byTestId(browser, "media-overlay").waitForDisplayed({ timeout: 5000 });
  await browser.waitUntil(
    () => browser.execute(() => document.querySelector('[data-testid="media-overlay-image"]')?.naturalWidth ?? 0),
    { timeout: 10000, timeoutMsg: "the larger photo did not load" },
  );
  await app.screenshot("media-overlay-en");
  await byTestId(browser, "media-overlay-close").click();
  await byTestId(browser, "media-overlay").waitForDisplayed({ timeout: 5000, reverse: true });

  // What the protocol refuses. A valid PNG sits inside the library's folder (loads), and the
  // same PNG outside it, reached by `..`, an encoded `/`, a symlink: refused.
  const base = src.slice(0, src.indexOf("store/"));
  const inside = join(dataDir, "library-media", "attachments", "probe");
  mkdirSync(inside, { recursive: true });
  const picture = png(32, 16, PALETTE[0][0], PALETTE[0][1]);
  writeFileSync(join(inside, "ok.png"), picture);
  writeFileSync(join(dataDir, "outside.png"), picture);
  symlinkSync(join(dataDir, "outside.png"), join(inside, "link.png"));
  writeFileSync(join(inside, "notes.txt"), "not a picture");
  writeFileSync(join(inside, "voice.wav"), wav(2.5));
  assert.equal(await probe(browser, `${base}library/attachments/probe/ok.png`), 32, "a file inside the library's folder loads");
  // Voice as the restore writes it (WAV) plays through the protocol (the CSP's media-src).
  assert.equal(Math.round(await probeAudio(browser, `${base}library/attachments/probe/voice.wav?kind=voice`)), 3, "the voice clip's duration (2.5 s)");
  for (const bad of [
    "library/..%2Foutside.png",
    "library/%2E%2E/outside.png",
    "library/attachments/..%2F..%2F..%2Foutside.png",
    "library/attachments/probe/link.png",
    "library/attachments/probe/notes.txt",
    `library/${encodeURIComponent(join(dataDir, "outside.png"))}`,
    `store/${encodeURIComponent(conv.id)}/no-such-message/0`,
    `store/${encodeURIComponent(conv.id)}/..%2F..%2Foutside.png/0`,
    "elsewhere/outside.png",
  ]) {
    assert.equal(await probe(browser, base + bad), -1, `${bad} is refused`);
  }
  rmSync(inside, { recursive: true, force: true });
  rmSync(join(dataDir, "outside.png"));
});

test("after a backup, the restore preview and the Restored library show the photos", async () => {
  const { browser } = app;
  chatvault("init", "--target", target, "--recovery-code-file", join(work, "recovery.txt"));
  chatvault("backup", "--target", target, "--store", store.path, "--key-file", store.keyFile, "--conversation", conv.id);

  await byTestId(browser, "nav-restore").click();
  await setInput(browser, "restore-target", target);
  await byTestId(browser, "load-snapshots").click();
  await browser.waitUntil(async () => (await browser.$$('[data-testid="snapshot-row"]').length) === 1, { timeout: 30000 });
  await (await browser.$$('[data-testid="snapshot-row"]'))[0].click();
  const row = await browser.$(`[data-testid="restore-conv-row"][data-id="${conv.id}"]`);
  await row.waitForDisplayed({ timeout: 30000 });
  await row.click();
  const src = await expectPhotos(browser, "the restore preview");
  assert.match(src, /\/preview\/attachments\//);
  await shotBoth("media-restore-preview");

  await row.$('[data-testid="restore-conv-check"]').click();
  await byTestId(browser, "restore-run").click();
  await byTestId(browser, "restore-result").waitForDisplayed({ timeout: 60000 });
  const written = filesUnder(join(dataDir, "library-media", "attachments"));
  assert.ok(written.length >= photos, `the library keeps every photo of the conversation (${written.length} files, ${photos} photos)`);

  await byTestId(browser, "nav-library").click();
  await browser.$(`[data-testid="library-conv-row"][data-id="${conv.id}"]`).click();
  const lib = await expectPhotos(browser, "the library");
  assert.match(lib, /\/library\/attachments\//);
  await shotBoth("media-library");
});

/** Voice clips' durations shown in the list. */
function durations(browser) {
  return browser.execute(() => [...document.querySelectorAll('[data-testid="audio-duration"]')].map((e) => e.textContent));
}

/** Scrolls to a voice message and waits until its player knows the clip's duration. */
async function expectVoice(browser, where) {
  await scrollTo(browser, '[data-testid="message-audio"]', "voice message", 200);
  await browser.waitUntil(async () => (await durations(browser)).length > 0, { timeout: 20000, timeoutMsg: `no voice clip's duration in ${where}` });
  for (const d of await durations(browser)) assert.match(d, /^\d+:\d\d$/, `a duration in ${where}`);
  assert.ok((await durations(browser)).some((d) => d !== "0:00"), `a clip longer than a second in ${where}`);
}
const voiceReady = async (browser) => (await durations(browser)).length > 0;

test("WeChat voice messages (SILK in MediaMSG0.db) play in the Restored library and in step 2", async () => {
  const { browser } = app;
  // The library holds the conversation restored above: its voice clips as WAV beside the SILK.
  const wavs = filesUnder(join(dataDir, "library-media", "attachments")).filter((f) => f.endsWith(".view.wav"));
  assert.ok(wavs.length > 0, "the restore wrote a playable WAV beside each SILK clip");
  await expectVoice(browser, "the library");
  await shotBoth("media-voice-library", voiceReady);

  // Step 2 decodes the store's SILK on the fly through the app's protocol.
  await byTestId(browser, "nav-backup").click();
  if (!(await byTestId(browser, "step-select").isDisplayed())) {
    await byTestId(browser, "step-store").waitForDisplayed({ timeout: 5000 });
    await setInput(browser, "store-path", store.path);
    await setInput(browser, "store-key", store.key);
    await byTestId(browser, "open-store").click();
    await byTestId(browser, "step-select").waitForDisplayed({ timeout: 30000 });
  }
  await browser.$(`[data-testid="conversation-row"][data-id="${conv.id}"]`).click();
  await expectVoice(browser, "step 2");
  await shotBoth("media-voice-preview", voiceReady);
});

test("voice messages play with their duration next to photos, in step 2 and the library (iMessage store)", async (t) => {
  // The sqlite3 shell, or SQLCipher's (scripts/setup.sh installs it; it opens plain databases).
  const shell = ["sqlite3", "sqlcipher"].find((c) => spawnSync(c, ["-version"]).status === 0);
  if (!shell) {
    t.skip("needs the sqlite3 or sqlcipher command to turn the demo's attachments into voice clips");
    return;
  }
  const { browser } = app;
  const demo = chatvault("demo", join(work, "imessage"), "--variant", "imessage");
  const db = demo.store;
  const home = join(db, "..", "..", "..");
  const sql = (q) => execFileSync(shell, ["-separator", "\t", db, q], { encoding: "utf8" }).trim();
  // The chat with the most attachments: every other one becomes a voice clip, the rest photos.
  const chat = sql(
    "SELECT c.ROWID || '\t' || c.guid FROM chat c JOIN chat_message_join cm ON cm.chat_id = c.ROWID " +
      "JOIN message_attachment_join j ON j.message_id = cm.message_id GROUP BY c.ROWID ORDER BY count(*) DESC LIMIT 1",
  ).split("\t");
  const rows = sql(
    "SELECT a.ROWID, a.filename, cm.message_id, cm.message_date FROM attachment a JOIN message_attachment_join j ON j.attachment_id = a.ROWID " +
      `JOIN chat_message_join cm ON cm.message_id = j.message_id WHERE cm.chat_id = ${chat[0]} ORDER BY cm.message_date`,
  )
    .split("\n")
    .map((l) => l.split("\t"));
  const updates = [];
  rows.forEach(([id, filename, message], i) => {
    const voice = i % 2 === 1;
    if (voice) {
      // Sent a minute after the photo before it, so the two show together.
      const after = `${rows[i - 1][3]} + 60000000000`;
      updates.push(`UPDATE message SET date = ${after} WHERE ROWID = ${message};`);
      updates.push(`UPDATE chat_message_join SET message_date = ${after} WHERE message_id = ${message};`);
    }
    const name = filename.replace(/\.jpeg$/, voice ? ".wav" : ".png");
    const bytes = voice ? wav(2 + (i % 5)) : png(240, 160, ...PALETTE[i % PALETTE.length]);
    const file = join(home, name.slice(2));
    mkdirSync(join(file, ".."), { recursive: true });
    writeFileSync(file, bytes);
    updates.push(
      `UPDATE attachment SET filename = '${name}', mime_type = '${voice ? "audio/wav" : "image/png"}', ` +
        `transfer_name = '${voice ? "Audio Message.wav" : name.split("/").pop()}', total_bytes = ${bytes.length} WHERE ROWID = ${id};`,
    );
  });
  sql(`BEGIN; ${updates.join(" ")} COMMIT;`);
  const id = chat[1];

  await byTestId(browser, "nav-restore").click();
  await byTestId(browser, "nav-backup").click();
  if (!(await byTestId(browser, "step-store").isDisplayed())) {
    await byTestId(browser, "wizard-back").click();
  }
  await byTestId(browser, "step-store").waitForDisplayed({ timeout: 5000 });
  await setInput(browser, "store-path", db);
  await setInput(browser, "store-key", "");
  await byTestId(browser, "open-store").click();
  await byTestId(browser, "step-select").waitForDisplayed({ timeout: 30000 });
  await browser.$(`[data-testid="conversation-row"][data-id="${id}"]`).click();
  await scrollTo(browser, '[data-testid="message-audio"]', "voice message", 200);
  await browser.waitUntil(async () => (await durations(browser)).length > 0, { timeout: 20000, timeoutMsg: "no voice clip's duration shown" });
  for (const d of await durations(browser)) assert.match(d, /^0:0[2-6]$/, "a 2 to 6 s clip");
  await browser.waitUntil(async () => (await photosLoaded(browser)) > 0, { timeout: 20000, timeoutMsg: "no photo next to the voice" });

  // Back up (CLI), restore into the library (app), and play it there.
  const target2 = `file://${join(work, "target-imessage")}`;
  chatvault("init", "--target", target2, "--recovery-code-file", join(work, "recovery-imessage.txt"));
  chatvault("backup", "--target", target2, "--store", db, "--conversation", id);
  await byTestId(browser, "nav-restore").click();
  await setInput(browser, "restore-target", target2);
  await byTestId(browser, "load-snapshots").click();
  await browser.waitUntil(async () => (await browser.$$('[data-testid="snapshot-row"]').length) === 1, { timeout: 30000 });
  await (await browser.$$('[data-testid="snapshot-row"]'))[0].click();
  const row = await browser.$(`[data-testid="restore-conv-row"][data-id="${id}"]`);
  await row.waitForDisplayed({ timeout: 30000 });
  await row.$('[data-testid="restore-conv-check"]').click();
  await byTestId(browser, "restore-run").click();
  await byTestId(browser, "restore-result").waitForDisplayed({ timeout: 60000 });
  await byTestId(browser, "nav-library").click();
  await browser.$(`[data-testid="library-conv-row"][data-id="${id}"]`).click();
  await scrollTo(browser, '[data-testid="message-audio"]', "voice message", 200);
  await browser.waitUntil(async () => (await durations(browser)).length > 0, { timeout: 20000, timeoutMsg: "no voice clip's duration in the library" });
  await browser.waitUntil(async () => (await photosLoaded(browser)) > 0, { timeout: 20000, timeoutMsg: "no photo in the library" });
});
