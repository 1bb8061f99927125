#!/usr/bin/env bash
# The release build that ships: the Swift runtime and libstdc++ linked in statically (a
# router then needs only libc, libm, alsa-lib, libgpiod, libopus and libresolv), no exported dynamic
# symbols (that table only names frames in a crash backtrace and costs ~2.5 MB; symbolicate
# with the unstripped binary instead). Prints the binary's path on stdout; the build's
# output goes to stderr.
# usage: scripts/release-build.sh [SCRATCH_PATH]   (default .build-static)
set -euo pipefail
cd "$(dirname "$0")/.."
scratch=${1:-.build-static}
flags=(-c release --product tipring --static-swift-stdlib --scratch-path "$scratch" -Xlinker --no-export-dynamic)
# The Swift driver asks for -lstdc++; a directory searched first answers with a linker
# script that names the static archive instead (GNU ld applies every -L to every -l).
archive=$(gcc -print-file-name=libstdc++.a 2>/dev/null || true)
if [ -n "$archive" ] && [ -f "$archive" ]; then
  mkdir -p "$scratch/static-libstdc++"
  echo "INPUT($archive)" > "$scratch/static-libstdc++/libstdc++.so"
  flags+=(-Xlinker -L"$PWD/$scratch/static-libstdc++")
else
  echo "note: no static libstdc++ (gcc's libstdc++.a) here: the binary links libstdc++.so" >&2
fi
# `tipring --version` names the revision: a header only tipring_sys.c includes (rewritten
# only when the revision changes, so nothing else is rebuilt for it).
mkdir -p "$scratch/generated"
revision=$(git rev-parse --short=12 HEAD 2>/dev/null || echo "unknown revision")
if [ -n "$(git status --porcelain --untracked-files=no 2>/dev/null)" ]; then revision="$revision, modified"; fi
header="#define TIPRING_REVISION \"$revision\""
if [ "$(cat "$scratch/generated/tipring_revision.h" 2>/dev/null)" != "$header" ]; then
  echo "$header" > "$scratch/generated/tipring_revision.h"
fi
flags+=(-Xcc -I"$PWD/$scratch/generated")
swift build "${flags[@]}" >&2
echo "$PWD/$scratch/release/tipring"
