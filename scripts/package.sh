#!/usr/bin/env bash
# Builds the release app and CLI and packs them into a .deb with Tauri's bundler.
#   bash scripts/package.sh            -> artifacts/chatvault_<version>_amd64.deb
# The version comes from one place, [workspace.package] version in Cargo.toml (the app's
# Cargo.toml inherits it and tauri.conf.json has none, so Tauri takes the crate's).
# Needs what `scripts/setup.sh app` installs.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$ROOT"
START=$SECONDS
OUT="$ROOT/artifacts"
DOC="$OUT/doc"               # becomes /usr/share/doc/chatvault (tauri.conf.json bundle.linux.deb.files)

bash "$ROOT/scripts/setup.sh" app
VERSION=$(cargo metadata --no-deps --format-version 1 --offline |
  python3 -c 'import json,sys; print(next(p["version"] for p in json.load(sys.stdin)["packages"] if p["name"]=="chatvault"))')
note "version $VERSION, commit $(git rev-parse HEAD 2>/dev/null || echo unknown)"

heading "Build the UI"
# Into a scratch folder first: ui/dist is replaced only when the build differs, since any new
# file there makes cargo rebuild and re-link (LTO: minutes) the app that embeds it.
dist=$(mktemp -d)
(cd ui && npm run --silent typecheck && node_modules/.bin/vite build --logLevel warn --outDir "$dist" --emptyOutDir)
if diff -rq "$dist" ui/dist >/dev/null 2>&1; then note "ui/dist unchanged"; else rm -rf ui/dist && cp -r "$dist" ui/dist; fi
rm -rf "$dist"

heading "Build the release app and CLI (LTO; slow: minutes)"
t=$SECONDS
cargo build --release --workspace --bins --features chatvault-app/custom-protocol
note "release build: $((SECONDS - t)) s"
target/release/chatvault --version | grep -q "^chatvault $VERSION (commit " || die "the CLI's --version does not start with $VERSION"

heading "Licences"
rm -rf "$DOC" && mkdir -p "$DOC"
cargo metadata --format-version 1 --locked --offline --filter-platform x86_64-unknown-linux-gnu |
  python3 packaging/rust-licenses.py > "$DOC/THIRD-PARTY-LICENSES-rust.txt"
node packaging/npm-licenses.mjs > "$DOC/THIRD-PARTY-LICENSES-npm.txt"
# C sources the -sys crates compile in carry their own licence files.
cargo metadata --format-version 1 --offline --filter-platform x86_64-unknown-linux-gnu | python3 -c '
import json, sys, os
meta = json.load(sys.stdin)
files = {"sqlcipher-src": ["sqlcipher/LICENSE-sqlcipher", "sqlcipher/LICENSE-libtomcrypt"], "zstd-sys": ["zstd/LICENSE"],
         # The Skype SILK SDK (voice decoding) states its licence at the top of each source file.
         "silk-codec": ["silk/LICENSE", "silk/src/SILK_SDK_SRC_FIX_v1.0.9/interface/SKP_Silk_SDK_API.h"]}
print("Licences of the C libraries compiled into ChatVault\n====================================================\n")
for p in meta["packages"]:
    for rel in files.get(p["name"], []):
        path = os.path.join(os.path.dirname(p["manifest_path"]), rel)
        name, version = p["name"], p["version"]
        print("-" * 80); print(f"{name} {version}: {rel}\n")
        text = open(path, encoding="utf-8", errors="replace").read()
        if rel.endswith(".h"):
            text = text[: text.index("*/") + 2]
        print(text.rstrip() + "\n")
        files[p["name"]] = [r for r in files[p["name"]] if r != rel]
missing = [f"{k}: {r}" for k, v in files.items() for r in v]
if missing: sys.exit("missing licence files: " + ", ".join(missing))
' > "$DOC/THIRD-PARTY-LICENSES-c.txt"
cp packaging/copyright LICENSE-MIT LICENSE-APACHE "$DOC/"
[ -f docs/GUIDE.md ] && cp docs/GUIDE.md "$DOC/GUIDE.md"
wc -c "$DOC"/* | sed 's/^/    /'

heading "Bundle the .deb (Tauri's bundler)"
# Depends: what tauri.conf.json lists (libraries loaded at run time, like the tray's
# appindicator) plus what dpkg-shlibdeps finds the two programs linked against, with versions.
shlib=$(mktemp -d)
mkdir -p "$shlib/debian" && printf 'Source: chatvault\n\nPackage: chatvault\nArchitecture: any\n' > "$shlib/debian/control"
computed=$(cd "$shlib" && dpkg-shlibdeps -O -e"$ROOT/target/release/chatvault" -e"$ROOT/target/release/chatvault-app" 2>/dev/null |
  sed -n 's/^shlibs:Depends=//p')
rm -rf "$shlib"
[ -n "$computed" ] || die "dpkg-shlibdeps found no dependencies"
config=$(COMPUTED="$computed" python3 -c '
import json, os
conf = json.load(open("src-tauri/tauri.conf.json"))
listed = conf["bundle"]["linux"]["deb"]["depends"]
found = [d.strip() for d in os.environ["COMPUTED"].split(",") if d.strip()]
names = lambda ds: {d.split()[0] for d in ds}
# The bundler itself appends webkit, gtk and appindicator (unversioned).
auto = {"libwebkit2gtk-4.1-0", "libgtk-3-0", "libayatana-appindicator3-1"}
deps = found + [d for d in listed if d.split()[0] not in names(found) | auto]
print(json.dumps({"bundle": {"linux": {"deb": {"depends": deps}}}}))')
note "depends: $config"
rm -rf target/release/bundle/deb
# packaging/tauri.deb.conf.json: the Debian package name (productName "chatvault", the
# bundler's package name is its kebab case), the desktop entry (Name=ChatVault), recommends.
ui/node_modules/.bin/tauri bundle --bundles deb --features custom-protocol --ci \
  --config packaging/tauri.deb.conf.json --config "$config"
deb=$(ls target/release/bundle/deb/*.deb)
mkdir -p "$OUT"
rm -f "$OUT"/chatvault_*.deb
cp "$deb" "$OUT/chatvault_${VERSION}_amd64.deb"
deb="$OUT/chatvault_${VERSION}_amd64.deb"
[ "$(dpkg-deb -f "$deb" Package)" = chatvault ] || die "package name $(dpkg-deb -f "$deb" Package)"

heading "Check the package"
[ "$(dpkg-deb -f "$deb" Version)" = "$VERSION" ] || die "package version $(dpkg-deb -f "$deb" Version) is not $VERSION"
contents=$(dpkg-deb -c "$deb" | awk '{print $6}' | sed 's|^\./||; s|^|./|')
for f in ./usr/bin/chatvault ./usr/bin/chatvault-app ./usr/share/applications/chatvault.desktop \
  ./usr/share/doc/chatvault/copyright ./usr/share/doc/chatvault/THIRD-PARTY-LICENSES-rust.txt \
  ./usr/share/doc/chatvault/THIRD-PARTY-LICENSES-npm.txt; do
  grep -qx "$f" <<<"$contents" || die "$f is missing from the package"
done
grep -q '^./usr/share/icons/hicolor/.*/apps/chatvault-app.png$' <<<"$contents" || die "no icon in the package"
# Every shared library the programs link must come from a package the .deb depends on (or
# from libc6/libgcc-s1, which every Debian system has).
depends=$(dpkg-deb -f "$deb" Depends)
for bin in target/release/chatvault target/release/chatvault-app; do
  for lib in $(readelf -d "$bin" | sed -n 's/.*Shared library: \[\(.*\)\]/\1/p'); do
    path=$(ldconfig -p | awk -v l="$lib" '$1 == l && /x86-64/ {print $NF; exit}')
    real=$(basename "$(readlink -f "$path")")   # dpkg knows /lib or /usr/lib (merged /usr)
    pkg=$(dpkg -S "$real" 2>/dev/null | grep -E "/$real\$" | grep -v -- '-dev:' | head -1 | cut -d: -f1)
    case "$pkg" in libc6|libgcc-s1) continue ;; esac
    grep -qE "(^|, )$pkg( |,|$)" <<<"$depends" || die "$bin links $lib (package ${pkg:-unknown}), which Depends does not list: $depends"
  done
done
note "Depends: $depends"
note "Recommends: $(dpkg-deb -f "$deb" Recommends)"
note "$(basename "$deb"): $(du -h "$deb" | cut -f1) ($(stat -c %s "$deb") bytes), installed size $(dpkg-deb -f "$deb" Installed-Size) KiB"
note "done in $((SECONDS - START)) s"
