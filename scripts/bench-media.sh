#!/usr/bin/env bash
# Media benchmark (issue 13; not part of the test command): a WeChat for Windows 3.x demo store
# whose photos are rewritten as GB gigabytes of incompressible bytes (photos and videos are
# already compressed), backed up by ChatVault and by restic (Debian's package) side by side in
# one run, to a local folder. Prints a Markdown table for docs/BENCHMARKS.md.
#
#   bash scripts/bench-media.sh [GB] [RUNS]        defaults: 5 3
#
# The target (issue 13): a full backup at no less than 80 % of the lower of the disk's read
# speed and the single-core speed of what every byte goes through (keyed chunk id, zstd,
# AES-256-GCM: benches/throughput.rs); a second run with no new media uploads under 1 MB;
# peak RSS at most 200 MB.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$ROOT"
GB=${1:-5}
RUNS=${2:-3}

bash scripts/setup.sh test >/dev/null
apt_ensure restic time
# CV=<binary> THROUGHPUT=<bench binary> measure given builds (e.g. before and after a change)
# without building.
if [ -z "${CV:-}" ] || [ -z "${THROUGHPUT:-}" ]; then
  heading "Building (release)"
  cargo build --release --quiet --bin chatvault
  cargo bench --bench throughput --no-run --quiet 2>/dev/null
fi
THROUGHPUT=${THROUGHPUT:-$(ls -t target/release/deps/throughput-* | grep -v '\.d$' | head -1)}
CV=${CV:-$ROOT/target/release/chatvault}

BENCH_TMP=$(mktemp -d -t chatvault-media.XXXXXX)
export BENCH_TMP CV THROUGHPUT GB RUNS
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
drop_caches() { sync; echo 3 >/proc/sys/vm/drop_caches 2>/dev/null || true; }
d=$BENCH_TMP/w3
# About one photo per 60 demo messages: enough messages for 2 MB photos to make GB.
messages=$(( GB * 1000 / 2 * 60 ))
"$CV" demo "$d/demo" --variant wechat-win3 --messages "$messages" --json >"$BENCH_TMP/demo.json"
root=$(python3 -c "import json,sys; print(json.load(open(sys.argv[1]))[\"store\"])" "$BENCH_TMP/demo.json")
key=$d/demo/demo-key.txt
# The originals (not the thumbnails) become GB of random bytes, as many files as the demo has.
python3 - "$root" "$GB" >"$BENCH_TMP/media" <<"PY"
import os, sys
root, gb = sys.argv[1], float(sys.argv[2])
files = [os.path.join(dp, f) for dp, _, fs in os.walk(os.path.join(root, "FileStorage"))
         for f in fs if f.endswith(".dat") and "/Image/" in os.path.join(dp, f)]
each = int(gb * 1e9 / len(files))
for p in files:
    with open(p, "wb") as f:
        left = each
        while left:
            n = min(left, 1 << 20)
            f.write(os.urandom(n))
            left -= n
print(len(files), each * len(files))
PY
read -r nfiles media_bytes <"$BENCH_TMP/media"
store_bytes=$(du -sb "$root" | cut -f1)

# The ceilings: the disk (cold cache where this machine lets us drop it) and one core.
drop_caches
read -r t _ < <(measure bash -c "find \"$root\" -type f -print0 | xargs -0 cat >/dev/null")
disk=$(awk -v b="$store_bytes" -v t="$t" "BEGIN { printf \"%.0f\", b / 1e6 / t }")
core=$("$THROUGHPUT" 512 5 | sed -n "s/^THROUGHPUT //p")
ceiling=$(( disk < core ? disk : core ))

full=(); rss=(); rfull=(); again=(); again_bytes=(); rss2=()
for r in $(seq 1 "$RUNS"); do
  rm -rf "$d/repo" "$d/restic" "$XDG_DATA_HOME/chatvault/repos" "$XDG_CACHE_HOME/chatvault"
  "$CV" init --json --target "file://$d/repo" --recovery-code-file "$d/code-$r.txt" >/dev/null
  drop_caches
  read -r t m < <(measure "$CV" backup --json --target "file://$d/repo" --store "$root" --key-file "$key")
  full+=("$t"); rss+=("$m")
  restic -q init -r "$d/restic" >/dev/null
  drop_caches
  read -r t _ < <(RESTIC_CACHE_DIR=$d/rcache measure restic -q -r "$d/restic" backup "$root")
  rfull+=("$t")
  # A second run that reads the whole store again (a changed store, a full read due) but
  # finds no new media: every photo is chunked and hashed again, and nothing is uploaded.
  before=$(du -sb "$d/repo" | cut -f1)
  touch "$root/Msg/Multi/MSG0.db"
  read -r t m < <(CHATVAULT_FULL_READ_EVERY=0 measure "$CV" backup --json --target "file://$d/repo" --store "$root" --key-file "$key")
  again+=("$t"); rss2+=("$m")
  again_bytes+=($(( $(du -sb "$d/repo" | cut -f1) - before )))
done
cv_full=$(printf "%s\n" "${full[@]}" | median); r_full=$(printf "%s\n" "${rfull[@]}" | median)
cv_rss=$(printf "%s\n" "${rss[@]}" | median); cv_rss2=$(printf "%s\n" "${rss2[@]}" | median)
cv_again=$(printf "%s\n" "${again[@]}" | median)
cv_again_bytes=$(printf "%s\n" "${again_bytes[@]}" | median)
cv_bytes=$(du -sb "$d/repo" | cut -f1); r_bytes=$(du -sb "$d/restic" | cut -f1)
mbps() { awk -v b="$media_bytes" -v t="$1" "BEGIN { printf \"%.0f\", b / 1e6 / t }"; }
ratio() { awk -v a="$1" -v b="$2" "BEGIN { printf \"%.2fx\", a / b }"; }
pct() { awk -v a="$1" -v b="$2" "BEGIN { printf \"%.0f %%\", 100 * a / b }"; }
echo "| measure | ChatVault | restic | ratio |"
echo "|---|---|---|---|"
echo "| store: WeChat 3.x demo, $messages messages, $nfiles photos, $((media_bytes / 1000000)) MB of media, $((store_bytes / 1000000)) MB in all | | | |"
echo "| disk read (cold cache) / one core (chunk id + zstd + AES-256-GCM), MB/s | $disk / $core | | |"
echo "| full backup, s (median of $RUNS) | $cv_full | $r_full | $(ratio "$cv_full" "$r_full") |"
echo "| full backup, media MB/s | $(mbps "$cv_full") | $(mbps "$r_full") | |"
echo "| full backup speed / the lower ceiling ($ceiling MB/s) | $(pct "$(mbps "$cv_full")" "$ceiling") | $(pct "$(mbps "$r_full")" "$ceiling") | |"
echo "| second run, whole store read again, no new media: s / bytes added to the repository | $cv_again / $cv_again_bytes | | |"
echo "| repository, MB | $((cv_bytes / 1000000)) | $((r_bytes / 1000000)) | $(ratio "$cv_bytes" "$r_bytes") |"
echo "| peak RSS, full backup / second run, MB | $((cv_rss / 1024)) / $((cv_rss2 / 1024)) | | |"
'
