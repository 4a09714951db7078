#!/usr/bin/env bash
# Scale benchmark (not part of the test command): generated WeChat stores of a given size,
# backed up by ChatVault and by restic (Debian's package) side by side in one run, to a local
# folder. Prints a Markdown table for docs/BENCHMARKS.md.
#
#   bash scripts/bench-store.sh [MESSAGES] [CONVERSATIONS] [VARIANTS] [RUNS]
#   defaults: 1000000 2000 "win3 v4" 3
#   CV=/path/to/chatvault bash scripts/bench-store.sh ...  measures another build of the CLI
#   (e.g. the previous commit's, for a before/after table on the same machine).
#
# Measures per variant: full backup (wall, peak RSS), an incremental backup after 1,000 new
# messages, repository bytes, the conversation list and a page of 100 messages on an open store,
# and restoring one conversation vs everything. Medians of RUNS runs where it says so.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$ROOT"
MESSAGES=${1:-1000000}
CONVERSATIONS=${2:-2000}
VARIANTS=${3:-"win3 v4"}
RUNS=${4:-3}

bash scripts/setup.sh test >/dev/null
apt_ensure restic time
heading "Building (release)"
cargo build --release --quiet --bin chatvault
cargo bench --bench scale --no-run --quiet 2>/dev/null
SCALE=$(ls -t target/release/deps/scale-* | grep -v '\.d$' | head -1)
CV=${CV:-$ROOT/target/release/chatvault}

BENCH_TMP=$(mktemp -d -t chatvault-scale.XXXXXX)
export BENCH_TMP CV SCALE MESSAGES CONVERSATIONS RUNS VARIANTS
trap 'rm -rf "$BENCH_TMP"' EXIT
export CHATVAULT_TEST_TMP=$BENCH_TMP/services
mkdir -p "$CHATVAULT_TEST_TMP"
export XDG_CONFIG_HOME=$BENCH_TMP/xdg/config XDG_DATA_HOME=$BENCH_TMP/xdg/data XDG_CACHE_HOME=$BENCH_TMP/xdg/cache
mkdir -p "$XDG_CONFIG_HOME" "$XDG_DATA_HOME" "$XDG_CACHE_HOME"

# Inside a private session bus with the Secret Service (the repository key lives there).
dbus-run-session -- bash scripts/services.sh bash -c '
set -euo pipefail
export RESTIC_PASSWORD=bench
median() { sort -n | awk "{a[NR]=\$1} END {print a[int((NR+1)/2)]}"; }
# wall seconds and peak RSS (KiB) of a command, stdout and stderr discarded
measure() { /usr/bin/time -o "$BENCH_TMP/t" -f "%e %M" "$@" >/dev/null 2>&1; cat "$BENCH_TMP/t"; }
echo "| variant | measure | ChatVault | restic | ratio |"
echo "|---|---|---|---|---|"
for v in $VARIANTS; do
  d=$BENCH_TMP/$v
  rm -rf "$d"; mkdir -p "$d"
  root=$("$SCALE" generate "$v" "$d/store" "$MESSAGES" "$CONVERSATIONS" | sed -n 1p)
  echo "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff" >"$d/key"
  store_bytes=$(du -sb "$d/store" | cut -f1)
  full=(); rss=(); rfull=()
  for r in $(seq 1 "$RUNS"); do
    rm -rf "$d/repo" "$d/restic" "$XDG_DATA_HOME/chatvault/repos"
    "$CV" init --json --target "file://$d/repo" --recovery-code-file "$d/code-$v-$r.txt" >/dev/null
    read -r t m < <(measure "$CV" backup --json --target "file://$d/repo" --store "$root" --key-file "$d/key")
    full+=("$t"); rss+=("$m")
    restic -q init -r "$d/restic" >/dev/null
    read -r t _ < <(RESTIC_CACHE_DIR=$d/rcache measure restic -q -r "$d/restic" backup "$d/store")
    rfull+=("$t")
  done
  cv_full=$(printf "%s\n" "${full[@]}" | median); r_full=$(printf "%s\n" "${rfull[@]}" | median)
  cv_rss=$(printf "%s\n" "${rss[@]}" | median)
  cv_bytes=$(du -sb "$d/repo" | cut -f1); r_bytes=$(du -sb "$d/restic" | cut -f1)
  inc=(); rinc=()
  for r in $(seq 1 "$RUNS"); do
    SCALE_SEED=$((100 + r)) "$SCALE" append "$v" "$d/store" 1000 "$CONVERSATIONS" >/dev/null
    read -r t _ < <(measure "$CV" backup --json --target "file://$d/repo" --store "$root" --key-file "$d/key")
    inc+=("$t")
    read -r t _ < <(RESTIC_CACHE_DIR=$d/rcache measure restic -q -r "$d/restic" backup "$d/store")
    rinc+=("$t")
  done
  cv_inc=$(printf "%s\n" "${inc[@]}" | median); r_inc=$(printf "%s\n" "${rinc[@]}" | median)
  read -r t_all _ < <(measure "$CV" restore --json --target "file://$d/repo" --into "$d/out-all" --format json)
  one=$("$CV" conversations --json --store "$root" --key-file "$d/key" | python3 -c "import json,sys; c=json.load(sys.stdin); c.sort(key=lambda x: -x[\"message_count\"]); print(c[len(c)//2][\"id\"])")
  read -r t_one _ < <(measure "$CV" restore --json --target "file://$d/repo" --conversation "$one" --into "$d/out-one" --format json)
  ratio() { awk -v a="$1" -v b="$2" "BEGIN { printf \"%.2fx\", a / b }"; }
  echo "| $v | store: $MESSAGES messages, $CONVERSATIONS conversations, $((store_bytes / 1000000)) MB | | | |"
  echo "| $v | full backup, s (median of $RUNS) | $cv_full | $r_full | $(ratio "$cv_full" "$r_full") |"
  echo "| $v | incremental after +1,000 messages, s | $cv_inc | $r_inc | $(ratio "$cv_inc" "$r_inc") |"
  echo "| $v | repository, MB | $((cv_bytes / 1000000)) | $((r_bytes / 1000000)) | $(ratio "$cv_bytes" "$r_bytes") |"
  echo "| $v | peak RSS of the full backup, MB | $((cv_rss / 1024)) | | |"
  echo "| $v | restore everything / one conversation, s | $t_all / $t_one | | |"
  "$SCALE" preview "$root" | sed "s/^/| $v | open store: /; s/$/ | | | |/"
done
'
