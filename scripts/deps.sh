#!/usr/bin/env bash
# Installs the Debian packages a TipRing job needs, when they are missing.
#   scripts/deps.sh build   — what building needs (C libraries the Linux backends link)
#   scripts/deps.sh test    — building plus the real peers the tests start and check against
# Non-interactive (CI has no standard input); needs root or sudo only when something is missing.
set -euo pipefail

build_pkgs=(pkg-config libasound2-dev libgpiod-dev libopus-dev binutils)
test_pkgs=("${build_pkgs[@]}" gcc libspandsp-dev libtiff-dev libtonezone-dev espeak-ng sox libosip2-dev kamailio sip-tester dnsmasq-base tshark baresip python3-pip musl-tools nftables iproute2 systemd chromium python3-prometheus-client libsrtp2-dev kamailio-tls-modules openssl)

case "${1:-build}" in
  build) want=("${build_pkgs[@]}") ;;
  test)  want=("${test_pkgs[@]}") ;;
  *) echo "usage: $0 build|test" >&2; exit 64 ;;
esac

if ! command -v swift >/dev/null 2>&1; then
  echo "error: 'swift' is not on PATH. Install the Swift 6.3 toolchain for Debian 12 first." >&2
  exit 2
fi

missing=()
for p in "${want[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "Installing missing Debian packages: ${missing[*]}"
sudo=""
[ "$(id -u)" -ne 0 ] && sudo="sudo"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -q
$sudo apt-get install -y -q --no-install-recommends "${missing[@]}"
