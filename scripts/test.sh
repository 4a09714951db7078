#!/usr/bin/env bash
# Runs every test ChatVault has, installing what is missing first. Stages, in order:
#   format, lints (Rust and UI), UI type check, Rust tests (unit + integration, against a real
#   Secret Service, S3 server and WebDAV servers), UI unit tests, end-to-end tests of the real
#   app window under Xvfb through tauri-driver + WebKitWebDriver.
# Tests never touch the real home's app data, keychain or config: XDG dirs point at a temp
# folder, and the run fails if anything under the real ones changed.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$ROOT"

TIMINGS=${CHATVAULT_TIMINGS:-}
stage() {
  local name=$1; shift
  heading "$name"
  local t0=$SECONDS
  "$@"
  printf '%-40s %4ds\n' "$name" $((SECONDS - t0)) >>"$TIMINGS"
}

if [ "${1:-}" = --inner ]; then
  # Inside Xvfb, a private session bus and the test services (see scripts/services.sh).
  export CHATVAULT_REQUIRE_SERVICES=1
  stage "Rust tests (cargo test)" cargo test --workspace --all-targets --no-fail-fast
  stage "UI unit tests (Vitest)" bash -c 'cd ui && npx vitest run'
  stage "End-to-end tests (tauri-driver)" bash -c 'cd e2e && node --test --test-reporter=spec --test-concurrency=1 tests/'
  exit 0
fi

t_start=$SECONDS
# Throw-away XDG folders for everything the tests and the app write.
CHATVAULT_TEST_TMP=$(mktemp -d -t chatvault-test.XXXXXX)
export CHATVAULT_TEST_TMP
export XDG_DATA_HOME=$CHATVAULT_TEST_TMP/xdg/data XDG_CONFIG_HOME=$CHATVAULT_TEST_TMP/xdg/config \
  XDG_CACHE_HOME=$CHATVAULT_TEST_TMP/xdg/cache XDG_STATE_HOME=$CHATVAULT_TEST_TMP/xdg/state \
  XDG_RUNTIME_DIR=$CHATVAULT_TEST_TMP/xdg/run
mkdir -p "$XDG_DATA_HOME" "$XDG_CONFIG_HOME" "$XDG_CACHE_HOME" "$XDG_STATE_HOME" "$XDG_RUNTIME_DIR"
chmod 700 "$XDG_RUNTIME_DIR"
export CHATVAULT_TIMINGS=$CHATVAULT_TEST_TMP/timings
TIMINGS=$CHATVAULT_TIMINGS
: >"$TIMINGS"
trap 'rm -rf "$CHATVAULT_TEST_TMP"' EXIT

stage "Setup" bash scripts/setup.sh test 2>&1

# What the real home holds for ChatVault and keyrings, to compare after the run.
home_fingerprint() {
  local real_home=$HOME
  for d in "$real_home/.local/share" "$real_home/.config" "$real_home/.cache"; do
    [ -d "$d" ] && find "$d" -maxdepth 1 -printf '%p\n' 2>/dev/null
  done
  for d in "$real_home/.local/share/keyrings" "$real_home/.local/share/chatvault" \
    "$real_home/.config/chatvault" "$real_home/.cache/chatvault" \
    "$real_home"/.local/share/app.chatvault.* "$real_home"/.config/app.chatvault.*; do
    [ -e "$d" ] && find "$d" -printf '%p %s %T@\n' 2>/dev/null
  done
  true
}
home_fingerprint | sort >"$CHATVAULT_TEST_TMP/home.before"

stage "cargo fmt --check" cargo fmt --all -- --check
stage "cargo clippy" cargo clippy --workspace --all-targets --quiet -- -D warnings
stage "UI type check and lint" bash -c 'cd ui && npm run --silent typecheck && npm run --silent lint'
stage "Build the UI" bash -c 'cd ui && npm run --silent build'
# The E2E binary carries a test identifier, so its WebKit data and settings never mix with a
# real install's.
stage "Build the app for E2E" bash -c '
  TAURI_CONFIG="{\"identifier\":\"app.chatvault.e2e\"}" cargo build -p chatvault-app --features custom-protocol --quiet
  cargo build --bin chatvault --quiet
  mkdir -p target/e2e && cp target/debug/chatvault-app target/e2e/chatvault-app'
# A short run of every fuzz harness (the 10-minute runs of docs/RELIABILITY.md are
# `bash scripts/fuzz.sh`).
stage "Fuzz every decoder (10 s each)" bash scripts/fuzz.sh 10
export CHATVAULT_APP_BIN=$ROOT/target/e2e/chatvault-app
# The E2E tests set up and check profiles with the CLI too (same XDG folders and keychain).
export CHATVAULT_CLI_BIN=$ROOT/target/debug/chatvault

# xvfb-run outside dbus-run-session, so bus-activated services see the display.
xvfb-run -a -s "-screen 0 1280x1024x24 -nolisten tcp" \
  dbus-run-session -- bash scripts/services.sh bash scripts/test.sh --inner

home_fingerprint | sort >"$CHATVAULT_TEST_TMP/home.after"
stage "Hermeticity (real home untouched)" diff -u "$CHATVAULT_TEST_TMP/home.before" "$CHATVAULT_TEST_TMP/home.after"

heading "Wall time per stage"
cat "$TIMINGS"
printf '%-40s %4ds\n' "Total" $((SECONDS - t_start))
