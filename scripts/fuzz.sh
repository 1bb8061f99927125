#!/usr/bin/env bash
# libFuzzer with AddressSanitizer over every parser of what peers send (Fuzz/Sources).
#   scripts/fuzz.sh smoke [SECONDS]          each target briefly (make test; default 8 s)
#   scripts/fuzz.sh run [SECONDS] [TARGET…]  long runs (make fuzz; default 600 s each)
#   FUZZ_RUNS=N scripts/fuzz.sh run …        stop each target after N executions instead
#                                            (seconds then only bound it: make fuzz FUZZ_RUNS=10000000)
# Seeds are in Fuzz/Corpus/<target>; what a run learns stays in .build-fuzz/corpus (not
# committed). A crash stops the script with the input in .build-fuzz/artifacts, which
# `TIPRING_FUZZ_TARGET=<target> .build/debug/tipring-fuzz <file>` replays without the fuzzer.
set -euo pipefail
cd "$(dirname "$0")/.."
mode=${1:-smoke}
case "$mode" in
  smoke) seconds=${2:-8}; shift $(( $# > 1 ? 2 : 1 )) ;;
  run)   seconds=${2:-600}; shift $(( $# > 1 ? 2 : 1 )) ;;
  *) echo "usage: $0 smoke|run [SECONDS] [TARGET…]" >&2; exit 64 ;;
esac
targets=("$@")
[ ${#targets[@]} -eq 0 ] && targets=(sip-message sip-stream sdp rtp digest json5 caller-id dns)
build=.build-fuzz
# swiftc keeps only the last -sanitize= it is given, and SwiftPM passes one per --sanitize:
# the Swift code gets both at once through -Xswiftc (without it, it had no coverage).
swift build -c release --build-path "$build" --product tipring-fuzz \
  --sanitize fuzzer --sanitize address -Xswiftc -sanitize=fuzzer,address -Xswiftc -DFUZZING -Xswiftc -parse-as-library
bin="$build/release/tipring-fuzz"
mkdir -p "$build/artifacts"
total=0
for t in "${targets[@]}"; do
  [ -d "Fuzz/Corpus/$t" ] || { echo "fuzz: no seed corpus Fuzz/Corpus/$t" >&2; exit 2; }
  work="$build/corpus/$t"
  mkdir -p "$work"
  log="$build/$t.log"
  if ! TIPRING_FUZZ_TARGET="$t" SWIFT_BACKTRACE=enable=no ASAN_OPTIONS=detect_leaks=0 \
      "$bin" -max_total_time="$seconds" ${FUZZ_RUNS:+-runs="$FUZZ_RUNS"} -timeout=10 -rss_limit_mb=2048 -max_len=65536 -print_final_stats=1 \
      -artifact_prefix="$build/artifacts/$t-" "$work" "Fuzz/Corpus/$t" > "$log" 2>&1; then
    tail -n 40 "$log" >&2
    echo "fuzz: $t FOUND A CRASH (input in $build/artifacts/)" >&2
    exit 1
  fi
  runs=$(grep -o 'stat::number_of_executed_units: [0-9]*' "$log" | grep -o '[0-9]*$' || echo 0)
  total=$(( total + runs ))
  took=$(grep -oE 'stat::average_exec_per_sec: *[0-9]+' "$log" | grep -oE '[0-9]+$' || echo 0)
  printf 'fuzz: %-12s %12s executions (%s a second), 0 crashes\n' "$t" "$runs" "$took"
done
echo "fuzz: ${#targets[@]} targets, $total executions, 0 crashes"
