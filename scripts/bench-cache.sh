#!/usr/bin/env bash
# The local object cache's effect (issue 17; not part of the test command): a generated WeChat
# 3.x store backed up to the local S3 test server, then incremental backups after +1,000
# messages each without a cache (ranged reads, as before), with an empty cache (a new
# computer) and with a warm one, and a restore of one conversation each way. Prints wall
# times, GETs and bytes downloaded as Markdown tables for docs/BENCHMARKS.md.
#
#   bash scripts/bench-cache.sh [MESSAGES] [CONVERSATIONS] [ROUNDS]   (defaults 200000 1000 3)
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$ROOT"
MESSAGES=${1:-200000}
CONVERSATIONS=${2:-1000}
ROUNDS=${3:-3}

bash scripts/setup.sh test >/dev/null
heading "Building (release)"
cargo bench --bench scale --bench cache --no-run --quiet 2>/dev/null
SCALE_BIN=$(ls -t target/release/deps/scale-* | grep -v '\.d$' | head -1)
CACHE_BIN=$(ls -t target/release/deps/cache-* | grep -v '\.d$' | head -1)
BENCH_TMP=$(mktemp -d -t chatvault-cache.XXXXXX)
trap 'rm -rf "$BENCH_TMP"' EXIT
export CHATVAULT_TEST_TMP=$BENCH_TMP/services SCALE_BIN CACHE_BIN BENCH_TMP ROUNDS
export SCALE_DIR=$BENCH_TMP/store SCALE_CONVERSATIONS=$CONVERSATIONS
mkdir -p "$CHATVAULT_TEST_TMP"
root=$("$SCALE_BIN" generate win3 "$SCALE_DIR" "$MESSAGES" "$CONVERSATIONS" | sed -n 1p)
export STORE_ROOT=$root
dbus-run-session -- bash scripts/services.sh bash -c '
  export CHATVAULT_BENCH_S3_ENDPOINT=$CHATVAULT_TEST_S3_ENDPOINT CHATVAULT_BENCH_S3_BUCKET=$CHATVAULT_TEST_S3_BUCKET
  "$CACHE_BIN" "$STORE_ROOT" 00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff "$BENCH_TMP" "$ROUNDS"
'
