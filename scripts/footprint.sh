#!/usr/bin/env bash
# The router has little flash and RAM: no full Foundation (it drags ICU in), and a size
# budget for the stripped, statically linked release binary.
set -euo pipefail
cd "$(dirname "$0")/.."
# 25 MiB, 3 more for the operator's view (the status page, its HTTP server and metrics) and
# 4 more for SIP over TLS (swift-nio-ssl carries a BoringSSL of its own beside swift-crypto's).
budget_mb=${TIPRING_SIZE_BUDGET_MB:-32}

echo "== footprint: no target imports full Foundation"
if grep -rnE '^\s*(@_exported |public |internal |package )?import Foundation\s*$' Sources Simulator; then
  echo "error: full Foundation is imported above; use FoundationEssentials" >&2
  exit 1
fi

echo "== footprint: static Swift runtime, stripped"
sbin=$(scripts/release-build.sh .build-static)
# Linked statically, Foundation or ICU would not show in ldd: look for their symbols in the
# unstripped binary instead (full Foundation's `$s10Foundation…`, FoundationInternationalization's
# `$s31FoundationInternationalization…`, the ICU it carries as `swift_ucal_…`/`swift_ucol_…`).
if nm "$sbin" | grep -m 3 -E ' \$s10Foundation|\$s31FoundationInternationalization| swift_uc(al|ol)_'; then
  echo "error: $sbin carries full Foundation or ICU (see above)" >&2
  exit 1
fi
echo "nm: no full Foundation, FoundationInternationalization or ICU symbols"
# The release binary names the revision it was built from.
version=$("$sbin" --version)
echo "tipring --version: $version"
revision=$(git rev-parse --short=12 HEAD 2>/dev/null || true)
if [ -n "$revision" ] && [[ "$version" != *"($revision"* ]]; then
  echo "error: the release binary's --version does not name revision $revision" >&2
  exit 1
fi
mkdir -p .build-static/stripped
strip -o .build-static/stripped/tipring "$sbin"
size=$(stat -c %s .build-static/stripped/tipring)
echo "stripped static binary: $size bytes ($(( size / 1048576 )) MiB; budget ${budget_mb} MiB)"
echo "it needs: $(ldd .build-static/stripped/tipring | awk '/=>/ {print $1}' | tr '\n' ' ')"
if ldd .build-static/stripped/tipring | grep -E 'libFoundation|libicu'; then
  echo "error: the release binary links Foundation or ICU (see above)" >&2
  exit 1
fi
if ldd .build-static/stripped/tipring | grep -q 'libstdc++'; then
  echo "error: the release binary should carry libstdc++ (routers seldom have it)" >&2
  exit 1
fi
if [ "$size" -gt $(( budget_mb * 1048576 )) ]; then
  echo "error: stripped static binary is over the ${budget_mb} MiB budget" >&2
  exit 1
fi

echo "== footprint: the daemon's memory (stripped static binary, simulated board)"
scripts/daemon-memory.sh .build-static/stripped/tipring
