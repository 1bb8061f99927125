#!/usr/bin/env bash
# The daemon as it runs on a router, measured: the given binary runs the simulated board with
# two ports registered at the simulated exchange (examples/sim-demo.json5); prints start →
# first REGISTER, resident memory once idle (RSS, PSS, private) and checks that SIGTERM ends
# it with exit 0 within the bound. Prints figures; fails only when the daemon misbehaves.
# usage: scripts/daemon-memory.sh BINARY
set -euo pipefail
cd "$(dirname "$0")/.."
work=$(mktemp -d)
# Two copies: the exchange's pages must not be counted as the daemon's (shared file pages).
cp "$1" "$work/tipring"; cp "$1" "$work/exchange"; sync
"$work/exchange" sim exchange --listen 127.0.0.1:15060 > "$work/exchange.log" 2>&1 & ex=$!
"$work/tipring" run --board boards/sim.json5 --config examples/sim-demo.json5 --socket "$work/s.sock" --log-level debug > "$work/run.log" 2>&1 & pid=$!
cleanup() { kill -KILL "$pid" "$ex" 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT
registered=0
for _ in $(seq 100); do
  registered=$("$work/tipring" status --json --socket "$work/s.sock" 2>/dev/null | grep -o '"state": "registered"' | wc -l) || true
  [ "$registered" = 2 ] && break
  sleep 0.1
done
if [ "$registered" != 2 ]; then
  echo "error: the daemon did not register both ports within 10 s" >&2; cat "$work/run.log" >&2; exit 1
fi
rollup() { awk '/^(Rss|Pss|Anonymous):/ {v[$1]=$2} END {printf "RSS %d kB (PSS %d kB; anonymous: heap, stacks, relocated data %d kB)", v["Rss:"], v["Pss:"], v["Anonymous:"]}' "/proc/$pid/smaps_rollup"; }
before=$(rollup)
# The startup pages go back 10 s after start; then a quarter of a minute idle.
for _ in $(seq 150); do grep -q "startup pages handed back" "$work/run.log" && break; sleep 0.1; done
sleep 15
echo "daemon, two ports registered, idle: $(rollup)"
echo "  just after start (before handing startup pages back): $before"
grep -o "first REGISTER [0-9]* ms after start" "$work/run.log" | head -1 | sed 's/^/  start → /'
grep -o "startup pages handed back.*" "$work/run.log" | sed 's/^/  /'
# The first off-hook after that: how long from the seizure confirmed to the tone.
"$work/tipring" sim offhook --port 1 --socket "$work/s.sock" > /dev/null
tone=""
for _ in $(seq 50); do
  tone=$("$work/tipring" status --json --socket "$work/s.sock" | grep -o '"seizeToToneMs": [0-9.]*' | head -1 | awk '{print $2}') || true
  [ -n "$tone" ] && break
  sleep 0.1
done
if [ -z "$tone" ]; then echo "error: no tone after the off-hook" >&2; cat "$work/run.log" >&2; exit 1; fi
echo "  first off-hook after that: the tone $tone ms after the seizure was confirmed (it sounds from the next 20 ms period)"
"$work/tipring" sim onhook --port 1 --socket "$work/s.sock" > /dev/null
start=$(date +%s%N)
kill -TERM "$pid"
code=0; wait "$pid" || code=$?
ms=$(( ($(date +%s%N) - start) / 1000000 ))
echo "  SIGTERM → exit $code in $ms ms"
if [ "$code" != 0 ] || [ "$ms" -gt 6000 ]; then
  echo "error: SIGTERM should end the daemon with 0 within 6 s" >&2; cat "$work/run.log" >&2; exit 1
fi
kill -TERM "$ex"; wait "$ex" || true
