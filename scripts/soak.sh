#!/usr/bin/env bash
# Soak (issue 15; not part of the test command): RUNS scheduled-style runs (`backup --profile`
# with retention keep-last 3) against a WeChat 3.x demo store that changes between runs as
# WeChat changes it (new messages; every fifth run a recall, which rewrites an old row in
# place; halfway, a new shard MSG2.db that the new messages go to), on one local-folder
# repository. Each run verifies (--read-data every 20th run and the last);
# at the end the newest snapshot restores every message of the store, and no recalled text.
# Prints the figures (runs, time, repository growth per run, peak RSS of a run: first/last/max).
#
#   bash scripts/soak.sh [RUNS]   (default 200; about 1 s per run with a debug build)
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$ROOT"
RUNS=${1:-200}

SOAK_TMP=$(mktemp -d -t chatvault-soak.XXXXXX)
trap 'rm -rf "$SOAK_TMP"' EXIT
export CHATVAULT_TEST_TMP=$SOAK_TMP CHATVAULT_SOAK_RUNS=$RUNS CHATVAULT_REQUIRE_SERVICES=1
export XDG_DATA_HOME=$SOAK_TMP/data XDG_CONFIG_HOME=$SOAK_TMP/config XDG_CACHE_HOME=$SOAK_TMP/cache
mkdir -p "$XDG_DATA_HOME" "$XDG_CONFIG_HOME" "$XDG_CACHE_HOME"
heading "Soak: $RUNS runs"
dbus-run-session -- bash scripts/services.sh \
  cargo test --test soak soak_long -- --ignored --nocapture 2>&1 | grep -E '^soak:|test result|panicked|FAILED'
exit "${PIPESTATUS[0]}"
