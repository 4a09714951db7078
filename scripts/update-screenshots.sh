#!/usr/bin/env bash
# Copies the screenshots the E2E run took (artifacts/screenshots) into docs/screenshots, for
# the documentation. Run after scripts/test.sh.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
src="$ROOT/artifacts/screenshots"
dst="$ROOT/docs/screenshots"
[ -d "$src" ] || die "no screenshots yet: run scripts/test.sh first"
mkdir -p "$dst"
n=0
for f in "$src"/{home,wizard,restore,forget,settings,history,schedule,media}-*.png; do
  [ -e "$f" ] || continue
  cp "$f" "$dst/"
  n=$((n + 1))
done
note "copied $n screenshots to docs/screenshots"
