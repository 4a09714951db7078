import { defineConfig } from "vitest/config";

// The app loads ui/dist through Tauri's custom protocol; no remote content, no CDN.
export default defineConfig({
  clearScreen: false,
  oxc: { jsx: { runtime: "automatic", importSource: "preact" } },
  server: { port: 5173, strictPort: true, host: "127.0.0.1" },
  build: { target: "es2022", outDir: "dist", emptyOutDir: true, sourcemap: false },
  test: { environment: "node", include: ["test/**/*.test.ts"] },
});
