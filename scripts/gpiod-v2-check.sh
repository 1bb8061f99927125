#!/usr/bin/env bash
# Builds TipRing's GPIO shim against libgpiod v2 — the sources inside PyPI's `gpiod` sdist
# are libgpiod 2.x itself — and runs the open-failure check (no kernel GPIO here: every open
# must fail with ENOENT). Debian 12 ships v1, which the package itself builds against.
set -euo pipefail
cd "$(dirname "$0")/.."
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
python3 -m pip download --quiet --no-deps --no-binary :all: gpiod==2.2.1 -d "$work" >/dev/null
tar -xzf "$work"/gpiod-2.2.1.tar.gz -C "$work"
src="$work/gpiod-2.2.1"
gcc -std=gnu11 -O1 -Wall -D_GNU_SOURCE -DGPIOD_VERSION_STR="\"$(cat "$src/libgpiod-version.txt" 2>/dev/null || echo 2)\"" -I"$src/include" -I"$src/lib" -ISources/CTipRingGPIO/include \
    "$src"/lib/*.c Sources/CTipRingGPIO/tipring_gpio.c Tests/Fixtures/gpiod/open_missing.c -o "$work/open_missing"
"$work/open_missing"
