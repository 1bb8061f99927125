#!/usr/bin/env bash
# The release build that ships: static Swift runtime, no exported dynamic symbols (that table
# only names frames in a crash backtrace and costs ~2.5 MB; symbolicate with the unstripped
# binary instead). Prints the binary's path on stdout; the build's output goes to stderr.
# usage: scripts/release-build.sh [SCRATCH_PATH]   (default .build-static)
set -euo pipefail
cd "$(dirname "$0")/.."
flags=(-c release --product tipring --static-swift-stdlib --scratch-path "${1:-.build-static}" -Xlinker --no-export-dynamic)
swift build "${flags[@]}" >&2
echo "$PWD/${1:-.build-static}/release/tipring"
