#!/usr/bin/env bash
# The C shims build with musl (Debian musl-tools): a static OpenWrt build (musl libc, the Swift
# static Linux SDK) then only needs the Swift side. The resolver shim is also linked statically
# against musl and run.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v musl-gcc >/dev/null || { echo "musl-check: musl-gcc missing (make test installs musl-tools)" >&2; exit 2; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cc=(musl-gcc -std=gnu11 -O1 -Wall -Wextra -Werror -D_GNU_SOURCE)
"${cc[@]}" -static -ISources/CTipRingResolv/include Sources/CTipRingResolv/tipring_resolv.c Tests/Fixtures/musl/resolv_check.c \
  -o "$work/resolv_check"
# The system-call shim (sockets, route, files) — linked statically and run.
"${cc[@]}" -static -ISources/CTipRingSys/include Sources/CTipRingSys/tipring_sys.c Tests/Fixtures/musl/sys_check.c -o "$work/sys_check"
"$work/sys_check"
"$work/resolv_check"
# The system-call shim (sockets, route, files) — linked statically and run.
"${cc[@]}" -static -ISources/CTipRingSys/include Sources/CTipRingSys/tipring_sys.c Tests/Fixtures/musl/sys_check.c -o "$work/sys_check"
"$work/sys_check"
# GPIO, ALSA and Opus: the shims against musl's libc; only the libraries' own headers come from
# /usr/include (searched after musl's).
for shim in CTipRingGPIO/tipring_gpio.c CTipRingALSA/tipring_alsa.c CTipRingOpus/tipring_opus.c; do
  "${cc[@]}" -c -I"Sources/$(dirname "$shim")/include" -idirafter /usr/include "Sources/$shim" -o "$work/$(basename "$shim" .c).o"
done
echo "musl-check: the resolver, system-call, GPIO, ALSA and Opus shims build with musl-gcc; the resolver and system-call shims run"
