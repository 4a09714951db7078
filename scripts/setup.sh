#!/usr/bin/env bash
# Installs what ChatVault needs on Debian 12, skipping what is already there.
#   scripts/setup.sh app    packages to build and run the app
#   scripts/setup.sh test   everything the test suite needs too (test servers, WebDriver)
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
what=${1:-app}

APP_PKGS=(build-essential pkg-config curl file libwebkit2gtk-4.1-dev libxdo-dev libssl-dev
  libayatana-appindicator3-dev librsvg2-dev libdbus-1-dev
  libclang-dev  # bindgen, for the SILK voice decoder (silk-codec)
  dbus dbus-x11 gnome-keyring libsecret-tools fonts-noto-cjk fonts-noto-color-emoji)
TEST_PKGS=(xvfb xauth webkit2gtk-driver imagemagick rclone sqlcipher keyutils python3-venv faketime)

heading "System packages ($what)"
if [ "$what" = test ]; then apt_ensure "${APP_PKGS[@]}" "${TEST_PKGS[@]}"; else apt_ensure "${APP_PKGS[@]}"; fi

heading "UI dependencies (npm ci)"
if [ ! -d "$ROOT/ui/node_modules" ] || [ "$ROOT/ui/package-lock.json" -nt "$ROOT/ui/node_modules/.package-lock.json" ]; then
  (cd "$ROOT/ui" && npm ci --no-audit --no-fund --loglevel=error)
else
  note "ui/node_modules is up to date"
fi

[ "$what" = test ] || exit 0

heading "E2E dependencies (npm ci)"
if [ ! -d "$ROOT/e2e/node_modules" ] || [ "$ROOT/e2e/package-lock.json" -nt "$ROOT/e2e/node_modules/.package-lock.json" ]; then
  (cd "$ROOT/e2e" && npm ci --no-audit --no-fund --loglevel=error)
else
  note "e2e/node_modules is up to date"
fi

heading "Test servers (Python venv: moto, wsgidav)"
REQ="$ROOT/scripts/test-servers.txt"
if [ ! -x "$TOOLS/venv/bin/python" ] || ! cmp -s "$REQ" "$TOOLS/venv/.requirements"; then
  python3 -m venv "$TOOLS/venv"
  "$TOOLS/venv/bin/pip" install -q --disable-pip-version-check -r "$REQ"
  cp "$REQ" "$TOOLS/venv/.requirements"
else
  note "venv is up to date"
fi

heading "tauri-driver 2.x"
if ! "$TOOLS/bin/tauri-driver" --help >/dev/null 2>&1; then
  cargo install tauri-driver --version "^2" --locked --root "$TOOLS" --quiet
else
  note "tauri-driver present"
fi
