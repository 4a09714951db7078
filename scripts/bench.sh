#!/usr/bin/env bash
# Benchmarks (not part of the test command): upload throughput through ChatVault vs plain boto3
# against the same local S3 server, medians of 5 runs. Prints a table for docs/BENCHMARKS.md.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$ROOT"
bash scripts/setup.sh test >/dev/null
cargo build --release --bench upload --quiet 2>/dev/null || cargo bench --bench upload --no-run --quiet
CHATVAULT_TEST_TMP=$(mktemp -d -t chatvault-bench.XXXXXX)
export CHATVAULT_TEST_TMP
trap 'rm -rf "$CHATVAULT_TEST_TMP"' EXIT
export ROOT
dbus-run-session -- bash scripts/services.sh bash -c '
  export CHATVAULT_BENCH_S3_ENDPOINT=$CHATVAULT_TEST_S3_ENDPOINT CHATVAULT_BENCH_S3_BUCKET=$CHATVAULT_TEST_S3_BUCKET
  rust=$(cargo bench --bench upload --quiet 2>/dev/null | grep median)
  py=$("$ROOT/.tools/venv/bin/python" "$ROOT/scripts/bench_boto3.py")
  echo "$rust"; echo "$py"
  python3 "$ROOT/scripts/bench_table.py" "$rust" "$py"
'
