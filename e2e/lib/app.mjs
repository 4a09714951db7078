// Starts the real ChatVault app under tauri-driver (which drives WebKitWebDriver) and returns
// a WebdriverIO session. The app binary comes from CHATVAULT_APP_BIN (scripts/test.sh builds
// it with the test identifier app.chatvault.e2e).
import { spawn, spawnSync } from "node:child_process";
import { createServer } from "node:net";
import { mkdirSync } from "node:fs";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { remote } from "webdriverio";

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..");

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

async function waitForDriver(port, child) {
  for (let i = 0; i < 100; i++) {
    if (child.exitCode !== null) throw new Error(`tauri-driver exited with ${child.exitCode}`);
    try {
      const res = await fetch(`http://127.0.0.1:${port}/status`);
      if (res.ok) return;
    } catch {
      // not up yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error("tauri-driver did not answer on /status within 10 s");
}

export async function startApp() {
  const application = process.env.CHATVAULT_APP_BIN;
  if (!application) throw new Error("CHATVAULT_APP_BIN is not set; run the tests through scripts/test.sh");
  const port = await freePort();
  const nativePort = await freePort();
  const driver = spawn(
    process.env.TAURI_DRIVER ?? "tauri-driver",
    ["--port", String(port), "--native-port", String(nativePort)],
    { stdio: ["ignore", "inherit", "inherit"] },
  );
  await waitForDriver(port, driver);
  const browser = await remote({
    hostname: "127.0.0.1",
    port,
    logLevel: "warn",
    capabilities: {
      browserName: "wry",
      "wdio:enforceWebDriverClassic": true,
      "tauri:options": { application },
    },
  });
  return {
    browser,
    async screenshot(name) {
      const dir = join(ROOT, "artifacts", "screenshots");
      mkdirSync(dir, { recursive: true });
      await browser.pause(500); // WebKit may hand back the previous frame right after a change
      await browser.saveScreenshot(join(dir, `${name}.png`));
    },
    async stop() {
      try {
        await browser.deleteSession();
      } finally {
        driver.kill();
        // An app that outlives its session (it can stay on in the tray) holds this test file's
        // output pipe, and the runner then waits for it forever: end it. Only the test build of
        // the app runs from this path.
        spawnSync("pkill", ["-f", application]);
      }
    },
  };
}

/** The element with this data-testid. */
export function byTestId(browser, id) {
  return browser.$(`[data-testid="${id}"]`);
}
