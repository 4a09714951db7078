#!/usr/bin/env bash
# Coverage-guided fuzzing of every decoder of untrusted bytes (fuzz/, docs/RELIABILITY.md).
#
#   bash scripts/fuzz.sh [SECONDS_PER_HARNESS] [HARNESS...]
#
# Default: every harness for 600 s (the figures in docs/RELIABILITY.md). CI runs each for a few
# seconds (scripts/test.sh). Limits per input, as the figures promise: 1 s, 256 MB allocated
# at once, 2 GB RSS for the process. A crash leaves its input in fuzz/artifacts/<harness>/;
# copy it to fuzz/regressions/<harness>/ before fixing it: every run of this script replays
# those inputs first, so a fixed crash stays fixed.
#
# cargo-fuzz needs nightly-only compiler flags (sanitizer, coverage); the machine's stable
# toolchain takes them with RUSTC_BOOTSTRAP=1, which is set only for this build.
source "$(dirname "$0")/lib.sh"
cd "$ROOT"

seconds=${1:-600}
shift || true
all=(envelope repo_body sealed_roundtrip user_text wechat_content imessage_typedstream media)
harnesses=("${@:-${all[@]}}")

heading "cargo-fuzz"
if ! "$TOOLS/bin/cargo-fuzz" --version >/dev/null 2>&1; then
  cargo install cargo-fuzz --version "^0.13" --locked --root "$TOOLS" --quiet
fi
note "$("$TOOLS/bin/cargo-fuzz" --version)"

export RUSTC_BOOTSTRAP=1
heading "Build the harnesses (address sanitizer)"
cargo fuzz build 2>&1 | grep -v '^ *Compiling' || true
[ -x fuzz/target/x86_64-unknown-linux-gnu/release/${all[0]} ] || die "the fuzz harnesses did not build"

summary=()
for h in "${harnesses[@]}"; do
  heading "Fuzz $h for ${seconds}s"
  corpus="fuzz/corpus/$h"
  work="$(mktemp -d)"
  mkdir -p "$corpus" "fuzz/artifacts/$h" "$work/new"
  if [ -d "fuzz/regressions/$h" ] && [ -n "$(ls -A "fuzz/regressions/$h")" ]; then
    cargo fuzz run "$h" "fuzz/regressions/$h" -- -runs=0 -timeout=1 -malloc_limit_mb=256 \
      2>"$work/replay" || { tail -40 "$work/replay" >&2; die "$h: a regression input fails again"; }
    note "replayed $(ls "fuzz/regressions/$h" | wc -l) regression input(s)"
  fi
  # New inputs go to a scratch folder: the committed seed corpus only grows by hand.
  # A run stops at the first failing input. A "timeout" that does not happen again when its
  # input is run alone was the machine being busy (other builds share its cores): it is noted,
  # and fuzzing goes on for the rest of the time. Any other failure stops the script.
  deadline=$((SECONDS + seconds))
  runs=0 cov="?" restarts=0
  while :; do
    left=$((deadline - SECONDS))
    [ "$left" -ge 1 ] || break
    log="$work/log"
    before=$(ls "fuzz/artifacts/$h" | sort)
    if cargo fuzz run "$h" "$work/new" "$corpus" -- \
          -max_total_time="$left" -timeout=1 -malloc_limit_mb=256 -rss_limit_mb=2048 \
          -max_len=1048576 -print_final_stats=1 2>"$log"; then
      failed=""
    else
      failed=$(comm -13 <(echo "$before") <(ls "fuzz/artifacts/$h" | sort) | head -1)
    fi
    n=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' || echo 0)
    runs=$((runs + n))
    cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1 | grep -o '[0-9]*' || echo "$cov")
    [ -n "$failed" ] || { grep -q 'Done [0-9]* runs\|stat::number_of_executed_units' "$log" || { tail -40 "$log" >&2; die "$h: the fuzzer stopped"; }; break; }
    case $failed in
      timeout-*)
        if cargo fuzz run "$h" "fuzz/artifacts/$h/$failed" -- -timeout=1 -runs=1 \
            >/dev/null 2>&1; then
          note "$failed: not slow when run alone (the machine was busy); going on"
          rm -f "fuzz/artifacts/$h/$failed"
          restarts=$((restarts + 1))
          continue
        fi ;;
    esac
    tail -40 "$log" >&2
    die "$h: the fuzzer found a failing input (fuzz/artifacts/$h/$failed)"
  done
  summary+=("$(printf '%-22s %10s runs  %6s edges  0 crashes  %s' "$h" "$runs" "$cov" \
    "$([ "$restarts" -gt 0 ] && echo "($restarts load timeouts not reproduced)")")")
  rm -rf "$work"
done

heading "Summary (${seconds}s each)"
printf '    %s\n' "${summary[@]}"
