#!/usr/bin/env python3
"""The licences of every Rust crate built into ChatVault on Linux, from Cargo.lock.

Usage: cargo metadata --format-version 1 --locked --filter-platform x86_64-unknown-linux-gnu \
         | python3 packaging/rust-licenses.py > THIRD-PARTY-LICENSES-rust.txt

Walks the resolved dependency graph from the workspace's two shipped packages (chatvault and
chatvault-app; normal and build dependencies, not dev ones), and for each crate prints its
licence expression and the licence files it ships (LICENSE*, COPYING*, NOTICE*, ...). Crates
that ship no licence file are listed with their expression; the standard texts of MIT and
Apache-2.0 (which covers almost all of them) are in LICENSE-MIT and LICENSE-APACHE next to this
file in the package. Fails when a crate has no licence expression or one with no permissive
alternative to a GPL/AGPL/LGPL licence (the project is MIT OR Apache-2.0).
"""
import json
import os
import re
import sys

meta = json.load(sys.stdin)
pkgs = {p["id"]: p for p in meta["packages"]}
nodes = {n["id"]: n for n in meta["resolve"]["nodes"]}
roots = [p["id"] for p in meta["packages"] if p["name"] in ("chatvault", "chatvault-app") and p["source"] is None]

seen, stack = set(), list(roots)
while stack:
    pid = stack.pop()
    if pid in seen:
        continue
    seen.add(pid)
    for dep in nodes[pid]["deps"]:
        kinds = {k["kind"] for k in dep["dep_kinds"]}
        if kinds & {None, "build"}:
            stack.append(dep["pkg"])

LICENCE_FILE = re.compile(r"^(licen[cs]e|copying|notice|unlicen[cs]e|copyright)", re.I)
crates = sorted((pkgs[i] for i in seen if pkgs[i]["source"] is not None), key=lambda p: (p["name"], p["version"]))
bad = []
out = [
    "Licences of the Rust crates built into ChatVault",
    "=================================================",
    "",
    "Generated from Cargo.lock by packaging/rust-licenses.py (scripts/package.sh): every crate",
    "the Linux build of the app and the CLI compiles in, its licence expression and the licence",
    "files it ships. Standard MIT and Apache-2.0 texts: LICENSE-MIT, LICENSE-APACHE.",
    "",
    f"{len(crates)} crates:",
]
for p in crates:
    out.append(f"  {p['name']} {p['version']}: {p.get('license') or p.get('license_file') or 'NONE'}")
    lic = p.get("license") or ""
    if not lic and not p.get("license_file"):
        bad.append(f"{p['name']} {p['version']}: no licence")
    elif re.search(r"\b(A|L)?GPL", lic) and not re.search(r"\bOR\b", lic):
        bad.append(f"{p['name']} {p['version']}: {lic}")
out.append("")
texts = {}
for p in crates:
    d = os.path.dirname(p["manifest_path"])
    files = sorted(f for f in os.listdir(d) if LICENCE_FILE.match(f) and os.path.isfile(os.path.join(d, f)))
    if p.get("license_file"):
        files = sorted(set(files) | {p["license_file"]})
    for f in files:
        try:
            text = open(os.path.join(d, f), encoding="utf-8", errors="replace").read().strip()
        except OSError:
            continue
        texts.setdefault(text, []).append(f"{p['name']} {p['version']} ({f})")
for text, users in texts.items():
    out.append("-" * 80)
    out.append("Used by: " + ", ".join(users))
    out.append("")
    out.append(text)
    out.append("")
sys.stdout.write("\n".join(out) + "\n")
if bad:
    sys.exit("rust-licenses: " + "; ".join(bad))
print(f"rust-licenses: {len(crates)} crates, {len(texts)} distinct licence texts", file=sys.stderr)
