#!/usr/bin/env bash
# Builds and launches the ChatVault app: installs what is missing, builds the UI, builds the
# app with the UI embedded, starts it. Extra arguments are passed to the app.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

bash "$ROOT/scripts/setup.sh" app

heading "Build the UI"
(cd "$ROOT/ui" && npm run --silent build)

heading "Build the app"
(cd "$ROOT" && cargo build -p chatvault-app --features custom-protocol)

heading "Launch ChatVault"
if [ -z "${DISPLAY:-}" ] && [ -z "${WAYLAND_DISPLAY:-}" ]; then
  die "no display to open ChatVault's window on. Run this in a desktop session, or try it on a headless machine with: xvfb-run -a bash scripts/run.sh"
fi
exec "$ROOT/target/debug/chatvault-app" "$@"
