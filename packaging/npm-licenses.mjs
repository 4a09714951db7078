// The licences of the npm packages bundled into the app's UI (ui/dist): every package in
// ui/package-lock.json that is not a dev dependency, with its licence file from ui/node_modules.
// Usage: node packaging/npm-licenses.mjs > THIRD-PARTY-LICENSES-npm.txt
import { readFileSync, readdirSync, existsSync } from "node:fs";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";

const ui = join(dirname(fileURLToPath(import.meta.url)), "..", "ui");
const lock = JSON.parse(readFileSync(join(ui, "package-lock.json"), "utf8"));
const out = [
  "Licences of the npm packages bundled into ChatVault's user interface",
  "=====================================================================",
  "",
  "Generated from ui/package-lock.json (packages that are not dev dependencies) by",
  "packaging/npm-licenses.mjs (scripts/package.sh).",
  "",
];
let missing = 0;
for (const [path, pkg] of Object.entries(lock.packages)) {
  if (path === "" || pkg.dev) continue;
  const dir = join(ui, path);
  const name = path.replace(/^.*node_modules\//, "");
  const files = existsSync(dir) ? readdirSync(dir).filter((f) => /^(licen[cs]e|copying|notice)/i.test(f)) : [];
  out.push("-".repeat(80), `${name} ${pkg.version}  (${pkg.license ?? "no licence field"})`, "");
  if (files.length === 0) {
    missing++;
    out.push(`(no licence file found in ${path})`, "");
  }
  for (const f of files.sort()) out.push(readFileSync(join(dir, f), "utf8").trimEnd(), "");
}
process.stdout.write(out.join("\n") + "\n");
if (missing > 0) {
  process.stderr.write(`npm-licenses: ${missing} package(s) without a licence file\n`);
  process.exit(1);
}
